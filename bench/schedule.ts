/**
 * Scheduling benchmark: N hollow nodes (the real node agent on the in-memory runtime, as
 * kubemark does), M pods created through replication controllers, timed from the RC creates to
 * every pod bound and to every pod Running.
 *
 *   npx tsx bench/schedule.ts [--nodes 100] [--pods 5000] [--rcs 50] [--agents 0] [--spread 1] [--tokens 1] [--observe 0|1|2|3] [--timeline 1] [--json 1]
 *
 * `--observe 1` (the default, as `berth up`): every component has its Prometheus registry and
 * every actor is observable over NATS (published while someone watches, as in `berth up`, where
 * no one does until `berth actors -w`); `--observe 0` turns both off, to measure
 * what seeing inside costs (docs/benchmarks.md; bench/observe_overhead.ts runs many paired rounds);
 * 2 is metrics only, 3 actor inspection only.
 *
 * Everything runs in this one process (nats-server is a child): the API, the control plane and
 * all node agents, so the peak RSS printed is of all of them together, nats-server excluded. The
 * process runs with Berth's server flags (runtime/node_flags.ts; bench/server_flags.ts starts it
 * again with them if need be; `BENCH_NODE_FLAGS=as-started` keeps Node's defaults).
 */
// First: runs this benchmark again with Berth's server flags when started without them.
import { nodeFlagsLine } from "./server_flags.ts";
import { Api } from "../runtime/api/api.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { startControlPlane } from "../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../runtime/containers/hollow.ts";
import { numArg } from "./args.ts";
import { Observability } from "../runtime/observability.ts";
import { instrumentStore } from "../runtime/metrics/store.ts";
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { ephemeralServiceAccountTokens } from "../runtime/auth/sa_tokens.ts";
import { generateCa } from "../runtime/tls.ts";

const NODES = numArg("nodes", 100);
const PODS = numArg("pods", 5000);
const RCS = numArg("rcs", 50);
/** `--agents 0`: nodes are plain Node objects (no node agents), measuring the control plane alone to "bound". */
const AGENTS = numArg("agents", 1) !== 0;
/** 0: nothing; 1: metrics and actor inspection (as berth up); 2: metrics only; 3: actor inspection only. */
const OBSERVE_MODE = numArg("observe", 1);
const OBSERVE = OBSERVE_MODE !== 0;
/** `--timeline 1`: print pods created, bound and Running (and the process's CPU) every second. */
const TIMELINE = numArg("timeline", 0) !== 0;
/** `--json 1`: also print one `result {…}` line with the figures (bench/observe_overhead.ts reads it). */
const JSON_OUT = numArg("json", 0) !== 0;
/**
 * `--spread 1`: nodes in 10 zones (`topology.kubernetes.io/zone`), and every pod with the
 * constraints charts write: even over zones (DoNotSchedule, maxSkew 1) and preferably over nodes
 * (ScheduleAnyway) — what topology spread constraints cost the scheduler.
 */
const SPREAD = numArg("spread", 0) !== 0;
/**
 * `--tokens 1`: as on a Kubernetes cluster, the API signs ServiceAccount tokens, the control plane
 * publishes the CA, and every node agent asks for a token for each pod it starts (hollow nodes
 * write no files). 0 (the default, comparable with the figures before tokens existed): the API
 * has no signing key, so the agents mount none.
 */
const TOKENS = numArg("tokens", 0) !== 0;
const zoneOf = (i: number) => ({ "topology.kubernetes.io/zone": `zone-${i % 10}` });

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
const mb = (b: number) => (b / 2 ** 20).toFixed(0);

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: "bench-schedule" });
const store = await KvStore.open(nc);
const obs = new Observability({ metrics: OBSERVE_MODE === 1 || OBSERVE_MODE === 2, actors: OBSERVE_MODE === 1 || OBSERVE_MODE === 3 });
const apiRegistry = obs.registry("api");
if (apiRegistry) instrumentStore(store, apiRegistry);
const api = await Api.open(store, TOKENS ? { tokens: await ephemeralServiceAccountTokens() } : {});

const tNodes = performance.now();
const agents: NodeAgent[] = [];
for (let i = 0; i < NODES; i++) {
  const name = `hollow-${String(i).padStart(3, "0")}`;
  if (AGENTS) {
    agents.push(await startNodeAgent({ client: api, runtime: new HollowRuntime(), name, heartbeatIntervalMs: 5000, resyncMs: 60_000, labels: SPREAD ? zoneOf(i) : undefined, observe: obs.observe(name, { nc, scope: name }) }));
  } else {
    const now = new Date().toISOString();
    await api.create("nodes", {
      apiVersion: "v1", kind: "Node", metadata: { name, labels: SPREAD ? { "kubernetes.io/hostname": name, ...zoneOf(i) } : undefined }, spec: {},
      status: { allocatable: { cpu: "2", memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now }] },
    });
  }
}
const cp = await startControlPlane({ ...(TOKENS ? { rootCaPem: (await generateCa()).certPem } : {}), client: api, nodeGracePeriodMs: 60_000, podEvictionTimeoutMs: 120_000, scheduledEvents: false, observe: obs.observe("control-plane", { nc, scope: "control-plane" }) });
const readyNodes = async () => (await api.list("nodes")).items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
while ((await readyNodes()) < NODES) await new Promise((r) => setTimeout(r, 100));
const nodesMs = performance.now() - tNodes;

const perRc = Math.ceil(PODS / RCS);
let firstBoundMs = 0;
let allBoundMs = 0;
let allRunningMs = 0;
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const natsCpu0 = procCpuSeconds(nats.pid);
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
await Promise.all(Array.from({ length: RCS }, (_, i) => api.create("replicationcontrollers", {
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name: `bench-${i}` },
  spec: {
    replicas: Math.min(perRc, PODS - i * perRc),
    selector: { app: `bench-${i}` },
    template: {
      metadata: { labels: { app: `bench-${i}` } },
      spec: {
        containers: [{ name: "c", image: "berth/busybox:latest" }],
        ...(SPREAD ? { topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" as const, labelSelector: { matchLabels: { app: `bench-${i}` } } },
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" as const, labelSelector: { matchLabels: { app: `bench-${i}` } } },
        ] } : {}),
      },
    },
  },
}, "default")));
const createMs = performance.now() - t0;

// Count from the control plane's own pod cache (a watch), not by listing 5,000 pods repeatedly,
// and stamp each figure in the informer's change handler: a timer polling the cache would read
// the time only when the event loop next runs timers, and on this shared machine a busy loop can
// leave timers waiting for seconds (the "event loop delay" printed below), which would then be
// counted as time to Running.
const boundKeys = new Set<string>();
const runningKeys = new Set<string>();
await new Promise<void>((resolve) => {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    allRunningMs = performance.now() - t0;
    unsubscribe();
    resolve();
  };
  const see = (key: string, p: { spec: { nodeName?: string }; status?: { phase?: string } } | undefined) => {
    const now = performance.now() - t0;
    if (p?.spec.nodeName) boundKeys.add(key); else boundKeys.delete(key);
    if (p?.status?.phase === "Running") runningKeys.add(key); else runningKeys.delete(key);
    if (boundKeys.size > 0 && !firstBoundMs) firstBoundMs = now;
    if (boundKeys.size >= PODS && !allBoundMs) allBoundMs = now;
    if (runningKeys.size >= PODS || (!AGENTS && boundKeys.size >= PODS)) finish();
  };
  const keyOf = (p: { metadata: { namespace?: string; name?: string } }) => `${p.metadata.namespace}/${p.metadata.name}`;
  const unsubscribe = cp.informers.pods.subscribe((ev) => see(keyOf(ev.object), ev.type === "DELETED" ? undefined : ev.object));
  for (const p of cp.informers.pods.list()) see(keyOf(p), p);
  if (TIMELINE) {
    // Per second: pods that exist, are bound and are Running (the control plane's cache), and CPU used.
    let cpu = process.cpuUsage();
    const line = setInterval(() => {
      let n = 0, b = 0, r = 0;
      for (const p of cp.informers.pods.list()) { n++; if (p.spec.nodeName) b++; if (p.status?.phase === "Running") r++; }
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      console.log(`t=${((performance.now() - t0) / 1000).toFixed(1)}s pods ${n} bound ${b} running ${r} cpu ${((used.user + used.system) / 1e4).toFixed(0)}%`);
      if (done) clearInterval(line);
    }, 1000);
  }
});

clearInterval(sampler);
const cpu = process.cpuUsage(cpu0);
const natsCpu = procCpuSeconds(nats.pid) - natsCpu0;
loopDelay.disable();
const perNode = new Map<string, number>();
for (const p of cp.informers.pods.list()) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
const counts = [...perNode.values()];

console.log(`command: npx tsx bench/schedule.ts --nodes ${NODES} --pods ${PODS} --rcs ${RCS}${AGENTS ? "" : " --agents 0"}${SPREAD ? " --spread 1" : ""}${TOKENS ? " --tokens 1" : ""} --observe ${OBSERVE_MODE}`);
console.log(`machine: ${(await import("node:os")).cpus().length} cpus, node ${process.version}; ${nodeFlagsLine}`);
console.log(`nodes registered and Ready: ${NODES} in ${(nodesMs / 1000).toFixed(1)} s`);
console.log(`RC creates (${RCS}) answered in ${createMs.toFixed(0)} ms`);
console.log(`first pod bound after ${firstBoundMs.toFixed(0)} ms`);
console.log(`all ${PODS} pods bound after ${(allBoundMs / 1000).toFixed(2)} s  -> ${(PODS / (allBoundMs / 1000)).toFixed(0)} pods/s (create + schedule + bind)`);
if (AGENTS) console.log(`all ${PODS} pods Running after ${(allRunningMs / 1000).toFixed(2)} s  -> ${(PODS / (allRunningMs / 1000)).toFixed(0)} pods/s (end to end, hollow runtime)`);
console.log(`CPU of this process from the RC creates to all Running: ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}; nats-server not included)`);
console.log(`CPU of nats-server over the same window: ${natsCpu.toFixed(2)} s`);
console.log(`event loop delay over the window: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(1)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`);
console.log(`pods per node: min ${Math.min(...counts)}, max ${Math.max(...counts)}`);
if (SPREAD) {
  // The largest zone skew of any RC (max − min pods over the 10 zones): the constraint says ≤ 1.
  const zoneByNode = new Map(cp.informers.nodes.list().map((n) => [n.metadata.name, n.metadata.labels?.["topology.kubernetes.io/zone"]]));
  const perRcZone = new Map<string, Map<string, number>>();
  for (const p of cp.informers.pods.list()) {
    const z = zoneByNode.get(p.spec.nodeName!) ?? "?";
    const m = perRcZone.get(p.metadata.labels!.app) ?? new Map<string, number>();
    perRcZone.set(p.metadata.labels!.app, m.set(z, (m.get(z) ?? 0) + 1));
  }
  const skews = [...perRcZone.values()].map((m) => (m.size < 10 ? Math.max(...m.values()) : Math.max(...m.values()) - Math.min(...m.values())));
  console.log(`largest zone skew of an RC: ${Math.max(...skews)} (maxSkew 1)`);
}
let rcPasses = 0;
for (const loop of cp.controllers.controllers.values()) rcPasses += loop.actor.getSnapshot().context.passes;
console.log(`scheduler passes: ${cp.scheduler.stats.passes}, binds: ${cp.scheduler.stats.bound}, lost binds: ${cp.scheduler.stats.conflicts}; replication controller passes: ${rcPasses}`);
console.log(`peak RSS of the process (API + control plane${AGENTS ? ` + ${NODES} node agents` : ""}): ${mb(peakRss)} MB`);

if (OBSERVE) {
  const series = (await Promise.all(obs.components.map((c) => c.text()))).join("").split("\n").filter((l) => l && !l.startsWith("#")).length;
  console.log(`observability: ${obs.components.length} registries, ${series} series${OBSERVE_MODE !== 2 ? "; actors published on NATS" : ""}`);
}
if (JSON_OUT) {
  console.log(`result ${JSON.stringify({ observe: OBSERVE_MODE, nodes: NODES, pods: PODS, boundMs: Math.round(allBoundMs), runningMs: Math.round(allRunningMs), cpuS: (cpu.user + cpu.system) / 1e6, natsCpuS: natsCpu, loopP99Ms: loopDelay.percentile(99) / 1e6 })}`);
}
await cp.stop();
await Promise.all(agents.map((a) => a.stop()));
obs.close();
await nc.close();
await nats.stop();
process.exit(0);
