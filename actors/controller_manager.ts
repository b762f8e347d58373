/**
 * The controller manager: keeps exactly one replication controller actor per RC object.
 *
 *   RC informer change ──WAKE──▶ manager work loop (work_loop.ts) ── pass: diffControllers (pure)
 *       start: a new root actor per new RC (own error observer), kept in a Map
 *       stop:  the actor of an RC that is gone
 *   pod informer change ──▶ expectations observed, then WAKE the RC actors concerned:
 *       the pod's controller, and (for orphans or relabelled pods) every RC of the namespace
 *       whose selector matches its old or new labels.
 *
 * RC actors are independent roots in a Map, not children of this machine: xstate copies a
 * parent's children map on every spawn, which is quadratic with thousands of controllers.
 * The manager also indexes the pod cache by controller (plus each namespace's orphans), so an
 * RC's pass reads only the pods it could own. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import type { Pod } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import { ExpectationsStore } from "./expectations.ts";
import { type Informer, type InformerEvent } from "./informer_cache.ts";
import { type ReplicaOwnerInformer, replicaOwners, startReplicationController } from "./replication_controller.ts";
import { ownerMatches, type ReplicaOwner } from "./replication_controller_reconcile.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { objectKey } from "../model/names.ts";

export interface ControllerManagerDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  pods: Informer<"pods">;
  /** RCs, or (a second manager) ReplicaSets: the same actor runs both. */
  rcs: Informer<"replicationcontrollers"> | Informer<"replicasets">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
  expectationsTtlMs?: number;
}

export interface ControllerManager {
  loop: WorkLoop;
  /** The running RC actors by `namespace/name`. */
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  expectations: ExpectationsStore;
  /** Wakes the actor of one RC (the actor API's "look again"). */
  wake(key: string): void;
  stop(): void;
}

/** Which RC actors to start and stop so that there is one per RC. */
export function diffControllers(running: Iterable<string>, wanted: Iterable<string>): { start: string[]; stop: string[] } {
  const have = new Set(running);
  const want = new Set(wanted);
  return { start: [...want].filter((k) => !have.has(k)), stop: [...have].filter((k) => !want.has(k)) };
}

/** Starts the manager; the informers must already be started. */
export function startControllerManager(deps: ControllerManagerDeps): ControllerManager {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const expectations = new ExpectationsStore();
  const controllers = new Map<string, WorkLoop>();
  /**
   * The pod cache indexed the way reconcile reads it: by controller uid, plus the orphans of
   * each namespace (candidates for adoption). Pods controlled by someone else are never read,
   * so an RC's pass costs its own pods, not the namespace's.
   */
  const byOwner = new Map<string, Map<string, Pod>>();
  const orphansByNs = new Map<string, Map<string, Pod>>();
  const indexedUnder = new Map<string, Map<string, Pod>>();
  const rcKeyByUid = new Map<string, string>();
  const owners: ReplicaOwnerInformer = replicaOwners(deps.rcs);

  function bucket(index: Map<string, Map<string, Pod>>, k: string): Map<string, Pod> {
    let m = index.get(k);
    if (!m) index.set(k, (m = new Map()));
    return m;
  }
  function unindexPod(key: string) {
    const m = indexedUnder.get(key);
    if (m) m.delete(key);
    indexedUnder.delete(key);
  }
  function indexPod(p: Pod) {
    const key = objectKey(p);
    unindexPod(key);
    const owner = p.metadata.ownerReferences?.find((o) => o.controller);
    const m = owner ? bucket(byOwner, owner.uid) : bucket(orphansByNs, p.metadata.namespace ?? "default");
    m.set(key, p);
    indexedUnder.set(key, m);
  }
  for (const p of deps.pods.list()) indexPod(p);
  function podsFor(rc: ReplicaOwner): Pod[] {
    const own = rc.metadata.uid ? byOwner.get(rc.metadata.uid) : undefined;
    const orphans = orphansByNs.get(rc.metadata.namespace ?? "default");
    return [...(own?.values() ?? []), ...(orphans?.values() ?? [])];
  }

  const rcDeps = {
    client: deps.client,
    rcs: owners,
    podsFor,
    expectations,
    recorder: deps.recorder,
    log,
    now,
    expectationsTtlMs: deps.expectationsTtlMs,
    observe: deps.observe,
  };

  async function pass(): Promise<void> {
    const wanted = new Map<string, ReplicaOwner>();
    for (const rc of owners.list()) wanted.set(objectKey(rc), rc);
    const { start, stop } = diffControllers(controllers.keys(), wanted.keys());
    for (const key of stop) {
      controllers.get(key)?.stop();
      controllers.delete(key);
      expectations.delete(key);
      log("replication controller actor stopped", { rc: key });
    }
    rcKeyByUid.clear();
    for (const [key, rc] of wanted) if (rc.metadata.uid) rcKeyByUid.set(rc.metadata.uid, key);
    for (const key of start) {
      controllers.set(key, startReplicationController(key, rcDeps));
      log("replication controller actor started", { rc: key });
    }
  }

  const loop = startWorkLoop(owners.resource === "replicasets" ? "replicaset-manager" : "controller-manager", pass, log, deps.observe);

  function rcsMatching(ns: string, labels: Record<string, string> | undefined): string[] {
    const out: string[] = [];
    for (const rc of owners.list()) {
      if ((rc.metadata.namespace ?? "default") === ns && ownerMatches(rc, labels)) out.push(objectKey(rc));
    }
    return out;
  }

  function onPod(ev: InformerEvent<Pod>) {
    const pod = ev.object;
    const key = objectKey(pod);
    const ns = pod.metadata.namespace ?? "default";
    if (ev.type === "DELETED") unindexPod(key);
    else indexPod(pod);

    // Only owners of this manager's kind: an RS and an RC may share a name.
    const kind = owners.resource === "replicasets" ? "ReplicaSet" : "ReplicationController";
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === kind);
    const ownerKey = owner ? rcKeyByUid.get(owner.uid) ?? `${ns}/${owner.name}` : undefined;
    const oldOwner = ev.old?.metadata.ownerReferences?.find((o) => o.controller && o.kind === kind);
    const oldOwnerKey = oldOwner ? rcKeyByUid.get(oldOwner.uid) ?? `${ns}/${oldOwner.name}` : undefined;
    if (ownerKey) {
      if (ev.type === "ADDED") expectations.creationObserved(ownerKey);
      const nowDeleting = ev.type === "DELETED" || (pod.metadata.deletionTimestamp && !ev.old?.metadata.deletionTimestamp);
      if (nowDeleting) expectations.deletionObserved(ownerKey, key);
    }
    const wake = new Set<string>();
    if (ownerKey) wake.add(ownerKey);
    if (oldOwnerKey) wake.add(oldOwnerKey);
    const anyController = pod.metadata.ownerReferences?.some((o) => o.controller);
    if (!anyController || (ev.old && JSON.stringify(ev.old.metadata.labels) !== JSON.stringify(pod.metadata.labels))) {
      for (const k of rcsMatching(ns, pod.metadata.labels)) wake.add(k);
      if (ev.old) for (const k of rcsMatching(ns, ev.old.metadata.labels)) wake.add(k);
    }
    for (const k of wake) controllers.get(k)?.wake();
  }

  const unsubscribe = [
    deps.pods.subscribe(onPod),
    owners.subscribe((ev) => {
      loop.wake();
      controllers.get(objectKey(ev.object))?.wake();
    }),
  ];

  return {
    loop,
    controllers,
    expectations,
    wake: (key) => controllers.get(key)?.wake(),
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
      for (const c of controllers.values()) c.stop();
      controllers.clear();
    },
  };
}
