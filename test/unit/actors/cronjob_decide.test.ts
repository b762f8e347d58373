import { describe, expect, it } from "vitest";
import { decideCronJob, jobFromTemplate, jobNameFor, rfc3339In, SCHEDULED_TIMESTAMP_ANNOTATION } from "../../../actors/cronjob_decide.ts";
import { parseSchedule, scheduleProblem } from "../../../runtime/cron.ts";
import type { CronJob, Job } from "../../../model/types.ts";

const T0 = Date.parse("2026-12-03T12:00:00Z");
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const MIN = 60_000;

function cronJob(spec: Partial<CronJob["spec"]> = {}, status?: CronJob["status"], created = T0 - 30_000): CronJob {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name: "tick", namespace: "default", uid: "cj-1", creationTimestamp: new Date(created).toISOString() },
    spec: {
      schedule: "*/5 * * * *",
      concurrencyPolicy: "Allow",
      jobTemplate: { metadata: { labels: { app: "tick" } }, spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i" }] } } } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

function child(name: string, uid: string, finished?: "Complete" | "Failed", started = T0): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "default", uid, creationTimestamp: new Date(started).toISOString(), ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "tick", uid: "cj-1", controller: true }] },
    spec: { template: { spec: { containers: [] } } },
    status: {
      startTime: new Date(started).toISOString(),
      ...(finished ? { conditions: [{ type: finished, status: "True", lastTransitionTime: new Date(started + 1000).toISOString() }], ...(finished === "Complete" ? { completionTime: new Date(started + 1000).toISOString() } : {}) } : {}),
    },
  };
}

const every5 = parseSchedule("*/5 * * * *");

describe("schedules (runtime/cron.ts)", () => {
  it("reads Kubernetes' five fields, names and macros, and refuses what robfig/cron refuses", () => {
    for (const ok of ["*/5 * * * *", "0 9 * * MON-FRI", "0 0 1 JAN *", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually", "? * * * *", "5/15 * * * *", "0,30 8-18 * * *"]) {
      expect(scheduleProblem(ok), ok).toBeUndefined();
    }
    expect(scheduleProblem("61 * * * *")).toMatch(/minute/);
    expect(scheduleProblem("*/5 * * * * *")).toMatch(/expected exactly 5 fields, found 6/);
    expect(scheduleProblem("0 0 L * *")).toMatch(/day of month/);
    expect(scheduleProblem("0 0 * * 1#2")).toMatch(/day of week/);
    // As robfig/cron v3: day of week 0-6 only; lower-case macros only; a step beyond the range is its start.
    for (const bad of ["0 0 * * 7", "0 0 * * 1-7", "0 0 * * MON-SUN", "@HOURLY", "*/0 * * * *", "0-70 * * * *", "30-10 * * * *"]) expect(scheduleProblem(bad), bad).toBeDefined();
    for (const ok of ["*/100 * * * *", "0 0 * * SUN-SAT", "@every 5m", "@every 1h30m"]) expect(scheduleProblem(ok), ok).toBeUndefined();
    expect(scheduleProblem("@every")).toBeDefined();
    expect(scheduleProblem("@every 5 minutes")).toMatch(/failed to parse duration/);
    expect(scheduleProblem("TZ=UTC 0 0 * * *")).toBe("cannot use TZ or CRON_TZ in schedule, use timeZone field instead");
    expect(scheduleProblem("0 0 * * *", "Mars/Olympus")).toBe("unknown time zone Mars/Olympus");
  });

  it("*/1 in a day field restricts nothing, so the other day field alone decides (robfig keeps its wildcard)", () => {
    // 2026-12-03 is a Thursday; the next Monday is 2026-12-07.
    const mondays = parseSchedule("0 0 */1 * MON");
    expect(mondays.next(new Date("2026-12-03T12:00:00Z"))?.toISOString()).toBe("2026-12-07T00:00:00.000Z");
    const firsts = parseSchedule("0 0 1 * */1");
    expect(firsts.next(new Date("2026-12-03T12:00:00Z"))?.toISOString()).toBe("2027-01-01T00:00:00.000Z");
    // Both restricted: either matches, as cron does.
    expect(parseSchedule("0 0 1 * MON").next(new Date("2026-12-03T12:00:00Z"))?.toISOString()).toBe("2026-12-07T00:00:00.000Z");
  });

  it("@every counts from the last scheduled time, in whole seconds", () => {
    const every = parseSchedule("@every 90s");
    expect(every.next(new Date("2026-12-03T12:00:00.500Z"))?.toISOString()).toBe("2026-12-03T12:01:30.000Z");
    expect(every.mostRecent(new Date("2026-12-03T12:00:00Z"), new Date("2026-12-03T12:05:00Z"))?.toISOString()).toBe("2026-12-03T12:04:30.000Z");
    expect(every.mostRecent(new Date("2026-12-03T12:00:00Z"), new Date("2026-12-03T12:01:00Z"))).toBeUndefined();
  });

  it("takes time zones as Go spells them, not in any case", () => {
    expect(scheduleProblem("0 0 * * *", "Europe/Oslo")).toBeUndefined();
    expect(scheduleProblem("0 0 * * *", "UTC")).toBeUndefined();
    expect(scheduleProblem("0 0 * * *", "europe/oslo")).toBe("unknown time zone europe/oslo");
    expect(scheduleProblem("0 0 * * *", "utc")).toBe("unknown time zone utc");
  });

  it("fires in the time zone given", () => {
    const nine = parseSchedule("0 9 * * *", "Asia/Tokyo");
    expect(nine.next(new Date("2026-12-03T01:00:00Z"))?.toISOString()).toBe("2026-12-04T00:00:00.000Z");
    expect(nine.previous(new Date("2026-12-03T01:00:00Z"))?.toISOString()).toBe("2026-12-03T00:00:00.000Z");
  });
});

describe("decideCronJob", () => {
  it("runs nothing before the first time after its creation, then asks for a pass just after it", () => {
    // Made at 12:00:30: 12:00 was before it; the first run is 12:05.
    const d = decideCronJob({ cronJob: cronJob({}, undefined, T0 + 30_000), jobs: [], schedule: every5, now: T0 + MIN });
    expect(d.create).toBeUndefined();
    expect(d.requeueAfterMs).toBe(4 * MIN + 100);
  });

  it("starts the run that is due, named by its minute, and records it as the last scheduled", () => {
    const due = T0 + 5 * MIN;
    const d = decideCronJob({ cronJob: cronJob(), jobs: [], schedule: every5, now: due + 2000 });
    expect(d.create).toEqual({ name: `tick-${due / MIN}`, scheduledTime: iso(due) });
    expect(d.status.lastScheduleTime).toBe(iso(due));
    const job = jobFromTemplate(cronJob(), due);
    expect(job.metadata).toMatchObject({ name: jobNameFor(cronJob(), due), labels: { app: "tick" }, annotations: { [SCHEDULED_TIMESTAMP_ANNOTATION]: iso(due) } });
    expect(job.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", uid: "cj-1", controller: true });
    // Once recorded, the same run is not due again.
    expect(decideCronJob({ cronJob: cronJob({}, { lastScheduleTime: iso(due) }), jobs: [], schedule: every5, now: due + 3000 }).create).toBeUndefined();
  });

  it("after a long outage runs only the latest missed time, warning when more than 100 were missed", () => {
    const now = T0 + 1000 * MIN;
    const d = decideCronJob({ cronJob: cronJob(), jobs: [], schedule: every5, now });
    expect(d.create?.scheduledTime).toBe(iso(T0 + 1000 * MIN));
    expect(d.events.map((e) => e.reason)).toEqual(["TooManyMissedTimes"]);
    // startingDeadlineSeconds bounds how far back it looks: no warning, and a run too late is skipped.
    const bounded = decideCronJob({ cronJob: cronJob({ startingDeadlineSeconds: 60 }), jobs: [], schedule: every5, now: T0 + 1002 * MIN });
    expect(bounded.create).toBeUndefined();
    expect(bounded.events).toEqual([]);
  });

  it("Forbid waits while a run is active; Replace deletes the active one; Allow runs beside it", () => {
    const running = child("tick-old", "j-1");
    const status = { active: [{ apiVersion: "batch/v1", kind: "Job", name: "tick-old", namespace: "default", uid: "j-1" }], lastScheduleTime: iso(T0) };
    const at = T0 + 5 * MIN + 1000;
    const forbid = decideCronJob({ cronJob: cronJob({ concurrencyPolicy: "Forbid" }, status), jobs: [running], schedule: every5, now: at });
    expect(forbid.create).toBeUndefined();
    expect(forbid.status.lastScheduleTime).toBe(iso(T0));
    const replace = decideCronJob({ cronJob: cronJob({ concurrencyPolicy: "Replace" }, status), jobs: [running], schedule: every5, now: at });
    expect(replace.deleteJobs).toEqual([{ job: running, why: "replaced" }]);
    expect(replace.create).toBeDefined();
    expect(replace.status.active ?? []).toEqual([]);
    const allow = decideCronJob({ cronJob: cronJob({}, status), jobs: [running], schedule: every5, now: at });
    expect(allow.create).toBeDefined();
    expect(allow.status.active).toHaveLength(1);
  });

  it("keeps status.active to unfinished jobs, moves lastSuccessfulTime, and keeps only the history limits", () => {
    const jobs = [1, 2, 3, 4].map((i) => child(`tick-${i}`, `c-${i}`, "Complete", T0 + i * MIN)).concat([child("tick-f1", "f-1", "Failed", T0), child("tick-f2", "f-2", "Failed", T0 + MIN)]);
    const status = { active: [{ apiVersion: "batch/v1", kind: "Job", name: "tick-4", namespace: "default", uid: "c-4" }, { apiVersion: "batch/v1", kind: "Job", name: "tick-gone", namespace: "default", uid: "gone-1" }, { apiVersion: "batch/v1", kind: "Job", name: "tick-lagging", namespace: "default", uid: "lag-1" }] };
    const d = decideCronJob({ cronJob: cronJob({ suspend: true }, status), jobs, gone: new Set(["gone-1"]), schedule: every5, now: T0 + 10 * MIN });
    // The finished one leaves, the confirmed-gone one leaves; one not in the cache but not confirmed gone stays.
    expect(d.status.active?.map((r) => r.uid)).toEqual(["lag-1"]);
    expect(d.status.lastSuccessfulTime).toBe(new Date(T0 + 4 * MIN + 1000).toISOString());
    expect(d.events).toEqual([{ eventType: "Normal", reason: "SawCompletedJob", message: "Saw completed job: tick-4, status: Complete" }]);
    expect(d.deleteJobs.map((x) => x.job.metadata.name)).toEqual(["tick-1", "tick-f1"]);
    expect(d.create).toBeUndefined(); // suspended
  });

  it("a run whose Job exists already is done: recorded, never replaced, pruned or made again (a lost status write, a lagging copy)", () => {
    const due = T0 + 5 * MIN;
    const ours = { ...child(jobNameFor(cronJob(), due), "j-due"), metadata: { ...child(jobNameFor(cronJob(), due), "j-due").metadata, annotations: { [SCHEDULED_TIMESTAMP_ANNOTATION]: iso(due) } } };
    // Replace, from a copy of the CronJob that does not show the run recorded.
    const replace = decideCronJob({ cronJob: cronJob({ concurrencyPolicy: "Replace" }, { lastScheduleTime: iso(T0) }), jobs: [ours], schedule: every5, now: due + 1000 });
    expect(replace.create).toBeUndefined();
    expect(replace.deleteJobs).toEqual([]);
    expect(replace.status).toMatchObject({ lastScheduleTime: iso(due), active: [expect.objectContaining({ uid: "j-due" })] });
    // A history of 0 and the run's Job finished: pruned, but not made again in the same pass.
    const finishedRun = { ...ours, status: child("x", "x", "Complete", due).status };
    const pruned = decideCronJob({ cronJob: cronJob({ successfulJobsHistoryLimit: 0 }, { lastScheduleTime: iso(T0) }), jobs: [finishedRun], schedule: every5, now: due + 1000 });
    expect(pruned.create).toBeUndefined();
  });

  it("a Job made by hand from the template (kubectl create job --from) is not one of its active runs", () => {
    const manual = { ...child("tick-manual", "m-1"), metadata: { ...child("tick-manual", "m-1").metadata, annotations: { "cronjob.kubernetes.io/instantiate": "manual" } } };
    const d = decideCronJob({ cronJob: cronJob({ concurrencyPolicy: "Replace" }, { lastScheduleTime: iso(T0) }), jobs: [manual], schedule: every5, now: T0 + 5 * MIN + 1000 });
    expect(d.status.active ?? []).toEqual([]);
    expect(d.deleteJobs).toEqual([]);
    expect(d.create).toBeDefined();
  });

  it("writes a run's scheduled time in the CronJob's time zone, as Kubernetes", () => {
    expect(rfc3339In(Date.parse("2026-12-03T00:00:00Z"), "Asia/Tokyo")).toBe("2026-12-03T09:00:00+09:00");
    expect(rfc3339In(Date.parse("2026-12-03T00:00:00Z"), "UTC")).toBe("2026-12-03T00:00:00Z");
    expect(jobFromTemplate(cronJob({ timeZone: "Asia/Kolkata" }), Date.parse("2026-12-03T00:00:00Z")).metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION]).toBe("2026-12-03T05:30:00+05:30");
  });

  it("an unparseable schedule runs nothing and says why", () => {
    const d = decideCronJob({ cronJob: cronJob({ schedule: "bad" }), jobs: [], schedule: new Error("expected exactly 5 fields, found 1: bad"), now: T0 + 10 * MIN });
    expect(d.create).toBeUndefined();
    expect(d.events[0]).toMatchObject({ eventType: "Warning", reason: "UnparseableSchedule" });
  });
});
