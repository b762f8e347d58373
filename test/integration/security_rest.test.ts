/**
 * The REST API's authentication on a real store over HTTPS: every endpoint but the health
 * checks needs the bearer token; a missing, malformed or wrong one is a 401 Status.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "node:https";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(h: RestHarness, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> {
  const url = new URL(path, h.http.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca: h.caPem }, (res) => {
      let data = "";
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("REST authentication", () => {
  let h: RestHarness;
  beforeAll(async () => {
    h = await startRestHarness();
  });
  afterAll(async () => {
    await h?.stop();
  });

  const protectedPaths = [
    ["GET", "/api/v1/namespaces/default/pods"],
    ["GET", "/api/v1/pods?watch=true"],
    ["GET", "/api"],
    ["GET", "/api/v1"],
    ["GET", "/version"],
    ["GET", "/openapi/v2"],
    ["POST", "/api/v1/namespaces/default/pods"],
    ["DELETE", "/api/v1/namespaces/default"],
    ["GET", "/no/such/path"],
  ] as const;

  it("rest auth - without a token every non-health endpoint is 401 Unauthorized and nothing changes", async () => {
    const before = await h.test.api.list("namespaces");
    for (const [method, path] of protectedPaths) {
      const r = await call(h, method, path, method === "POST" ? { "Content-Type": "application/json" } : {}, method === "POST" ? "{}" : undefined);
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ kind: "Status", code: 401, reason: "Unauthorized" });
      expect(r.headers["www-authenticate"]).toMatch(/Bearer/);
    }
    const after = await h.test.api.list("namespaces");
    expect(after.items.map((n) => n.metadata.name)).toEqual(before.items.map((n) => n.metadata.name));
  });

  it("rest auth - a wrong, truncated, differently cased or non-Bearer token is 401", async () => {
    const wrong = [
      `Bearer ${h.token.slice(0, -1)}`,
      `Bearer ${h.token}x`,
      `Bearer ${h.token.toUpperCase() === h.token ? h.token.toLowerCase() : h.token.toUpperCase()}`,
      `Basic ${Buffer.from(`admin:${h.token}`).toString("base64")}`,
      `Bearer`,
      `Bearer ${"a".repeat(10_000)}`,
      h.token,
    ];
    for (const authorization of wrong) {
      const r = await call(h, "GET", "/api/v1/namespaces", { authorization });
      expect(r.status, authorization.slice(0, 40)).toBe(401);
    }
  });

  it("rest auth - the right token works and health endpoints need none", async () => {
    const ok = await call(h, "GET", "/api/v1/namespaces", { authorization: `Bearer ${h.token}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).kind).toBe("NamespaceList");
    for (const path of ["/healthz", "/livez", "/readyz"]) {
      const r = await call(h, "GET", path);
      expect(r.status, path).toBe(200);
    }
  });
});
