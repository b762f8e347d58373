/**
 * A node's PersistentVolumeClaims: the local volumes of the claims placed on this node, from
 * first mount to reclaim (policy Delete). Built once by the agent (agent.ts):
 *
 *   claims informer (every claim; this node keeps to those whose volume.kubernetes.io/
 *   selected-node names it — claims are few next to pods, and a node may read them all)
 *     ├── prepare  before a container of a pod is made (pod_effects.ts): each claim the pod
 *     │            names exists, is on this node and — for a pod's first start — is not being
 *     │            deleted (actors/volume_claims_decide.ts `claimMountProblem`). At a first start
 *     │            each claim is read live (one GET per claim), as the kubelet's getPVCExtractPV
 *     │            does: pvc-protection lets go of a claim no scheduled pod names, trusting the
 *     │            node to refuse a claim being deleted, which a lagging cache would not show.
 *     │            Later starts read the cache, and live only when the cache says no. A problem
 *     │            is a FailedMount message; the container waits ContainerCreating, retried
 *     ├── reclaim  a work loop, woken by a deleted claim of this node, once the informer has
 *     │            listed (its first list's events come before it is synced), and on every
 *     │            collection (level-based: nothing is missed while the agent was away): once
 *     │            pvc-protection has let a claim go, the Docker volume is removed, then the
 *     │            claim's finalizer berth.dev/local-volume (update at the version read). A
 *     │            claim a pod of this node still names while its containers are being removed
 *     │            (a deleted finished pod goes from the API at once) waits for the agent's wake
 *     │            when they are gone; a volume Docker still refuses as in use is tried again
 *     │            after `retryMs`; a claim that fails does not hold the others back
 *     └── collect  on the agent's GC period: a claim volume of this node (labels berth.node,
 *                  berth.volume.kind=persistent) whose claim uid no claim has any more, seen so
 *                  on two collections in a row, is removed — left by a node that was away when
 *                  its claim went (the control plane then dropped the finalizer, ClaimLost)
 *
 * The volume of claim uid U is `berth-pvc-U` (model/container_runtime.ts `claimVolumeName`):
 * the claim deleted and made again under its name is another uid, so it starts empty even if
 * the old volume were still there. Only volumes labelled with this node are ever listed; the
 * runtime given is the agent's cluster-scoped view.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import { claimVolumeName, type ContainerRuntime, LABELS, type VolumeInfo } from "../../model/container_runtime.ts";
import { LOCAL_VOLUME_FINALIZER, type PersistentVolumeClaim, type Pod } from "../../model/types.ts";
import { objectKey } from "../../model/names.ts";
import { Informer } from "../../actors/informer_cache.ts";
import { startWorkLoop, errorText, type WorkLoop } from "../../actors/work_loop.ts";
import { claimKey, claimMountProblem, claimsToReclaim, failedMountMessage, selectedNode, withoutFinalizer } from "../../actors/volume_claims_decide.ts";

/** The pod's claims ready to mount (claim name → uid), or why not (a FailedMount message). */
export type ClaimPrepare = { type: "ok"; uids: Record<string, string> } | { type: "error"; message: string };

/** What pod effects need of the node's claims. */
export interface ClaimMounts {
  /** Checks every claim `pod` names; `firstStart`: no container of the pod has run yet. */
  prepare(pod: Pod, firstStart: boolean): Promise<ClaimPrepare>;
}

export interface NodeClaims extends ClaimMounts {
  /** The claims informer; started with `start`. */
  readonly informer: Informer<"persistentvolumeclaims">;
  /** Lists the claims (rejects when the list fails: the agent retries), then runs a reclaim pass. */
  start(): Promise<void>;
  readonly reclaimer: WorkLoop;
  /** Removes this node's claim volumes whose claims are gone (see the file comment). */
  collect(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeClaimsOptions {
  client: ApiClient;
  /** The agent's cluster-scoped runtime. */
  runtime: ContainerRuntime;
  node: string;
  log?: Log;
  /** Wait before trying again to remove a volume still in use (default 5 s). */
  retryMs?: number;
  /**
   * True while a pod of this node naming the claim still has containers (the agent's pod
   * supervisor): its volume is not tried until then — the agent wakes the reclaimer when such a
   * pod's containers are gone — so Docker is not asked to remove a volume a container refers to.
   */
  inUse?: (namespace: string, claim: string) => boolean;
}

/**
 * The claim volumes to remove now, and those to look at again next time: a volume whose claim
 * uid is not live is removed when it was a suspect already, else it becomes one. Volumes without
 * a claim uid label (made before claims were served) are never touched. Pure.
 */
export function orphanClaimVolumes(volumes: readonly VolumeInfo[], liveUids: ReadonlySet<string>, suspects: ReadonlySet<string>): { remove: string[]; suspects: Set<string> } {
  const remove: string[] = [];
  const next = new Set<string>();
  for (const v of volumes) {
    const uid = v.labels[LABELS.claimUid];
    if (!uid || liveUids.has(uid)) continue;
    if (suspects.has(v.name)) remove.push(v.name);
    else next.add(v.name);
  }
  return { remove, suspects: next };
}

/** How soon a reclaim pass that found the claims not listed yet runs again. */
const NOT_SYNCED_RETRY_MS = 250;

/** Builds this node's claim handling; the caller calls `start` (with its retry). */
export function nodeClaims(opts: NodeClaimsOptions): NodeClaims {
  const { client, runtime, node } = opts;
  const log: Log = opts.log ?? (() => {});
  const informer = new Informer(client, "persistentvolumeclaims", { log });
  let suspects = new Set<string>();
  let stopped = false;

  async function fresh(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    try {
      return await client.get("persistentvolumeclaims", name, namespace);
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") return undefined;
      throw e; // the API away: the step fails and is retried
    }
  }

  async function prepare(pod: Pod, firstStart: boolean): Promise<ClaimPrepare> {
    const ns = pod.metadata.namespace ?? "default";
    const uids: Record<string, string> = {};
    for (const v of pod.spec.volumes ?? []) {
      const name = v.persistentVolumeClaim?.claimName;
      if (name === undefined || uids[name] !== undefined) continue;
      // A first start reads live: the cache may not show the claim's deletion yet.
      let claim = firstStart ? await fresh(ns, name) : informer.get(claimKey(ns, name));
      let problem = claimMountProblem(claim, ns, name, node, firstStart);
      if (problem !== undefined && !firstStart) {
        // The cache may lag the scheduler's placement, or the claim's creation.
        claim = await fresh(ns, name);
        problem = claimMountProblem(claim, ns, name, node, firstStart);
      }
      if (problem !== undefined) {
        const volumes = (pod.spec.volumes ?? []).filter((x) => x.persistentVolumeClaim?.claimName === name).map((x) => x.name);
        return { type: "error", message: failedMountMessage(volumes, problem) };
      }
      uids[name] = claim!.metadata.uid ?? "";
    }
    return { type: "ok", uids };
  }

  const retryMs = opts.retryMs ?? 5_000;
  const reclaimer = startWorkLoop(`claim-reclaim-${node}`, async () => {
    // Woken by the first list's events, which come before the informer counts as synced: look
    // again shortly (`start` also wakes the loop once it is, and so does every collection).
    if (!informer.synced) return { requeueAfterMs: NOT_SYNCED_RETRY_MS };
    let retry = false;
    let failed: unknown;
    for (const claim of claimsToReclaim(informer.list(), node)) {
      const key = objectKey(claim);
      const volume = claimVolumeName(claim.metadata.uid ?? "");
      if (opts.inUse?.(claim.metadata.namespace ?? "default", claim.metadata.name)) {
        retry = true; // woken when the pod's containers are gone; the retry is a fallback
        continue;
      }
      try {
        await runtime.removeVolume(volume);
      } catch (e) {
        // Still in use by a container this node has not removed yet, or the engine away.
        retry = true;
        log("the volume of a deleted claim is not removed yet; retrying", { claim: key, volume, error: errorText(e) });
        continue;
      }
      try {
        await client.update("persistentvolumeclaims", withoutFinalizer(claim, LOCAL_VOLUME_FINALIZER));
        log("reclaimed the volume of a deleted claim", { claim: key, volume });
      } catch (e) {
        // Changed or gone meanwhile: the informer shows the new state and wakes the loop.
        if (e instanceof ApiError && (e.reason === "Conflict" || e.reason === "NotFound")) continue;
        // The API away: the other claims still have their turn; the pass fails at its end.
        log("taking the volume finalizer off a reclaimed claim failed", { claim: key, volume, error: errorText(e) });
        failed ??= e;
      }
    }
    if (failed) throw failed;
    return retry ? { requeueAfterMs: retryMs } : {};
  }, log);
  const unsubscribe = informer.subscribe((ev) => {
    const c = ev.object;
    if (ev.type !== "DELETED" && c.metadata.deletionTimestamp && selectedNode(c) === node) reclaimer.wake();
  });

  return {
    informer,
    reclaimer,
    prepare,
    async start() {
      await informer.start();
      // The first list's events came before the informer counted as synced: the passes they
      // woke saw nothing. Now it is, one pass looks at every claim (a claim released while
      // this node's agent was down has no event left to come).
      if (!stopped) reclaimer.wake();
    },
    async collect() {
      if (stopped || !informer.synced) return;
      reclaimer.wake(); // level-based: whatever an event may have missed is looked at again
      if (informer.staleFor() > 0) return;
      try {
        const volumes = await runtime.listVolumes({ [LABELS.node]: node, [LABELS.volumeKind]: "persistent" });
        const live = new Set(informer.list().map((c) => c.metadata.uid ?? ""));
        const found = orphanClaimVolumes(volumes, live, suspects);
        suspects = found.suspects;
        for (const name of found.remove) {
          if (stopped) return;
          log("removing the volume of a claim that no longer exists", { volume: name });
          await runtime.removeVolume(name).catch((e) => log("removing an orphaned claim volume failed; trying again later", { volume: name, error: errorText(e) }));
        }
      } catch (e) {
        // The engine away: the next period collects again.
        log("claim volume collection failed", { error: errorText(e) });
      }
    },
    async stop() {
      stopped = true;
      unsubscribe();
      reclaimer.stop();
      await informer.stop();
    },
  };
}
