/**
 * The garbage collector actor: deletes what lost its owner, and finishes foreground deletions.
 *
 *   owner or node deleted / owner marked for deletion / every resyncMs ──WAKE──▶ work loop
 *   one pass: findGarbage (pure) ──▶ for each candidate, a live GET confirms the owner (or node)
 *   is really gone — the cache may lag behind a just-created owner — then:
 *       dependent whose controller owner no longer exists  → delete (background cascade)
 *       pod bound to a node that no longer exists          → delete at once (grace 0): no node
 *                                                            will ever finish a graceful deletion
 *       owner with the `foregroundDeletion` finalizer      → delete its dependents (foreground,
 *                                                            so a ReplicaSet waits for its pods);
 *                                                            once none is left, drop the finalizer
 *                                                            and delete the owner
 *
 * Owners and dependents: Deployment → ReplicaSet → Pod, ReplicationController → Pod, DaemonSet → Pod,
 * StatefulSet → Pod and ControllerRevision, and CronJob → Job → Pod, linked by the controller
 * `ownerReferences`. A
 * PersistentVolumeClaim may carry plain (not controller) references to a StatefulSet and to a
 * Pod (the set's retention policy): it is deleted once every one of them is gone. Orphaning (`propagationPolicy: Orphan`) is done by the API
 * before it deletes the owner: it strips the owner's reference from its dependents
 * (`Api.delete`, runtime/api/api.ts), so the collector never sees them as dependents.
 * `Foreground` is started by the API too: it only marks the owner (deletionTimestamp and the
 * `foregroundDeletion` finalizer); this collector does the rest. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { ControllerRevision, CronJob, DaemonSet, Deployment, Job, Node, PersistentVolumeClaim, Pod, ReplicaSet, ReplicationController, StatefulSet } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { objectKey } from "../model/names.ts";

/** The finalizer that holds an owner until its dependents are gone (Kubernetes' name). */
export const FOREGROUND_FINALIZER = "foregroundDeletion";
/** The finalizer of an owner whose dependents are being orphaned (Kubernetes' name). */
export const ORPHAN_FINALIZER = "orphan";

type OwnerResource = "replicationcontrollers" | "replicasets" | "deployments" | "jobs" | "cronjobs" | "daemonsets" | "statefulsets";
type DependentResource = "pods" | "replicasets" | "jobs" | "controllerrevisions";
type Owner = ReplicationController | ReplicaSet | Deployment | Job | CronJob | DaemonSet | StatefulSet;
type Dependent = Pod | ReplicaSet | Job | ControllerRevision;

/** Which owner kinds the collector follows, and where they are stored. */
export const OWNER_RESOURCE: Record<string, OwnerResource> = {
  ReplicationController: "replicationcontrollers",
  ReplicaSet: "replicasets",
  Deployment: "deployments",
  Job: "jobs",
  CronJob: "cronjobs",
  DaemonSet: "daemonsets",
  StatefulSet: "statefulsets",
};

/** The owners a claim may name (plain references, from a StatefulSet's retention policy). */
const CLAIM_OWNER_RESOURCE: Record<string, "statefulsets" | "pods"> = { StatefulSet: "statefulsets", Pod: "pods" };

export type Garbage =
  | { type: "ownerGone"; resource: DependentResource; object: Dependent; owner: { kind: string; name: string; uid: string } }
  | { type: "nodeGone"; pod: Pod; node: string }
  | { type: "claimOwnersGone"; claim: PersistentVolumeClaim; owners: { kind: string; name: string; uid: string }[] }
  | { type: "foreground"; resource: OwnerResource; owner: Owner; dependents: { resource: DependentResource; object: Dependent }[] };

export interface GarbageView {
  pods: readonly Pod[];
  nodes: readonly Node[];
  rcs: readonly ReplicationController[];
  replicaSets?: readonly ReplicaSet[];
  deployments?: readonly Deployment[];
  jobs?: readonly Job[];
  cronJobs?: readonly CronJob[];
  daemonSets?: readonly DaemonSet[];
  statefulSets?: readonly StatefulSet[];
  claims?: readonly PersistentVolumeClaim[];
  revisions?: readonly ControllerRevision[];
}

const controllerOf = (o: Dependent) => o.metadata.ownerReferences?.find((r) => r.controller && Object.hasOwn(OWNER_RESOURCE, r.kind));

/**
 * Dependents whose controller owner is absent from the given (cached) objects, pods bound to
 * missing nodes, and owners waiting on a foreground deletion with what still depends on them.
 */
export function findGarbage(view: GarbageView): Garbage[] {
  const owners = new Map<string, Owner>();
  for (const o of [...view.rcs, ...(view.replicaSets ?? []), ...(view.deployments ?? []), ...(view.jobs ?? []), ...(view.cronJobs ?? []), ...(view.daemonSets ?? []), ...(view.statefulSets ?? [])]) if (o.metadata.uid) owners.set(o.metadata.uid, o);
  const nodeNames = new Set(view.nodes.map((n) => n.metadata.name));
  const out: Garbage[] = [];
  const dependentsOf = new Map<string, { resource: DependentResource; object: Dependent }[]>();
  const dependents: { resource: DependentResource; object: Dependent }[] = [
    ...view.pods.map((object) => ({ resource: "pods" as const, object })),
    ...(view.replicaSets ?? []).map((object) => ({ resource: "replicasets" as const, object })),
    ...(view.jobs ?? []).map((object) => ({ resource: "jobs" as const, object })),
    ...(view.revisions ?? []).map((object) => ({ resource: "controllerrevisions" as const, object })),
  ];
  for (const d of dependents) {
    const ref = controllerOf(d.object);
    if (ref && !owners.has(ref.uid)) {
      if (!d.object.metadata.deletionTimestamp) out.push({ type: "ownerGone", resource: d.resource, object: d.object, owner: { kind: ref.kind, name: ref.name, uid: ref.uid } });
      continue;
    }
    if (ref) {
      let list = dependentsOf.get(ref.uid);
      if (!list) dependentsOf.set(ref.uid, (list = []));
      list.push(d);
    }
    if (d.resource === "pods") {
      const pod = d.object as Pod;
      // A pod already deleted with a zero grace period and held by its finalizers is not asked again.
      const held = pod.metadata.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0 && pod.metadata.finalizers?.length;
      if (pod.spec.nodeName && !nodeNames.has(pod.spec.nodeName) && !held) out.push({ type: "nodeGone", pod, node: pod.spec.nodeName });
    }
  }
  // Claims whose every owner (of the kinds a claim may name) is gone.
  const podUids = view.claims?.length ? new Set(view.pods.map((p) => p.metadata.uid)) : undefined;
  for (const claim of view.claims ?? []) {
    const refs = claim.metadata.ownerReferences ?? [];
    if (refs.length === 0 || claim.metadata.deletionTimestamp) continue;
    if (!refs.every((r) => (r.kind === "Pod" ? !podUids!.has(r.uid) : r.kind === "StatefulSet" && !owners.has(r.uid)))) continue;
    out.push({ type: "claimOwnersGone", claim, owners: refs.map((r) => ({ kind: r.kind, name: r.name, uid: r.uid })) });
  }
  for (const owner of owners.values()) {
    if (!owner.metadata.deletionTimestamp || !owner.metadata.finalizers?.includes(FOREGROUND_FINALIZER)) continue;
    out.push({ type: "foreground", resource: OWNER_RESOURCE[owner.kind], owner, dependents: dependentsOf.get(owner.metadata.uid!) ?? [] });
  }
  return out;
}

export interface GarbageCollectorDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  pods: Informer<"pods">;
  rcs: Informer<"replicationcontrollers">;
  nodes: Informer<"nodes">;
  replicaSets?: Informer<"replicasets">;
  deployments?: Informer<"deployments">;
  jobs?: Informer<"jobs">;
  cronJobs?: Informer<"cronjobs">;
  daemonSets?: Informer<"daemonsets">;
  statefulSets?: Informer<"statefulsets">;
  claims?: Informer<"persistentvolumeclaims">;
  revisions?: Informer<"controllerrevisions">;
  recorder: EventRecorder;
  log?: Log;
  resyncMs?: number;
}

export interface GarbageCollector {
  loop: WorkLoop;
  stop(): void;
}

const notFound = (err: unknown) => err instanceof ApiError && err.reason === "NotFound";

/** Starts the collector; its informers must already be started. */
export function startGarbageCollector(deps: GarbageCollectorDeps): GarbageCollector {
  const log = deps.log ?? (() => {});

  async function ownerExists(ns: string | undefined, owner: { kind: string; name: string; uid: string }): Promise<boolean> {
    try {
      const o = await deps.client.get(OWNER_RESOURCE[owner.kind] ?? CLAIM_OWNER_RESOURCE[owner.kind], owner.name, ns);
      return o.metadata.uid === owner.uid;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  async function nodeExists(name: string): Promise<boolean> {
    try {
      await deps.client.get("nodes", name);
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw err;
    }
  }

  /** One step of a foreground deletion: dependents first, the owner once none is left. */
  async function foreground(g: Extract<Garbage, { type: "foreground" }>): Promise<boolean> {
    const { owner } = g;
    const ns = owner.metadata.namespace;
    for (const d of g.dependents) {
      if (d.object.metadata.deletionTimestamp) continue;
      await deps.client.delete(d.resource, d.object.metadata.name, ns, { propagationPolicy: "Foreground", preconditions: { uid: d.object.metadata.uid } });
      log("foreground deletion: deleted dependent", { owner: objectKey(owner), dependent: objectKey(d.object) });
    }
    // Dependents still going: look again soon, unless all that is left waits on finalizers of
    // their own (then the resync looks, not a loop every 200 ms for as long as they hold).
    if (g.dependents.length > 0) return g.dependents.some((d) => !(d.object.metadata.deletionTimestamp && d.object.metadata.finalizers?.some((f) => f !== FOREGROUND_FINALIZER)));
    const fresh = await deps.client.get(g.resource, owner.metadata.name, ns);
    if (fresh.metadata.uid !== owner.metadata.uid) return false;
    const finalizers = (fresh.metadata.finalizers ?? []).filter((f) => f !== FOREGROUND_FINALIZER);
    const metadata = { ...fresh.metadata, finalizers };
    if (!finalizers.length) delete (metadata as { finalizers?: string[] }).finalizers;
    // Taking the last finalizer off an object being deleted deletes it (the API does, as
    // Kubernetes'); with others left, it stays until their controllers are done.
    await deps.client.update(g.resource, { ...fresh, metadata } as Owner);
    log(finalizers.length ? "foreground deletion finished; other finalizers remain" : "foreground deletion finished", { owner: objectKey(owner), ...(finalizers.length ? { finalizers } : {}) });
    return false;
  }

  async function pass(): Promise<{ requeueAfterMs: number }> {
    const garbage = findGarbage({
      pods: deps.pods.list(),
      rcs: deps.rcs.list(),
      nodes: deps.nodes.list(),
      replicaSets: deps.replicaSets?.list(),
      deployments: deps.deployments?.list(),
      jobs: deps.jobs?.list(),
      cronJobs: deps.cronJobs?.list(),
      daemonSets: deps.daemonSets?.list(),
      statefulSets: deps.statefulSets?.list(),
      claims: deps.claims?.list(),
      revisions: deps.revisions?.list(),
    });
    let requeue = false;
    for (const g of garbage) {
      try {
        if (g.type === "ownerGone") {
          const o = g.object;
          if (await ownerExists(o.metadata.namespace, g.owner)) continue;
          // The resourceVersion precondition matters: an API orphaning the dependents
          // (propagationPolicy Orphan) strips the owner reference just before deleting the owner,
          // and our cached copy may predate that. A changed object fails the precondition and is
          // looked at again.
          await deps.client.delete(g.resource, o.metadata.name, o.metadata.namespace, {
            preconditions: { uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion },
          });
          log("deleted object whose owner is gone", { resource: g.resource, object: objectKey(o), owner: `${g.owner.kind}/${g.owner.name}` });
        } else if (g.type === "claimOwnersGone") {
          const c = g.claim;
          let alive = false;
          for (const o of g.owners) if ((alive = await ownerExists(c.metadata.namespace, o))) break;
          if (alive) continue;
          await deps.client.delete("persistentvolumeclaims", c.metadata.name, c.metadata.namespace, {
            preconditions: { uid: c.metadata.uid, resourceVersion: c.metadata.resourceVersion },
          });
          log("deleted claim whose owners are gone", { claim: objectKey(c), owners: g.owners.map((o) => `${o.kind}/${o.name}`).join(", ") });
        } else if (g.type === "nodeGone") {
          const pod = g.pod;
          if (await nodeExists(g.node)) continue;
          await deps.client.delete("pods", pod.metadata.name, pod.metadata.namespace, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
          log("deleted pod of a node that no longer exists", { pod: objectKey(pod), node: g.node });
          deps.recorder.record(pod, "Normal", "PodGCOrphaned", `Deleted pod bound to missing node ${g.node}`);
        } else if (await foreground(g)) {
          // Dependents are still going: look again soon (their deletions also wake us).
          requeue = true;
        }
      } catch (err) {
        // Gone, or changed since our copy: nothing to collect now; a changed object that still
        // has a missing owner is collected on the next pass.
        if (!(err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict"))) throw err;
        if (err.reason === "Conflict") requeue = true;
      }
    }
    return { requeueAfterMs: requeue ? 200 : deps.resyncMs ?? 10_000 };
  }

  const loop = startWorkLoop("garbage-collector", pass, log, deps.observe);
  const onOwner = (ev: { type: string; object: { metadata: { deletionTimestamp?: string } } }) => {
    if (ev.type === "DELETED" || ev.object.metadata.deletionTimestamp) loop.wake();
  };
  const unsubscribe = [
    deps.rcs.subscribe(onOwner),
    deps.nodes.subscribe((ev) => {
      if (ev.type === "DELETED") loop.wake();
    }),
    ...(deps.replicaSets ? [deps.replicaSets.subscribe(onOwner)] : []),
    ...(deps.deployments ? [deps.deployments.subscribe(onOwner)] : []),
    ...(deps.jobs ? [deps.jobs.subscribe(onOwner)] : []),
    ...(deps.cronJobs ? [deps.cronJobs.subscribe(onOwner)] : []),
    ...(deps.daemonSets ? [deps.daemonSets.subscribe(onOwner)] : []),
    ...(deps.statefulSets ? [deps.statefulSets.subscribe(onOwner)] : []),
    ...(deps.claims ? watchClaimOwners(deps.claims, deps.pods, () => loop.wake()) : []),
  ];
  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}

/**
 * Wakes the collector when a pod that owns a claim is deleted (a StatefulSet's `whenScaled:
 * Delete`), and when a claim gains owner references; other pod deletions do not wake it.
 */
function watchClaimOwners(claims: Informer<"persistentvolumeclaims">, pods: Informer<"pods">, wake: () => void): (() => void)[] {
  const owningPods = new Map<string, number>();
  const count = (c: PersistentVolumeClaim | undefined, d: number) => {
    for (const r of c?.metadata.ownerReferences ?? []) {
      if (r.kind !== "Pod") continue;
      const n = (owningPods.get(r.uid) ?? 0) + d;
      if (n > 0) owningPods.set(r.uid, n);
      else owningPods.delete(r.uid);
    }
  };
  for (const c of claims.list()) count(c, 1);
  return [
    claims.subscribe((ev) => {
      count(ev.type === "DELETED" ? ev.object : ev.old, -1);
      if (ev.type !== "DELETED") count(ev.object, 1);
      if (ev.type !== "DELETED" && ev.object.metadata.ownerReferences?.length) wake();
    }),
    pods.subscribe((ev) => {
      if (ev.type === "DELETED" && owningPods.has(ev.object.metadata.uid ?? "")) wake();
    }),
  ];
}
