/**
 * The pvc-protection controller, as kube-controller-manager's: every live PersistentVolumeClaim
 * carries the finalizer `kubernetes.io/pvc-protection`; a deleted one loses it only when no
 * scheduled pod of its namespace names it, whatever the pod's phase (`podUsesPVC`: a finished
 * pod that still exists keeps its claim; an unscheduled one does not, since the kubelet refuses
 * to start a pod whose claim is being deleted), so `kubectl delete pvc` of a claim in use leaves
 * it Terminating until those pods are gone.
 *
 *   claims informer (any change) ────────────────────────────────┐
 *   pods informer (a scheduled pod naming a claim deleted) ──────┴─▶ wake ─▶ work loop
 *   one pass: protectionCommands (pure, volume_claims_decide.ts) ─▶ per claim:
 *     protect → update with the finalizer added (compare-and-swap)
 *     release → the namespace's pods listed afresh from the API (a consistent read: the pod
 *               informer may not show a pod made a moment ago; one list per namespace per
 *               pass), checked again, then update with the finalizer taken off (compare-and-swap)
 *   A lost compare-and-swap, or a claim gone, is no failure: the informer shows the change and
 *   wakes the loop. Any other failure does not hold the other claims back: the pass carries on
 *   and fails with the first error at its end (the loop backs off and tries again).
 *   Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { Observe } from "../model/observe.ts";
import { type Pod, PVC_PROTECTION_FINALIZER } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";
import { claimInUse, podClaimNames, protectionCommands } from "./volume_claims_decide.ts";
import { errorText, type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface PvcProtectionDeps {
  client: ApiClient;
  claims: Informer<"persistentvolumeclaims">;
  pods: Informer<"pods">;
  log?: Log;
  observe?: Observe;
}

export interface PvcProtection {
  loop: WorkLoop;
  stop(): void;
}

export function startPvcProtection(deps: PvcProtectionDeps): PvcProtection {
  const log = deps.log ?? (() => {});
  /** Claims being deleted and still protected: while there are none, pod events need no pass. */
  let waiting = 0;

  const loop = startWorkLoop("pvc-protection", async () => {
    const claims = deps.claims.list();
    const commands = protectionCommands(claims, deps.pods.list());
    waiting = claims.filter((c) => c.metadata.deletionTimestamp && c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER)).length;
    /** The pods of a namespace as the API has them now: listed once per pass, when first needed. */
    const fresh = new Map<string, Promise<Pod[]>>();
    const podsOf = (ns: string): Promise<Pod[]> => {
      let p = fresh.get(ns);
      if (!p) fresh.set(ns, (p = deps.client.list("pods", { namespace: ns }).then((l) => l.items)));
      return p;
    };
    let failed: unknown;
    for (const cmd of commands) {
      const key = objectKey(cmd.claim);
      try {
        // The pod informer will show the pod, and its end.
        if (cmd.type === "release" && claimInUse(cmd.claim, await podsOf(cmd.claim.metadata.namespace ?? "default"))) continue;
        await deps.client.update("persistentvolumeclaims", cmd.next);
        log(cmd.type === "release" ? "removed the pvc-protection finalizer: no pod uses the claim" : "added the pvc-protection finalizer", { claim: key });
      } catch (err) {
        if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound")) continue;
        // The other claims still have their turn; the pass fails at its end, and is retried.
        log("pvc-protection failed for a claim", { claim: key, error: errorText(err) });
        failed ??= err;
      }
    }
    if (failed) throw failed;
    return {};
  }, log, deps.observe);

  const unsubscribe = [
    deps.claims.subscribe(() => loop.wake()),
    deps.pods.subscribe((ev) => {
      // Only the deletion of a scheduled pod that names a claim can let a deleted claim go.
      if (waiting > 0 && ev.type === "DELETED" && ev.object.spec.nodeName && podClaimNames(ev.object).length > 0) loop.wake();
    }),
  ];
  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
