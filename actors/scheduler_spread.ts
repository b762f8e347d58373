/**
 * Pod topology spread constraints for the scheduler (pure), as kube-scheduler's PodTopologySpread
 * plugin decides them. A constraint counts the pods matching its `labelSelector` (in the incoming
 * pod's namespace, not being deleted; `matchLabelKeys` add the incoming pod's values of those
 * keys) in each topology domain, a value of the node label `topologyKey`.
 *
 * Which nodes' domains count (for one constraint): nodes that have every key of the pod's
 * constraints of the same kind (hard or soft); with `nodeAffinityPolicy: Honor` (the default)
 * only nodes the pod's nodeSelector and required node affinity admit; with `nodeTaintsPolicy:
 * Honor` (default Ignore) only nodes whose NoSchedule/NoExecute taints the pod tolerates.
 *
 * Filtering, each `DoNotSchedule` constraint, for a candidate node: the node has the key
 * (else "missing required label"), and placing the pod there keeps
 * `matching pods in the node's domain + (1 if the pod matches itself) − the emptiest domain's`
 * within `maxSkew`; with fewer counted domains than `minDomains` the emptiest is taken as 0.
 *
 * Scoring, the `ScheduleAnyway` constraints: each adds `count × log(domains + 2) + maxSkew − 1`
 * for the node's domain (kube's scoreForCount), lower is better; a node without every soft
 * key scores worst. The scheduler compares this after node affinity's and the taints' preferences.
 */
import { type LabelSelector, matchesLabels, selectorFromSpec } from "../model/selector.ts";
import { nodeAffinityAdmits, untoleratedTaint } from "../model/scheduling.ts";
import type { Pod, Taint, TopologySpreadConstraint } from "../model/types.ts";

/** A node as the spread rules see it (the scheduler's NodeState is one). */
export interface SpreadNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  /** Its taints, with those its state implies. */
  taints: readonly Taint[];
  /** The pods placed on it. */
  placed: readonly Pod[];
}

export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)";

/** The selector a constraint counts with: its labelSelector and the pod's values of its matchLabelKeys. */
function constraintSelector(c: TopologySpreadConstraint, pod: Pod): LabelSelector {
  const base = selectorFromSpec(c.labelSelector);
  const labels = pod.metadata.labels ?? {};
  const keys = (c.matchLabelKeys ?? []).filter((k) => labels[k] !== undefined);
  if (!keys.length || base.matchNothing) return base;
  return { matchNothing: false, requirements: [...base.requirements, ...keys.map((key) => ({ key, operator: "in" as const, values: [labels[key]] }))] };
}

/**
 * Per node, how many of its placed pods match a (namespace, selector), for the pods of one
 * scheduling pass: computed the first time a pod asks, then kept up to date as the pass places
 * pods (`placed`), so a pass of many constrained pods counts each node's pods once.
 */
export class SpreadCounts {
  readonly #nodes: () => Iterable<SpreadNode>;
  readonly #bySelector = new Map<string, { namespace: string; selector: LabelSelector; perNode: Map<string, number> }>();

  constructor(nodes: () => Iterable<SpreadNode>) {
    this.#nodes = nodes;
  }

  /** Node name → matching pods on it (nodes with none are absent). */
  count(namespace: string, selector: LabelSelector): ReadonlyMap<string, number> {
    const key = `${namespace}\u0000${JSON.stringify(selector)}`;
    let entry = this.#bySelector.get(key);
    if (!entry) {
      const perNode = new Map<string, number>();
      for (const n of this.#nodes()) {
        let k = 0;
        for (const p of n.placed) if (counts(p, namespace, selector)) k++;
        if (k) perNode.set(n.name, k);
      }
      this.#bySelector.set(key, (entry = { namespace, selector, perNode }));
    }
    return entry.perNode;
  }

  /** A pod the pass has just placed on `node`. */
  placed(node: string, pod: Pod): void {
    for (const e of this.#bySelector.values()) {
      if (counts(pod, e.namespace, e.selector)) e.perNode.set(node, (e.perNode.get(node) ?? 0) + 1);
    }
  }
}

function counts(p: Pod, namespace: string, selector: LabelSelector): boolean {
  // kube's countPodsMatchSelector counts nothing for an empty selector (the pod still counts itself).
  return selector.requirements.length > 0 && !p.metadata.deletionTimestamp && (p.metadata.namespace ?? "default") === namespace && matchesLabels(selector, p.metadata.labels);
}

interface Counted {
  c: TopologySpreadConstraint;
  /** Node name → matching pods on it. */
  perNode: ReadonlyMap<string, number>;
  /** Domain value → matching pods there, for every counted domain (0 included). */
  domains: Map<string, number>;
  /** 1 when the incoming pod matches the constraint's selector itself. */
  self: number;
}

/** What the constraints say of each candidate node for one pod. */
export interface SpreadVerdict {
  /** Why the node may not take the pod (kube-scheduler's words), or null. */
  refuse(node: SpreadNode): string | null;
  /** The soft constraints' score on the node; lower is better. */
  score(node: SpreadNode): number;
}

/** True when the pod has topology spread constraints. */
export function hasSpreadConstraints(pod: Pod): boolean {
  return (pod.spec.topologySpreadConstraints?.length ?? 0) > 0;
}

/** Counts one kind (hard or soft) of the pod's constraints over the nodes. */
function countAll(pod: Pod, constraints: TopologySpreadConstraint[], nodes: Iterable<SpreadNode>, counts: SpreadCounts): Counted[] {
  const ns = pod.metadata.namespace ?? "default";
  const out: Counted[] = constraints.map((c) => {
    const selector = constraintSelector(c, pod);
    return { c, perNode: counts.count(ns, selector), domains: new Map(), self: matchesLabels(selector, pod.metadata.labels) ? 1 : 0 };
  });
  for (const n of nodes) {
    if (!constraints.every((c) => n.labels[c.topologyKey] !== undefined)) continue;
    let admits: boolean | undefined;
    let tolerated: boolean | undefined;
    for (const k of out) {
      if ((k.c.nodeAffinityPolicy ?? "Honor") === "Honor" && !(admits ??= nodeAffinityAdmits(pod.spec, n.name, n.labels))) continue;
      if (k.c.nodeTaintsPolicy === "Honor" && !(tolerated ??= untoleratedTaint(pod.spec.tolerations, n.taints) === undefined)) continue;
      const d = n.labels[k.c.topologyKey];
      k.domains.set(d, (k.domains.get(d) ?? 0) + (k.perNode.get(n.name) ?? 0));
    }
  }
  return out;
}

/**
 * The verdict for `pod` over the cluster's nodes, or undefined when it has no constraints (the
 * scheduler then skips the rules). `counts` is the pass's shared count of matching pods.
 */
export function spreadVerdict(pod: Pod, nodes: Iterable<SpreadNode>, counts: SpreadCounts): SpreadVerdict | undefined {
  const all = pod.spec.topologySpreadConstraints ?? [];
  if (!all.length) return undefined;
  const hardConstraints = all.filter((c) => c.whenUnsatisfiable !== "ScheduleAnyway");
  const softConstraints = all.filter((c) => c.whenUnsatisfiable === "ScheduleAnyway");
  const list = [...nodes];
  const hard = hardConstraints.length ? countAll(pod, hardConstraints, list, counts) : [];
  const soft = softConstraints.length ? countAll(pod, softConstraints, list, counts) : [];
  const minimum = hard.map((k) => {
    if (k.c.minDomains !== undefined && k.domains.size < k.c.minDomains) return 0;
    let min = Infinity;
    for (const v of k.domains.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  });
  const weights = soft.map((k) => Math.log(k.domains.size + 2));
  return {
    refuse(node) {
      for (let i = 0; i < hard.length; i++) {
        const k = hard[i];
        const d = node.labels[k.c.topologyKey];
        if (d === undefined) return REASON_SPREAD_LABEL;
        if ((k.domains.get(d) ?? 0) + k.self - minimum[i] > k.c.maxSkew) return REASON_SPREAD;
      }
      return null;
    },
    score(node) {
      let s = 0;
      for (let i = 0; i < soft.length; i++) {
        const k = soft[i];
        const d = node.labels[k.c.topologyKey];
        if (d === undefined) return Infinity;
        s += (k.domains.get(d) ?? 0) * weights[i] + k.c.maxSkew - 1;
      }
      return s;
    },
  };
}
