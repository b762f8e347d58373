/**
 * The node lifecycle actor: watches node heartbeats and acts on silent nodes.
 *
 *   every checkIntervalMs (and on node changes) ──WAKE──▶ work loop (work_loop.ts)
 *   one pass: decideNodeLifecycle (pure, node_lifecycle_decide.ts) ──▶ execute:
 *       markNodeUnknown → node status `Ready=Unknown, NodeStatusUnknown` (CAS on the cached
 *                         node: if the node just heartbeated, the CAS loses, as it should)
 *       markPodLost     → pod status phase Unknown, Ready=False, reason NodeLost
 *       evictPod        → pod condition DisruptionTarget=True (NodeLost): its RC stops counting it
 *                         and makes a replacement; if the node returns, the RC removes the surplus
 *
 * Subjects: none directly. Defaults (5 s grace, 10 s eviction) suit a local cluster; see
 * docs/controllers.md.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import {
  DEFAULT_NODE_GRACE_PERIOD_MS,
  DEFAULT_POD_EVICTION_TIMEOUT_MS,
  type NodeLifecycleCommand,
  decideNodeLifecycle,
  lostPodStatus,
  replaceablePodStatus,
} from "./node_lifecycle_decide.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";

export interface NodeLifecycleDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  pods: Informer<"pods">;
  nodes: Informer<"nodes">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
  gracePeriodMs?: number;
  podEvictionTimeoutMs?: number;
  /** How often heartbeats are checked. Default: a fifth of the grace period, at most 1 s. */
  checkIntervalMs?: number;
}

export interface NodeLifecycle {
  loop: WorkLoop;
  stop(): void;
}

const lostCas = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound");

/** Starts the node lifecycle actor; its informers must already be started. */
export function startNodeLifecycle(deps: NodeLifecycleDeps): NodeLifecycle {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const grace = deps.gracePeriodMs ?? DEFAULT_NODE_GRACE_PERIOD_MS;
  const eviction = deps.podEvictionTimeoutMs ?? DEFAULT_POD_EVICTION_TIMEOUT_MS;
  const interval = deps.checkIntervalMs ?? Math.min(1000, Math.max(50, grace / 5));

  async function execute(cmd: NodeLifecycleCommand): Promise<void> {
    switch (cmd.type) {
      case "markNodeUnknown": {
        const node = cmd.node;
        const conditions = [...(node.status?.conditions ?? []).filter((c) => c.type !== "Ready"), cmd.condition];
        await deps.client.updateStatus("nodes", { ...node, status: { ...node.status, conditions } });
        log("node stopped posting status", { node: node.metadata.name });
        deps.recorder.record(node, "Normal", "NodeNotReady", `Node ${node.metadata.name} status is now: NodeNotReady`);
        return;
      }
      case "markPodLost":
        await deps.client.updateStatus("pods", { ...cmd.pod, status: lostPodStatus(cmd.pod, cmd.node, now()) });
        return;
      case "evictPod":
        await deps.client.updateStatus("pods", { ...cmd.pod, status: replaceablePodStatus(cmd.pod, cmd.node, now()) });
        log("pod of an unreachable node given up for replacement", { pod: `${cmd.pod.metadata.namespace}/${cmd.pod.metadata.name}`, node: cmd.node });
        deps.recorder.record(cmd.pod, "Warning", "NodeControllerEviction", `Pod ${cmd.pod.metadata.name} on unreachable node ${cmd.node} is being replaced`);
        return;
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  async function pass(): Promise<{ requeueAfterMs: number }> {
    const commands = decideNodeLifecycle({
      nodes: deps.nodes.list(),
      pods: deps.pods.list(),
      now: now(),
      gracePeriodMs: grace,
      podEvictionTimeoutMs: eviction,
    });
    for (const cmd of commands) {
      try {
        await execute(cmd);
      } catch (err) {
        // A lost CAS means the object changed (a heartbeat arrived, the pod was deleted): the
        // next pass decides again on the fresh state.
        if (!lostCas(err)) throw err;
      }
    }
    return { requeueAfterMs: interval };
  }

  const loop = startWorkLoop("node-lifecycle", pass, log, deps.observe);
  return { loop, stop: () => loop.stop() };
}
