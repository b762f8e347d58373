/**
 * RBAC enforced at the REST API, as kubectl 1.32 users meet it: ServiceAccount tokens
 * (`kubectl create token`) and impersonation (`kubectl --as`) name users other than the cluster
 * token's; RBAC allows them what their bindings grant and refuses the rest with kube-apiserver's
 * messages; nobody grants more than they hold (escalation), by create, patch or server-side apply;
 * a token dies with its account or the pod it is bound to. No control plane, no Docker: the REST
 * API over a real store.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { waitFor } from "../helpers/nats.ts";
import { ephemeralServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";

const h = useRestHarness({}, 30_000);
const { ok, refused } = kubectlRunners(h, 60_000);
const SA = "system:serviceaccount:shop:app";
const FORBIDDEN = "Error from server (Forbidden): ";
const UNAUTHORIZED = "error: You must be logged in to the server (Unauthorized)";

describe.sequential("RBAC at the REST API (ServiceAccount tokens, impersonation, escalation)", () => {
  let token = "";
  /** kubectl as the ServiceAccount, by its own token. */
  const asApp = (args: string[]) => ["--token", token, ...args];

  beforeAll(async () => {
    await ok(["create", "namespace", "shop"]);
    await ok(["create", "serviceaccount", "app", "-n", "shop"]);
    token = (await ok(["create", "token", "app", "-n", "shop"])).trim();
  });

  it("a ServiceAccount may do nothing its bindings do not grant: kube-apiserver's 403, by its token and by impersonation", async () => {
    const msg = `${FORBIDDEN}pods is forbidden: User "${SA}" cannot list resource "pods" in API group "" in the namespace "shop"`;
    expect(await refused(asApp(["get", "pods", "-n", "shop"]))).toContain(msg);
    expect(await refused(["get", "pods", "-n", "shop", "--as", SA])).toContain(msg);
    expect(await refused(asApp(["get", "nodes"]))).toContain(`${FORBIDDEN}nodes is forbidden: User "${SA}" cannot list resource "nodes" in API group "" at the cluster scope`);
    expect(await refused(asApp(["get", "deploy", "web", "-n", "shop"]))).toContain(`deployments.apps "web" is forbidden: User "${SA}" cannot get resource "deployments" in API group "apps" in the namespace "shop"`);
    expect(await refused(asApp(["get", "--raw", "/metrics"]))).toContain(`forbidden: User "${SA}" cannot get path "/metrics"`);
    // Discovery and the self reviews are every authenticated user's (system:discovery, system:basic-user).
    expect(await ok(asApp(["api-versions"]))).toContain("apps/v1\n");
    expect(await ok(asApp(["auth", "whoami"]))).toMatch(new RegExp(`^ATTRIBUTE\\s+VALUE\\nUsername\\s+${SA}\\nUID\\s+[0-9a-f-]{36}\\nGroups\\s+\\[system:serviceaccounts system:serviceaccounts:shop system:authenticated\\]\\nExtra: authentication.kubernetes.io/credential-id\\s+\\[JTI=[0-9a-f-]{36}\\]\\n$`));
    expect(await ok(["auth", "whoami", "--as", SA])).toMatch(new RegExp(`Username\\s+${SA}\\nGroups\\s+\\[system:serviceaccounts system:serviceaccounts:shop system:authenticated\\]`));
  });

  it("a Role and RoleBinding allow what they name, in their namespace only; kubectl auth can-i agrees", async () => {
    await ok(["create", "role", "pod-reader", "--verb=get,list,watch", "--resource=pods", "-n", "shop"]);
    await ok(["create", "rolebinding", "app-reads", "--role=pod-reader", "--serviceaccount=shop:app", "-n", "shop"]);
    await waitFor(async () => (await h.kubectl(asApp(["get", "pods", "-n", "shop"]))).code === 0, "the binding to take effect", 10_000, 50);
    expect(await refused(asApp(["get", "pods", "-n", "default"]))).toContain(`cannot list resource "pods" in API group "" in the namespace "default"`);
    expect(await refused(asApp(["delete", "pod", "x", "-n", "shop"]))).toContain(`${FORBIDDEN}pods "x" is forbidden: User "${SA}" cannot delete resource "pods" in API group "" in the namespace "shop"`);
    expect(await ok(["auth", "can-i", "list", "pods", "-n", "shop", "--as", SA])).toBe("yes\n");
    const no = await h.kubectl(["auth", "can-i", "delete", "pods", "-n", "shop", "--as", SA]);
    expect([no.code, no.stdout]).toEqual([1, "no\n"]);
    expect(await ok(asApp(["auth", "can-i", "--list", "-n", "shop"]))).toMatch(/^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs\n(.*\n)*pods\s+\[\]\s+\[\]\s+\[get list watch\]\n/);
  });

  it("a user may impersonate only whom RBAC lets them: the cluster token may, the account may not", async () => {
    expect(await refused(asApp(["get", "pods", "-n", "shop", "--as", "alice"]))).toContain(`${FORBIDDEN}users "alice" is forbidden: User "${SA}" cannot impersonate resource "users" in API group "" at the cluster scope`);
    expect(await refused(["get", "pods", "-n", "shop", "--as", "alice"])).toContain(`User "alice" cannot list resource "pods"`);
    // The groups come from the impersonation too: in system:masters, alice may.
    await ok(["get", "pods", "-n", "shop", "--as", "alice", "--as-group", "system:masters"]);
  });

  it("nobody grants more than they hold: a role or binding beyond the writer's rules is refused (create, patch, apply) and nothing is stored", async () => {
    await ok(["create", "role", "rbac-writer", "--verb=create,update,patch,get", "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io", "-n", "shop"]);
    await ok(["create", "rolebinding", "app-writes-rbac", "--role=rbac-writer", "--serviceaccount=shop:app", "-n", "shop"]);
    await waitFor(async () => (await h.kubectl(asApp(["create", "role", "pod-lister", "--verb=list", "--resource=pods", "-n", "shop"]))).code === 0, "the account to create a role within its own rules", 10_000, 50);

    const secrets = await refused(asApp(["create", "role", "secret-reader", "--verb=get", "--resource=secrets", "-n", "shop"]));
    expect(secrets).toContain(`${FORBIDDEN}roles.rbac.authorization.k8s.io "secret-reader" is forbidden: user "${SA}" (groups=["system:serviceaccounts" "system:serviceaccounts:shop" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`);
    expect(await refused(["get", "role", "secret-reader", "-n", "shop"])).toContain("NotFound");

    expect(await refused(asApp(["create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--serviceaccount=shop:app", "-n", "shop"]))).toContain("is attempting to grant RBAC permissions not currently held");
    expect(await refused(["get", "rolebinding", "grab", "-n", "shop"])).toContain("NotFound");

    const addSecrets = JSON.stringify([{ op: "add", path: "/rules/-", value: { apiGroups: [""], resources: ["secrets"], verbs: ["get"] } }]);
    expect(await refused(asApp(["patch", "role", "pod-lister", "-n", "shop", "--type=json", "-p", addSecrets]))).toContain("is attempting to grant RBAC permissions not currently held");
    expect(JSON.parse(await ok(["get", "role", "pod-lister", "-n", "shop", "-o", "json"])).rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["list"] }]);
    const applied = `apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pod-lister, namespace: shop}\nrules:\n- {apiGroups: [""], resources: [secrets], verbs: [get]}\n`;
    expect(await refused(asApp(["apply", "-f", "-"]), applied)).toContain("is attempting to grant RBAC permissions not currently held");
    // Within its rules, a patch is stored.
    const narrower = JSON.stringify([{ op: "replace", path: "/rules/0/verbs", value: ["get"] }]);
    await ok(asApp(["patch", "role", "pod-lister", "-n", "shop", "--type=json", "-p", narrower]));
    expect(JSON.parse(await ok(["get", "role", "pod-lister", "-n", "shop", "-o", "json"])).rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]);

    // The escalate verb lifts the check for roles, the bind verb for bindings.
    await ok(["create", "role", "escalator", "--verb=escalate,bind", "--resource=roles.rbac.authorization.k8s.io,clusterroles.rbac.authorization.k8s.io", "-n", "shop"]);
    await ok(["create", "rolebinding", "app-escalates", "--role=escalator", "--serviceaccount=shop:app", "-n", "shop"]);
    await waitFor(async () => (await h.kubectl(asApp(["create", "role", "secret-reader", "--verb=get", "--resource=secrets", "-n", "shop"]))).code === 0, "escalate to allow the role", 10_000, 50);
    await ok(asApp(["create", "rolebinding", "grab", "--clusterrole=cluster-admin", "--serviceaccount=shop:app", "-n", "shop"]));
  });

  it("a token stops working when its account is deleted or re-created, or when the pod it is bound to is gone; other tokens are refused", async () => {
    await ok(["create", "serviceaccount", "tmp", "-n", "shop"]);
    const used = (await ok(["create", "token", "tmp", "-n", "shop"])).trim();
    const unused = (await ok(["create", "token", "tmp", "-n", "shop"])).trim();
    expect(await ok(["--token", used, "auth", "whoami"])).toContain("system:serviceaccount:shop:tmp");
    await ok(["delete", "serviceaccount", "tmp", "-n", "shop"]);
    await ok(["create", "serviceaccount", "tmp", "-n", "shop"]);
    // Same name, another uid: the token named the old account.
    expect(await refused(["--token", unused, "auth", "whoami"])).toContain(UNAUTHORIZED);

    await ok(["run", "p1", "--image=berth/busybox:latest", "-n", "shop", "--overrides", JSON.stringify({ spec: { serviceAccountName: "app" } })]);
    const bound = (await ok(["create", "token", "app", "-n", "shop", "--bound-object-kind", "Pod", "--bound-object-name", "p1"])).trim();
    const boundUnused = (await ok(["create", "token", "app", "-n", "shop", "--bound-object-kind", "Pod", "--bound-object-name", "p1"])).trim();
    expect(await ok(["--token", bound, "auth", "whoami"])).toMatch(/Extra: authentication.kubernetes.io\/pod-name\s+\[p1\]/);
    await ok(["delete", "pod", "p1", "-n", "shop", "--grace-period=0", "--force"]);
    expect(await refused(["--token", boundUnused, "auth", "whoami"])).toContain(UNAUTHORIZED);

    const other = await ephemeralServiceAccountTokens();
    const sa = JSON.parse(await ok(["get", "sa", "app", "-n", "shop", "-o", "json"]));
    const forged = (await other.issue({ namespace: "shop", serviceAccount: { name: "app", uid: sa.metadata.uid }, expirationSeconds: 3600 })).token;
    expect(await refused(["--token", forged, "auth", "whoami"])).toContain(UNAUTHORIZED);
    expect(await refused(["--token", "not-a-token", "get", "pods"])).toContain(UNAUTHORIZED);
  });

  it("TokenReview and SubjectAccessReview: a program bound to system:auth-delegator learns who a token is and what they may do; others are refused", async () => {
    await ok(["create", "serviceaccount", "proxy", "-n", "shop"]);
    const proxy = (await ok(["create", "token", "proxy", "-n", "shop"])).trim();
    const tokenReview = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } });
    const raw = (who: string, path: string, body: string) => h.kubectl(["--token", who, "create", "--raw", path, "-f", "-"], { stdin: body });
    const refused = await raw(proxy, "/apis/authentication.k8s.io/v1/tokenreviews", tokenReview);
    expect(refused.stderr).toContain(`tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:shop:proxy" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope`);
    await ok(["create", "clusterrolebinding", "proxy-delegates", "--clusterrole=system:auth-delegator", "--serviceaccount=shop:proxy"]);
    await waitFor(async () => (await raw(proxy, "/apis/authentication.k8s.io/v1/tokenreviews", tokenReview)).code === 0, "the auth-delegator binding to take effect", 10_000, 50);
    const review = JSON.parse((await raw(proxy, "/apis/authentication.k8s.io/v1/tokenreviews", tokenReview)).stdout);
    expect(review.status).toMatchObject({ authenticated: true, user: { username: SA, groups: ["system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"] }, audiences: ["https://kubernetes.default.svc.cluster.local"] });
    expect(review.spec.token).toBeUndefined();
    // Another audience than the token's: not authenticated for it.
    const vault = JSON.parse((await raw(proxy, "/apis/authentication.k8s.io/v1/tokenreviews", JSON.stringify({ spec: { token, audiences: ["vault"] } }))).stdout);
    expect(vault.status).toEqual({ user: {}, error: "invalid bearer token" });
    const vaultToken = (await ok(["create", "token", "app", "-n", "shop", "--audience", "vault"])).trim();
    expect(JSON.parse((await raw(proxy, "/apis/authentication.k8s.io/v1/tokenreviews", JSON.stringify({ spec: { token: vaultToken, audiences: ["vault"] } }))).stdout).status).toMatchObject({ authenticated: true, audiences: ["vault"] });

    const sar = (verb: string, user = SA, kind = "SubjectAccessReview") => JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind, spec: { user, groups: ["system:serviceaccounts", "system:authenticated"], resourceAttributes: { namespace: "shop", verb, resource: "pods" } } });
    expect(JSON.parse((await raw(proxy, "/apis/authorization.k8s.io/v1/subjectaccessreviews", sar("list"))).stdout).status).toMatchObject({ allowed: true, reason: expect.stringMatching(/^RBAC: allowed by RoleBinding "[a-z-]+\/shop" of \w+ "[a-z-]+" to ServiceAccount "shop\/app"$/) });
    // The reviewer's own rights do not count: the subject's do.
    expect(JSON.parse((await raw(proxy, "/apis/authorization.k8s.io/v1/subjectaccessreviews", sar("delete", "system:serviceaccount:shop:proxy"))).stdout).status).toEqual({ allowed: false });
    // A local review is a namespace's own: allowed to whoever may create it there (admin's role, not auth-delegator).
    const local = sar("list", SA, "LocalSubjectAccessReview");
    expect((await raw(proxy, "/apis/authorization.k8s.io/v1/namespaces/shop/localsubjectaccessreviews", local)).stderr).toContain('cannot create resource "localsubjectaccessreviews" in API group "authorization.k8s.io" in the namespace "shop"');
    expect(JSON.parse(await ok(["create", "--raw", "/apis/authorization.k8s.io/v1/namespaces/shop/localsubjectaccessreviews", "-f", "-"], local)).status.allowed).toBe(true);
  });
});
