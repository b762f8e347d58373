/**
 * Inter-pod affinity and anti-affinity for the scheduler (pure), as kube-scheduler's
 * InterPodAffinity plugin decides them. A term names pods (its `labelSelector`, in `namespaces`,
 * by default the incoming pod's; `namespaceSelector: {}` is every namespace) and a node label,
 * `topologyKey`: a topology domain is one value of that label, so `kubernetes.io/hostname` is
 * "the same node" and a zone label "the same zone".
 *
 * Filtering, for a candidate node:
 *   - each required podAffinity term: the node has the term's label and some matching pod runs
 *     in its domain — or, when no pod matching any of the required terms runs anywhere and the
 *     incoming pod matches all of them itself, any node with every label will do (the first of a
 *     group);
 *   - each required podAntiAffinity term: no matching pod runs in the node's domain (a node
 *     without the label passes);
 *   - every pod already placed with a required podAntiAffinity term the incoming pod matches
 *     keeps it out of that pod's domain (the rule holds both ways).
 * Scoring: each preferred term's weight times the matching pods in the node's domain, affinity
 * added and anti-affinity subtracted (as kube-scheduler's processTerm), added to the
 * node-affinity preference (higher is better). Placed pods' preferred terms toward the incoming
 * pod are not scored.
 */
import { matchesLabels, selectorFromSpec, type LabelSelector } from "../model/selector.ts";
import type { Pod, PodAffinityTerm } from "../model/types.ts";

/** A node as the affinity rules see it: its labels and the pods placed on it. */
export interface AffinityNode {
  name: string;
  labels: Readonly<Record<string, string>>;
  pods: readonly Pod[];
}

interface Term {
  selector: LabelSelector;
  /** Namespaces the term looks in; undefined: every namespace. */
  namespaces: ReadonlySet<string> | undefined;
  topologyKey: string;
}

function term(t: PodAffinityTerm, ownNamespace: string): Term {
  // An empty selector ({} or {matchLabels: {}}) is every namespace; one with labels is refused by validation.
  const sel = t.namespaceSelector;
  const everyNamespace = sel !== undefined && Object.keys(sel.matchLabels ?? {}).length === 0 && !sel.matchExpressions?.length;
  const namespaces = everyNamespace ? undefined : new Set(t.namespaces?.length ? t.namespaces : [ownNamespace]);
  return { selector: selectorFromSpec(t.labelSelector), namespaces, topologyKey: t.topologyKey };
}

function termMatches(t: Term, pod: Pod): boolean {
  return (t.namespaces === undefined || t.namespaces.has(pod.metadata.namespace ?? "default")) && matchesLabels(t.selector, pod.metadata.labels);
}

/** How many pods matching `t` run in each topology domain (value of `t.topologyKey`) that has any. */
function domainsWith(t: Term, nodes: readonly AffinityNode[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of nodes) {
    const domain = n.labels[t.topologyKey];
    if (domain === undefined) continue;
    let count = 0;
    for (const p of n.pods) if (termMatches(t, p)) count++;
    if (count) out.set(domain, (out.get(domain) ?? 0) + count);
  }
  return out;
}

/** True when the pod has inter-pod (anti-)affinity terms of its own. */
export function hasPodAffinity(pod: Pod): boolean {
  const a = pod.spec.affinity;
  return a?.podAffinity !== undefined || a?.podAntiAffinity !== undefined;
}

/** True when the pod keeps others away by a required anti-affinity term (checked for every pod scheduled after it). */
export function hasRequiredAntiAffinity(pod: Pod): boolean {
  return (pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0;
}

/** What the rules say of each candidate node for one pod. */
export interface AffinityVerdict {
  /** Why the node may not take the pod (kube-scheduler's words), or null. */
  refuse(node: AffinityNode): string | null;
  /** The preferred terms' score on the node. */
  score(node: AffinityNode): number;
}

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

/**
 * The verdict for `pod` over the cluster's nodes (with the pods placed on them), or undefined
 * when no rule applies (the pod has no terms and no placed pod's required anti-affinity names
 * it): then the scheduler skips the rules altogether. `guards` are the placed pods with a
 * required anti-affinity term, with their nodes.
 */
export function affinityVerdict(pod: Pod, nodes: readonly AffinityNode[], guards: readonly { pod: Pod; node: AffinityNode }[]): AffinityVerdict | undefined {
  const ns = pod.metadata.namespace ?? "default";
  // Domains placed pods' required anti-affinity closes to this pod: topologyKey → values.
  const closed = new Map<string, Set<string>>();
  for (const g of guards) {
    for (const t of g.pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const tt = term(t, g.pod.metadata.namespace ?? "default");
      const domain = g.node.labels[tt.topologyKey];
      if (domain === undefined || !termMatches(tt, pod)) continue;
      let set = closed.get(tt.topologyKey);
      if (!set) closed.set(tt.topologyKey, (set = new Set()));
      set.add(domain);
    }
  }
  if (!hasPodAffinity(pod) && closed.size === 0) return undefined;
  const a = pod.spec.affinity;
  const required = (a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => {
    const tt = term(t, ns);
    return { term: tt, domains: domainsWith(tt, nodes) };
  });
  // kube-scheduler's exception: no pod matches any required term anywhere, and the pod matches
  // all of them itself — the first of a group that keeps together.
  const firstOfGroup = required.length > 0 && required.every((r) => r.domains.size === 0 && termMatches(r.term, pod));
  const anti = (a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => {
    const tt = term(t, ns);
    return { term: tt, domains: domainsWith(tt, nodes) };
  });
  const preferred = [
    ...(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({ weight: p.weight, t: p.podAffinityTerm })),
    ...(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((p) => ({ weight: -p.weight, t: p.podAffinityTerm })),
  ].map(({ weight, t }) => {
    const tt = term(t, ns);
    return { weight, term: tt, domains: domainsWith(tt, nodes) };
  });
  return {
    refuse(node) {
      // Every term's label must be on the node, first of a group or not.
      for (const r of required) if (node.labels[r.term.topologyKey] === undefined) return REASON_AFFINITY;
      if (!firstOfGroup) {
        for (const r of required) if (!r.domains.has(node.labels[r.term.topologyKey])) return REASON_AFFINITY;
      }
      for (const r of anti) {
        const d = node.labels[r.term.topologyKey];
        if (d !== undefined && r.domains.has(d)) return REASON_ANTI_AFFINITY;
      }
      for (const [key, domains] of closed) {
        const d = node.labels[key];
        if (d !== undefined && domains.has(d)) return REASON_EXISTING_ANTI_AFFINITY;
      }
      return null;
    },
    score(node) {
      let s = 0;
      for (const p of preferred) {
        const d = node.labels[p.term.topologyKey];
        if (d !== undefined) s += p.weight * (p.domains.get(d) ?? 0);
      }
      return s;
    },
  };
}
