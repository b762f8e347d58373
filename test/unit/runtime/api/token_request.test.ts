/**
 * The TokenRequest subresource (runtime/api/token_request.ts) on a real in-process Api: defaults
 * and limits in kube-apiserver's words, the bound object read from the store and checked, the
 * answer's shape, and the protobuf body `kubectl create token` sends. Also its route and its
 * discovery entry.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytes, envelope, num } from "../../../helpers/protobuf_writer.ts";
import { serveTokenRequest, NO_SIGNING_KEY } from "../../../../runtime/api/token_request.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../../../runtime/auth/sa_tokens.ts";
import { decodeProtobufBody, UnsupportedProtobufKind } from "../../../../runtime/http/protobuf.ts";
import { parseRoute } from "../../../../runtime/http/routes.ts";
import { apiResourceList } from "../../../../runtime/http/discovery.ts";
import { ApiError, InvalidError } from "../../../../model/errors.ts";
import { startTestApi, type TestApi } from "../../../helpers/api.ts";

const NS = "tokens";
const NOW = new Date("2026-12-04T12:00:00.250Z");
const TR = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest" };

let t: TestApi;
let tokens: ServiceAccountTokens;
let saUid: string;
let podUid: string;
let nodeUid: string;
let secretUid: string;

beforeAll(async () => {
  t = await startTestApi();
  tokens = await ephemeralServiceAccountTokens();
  await t.api.create("namespaces", { metadata: { name: NS } });
  saUid = (await t.api.create("serviceaccounts", { metadata: { name: "robot" } }, NS)).metadata.uid!;
  await t.api.create("serviceaccounts", { metadata: { name: "other" } }, NS);
  nodeUid = (await t.api.create("nodes", { metadata: { name: "node-a" } })).metadata.uid!;
  const container = [{ name: "c", image: "berth/busybox:latest" }];
  podUid = (await t.api.create("pods", { metadata: { name: "web" }, spec: { containers: container, serviceAccountName: "robot", nodeName: "node-a" } }, NS)).metadata.uid!;
  await t.api.create("pods", { metadata: { name: "unscheduled" }, spec: { containers: container, serviceAccountName: "robot" } }, NS);
  await t.api.create("pods", { metadata: { name: "lost-node" }, spec: { containers: container, serviceAccountName: "robot", nodeName: "node-gone" } }, NS);
  await t.api.create("pods", { metadata: { name: "runs-as-other" }, spec: { containers: container, serviceAccountName: "other" } }, NS);
  await t.api.create("pods", { metadata: { name: "runs-as-default" }, spec: { containers: container } }, NS);
  secretUid = (await t.api.create("secrets", { metadata: { name: "s" }, stringData: { k: "v" } }, NS)).metadata.uid!;
});
afterAll(async () => {
  await t?.stop();
});

const request = (body: unknown, o: { name?: string; namespace?: string; tokens?: ServiceAccountTokens | null } = {}) =>
  serveTokenRequest({ api: t.api, tokens: o.tokens === null ? undefined : o.tokens ?? tokens, namespace: o.namespace ?? NS, name: o.name ?? "robot", body, now: NOW });

/** The error a request is refused with; fails when it is not an ApiError (a 500 would be). */
async function refused(p: Promise<unknown>): Promise<ApiError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
}

const spec = (s: Record<string, unknown>) => ({ ...TR, spec: s });

describe("token request - the answer", () => {
  it("token request - defaults: one hour, the issuer as audience; 201 with metadata, spec and a token for the service account", async () => {
    const out = await request({ ...TR, metadata: { name: "robot" } });
    expect(out.status).toBe(201);
    expect(out.body).toEqual({
      kind: "TokenRequest",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { name: "robot", namespace: NS, creationTimestamp: "2026-12-04T12:00:00Z" },
      spec: { audiences: [tokens.issuer], expirationSeconds: 3600 },
      status: { token: expect.any(String), expirationTimestamp: "2026-12-04T13:00:00Z" },
    });
    const claims = await tokens.verify((out.body.status as { token: string }).token, { now: NOW });
    expect(claims).toMatchObject({ namespace: NS, serviceAccount: { name: "robot", uid: saUid }, audiences: [tokens.issuer], expiresAt: new Date("2026-12-04T13:00:00Z") });
    expect(claims?.bound).toBeUndefined();
    // kind and apiVersion may be left out; an empty body is a default request.
    expect((await request({})).status).toBe(201);
  });

  it("token request - the audiences and lifetime asked for are the token's", async () => {
    const out = await request(spec({ audiences: ["vault", "api"], expirationSeconds: 600 }));
    expect(out.body.spec).toEqual({ audiences: ["vault", "api"], expirationSeconds: 600 });
    expect((out.body.status as { expirationTimestamp: string }).expirationTimestamp).toBe("2026-12-04T12:10:00Z");
    const token = (out.body.status as { token: string }).token;
    expect(await tokens.verify(token, { now: NOW })).toBeUndefined();
    expect(await tokens.verify(token, { now: NOW, audiences: ["api"] })).toMatchObject({ audiences: ["vault", "api"] });
    // An empty list is defaulted, as kube does.
    expect((await request(spec({ audiences: [] }))).body.spec).toMatchObject({ audiences: [tokens.issuer] });
  });

  it("token request - without a signing key: 404 saying so (kube serves no token route then; not a server error)", async () => {
    const e = await refused(request({ ...TR }, { tokens: null }));
    expect(e.code).toBe(404);
    expect(e.reason).toBe("NotFound");
    expect(e.message).toBe(NO_SIGNING_KEY);
    expect(e.message).toMatch(/started without a service-account signing key/);
  });

  it("token request - a service account that does not exist: the store's 404", async () => {
    const e = await refused(request({ ...TR }, { name: "ghost" }));
    expect(e.code).toBe(404);
    expect(e.message).toBe('serviceaccounts "ghost" not found');
    expect((await refused(request({ ...TR }, { namespace: "nowhere" }))).code).toBe(404);
  });
});

describe("token request - validation", () => {
  it("token request - expirationSeconds below ten minutes or above 2^32 is Invalid in kube's words; the bounds themselves are fine", async () => {
    for (const [secs, detail] of [[599, "may not specify a duration less than 10 minutes"], [0, "may not specify a duration less than 10 minutes"], [-5, "may not specify a duration less than 10 minutes"], [2 ** 32 + 1, "may not specify a duration larger than 2^32 seconds"]] as const) {
      const e = await refused(request(spec({ expirationSeconds: secs })));
      expect(e, String(secs)).toBeInstanceOf(InvalidError);
      expect(e.code).toBe(422);
      expect((e as InvalidError).causes).toEqual([{ reason: "FieldValueInvalid", field: "spec.expirationSeconds", message: `Invalid value: ${secs}: ${detail}` }]);
      expect(e.message).toBe(`TokenRequest "robot" is invalid: spec.expirationSeconds: Invalid value: ${secs}: ${detail}`);
    }
    expect((await request(spec({ expirationSeconds: 600 }))).status).toBe(201);
    expect((await request(spec({ expirationSeconds: 2 ** 32 }))).body.spec).toMatchObject({ expirationSeconds: 2 ** 32 });
    // null is "not set": the default.
    expect((await request(spec({ expirationSeconds: null }))).body.spec).toMatchObject({ expirationSeconds: 3600 });
  });

  it("token request - the body's kind and apiVersion must be TokenRequest in authentication.k8s.io/v1", async () => {
    const wrongKind = await refused(request({ apiVersion: TR.apiVersion, kind: "Pod" }));
    expect(wrongKind.code).toBe(400);
    expect(wrongKind.message).toBe('Pod in version "v1" cannot be handled as a TokenRequest: the kind in the body does not match the URL');
    const wrongVersion = await refused(request({ apiVersion: "authentication.k8s.io/v1beta1", kind: "TokenRequest" }));
    expect(wrongVersion.code).toBe(400);
    expect(wrongVersion.message).toBe("the API version in the data (authentication.k8s.io/v1beta1) does not match the expected API version (authentication.k8s.io/v1)");
  });

  it("token request - fields of the wrong JSON type are a 400 naming the field, never a 500", async () => {
    const cases: [unknown, string][] = [
      [spec({ expirationSeconds: "3600" }), "spec.expirationSeconds must be an integer"],
      [spec({ expirationSeconds: 700.5 }), "spec.expirationSeconds must be an integer"],
      [spec({ audiences: "vault" }), "spec.audiences must be a list of strings"],
      [spec({ audiences: ["ok", 7] }), "spec.audiences[1] must be a string"],
      [spec({ boundObjectRef: "web" }), "spec.boundObjectRef must be an object"],
      [spec({ boundObjectRef: { kind: "Pod", name: 3 } }), "spec.boundObjectRef.name must be a string"],
      [{ ...TR, spec: [] }, "spec must be an object"],
      [{ ...TR, metadata: { name: 1 } }, "metadata.name must be a string"],
    ];
    for (const [body, message] of cases) {
      const e = await refused(request(body));
      expect(e.code, message).toBe(400);
      expect(e.message).toContain(`TokenRequest in version "v1" cannot be handled as a TokenRequest: ${message}`);
    }
    for (const body of [null, "token", 42, []]) {
      const e = await refused(request(body));
      expect(e.code).toBe(400);
      expect(e.message).toBe("the body of serviceaccounts/token must be a TokenRequest object");
    }
  });

  it("token request - metadata.name and namespace, when given, must be the URL's", async () => {
    const name = await refused(request({ ...TR, metadata: { name: "other" } }));
    expect(name.code).toBe(422);
    expect((name as InvalidError).causes).toEqual([{ reason: "FieldValueInvalid", field: "metadata.name", message: 'Invalid value: "other": must match the service account name if specified' }]);
    const ns = await refused(request({ ...TR, metadata: { namespace: "default" } }));
    expect((ns as InvalidError).causes).toEqual([{ reason: "FieldValueInvalid", field: "metadata.namespace", message: 'Invalid value: "default": must match the service account namespace if specified' }]);
    expect((await request({ ...TR, metadata: { name: "robot", namespace: NS } })).status).toBe(201);
  });
});

describe("token request - bound objects", () => {
  const bind = async (ref: Record<string, unknown>) => {
    const out = await request(spec({ boundObjectRef: ref }));
    return { out, claims: await tokens.verify((out.body.status as { token: string }).token, { now: NOW }) };
  };

  it("token request - a pod running as the service account: the token names the pod (its uid from the store) and the node it runs on", async () => {
    const { out, claims } = await bind({ kind: "Pod", apiVersion: "v1", name: "web" });
    expect(claims?.bound).toEqual({ kind: "Pod", name: "web", uid: podUid });
    expect(claims?.node).toEqual({ name: "node-a", uid: nodeUid });
    // The reference is answered as it was sent.
    expect(out.body.spec).toMatchObject({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } });
    // With the right uid too; an unscheduled pod has no node; a node object that is gone leaves its name.
    expect((await bind({ kind: "Pod", apiVersion: "v1", name: "web", uid: podUid })).claims?.bound?.uid).toBe(podUid);
    expect((await bind({ kind: "Pod", apiVersion: "v1", name: "unscheduled" })).claims?.node).toBeUndefined();
    expect((await bind({ kind: "Pod", apiVersion: "v1", name: "lost-node" })).claims?.node).toEqual({ name: "node-gone" });
  });

  it("token request - a pod running as another service account (or, naming none, as default) is a 400", async () => {
    for (const pod of ["runs-as-other", "runs-as-default"]) {
      const e = await refused(request(spec({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: pod } })));
      expect(e.code).toBe(400);
      expect(e.message).toBe('cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.');
    }
    // For the default service account, the pod that names none may be bound.
    await t.api.create("serviceaccounts", { metadata: { name: "default" } }, NS);
    expect((await request(spec({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "runs-as-default" } }), { name: "default" })).status).toBe(201);
  });

  it("token request - a secret in the namespace and a node (cluster-scoped) bind too", async () => {
    expect((await bind({ kind: "Secret", apiVersion: "v1", name: "s" })).claims?.bound).toEqual({ kind: "Secret", name: "s", uid: secretUid });
    expect((await bind({ kind: "Node", apiVersion: "v1", name: "node-a" })).claims?.bound).toEqual({ kind: "Node", name: "node-a", uid: nodeUid });
  });

  it("token request - a bound object that does not exist is the store's 404", async () => {
    for (const [kind, resource] of [["Pod", "pods"], ["Secret", "secrets"], ["Node", "nodes"]]) {
      const e = await refused(request(spec({ boundObjectRef: { kind, apiVersion: "v1", name: "absent" } })));
      expect(e.code).toBe(404);
      expect(e.message).toBe(`${resource} "absent" not found`);
    }
  });

  it("token request - a uid that is not the object's is a 409 saying it may have been re-created", async () => {
    for (const kind of ["Pod", "Secret", "Node"]) {
      const name = kind === "Pod" ? "web" : kind === "Secret" ? "s" : "node-a";
      const e = await refused(request(spec({ boundObjectRef: { kind, apiVersion: "v1", name, uid: "stale-uid" } })));
      expect(e.code).toBe(409);
      expect(e.reason).toBe("Conflict");
      expect(e.message).toBe(`Operation cannot be fulfilled on ${kind} "${name}": the UID in the bound object reference (stale-uid) does not match the UID in record. The object might have been deleted and then recreated`);
    }
  });

  it("token request - other kinds, and core kinds in another group, cannot be bound (400 naming the type); a reference without a name is Invalid", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "ConfigMap", apiVersion: "v1", name: "c" }, "/v1, Kind=ConfigMap"],
      [{ kind: "Pod", apiVersion: "apps/v1", name: "web" }, "apps/v1, Kind=Pod"],
      [{ kind: "Deployment", apiVersion: "apps/v1", name: "d" }, "apps/v1, Kind=Deployment"],
      [{ name: "web" }, "/, Kind="],
    ];
    for (const [ref, type] of cases) {
      const e = await refused(request(spec({ boundObjectRef: ref })));
      expect(e.code).toBe(400);
      expect(e.message).toBe(`cannot bind token to object of type ${type}`);
    }
    const e = await refused(request(spec({ boundObjectRef: { kind: "Pod", apiVersion: "v1" } })));
    expect(e.code).toBe(422);
    expect((e as InvalidError).causes).toEqual([{ reason: "FieldValueRequired", field: "spec.boundObjectRef.name", message: "Required value" }]);
  });
});

/** An ObjectMeta as Go writes an empty one: every non-pointer string, empty. */
const EMPTY_META = [...bytes(1, ""), ...bytes(2, ""), ...bytes(3, ""), ...bytes(4, ""), ...bytes(5, ""), ...bytes(6, ""), ...num(7, 0)];
/** TokenRequestStatus as Go writes an empty one: token "", expirationTimestamp {}. */
const EMPTY_STATUS = bytes(3, [...bytes(1, ""), ...bytes(2, [])]);

describe("token request - the protobuf body of kubectl create token", () => {
  it("token request - kubectl create token robot --audience a --audience b --duration 10m --bound-object-kind Pod --bound-object-name web", async () => {
    const ref = [...bytes(1, "Pod"), ...bytes(2, "v1"), ...bytes(3, "web"), ...bytes(4, "")];
    const raw = [...bytes(1, EMPTY_META), ...bytes(2, [...bytes(1, "a"), ...bytes(1, "b"), ...bytes(3, ref), ...num(4, 600)]), ...EMPTY_STATUS];
    const body = decodeProtobufBody(envelope("authentication.k8s.io/v1", "TokenRequest", raw));
    expect(body).toEqual({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      metadata: {},
      spec: { audiences: ["a", "b"], expirationSeconds: 600, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "web" } },
    });
    const out = await request(body);
    expect(out.status).toBe(201);
    expect(await tokens.verify((out.body.status as { token: string }).token, { now: NOW, audiences: ["b"] })).toMatchObject({ bound: { kind: "Pod", name: "web", uid: podUid } });
  });

  it("token request - kubectl create token robot: no duration is no expirationSeconds (defaulted), an explicit 0 is kept (and refused)", async () => {
    const plain = decodeProtobufBody(envelope("authentication.k8s.io/v1", "TokenRequest", [...bytes(1, EMPTY_META), ...bytes(2, []), ...EMPTY_STATUS]));
    expect(plain).toEqual({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: {}, spec: {} });
    expect((await request(plain)).body.spec).toEqual({ audiences: [tokens.issuer], expirationSeconds: 3600 });
    const zero = decodeProtobufBody(envelope("authentication.k8s.io/v1", "TokenRequest", [...bytes(1, EMPTY_META), ...bytes(2, num(4, 0))]));
    expect(zero).toMatchObject({ spec: { expirationSeconds: 0 } });
    expect((await refused(request(zero))).code).toBe(422);
    // Another version is kept, so that the handler refuses it by name.
    const beta = decodeProtobufBody(envelope("authentication.k8s.io/v1beta1", "TokenRequest", [...bytes(1, EMPTY_META)]));
    expect(beta.apiVersion).toBe("authentication.k8s.io/v1beta1");
    expect((await refused(request(beta))).code).toBe(400);
  });

  it("token request - the 415 for an unknown protobuf kind lists TokenRequest among those read", () => {
    const e = (() => {
      try {
        decodeProtobufBody(envelope("v1", "Widget", []));
      } catch (x) {
        return x;
      }
    })();
    expect(e).toBeInstanceOf(UnsupportedProtobufKind);
    expect((e as Error).message).toMatch(/TokenRequest, not Widget/);
  });
});

describe("token request - route and discovery", () => {
  it("token request - POST .../serviceaccounts/{name}/token is the token subresource; other resources have none", () => {
    expect(parseRoute(`/api/v1/namespaces/${NS}/serviceaccounts/robot/token`)).toEqual({ type: "resource", resource: "serviceaccounts", namespace: NS, name: "robot", subresource: "token", watchPrefix: false });
    expect(parseRoute(`/api/v1/namespaces/${NS}/pods/web/token`)).toEqual({ type: "notFound" });
    expect(parseRoute("/api/v1/serviceaccounts/robot/token")).toEqual({ type: "notFound" });
  });

  it("token request - /api/v1 lists serviceaccounts/token as kube-apiserver does", () => {
    const list = apiResourceList() as { resources: Record<string, unknown>[] };
    expect(list.resources.find((r) => r.name === "serviceaccounts/token")).toEqual({
      name: "serviceaccounts/token", singularName: "", namespaced: true, group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"],
    });
  });
});
