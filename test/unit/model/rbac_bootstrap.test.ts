/**
 * kube-apiserver's bootstrap RBAC policy as Berth makes it at API start (model/rbac_bootstrap.ts):
 * every object is one the API accepts unchanged, carries kube's label and annotation, the
 * bindings name kube's groups, and once aggregated (as the controller would, to a fixed point)
 * `view` only reads, `edit` writes but grants nothing, `admin` grants roles.
 */
import { describe, expect, it } from "vitest";
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from "../../../model/rbac_bootstrap.ts";
import { aggregationUpdates } from "../../../actors/clusterrole_aggregation.ts";
import type { ClusterRole, PolicyRule } from "../../../model/types.ts";
import { validate } from "../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../runtime/api/defaults.ts";

const RBAC = "rbac.authorization.k8s.io";
const READ_ONLY = new Set(["get", "list", "watch"]);

/** The roles once the aggregation controller has nothing left to do. */
function converged(roles: readonly ClusterRole[]): Map<string, ClusterRole> {
  let current = structuredClone([...roles]);
  for (let i = 0; i < 10; i++) {
    const updates = aggregationUpdates(current);
    if (updates.length === 0) return new Map(current.map((r) => [r.metadata.name, r]));
    const byName = new Map(updates.map((u) => [u.metadata.name, u]));
    current = current.map((r) => byName.get(r.metadata.name) ?? r);
  }
  throw new Error("aggregation did not converge");
}

/** True when some rule grants `verb` on `resource` of `group`. */
const grants = (rules: readonly PolicyRule[], group: string, resource: string, verb: string) =>
  rules.some((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes(verb));

const role = (name: string) => {
  const r = BOOTSTRAP_CLUSTER_ROLES.find((x) => x.metadata.name === name);
  if (!r) throw new Error(`no bootstrap role ${name}`);
  return r;
};

describe("rbac bootstrap policy", () => {
  it("every role and binding is one the API accepts as it is (validated and defaulted to itself)", () => {
    for (const r of BOOTSTRAP_CLUSTER_ROLES) expect(applyDefaults("clusterroles", validate("clusterroles", structuredClone(r)))).toEqual(r);
    for (const b of BOOTSTRAP_CLUSTER_ROLE_BINDINGS) expect(applyDefaults("clusterrolebindings", validate("clusterrolebindings", structuredClone(b)))).toEqual(b);
  });

  it("holds kube's roles and bindings by name, each labelled rbac-defaults and annotated autoupdate", () => {
    expect(BOOTSTRAP_CLUSTER_ROLES.map((r) => r.metadata.name).sort()).toEqual([
      "admin", "cluster-admin", "edit",
      "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
      "system:auth-delegator", "system:basic-user", "system:discovery", "system:public-info-viewer", "view",
    ]);
    expect(BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map((b) => b.metadata.name).sort()).toEqual(["cluster-admin", "system:basic-user", "system:discovery", "system:public-info-viewer"]);
    for (const o of [...BOOTSTRAP_CLUSTER_ROLES, ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS]) {
      expect(o.metadata.labels?.["kubernetes.io/bootstrapping"], o.metadata.name).toBe("rbac-defaults");
      expect(o.metadata.annotations, o.metadata.name).toEqual({ "rbac.authorization.kubernetes.io/autoupdate": "true" });
    }
  });

  it("cluster-admin may do every verb on every resource of every group, and on every non-resource URL", () => {
    expect(role("cluster-admin").rules).toEqual([
      { verbs: ["*"], apiGroups: ["*"], resources: ["*"] },
      { verbs: ["*"], nonResourceURLs: ["*"] },
    ]);
  });

  it("admin, edit and view select the labels kube uses, hold no rules of their own, and are labelled into the next one up", () => {
    for (const name of ["admin", "edit", "view"]) {
      expect(role(name).aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { [`${RBAC}/aggregate-to-${name}`]: "true" } }] });
      expect(role(name).rules ?? []).toEqual([]);
      expect(role(`system:aggregate-to-${name}`).metadata.labels?.[`${RBAC}/aggregate-to-${name}`]).toBe("true");
    }
    expect(role("edit").metadata.labels?.[`${RBAC}/aggregate-to-admin`]).toBe("true");
    expect(role("view").metadata.labels?.[`${RBAC}/aggregate-to-edit`]).toBe("true");
    expect(role("admin").metadata.labels).toEqual({ "kubernetes.io/bootstrapping": "rbac-defaults" });
  });

  it("the bindings: cluster-admin to system:masters, discovery and basic-user to every authenticated user, public info to everyone", () => {
    const subjects = (name: string) => {
      const b = BOOTSTRAP_CLUSTER_ROLE_BINDINGS.find((x) => x.metadata.name === name)!;
      expect(b.roleRef).toEqual({ apiGroup: RBAC, kind: "ClusterRole", name });
      return b.subjects;
    };
    const group = (name: string) => ({ kind: "Group", apiGroup: RBAC, name });
    expect(subjects("cluster-admin")).toEqual([group("system:masters")]);
    expect(subjects("system:discovery")).toEqual([group("system:authenticated")]);
    expect(subjects("system:basic-user")).toEqual([group("system:authenticated")]);
    expect(subjects("system:public-info-viewer")).toEqual([group("system:authenticated"), group("system:unauthenticated")]);
  });

  it("discovery, basic-user and public-info-viewer grant kube's URLs and self reviews", () => {
    expect(role("system:discovery").rules).toEqual([{ verbs: ["get"], nonResourceURLs: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"] }]);
    expect(role("system:public-info-viewer").rules).toEqual([{ verbs: ["get"], nonResourceURLs: ["/healthz", "/livez", "/readyz", "/version", "/version/"] }]);
    const basic = role("system:basic-user").rules!;
    expect(grants(basic, "authorization.k8s.io", "selfsubjectaccessreviews", "create")).toBe(true);
    expect(grants(basic, "authorization.k8s.io", "selfsubjectrulesreviews", "create")).toBe(true);
    expect(grants(basic, "authentication.k8s.io", "selfsubjectreviews", "create")).toBe(true);
  });

  it("aggregated: view only reads (and not secrets), edit writes workloads and reads secrets but grants no roles, admin grants roles", () => {
    const roles = converged(BOOTSTRAP_CLUSTER_ROLES);
    const view = roles.get("view")!.rules!;
    const edit = roles.get("edit")!.rules!;
    const admin = roles.get("admin")!.rules!;

    expect(view.length).toBeGreaterThan(0);
    for (const r of view) for (const v of r.verbs) expect(READ_ONLY.has(v), `view grants ${v} on ${r.resources}`).toBe(true);
    expect(grants(view, "", "pods", "list")).toBe(true);
    expect(grants(view, "apps", "deployments", "watch")).toBe(true);
    expect(grants(view, "", "secrets", "get")).toBe(false);

    // edit ⊇ view (view is labelled into edit), and writes.
    for (const r of view) expect(edit).toContainEqual(r);
    expect(grants(edit, "", "secrets", "get")).toBe(true);
    expect(grants(edit, "apps", "deployments", "create")).toBe(true);
    expect(grants(edit, "", "pods", "deletecollection")).toBe(true);
    expect(grants(edit, "coordination.k8s.io", "leases", "update")).toBe(true);
    for (const r of edit) expect(r.apiGroups ?? []).not.toContain(RBAC);
    expect(edit.some((r) => r.resources?.some((x) => x === "roles" || x === "rolebindings"))).toBe(false);

    // admin ⊇ edit (edit is labelled into admin), and grants roles in a namespace.
    for (const r of edit) expect(admin).toContainEqual(r);
    for (const v of ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]) {
      expect(grants(admin, RBAC, "roles", v)).toBe(true);
      expect(grants(admin, RBAC, "rolebindings", v)).toBe(true);
    }
    expect(grants(admin, "authorization.k8s.io", "localsubjectaccessreviews", "create")).toBe(true);
  });
});
