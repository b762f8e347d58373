/**
 * The NATS API under more node traffic than it can serve at once (what 50 hollow node agents
 * starting 5,000 pods do): requests queue at their priority level instead of being refused, a
 * node's heartbeat does not wait behind its own pod status writes (Kubernetes' node-high level),
 * and a request whose requester has given up (its timeout travels with the request) is dropped
 * from the queue instead of run — run anyway, it would hold a seat for an answer nobody reads,
 * which is how a backlog turned into a cluster that never finished starting.
 *
 * Real nats-server, real Api on JetStream; only the seat count is made small so the queue forms
 * with a few hundred requests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../../runtime/api/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { flowControlFor } from "../../runtime/security/flow_control.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import type { Pod } from "../../model/types.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

const NODES = 10;
const PODS_PER_NODE = 6;
const WRITES_PER_POD = 5;

describe("NATS API under node overload", () => {
  let nats: TestNats;
  let api: Api;
  let server: NatsApiServer;

  beforeAll(async () => {
    nats = await startTestNats();
    api = await Api.open(await KvStore.open(nats.nc));
    const rateLimit = { default: { ratePerSecond: 1e6, burst: 1e6 }, node: { ratePerSecond: 1e6, burst: 1e6 } };
    server = serveApiOverNats(nats.nc, api, {
      rateLimit,
      // Two seats: one per level at most, so a few hundred requests make a queue.
      flowControl: { seats: 2, levels: { workload: { maxQueuedPerFlow: 5_000, maxQueued: 5_000 } } },
    });
    await server.ready;
  });
  afterAll(async () => {
    await server?.stop();
    api?.close();
    await nats?.stop();
  });

  const idle = (level: "system" | "workload") =>
    waitFor(() => {
      const f = flowControlFor(api).figures()[level];
      return f.queued === 0 && f.inFlight === 0;
    }, `the ${level} level idle`, 60_000);

  it("nats api overload - node status writes queue and are all served; each node's heartbeat is answered ahead of its own backlog", async () => {
    const now = new Date().toISOString();
    const nodeNames = Array.from({ length: NODES }, (_, i) => `ov-node-${i}`);
    for (const name of nodeNames) {
      await api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name }, spec: {}, status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now }] } });
      for (let p = 0; p < PODS_PER_NODE; p++) {
        await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: `${name}-p${p}` }, spec: { nodeName: name, containers: [{ name: "c", image: "berth/busybox" }] } }, "default");
      }
    }
    const done: string[] = [];
    const failures: string[] = [];
    const clients = nodeNames.map((n) => new NatsApiClient(nats.nc, { node: n, timeoutMs: 60_000 }));
    // Every node writes each of its pods' status several times over, all at once (as a kubelet
    // starting its pods does), then sends its heartbeat.
    const writes = clients.flatMap((c, i) =>
      Array.from({ length: PODS_PER_NODE * WRITES_PER_POD }, async (_, k) => {
        const name = `${nodeNames[i]}-p${k % PODS_PER_NODE}`;
        // No resourceVersion: the write lands on whatever is current (one request each).
        const pod = { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName: nodeNames[i], containers: [{ name: "c", image: "berth/busybox" }] }, status: { phase: "Running", message: `write ${k}` } };
        try {
          await c.updateStatus("pods", pod as Pod);
          done.push("write");
        } catch (e) {
          failures.push(`${name}: ${(e as Error).message}`);
        }
      }),
    );
    await waitFor(() => flowControlFor(api).figures().system.queued > NODES * 10, "a backlog of node requests");
    const heartbeats = clients.map(async (c, i) => {
      const cur = await c.get("nodes", nodeNames[i]);
      await c.updateStatus("nodes", { ...cur, status: { ...cur.status, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: new Date().toISOString() }] } });
      done.push("heartbeat");
    });
    await Promise.all([...writes, ...heartbeats]);
    const figures = flowControlFor(api).figures();
    expect(failures).toEqual([]);
    expect(figures.system.rejected + figures.system.timedOut).toBe(0);
    // Heartbeats were answered while most of the backlog was still waiting.
    const lastHeartbeat = done.lastIndexOf("heartbeat");
    const total = NODES * PODS_PER_NODE * WRITES_PER_POD;
    const writesBefore = done.slice(0, lastHeartbeat).filter((x) => x === "write").length;
    expect(writesBefore).toBeLessThan(total / 2);
  }, 120_000);

  it("nats api overload - a request whose requester gave up waiting is dropped from the queue, not run", async () => {
    await idle("workload");
    const before = (await api.list("configmaps", { namespace: "default" })).items.length;
    // A short timeout, and no retries: each create is sent once.
    const client = new NatsApiClient(nats.nc, { timeoutMs: 400, rateLimitRetries: 0 });
    // Enough that one seat cannot serve them all within the timeout even on a fast machine
    // (600 once were: ~0.6 ms a create, all answered in time, nothing timed out).
    const N = 2000;
    const outcomes = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `gave-up-${i}` }, data: { i: String(i) } }, "default").then(
          () => "ok",
          (e) => (e as { reason?: string }).reason ?? "error",
        ),
      ),
    );
    await idle("workload");
    const ok = outcomes.filter((o) => o === "ok").length;
    const stored = (await api.list("configmaps", { namespace: "default" })).items.length - before;
    const figures = flowControlFor(api).figures().workload;
    console.log(`gave up: ${N} sent, ${ok} answered OK, ${stored} stored; workload level ${JSON.stringify(figures)}`);
    expect(ok).toBeGreaterThan(0);
    // Without the requester's deadline every queued create ran (≈ N stored) after its requester
    // had timed out. Now only those started in time run: a few may finish just after the
    // requester's timeout, so stored may exceed ok by a little, never by the backlog.
    expect(stored - ok).toBeLessThan(Math.max(20, (N - ok) / 10));
    expect(figures.timedOut).toBeGreaterThan(0);
  }, 120_000);
});
