/**
 * The default roles and bindings every Kubernetes cluster has: kube-apiserver's bootstrap policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), as `kubectl get clusterrole -o
 * yaml` shows it on a current cluster (its golden file testdata/cluster-roles.yaml).
 *
 *   cluster-admin              everything            ◀── Group system:masters
 *   admin ◀─ aggregate-to-admin ── system:aggregate-to-admin, edit
 *   edit  ◀─ aggregate-to-edit  ── system:aggregate-to-edit, view
 *   view  ◀─ aggregate-to-view  ── system:aggregate-to-view
 *   system:discovery           API discovery URLs    ◀── Group system:authenticated
 *   system:basic-user          self reviews          ◀── Group system:authenticated
 *   system:public-info-viewer  /healthz, /version …  ◀── Groups system:authenticated, system:unauthenticated
 *   system:auth-delegator      TokenReview, SubjectAccessReview (bound by whoever needs them)
 *
 * `admin`, `edit` and `view` hold no rules of their own: the clusterrole-aggregation controller
 * (actors/clusterrole_aggregation.ts) fills them from the roles their selectors pick, so that
 * `admin` ⊇ `edit` ⊇ `view`, and a role an operator labels `aggregate-to-view` extends all three.
 *
 * Kept: every rule kube lists, also for resources Berth does not serve (a rule naming a resource
 * nobody serves grants nothing). Left out: the roles of kube's own components (`system:node`,
 * `system:kube-scheduler`, the controllers' `system:controller:*`…), which Berth's components do
 * not authenticate as. Rules are written as kube's rule builder stores them: verbs, groups and
 * resources sorted. The Api creates the absent ones at start and reconciles the others
 * (runtime/api/api.ts, model/rbac_reconcile.ts). Pure data.
 */
import { RBAC_GROUP, type ClusterRole, type ClusterRoleBinding, type PolicyRule } from "./types.ts";

/** The label kube puts on every bootstrap object. */
export const BOOTSTRAP_LABEL = { "kubernetes.io/bootstrapping": "rbac-defaults" } as const;

/**
 * The annotation with which kube-apiserver marks a bootstrap object it may reconcile at start
 * (an operator sets it to "false" to keep their own changes).
 */
export const AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate";

/** The label a ClusterRole carries to have its rules aggregated into `admin`, `edit` or `view`. */
export const aggregateToLabel = (role: "admin" | "edit" | "view"): string => `rbac.authorization.k8s.io/aggregate-to-${role}`;

/** Read-only verbs (kube's `Read`). */
const READ = ["get", "list", "watch"];
/** Verbs that change objects (kube's `Write`). */
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
/** Both (kube's `ReadWrite`). */
const READ_WRITE = [...READ, ...WRITE];

const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** A resource rule, sorted as kube's rule builder stores it. */
const rule = (verbs: readonly string[], apiGroups: readonly string[], resources: readonly string[]): PolicyRule => ({
  verbs: sorted(verbs),
  apiGroups: sorted(apiGroups),
  resources: sorted(resources),
});

/** A non-resource URL rule. */
const urls = (verbs: readonly string[], nonResourceURLs: readonly string[]): PolicyRule => ({ verbs: sorted(verbs), nonResourceURLs: sorted(nonResourceURLs) });

const CORE = "";

function clusterRole(name: string, body: Pick<ClusterRole, "rules" | "aggregationRule">, labels: Record<string, string> = {}): ClusterRole {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRole",
    metadata: { name, labels: { ...BOOTSTRAP_LABEL, ...labels }, annotations: { [AUTOUPDATE_ANNOTATION]: "true" } },
    ...body,
  };
}

/** A role with no rules of its own, filled from the roles labelled `aggregate-to-<name>`. */
function aggregating(name: "admin" | "edit" | "view", labels: Record<string, string> = {}): ClusterRole {
  return clusterRole(name, { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [aggregateToLabel(name)]: "true" } }] }, rules: [] }, labels);
}

/** What `admin` adds to `edit`: granting roles within a namespace. */
const ADMIN_RULES: PolicyRule[] = [
  rule(["create"], ["authorization.k8s.io"], ["localsubjectaccessreviews"]),
  rule(READ_WRITE, [RBAC_GROUP], ["roles", "rolebindings"]),
];

/** What `edit` adds to `view`: changing a namespace's workloads, reading its secrets, running in its pods. */
const EDIT_RULES: PolicyRule[] = [
  // Reading what escalates (secrets, a shell in a pod) is for editors, not viewers.
  rule(READ, [CORE], ["pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"]),
  rule(["impersonate"], [CORE], ["serviceaccounts"]),
  rule(WRITE, [CORE], ["pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"]),
  rule(["create"], [CORE], ["pods/eviction"]),
  // Neither endpoints nor discovery.k8s.io endpointslices: their writer can send a Service's traffic
  // anywhere (CVE-2021-25740). Kubernetes dropped the first in 1.22 and never granted the second.
  rule(WRITE, [CORE], ["replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"]),
  rule(["create"], [CORE], ["serviceaccounts/token"]),
  rule(WRITE, ["apps"], ["statefulsets", "statefulsets/scale", "daemonsets", "deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"]),
  rule(WRITE, ["autoscaling"], ["horizontalpodautoscalers"]),
  rule(WRITE, ["batch"], ["jobs", "cronjobs"]),
  rule(WRITE, ["extensions"], ["daemonsets", "deployments", "deployments/scale", "deployments/rollback", "ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"]),
  rule(WRITE, ["policy"], ["poddisruptionbudgets"]),
  rule(WRITE, ["networking.k8s.io"], ["ingresses", "networkpolicies"]),
  rule(READ_WRITE, ["coordination.k8s.io"], ["leases"]),
];

/** `view`: reading a namespace's objects, short of what escalates (secrets, pods' shells, roles). */
const VIEW_RULES: PolicyRule[] = [
  rule(READ, [CORE], ["pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"]),
  rule(READ, [CORE], ["limitranges", "resourcequotas", "bindings", "events", "pods/status", "resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"]),
  // Reading namespaces at namespace scope reads *this* namespace: how a user finds which they may use.
  rule(READ, [CORE], ["namespaces"]),
  rule(READ, ["discovery.k8s.io"], ["endpointslices"]),
  rule(READ, ["apps"], ["controllerrevisions", "statefulsets", "statefulsets/status", "statefulsets/scale", "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale", "replicasets", "replicasets/status", "replicasets/scale"]),
  rule(READ, ["autoscaling"], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
  rule(READ, ["batch"], ["jobs", "jobs/status", "cronjobs", "cronjobs/status"]),
  rule(READ, ["extensions"], ["daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status", "ingresses", "ingresses/status", "replicasets", "replicasets/scale", "replicasets/status", "replicationcontrollers/scale", "networkpolicies"]),
  rule(READ, ["policy"], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
  rule(READ, ["networking.k8s.io"], ["ingresses", "ingresses/status", "networkpolicies"]),
];

/** The ClusterRoles kube-apiserver makes at start, in the order of its policy. */
export const BOOTSTRAP_CLUSTER_ROLES: ClusterRole[] = [
  // The root role: anything, anywhere.
  clusterRole("cluster-admin", { rules: [rule(["*"], ["*"], ["*"]), urls(["*"], ["*"])] }),
  // Enough to discover the API's versions and health, for every authenticated client.
  clusterRole("system:discovery", {
    rules: [urls(["get"], ["/readyz", "/healthz", "/livez", "/version", "/version/", "/openapi", "/openapi/*", "/api", "/api/*", "/apis", "/apis/*"])],
  }),
  // Enough for a user to learn what they themselves may do.
  clusterRole("system:basic-user", {
    rules: [
      rule(["create"], ["authorization.k8s.io"], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
      rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ],
  }),
  // What anyone, even unauthenticated, may read about the cluster.
  clusterRole("system:public-info-viewer", { rules: [urls(["get"], ["/readyz", "/healthz", "/livez", "/version", "/version/"])] }),
  // For programs that check others' credentials and rights (auth proxies, Vault): bound by them, not at start.
  clusterRole("system:auth-delegator", {
    rules: [rule(["create"], ["authentication.k8s.io"], ["tokenreviews"]), rule(["create"], ["authorization.k8s.io"], ["subjectaccessreviews"])],
  }),
  aggregating("admin"),
  aggregating("edit", { [aggregateToLabel("admin")]: "true" }),
  aggregating("view", { [aggregateToLabel("edit")]: "true" }),
  clusterRole("system:aggregate-to-admin", { rules: ADMIN_RULES }, { [aggregateToLabel("admin")]: "true" }),
  clusterRole("system:aggregate-to-edit", { rules: EDIT_RULES }, { [aggregateToLabel("edit")]: "true" }),
  clusterRole("system:aggregate-to-view", { rules: VIEW_RULES }, { [aggregateToLabel("view")]: "true" }),
];

/** Kube's well-known groups (k8s.io/apiserver/pkg/authentication/user). */
const SYSTEM_MASTERS = "system:masters";
const ALL_AUTHENTICATED = "system:authenticated";
const ALL_UNAUTHENTICATED = "system:unauthenticated";

/** A ClusterRoleBinding of the role of the same name to groups. */
function bindGroups(role: string, groups: readonly string[]): ClusterRoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: "ClusterRoleBinding",
    metadata: { name: role, labels: { ...BOOTSTRAP_LABEL }, annotations: { [AUTOUPDATE_ANNOTATION]: "true" } },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: role },
    subjects: groups.map((name) => ({ kind: "Group", apiGroup: RBAC_GROUP, name })),
  };
}

/** The ClusterRoleBindings kube-apiserver makes at start (those of the roles above). */
export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: ClusterRoleBinding[] = [
  bindGroups("cluster-admin", [SYSTEM_MASTERS]),
  bindGroups("system:discovery", [ALL_AUTHENTICATED]),
  bindGroups("system:basic-user", [ALL_AUTHENTICATED]),
  bindGroups("system:public-info-viewer", [ALL_AUTHENTICATED, ALL_UNAUTHENTICATED]),
];
