/**
 * One work loop per owner object (a Job, a DaemonSet), and the index of the children each one
 * controls: what the Job and DaemonSet controllers share.
 *
 *   owner informer change ──WAKE──▶ manager loop: one loop per owner key (diffControllers);
 *                                   an owner deleted and made again under its name gets a new
 *                                   loop (its uid changed), with no expectations of the old one
 *   child informer change ──▶ index by the controller reference's uid (of `ownerKind`)
 *                         ──▶ expectations observed (an add, a delete or a deletion mark)
 *                         ──▶ WAKE the loop of the owner it names (before and after the change)
 *
 * The loops are independent roots in a Map (as controller_manager.ts explains). `pass(key)` is
 * the controller's own; it reads `childrenOf(uid)` for the children it controls.
 */
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { ApiClient } from "../model/client.ts";
import { jsonEqual } from "../model/json_equal.ts";
import type { KubeObject, Pod, Resource } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import { slowStartBatches } from "./replication_controller_reconcile.ts";
import { diffControllers } from "./controller_manager.ts";
import type { ExpectationsStore } from "./expectations.ts";
import type { InformerEvent } from "./informer_cache.ts";
import { type WorkLoop, type WorkResult, startWorkLoop } from "./work_loop.ts";

/** What the loops read of an informer. */
export interface Source<T> {
  list(): T[];
  subscribe(handler: (ev: InformerEvent<T>) => void): () => void;
}

export interface OwnerLoopsDeps<O extends KubeObject, C extends KubeObject> {
  /** Names the loops: `<name>/<namespace>/<owner>` and `<name>-manager`. */
  name: string;
  owners: Source<O>;
  children: Source<C>;
  /** The `kind` of the controller reference that makes a child this owner's. */
  ownerKind: string;
  /** The owner's creates and deletes not yet seen (none for a controller that keeps none). */
  expectations?: ExpectationsStore;
  /** One pass for the owner under `key`; `childrenOf(uid)` reads the index. */
  pass(key: string, childrenOf: (uid: string) => C[]): Promise<WorkResult | void>;
  /** Errors that mean "someone else changed it, look again": the loop requeues in 100 ms instead of backing off. */
  lostRace(err: unknown): boolean;
  log: Log;
  /** After each manager pass (the owner set may have changed); `keyOf` is `OwnerLoops.keyOf`. */
  afterSync?(keyOf: (uid: string) => string | undefined): void;
  /** Every child change, after the index, the expectations and the wakes. */
  onChild?(ev: InformerEvent<C>, keyOf: (uid: string) => string | undefined): void;
}

export interface OwnerLoops<C> {
  /** The manager's loop. */
  loop: WorkLoop;
  /** The running loops by `namespace/name`. */
  readonly controllers: ReadonlyMap<string, WorkLoop>;
  /** The children whose controller reference names `uid`. */
  childrenOf(uid: string): C[];
  /** The key of the owner with this uid, when it has a loop. */
  keyOf(uid: string): string | undefined;
  /** The controller reference to `ownerKind` of a child, if any. */
  controllerOf(child: C): { uid: string; name: string } | undefined;
  wake(key: string): void;
  wakeAll(): void;
  /** Wakes the loops of every owner in `namespace`. */
  wakeNamespace(namespace: string): void;
  stop(): void;
}

export function startOwnerLoops<O extends KubeObject, C extends KubeObject>(deps: OwnerLoopsDeps<O, C>): OwnerLoops<C> {
  const controllers = new Map<string, WorkLoop>();
  const uidOfLoop = new Map<string, string>();
  const keyByUid = new Map<string, string>();
  const byOwner = new Map<string, Map<string, C>>();
  const controllerOf = (c: C) => c.metadata.ownerReferences?.find((o) => o.controller && o.kind === deps.ownerKind);

  function index(child: C | undefined, old: C | undefined): void {
    const before = old && controllerOf(old);
    const after = child && controllerOf(child);
    const key = objectKey((child ?? old)!);
    if (before && before.uid !== after?.uid) byOwner.get(before.uid)?.delete(key);
    if (after) {
      let m = byOwner.get(after.uid);
      if (!m) byOwner.set(after.uid, (m = new Map()));
      m.set(key, child!);
    }
  }
  for (const c of deps.children.list()) index(c, undefined);
  const childrenOf = (uid: string): C[] => [...(byOwner.get(uid)?.values() ?? [])];
  const keyOf = (uid: string) => keyByUid.get(uid);

  function startLoop(key: string): WorkLoop {
    return startWorkLoop(`${deps.name}/${key}`, async () => {
      try {
        return await deps.pass(key, childrenOf);
      } catch (err) {
        if (!deps.lostRace(err)) throw err;
        return { requeueAfterMs: 100 };
      }
    }, deps.log);
  }

  const loop = startWorkLoop(`${deps.name}-manager`, async () => {
    const wanted = new Map(deps.owners.list().map((o) => [objectKey(o), o] as const));
    const { start, stop } = diffControllers(controllers.keys(), wanted.keys());
    for (const [key, o] of wanted) if (controllers.has(key) && uidOfLoop.get(key) !== o.metadata.uid) (stop.push(key), start.push(key));
    for (const key of stop) {
      controllers.get(key)?.stop();
      controllers.delete(key);
      uidOfLoop.delete(key);
      deps.expectations?.delete(key);
    }
    keyByUid.clear();
    for (const [key, o] of wanted) if (o.metadata.uid) keyByUid.set(o.metadata.uid, key);
    for (const uid of [...byOwner.keys()]) if (!keyByUid.has(uid) && byOwner.get(uid)!.size === 0) byOwner.delete(uid);
    for (const key of start) {
      controllers.set(key, startLoop(key));
      uidOfLoop.set(key, wanted.get(key)!.metadata.uid!);
    }
    deps.afterSync?.(keyOf);
  }, deps.log);

  const unsubscribe = [
    deps.owners.subscribe((ev) => {
      loop.wake();
      controllers.get(objectKey(ev.object))?.wake();
    }),
    deps.children.subscribe((ev) => {
      index(ev.type === "DELETED" ? undefined : ev.object, ev.type === "DELETED" ? ev.object : ev.old);
      for (const c of [ev.object, ev.old]) {
        const ref = c && controllerOf(c);
        const key = ref ? keyByUid.get(ref.uid) : undefined;
        if (!key) continue;
        if (c === ev.object && deps.expectations) {
          if (ev.type === "ADDED") deps.expectations.creationObserved(key);
          if (ev.type === "DELETED" || (ev.object.metadata.deletionTimestamp && !ev.old?.metadata.deletionTimestamp)) deps.expectations.deletionObserved(key, objectKey(ev.object));
        }
        controllers.get(key)?.wake();
      }
      deps.onChild?.(ev, keyOf);
    }),
  ];

  return {
    loop,
    controllers,
    childrenOf,
    keyOf,
    controllerOf: (c) => controllerOf(c),
    wake: (key) => controllers.get(key)?.wake(),
    wakeAll: () => { for (const c of controllers.values()) c.wake(); },
    wakeNamespace: (ns) => { for (const [key, c] of controllers) if (key.startsWith(`${ns}/`)) c.wake(); },
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
      for (const c of controllers.values()) c.stop();
      controllers.clear();
    },
  };
}

/**
 * Creates the owner's pods in slow-start batches (1, 2, 4, …), recording `SuccessfulCreate` or
 * `FailedCreate` on the owner. As Kubernetes' slow start, it stops at the first refusal: a
 * refused create, and every create never sent, is marked observed in `expectations` under `key`
 * (their watch events will never come), then the refusal is thrown.
 */
export async function createPodsSlowStart(
  deps: { client: ApiClient; recorder: EventRecorder },
  owner: KubeObject,
  key: string,
  expectations: ExpectationsStore,
  pods: readonly (() => Pod)[],
): Promise<void> {
  let sent = 0;
  for (const size of slowStartBatches(pods.length)) {
    const results = await Promise.allSettled(pods.slice(sent, sent + size).map((make) => deps.client.create("pods", make(), owner.metadata.namespace)));
    sent += size;
    let firstError: unknown;
    for (const r of results) {
      if (r.status === "fulfilled") {
        deps.recorder.record(owner, "Normal", "SuccessfulCreate", `Created pod: ${r.value.metadata.name}`);
      } else {
        expectations.creationObserved(key);
        firstError ??= r.reason;
        deps.recorder.record(owner, "Warning", "FailedCreate", `Error creating: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
      }
    }
    if (firstError) {
      for (let i = sent; i < pods.length; i++) expectations.creationObserved(key);
      throw firstError;
    }
  }
}

const hasController = (p: Pod) => p.metadata.ownerReferences?.some((o) => o.controller) ?? false;

/**
 * The pods no controller owns, by namespace, kept from the pod informer's events: what a
 * controller may adopt (Kubernetes' ClaimPods), and the adoption itself.
 */
export class OrphanIndex {
  readonly #byNs = new Map<string, Map<string, Pod>>();

  constructor(pods: readonly Pod[]) {
    for (const p of pods) this.#index(p, undefined);
  }

  #index(pod: Pod | undefined, old: Pod | undefined): void {
    const p = (pod ?? old)!;
    const ns = p.metadata.namespace ?? "";
    const key = objectKey(p);
    if (pod && !hasController(pod)) {
      let m = this.#byNs.get(ns);
      if (!m) this.#byNs.set(ns, (m = new Map()));
      m.set(key, pod);
    } else {
      this.#byNs.get(ns)?.delete(key);
    }
  }

  inNamespace(ns: string): Pod[] {
    return [...(this.#byNs.get(ns)?.values() ?? [])];
  }

  /** Indexes a pod change; true when an orphan appeared, lost its controller or changed labels (its namespace's owners should look). */
  onChange(ev: InformerEvent<Pod>): boolean {
    this.#index(ev.type === "DELETED" ? undefined : ev.object, ev.old ?? ev.object);
    const p = ev.object;
    return ev.type !== "DELETED" && !hasController(p) && (!ev.old || hasController(ev.old) || !jsonEqual(ev.old.metadata.labels ?? {}, p.metadata.labels ?? {}));
  }

  /**
   * As Kubernetes' ClaimPods: re-read the owner (one being deleted, or made again under its name,
   * adopts nothing), then set the controller reference at each pod's version.
   */
  async adopt(client: ApiClient, owner: KubeObject, pods: readonly Pod[], type: { apiVersion: string; kind: string }, resource: Resource): Promise<void> {
    const fresh = await client.get(resource, owner.metadata.name, owner.metadata.namespace);
    if (fresh.metadata.uid !== owner.metadata.uid || fresh.metadata.deletionTimestamp) return;
    const ref = { ...type, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
    for (const p of pods) {
      await client.update("pods", { ...p, metadata: { ...p.metadata, ownerReferences: [...(p.metadata.ownerReferences ?? []), ref] } });
    }
  }
}
