/**
 * The disruption controller, as kube-controller-manager's: keeps each PodDisruptionBudget's
 * status (how many of its pods are healthy, how many it needs, how many may be evicted now) so
 * that the eviction subresource can decide on it. The decisions are disruption_decide.ts's.
 *
 *   budgets informer (any change of a budget) ────────────────▶ that budget dirty
 *   pods informer (a pod the budget picks, before or after) ──▶ its budgets dirty ─┐
 *   RC / ReplicaSet / Deployment / StatefulSet change ────────▶ the namespace's    ├─▶ WAKE
 *                                                               budgets dirty      │
 *   an eviction's entry in disruptedPods runs out (2 min) ────▶ requeue ───────────┘
 *   one pass: every dirty budget ─▶ syncBudget (pure) ─▶ status written (compare-and-swap at
 *             the version read; a lost race or a budget gone is no failure: the informer
 *             shows the change and wakes the loop), events recorded (NoPods, UnmanagedPods,
 *             CalculateExpectedPodCountFailed on the budget; NotDeleted on a pod)
 *   A budget that fails is dirty again; the pass carries on and fails at its end (back-off).
 *   With no budget in a namespace its pod changes cost a map lookup. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { Observe } from "../model/observe.ts";
import { matchesLabels, selectorFromSpec } from "../model/selector.ts";
import type { KubeObject, OwnerReference, Pod, PodDisruptionBudget } from "../model/types.ts";
import { type ScaleOf, syncBudget } from "./disruption_decide.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { jsonEqual } from "../model/json_equal.ts";
import { errorText, type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface DisruptionControllerDeps {
  client: ApiClient;
  budgets: Informer<"poddisruptionbudgets">;
  pods: Informer<"pods">;
  rcs: Informer<"replicationcontrollers">;
  replicaSets: Informer<"replicasets">;
  deployments: Informer<"deployments">;
  statefulSets: Informer<"statefulsets">;
  recorder: EventRecorder;
  log?: Log;
  observe?: Observe;
  now?: () => number;
}

export interface DisruptionController {
  loop: WorkLoop;
  stop(): void;
}

/** Controller kinds Berth serves that have no scale subresource, as `resource.group`. */
const NO_SCALE: Record<string, string> = { DaemonSet: "daemonsets.apps", Job: "jobs.batch", CronJob: "cronjobs.batch" };

/** `o` when it is the object with `uid` (a controller deleted and made again under its name is another). */
function withUid<T extends KubeObject>(o: T | undefined, uid: string): T | undefined {
  return o && o.metadata.uid === uid ? o : undefined;
}

export function startDisruptionController(deps: DisruptionControllerDeps): DisruptionController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  /** Budget keys by namespace (from the informer's events). */
  const byNamespace = new Map<string, Set<string>>();
  const dirty = new Set<string>();
  /** Budget key → when an entry of its disruptedPods runs out (ms). */
  const rechecks = new Map<string, number>();

  const scaleOf: ScaleOf = (ref: OwnerReference, ns: string) => {
    const key = `${ns}/${ref.name}`;
    switch (ref.kind) {
      case "ReplicationController": {
        const rc = withUid(deps.rcs.get(key), ref.uid);
        return rc && { uid: ref.uid, replicas: rc.spec.replicas ?? 1 };
      }
      case "ReplicaSet": {
        const rs = withUid(deps.replicaSets.get(key), ref.uid);
        if (!rs) return undefined;
        // A Deployment's ReplicaSet counts as its Deployment (one scale for all its sets).
        const owner = rs.metadata.ownerReferences?.find((o) => o.controller);
        const d = owner?.kind === "Deployment" ? withUid(deps.deployments.get(`${ns}/${owner.name}`), owner.uid) : undefined;
        // Its Deployment gone (an orphaned set), the set's own scale counts, as Kubernetes' scale finder.
        return d ? { uid: owner!.uid, replicas: d.spec.replicas ?? 1 } : { uid: ref.uid, replicas: rs.spec.replicas ?? 1 };
      }
      case "StatefulSet": {
        const set = withUid(deps.statefulSets.get(key), ref.uid);
        return set && { uid: ref.uid, replicas: set.spec.replicas ?? 1 };
      }
      default: {
        // Kinds served without a scale subresource: kube's scale finder names them.
        const noScale = NO_SCALE[ref.kind];
        if (noScale) throw new Error(`${noScale} does not implement the scale subresource`);
        return undefined;
      }
    }
  };

  const loop = startWorkLoop("disruption", async () => {
    const t = now();
    for (const [key, at] of rechecks) {
      if (at <= t) {
        rechecks.delete(key);
        dirty.add(key);
      }
    }
    const keys = [...dirty];
    dirty.clear();
    const pods = keys.length ? deps.pods.list() : [];
    let failed: unknown;
    for (const key of keys) {
      const pdb = deps.budgets.get(key);
      if (!pdb) {
        rechecks.delete(key);
        continue;
      }
      try {
        await syncOne(pdb, pods, t);
      } catch (err) {
        if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound")) continue;
        log("disruption budget sync failed", { budget: key, error: errorText(err) });
        dirty.add(key);
        failed ??= err;
      }
    }
    if (failed) throw failed;
    let next: number | undefined;
    for (const at of rechecks.values()) next = next === undefined ? at : Math.min(next, at);
    return next === undefined ? {} : { requeueAfterMs: Math.max(1, next - now()) };
  }, log, deps.observe);

  async function syncOne(pdb: PodDisruptionBudget, pods: Pod[], t: number): Promise<void> {
    const key = objectKey(pdb);
    const result = syncBudget(pdb, pods, scaleOf, t);
    for (const e of result.events) deps.recorder.record(pdb, e.type, e.reason, e.message);
    for (const name of result.notDeleted) {
      const pod = deps.pods.get(`${pdb.metadata.namespace ?? "default"}/${name}`);
      if (pod) deps.recorder.record(pod, "Warning", "NotDeleted", `Pod was expected by PDB ${key} to be deleted but it wasn't`);
    }
    if (result.status) {
      await deps.client.updateStatus("poddisruptionbudgets", { ...pdb, status: result.status });
      log("disruption budget status updated", { budget: key, disruptionsAllowed: result.status.disruptionsAllowed, currentHealthy: result.status.currentHealthy, desiredHealthy: result.status.desiredHealthy });
    }
    if (result.recheckAfterMs !== undefined) rechecks.set(key, t + result.recheckAfterMs);
    else rechecks.delete(key);
  }

  const markNamespace = (ns: string) => {
    const keys = byNamespace.get(ns);
    if (!keys?.size) return;
    for (const k of keys) dirty.add(k);
    loop.wake();
  };

  const noteBudget = (pdb: PodDisruptionBudget, deleted: boolean) => {
    const key = objectKey(pdb);
    const ns = pdb.metadata.namespace ?? "default";
    if (deleted) byNamespace.get(ns)?.delete(key);
    else {
      let set = byNamespace.get(ns);
      if (!set) byNamespace.set(ns, (set = new Set()));
      set.add(key);
    }
    dirty.add(key);
  };

  const unsubscribe = [
    deps.budgets.subscribe((ev) => {
      noteBudget(ev.object, ev.type === "DELETED");
      loop.wake();
    }),
    deps.pods.subscribe((ev) => {
      const ns = ev.object.metadata.namespace ?? "default";
      const keys = byNamespace.get(ns);
      if (!keys?.size) return;
      let any = false;
      for (const k of keys) {
        const pdb = deps.budgets.get(k);
        if (!pdb) continue;
        const sel = selectorFromSpec(pdb.spec.selector);
        if (matchesLabels(sel, ev.object.metadata.labels) || (ev.old && matchesLabels(sel, ev.old.metadata.labels))) {
          dirty.add(k);
          any = true;
        }
      }
      if (any) loop.wake();
    }),
    // A controller's scale is the denominator of a percentage and of maxUnavailable.
    // Only a change of that scale (or of who owns a ReplicaSet) matters, not status writes.
    ...[deps.rcs, deps.replicaSets, deps.deployments, deps.statefulSets].map((inf) =>
      (inf as Informer<"replicationcontrollers">).subscribe((ev) => {
        if (ev.type === "MODIFIED" && ev.old && ev.old.spec.replicas === ev.object.spec.replicas && jsonEqual(ev.old.metadata.ownerReferences ?? null, ev.object.metadata.ownerReferences ?? null)) return;
        markNamespace(ev.object.metadata.namespace ?? "default");
      })),
  ];

  // The budgets listed before this subscribed.
  for (const pdb of deps.budgets.list()) noteBudget(pdb, false);
  loop.wake();

  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
