/**
 * Density: many hollow nodes in several processes and many pods, as separate machines would run
 * them, with time to all Running and the peak memory of every process.
 *
 *   nats-server (private, JetStream in a temp dir, no client identities)
 *   berth control-plane         one process: the API over NATS + scheduler, controllers, GC
 *   berth node --runtime hollow --count K --name dI     × --procs (K = nodes / procs)
 *   this process                creates the RCs (100 pods each) and counts Running from a watch
 *
 *   npx tsx bench/density.ts [--nodes 1000] [--procs 4] [--pods 30000] [--heartbeat 10] [--timeout 1800]
 *   npx tsx bench/density.ts --procs 0 --nodes 50 --pods 5000     control plane alone: Node objects
 *                                                                without agents; pods scheduled
 *                                                                (bound), nobody runs them
 *
 * Figures: time to all nodes Ready, time from the first RC to all pods Running (bound with
 * --procs 0), and per process the peak resident set (VmHWM) and the resident set at the end
 * (VmRSS), from /proc. Run `npm run build` first to measure the compiled bundle (bin/berth.js
 * runs the sources through tsx otherwise, which costs memory of its own). A run that does not
 * finish within --timeout seconds prints how far it got and why it stopped, if it can tell.
 */
import { join } from "node:path";
import type { Pod } from "../model/types.ts";
import { numArg } from "./args.ts";
import { cpuSeconds, memory, readyNodes, ROOT, startProcCluster, until } from "./proc_cluster.ts";

const NODES = numArg("nodes", 1000);
const PROCS = numArg("procs", 4);
const PODS = numArg("pods", 30_000);
const HEARTBEAT_S = numArg("heartbeat", 10);
const TIMEOUT_S = numArg("timeout", 1800);
const PER_RC = 100;
/** Whether bin/berth.js runs the compiled bundle (bin/dist.js, plain JavaScript without types). */
const { distIsFresh } = (await import(join(ROOT, "bin/dist.js"))) as { distIsFresh(): boolean };

const s = (ms: number) => (ms / 1000).toFixed(1);
const t0 = performance.now();
console.error(`density: ${NODES} nodes in ${PROCS} processes, ${PODS} pods; dist ${distIsFresh() ? "compiled" : "sources via tsx (run npm run build for compiled figures)"}`);
// Without agents nobody heartbeats: a grace period that outlasts the run keeps the Node objects Ready.
// With the REST API too: its listener publishes the flow-control figures read at the end.
const cluster = await startProcCluster({ nodes: NODES, procs: PROCS, heartbeatS: PROCS > 0 ? HEARTBEAT_S : 3600, rest: true });
const { client, procs, nats } = cluster;
let finished = false;
try {
  console.error(`  control plane leading at ${s(performance.now() - t0)} s`);
  if (PROCS > 0) {
    cluster.startNodes();
  } else {
    // Control plane alone: Ready Node objects nobody heartbeats (the grace period outlasts the run).
    const now = new Date().toISOString();
    for (let i = 0; i < NODES; i++) {
      await client.create("nodes", {
        apiVersion: "v1", kind: "Node", metadata: { name: `d-${i}` }, spec: {},
        status: { allocatable: { cpu: "64", memory: "256Gi", pods: "1000" }, capacity: { cpu: "64", memory: "256Gi", pods: "1000" }, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now }] },
      });
    }
  }
  let lastNodes = -1;
  await until(async () => {
    const n = await readyNodes(client);
    if (n !== lastNodes && Math.floor(n / 100) !== Math.floor(lastNodes / 100)) console.error(`  … ${n} nodes Ready at ${s(performance.now() - t0)} s`);
    lastNodes = n;
    return n >= NODES;
  }, "every node Ready", 600_000);
  const tNodes = performance.now();
  console.error(`  ${NODES} nodes Ready at ${s(tNodes - t0)} s`);

  // Count pods from one watch (a list of 30,000 pods every second would cost more than it measures).
  const phase = new Map<string, string>();
  const bound = new Set<string>();
  const list = await client.list("pods", { namespace: "default" });
  const w = await client.watch("pods", { namespace: "default", resourceVersion: list.metadata.resourceVersion });
  (async () => {
    for await (const ev of w) {
      const p = ev.object as Pod;
      const key = p.metadata.name;
      if (ev.type === "DELETED") {
        phase.delete(key);
        bound.delete(key);
        continue;
      }
      if (ev.type !== "ADDED" && ev.type !== "MODIFIED") continue;
      phase.set(key, p.status?.phase ?? "");
      if (p.spec?.nodeName) bound.add(key);
    }
  })().catch((e) => console.error(`  pod watch ended: ${(e as Error).message}`));
  const running = () => [...phase.values()].filter((v) => v === "Running").length;

  const rcs = Math.ceil(PODS / PER_RC);
  const tPods = performance.now();
  for (let i = 0; i < rcs; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, rcs - i) }, (_, j) => client.create("replicationcontrollers", {
      apiVersion: "v1", kind: "ReplicationController", metadata: { name: `density-${i + j}` },
      spec: {
        replicas: Math.min(PER_RC, PODS - (i + j) * PER_RC),
        selector: { app: `density-${i + j}` },
        template: { metadata: { labels: { app: `density-${i + j}` } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } },
      },
    }, "default")));
  }
  console.error(`  ${rcs} RCs created in ${s(performance.now() - tPods)} s`);
  const goal = () => (PROCS > 0 ? running() : bound.size);
  // Requests the API answered over NATS, by kind, from its metrics (berth_nats_api_requests_total):
  // each progress line prints the busiest kinds' rates since the previous line — what fills a level.
  const metricsBase = /metrics at (http:\/\/[^/\s]+)\/metrics/.exec(cluster.cp.out())?.[1];
  let lastCounts = new Map<string, number>();
  let lastCountsAt = performance.now();
  const requestRates = async (): Promise<string> => {
    if (!metricsBase) return "";
    try {
      const text = await (await fetch(`${metricsBase}/metrics/api`)).text();
      const now = performance.now();
      const counts = new Map<string, number>();
      for (const m of text.matchAll(/^berth_nats_api_requests_total\{face="([^"]*)",resource="([^"]*)",verb="([^"]*)",code="([^"]*)"\} (\S+)$/gm)) {
        counts.set(`${m[1]} ${m[2]}.${m[3]} ${m[4]}`, Number(m[5]));
      }
      const dt = (now - lastCountsAt) / 1000;
      const rates = [...counts].map(([k, v]) => [k, (v - (lastCounts.get(k) ?? 0)) / dt] as const).filter(([, r]) => r >= 0.5).sort((a, b) => b[1] - a[1]);
      lastCounts = counts;
      lastCountsAt = now;
      const total = rates.reduce((a, [, r]) => a + r, 0);
      // The API process's event loop (prom-client's figures since it started): a loop that
      // stalls holds every seat's request with it.
      const lag = (q: string) => Number(new RegExp(`^nodejs_eventloop_lag_${q}_seconds(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? NaN) * 1000;
      return `\n      requests/s answered over NATS: ${total.toFixed(0)} — ${rates.slice(0, 10).map(([k, r]) => `${k}: ${r.toFixed(0)}`).join(", ")}` +
        `\n      API event loop lag p50 / p99 / max: ${lag("p50").toFixed(0)} / ${lag("p99").toFixed(0)} / ${lag("max").toFixed(0)} ms`;
    } catch (e) {
      return ` (request rates not read: ${(e as Error).message})`;
    }
  };
  await requestRates();
  let lastLine = 0;
  let peakRate = 0;
  let prev = { t: performance.now(), n: 0 };
  const deadline = tPods + TIMEOUT_S * 1000;
  const window = (now: number) => {
    const n = goal();
    // Only windows of at least 5 s count (the first progress line comes after about a second).
    if (now - prev.t >= 5_000) peakRate = Math.max(peakRate, ((n - prev.n) * 1000) / (now - prev.t));
    prev = { t: now, n };
  };
  while (goal() < PODS && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = performance.now();
    if (now - lastLine >= 15_000) {
      const before = prev;
      window(now);
      const rate = ((prev.n - before.n) * 1000) / (now - before.t);
      lastLine = now;
      const mem = procs.map((p) => `${p.label} ${memory(p.proc.pid).now.toFixed(0)}`).join(", ");
      console.error(`  … ${s(now - tPods)} s: ${phase.size} pods, ${bound.size} bound, ${running()} Running (${rate.toFixed(0)}/s); RSS MB: ${mem}${await requestRates()}`);
    }
  }
  w.stop();
  const tDone = performance.now();
  if (tDone - prev.t > 5_000) window(tDone);
  finished = goal() >= PODS;
  // The API's flow control at the end (its metrics listener): which level queued, refused or
  // dropped requests — what held the run back, if it was the API.
  let flowLines: string[] = [];
  const metricsUrl = /metrics at (http:\/\/[^/\s]+)\/metrics/.exec(cluster.cp.out())?.[1];
  if (metricsUrl) {
    try {
      const text = await (await fetch(`${metricsUrl}/metrics/api`)).text();
      flowLines = text.split("\n").filter((l) => /^apiserver_flowcontrol_(current_inqueue_requests|current_executing_requests|rejected_requests_total|dispatched_requests_total)\{/.test(l));
    } catch (e) {
      flowLines = [`(metrics not read: ${(e as Error).message})`];
    }
  }
  const rows = procs.map((p) => ({ p: p.label, ...memory(p.proc.pid), cpu: cpuSeconds(p.proc.pid) }));
  rows.push({ p: "nats-server", ...memory(nats.pid), cpu: cpuSeconds(nats.pid) });
  console.log(`\ndensity ${new Date().toISOString()}: ${NODES} hollow nodes in ${PROCS} processes, ${PODS} pods; ${distIsFresh() ? "compiled" : "sources (tsx)"}`);
  console.log(`  nodes Ready in ${s(tNodes - t0)} s (from start)`);
  console.log(finished
    ? `  all ${PODS} pods ${PROCS > 0 ? "Running" : "bound"} in ${s(tDone - tPods)} s (${(PODS / ((tDone - tPods) / 1000)).toFixed(0)} pods/s; best window of ≥ 5 s ${peakRate.toFixed(0)}/s)`
    : `  NOT FINISHED after ${s(tDone - tPods)} s: ${phase.size} pods, ${bound.size} bound, ${running()} Running`);
  console.log(`  process           peak RSS MB   RSS at end MB   CPU s (whole run)`);
  for (const r of rows) console.log(`  ${r.p.padEnd(18)}${r.peak.toFixed(0).padStart(11)}${r.now.toFixed(0).padStart(16)}${r.cpu.toFixed(0).padStart(20)}`);
  const nodesPeak = rows.filter((r) => r.p.startsWith("nodes-")).reduce((a, r) => a + r.peak, 0);
  if (nodesPeak) console.log(`  node processes together: ${nodesPeak.toFixed(0)} MB peak (${(nodesPeak / NODES).toFixed(2)} MB per hollow node)`);
  if (flowLines.length) console.log(`  API flow control at the end:\n${flowLines.map((l) => `    ${l}`).join("\n")}`);
  if (!finished) {
    const tail = procs.map((p) => `--- ${p.label} (exit ${p.proc.exitCode ?? "running"})\n${p.out().split("\n").slice(-8).join("\n")}`).join("\n");
    console.log(`  last output of each process:\n${tail}`);
  }
} finally {
  await cluster.stop();
}
process.exit(finished ? 0 : 1);
