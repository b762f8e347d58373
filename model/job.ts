/**
 * What every part needs to know of a batch/v1 Job: the labels the API puts on its pods, and
 * whether it has finished.
 */
import type { Condition, Job } from "./types.ts";

/** The labels a Job's generated selector is built on (both the current and the legacy names, as Kubernetes sets). */
export const JOB_LABELS = {
  controllerUid: "batch.kubernetes.io/controller-uid",
  legacyControllerUid: "controller-uid",
  jobName: "batch.kubernetes.io/job-name",
  legacyJobName: "job-name",
} as const;

/** The finalizer on every pod a Job creates, until the job controller has counted the pod. */
export const JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking";

/** The condition that ended the job (`Complete` or `Failed`, status True), if it has ended. */
export function finishedCondition(job: Job): Condition | undefined {
  return job.status?.conditions?.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
}

/** A CronJob's parsed schedule: the times it fires, in order (runtime/cron.ts parses one). */
export interface Schedule {
  /** The first time it fires strictly after `after`, or undefined when it never does again. */
  next(after: Date): Date | undefined;
  /** The last time it fired strictly before `before`, or undefined when it never did (or cannot tell: `@every`). */
  previous(before: Date): Date | undefined;
  /** The last time it fires after `after` and at or before `upTo`, or undefined when there is none. */
  mostRecent(after: Date, upTo: Date): Date | undefined;
}
