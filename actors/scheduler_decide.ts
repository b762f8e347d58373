/**
 * The scheduler's decision, as a pure function: which node a pending pod goes to, or why none.
 *
 * Filtering (a node is feasible only if all hold), as kube-scheduler's default predicates:
 *   - the pod tolerates every `NoSchedule`/`NoExecute` taint of the node, counting those its
 *     state implies (model/scheduling.ts): a node not `Ready` or cordoned takes only pods that
 *     tolerate `node.kubernetes.io/not-ready`, `unreachable` or `unschedulable` (a DaemonSet's);
 *   - the pod's `nodeSelector` and required node affinity match the node;
 *   - cpu and memory requests fit in allocatable minus the requests of pods already bound there,
 *     and the node's `pods` count is not exhausted;
 *   - no host port the pod asks for is already taken on the node;
 *   - its PersistentVolumeClaims allow the node (scheduler_claims.ts: they exist and are not
 *     being deleted, a ReadWriteOncePod claim is not in use, a placed claim's volume is there);
 *   - inter-pod affinity and anti-affinity, the pod's own and placed pods' required
 *     anti-affinity (scheduler_affinity.ts);
 *   - the pod's `DoNotSchedule` topology spread constraints (scheduler_spread.ts).
 * Scoring (compared in order):
 *   0. the weights of the pod's preferred node affinity terms the node matches, plus its
 *      preferred inter-pod terms' (higher is better), then how many `PreferNoSchedule` taints
 *      it does not tolerate (fewer is better), then its `ScheduleAnyway` spread constraints'
 *      score (lower is better);
 *   1. how many pods of the same spread group are already on the node (the controller's uid
 *      from `ownerReferences`, else the pod's label set) — spreads replicas across nodes;
 *   2. least requested: the mean fraction of cpu and memory that would be in use afterwards;
 *   3. the node name, so equal choices are deterministic.
 *
 * No clock, randomness or I/O here: `scheduleBatch` is what the scheduler actor calls, and what
 * the property tests drive with random clusters.
 */
import type { Node, PersistentVolumeClaim, Pod, Taint } from "../model/types.ts";
import { requestedHostPorts } from "../model/pod.ts";
import {
  describeTaint, effectiveTaints, intolerablePreferNoSchedule, nodeAffinityAdmits, preferredAffinityScore, TAINT_NOT_READY, TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE, untoleratedTaint,
} from "../model/scheduling.ts";
import { ClaimBatch, type ClaimConstraint, type ClaimLookup, REASON_READ_WRITE_ONCE_POD, REASON_VOLUME_NODE_CONFLICT } from "./scheduler_claims.ts";
import { podClaimNames } from "./volume_claims_decide.ts";
import { affinityVerdict, type AffinityVerdict, hasRequiredAntiAffinity } from "./scheduler_affinity.ts";
import { hasSpreadConstraints, SpreadCounts, spreadVerdict, type SpreadVerdict } from "./scheduler_spread.ts";

/**
 * Where one pod goes: a node name, or the reason no node fits. `claims`: the pod's claims that
 * no node was chosen for before; the scheduler writes the node on each before it binds the pod.
 */
export type ScheduleResult = { node: string; claims?: PersistentVolumeClaim[] } | { unschedulable: string };

/** Default `pods` capacity of a node that reports none (the kubelet's default max-pods). */
export const DEFAULT_MAX_PODS = 110;

/** Parses a cpu quantity ("250m", "0.5", "2") to millicores. Unparseable → 0. */
export function cpuMillis(q: string | undefined): number {
  if (q === undefined || q === "") return 0;
  const s = String(q).trim();
  if (s.endsWith("m")) return Math.ceil(Number(s.slice(0, -1))) || 0;
  const n = Number(s);
  return Number.isFinite(n) ? Math.ceil(n * 1000) : 0;
}

const BYTE_SUFFIX: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3,
};

/** Parses a memory quantity ("128Mi", "1G", "1e6", "512") to bytes. Unparseable → 0. */
export function bytes(q: string | undefined): number {
  if (q === undefined || q === "") return 0;
  const m = /^([0-9.]+(?:e[0-9]+)?)([A-Za-z]*)$/.exec(String(q).trim());
  if (!m) return 0;
  const mult = m[2] === "" ? 1 : BYTE_SUFFIX[m[2]];
  if (mult === undefined) return 0;
  return Math.ceil(Number(m[1]) * mult) || 0;
}

/** A pod's total requests (requests, else limits, as the API defaults requests to limits). */
export function podRequests(pod: Pod): { cpu: number; memory: number } {
  let cpu = 0;
  let memory = 0;
  for (const c of pod.spec.containers ?? []) {
    const r = c.resources?.requests ?? {};
    const l = c.resources?.limits ?? {};
    cpu += cpuMillis(r.cpu ?? l.cpu);
    memory += bytes(r.memory ?? l.memory);
  }
  return { cpu, memory };
}

/** True when the node's Ready condition is True. */
export function nodeIsReady(node: Node): boolean {
  return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** The key replicas of one controller share: its uid, else the pod's sorted label set. */
export function spreadKey(pod: Pod): string {
  const owner = pod.metadata.ownerReferences?.find((o) => o.controller);
  if (owner) return `uid:${owner.uid}`;
  const labels = pod.metadata.labels ?? {};
  return `labels:${Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(",")}`;
}

/** True for a pod that holds resources on its node (bound and not terminated). */
export function podHoldsResources(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return !!pod.spec.nodeName && phase !== "Succeeded" && phase !== "Failed";
}

/** What the scheduler knows about one node while it places a batch. Mutated as pods land. */
export interface NodeState {
  name: string;
  labels: Record<string, string>;
  /** Its taints, with those its conditions imply. */
  taints: Taint[];
  /** Why the node is not a candidate for a pod without tolerations, or null. */
  excluded: string | null;
  cpuAllocatable: number;
  memAllocatable: number;
  maxPods: number;
  cpuUsed: number;
  memUsed: number;
  pods: number;
  hostPorts: Set<string>;
  spread: Map<string, number>;
  /** The pods placed on the node (inter-pod affinity looks at their labels). */
  placed: Pod[];
}

/** The pods placed so far that keep others away by a required anti-affinity term, with their nodes. */
export type AntiAffinityGuards = { pod: Pod; node: NodeState }[];

/** The scheduler's reason for a taint the pod does not tolerate (kube-scheduler's words). */
function taintReason(t: Taint): string {
  if (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE) return "node(s) were not ready";
  if (t.key === TAINT_UNSCHEDULABLE) return "node(s) were unschedulable";
  return `node(s) had untolerated taint ${describeTaint(t)}`;
}

/** Why a pod with these tolerations may not go to a node with these taints, or null. */
function taintExclusion(tolerations: Pod["spec"]["tolerations"], taints: readonly Taint[]): string | null {
  // The implied taints first, so a node both tainted and not ready reads "not ready".
  const implied = untoleratedTaint(tolerations, taints.filter((t) => t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE || t.key === TAINT_UNSCHEDULABLE));
  const t = implied ?? untoleratedTaint(tolerations, taints);
  return t ? taintReason(t) : null;
}

/** Builds the per-node accounting from the nodes and the pods already bound to them. */
export function buildNodeStates(nodes: Node[], boundPods: Pod[]): Map<string, NodeState> {
  const states = new Map<string, NodeState>();
  for (const node of nodes) {
    const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
    const taints = effectiveTaints(node);
    states.set(node.metadata.name, {
      name: node.metadata.name,
      labels: node.metadata.labels ?? {},
      taints,
      excluded: taintExclusion(undefined, taints),
      cpuAllocatable: alloc.cpu !== undefined ? cpuMillis(alloc.cpu) : Infinity,
      memAllocatable: alloc.memory !== undefined ? bytes(alloc.memory) : Infinity,
      maxPods: alloc.pods !== undefined ? Number(alloc.pods) || 0 : DEFAULT_MAX_PODS,
      cpuUsed: 0,
      memUsed: 0,
      pods: 0,
      hostPorts: new Set(),
      spread: new Map(),
      placed: [],
    });
  }
  for (const pod of boundPods) {
    if (!podHoldsResources(pod)) continue;
    const st = states.get(pod.spec.nodeName!);
    if (st) place(st, pod);
  }
  return states;
}

/** Accounts a pod on a node. */
function place(st: NodeState, pod: Pod): void {
  const r = podRequests(pod);
  st.cpuUsed += r.cpu;
  st.memUsed += r.memory;
  st.pods += 1;
  for (const hp of requestedHostPorts(pod)) st.hostPorts.add(hp);
  const key = spreadKey(pod);
  st.spread.set(key, (st.spread.get(key) ?? 0) + 1);
  st.placed.push(pod);
}

function fraction(used: number, alloc: number): number {
  if (alloc === Infinity) return 0;
  if (alloc <= 0) return 1;
  return used / alloc;
}

/** Chooses a node for one pod against the current node states (not mutated), and its claims' constraints if it has any. */
export function chooseNode(pod: Pod, states: Iterable<NodeState>, claims?: ClaimConstraint, affinity?: AffinityVerdict, topology?: SpreadVerdict): ScheduleResult {
  const req = podRequests(pod);
  const ports = requestedHostPorts(pod);
  const selector = pod.spec.nodeSelector ?? {};
  const selectorKeys = Object.keys(selector);
  const tolerations = pod.spec.tolerations?.length ? pod.spec.tolerations : undefined;
  const nodeAffinity = pod.spec.affinity?.nodeAffinity;
  const key = spreadKey(pod);
  const reasons = new Map<string, number>();
  const reject = (why: string) => reasons.set(why, (reasons.get(why) ?? 0) + 1);
  let best: NodeState | null = null;
  let bestPreferred = 0;
  let bestTaints = 0;
  let bestTopology = 0;
  let bestSpread = 0;
  let bestLoad = 0;
  let total = 0;
  for (const st of states) {
    total++;
    const excluded = tolerations ? taintExclusion(tolerations, st.taints) : st.excluded;
    if (excluded) { reject(excluded); continue; }
    if (nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? !nodeAffinityAdmits(pod.spec, st.name, st.labels) : selectorKeys.some((k) => st.labels[k] !== selector[k])) {
      reject("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    if (st.pods + 1 > st.maxPods) { reject("Too many pods"); continue; }
    if (st.cpuUsed + req.cpu > st.cpuAllocatable) { reject("Insufficient cpu"); continue; }
    if (st.memUsed + req.memory > st.memAllocatable) { reject("Insufficient memory"); continue; }
    if (ports.some((p) => st.hostPorts.has(p))) { reject("node(s) didn't have free ports for the requested pod ports"); continue; }
    if (claims) {
      if (claims.readWriteOncePod) { reject(REASON_READ_WRITE_ONCE_POD); continue; }
      if (claims.conflict || (claims.node !== undefined && claims.node !== st.name)) { reject(REASON_VOLUME_NODE_CONFLICT); continue; }
    }
    const placedBy = affinity ? affinityNode(st) : undefined;
    if (affinity) {
      const why = affinity.refuse(placedBy!);
      if (why) { reject(why); continue; }
    }
    if (topology) {
      const why = topology.refuse(st);
      if (why) { reject(why); continue; }
    }
    const preferred = (nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ? preferredAffinityScore(pod.spec, st.name, st.labels) : 0) + (affinity ? affinity.score(placedBy!) : 0);
    const softTaints = st.taints.length ? intolerablePreferNoSchedule(tolerations, st.taints) : 0;
    const soft = topology ? topology.score(st) : 0;
    const spread = st.spread.get(key) ?? 0;
    const load = (fraction(st.cpuUsed + req.cpu, st.cpuAllocatable) + fraction(st.memUsed + req.memory, st.memAllocatable)) / 2;
    if (best !== null && (preferred < bestPreferred || (preferred === bestPreferred && (softTaints > bestTaints || (softTaints === bestTaints && soft > bestTopology))))) continue;
    if (
      best === null ||
      preferred > bestPreferred ||
      softTaints < bestTaints ||
      soft < bestTopology ||
      spread < bestSpread ||
      // Equal load (pods without requests weigh nothing): the node with fewer pods, as
      // Kubernetes' scoring counts such pods at its non-zero defaults; then the name.
      (spread === bestSpread && (load < bestLoad || (load === bestLoad && (st.pods < best.pods || (st.pods === best.pods && st.name < best.name)))))
    ) {
      best = st;
      bestPreferred = preferred;
      bestTaints = softTaints;
      bestTopology = soft;
      bestSpread = spread;
      bestLoad = load;
    }
  }
  if (best) return { node: best.name };
  if (total === 0) return { unschedulable: "0/0 nodes are available: no nodes registered." };
  const parts = [...reasons.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([why, n]) => `${n} ${why}`);
  return { unschedulable: `0/${total} nodes are available: ${parts.join(", ")}.` };
}

/** Schedules a single pod. */
export function schedule(pod: Pod, nodes: Node[], boundPods: Pod[], claims?: ClaimLookup): ScheduleResult {
  return scheduleBatch([pod], nodes, boundPods, claims)[0].result;
}

/**
 * Schedules many pending pods at once, in the given order, each choice accounted for before the
 * next (so a batch never overcommits a node, and two pods of one unplaced claim go to one node).
 * Returns one result per pod, in order. Without `claims`, PersistentVolumeClaims are not looked at.
 */
export function scheduleBatch(pods: Pod[], nodes: Node[], boundPods: Pod[], claims?: ClaimLookup): { pod: Pod; result: ScheduleResult }[] {
  const states = buildNodeStates(nodes, boundPods);
  return scheduleOnto(pods, states, claims ? new ClaimBatch(claims, boundPods) : undefined);
}

/** A node state as the inter-pod affinity rules read it. */
function affinityNode(st: NodeState): { name: string; labels: Record<string, string>; pods: Pod[] } {
  return { name: st.name, labels: st.labels, pods: st.placed };
}

/** The placed pods with a required anti-affinity term, from the node states. */
export function antiAffinityGuards(states: Map<string, NodeState>): AntiAffinityGuards {
  const out: AntiAffinityGuards = [];
  for (const st of states.values()) for (const p of st.placed) if (hasRequiredAntiAffinity(p)) out.push({ pod: p, node: st });
  return out;
}

/** `scheduleBatch` over prepared node states, which it mutates as pods are placed. */
export function scheduleOnto(pods: Pod[], states: Map<string, NodeState>, claims?: ClaimBatch, guards: AntiAffinityGuards = antiAffinityGuards(states)): { pod: Pod; result: ScheduleResult }[] {
  const out: { pod: Pod; result: ScheduleResult }[] = [];
  let nodes: ReturnType<typeof affinityNode>[] | undefined;
  // Matching pods per node for the spread constraints, counted once a pass and kept as pods land.
  let spreadCounts: SpreadCounts | undefined;
  for (const pod of pods) {
    const names = claims ? podClaimNames(pod) : undefined;
    // Inter-pod rules only for a pod with terms of its own, or when a placed pod's required
    // anti-affinity may name it: most pods pay nothing for them.
    let affinity: AffinityVerdict | undefined;
    if (pod.spec.affinity?.podAffinity || pod.spec.affinity?.podAntiAffinity || guards.length) {
      nodes ??= [...states.values()].map(affinityNode);
      affinity = affinityVerdict(pod, nodes, guards.map((g) => ({ pod: g.pod, node: affinityNode(g.node) })));
    }
    let topology: SpreadVerdict | undefined;
    if (hasSpreadConstraints(pod)) {
      spreadCounts ??= new SpreadCounts(() => states.values());
      topology = spreadVerdict(pod, states.values(), spreadCounts);
    }
    let result: ScheduleResult;
    if (!names?.length) result = chooseNode(pod, states.values(), undefined, affinity, topology);
    else {
      const c = claims!.filter(pod, names);
      if ("unschedulable" in c) result = { unschedulable: `0/${states.size} nodes are available: ${c.unschedulable}.` };
      else {
        result = chooseNode(pod, states.values(), c, affinity, topology);
        if ("node" in result) {
          const toPlace = claims!.reserve(c, result.node);
          if (toPlace.length) result = { node: result.node, claims: toPlace };
        }
      }
    }
    if ("node" in result) {
      const st = states.get(result.node)!;
      place(st, pod);
      spreadCounts?.placed(st.name, pod);
      if (hasRequiredAntiAffinity(pod)) guards.push({ pod, node: st });
    }
    out.push({ pod, result });
  }
  return out;
}
