/**
 * The resource quota controller: keeps every ResourceQuota's `status.hard` and `status.used`
 * current, as Kubernetes' quota controller does. The API's admission charges a quota when it
 * admits an object; this controller gives usage back when objects go (replenishment) and
 * corrects whatever admission could not (a charge left by an API copy that died before storing
 * the object).
 *
 *   pod/RC deleted or finished ──WAKE (coalesced)──▶ work loop (work_loop.ts) ◀── every resyncMs
 *   one pass: list quotas ─▶ per namespace, list the kinds they count ─▶ quotaStatus (pure,
 *             model/quota.ts) ─▶ updateStatus, a CAS on the quota as read before the lists
 *
 * The CAS matters: an admission charge made while this pass was counting changes the quota's
 * resourceVersion, the write fails with a conflict, and the pass runs again on fresh data —
 * so a recount never silently undoes a charge it did not see. (As in Kubernetes, an object
 * charged but not yet stored when the lists ran can still be missed by one pass; the next
 * pass counts it.) Subjects: none directly — all I/O goes through the injected `ApiClient`.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { hardOf, quotaStatus, resourcesFor, sameQuantities } from "../model/quota.ts";
import type { AnyObject, Pod, Resource, ResourceQuota } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";

export interface QuotaControllerDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  /** Pod and RC changes wake the controller (deletions and finished pods give quota back). */
  pods?: Informer<"pods">;
  rcs?: Informer<"replicationcontrollers">;
  log?: Log;
  /** Full recount period. Default 30 s (deletions of pods and RCs wake it at once). */
  resyncMs?: number;
  /** Wake-ups closer together than this are coalesced into one pass. Default 500 ms. */
  minPassIntervalMs?: number;
}

export interface QuotaController {
  loop: WorkLoop;
  stop(): void;
}

const finished = (pod: Pod | undefined) => pod?.status?.phase === "Succeeded" || pod?.status?.phase === "Failed";

/** True when a pod change frees quota: the pod is gone, or has just finished. */
export function freesQuota(type: string, pod: Pod, old?: Pod): boolean {
  return type === "DELETED" || (finished(pod) && !finished(old));
}

export function startQuotaController(deps: QuotaControllerDeps): QuotaController {
  const log = deps.log ?? (() => {});
  const resyncMs = deps.resyncMs ?? 30_000;
  const minGap = deps.minPassIntervalMs ?? 500;

  async function pass(): Promise<{ requeueAfterMs?: number }> {
    const { items: quotas } = await deps.client.list("resourcequotas");
    if (quotas.length === 0) return { requeueAfterMs: resyncMs };
    /** Objects per `namespace/resource`, listed once per pass. */
    const listed = new Map<string, { resource: Resource; obj: AnyObject }[]>();
    const objectsIn = async (ns: string, resources: Resource[]) => {
      const out: { resource: Resource; obj: AnyObject }[] = [];
      for (const r of resources) {
        const key = `${ns}/${r}`;
        let objs = listed.get(key);
        if (!objs) {
          const { items } = await deps.client.list(r, { namespace: ns });
          objs = items.map((obj) => ({ resource: r, obj: obj as AnyObject }));
          listed.set(key, objs);
        }
        out.push(...objs);
      }
      return out;
    };
    let conflicts = 0;
    for (const q of quotas as ResourceQuota[]) {
      const ns = q.metadata.namespace ?? "default";
      const status = quotaStatus(q, await objectsIn(ns, resourcesFor(Object.keys(hardOf(q)))));
      if (sameQuantities(q.status?.hard, status.hard) && sameQuantities(q.status?.used, status.used)) continue;
      try {
        await deps.client.updateStatus("resourcequotas", { ...q, status });
      } catch (e) {
        // Charged or changed meanwhile (or deleted): count again on fresh data.
        if (e instanceof ApiError && (e.reason === "Conflict" || e.reason === "NotFound")) conflicts++;
        else throw e;
      }
    }
    return { requeueAfterMs: conflicts ? 100 : resyncMs };
  }

  const loop = startWorkLoop("resource-quota", pass, log, deps.observe);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const wake = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      loop.wake();
    }, minGap);
  };
  const unsubscribe = [
    deps.pods?.subscribe((ev) => {
      if (freesQuota(ev.type, ev.object, ev.old)) wake();
    }),
    deps.rcs?.subscribe((ev) => {
      if (ev.type === "DELETED") wake();
    }),
  ];
  return {
    loop,
    stop() {
      for (const u of unsubscribe) u?.();
      if (timer) clearTimeout(timer);
      loop.stop();
    },
  };
}
