import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideJob, MAX_PODS_PER_PASS, planTracking, settleCounts, withUncounted, type JobDecision } from "../../../actors/job_decide.ts";
import { COMPLETION_INDEX_ENV, COMPLETION_INDEX_KEY, completionIndexOf, countIndexes, firstPendingIndexes, formatIndexes, hasIndex, parseIndexes, podGenerateNameWithIndex, podsWithBadIndexes, withCompletionIndexEnv, withIndexes, type Interval } from "../../../actors/job_indexes.ts";
import { jobPod } from "../../../actors/job_controller.ts";
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

// ---------------------------------------------------------------------------------------------
// Indexed jobs

const indexedJob = (spec: Partial<Job["spec"]> = {}, status?: Job["status"]) => job({ completionMode: "Indexed", ...spec }, status);
/** A pod of index `ix` (annotation as the controller sets it; a string for invalid values). */
function indexed(phase: string, ix: number | string | undefined, extra: Parameters<typeof pod>[1] = {}): Pod {
  const p = pod(phase, extra);
  return ix === undefined ? p : { ...p, metadata: { ...p.metadata, annotations: { [COMPLETION_INDEX_KEY]: String(ix) } } };
}
const createdIndexes = (d: JobDecision) => d.commands.flatMap((c) => (c.type === "createPods" ? c.indexes ?? [] : []));

describe("completion indexes (Kubernetes' indexed_job_utils)", () => {
  it("formats completed indexes as Kubernetes: runs of three or more as a-b, pairs as a,b", () => {
    const iv = (...xs: [number, number][]): Interval[] => xs.map(([first, last]) => ({ first, last }));
    expect(formatIndexes([])).toBe("");
    expect(formatIndexes(iv([1, 1], [3, 5], [7, 7]))).toBe("1,3-5,7");
    expect(formatIndexes(iv([0, 1], [4, 9]))).toBe("0,1,4-9");
  });

  it("parses them back, merging neighbours, skipping what does not parse and cutting at completions", () => {
    expect(parseIndexes("1,3-5,7", 10)).toEqual([{ first: 1, last: 1 }, { first: 3, last: 5 }, { first: 7, last: 7 }]);
    expect(parseIndexes("0,1,2-4", 10)).toEqual([{ first: 0, last: 4 }]);
    expect(parseIndexes("x,2,a-b,4-", 10)).toEqual([{ first: 2, last: 2 }]);
    expect(parseIndexes("1-8,12", 5)).toEqual([{ first: 1, last: 4 }]);
    expect(parseIndexes("", 5)).toEqual([]);
    expect(parseIndexes(undefined, 5)).toEqual([]);
  });

  it("property: adding indexes and formatting round-trips through parsing, counted and looked up exactly", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat(60), { maxLength: 40 }), fc.uniqueArray(fc.nat(60), { maxLength: 20 }), (a, b) => {
      const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
      const merged = withIndexes(withIndexes([], sorted(a)), sorted(b));
      const all = new Set([...a, ...b]);
      expect(countIndexes(merged)).toBe(all.size);
      for (let i = 0; i <= 61; i++) expect(hasIndex(merged, i)).toBe(all.has(i));
      expect(parseIndexes(formatIndexes(merged), 61)).toEqual(merged);
      // Intervals are ordered and separated by at least one missing index.
      for (let i = 1; i < merged.length; i++) expect(merged[i].first).toBeGreaterThan(merged[i - 1].last + 1);
    }));
  });

  it("reads a pod's index from its annotation: a non-negative integer, else none", () => {
    expect(completionIndexOf(indexed("Running", 3))).toBe(3);
    expect(completionIndexOf(indexed("Running", "+2"))).toBe(2);
    for (const bad of ["-1", "x", "", "1.5", undefined]) expect(completionIndexOf(indexed("Running", bad))).toBeUndefined();
  });

  it("picks the lowest indexes neither completed nor active", () => {
    const done = parseIndexes("0,2", 6);
    expect(firstPendingIndexes([indexed("Running", 1), indexed("Running", 4), indexed("Running", "x")], done, 5, 6)).toEqual([3, 5]);
    expect(firstPendingIndexes([], done, 2, 6)).toEqual([1, 3]);
    expect(firstPendingIndexes([], [], 0, 6)).toEqual([]);
  });

  it("removes pods without a valid index, past completions, and all but the furthest along of a repeated index", () => {
    const runningTwo = indexed("Running", 2);
    const pendingTwo = { ...indexed("Pending", 2), spec: { containers: [] } } as Pod;
    const noIndex = indexed("Running", undefined);
    const outOfRange = indexed("Running", 7);
    const one = indexed("Running", 1);
    const { remove, keep } = podsWithBadIndexes([runningTwo, noIndex, pendingTwo, outOfRange, one], 5);
    expect(new Set(remove)).toEqual(new Set([noIndex, outOfRange, pendingTwo]));
    expect(keep).toEqual([one, runningTwo]);
  });

  it("names an index's pods <job>-<index>-, cutting a long job name so the name fits 63 characters", () => {
    expect(podGenerateNameWithIndex("work", 3)).toBe("work-3-");
    const long = podGenerateNameWithIndex("j".repeat(63), 12);
    expect(long).toBe(`${"j".repeat(54)}-12-`);
    expect(long.length + 5).toBe(63);
  });

  it("gives every container JOB_COMPLETION_INDEX from the downward API, unless it sets the variable itself", () => {
    expect(withCompletionIndexEnv({ name: "c", image: "i" }).env).toEqual([{ name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_KEY}']` } } }]);
    const own = { name: "c", image: "i", env: [{ name: COMPLETION_INDEX_ENV, value: "9" }] };
    expect(withCompletionIndexEnv(own)).toBe(own);
  });

  it("an index's pod carries the index as annotation and label, in its env, hostname and generated name", () => {
    const j = indexedJob({ completions: 5, template: { metadata: { labels: { app: "a" } }, spec: { restartPolicy: "Never", subdomain: "svc", initContainers: [{ name: "init", image: "i" }], containers: [{ name: "c", image: "i" }] } } });
    const p = jobPod(j, 3);
    expect(p.metadata.generateName).toBe("j-3-");
    expect(p.metadata.annotations?.[COMPLETION_INDEX_KEY]).toBe("3");
    expect(p.metadata.labels).toEqual({ app: "a", [COMPLETION_INDEX_KEY]: "3" });
    expect(p.spec.hostname).toBe("j-3");
    expect(p.spec.subdomain).toBe("svc");
    for (const c of [...p.spec.containers, ...p.spec.initContainers!]) expect(c.env?.map((e) => e.name)).toEqual([COMPLETION_INDEX_ENV]);
    // The template is left alone; a NonIndexed pod gets none of it.
    expect(j.spec.template.spec.containers[0].env).toBeUndefined();
    expect(jobPod(j).metadata.generateName).toBe("j-");
    expect(jobPod(j).spec.hostname).toBeUndefined();
  });
});

describe("counting an Indexed job's pods", () => {
  it("writes a succeeded pod's index to completedIndexes, not its uid, and succeeded is their number", () => {
    const ok = indexed("Succeeded", 3, { finishedMsAgo: 1 });
    const bad = indexed("Failed", 1, { finishedMsAgo: 1 });
    const j = indexedJob({ completions: 5 }, { completedIndexes: "0", succeeded: 1 });
    const plan = planTracking(j, [ok, bad]);
    expect(plan.record).toEqual({ succeeded: [], failed: [bad.metadata.uid], completed: { indexes: "0,3", count: 2 } });
    expect(plan.release).toEqual([ok, bad]);
    const recorded = withUncounted(j.status, plan.record);
    expect(recorded).toMatchObject({ completedIndexes: "0,3", succeeded: 2 });
    expect(settleCounts(recorded, [ok, bad], new Set([ok.metadata.uid!, bad.metadata.uid!]))).toMatchObject({ completedIndexes: "0,3", succeeded: 2, failed: 1 });
  });

  it("counts an index once: a second pod of a completed index, or one without a valid index, is only released", () => {
    const again = indexed("Succeeded", 0, { finishedMsAgo: 1 });
    const noIndex = indexed("Succeeded", undefined, { finishedMsAgo: 1 });
    const outOfRange = indexed("Succeeded", 9, { finishedMsAgo: 1 });
    const plan = planTracking(indexedJob({ completions: 5 }, { completedIndexes: "0", succeeded: 1 }), [again, noIndex, outOfRange]);
    expect(plan.record).toEqual({ succeeded: [], failed: [] });
    expect(plan.release).toHaveLength(3);
  });

  it("two pods of one new index complete it once", () => {
    const plan = planTracking(indexedJob({ completions: 3 }), [indexed("Succeeded", 2, { finishedMsAgo: 1 }), indexed("Succeeded", 2, { finishedMsAgo: 2 })]);
    expect(plan.record.completed).toEqual({ indexes: "2", count: 1 });
  });
});

describe("decideJob for an Indexed job", () => {
  it("starts the lowest pending indexes, at most parallelism at once", () => {
    const d = decideJob({ job: indexedJob({ completions: 5, parallelism: 2 }), pods: [], now: NOW });
    expect(d.commands).toEqual([{ type: "createPods", count: 2, indexes: [0, 1] }]);
    const later = decideJob({ job: indexedJob({ completions: 5, parallelism: 2 }, { startTime: at(1000), completedIndexes: "0", succeeded: 1 }), pods: [indexed("Running", 1)], now: NOW });
    expect(createdIndexes(later)).toEqual([2]);
  });

  it("never runs more than the indexes left: completions − completed", () => {
    const d = decideJob({ job: indexedJob({ completions: 5, parallelism: 4 }, { startTime: at(1000), completedIndexes: "0-2", succeeded: 3 }), pods: [], now: NOW });
    expect(createdIndexes(d)).toEqual([3, 4]);
  });

  it("retries a failed pod's index, after the back-off, counting toward backoffLimit", () => {
    const failed = indexed("Failed", 0, { finishedMsAgo: 20_000 });
    const j = indexedJob({ completions: 2, parallelism: 2 }, { startTime: at(60_000), failed: 1 });
    expect(createdIndexes(decideJob({ job: j, pods: [failed, indexed("Running", 1)], now: NOW }))).toEqual([0]);
    const recent = indexed("Failed", 0, { finishedMsAgo: 1_000 });
    expect(decideJob({ job: j, pods: [recent, indexed("Running", 1)], now: NOW }).requeueAfterMs).toBe(9_000);
    const over = decideJob({ job: indexedJob({ completions: 2, backoffLimit: 1 }, { startTime: at(60_000), failed: 2 }), pods: [indexed("Running", 1)], now: NOW });
    expect(cond(over, "Failed")).toMatchObject({ reason: "BackoffLimitExceeded" });
  });

  it("deletes repeated and invalid indexes first, creating nothing in that pass", () => {
    const keep = indexed("Running", 1);
    const dup = { ...indexed("Pending", 1), spec: { containers: [] } } as Pod;
    const stray = indexed("Running", 12);
    const none = indexed("Running", undefined);
    const d = decideJob({ job: indexedJob({ completions: 5, parallelism: 3 }, { startTime: at(1000) }), pods: [keep, dup, stray, none], now: NOW });
    expect(d.commands).toHaveLength(1);
    expect(new Set(deletes(d))).toEqual(new Set([dup, stray, none]));
    expect(d.status.active).toBe(1);
    // Next pass, with them gone: indexes 0 and 2 start.
    expect(createdIndexes(decideJob({ job: indexedJob({ completions: 5, parallelism: 3 }, { startTime: at(1000) }), pods: [keep], now: NOW }))).toEqual([0, 2]);
  });

  it("deletes the surplus when parallelism goes down, bad indexes counting toward it", () => {
    const a = indexed("Running", 0);
    const b = { ...indexed("Pending", 1), spec: { containers: [] } } as Pod;
    const c = indexed("Running", 2);
    const d = decideJob({ job: indexedJob({ completions: 5, parallelism: 1 }, { startTime: at(1000) }), pods: [a, b, c], now: NOW });
    expect(deletes(d)).toHaveLength(2);
    expect(deletes(d)).toContain(b);
    const withBad = decideJob({ job: indexedJob({ completions: 5, parallelism: 2 }, { startTime: at(1000) }), pods: [a, c, indexed("Running", 9)], now: NOW });
    expect(deletes(withBad)).toHaveLength(1);
  });

  it("completes once every index has succeeded, succeeded the number of completed indexes", () => {
    const d = decideJob({ job: indexedJob({ completions: 5, parallelism: 2 }, { startTime: at(1000), completedIndexes: "0-4", succeeded: 5 }), pods: [], now: NOW });
    expect(cond(d, "Complete")).toBeDefined();
    expect(d.status).toMatchObject({ succeeded: 5, completedIndexes: "0-4", completionTime: new Date(NOW).toISOString() });
    // Four of five indexes: not complete, whatever other successes there were.
    const four = decideJob({ job: indexedJob({ completions: 5, parallelism: 2 }, { startTime: at(1000), completedIndexes: "0-3", succeeded: 7 }), pods: [], now: NOW });
    expect(cond(four, "Complete")).toBeUndefined();
    expect(four.status.succeeded).toBe(4);
    expect(createdIndexes(four)).toEqual([4]);
  });

  it("leaves an index with an active pod to it, even if another pod of it already succeeded", () => {
    const d = decideJob({ job: indexedJob({ completions: 3, parallelism: 3 }, { startTime: at(1000), completedIndexes: "0", succeeded: 1 }), pods: [indexed("Running", 0)], now: NOW });
    expect(deletes(d)).toEqual([]);
    expect(createdIndexes(d)).toEqual([1]);
  });

  it("property: driven pass by pass with pods succeeding in any order, the job completes with every index once", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.nat(), (completions, parallelism, seed) => {
      let j = indexedJob({ completions, parallelism });
      let pods: Pod[] = [];
      for (let step = 0; step < 200 && !cond(decideJob({ job: j, pods, now: NOW }), "Complete"); step++) {
        const d = decideJob({ job: j, pods, now: NOW });
        expect(d.status.active ?? 0).toBeLessThanOrEqual(parallelism);
        for (const c of d.commands) if (c.type === "createPods") pods.push(...(c.indexes ?? []).map((ix) => indexed("Running", ix)));
        j = { ...j, status: d.status };
        const running = pods.filter((p) => p.status?.phase === "Running");
        expect(running.length).toBeLessThanOrEqual(parallelism);
        expect(new Set(running.map(completionIndexOf)).size).toBe(running.length);
        // One running pod (chosen by the seed) succeeds; counting runs and the pod is gone.
        if (running.length > 0) {
          const done = running[(seed + step) % running.length];
          const finished = { ...done, status: { ...done.status, phase: "Succeeded" } } as Pod;
          j = counted(j, [finished]);
          pods = pods.filter((p) => p !== done);
        }
      }
      const final = decideJob({ job: j, pods, now: NOW });
      expect(cond(final, "Complete")).toBeDefined();
      expect(final.status.completedIndexes).toBe(formatIndexes([{ first: 0, last: completions - 1 }]));
      expect(final.status.succeeded).toBe(completions);
    }));
  });
});
