/**
 * PodDisruptionBudgets, decided: what a budget's status is (the disruption controller writes
 * it) and whether an eviction may go ahead (the eviction subresource asks). Pure: no I/O, the
 * clock is an argument. After Kubernetes' pkg/controller/disruption/disruption.go and
 * pkg/registry/core/pod/storage/eviction.go.
 *
 * Status of a budget, from the pods of its namespace its selector picks (an absent selector
 * picks none, `{}` every one):
 *   - `expectedPods` and `desiredHealthy`:
 *       minAvailable: N       desired N, expected = the pods picked
 *       minAvailable: "P%"    expected = the scale of the pods' controllers, desired = ⌈P% of it⌉
 *       maxUnavailable: N|P%  expected = the controllers' scale, desired = expected − N (or ⌈P%⌉)
 *     The controllers' scale counts each controller once: a ReplicationController's, a
 *     ReplicaSet's (its Deployment's when it has one), a StatefulSet's `spec.replicas`. A picked
 *     pod with no controller is left out of it (an UnmanagedPods warning); one whose controller
 *     has no scale (a Job, a DaemonSet) or cannot be found fails the budget (SyncFailed).
 *   - `currentHealthy`: the picked pods that are Ready, not being deleted and not in
 *     `disruptedPods` (an eviction let go of them less than 2 minutes ago).
 *   - `disruptionsAllowed` = currentHealthy − desiredHealthy, never below 0, and 0 while no pod
 *     is expected (a budget made before its pods is safe until the controller has seen them).
 *   - `disruptedPods` keeps an entry while its pod exists, is not being deleted and its 2
 *     minutes have not passed; the earliest of those ends is when to look again.
 *   - the `DisruptionAllowed` condition: True SufficientPods, False InsufficientPods, or False
 *     SyncFailed with the error (then nothing else changes, observedGeneration included).
 *
 * An eviction of a pod (`evictionVerdict`):
 *   - a pod Pending, Succeeded or Failed, or being deleted, is deleted without a look at budgets;
 *   - no budget picks it: deleted; more than one: refused (500, as kube-apiserver does);
 *   - a pod that is not Ready: deleted without spending the budget when the budget says
 *     `AlwaysAllow`, or (IfHealthyBudget, the default) when the budget is healthy as it is
 *     (currentHealthy ≥ desiredHealthy > 0); otherwise it goes through the budget;
 *   - through the budget: refused (429) while the controller has not seen the budget's
 *     generation, or when no disruption is allowed; else the budget's status is written first
 *     with one disruption fewer and the pod in `disruptedPods`, then the pod is deleted.
 */
import { setCondition } from "../model/conditions.ts";
import { jsonEqual } from "../model/json_equal.ts";
import { isPodReady } from "../model/pod.ts";
import { matchesLabels, selectorFromSpec } from "../model/selector.ts";
import type { Condition, OwnerReference, Pod, PodDisruptionBudget, PodDisruptionBudgetStatus } from "../model/types.ts";

/** How long an eviction's pod may take to go before the budget counts it again (Kubernetes' DeletionTimeout). */
export const DISRUPTION_DELETION_TIMEOUT_MS = 2 * 60_000;
/** Evictions not yet seen through beyond which more are refused (kube-apiserver's MaxDisruptedPodSize). */
export const MAX_DISRUPTED_PODS = 2000;
export const DISRUPTION_ALLOWED = "DisruptionAllowed";

/**
 * The scale of a pod's controller: its uid (a ReplicaSet's Deployment's, when it has one) and
 * replicas; undefined when no such controller is found; throws when the controller's kind has no
 * scale (the message says so).
 */
export type ScaleOf = (ref: OwnerReference, namespace: string) => { uid: string; replicas: number } | undefined;

/** The pods of `pods` (any namespace) that budget `pdb` covers. */
export function budgetPods(pdb: PodDisruptionBudget, pods: Iterable<Pod>): Pod[] {
  const sel = selectorFromSpec(pdb.spec.selector);
  const ns = pdb.metadata.namespace ?? "default";
  const out: Pod[] = [];
  for (const p of pods) if ((p.metadata.namespace ?? "default") === ns && matchesLabels(sel, p.metadata.labels)) out.push(p);
  return out;
}

/**
 * An int-or-percent against `total`, rounded up (intstr.GetScaledValueFromIntOrPercent with
 * roundUp). Validation lets only a non-negative integer or "N%" in.
 */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === "number") return v;
  const m = /^([0-9]+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  return Math.ceil((Number(m[1]) * total) / 100);
}

/** The controller reference of an object, if any. */
function controllerRef(p: Pod): OwnerReference | undefined {
  return p.metadata.ownerReferences?.find((o) => o.controller);
}

/** The controllers' scale of `pods`, and the pods with no controller (getExpectedScale). Throws when a controller has no scale. */
export function expectedScale(pods: readonly Pod[], scaleOf: ScaleOf): { expected: number; unmanaged: string[] } {
  const scales = new Map<string, number>();
  const seenRefs = new Set<string>();
  const unmanaged: string[] = [];
  for (const p of pods) {
    const ref = controllerRef(p);
    if (!ref) {
      unmanaged.push(p.metadata.name);
      continue;
    }
    if (seenRefs.has(ref.uid)) continue;
    const s = scaleOf(ref, p.metadata.namespace ?? "default");
    if (!s) throw new Error(`found no controllers for pod ${JSON.stringify(p.metadata.name)}`);
    seenRefs.add(ref.uid);
    scales.set(s.uid, s.replicas);
  }
  let expected = 0;
  for (const n of scales.values()) expected += n;
  return { expected, unmanaged };
}

/** What a sync of one budget comes to. */
export interface BudgetSync {
  /** The status to write, or undefined when the stored one is already it. */
  status?: PodDisruptionBudgetStatus;
  /** Events about the budget (Kubernetes' reasons and messages). */
  events: { type: "Normal" | "Warning"; reason: string; message: string }[];
  /** Pods an eviction let go of that were not deleted in time (an event on each). */
  notDeleted: string[];
  /** When to look again (an entry of disruptedPods ends), ms from now. */
  recheckAfterMs?: number;
}

/** The DisruptionAllowed condition for a status (UpdateDisruptionAllowedCondition). */
function allowedCondition(st: PodDisruptionBudgetStatus, now: string): Condition[] {
  const allowed = st.disruptionsAllowed > 0;
  return setCondition(st.conditions, { type: DISRUPTION_ALLOWED, status: allowed ? "True" : "False", reason: allowed ? "SufficientPods" : "InsufficientPods", message: "", observedGeneration: st.observedGeneration }, now);
}

/** Key order is no difference: the API stores a status in its schema's key order. */
function sameStatus(a: PodDisruptionBudgetStatus | undefined, b: PodDisruptionBudgetStatus): boolean {
  return jsonEqual(a ?? null, b);
}

/**
 * One sync of budget `pdb` (trySync, or failSafe when it fails): `pods` are the pods of its
 * namespace (any), `scaleOf` finds a controller's scale, `nowMs` the clock.
 */
export function syncBudget(pdb: PodDisruptionBudget, pods: readonly Pod[], scaleOf: ScaleOf, nowMs: number): BudgetSync {
  const now = new Date(nowMs).toISOString();
  const events: BudgetSync["events"] = [];
  const picked = budgetPods(pdb, pods);
  if (picked.length === 0) events.push({ type: "Normal", reason: "NoPods", message: "No matching pods found" });
  const generation = pdb.metadata.generation ?? 1;
  let expected = 0;
  let desired = 0;
  try {
    const { minAvailable, maxUnavailable } = pdb.spec;
    let unmanaged: string[] = [];
    if (maxUnavailable !== undefined) {
      ({ expected, unmanaged } = expectedScale(picked, scaleOf));
      desired = Math.max(0, expected - scaledValue(maxUnavailable, expected));
    } else if (typeof minAvailable === "number") {
      desired = minAvailable;
      expected = picked.length;
    } else if (typeof minAvailable === "string") {
      ({ expected, unmanaged } = expectedScale(picked, scaleOf));
      desired = scaledValue(minAvailable, expected);
    }
    if (unmanaged.length > 0) {
      events.push({
        type: "Warning",
        reason: "UnmanagedPods",
        message: `Pods selected by this PodDisruptionBudget (selector: ${JSON.stringify(pdb.spec.selector ?? null)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
      });
    }
  } catch (err) {
    const message = (err as Error).message;
    events.push({ type: "Warning", reason: "CalculateExpectedPodCountFailed", message: `Failed to calculate the number of expected pods: ${message}` });
    // failSafe: no disruption allowed, the error in the condition, the rest as it was.
    const old = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    const failed: PodDisruptionBudgetStatus = {
      ...old,
      disruptionsAllowed: 0,
      conditions: setCondition(old.conditions, { type: DISRUPTION_ALLOWED, status: "False", reason: "SyncFailed", message, observedGeneration: old.observedGeneration }, now),
    };
    return { status: sameStatus(pdb.status, failed) ? undefined : failed, events, notDeleted: [] };
  }

  // buildDisruptedPodMap: entries whose pods still exist and have time left.
  const disrupted: Record<string, string> = {};
  const notDeleted: string[] = [];
  let recheckAt: number | undefined;
  const listed = pdb.status?.disruptedPods ?? {};
  for (const p of picked) {
    if (p.metadata.deletionTimestamp) continue;
    const at = listed[p.metadata.name];
    if (at === undefined) continue;
    const ends = Date.parse(at) + DISRUPTION_DELETION_TIMEOUT_MS;
    if (ends < nowMs) {
      notDeleted.push(p.metadata.name);
      continue;
    }
    disrupted[p.metadata.name] = at;
    if (recheckAt === undefined || ends < recheckAt) recheckAt = ends;
  }
  let healthy = 0;
  for (const p of picked) {
    if (p.metadata.deletionTimestamp) continue;
    if (disrupted[p.metadata.name] !== undefined) continue;
    if (isPodReady(p)) healthy++;
  }
  let allowed = healthy - desired;
  if (expected <= 0 || allowed <= 0) allowed = 0;

  const base: PodDisruptionBudgetStatus = {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: pdb.status?.conditions,
  };
  const status: PodDisruptionBudgetStatus = { ...base, conditions: allowedCondition(base, now) };
  return {
    status: sameStatus(pdb.status, status) ? undefined : status,
    events,
    notDeleted,
    ...(recheckAt !== undefined ? { recheckAfterMs: Math.max(0, recheckAt - nowMs) + 1 } : {}),
  };
}

/** What an eviction of a pod comes to. */
export type EvictionVerdict =
  /** Delete the pod; no budget is spent. */
  | { type: "delete"; why: "pod-not-running" | "no-budget" | "unhealthy-pod" }
  /** Write `status` to `budget` (compare-and-swap at the version read), then delete the pod. */
  | { type: "spend"; budget: PodDisruptionBudget; status: PodDisruptionBudgetStatus }
  /** Refuse with this error. */
  | { type: "refuse"; code: 429 | 403 | 500; message: string; cause?: string; retryAfterSeconds?: number };

export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Pods an eviction deletes without a look at budgets: not running, or going already (canIgnorePDB). */
export function evictionIgnoresBudgets(pod: Pod): boolean {
  const phase = pod.status?.phase ?? "Pending";
  return phase === "Pending" || phase === "Succeeded" || phase === "Failed" || Boolean(pod.metadata.deletionTimestamp);
}

/** Whether pod `pod` may be evicted now, given the budgets of its namespace (`budgets`, any). */
export function evictionVerdict(pod: Pod, budgets: readonly PodDisruptionBudget[], nowMs: number): EvictionVerdict {
  if (evictionIgnoresBudgets(pod)) return { type: "delete", why: "pod-not-running" };
  const ns = pod.metadata.namespace ?? "default";
  const mine = budgets.filter((b) => (b.metadata.namespace ?? "default") === ns && matchesLabels(selectorFromSpec(b.spec.selector), pod.metadata.labels));
  if (mine.length === 0) return { type: "delete", why: "no-budget" };
  if (mine.length > 1) return { type: "refuse", code: 500, message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." };
  const pdb = mine[0];
  const st = pdb.status ?? { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  if (!isPodReady(pod)) {
    if (pdb.spec.unhealthyPodEvictionPolicy === "AlwaysAllow") return { type: "delete", why: "unhealthy-pod" };
    if (st.currentHealthy >= st.desiredHealthy && st.desiredHealthy > 0) return { type: "delete", why: "unhealthy-pod" };
  }
  // checkAndDecrement
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    // Retry-After 10, as kube-apiserver: client-go waits and tries again by itself.
    return { type: "refuse", code: 429, message: EVICTION_REFUSED, cause: `The disruption budget ${pdb.metadata.name} is still being processed by the server.`, retryAfterSeconds: 10 };
  }
  if (st.disruptionsAllowed < 0) return { type: "refuse", code: 403, message: `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: pdb disruptions allowed is negative` };
  if (Object.keys(st.disruptedPods ?? {}).length > MAX_DISRUPTED_PODS) {
    return { type: "refuse", code: 403, message: `poddisruptionbudgets.policy "${pdb.metadata.name}" is forbidden: DisruptedPods map too big - too many evictions not confirmed by PDB controller` };
  }
  if (st.disruptionsAllowed === 0) {
    return { type: "refuse", code: 429, message: EVICTION_REFUSED, cause: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently` };
  }
  const next: PodDisruptionBudgetStatus = {
    ...st,
    disruptionsAllowed: st.disruptionsAllowed - 1,
    disruptedPods: { ...(st.disruptedPods ?? {}), [pod.metadata.name]: new Date(nowMs).toISOString() },
  };
  if (next.disruptionsAllowed === 0) next.conditions = allowedCondition(next, new Date(nowMs).toISOString());
  return { type: "spend", budget: pdb, status: next };
}
