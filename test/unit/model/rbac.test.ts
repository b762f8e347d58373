/**
 * RBAC decided as kube-apiserver's authorizer decides it: which rules allow which requests, which
 * bindings name which users, the reasons and messages kube gives, and the escalation check.
 */
import { describe, expect, it } from "vitest";
import {
  authorize,
  compactRule,
  forbiddenMessage,
  ruleAllows,
  rulesFor,
  subjectMatches,
  uncoveredRules,
  type RbacView,
  type RequestAttributes,
  type UserInfo,
} from "../../../model/rbac.ts";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from "../../../model/types.ts";

const RBAC = "rbac.authorization.k8s.io";
const res = (verb: string, resource: string, extra: Partial<Extract<RequestAttributes, { type: "resource" }>> = {}): RequestAttributes => ({ type: "resource", verb, apiGroup: "", resource, ...extra });
const alice: UserInfo = { username: "alice", groups: ["devs", "system:authenticated"] };
const app: UserInfo = { username: "system:serviceaccount:shop:app", groups: ["system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"] };

function viewOf(objs: { clusterRoles?: ClusterRole[]; roles?: Role[]; crbs?: ClusterRoleBinding[]; rbs?: RoleBinding[] }): RbacView {
  return {
    clusterRoleBindings: () => objs.crbs ?? [],
    roleBindings: (ns) => (objs.rbs ?? []).filter((b) => b.metadata.namespace === ns),
    clusterRole: (n) => (objs.clusterRoles ?? []).find((r) => r.metadata.name === n),
    role: (ns, n) => (objs.roles ?? []).find((r) => r.metadata.namespace === ns && r.metadata.name === n),
  };
}
const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name }, rules });
const role = (ns: string, name: string, rules: PolicyRule[]): Role => ({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name, namespace: ns }, rules });

describe("rbac - a rule allows a request", () => {
  it("verbs and groups match exactly or by *", () => {
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("get", "pods"))).toBe(true);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, res("list", "pods"))).toBe(false);
    expect(ruleAllows({ verbs: ["*"], apiGroups: [""], resources: ["pods"] }, res("deletecollection", "pods"))).toBe(true);
    expect(ruleAllows({ verbs: ["get"], apiGroups: ["apps"], resources: ["pods"] }, res("get", "pods"))).toBe(false);
    expect(ruleAllows({ verbs: ["get"], apiGroups: ["*"], resources: ["deployments"] }, res("get", "deployments", { apiGroup: "apps" }))).toBe(true);
  });

  it("a subresource needs resource/sub, */sub or *; the resource alone does not cover it", () => {
    const log = res("get", "pods", { subresource: "log", name: "web" });
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["pods"] }, log)).toBe(false);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["pods/log"] }, log)).toBe(true);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["*/log"] }, log)).toBe(true);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["*/status"] }, log)).toBe(false);
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["*"] }, log)).toBe(true);
    // `*/log` is no pattern for a request without a subresource.
    expect(ruleAllows({ verbs: ["get"], apiGroups: [""], resources: ["*/log"] }, res("get", "pods"))).toBe(false);
  });

  it("resourceNames restrict to those names: a request without a name (list, create) is not allowed by them", () => {
    const rule: PolicyRule = { verbs: ["get", "list"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["settings"] };
    expect(ruleAllows(rule, res("get", "configmaps", { name: "settings" }))).toBe(true);
    expect(ruleAllows(rule, res("get", "configmaps", { name: "other" }))).toBe(false);
    expect(ruleAllows(rule, res("list", "configmaps"))).toBe(false);
  });

  it("non-resource URLs match exactly or by a trailing *; resource rules never allow a path", () => {
    expect(ruleAllows({ verbs: ["get"], nonResourceURLs: ["/healthz"] }, { type: "nonResource", verb: "get", path: "/healthz" })).toBe(true);
    expect(ruleAllows({ verbs: ["get"], nonResourceURLs: ["/healthz"] }, { type: "nonResource", verb: "get", path: "/healthz/ping" })).toBe(false);
    expect(ruleAllows({ verbs: ["get"], nonResourceURLs: ["/healthz*"] }, { type: "nonResource", verb: "get", path: "/healthz/ping" })).toBe(true);
    expect(ruleAllows({ verbs: ["get"], nonResourceURLs: ["*"] }, { type: "nonResource", verb: "get", path: "/version" })).toBe(true);
    expect(ruleAllows({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, { type: "nonResource", verb: "get", path: "/version" })).toBe(false);
  });
});

describe("rbac - bindings name users", () => {
  it("a User by name, a Group by membership, a ServiceAccount by namespace and name (the binding's namespace when it gives none)", () => {
    expect(subjectMatches({ kind: "User", name: "alice" }, alice, "")).toBe(true);
    expect(subjectMatches({ kind: "Group", name: "devs" }, alice, "")).toBe(true);
    expect(subjectMatches({ kind: "Group", name: "ops" }, alice, "")).toBe(false);
    expect(subjectMatches({ kind: "ServiceAccount", name: "app", namespace: "shop" }, app, "")).toBe(true);
    expect(subjectMatches({ kind: "ServiceAccount", name: "app" }, app, "shop")).toBe(true);
    expect(subjectMatches({ kind: "ServiceAccount", name: "app" }, app, "other")).toBe(false);
    expect(subjectMatches({ kind: "ServiceAccount", name: "app" }, app, "")).toBe(false);
    expect(subjectMatches({ kind: "User", name: "system:serviceaccount:shop:app" }, app, "")).toBe(true);
  });
});

describe("rbac - authorize", () => {
  const readPods = clusterRole("pod-reader", [{ verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods"] }]);

  it("a RoleBinding grants only in its namespace; a ClusterRoleBinding everywhere, and at the cluster scope", () => {
    const rb: RoleBinding = { apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name: "read", namespace: "shop" }, subjects: [{ kind: "ServiceAccount", name: "app" }], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" } };
    const view = viewOf({ clusterRoles: [readPods], rbs: [rb] });
    expect(authorize(view, app, res("list", "pods", { namespace: "shop" }))).toEqual({ allowed: true, reason: 'RBAC: allowed by RoleBinding "read/shop" of ClusterRole "pod-reader" to ServiceAccount "shop/app"' });
    expect(authorize(view, app, res("list", "pods", { namespace: "other" })).allowed).toBe(false);
    expect(authorize(view, app, res("list", "pods")).allowed).toBe(false);
    const crb: ClusterRoleBinding = { apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: "devs-read" }, subjects: [{ kind: "Group", name: "devs" }], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" } };
    const v2 = viewOf({ clusterRoles: [readPods], crbs: [crb] });
    expect(authorize(v2, alice, res("list", "pods"))).toEqual({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "devs-read" of ClusterRole "pod-reader" to Group "devs"' });
    expect(authorize(v2, alice, res("list", "pods", { namespace: "any" })).allowed).toBe(true);
    expect(authorize(v2, app, res("list", "pods", { namespace: "any" })).allowed).toBe(false);
  });

  it("a RoleBinding to a Role reads the Role of its own namespace", () => {
    const rb: RoleBinding = { apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name: "cm", namespace: "shop" }, subjects: [{ kind: "User", name: "alice" }], roleRef: { apiGroup: RBAC, kind: "Role", name: "cm-editor" } };
    const view = viewOf({ roles: [role("shop", "cm-editor", [{ verbs: ["update"], apiGroups: [""], resources: ["configmaps"] }]), role("other", "cm-editor", [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }])], rbs: [rb] });
    expect(authorize(view, alice, res("update", "configmaps", { namespace: "shop", name: "x" })).allowed).toBe(true);
    expect(authorize(view, alice, res("delete", "configmaps", { namespace: "shop", name: "x" })).allowed).toBe(false);
  });

  it("a binding whose role is missing allows nothing and is named in the reason, as kube does", () => {
    const crb: ClusterRoleBinding = { apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: "dangling" }, subjects: [{ kind: "User", name: "alice" }], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "gone" } };
    expect(authorize(viewOf({ crbs: [crb] }), alice, res("get", "pods", { namespace: "x", name: "p" }))).toEqual({ allowed: false, reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found]' });
  });

  it("system:masters may do everything without any binding; nobody else without one", () => {
    const view = viewOf({});
    expect(authorize(view, { username: "root", groups: ["system:masters"] }, res("delete", "nodes", { name: "n" })).allowed).toBe(true);
    expect(authorize(view, alice, res("get", "pods", { namespace: "x", name: "p" }))).toEqual({ allowed: false, reason: "" });
  });

  it("rulesFor collects the cluster-wide rules and those of the namespace's bindings", () => {
    const crb: ClusterRoleBinding = { apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: "devs-read" }, subjects: [{ kind: "Group", name: "devs" }], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" } };
    const rb: RoleBinding = { apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name: "cm", namespace: "shop" }, subjects: [{ kind: "User", name: "alice" }], roleRef: { apiGroup: RBAC, kind: "Role", name: "cm" } };
    const cm: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] };
    const view = viewOf({ clusterRoles: [readPods], roles: [role("shop", "cm", [cm])], crbs: [crb], rbs: [rb] });
    expect(rulesFor(view, alice, "shop").rules).toEqual([...readPods.rules!, cm]);
    expect(rulesFor(view, alice, "other").rules).toEqual(readPods.rules);
  });
});

describe("rbac - kube-apiserver's messages", () => {
  it("names the user, verb, resource[/sub], group and namespace or cluster scope, or the path", () => {
    expect(forbiddenMessage(app, res("list", "pods", { namespace: "shop" }))).toBe('User "system:serviceaccount:shop:app" cannot list resource "pods" in API group "" in the namespace "shop"');
    expect(forbiddenMessage(app, res("get", "pods", { subresource: "log", namespace: "shop", name: "w" }))).toBe('User "system:serviceaccount:shop:app" cannot get resource "pods/log" in API group "" in the namespace "shop"');
    expect(forbiddenMessage(alice, res("list", "nodes"))).toBe('User "alice" cannot list resource "nodes" in API group "" at the cluster scope');
    expect(forbiddenMessage(alice, { type: "nonResource", verb: "get", path: "/metrics" })).toBe('User "alice" cannot get path "/metrics"');
    expect(forbiddenMessage(alice, res("list", "deployments", { apiGroup: "apps" }), "RBAC: [x]")).toBe('User "alice" cannot list resource "deployments" in API group "apps" at the cluster scope: RBAC: [x]');
  });
});

describe("rbac - escalation: what a writer does not hold", () => {
  const owner: PolicyRule[] = [
    { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "configmaps"] },
    { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["app-secret"] },
    { verbs: ["get"], apiGroups: [""], resources: ["pods/*"] },
    { verbs: ["get"], nonResourceURLs: ["/api*"] },
  ];

  it("rules within the writer's are covered; each verb, resource and name outside them is listed", () => {
    expect(uncoveredRules(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ["get", "delete"], apiGroups: [""], resources: ["pods", "services"] }])).toEqual([
      { verbs: ["get"], apiGroups: [""], resources: ["services"] },
      { verbs: ["delete"], apiGroups: [""], resources: ["pods"] },
      { verbs: ["delete"], apiGroups: [""], resources: ["services"] },
    ]);
  });

  it("a * is covered only by a *; a name-restricted owner covers only those names", () => {
    expect(uncoveredRules(owner, [{ verbs: ["*"], apiGroups: [""], resources: ["pods"] }])).toHaveLength(1);
    expect(uncoveredRules(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["app-secret"] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["secrets"] }])).toHaveLength(1);
    expect(uncoveredRules([{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }], [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }])).toEqual([]);
  });

  it("pods/* covers every pod subresource; path prefixes cover longer paths", () => {
    expect(uncoveredRules(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods/log", "pods/status"] }])).toEqual([]);
    expect(uncoveredRules(owner, [{ verbs: ["get"], nonResourceURLs: ["/api/v1", "/metrics"] }])).toEqual([{ verbs: ["get"], nonResourceURLs: ["/metrics"] }]);
  });

  it("prints a rule as kube's escalation message does", () => {
    expect(compactRule({ verbs: ["get", "list"], apiGroups: [""], resources: ["secrets"] })).toBe('{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}');
  });
});
