/**
 * The RBAC kinds and kubectl auth's self reviews at the HTTP edge: the protobuf bodies kubectl
 * 1.32 really sends (captured through a logging proxy in front of Berth), discovery of the
 * rbac.authorization.k8s.io, authorization.k8s.io and authentication.k8s.io groups, routing, and
 * the reviews' answers (RBAC's, for the requester: model/rbac.ts).
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../../runtime/http/protobuf.ts";
import { apiGroup, apiGroupList, apiResourceList } from "../../../../runtime/http/discovery.ts";
import { parseRoute } from "../../../../runtime/http/routes.ts";
import { serveReview, type Reviewer, type ReviewRoute } from "../../../../runtime/http/access_review.ts";
import { ApiError, InvalidError } from "../../../../model/errors.ts";
import { authorize, rulesFor, type RbacView, type UserInfo } from "../../../../model/rbac.ts";
import type { ClusterRole, ClusterRoleBinding } from "../../../../model/types.ts";

const RBAC = "rbac.authorization.k8s.io";
const decode = (b64: string) => decodeProtobufBody(Buffer.from(b64, "base64"));

/** `kubectl create role pod-reader --verb=get,list,watch --resource=pods,deployments.apps` (captured). */
const CREATE_ROLE =
  "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEl8KGgoKcG9kLXJlYWRlchIAGgAiACoAMgA4AEIAEhoKA2dldAoEbGlzdAoFd2F0Y2gSABoEcG9kcxIlCgNnZXQKBGxpc3QKBXdhdGNoEgRhcHBzGgtkZXBsb3ltZW50cxoAIgA=";
/** `kubectl create role one --verb=get --resource=pods --resource-name=web --resource-name=db` (captured). */
const CREATE_ROLE_NAMES = "azhzAAokChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgRSb2xlEi0KEwoDb25lEgAaACIAKgAyADgAQgASFgoDZ2V0EgAaBHBvZHMiA3dlYiICZGIaACIA";
/** `kubectl create clusterrole nodes-reader --verb=get --resource=nodes --non-resource-url=/healthz --non-resource-url=/metrics` (captured). */
const CREATE_CLUSTERROLE =
  "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtDbHVzdGVyUm9sZRJJChwKDG5vZGVzLXJlYWRlchIAGgAiACoAMgA4AEIAEg4KA2dldBIAGgVub2RlcxIZCgNnZXQqCC9oZWFsdGh6KggvbWV0cmljcxoAIgA=";
/** `kubectl create clusterrole agg --aggregation-rule=rbac.example.com/aggregate-to-monitoring=true` (captured). */
const CREATE_CLUSTERROLE_AGG =
  "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtDbHVzdGVyUm9sZRJLChMKA2FnZxIAGgAiACoAMgA4AEIAGjQKMgowCihyYmFjLmV4YW1wbGUuY29tL2FnZ3JlZ2F0ZS10by1tb25pdG9yaW5nEgR0cnVlGgAiAA==";
/** `kubectl create rolebinding rb --role=pod-reader --user=alice --group=devs --serviceaccount=default:app` (captured). */
const CREATE_ROLEBINDING =
  "azhzAAorChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEgtSb2xlQmluZGluZxK9AQoSCgJyYhIAGgAiACoAMgA4AEIAEioKBFVzZXISGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8aBWFsaWNlIgASKgoFR3JvdXASGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8aBGRldnMiABIgCg5TZXJ2aWNlQWNjb3VudBIAGgNhcHAiB2RlZmF1bHQaLQoZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxIEUm9sZRoKcG9kLXJlYWRlchoAIgA=";
/** `kubectl create clusterrolebinding crb --clusterrole=nodes-reader --user=bob --group=ops --serviceaccount=kube-system:ctl` (captured). */
const CREATE_CLUSTERROLEBINDING =
  "azhzAAoyChxyYmFjLmF1dGhvcml6YXRpb24uazhzLmlvL3YxEhJDbHVzdGVyUm9sZUJpbmRpbmcSyAEKEwoDY3JiEgAaACIAKgAyADgAQgASKAoEVXNlchIZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxoDYm9iIgASKQoFR3JvdXASGXJiYWMuYXV0aG9yaXphdGlvbi5rOHMuaW8aA29wcyIAEiQKDlNlcnZpY2VBY2NvdW50EgAaA2N0bCILa3ViZS1zeXN0ZW0aNgoZcmJhYy5hdXRob3JpemF0aW9uLms4cy5pbxILQ2x1c3RlclJvbGUaDG5vZGVzLXJlYWRlchoAIgA=";
/** `kubectl auth can-i get pods` (captured): POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews. */
const CAN_I = "azhzAAoyChdhdXRob3JpemF0aW9uLms4cy5pby92MRIXU2VsZlN1YmplY3RBY2Nlc3NSZXZpZXcSPAoQCgASABoAIgAqADIAOABCABIeChwKB2RlZmF1bHQSA2dldBoAIgAqBHBvZHMyADoAGggIABIAGgAgABoAIgA=";
/** `kubectl auth can-i --list` (captured): POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews. */
const CAN_I_LIST = "azhzAAoxChdhdXRob3JpemF0aW9uLms4cy5pby92MRIWU2VsZlN1YmplY3RSdWxlc1JldmlldxIjChAKABIAGgAiACoAMgA4AEIAEgkKB2RlZmF1bHQaBBgAIgAaACIA";
/** `kubectl auth whoami` (captured): POST /apis/authentication.k8s.io/v1/selfsubjectreviews. */
const WHOAMI = "azhzAAotChhhdXRoZW50aWNhdGlvbi5rOHMuaW8vdjESEVNlbGZTdWJqZWN0UmV2aWV3EhoKEAoAEgAaACIAKgAyADgAQgASBgoECgASABoAIgA=";

describe("rbac over HTTP - the protobuf bodies of kubectl create role|clusterrole|rolebinding|clusterrolebinding", () => {
  it("kubectl create role: one rule per resource group, the core group kept as \"\", resource names kept", () => {
    expect(decode(CREATE_ROLE)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name: "pod-reader" },
      rules: [
        { verbs: ["get", "list", "watch"], apiGroups: [""], resources: ["pods"] },
        { verbs: ["get", "list", "watch"], apiGroups: ["apps"], resources: ["deployments"] },
      ],
    });
    expect(decode(CREATE_ROLE_NAMES)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "Role", metadata: { name: "one" },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"], resourceNames: ["web", "db"] }],
    });
  });

  it("kubectl create clusterrole: non-resource URLs in a rule of their own; --aggregation-rule as clusterRoleSelectors", () => {
    expect(decode(CREATE_CLUSTERROLE)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: "nodes-reader" },
      rules: [{ verbs: ["get"], apiGroups: [""], resources: ["nodes"] }, { verbs: ["get"], nonResourceURLs: ["/healthz", "/metrics"] }],
    });
    expect(decode(CREATE_CLUSTERROLE_AGG)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: "agg" },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "rbac.example.com/aggregate-to-monitoring": "true" } }] },
    });
  });

  it("kubectl create rolebinding and clusterrolebinding: users, groups and service accounts as subjects, the roleRef with its group", () => {
    expect(decode(CREATE_ROLEBINDING)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "RoleBinding", metadata: { name: "rb" },
      subjects: [{ kind: "User", apiGroup: RBAC, name: "alice" }, { kind: "Group", apiGroup: RBAC, name: "devs" }, { kind: "ServiceAccount", name: "app", namespace: "default" }],
      roleRef: { apiGroup: RBAC, kind: "Role", name: "pod-reader" },
    });
    expect(decode(CREATE_CLUSTERROLEBINDING)).toEqual({
      apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: "crb" },
      subjects: [{ kind: "User", apiGroup: RBAC, name: "bob" }, { kind: "Group", apiGroup: RBAC, name: "ops" }, { kind: "ServiceAccount", name: "ctl", namespace: "kube-system" }],
      roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "nodes-reader" },
    });
  });

  it("kubectl auth can-i, can-i --list and whoami send their reviews as protobuf too", () => {
    expect(decode(CAN_I)).toEqual({
      apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", metadata: {},
      spec: { resourceAttributes: { namespace: "default", verb: "get", resource: "pods" } },
    });
    expect(decode(CAN_I_LIST)).toEqual({ apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectRulesReview", metadata: {}, spec: { namespace: "default" } });
    expect(decode(WHOAMI)).toEqual({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview", metadata: {} });
  });
});

describe("rbac over HTTP - discovery and routes", () => {
  it("rbac.authorization.k8s.io/v1 lists the four kinds with every verb, no short names, no status subresource; /apis lists the group", () => {
    const list = apiResourceList(`${RBAC}/v1`) as { resources: { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[]; categories?: string[] }[] };
    expect(list.resources.map((r) => [r.name, r.kind, r.namespaced])).toEqual([
      ["clusterrolebindings", "ClusterRoleBinding", false],
      ["clusterroles", "ClusterRole", false],
      ["rolebindings", "RoleBinding", true],
      ["roles", "Role", true],
    ]);
    for (const r of list.resources) {
      expect(r.verbs).toEqual(["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]);
      expect(r.shortNames).toBeUndefined();
      expect(r.categories).toBeUndefined();
    }
    expect(apiGroup(RBAC)).toMatchObject({ name: RBAC, preferredVersion: { groupVersion: `${RBAC}/v1`, version: "v1" } });
    const groups = (apiGroupList() as { groups: { name: string }[] }).groups.map((g) => g.name);
    expect(groups).toEqual(expect.arrayContaining([RBAC, "authorization.k8s.io", "authentication.k8s.io"]));
  });

  it("routes: namespaced roles and bindings under a namespace, cluster roles and bindings at the top (names with colons), no status; the reviews' paths", () => {
    expect(parseRoute(`/apis/${RBAC}/v1/namespaces/ns/roles/reader`)).toMatchObject({ type: "resource", resource: "roles", namespace: "ns", name: "reader" });
    expect(parseRoute(`/apis/${RBAC}/v1/rolebindings`)).toMatchObject({ type: "resource", resource: "rolebindings" });
    expect(parseRoute(`/apis/${RBAC}/v1/clusterroles/system:metrics-server`)).toMatchObject({ type: "resource", resource: "clusterroles", name: "system:metrics-server" });
    expect(parseRoute(`/apis/${RBAC}/v1/namespaces/ns/roles/reader/status`)).toEqual({ type: "notFound" });
    expect(parseRoute(`/apis/${RBAC}/v1/namespaces/ns/clusterroles`)).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")).toEqual({ type: "review", doc: "create", kind: "SelfSubjectAccessReview" });
    expect(parseRoute("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")).toEqual({ type: "review", doc: "create", kind: "SelfSubjectRulesReview" });
    expect(parseRoute("/apis/authentication.k8s.io/v1/selfsubjectreviews")).toEqual({ type: "review", doc: "create", kind: "SelfSubjectReview" });
    expect(parseRoute("/apis/authorization.k8s.io/v1")).toEqual({ type: "review", doc: "resources", group: "authorization.k8s.io" });
    // Reviews about others: cluster-wide, and the local one in a namespace only.
    expect(parseRoute("/apis/authorization.k8s.io/v1/subjectaccessreviews")).toEqual({ type: "review", doc: "create", kind: "SubjectAccessReview" });
    expect(parseRoute("/apis/authorization.k8s.io/v1/namespaces/shop/localsubjectaccessreviews")).toEqual({ type: "review", doc: "create", kind: "LocalSubjectAccessReview", namespace: "shop" });
    expect(parseRoute("/apis/authorization.k8s.io/v1/localsubjectaccessreviews")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/authorization.k8s.io/v1/namespaces/shop/subjectaccessreviews")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/authentication.k8s.io/v1/tokenreviews")).toEqual({ type: "review", doc: "create", kind: "TokenReview" });
    // Not served: older versions.
    expect(parseRoute("/apis/authentication.k8s.io/v1beta1/selfsubjectreviews")).toEqual({ type: "notFound" });
  });
});

/** The cluster token's user, and a ServiceAccount that may only read pods in `default`. */
const ADMIN: UserInfo = { username: "berth:cluster-admin", groups: ["system:masters", "system:authenticated"] };
const APP: UserInfo = { username: "system:serviceaccount:default:app", uid: "u-1", groups: ["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"] };
const reader: ClusterRole = { apiVersion: `${RBAC}/v1`, kind: "ClusterRole", metadata: { name: "pod-reader" }, rules: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }] };
const binding: ClusterRoleBinding = {
  apiVersion: `${RBAC}/v1`, kind: "ClusterRoleBinding", metadata: { name: "app-reads" },
  subjects: [{ kind: "ServiceAccount", name: "app", namespace: "default" }], roleRef: { apiGroup: RBAC, kind: "ClusterRole", name: "pod-reader" },
};
const view: RbacView = { clusterRoleBindings: () => [binding], roleBindings: () => [], clusterRole: (n) => (n === "pod-reader" ? reader : undefined), role: () => undefined };
const as = (user: UserInfo): Reviewer => ({
  user,
  decide: async (a) => authorize(view, user, a),
  rules: async (ns) => rulesFor(view, user, ns),
  decideFor: async (subject, a) => authorize(view, subject, a),
  reviewToken: async (token) => (token === "app-token" ? { user: APP, audiences: ["https://kubernetes.default.svc.cluster.local"] } : undefined),
});

describe("rbac over HTTP - kubectl auth's self reviews (nothing stored; answered by RBAC for the requester)", () => {
  const create = (kind: Extract<ReviewRoute, { doc: "create" }>["kind"]): ReviewRoute => ({ type: "review", doc: "create", kind });

  it("a SelfSubjectAccessReview is answered 201 with RBAC's decision for the requester, the spec as sent", async () => {
    const r = await serveReview(create("SelfSubjectAccessReview"), "POST", decode(CAN_I), as(APP));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      kind: "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1",
      spec: { resourceAttributes: { namespace: "default", verb: "get", resource: "pods" } },
      status: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "app-reads" of ClusterRole "pod-reader" to ServiceAccount "default/app"' },
    });
    const del = { spec: { resourceAttributes: { namespace: "default", verb: "delete", resource: "pods", name: "x" } } };
    expect((await serveReview(create("SelfSubjectAccessReview"), "POST", del, as(APP))).body.status).toEqual({ allowed: false });
    expect((await serveReview(create("SelfSubjectAccessReview"), "POST", del, as(ADMIN))).body.status).toEqual({ allowed: true });
    const healthz = { spec: { nonResourceAttributes: { path: "/healthz", verb: "get" } } };
    expect((await serveReview(create("SelfSubjectAccessReview"), "POST", healthz, as(ADMIN))).body).toMatchObject({ status: { allowed: true } });
    expect((await serveReview(create("SelfSubjectAccessReview"), "POST", healthz, as(APP))).body).toMatchObject({ status: { allowed: false } });
  });

  it("a SelfSubjectAccessReview needs exactly one kind of attributes (kube's 422), and its kind and version must be the URL's", async () => {
    const review = (body: unknown) => serveReview(create("SelfSubjectAccessReview"), "POST", body, as(APP));
    await expect(review({ spec: {} })).rejects.toThrow(InvalidError);
    await expect(review({ spec: {} })).rejects.toThrow(/spec.resourceAttributes: Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified/);
    await expect(review({ spec: { resourceAttributes: {}, nonResourceAttributes: {} } })).rejects.toThrow(/cannot be specified in combination with resourceAttributes/);
    await expect(review({ kind: "SelfSubjectRulesReview", spec: { resourceAttributes: {} } })).rejects.toThrow(/cannot be handled as a SelfSubjectAccessReview/);
  });

  it("a SelfSubjectRulesReview lists the requester's rules (system:masters: everything); it needs a namespace", async () => {
    expect((await serveReview(create("SelfSubjectRulesReview"), "POST", decode(CAN_I_LIST), as(ADMIN))).body.status).toEqual({
      resourceRules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
      nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
      incomplete: false,
    });
    expect((await serveReview(create("SelfSubjectRulesReview"), "POST", decode(CAN_I_LIST), as(APP))).body.status).toEqual({
      resourceRules: [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }],
      nonResourceRules: [],
      incomplete: false,
    });
    await expect(serveReview(create("SelfSubjectRulesReview"), "POST", { spec: {} }, as(APP))).rejects.toThrow(/no namespace on request/);
  });

  it("a SelfSubjectReview names the requester, its uid and its groups", async () => {
    expect((await serveReview(create("SelfSubjectReview"), "POST", decode(WHOAMI), as(ADMIN))).body).toMatchObject({
      kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1",
      status: { userInfo: { username: "berth:cluster-admin", groups: ["system:masters", "system:authenticated"] } },
    });
    expect((await serveReview(create("SelfSubjectReview"), "POST", decode(WHOAMI), as(APP))).body).toMatchObject({
      status: { userInfo: { username: "system:serviceaccount:default:app", uid: "u-1", groups: APP.groups } },
    });
  });

  it("reviews are create-only: another method is a 405; the groups' discovery lists them with the create verb alone", async () => {
    await expect(serveReview(create("SelfSubjectAccessReview"), "GET", undefined, as(APP))).rejects.toThrow(ApiError);
    await expect(serveReview(create("SelfSubjectAccessReview"), "DELETE", undefined, as(APP))).rejects.toThrow(/does not allow this method/);
    expect((await serveReview({ type: "review", doc: "resources", group: "authorization.k8s.io" }, "GET", undefined, as(APP))).body).toEqual({
      kind: "APIResourceList", apiVersion: "v1", groupVersion: "authorization.k8s.io/v1",
      resources: [
        { name: "localsubjectaccessreviews", singularName: "localsubjectaccessreview", kind: "LocalSubjectAccessReview", namespaced: true, verbs: ["create"] },
        { name: "selfsubjectaccessreviews", singularName: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview", namespaced: false, verbs: ["create"] },
        { name: "selfsubjectrulesreviews", singularName: "selfsubjectrulesreview", kind: "SelfSubjectRulesReview", namespaced: false, verbs: ["create"] },
        { name: "subjectaccessreviews", singularName: "subjectaccessreview", kind: "SubjectAccessReview", namespaced: false, verbs: ["create"] },
      ],
    });
    expect((await serveReview({ type: "review", doc: "group", group: "authentication.k8s.io" }, "GET", undefined, as(APP))).body).toMatchObject({ kind: "APIGroup", name: "authentication.k8s.io", preferredVersion: { version: "v1" } });
  });
});

describe("rbac over HTTP - reviews about someone else (SubjectAccessReview, LocalSubjectAccessReview, TokenReview)", () => {
  const create = (kind: Extract<ReviewRoute, { doc: "create" }>["kind"], namespace?: string): ReviewRoute => ({ type: "review", doc: "create", kind, ...(namespace ? { namespace } : {}) });
  const getPods = (namespace: string) => ({ resourceAttributes: { namespace, verb: "get", resource: "pods", name: "web" } });

  it("a SubjectAccessReview answers for the user and groups named, not the requester", async () => {
    const r = await serveReview(create("SubjectAccessReview"), "POST", { spec: { user: APP.username, groups: APP.groups, ...getPods("default") } }, as(ADMIN));
    expect(r).toMatchObject({ status: 201, body: { kind: "SubjectAccessReview", apiVersion: "authorization.k8s.io/v1", status: { allowed: true, reason: expect.stringContaining('ClusterRoleBinding "app-reads"') } } });
    // The requester may do everything; the subject asked about may not.
    expect((await serveReview(create("SubjectAccessReview"), "POST", { spec: { user: "alice", resourceAttributes: { verb: "delete", resource: "nodes" } } }, as(ADMIN))).body.status).toEqual({ allowed: false });
    expect((await serveReview(create("SubjectAccessReview"), "POST", { spec: { user: "root", groups: ["system:masters"], resourceAttributes: { verb: "delete", resource: "nodes" } } }, as(APP))).body.status).toEqual({ allowed: true });
    await expect(serveReview(create("SubjectAccessReview"), "POST", { spec: getPods("default") }, as(ADMIN))).rejects.toThrow(/spec.user: Invalid value: "": at least one of user or group must be specified/);
    await expect(serveReview(create("SubjectAccessReview"), "POST", { spec: { user: "a" } }, as(ADMIN))).rejects.toThrow(/exactly one of nonResourceAttributes or resourceAttributes/);
  });

  it("a LocalSubjectAccessReview asks within its namespace only: the attributes' namespace must be the path's", async () => {
    const r = await serveReview(create("LocalSubjectAccessReview", "default"), "POST", { spec: { user: APP.username, groups: APP.groups, ...getPods("default") } }, as(ADMIN));
    expect(r.body).toMatchObject({ kind: "LocalSubjectAccessReview", metadata: { namespace: "default" }, status: { allowed: true } });
    await expect(serveReview(create("LocalSubjectAccessReview", "default"), "POST", { spec: { user: "a", ...getPods("other") } }, as(ADMIN))).rejects.toThrow(/spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace/);
    await expect(serveReview(create("LocalSubjectAccessReview", "default"), "POST", { metadata: { namespace: "other" }, spec: { user: "a", ...getPods("default") } }, as(ADMIN))).rejects.toThrow(/must match namespace: default/);
    await expect(serveReview(create("LocalSubjectAccessReview", "default"), "POST", { spec: { user: "a", nonResourceAttributes: { path: "/x", verb: "get" } } }, as(ADMIN))).rejects.toThrow(/disallowed on this kind of request/);
  });

  it("a TokenReview says who a token is and for which audiences, and does not echo the token; an invalid one is unauthenticated", async () => {
    const ok = await serveReview(create("TokenReview"), "POST", { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "app-token" } }, as(ADMIN));
    expect(ok.body).toEqual({
      kind: "TokenReview", apiVersion: "authentication.k8s.io/v1", metadata: { creationTimestamp: null }, spec: {},
      status: { authenticated: true, user: { username: APP.username, uid: "u-1", groups: APP.groups }, audiences: ["https://kubernetes.default.svc.cluster.local"] },
    });
    expect((await serveReview(create("TokenReview"), "POST", { spec: { token: "forged" } }, as(ADMIN))).body.status).toEqual({ user: {}, error: "invalid bearer token" });
    await expect(serveReview(create("TokenReview"), "POST", { spec: {} }, as(ADMIN))).rejects.toThrow(/token is required/);
  });
});
