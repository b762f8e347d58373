/**
 * Fuzzing the REST server over raw TLS sockets (so the HTTP parser sees exactly what was
 * generated): random methods, Kubernetes-shaped and random paths, query strings, headers
 * (content types, authorization, garbage) and bodies (random bytes, random JSON, mutated
 * manifests, oversize). Without the token nothing may change at all; with it, no request may
 * get a 5xx, the guarded objects stay intact, and the server keeps answering.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { connect as tlsConnect } from "node:tls";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import { changed, snapshot, type Snapshot } from "../helpers/fuzz_snapshot.ts";
import { deepJson, deepYaml } from "../helpers/deep_inputs.ts";

interface RawRequest {
  method: string;
  path: string;
  headers: [string, string][];
  body: Uint8Array;
}

const podSpec = { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] };
const manifest = { apiVersion: "v1", kind: "Pod", metadata: { name: "fz-pod" }, spec: podSpec };

const segment = fc.oneof(
  fc.constantFrom("api", "v1", "namespaces", "fuzz", "default", "pods", "services", "replicationcontrollers", "nodes", "events", "endpoints", "status", "scale", "log", "binding", "fz-pod", "x"),
  fc.constantFrom("..", ".", "%2e%2e", "%00", "%2F", "__proto__", "constructor", "", "a".repeat(300)),
  fc.stringMatching(/^[A-Za-z0-9._~%-]{1,12}$/),
);
const resources = fc.constantFrom("pods", "services", "replicationcontrollers", "endpoints", "events", "nodes", "namespaces", "bogus");
const namespaces = fc.constantFrom("fuzz", "default", "no-such", "UPPER", "%2e%2e");
const names = fc.constantFrom("fz-pod", "fz-svc", "x", "a.b", "..", "%00", "Bad_Name");
const k8sPath = fc.oneof(
  fc.tuple(namespaces, resources, fc.option(names), fc.option(fc.constantFrom("status", "scale", "log", "binding", "exec", "bogus"))).map(
    ([ns, r, n, sub]) => `/api/v1/namespaces/${ns}/${r}${n ? `/${n}${sub ? `/${sub}` : ""}` : ""}`,
  ),
  fc.tuple(resources, fc.option(names)).map(([r, n]) => `/api/v1/${r}${n ? `/${n}` : ""}`),
  fc.constantFrom("/", "/api", "/api/v1", "/apis", "/version", "/healthz", "/openapi/v2", "/openapi/v3", "/openapi/v3/api/v1", "/api/v1/watch/pods"),
  fc.array(segment, { maxLength: 8 }).map((s) => "/" + s.join("/")),
);
const query = fc.array(
  fc.tuple(
    fc.constantFrom("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "pretty", "propagationPolicy", "gracePeriodSeconds", "fieldValidation", "timeoutSeconds", "x", "watch"),
    fc.oneof(fc.constantFrom("a=b", "a in (", "spec.nodeName=n", "-1", "0", "1e309", "true", "Strict", "Orphan", "%ZZ"), fc.string({ maxLength: 20 })),
  ),
  { maxLength: 4 },
).map((kv) => {
  // Watches stream until their timeout; keep them rare and short so the run stays bounded.
  const pairs = kv.filter(([k], i) => k !== "watch" || i === 0);
  if (pairs.some(([k]) => k === "watch")) pairs.push(["timeoutSeconds", "1"]);
  return pairs.length ? "?" + pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&") : "";
});
const contentType = fc.constantFrom(
  "application/json",
  "application/yaml",
  "application/merge-patch+json",
  "application/json-patch+json",
  "application/strategic-merge-patch+json",
  "application/apply-patch+yaml",
  "text/plain",
  "application/json; charset=utf-16",
  "",
  "multipart/form-data; boundary=x",
);
const accept = fc.constantFrom("application/json", "application/json;as=Table;v=v1;g=meta.k8s.io", "application/vnd.kubernetes.protobuf", "*/*", "text/html", "");
const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,40}$/), fc.constant("x".repeat(9000)));

function mutate(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || !value || typeof value !== "object") return path.length === 0 ? replacement : value;
  const keys = Object.keys(value as object);
  const key = keys[path[0] % Math.max(1, keys.length)] ?? "extra";
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string, unknown>;
  copy[key] = mutate(copy[key], path.slice(1), replacement);
  return copy;
}

const body = fc.oneof(
  fc.constant(new Uint8Array()),
  fc.uint8Array({ maxLength: 512 }),
  fc.json().map((s) => new TextEncoder().encode(s)),
  fc.tuple(fc.array(fc.nat(8), { maxLength: 4 }), fc.anything()).map(([p, r]) => new TextEncoder().encode(JSON.stringify(mutate(manifest, p, r)) ?? "null")),
  fc.constant(new TextEncoder().encode("apiVersion: v1\nkind: Pod\nmetadata: {name: fz-yaml}\nspec: {containers: [{name: c, image: berth/busybox}]}\n")),
  fc.constant(new TextEncoder().encode('{"a":' + "[".repeat(5000) + "]".repeat(5000) + "}")),
);

const requestFor = (auth: fc.Arbitrary<string | undefined>) =>
  fc.record({
    method: fc.oneof(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"), fc.constantFrom("TRACE", "CONNECT", "BREW", "get")),
    path: fc.tuple(k8sPath, query).map(([p, q]) => p + q),
    headers: fc.tuple(auth, contentType, accept, fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,16}$/), headerValue), { maxLength: 3 })).map(([a, ct, ac, extra]) => {
      const h: [string, string][] = [];
      if (a !== undefined) h.push(["Authorization", a]);
      if (ct) h.push(["Content-Type", ct]);
      if (ac) h.push(["Accept", ac]);
      // Framing headers are the client's to set; letting the fuzzer set them would only test our own request writer.
      return h.concat(extra.filter(([k]) => !/^(content-length|transfer-encoding|host|connection|authorization)$/i.test(k)));
    }),
    body,
  }) as fc.Arbitrary<RawRequest>;

/**
 * Sends one raw request; resolves with the status code (0: no status line in time, -1: not
 * HTTP, -2: connection closed without a byte) and the start of the response.
 */
function send(h: RestHarness, r: RawRequest, deadlineMs = 3_000): Promise<{ code: number; text: string }> {
  const url = new URL(h.http.url);
  return new Promise((resolve) => {
    const sock = tlsConnect({ host: url.hostname, port: Number(url.port), ca: h.caPem, servername: "localhost" });
    let text = "";
    let code: number | undefined;
    let done = false;
    const finish = (c: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ code: c, text: text.slice(0, 2048) });
    };
    const timer = setTimeout(() => finish(code ?? 0), deadlineMs);
    sock.on("secureConnect", () => {
      const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: localhost`, `Connection: close`, `Content-Length: ${r.body.length}`, ...r.headers.map(([k, v]) => `${k}: ${v}`)];
      sock.write(lines.join("\r\n") + "\r\n\r\n");
      sock.write(r.body);
    });
    sock.on("data", (d) => {
      text += d.toString("latin1");
      if (code === undefined) {
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
        if (m) code = Number(m[1]);
        else if (text.length > 64) finish(-1);
      }
      // Enough of the response to read a Status message; streams (watches) end here too.
      if (code !== undefined && text.length > 2048) finish(code);
    });
    sock.on("error", () => finish(code ?? (text ? -1 : -2)));
    sock.on("close", () => finish(code ?? (text ? -1 : -2)));
  });
}

async function runAll(h: RestHarness, reqs: RawRequest[], concurrency = 8): Promise<{ req: RawRequest; code: number; text: string }[]> {
  const out: { req: RawRequest; code: number; text: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < reqs.length) {
        const req = reqs[next++];
        out.push({ req, ...(await send(h, req)) });
      }
    }),
  );
  return out;
}

function tally(results: { code: number }[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const r of results) t[r.code] = (t[r.code] ?? 0) + 1;
  return t;
}

describe("fuzz: REST API", () => {
  let h: RestHarness;
  let before: Snapshot;

  beforeAll(async () => {
    h = await startRestHarness({ watchTimeoutSeconds: 1 });
    const api = h.test.api;
    for (const ns of ["guarded", "fuzz"]) await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "g-1", namespace: "guarded" }, spec: podSpec });
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "g-svc", namespace: "guarded" }, spec: { selector: { a: "b" }, ports: [{ port: 80 }] } });
    before = await snapshot(api);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it("fuzz http - without a valid token, 1500 random requests change nothing and get 401 (or 400 from the parser)", async () => {
    const wrongAuth = fc.oneof(fc.constant(undefined), fc.constant("Bearer nope"), fc.constant(""), headerValue, fc.constant(`Bearer ${"x".repeat(43)}`));
    const reqs = fc.sample(requestFor(wrongAuth), { numRuns: 1500, seed: 8_001 });
    const results = await runAll(h, reqs);
    const codes = tally(results);
    console.log("fuzz http (no token) outcomes", JSON.stringify(codes));
    const health = /^\/(healthz|livez|readyz)(\?|$)/;
    // node:http closes a CONNECT it has no handler for (no response, the connection just ends).
    const unexpected = results.filter((r) => !(r.req.method === "CONNECT" && r.code === -2) && !(r.code === 401 || r.code === 400 || r.code === 431 || (health.test(r.req.path) && r.code < 500)));
    expect(unexpected.map((r) => `${r.code} ${r.req.method} ${r.req.path.slice(0, 80)}`)).toEqual([]);
    const after = await snapshot(h.test.api);
    expect(changed(before, after)).toEqual([]);
    expect(after.size).toBe(before.size);
  });

  it("fuzz http - with the token, 2000 random and mutated requests get no 5xx, guarded objects stay intact, the server stays up", async () => {
    const reqs = fc.sample(requestFor(fc.constant(`Bearer ${h.token}`)), { numRuns: 2000, seed: 8_002 });
    const results = await runAll(h, reqs);
    const codes = tally(results);
    console.log("fuzz http (token) outcomes", JSON.stringify(codes));
    // Known finding, open (docs/security.md): a name no object can have ("%00", "UPPER") reaches
    // the store, which cannot form a key and answers 503 instead of 404. Fix belongs in the store.
    const known = (r: { code: number; text: string }) => r.code === 503 && /invalid (object name for a key|namespace for a NATS subject)/.test(r.text);
    const knownCount = results.filter(known).length;
    if (knownCount) console.log(`fuzz http: ${knownCount} known 503s for names no object can have`);
    const bad = results.filter((r) => !known(r) && (r.code >= 500 || (r.code === -2 && r.req.method !== "CONNECT")));
    expect(bad.map((r) => `${r.code} ${r.req.method} ${r.req.path.slice(0, 100)} ${new TextDecoder().decode(r.req.body).slice(0, 100)}`)).toEqual([]);
    const after = await snapshot(h.test.api);
    expect(changed(before, after, (k) => k.includes("/guarded/") || k === "namespaces//guarded")).toEqual([]);
    const ok = await send(h, { method: "GET", path: "/healthz", headers: [], body: new Uint8Array() });
    expect(ok.code).toBe(200);
  });

  it("fuzz http - deeply nested JSON and YAML bodies on every writing verb are a 400 naming the nesting, and the server stays up", async () => {
    const auth: [string, string] = ["Authorization", `Bearer ${h.token}`];
    const reqs: RawRequest[] = [];
    const targets: [string, string][] = [
      ["POST", "/api/v1/namespaces/fuzz/pods"],
      ["PUT", "/api/v1/namespaces/fuzz/pods/deep"],
      ["PUT", "/api/v1/namespaces/fuzz/replicationcontrollers/deep/scale"],
      ["POST", "/api/v1/namespaces/fuzz/pods/deep/binding"],
      ["DELETE", "/api/v1/namespaces/fuzz/pods/deep"],
    ];
    for (const [method, path] of targets) {
      for (const d of deepJson()) reqs.push({ method, path, headers: [auth, ["Content-Type", "application/json"]], body: new TextEncoder().encode(d.text) });
      for (const d of deepYaml()) reqs.push({ method, path, headers: [auth, ["Content-Type", "application/yaml"]], body: new TextEncoder().encode(d.text) });
    }
    for (const type of ["application/merge-patch+json", "application/strategic-merge-patch+json", "application/json-patch+json"]) {
      for (const d of deepJson()) reqs.push({ method: "PATCH", path: "/api/v1/namespaces/fuzz/pods/deep", headers: [auth, ["Content-Type", type]], body: new TextEncoder().encode(d.text) });
    }
    const results = await runAll(h, reqs, 4);
    const wrong = results.filter((r) => !(r.code === 400 && /nests deeper than 100 levels/.test(r.text)));
    expect(wrong.map((r) => `${r.code} ${r.req.method} ${r.req.path} ${new TextDecoder().decode(r.req.body).slice(0, 40)} → ${r.text.slice(-200)}`)).toEqual([]);
    expect(results.length).toBe(reqs.length);
    const ok = await send(h, { method: "GET", path: "/readyz", headers: [], body: new Uint8Array() });
    expect(ok.code).toBe(200);
    const after = await snapshot(h.test.api);
    expect(changed(before, after, (k) => k.includes("/guarded/") || k === "namespaces//guarded")).toEqual([]);
  });
});
