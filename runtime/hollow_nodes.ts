/**
 * Many hollow nodes in one process — what `berth node --runtime hollow --count N` starts, for
 * density and scale runs that model separate machines (as Kubernetes' kubemark runs hollow
 * kubelets): N real node agents, each on its own in-memory runtime (runtime/containers/
 * hollow.ts), each speaking to the API on its own node-scoped subjects
 * `berth.node.<name>.api.v1.…` like any `berth node`, each serving its logs/exec subjects.
 *
 *   NATS (one connection for the process)
 *     ├── <prefix>-000: NatsApiClient(node) ─ node agent ─ HollowRuntime ─ node services
 *     ├── <prefix>-001: …
 *     └── …
 *
 * No service proxy and no DNS: hollow pods open no connections. The agents share the process's
 * NATS connection and its shared reply inbox, so the process must connect with an identity that
 * may publish every one of its nodes' subjects (a NATS server without client identities, as the
 * benchmarks use); a node's own identity covers one node only.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { NatsApiClient } from "./api/nats_client.ts";
import { KUBELET_THROTTLE, type ThrottleConfig } from "./api/client_throttle.ts";
import { HollowRuntime } from "./containers/hollow.ts";
import { startNodeAgent, type NodeAgent } from "./kubelet/agent.ts";
import { serveNodeServices } from "./kubelet/node_services.ts";
import { DEFAULT_INBOX_PREFIX } from "./subjects.ts";
import { Cleanups } from "./async.ts";
import type { Log } from "../model/log.ts";

export interface HollowNodesOptions {
  nc: NatsConnection;
  /** Node names, e.g. from `hollowNodeNames`. */
  names: string[];
  heartbeatIntervalMs?: number;
  /** Agents started at once while starting up (default 25): each registers and lists its pods. */
  startConcurrency?: number;
  labels?: Record<string, string>;
  /** Each agent's own request rate (default the kubelet's 50/s, burst 100). */
  throttle?: ThrottleConfig;
  log?: Log;
}

export interface HollowNodes {
  readonly names: string[];
  readonly agents: NodeAgent[];
  /** Stops every agent and its node services. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `count` node names `<prefix>-<index>`, the index zero-padded to the width of the largest
 * (`h-0` … `h-9`, `h-00` … `h-99`), so names sort in order. Throws on a bad prefix or count.
 */
export function hollowNodeNames(prefix: string, count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || count > 10_000) throw new RangeError(`the node count must be a whole number from 1 to 10000 (got ${count})`);
  const width = String(count - 1).length;
  const names = Array.from({ length: count }, (_, i) => `${prefix}-${String(i).padStart(width, "0")}`);
  const bad = names.find((n) => n.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n));
  if (bad !== undefined) throw new RangeError(`node name ${JSON.stringify(bad)} (prefix ${JSON.stringify(prefix)}) must be a DNS label: lower-case letters, digits and -, at most 63 characters`);
  return names;
}

/** Starts a hollow node agent for each name; all or nothing (a failure stops those started). */
export async function startHollowNodes(opts: HollowNodesOptions): Promise<HollowNodes> {
  const log: Log = opts.log ?? (() => {});
  const cleanups = new Cleanups((e) => log("hollow node shutdown step failed", { error: String(e) }));
  const agents: NodeAgent[] = [];
  const startOne = async (name: string) => {
    const nodeLog: Log = (m, f) => log(m, { node: name, ...f });
    // The process's shared inbox: the server answers a node face on it (it is nobody's own).
    const client = new NatsApiClient(opts.nc, { node: name, inboxPrefix: DEFAULT_INBOX_PREFIX, throttle: opts.throttle ?? KUBELET_THROTTLE });
    const agent = await startNodeAgent({
      client,
      runtime: new HollowRuntime(),
      name,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000,
      labels: { "berth.dev/hollow": "true", ...opts.labels },
      log: nodeLog,
    });
    agents.push(agent);
    const services = serveNodeServices(opts.nc, { nodeName: name, runtime: agent.runtime, client });
    cleanups.push(async () => {
      services.stop();
      await agent.stop();
    });
  };
  try {
    const width = Math.max(1, opts.startConcurrency ?? 25);
    for (let i = 0; i < opts.names.length; i += width) await Promise.all(opts.names.slice(i, i + width).map(startOne));
  } catch (e) {
    await cleanups.run();
    throw e;
  }
  let stopping: Promise<void> | undefined;
  return {
    names: [...opts.names],
    agents,
    stop() {
      stopping ??= cleanups.run();
      return stopping;
    },
  };
}
