/**
 * NATS identities for a Berth cluster: one user per role, each confined by nats-server subject
 * permissions (see docs/security.md for the table and the reasoning).
 *
 *   control plane / API server  JetStream ($JS.>), the state bucket ($KV.berth-state.>), serves
 *                               berth.api.v1.>, berth.node.*.api.v1.> and berth.client.*.api.v1.>,
 *                               publishes watch events, asks nodes for logs/exec (REST)
 *   node <N>                    publishes only berth.node.<N>.> (its API subjects, its services,
 *                               its log streams) plus single replies; reads only berth.node.<N>.>
 *                               (minus its API requests) and its own inbox _INBOX_berth-node-<N>.>;
 *                               no $JS, no $KV, no berth.api.v1.>, no other inbox
 *   cli                         the API, exec/logs requests to nodes and their log streams
 *   external                    the API only
 *
 * Every identity reads only its own reply inbox `_INBOX_<user>.>` (connectNats sets that prefix
 * from the user name) and only its own watches `berth.client.<user>.watch.>`.
 *
 * Passwords are random (256 bits) and kept in plain text in a 0600 file, because clients need
 * the plain text to connect and the server configuration sits in the same private directory
 * (docs/security.md explains why not bcrypt, and why user/password rather than nkeys).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { subjects, token } from "../subjects.ts";

/** Credentials of one NATS identity, as `connectNats({ user, pass })` takes them. */
export interface Creds {
  user: string;
  pass: string;
}

/** Subject permissions of one identity, in nats-server's terms. */
export interface NatsPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
  /** Lets a service answer requests whose reply subject it could not otherwise publish to. */
  allowResponses?: boolean;
}

export interface NatsAuth {
  /** The `authorization { users = [...] }` block for nats-server's configuration. */
  serverConfig: string;
  controlPlane: Creds;
  /** The API server's identity (the same permissions as the control plane: it owns the store). */
  api: Creds;
  cli: Creds;
  external: Creds;
  /** The identity of node `name`; throws `NatsAuthError` for a node not in `nodeNames`. */
  node(name: string): Creds;
  /** The node names this configuration covers. */
  nodeNames: string[];
  /** Every user's permissions, by user name (for docs and tests). */
  permissions: Record<string, NatsPermissions>;
}

export class NatsAuthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NatsAuthError";
  }
}

export const USERS = {
  controlPlane: "berth-control-plane",
  api: "berth-api",
  cli: "berth-cli",
  external: "berth-external",
} as const;

/** User name of node `name`'s identity. */
export function nodeUser(name: string): string {
  return `berth-node-${token(name, "node name")}`;
}

const CREDS_FILE = "nats-credentials.json";

interface StoredCreds {
  version: 1;
  passwords: Record<string, string>;
}

/**
 * Builds the identities for `nodeNames`. With `dir`, passwords are read from and saved to
 * `dir/nats-credentials.json` (mode 0600), so a restart with the same home keeps every
 * credential valid; new node names get new passwords, existing ones keep theirs.
 */
export function makeNatsAuth(opts: { nodeNames: string[]; dir?: string }): NatsAuth {
  const nodeNames = [...new Set(opts.nodeNames)];
  for (const n of nodeNames) token(n, "node name");
  const stored = opts.dir ? readStored(opts.dir) : { version: 1 as const, passwords: {} };
  let changed = false;
  const pass = (user: string): string => {
    let p = stored.passwords[user];
    if (!p) {
      p = randomBytes(32).toString("base64url");
      stored.passwords[user] = p;
      changed = true;
    }
    return p;
  };
  const creds = (user: string): Creds => ({ user, pass: pass(user) });

  const permissions: Record<string, NatsPermissions> = {
    [USERS.controlPlane]: controlPlanePermissions(USERS.controlPlane),
    [USERS.api]: controlPlanePermissions(USERS.api),
    [USERS.cli]: cliPermissions(),
    [USERS.external]: externalPermissions(),
  };
  for (const n of nodeNames) permissions[nodeUser(n)] = nodePermissions(n);

  const all: Creds[] = Object.keys(permissions).map(creds);
  if (opts.dir && changed) writeStored(opts.dir, stored);

  const byUser = new Map(all.map((c) => [c.user, c]));
  return {
    serverConfig: authorizationBlock(all, permissions),
    controlPlane: byUser.get(USERS.controlPlane)!,
    api: byUser.get(USERS.api)!,
    cli: byUser.get(USERS.cli)!,
    external: byUser.get(USERS.external)!,
    node(name: string): Creds {
      const c = byUser.get(nodeUser(name));
      if (!c) throw new NatsAuthError(`node "${name}" has no NATS identity (known nodes: ${nodeNames.join(", ") || "none"}); add it to nodeNames and reload nats-server`);
      return c;
    },
    nodeNames,
    permissions,
  };
}

/**
 * The control plane and API server (identity `user`): the store, every API face, watch fan-out,
 * and the REST API's pods/log and exec, which node agents serve (like the kubelet's). Replies
 * go out through `allow_responses` only: no `_INBOX.>` publish right, so it cannot be steered
 * into another client's pending request except by answering a request that named it.
 */
export function controlPlanePermissions(user: string = USERS.controlPlane): NatsPermissions {
  return {
    publish: {
      allow: [
        subjects.jetstreamAll(), // JetStream API, acks and flow-control replies of KV watches
        subjects.stateBucketAll(),
        subjects.watchAll(), // unscoped watches (clusters without identities)
        subjects.nodeWatchAll(),
        subjects.clientWatchAll(),
        subjects.nodeServiceAll("exec"),
        subjects.nodeServiceAll("logs"),
        subjects.nodeServiceAll("logs.keepalive"),
        subjects.nodeServiceAll("stream"),
        subjects.nodeStreamIoAll("up"),
        subjects.actorFilter(),
        subjects.actorSnapshot(),
        subjects.actorInterest(),
      ],
    },
    subscribe: {
      allow: [subjects.apiAll(), subjects.nodeApiAll(), subjects.clientApiAll(), subjects.inboxOf(user), subjects.nodeLogStreamAll(), subjects.nodeStreamIoAll("down"), subjects.actorSnapshot(), subjects.actorInterest(), subjects.nodeUsageAll(), subjects.actorFilter()],
    },
    allowResponses: true,
  };
}

/**
 * Node `name`: its own subjects and its own inbox, nothing else. Logs stream on its own
 * `berth.node.<name>.logstream.<id>`; exec and every other answer is a single reply
 * (`allow_responses`), so it cannot publish to anyone's inbox except to answer a request it got.
 */
export function nodePermissions(name: string): NatsPermissions {
  return {
    // Its actors' transitions only under its own scope (berth.actors.*.<name>.>).
    publish: { allow: [subjects.nodeAll(name), subjects.actorScopeAll(name)] },
    subscribe: {
      allow: [subjects.nodeAll(name), subjects.inboxOf(nodeUser(name)), subjects.actorSnapshot(), subjects.actorInterest()],
      // Its own API requests are for the API server only.
      deny: [subjects.nodeApiOf(name)],
    },
    allowResponses: true,
  };
}

/**
 * What every unrestricted client identity shares: the API, but watches only through its own
 * client-scoped subjects (the unscoped `berth.api.v1.*.watch` and `berth.api.v1.watches.*` are
 * denied), and reads only its own inbox and its own watches.
 */
function clientPermissions(user: string, extra: { publish?: string[]; subscribe?: string[] } = {}): NatsPermissions {
  return {
    publish: {
      allow: [subjects.apiAll(), subjects.clientApiOf(user), ...(extra.publish ?? [])],
      deny: [subjects.apiWatchAll(), subjects.watchControlAll()],
    },
    subscribe: { allow: [subjects.inboxOf(user), subjects.clientWatchOf(user), ...(extra.subscribe ?? [])] },
  };
}

/** The berth CLI: the API, plus exec/logs requests to the node agents and their log streams. */
export function cliPermissions(): NatsPermissions {
  return clientPermissions(USERS.cli, {
    publish: [subjects.nodeServiceAll("exec"), subjects.nodeServiceAll("logs"), subjects.nodeServiceAll("logs.keepalive"), subjects.nodeServiceAll("stream"), subjects.nodeStreamIoAll("up"), subjects.actorSnapshot(), subjects.actorInterest()],
    subscribe: [subjects.nodeLogStreamAll(), subjects.nodeStreamIoAll("down"), subjects.actorFilter()],
  });
}

/** Any other NATS client: the API subjects only. */
export function externalPermissions(): NatsPermissions {
  return clientPermissions(USERS.external);
}

function authorizationBlock(all: Creds[], permissions: Record<string, NatsPermissions>): string {
  const q = (s: string) => JSON.stringify(s);
  const list = (xs: string[]) => `[${xs.map(q).join(", ")}]`;
  const side = (s: { allow: string[]; deny?: string[] }) =>
    `{ allow: ${list(s.allow)}${s.deny?.length ? `, deny: ${list(s.deny)}` : ""} }`;
  const users = all.map((c) => {
    const p = permissions[c.user];
    return `    { user: ${q(c.user)}, password: ${q(c.pass)}, permissions: { publish: ${side(p.publish)}, subscribe: ${side(p.subscribe)}${p.allowResponses ? ", allow_responses: true" : ""} } }`;
  });
  return ["authorization {", "  users = [", users.join(",\n"), "  ]", "}"].join("\n");
}

function readStored(dir: string): StoredCreds {
  const path = join(dir, CREDS_FILE);
  if (!existsSync(path)) return { version: 1, passwords: {} };
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new NatsAuthError(`cannot read NATS credentials ${path}: ${(e as Error).message}`, { cause: e });
  }
  const p = (v as StoredCreds | null)?.passwords;
  if (!p || typeof p !== "object" || Object.values(p).some((x) => typeof x !== "string" || !/^[A-Za-z0-9_-]{16,}$/.test(x))) {
    throw new NatsAuthError(`NATS credentials ${path} are malformed; remove the file to generate new ones`);
  }
  return { version: 1, passwords: { ...p } };
}

function writeStored(dir: string, stored: StoredCreds): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, CREDS_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(stored, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
