/**
 * The batch/v1 kinds the live page draws, slimmed as view.ts slims the others: a Job to its
 * completions and how it ended, a CronJob to its schedule and runs. A Job names the CronJob that
 * controls it, so the page can list it beneath.
 *
 * Pure: model types in, plain data out; no I/O.
 */
import type { CronJob, Job, LabelSelectorSpec } from "../../model/types.ts";

/** A batch/v1 Job: pods run to completion. */
export interface JobView {
  kind: "Job";
  namespace: string;
  name: string;
  /** Pods that must succeed; absent for a work queue (done once one pod has succeeded and none runs). */
  completions?: number;
  succeeded: number;
  active: number;
  failed: number;
  /** Its state once finished or paused; absent while it runs. */
  condition?: "Complete" | "Failed" | "Suspended";
  /** Why it failed: BackoffLimitExceeded, DeadlineExceeded. */
  reason?: string;
  /** The selector the API generated (or the user's, with manualSelector). */
  selector?: LabelSelectorSpec;
  /** The CronJob that controls it, by name. */
  owner?: string;
}

/** A batch/v1 CronJob: Jobs on a schedule. */
export interface CronJobView {
  kind: "CronJob";
  namespace: string;
  name: string;
  schedule: string;
  timeZone?: string;
  suspend: boolean;
  /** When the latest run was due. */
  lastSchedule?: string;
  /** Its runs that have not finished. */
  active: number;
}

/** A Job slimmed to succeeded of its completions, active, failed and how it ended. */
export function jobView(j: Job): JobView {
  const s = j.status;
  const view: JobView = {
    kind: "Job",
    namespace: j.metadata.namespace ?? "default",
    name: j.metadata.name,
    succeeded: s?.succeeded ?? 0,
    active: s?.active ?? 0,
    failed: s?.failed ?? 0,
  };
  if (j.spec?.completions !== undefined) view.completions = j.spec.completions;
  const holds = (type: string) => s?.conditions?.find((c) => c.type === type && c.status === "True");
  const ended = holds("Failed") ?? holds("Complete") ?? holds("Suspended");
  if (ended) {
    view.condition = ended.type as NonNullable<JobView["condition"]>;
    if (ended.type === "Failed" && ended.reason) view.reason = ended.reason;
  }
  if (j.spec?.selector) view.selector = j.spec.selector;
  const owner = j.metadata.ownerReferences?.find((o) => o.controller && o.kind === "CronJob");
  if (owner) view.owner = owner.name;
  return view;
}

export function cronJobView(c: CronJob): CronJobView {
  const view: CronJobView = {
    kind: "CronJob",
    namespace: c.metadata.namespace ?? "default",
    name: c.metadata.name,
    schedule: c.spec?.schedule ?? "",
    suspend: !!c.spec?.suspend,
    active: c.status?.active?.length ?? 0,
  };
  if (c.spec?.timeZone) view.timeZone = c.spec.timeZone;
  if (c.status?.lastScheduleTime) view.lastSchedule = c.status.lastScheduleTime;
  return view;
}
