/**
 * Store start-up against history: how long a new API takes to be ready (its watch cache loaded:
 * `Api.open` + one consistent list) over the same live objects, first on a fresh bucket, then
 * after every object was updated `--updates` times and `--churn` other pods were created and
 * deleted (tombstones), then after compaction. The bucket keeps two versions per key and
 * compaction purges tombstones (runtime/store/kv_store.ts), so the live state, not the history,
 * should set the time.
 *
 *   npx tsx bench/store_startup.ts [--pods 5000] [--updates 10] [--churn 10000] [--runs 3]
 */
import { Api } from "../runtime/api/api.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { jetstreamManager } from "@nats-io/jetstream";
import { numArg } from "./args.ts";
import { STATE_BUCKET } from "../runtime/subjects.ts";
import type { Pod } from "../model/types.ts";

const PODS = numArg("pods", 5_000);
const UPDATES = numArg("updates", 10);
const CHURN = numArg("churn", 10_000);
const RUNS = numArg("runs", 3);

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: "bench-store-startup" });
const store = await KvStore.open(nc);
const jsm = await jetstreamManager(nc);

const pod = (name: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: crypto.randomUUID(), creationTimestamp: new Date().toISOString(), labels: { app: "bench" } },
  spec: { nodeName: "node-1", containers: [{ name: "c", image: "berth/busybox:latest" }] },
  status: { phase: "Running", conditions: [] },
});

/** Runs `fn(i)` for i in [0, n), 64 at a time. */
async function each(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < n) await fn(next++);
  }));
}

async function startup(label: string): Promise<void> {
  const info = await jsm.streams.info(`KV_${STATE_BUCKET}`);
  const times: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    const s = await KvStore.open(nc);
    const api = await Api.open(s, { initialNamespaces: [] });
    const listed = await api.list("pods", { namespace: "default" });
    times.push(performance.now() - t0);
    api.close();
    if (listed.items.length !== PODS) throw new Error(`${label}: listed ${listed.items.length} pods, want ${PODS}`);
  }
  times.sort((a, b) => a - b);
  console.log(`${label.padEnd(44)} stream ${String(info.state.messages).padStart(7)} msgs ${(info.state.bytes / 1e6).toFixed(1).padStart(6)} MB  ready in min ${times[0].toFixed(0)} ms, median ${times[Math.floor(times.length / 2)].toFixed(0)} ms`);
}

console.log(`command: npx tsx bench/store_startup.ts --pods ${PODS} --updates ${UPDATES} --churn ${CHURN} --runs ${RUNS}`);
await each(PODS, (i) => store.create("pods", pod(`p-${i}`)));
await startup(`fresh: ${PODS} pods`);
for (let u = 0; u < UPDATES; u++) {
  await each(PODS, async (i) => {
    const p = await store.get("pods", "default", `p-${i}`);
    p.metadata.annotations = { round: String(u) };
    await store.update("pods", p);
  });
}
await each(CHURN, async (i) => {
  await store.create("pods", { ...pod(`churn-${i}`), metadata: { ...pod(`churn-${i}`).metadata, namespace: "churn" } });
  await store.delete("pods", "churn", `churn-${i}`);
});
await startup(`after ${UPDATES} updates each + ${CHURN} created/deleted`);
await store.compact(0);
await startup("after compaction");
await nc.close();
await nats.stop();
