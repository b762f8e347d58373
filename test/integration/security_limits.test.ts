/**
 * Limits of the NATS API on a real nats-server: a request flood is queued or refused with 429
 * (never unbounded), oversize requests and replies get 413 (never a hang), slow requests get a
 * 504 within the request timeout, and watches are capped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Api } from "../../runtime/api/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";

const pod = (name: string, note = "") => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, annotations: note ? { note } : undefined },
  spec: { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] },
});

describe("NATS API limits", () => {
  let server: NatsServerHandle;
  let nc: NatsConnection;
  let client: NatsConnection;
  let api: Api;
  let apiServer: NatsApiServer;

  beforeAll(async () => {
    // A small max_payload makes "a reply too large for NATS" cheap to produce.
    server = await startNatsServer({ maxPayload: "256KB" });
    nc = await connect({ servers: server.url });
    client = await connect({ servers: server.url });
    api = await Api.open(await KvStore.open(nc));
    apiServer = serveApiOverNats(nc, api, { maxInFlight: 4, maxQueued: 40, maxPerIdentity: 1000, maxWatches: 3 });
    await apiServer.ready;
  });
  afterAll(async () => {
    await apiServer?.stop();
    await client?.close();
    await nc?.close();
    await server?.stop();
  });

  it("limits - a flood of requests is answered (served or 429), with a bounded queue, and the server still works", async () => {
    const N = 2000;
    const started = Date.now();
    const replies = await Promise.all(
      Array.from({ length: N }, () =>
        client.request("berth.api.v1.namespaces.get", JSON.stringify({ name: "default" }), { timeout: 10_000 }).then((m) => m.json<{ kind: string; code?: number }>())
      ),
    );
    const served = replies.filter((r) => r.kind === "Namespace").length;
    const refused = replies.filter((r) => r.kind === "Status" && r.code === 429).length;
    console.log("flood", JSON.stringify({ N, served, refusedReplies: refused, ms: Date.now() - started, limiter: apiServer.stats }));
    expect(served + refused).toBe(N);
    expect(refused).toBeGreaterThan(0);
    expect(served).toBeGreaterThanOrEqual(44);
    expect(apiServer.stats.peakQueued).toBeLessThanOrEqual(40);
    expect(apiServer.stats.peakInFlight).toBeLessThanOrEqual(4);
    expect(Date.now() - started).toBeLessThan(10_000);
    const after = await new NatsApiClient(client).get("namespaces", "default");
    expect(after.metadata.name).toBe("default");
  });

  it("limits - an object over the payload limit is refused with 413 at once, not a hang", async () => {
    const c = new NatsApiClient(client, { timeoutMs: 5_000 });
    const t0 = Date.now();
    const e = await c.create("pods", pod("huge", "x".repeat(300_000))).catch((err) => err);
    expect(e.code).toBe(413);
    expect(Date.now() - t0).toBeLessThan(1_000);
    // The connection survives (the client refused it before sending).
    expect((await c.get("namespaces", "default")).kind).toBe("Namespace");
  });

  it("limits - a reply bigger than max_payload is a 413 Status, and the client pages through it", async () => {
    const c = new NatsApiClient(client, { timeoutMs: 10_000 });
    const note = "n".repeat(2_000);
    for (let i = 0; i < 160; i += 20) {
      await Promise.all(Array.from({ length: 20 }, (_, j) => api.create("pods", pod(`big-${i + j}`, note), "default")));
    }
    const raw = (await client.request("berth.api.v1.pods.list", JSON.stringify({ namespace: "default" }), { timeout: 5_000 })).json<{ code?: number; message?: string }>();
    expect(raw.code).toBe(413);
    expect(raw.message).toMatch(/limit/);
    const all = await c.list("pods", { namespace: "default" });
    expect(all.items.filter((p) => p.metadata.name.startsWith("big-")).length).toBe(160);
    expect(Number(all.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it("limits - watches beyond the cap are refused with 429 and released places are reused", async () => {
    const c = new NatsApiClient(client);
    const ws = [await c.watch("services"), await c.watch("endpoints"), await c.watch("nodes")];
    const e = await c.watch("namespaces").catch((err) => err);
    expect(e.code).toBe(429);
    ws[0].stop();
    const deadline = Date.now() + 5_000;
    while (apiServer.watchCount > 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const again = await c.watch("namespaces");
    again.stop();
    for (const w of ws.slice(1)) w.stop();
  });

  it("limits - a request the API cannot finish is answered 504 within the request timeout", async () => {
    // Only the Api is slowed down; NATS and the transport are real.
    const stuck = Object.create(api) as Api;
    stuck.get = () => new Promise(() => {});
    const slowServer = serveApiOverNats(nc, stuck, { requestTimeoutMs: 300, queue: "slow", serveNodes: false });
    const other = await connect({ servers: server.url });
    try {
      await apiServer.stop(); // only the slow server answers now
      const t0 = Date.now();
      const r = (await other.request("berth.api.v1.pods.get", JSON.stringify({ name: "x" }), { timeout: 5_000 })).json<{ code: number }>();
      expect(r.code).toBe(504);
      expect(Date.now() - t0).toBeLessThan(2_000);
    } finally {
      await slowServer.stop();
      await other.close();
    }
  });
});
