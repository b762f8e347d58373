/**
 * Load limits at the API edges, on a real nats-server (items 3 and 7 of the load issue):
 * per-identity token buckets answer 429 with Retry-After on REST and NATS; REST watches are
 * capped overall and per identity; watches arriving together share one store list instead of
 * each opening its own JetStream consumer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { request, type ClientRequest, type IncomingMessage } from "node:http";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Api } from "../../runtime/api/api.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { startHttpApi, type HttpApi } from "../../runtime/http/server.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";
import { call } from "../helpers/http_client.ts";

const TOKEN = "test-token-0123456789";
const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "main", image: "berth/busybox" }] },
});

/** Opens a REST watch and resolves when its response headers arrive. */
function openWatch(baseUrl: string, path: string): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Promise<string>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(new URL(path, baseUrl), { headers: { authorization: `Bearer ${TOKEN}` } });
    req.on("response", (res) => {
      let text = "";
      const body = new Promise<string>((r) => {
        res.on("data", (d) => (text += d));
        res.on("end", () => r(text));
        res.on("close", () => r(text));
      });
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body, close: () => req.destroy() });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("API load limits", () => {
  let nats: TestNats;
  let store: KvStore;
  let api: Api;
  let natsApi: NatsApiServer;
  let http: HttpApi;
  let client: NatsConnection;

  beforeAll(async () => {
    nats = await startTestNats();
    store = await KvStore.open(nats.nc);
    api = await Api.open(store);
    natsApi = serveApiOverNats(nats.nc, api, {
      rateLimit: { default: { ratePerSecond: 2, burst: 10 }, node: { ratePerSecond: 2, burst: 5 } },
      serveNodes: true,
    });
    await natsApi.ready;
    http = await startHttpApi({
      api,
      token: TOKEN,
      tls: false,
      rateLimit: { default: { ratePerSecond: 1000, burst: 1000 } },
      watchCaps: { total: 6, perIdentity: 4 },
    });
    client = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await http?.close();
    await natsApi?.stop();
    await client?.close();
    api?.close();
    await nats?.stop();
  });

  it("rate limit - a NATS client beyond its bucket gets 429 with retryAfterSeconds; a node has its own bucket; watch keep-alives are not throttled", async () => {
    const ask = (subject: string, body: unknown) => client.request(subject, JSON.stringify(body), { timeout: 5_000 }).then((m) => m.json<{ kind: string; code?: number; details?: { retryAfterSeconds?: number } }>());
    const replies = await Promise.all(Array.from({ length: 25 }, (_, i) => ask("berth.api.v1.pods.create", { object: pod(`flood-${i}`) })));
    const created = replies.filter((r) => r.kind === "Pod").length;
    const refused = replies.filter((r) => r.code === 429);
    // A burst of 10 plus at most a token or two refilled while the requests were in flight.
    expect(created).toBeGreaterThanOrEqual(10);
    expect(created).toBeLessThanOrEqual(12);
    expect(refused.length).toBe(25 - created);
    expect(refused[0].details?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // Nothing refused was stored.
    expect((await api.list("pods")).items.length).toBe(created);
    // A node's bucket is its own (the unrestricted API's is empty now).
    const node = await ask("berth.node.n1.api.v1.namespaces.get", { name: "default" });
    expect(node.kind).toBe("Namespace");
    // Keep-alives of unknown watches are answered (404), never 429, however many.
    const keepalives = await Promise.all(Array.from({ length: 20 }, () => ask("berth.api.v1.watches.keepalive", { watchId: "nosuchwatch" })));
    expect(keepalives.every((r) => r.code === 404)).toBe(true);
    expect(natsApi.rateStats.refused).toBeGreaterThan(0);
  });

  it("rate limit - a REST client beyond its bucket gets 429 with a Retry-After header, and nothing is stored", async () => {
    const h2 = await startHttpApi({ api, token: TOKEN, tls: false, rateLimit: { default: { ratePerSecond: 1, burst: 5 } } });
    try {
      const c = { baseUrl: h2.url, token: TOKEN };
      const replies = [];
      for (let i = 0; i < 8; i++) replies.push(await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod(`rest-${i}`) }));
      const ok = replies.filter((r) => r.status === 201).length;
      const refused = replies.filter((r) => r.status === 429);
      expect(ok).toBeGreaterThanOrEqual(5);
      expect(ok).toBeLessThanOrEqual(6);
      expect(refused.length).toBe(8 - ok);
      expect(Number(refused[0].headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(refused[0].json()).toMatchObject({ kind: "Status", code: 429, reason: "TooManyRequests", details: { retryAfterSeconds: 1 } });
      // Health and discovery are not rate limited: kubectl must always be able to find the API.
      expect((await call(c, "GET", "/healthz")).status).toBe(200);
      expect((await call(c, "GET", "/api/v1")).status).toBe(200);
      const stored = (await api.list("pods")).items.filter((p) => p.metadata.name.startsWith("rest-")).length;
      expect(stored).toBe(ok);
    } finally {
      await h2.close();
    }
  });

  it("watch caps - REST watches beyond the per-identity cap get 429 with Retry-After; a closed watch frees its place", async () => {
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await openWatch(http.url, "/api/v1/namespaces/default/pods?watch=1"));
    expect(open.map((w) => w.status)).toEqual([200, 200, 200, 200]);
    const fifth = await openWatch(http.url, "/api/v1/namespaces/default/pods?watch=1");
    expect(fifth.status).toBe(429);
    expect(fifth.headers["retry-after"]).toBe("1");
    expect(JSON.parse(await fifth.body)).toMatchObject({ kind: "Status", code: 429, reason: "TooManyRequests" });
    // Ordinary requests still work while the watches are held.
    expect((await call({ baseUrl: http.url, token: TOKEN }, "GET", "/api/v1/namespaces/default")).status).toBe(200);
    open.shift()!.close();
    const again = await waitFor(async () => {
      const w = await openWatch(http.url, "/api/v1/namespaces/default/pods?watch=1");
      if (w.status === 200) return w;
      w.close();
      return null;
    }, "a place freed by the closed watch");
    open.push(again);
    for (const w of open) w.close();
  });

  it("watch sharing - watches arriving together are served from the watch cache: no store list, no store watch of their own", async () => {
    await api.create("pods", pod("shared-0"));
    const lists = vi.spyOn(store, "list");
    const watches = vi.spyOn(store, "watch");
    try {
      const ws = await Promise.all(Array.from({ length: 40 }, () => api.watch("pods", { namespace: "default" })));
      // Each watch still gets the current state as ADDED events.
      const firsts = await Promise.all(ws.map(async (w) => {
        const it = w[Symbol.asyncIterator]();
        const first = await it.next();
        return first.value?.type;
      }));
      expect(firsts.every((t) => t === "ADDED")).toBe(true);
      for (const w of ws) w.stop();
      expect(lists.mock.calls.length).toBe(0);
      expect(watches.mock.calls.length).toBe(0);
    } finally {
      lists.mockRestore();
      watches.mockRestore();
    }
  });

  it("watch sharing - watches starting on a fresh API while objects are written all attach to the hub (no store watch of their own)", async () => {
    const watches = vi.spyOn(store, "watch");
    const bucketWatches = vi.spyOn(store, "watchBucket");
    const fresh = await Api.open(store);
    let n = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) await api.create("pods", pod(`fresh-${n++}`));
    })();
    try {
      const ws = await Promise.all(Array.from({ length: 30 }, () => fresh.watch("pods", { namespace: "default" })));
      for (const w of ws) w.stop();
      // One store watch of the whole bucket feeds the fresh API's cache; the watches need none.
      expect(watches.mock.calls.length).toBe(0);
      expect(bucketWatches.mock.calls.length).toBe(1);
    } finally {
      writing = false;
      await writer;
      watches.mockRestore();
      bucketWatches.mockRestore();
      fresh.close();
    }
  });

  it("watch caps - a watcher that does not read is closed once its unsent output passes the cap, and its place is freed", async () => {
    const h2 = await startHttpApi({ api, token: TOKEN, tls: false, watchCaps: { perIdentity: 1, maxBufferedBytes: 256 * 1024 } });
    try {
      await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "slow" } });
      // About 12 MB of initial state: more than loopback's socket buffers hold.
      const big = "x".repeat(200_000);
      for (let i = 0; i < 60; i++) await api.create("pods", { ...pod(`big-${i}`), metadata: { name: `big-${i}`, annotations: { big } } }, "slow");
      const stalled = await new Promise<{ close(): void }>((resolve, reject) => {
        const req = request(new URL("/api/v1/namespaces/slow/pods?watch=1", h2.url), { headers: { authorization: `Bearer ${TOKEN}` } });
        req.on("response", (res) => {
          res.pause(); // never read
          resolve({ close: () => req.destroy() });
        });
        req.on("error", reject);
        req.end();
      });
      // The one place is taken until the server drops the stalled watcher.
      const next = await waitFor(async () => {
        const w = await openWatch(h2.url, "/api/v1/namespaces/slow/pods?watch=1&resourceVersion=1");
        if (w.status === 200) return w;
        w.close();
        return null;
      }, "the stalled watcher to be dropped", 15_000);
      next.close();
      stalled.close();
    } finally {
      await h2.close();
    }
  });

  it("rate limit - the NATS client waits out a 429's Retry-After and tries again, as client-go does", async () => {
    // Node n2's bucket: burst 5, 2/s (see beforeAll). Twelve reads need a few waits.
    const patient = new NatsApiClient(client, { node: "n2" });
    const started = Date.now();
    for (let i = 0; i < 12; i++) expect((await patient.get("namespaces", "default")).metadata.name).toBe("default");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    // With retries off, the refusal reaches the caller.
    const impatient = new NatsApiClient(client, { node: "n2", rateLimitRetries: 0 });
    const errors = await Promise.all(Array.from({ length: 12 }, () => impatient.get("namespaces", "default").then(() => null, (e) => e)));
    expect(errors.some((e) => e?.code === 429 && e.details?.retryAfterSeconds >= 1)).toBe(true);
  });
});
