/**
 * What the job controller does about one Job, decided from the Job and the pods it controls —
 * pure, as Kubernetes' job controller's syncJob without its API calls. Two steps per pass:
 *
 * 1. Counting (`planTracking`, `settleCounts`), as Kubernetes tracks pods with finalizers: every
 *    pod a Job makes carries `batch.kubernetes.io/job-tracking`. A pod that finished — Succeeded;
 *    Failed; or being deleted without having succeeded, which Kubernetes also counts as failed —
 *    has its uid written to `status.uncountedTerminatedPods`, then its finalizer taken off, then
 *    it moves into `succeeded` or `failed`. Each step is a write the next pass can resume from,
 *    so a pod is counted exactly once even if it is deleted at once, or the controller stops
 *    between steps.
 *
 * 2. Deciding (`decideJob`), on the counts (counted + uncounted):
 *
 *   finished (Complete/Failed)  → delete what still runs; after `ttlSecondsAfterFinished`, the job
 *   suspended                   → delete what runs, condition Suspended
 *   past `activeDeadlineSeconds`→ Failed (DeadlineExceeded), delete what runs
 *   failures > `backoffLimit`   → Failed (BackoffLimitExceeded), delete what runs; with
 *                                 restartPolicy OnFailure container restarts count as failures
 *   enough pods succeeded       → Complete, completionTime
 *   otherwise                   → keep min(parallelism, completions − succeeded) pods running
 *                                 (a work queue, completions unset: parallelism until one
 *                                 succeeds, then nothing new), at most 500 new pods a pass; a
 *                                 new pod after failures waits 10 s · 2^(n−1), at most 10 min,
 *                                 n the failures since the last success
 *
 * Indexed jobs (`completionMode: Indexed`, job_indexes.ts), as Kubernetes: a pod that succeeded
 * with a valid index not yet completed has its index written to `status.completedIndexes` (in
 * place of its uid in `uncountedTerminatedPods`; the index alone keeps it from being counted
 * twice), and `succeeded` is the number of completed indexes; the job completes once all
 * `completions` indexes have. Active pods without a valid index, past `completions`, or repeating
 * an index (all but one) are deleted first — a pass that deletes creates nothing; new pods take
 * the lowest indexes neither completed nor active.
 */
import { finishedCondition, JOB_TRACKING_FINALIZER } from "../model/job.ts";
import { isPodReady } from "../model/pod.ts";
import type { Condition, Job, JobStatus, Pod } from "../model/types.ts";
import { countIndexes, firstPendingIndexes, formatIndexes, hasIndex, isIndexedJob, parseIndexes, completionIndexOf, podsWithBadIndexes, withIndexes } from "./job_indexes.ts";
import { comparePodsForDeletion } from "./replication_controller_reconcile.ts";

/** Kubernetes' back-off before a pod replaces failed ones: 10 s, doubling, at most 10 min. */
export const JOB_BACKOFF = { baseMs: 10_000, maxMs: 600_000 } as const;
/** Pods created or deleted in one pass, at most (Kubernetes' MaxPodCreateDeletePerSync). */
export const MAX_PODS_PER_PASS = 500;
/** Finished pods taken into `uncountedTerminatedPods` in one pass, at most (Kubernetes' MaxUncountedPods). */
export const MAX_UNCOUNTED = 500;

export type PodCommand =
  /** `indexes` (Indexed jobs): the completion index of each pod to create, `count` of them. */
  | { type: "createPods"; count: number; indexes?: number[] }
  | { type: "deletePods"; pods: Pod[]; reason: string };

export interface JobEvent {
  eventType: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface JobInput {
  /** The job, its status already settled (`settleCounts`). */
  job: Job;
  /** The pods this job controls (controller reference to its uid), any phase. */
  pods: readonly Pod[];
  now: number;
  backoff?: { baseMs: number; maxMs: number };
}

export interface JobDecision {
  /** Pod creates and deletes. */
  commands: PodCommand[];
  /** The status the job should have (written when it differs from the stored one). */
  status: JobStatus;
  /** Events of the transitions in `status`: recorded once the status is written. */
  events: JobEvent[];
  /** The job's TTL after it finished has passed: delete it. */
  deleteJob?: boolean;
  /** Look again after this long even if nothing changes (deadline, back-off, TTL). */
  requeueAfterMs?: number;
}

const hasTracking = (p: Pod) => p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;

/** Kubernetes' rule: Failed, or being deleted without having succeeded. */
export function isFailedJobPod(p: Pod): boolean {
  return p.status?.phase === "Failed" || (!!p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded");
}

/** Running or about to: not finished and not being deleted. */
export const isActiveJobPod = (p: Pod) => p.status?.phase !== "Succeeded" && !isFailedJobPod(p);

/** How a pod ended for its job, or undefined while it is active. Once the job finished, every pod not succeeded failed. */
function outcome(p: Pod, jobFinished: boolean): "succeeded" | "failed" | undefined {
  if (p.status?.phase === "Succeeded") return "succeeded";
  if (isFailedJobPod(p) || jobFinished) return "failed";
  return undefined;
}

export interface TrackingPlan {
  /**
   * Uids to add to `status.uncountedTerminatedPods` before any finalizer comes off; for an Indexed
   * job with newly succeeded indexes, `completed` is its new `completedIndexes` and their number.
   */
  record: { succeeded: string[]; failed: string[]; completed?: { indexes: string; count: number } };
  /** Pods whose tracking finalizer to take off: each is (or will be, once `record` is written) uncounted. */
  release: Pod[];
}

/**
 * Step 1 of counting: the finished pods still carrying the tracking finalizer. `released` are
 * pods whose finalizer this controller already took off (the pod cache may not show it yet).
 */
export function planTracking(job: Job, pods: readonly Pod[], released: ReadonlySet<string> = new Set()): TrackingPlan {
  const uncounted = new Set([...(job.status?.uncountedTerminatedPods?.succeeded ?? []), ...(job.status?.uncountedTerminatedPods?.failed ?? [])]);
  const finished = finishedCondition(job) !== undefined;
  const record: TrackingPlan["record"] = { succeeded: [], failed: [] };
  const release: Pod[] = [];
  const completions = job.spec.completions ?? 0;
  const indexed = isIndexedJob(job);
  const done = indexed ? parseIndexes(job.status?.completedIndexes, completions) : [];
  const newIndexes = new Set<number>();
  for (const p of pods) {
    const uid = p.metadata.uid;
    if (!uid || !hasTracking(p) || released.has(uid)) continue;
    const how = outcome(p, finished);
    if (!how) continue;
    if (!uncounted.has(uid)) {
      if (indexed && how === "succeeded") {
        // Counted by its index, once; a succeeded pod without a valid index counts for nothing (as Kubernetes).
        const ix = completionIndexOf(p);
        if (ix !== undefined && ix < completions && !hasIndex(done, ix)) newIndexes.add(ix);
      } else {
        if (record.succeeded.length + record.failed.length >= MAX_UNCOUNTED) continue;
        record[how].push(uid);
      }
    }
    release.push(p);
  }
  if (newIndexes.size > 0) {
    const all = withIndexes(done, [...newIndexes].sort((a, b) => a - b));
    record.completed = { indexes: formatIndexes(all), count: countIndexes(all) };
  }
  return { record, release };
}

/** Whether the plan has anything to write before finalizers come off. */
export const planRecords = (plan: TrackingPlan): boolean => plan.record.succeeded.length + plan.record.failed.length > 0 || plan.record.completed !== undefined;

/** `status` with `record` added to its uncounted pods (and, for an Indexed job, its new completed indexes and count). */
export function withUncounted(status: JobStatus | undefined, record: TrackingPlan["record"]): JobStatus {
  const u = status?.uncountedTerminatedPods ?? {};
  return {
    ...status,
    ...(record.completed ? { completedIndexes: record.completed.indexes, succeeded: record.completed.count } : {}),
    uncountedTerminatedPods: {
      succeeded: [...(u.succeeded ?? []), ...record.succeeded],
      failed: [...(u.failed ?? []), ...record.failed],
    },
  };
}

/**
 * Step 2 of counting: uncounted pods whose finalizer is off (`releasedNow`, or as the cache shows
 * it) or that are gone move into `succeeded`/`failed`.
 */
export function settleCounts(status: JobStatus | undefined, pods: readonly Pod[], releasedNow: ReadonlySet<string>): JobStatus {
  const byUid = new Map(pods.map((p) => [p.metadata.uid, p] as const));
  const done = (uid: string) => releasedNow.has(uid) || !byUid.has(uid) || !hasTracking(byUid.get(uid)!);
  const u = status?.uncountedTerminatedPods ?? {};
  const succeeded = u.succeeded ?? [];
  const failed = u.failed ?? [];
  const movedS = succeeded.filter(done).length;
  const movedF = failed.filter(done).length;
  const out: JobStatus = {
    ...status,
    succeeded: (status?.succeeded ?? 0) + movedS,
    failed: (status?.failed ?? 0) + movedF,
    uncountedTerminatedPods: { succeeded: succeeded.filter((x) => !done(x)), failed: failed.filter((x) => !done(x)) },
  };
  return out;
}

function restarts(p: Pod): number {
  let n = 0;
  for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) n += s.restartCount ?? 0;
  return n;
}

/** When a pod finished: its containers' latest finish, else its last condition change, else its deletion or creation. */
function finishedAt(p: Pod): number {
  let t = NaN;
  const later = (v: string | undefined) => {
    const f = Date.parse(v ?? "");
    if (!Number.isNaN(f) && !(f <= t)) t = f;
  };
  for (const s of p.status?.containerStatuses ?? []) later(s.state?.terminated?.finishedAt);
  if (Number.isNaN(t)) for (const c of p.status?.conditions ?? []) later(c.lastTransitionTime);
  if (Number.isNaN(t)) later(p.metadata.deletionTimestamp ?? p.metadata.creationTimestamp);
  return t;
}

function setCondition(conditions: readonly Condition[] | undefined, next: Condition): Condition[] {
  const out = (conditions ?? []).filter((c) => c.type !== next.type);
  const old = conditions?.find((c) => c.type === next.type);
  const keepTime = old && old.status === next.status && old.reason === next.reason;
  out.push(keepTime ? { ...next, lastTransitionTime: old.lastTransitionTime, lastProbeTime: old.lastProbeTime } : next);
  return out;
}

/** When the job finished (ms), from its completion time or its Failed condition. */
export function jobFinishedAt(job: Job): number {
  const c = finishedCondition(job);
  return Date.parse(job.status?.completionTime ?? c?.lastTransitionTime ?? "");
}

/** The status as Kubernetes writes it: counts of zero and empty uncounted lists left out (`omitempty`), `ready` always there (a pointer). */
export function normalStatus(s: JobStatus): JobStatus {
  const out: JobStatus = { ...s, ready: s.ready ?? 0 };
  for (const k of ["active", "succeeded", "failed", "completedIndexes"] as const) if (!out[k]) delete out[k];
  const u = out.uncountedTerminatedPods;
  if (u) {
    const kept = { ...(u.succeeded?.length ? { succeeded: u.succeeded } : {}), ...(u.failed?.length ? { failed: u.failed } : {}) };
    if (Object.keys(kept).length) out.uncountedTerminatedPods = kept;
    else delete out.uncountedTerminatedPods;
  }
  return out;
}

export function decideJob(input: JobInput): JobDecision {
  const { job, pods, now } = input;
  const backoff = input.backoff ?? JOB_BACKOFF;
  const stamp = new Date(now).toISOString();
  const prev = job.status ?? {};
  const active = pods.filter(isActiveJobPod);
  const uncounted = prev.uncountedTerminatedPods ?? {};
  const completions = job.spec.completions;
  // Indexed (validation makes `completions` set): successes are the completed indexes.
  const completedIndexes = isIndexedJob(job) && completions !== undefined ? parseIndexes(prev.completedIndexes, completions) : undefined;
  const succeeded = completedIndexes ? countIndexes(completedIndexes) : (prev.succeeded ?? 0) + (uncounted.succeeded?.length ?? 0);
  const failed = (prev.failed ?? 0) + (uncounted.failed?.length ?? 0);
  const commands: PodCommand[] = [];
  const events: JobEvent[] = [];
  const status: JobStatus = { ...prev, active: active.length, ready: active.filter(isPodReady).length };
  if (completedIndexes) Object.assign(status, { succeeded, completedIndexes: formatIndexes(completedIndexes) });
  const stopAll = (reason: string) => {
    if (active.length > 0) commands.push({ type: "deletePods", pods: active.slice(0, MAX_PODS_PER_PASS), reason });
    status.active = 0;
    status.ready = 0;
  };
  const ttlRequeue = (): Pick<JobDecision, "deleteJob" | "requeueAfterMs"> => {
    const ttl = job.spec.ttlSecondsAfterFinished;
    const at = jobFinishedAt({ ...job, status });
    if (ttl === undefined || Number.isNaN(at)) return {};
    const due = at + ttl * 1000 - now;
    return due <= 0 ? { deleteJob: true } : { requeueAfterMs: due };
  };
  const done = (extra: Pick<JobDecision, "deleteJob" | "requeueAfterMs"> = {}): JobDecision => ({ commands, status: normalStatus(status), events, ...extra });

  // Finished: nothing runs any more; the TTL may delete the job.
  if (finishedCondition(job)) {
    stopAll("the job has finished");
    return done(ttlRequeue());
  }

  // Suspended: nothing runs, and the deadline clock stops (it starts again on resume).
  if (job.spec.suspend) {
    stopAll("the job is suspended");
    const was = prev.conditions?.find((c) => c.type === "Suspended")?.status === "True";
    status.conditions = setCondition(prev.conditions, { type: "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended", lastProbeTime: stamp, lastTransitionTime: stamp });
    if (!was) events.push({ eventType: "Normal", reason: "Suspended", message: "Job suspended" });
    return done();
  }
  if (prev.conditions?.find((c) => c.type === "Suspended")?.status === "True") {
    status.conditions = setCondition(prev.conditions, { type: "Suspended", status: "False", reason: "JobResumed", message: "Job resumed", lastProbeTime: stamp, lastTransitionTime: stamp });
    status.startTime = stamp;
    events.push({ eventType: "Normal", reason: "Resumed", message: "Job resumed" });
  }
  status.startTime ??= stamp;
  const start = Date.parse(status.startTime);

  const fail = (reason: string, message: string): JobDecision => {
    stopAll(message);
    status.conditions = setCondition(status.conditions, { type: "Failed", status: "True", reason, message, lastProbeTime: stamp, lastTransitionTime: stamp });
    events.push({ eventType: "Warning", reason, message });
    return done(ttlRequeue());
  };

  const deadline = job.spec.activeDeadlineSeconds;
  if (deadline !== undefined && now - start >= deadline * 1000) return fail("DeadlineExceeded", "Job was active longer than specified deadline");
  const limit = job.spec.backoffLimit ?? 6;
  const restarted = job.spec.template.spec.restartPolicy === "OnFailure" ? active.reduce((n, p) => n + restarts(p), 0) : 0;
  if (failed > limit || (restarted > 0 && (limit === 0 || restarted >= limit))) {
    return fail("BackoffLimitExceeded", "Job has reached the specified backoff limit");
  }

  if (completions !== undefined ? succeeded >= completions : succeeded > 0 && active.length === 0) {
    stopAll("the job has completed");
    status.conditions = setCondition(status.conditions, { type: "Complete", status: "True", lastProbeTime: stamp, lastTransitionTime: stamp });
    status.completionTime = stamp;
    events.push({ eventType: "Normal", reason: "Completed", message: "Job completed" });
    return done(ttlRequeue());
  }

  const parallelism = job.spec.parallelism ?? 1;
  // A work queue that has seen a success starts nothing more but leaves what runs running.
  const want = completions !== undefined ? Math.max(0, Math.min(parallelism, completions - succeeded)) : succeeded > 0 ? active.length : parallelism;
  let requeueAfterMs: number | undefined = deadline !== undefined ? start + deadline * 1000 - now : undefined;
  // Indexed: pods with a bad or repeated index go whatever the count; a pass that deletes creates nothing (as Kubernetes' manageJob).
  const bad = completedIndexes ? podsWithBadIndexes(active, completions!) : undefined;
  if (bad && (bad.remove.length > 0 || active.length > want)) {
    const surplus = [...bad.remove, ...[...bad.keep].sort(comparePodsForDeletion)].slice(0, Math.min(MAX_PODS_PER_PASS, Math.max(bad.remove.length, active.length - want)));
    commands.push({ type: "deletePods", pods: surplus, reason: bad.remove.length > 0 ? "repeated or invalid completion indexes" : "too many active pods" });
    status.active = active.length - surplus.length;
  } else if (active.length > want) {
    const surplus = [...active].sort(comparePodsForDeletion).slice(0, Math.min(MAX_PODS_PER_PASS, active.length - want));
    commands.push({ type: "deletePods", pods: surplus, reason: "too many active pods" });
    status.active = active.length - surplus.length;
  } else if (active.length < want) {
    // After failures the next pod waits: 10 s · 2^(n − 1), n the failures since the last success.
    const lastSuccess = Math.max(-Infinity, ...pods.filter((p) => p.status?.phase === "Succeeded").map(finishedAt));
    const failures = pods.filter(isFailedJobPod).map(finishedAt).filter((t) => !(t <= lastSuccess));
    const wait = failures.length > 0 ? Math.min(backoff.maxMs, backoff.baseMs * 2 ** (failures.length - 1)) - (now - Math.max(...failures)) : 0;
    if (wait > 0) requeueAfterMs = requeueAfterMs === undefined ? wait : Math.min(requeueAfterMs, wait);
    else if (completedIndexes) {
      const indexes = firstPendingIndexes(active, completedIndexes, Math.min(MAX_PODS_PER_PASS, want - active.length), completions!);
      if (indexes.length > 0) commands.push({ type: "createPods", count: indexes.length, indexes });
    } else commands.push({ type: "createPods", count: Math.min(MAX_PODS_PER_PASS, want - active.length) });
  }
  return done(requeueAfterMs !== undefined ? { requeueAfterMs: Math.max(1, requeueAfterMs) } : {});
}
