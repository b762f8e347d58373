/**
 * Every NATS subject Berth uses is built here and nowhere else (see docs/nats-api.md).
 *
 * Layout:
 *   berth.api.v1.<resource>.<verb>        request/reply API (verbs below)
 *   berth.watch.<watchId>                 events of one API watch, published by the API server
 *   berth.node.<node>.>                   node-scoped traffic; a node's NATS identity is confined here
 *   berth.node.<node>.api.v1.<resource>.<verb>   the API as a node may use it (runtime/security)
 *   berth.node.<node>.watch.<watchId>     events of a watch a node opened
 *   berth.node.<node>.exec | .logs | .logs.keepalive   the node's services (runtime/kubelet/node_services.ts)
 *   berth.node.<node>.logstream.<streamId>              log chunks a node streams to a requester
 *   berth.node.<node>.stream                            open an exec/attach/port-forward session
 *   berth.node.<node>.streamio.<sessionId>.up|down      its frames (runtime/stream/session.ts)
 *   berth.client.<identity>.api.v1.<resource>.watch     a watch opened by NATS identity <identity>
 *   berth.client.<identity>.api.v1.watches.<verb>       its keep-alive / stop
 *   berth.client.<identity>.watch.<watchId>             its events (only <identity> may read them)
 *   _INBOX_<identity>.>                   the reply inbox of a NATS identity (no other may read it);
 *                                         a node's identity is `berth-node-<node>`
 *   berth.events.<resource>.<ns>.<name>   (reserved) fan-out of object changes
 *   berth.actors.<kind>.<scope>.<id…>     an actor's transitions (coalesced); <scope> is the node
 *                                         name or `control-plane`, <id…> its id's path segments
 *   berth.inspect.actors                  request: every live actor (each process answers for its own)
 *   berth.inspect.watchers                a watcher's interest (kind, scope, lease): actors publish only while watched
 *   berth.node.<node>.usage               the node's resource usage (kubectl top), to the control plane
 *
 * Tokens are validated: a name with a `.`, `*`, `>` or whitespace would change a subject's
 * meaning, so builders throw instead of producing one.
 */
import type { Resource } from "../model/types.ts";

export const PREFIX = "berth";
export const API_VERSION = "v1";

/** The verbs of the request/reply API. */
export const VERBS = [
  "create",
  "get",
  "list",
  "update",
  "updateStatus",
  "patch",
  "delete",
  "watch",
  "bind",
  "createToken",
] as const;
export type Verb = (typeof VERBS)[number];

const TOKEN = /^[A-Za-z0-9_\-]+$/;

/** Throws unless `t` is safe as a single subject token. */
export function token(t: string, what = "token"): string {
  if (!TOKEN.test(t)) throw new Error(`invalid ${what} for a NATS subject: ${JSON.stringify(t)}`);
  return t;
}

export const subjects = {
  /** Request/reply API: `berth.api.v1.pods.create`. */
  api(resource: Resource | "scale" | "watches", verb: Verb | "stop" | "keepalive"): string {
    return `${PREFIX}.api.${API_VERSION}.${token(resource, "resource")}.${token(verb, "verb")}`;
  },
  /** Wildcard matching every API request, for the API server's subscription. */
  apiAll(): string {
    return `${PREFIX}.api.${API_VERSION}.>`;
  },
  /** Where the events of one watch are delivered. */
  watch(watchId: string): string {
    return `${PREFIX}.watch.${token(watchId, "watch id")}`;
  },
  /** Keep-alive / cancellation of a watch by its client. */
  /** Every watch keep-alive/stop of unrestricted clients (each API copy hears them all). */
  watchControlAll(): string {
    return `${PREFIX}.api.${API_VERSION}.watches.*`;
  },
  /** Every watch keep-alive/stop sent by nodes. */
  nodeWatchControlAll(): string {
    return `${PREFIX}.node.*.api.${API_VERSION}.watches.*`;
  },
  watchControl(verb: "keepalive" | "stop"): string {
    return `${PREFIX}.api.${API_VERSION}.watches.${verb}`;
  },
  /** Node-scoped subjects: everything a node agent sends or receives lives under here. */
  node(nodeName: string, ...rest: string[]): string {
    return [PREFIX, "node", token(nodeName, "node name"), ...rest.map((r) => token(r))].join(".");
  },
  nodeAll(nodeName: string): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.>`;
  },
  /**
   * The API as node `nodeName` calls it: `berth.node.<node>.api.v1.<resource>.<verb>`. NATS
   * permissions let only that node's identity publish here, so the API server takes the node
   * name from this token and never from the message body.
   */
  nodeApi(nodeName: string, resource: Resource | "scale" | "watches", verb: Verb | "stop" | "keepalive"): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.api.${API_VERSION}.${token(resource, "resource")}.${token(verb, "verb")}`;
  },
  /** Wildcard matching every node's API requests, for the API server's subscription. */
  nodeApiAll(): string {
    return `${PREFIX}.node.*.api.${API_VERSION}.>`;
  },
  /** Wildcard matching the API requests of one node (for its permissions). */
  nodeApiOf(nodeName: string): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.api.>`;
  },
  /** Keep-alive / cancellation of a watch opened by node `nodeName`. */
  nodeWatchControl(nodeName: string, verb: "keepalive" | "stop"): string {
    return subjects.nodeApi(nodeName, "watches", verb);
  },
  /** Where the events of a watch opened by node `nodeName` are delivered. */
  nodeWatch(nodeName: string, watchId: string): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.watch.${token(watchId, "watch id")}`;
  },
  /** Every watch subject of every node (the API server publishes there). */
  nodeWatchAll(): string {
    return `${PREFIX}.node.*.watch.>`;
  },
  /** Every watch subject of the unrestricted API. */
  watchAll(): string {
    return `${PREFIX}.watch.>`;
  },
  /**
   * The reply-inbox prefix of NATS identity `user` (`_INBOX_<user>`): its connection's replies
   * arrive under `_INBOX_<user>.>`, which only that identity may subscribe to, so no client can
   * read the answers (KV reads, objects, exec output) meant for another.
   */
  inboxPrefix(user: string): string {
    return `_INBOX_${token(user, "NATS user name")}`;
  },
  /** Every reply subject under `inboxPrefix(user)` (for its permissions). */
  inboxOf(user: string): string {
    return `${subjects.inboxPrefix(user)}.>`;
  },
  /**
   * The reply-inbox prefix of node `nodeName`: `inboxPrefix` of its identity `berth-node-<node>`
   * (runtime/nats/auth.ts nodeUser), so a node named like another identity cannot share its inbox.
   */
  nodeInboxPrefix(nodeName: string): string {
    return subjects.inboxPrefix(`berth-node-${token(nodeName, "node name")}`);
  },
  /** The shared default inbox of nats.js clients without a prefix of their own (no auth). */
  defaultInboxAll(): string {
    return "_INBOX.>";
  },
  /** Where node `nodeName` publishes the chunks of log stream `streamId` (the requester subscribes first). */
  nodeLogStream(nodeName: string, streamId: string): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.logstream.${token(streamId, "log stream id")}`;
  },
  /** Every log stream of every node (for the permissions of those who may read logs). */
  nodeLogStreamAll(): string {
    return `${PREFIX}.node.*.logstream.*`;
  },
  /** Where the frames of stream session `sessionId` go: `up` to the node, `down` from it. */
  nodeStreamIo(nodeName: string, sessionId: string, dir: "up" | "down"): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.streamio.${token(sessionId, "stream session id")}.${dir}`;
  },
  /** One direction of every stream session of every node (for requesters' permissions). */
  nodeStreamIoAll(dir: "up" | "down"): string {
    return `${PREFIX}.node.*.streamio.*.${dir}`;
  },
  /** A node service (`exec`, `logs`, `logs.keepalive`, `stream`) on every node (for requesters' permissions). */
  nodeServiceAll(service: "exec" | "logs" | "logs.keepalive" | "stream"): string {
    return `${PREFIX}.node.*.${service}`;
  },
  /**
   * The API as NATS identity `identity` uses it for watches: `berth.client.<identity>.api.v1.<resource>.watch`
   * and `…watches.<keepalive|stop>`. Only that identity may publish here, so the API server takes
   * the watch's owner from this token: no client can renew or stop another's watch.
   */
  clientApi(identity: string, resource: Resource | "watches", verb: "watch" | "stop" | "keepalive"): string {
    return `${PREFIX}.client.${token(identity, "identity")}.api.${API_VERSION}.${token(resource, "resource")}.${token(verb, "verb")}`;
  },
  /** Wildcard matching every identity's client-scoped API requests (the API server's subscription). */
  clientApiAll(): string {
    return `${PREFIX}.client.*.api.${API_VERSION}.>`;
  },
  /** The client-scoped API requests of one identity (for its permissions). */
  clientApiOf(identity: string): string {
    return `${PREFIX}.client.${token(identity, "identity")}.api.${API_VERSION}.>`;
  },
  /** Every client-scoped watch keep-alive/stop (each API copy hears them all). */
  clientWatchControlAll(): string {
    return `${PREFIX}.client.*.api.${API_VERSION}.watches.*`;
  },
  /** Where the events of watch `watchId` of identity `identity` are delivered. */
  clientWatch(identity: string, watchId: string): string {
    return `${PREFIX}.client.${token(identity, "identity")}.watch.${token(watchId, "watch id")}`;
  },
  /** Every watch subject of one identity (for its permissions). */
  clientWatchOf(identity: string): string {
    return `${PREFIX}.client.${token(identity, "identity")}.watch.>`;
  },
  /** Every client-scoped watch subject (the API server publishes there). */
  clientWatchAll(): string {
    return `${PREFIX}.client.*.watch.>`;
  },
  /** Every unscoped watch request `berth.api.v1.<resource>.watch` (denied to identities, which use the client face). */
  apiWatchAll(): string {
    return `${PREFIX}.api.${API_VERSION}.*.watch`;
  },
  /**
   * Where actor `id` of `kind` in `scope` publishes its transitions: `berth.actors.pod.node-1.default.web-1`.
   * The id's `/`-separated parts become tokens, each escaped (`actorIdToken`) so a dot in a name
   * cannot add a token.
   */
  actor(kind: string, scope: string, id: string): string {
    return `${PREFIX}.actors.${token(kind, "actor kind")}.${token(scope, "actor scope")}.${id.split("/").map(actorIdToken).join(".")}`;
  },
  /** Filter over actor subjects; absent parts match anything. */
  actorFilter(filter: { kind?: string; scope?: string } = {}): string {
    return `${PREFIX}.actors.${filter.kind ? token(filter.kind, "actor kind") : "*"}.${filter.scope ? token(filter.scope, "actor scope") : "*"}.>`;
  },
  /** Every actor subject one scope may publish under (a node's own; for its permissions). */
  actorScopeAll(scope: string): string {
    return `${PREFIX}.actors.*.${token(scope, "actor scope")}.>`;
  },
  /** The request for a snapshot of every live actor; every process with actors answers for its own. */
  actorSnapshot(): string {
    return `${PREFIX}.inspect.actors`;
  },
  /**
   * A watcher's interest in actor transitions, re-announced while it watches: publishers publish
   * only for actors someone watches (runtime/inspect/actor_publisher.ts).
   */
  actorInterest(): string {
    return `${PREFIX}.inspect.watchers`;
  },
  /** Node `nodeName`'s resource usage reports (kubectl top). */
  nodeUsage(nodeName: string): string {
    return `${PREFIX}.node.${token(nodeName, "node name")}.usage`;
  },
  /** Every node's usage reports (the control plane's subscription). */
  nodeUsageAll(): string {
    return `${PREFIX}.node.*.usage`;
  },
  /** The JetStream API, acks and flow control (the store's owner only). */
  jetstreamAll(): string {
    return "$JS.>";
  },
  /** The state bucket's subjects (KV puts and reads). */
  stateBucketAll(): string {
    return `$KV.${STATE_BUCKET}.>`;
  },
} as const;

/** One part of an actor id as a subject token: `[A-Za-z0-9-]` kept, anything else `_xx` (hex). */
export function actorIdToken(part: string): string {
  if (part === "") return "_";
  return part.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * True when `subject` is a reply inbox (`_INBOX.…` or `_INBOX_<identity>.…`). Servers answer only
 * to such subjects: a responder may publish to whatever reply subject a request names, so a
 * request naming `$JS.API.STREAM.DELETE.…` or `$KV.…` as its reply would otherwise make the API
 * server (which may publish there) act for the requester.
 */
export function isInboxSubject(subject: string): boolean {
  return /^_INBOX(_[A-Za-z0-9_-]+)?\.[^\s*>]+$/.test(subject) && !subject.split(".").includes("");
}

/** The owner of a reply inbox `_INBOX_<identity>.…`, or undefined for the shared `_INBOX.…`. */
export function inboxOwner(subject: string): string | undefined {
  const m = /^_INBOX_([A-Za-z0-9_-]+)\./.exec(subject);
  return m ? m[1] : undefined;
}

/** Parses a client-scoped API subject into identity, resource and verb, or null if it is not one. */
export function parseClientApiSubject(subject: string): { identity: string; resource: string; verb: string } | null {
  const parts = subject.split(".");
  if (parts.length !== 7 || parts[0] !== PREFIX || parts[1] !== "client" || parts[3] !== "api" || parts[4] !== API_VERSION) return null;
  if (!TOKEN.test(parts[2])) return null;
  return { identity: parts[2], resource: parts[5], verb: parts[6] };
}

/** Parses a node-scoped API subject into node, resource and verb, or null if it is not one. */
export function parseNodeApiSubject(subject: string): { node: string; resource: string; verb: string } | null {
  const parts = subject.split(".");
  if (parts.length !== 7 || parts[0] !== PREFIX || parts[1] !== "node" || parts[3] !== "api" || parts[4] !== API_VERSION) return null;
  if (!TOKEN.test(parts[2])) return null;
  return { node: parts[2], resource: parts[5], verb: parts[6] };
}

/** Parses an API subject back into its resource and verb, or null if it is not one. */
export function parseApiSubject(subject: string): { resource: string; verb: string } | null {
  const parts = subject.split(".");
  if (parts.length !== 5 || parts[0] !== PREFIX || parts[1] !== "api" || parts[2] !== API_VERSION) return null;
  return { resource: parts[3], verb: parts[4] };
}

/** The reply inbox prefix nats.js uses when a connection names none. */
export const DEFAULT_INBOX_PREFIX = "_INBOX";

/** The JetStream KV bucket holding every object. */
export const STATE_BUCKET = "berth-state";

const NAME_IN_KEY = /^[a-z0-9]([a-z0-9.\-]*[a-z0-9])?$/;

/**
 * Names that are not DNS subdomains (RBAC names are any path segment: `system:metrics-server`,
 * `Admin`) are stored under `=` and their UTF-8 in unpadded base64url: key-safe, reversible, and
 * never equal to a plain name, which cannot begin with `=`.
 */
const ENCODED_NAME = "=";

/** True for a name that must be encoded in a key, and can be: not empty, `.` or `..`, no `/`. */
function encodableName(name: string): boolean {
  return name !== "" && name !== "." && name !== ".." && !name.includes("/");
}

function nameInKey(name: string): string {
  if (NAME_IN_KEY.test(name)) return name;
  if (!encodableName(name)) throw new Error(`invalid object name for a key: ${JSON.stringify(name)}`);
  let bin = "";
  for (const b of new TextEncoder().encode(name)) bin += String.fromCharCode(b);
  return ENCODED_NAME + btoa(bin).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function nameFromKey(token: string): string {
  if (!token.startsWith(ENCODED_NAME)) return token;
  const bin = atob(token.slice(ENCODED_NAME.length).replaceAll("-", "+").replaceAll("_", "/"));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

/** The resources whose names are any path segment (kube-apiserver's ValidateRBACName); every other name is a DNS subdomain or label. */
const PATH_SEGMENT_NAMED = new Set(["roles", "rolebindings", "clusterroles", "clusterrolebindings"]);

/** True when `name` can be the name of an object of `resource` (so an object of that name may exist). */
export function isObjectKeyName(name: string, resource?: string): boolean {
  return NAME_IN_KEY.test(name) || (resource !== undefined && PATH_SEGMENT_NAMED.has(resource) && encodableName(name));
}

/** True when `t` is usable as one subject/key token (namespaces, node names). */
export function isToken(t: string): boolean {
  return TOKEN.test(t);
}

/**
 * KV key of an object: `<resource>.<namespace or _>.<name>`. Names may contain dots (DNS-1123
 * subdomains, e.g. event names `pod.17a3f`); namespaces never do, so the first two tokens are
 * unambiguous and the rest is the name. A name that is not a DNS subdomain (RBAC names) is
 * encoded (see ENCODED_NAME).
 */
export function storeKey(resource: Resource, namespace: string | undefined, name: string): string {
  return `${token(resource, "resource")}.${namespace ? token(namespace, "namespace") : "_"}.${nameInKey(name)}`;
}

/** Splits a key made by `storeKey`. */
export function parseStoreKey(key: string): { resource: string; namespace?: string; name: string } {
  const [resource, ns, ...rest] = key.split(".");
  return { resource, namespace: ns === "_" ? undefined : ns, name: nameFromKey(rest.join(".")) };
}

/** The store's own record (format version) in the state bucket: not an object key. */
export const STORE_META_KEY = "_meta.store";

/** A marker the watch cache writes to learn that it has seen every write before it (see watch_cache.ts). */
export const STORE_PROGRESS_KEY = "_meta.progress";

/** KV key of a leader lease (`_lease.<name>`), beside the objects in the state bucket. */
export function leaseKey(name: string): string {
  return `_lease.${token(name, "lease name")}`;
}

/**
 * The JetStream subject a KV key is stored under (`$KV.<bucket>.<key>`); with no key, the
 * bucket's prefix (for stream subject filters).
 */
export function kvSubject(bucket: string, key = ""): string {
  return `$KV.${bucket}.${key}`;
}

/** KV key filter for a resource, optionally one namespace. */
export function storeKeyFilter(resource: Resource, namespace?: string): string {
  return namespace ? `${resource}.${token(namespace, "namespace")}.>` : `${resource}.*.>`;
}

/**
 * Core NATS delivers at most once: an event published while the watcher's connection moves to
 * another server of the cluster is gone. Each event carries its number, and the keep-alive
 * answer says how many were sent, so a client sees a gap — in the middle, or at the end — and
 * watches again from the last resourceVersion it saw instead of missing a change for good.
 */
export const WATCH_SEQ_HEADER = "Berth-Watch-Seq";
/**
 * Header of an API request: how long (ms) its requester waits for the answer. The server does
 * not start a request that has waited in its queues longer than that (nobody would read it).
 */
export const REQUEST_TIMEOUT_HEADER = "Berth-Timeout-Ms";
