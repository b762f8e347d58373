/**
 * The node lifecycle controller's decision, pure: which nodes stopped heartbeating, which pods
 * to mark lost, and which to evict. Mirrors Kubernetes' node lifecycle controller:
 *
 *   - a node whose `Ready` condition has not been refreshed (`lastHeartbeatTime`) for
 *     `gracePeriodMs` becomes `Ready=Unknown` (reason `NodeStatusUnknown`);
 *   - the pods bound to an Unknown node are marked lost: phase `Unknown`, reason `NodeLost`, and
 *     their `Ready` condition `False`, so they stop counting as ready/available (services drop
 *     them) while their container statuses are kept;
 *   - once a node has been not Ready (Unknown or False) for `podEvictionTimeoutMs` its pods are
 *     marked replaceable — condition `DisruptionTarget=True`, reason `NodeLost` — and their
 *     replication controllers stop counting them and create replacements on healthy nodes.
 *     Unlike Kubernetes, the pod is not deleted (Nomad's choice for disconnected clients, and
 *     the seed story's): when the node comes back and reports the pod running again, the RC
 *     sees one pod too many and removes the surplus in its ranking order (3 → 4 → 3).
 *
 * How long a pod is kept is its own, as with Kubernetes' NoExecute taints `node.kubernetes.io/
 * unreachable` (a node Unknown) and `node.kubernetes.io/not-ready` (a node Ready=False): a pod
 * with a toleration of that taint is kept for its `tolerationSeconds` (0 or less: not at all), or
 * for ever when it has none (a DaemonSet's pods); a pod without one is kept `podEvictionTimeoutMs`,
 * which stands in for the 300 s Kubernetes' DefaultTolerationSeconds admission writes into pods.
 *
 * When every node is unhealthy at once (full disruption), no pod is given up (see below).
 *
 * Kubernetes' defaults are 40 s and 5 min; Berth's, for local clusters, are 5 s and 10 s.
 * Heartbeat times are compared with `now`: every node must keep a reasonably synchronised clock.
 */
import { TAINT_NOT_READY, TAINT_UNREACHABLE, tolerates } from "../model/scheduling.ts";
import type { Condition, Node, Pod } from "../model/types.ts";

/** Berth's default grace period without heartbeats before a node becomes Ready=Unknown. */
export const DEFAULT_NODE_GRACE_PERIOD_MS = 5_000;
/** Berth's default delay between a node going not Ready and its pods being evicted. */
export const DEFAULT_POD_EVICTION_TIMEOUT_MS = 10_000;

export const NODE_UNKNOWN_REASON = "NodeStatusUnknown";
export const NODE_UNKNOWN_MESSAGE = "Kubelet stopped posting node status.";
export const POD_LOST_REASON = "NodeLost";
/** Kubernetes' condition for a pod about to be disrupted; here: replaced because its node is lost. */
export const REPLACEABLE_CONDITION = "DisruptionTarget";

export type NodeLifecycleCommand =
  | { type: "markNodeUnknown"; node: Node; condition: Condition }
  | { type: "markPodLost"; pod: Pod; node: string }
  | { type: "evictPod"; pod: Pod; node: string };

export interface NodeLifecycleInput {
  nodes: readonly Node[];
  pods: readonly Pod[];
  now: number;
  gracePeriodMs?: number;
  podEvictionTimeoutMs?: number;
}

function readyCondition(node: Node): Condition | undefined {
  return node.status?.conditions?.find((c) => c.type === "Ready");
}

function time(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** When the node last proved it was alive: its Ready heartbeat, else its creation. */
export function lastHeartbeat(node: Node): number {
  const c = readyCondition(node);
  return time(c?.lastHeartbeatTime) ?? time(c?.lastTransitionTime) ?? time(node.metadata.creationTimestamp) ?? 0;
}

/** True when the pod is already marked lost by the node lifecycle controller. */
export function isMarkedLost(pod: Pod): boolean {
  return pod.status?.reason === POD_LOST_REASON && pod.status?.phase === "Unknown" &&
    (pod.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "False") !== "True";
}

/** True when the pod was given up for lost and may be replaced (see the header). */
export function isReplaceable(pod: Pod): boolean {
  return pod.status?.phase === "Unknown" &&
    pod.status?.conditions?.some((c) => c.type === REPLACEABLE_CONDITION && c.status === "True" && c.reason === POD_LOST_REASON) === true;
}

/** The status of a lost pod once its node has been away for the eviction timeout. */
export function replaceablePodStatus(pod: Pod, node: string, now: number): NonNullable<Pod["status"]> {
  const lost = isMarkedLost(pod) ? pod.status! : lostPodStatus(pod, node, now);
  const at = new Date(now).toISOString();
  return {
    ...lost,
    conditions: [
      ...(lost.conditions ?? []).filter((c) => c.type !== REPLACEABLE_CONDITION),
      {
        type: REPLACEABLE_CONDITION,
        status: "True",
        reason: POD_LOST_REASON,
        message: `Node ${node} is unreachable; the pod's controller replaces it. If the node returns, the surplus copy is removed.`,
        lastTransitionTime: at,
      },
    ],
  };
}

/** The pod status to write when its node is lost. */
export function lostPodStatus(pod: Pod, node: string, now: number): NonNullable<Pod["status"]> {
  const at = new Date(now).toISOString();
  const message = `Node ${node} which was running pod ${pod.metadata.name} is unresponsive`;
  const others = (pod.status?.conditions ?? []).filter((c) => c.type !== "Ready");
  const prev = pod.status?.conditions?.find((c) => c.type === "Ready");
  return {
    ...pod.status,
    phase: "Unknown",
    reason: POD_LOST_REASON,
    message,
    conditions: [
      ...others,
      {
        type: "Ready",
        status: "False",
        reason: POD_LOST_REASON,
        message,
        lastTransitionTime: prev?.status === "False" ? prev.lastTransitionTime ?? at : at,
        lastProbeTime: at,
      },
    ],
  };
}

/**
 * How long pod `pod` is kept on a node whose Ready status is `status` before it is given up:
 * its toleration of the NoExecute taint that status implies (the first that matches, as the
 * taint manager takes it), else `defaultMs`. Infinity: it tolerates the taint for ever.
 */
export function keepOnUnhealthyNodeMs(pod: Pod, status: "Unknown" | "False", defaultMs: number): number {
  const taint = { key: status === "Unknown" ? TAINT_UNREACHABLE : TAINT_NOT_READY, effect: "NoExecute" as const };
  const toleration = (pod.spec.tolerations ?? []).find((t) => tolerates(t, taint));
  if (!toleration) return defaultMs;
  if (toleration.tolerationSeconds === undefined || toleration.tolerationSeconds === null) return Infinity;
  return Math.max(0, toleration.tolerationSeconds) * 1000;
}

/** Decides what the node lifecycle controller does now. */
export function decideNodeLifecycle(input: NodeLifecycleInput): NodeLifecycleCommand[] {
  const grace = input.gracePeriodMs ?? DEFAULT_NODE_GRACE_PERIOD_MS;
  const eviction = input.podEvictionTimeoutMs ?? DEFAULT_POD_EVICTION_TIMEOUT_MS;
  const { now } = input;
  const out: NodeLifecycleCommand[] = [];
  /** Unhealthy node name → its Ready status after this decision, and since when. */
  const unhealthy = new Map<string, { status: "Unknown" | "False"; since: number }>();

  for (const node of input.nodes) {
    const ready = readyCondition(node);
    const name = node.metadata.name;
    if (!ready) {
      // Never reported status: unhealthy once the grace period since registration has passed.
      const born = lastHeartbeat(node);
      if (now - born > grace) unhealthy.set(name, { status: "Unknown", since: born + grace });
      continue;
    }
    if (ready.status === "Unknown") {
      unhealthy.set(name, { status: "Unknown", since: time(ready.lastTransitionTime) ?? lastHeartbeat(node) });
      continue;
    }
    if (now - lastHeartbeat(node) > grace) {
      const condition: Condition = {
        type: "Ready",
        status: "Unknown",
        reason: NODE_UNKNOWN_REASON,
        message: NODE_UNKNOWN_MESSAGE,
        lastHeartbeatTime: ready.lastHeartbeatTime,
        lastTransitionTime: new Date(now).toISOString(),
      };
      out.push({ type: "markNodeUnknown", node, condition });
      unhealthy.set(name, { status: "Unknown", since: now });
    } else if (ready.status === "False") {
      unhealthy.set(name, { status: "False", since: time(ready.lastTransitionTime) ?? now });
    }
  }

  // Full disruption (every node unhealthy at once): the likelier cause is the control plane's
  // own view — a NATS outage that kept every heartbeat out, a paused control plane — not every
  // machine failing together, and a replacement could not be scheduled anywhere anyway. Like
  // Kubernetes' node lifecycle controller, give no pod up while it lasts; pods are still marked
  // lost (not Ready), which is true either way.
  const fullDisruption = input.nodes.length > 0 && unhealthy.size === input.nodes.length;

  for (const pod of input.pods) {
    const nodeName = pod.spec.nodeName;
    if (!nodeName || pod.metadata.deletionTimestamp) continue;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const health = unhealthy.get(nodeName);
    if (!health) continue;
    if (now - health.since >= keepOnUnhealthyNodeMs(pod, health.status, eviction) && !fullDisruption) {
      if (!isReplaceable(pod)) out.push({ type: "evictPod", pod, node: nodeName });
    } else if (health.status === "Unknown" && !isMarkedLost(pod)) {
      out.push({ type: "markPodLost", pod, node: nodeName });
    }
  }
  return out;
}
