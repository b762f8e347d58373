/**
 * Who a REST request is and what they may do, in kube-apiserver's order:
 *
 *   Authorization: Bearer <token>
 *     the cluster token (`<home>/token`) ─▶ berth:cluster-admin, in system:masters
 *     a ServiceAccount token (sa_tokens.ts) ─▶ system:serviceaccount:<ns>:<name>, once its
 *       account (and the pod it is bound to) still exist with the uids it names
 *     anything else ─▶ 401
 *   Impersonate-User / -Group / -Uid / -Extra-* ─▶ the request runs as that user, if the
 *     requester may `impersonate` each (kubectl --as, --as-group)
 *   RBAC (model/rbac.ts) over the roles and bindings, read from informers started on the first
 *     request that needs them (system:masters never does) ─▶ 403 in kube's words
 *
 * The NATS API (node agents, the control plane) has its own identities and is not checked here.
 */
import type { IncomingMessage } from "node:http";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import {
  authorize,
  compactRule,
  forbiddenMessage,
  parseServiceAccountUsername,
  qualifiedResource,
  rulesFor,
  serviceAccountGroups,
  serviceAccountUsername,
  SYSTEM_AUTHENTICATED,
  SYSTEM_MASTERS,
  SYSTEM_UNAUTHENTICATED,
  uncoveredRules,
  type Decision,
  type RbacView,
  type RequestAttributes,
  type UserInfo,
} from "../../model/rbac.ts";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from "../../model/types.ts";
import { Informer } from "../../actors/informer_cache.ts";
import { tokenMatches } from "../tls.ts";
import type { ServiceAccountTokens } from "./sa_tokens.ts";

/** Who the cluster token is (kubectl auth whoami). */
export const CLUSTER_ADMIN: UserInfo = { username: "berth:cluster-admin", groups: [SYSTEM_MASTERS, SYSTEM_AUTHENTICATED] };

/** How long a checked ServiceAccount token is trusted before its account is looked up again (kube caches 10 s). */
const TOKEN_CACHE_MS = 10_000;
const TOKEN_CACHE_MAX = 4096;

export interface RestAuthOptions {
  api: ApiClient;
  /** The cluster token. */
  token: string;
  /** ServiceAccount tokens; without them only the cluster token is accepted. */
  tokens?: ServiceAccountTokens;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  now?: () => number;
}

export function unauthorized(): ApiError {
  return new ApiError("Unauthorized", "Unauthorized");
}

/** A 403 in kube-apiserver's words (responsewriters.ForbiddenStatusError). */
export function forbidden(user: UserInfo, a: RequestAttributes, reason = ""): ApiError {
  const message = forbiddenMessage(user, a, reason);
  if (a.type === "nonResource") return new ApiError("Forbidden", `forbidden: ${message}`, { kind: "" });
  const qualified = qualifiedResource(a.resource, a.apiGroup);
  const name = a.name && !(a.resource === "namespaces" && !a.subresource && a.verb === "create") ? a.name : "";
  return new ApiError("Forbidden", name ? `${qualified} "${name}" is forbidden: ${message}` : `${qualified} is forbidden: ${message}`, {
    ...(name ? { name } : {}),
    group: a.apiGroup,
    kind: a.resource,
  });
}

export class RestAuth {
  readonly #opts: RestAuthOptions;
  readonly #tokenCache = new Map<string, { user: UserInfo; until: number }>();
  #informers?: {
    clusterRoles: Informer<"clusterroles">;
    clusterRoleBindings: Informer<"clusterrolebindings">;
    roles: Informer<"roles">;
    roleBindings: Informer<"rolebindings">;
  };
  #started?: Promise<void>;
  #closed = false;

  constructor(opts: RestAuthOptions) {
    this.#opts = opts;
  }

  #now(): number {
    return this.#opts.now?.() ?? Date.now();
  }

  /** The user a request's bearer token names, or a 401. */
  async authenticate(req: IncomingMessage): Promise<UserInfo> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!m) throw unauthorized();
    const bearer = m[1];
    if (tokenMatches(bearer, this.#opts.token)) return CLUSTER_ADMIN;
    const cached = this.#tokenCache.get(bearer);
    if (cached && cached.until > this.#now()) return cached.user;
    const user = (await this.#serviceAccountUser(bearer))?.user;
    if (!user) throw unauthorized();
    if (this.#tokenCache.size >= TOKEN_CACHE_MAX) this.#tokenCache.delete(this.#tokenCache.keys().next().value!);
    this.#tokenCache.set(bearer, { user, until: this.#now() + TOKEN_CACHE_MS });
    return user;
  }

  /**
   * A TokenReview's answer (kube's TokenReview API, what Vault's Kubernetes auth and auth proxies
   * ask): who `token` is, and for which of `audiences` (default: the API server's own) it is
   * valid; undefined when it is not a valid token for any of them. Nothing is cached.
   */
  async reviewToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    const issuer = this.#opts.tokens?.issuer;
    const wanted = audiences?.length ? audiences : issuer ? [issuer] : [];
    if (tokenMatches(token, this.#opts.token)) {
      // The cluster token is the API server's own credential: valid for its audience only.
      const ok = !audiences?.length || (issuer !== undefined && audiences.includes(issuer));
      return ok ? { user: CLUSTER_ADMIN, audiences: issuer ? [issuer] : [] } : undefined;
    }
    const r = await this.#serviceAccountUser(token, wanted);
    return r && { user: r.user, audiences: r.audiences.filter((a) => wanted.includes(a)) };
  }

  async #serviceAccountUser(bearer: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined> {
    if (!this.#opts.tokens || bearer.split(".").length !== 3) return undefined;
    const claims = await this.#opts.tokens.verify(bearer, { now: new Date(this.#now()), ...(audiences ? { audiences } : {}) });
    if (!claims) return undefined;
    const { api } = this.#opts;
    // The account and the object the token is bound to must still be the ones it was issued for.
    const sa = await api.get("serviceaccounts", claims.serviceAccount.name, claims.namespace).catch(() => undefined);
    if (!sa || sa.metadata.uid !== claims.serviceAccount.uid || sa.metadata.deletionTimestamp) return undefined;
    const extra: Record<string, string[]> = { "authentication.kubernetes.io/credential-id": [`JTI=${claims.id}`] };
    if (claims.bound) {
      const b = claims.bound;
      const found = b.kind === "Pod"
        ? await api.get("pods", b.name, claims.namespace).catch(() => undefined)
        : b.kind === "Secret"
          ? await api.get("secrets", b.name, claims.namespace).catch(() => undefined)
          : await api.get("nodes", b.name).catch(() => undefined);
      if (!found || found.metadata.uid !== b.uid) return undefined;
      if (b.kind === "Pod") {
        extra["authentication.kubernetes.io/pod-name"] = [b.name];
        extra["authentication.kubernetes.io/pod-uid"] = [b.uid];
      }
    }
    const user = {
      username: serviceAccountUsername(claims.namespace, claims.serviceAccount.name),
      uid: claims.serviceAccount.uid,
      groups: [...serviceAccountGroups(claims.namespace), SYSTEM_AUTHENTICATED],
      extra,
    };
    return { user, audiences: claims.audiences };
  }

  /**
   * The user a request acts as: `user`, or whom its Impersonate-* headers name once `user` may
   * impersonate each of them (kube's WithImpersonation).
   */
  async impersonate(req: IncomingMessage, user: UserInfo): Promise<UserInfo> {
    const h = req.headers;
    const asUser = typeof h["impersonate-user"] === "string" ? h["impersonate-user"] : undefined;
    const groups = headerValues(h["impersonate-group"]);
    const asUid = typeof h["impersonate-uid"] === "string" ? h["impersonate-uid"] : undefined;
    const extra: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(h)) {
      if (!k.startsWith("impersonate-extra-")) continue;
      const key = decodeURIComponent(k.slice("impersonate-extra-".length));
      extra[key] = headerValues(v);
    }
    if (asUser === undefined) {
      if (groups.length || asUid !== undefined || Object.keys(extra).length) {
        throw new ApiError("BadRequest", "requested impersonation of groups, a uid or extra fields without impersonating a user");
      }
      return user;
    }
    const checks: RequestAttributes[] = [];
    const sa = parseServiceAccountUsername(asUser);
    checks.push(sa
      ? { type: "resource", verb: "impersonate", apiGroup: "", resource: "serviceaccounts", namespace: sa.namespace, name: sa.name }
      : { type: "resource", verb: "impersonate", apiGroup: "", resource: "users", name: asUser });
    for (const g of groups) checks.push({ type: "resource", verb: "impersonate", apiGroup: "", resource: "groups", name: g });
    if (asUid !== undefined) checks.push({ type: "resource", verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "uids", name: asUid });
    for (const [key, values] of Object.entries(extra)) {
      for (const v of values) checks.push({ type: "resource", verb: "impersonate", apiGroup: "authentication.k8s.io", resource: "userextras", subresource: key, name: v });
    }
    for (const a of checks) {
      const d = await this.authorize(user, a);
      if (!d.allowed) throw forbidden(user, a, d.reason);
    }
    const outGroups = [...groups];
    if (sa && groups.length === 0) outGroups.push(...serviceAccountGroups(sa.namespace));
    const anonymous = asUser === "system:anonymous";
    const implied = anonymous ? SYSTEM_UNAUTHENTICATED : SYSTEM_AUTHENTICATED;
    if (!outGroups.includes(implied)) outGroups.push(implied);
    return { username: asUser, groups: outGroups, ...(asUid !== undefined ? { uid: asUid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
  }

  /** RBAC's decision; system:masters is allowed without reading any role. */
  async authorize(user: UserInfo, a: RequestAttributes): Promise<Decision> {
    if (user.groups.includes(SYSTEM_MASTERS)) return { allowed: true, reason: "" };
    return authorize(await this.#view(), user, a);
  }

  /** Allowed, or a 403. */
  async check(user: UserInfo, a: RequestAttributes): Promise<void> {
    const d = await this.authorize(user, a);
    if (!d.allowed) throw forbidden(user, a, d.reason);
  }

  /** The rules `user` holds in `namespace`, for SelfSubjectRulesReview. */
  async rules(user: UserInfo, namespace: string): Promise<{ rules: PolicyRule[]; errors: string[] }> {
    return rulesFor(await this.#view(), user, namespace);
  }

  /**
   * RBAC's escalation check on a write of a role or binding (kube's rbac registry strategies):
   * a Role or ClusterRole may hold only rules its writer holds (in its namespace, or cluster-wide)
   * unless the writer may `escalate` it; a binding may grant a role only to a writer who holds
   * its rules or may `bind` it. Called after the write was authorized, with the object to store.
   */
  async checkRbacWrite(user: UserInfo, resource: string, obj: unknown, namespace: string | undefined): Promise<void> {
    if (user.groups.includes(SYSTEM_MASTERS)) return;
    if (resource !== "roles" && resource !== "clusterroles" && resource !== "rolebindings" && resource !== "clusterrolebindings") return;
    const o = obj as { metadata?: { name?: string; namespace?: string } };
    const ns = resource === "roles" || resource === "rolebindings" ? (namespace ?? o.metadata?.namespace ?? "") : "";
    const view = await this.#view();
    const held = rulesFor(view, user, ns).rules;
    const group = "rbac.authorization.k8s.io";
    if (resource === "roles" || resource === "clusterroles") {
      const name = o.metadata?.name ?? "";
      if ((await this.authorize(user, { type: "resource", verb: "escalate", apiGroup: group, resource, ...(ns ? { namespace: ns } : {}), name })).allowed) return;
      const missing = uncoveredRules(held, ((obj as Role | ClusterRole).rules ?? []));
      if (missing.length) throw escalationError(user, resource, name, missing);
      return;
    }
    const binding = obj as RoleBinding | ClusterRoleBinding;
    const ref = binding.roleRef;
    if (!ref) return;
    const roleResource = ref.kind === "ClusterRole" ? "clusterroles" : "roles";
    if ((await this.authorize(user, { type: "resource", verb: "bind", apiGroup: group, resource: roleResource, ...(ns ? { namespace: ns } : {}), name: ref.name })).allowed) return;
    const role = ref.kind === "ClusterRole" ? view.clusterRole(ref.name) : view.role(ns, ref.name);
    const name = binding.metadata?.name ?? "";
    if (!role) {
      throw new ApiError("Forbidden", `${qualifiedResource(resource, group)} "${name}" is forbidden: ${ref.kind.toLowerCase()}s.${group} "${ref.name}" not found`, { name, group, kind: resource });
    }
    const missing = uncoveredRules(held, role.rules ?? []);
    if (missing.length) throw escalationError(user, resource, name, missing);
  }

  async #view(): Promise<RbacView> {
    if (this.#closed) throw new ApiError("ServiceUnavailable", "the API server is shutting down");
    if (!this.#informers) {
      const { api, log } = this.#opts;
      this.#informers = {
        clusterRoles: new Informer(api, "clusterroles", { log }),
        clusterRoleBindings: new Informer(api, "clusterrolebindings", { log }),
        roles: new Informer(api, "roles", { log }),
        roleBindings: new Informer(api, "rolebindings", { log }),
      };
      const all = Object.values(this.#informers);
      // A failed first list is tried again by the next request.
      this.#started = Promise.all(all.map((i) => i.start())).then(
        () => {},
        (e) => {
          for (const i of all) void i.stop();
          this.#informers = undefined;
          throw e;
        },
      );
    }
    const inf = this.#informers;
    await this.#started;
    return {
      clusterRoleBindings: () => inf.clusterRoleBindings.list(),
      roleBindings: (ns) => inf.roleBindings.list().filter((b) => b.metadata.namespace === ns),
      clusterRole: (name) => inf.clusterRoles.get(`/${name}`),
      role: (ns, name) => inf.roles.get(`${ns}/${name}`),
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const inf = this.#informers;
    this.#informers = undefined;
    if (inf) await Promise.all(Object.values(inf).map((i) => i.stop()));
  }
}

function headerValues(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) => s !== "");
}

function escalationError(user: UserInfo, resource: string, name: string, missing: PolicyRule[]): ApiError {
  const group = "rbac.authorization.k8s.io";
  const shown = missing.slice(0, 20).map(compactRule).join("\n");
  const more = missing.length > 20 ? `\n…and ${missing.length - 20} more` : "";
  const groups = `[${user.groups.map((g) => JSON.stringify(g)).join(" ")}]`;
  return new ApiError(
    "Forbidden",
    `${qualifiedResource(resource, group)} "${name}" is forbidden: user "${user.username}" (groups=${groups}) is attempting to grant RBAC permissions not currently held:\n${shown}${more}`,
    { name, group, kind: resource },
  );
}
