/**
 * The DaemonSet controller: one work loop per DaemonSet (owner_loops.ts), each pass
 *
 *   read the DaemonSet, every node, and the pods it controls (indexed by controller uid)
 *   decideDaemonSet (pure, daemonset_decide.ts)
 *       ──▶ pod creates, one per node that should run it and has none (slow start: 1, 2, 4, …)
 *       ──▶ pod deletes: failed, surplus, misplaced, aimed at a gone node, or replaced by an update
 *       ──▶ the status write (a compare-and-swap at the version the pass read)
 *   and the template's ControllerRevision (controller_history.ts: `kubectl rollout history|undo
 *   ds`), with the history bounded by `revisionHistoryLimit`
 *
 * Creates and deletes raise expectations (expectations.ts), so a pass never acts on a pod view
 * that does not show its own last writes yet. Woken by changes to the DaemonSet and its pods,
 * and by any node change that could change where it runs (labels, taints, readiness,
 * cordoning; not heartbeats). Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import { effectiveTaints } from "../model/scheduling.ts";
import type { DaemonSet, DaemonSetStatus, Node, Pod } from "../model/types.ts";
import { controllerHistory } from "./controller_history.ts";
import { type DaemonCommand, daemonPod, decideDaemonSet, REVISION_LABEL, templateHash } from "./daemonset_decide.ts";
import type { EventRecorder } from "./event_recorder.ts";
import { ExpectationsStore } from "./expectations.ts";
import type { Informer } from "./informer_cache.ts";
import { createPodsSlowStart, OrphanIndex, startOwnerLoops } from "./owner_loops.ts";
import type { WorkLoop } from "./work_loop.ts";

export interface DaemonSetControllerDeps {
  client: ApiClient;
  daemonSets: Informer<"daemonsets">;
  pods: Informer<"pods">;
  nodes: Informer<"nodes">;
  /** The revisions of the DaemonSets' templates (none kept without it). */
  revisions?: Informer<"controllerrevisions">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
  /** How long creates and deletes not yet seen hold a DaemonSet's passes back (default 60 s). */
  expectationsTtlMs?: number;
}

export interface DaemonSetController {
  loop: WorkLoop;
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  stop(): void;
}

const lostRace = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "AlreadyExists");

/** The parts of a node that decide whether a daemon runs there (not its heartbeat). */
function placementSignature(node: Node): string {
  return JSON.stringify([effectiveTaints(node), node.metadata.labels ?? {}]);
}

const STATUS_FIELDS = ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady", "observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable"] as const;
const sameStatus = (a: DaemonSetStatus | undefined, b: DaemonSetStatus) => STATUS_FIELDS.every((k) => (a?.[k] ?? 0) === (b[k] ?? 0));

const DELETE_REASON: Record<Extract<DaemonCommand, { type: "delete" }>["reason"], string> = {
  failed: "failed",
  surplus: "one too many on its node",
  misplaced: "its node no longer runs this daemon",
  nodeGone: "its node is gone",
};

/** Starts the controller; the informers must already be started. */
export function startDaemonSetController(deps: DaemonSetControllerDeps): DaemonSetController {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const expectations = new ExpectationsStore();

  const orphans = new OrphanIndex(deps.pods.list());
  const history = deps.revisions && controllerHistory({ client: deps.client, revisions: deps.revisions, log }, "daemonsets");

  /**
   * The template's revision `<name>-<hash>`, made the newest (a rollback renumbers an old one), and
   * old ones beyond the limit that no pod is at deleted. A name taken by another revision is only
   * logged: the pods' revision label is the hash, and the DaemonSet works without its history.
   */
  async function syncHistory(ds: DaemonSet, pods: readonly Pod[]): Promise<boolean> {
    if (!history) return false;
    if (await history.adopt(ds)) return true;
    const revisions = history.revisionsOf(ds);
    const name = `${ds.metadata.name}-${templateHash(ds)}`;
    if ((await history.sync(ds, name, revisions)) === "collision") log("revision name taken by another revision; history not kept for this template", { daemonSet: objectKey(ds), revision: name });
    const live = [name, ...pods.map((p) => `${ds.metadata.name}-${p.metadata.labels?.[REVISION_LABEL] ?? ""}`)];
    await history.prune(ds, revisions, live);
    return false;
  }

  async function createPods(ds: DaemonSet, key: string, nodes: string[]): Promise<void> {
    const hash = templateHash(ds);
    await createPodsSlowStart(deps, ds, key, expectations, nodes.map((n) => () => daemonPod(ds, n, hash)));
  }

  async function deletePods(ds: DaemonSet, key: string, pods: readonly Pod[], reason: Extract<DaemonCommand, { type: "delete" }>["reason"] | "update"): Promise<void> {
    await Promise.all(pods.map(async (p) => {
      if (reason === "failed") deps.recorder.record(ds, "Warning", "FailedDaemonPod", `Found failed daemon pod ${objectKey(p)} on node ${p.spec.nodeName ?? ""}, will try to kill it`);
      try {
        await deps.client.delete("pods", p.metadata.name, p.metadata.namespace, { preconditions: { uid: p.metadata.uid } });
        deps.recorder.record(ds, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`);
        log("deleted daemon pod", { daemonSet: key, pod: p.metadata.name, why: reason === "update" ? "replaced by the new template" : DELETE_REASON[reason] });
      } catch (err) {
        expectations.deletionObserved(key, objectKey(p));
        if (!lostRace(err)) throw err;
      }
    }));
  }

  async function pass(key: string, childrenOf: (uid: string) => Pod[]): Promise<{ requeueAfterMs?: number }> {
    const ds = deps.daemonSets.get(key);
    if (!ds || ds.metadata.deletionTimestamp) return {};
    // Revisions adopted first; go on once they show as ours (their changes wake us).
    if (await syncHistory(ds, childrenOf(ds.metadata.uid!))) return {};
    const t = now();
    if (!expectations.satisfied(key, t, deps.expectationsTtlMs)) return { requeueAfterMs: 5_000 };
    const decision = decideDaemonSet({ ds, nodes: deps.nodes.list(), pods: childrenOf(ds.metadata.uid!), orphans: orphans.inNamespace(ds.metadata.namespace ?? ""), now: t });
    if (decision.adopt.length) {
      // Adopt first, and decide again once the pods show as ours (their changes wake us).
      await orphans.adopt(deps.client, ds, decision.adopt, { apiVersion: "apps/v1", kind: "DaemonSet" }, "daemonsets");
      for (const p of decision.adopt) log("adopted an orphaned pod", { daemonSet: key, pod: p.metadata.name });
      return {};
    }
    // One expectation for every write of the pass (a second `expect` would replace the first).
    const creates = decision.commands.reduce((n, c) => n + (c.type === "create" ? c.nodes.length : 0), 0);
    const deletes = decision.commands.flatMap((c) => (c.type === "delete" ? c.pods.map(objectKey) : []));
    if (creates || deletes.length) expectations.expect(key, creates, deletes, t);
    let firstError: unknown;
    for (const cmd of decision.commands) {
      const run = cmd.type === "create" ? createPods(ds, key, cmd.nodes) : deletePods(ds, key, cmd.pods, cmd.reason);
      await run.catch((err) => (firstError ??= err));
    }
    // The rolling update, only when everything above is already seen (or was refused), and
    // decided again on the pods as they are now (a pod just created counts as unavailable), as
    // Kubernetes' syncDaemonSet and rollingUpdate do.
    if (decision.update.length && expectations.satisfied(key, now(), deps.expectationsTtlMs)) {
      const fresh = decideDaemonSet({ ds, nodes: deps.nodes.list(), pods: childrenOf(ds.metadata.uid!), now: now() });
      if (fresh.commands.length === 0 && fresh.update.length) {
        expectations.expect(key, 0, fresh.update.map(objectKey), now());
        await deletePods(ds, key, fresh.update, "update").catch((err) => (firstError ??= err));
      }
    }
    if (!sameStatus(ds.status, decision.status)) {
      await deps.client.updateStatus("daemonsets", { ...ds, status: { ...(ds.status ?? {}), ...decision.status } });
    }
    if (firstError) throw firstError;
    return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
  }

  const loops = startOwnerLoops<DaemonSet, Pod>({
    name: "daemonset",
    owners: deps.daemonSets,
    children: deps.pods,
    ownerKind: "DaemonSet",
    expectations,
    pass,
    lostRace,
    log,
    onChild(ev) {
      // An orphan appeared (or lost its controller): the DaemonSets of its namespace may claim it.
      if (orphans.onChange(ev)) loops.wakeNamespace(ev.object.metadata.namespace ?? "");
    },
  });

  const signatures = new Map<string, string>();
  for (const n of deps.nodes.list()) signatures.set(n.metadata.name, placementSignature(n));
  const unsubscribeNodes = deps.nodes.subscribe((ev) => {
    const name = ev.object.metadata.name;
    if (ev.type === "DELETED") {
      signatures.delete(name);
      loops.wakeAll();
      return;
    }
    const sig = placementSignature(ev.object);
    if (signatures.get(name) === sig) return;
    signatures.set(name, sig);
    loops.wakeAll();
  });

  // A revision of a DaemonSet changed or went: its DaemonSet looks again (history, a rollback).
  const unsubscribeRevisions = history?.wakeOwners(loops);

  return {
    loop: loops.loop,
    controllers: loops.controllers,
    stop() {
      unsubscribeRevisions?.();
      unsubscribeNodes();
      loops.stop();
    },
  };
}
