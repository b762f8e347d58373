/**
 * Flow control at the API edges: a client flooding the API with creates and lists (over REST
 * and over NATS at once) does not push node heartbeats past their grace period. Node agents
 * reach the API on their own priority level; the flood waits in its own level's queues, fairly,
 * and beyond them gets 429 with Retry-After.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../../runtime/api/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startHttpApi, type HttpApi } from "../../runtime/http/server.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { flowControlFor } from "../../runtime/security/flow_control.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { call } from "../helpers/http_client.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

const TOKEN = "flow-control-token";
const NODES = 4;
const HEARTBEAT_MS = 250;
/** As the node lifecycle controller's grace period, scaled to the heartbeat (Kubernetes: 40 s for 10 s). */
const GRACE_MS = 4 * HEARTBEAT_MS * 2.5;
const FLOW_SEATS = 64;

describe("flow control", () => {
  let nats: TestNats;
  let api: Api;
  let natsApi: NatsApiServer;
  let http: HttpApi;
  const agents: NodeAgent[] = [];

  beforeAll(async () => {
    nats = await startTestNats();
    api = await Api.open(await KvStore.open(nats.nc));
    // Rate limits out of the way: this is about concurrency and fairness, not request budgets.
    const rateLimit = { default: { ratePerSecond: 1e6, burst: 1e6 }, node: { ratePerSecond: 1e6, burst: 1e6 } };
    // Seats pinned below the flood's 160 concurrent requests (the workload level gets 40/110 of
    // them: 23), so the flood must queue on any machine. With the default 256 (93 workload
    // seats) a slow client side never filled the level, and "the flood was held back" was luck.
    const flowControl = { seats: FLOW_SEATS };
    natsApi = serveApiOverNats(nats.nc, api, { rateLimit, flowControl });
    await natsApi.ready;
    http = await startHttpApi({ api, token: TOKEN, tls: false, rateLimit, flowControl });
    for (let i = 0; i < NODES; i++) {
      agents.push(await startNodeAgent({ client: new NatsApiClient(nats.nc, { node: `flood-node-${i}` }), runtime: new HollowRuntime(), name: `flood-node-${i}`, heartbeatIntervalMs: HEARTBEAT_MS, resyncMs: 1_000 }));
    }
    await waitFor(async () => {
      const nodes = (await api.list("nodes")).items;
      return nodes.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length === NODES;
    }, "every node Ready");
  });
  afterAll(async () => {
    for (const a of agents) await a.stop().catch(() => {});
    await http?.close();
    await natsApi?.stop();
    api?.close();
    await nats?.stop();
  });

  it("flow control - a client flooding creates and lists over REST and NATS never pushes a node's heartbeat past its grace period", async () => {
    for (let i = 0; i < 300; i++) await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: `seed-${i}` }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } });
    let flooding = true;
    const codes: Record<number, number> = {};
    let n = 0;
    const rest = { baseUrl: http.url, token: TOKEN };
    const restLoop = async (k: number) => {
      while (flooding) {
        const r = k % 2
          ? await call(rest, "GET", "/api/v1/pods")
          : await call(rest, "POST", "/api/v1/namespaces/default/pods", { body: { apiVersion: "v1", kind: "Pod", metadata: { name: `flood-r-${n++}` }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } } });
        codes[r.status] = (codes[r.status] ?? 0) + 1;
        if (r.status === 429) expect(r.headers["retry-after"]).toBe("1");
      }
    };
    const client = new NatsApiClient(nats.nc, { rateLimitRetries: 0 });
    const natsLoop = async () => {
      while (flooding) {
        await client.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: `flood-n-${n++}` }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } }, "default").then(
          () => (codes[201] = (codes[201] ?? 0) + 1),
          (e) => (codes[e.code ?? 0] = (codes[e.code ?? 0] ?? 0) + 1),
        );
      }
    };
    // Heartbeat lag, sampled: how old each node's last heartbeat is, and whether it is Ready.
    let worstLag = 0;
    const notReady: string[] = [];
    const sampler = (async () => {
      while (flooding) {
        const now = Date.now();
        for (let i = 0; i < NODES; i++) {
          const node = await api.get("nodes", `flood-node-${i}`);
          const ready = node.status?.conditions?.find((c) => c.type === "Ready");
          if (ready?.status !== "True") notReady.push(node.metadata.name);
          const lag = now - Date.parse(ready?.lastHeartbeatTime ?? "1970-01-01T00:00:00Z");
          worstLag = Math.max(worstLag, lag);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const loops = [...Array.from({ length: 96 }, (_, k) => restLoop(k)), ...Array.from({ length: 64 }, () => natsLoop())];
    await new Promise((r) => setTimeout(r, 6_000)); // the flood's length, not a wait for a condition
    flooding = false;
    await Promise.all([...loops, sampler]);
    const figures = flowControlFor(api).figures();
    console.log(`flood: answers ${JSON.stringify(codes)}; worst heartbeat lag ${worstLag} ms (grace ${GRACE_MS} ms); flow control ${JSON.stringify(figures)}`);
    expect(notReady).toEqual([]);
    expect(worstLag).toBeLessThan(GRACE_MS);
    // The flood really was held back by its level, and the nodes' level was not.
    expect(figures.workload.seats).toBeLessThan(96 + 64);
    expect(figures.workload.peakQueued).toBeGreaterThan(0);
    expect(figures.system.rejected).toBe(0);
  }, 60_000);
});
