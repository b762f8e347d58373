/**
 * How the CLI finds and reaches a cluster: `--nats URL`, else `$BERTH_HOME/cluster.json`
 * (written by `berth up`), default home `./.berth`.
 */
import { resolve } from "node:path";
import { readClusterInfo, type ClusterInfo } from "../cluster_info.ts";
import { NatsApiClient } from "../api/nats_client.ts";
import type { ApiClient } from "../../model/client.ts";
import { connectNats, type NatsConnection } from "../nats/connection.ts";
import { RESOURCES, type Resource } from "../../model/types.ts";
import { UsageError } from "./args.ts";
import { didYouMean } from "./suggest.ts";

export function homeDir(flag?: unknown): string {
  return resolve(typeof flag === "string" && flag ? flag : process.env.BERTH_HOME || ".berth");
}

export interface Connection {
  client: ApiClient;
  nc: NatsConnection;
  info: ClusterInfo | null;
  close(): Promise<void>;
}

export class NotRunningError extends Error {
  constructor(home: string) {
    super(`no Berth cluster is running for home ${home} (start one with \`berth up\`, or pass --nats URL / --home DIR)`);
    this.name = "NotRunningError";
  }
}

export async function connectCli(flags: Record<string, unknown>): Promise<Connection> {
  const home = homeDir(flags.home);
  const info = readClusterInfo(home);
  const url = typeof flags.nats === "string" ? flags.nats : info?.natsUrl;
  if (!url) throw new NotRunningError(home);
  let nc: NatsConnection;
  try {
    nc = await connectNats({
      servers: url,
      name: "berth-cli",
      maxReconnectAttempts: 3,
      timeoutMs: 3_000,
      ...(info?.natsUser ? { user: info.natsUser, pass: info.natsPassword } : {}),
    });
  } catch (e) {
    throw new Error(`cannot reach the cluster's NATS at ${url}: ${(e as Error).message}${info ? " (is `berth up` still running?)" : ""}`);
  }
  return {
    client: new NatsApiClient(nc),
    nc,
    info,
    async close() {
      await nc.close().catch(() => {});
    },
  };
}

const ALIASES: Record<string, Resource> = {};
for (const [plural, r] of Object.entries(RESOURCES)) {
  ALIASES[plural] = plural as Resource;
  ALIASES[r.singular] = plural as Resource;
  ALIASES[r.kind.toLowerCase()] = plural as Resource;
  for (const s of r.shortNames) ALIASES[s] = plural as Resource;
}

/** `po`, `pod`, `pods`, `Pod` → `pods`. */
export function resolveResource(name: string): Resource {
  const r = ALIASES[name.toLowerCase()];
  if (!r) {
    throw new UsageError(`the server doesn't have a resource type "${name}" (Berth serves: ${Object.keys(RESOURCES).join(", ")})${didYouMean(name, Object.keys(ALIASES))}`);
  }
  return r;
}

/** kubectl's `all` category, of the kinds Berth serves, in kubectl's order: the core group's, then apps/v1's, autoscaling/v2's and batch/v1's each by name, as discovery lists them. */
export const ALL_CATEGORY: Resource[] = ["pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs"].filter((r): r is Resource => r in RESOURCES);

/** Splits `berth get` targets: `pods`, `pods NAME...`, `pod/NAME`, `pods,svc`. */
export function resolveTargets(positional: string[]): { resource: Resource; name?: string }[] {
  if (positional.length === 0) throw new UsageError("you must specify the type of resource (e.g. pods, rc, svc, nodes)");
  if (positional[0].includes("/")) {
    return positional.map((p) => {
      const [t, n] = p.split("/", 2);
      if (!n) throw new UsageError(`expected TYPE/NAME, got ${JSON.stringify(p)}`);
      return { resource: resolveResource(t), name: n };
    });
  }
  const types = positional[0].split(",").flatMap((t) => (t.toLowerCase() === "all" ? ALL_CATEGORY : [resolveResource(t)]));
  const names = positional.slice(1);
  if (names.length && types.length > 1) throw new UsageError("names can only be given with a single resource type");
  if (!names.length) return types.map((resource) => ({ resource }));
  return names.map((name) => ({ resource: types[0], name }));
}
