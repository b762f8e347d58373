/**
 * The job controller: one work loop per Job (owner_loops.ts, which also indexes the pods by
 * their job's uid), each pass
 *
 *   read the Job + the pods it controls (an index by controller uid, fed by the pod informer)
 *   count finished pods (job_decide.ts, as Kubernetes with the job-tracking finalizer):
 *     planTracking ──▶ status write: their uids into uncountedTerminatedPods
 *                  ──▶ their finalizers off ──settleCounts──▶ succeeded/failed
 *   decideJob (pure) ──▶ pod creates (slow start: 1, 2, 4, …) and deletes
 *                    ──▶ the status write, then the events of its transitions
 *                    ──▶ after ttlSecondsAfterFinished, the job's delete (foreground)
 *
 * Every status write is a compare-and-swap at the job's version the pass read, so a pass
 * that decided on a lagging copy loses (Conflict) and the next one decides again. Creates and
 * deletes raise expectations (expectations.ts), so a pass never acts on a pod view that does not
 * show its own last writes yet. A second loop takes the tracking finalizer off pods whose job
 * is gone or was orphaned. Woken by changes to the Job and to its pods; a deadline, a back-off or a
 * TTL brings a pass without a wake-up. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { objectKey } from "../model/names.ts";
import type { Log } from "../model/log.ts";
import type { Job, JobStatus, OwnerReference, Pod } from "../model/types.ts";
import { JOB_TRACKING_FINALIZER } from "../model/job.ts";
import { jsonEqual } from "../model/json_equal.ts";
import type { EventRecorder } from "./event_recorder.ts";
import { ExpectationsStore } from "./expectations.ts";
import type { Informer } from "./informer_cache.ts";
import { decideJob, JOB_BACKOFF, normalStatus, planRecords, planTracking, type PodCommand, settleCounts, withUncounted } from "./job_decide.ts";
import { COMPLETION_INDEX_KEY, podGenerateNameWithIndex, withCompletionIndexEnv } from "./job_indexes.ts";
import { createPodsSlowStart, startOwnerLoops } from "./owner_loops.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface JobControllerDeps {
  client: ApiClient;
  jobs: Informer<"jobs">;
  pods: Informer<"pods">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
  /** The wait before a pod replaces failed ones (tests shorten it). Default 10 s doubling, at most 10 min. */
  backoff?: { baseMs: number; maxMs: number };
  /** How long creates and deletes not yet seen hold a job's passes back (default 60 s). */
  expectationsTtlMs?: number;
}

export interface JobController {
  loop: WorkLoop;
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  stop(): void;
}

const lostRace = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "AlreadyExists");

/** The controller reference a Job puts on its pods. */
export function jobControllerRef(job: Job): OwnerReference {
  return { apiVersion: "batch/v1", kind: "Job", name: job.metadata.name, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * The pod a Job creates from its template (the API fills the name from `generateName`). With a
 * completion `index` (Indexed jobs), as Kubernetes: the index as annotation and label, in every
 * container's `JOB_COMPLETION_INDEX` (downward API), in the hostname `<job>-<index>` and in the
 * name `<job>-<index>-<random>`.
 */
export function jobPod(job: Job, index?: number): Pod {
  const t = job.spec.template;
  const pod: Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "",
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [jobControllerRef(job)],
      // Held until the controller has counted the pod (job_decide.ts).
      finalizers: [JOB_TRACKING_FINALIZER],
    },
    spec: structuredClone(t.spec),
  };
  if (index === undefined) return pod;
  const ix = String(index);
  pod.metadata.generateName = podGenerateNameWithIndex(job.metadata.name, index);
  pod.metadata.annotations = { ...pod.metadata.annotations, [COMPLETION_INDEX_KEY]: ix };
  pod.metadata.labels = { ...pod.metadata.labels, [COMPLETION_INDEX_KEY]: ix };
  pod.spec.hostname = `${job.metadata.name}-${ix}`;
  pod.spec.containers = pod.spec.containers.map(withCompletionIndexEnv);
  if (pod.spec.initContainers) pod.spec.initContainers = pod.spec.initContainers.map(withCompletionIndexEnv);
  return pod;
}

const jobOf = (p: Pod) => p.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Job");

/** Starts the manager and one actor per Job; the informers must already be started. */
export function startJobController(deps: JobControllerDeps): JobController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const expectations = new ExpectationsStore();
  /** Job uid → pods whose tracking finalizer this controller took off (the cache may not show it yet). */
  const releasedByJob = new Map<string, Set<string>>();
  let orphans: WorkLoop | undefined;

  /** Takes the tracking finalizer off `pods`; the uids whose finalizer is off (or whose pod is gone). */
  async function release(pods: readonly Pod[], released: Set<string>): Promise<Set<string>> {
    const done = new Set<string>();
    await Promise.all(pods.map(async (p) => {
      try {
        await deps.client.patch("pods", p.metadata.name, { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } }, { namespace: p.metadata.namespace, type: "strategic" });
      } catch (err) {
        if (!(err instanceof ApiError && err.reason === "NotFound")) throw err;
      }
      done.add(p.metadata.uid!);
      released.add(p.metadata.uid!);
    }));
    return done;
  }

  /** A status write at `job`'s version: a Conflict means the pass decided on an old copy. */
  async function writeStatus(job: Job, status: JobStatus): Promise<Job> {
    return await deps.client.updateStatus("jobs", { ...job, status: normalStatus(status) });
  }

  /** `count` pods, or with `indexes` one pod per completion index. */
  async function createPods(job: Job, key: string, count: number, indexes?: readonly number[]): Promise<void> {
    const make = indexes ? indexes.map((ix) => () => jobPod(job, ix)) : Array.from({ length: count }, () => () => jobPod(job));
    expectations.expect(key, make.length, [], now());
    await createPodsSlowStart(deps, job, key, expectations, make);
  }

  async function deletePods(job: Job, key: string, pods: readonly Pod[]): Promise<void> {
    expectations.expect(key, 0, pods.map(objectKey), now());
    await Promise.all(pods.map(async (p) => {
      try {
        await deps.client.delete("pods", p.metadata.name, p.metadata.namespace, { preconditions: { uid: p.metadata.uid } });
        deps.recorder.record(job, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        expectations.deletionObserved(key, objectKey(p));
        if (!lostRace(err)) throw err;
      }
    }));
  }

  async function runPodCommand(job: Job, key: string, cmd: PodCommand): Promise<void> {
    switch (cmd.type) {
      case "createPods":
        return await createPods(job, key, cmd.count, cmd.indexes);
      case "deletePods":
        return await deletePods(job, key, cmd.pods);
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  /** As Kubernetes' TTL-after-finished controller: read the job again, then delete it (foreground) if its TTL has still passed. */
  async function deleteExpired(job: Job, key: string): Promise<void> {
    const fresh = await deps.client.get("jobs", job.metadata.name, job.metadata.namespace);
    if (fresh.metadata.uid !== job.metadata.uid || fresh.metadata.deletionTimestamp) return;
    const ttl = fresh.spec.ttlSecondsAfterFinished;
    const at = Date.parse(fresh.status?.completionTime ?? fresh.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True")?.lastTransitionTime ?? "");
    if (ttl === undefined || Number.isNaN(at) || now() < at + ttl * 1000) return;
    await deps.client.delete("jobs", fresh.metadata.name, fresh.metadata.namespace, { propagationPolicy: "Foreground", preconditions: { uid: fresh.metadata.uid } });
    log("deleted finished job (ttlSecondsAfterFinished)", { job: key });
  }

  async function pass(key: string, podsOf: (uid: string) => Pod[]): Promise<{ requeueAfterMs?: number }> {
    let job = deps.jobs.get(key);
    if (!job) return {};
    const uid = job.metadata.uid!;
    if (job.metadata.deletionTimestamp) {
      // Being deleted (a foreground deletion waits for its pods): nothing is counted any more,
      // every pod lets go of its tracking finalizer, as Kubernetes' controller does.
      await release(podsOf(uid).filter((p) => p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)), new Set());
      return {};
    }
    const t = now();
    // Our last creates or deletes not seen yet: their watch events wake us.
    if (!expectations.satisfied(key, t, deps.expectationsTtlMs)) return { requeueAfterMs: 5_000 };
    const pods = podsOf(uid);
    let released = releasedByJob.get(uid);
    if (!released) releasedByJob.set(uid, (released = new Set()));
    // Forget what the cache now shows released (or gone).
    for (const r of [...released]) if (!pods.some((p) => p.metadata.uid === r && p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER))) released.delete(r);

    // Counting: uncounted first, then finalizers off, then the counts (job_decide.ts).
    const plan = planTracking(job, pods, released);
    if (planRecords(plan)) job = await writeStatus(job, withUncounted(job.status, plan.record));
    const releasedNow = await release(plan.release, released);
    const stored = job.status ?? {};
    const settled = settleCounts(stored, pods, releasedNow);

    const decision = decideJob({ job: { ...job, status: settled }, pods, now: t, backoff: deps.backoff ?? JOB_BACKOFF });
    let firstError: unknown;
    for (const cmd of decision.commands) {
      // Every command is tried, and the status written, whatever one of them met.
      await runPodCommand(job, key, cmd).catch((err) => (firstError ??= err));
    }
    if (!jsonEqual(normalStatus(decision.status), normalStatus(stored))) await writeStatus(job, decision.status);
    for (const e of decision.events) deps.recorder.record(job, e.eventType, e.reason, e.message);
    if (decision.deleteJob) await deleteExpired(job, key);
    if (firstError) throw firstError;
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
  }

  const loops = startOwnerLoops<Job, Pod>({
    name: "job",
    owners: deps.jobs,
    children: deps.pods,
    ownerKind: "Job",
    expectations,
    pass,
    lostRace,
    log,
    afterSync(keyOf) {
      for (const uid of [...releasedByJob.keys()]) if (keyOf(uid) === undefined) releasedByJob.delete(uid);
      orphans?.wake();
    },
    onChild(ev, keyOf) {
      const pod = ev.type === "DELETED" ? undefined : ev.object;
      if (!pod?.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) return;
      const ref = jobOf(pod);
      if (!ref || keyOf(ref.uid) === undefined) orphans?.wake();
    },
  });

  /** Pods still holding the tracking finalizer whose job is gone, or that no job controls any more (orphaned). */
  orphans = startWorkLoop("job-orphan-pods", async () => {
    for (const p of deps.pods.list()) {
      if (!p.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) continue;
      const ref = jobOf(p);
      if (ref && loops.keyOf(ref.uid) !== undefined) continue;
      if (ref) {
        // The job cache may lag behind a job just made: ask the store.
        const live = await deps.client.get("jobs", ref.name, p.metadata.namespace).catch((err) => {
          if (err instanceof ApiError && err.reason === "NotFound") return undefined;
          throw err;
        });
        if (live?.metadata.uid === ref.uid) continue;
      }
      await release([p], new Set());
      log("took the job tracking finalizer off a pod without its job", { pod: objectKey(p) });
    }
  }, log);

  return {
    loop: loops.loop,
    controllers: loops.controllers,
    stop() {
      loops.stop();
      orphans?.stop();
    },
  };
}
