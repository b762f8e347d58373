/**
 * Live page benchmark: a hollow cluster (the real node agents on the in-memory runtime) with
 * 5,000 pods, the page open in Debian's Chromium (headless, playwright-core), measuring
 *
 *   1. load → drawn: from the page's navigation start to the first frame after the whole
 *      cluster's snapshot is rendered (the page's own `berth:drawn` performance mark), and the
 *      number of pod elements on it;
 *   2. frame time while 100 pods change per second (label patches through the API, 10 every
 *      100 ms): requestAnimationFrame intervals and Chromium's long-animation-frame entries.
 *
 *   npx tsx bench/dashboard.ts [--nodes 50] [--pods 5000] [--seconds 20] [--rate 100] [--screenshot FILE] [--agents 0] [--procs N]
 *
 * `--procs N` (N > 0): the hollow nodes run in N separate `berth node --runtime hollow --count`
 * processes against a `berth control-plane --rest-port 0` (bench/proc_cluster.ts), as separate
 * machines would, and the page is served by that control plane. Without it the whole hollow
 * cluster (API, control plane and every agent) shares this one process.
 *
 * `--agents 0`: no node agents and no control plane — the nodes and the pods (bound, Running,
 * Ready) are written straight into the store, as bench/schedule.ts does for the control plane
 * alone. The page sees the same objects; the machine spends nothing on running 5,000 hollow pods
 * (on a busy two-core machine the full hollow cluster can take longer to start than the page
 * takes to draw it many times over).
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Cluster } from "../runtime/cluster.ts";
import { startRestApi } from "../runtime/cluster_components.ts";
import { tempHome } from "../test/helpers/cli.ts";
import { startHollowUiCluster } from "../test/helpers/ui_cluster.ts";
import { launchChromium } from "../test/helpers/browser.ts";
import { VIEW_KINDS } from "../runtime/ui/view.ts";
import { numArg, strArg } from "./args.ts";
import { startProcCluster, until, readyNodes } from "./proc_cluster.ts";
import { percentile } from "./stats.ts";

const NODES = numArg("nodes", 50);
const PODS = numArg("pods", 5000);
const SECONDS = numArg("seconds", 20);
const RATE = numArg("rate", 100);
const RCS = Math.max(1, Math.round(PODS / 100));
const AGENTS = numArg("agents", 1) !== 0;
const PROCS = numArg("procs", 0);
const SHOT = strArg("screenshot");
/** `--verbose 1`: while the hollow cluster starts, print its most frequent log messages. */
const VERBOSE = numArg("verbose", 0) !== 0;

/** A busy machine can time a store list out (503); the benchmark tries again rather than stop. */
async function retry<T>(fn: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= tries) throw e;
    }
  }
}

const t0 = performance.now();
interface Bench {
  api: import("../model/client.ts").ApiClient;
  apiUrl: string;
  token: string;
  podNames(): string[];
  stop(): Promise<void>;
}

/** The full hollow cluster: node agents on the in-memory runtime, the control plane, RCs. */
async function hollowCluster(): Promise<Bench> {
  // The cluster's log, counted by message (and a sample of each), printed with the progress lines.
  const logged = new Map<string, { n: number; sample: string }>();
  const log = (msg: string, fields?: Record<string, unknown>) => {
    const e = logged.get(msg);
    if (e) e.n++;
    else logged.set(msg, { n: 1, sample: JSON.stringify(fields).slice(0, 300) });
  };
  // Heartbeats every 5 s need a node grace period well above 5 s: with the default (5 s, made
  // for 1 s heartbeats) a busy machine marked nodes NotReady again and again while 5,000 pods
  // started, and the status writes that followed overloaded the API — the cluster never came
  // up. 40 s is Kubernetes' default grace period.
  const c = await startHollowUiCluster({ nodes: NODES, heartbeatIntervalMs: 5000, nodeGracePeriodMs: 40_000, log });
  console.error(`  … ${NODES} hollow nodes Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const api = c.cluster.api;
  const perRc = Math.ceil(PODS / RCS);
  await Promise.all(
    Array.from({ length: RCS }, (_, i) =>
      api.create("replicationcontrollers", {
        apiVersion: "v1",
        kind: "ReplicationController",
        metadata: { name: `bench-${i}` },
        spec: {
          replicas: Math.min(perRc, PODS - i * perRc),
          selector: { app: `bench-${i}` },
          template: { metadata: { labels: { app: `bench-${i}` } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } },
        },
      }, "default"),
    ),
  );
  // Count from the control plane's own pod cache (a watch), not by listing 5,000 pods repeatedly.
  const pods = c.components.controlPlane.informers.pods;
  const tPods = performance.now();
  let lastReport = 0;
  for (;;) {
    const list = pods.list();
    const running = list.filter((p) => p.status?.phase === "Running").length;
    if (running >= PODS) break;
    const s = (performance.now() - tPods) / 1000;
    if (s - lastReport >= 10) {
      lastReport = s;
      console.error(`  … ${s.toFixed(0)} s: ${list.length} pods, ${list.filter((p) => p.spec.nodeName).length} bound, ${running} Running`);
      if (VERBOSE) for (const [m, e] of [...logged].sort((a, b) => b[1].n - a[1].n).slice(0, 8)) console.error(`      log ×${e.n} ${m} ${e.sample}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return { api, apiUrl: c.apiUrl, token: c.token, podNames: () => pods.list().map((p) => p.metadata.name), stop: () => c.stop() };
}

/** Hollow nodes in `PROCS` processes, the API and control plane in another (bench/proc_cluster.ts). */
async function processCluster(): Promise<Bench> {
  const pc = await startProcCluster({ nodes: NODES, procs: PROCS, heartbeatS: 5, rest: true });
  pc.startNodes();
  const api = pc.client;
  await until(async () => (await readyNodes(api)) >= NODES, "every node Ready", 300_000);
  console.error(`  … ${NODES} hollow nodes in ${PROCS} processes Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const perRc = Math.ceil(PODS / RCS);
  for (let i = 0; i < RCS; i++) {
    await api.create("replicationcontrollers", {
      apiVersion: "v1", kind: "ReplicationController", metadata: { name: `bench-${i}` },
      spec: {
        replicas: Math.min(perRc, PODS - i * perRc),
        selector: { app: `bench-${i}` },
        template: { metadata: { labels: { app: `bench-${i}` } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } },
      },
    }, "default");
  }
  // Count from one watch, not by listing 5,000 pods repeatedly.
  const phase = new Map<string, string>();
  const list = await api.list("pods", { namespace: "default" });
  for (const p of list.items) phase.set(p.metadata.name, p.status?.phase ?? "");
  const w = await api.watch("pods", { namespace: "default", resourceVersion: list.metadata.resourceVersion });
  void (async () => {
    for await (const ev of w) {
      if (ev.type === "DELETED") phase.delete(ev.object.metadata.name);
      else if (ev.type === "ADDED" || ev.type === "MODIFIED") phase.set(ev.object.metadata.name, (ev.object as { status?: { phase?: string } }).status?.phase ?? "");
    }
  })().catch(() => {});
  const tPods = performance.now();
  let lastReport = 0;
  for (;;) {
    const running = [...phase.values()].filter((v) => v === "Running").length;
    if (running >= PODS) break;
    const sec = (performance.now() - tPods) / 1000;
    if (sec - lastReport >= 10) {
      lastReport = sec;
      console.error(`  … ${sec.toFixed(0)} s: ${phase.size} pods, ${running} Running`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  console.error(`  ${PODS} pods Running ${((performance.now() - tPods) / 1000).toFixed(1)} s after the RCs`);
  w.stop();
  return { api, apiUrl: pc.restUrl!, token: pc.token!, podNames: () => [...phase.keys()], stop: () => pc.stop() };
}

/** Objects only: Ready nodes and bound, Running, Ready pods written into the store. */
async function objectsOnly(): Promise<Bench> {
  const home = tempHome("berth-ui-bench-");
  const cluster = await Cluster.start({ home });
  const rest = await startRestApi(cluster, {});
  const api = cluster.api;
  const now = new Date().toISOString();
  const nodes = Array.from({ length: NODES }, (_, i) => `hollow-${String(i).padStart(3, "0")}`);
  for (const name of nodes) {
    await api.create("nodes", {
      apiVersion: "v1", kind: "Node", metadata: { name }, spec: {},
      status: { allocatable: { cpu: "2", memory: "8Gi", pods: "110" }, conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now }] },
    });
  }
  const names = Array.from({ length: PODS }, (_, i) => `bench-${Math.floor(i / 100)}-${String(i % 100).padStart(2, "0")}`);
  for (let i = 0; i < names.length; i += 50) {
    await Promise.all(names.slice(i, i + 50).map(async (name, j) => {
      const n = i + j;
      const created = await retry(() => api.create("pods", {
        apiVersion: "v1", kind: "Pod",
        metadata: { name, labels: { app: `bench-${Math.floor(n / 100)}` } },
        spec: { nodeName: nodes[n % NODES], containers: [{ name: "c", image: "berth/busybox:latest" }] },
      }, "default"));
      await retry(() => api.updateStatus("pods", {
        ...created,
        status: {
          phase: "Running", podIP: `10.1.${Math.floor(n / 250)}.${n % 250}`, startTime: now,
          conditions: [{ type: "Ready", status: "True" }],
          containerStatuses: [{ name: "c", ready: true, restartCount: 0, image: "berth/busybox:latest", state: { running: { startedAt: now } } }],
        },
      }));
    }));
  }
  return {
    api,
    apiUrl: rest.url,
    token: readFileSync(join(home, "token"), "utf8").trim(),
    podNames: () => names,
    async stop() {
      await cluster.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

const c = !AGENTS ? await objectsOnly() : PROCS > 0 ? await processCluster() : await hollowCluster();
const api = c.api;
const clusterMs = performance.now() - t0;
const listMs: string[] = [];
for (const kind of VIEW_KINDS) {
  const t = performance.now();
  const n = (await retry(() => api.list(kind))).items.length;
  listMs.push(`${kind} ${n} in ${(performance.now() - t).toFixed(0)} ms`);
}

const b = await launchChromium();
try {
  const ctx = await b.context({ width: 1280, height: 800 });
  const page = await ctx.newPage();
  page.on("pageerror", (e) => console.error("page error:", e.message));
  await page.goto(`${c.apiUrl}/ui/`);
  await page.fill("#token", c.token);
  await Promise.all([page.waitForURL(`${c.apiUrl}/ui/`), page.click("button[type=submit]")]);
  // Page-side code is typed loosely: this file is checked without the DOM library. Functions,
  // not strings: the page's CSP (no 'unsafe-eval') refuses string predicates.
  // deno-lint-ignore no-explicit-any
  type G = any;
  await page.waitForFunction((n: number) => {
    const g = globalThis as G;
    return g.document.querySelectorAll("[data-pod]").length >= n && g.performance.getEntriesByName("berth:drawn").length > 0;
  }, PODS, { timeout: 300_000, polling: 100 });
  const load = await page.evaluate(() => {
    const g = globalThis as G;
    return {
      drawnMs: g.performance.getEntriesByName("berth:drawn")[0].startTime as number,
      snapshotMs: (g.performance.getEntriesByName("berth:snapshot")[0]?.startTime ?? NaN) as number,
      pods: g.document.querySelectorAll("[data-pod]").length as number,
    };
  });

  if (SHOT) await page.screenshot({ path: SHOT });

  // Frame timing in the page while pods change. A string, not a function: tsx would wrap the
  // function's inner names in a helper that does not exist in the page.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__loaf = [];
    window.__stop = false;
    let last = performance.now();
    window.__tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (!window.__stop) requestAnimationFrame(window.__tick);
    };
    requestAnimationFrame(window.__tick);
    try {
      new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__loaf.push(e.duration); })
        .observe({ type: "long-animation-frame", buffered: false });
    } catch {}
  })()`);
  const names = c.podNames();
  const perTick = Math.max(1, Math.round(RATE / 10));
  let changed = 0;
  let inFlight = 0;
  const tStart = performance.now();
  let tick = 0;
  // Patches are launched on the clock, not one batch after another: a slow API must not lower
  // the rate the page sees (at most 200 in flight; the rate printed is what completed).
  while (performance.now() - tStart < SECONDS * 1000) {
    if (inFlight < 200) {
      for (let i = 0; i < perTick; i++) {
        const n = names[(tick * perTick + i) % names.length];
        inFlight++;
        void api.patch("pods", n, { metadata: { labels: { tick: String(tick) } } }, { namespace: "default", type: "merge" }).then(
          () => (changed++, inFlight--),
          () => inFlight--,
        );
      }
    }
    tick++;
    const next = tStart + tick * 100;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  const elapsed = (performance.now() - tStart) / 1000;
  const frames = await page.evaluate(() => {
    const g = globalThis as G;
    g.__stop = true;
    return { frames: g.__frames.slice(1) as number[], loaf: g.__loaf as number[] };
  });
  const pct = (xs: number[], q: number) => percentile(xs, q * 100);
  const f = frames.frames;
  console.log(`berth live page benchmark — ${NODES} ${AGENTS ? `hollow nodes (node agents, in-memory runtime${PROCS > 0 ? `, in ${PROCS} processes; API and control plane in another` : ", all in this process"})` : "nodes and pods written to the store (--agents 0)"}, ${PODS} pods; Chromium headless at 1280×800`);
  console.log(`  cluster up with every pod Running:      ${(clusterMs / 1000).toFixed(1)} s`);
  console.log(`  server lists (${PROCS > 0 && AGENTS ? "over NATS" : "in-process API"}): ${listMs.join(", ")}`);
  console.log(`  load → snapshot received:               ${load.snapshotMs.toFixed(0)} ms`);
  console.log(`  load → ${load.pods} pods drawn:              ${load.drawnMs.toFixed(0)} ms`);
  console.log(`  while ${(changed / elapsed).toFixed(0)} pods change per second for ${elapsed.toFixed(0)} s (${f.length} frames):`);
  console.log(`    frame interval p50 ${pct(f, 0.5).toFixed(1)} ms, p95 ${pct(f, 0.95).toFixed(1)} ms, p99 ${pct(f, 0.99).toFixed(1)} ms, max ${Math.max(...f).toFixed(1)} ms; frames over 50 ms: ${f.filter((x) => x > 50).length}`);
  console.log(`    long animation frames (>50 ms): ${frames.loaf.length}${frames.loaf.length ? `, p50 ${pct(frames.loaf, 0.5).toFixed(0)} ms, max ${Math.max(...frames.loaf).toFixed(0)} ms` : ""}`);
  console.log(`  command: npx tsx bench/dashboard.ts --nodes ${NODES} --pods ${PODS} --seconds ${SECONDS} --rate ${RATE}${AGENTS ? (PROCS > 0 ? ` --procs ${PROCS}` : "") : " --agents 0"}`);
} finally {
  await b.close();
  await c.stop();
}
process.exit(0);
