/**
 * The horizontal pod autoscaler controller, as kube-controller-manager's: every sync period
 * (15 s) each HorizontalPodAutoscaler reads its target's scale, measures the pods the scale's
 * selector picks (the node agents' usage reports, as metrics.k8s.io serves them), and sets the
 * target's replicas through its `/scale` subresource. The decisions are hpa_decide.ts's.
 *
 *   autoscalers informer (an autoscaler made or changed) ──▶ that one synced now ─┐
 *   every sync period ──────────────────────────────────────▶ every one synced    ├─▶ one pass
 *   one pass, per autoscaler due:
 *     GET its target's scale ──fails──▶ AbleToScale=False FailedGetScale, Event
 *       └─▶ decideHpa (pure: metrics → replicas → stabilized → rate-limited)
 *             └─▶ rescale? PUT the scale ──ok──▶ SucceededRescale, SuccessfulRescale Event
 *                                         └─fails─▶ FailedUpdateScale, FailedRescale Event
 *     status written when it changed (compare-and-swap at the version read; a lost race is
 *     synced again on the next pass)
 *   Recent recommendations and scale changes (the stabilization window, the rate limits) are
 *   kept in memory per autoscaler, as Kubernetes keeps them: a restart starts the window again.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { jsonEqual } from "../model/json_equal.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { Observe } from "../model/observe.ts";
import { matchesLabels, parseLabelSelector } from "../model/selector.ts";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerStatus, Pod, ScalableResource } from "../model/types.ts";
import type { UsageReport } from "../model/usage.ts";
import type { EventRecorder } from "./event_recorder.ts";
import { decideHpa, type HpaMemory, rescaled, rescaleFailed, scaleUnreadable, usageByPod } from "./hpa_decide.ts";
import type { Informer } from "./informer_cache.ts";
import { errorText, startWorkLoop, type WorkLoop } from "./work_loop.ts";

/** Kubernetes' `--horizontal-pod-autoscaler-sync-period`. */
export const HPA_SYNC_PERIOD_MS = 15_000;

export interface HpaControllerDeps {
  client: ApiClient;
  autoscalers: Informer<"horizontalpodautoscalers">;
  pods: Informer<"pods">;
  /** The node agents' newest usage reports (the control plane's UsageStore); none: no metrics. */
  usage?: () => UsageReport[];
  recorder: EventRecorder;
  syncPeriodMs?: number;
  log?: Log;
  observe?: Observe;
  now?: () => number;
}

export interface HpaController {
  loop: WorkLoop;
  stop(): void;
}

/** The scalable resource behind a `scaleTargetRef` (kind, and the API group of its apiVersion). */
export function scaleResourceOf(ref: { apiVersion?: string; kind: string }): ScalableResource | undefined {
  const group = ref.apiVersion?.includes("/") ? ref.apiVersion.split("/")[0] : "";
  if (ref.kind === "ReplicationController" && group === "") return "replicationcontrollers";
  if (group !== "apps" && ref.apiVersion !== undefined) return undefined;
  if (ref.kind === "Deployment") return "deployments";
  if (ref.kind === "ReplicaSet") return "replicasets";
  if (ref.kind === "StatefulSet") return "statefulsets";
  return undefined;
}

/** An error as Kubernetes words it in conditions and events: the API's message, without a class name. */
function messageOf(e: unknown): string {
  return e instanceof ApiError ? e.message : errorText(e);
}

export function startHpaController(deps: HpaControllerDeps): HpaController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const period = deps.syncPeriodMs ?? HPA_SYNC_PERIOD_MS;
  /** Autoscaler key → its memory, for the object with that uid. */
  const memories = new Map<string, { uid: string | undefined; memory: HpaMemory }>();
  /** Autoscaler key → when it is next due (ms). */
  const due = new Map<string, number>();

  const loop = startWorkLoop("horizontal-pod-autoscaler", async () => {
    const t = now();
    const keys = [...due].filter(([, at]) => at <= t).map(([k]) => k);
    let usage: ReturnType<typeof usageByPod> | undefined;
    let failed: unknown;
    for (const key of keys) {
      const hpa = deps.autoscalers.get(key);
      if (!hpa) {
        due.delete(key);
        memories.delete(key);
        continue;
      }
      due.set(key, t + period);
      try {
        usage ??= usageByPod(deps.usage?.() ?? []);
        await syncOne(hpa, usage, t);
      } catch (err) {
        if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound")) continue;
        log("autoscaler sync failed", { hpa: key, error: errorText(err) });
        failed ??= err;
      }
    }
    if (failed) throw failed;
    let next: number | undefined;
    for (const at of due.values()) next = next === undefined ? at : Math.min(next, at);
    return next === undefined ? {} : { requeueAfterMs: Math.max(1, next - now()) };
  }, log, deps.observe);

  async function syncOne(hpa: HorizontalPodAutoscaler, usage: ReturnType<typeof usageByPod>, t: number): Promise<void> {
    const key = objectKey(hpa);
    const ns = hpa.metadata.namespace ?? "default";
    const ref = hpa.spec.scaleTargetRef;
    const resource = scaleResourceOf(ref);
    let status: HorizontalPodAutoscalerStatus;
    let events: { type: "Normal" | "Warning"; reason: string; message: string }[];
    const scale = resource
      ? await deps.client.getScale(ref.name, ns, resource).catch((e: unknown) => {
        if (e instanceof ApiError && e.reason !== "NotFound" && e.reason !== "Forbidden") throw e;
        return messageOf(e);
      })
      : `no matches for kind "${ref.kind}" in group "${ref.apiVersion?.includes("/") ? ref.apiVersion.split("/")[0] : ""}"`;
    if (typeof scale === "string") {
      ({ status, events } = scaleUnreadable(hpa, scale, t));
    } else {
      const current = scale.spec.replicas ?? 0;
      const selector = scale.status.selector ? parseLabelSelector(scale.status.selector) : undefined;
      const pods: Pod[] = selector
        ? deps.pods.list().filter((p) => (p.metadata.namespace ?? "default") === ns && matchesLabels(selector, p.metadata.labels))
        : [];
      let d = decideHpa({
        hpa,
        currentReplicas: current,
        pods,
        usage: (p) => usage.get(`${ns}/${p.metadata.name}`),
        memory: memories.get(key)?.uid === hpa.metadata.uid ? memories.get(key)!.memory : undefined,
        now: t,
      });
      if (d.rescale) {
        try {
          await deps.client.updateScale(ref.name, d.rescale.replicas, ns, resource);
          d = rescaled(d, current, t);
          log("autoscaler rescaled its target", { hpa: key, target: `${ref.kind}/${ref.name}`, from: current, to: d.rescale!.replicas, reason: d.rescale!.reason });
        } catch (err) {
          d = rescaleFailed(d, hpa, current, messageOf(err), t);
        }
      }
      // Kept only while this autoscaler is still there: one deleted meanwhile (or made again
      // under its name, a new uid) must not find an old memory.
      if (deps.autoscalers.get(key)?.metadata.uid === hpa.metadata.uid) memories.set(key, { uid: hpa.metadata.uid, memory: d.memory });
      ({ status, events } = d);
    }
    for (const e of events) deps.recorder.record(hpa, e.type, e.reason, e.message);
    if (!jsonEqual(hpa.status ?? null, status)) await deps.client.updateStatus("horizontalpodautoscalers", { ...hpa, status });
  }

  const unsubscribe = deps.autoscalers.subscribe((ev) => {
    const key = objectKey(ev.object);
    if (ev.type === "DELETED") {
      due.delete(key);
      memories.delete(key);
      return;
    }
    // A status write of our own is no reason to sync again; a new or changed spec is.
    if (ev.type === "MODIFIED" && ev.old && ev.old.metadata.generation === ev.object.metadata.generation && jsonEqual(ev.old.spec, ev.object.spec)) return;
    due.set(key, now());
    loop.wake();
  });
  for (const hpa of deps.autoscalers.list()) due.set(objectKey(hpa), now());
  loop.wake();

  return {
    loop,
    stop() {
      unsubscribe();
      loop.stop();
    },
  };
}
