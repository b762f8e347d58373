/**
 * Nemeses: one injector per fault kind (Jepsen's term). `inject` acts at once and returns the
 * active fault, whose `heal()` is idempotent — safe to call twice, or after a failed injection.
 * Faults on containers act behind Berth's back (straight on the engine), as an operator or a
 * crash would; nothing here goes through the API.
 */
import type { Pod } from "../../model/types.ts";
import { HollowRuntime } from "../containers/hollow.ts";
import { LABELS } from "../../model/container_runtime.ts";
import type { ChaosCluster, ChaosNode } from "./cluster.ts";
import type { FaultMode } from "./fault_proxy.ts";
import type { FaultKind, ScheduledFault } from "./schedule.ts";

export interface ActiveFault {
  /** What the symbolic target resolved to (pod name, node name...). */
  resolved: string;
  heal(): Promise<void>;
}

export class NemesisError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "NemesisError";
  }
}

/** No eligible target right now (e.g. no pod is Running): the fault is skipped, not failed. */
export class NoTargetError extends NemesisError {
  constructor(message: string) {
    super(message);
    this.name = "NoTargetError";
  }
}

export interface NemesisContext {
  cluster: ChaosCluster;
  /** The workload's pods eligible as targets (running, bound), in name order. */
  pods(): Promise<Pod[]>;
}

type Inject = (f: ScheduledFault, ctx: NemesisContext) => Promise<ActiveFault>;

const noHeal = async () => {};

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** Resolves `pod:k` to the k-th eligible pod (modulo their count), its node and running app container. */
async function resolvePod(f: ScheduledFault, ctx: NemesisContext): Promise<{ pod: Pod; node: ChaosNode; containerId: string }> {
  const k = Number(/^pod:(\d+)$/.exec(f.target)?.[1] ?? NaN);
  if (!Number.isInteger(k)) throw new NemesisError(`${f.kind} needs a pod target (pod:<index>), got ${f.target}`);
  const pods = (await ctx.pods()).filter((p) => ctx.cluster.nodes.some((n) => n.name === p.spec.nodeName));
  if (!pods.length) throw new NoTargetError(`no running workload pod to target for ${f.kind}`);
  const pod = pods[k % pods.length];
  const node = ctx.cluster.node(pod.spec.nodeName!);
  const cs = await node.runtime.listContainers({ [LABELS.podUid]: pod.metadata.uid!, [LABELS.role]: "app" });
  const running = cs.filter((c) => c.state === "running");
  if (!running.length) throw new NoTargetError(`pod ${pod.metadata.name} has no running container on ${node.logical}`);
  return { pod, node, containerId: running[0].id };
}

function partitionMode(params: Record<string, unknown>): FaultMode {
  const mode = String(params.mode ?? "blackhole");
  switch (mode) {
    case "blackhole":
      return { type: "blackhole" };
    case "reset":
      return { type: "reset" };
    case "delay":
      return { type: "delay", ms: Number(params.ms ?? 2000), jitterMs: Number(params.jitterMs ?? 0) };
    case "bandwidth":
      return { type: "bandwidth", bytesPerSecond: Number(params.bytesPerSecond ?? 1024) };
    default:
      throw new NemesisError(`unknown partition mode ${mode} (blackhole, delay, bandwidth, reset)`);
  }
}

/** Toxics on the service path: `delay` (slow endpoint, default 800 ms), `reset` (failing), `blackhole`, `bandwidth`. */
function toxicMode(params: Record<string, unknown>): FaultMode {
  return partitionMode({ ms: 800, bytesPerSecond: 2048, ...params, mode: params.mode ?? "delay" });
}

const injectors: Record<FaultKind, Inject> = {
  async "container-kill"(f, ctx) {
    const { pod, node, containerId } = await resolvePod(f, ctx);
    if (node.runtime instanceof HollowRuntime) node.runtime.crash(containerId, 137);
    else if (node.docker) await node.docker.getContainer(containerId).kill({ signal: "SIGKILL" });
    else throw new NemesisError(`cannot kill containers on ${node.logical}'s ${node.runtime.kind} runtime`);
    return { resolved: `${pod.metadata.name}@${node.logical}`, heal: noHeal };
  },

  async "container-pause"(f, ctx) {
    const { pod, node, containerId } = await resolvePod(f, ctx);
    if (!node.docker) throw new NemesisError(`container-pause needs Docker (node ${node.logical} runs ${node.runtime.kind})`);
    const c = node.docker.getContainer(containerId);
    await c.pause();
    return {
      resolved: `${pod.metadata.name}@${node.logical}`,
      heal: once(async () => {
        try {
          await c.unpause();
        } catch (e) {
          // Already unpaused, or removed meanwhile (the pod was replaced): nothing left to heal.
          const code = (e as { statusCode?: number }).statusCode;
          if (code !== 404 && code !== 409 && code !== 500) throw e;
        }
      }),
    };
  },

  async "node-agent-kill"(f, ctx) {
    const node = ctx.cluster.node(f.target);
    await node.killAgent();
    return { resolved: node.logical, heal: () => node.startAgent() };
  },

  async "node-partition"(f, ctx) {
    const node = ctx.cluster.node(f.target);
    const mode = partitionMode(f.params);
    node.proxy.setMode(mode);
    return {
      resolved: `${node.logical} (${mode.type})`,
      heal: async () => node.proxy.heal(),
    };
  },

  async "nats-restart"(_f, ctx) {
    await ctx.cluster.nats.down();
    return { resolved: "nats-server", heal: () => ctx.cluster.nats.heal() };
  },

  async "nats-pause"(_f, ctx) {
    ctx.cluster.nats.pause();
    return { resolved: "nats-server", heal: async () => ctx.cluster.nats.resume() };
  },

  async "docker-stop"(f, ctx) {
    const node = ctx.cluster.node(f.target);
    const d = node.dockerd;
    if (!d) throw new NemesisError(`docker-stop targets a node on a harness-owned dockerd; ${node.logical} uses the shared engine`);
    await d.down();
    return { resolved: `dockerd of ${node.logical}`, heal: () => d.up() };
  },

  async "endpoint-toxic"(f, ctx) {
    const toxics = ctx.cluster.toxics;
    if (!toxics) throw new NemesisError("endpoint-toxic needs a cluster started with endpoint toxics (the runner does this when a scenario uses them)");
    const { pod, node } = await resolvePod(f, ctx);
    const uid = pod.metadata.uid!;
    const mode = toxicMode(f.params);
    const n = await toxics.set(uid, mode);
    if (!n) throw new NemesisError(`no toxic proxy in front of ${pod.metadata.name} yet (the service proxy has not seen its host ports)`);
    return { resolved: `${pod.metadata.name}@${node.logical} (${mode.type})`, heal: () => toxics.heal(uid) };
  },
};

/** Injects one scheduled fault. */
export function inject(f: ScheduledFault, ctx: NemesisContext): Promise<ActiveFault> {
  return injectors[f.kind](f, ctx);
}
