/**
 * The rules of the rbac.authorization.k8s.io/v1 kinds, in the order, paths and words of
 * kube-apiserver's pkg/apis/rbac/validation (ValidateRole, ValidateClusterRole,
 * ValidateRoleBinding, ValidateClusterRoleBinding and their Update forms), on the raw input (read
 * defensively: the schema pass reports wrong types):
 *
 *   - every rule needs verbs; a rule names apiGroups and resources, or nonResourceURLs alone,
 *     and nonResourceURLs only in a ClusterRole;
 *   - an aggregationRule, when given, has at least one clusterRoleSelector (the role's rules are
 *     filled by the aggregation controller, actors/clusterrole_aggregation.ts);
 *   - a binding's roleRef names the rbac group, a kind (Role or ClusterRole; a ClusterRoleBinding
 *     only ClusterRole) and a name usable as a path segment, and may never change;
 *   - a subject is a User or Group (apiGroup rbac.authorization.k8s.io) or a ServiceAccount
 *     (apiGroup "", a DNS subdomain name, and in a ClusterRoleBinding a namespace).
 *
 * Empty apiGroups are read as kube-apiserver's v1 defaults fill them in before validating
 * (defaults.ts stores them so). Kubernetes prints some refused values with Go's `%#v`
 * (`[]string{"/healthz"}`, `rbac.RoleRef{…}`): so are they here. Nothing here grants or denies
 * anything: that is the authorizer's (model/rbac.ts).
 */
import { RBAC_GROUP, type RoleRef, type StatusCause } from "../../model/types.ts";
import { CAUSE, DNS1123_SUBDOMAIN_MESSAGE, isDns1123Subdomain, pathSegmentProblems, type Obj, obj, Causes } from "./validation_util.ts";

export type RbacResource = "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings";

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
const count = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** A value as Go's `%#v` prints it in field errors (`[]string{"a", "b"}`). */
const goStrings = (vs: readonly string[]) => `[]string{${vs.map((v) => JSON.stringify(v)).join(", ")}}`;
const goRoleRef = (r: RoleRef) => `rbac.RoleRef{APIGroup:${JSON.stringify(r.apiGroup)}, Kind:${JSON.stringify(r.kind)}, Name:${JSON.stringify(r.name)}}`;

/** Every problem of an RBAC object (validate() runs this for the four kinds). */
export function rbacProblems(resource: RbacResource, raw: Obj): StatusCause[] {
  const c = new Causes();
  switch (resource) {
    case "roles":
      policyRules(c, raw.rules, true);
      break;
    case "clusterroles":
      policyRules(c, raw.rules, false);
      aggregationRule(c, raw.aggregationRule);
      break;
    case "rolebindings":
    case "clusterrolebindings":
      binding(c, raw, resource === "rolebindings");
      break;
  }
  return c.list;
}

/** ValidatePolicyRule for each rule; `namespaced` for a Role's. */
function policyRules(c: Causes, rules: unknown, namespaced: boolean): void {
  if (!Array.isArray(rules)) return;
  rules.forEach((r, i) => {
    const rule = obj(r);
    if (!rule) return;
    const at = `rules[${i}]`;
    if (count(rule.verbs) === 0) c.add(CAUSE.required, `${at}.verbs`, undefined, "verbs must contain at least one value");
    const urls = strings(rule.nonResourceURLs);
    if (count(rule.nonResourceURLs) > 0) {
      if (namespaced) c.invalid(`${at}.nonResourceURLs`, goStrings(urls), "namespaced rules cannot apply to non-resource URLs");
      if (count(rule.apiGroups) > 0 || count(rule.resources) > 0 || count(rule.resourceNames) > 0) {
        c.invalid(`${at}.nonResourceURLs`, goStrings(urls), "rules cannot apply to both regular resources and non-resource URLs");
      }
      return;
    }
    if (count(rule.apiGroups) === 0) c.add(CAUSE.required, `${at}.apiGroups`, undefined, "resource rules must supply at least one api group");
    if (count(rule.resources) === 0) c.add(CAUSE.required, `${at}.resources`, undefined, "resource rules must supply at least one resource");
  });
}

function aggregationRule(c: Causes, raw: unknown): void {
  const rule = obj(raw);
  if (!rule) return;
  if (count(rule.clusterRoleSelectors) === 0) {
    c.add(CAUSE.required, "aggregationRule.clusterRoleSelectors", undefined, "at least one clusterRoleSelector required if aggregationRule is non-nil");
  }
}

/** A binding's roleRef as kube-apiserver reads it: a struct (absent, it is the empty one) whose empty apiGroup is defaulted. */
export function effectiveRoleRef(raw: unknown): RoleRef {
  const r = obj(raw) ?? {};
  return { apiGroup: str(r.apiGroup) || RBAC_GROUP, kind: str(r.kind) as RoleRef["kind"], name: str(r.name) };
}

function binding(c: Causes, raw: Obj, namespaced: boolean): void {
  const ref = effectiveRoleRef(raw.roleRef);
  if (ref.apiGroup !== RBAC_GROUP) c.add(CAUSE.notSupported, "roleRef.apiGroup", ref.apiGroup, `supported values: "${RBAC_GROUP}"`);
  const kinds = namespaced ? ["Role", "ClusterRole"] : ["ClusterRole"];
  if (!kinds.includes(ref.kind)) c.add(CAUSE.notSupported, "roleRef.kind", ref.kind, `supported values: ${kinds.map((k) => `"${k}"`).join(", ")}`);
  if (ref.name === "") c.add(CAUSE.required, "roleRef.name", undefined);
  else for (const why of pathSegmentProblems(ref.name)) c.add(CAUSE.invalid, "roleRef.name", ref.name, why);
  if (Array.isArray(raw.subjects)) raw.subjects.forEach((s, i) => subject(c, obj(s), namespaced, `subjects[${i}]`));
}

/** ValidateRoleBindingSubject. */
function subject(c: Causes, s: Obj | undefined, namespaced: boolean, at: string): void {
  if (!s) return;
  const name = str(s.name);
  const kind = str(s.kind);
  const apiGroup = str(s.apiGroup);
  if (name === "") c.add(CAUSE.required, `${at}.name`, undefined);
  switch (kind) {
    case "ServiceAccount":
      if (name !== "" && !isDns1123Subdomain(name)) {
        c.add(CAUSE.invalid, `${at}.name`, name, name.length > 253 ? "must be no more than 253 characters" : DNS1123_SUBDOMAIN_MESSAGE);
      }
      if (apiGroup !== "") c.add(CAUSE.notSupported, `${at}.apiGroup`, apiGroup, 'supported values: ""');
      if (!namespaced && str(s.namespace) === "") c.add(CAUSE.required, `${at}.namespace`, undefined);
      break;
    case "User":
    case "Group":
      // An empty apiGroup is defaulted to the rbac group before kube-apiserver validates.
      if (apiGroup !== "" && apiGroup !== RBAC_GROUP) c.add(CAUSE.notSupported, `${at}.apiGroup`, apiGroup, `supported values: "${RBAC_GROUP}"`);
      break;
    default:
      c.add(CAUSE.notSupported, `${at}.kind`, kind, 'supported values: "ServiceAccount", "User", "Group"');
  }
}

/** ValidateRoleBindingUpdate's and ValidateClusterRoleBindingUpdate's own rule: the roleRef never changes. */
export function roleRefUpdateProblems(current: { roleRef?: unknown }, next: { roleRef?: unknown }): StatusCause[] {
  const before = effectiveRoleRef(current.roleRef);
  const after = effectiveRoleRef(next.roleRef);
  if (before.apiGroup === after.apiGroup && before.kind === after.kind && before.name === after.name) return [];
  return [{ reason: CAUSE.invalid, field: "roleRef", message: `Invalid value: ${goRoleRef(after)}: cannot change roleRef` }];
}
