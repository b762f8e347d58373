/**
 * The self-review APIs kubectl's `auth` commands ask, served as kube-apiserver serves them:
 * create-only virtual resources, nothing stored, the answer in the status of the object sent.
 *
 *   POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews    kubectl auth can-i VERB RESOURCE
 *   POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews     kubectl auth can-i --list
 *   POST /apis/authentication.k8s.io/v1/selfsubjectreviews         kubectl auth whoami
 *   GET  /apis/authorization.k8s.io[/v1], /apis/authentication.k8s.io[/v1]   discovery
 *
 *
 * and the reviews other programs ask about someone else (auth proxies, Vault's Kubernetes auth,
 * webhooks — kube's `system:auth-delegator` role allows them):
 *
 *   POST /apis/authentication.k8s.io/v1/tokenreviews                        who a token is
 *   POST /apis/authorization.k8s.io/v1/subjectaccessreviews                 may user U do X?
 *   POST /apis/authorization.k8s.io/v1/namespaces/{ns}/localsubjectaccessreviews   … in ns
 *
 * Each is answered (after impersonation: `kubectl auth can-i --as=…`) by the same authentication
 * and RBAC that serve requests (runtime/auth/rest_auth.ts, model/rbac.ts), through a `Reviewer`
 * server.ts passes in. routes.ts parses, server.ts reads the body and calls `serveReview`.
 */
import { ApiError, BadRequestError, InvalidError } from "../../model/errors.ts";
import type { Decision, RequestAttributes, UserInfo } from "../../model/rbac.ts";
import type { PolicyRule } from "../../model/types.ts";

const AUTHORIZATION = "authorization.k8s.io";
const AUTHENTICATION = "authentication.k8s.io";
const VERSION = "v1";

/** The requester, and RBAC's answers for them. */
export interface Reviewer {
  user: UserInfo;
  decide(a: RequestAttributes): Promise<Decision>;
  rules(namespace: string): Promise<{ rules: PolicyRule[]; errors: string[] }>;
  /** RBAC's decision for someone else (SubjectAccessReview). */
  decideFor(user: UserInfo, a: RequestAttributes): Promise<Decision>;
  /** Who a token is, for which of `audiences` (TokenReview); undefined: not a valid token. */
  reviewToken(token: string, audiences?: string[]): Promise<{ user: UserInfo; audiences: string[] } | undefined>;
}

export type ReviewKind = "SelfSubjectAccessReview" | "SelfSubjectRulesReview" | "SelfSubjectReview" | "TokenReview" | "SubjectAccessReview" | "LocalSubjectAccessReview";

export type ReviewRoute =
  | { type: "review"; doc: "group"; group: string }
  | { type: "review"; doc: "resources"; group: string }
  /** `namespace`: a LocalSubjectAccessReview's, from its path. */
  | { type: "review"; doc: "create"; kind: ReviewKind; namespace?: string };

/** The resources of each group, as kube-apiserver's discovery lists them (only those Berth serves). */
const RESOURCES: Record<string, { name: string; singularName: string; kind: ReviewKind; namespaced: boolean }[]> = {
  [AUTHORIZATION]: [
    { name: "localsubjectaccessreviews", singularName: "localsubjectaccessreview", kind: "LocalSubjectAccessReview", namespaced: true },
    { name: "selfsubjectaccessreviews", singularName: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview", namespaced: false },
    { name: "selfsubjectrulesreviews", singularName: "selfsubjectrulesreview", kind: "SelfSubjectRulesReview", namespaced: false },
    { name: "subjectaccessreviews", singularName: "subjectaccessreview", kind: "SubjectAccessReview", namespaced: false },
  ],
  [AUTHENTICATION]: [
    { name: "selfsubjectreviews", singularName: "selfsubjectreview", kind: "SelfSubjectReview", namespaced: false },
    { name: "tokenreviews", singularName: "tokenreview", kind: "TokenReview", namespaced: false },
  ],
};

/** The route of a path under `/apis/authorization.k8s.io` or `/apis/authentication.k8s.io`, `notFound` below them, or null for other paths. */
export function parseReviewRoute(segs: string[]): ReviewRoute | { type: "notFound" } | null {
  if (segs[0] !== "apis" || !Object.hasOwn(RESOURCES, segs[1] ?? "")) return null;
  const group = segs[1];
  if (segs.length === 2) return { type: "review", doc: "group", group };
  if (segs[2] !== VERSION) return { type: "notFound" };
  if (segs.length === 3) return { type: "review", doc: "resources", group };
  if (segs.length === 6 && segs[3] === "namespaces") {
    const r = RESOURCES[group].find((x) => x.name === segs[5] && x.namespaced);
    return r ? { type: "review", doc: "create", kind: r.kind, namespace: segs[4] } : { type: "notFound" };
  }
  const r = RESOURCES[group].find((x) => x.name === segs[3] && !x.namespaced);
  return r && segs.length === 4 ? { type: "review", doc: "create", kind: r.kind } : { type: "notFound" };
}

/** The groups as `/apis` lists them. */
export function reviewApiGroups(): Record<string, unknown>[] {
  return Object.keys(RESOURCES).map((name) => {
    const v = { groupVersion: `${name}/${VERSION}`, version: VERSION };
    return { name, versions: [v], preferredVersion: v };
  });
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/**
 * Answers one review request: discovery documents for GET, the review with its status for a
 * POST (201, as kube-apiserver answers a create). `body` is the decoded request body of a POST.
 */
export async function serveReview(route: ReviewRoute, method: string, body: unknown, reviewer: Reviewer): Promise<{ status: number; body: Obj }> {
  if (route.doc === "group") {
    if (method !== "GET") throw methodNotAllowed(method);
    return { status: 200, body: { kind: "APIGroup", apiVersion: "v1", ...reviewApiGroups().find((g) => g.name === route.group) } };
  }
  if (route.doc === "resources") {
    if (method !== "GET") throw methodNotAllowed(method);
    const resources = RESOURCES[route.group].map((r) => ({ ...r, verbs: ["create"] }));
    return { status: 200, body: { kind: "APIResourceList", apiVersion: "v1", groupVersion: `${route.group}/${VERSION}`, resources } };
  }
  if (method !== "POST") throw methodNotAllowed(method);
  const review = obj(body);
  if (!review) throw new BadRequestError("the request body must be a JSON object");
  const apiVersion = `${route.kind === "SelfSubjectReview" || route.kind === "TokenReview" ? AUTHENTICATION : AUTHORIZATION}/${VERSION}`;
  checkKind(review, route.kind, apiVersion);
  // As kube-apiserver answers: the object sent, its metadata as a create leaves an unstored object.
  const out: Obj = { kind: route.kind, apiVersion, metadata: { ...obj(review.metadata), creationTimestamp: null } };
  const spec = obj(review.spec) ?? {};
  switch (route.kind) {
    case "SelfSubjectAccessReview": {
      checkAttributes(route.kind, spec);
      const d = await reviewer.decide(reviewAttributes(spec));
      return { status: 201, body: { ...out, spec, status: accessStatus(d) } };
    }
    case "SubjectAccessReview":
    case "LocalSubjectAccessReview": {
      checkAttributes(route.kind, spec);
      // ValidateSubjectAccessReviewSpec: someone to ask about.
      const user = typeof spec.user === "string" ? spec.user : "";
      const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === "string") : [];
      if (!user && groups.length === 0) {
        throw new InvalidError(route.kind, "", [{ reason: "FieldValueInvalid", field: "spec.user", message: `Invalid value: "": at least one of user or group must be specified` }]);
      }
      if (route.kind === "LocalSubjectAccessReview") {
        const ns = route.namespace!;
        const metaNs = typeof obj(review.metadata)?.namespace === "string" && obj(review.metadata)!.namespace !== "" ? obj(review.metadata)!.namespace as string : ns;
        if (metaNs !== ns) throw new BadRequestError(`spec.resourceAttributes.namespace must match namespace: ${ns}`);
        out.metadata = { ...(out.metadata as Obj), namespace: ns };
        if (obj(spec.nonResourceAttributes)) {
          throw new InvalidError(route.kind, "", [{ reason: "FieldValueInvalid", field: "spec.nonResourceAttributes", message: `Invalid value: ${JSON.stringify(spec.nonResourceAttributes)}: disallowed on this kind of request` }]);
        }
        const attrNs = obj(spec.resourceAttributes)?.namespace ?? "";
        if (attrNs !== ns) {
          throw new InvalidError(route.kind, "", [{ reason: "FieldValueInvalid", field: "spec.resourceAttributes.namespace", message: `Invalid value: ${JSON.stringify(attrNs)}: must match metadata.namespace` }]);
        }
      }
      const extra = obj(spec.extra);
      const subject: UserInfo = {
        username: user,
        groups,
        ...(typeof spec.uid === "string" && spec.uid ? { uid: spec.uid } : {}),
        ...(extra ? { extra: Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []])) } : {}),
      };
      const d = await reviewer.decideFor(subject, reviewAttributes(spec));
      return { status: 201, body: { ...out, spec, status: accessStatus(d) } };
    }
    case "TokenReview": {
      if (typeof spec.token !== "string" || spec.token === "") throw new BadRequestError("token is required for TokenReview in authentication");
      const audiences = Array.isArray(spec.audiences) ? spec.audiences.filter((a): a is string => typeof a === "string" && a !== "") : undefined;
      const r = await reviewer.reviewToken(spec.token, audiences);
      // The token is not sent back: a reply is no place for a credential.
      const shown = Object.fromEntries(Object.entries(spec).filter(([k]) => k !== "token"));
      if (!r) return { status: 201, body: { ...out, spec: shown, status: { user: {}, error: "invalid bearer token" } } };
      const u = r.user;
      const userInfo = { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
      return { status: 201, body: { ...out, spec: shown, status: { authenticated: true, user: userInfo, audiences: r.audiences } } };
    }
    case "SelfSubjectRulesReview": {
      if (typeof spec.namespace !== "string" || spec.namespace === "") throw new BadRequestError("no namespace on request");
      const { rules, errors } = await reviewer.rules(spec.namespace);
      const resourceRules = rules.filter((r) => (r.resources ?? []).length > 0).map((r) => ({
        verbs: r.verbs,
        ...(r.apiGroups ? { apiGroups: r.apiGroups } : {}),
        resources: r.resources,
        ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
      }));
      const nonResourceRules = rules.filter((r) => (r.nonResourceURLs ?? []).length > 0).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs }));
      return {
        status: 201,
        body: { ...out, spec, status: { resourceRules, nonResourceRules, incomplete: errors.length > 0, ...(errors.length ? { evaluationError: errors.join(", ") } : {}) } },
      };
    }
    case "SelfSubjectReview": {
      const u = reviewer.user;
      const userInfo = { username: u.username, ...(u.uid ? { uid: u.uid } : {}), groups: [...u.groups], ...(u.extra ? { extra: u.extra } : {}) };
      return { status: 201, body: { ...out, status: { userInfo } } };
    }
  }
}

/** An access review's answer: allowed, and kube's reason when there is one. */
function accessStatus(d: Decision): Obj {
  return { allowed: d.allowed, ...(d.reason ? { reason: d.reason } : {}) };
}

/** ValidateSubjectAccessReviewSpec and its self variant: exactly one kind of attributes. */
function checkAttributes(kind: ReviewKind, spec: Obj): void {
  const hasResource = obj(spec.resourceAttributes) !== undefined;
  const hasNonResource = obj(spec.nonResourceAttributes) !== undefined;
  if (hasResource && hasNonResource) {
    throw new InvalidError(kind, "", [{ reason: "FieldValueInvalid", field: "spec.nonResourceAttributes", message: `Invalid value: ${JSON.stringify(spec.nonResourceAttributes)}: cannot be specified in combination with resourceAttributes` }]);
  }
  if (!hasResource && !hasNonResource) {
    throw new InvalidError(kind, "", [{ reason: "FieldValueInvalid", field: "spec.resourceAttributes", message: `Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified` }]);
  }
}

/** An access review's spec as request attributes (validated: exactly one kind is set). */
function reviewAttributes(spec: Obj): RequestAttributes {
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const nr = obj(spec.nonResourceAttributes);
  if (nr) return { type: "nonResource", verb: str(nr.verb), path: str(nr.path) };
  const r = obj(spec.resourceAttributes)!;
  return {
    type: "resource",
    verb: str(r.verb),
    apiGroup: str(r.group),
    resource: str(r.resource),
    ...(str(r.subresource) ? { subresource: str(r.subresource) } : {}),
    ...(str(r.namespace) ? { namespace: str(r.namespace) } : {}),
    ...(str(r.name) ? { name: str(r.name) } : {}),
  };
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method}`);
}

/** The body's kind and apiVersion, when given, must be those of the URL (kube-apiserver's decoder). */
function checkKind(review: Obj, kind: string, apiVersion: string): void {
  const givenVersion = typeof review.apiVersion === "string" && review.apiVersion !== "" ? review.apiVersion : apiVersion;
  const givenKind = typeof review.kind === "string" && review.kind !== "" ? review.kind : kind;
  if (givenVersion !== apiVersion) throw new BadRequestError(`the API version in the data (${givenVersion}) does not match the expected API version (${apiVersion})`);
  if (givenKind !== kind) throw new BadRequestError(`${givenKind} in version ${JSON.stringify(VERSION)} cannot be handled as a ${kind}: the kind in the body does not match the URL`);
}
