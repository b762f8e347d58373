/**
 * Taint eviction, as Kubernetes' taint-eviction-controller: a pod bound to a node with a
 * `NoExecute` taint it does not tolerate is deleted; one that tolerates every such taint is
 * deleted once the shortest `tolerationSeconds` of the tolerations in use (for each taint, the
 * first toleration that matches it) has passed since this controller first saw the pod under
 * those taints — a pod that arrives on a node tainted an hour ago gets its full time, as in
 * Kubernetes. When none of them has `tolerationSeconds`, the pod stays for ever.
 *
 *   node informer change (its NoExecute taints) ──WAKE──▶ pass: for each pod on a tainted node,
 *   pod informer change (bound to a tainted node) ──WAKE──▶   evictionsDue (pure) ──▶ deletes
 *                                                            (event TaintManagerEviction)
 *
 * Only the taints in a node's spec count: Berth's node lifecycle controller marks the pods of a
 * lost node in its own way (node_lifecycle_decide.ts) rather than by `NoExecute` taints. A
 * controller (RC, ReplicaSet, Job) then replaces an evicted pod on a node it may run on; a
 * DaemonSet does not put it back while the taint stays. Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import { tolerates } from "../model/scheduling.ts";
import type { Node, Pod, Taint } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { Informer } from "./informer_cache.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface TaintEvictionInput {
  nodes: readonly Node[];
  pods: readonly Pod[];
  now: number;
  /** Pod uid → when its toleration clock started (an earlier pass saw it under timed tolerations). */
  started: ReadonlyMap<string, number>;
}

/** The NoExecute taints of a node's spec. */
export function noExecuteTaints(node: Node): Taint[] {
  return (node.spec?.taints ?? []).filter((t) => t.effect === "NoExecute");
}

export interface TaintEvictionDecision {
  evict: { pod: Pod; taint: Taint }[];
  /** When the next toleration runs out (ms since the epoch). */
  nextAt?: number;
  /** The clocks still running, by pod uid (the next pass's `started`). */
  started: Map<string, number>;
}

/** Which pods to evict now, and whose toleration clocks run. */
export function evictionsDue(input: TaintEvictionInput): TaintEvictionDecision {
  const tainted = new Map<string, Taint[]>();
  for (const n of input.nodes) {
    const taints = noExecuteTaints(n);
    if (taints.length) tainted.set(n.metadata.name, taints);
  }
  const evict: { pod: Pod; taint: Taint }[] = [];
  const started = new Map<string, number>();
  let nextAt: number | undefined;
  if (tainted.size === 0) return { evict, started };
  for (const pod of input.pods) {
    const node = pod.spec.nodeName;
    const taints = node ? tainted.get(node) : undefined;
    if (!taints || pod.metadata.deletionTimestamp || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    // As Kubernetes' GetMatchingTolerations and getMinTolerationTime: for each taint the first
    // toleration that matches it; the shortest tolerationSeconds among those (0 or less: now);
    // none with seconds: for ever.
    let untolerated: Taint | undefined;
    let seconds: number | undefined;
    let limiting: Taint | undefined;
    for (const taint of taints) {
      const tol = (pod.spec.tolerations ?? []).find((x) => tolerates(x, taint));
      if (!tol) {
        untolerated = taint;
        break;
      }
      if (tol.tolerationSeconds === undefined || tol.tolerationSeconds === null) continue;
      if (seconds === undefined || tol.tolerationSeconds < seconds) (seconds = tol.tolerationSeconds, limiting = taint);
    }
    if (untolerated) {
      evict.push({ pod, taint: untolerated });
      continue;
    }
    if (seconds === undefined) continue;
    const uid = pod.metadata.uid ?? objectKey(pod);
    const since = input.started.get(uid) ?? input.now;
    const at = since + Math.max(0, seconds) * 1000;
    if (at <= input.now) {
      evict.push({ pod, taint: limiting! });
      continue;
    }
    started.set(uid, since);
    nextAt = nextAt === undefined ? at : Math.min(nextAt, at);
  }
  return { evict, started, ...(nextAt !== undefined ? { nextAt } : {}) };
}

export interface TaintEvictionDeps {
  client: ApiClient;
  nodes: Informer<"nodes">;
  pods: Informer<"pods">;
  recorder: EventRecorder;
  log?: Log;
  now?: () => number;
}

export interface TaintEviction {
  loop: WorkLoop;
  stop(): void;
}

export function startTaintEviction(deps: TaintEvictionDeps): TaintEviction {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  /** Pod uid → when its toleration clock started. */
  let started = new Map<string, number>();
  /** Node → its NoExecute taints, as JSON (only nodes that have some): a pod event elsewhere, or a heartbeat, needs no pass. */
  const taintedNodes = new Map<string, string>();

  /** Notes the node's NoExecute taints; true when they changed. */
  function noteTaints(node: Node | undefined, name: string): boolean {
    const taints = node ? noExecuteTaints(node) : [];
    const sig = taints.length ? JSON.stringify(taints.map((t) => [t.key, t.value ?? ""])) : undefined;
    if (taintedNodes.get(name) === sig) return false;
    if (sig === undefined) taintedNodes.delete(name);
    else taintedNodes.set(name, sig);
    return true;
  }
  for (const n of deps.nodes.list()) noteTaints(n, n.metadata.name);

  const loop = startWorkLoop("taint-eviction", async () => {
    if (taintedNodes.size === 0) {
      started = new Map();
      return {};
    }
    const t = now();
    const decision = evictionsDue({ nodes: deps.nodes.list(), pods: deps.pods.list(), now: t, started });
    started = decision.started;
    const { evict, nextAt } = decision;
    for (const { pod, taint } of evict) {
      try {
        await deps.client.delete("pods", pod.metadata.name, pod.metadata.namespace, { preconditions: { uid: pod.metadata.uid } });
        deps.recorder.record(pod, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${objectKey(pod)}`);
        log("evicted a pod for a NoExecute taint", { pod: objectKey(pod), node: pod.spec.nodeName, taint: `${taint.key}${taint.value ? `=${taint.value}` : ""}:NoExecute` });
      } catch (err) {
        if (!(err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict"))) throw err;
      }
    }
    return nextAt !== undefined ? { requeueAfterMs: Math.max(0, nextAt - t) } : {};
  }, log);

  const unsubscribe = [
    deps.nodes.subscribe((ev) => {
      // Only a change of the node's NoExecute taints matters (not its heartbeats).
      if (noteTaints(ev.type === "DELETED" ? undefined : ev.object, ev.object.metadata.name)) loop.wake();
    }),
    deps.pods.subscribe((ev) => {
      const node = ev.object.spec.nodeName;
      if (ev.type !== "DELETED" && node && taintedNodes.has(node)) loop.wake();
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
