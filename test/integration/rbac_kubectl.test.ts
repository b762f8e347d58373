/**
 * rbac.authorization.k8s.io/v1 and `kubectl auth` as kubectl 1.32 users see them, against the
 * REST API over a real store: `kubectl create role|clusterrole|rolebinding|clusterrolebinding`
 * (protobuf bodies), `kubectl apply -f` of a chart-like manifest (ServiceAccount, Role,
 * RoleBinding, a ClusterRole named with colons and its ClusterRoleBinding, a Deployment running as
 * the account), `get` with kube-apiserver's columns, kubectl's own describers and `berth
 * get|describe`, the refusals kube-apiserver makes (a rule without verbs, a changed roleRef) with
 * nothing stored, `kubectl auth reconcile`, deletion, and `kubectl auth can-i` / `can-i --list` /
 * `whoami`.
 *
 * The kubeconfig's token is in system:masters, so everything here is allowed; what RBAC refuses
 * others is in rbac_enforcement.test.ts. The bootstrap roles (cluster-admin, view, …) are left out
 * of the listings here by their label. No control plane and no Docker here.
 */
import { describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
const { ok, refused } = kubectlRunners(h, 60_000);
const RBAC = "rbac.authorization.k8s.io";

/** What a Helm chart of an app that reads its own pods ships: an account, its role and binding, a cluster-wide reader, and the app. */
const CHART = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  labels: {app.kubernetes.io/name: app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: app-pod-reader
  labels: {app.kubernetes.io/name: app}
  annotations: {team: platform}
rules:
- apiGroups: [""]
  resources: [pods, pods/log]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  resourceNames: [app]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: app-pod-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: app-pod-reader
subjects:
- kind: ServiceAccount
  name: app
  namespace: default
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:app-metrics-reader
rules:
- nonResourceURLs: [/metrics]
  verbs: [get]
- apiGroups: [metrics.k8s.io]
  resources: [pods, nodes]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:app-metrics-reader
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:app-metrics-reader
subjects:
- kind: ServiceAccount
  name: app
  namespace: default
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      serviceAccountName: app
      containers:
      - name: app
        image: berth/busybox:latest
        command: [sleep, "3600"]
`;

describe.sequential("kubectl and rbac.authorization.k8s.io/v1 (REST, nothing enforced)", () => {
  it("kubectl create role and clusterrole store the rules kube-apiserver would: the core group as \"\", resource names, non-resource URLs, an aggregation rule as given", async () => {
    expect(await ok(["create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods,deployments.apps"])).toBe(`role.${RBAC}/pod-reader created\n`);
    const r: Role = await h.test.api.get("roles", "pod-reader", "default");
    expect(r.apiVersion).toBe(`${RBAC}/v1`);
    expect(r.rules).toEqual([
      { verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods"] },
      { verbs: ["get", "list", "watch"], apiGroups: ["apps"], resources: ["deployments"] },
    ]);
    expect(await ok(["create", "clusterrole", "nodes-reader", "--verb=get", "--resource=nodes", "--non-resource-url=/healthz"])).toBe(`clusterrole.${RBAC}/nodes-reader created\n`);
    const cr: ClusterRole = await h.test.api.get("clusterroles", "nodes-reader");
    expect(cr.metadata.namespace).toBeUndefined();
    expect(cr.rules).toEqual([{ verbs: ["get"], apiGroups: [""], resources: ["nodes"] }, { verbs: ["get"], nonResourceURLs: ["/healthz"] }]);
    await ok(["create", "clusterrole", "monitoring", "--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true"]);
    expect((await h.test.api.get("clusterroles", "monitoring")).aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }] });
  });

  it("kubectl create rolebinding and clusterrolebinding store users, groups and service accounts with kube's apiGroups, and the roleRef", async () => {
    expect(await ok(["create", "rolebinding", "readers", "--role=pod-reader", "--user=alice", "--group=devs", "--serviceaccount=default:builder"])).toBe(`rolebinding.${RBAC}/readers created\n`);
    const rb: RoleBinding = await h.test.api.get("rolebindings", "readers", "default");
    expect(rb.roleRef).toEqual({ apiGroup: RBAC, kind: "Role", name: "pod-reader" });
    expect(rb.subjects).toEqual([{ kind: "User", apiGroup: RBAC, name: "alice" }, { kind: "Group", apiGroup: RBAC, name: "devs" }, { kind: "ServiceAccount", name: "builder", namespace: "default" }]);
    expect(await ok(["create", "clusterrolebinding", "nodes-readers", "--clusterrole=nodes-reader", "--user=bob", "--serviceaccount=kube-system:ctl"])).toBe(`clusterrolebinding.${RBAC}/nodes-readers created\n`);
    const crb: ClusterRoleBinding = await h.test.api.get("clusterrolebindings", "nodes-readers");
    expect(crb.roleRef).toEqual({ apiGroup: RBAC, kind: "ClusterRole", name: "nodes-reader" });
    expect(crb.subjects).toEqual([{ kind: "User", apiGroup: RBAC, name: "bob" }, { kind: "ServiceAccount", name: "ctl", namespace: "kube-system" }]);
  });

  it("kubectl apply -f of a chart's ServiceAccount, Role, RoleBinding, ClusterRole and ClusterRoleBinding (names with colons) and a Deployment using the account installs it; applied again, nothing changes", async () => {
    expect(await ok(["apply", "-f", "-"], CHART)).toBe([
      "serviceaccount/app created",
      `role.${RBAC}/app-pod-reader created`,
      `rolebinding.${RBAC}/app-pod-reader created`,
      `clusterrole.${RBAC}/system:app-metrics-reader created`,
      `clusterrolebinding.${RBAC}/system:app-metrics-reader created`,
      "deployment.apps/app created",
    ].join("\n") + "\n");
    expect((await h.test.api.get("deployments", "app", "default")).spec.template.spec.serviceAccountName).toBe("app");
    expect((await h.test.api.get("clusterroles", "system:app-metrics-reader")).rules?.[0]).toEqual({ nonResourceURLs: ["/metrics"], verbs: ["get"] });
    expect(await ok(["apply", "-f", "-"], CHART)).toMatch(new RegExp(`^serviceaccount/app unchanged\\nrole.${RBAC}/app-pod-reader unchanged\\n(.|\\n)*clusterrolebinding.${RBAC}/system:app-metrics-reader unchanged\\ndeployment.apps/app unchanged\\n$`));
  });

  it("kubectl get role,rolebinding and clusterrole,clusterrolebinding print kube-apiserver's columns; -o wide adds the subjects", async () => {
    const roles = await ok(["get", "role,rolebinding"]);
    expect(roles).toMatch(new RegExp(`^NAME\\s+CREATED AT\\nrole.${RBAC}/app-pod-reader\\s+\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\nrole.${RBAC}/pod-reader\\s+\\S+Z\\n\\nNAME\\s+ROLE\\s+AGE\\n`));
    expect(roles).toMatch(new RegExp(`\\nrolebinding.${RBAC}/readers\\s+Role/pod-reader\\s+\\d+s\\n$`));
    expect(await ok(["get", "rolebinding", "readers", "-o", "wide", "--no-headers"])).toMatch(/^readers\s+Role\/pod-reader\s+\d+s\s+alice\s+devs\s+default\/builder\n$/);
    expect(await ok(["get", "clusterrolebinding", "nodes-readers", "-o", "wide"])).toMatch(/^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nnodes-readers\s+ClusterRole\/nodes-reader\s+\d+s\s+bob\s+kube-system\/ctl\n$/);
    expect(await ok(["get", "clusterroles", "-o", "name", "-l", "!kubernetes.io/bootstrapping"])).toBe(`clusterrole.${RBAC}/monitoring\nclusterrole.${RBAC}/nodes-reader\nclusterrole.${RBAC}/system:app-metrics-reader\n`);
    expect(await ok(["get", "roles.rbac.authorization.k8s.io", "-A", "--no-headers"])).toMatch(/^default\s+app-pod-reader\s+\S+\ndefault\s+pod-reader\s+\S+\n$/);
    // Not in `all`, as on Kubernetes.
    expect(await ok(["get", "all", "-o", "name"])).not.toContain("role");
  });

  it("kubectl describe role and rolebinding (kubectl's own describers) print what berth describe prints; berth get lists them", async () => {
    for (const target of [["role", "app-pod-reader"], ["rolebinding", "readers"], ["clusterrole", "system:app-metrics-reader"], ["clusterrolebinding", "nodes-readers"]]) {
      const kubectl = await ok(["describe", ...target]);
      let berth = "";
      await describeCmd(h.test.remote, target, {}, (x) => (berth += x));
      expect(berth).toBe(kubectl);
    }
    expect(await ok(["describe", "role", "app-pod-reader"])).toContain("  pods/log          []                 []              [get list watch]\n");
    let out = "";
    await getCmd(h.test.remote, ["rolebindings"], {}, (x) => (out += x));
    expect(out).toMatch(/^NAME\s+ROLE\s+AGE\napp-pod-reader\s+Role\/app-pod-reader\s+\S+\nreaders\s+Role\/pod-reader\s+\S+\n$/);
    out = "";
    await getCmd(h.test.remote, ["clusterrole", "system:app-metrics-reader"], { output: "name" }, (x) => (out += x));
    expect(out).toBe(`clusterrole.${RBAC}/system:app-metrics-reader\n`);
  });

  it("a rule without verbs is refused with kube-apiserver's message and nothing is stored", async () => {
    const noVerbs = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-verbs}
rules:
- apiGroups: [""]
  resources: [pods]
`;
    expect(await refused(["apply", "-f", "-"], noVerbs)).toContain('The Role "no-verbs" is invalid: rules[0].verbs: Required value: verbs must contain at least one value');
    expect(await refused(["get", "role", "no-verbs"])).toContain(`roles.${RBAC} "no-verbs" not found`);
    // A service account subject of a ClusterRoleBinding must name its namespace.
    expect(await refused(["apply", "-f", "-"], `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: no-ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: app}]
`)).toContain('The ClusterRoleBinding "no-ns" is invalid: subjects[0].namespace: Required value');
    expect(await refused(["get", "clusterrolebinding", "no-ns"])).toContain("not found");
  });

  it("a binding's roleRef cannot change (kube's message), the stored binding is left as it was; its subjects may change", async () => {
    const changed = CHART.split("---\n")[2].replace("kind: Role\n  name: app-pod-reader", "kind: ClusterRole\n  name: view");
    expect(await refused(["apply", "-f", "-"], changed)).toContain(
      `The RoleBinding "app-pod-reader" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", Name:"view"}: cannot change roleRef`,
    );
    expect((await h.test.api.get("rolebindings", "app-pod-reader", "default")).roleRef).toEqual({ apiGroup: RBAC, kind: "Role", name: "app-pod-reader" });
    expect(await refused(["patch", "rolebinding", "readers", "--type=merge", "-p", '{"roleRef":{"name":"other"}}'])).toContain("cannot change roleRef");
    expect(await ok(["patch", "rolebinding", "readers", "--type=merge", "-p", '{"subjects":[{"kind":"User","name":"carol"}]}'])).toBe(`rolebinding.${RBAC}/readers patched\n`);
    expect((await h.test.api.get("rolebindings", "readers", "default")).subjects).toEqual([{ kind: "User", name: "carol", apiGroup: RBAC }]);
  });

  it("kubectl auth reconcile -f creates missing roles and bindings (saying so on stderr), then finds nothing to do", async () => {
    const objects = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reconciled, namespace: default}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reconciled, namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reconciled}
subjects: [{kind: ServiceAccount, name: default, namespace: default}]
`;
    const first = await h.kubectl(["auth", "reconcile", "-f", "-"], { stdin: objects, timeoutMs: 60_000 });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(`role.${RBAC}/reconciled reconciled\nrolebinding.${RBAC}/reconciled reconciled\n`);
    expect(first.stderr).toContain("reconciliation required create");
    expect(await ok(["auth", "reconcile", "-f", "-"], objects)).toBe(`role.${RBAC}/reconciled reconciled\nrolebinding.${RBAC}/reconciled reconciled\n`);
    expect((await h.test.api.get("rolebindings", "reconciled", "default")).roleRef).toEqual({ apiGroup: RBAC, kind: "Role", name: "reconciled" });
    await ok(["delete", "-f", "-"], objects);
  });

  it("kubectl delete removes roles and bindings, cluster-scoped ones named with colons too", async () => {
    expect(await ok(["delete", "role", "pod-reader"])).toBe(`role.${RBAC} "pod-reader" deleted\n`);
    expect(await ok(["delete", "clusterrolebinding", "system:app-metrics-reader"])).toBe(`clusterrolebinding.${RBAC} "system:app-metrics-reader" deleted\n`);
    expect(await ok(["delete", "-f", "-", "--ignore-not-found"], CHART)).toContain(`clusterrole.${RBAC} "system:app-metrics-reader" deleted`);
    expect(await ok(["get", "roles,rolebindings", "-o", "name"])).toBe(`rolebinding.${RBAC}/readers\n`);
    expect(await ok(["get", "clusterroles", "-o", "name", "-l", "!kubernetes.io/bootstrapping"])).toBe(`clusterrole.${RBAC}/monitoring\nclusterrole.${RBAC}/nodes-reader\n`);
  });

  it("kubectl auth can-i answers yes for anything to the cluster token (system:masters); can-i --list shows its rules; whoami names the token's holder", async () => {
    expect(await ok(["auth", "can-i", "get", "pods"])).toBe("yes\n");
    expect(await ok(["auth", "can-i", "delete", "clusterrolebindings", "--all-namespaces"])).toBe("yes\n");
    expect(await ok(["auth", "can-i", "get", "/healthz"])).toBe("yes\n");
    expect(await ok(["auth", "can-i", "--list"])).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n\*\.\*\s+\[\]\s+\[\]\s+\[\*\]\n\s+\[\*\]\s+\[\]\s+\[\*\]\n/);
    // A JSON body (kubectl create --raw sends one) is answered the same way, with kube's shape.
    const raw = JSON.parse(await ok(["create", "--raw", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "-f", "-"],
      JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { nonResourceAttributes: { path: "/metrics", verb: "get" } } })));
    expect(raw).toMatchObject({ kind: "SelfSubjectAccessReview", status: { allowed: true } });
    expect(await ok(["auth", "whoami"])).toMatch(/^ATTRIBUTE\s+VALUE\nUsername\s+berth:cluster-admin\nGroups\s+\[system:masters system:authenticated\]\n$/);
  });
});
