/**
 * The REST edge on a real store: paths are routed as sent (a dot segment is a 400, never a
 * step up to the namespace), query integers are checked, bodies are typed by the URL as
 * kube-apiserver types them, and the health endpoints reflect the store.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:https";
import { Api } from "../../runtime/api/api.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { startHttpApi, type HttpApi } from "../../runtime/http/server.ts";
import { generateCa, generateServerCert, generateToken } from "../../runtime/tls.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

interface Reply {
  status: number;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let nats: TestNats;
let api: Api;
let http: HttpApi;
let caPem: string;
let token: string;

/** Sends `path` exactly as given: no URL object on the client side, so no client normalisation. */
function raw(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}): Promise<Reply> {
  const u = new URL(http.url);
  const headers: Record<string, string> = {};
  const t = opts.token === undefined ? token : opts.token;
  if (t) headers.authorization = `Bearer ${t}`;
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  if (payload) headers["content-type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers, ca: caPem, agent: false }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data, json: () => JSON.parse(data) }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  nats = await startTestNats();
  const store = await KvStore.open(nats.nc);
  api = await Api.open(store);
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1"] });
  caPem = ca.certPem;
  token = generateToken();
  http = await startHttpApi({
    api,
    token,
    tls: { cert: cert.certPem, key: cert.keyPem },
    healthTimeoutMs: 1_000,
    // A readiness-only check, as a caller adds for informers or leadership: in /readyz, not /livez.
    healthChecks: [{ name: "informer-sync", readinessOnly: true, check: () => {} }],
    log: () => {},
  });
  await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "victim" } });
  await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "victim" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
  await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "victim" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
});

afterAll(async () => {
  await http?.close();
  api?.close();
  await nats?.stop();
});

describe("rest edge - paths", () => {
  it("rest edge - DELETE pods/%2e%2e (or ..) is a 400 and namespace victim, its pod and service survive", async () => {
    for (const p of [
      "/api/v1/namespaces/victim/pods/%2e%2e",
      "/api/v1/namespaces/victim/pods/%2E%2e",
      "/api/v1/namespaces/victim/pods/..",
      "/api/v1/namespaces/victim/pods/.",
      "/api/v1/namespaces/victim/pods/web/%2e%2e",
      "/api/v1/namespaces/victim/services/x/%2e%2e/%2e%2e",
    ]) {
      const r = await raw("DELETE", p);
      expect(r.status, p).toBe(400);
      expect(r.json(), p).toMatchObject({ kind: "Status", reason: "BadRequest", code: 400 });
      expect(r.json().message, p).toMatch(/invalid request path: path segment \d+ is/);
    }
    const ns = await api.get("namespaces", "victim");
    expect(ns.metadata.deletionTimestamp).toBeUndefined();
    expect((await api.get("pods", "web", "victim")).metadata.deletionTimestamp).toBeUndefined();
    expect((await api.get("services", "web", "victim")).metadata.name).toBe("web");
  });

  it("rest edge - an absolute-form target is routed on its path, which is not normalised either", async () => {
    const u = new URL(http.url);
    expect((await raw("GET", `https://${u.host}/api/v1/namespaces/victim/pods/web`)).status).toBe(200);
    expect((await raw("DELETE", `https://${u.host}/api/v1/namespaces/victim/pods/%2e%2e`)).status).toBe(400);
    expect((await api.get("namespaces", "victim")).metadata.deletionTimestamp).toBeUndefined();
  });

  it("rest edge - without a token a dot-segment path is still refused, and never reaches a handler", async () => {
    const r = await raw("DELETE", "/api/v1/namespaces/victim/pods/%2e%2e", { token: null });
    expect(r.status).toBe(400);
    expect((await api.get("namespaces", "victim")).metadata.deletionTimestamp).toBeUndefined();
  });
});

describe("rest edge - query integers", () => {
  it("rest edge - limit must be a non-negative safe integer in decimal digits (400 otherwise, as kube-apiserver)", async () => {
    for (const v of ["1e308", "1e3", "-1", "0x10", "1.5", "9007199254740993", "99999999999999999999", " 1", "NaN", "Infinity"]) {
      const r = await raw("GET", `/api/v1/namespaces/victim/pods?limit=${encodeURIComponent(v)}`);
      expect(r.status, v).toBe(400);
      expect(r.json().message, v).toMatch(/^limit must be a non-negative integer/);
    }
    const ok = await raw("GET", "/api/v1/namespaces/victim/pods?limit=1");
    expect(ok.status).toBe(200);
    expect(ok.json().items).toHaveLength(1);
  });
});

describe("rest edge - object kind from the URL, as kube-apiserver", () => {
  it("rest edge - a pod body without kind/apiVersion is typed by the URL; a different kind or version is a 400", async () => {
    const spec = { containers: [{ name: "c", image: "busybox" }] };
    const created = await raw("POST", "/api/v1/namespaces/victim/pods", { body: { metadata: { name: "nokind" }, spec } });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ apiVersion: "v1", kind: "Pod" });
    const stored = await api.get("pods", "nokind", "victim");
    expect(stored).toMatchObject({ apiVersion: "v1", kind: "Pod" });

    const wrongKind = await raw("POST", "/api/v1/namespaces/victim/pods", { body: { apiVersion: "v1", kind: "Service", metadata: { name: "k1" }, spec } });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.json().message).toBe('Service in version "v1" cannot be handled as a Pod: the kind in the body does not match the URL');
    const wrongVersion = await raw("POST", "/api/v1/namespaces/victim/pods", { body: { apiVersion: "apps/v1", kind: "Pod", metadata: { name: "k2" }, spec } });
    expect(wrongVersion.status).toBe(400);
    expect(wrongVersion.json().message).toBe("the API version in the data (apps/v1) does not match the expected API version (v1)");
    const notString = await raw("POST", "/api/v1/namespaces/victim/pods", { body: { kind: 7, metadata: { name: "k3" }, spec } });
    expect(notString.status).toBe(400);
    await expect(api.get("pods", "k1", "victim")).rejects.toMatchObject({ code: 404 });
    await expect(api.get("pods", "k2", "victim")).rejects.toMatchObject({ code: 404 });
  });
});

describe("rest edge - health reflects the store", () => {
  it("rest edge - healthy: plain `ok`, ?verbose lists each check", async () => {
    for (const ep of ["healthz", "livez", "readyz"]) {
      const plain = await raw("GET", `/${ep}`, { token: null });
      expect(plain.status, ep).toBe(200);
      expect(plain.body).toBe("ok");
      const verbose = await raw("GET", `/${ep}?verbose`, { token: null });
      expect(verbose.status, ep).toBe(200);
      const extra = ep === "livez" ? "" : "[+]informer-sync ok\n";
      expect(verbose.body).toBe(`[+]ping ok\n[+]store ok\n${extra}${ep} check passed\n`);
    }
    expect((await raw("GET", "/readyz/store", { token: null })).body).toBe("ok");
    expect((await raw("GET", "/readyz/nosuch", { token: null })).status).toBe(404);
  });

  it("rest edge - with nats-server gone every health endpoint answers 500 naming the store check", async () => {
    await nats.server.stop();
    const r = await waitFor(async () => {
      const x = await raw("GET", "/readyz?verbose", { token: null });
      return x.status === 500 ? x : undefined;
    }, "readyz to fail", 15_000);
    expect(r.body).toBe("[+]ping ok\n[-]store failed: reason withheld\n[+]informer-sync ok\nreadyz check failed\n");
    const plain = await raw("GET", "/healthz", { token: null });
    expect(plain.status).toBe(500);
    expect(plain.body).toContain("[-]store failed: reason withheld");
    expect((await raw("GET", "/livez", { token: null })).status).toBe(500);
    const single = await raw("GET", "/readyz/store", { token: null });
    expect(single.status).toBe(500);
    expect(single.body).toMatch(/^internal server error: /);
  });
});
