/**
 * The scheduler actor: binds pending pods (no `spec.nodeName`) to nodes.
 *
 *   pod/node informer change ──WAKE──▶ work loop (see work_loop.ts for the states)
 *   claim made, deleted, placed or marked deleted ──WAKE──▶ (only while a pending pod names a claim)
 *   one pass: pending pods (highest priority, then oldest, first) ──scheduleBatch (pure)──▶ per pod:
 *       { node, claims? } → first, for each claim no node was chosen for yet (kube-scheduler's
 *                           VolumeBinding PreBind), the annotation volume.kubernetes.io/
 *                           selected-node=<node> written at the version read (compare-and-swap):
 *                           a lost write leaves the pod unbound, to be scheduled again on the
 *                           claim's new state; two pods of one claim in a pass share its write;
 *                           then bind: a Binding (`ApiClient.bind`, kube-scheduler's pods/binding),
 *                           which the API refuses for a pod already bound, so two schedulers
 *                           never double-bind: the loser gets 409 and moves on;
 *       { unschedulable } → `PodScheduled=False, reason Unschedulable` via updateStatus, plus a
 *                           `FailedScheduling` event; retried when nodes change.
 *
 * Subjects: none directly — everything goes through the injected `ApiClient`.
 *
 * A bind is "assumed" until the watch shows the pod bound (kube-scheduler's assume cache):
 * assumed pods count against their node and are not scheduled again, so a lagging watch never
 * causes a second bind or an overcommitted node. A claim's written annotation is assumed the
 * same way until the claim informer shows that version, so the claim's next pod follows it.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { type Condition, type Node, type PersistentVolumeClaim, type Pod, SELECTED_NODE_ANNOTATION } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { scheduleBatch } from "./scheduler_decide.ts";
import { claimEventMatters } from "./scheduler_claims.ts";
import { podClaimNames } from "./volume_claims_decide.ts";
import { effectiveTaints } from "../model/scheduling.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, errorText, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { schedulerMetrics } from "./scheduler_metrics.ts";
import { objectKey } from "../model/names.ts";
import { podPriority } from "../model/priority.ts";

export interface SchedulerDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  pods: Informer<"pods">;
  nodes: Informer<"nodes">;
  /** PersistentVolumeClaims (absent: claims are not looked at, as before they were served). */
  claims?: Informer<"persistentvolumeclaims">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
  /** Binds in flight at once. */
  bindConcurrency?: number;
  /** Record a `Scheduled` event per bind (Kubernetes does; costly at thousands of pods). */
  scheduledEvents?: boolean;
}

export interface SchedulerStats {
  bound: number;
  conflicts: number;
  unschedulable: number;
  passes: number;
}

export interface Scheduler {
  loop: WorkLoop;
  stats: SchedulerStats;
  stop(): void;
}

/** How long a bind stays assumed without the watch confirming it. */
const ASSUME_TTL_MS = 30_000;
/** Even with no change in sight, unschedulable pods are retried this often. */
const UNSCHEDULABLE_RETRY_MS = 5_000;
/** A pod whose claim write was lost is tried again this soon, if no claim event wakes the loop first. */
const CLAIM_RETRY_MS = 1_000;

/** A resourceVersion as a number, to order two copies of one object (NaN when it is none). */
function version(o: { metadata: { resourceVersion?: string } }): number {
  return Number(o.metadata.resourceVersion);
}

/** kube-scheduler's profile name: pods naming another scheduler are left to it. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

/** A pod this scheduler should place: unbound, not being deleted or finished, and for this scheduler. */
function isPending(pod: Pod): boolean {
  const phase = pod.status?.phase;
  const scheduler = pod.spec.schedulerName;
  return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed" &&
    (scheduler === undefined || scheduler === "" || scheduler === DEFAULT_SCHEDULER_NAME);
}

/** The parts of a node that can change a scheduling decision (not its heartbeat). */
function schedulingSignature(node: Node | undefined): string {
  if (!node) return "";
  return JSON.stringify([effectiveTaints(node), node.status?.allocatable ?? {}, node.metadata.labels ?? {}]);
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  });
  await Promise.all(workers);
}

/** Starts the scheduler; its informers must already be started. */
export function startScheduler(deps: SchedulerDeps): Scheduler {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const assumed = new Map<string, { node: string; at: number; pod: Pod }>();
  /** Claims annotated by this scheduler, until the claim informer shows that version. */
  const assumedClaims = new Map<string, { at: number; claim: PersistentVolumeClaim }>();
  const claimLookup = deps.claims
    ? (key: string): PersistentVolumeClaim | undefined => assumedClaims.get(key)?.claim ?? deps.claims!.get(key)
    : undefined;
  const stats: SchedulerStats = { bound: 0, conflicts: 0, unschedulable: 0, passes: 0 };
  /** Pending pods that name a claim, as of the last pass: while there are none, claim events need no pass. */
  let pendingWithClaims = 0;
  const sm = schedulerMetrics(deps.observe?.metrics);

  /**
   * Writes `node` on a claim no node was chosen for, at the version the pass read. True when
   * written; false when the claim changed or went meanwhile (the pod is then scheduled again).
   */
  async function placeClaim(claim: PersistentVolumeClaim, node: string, pod: Pod): Promise<boolean> {
    const key = objectKey(claim);
    try {
      const written = await deps.client.update("persistentvolumeclaims", {
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...claim.metadata.annotations, [SELECTED_NODE_ANNOTATION]: node } },
      });
      assumedClaims.set(key, { at: now(), claim: written });
      log("placed a claim with its first pod", { claim: key, node, pod: objectKey(pod) });
      return true;
    } catch (err) {
      if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "Invalid")) {
        stats.conflicts++;
        log("claim placement lost; the pod is scheduled again", { claim: key, node, pod: objectKey(pod), reason: err.reason, error: err.message });
        return false;
      }
      throw err;
    }
  }

  /**
   * Binds `pod` to `node`, after writing `node` on each claim in `claims` (`writes`: this pass's
   * claim writes by claim key, shared by the pods of one claim). Returns false when a claim
   * write was lost and the pod was left unbound.
   */
  async function bind(pod: Pod, node: string, claims: PersistentVolumeClaim[] | undefined, writes: Map<string, { node: string; done: Promise<boolean> }>): Promise<boolean> {
    const key = objectKey(pod);
    assumed.set(key, { node, at: now(), pod: { ...pod, spec: { ...pod.spec, nodeName: node } } });
    if (claims?.length) {
      // Registered before the first await, so a later pod of the same claim in this pass waits
      // for this write instead of racing it (and binds only if it worked).
      const pending = claims.map((c) => {
        const k = objectKey(c);
        let w = writes.get(k);
        if (!w) writes.set(k, (w = { node, done: placeClaim(c, node, pod) }));
        // (The pure decision places every pod of a claim in a pass on one node; never bind on another.)
        return w.node === node ? w.done : Promise.resolve(false);
      });
      let placed: boolean[];
      try {
        placed = await Promise.all(pending);
      } catch (err) {
        assumed.delete(key);
        throw err;
      }
      if (!placed.every(Boolean)) {
        assumed.delete(key);
        return false;
      }
    }
    try {
      await deps.client.bind(pod.metadata.name, pod.metadata.namespace, node, { uid: pod.metadata.uid });
      stats.bound++;
      if (deps.scheduledEvents) {
        deps.recorder.record(pod, "Normal", "Scheduled", `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`);
      }
    } catch (err) {
      assumed.delete(key);
      // A conflict or a rejection means the pod changed under us (another scheduler bound it,
      // it was deleted or edited): the informer will show the new state and wake us.
      if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "Invalid")) {
        stats.conflicts++;
        log("bind lost", { pod: key, node, reason: err.reason, error: err.message });
        return true;
      }
      throw err;
    }
    return true;
  }

  async function markUnschedulable(pod: Pod, message: string): Promise<void> {
    stats.unschedulable++;
    const prev = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
    if (prev?.status === "False" && prev.message === message) return;
    const condition: Condition = {
      type: "PodScheduled",
      status: "False",
      reason: "Unschedulable",
      message,
      lastProbeTime: new Date(now()).toISOString(),
      lastTransitionTime: prev?.status === "False" ? prev.lastTransitionTime : new Date(now()).toISOString(),
    };
    const conditions = [...(pod.status?.conditions ?? []).filter((c) => c.type !== "PodScheduled"), condition];
    try {
      await deps.client.updateStatus("pods", { ...pod, status: { ...pod.status, phase: pod.status?.phase ?? "Pending", conditions } });
    } catch (err) {
      // A stale copy: the next pass sees the current pod and tries again.
      if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound")) return;
      throw err;
    }
    deps.recorder.record(pod, "Warning", "FailedScheduling", message);
  }

  async function pass(): Promise<{ requeueAfterMs?: number }> {
    stats.passes++;
    const t = now();
    const pods = deps.pods.list();
    for (const [key, a] of assumed) {
      const cached = deps.pods.get(key);
      if (!cached || cached.spec.nodeName || t - a.at > ASSUME_TTL_MS) assumed.delete(key);
    }
    for (const [key, a] of assumedClaims) {
      const cached = deps.claims?.get(key);
      // The informer shows this version or a newer one (or another claim under the name).
      if (!cached || cached.metadata.uid !== a.claim.metadata.uid || !(version(cached) < version(a.claim)) || t - a.at > ASSUME_TTL_MS) assumedClaims.delete(key);
    }
    const pending: Pod[] = [];
    const bound: Pod[] = [];
    for (const p of pods) {
      if (p.spec.nodeName) bound.push(p);
      else if (isPending(p) && !assumed.has(objectKey(p))) pending.push(p);
    }
    sm.pending(pending.length);
    pendingWithClaims = 0;
    if (pending.length === 0) return {};
    if (deps.claims) for (const p of pending) if (podClaimNames(p).length > 0) pendingWithClaims++;
    const started = performance.now();
    for (const a of assumed.values()) bound.push(a.pod);
    // kube-scheduler's PrioritySort: higher priority first, then the oldest; nothing is preempted.
    pending.sort((a, b) => {
      const pa = podPriority(a);
      const pb = podPriority(b);
      if (pa !== pb) return pb - pa;
      const ta = a.metadata.creationTimestamp ?? "";
      const tb = b.metadata.creationTimestamp ?? "";
      return ta < tb ? -1 : ta > tb ? 1 : a.metadata.name < b.metadata.name ? -1 : 1;
    });
    const results = scheduleBatch(pending, deps.nodes.list(), bound, claimLookup);
    let failed: unknown = null;
    let unschedulable = 0;
    let lostClaims = 0;
    const claimWrites = new Map<string, { node: string; done: Promise<boolean> }>();
    await mapLimit(results, deps.bindConcurrency ?? 32, async ({ pod, result }) => {
      try {
        if ("node" in result) {
          if (!(await bind(pod, result.node, result.claims, claimWrites))) lostClaims++;
        } else {
          unschedulable++;
          await markUnschedulable(pod, result.unschedulable);
        }
        sm.attempt("node" in result ? "scheduled" : "unschedulable", started);
      } catch (err) {
        sm.attempt("error", started);
        failed = err;
        log("scheduling a pod failed", { pod: objectKey(pod), error: errorText(err) });
      }
    });
    if (failed) throw failed;
    if (lostClaims > 0) return { requeueAfterMs: CLAIM_RETRY_MS };
    return unschedulable > 0 ? { requeueAfterMs: UNSCHEDULABLE_RETRY_MS } : {};
  }

  const loop = startWorkLoop("scheduler", pass, log, deps.observe);
  const unsubscribe = [
    deps.pods.subscribe((ev) => {
      if (isPending(ev.object) || (ev.type === "DELETED" && ev.object.spec.nodeName)) loop.wake();
    }),
    deps.nodes.subscribe((ev) => {
      if (ev.type !== "MODIFIED" || schedulingSignature(ev.old) !== schedulingSignature(ev.object)) loop.wake();
    }),
    // A claim made, placed, marked deleted or gone may make a waiting pod schedulable (or not);
    // its status, capacity or finalizers never do. A pod made since the last pass woke the loop
    // itself, so the count of the last pass is enough to know whether any pod waits on claims.
    ...(deps.claims ? [deps.claims.subscribe((ev) => {
      if (pendingWithClaims > 0 && claimEventMatters(ev)) loop.wake();
    })] : []),
  ];
  return {
    loop,
    stats,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
