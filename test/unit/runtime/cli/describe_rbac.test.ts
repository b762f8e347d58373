/**
 * `berth describe` of the RBAC kinds and their `get` columns, against what kubectl 1.32 printed
 * for the same objects on Berth (kubectl's own describers, run by hand with `kubectl describe`).
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import { breakdownRule, compactRules } from "../../../../runtime/cli/describe_rbac.ts";
import { formatTable, toTable } from "../../../../runtime/api/table.ts";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "../../../../model/types.ts";

const RBAC = "rbac.authorization.k8s.io";
const CREATED = "2026-12-04T10:00:00.123Z";
const NOW = Date.parse("2026-12-04T10:05:00.123Z");
const role: Role = {
  apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name: "pod-reader", namespace: "default", creationTimestamp: CREATED },
  rules: [{ verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods"] }, { verbs: ["get", "list", "watch"], apiGroups: ["apps"], resources: ["deployments"] }],
};
const clusterRole: ClusterRole = {
  apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: "nodes-reader", creationTimestamp: CREATED, labels: { b: "2", a: "1" } },
  rules: [{ verbs: ["get"], apiGroups: [""], resources: ["nodes"] }, { verbs: ["get"], nonResourceURLs: ["/healthz", "/metrics"] }],
};
const binding: RoleBinding = {
  apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name: "rb", namespace: "default", creationTimestamp: CREATED },
  subjects: [{ kind: "User", apiGroup: RBAC, name: "alice" }, { kind: "Group", apiGroup: RBAC, name: "devs" }, { kind: "ServiceAccount", name: "app", namespace: "default" }],
  roleRef: { apiGroup: RBAC, kind: "Role", name: "pod-reader" },
};

describe("describe rbac - kubectl's describers", () => {
  it("a Role: Name, Labels, Annotations, then one PolicyRule row per group/resource, sorted as kubectl sorts them; no events", () => {
    expect(describeObject("roles", role, [], NOW)).toBe(`Name:         pod-reader
Labels:       <none>
Annotations:  <none>
PolicyRule:
  Resources         Non-Resource URLs  Resource Names  Verbs
  ---------         -----------------  --------------  -----
  pods              []                 []              [get list watch]
  deployments.apps  []                 []              [get list watch]
`);
  });

  it("a ClusterRole: non-resource URLs one per row, labels one per line", () => {
    expect(describeObject("clusterroles", clusterRole, [], NOW)).toBe(`Name:         nodes-reader
Labels:       a=1
              b=2
Annotations:  <none>
PolicyRule:
  Resources  Non-Resource URLs  Resource Names  Verbs
  ---------  -----------------  --------------  -----
             [/healthz]         []              [get]
             [/metrics]         []              [get]
  nodes      []                 []              [get]
`);
  });

  it("a RoleBinding: the role's kind and name, then the subjects with their namespaces", () => {
    expect(describeObject("rolebindings", binding, [], NOW)).toBe(`Name:         rb
Labels:       <none>
Annotations:  <none>
Role:
  Kind:  Role
  Name:  pod-reader
Subjects:
  Kind            Name   Namespace
  ----            ----   ---------
  User            alice  
  Group           devs   
  ServiceAccount  app    default
`);
  });

  it("annotations print as kubectl prints them: `key: value`, kubectl's last-applied one left out, a long one under its key, shortened", () => {
    const long = "x".repeat(200);
    const annotated: RoleBinding = { ...binding, metadata: { ...binding.metadata, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", team: "platform", note: long } } };
    expect(describeObject("rolebindings", annotated, [], NOW)).toMatch(new RegExp(`^Name:         rb\nLabels:       <none>\nAnnotations:  note:\n                ${"x".repeat(138)}\\.\\.\\.\n              team: platform\nRole:\n`));
  });

  it("rules are broken down per group, resource and name, and those differing only in verbs merged (kubectl's BreakdownRule and CompactRules)", () => {
    const rules = [{ verbs: ["get"], apiGroups: ["", "apps"], resources: ["pods"], resourceNames: ["a", "b"] }, { verbs: ["list", "get"], apiGroups: [""], resources: ["pods"], resourceNames: ["a"] }];
    expect(rules.flatMap(breakdownRule)).toHaveLength(5);
    expect(compactRules(rules.flatMap(breakdownRule))).toEqual([
      { apiGroups: [""], resources: ["pods"], resourceNames: ["a"], verbs: ["get", "list"] },
      { apiGroups: [""], resources: ["pods"], resourceNames: ["b"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["pods"], resourceNames: ["a"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["pods"], resourceNames: ["b"], verbs: ["get"] },
    ]);
  });
});

describe("table rbac - kube-apiserver's columns", () => {
  it("roles and cluster roles: NAME CREATED AT (RFC 3339 to the second, UTC), from the default table convertor", () => {
    const t = toTable("roles", [role], { now: NOW });
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([["Name", "string"], ["Created At", "date"]]);
    expect(formatTable(t)).toBe("NAME         CREATED AT\npod-reader   2026-12-04T10:00:00Z\n");
    expect(formatTable(toTable("clusterroles", [clusterRole], { now: NOW }), { noHeaders: true })).toBe("nodes-reader   2026-12-04T10:00:00Z\n");
  });

  it("bindings: NAME ROLE AGE, ROLE as Kind/name; wide adds USERS GROUPS SERVICEACCOUNTS (a service account as namespace/name)", () => {
    const crb: ClusterRoleBinding = { ...binding, kind: "ClusterRoleBinding", metadata: { name: "crb", creationTimestamp: CREATED }, roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "view" }, subjects: [{ kind: "ServiceAccount", name: "ctl", namespace: "kube-system" }, { kind: "User", name: "bob" }, { kind: "User", name: "eve" }] };
    expect(formatTable(toTable("rolebindings", [binding], { now: NOW }))).toBe("NAME   ROLE              AGE\nrb     Role/pod-reader   5m\n");
    expect(formatTable(toTable("clusterrolebindings", [crb], { now: NOW }), { wide: true })).toBe(
      "NAME   ROLE               AGE   USERS      GROUPS   SERVICEACCOUNTS\ncrb    ClusterRole/view   5m    bob, eve            kube-system/ctl\n",
    );
    expect(toTable("rolebindings", [binding]).columns.map((c) => [c.name, c.priority])).toEqual([["Name", 0], ["Role", 0], ["Age", 0], ["Users", 1], ["Groups", 1], ["ServiceAccounts", 1]]);
  });
});
