/**
 * What the CronJob controller does about one CronJob, decided from it and the Jobs it controls —
 * pure, as Kubernetes' cronjob controller's syncCronJob without its API calls:
 *
 *   1. status.active: the Jobs it controls that have not finished (a finished one leaves it; a
 *      Complete one moves lastSuccessfulTime); references to Jobs confirmed gone are dropped
 *   2. finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit: the oldest go
 *   3. suspended, or being deleted: nothing new
 *   4. the most recent time the schedule fired since lastScheduleTime (or since the CronJob was
 *      made), not longer ago than startingDeadlineSeconds: that run is due
 *        Forbid  + something active → not now (it runs late, once the active one has finished,
 *                                    if still within the deadline)
 *        Replace + something active → the active Jobs are deleted first
 *      the Job is `<name>-<scheduled time in minutes since the epoch>`: a run whose Job is already
 *      there (a status write lost, or a lagging copy of the CronJob) is recorded as done, never
 *      made again, replaced or pruned in that pass
 *   5. look again at the next time the schedule fires
 */
import { finishedCondition } from "../model/job.ts";
import type { Schedule } from "../model/job.ts";
import { jsonEqual } from "../model/json_equal.ts";
import type { CronJob, CronJobStatus, Job, ObjectReference } from "../model/types.ts";

/** The annotation a CronJob's Job carries: the time its run was due (RFC 3339). */
export const SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp";
/** Missed runs beyond which a Warning is recorded (Kubernetes' 100). */
export const TOO_MANY_MISSED = 100;
/** Kubernetes requeues a little after the next scheduled time, so that it is past when the pass runs. */
const NEXT_SCHEDULE_DELTA_MS = 100;

export interface CronJobEvent {
  eventType: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface CronJobInput {
  cronJob: CronJob;
  /** The Jobs this CronJob controls (controller reference to its uid). */
  jobs: readonly Job[];
  /** Uids of `status.active` references confirmed gone (a live read found no such Job). */
  gone?: ReadonlySet<string>;
  /** The parsed schedule, or why it does not parse. */
  schedule: Schedule | Error;
  now: number;
}

export interface CronJobDecision {
  status: CronJobStatus;
  /** Recorded once `status` is written. */
  events: CronJobEvent[];
  /** A run is due: make this Job (then `status` names it active and sets lastScheduleTime). */
  create?: { name: string; scheduledTime: string };
  /** Jobs to delete: active ones a Replace run replaces, finished ones beyond the history limits. */
  deleteJobs: { job: Job; why: "replaced" | "history" }[];
  requeueAfterMs?: number;
}

const rfc3339 = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `ms` as RFC 3339 in the time zone `tz` (`2026-12-03T09:00:00+09:00`), as Kubernetes writes a run's scheduled time; UTC without one. */
export function rfc3339In(ms: number, tz: string | undefined): string {
  if (!tz) return rfc3339(ms);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "longOffset" })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  // Go's RFC 3339 writes a zero offset as Z, whatever the zone.
  const offset = parts.timeZoneName === "GMT" || parts.timeZoneName === "GMT+00:00" ? "Z" : parts.timeZoneName.replace(/^GMT/, "");
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${offset}`;
}

/** The reference status.active keeps for a Job. */
export function jobReference(job: Job): ObjectReference {
  return { apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, namespace: job.metadata.namespace, uid: job.metadata.uid, resourceVersion: job.metadata.resourceVersion };
}

/** The name of the Job of a run due at `scheduled` (ms): Kubernetes' `<name>-<minutes since the epoch>`. */
export function jobNameFor(cronJob: CronJob, scheduled: number): string {
  return `${cronJob.metadata.name}-${Math.floor(scheduled / 60_000)}`;
}

/** The Job of a run due at `scheduled` (ms), from the template, controlled by the CronJob. */
export function jobFromTemplate(cronJob: CronJob, scheduled: number): Job {
  const t = cronJob.spec.jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: jobNameFor(cronJob, scheduled),
      namespace: cronJob.metadata.namespace,
      ...(t.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}),
      annotations: { ...(t.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduled, cronJob.spec.timeZone) },
      ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: cronJob.metadata.name, uid: cronJob.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(t.spec),
  };
}

const startOf = (j: Job) => Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp ?? "") || 0;

export function decideCronJob(input: CronJobInput): CronJobDecision {
  const { cronJob, jobs, now } = input;
  const gone = input.gone ?? new Set<string>();
  const prev = cronJob.status ?? {};
  const events: CronJobEvent[] = [];
  const deleteJobs: CronJobDecision["deleteJobs"] = [];
  const byUid = new Map(jobs.map((j) => [j.metadata.uid, j] as const));

  // 1. What is active: unfinished Jobs it controls; a reference to a Job not (yet) in the cache stays until it is confirmed gone.
  let active: ObjectReference[] = (prev.active ?? []).filter((r) => {
    const j = r.uid ? byUid.get(r.uid) : undefined;
    return j ? !finishedCondition(j) : !gone.has(r.uid ?? "");
  });
  let lastSuccessfulTime = prev.lastSuccessfulTime;
  for (const j of jobs) {
    const done = finishedCondition(j);
    // Only runs it made count as active (they carry their scheduled time); a Job made by hand
    // from its template (`kubectl create job --from=cronjob/…`) does not, as in Kubernetes.
    const scheduledRun = j.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION] !== undefined;
    if (!done && scheduledRun && !active.some((r) => r.uid === j.metadata.uid)) active.push(jobReference(j));
    if (done && (prev.active ?? []).some((r) => r.uid === j.metadata.uid)) {
      events.push({ eventType: "Normal", reason: "SawCompletedJob", message: `Saw completed job: ${j.metadata.name}, status: ${done.type}` });
    }
    if (done?.type === "Complete") {
      const at = j.status?.completionTime ?? done.lastTransitionTime;
      if (at && (!lastSuccessfulTime || Date.parse(at) > Date.parse(lastSuccessfulTime))) lastSuccessfulTime = at;
    }
  }

  // 2. History: the oldest finished Jobs beyond the limits go.
  const over = (kind: "Complete" | "Failed", limit: number | undefined) => {
    const finished = jobs.filter((j) => finishedCondition(j)?.type === kind && !j.metadata.deletionTimestamp).sort((a, b) => startOf(a) - startOf(b));
    const keep = limit ?? (kind === "Complete" ? 3 : 1);
    for (const job of finished.slice(0, Math.max(0, finished.length - keep))) deleteJobs.push({ job, why: "history" });
  };
  over("Complete", cronJob.spec.successfulJobsHistoryLimit);
  over("Failed", cronJob.spec.failedJobsHistoryLimit);

  const status: CronJobStatus = { ...prev, active, ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}) };
  const result = (extra: Partial<CronJobDecision> = {}): CronJobDecision => {
    const s = { ...status, active: status.active?.length ? status.active : undefined };
    if (!s.active) delete s.active;
    return { status: s, events, deleteJobs, ...extra };
  };

  // 3. Nothing new while suspended or being deleted.
  if (cronJob.metadata.deletionTimestamp || cronJob.spec.suspend) return result();
  const schedule = input.schedule;
  if (schedule instanceof Error) {
    events.push({ eventType: "Warning", reason: "UnparseableSchedule", message: `unparseable schedule: ${JSON.stringify(cronJob.spec.schedule)} : ${schedule.message}` });
    return result();
  }

  // 4. The most recent time the schedule fired that has not had its run.
  const created = Date.parse(cronJob.metadata.creationTimestamp ?? "");
  let earliest = prev.lastScheduleTime ? Date.parse(prev.lastScheduleTime) : created;
  const sds = cronJob.spec.startingDeadlineSeconds;
  if (sds !== undefined) earliest = Math.max(earliest, now - sds * 1000);
  const nextAfterNow = schedule.next(new Date(now));
  const requeue = nextAfterNow ? Math.max(1, nextAfterNow.getTime() - now + NEXT_SCHEDULE_DELTA_MS) : undefined;
  const due = Number.isNaN(earliest) ? undefined : schedule.mostRecent(new Date(earliest), new Date(now));
  if (!due) return result(requeue !== undefined ? { requeueAfterMs: requeue } : {});
  let missed = 0;
  for (let t = schedule.next(new Date(earliest)); t && t.getTime() <= now && missed <= TOO_MANY_MISSED; t = schedule.next(t)) missed++;
  if (missed > TOO_MANY_MISSED) {
    events.push({ eventType: "Warning", reason: "TooManyMissedTimes", message: `too many missed start times: > ${TOO_MANY_MISSED}. Set or decrease .spec.startingDeadlineSeconds or check clock skew` });
  }
  const scheduled = due.getTime();
  const name = jobNameFor(cronJob, scheduled);

  // This run's Job exists (made by a pass whose status write was lost, or that this cache of the
  // CronJob does not show yet): the run is done — recorded, never made again, replaced or pruned.
  const made = jobs.find((j) => j.metadata.name === name);
  if (made) {
    const keep = (list: CronJobDecision["deleteJobs"]) => list.filter((d) => d.job.metadata.uid !== made.metadata.uid);
    deleteJobs.splice(0, deleteJobs.length, ...keep(deleteJobs));
    status.lastScheduleTime = rfc3339(scheduled);
    return result(requeue !== undefined ? { requeueAfterMs: requeue } : {});
  }

  if (cronJob.spec.concurrencyPolicy === "Forbid" && active.length > 0) {
    // Not now: when the active one finishes its change brings a pass, and the run starts late.
    return result(requeue !== undefined ? { requeueAfterMs: requeue } : {});
  }
  if (cronJob.spec.concurrencyPolicy === "Replace" && active.length > 0) {
    for (const r of active) {
      const j = r.uid ? byUid.get(r.uid) : undefined;
      if (j && !j.metadata.deletionTimestamp) deleteJobs.push({ job: j, why: "replaced" });
    }
    active = [];
  }
  status.active = active;
  status.lastScheduleTime = rfc3339(scheduled);
  return result({ create: { name, scheduledTime: rfc3339(scheduled) }, ...(requeue !== undefined ? { requeueAfterMs: requeue } : {}) });
}

/** True when `a` and `b` are the same status (what a pass compares before writing). */
export function sameCronJobStatus(a: CronJobStatus | undefined, b: CronJobStatus): boolean {
  const norm = (s: CronJobStatus | undefined) => ({ ...s, active: (s?.active ?? []).map((r) => ({ ...r, resourceVersion: undefined })) });
  return jsonEqual(norm(a), norm(b));
}
