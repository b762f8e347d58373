/**
 * Inter-pod affinity and anti-affinity for the scheduler (pure), as kube-scheduler's
 * InterPodAffinity plugin decides them. A term names pods (its `labelSelector`, in `namespaces`,
 * by default the incoming pod's; `namespaceSelector: {}` is every namespace) and a node label,
 * `topologyKey`: a topology domain is one value of that label, so `kubernetes.io/hostname` is
 * "the same node" and a zone label "the same zone".
 *
 * Filtering, for a candidate node:
 *   - each required podAffinity term: some matching pod runs in the node's domain — or, when no
 *     matching pod runs anywhere, the incoming pod matches the term itself (the first of a group
 *     may go anywhere); a node without the label fails;
 *   - each required podAntiAffinity term: no matching pod runs in the node's domain (a node
 *     without the label passes);
 *   - every pod already placed with a required podAntiAffinity term the incoming pod matches
 *     keeps it out of that pod's domain (the rule holds both ways).
 * Scoring: the weights of the preferred terms whose domain holds a matching pod, affinity added
 * and anti-affinity subtracted, added to the node-affinity preference (higher is better).
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
  const everyNamespace = t.namespaceSelector !== undefined && !t.namespaceSelector.matchLabels && !t.namespaceSelector.matchExpressions?.length;
  const namespaces = everyNamespace ? undefined : new Set(t.namespaces?.length ? t.namespaces : [ownNamespace]);
  return { selector: selectorFromSpec(t.labelSelector), namespaces, topologyKey: t.topologyKey };
}

function termMatches(t: Term, pod: Pod): boolean {
  return (t.namespaces === undefined || t.namespaces.has(pod.metadata.namespace ?? "default")) && matchesLabels(t.selector, pod.metadata.labels);
}

/** The topology domains (values of `t.topologyKey`) where some pod matching `t` runs. */
function domainsWith(t: Term, nodes: readonly AffinityNode[]): Set<string> {
  const out = new Set<string>();
  for (const n of nodes) {
    const domain = n.labels[t.topologyKey];
    if (domain === undefined || out.has(domain)) continue;
    if (n.pods.some((p) => termMatches(t, p))) out.add(domain);
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
    const domains = domainsWith(tt, nodes);
    // No matching pod anywhere, and the pod matches its own term: the first of its group.
    return { term: tt, domains, first: domains.size === 0 && termMatches(tt, pod) };
  });
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
      for (const r of required) {
        if (r.first) continue;
        const d = node.labels[r.term.topologyKey];
        if (d === undefined || !r.domains.has(d)) return REASON_AFFINITY;
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
        if (d !== undefined && p.domains.has(d)) s += p.weight;
      }
      return s;
    },
  };
}
