/**
 * The StatefulSet controller: one work loop per StatefulSet (owner_loops.ts), each pass
 *
 *   read the set, the pods it controls (indexed by controller uid) and its namespace's claims
 *   the ControllerRevision of its template made (or renumbered as the newest, after a rollback)
 *   decideStatefulSet (pure, statefulset_decide.ts)
 *       ──▶ claim owner references fixed for the retention policy
 *       ──▶ claims created, then the pod `<set>-<ordinal>` (OrderedReady: one at a time)
 *       ──▶ pods deleted: failed ones, ordinals scaled away, old revisions in a rolling update
 *       ──▶ the status write (a compare-and-swap at the version the pass read)
 *       ──▶ revisions beyond `revisionHistoryLimit` that no pod is at deleted
 *
 * As Kubernetes' StatefulSet controller it keeps no expectations: pod names are fixed, so a
 * create the cache does not show yet fails as AlreadyExists, and a delete is made with the
 * pod's uid as precondition; either way the pass is looked at again in 100 ms. Orphaned pods
 * the selector matches and whose name is one of the set's are adopted. Woken by changes to the
 * set, its pods, orphans of its namespace and claims of its namespace. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import { matchesLabels, selectorFromSpec } from "../model/selector.ts";
import { CONTROLLER_REVISION_HASH_LABEL, type ControllerRevision, type Pod, type PodTemplateSpec, type StatefulSet, type StatefulSetStatus } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { OrphanIndex, startOwnerLoops } from "./owner_loops.ts";
import { controllerHistory, revisionTemplate } from "./controller_history.ts";
import { decideStatefulSet, parseOrdinal, type StatefulCommand, updateRevision } from "./statefulset_decide.ts";
import type { WorkLoop } from "./work_loop.ts";

export interface StatefulSetControllerDeps {
  client: ApiClient;
  statefulSets: Informer<"statefulsets">;
  pods: Informer<"pods">;
  claims: Informer<"persistentvolumeclaims">;
  revisions: Informer<"controllerrevisions">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
}

export interface StatefulSetController {
  loop: WorkLoop;
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  stop(): void;
}

const lostRace = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "AlreadyExists");

const STATUS_FIELDS = ["observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas", "currentRevision", "updateRevision", "collisionCount"] as const;
const sameStatus = (a: StatefulSetStatus | undefined, b: StatefulSetStatus) => STATUS_FIELDS.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Starts the controller; the informers must already be started. */
export function startStatefulSetController(deps: StatefulSetControllerDeps): StatefulSetController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const orphans = new OrphanIndex(deps.pods.list());

  async function run(set: StatefulSet, cmd: StatefulCommand): Promise<void> {
    const setName = set.metadata.name;
    switch (cmd.type) {
      case "updateClaimOwners": {
        const c = cmd.claim;
        await deps.client.update("persistentvolumeclaims", { ...c, metadata: { ...c.metadata, ownerReferences: cmd.ownerReferences } });
        log("claim owners follow the retention policy", { statefulSet: objectKey(set), claim: c.metadata.name });
        return;
      }
      case "createClaims":
        for (const claim of cmd.claims) {
          try {
            await deps.client.create("persistentvolumeclaims", claim, set.metadata.namespace);
          } catch (err) {
            if (err instanceof ApiError && err.reason === "AlreadyExists") continue;
            deps.recorder.record(set, "Warning", "FailedCreate", `create Claim ${claim.metadata.name} for Pod ${cmd.pod} in StatefulSet ${setName} failed error: ${message(err)}`);
            throw err;
          }
          deps.recorder.record(set, "Normal", "SuccessfulCreate", `create Claim ${claim.metadata.name} Pod ${cmd.pod} in StatefulSet ${setName} success`);
        }
        return;
      case "createPod":
        try {
          await deps.client.create("pods", cmd.pod, set.metadata.namespace);
        } catch (err) {
          const exists = err instanceof ApiError && err.reason === "AlreadyExists";
          // Our own create the cache does not show yet is a lost race (looked at again in 100 ms);
          // a pod of that name the cache does show is someone else's, which the set cannot adopt:
          // that is an error, backed off like any other.
          if (exists && !deps.pods.get(`${set.metadata.namespace ?? ""}/${cmd.pod.metadata.name}`)) throw err;
          deps.recorder.record(set, "Warning", "FailedCreate", `create Pod ${cmd.pod.metadata.name} in StatefulSet ${setName} failed error: ${exists ? `a pod named ${cmd.pod.metadata.name} already exists and is not owned by this StatefulSet` : message(err)}`);
          throw exists ? new Error(`pod ${cmd.pod.metadata.name} already exists and is not owned by StatefulSet ${objectKey(set)}`) : err;
        }
        deps.recorder.record(set, "Normal", "SuccessfulCreate", `create Pod ${cmd.pod.metadata.name} in StatefulSet ${setName} successful`);
        return;
      case "deletePod": {
        const p = cmd.pod;
        if (cmd.reason === "failed") deps.recorder.record(set, "Warning", "RecreatingFailedPod", `StatefulSet ${objectKey(set)} is recreating failed Pod ${p.metadata.name}`);
        try {
          await deps.client.delete("pods", p.metadata.name, p.metadata.namespace, { preconditions: { uid: p.metadata.uid } });
        } catch (err) {
          if (!lostRace(err)) deps.recorder.record(set, "Warning", "FailedDelete", `delete Pod ${p.metadata.name} in StatefulSet ${setName} failed error: ${message(err)}`);
          throw err;
        }
        deps.recorder.record(set, "Normal", "SuccessfulDelete", `delete Pod ${p.metadata.name} in StatefulSet ${setName} successful`);
        log("deleted a stateful pod", { statefulSet: objectKey(set), pod: p.metadata.name, why: cmd.reason });
        return;
      }
    }
  }

  /** Orphans the set may adopt: its selector matches them and their name is one of its ordinals (Kubernetes' isMemberOf). */
  function adoptable(set: StatefulSet): Pod[] {
    const candidates = orphans.inNamespace(set.metadata.namespace ?? "");
    if (candidates.length === 0) return [];
    const sel = selectorFromSpec(set.spec.selector);
    return candidates.filter((p) => !p.metadata.deletionTimestamp && parseOrdinal(p.metadata.name)?.[0] === set.metadata.name && matchesLabels(sel, p.metadata.labels ?? {}));
  }

  const history = controllerHistory({ client: deps.client, revisions: deps.revisions, log }, "statefulsets");

  /**
   * The set's template as its newest revision (Kubernetes' getStatefulSetRevisions); a name taken
   * by another revision counts a collision in the status, which changes the name on the next
   * pass. False when the pass must stop there.
   */
  async function syncRevision(set: StatefulSet, revisions: ControllerRevision[]): Promise<boolean> {
    if ((await history.sync(set, updateRevision(set), revisions)) === "ok") return true;
    const collisionCount = (set.status?.collisionCount ?? 0) + 1;
    log("revision name taken by another revision; counting a collision", { statefulSet: objectKey(set), revision: updateRevision(set), collisionCount });
    await deps.client.updateStatus("statefulsets", { ...set, status: { ...(set.status ?? {}), collisionCount } });
    return false;
  }

  async function pass(key: string, childrenOf: (uid: string) => Pod[]): Promise<{ requeueAfterMs?: number }> {
    const set = deps.statefulSets.get(key);
    if (!set) return {};
    // Adopt first, and go on once the revisions show as ours (their changes wake us).
    if (!set.metadata.deletionTimestamp && (await history.adopt(set))) return {};
    const revisions = history.revisionsOf(set);
    if (!set.metadata.deletionTimestamp && !(await syncRevision(set, revisions))) return {};
    const adopt = set.metadata.deletionTimestamp ? [] : adoptable(set);
    if (adopt.length) {
      await orphans.adopt(deps.client, set, adopt, { apiVersion: "apps/v1", kind: "StatefulSet" }, "statefulsets");
      for (const p of adopt) log("adopted an orphaned pod", { statefulSet: key, pod: p.metadata.name });
      return {};
    }
    const ns = set.metadata.namespace ?? "";
    const pods = childrenOf(set.metadata.uid!);
    const currentName = set.status?.currentRevision;
    const current = currentName ? revisions.find((r) => r.metadata.name === currentName) : undefined;
    const currentTemplate: PodTemplateSpec | undefined = current && revisionTemplate(current);
    const decision = decideStatefulSet({ set, pods, claim: (name) => deps.claims.get(`${ns}/${name}`), now: now(), ...(currentTemplate ? { currentTemplate } : {}) });
    let firstError: unknown;
    for (const cmd of decision.commands) {
      try {
        await run(set, cmd);
      } catch (err) {
        firstError = err;
        break;
      }
    }
    if (decision.waiting && decision.commands.length === 0) log("waiting", { statefulSet: key, why: decision.waiting });
    if (!sameStatus(set.status, decision.status)) {
      await deps.client.updateStatus("statefulsets", { ...set, status: { ...(set.status ?? {}), ...decision.status } });
    }
    if (!firstError && !set.metadata.deletionTimestamp) {
      const live = [decision.status.currentRevision!, decision.status.updateRevision!, ...pods.map((p) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? "")];
      await history.prune(set, revisions, live);
    }
    if (firstError) throw firstError;
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
  }

  const loops = startOwnerLoops<StatefulSet, Pod>({
    name: "statefulset",
    owners: deps.statefulSets,
    children: deps.pods,
    ownerKind: "StatefulSet",
    pass,
    lostRace,
    log,
    onChild(ev) {
      // An orphan appeared (or lost its controller): the sets of its namespace may claim it.
      if (orphans.onChange(ev)) loops.wakeNamespace(ev.object.metadata.namespace ?? "");
    },
  });

  // A claim changed (made, deleted, gone): the sets of its namespace may be waiting on it.
  const unsubscribeClaims = deps.claims.subscribe((ev) => loops.wakeNamespace(ev.object.metadata.namespace ?? ""));
  // A revision of a set changed or went: its set looks again (history, a rollback).
  const unsubscribeRevisions = history.wakeOwners(loops);

  return {
    loop: loops.loop,
    controllers: loops.controllers,
    stop() {
      unsubscribeClaims();
      unsubscribeRevisions();
      loops.stop();
    },
  };
}
