/**
 * The replication controller's reconcile, as a pure function over plain data, following
 * Kubernetes' ReplicaSet controller:
 *
 *   1. claim: among the pods of the RC's namespace, adopt matching orphans (no controller owner)
 *      and release owned pods whose labels no longer match; pods controlled by someone else are
 *      never touched;
 *   2. count the active owned pods (not Succeeded/Failed, no deletionTimestamp);
 *   3. unless creates/deletes are still in flight (expectations), create or delete the difference,
 *      at most `burst` per reconcile, creates in slow-start batches 1, 2, 4, ...; the surplus to
 *      delete is chosen by Kubernetes' ranking (`comparePodsForDeletion`);
 *   4. report status (replicas, fullyLabeled, ready, available, observedGeneration, and a
 *      `ReplicaFailure` condition while creates fail).
 *
 * A converged RC yields no commands at all. Time comes in as `now`; nothing here reads a clock.
 *
 * The same function serves apps/v1 ReplicaSets (`ReplicaOwner`): they differ only in their
 * selector, which is set-based (`matchLabels` + `matchExpressions`, see `ownerMatches`).
 */
import { isReplaceable } from "./node_lifecycle_decide.ts";
import type { Condition, Pod, ReplicaSet, ReplicationController, ReplicationControllerStatus } from "../model/types.ts";
import { type Expectation, expectationsSatisfied, DEFAULT_EXPECTATIONS_TTL_MS } from "./expectations.ts";
import { isPodReady, podReadySince } from "../model/pod.ts";
import { mapMatches, matchesLabels, selectorFromSpec, type LabelSelector } from "../model/selector.ts";

/** What the replica reconcile manages: an RC or a ReplicaSet (same spec and status shape but the selector). */
export type ReplicaOwner = ReplicationController | ReplicaSet;

/** Kubernetes' `BurstReplicas`: the most creates or deletes one reconcile issues. */
export const BURST_REPLICAS = 500;

/** What the executor must do, in order. */
export type Command =
  | { type: "adopt"; pod: Pod }
  | { type: "release"; pod: Pod }
  | { type: "createPods"; count: number; batches: number[] }
  | { type: "deletePods"; pods: Pod[] }
  | { type: "updateStatus"; status: ReplicationControllerStatus };

export interface ReconcileInput {
  rc: ReplicaOwner;
  /** Pods the controller can see (any namespace; others are ignored). */
  pods: readonly Pod[];
  expectations?: Expectation;
  now: number;
  expectationsTtlMs?: number;
  /** The message of the last failed create, if the previous sync's creates failed. */
  createError?: string;
  burst?: number;
}

/** The RC's effective selector: `spec.selector`, else the template's labels. */
export function rcSelector(rc: ReplicationController): Record<string, string> {
  return rc.spec.selector ?? rc.spec.template?.metadata?.labels ?? {};
}

/** Parsed ReplicaSet selectors, by the selector object (specs are replaced, never mutated, in the cache). */
const parsedSelectors = new WeakMap<object, LabelSelector>();

/** True when `labels` match the owner's selector: equality map for an RC, set-based for a ReplicaSet. */
export function ownerMatches(owner: ReplicaOwner, labels: Record<string, string> | undefined): boolean {
  if (owner.kind !== "ReplicaSet") return mapMatches(rcSelector(owner as ReplicationController), labels);
  const spec = (owner as ReplicaSet).spec.selector;
  let sel = parsedSelectors.get(spec);
  if (!sel) parsedSelectors.set(spec, (sel = selectorFromSpec(spec)));
  return matchesLabels(sel, labels);
}

/**
 * True for a pod that counts toward replicas: not terminated, not being deleted, and not given
 * up for lost with its node (`DisruptionTarget` from the node lifecycle controller). A lost pod
 * that comes back counts again — and the controller removes whichever copy ranks first.
 */
export function isActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp && !isReplaceable(pod);
}

function restarts(pod: Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Kubernetes' deletion ranking (`controller.ActivePods` Less): negative when `a` should be
 * deleted before `b`. Unscheduled before scheduled; Pending before Unknown before Running; not
 * ready before ready; ready for less time before longer; more restarts before fewer; newer before
 * older; then by name so the order is total.
 */
export function comparePodsForDeletion(a: Pod, b: Pod): number {
  const as = a.spec.nodeName ? 1 : 0;
  const bs = b.spec.nodeName ? 1 : 0;
  if (as !== bs) return as - bs;
  const ap = PHASE_RANK[a.status?.phase ?? "Pending"] ?? 0;
  const bp = PHASE_RANK[b.status?.phase ?? "Pending"] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a) ? 1 : 0;
  const br = isPodReady(b) ? 1 : 0;
  if (ar !== br) return ar - br;
  if (ar && br) {
    const at = podReadySince(a);
    const bt = podReadySince(b);
    if (at !== bt) return bt - at; // later transition = ready for less time = first
  }
  const rs = restarts(b) - restarts(a);
  if (rs !== 0) return rs;
  const ac = Date.parse(a.metadata.creationTimestamp ?? "") || 0;
  const bc = Date.parse(b.metadata.creationTimestamp ?? "") || 0;
  if (ac !== bc) return bc - ac; // newer first
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

/** Slow-start batch sizes for `count` creates: 1, 2, 4, ... with the last one trimmed. */
export function slowStartBatches(count: number, initial = 1): number[] {
  const out: number[] = [];
  let remaining = count;
  let size = Math.max(1, initial);
  while (remaining > 0) {
    const n = Math.min(size, remaining);
    out.push(n);
    remaining -= n;
    size *= 2;
  }
  return out;
}

/** The pods an RC controls after claiming, and the ownership changes claiming needs. */
export function claimPods(rc: ReplicaOwner, pods: readonly Pod[]): { owned: Pod[]; adopt: Pod[]; release: Pod[] } {
  const ns = rc.metadata.namespace ?? "default";
  const owned: Pod[] = [];
  const adopt: Pod[] = [];
  const release: Pod[] = [];
  for (const pod of pods) {
    if ((pod.metadata.namespace ?? "default") !== ns) continue;
    const ref = pod.metadata.ownerReferences?.find((o) => o.controller);
    const matches = ownerMatches(rc, pod.metadata.labels);
    if (ref) {
      if (ref.uid !== rc.metadata.uid) continue;
      if (matches) owned.push(pod);
      else if (!rc.metadata.deletionTimestamp) release.push(pod);
    } else if (matches && !pod.metadata.deletionTimestamp && !rc.metadata.deletionTimestamp) {
      adopt.push(pod);
      owned.push(pod);
    }
  }
  return { owned, adopt, release };
}

/** The status an RC should report for its active pods. */
export function computeStatus(input: ReconcileInput, active: Pod[]): ReplicationControllerStatus {
  const { rc, now, createError } = input;
  const templateLabels = rc.spec.template?.metadata?.labels ?? {};
  const tKeys = Object.keys(templateLabels);
  const minReadyMs = (rc.spec.minReadySeconds ?? 0) * 1000;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const p of active) {
    const l = p.metadata.labels ?? {};
    if (tKeys.every((k) => l[k] === templateLabels[k])) fullyLabeled++;
    if (isPodReady(p)) {
      ready++;
      if (minReadyMs === 0 || now - podReadySince(p) >= minReadyMs) available++;
    }
  }
  const status: ReplicationControllerStatus = {
    replicas: active.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rc.metadata.generation ?? rc.status?.observedGeneration,
  };
  const others = (rc.status?.conditions ?? []).filter((c) => c.type !== "ReplicaFailure");
  const conditions = [...others];
  if (createError !== undefined) {
    const prev = rc.status?.conditions?.find((c) => c.type === "ReplicaFailure" && c.status === "True");
    conditions.push({
      type: "ReplicaFailure",
      status: "True",
      reason: "FailedCreate",
      message: createError,
      lastTransitionTime: prev?.lastTransitionTime ?? new Date(now).toISOString(),
    });
  }
  if (conditions.length > 0) status.conditions = conditions;
  return status;
}

function sameCondition(a: Condition, b: Condition): boolean {
  return a.type === b.type && a.status === b.status && a.reason === b.reason && a.message === b.message;
}

/** True when two statuses differ in anything but timestamps. */
export function statusChanged(old: ReplicationControllerStatus | undefined, next: ReplicationControllerStatus): boolean {
  if (!old) return true;
  if (
    (old.replicas ?? 0) !== next.replicas ||
    (old.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0) ||
    (old.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (old.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    old.observedGeneration !== next.observedGeneration
  ) return true;
  const oc = old.conditions ?? [];
  const nc = next.conditions ?? [];
  return oc.length !== nc.length || oc.some((c, i) => !sameCondition(c, nc[i]));
}

/** Decides what an RC must do now. Pure: same input, same commands. */
export function reconcile(input: ReconcileInput): Command[] {
  const { rc, now } = input;
  const burst = input.burst ?? BURST_REPLICAS;
  const commands: Command[] = [];
  const { owned, adopt, release } = claimPods(rc, input.pods);
  for (const pod of adopt) commands.push({ type: "adopt", pod });
  for (const pod of release) commands.push({ type: "release", pod });
  const active = owned.filter(isActive);

  const desired = Math.max(0, rc.spec.replicas ?? 1);
  const satisfied = expectationsSatisfied(input.expectations, now, input.expectationsTtlMs ?? DEFAULT_EXPECTATIONS_TTL_MS);
  if (satisfied && !rc.metadata.deletionTimestamp) {
    const diff = active.length - desired;
    if (diff < 0) {
      const count = Math.min(-diff, burst);
      commands.push({ type: "createPods", count, batches: slowStartBatches(count) });
    } else if (diff > 0) {
      const ranked = [...active].sort(comparePodsForDeletion);
      commands.push({ type: "deletePods", pods: ranked.slice(0, Math.min(diff, burst)) });
    }
  }

  const status = computeStatus(input, active);
  if (statusChanged(rc.status, status)) commands.push({ type: "updateStatus", status });
  return commands;
}
