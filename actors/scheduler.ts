/**
 * The scheduler actor: binds pending pods (no `spec.nodeName`) to nodes.
 *
 *   pod/node informer change ──WAKE──▶ work loop (see work_loop.ts for the states)
 *   one pass: pending pods (oldest first) ──scheduleBatch (pure)──▶ per pod:
 *       { node }          → bind: a Binding (`ApiClient.bind`, kube-scheduler's pods/binding),
 *                           which the API refuses for a pod already bound, so two schedulers
 *                           never double-bind: the loser gets 409 and moves on;
 *       { unschedulable } → `PodScheduled=False, reason Unschedulable` via updateStatus, plus a
 *                           `FailedScheduling` event; retried when nodes change.
 *
 * Subjects: none directly — everything goes through the injected `ApiClient`.
 *
 * A bind is "assumed" until the watch shows the pod bound (kube-scheduler's assume cache):
 * assumed pods count against their node and are not scheduled again, so a lagging watch never
 * causes a second bind or an overcommitted node.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Condition, Node, Pod } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { scheduleBatch } from "./scheduler_decide.ts";
import { effectiveTaints } from "../model/scheduling.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, errorText, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { schedulerMetrics } from "./scheduler_metrics.ts";
import { objectKey } from "../model/names.ts";

export interface SchedulerDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  pods: Informer<"pods">;
  nodes: Informer<"nodes">;
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

function isPending(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed";
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
  const stats: SchedulerStats = { bound: 0, conflicts: 0, unschedulable: 0, passes: 0 };
  const sm = schedulerMetrics(deps.observe?.metrics);

  async function bind(pod: Pod, node: string): Promise<void> {
    const key = objectKey(pod);
    assumed.set(key, { node, at: now(), pod: { ...pod, spec: { ...pod.spec, nodeName: node } } });
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
        return;
      }
      throw err;
    }
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
    const pending: Pod[] = [];
    const bound: Pod[] = [];
    for (const p of pods) {
      if (p.spec.nodeName) bound.push(p);
      else if (isPending(p) && !assumed.has(objectKey(p))) pending.push(p);
    }
    sm.pending(pending.length);
    if (pending.length === 0) return {};
    const started = performance.now();
    for (const a of assumed.values()) bound.push(a.pod);
    pending.sort((a, b) => {
      const ta = a.metadata.creationTimestamp ?? "";
      const tb = b.metadata.creationTimestamp ?? "";
      return ta < tb ? -1 : ta > tb ? 1 : a.metadata.name < b.metadata.name ? -1 : 1;
    });
    const results = scheduleBatch(pending, deps.nodes.list(), bound);
    let failed: unknown = null;
    let unschedulable = 0;
    await mapLimit(results, deps.bindConcurrency ?? 32, async ({ pod, result }) => {
      try {
        if ("node" in result) await bind(pod, result.node);
        else {
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
