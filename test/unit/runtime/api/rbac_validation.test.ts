/**
 * rbac.authorization.k8s.io/v1 at the API's edge: kube-apiserver's ValidateRole, ValidateClusterRole,
 * ValidateRoleBinding, ValidateClusterRoleBinding and their Update forms (field paths, cause reasons,
 * words, Go's `%#v` where kube prints a struct or a slice), rbac/v1's defaults, the names RBAC allows
 * (any path segment, stored under an encoded key), quota object counts of a dotted group, field
 * selectors and strict field validation's schema.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { ClusterRoleBinding, RoleBinding } from "../../../../model/types.ts";
import { validate } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { roleRefUpdateProblems } from "../../../../runtime/api/validation_rbac.ts";
import { countedResource, isQuotaName } from "../../../../model/quota.ts";
import { parseFieldSelector } from "../../../../model/selector.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";
import { isObjectKeyName, parseStoreKey, storeKey } from "../../../../runtime/subjects.ts";

const RBAC = "rbac.authorization.k8s.io";
const meta = (name = "reader", namespace?: string) => ({ name, ...(namespace ? { namespace } : {}) });
const role = (rules: unknown[], name = "reader") => ({ apiVersion: `${RBAC}/v1`, kind: "Role", metadata: meta(name, "default"), rules });
const clusterRole = (rules: unknown[], extra: Record<string, unknown> = {}) => ({ apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: meta(), rules, ...extra });
const binding = (roleRef: unknown, subjects: unknown[] = [], kind = "RoleBinding") => ({ apiVersion: `${RBAC}/v1`, kind, metadata: meta("bind", kind === "RoleBinding" ? "default" : undefined), roleRef, subjects });

describe("rbac - roles (ValidateRole, ValidateClusterRole, ValidatePolicyRule)", () => {
  it("a role of resource rules, a cluster role with non-resource URLs, rules with no rules at all, and names with colons and capitals are accepted", () => {
    expect(causesOf("roles", role([{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }, { apiGroups: ["apps"], resources: ["deployments"], resourceNames: ["web"], verbs: ["*"] }]))).toEqual([]);
    expect(causesOf("clusterroles", clusterRole([{ nonResourceURLs: ["/healthz", "/metrics"], verbs: ["get"] }, { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]))).toEqual([]);
    expect(causesOf("roles", role([]))).toEqual([]);
    expect(causesOf("clusterroles", { ...clusterRole([]), metadata: meta("system:metrics-server:Aggregated Reader") })).toEqual([]);
  });

  it("a rule without verbs is Required with kube's words; a resource rule needs apiGroups and resources", () => {
    const causes = causesOf("roles", role([{ apiGroups: [""], resources: ["pods"] }, { verbs: ["get"] }]));
    expectCause(causes, "rules[0].verbs", "FieldValueRequired", "Required value: verbs must contain at least one value");
    expectCause(causes, "rules[1].apiGroups", "FieldValueRequired", "Required value: resource rules must supply at least one api group");
    expectCause(causes, "rules[1].resources", "FieldValueRequired", "Required value: resource rules must supply at least one resource");
    expect(causes).toHaveLength(3);
    // An empty list is no list.
    expectCause(causesOf("roles", role([{ apiGroups: [""], resources: ["pods"], verbs: [] }])), "rules[0].verbs", "FieldValueRequired");
  });

  it("non-resource URLs only in a ClusterRole and never beside resources, printed as Go's []string", () => {
    expectCause(causesOf("roles", role([{ nonResourceURLs: ["/healthz"], verbs: ["get"] }])), "rules[0].nonResourceURLs", "FieldValueInvalid",
      'Invalid value: []string{"/healthz"}: namespaced rules cannot apply to non-resource URLs');
    expectCause(causesOf("clusterroles", clusterRole([{ nonResourceURLs: ["/a", "/b"], resources: ["pods"], verbs: ["get"] }])), "rules[0].nonResourceURLs", "FieldValueInvalid",
      'Invalid value: []string{"/a", "/b"}: rules cannot apply to both regular resources and non-resource URLs');
  });

  it("an aggregationRule is stored as given, but needs a selector; its selectors are label selectors", () => {
    const agg = clusterRole([], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }] } });
    expect(validate("clusterroles", agg).aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }] });
    expectCause(causesOf("clusterroles", clusterRole([], { aggregationRule: {} })), "aggregationRule.clusterRoleSelectors", "FieldValueRequired",
      "Required value: at least one clusterRoleSelector required if aggregationRule is non-nil");
    expect(causesOf("clusterroles", clusterRole([], { aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [{ key: "a", operator: "Near" }] }] } })).length).toBeGreaterThan(0);
  });

  it("names are path segments (ValidateRBACName): not . or .., no / or %; Berth keeps them to 253 characters", () => {
    expectCause(causesOf("roles", role([], "a/b")), "metadata.name", "FieldValueInvalid", `Invalid value: "a/b": may not contain '/'`);
    expectCause(causesOf("roles", role([], "50%")), "metadata.name", "FieldValueInvalid", `Invalid value: "50%": may not contain '%'`);
    expectCause(causesOf("clusterroles", { ...clusterRole([]), metadata: meta("..") }), "metadata.name", "FieldValueInvalid", `Invalid value: "..": may not be '..'`);
    expectCause(causesOf("roles", role([], "r".repeat(254))), "metadata.name", "FieldValueTooLong");
    expectCause(causesOf("roles", { ...role([]), metadata: { namespace: "default" } }), "metadata.name", "FieldValueRequired");
  });
});

describe("rbac - bindings (ValidateRoleBinding, ValidateClusterRoleBinding, ValidateRoleBindingSubject)", () => {
  const subjects = [{ kind: "User", name: "alice" }, { kind: "Group", name: "devs", apiGroup: RBAC }, { kind: "ServiceAccount", name: "app", namespace: "default" }];

  it("a binding of a Role or a ClusterRole to users, groups and service accounts is accepted; a RoleBinding's service account needs no namespace", () => {
    expect(causesOf("rolebindings", binding({ apiGroup: RBAC, kind: "Role", name: "reader" }, subjects))).toEqual([]);
    expect(causesOf("rolebindings", binding({ kind: "ClusterRole", name: "view" }, [{ kind: "ServiceAccount", name: "app" }]))).toEqual([]);
    expect(causesOf("clusterrolebindings", binding({ kind: "ClusterRole", name: "system:metrics-server" }, subjects, "ClusterRoleBinding"))).toEqual([]);
  });

  it("roleRef is required: without one, its kind is not supported and its name is Required", () => {
    const causes = causesOf("rolebindings", { apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: meta("bind", "default") });
    expectCause(causes, "roleRef.kind", "FieldValueNotSupported", 'Unsupported value: "": supported values: "Role", "ClusterRole"');
    expectCause(causes, "roleRef.name", "FieldValueRequired", "Required value");
    expect(causes).toHaveLength(2);
  });

  it("a roleRef names the rbac group, a kind a binding may bind (a ClusterRoleBinding only a ClusterRole) and a path-segment name", () => {
    expectCause(causesOf("rolebindings", binding({ apiGroup: "example.com", kind: "Role", name: "r" })), "roleRef.apiGroup", "FieldValueNotSupported",
      'Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"');
    expectCause(causesOf("clusterrolebindings", binding({ kind: "Role", name: "r" }, [], "ClusterRoleBinding")), "roleRef.kind", "FieldValueNotSupported",
      'Unsupported value: "Role": supported values: "ClusterRole"');
    expectCause(causesOf("rolebindings", binding({ kind: "Role", name: "a/b" })), "roleRef.name", "FieldValueInvalid", `Invalid value: "a/b": may not contain '/'`);
  });

  it("subjects: a known kind with a name; a service account's name is a DNS subdomain in the core group, and in a ClusterRoleBinding it names a namespace", () => {
    const ref = { kind: "ClusterRole", name: "view" };
    const causes = causesOf("clusterrolebindings", binding(ref, [
      { kind: "Robot", name: "r2" },
      { kind: "User" },
      { kind: "ServiceAccount", name: "App_1", apiGroup: RBAC },
      { kind: "Group", name: "devs", apiGroup: "example.com" },
    ], "ClusterRoleBinding"));
    expectCause(causes, "subjects[0].kind", "FieldValueNotSupported", 'Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"');
    expectCause(causes, "subjects[1].name", "FieldValueRequired", "Required value");
    expectCause(causes, "subjects[2].name", "FieldValueInvalid", /^Invalid value: "App_1": a lowercase RFC 1123 subdomain/);
    expectCause(causes, "subjects[2].apiGroup", "FieldValueNotSupported", 'Unsupported value: "rbac.authorization.k8s.io": supported values: ""');
    expectCause(causes, "subjects[2].namespace", "FieldValueRequired", "Required value");
    expectCause(causes, "subjects[3].apiGroup", "FieldValueNotSupported", 'Unsupported value: "example.com": supported values: "rbac.authorization.k8s.io"');
    expect(causes).toHaveLength(6);
  });

  it("rbac/v1 defaults: the roleRef's and a user's or group's empty apiGroup is the rbac group; a service account's stays empty", () => {
    const b = applyDefaults("rolebindings", validate("rolebindings", binding({ kind: "Role", name: "reader" }, [{ kind: "User", name: "alice" }, { kind: "Group", name: "devs" }, { kind: "ServiceAccount", name: "app" }])));
    expect(b.roleRef).toEqual({ apiGroup: RBAC, kind: "Role", name: "reader" });
    expect(b.subjects).toEqual([{ kind: "User", name: "alice", apiGroup: RBAC }, { kind: "Group", name: "devs", apiGroup: RBAC }, { kind: "ServiceAccount", name: "app" }]);
  });

  it("an update may not change roleRef (kube's message, the new roleRef as Go prints it); subjects may change, and an apiGroup left to its default is no change", () => {
    const current = { roleRef: { apiGroup: RBAC, kind: "Role", name: "reader" } } as RoleBinding;
    expect(roleRefUpdateProblems(current, { roleRef: { kind: "Role", name: "reader" } } as RoleBinding)).toEqual([]);
    expect(roleRefUpdateProblems(current, { roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "view" } } as ClusterRoleBinding)).toEqual([{
      reason: "FieldValueInvalid",
      field: "roleRef",
      message: 'Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: cannot change roleRef',
    }]);
  });
});

describe("rbac - what the rest of the API knows of the kinds", () => {
  it("an RBAC name that is not a DNS subdomain is stored under an encoded key, read back as itself, never equal to a plain name", () => {
    for (const name of ["system:metrics-server", "Admin", "a b", "ünï", "x.y:z"]) {
      const key = storeKey("clusterroles", undefined, name);
      expect(key).toMatch(/^clusterroles\._\.=[A-Za-z0-9_-]+$/);
      expect(parseStoreKey(key)).toEqual({ resource: "clusterroles", namespace: undefined, name });
      expect(isObjectKeyName(name, "clusterroles")).toBe(true);
    }
    expect(storeKey("roles", "default", "reader")).toBe("roles.default.reader");
    expect(() => storeKey("roles", "default", "a/b")).toThrow(/invalid object name/);
    // Other kinds' names stay DNS names: a NATS request for one is answered 404 at once.
    expect(isObjectKeyName("a b", "pods")).toBe(false);
    expect(isObjectKeyName("a/b", "roles")).toBe(false);
  });

  it("quota counts a kind of a dotted group by count/<resource>.<group> (and the bare count/<resource>); cluster-scoped kinds are not counted", () => {
    expect(countedResource("count/roles.rbac.authorization.k8s.io")).toBe("roles");
    expect(countedResource("count/rolebindings")).toBe("rolebindings");
    expect(countedResource("count/roles.rbac")).toBeUndefined();
    expect(countedResource("count/clusterroles.rbac.authorization.k8s.io")).toBeUndefined();
    expect(countedResource("count/jobs.batch")).toBe("jobs");
    expect(isQuotaName("count/rolebindings.rbac.authorization.k8s.io")).toBe(true);
  });

  it("field selectors: metadata.name and metadata.namespace, as kube-apiserver's defaults", () => {
    expect(parseFieldSelector("metadata.name=reader", "roles").requirements).toHaveLength(1);
    expect(() => parseFieldSelector("roleRef.name=view", "rolebindings")).toThrow(/field label not supported: roleRef.name/);
  });

  it("strict field validation knows the kinds' fields and names a typo", () => {
    expect(unknownFields("Role", role([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]))).toEqual([]);
    expect(unknownFields("ClusterRole", clusterRole([{ nonResourceURLs: ["/x"], verbs: ["get"] }], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: "b" } }] } }))).toEqual([]);
    expect(unknownFields("RoleBinding", { ...binding({ kind: "Role", name: "r" }, [{ kind: "User", name: "u", apiGroup: RBAC }]), roleref: {} })).toEqual(["roleref"]);
    expect(unknownFields("ClusterRoleBinding", binding({ kind: "ClusterRole", name: "r", group: "x" }, [], "ClusterRoleBinding"))).toEqual(["roleRef.group"]);
  });
});
