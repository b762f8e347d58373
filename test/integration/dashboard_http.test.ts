/**
 * The live page's HTTP face on a real API server (TLS, hollow nodes): one-time sign-in links,
 * the session cookie, CSRF and origin checks on actions, the feed's first message, and
 * `berth dashboard` against the cluster's home.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { ROOT } from "../helpers/cli.ts";
import { startHollowUiCluster, type HollowUiCluster } from "../helpers/ui_cluster.ts";

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

describe.sequential("live page over HTTP", () => {
  let c: HollowUiCluster;
  let ca = "";

  const call = (method: string, path: string, opts: { headers?: Record<string, string>; body?: string; firstChunk?: boolean } = {}): Promise<Res> =>
    new Promise((resolve, reject) => {
      const req = request(`${c.apiUrl}${path}`, { method, ca, headers: opts.headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
          // A stream (the feed): the first complete message is enough.
          if (opts.firstChunk && body.includes("\n\n")) {
            res.destroy();
            resolve({ status: res.statusCode!, headers: res.headers, body });
          }
        });
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end(opts.body);
    });

  const link = async () => {
    const r = await call("POST", "/ui/login-codes", { headers: { Authorization: `Bearer ${c.token}` } });
    expect(r.status).toBe(201);
    return JSON.parse(r.body).path as string;
  };

  const signIn = async () => {
    const r = await call("GET", await link());
    expect(r.status).toBe(303);
    const cookie = String(r.headers["set-cookie"]).split(";")[0];
    const page = await call("GET", "/ui/", { headers: { Cookie: cookie } });
    const csrf = /name="berth-csrf" content="([^"]+)"/.exec(page.body)![1];
    return { cookie, csrf };
  };

  /**
   * The CLI in a child process, waited for without blocking: the API server it talks to runs
   * in this very process (spawnSync would stall it).
   */
  const berthAsync = (home: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [join(ROOT, "bin/berth.js"), ...args], { cwd: ROOT, env: { ...process.env, BERTH_HOME: home } });
      let stdout = "", stderr = "";
      child.stdout.on("data", (d) => (stdout += String(d)));
      child.stderr.on("data", (d) => (stderr += String(d)));
      child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });

  beforeAll(async () => {
    c = await startHollowUiCluster({ nodes: 2 });
    ca = readFileSync(join(c.home, "pki", "ca.crt"), "utf8");
  }, 120_000);

  afterAll(async () => {
    await c?.stop();
  }, 60_000);

  it("a dot segment under /ui is refused, never resolved out of the page's paths", async () => {
    // Sent as is: a URL string would be normalised by the client before it left.
    const u = new URL(c.apiUrl);
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ hostname: u.hostname, port: u.port, path, method: "GET", ca }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.end();
      });
    for (const p of ["/ui/%2e%2e/api/v1/namespaces", "/ui/../api/v1/namespaces", "/ui/./login"]) expect(await raw(p), p).toBe(400);
  });

  it("login codes need the bearer token", async () => {
    expect((await call("POST", "/ui/login-codes")).status).toBe(401);
    expect((await call("POST", "/ui/login-codes", { headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("a link signs in once: a strict, HttpOnly, Secure cookie and a redirect to the page", async () => {
    const path = await link();
    const r = await call("GET", path);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe("/ui/");
    expect(String(r.headers["set-cookie"])).toMatch(/^berth_ui=[A-Za-z0-9_-]+; Path=\/ui; Max-Age=\d+; HttpOnly; SameSite=Strict; Secure$/);
    expect((await call("GET", path)).status).toBe(401);
  });

  it("the page carries a strict Content-Security-Policy, signed in or not", async () => {
    const { cookie } = await signIn();
    for (const headers of [{}, { Cookie: cookie }] as Record<string, string>[]) {
      const r = await call("GET", "/ui/", { headers });
      expect(r.headers["content-security-policy"]).toBe("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
      expect(r.body).not.toMatch(/<script>|<style>|style="/);
    }
  });

  it("the cluster token signs in from the form; another token is refused", async () => {
    const bad = await call("POST", "/ui/login", { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: "token=nope" });
    expect(bad.status).toBe(401);
    expect(bad.headers["set-cookie"]).toBeUndefined();
    const good = await call("POST", "/ui/login", { headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `token=${encodeURIComponent(c.token)}` });
    expect(good.status).toBe(303);
    const crossSite = await call("POST", "/ui/login", { headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: "https://evil.example" }, body: `token=${encodeURIComponent(c.token)}` });
    expect(crossSite.status).toBe(403);
  });

  it("actions need the session's CSRF token and this origin", async () => {
    const { cookie, csrf } = await signIn();
    await c.cluster.apply(`apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 1
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: berth/busybox}]}
`);
    const body = JSON.stringify({ action: "scale", namespace: "default", name: "web", replicas: 3 });
    const json = { "Content-Type": "application/json", Cookie: cookie };
    expect((await call("POST", "/ui/api/actions", { headers: json, body })).status).toBe(403);
    expect((await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": "guess" }, body })).status).toBe(403);
    expect((await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": csrf, Origin: "https://evil.example" }, body })).status).toBe(403);
    expect((await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": csrf, "Sec-Fetch-Site": "cross-site" }, body })).status).toBe(403);
    expect((await call("POST", "/ui/api/actions", { headers: { Cookie: cookie, "X-Berth-CSRF": csrf, "Content-Type": "text/plain" }, body })).status).toBe(415);
    expect((await c.cluster.api.get("replicationcontrollers", "web", "default")).spec.replicas).toBe(1);
    const ok = await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": csrf, Origin: c.apiUrl }, body });
    expect(ok.status, ok.body).toBe(200);
    expect((await c.cluster.api.get("replicationcontrollers", "web", "default")).spec.replicas).toBe(3);
    // A Deployment of the same name is scaled through its own resource; the RC is untouched.
    await c.cluster.api.create("deployments", {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" },
      spec: { replicas: 1, selector: { matchLabels: { app: "web-d" } }, template: { metadata: { labels: { app: "web-d" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } } },
    }, "default");
    const dep = await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": csrf }, body: JSON.stringify({ action: "scale", resource: "deployments", namespace: "default", name: "web", replicas: 2 }) });
    expect(dep.status, dep.body).toBe(200);
    expect(JSON.parse(dep.body).message).toBe("deployment/web scaled to 2");
    expect((await c.cluster.api.get("deployments", "web", "default")).spec.replicas).toBe(2);
    expect((await c.cluster.api.get("replicationcontrollers", "web", "default")).spec.replicas).toBe(3);
    const bad = await call("POST", "/ui/api/actions", { headers: { ...json, "X-Berth-CSRF": csrf }, body: JSON.stringify({ action: "deletePod", name: "no-such-pod" }) });
    expect(bad.status).toBe(404);
  });

  it("the feed starts with a snapshot of the drawn kinds, and only for a session", async () => {
    expect((await call("GET", "/ui/api/feed")).status).toBe(401);
    const { cookie } = await signIn();
    const r = await call("GET", "/ui/api/feed", { headers: { Cookie: cookie }, firstChunk: true });
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toMatch(/^text\/event-stream/);
    const msg = JSON.parse(r.body.slice(r.body.indexOf("data: ") + 6, r.body.indexOf("\n\n")));
    expect(msg.type).toBe("snapshot");
    expect(msg.items.nodes.map((n: { name: string }) => n.name).sort()).toEqual(["node-1", "node-2"]);
    expect(Object.keys(msg.items).sort()).toEqual(["cronjobs", "daemonsets", "deployments", "endpoints", "events", "jobs", "nodes", "poddisruptionbudgets", "pods", "replicasets", "replicationcontrollers", "services", "statefulsets"]);
  });

  it("signing out ends the session", async () => {
    const { cookie, csrf } = await signIn();
    expect((await call("POST", "/ui/logout", { headers: { Cookie: cookie } })).status).toBe(403);
    expect((await call("POST", "/ui/logout", { headers: { Cookie: cookie, "X-Berth-CSRF": csrf } })).status).toBe(204);
    expect((await call("GET", "/ui/api/feed", { headers: { Cookie: cookie } })).status).toBe(401);
  });

  it("berth dashboard prints a link from the cluster's home that signs in", async () => {
    const r = await berthAsync(c.home, ["dashboard"]);
    expect(r.code, r.stderr).toBe(0);
    const url = new URL(r.stdout.trim());
    expect(`${url.protocol}//${url.host}`).toBe(c.apiUrl);
    const res = await call("GET", url.pathname + url.search);
    expect(res.status).toBe(303);
  });

  it("berth dashboard without a cluster says how to start one", async () => {
    const r = await berthAsync(join(c.home, "nowhere"), ["dashboard"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no kubeconfig at .*berth up/);
  });
});
