/**
 * The DaemonSet controller's decision, as a pure function: which nodes should run the daemon's
 * pod, which pods to create and delete, and the status. As Kubernetes' daemon controller:
 *
 *   - a node should run the pod when the template's `nodeSelector` and required node affinity
 *     admit it and the pod (with the tolerations every daemon pod gets, `daemonTolerations`)
 *     tolerates its `NoSchedule`/`NoExecute` taints, the ones its conditions imply included
 *     (model/scheduling.ts): so not on a node that is not Ready, but on a cordoned one;
 *   - a pod already there stays while the node's `NoExecute` taints are tolerated (a new
 *     `NoSchedule` taint does not remove it: the node counts as misscheduled);
 *   - the pod is made for its node: required node affinity `metadata.name In [node]`, placed by
 *     the scheduler like any pod; a pod aimed at a node that no longer exists is deleted;
 *   - a failed pod is deleted (its replacement comes once it is gone); of several pods on one node
 *     the oldest stays; a terminating pod holds its node until it is gone (host ports);
 *   - `RollingUpdate` deletes pods of an old template — first those not available, then available
 *     ones while fewer than `maxUnavailable` nodes are without an available pod — and the next
 *     passes create the new ones; `OnDelete` only creates new pods where old ones were deleted.
 *
 * The template's revision is a hash of it (`controller-revision-hash`), as Kubernetes labels
 * daemon pods; Berth keeps no ControllerRevision objects, so there is no `rollout undo`.
 */
import { isPodReady, podReadySince } from "../model/pod.ts";
import {
  effectiveTaints, nodeAffinityAdmits, TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, untoleratedTaint,
} from "../model/scheduling.ts";
import type { DaemonSet, DaemonSetStatus, Node, Pod, PodSpec, PodTemplateSpec, Toleration } from "../model/types.ts";
import { scaledValue } from "./deployment_decide.ts";
import { matchesLabels, selectorFromSpec, type LabelSelector } from "../model/selector.ts";

/** Parsed selectors, by the selector object (specs are replaced, never mutated, in the cache). */
const parsed = new WeakMap<object, LabelSelector>();
function labelSelectorMatches(spec: DaemonSet["spec"]["selector"], labels: Record<string, string>): boolean {
  let sel = parsed.get(spec);
  if (!sel) parsed.set(spec, (sel = selectorFromSpec(spec)));
  return matchesLabels(sel, labels);
}

/** The label with the template's revision on each daemon pod. */
export const REVISION_LABEL = "controller-revision-hash";
/** The label with the DaemonSet's generation the pod was made at (Kubernetes still writes it). */
export const TEMPLATE_GENERATION_LABEL = "pod-template-generation";

/** What every daemon pod tolerates (Kubernetes' AddOrUpdateDaemonPodTolerations), so a daemon outlives node trouble. */
export const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: TAINT_NOT_READY, operator: "Exists", effect: "NoExecute" },
  { key: TAINT_UNREACHABLE, operator: "Exists", effect: "NoExecute" },
  { key: TAINT_DISK_PRESSURE, operator: "Exists", effect: "NoSchedule" },
  { key: TAINT_MEMORY_PRESSURE, operator: "Exists", effect: "NoSchedule" },
  { key: TAINT_PID_PRESSURE, operator: "Exists", effect: "NoSchedule" },
  { key: TAINT_UNSCHEDULABLE, operator: "Exists", effect: "NoSchedule" },
];

/** The template's tolerations with the daemon ones added, replacing any of the same key and effect (Kubernetes' AddOrUpdateTolerationInPodSpec). */
export function daemonTolerations(spec: PodSpec): Toleration[] {
  const out = [...(spec.tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) {
    const i = out.findIndex((o) => o.key === t.key && o.effect === t.effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/** Where the daemon's pod should be, and whether one already there may stay. */
export function nodeShouldRun(ds: DaemonSet, node: Node, tolerations = daemonTolerations(ds.spec.template.spec)): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec.template.spec;
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeAffinityAdmits(spec, node.metadata.name, node.metadata.labels ?? {})) return { shouldRun: false, shouldContinueRunning: false };
  const taints = effectiveTaints(node);
  if (untoleratedTaint(tolerations, taints)) return { shouldRun: false, shouldContinueRunning: !untoleratedTaint(tolerations, taints, ["NoExecute"]) };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The node a daemon pod is for: where it is bound, else the node its required affinity names. */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) if (f.key === "metadata.name" && f.operator === "In" && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** The template's revision: FNV-1a of its canonical JSON, in the alphabet Kubernetes' hashes use. */
export function templateHash(ds: { spec: { template: PodTemplateSpec } }): string {
  let h = 0x811c9dc5;
  const s = stableJson(ds.spec.template);
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return String(h).split("").map((d) => alphabet[Number(d)]).join("");
}

/** The pod the DaemonSet creates for `node` (the API fills the name from `generateName`). */
export function daemonPod(ds: DaemonSet, node: string, hash: string): Pod {
  const t = ds.spec.template;
  const spec = structuredClone(t.spec);
  const preferred = spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
  spec.affinity = {
    ...spec.affinity,
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [node] }] }] },
      ...(preferred ? { preferredDuringSchedulingIgnoredDuringExecution: preferred } : {}),
    },
  };
  spec.tolerations = daemonTolerations(t.spec);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "",
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [REVISION_LABEL]: hash, [TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1) },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: ds.metadata.name, uid: ds.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}

export type DaemonCommand =
  | { type: "create"; nodes: string[] }
  | { type: "delete"; pods: Pod[]; reason: "failed" | "surplus" | "misplaced" | "nodeGone" };

export interface DaemonDecision {
  /** What keeps one pod on each node (creates; deletes of failed, surplus, misplaced pods). */
  commands: DaemonCommand[];
  /**
   * The rolling update's deletes. As Kubernetes' syncDaemonSet, they are only carried out when
   * `commands` left nothing outstanding (every create and delete seen, or refused): a pod being
   * created counts as unavailable only once it exists.
   */
  update: Pod[];
  /** Pods without a controller that the DaemonSet's selector matches: to adopt. */
  adopt: Pod[];
  status: DaemonSetStatus;
  /** When a pod's `minReadySeconds` will have passed: look again then. */
  requeueAfterMs?: number;
}

export interface DaemonInput {
  ds: DaemonSet;
  nodes: readonly Node[];
  /** The pods this DaemonSet controls. */
  pods: readonly Pod[];
  /** Pods of its namespace that no controller owns (candidates for adoption). */
  orphans?: readonly Pod[];
  now: number;
}

const created = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? "") || 0;
/** Oldest first (then by name), as Kubernetes keeps the oldest of duplicate daemon pods. */
const oldestFirst = (a: Pod, b: Pod) => created(a) - created(b) || (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

export function decideDaemonSet(input: DaemonInput): DaemonDecision {
  const { ds, now } = input;
  // Orphans the selector matches are adopted (as Kubernetes' ClaimPods), and counted from now on.
  const selector = ds.spec.selector;
  const adopt = (input.orphans ?? []).filter((p) => !p.metadata.deletionTimestamp && labelSelectorMatches(selector, p.metadata.labels ?? {}));
  const pods = adopt.length ? [...input.pods, ...adopt] : input.pods;
  const hash = templateHash(ds);
  const tolerations = daemonTolerations(ds.spec.template.spec);
  const minReadyMs = (ds.spec.minReadySeconds ?? 0) * 1000;
  let requeueAfterMs: number | undefined;
  const available = (p: Pod) => {
    if (!isPodReady(p)) return false;
    if (minReadyMs === 0) return true;
    const since = podReadySince(p);
    if (since + minReadyMs <= now) return true;
    const wait = since + minReadyMs - now;
    requeueAfterMs = requeueAfterMs === undefined ? wait : Math.min(requeueAfterMs, wait);
    return false;
  };
  const isNew = (p: Pod) => p.metadata.labels?.[REVISION_LABEL] === hash;

  const byNode = new Map<string, Pod[]>();
  for (const p of pods) {
    const n = targetNode(p);
    if (n === undefined) continue;
    let list = byNode.get(n);
    if (!list) byNode.set(n, (list = []));
    list.push(p);
  }
  const create: string[] = [];
  const update: Pod[] = [];
  const del: Extract<DaemonCommand, { type: "delete" }>[] = [];
  const toDelete = (pods: Pod[], reason: Extract<DaemonCommand, { type: "delete" }>["reason"]) => {
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    if (live.length) del.push({ type: "delete", pods: live, reason });
  };
  const status: Required<Omit<DaemonSetStatus, "conditions" | "observedGeneration">> = {
    currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0,
    updatedNumberScheduled: 0, numberAvailable: 0, numberUnavailable: 0,
  };
  /** Nodes that should run the pod, with their one live pod (or none). */
  const running: { node: string; pod: Pod | undefined }[] = [];
  const nodeNames = new Set<string>();

  for (const node of input.nodes) {
    const name = node.metadata.name;
    nodeNames.add(name);
    const pods = (byNode.get(name) ?? []).slice().sort(oldestFirst);
    const { shouldRun, shouldContinueRunning } = nodeShouldRun(ds, node, tolerations);
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const terminating = pods.length > live.length;

    // Status, as Kubernetes' updateDaemonSetStatus (from the pods as they are now).
    if (shouldRun) {
      status.desiredNumberScheduled++;
      if (pods.length > 0) {
        status.currentNumberScheduled++;
        const pod = live[0] ?? pods[0];
        if (isPodReady(pod)) {
          status.numberReady++;
          if (available(pod)) status.numberAvailable++;
        }
        if (isNew(pod)) status.updatedNumberScheduled++;
      }
    } else if (pods.length > 0) {
      status.numberMisscheduled++;
    }

    if (!shouldContinueRunning) {
      toDelete(live, "misplaced");
      continue;
    }
    const failed = live.filter((p) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded");
    toDelete(failed, "failed");
    const keep = live.filter((p) => !failed.includes(p));
    if (keep.length === 0) {
      if (shouldRun && !terminating && failed.length === 0) create.push(name);
      // Only a node with pods (terminating or failed ones) counts as unavailable, as in Kubernetes.
      if (shouldRun && pods.length > 0) running.push({ node: name, pod: undefined });
      continue;
    }
    // Several pods for one node: the oldest stays.
    if (keep.length > 1) toDelete(keep.slice(1), "surplus");
    if (shouldRun) running.push({ node: name, pod: keep[0] });
  }
  // Pods not yet bound, aimed at a node that no longer exists.
  for (const [node, pods] of byNode) if (!nodeNames.has(node)) toDelete(pods.filter((p) => !p.spec.nodeName), "nodeGone");

  // Rolling update: maxUnavailable counts the nodes that should run the pod and have no available one.
  if ((ds.spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate") {
    const maxUnavailable = Math.max(1, scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, status.desiredNumberScheduled, true));
    let unavailable = 0;
    const oldUnavailable: Pod[] = [];
    const oldAvailable: Pod[] = [];
    for (const { pod } of running) {
      if (!pod) { unavailable++; continue; }
      const ok = available(pod);
      if (isNew(pod)) { if (!ok) unavailable++; continue; }
      if (ok) oldAvailable.push(pod);
      else oldUnavailable.push(pod);
    }
    // Old pods that are down anyway are replaced at once (they do not count against the budget,
    // as in Kubernetes); then as many available ones as the budget allows.
    const budget = Math.max(0, maxUnavailable - unavailable);
    update.push(...[...oldUnavailable, ...oldAvailable.sort(oldestFirst).slice(0, budget)].filter((p) => !p.metadata.deletionTimestamp));
  }

  status.numberUnavailable = status.desiredNumberScheduled - status.numberAvailable;
  const commands: DaemonCommand[] = [...del];
  if (create.length) commands.unshift({ type: "create", nodes: create });
  return {
    commands,
    update,
    adopt,
    status: { ...status, observedGeneration: ds.metadata.generation ?? 1 },
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
}
