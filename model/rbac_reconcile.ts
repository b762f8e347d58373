/**
 * Bringing the bootstrap roles and bindings of an existing cluster up to date at API start, as
 * kube-apiserver's RBAC post-start hook does (pkg/registry/rbac/reconciliation): a newer Berth may
 * ship more rules than the cluster was made with, and an operator's own changes must survive.
 *
 *   autoupdate annotation "false"        ──▶ left exactly as it is
 *   ClusterRole with an aggregationRule  ──▶ the expected selectors added (its rules belong to the
 *                                            aggregation controller)
 *   ClusterRole                          ──▶ each expected rule not covered by the existing ones
 *                                            added (coverage checked verb by verb, resource by
 *                                            resource, as kube's `Covers`); extra rules kept
 *   ClusterRoleBinding                   ──▶ the expected subjects added, extra ones kept; another
 *                                            roleRef (which cannot change) means delete and recreate
 *   both                                 ──▶ expected labels and annotations added, the existing
 *                                            values winning where both have one
 *
 * Pure: returns what to write, or undefined when nothing is to change.
 */
import { AUTOUPDATE_ANNOTATION } from "./rbac_bootstrap.ts";
import { type RequestAttributes, ruleAllows } from "./rbac.ts";
import type { ClusterRole, ClusterRoleBinding, KubeObject, PolicyRule, Subject } from "./types.ts";

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Whether the operator asked that this object be left alone. */
function pinned(o: KubeObject): boolean {
  return o.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === "false";
}

/** The existing metadata with the expected labels and annotations it lacks (undefined: it lacks none). */
function mergedMeta(existing: KubeObject, expected: KubeObject): KubeObject["metadata"] | undefined {
  const lacking = (have: Record<string, string> | undefined, want: Record<string, string> | undefined) =>
    Object.entries(want ?? {}).filter(([k]) => !(k in (have ?? {})));
  const labels = lacking(existing.metadata.labels, expected.metadata.labels);
  const annotations = lacking(existing.metadata.annotations, expected.metadata.annotations);
  if (labels.length === 0 && annotations.length === 0) return undefined;
  return {
    ...existing.metadata,
    ...(labels.length ? { labels: { ...existing.metadata.labels, ...Object.fromEntries(labels) } } : {}),
    ...(annotations.length ? { annotations: { ...existing.metadata.annotations, ...Object.fromEntries(annotations) } } : {}),
  };
}

/** Whether the rules grant everything `rule` does (each of its verbs on each of its resources, names or URLs). */
export function rulesCover(rules: readonly PolicyRule[], rule: PolicyRule): boolean {
  const allowed = (a: RequestAttributes) => rules.some((r) => ruleAllows(r, a));
  for (const verb of rule.verbs) {
    if (rule.nonResourceURLs?.length) {
      // A URL ending in "*" is covered by a rule that allows that very pattern (or "*").
      if (!rule.nonResourceURLs.every((path) => allowed({ type: "nonResource", verb, path }))) return false;
      continue;
    }
    for (const apiGroup of rule.apiGroups ?? []) {
      for (const full of rule.resources ?? []) {
        const [resource, subresource] = full.split("/", 2);
        const names = rule.resourceNames?.length ? rule.resourceNames : [undefined];
        for (const name of names) {
          if (!allowed({ type: "resource", verb, apiGroup, resource, ...(subresource ? { subresource } : {}), ...(name ? { name } : {}) })) return false;
        }
      }
    }
  }
  return true;
}

/** The ClusterRole to write so that `existing` has what `expected` (a bootstrap role) grants; undefined: nothing to do. */
export function reconcileClusterRole(existing: ClusterRole, expected: ClusterRole): ClusterRole | undefined {
  if (pinned(existing)) return undefined;
  const metadata = mergedMeta(existing, expected);
  let next: ClusterRole = metadata ? { ...existing, metadata } : existing;
  if (expected.aggregationRule) {
    const have = existing.aggregationRule?.clusterRoleSelectors ?? [];
    const missing = (expected.aggregationRule.clusterRoleSelectors ?? []).filter((s) => !have.some((h) => same(h, s)));
    if (missing.length) next = { ...next, aggregationRule: { ...existing.aggregationRule, clusterRoleSelectors: [...have, ...missing] } };
  } else {
    const have = existing.rules ?? [];
    const missing = (expected.rules ?? []).filter((r) => !rulesCover(have, r));
    if (missing.length) next = { ...next, rules: [...have, ...missing] };
  }
  return next === existing ? undefined : next;
}

/**
 * The ClusterRoleBinding to write so that `existing` names every subject `expected` does;
 * `recreate` when its roleRef differs (a roleRef cannot change: the binding is deleted and made
 * again, with the subjects of both). Undefined: nothing to do.
 */
export function reconcileClusterRoleBinding(existing: ClusterRoleBinding, expected: ClusterRoleBinding): { binding: ClusterRoleBinding; recreate: boolean } | undefined {
  if (pinned(existing)) return undefined;
  const key = (s: Subject) => `${s.kind}/${s.namespace ?? ""}/${s.name}`;
  const have = existing.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => key(h) === key(s)));
  const recreate = !same(existing.roleRef, expected.roleRef);
  const metadata = mergedMeta(existing, expected);
  if (!recreate && missing.length === 0 && !metadata) return undefined;
  return { binding: { ...existing, metadata: metadata ?? existing.metadata, subjects: [...have, ...missing], roleRef: expected.roleRef }, recreate };
}
