import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideJob, MAX_PODS_PER_PASS, planTracking, settleCounts, withUncounted, type JobDecision } from "../../../actors/job_decide.ts";
import { JOB_TRACKING_FINALIZER } from "../../../model/job.ts";
import type { Job, Pod } from "../../../model/types.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString();

function job(spec: Partial<Job["spec"]> = {}, status?: Job["status"]): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "j", namespace: "default", uid: "u-1", creationTimestamp: at(60_000) },
    spec: { parallelism: 1, completions: 1, backoffLimit: 6, template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "i" }] } }, ...spec },
    ...(status ? { status } : {}),
  };
}

let n = 0;
function pod(phase: string, extra: { restarts?: number; finishedMsAgo?: number; deleting?: boolean; tracked?: boolean } = {}): Pod {
  n++;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `p${n}`, namespace: "default", uid: `pu${n}`, creationTimestamp: at(30_000),
      ...(extra.deleting ? { deletionTimestamp: at(0) } : {}),
      ...(extra.tracked === false ? {} : { finalizers: [JOB_TRACKING_FINALIZER] }),
    },
    spec: { containers: [{ name: "c", image: "i" }] },
    status: {
      phase: phase as "Running",
      conditions: [{ type: "Ready", status: phase === "Running" ? "True" : "False" }],
      containerStatuses: [{
        name: "c", ready: phase === "Running", restartCount: extra.restarts ?? 0, image: "i",
        state: extra.finishedMsAgo !== undefined ? { terminated: { exitCode: phase === "Failed" ? 1 : 0, finishedAt: at(extra.finishedMsAgo) } } : { running: { startedAt: at(20_000) } },
      }],
    },
  } as Pod;
}

const creates = (d: JobDecision) => d.commands.filter((c) => c.type === "createPods").reduce((s, c) => s + (c.type === "createPods" ? c.count : 0), 0);
const deletes = (d: JobDecision) => d.commands.flatMap((c) => (c.type === "deletePods" ? c.pods : []));
const cond = (d: JobDecision, type: string) => d.status.conditions?.find((c) => c.type === type && c.status === "True");

/** The whole counting step as the controller runs it, every finalizer coming off at once. */
function counted(j: Job, pods: Pod[]): Job {
  const plan = planTracking(j, pods);
  const recorded = withUncounted(j.status, plan.record);
  return { ...j, status: settleCounts(recorded, pods, new Set(plan.release.map((p) => p.metadata.uid!))) };
}

describe("counting finished pods (the job-tracking finalizer)", () => {
  it("records finished pods as uncounted first, and counts them once their finalizer is off or they are gone", () => {
    const ok = pod("Succeeded", { finishedMsAgo: 1 });
    const bad = pod("Failed", { finishedMsAgo: 1 });
    const killed = pod("Running", { deleting: true });
    const running = pod("Running");
    const plan = planTracking(job(), [ok, bad, killed, running]);
    expect(plan.record).toEqual({ succeeded: [ok.metadata.uid], failed: [bad.metadata.uid, killed.metadata.uid] });
    expect(plan.release.map((p) => p.metadata.name)).toEqual([ok, bad, killed].map((p) => p.metadata.name));
    const recorded = withUncounted(undefined, plan.record);
    // Only `ok`'s finalizer came off; `bad` is gone; `killed` still holds its finalizer.
    const settled = settleCounts(recorded, [ok, killed, running], new Set([ok.metadata.uid!]));
    expect(settled).toMatchObject({ succeeded: 1, failed: 1, uncountedTerminatedPods: { succeeded: [], failed: [killed.metadata.uid] } });
    // Next pass: `killed` is uncounted already: released, not recorded again.
    const next = planTracking(job({}, settled), [killed, running]);
    expect(next.record).toEqual({ succeeded: [], failed: [] });
    expect(next.release).toEqual([killed]);
  });

  it("counts a pod once: not again while the cache still shows the finalizer this controller took off", () => {
    const ok = pod("Succeeded", { finishedMsAgo: 1 });
    const once = counted(job({ completions: 3 }), [ok]);
    expect(once.status?.succeeded).toBe(1);
    // The pod cache lags: the pod still shows its finalizer; the controller remembers it released it.
    expect(planTracking(once, [ok], new Set([ok.metadata.uid!]))).toEqual({ record: { succeeded: [], failed: [] }, release: [] });
  });

  it("keeps counts whatever happens to counted pods afterwards (deleted by hand, then more finish)", () => {
    let j = counted(job({ completions: 3 }), [pod("Succeeded", { finishedMsAgo: 1 })]);
    // The counted pod is deleted; a second one succeeds.
    j = counted(j, [pod("Succeeded", { finishedMsAgo: 1 })]);
    expect(j.status?.succeeded).toBe(2);
    expect(creates(decideJob({ job: j, pods: [], now: NOW }))).toBe(1);
    let f = job({ backoffLimit: 2 });
    for (let i = 0; i < 3; i++) f = counted(f, [pod("Failed", { finishedMsAgo: 1 })]);
    expect(f.status?.failed).toBe(3);
    expect(cond(decideJob({ job: f, pods: [], now: NOW }), "Failed")).toMatchObject({ reason: "BackoffLimitExceeded" });
  });

  it("once the job has finished, every pod not succeeded counts as failed; untracked pods are not counted", () => {
    const finished = job({}, { conditions: [{ type: "Failed", status: "True" }] });
    const running = pod("Running");
    const untracked = pod("Succeeded", { finishedMsAgo: 1, tracked: false });
    expect(planTracking(finished, [running, untracked]).record).toEqual({ succeeded: [], failed: [running.metadata.uid] });
  });

  it("property: every finished tracked pod is counted exactly once, in whatever order passes see it and finalizers come off", () => {
    fc.assert(fc.property(
      fc.array(fc.record({ ok: fc.boolean(), seenAt: fc.nat(5), offAt: fc.nat(5), goneAt: fc.nat(8) }), { maxLength: 12 }),
      fc.nat(),
      (specs, seed) => {
        const pods = specs.map((s) => ({ s, p: pod(s.ok ? "Succeeded" : "Failed", { finishedMsAgo: 1 }) }));
        let j = job({ completions: 100, parallelism: 0 });
        const released = new Set<string>();
        for (let step = 0; step < 10; step++) {
          // What the pass sees: pods that finished by now and are not gone; a finalizer taken off shows only from `offAt`.
          const visible = pods.filter(({ s }) => s.seenAt <= step && s.goneAt > step).map(({ s, p }) => (released.has(p.metadata.uid!) && s.offAt <= step ? { ...p, metadata: { ...p.metadata, finalizers: [] } } : p));
          const plan = planTracking(j, visible, released);
          const recorded = withUncounted(j.status, plan.record);
          // Some finalizer removals fail this pass (seeded), the others land.
          const now = new Set(plan.release.filter((_, i) => (seed + step + i) % 3 !== 0).map((p) => p.metadata.uid!));
          for (const u of now) released.add(u);
          j = { ...j, status: settleCounts(recorded, visible, now) };
        }
        // Then every pod is gone and one last pass counts what is left.
        j = { ...j, status: settleCounts(j.status, [], new Set()) };
        const seen = pods.filter(({ s }) => s.seenAt < Math.min(10, s.goneAt));
        expect(j.status?.succeeded ?? 0).toBe(seen.filter(({ s }) => s.ok).length);
        expect(j.status?.failed ?? 0).toBe(seen.filter(({ s }) => !s.ok).length);
      },
    ));
  });
});

describe("decideJob", () => {
  it("starts min(parallelism, completions − succeeded) pods and records the start time once", () => {
    const d = decideJob({ job: job({ parallelism: 3, completions: 5 }, { succeeded: 3 }), pods: [], now: NOW });
    expect(creates(d)).toBe(2);
    expect(d.status.startTime).toBe(new Date(NOW).toISOString());
    expect(decideJob({ job: job({ parallelism: 3, completions: 5 }, { succeeded: 3, startTime: at(5000) }), pods: [], now: NOW }).status.startTime).toBe(at(5000));
  });

  it("creates at most 500 pods a pass", () => {
    expect(creates(decideJob({ job: job({ parallelism: 100_000, completions: 100_000 }), pods: [], now: NOW }))).toBe(MAX_PODS_PER_PASS);
  });

  it("deletes the surplus when parallelism goes down, the least advanced pods first", () => {
    const running = pod("Running");
    const pending = { ...pod("Pending"), spec: { containers: [] } } as Pod;
    const d = decideJob({ job: job({ parallelism: 1, completions: 4 }, { startTime: at(1000) }), pods: [running, pending], now: NOW });
    expect(deletes(d).map((p) => p.metadata.name)).toEqual([pending.metadata.name]);
  });

  it("a work queue starts nothing more once one pod succeeded, and leaves the others running", () => {
    const d = decideJob({ job: job({ parallelism: 3, completions: undefined }, { startTime: at(1000), succeeded: 1 }), pods: [pod("Running"), pod("Running")], now: NOW });
    expect(d.commands).toEqual([]);
    expect(cond(decideJob({ job: job({ parallelism: 3, completions: undefined }, { startTime: at(1000), succeeded: 3 }), pods: [], now: NOW }), "Complete")).toBeDefined();
  });

  it("waits 10 s · 2^(n − 1) after the newest of the n failures since the last success", () => {
    const failedPods = [pod("Failed", { finishedMsAgo: 30_000 }), pod("Failed", { finishedMsAgo: 5_000 })];
    const j = job({}, { startTime: at(60_000), failed: 2 });
    const d = decideJob({ job: j, pods: failedPods, now: NOW });
    expect(creates(d)).toBe(0);
    expect(d.requeueAfterMs).toBe(15_000); // 20 s after the newest failure, 5 s ago
    expect(creates(decideJob({ job: j, pods: failedPods, now: NOW + 15_000 }))).toBe(1);
    // A success after the first failure: only one failure since, so 10 s.
    const withSuccess = [...failedPods, pod("Succeeded", { finishedMsAgo: 20_000 })];
    expect(decideJob({ job: job({ completions: 2 }, { startTime: at(60_000), failed: 2, succeeded: 1 }), pods: withSuccess, now: NOW }).requeueAfterMs).toBe(5_000);
  });

  it("counts container restarts of an OnFailure job's running pods against backoffLimit", () => {
    const onFailure = (limit: number) => job({ backoffLimit: limit, template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "i" }] } } }, { startTime: at(1000) });
    expect(cond(decideJob({ job: onFailure(3), pods: [pod("Running", { restarts: 2 })], now: NOW }), "Failed")).toBeUndefined();
    const d = decideJob({ job: onFailure(3), pods: [pod("Running", { restarts: 3 })], now: NOW });
    expect(cond(d, "Failed")).toMatchObject({ reason: "BackoffLimitExceeded" });
    expect(deletes(d)).toHaveLength(1);
    expect(d.events).toEqual([{ eventType: "Warning", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }]);
    expect(cond(decideJob({ job: onFailure(0), pods: [pod("Running", { restarts: 1 })], now: NOW }), "Failed")).toBeDefined();
  });

  it("asks for a pass at the deadline, and fails the job then", () => {
    const running = pod("Running");
    const d = decideJob({ job: job({ activeDeadlineSeconds: 10 }, { startTime: at(4_000), active: 1, ready: 1 }), pods: [running], now: NOW });
    expect(d.requeueAfterMs).toBe(6_000);
    expect(d.commands).toEqual([]);
    const past = decideJob({ job: job({ activeDeadlineSeconds: 10 }, { startTime: at(10_000), active: 1, ready: 1 }), pods: [running], now: NOW });
    expect(cond(past, "Failed")).toMatchObject({ reason: "DeadlineExceeded" });
    expect(deletes(past)).toEqual([running]);
  });

  it("a finished job deletes what still runs, and is deleted itself once its TTL has passed", () => {
    const done = (ttl?: number) => job({ ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) }, {
      startTime: at(9_000), completionTime: at(5_000), succeeded: 1, ready: 0,
      conditions: [{ type: "Complete", status: "True", lastTransitionTime: at(5_000) }],
    });
    expect(deletes(decideJob({ job: done(), pods: [pod("Running")], now: NOW }))).toHaveLength(1);
    const idle = decideJob({ job: done(), pods: [], now: NOW });
    expect(idle.commands).toEqual([]);
    expect(idle.deleteJob).toBeUndefined();
    expect(decideJob({ job: done(10), pods: [], now: NOW }).requeueAfterMs).toBe(5_000);
    expect(decideJob({ job: done(5), pods: [], now: NOW }).deleteJob).toBe(true);
  });

  it("suspends and resumes with Kubernetes' conditions and events, the clock restarting", () => {
    const running = pod("Running");
    const s = decideJob({ job: job({ suspend: true }, { startTime: at(1000) }), pods: [running], now: NOW });
    expect(deletes(s)).toEqual([running]);
    expect(cond(s, "Suspended")).toMatchObject({ reason: "JobSuspended" });
    expect(s.events.map((e) => e.reason)).toEqual(["Suspended"]);
    const r = decideJob({ job: job({ suspend: false }, s.status), pods: [], now: NOW + 5000 });
    expect(r.status.conditions?.find((c) => c.type === "Suspended")).toMatchObject({ status: "False", reason: "JobResumed" });
    expect(r.status.startTime).toBe(new Date(NOW + 5000).toISOString());
    expect(r.events.map((e) => e.reason)).toEqual(["Resumed"]);
  });
});
