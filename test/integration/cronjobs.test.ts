/**
 * batch/v1 CronJobs through the whole control plane, on a clock of the test's own: the CronJob
 * controller reads `cronJobNow`, which the test moves forward a minute at a time, then pokes the
 * CronJob (an annotation) so a pass runs at once. Jobs, pods and node agents (hollow runtime)
 * are the real ones.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HOLLOW_ANNOTATIONS, HollowRuntime } from "../../runtime/containers/hollow.ts";
import { ApiError } from "../../model/errors.ts";
import { SCHEDULED_TIMESTAMP_ANNOTATION } from "../../actors/cronjob_decide.ts";
import type { Job } from "../../model/types.ts";

let t: TestApi;
let cp: ControlPlane;
let agent: NodeAgent;
/**
 * The CronJob controller's clock, frozen between moves: its own timers then find nothing new due,
 * and only the test's moves (past the next whole minute, so past every CronJob made so far)
 * make a run due.
 */
let clockMs = Date.now();
const clock = () => clockMs;

function cronJobObject(name: string, spec: Record<string, unknown> = {}, runFor = 0.05): unknown {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { name },
    spec: {
      schedule: "* * * * *",
      ...spec,
      jobTemplate: {
        metadata: { labels: { cron: name } },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { annotations: { [HOLLOW_ANNOTATIONS.runFor]: String(runFor) } },
            spec: { restartPolicy: "Never", containers: [{ name: "c", image: "berth/busybox:latest", command: ["true"] }] },
          },
        },
      },
    },
  };
}

const getCj = (name: string) => t.api.get("cronjobs", name, "default");
const jobsOf = async (name: string): Promise<Job[]> => (await t.api.list("jobs", { namespace: "default", labelSelector: `cron=${name}` })).items;
const finished = (j: Job, type: string) => j.status?.conditions?.some((c) => c.type === type && c.status === "True");
const passesOf = (name: string) => cp.cronJobs.controllers.get(`default/${name}`)?.actor.getSnapshot().context.passes ?? 0;

/** Sets the clock back to real time before a CronJob is made, so no run of it is due until the test moves the clock. */
const realClock = () => void (clockMs = Date.now());

const idle = (name: string) => {
  const state = cp.cronJobs.controllers.get(`default/${name}`)?.actor.getSnapshot().value;
  return state !== undefined && state !== "working";
};

/**
 * Moves the controller's clock 1 s past the next whole minute (of the clock or of real time,
 * whichever is later) and makes it look at `name`; resolves once a pass that began after the
 * move has finished.
 */
async function nextMinute(name: string): Promise<void> {
  await waitFor(async () => idle(name), `${name}'s actor idle`);
  clockMs = Math.floor(Math.max(clockMs, Date.now()) / 60_000) * 60_000 + 61_000;
  const before = passesOf(name);
  await t.api.patch("cronjobs", name, { metadata: { annotations: { "test/poke": String(clockMs) } } }, { namespace: "default" });
  await waitFor(async () => passesOf(name) > before && idle(name), `a pass of ${name}`);
}

beforeAll(async () => {
  t = await startTestApi();
  agent = await startNodeAgent({ client: t.api, runtime: new HollowRuntime(), name: "cron-node", heartbeatIntervalMs: 500 });
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false, jobBackoff: { baseMs: 50, maxMs: 200 }, cronJobNow: clock });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await agent?.stop();
  await t?.stop();
});

describe("the CronJob API", () => {
  it("defaults as Kubernetes and refuses a schedule, a time zone or a name it cannot use", async () => {
    const cj = await t.api.create("cronjobs", cronJobObject("defaults", { suspend: true }), "default");
    expect(cj.spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: true, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    await t.api.delete("cronjobs", "defaults", "default");
    const refused = async (obj: unknown, text: string | RegExp) => {
      const e = await t.api.create("cronjobs", obj, "default").then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).reason).toBe("Invalid");
      expect((e as ApiError).message).toMatch(text);
    };
    await refused(cronJobObject("bad-minute", { schedule: "61 * * * *" }), /spec\.schedule: Invalid value: "61 \* \* \* \*"/);
    await refused(cronJobObject("seconds", { schedule: "*/5 * * * * *" }), "expected exactly 5 fields, found 6");
    await refused(cronJobObject("tz", { timeZone: "Mars/Olympus" }), 'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus');
    await refused(cronJobObject("c".repeat(53)), "metadata.name: Invalid value");
    const always = cronJobObject("always") as { spec: { jobTemplate: { spec: { template: { spec: { restartPolicy: string } } } } } };
    always.spec.jobTemplate.spec.template.spec.restartPolicy = "Always";
    await refused(always, 'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always"');
    // Each Job gets a selector of its own: a template may not name one.
    const selected = cronJobObject("selected") as { spec: { jobTemplate: { spec: Record<string, unknown> } } };
    selected.spec.jobTemplate.spec.selector = { matchLabels: { cron: "selected" } };
    await refused(selected, "spec.jobTemplate.spec.selector: Invalid value");
    const manual = cronJobObject("manual") as { spec: { jobTemplate: { spec: Record<string, unknown> } } };
    manual.spec.jobTemplate.spec.manualSelector = true;
    await refused(manual, "spec.jobTemplate.spec.manualSelector: Unsupported value: true");
  });
});

describe("the CronJob controller", () => {
  it("starts a Job each time the schedule fires, records it, and keeps only the history limit of finished ones", async () => {
    realClock();
    const cj = await t.api.create("cronjobs", cronJobObject("every-minute", { successfulJobsHistoryLimit: 1 }), "default");
    await nextMinute("every-minute");
    const [first] = await waitFor(async () => {
      const js = await jobsOf("every-minute");
      return js.length === 1 ? js : null;
    }, "the first job");
    const due = Date.parse(first.metadata.annotations![SCHEDULED_TIMESTAMP_ANNOTATION]);
    expect(first.metadata.name).toBe(`every-minute-${due / 60_000}`);
    expect(first.metadata.ownerReferences?.[0]).toMatchObject({ kind: "CronJob", uid: cj.metadata.uid, controller: true });
    await waitFor(async () => finished((await jobsOf("every-minute"))[0], "Complete"), "the first job complete", 20_000);
    const after = await waitFor(async () => {
      const c = await getCj("every-minute");
      return c.status?.lastSuccessfulTime && !c.status.active?.length ? c : null;
    }, "lastSuccessfulTime, nothing active", 20_000);
    expect(after.status?.lastScheduleTime).toBe(new Date(due).toISOString().replace(/\.\d{3}Z$/, "Z"));

    await nextMinute("every-minute");
    // The second run completes; with a history of 1 the first job then goes.
    await waitFor(async () => {
      const js = await jobsOf("every-minute");
      return js.length === 1 && js[0].metadata.uid !== first.metadata.uid && finished(js[0], "Complete");
    }, "only the second job left, complete", 20_000);
    // Events are written in the background: wait for them.
    const reasons = async () => new Set((await t.api.list("events", { namespace: "default", fieldSelector: `involvedObject.uid=${cj.metadata.uid}` })).items.map((e) => e.reason));
    await waitFor(async () => {
      const seen = await reasons();
      return ["SuccessfulCreate", "SawCompletedJob", "SuccessfulDelete"].every((r) => seen.has(r));
    }, "the CronJob's SuccessfulCreate, SawCompletedJob and SuccessfulDelete events");
  }, 60_000);

  it("Forbid skips a run while one is active; Replace replaces it; no run's Job is ever made twice", async () => {
    const w = await t.api.watch("jobs", { namespace: "default", labelSelector: "cron=exclusive" });
    const added = new Map<string, number>();
    const watching = (async () => {
      for await (const ev of w) if (ev.type === "ADDED") added.set(ev.object.metadata.name, (added.get(ev.object.metadata.name) ?? 0) + 1);
    })();
    realClock();
    await t.api.create("cronjobs", cronJobObject("exclusive", { concurrencyPolicy: "Forbid" }, 3600), "default");
    await nextMinute("exclusive");
    const [running] = await waitFor(async () => {
      const js = await jobsOf("exclusive");
      return js.length === 1 ? js : null;
    }, "the first exclusive job");
    await waitFor(async () => (await getCj("exclusive")).status?.active?.length === 1, "it is active");
    await nextMinute("exclusive");
    expect((await jobsOf("exclusive")).map((j) => j.metadata.uid)).toEqual([running.metadata.uid]);

    await t.api.patch("cronjobs", "exclusive", { spec: { concurrencyPolicy: "Replace" } }, { namespace: "default" });
    await nextMinute("exclusive");
    const replaced = await waitFor(async () => {
      const js = (await jobsOf("exclusive")).filter((j) => !j.metadata.deletionTimestamp);
      return js.length === 1 && js[0].metadata.uid !== running.metadata.uid ? js[0] : null;
    }, "the running job replaced", 20_000);
    await waitFor(async () => (await getCj("exclusive")).status?.active?.map((r) => r.uid).join() === replaced.metadata.uid, "the new job active");
    // Another minute under Replace: the second replaced by a third, each made once.
    await nextMinute("exclusive");
    await waitFor(async () => (await jobsOf("exclusive")).filter((j) => !j.metadata.deletionTimestamp && j.metadata.uid !== replaced.metadata.uid).length === 1, "the second job replaced", 20_000);
    await waitFor(async () => added.size === 3, "three runs' jobs seen");
    w.stop();
    await watching;
    expect([...added.values()]).toEqual([1, 1, 1]);
  }, 60_000);

  it("a suspended CronJob starts nothing; deleting a CronJob takes its jobs and their pods", async () => {
    realClock();
    await t.api.create("cronjobs", cronJobObject("paused", { suspend: true }), "default");
    await nextMinute("paused");
    expect(await jobsOf("paused")).toEqual([]);
    await t.api.patch("cronjobs", "paused", { spec: { suspend: false } }, { namespace: "default" });
    await nextMinute("paused");
    await waitFor(async () => (await jobsOf("paused")).length === 1, "a job once resumed");

    await t.api.delete("cronjobs", "exclusive", "default");
    await waitFor(async () => (await jobsOf("exclusive")).length === 0, "exclusive's jobs collected", 20_000);
    await waitFor(async () => (await t.api.list("pods", { namespace: "default", labelSelector: "cron=exclusive" })).items.length === 0, "and their pods", 20_000);
  }, 60_000);

  it("a CronJob deleted with propagationPolicy Orphan leaves its jobs, released", async () => {
    realClock();
    await t.api.create("cronjobs", cronJobObject("leaver"), "default");
    await nextMinute("leaver");
    await waitFor(async () => (await jobsOf("leaver")).length === 1, "leaver's job");
    await t.api.delete("cronjobs", "leaver", "default", { propagationPolicy: "Orphan" });
    const [left] = await jobsOf("leaver");
    expect(left.metadata.ownerReferences).toBeUndefined();
    await t.api.delete("jobs", left.metadata.name, "default");
  }, 30_000);
});

