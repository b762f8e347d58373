/**
 * Load limits benchmark (the "one object / one client can ask for anything" issue), on loopback
 * with the hollow runtime. Three parts, one process (nats-server is a child):
 *
 *   quota    an RC with replicas 1e9 in `default`, which has `berth up`'s default quota: how many
 *            pods, how many `exceeded quota` events, and how long `pods.list {limit:1}` over the
 *            NATS API takes afterwards (and after scaling to 0 and compaction);
 *   watches  2,000 concurrent REST `?watch=1` calls while one client does ordinary GETs and
 *            creates: their p50/p99 and errors, during and after. The watches come from
 *            --watch-sources loopback addresses (127.0.0.2, .3, …; default 8, so no address
 *            passes the server's 512 connections per address) and go to a server of their own
 *            over the same Api whose watch caps and rate-limit burst admit all of them (Berth has
 *            one REST identity, so 2,000 clients would otherwise be one identity's 1,000-watch
 *            cap): this measures what open watches cost, not the admission policy;
 *   rate     one client creating pods as fast as it can over REST (and over NATS): accepted/s,
 *            429s and their Retry-After.
 *
 *   npx tsx bench/load_limits.ts [--nodes 10] [--watches 2000] [--watch-sources 8] [--seconds 10] [--part quota,watches,rate]
 */
import { Agent, request } from "node:http";
import { spawn } from "node:child_process";
import { cpus } from "node:os";
import { Api } from "../runtime/api/api.ts";
import { NatsApiClient } from "../runtime/api/nats_client.ts";
import { serveApiOverNats } from "../runtime/api/nats_server.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { startControlPlane } from "../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../runtime/containers/hollow.ts";
import { startHttpApi } from "../runtime/http/server.ts";
import { ensureDefaultQuota } from "../runtime/default_quota.ts";
import { strArg } from "./args.ts";
import { percentile } from "./stats.ts";

const NODES = Number(strArg("nodes", "10"));
const WATCHES = Number(strArg("watches", "2000"));
const SECONDS = Number(strArg("seconds", "10"));
const PARTS = new Set(strArg("part", "quota,watches,rate").split(","));
const WATCH_SOURCES = Number(strArg("watch-sources", "8"));
const TOKEN = "bench-token-0123456789abcdef";

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: "bench-load" });
const store = await KvStore.open(nc);
const api = await Api.open(store);
const natsApi = serveApiOverNats(nc, api);
const remoteNc = await connectNats({ servers: nats.url, name: "bench-client" });
const remote = new NatsApiClient(remoteNc);
const http = await startHttpApi({ api, token: TOKEN, tls: false });
const keepAlive = new Agent({ keepAlive: true, maxSockets: 32 });

const pct = percentile;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

function rest(method: string, path: string, body?: unknown, agent: Agent = keepAlive): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(new URL(path, http.url), {
      method,
      agent,
      headers: { authorization: `Bearer ${TOKEN}`, ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}) },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** The watcher process: opens N watches, reads each until its initial state is in, prints the status counts, holds them until stdin closes. */
const WATCHER = `
import { request, Agent } from "node:http";
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const n = Number(process.env.N);
const sources = Number(process.env.SOURCES);
const counts = {};
const reqs = [];
await Promise.all(Array.from({ length: n }, (_, i) => new Promise((resolve) => {
  const req = request(process.env.URL, { agent, localAddress: "127.0.0." + (2 + (i % sources)), headers: { authorization: "Bearer " + process.env.TOKEN } });
  reqs.push(req);
  req.on("response", (res) => {
    counts[res.statusCode] = (counts[res.statusCode] ?? 0) + 1;
    if (res.statusCode !== 200) {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => {
        const why = /open watches/.test(body) ? "429 watch cap" : /Too many requests/.test(body) ? "429 rate limit" : "other " + body.slice(0, 100);
        counts[why] = (counts[why] ?? 0) + 1;
        resolve();
      });
      return;
    }
    let lines = 0;
    let head = "";
    res.on("data", (d) => { if (head.length < 300) head += d; for (const c of d) if (c === 10) lines++; if (lines >= 200) resolve(); });
    res.on("end", () => { if (lines < 200) { counts.endedEarly = (counts.endedEarly ?? 0) + 1; counts.firstEarly ??= head.slice(0, 300); } resolve(); });
  });
  req.on("error", () => { counts.error = (counts.error ?? 0) + 1; resolve(); });
  req.end();
})));
process.stdout.write(JSON.stringify(counts) + "\\n");
process.stdin.on("data", () => { for (const r of reqs) r.destroy(); process.exit(0); });
`;

const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } });

console.log(`command: npx tsx bench/load_limits.ts --nodes ${NODES} --watches ${WATCHES} --watch-sources ${WATCH_SOURCES} --seconds ${SECONDS} --part ${[...PARTS].join(",")}`);
console.log(`machine: ${cpus().length} cpus, node ${process.version}; nats-server ${nats.url} (loopback)`);

// -------------------------------------------------------------------------------------------
if (PARTS.has("quota")) {
  const agents: NodeAgent[] = [];
  for (let i = 0; i < NODES; i++) {
    agents.push(await startNodeAgent({ client: api, runtime: new HollowRuntime(), name: `hollow-${i}`, heartbeatIntervalMs: 5000, resyncMs: 60_000 }));
  }
  const cp = await startControlPlane({ client: api, nodeGracePeriodMs: 60_000, podEvictionTimeoutMs: 120_000, scheduledEvents: false });
  await ensureDefaultQuota(api);
  const hard = (await api.get("resourcequotas", "default-quota", "default")).spec?.hard?.pods;
  const t0 = performance.now();
  await api.create("replicationcontrollers", {
    apiVersion: "v1", kind: "ReplicationController", metadata: { name: "bomb" },
    spec: { replicas: 1e9, selector: { app: "bomb" }, template: { metadata: { labels: { app: "bomb" } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } } },
  }, "default");
  // Until the RC reports the quota refusal and the pod count stops moving.
  let pods = 0;
  for (let last = -1, still = 0; still < 3; ) {
    await sleep(1000);
    pods = cp.informers.pods.list().filter((p) => p.metadata.namespace === "default").length;
    const rc = await api.get("replicationcontrollers", "bomb", "default");
    const failed = rc.status?.conditions?.some((c) => c.type === "ReplicaFailure" && /exceeded quota/.test(c.message ?? ""));
    still = failed && pods === last ? still + 1 : 0;
    last = pods;
  }
  const settledS = (performance.now() - t0) / 1000;
  const events = (await api.list("events", { namespace: "default" })).items;
  const quotaEvents = events.filter((e) => e.reason === "FailedCreate" && /exceeded quota/.test(e.message ?? "")).length;
  const listOnce = async () => {
    const t = performance.now();
    await remote.list("pods", { namespace: "default", limit: 1 });
    return performance.now() - t;
  };
  const list1 = await listOnce();
  const rc = await api.get("replicationcontrollers", "bomb", "default");
  console.log(`\n[quota] RC replicas 1e9 with the default quota (pods ${hard}), ${NODES} hollow nodes:`);
  console.log(`  ${pods} pods created (settled after ${settledS.toFixed(1)} s, polled each 1 s); ${quotaEvents} FailedCreate events "exceeded quota" of ${events.length} events in all`);
  console.log(`  RC condition: ${rc.status?.conditions?.find((c) => c.type === "ReplicaFailure")?.message}`);
  console.log(`  pods.list {limit:1} over the NATS API: ${ms(list1)}`);
  const tDown = performance.now();
  await api.updateScale("bomb", 0, "default");
  while (cp.informers.pods.list().filter((p) => p.metadata.namespace === "default").length > 0) await sleep(200);
  const downS = (performance.now() - tDown) / 1000;
  const used = async () => (await api.get("resourcequotas", "default-quota", "default")).status?.used?.pods;
  while ((await used()) !== "0") await sleep(100);
  const tc = performance.now();
  const compacted = await store.compact(0);
  const compactMs = performance.now() - tc;
  console.log(`  scaled to 0: all pods gone in ${downS.toFixed(1)} s; quota used back to ${await used()}`);
  console.log(`  compaction: ${store.lastPurged} delete markers purged in ${ms(compactMs)} (revision ${compacted}); pods.list {limit:1} then: ${ms(await listOnce())}`);
  await api.delete("replicationcontrollers", "bomb", "default");
  await cp.stop();
  for (const a of agents) await a.stop();
  // Clean slate for the other parts.
  for (const e of (await api.list("events", { namespace: "default" })).items) await api.delete("events", e.metadata.name, "default").catch(() => {});
  await api.delete("resourcequotas", "default-quota", "default");
}

// -------------------------------------------------------------------------------------------
if (PARTS.has("watches")) {
  for (let i = 0; i < 200; i++) await api.create("pods", pod(`w-${i}`), "default");
  const watchHttp = await startHttpApi({
    api,
    token: TOKEN,
    tls: false,
    watchCaps: { total: WATCHES, perIdentity: WATCHES },
    rateLimit: { default: { ratePerSecond: 100, burst: WATCHES + 500 } },
  });
  const ordinary = async (durationMs: number) => {
    const lat: number[] = [];
    let errors = 0;
    const codes = new Map<number, number>();
    const end = Date.now() + durationMs;
    let n = 0;
    while (Date.now() < end) {
      const t = performance.now();
      const r = n++ % 2 ? await rest("GET", "/api/v1/namespaces/default/pods/w-1") : await rest("POST", "/api/v1/namespaces/default/services", { apiVersion: "v1", kind: "Service", metadata: { generateName: "s-" }, spec: { ports: [{ port: 80 }] } });
      lat.push(performance.now() - t);
      await sleep(Math.max(0, 50 - (performance.now() - t)));
      codes.set(r.status, (codes.get(r.status) ?? 0) + 1);
      if (r.status >= 300) errors++;
    }
    return { n: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), lat, errors, codes: Object.fromEntries(codes) };
  };
  const before = await ordinary(3000);
  // The watchers run in a child process, as separate clients would: their reading must not
  // share this process's CPU with the server being measured.
  const tOpen = performance.now();
  // Ordinary requests from the moment the watches start arriving until 8 s after all are open.
  let opened = false;
  const duringP = (async () => {
    const parts = [];
    while (!opened) parts.push(await ordinary(1000));
    parts.push(await ordinary(8000));
    return parts;
  })();
  const child = spawn(process.execPath, ["--input-type=module", "-e", WATCHER], {
    env: { ...process.env, URL: `${watchHttp.url}/api/v1/namespaces/default/pods?watch=1`, TOKEN, N: String(WATCHES), SOURCES: String(WATCH_SOURCES) },
    stdio: ["pipe", "pipe", "inherit"],
  });
  let childOut = "";
  child.stdout!.on("data", (d) => (childOut += d));
  const statuses = await new Promise<Record<string, number>>((resolve) => {
    child.stdout!.on("data", () => {
      const line = childOut.split("\n").find((l) => l.startsWith("{"));
      if (line) resolve(JSON.parse(line));
    });
  });
  const openMs = performance.now() - tOpen;
  opened = true;
  const parts = await duringP;
  const all = parts.flatMap((p) => p.lat);
  const d = { n: all.length, p50: pct(all, 50), p99: pct(all, 99), max: Math.max(...all), errors: parts.reduce((a, p) => a + p.errors, 0), codes: parts.reduce((a, p) => { for (const [k, v] of Object.entries(p.codes)) a[k] = (a[k] ?? 0) + v; return a; }, {} as Record<string, number>) };
  child.stdin!.end("close\n");
  await new Promise((r) => child.on("exit", r));
  const after = await ordinary(3000);
  await watchHttp.close();
  console.log(`\n[watches] ${WATCHES} concurrent REST ?watch=1 (no resourceVersion) over 200 pods from another process and ${WATCH_SOURCES} loopback addresses; one client doing GET pod / POST service, 20 a second:`);
  console.log(`  watch answers: ${JSON.stringify(statuses)} (all answered, initial state read, in ${ms(openMs)}); store lists run: ${api.stats.storeLists}, watch cache loads: ${api.cache.stats.loads}`);
  console.log(`  ordinary requests before: n=${before.n} p50 ${ms(before.p50)} p99 ${ms(before.p99)} errors ${before.errors}`);
  console.log(`  ordinary requests while the watches open and for 8 s after n=${d.n} p50 ${ms(d.p50)} p99 ${ms(d.p99)} max ${ms(d.max)} errors ${d.errors} ${JSON.stringify(d.codes)}`);
  // The two halves apart: the opening (2,000 initial states being sent) and the 8 s with every
  // watch open and idle (what "2,000 watches open" costs ordinary requests).
  const opening = parts.slice(0, -1).flatMap((p) => p.lat);
  const open = parts.at(-1)!;
  console.log(`    of which while opening: n=${opening.length} p50 ${ms(pct(opening, 50))} p99 ${ms(pct(opening, 99))}; with all ${WATCHES} open: n=${open.lat.length} p50 ${ms(open.p50)} p99 ${ms(open.p99)} max ${ms(open.max)} errors ${open.errors} (p99 ${(open.p99 / before.p99).toFixed(2)}× idle)`);
  console.log(`  ordinary requests after:  n=${after.n} p50 ${ms(after.p50)} p99 ${ms(after.p99)} errors ${after.errors}`);
}

// -------------------------------------------------------------------------------------------
if (PARTS.has("rate")) {
  await sleep(6000); // let the REST client's bucket refill after the parts above
  const flood = async (name: string, create: (i: number) => Promise<{ ok: boolean; retryAfter?: string }>) => {
    let ok = 0;
    let refused = 0;
    const retryAfter = new Set<string>();
    const end = Date.now() + SECONDS * 1000;
    let i = 0;
    const worker = async () => {
      while (Date.now() < end) {
        const r = await create(i++);
        if (r.ok) ok++;
        else {
          refused++;
          if (r.retryAfter) retryAfter.add(r.retryAfter);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    console.log(`  ${name}: ${ok} accepted in ${SECONDS} s = ${(ok / SECONDS).toFixed(0)}/s; ${refused} refused 429, Retry-After ${[...retryAfter].join(",") || "-"} s`);
  };
  console.log(`\n[rate] one client creating pods as fast as it can (16 at a time) for ${SECONDS} s; default bucket 100/s, burst 500:`);
  await flood("REST", async (i) => {
    const r = await rest("POST", "/api/v1/namespaces/default/pods", pod(`r-${i}`));
    return { ok: r.status === 201, retryAfter: r.headers["retry-after"] as string | undefined };
  });
  await flood("NATS", async (i) => {
    const m = await remoteNc.request("berth.api.v1.pods.create", JSON.stringify({ object: pod(`n-${i}`) }), { timeout: 10_000 });
    const v = m.json<{ kind: string; details?: { retryAfterSeconds?: number } }>();
    return { ok: v.kind === "Pod", retryAfter: v.details?.retryAfterSeconds?.toString() };
  });
  console.log(`  NATS rate limiter: ${JSON.stringify(natsApi.rateStats)}`);
}

await http.close();
await natsApi.stop();
api.close();
await remoteNc.close();
await nc.close();
await nats.stop();
process.exit(0);
