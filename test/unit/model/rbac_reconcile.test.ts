/**
 * Reconciling the bootstrap RBAC policy of an existing cluster (model/rbac_reconcile.ts), as
 * kube-apiserver's post-start hook does: what a newer Berth adds, what an operator keeps.
 */
import { describe, expect, it } from "vitest";
import { reconcileClusterRole, reconcileClusterRoleBinding, rulesCover } from "../../../model/rbac_reconcile.ts";
import { AUTOUPDATE_ANNOTATION, BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from "../../../model/rbac_bootstrap.ts";
import type { ClusterRole, ClusterRoleBinding, PolicyRule } from "../../../model/types.ts";

const role = (name: string): ClusterRole => structuredClone(BOOTSTRAP_CLUSTER_ROLES.find((r) => r.metadata.name === name)!);
const binding = (name: string): ClusterRoleBinding => structuredClone(BOOTSTRAP_CLUSTER_ROLE_BINDINGS.find((b) => b.metadata.name === name)!);
const stored = <T extends ClusterRole | ClusterRoleBinding>(o: T): T => ({ ...o, metadata: { ...o.metadata, uid: "u1", resourceVersion: "7" } });

describe("rbac bootstrap reconciliation", () => {
  it("rule coverage is checked verb by verb and resource by resource, wildcards, subresources, names and URLs included", () => {
    const pods: PolicyRule = { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] };
    expect(rulesCover([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], pods)).toBe(true);
    expect(rulesCover([{ verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods", "pods/log", "services"] }], pods)).toBe(true);
    // Split over two rules is covered too; a missing verb or subresource is not.
    expect(rulesCover([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }, { verbs: ["get", "list"], apiGroups: [""], resources: ["pods/log"] }], pods)).toBe(true);
    expect(rulesCover([{ verbs: ["get"], apiGroups: [""], resources: ["pods", "pods/log"] }], pods)).toBe(false);
    expect(rulesCover([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }], pods)).toBe(false);
    // A rule limited to names does not cover one for every name.
    expect(rulesCover([{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"], resourceNames: ["a"] }], pods)).toBe(false);
    expect(rulesCover([{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }], { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] })).toBe(true);
    expect(rulesCover([{ verbs: ["get"], nonResourceURLs: ["/healthz", "/version"] }], { verbs: ["get"], nonResourceURLs: ["/version"] })).toBe(true);
    expect(rulesCover([{ verbs: ["get"], nonResourceURLs: ["/api/*"] }], { verbs: ["get"], nonResourceURLs: ["/api/v1"] })).toBe(true);
    expect(rulesCover([{ verbs: ["get"], nonResourceURLs: ["/healthz"] }], { verbs: ["get"], nonResourceURLs: ["/livez"] })).toBe(false);
  });

  it("a role as Berth makes it, or with more rules and labels of the operator's, is left as it is", () => {
    const r = stored(role("system:discovery"));
    expect(reconcileClusterRole(r, role("system:discovery"))).toBeUndefined();
    const more = { ...r, metadata: { ...r.metadata, labels: { ...r.metadata.labels, team: "ops" } }, rules: [...r.rules!, { verbs: ["get"], nonResourceURLs: ["/metrics"] }] };
    expect(reconcileClusterRole(more, role("system:discovery"))).toBeUndefined();
  });

  it("a role made by an older Berth gets the rules it lacks, the operator's rules and label values kept", () => {
    const expected = role("system:basic-user");
    const old = stored({ ...expected, metadata: { ...expected.metadata, labels: { "kubernetes.io/bootstrapping": "mine", team: "ops" } }, rules: [expected.rules![0], { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }] });
    const next = reconcileClusterRole(old, expected)!;
    expect(next.rules).toEqual([expected.rules![0], { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }, ...expected.rules!.slice(1)]);
    expect(next.metadata.labels).toEqual({ "kubernetes.io/bootstrapping": "mine", team: "ops" });
    expect(next.metadata.resourceVersion).toBe("7");
    // autoupdate "false": the operator's, as it is.
    const pinned = { ...old, metadata: { ...old.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: "false" } } };
    expect(reconcileClusterRole(pinned, expected)).toBeUndefined();
  });

  it("an aggregating role gets the selectors it lacks; its rules are the aggregation controller's", () => {
    const expected = role("view");
    const old = stored({ ...expected, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "example.com/aggregate": "true" } }] }, rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }] });
    const next = reconcileClusterRole(old, expected)!;
    expect(next.aggregationRule!.clusterRoleSelectors).toEqual([{ matchLabels: { "example.com/aggregate": "true" } }, ...expected.aggregationRule!.clusterRoleSelectors!]);
    expect(next.rules).toEqual(old.rules);
  });

  it("a binding gets the subjects it lacks, keeps the operator's; another roleRef means recreate", () => {
    const expected = binding("system:discovery");
    const old = stored({ ...expected, subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" }] });
    const next = reconcileClusterRoleBinding(old, expected)!;
    expect(next.recreate).toBe(false);
    expect(next.binding.subjects).toEqual([{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "alice" }, ...expected.subjects!]);
    expect(reconcileClusterRoleBinding(stored(expected), expected)).toBeUndefined();
    const moved = stored({ ...expected, roleRef: { ...expected.roleRef, name: "view" } });
    const again = reconcileClusterRoleBinding(moved, expected)!;
    expect(again.recreate).toBe(true);
    expect(again.binding.roleRef).toEqual(expected.roleRef);
    const pinned = { ...moved, metadata: { ...moved.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: "false" } } };
    expect(reconcileClusterRoleBinding(pinned, expected)).toBeUndefined();
  });

  it("every bootstrap object reconciled against itself changes nothing", () => {
    for (const r of BOOTSTRAP_CLUSTER_ROLES) expect(reconcileClusterRole(stored(structuredClone(r)), r), r.metadata.name).toBeUndefined();
    for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) expect(reconcileClusterRoleBinding(stored(structuredClone(b)), b), b.metadata.name).toBeUndefined();
  });
});
