/**
 * The garbage collector actor: deletes what lost its owner.
 *
 *   RC or node deleted / every resyncMs ──WAKE──▶ work loop (work_loop.ts)
 *   one pass: findGarbage (pure) ──▶ for each candidate, a live GET confirms the owner (or node)
 *   is really gone — the cache may lag behind a just-created RC — then:
 *       pod whose controller RC no longer exists   → delete (background cascade)
 *       pod bound to a node that no longer exists  → delete at once (grace 0): no node will
 *                                                    ever finish a graceful deletion
 *
 * Orphaning (`propagationPolicy: Orphan`) is done by the API before it deletes the RC: it strips
 * the RC's owner reference from its pods (`Api.delete`, runtime/api/api.ts), so the collector never
 * sees them as dependents. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Node, Pod, ReplicationController } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { objectKey } from "../model/names.ts";

export type Garbage =
  | { type: "ownerGone"; pod: Pod; owner: { name: string; uid: string } }
  | { type: "nodeGone"; pod: Pod; node: string };

/** Pods whose controller RC or whose node is absent from the given (cached) objects. */
export function findGarbage(pods: readonly Pod[], rcs: readonly ReplicationController[], nodes: readonly Node[]): Garbage[] {
  const rcUids = new Set(rcs.map((r) => r.metadata.uid));
  const nodeNames = new Set(nodes.map((n) => n.metadata.name));
  const out: Garbage[] = [];
  for (const pod of pods) {
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller && o.kind === "ReplicationController");
    if (owner && !rcUids.has(owner.uid)) {
      if (!pod.metadata.deletionTimestamp) out.push({ type: "ownerGone", pod, owner: { name: owner.name, uid: owner.uid } });
    } else if (pod.spec.nodeName && !nodeNames.has(pod.spec.nodeName)) {
      out.push({ type: "nodeGone", pod, node: pod.spec.nodeName });
    }
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

  async function ownerExists(ns: string | undefined, owner: { name: string; uid: string }): Promise<boolean> {
    try {
      const rc = await deps.client.get("replicationcontrollers", owner.name, ns);
      return rc.metadata.uid === owner.uid;
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

  async function pass(): Promise<{ requeueAfterMs: number }> {
    const garbage = findGarbage(deps.pods.list(), deps.rcs.list(), deps.nodes.list());
    let requeue = false;
    for (const g of garbage) {
      const pod = g.pod;
      try {
        if (g.type === "ownerGone") {
          if (await ownerExists(pod.metadata.namespace, g.owner)) continue;
          // The resourceVersion precondition matters: an API orphaning the pods (propagationPolicy
          // Orphan) strips the owner reference just before deleting the owner, and our cached
          // copy may predate that. A changed pod fails the precondition and is looked at again.
          await deps.client.delete("pods", pod.metadata.name, pod.metadata.namespace, {
            preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
          });
          log("deleted pod whose owner is gone", { pod: objectKey(pod), owner: g.owner.name });
        } else {
          if (await nodeExists(g.node)) continue;
          await deps.client.delete("pods", pod.metadata.name, pod.metadata.namespace, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
          log("deleted pod of a node that no longer exists", { pod: objectKey(pod), node: g.node });
          deps.recorder.record(pod, "Normal", "PodGCOrphaned", `Deleted pod bound to missing node ${g.node}`);
        }
      } catch (err) {
        // Gone, or changed since our copy: nothing to collect now; a changed pod that still has a
        // missing owner is collected on the next pass.
        if (!(err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict"))) throw err;
        if (err.reason === "Conflict") requeue = true;
      }
    }
    return { requeueAfterMs: requeue ? 200 : deps.resyncMs ?? 10_000 };
  }

  const loop = startWorkLoop("garbage-collector", pass, log, deps.observe);
  const unsubscribe = [
    deps.rcs.subscribe((ev) => {
      if (ev.type === "DELETED") loop.wake();
    }),
    deps.nodes.subscribe((ev) => {
      if (ev.type === "DELETED") loop.wake();
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
