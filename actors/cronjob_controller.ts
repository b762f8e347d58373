/**
 * The CronJob controller: one work loop per CronJob (owner_loops.ts, which also indexes the Jobs
 * by their CronJob's uid), each pass
 *
 *   read the CronJob + the Jobs it controls (an index by controller uid, fed by the job informer)
 *   active references the cache does not show: a live read confirms they are gone
 *   decideCronJob (pure, cronjob_decide.ts) ──▶ Job deletes (replaced, beyond history)
 *                                           ──▶ the due run's Job create
 *                                           ──▶ the status write, then its events
 *
 * The schedule is parsed by an injected function (runtime/cron.ts), so this actor imports no
 * cron library. The status write is a compare-and-swap at the version the pass read; a Job's
 * name is fixed by its scheduled time, so a pass repeated after a lost status write finds the
 * Job it made (AlreadyExists) instead of running the schedule twice. Woken by changes to the
 * CronJob and to its Jobs, and at the next time the schedule fires. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { finishedCondition, type Schedule } from "../model/job.ts";
import type { Log } from "../model/log.ts";
import type { CronJob, Job } from "../model/types.ts";
import { startOwnerLoops } from "./owner_loops.ts";
import { decideCronJob, jobFromTemplate, jobReference, sameCronJobStatus } from "./cronjob_decide.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import type { WorkLoop } from "./work_loop.ts";

export interface CronJobControllerDeps {
  client: ApiClient;
  cronJobs: Informer<"cronjobs">;
  jobs: Informer<"jobs">;
  recorder: EventRecorder;
  /** Parses a schedule in a time zone (runtime/cron.ts); throws when it is not one. */
  parseSchedule: (schedule: string, timeZone?: string) => Schedule;
  log?: Log;
  now?: () => number;
}

export interface CronJobController {
  loop: WorkLoop;
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  stop(): void;
}

const lostRace = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound");
const cronJobOf = (j: Job) => j.metadata.ownerReferences?.find((o) => o.controller && o.kind === "CronJob");

/** Starts the manager and one actor per CronJob; the informers must already be started. */
export function startCronJobController(deps: CronJobControllerDeps): CronJobController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  /** Parsed schedules by schedule and time zone. */
  const schedules = new Map<string, Schedule | Error>();

  function scheduleOf(cj: CronJob): Schedule | Error {
    const k = `${cj.spec.timeZone ?? ""}\u0000${cj.spec.schedule}`;
    let s = schedules.get(k);
    if (!s) {
      try {
        s = deps.parseSchedule(cj.spec.schedule, cj.spec.timeZone);
      } catch (e) {
        s = e instanceof Error ? e : new Error(String(e));
      }
      if (schedules.size > 1000) schedules.clear();
      schedules.set(k, s);
    }
    return s;
  }

  /** Active references the cache does not show, confirmed gone by a live read. */
  async function goneRefs(cj: CronJob, jobs: readonly Job[]): Promise<Set<string>> {
    const gone = new Set<string>();
    for (const r of cj.status?.active ?? []) {
      if (!r.uid || !r.name || jobs.some((j) => j.metadata.uid === r.uid)) continue;
      try {
        const live = await deps.client.get("jobs", r.name, r.namespace ?? cj.metadata.namespace);
        if (live.metadata.uid !== r.uid) gone.add(r.uid);
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
        gone.add(r.uid);
      }
    }
    return gone;
  }

  async function pass(key: string, jobsOf: (uid: string) => Job[]): Promise<{ requeueAfterMs?: number }> {
    const cj = deps.cronJobs.get(key);
    if (!cj) return {};
    const ns = cj.metadata.namespace;
    const jobs = jobsOf(cj.metadata.uid!);
    const decision = decideCronJob({ cronJob: cj, jobs, gone: await goneRefs(cj, jobs), schedule: scheduleOf(cj), now: now() });
    const status = decision.status;
    const after: (() => void)[] = [];

    for (const { job, why } of decision.deleteJobs) {
      try {
        await deps.client.delete("jobs", job.metadata.name, ns, { propagationPolicy: "Background", preconditions: { uid: job.metadata.uid } });
        deps.recorder.record(cj, "Normal", "SuccessfulDelete", `Deleted job ${job.metadata.name}`);
        if (why === "replaced") log("replaced an active job (concurrencyPolicy Replace)", { cronJob: key, job: job.metadata.name });
      } catch (err) {
        if (!lostRace(err)) throw err;
      }
    }

    if (decision.create) {
      const { name, scheduledTime } = decision.create;
      let made: Job | undefined;
      try {
        made = await deps.client.create("jobs", jobFromTemplate(cj, Date.parse(scheduledTime)), ns);
        after.push(() => deps.recorder.record(cj, "Normal", "SuccessfulCreate", `Created job ${name}`));
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "AlreadyExists")) {
          deps.recorder.record(cj, "Warning", "FailedCreate", `Error creating job: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        }
        // Made by an earlier pass whose status write was lost, or someone else's of that name.
        const existing = await deps.client.get("jobs", name, ns);
        if (cronJobOf(existing)?.uid === cj.metadata.uid) made = existing;
        // Someone else's Job has the run's name: the run is skipped (recorded, not tried again), as Kubernetes does.
        else deps.recorder.record(cj, "Warning", "FailedCreate", `Error creating job: a job named ${name} exists and is not controlled by this CronJob`);
      }
      if (made && !finishedCondition(made) && !(status.active ?? []).some((r) => r.uid === made!.metadata.uid)) status.active = [...(status.active ?? []), jobReference(made)];
    }

    if (!sameCronJobStatus(cj.status, status)) await deps.client.updateStatus("cronjobs", { ...cj, status });
    for (const e of decision.events) deps.recorder.record(cj, e.eventType, e.reason, e.message);
    for (const f of after) f();
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
  }

  // One loop per CronJob, its Jobs indexed by their controller's uid; a CronJob deleted and made
  // again under its name gets a new loop.
  const loops = startOwnerLoops<CronJob, Job>({ name: "cronjob", owners: deps.cronJobs, children: deps.jobs, ownerKind: "CronJob", pass, lostRace, log });

  return { loop: loops.loop, controllers: loops.controllers, stop: () => loops.stop() };
}
