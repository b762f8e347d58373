/**
 * List benchmark: `list pods limit=1` with N objects in the store (p50/p99), and a full list of
 * one namespace's pods, in process and over REST.
 *
 *   npx tsx bench/list.ts [--objects 50000] [--pods 5000] [--calls 200]
 *
 * `--pods` pods go to namespace `default`, the rest of `--objects` to namespace `filler`; they
 * are written straight to the store (no admission), 64 at a time.
 */
import { Api } from "../runtime/api/api.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { startHttpApi } from "../runtime/http/server.ts";
import { numArg } from "./args.ts";

const OBJECTS = numArg("objects", 50_000);
const PODS = numArg("pods", 5_000);
const CALLS = numArg("calls", 200);

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: "bench-list" });
const store = await KvStore.open(nc);
const api = await Api.open(store);
await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "filler" } });
const t0 = performance.now();
let next = 0;
const pod = (i: number) => ({
  apiVersion: "v1" as const,
  kind: "Pod" as const,
  metadata: { name: `pod-${String(i).padStart(6, "0")}`, namespace: i < PODS ? "default" : "filler", uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString(), labels: { app: `app-${i % 50}` } },
  spec: { nodeName: `node-${i % 100}`, containers: [{ name: "c", image: "berth/busybox:latest" }] },
  status: { phase: "Running" as const, conditions: [] },
});
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < OBJECTS) await store.create("pods", pod(next++));
}));
console.log(`wrote ${OBJECTS} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => `${x.toFixed(1)} ms`;
async function time(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await f();
    out.push(performance.now() - t);
  }
  return out;
}

// A first list warms whatever the API keeps (the watch cache loads here).
await api.list("pods", { limit: 1 });
const limit1 = await time(CALLS, () => api.list("pods", { limit: 1 }));
console.log(`in-process list pods limit=1 (${OBJECTS} pods): n=${limit1.length} p50 ${ms(pct(limit1, 50))} p99 ${ms(pct(limit1, 99))}`);
const full = await time(Math.max(3, Math.floor(CALLS / 20)), () => api.list("pods", { namespace: "default" }));
console.log(`in-process full list of ${PODS} pods (namespace default): n=${full.length} p50 ${ms(pct(full, 50))} max ${ms(Math.max(...full))}`);

const http = await startHttpApi({ api, token: "t", tls: false, rateLimit: { default: { ratePerSecond: 1e6, burst: 1e6 } } });
const get = async (path: string) => {
  const r = await fetch(`${http.url}${path}`, { headers: { authorization: "Bearer t" } });
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return await r.arrayBuffer();
};
const rl1 = await time(CALLS, () => get("/api/v1/pods?limit=1"));
console.log(`REST GET /api/v1/pods?limit=1: n=${rl1.length} p50 ${ms(pct(rl1, 50))} p99 ${ms(pct(rl1, 99))}`);
const rfull = await time(Math.max(3, Math.floor(CALLS / 20)), () => get("/api/v1/namespaces/default/pods"));
console.log(`REST full list of ${PODS} pods: n=${rfull.length} p50 ${ms(pct(rfull, 50))} max ${ms(Math.max(...rfull))}`);
console.log(`peak RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
await http.close();
api.close();
await nc.close();
await nats.stop();
process.exit(0);
