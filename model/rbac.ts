/**
 * Role-based access control, decided as kube-apiserver's RBAC authorizer decides it. Pure: the
 * roles and bindings come in through an `RbacView`, the request through its attributes.
 *
 *   request ─▶ attributes (user, verb, group, resource[/subresource], namespace, name | path)
 *     ─▶ ClusterRoleBindings naming the user ─▶ their ClusterRoles' rules ─▶ a rule allows? yes
 *     ─▶ RoleBindings in the request's namespace naming the user ─▶ their Role or ClusterRole ─▶ …
 *     ─▶ none: denied (a binding whose role is missing is named in the reason, as kube does)
 *
 * Members of `system:masters` are allowed everything before RBAC is asked (kube-apiserver's
 * privileged-group authorizer). `coveringRules` is the escalation check: a user may write a role,
 * or bind one, only with rules they hold themselves (or the `escalate` / `bind` verbs).
 */
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject } from "./types.ts";

/** Who makes a request, as an authenticator names them. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** The group whose members may do everything, whatever the roles say. */
export const SYSTEM_MASTERS = "system:masters";
export const SYSTEM_AUTHENTICATED = "system:authenticated";
export const SYSTEM_UNAUTHENTICATED = "system:unauthenticated";
export const SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:";
export const SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts";

/** What a request asks to do: on a resource (of a group, maybe one object) or on a path. */
export type RequestAttributes =
  | {
      type: "resource";
      verb: string;
      /** `""` is the core group. */
      apiGroup: string;
      resource: string;
      subresource?: string;
      /** Absent or `""`: cluster-scoped, or a collection across all namespaces. */
      namespace?: string;
      name?: string;
    }
  | { type: "nonResource"; verb: string; path: string };

/** The roles and bindings RBAC reads (an informer's cache, or plain arrays in tests). */
export interface RbacView {
  clusterRoleBindings(): readonly ClusterRoleBinding[];
  roleBindings(namespace: string): readonly RoleBinding[];
  clusterRole(name: string): ClusterRole | undefined;
  role(namespace: string, name: string): Role | undefined;
}

export interface Decision {
  allowed: boolean;
  /** Why, in kube's words: the binding that allowed, or the roles that were missing. */
  reason: string;
}

/** The user name of a ServiceAccount, and back. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${namespace}:${name}`;
}
export function parseServiceAccountUsername(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SERVICE_ACCOUNT_PREFIX)) return undefined;
  const parts = username.slice(SERVICE_ACCOUNT_PREFIX.length).split(":");
  return parts.length === 2 && parts[0] && parts[1] ? { namespace: parts[0], name: parts[1] } : undefined;
}

/** The groups every ServiceAccount's user is in. */
export function serviceAccountGroups(namespace: string): string[] {
  return [SERVICE_ACCOUNTS_GROUP, `${SERVICE_ACCOUNTS_GROUP}:${namespace}`];
}

/** Whether a binding's subject names this user (a ServiceAccount subject without a namespace takes the binding's). */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case "User":
      return subject.name === user.username;
    case "Group":
      return user.groups.includes(subject.name);
    case "ServiceAccount": {
      const ns = subject.namespace || bindingNamespace;
      return ns !== "" && serviceAccountUsername(ns, subject.name) === user.username;
    }
    default:
      return false;
  }
}

const has = (list: readonly string[] | undefined, v: string) => (list ?? []).includes(v);

/** Whether one rule allows the request (kube's RuleAllows). */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, "*") && !has(rule.verbs, a.verb)) return false;
  if (a.type === "nonResource") {
    return (rule.nonResourceURLs ?? []).some((u) => u === "*" || u === a.path || (u.endsWith("*") && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, "*") && !has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = (rule.resources ?? []).some((r) => r === "*" || r === combined || (!!a.subresource && r === `*/${a.subresource}`));
  if (!resourceOk) return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || (!!a.name && names.includes(a.name));
}

interface Grant {
  rules: readonly PolicyRule[];
  /** kube's description of where the rules came from, for the reason of an allow. */
  source: () => string;
}

/**
 * Every grant that applies to `user` in `namespace` (`""`: cluster-wide only), in kube's order:
 * ClusterRoleBindings, then the namespace's RoleBindings; `errors` names bindings whose role is missing.
 */
function grants(view: RbacView, user: UserInfo, namespace: string, visit: (g: Grant) => boolean, errors: string[]): void {
  const describeSubject = (s: Subject, bindingNs: string) =>
    s.kind === "ServiceAccount" ? `ServiceAccount "${s.namespace || bindingNs}/${s.name}"` : `${s.kind} "${s.name}"`;
  for (const b of view.clusterRoleBindings()) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, ""));
    if (!subject || b.roleRef.kind !== "ClusterRole") continue;
    const role = view.clusterRole(b.roleRef.name);
    if (!role) {
      errors.push(`clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      continue;
    }
    if (visit({ rules: role.rules ?? [], source: () => `ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${role.metadata.name}" to ${describeSubject(subject, "")}` })) return;
  }
  if (!namespace) return;
  for (const b of view.roleBindings(namespace)) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, namespace));
    if (!subject) continue;
    const role = b.roleRef.kind === "ClusterRole" ? view.clusterRole(b.roleRef.name) : view.role(namespace, b.roleRef.name);
    if (!role) {
      errors.push(b.roleRef.kind === "ClusterRole" ? `clusterrole.rbac.authorization.k8s.io "${b.roleRef.name}" not found` : `role.rbac.authorization.k8s.io "${b.roleRef.name}" not found`);
      continue;
    }
    const what = `RoleBinding "${b.metadata.name}/${namespace}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, namespace)}`;
    if (visit({ rules: role.rules ?? [], source: () => what })) return;
  }
}

/** Whether `user` may do what `a` asks. */
export function authorize(view: RbacView, user: UserInfo, a: RequestAttributes): Decision {
  if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: "" };
  const errors: string[] = [];
  let allowedBy: string | undefined;
  grants(view, user, a.type === "resource" ? (a.namespace ?? "") : "", (g) => {
    if (!g.rules.some((r) => ruleAllows(r, a))) return false;
    allowedBy = g.source();
    return true;
  }, errors);
  if (allowedBy !== undefined) return { allowed: true, reason: `RBAC: allowed by ${allowedBy}` };
  return { allowed: false, reason: errors.length ? `RBAC: [${errors.join(", ")}]` : "" };
}

/** Every rule `user` holds in `namespace` (`""`: the cluster-wide ones), as SelfSubjectRulesReview lists them. */
export function rulesFor(view: RbacView, user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  if (user.groups.includes(SYSTEM_MASTERS)) rules.push({ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }, { verbs: ["*"], nonResourceURLs: ["*"] });
  grants(view, user, namespace, (g) => {
    rules.push(...g.rules);
    return false;
  }, errors);
  return { rules, errors };
}

/**
 * kube-apiserver's message for a refused request: `User "u" cannot list resource "pods" in API
 * group "" in the namespace "default"`, followed by the reason when there is one.
 */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes, reason = ""): string {
  let msg: string;
  if (a.type === "nonResource") msg = `User "${user.username}" cannot ${a.verb} path "${a.path}"`;
  else {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    msg = a.namespace
      ? `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" in the namespace "${a.namespace}"`
      : `User "${user.username}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" at the cluster scope`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

/** `pods`, `deployments.apps`: a resource qualified by its group, as Status messages name it. */
export function qualifiedResource(resource: string, apiGroup: string): string {
  return apiGroup ? `${resource}.${apiGroup}` : resource;
}

// --- Escalation: a user may only grant what they hold -----------------------------------------

/** One verb on one resource (and name) of one group, or on one path: the unit rules are compared in. */
function breakdown(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const verb of rule.verbs ?? []) {
    for (const url of rule.nonResourceURLs ?? []) out.push({ verbs: [verb], nonResourceURLs: [url] });
    for (const group of rule.apiGroups ?? []) {
      for (const resource of rule.resources ?? []) {
        const names = rule.resourceNames ?? [];
        if (names.length === 0) out.push({ verbs: [verb], apiGroups: [group], resources: [resource] });
        for (const name of names) out.push({ verbs: [verb], apiGroups: [group], resources: [resource], resourceNames: [name] });
      }
    }
  }
  return out;
}

function resourceCovers(owner: readonly string[], servant: string): boolean {
  if (owner.includes("*") || owner.includes(servant)) return true;
  const slash = servant.indexOf("/");
  if (slash < 0) return false;
  return owner.includes(`${servant.slice(0, slash)}/*`) || owner.includes(`*/${servant.slice(slash + 1)}`);
}

/** Whether `owner` covers one broken-down rule (kube's ruleCovers: a `*` is covered only by a `*`). */
function ruleCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  if (!has(owner.verbs, "*") && !has(owner.verbs, atom.verbs[0])) return false;
  if (atom.nonResourceURLs?.length) {
    const url = atom.nonResourceURLs[0];
    return (owner.nonResourceURLs ?? []).some((u) => u === "*" || u === url || (u.endsWith("*") && url.startsWith(u.slice(0, -1))));
  }
  if (!has(owner.apiGroups, "*") && !has(owner.apiGroups, atom.apiGroups![0])) return false;
  if (!resourceCovers(owner.resources ?? [], atom.resources![0])) return false;
  const ownerNames = owner.resourceNames ?? [];
  if (ownerNames.length === 0) return true;
  return (atom.resourceNames ?? []).length > 0 && ownerNames.includes(atom.resourceNames![0]);
}

/** The parts of `servant` that `owner` does not cover (empty: covered), one verb/resource/name each. */
export function uncoveredRules(owner: readonly PolicyRule[], servant: readonly PolicyRule[]): PolicyRule[] {
  return servant.flatMap(breakdown).filter((atom) => !owner.some((o) => ruleCovers(o, atom)));
}

/** A rule as kube's escalation message prints it: `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`. */
export function compactRule(r: PolicyRule): string {
  const q = (xs: readonly string[]) => `[${xs.map((x) => JSON.stringify(x)).join(" ")}]`;
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${q(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${q(r.resources)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${q(r.resourceNames)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${q(r.nonResourceURLs)}`);
  parts.push(`Verbs:${q(r.verbs)}`);
  return `{${parts.join(", ")}}`;
}
