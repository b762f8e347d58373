/**
 * Service proxy benchmark: Berth's TcpProxy vs a direct connection vs HAProxy (Debian, TCP
 * mode), all in front of the same loopback upstream, in one run.
 *
 *   npx tsx bench/proxy.ts [--duration 10] [--connections 32] [--workers 1] [--haproxy-threads N]
 *                          [--peer DIR] [--rounds 1]
 *
 * Upstreams (native, so the upstream is not the Node process being measured):
 *   - short requests: an HAProxy instance answering every HTTP request itself (`http-request
 *     return`, a 10 KiB body), measured with wrk, keep-alive and one-connection-per-request;
 *   - bulk transfer: busybox httpd serving a 256 MiB file, measured with wrk (Transfer/sec).
 * Every address is on 127.0.0.1. Installs haproxy/wrk with apt-get only when missing.
 *
 * As root it adds the nftables proxy mode (bench/nft_netns.ts): wrk in a private "client"
 * network namespace → a "node" namespace whose Berth rules DNAT the ClusterIP → the same
 * upstreams in a "pod" namespace, beside "direct (netns)" (wrk → the pod's address along the
 * same veths, routed by the node without hitting a service rule).
 * `--nftables 0` leaves these rows out. The Service's endpoint is a second address of the pod, so
 * the two rows never share a TCP 4-tuple in the pod's TIME_WAIT (`--nft-shared-pod-address 1`
 * shares it, as the first version did, and shows the PAWS rejections that cost 0.2–0.4×).
 *
 * Like with like: the HAProxy peer runs as many threads (`nbthread`) as Berth has event loops
 * (1 + `--workers`), unless `--haproxy-threads` says otherwise. HAProxy's own default since 2.5
 * is one thread per available CPU, which on this 2-core machine is also 2 = Berth's default here.
 * `--peer DIR` adds a row for another checkout's TcpProxy (e.g. main in a `git worktree`), with
 * the same worker setting, measured in the same run. `--rounds N` repeats the measurement,
 * rotating which path goes first, and prints each round's ratios to HAProxy.
 *
 * Each row also shows the load generator's CPU (wrk's user + system time, out of 100% per core)
 * and how busy the whole machine was (/proc/stat), so a run where wrk or the neighbours hold
 * the cores shows it.
 *
 * Besides req/s it reports the proxy's CPU time per request (Berth: this process's
 * `process.cpuUsage`, the proxy being the only thing it runs during a measurement; HAProxy: its
 * /proc/<pid>/stat). On a shared machine req/s moves with the neighbours' load; CPU per request
 * moves much less, so it is the fairer comparison of the two proxies' efficiency.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, writeFileSync, rmSync, openSync, closeSync, ftruncateSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { TcpProxy } from "../runtime/proxy/tcp_proxy.ts";
import { startNftBench, type NftBench } from "./nft_netns.ts";

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DURATION = arg("duration", 10);
const CONNECTIONS = arg("connections", 32);
/** Berth's worker processes (TcpProxyOptions.workers): 1 = two event loops in all. */
const WORKERS = arg("workers", 1);
const NFTABLES = arg("nftables", process.getuid?.() === 0 ? 1 : 0) === 1;
/** `--nft-shared-pod-address 1`: the Service's endpoint is the direct row's address (the old setup; see bench/nft_netns.ts). */
const NFT_SHARED = arg("nft-shared-pod-address", 0) === 1;
/** HAProxy's threads: by default as many as Berth's event loops (this process + its workers). */
const HA_THREADS = arg("haproxy-threads", 1 + WORKERS);
const ROUNDS = arg("rounds", 1);
const PEER_DIR = ((i) => (i >= 0 ? args[i + 1] : undefined))(args.indexOf("--peer"));

function ensureTools(): void {
  const missing = ["haproxy", "wrk"].filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.error(`installing ${missing.join(", ")} with apt-get`);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitListening(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.on("connect", () => (s.destroy(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `host:port` accepts a connection from inside a namespace (`exec` prefix). */
async function waitListeningIn(exec: string[], host: string, port: number): Promise<void> {
  const probe = `require("node:net").connect(${port}, "${host}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await execFileP(exec[0], [...exec.slice(1), process.execPath, "-e", probe]);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} in ${exec.join(" ")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface WrkResult {
  rps: number;
  /** CPU microseconds the proxy spent per request (NaN when not measured). */
  cpuUsPerReq: number;
  /** CPU microseconds the proxy spent during the whole measurement. */
  cpuUs: number;
  p99ms: number;
  mbps: number;
  errors: string;
  /** wrk's CPU time over the run, in % of one core. */
  wrkCpuPct: number;
  /** The whole machine's busy share over the run, 0–100 %. */
  hostBusyPct: number;
}

/** Busy and total jiffies of all CPUs (/proc/stat's first line). */
function hostJiffies(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3] + (f[4] ?? 0);
  return { busy: total - idle, total };
}

function parseLatency(s: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(s);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

function parseSize(s: string): number {
  const m = /([\d.]+)([KMG]?B)/.exec(s);
  if (!m) return NaN;
  const mult = { B: 1 / 1024 / 1024, KB: 1 / 1024, MB: 1, GB: 1024 }[m[2]] ?? 1;
  return Number(m[1]) * mult;
}

const execFileP = promisify(execFile);

/** CPU time (µs) of a process: this one, another by pid (/proc), or nothing measured. */
type CpuClock = () => number;
const selfCpu: CpuClock = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const pidCpu = (pid: number): CpuClock => () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // Fields 14 and 15 (utime, stime) in clock ticks; after the ") " split they are at 11 and 12.
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
};
const noCpu: CpuClock = () => NaN;

/** Runs wrk without blocking this process's event loop (the Berth proxy under test lives here). */
async function wrk(url: string, opts: { connections: number; close?: boolean; threads?: number; cpu?: CpuClock; exec?: string[] }): Promise<WrkResult> {
  const a = ["-t", String(opts.threads ?? 2), "-c", String(opts.connections), "-d", `${DURATION}s`, "--latency"];
  if (opts.close) a.push("-H", "Connection: close");
  const cpu = opts.cpu ?? noCpu;
  const cpu0 = cpu();
  const host0 = hostJiffies();
  // wrk under a shell that prints its own /proc stat once wrk has been waited for: cutime and
  // cstime are then wrk's CPU time.
  const script = 'wrk "$@"; s=$?; echo "WRKSTAT $(cat /proc/$$/stat)"; exit $s';
  const argv = [...(opts.exec ?? []), "sh", "-c", script, "sh", ...a, url];
  const t0 = performance.now();
  const { stdout: out } = await execFileP(argv[0], argv.slice(1), { encoding: "utf8" });
  const wallMs = performance.now() - t0;
  const cpuUs = cpu() - cpu0;
  const host1 = hostJiffies();
  const st = (/WRKSTAT .*?\) (.*)/.exec(out)?.[1] ?? "").split(" ");
  // After the ") " split: cutime and cstime (fields 16 and 17) are at 13 and 14, in clock ticks.
  const wrkCpuPct = ((Number(st[13]) + Number(st[14])) * 10) / (wallMs / 100);
  const hostBusyPct = (100 * (host1.busy - host0.busy)) / (host1.total - host0.total);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  const p99 = parseLatency(/99%\s+(\S+)/.exec(out)?.[1] ?? "");
  const mbps = parseSize(/Transfer\/sec:\s+(\S+)/.exec(out)?.[1] ?? "");
  const errors = /Socket errors:[^\n]*|Non-2xx[^\n]*/g.exec(out)?.[0] ?? "";
  return { rps, cpuUsPerReq: cpuUs / requests, cpuUs, p99ms: p99, mbps, errors, wrkCpuPct, hostBusyPct };
}

function startHaproxy(cfg: string, dir: string, name: string): ChildProcess {
  const path = join(dir, `${name}.cfg`);
  writeFileSync(path, cfg);
  const p = spawn("haproxy", ["-db", "-f", path], { stdio: ["ignore", "ignore", "inherit"] });
  return p;
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(os.tmpdir(), "berth-bench-proxy-"));
  const children: ChildProcess[] = [];
  const proxies: TcpProxy[] = [];
  let nft: NftBench | undefined;
  try {
    const body = "x".repeat(10 * 1024);
    const upPort = await freePort();
    const haPort = await freePort();
    const bulkPort = await freePort();
    const haBulkPort = await freePort();
    const defaults = `defaults\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n`;
    const global = `global\n  maxconn 4000\n  nbthread 1\ndefaults\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n`;
    // The short-request upstream: HAProxy answering by itself (one thread, like the proxy under test).
    children.push(startHaproxy(`${global}  mode http\nfrontend up\n  bind 127.0.0.1:${upPort}\n  http-request return status 200 content-type text/plain string "${body}"\n`, dir, "upstream"));
    // The peer: HAProxy as a plain TCP proxy, with as many threads as Berth has event loops.
    const peer = startHaproxy(`global\n  maxconn 4000\n  nbthread ${HA_THREADS}\n${defaults}  mode tcp\nfrontend fe\n  bind 127.0.0.1:${haPort}\n  default_backend be\nbackend be\n  server up 127.0.0.1:${upPort}\nfrontend fe2\n  bind 127.0.0.1:${haBulkPort}\n  default_backend be2\nbackend be2\n  server bulk 127.0.0.1:${bulkPort}\n`, dir, "peer");
    children.push(peer);
    // The bulk upstream: busybox httpd serving a sparse 256 MiB file.
    const www = join(dir, "www");
    execFileSync("mkdir", ["-p", www]);
    const fd = openSync(join(www, "big"), "w");
    ftruncateSync(fd, 256 * 1024 * 1024);
    closeSync(fd);
    children.push(spawn("busybox", ["httpd", "-f", "-p", `127.0.0.1:${bulkPort}`, "-h", www], { stdio: "ignore" }));
    await Promise.all([upPort, haPort, bulkPort, haBulkPort].map(waitListening));

    const berth = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "bench", workers: WORKERS });
    berth.setEndpoints([{ host: "127.0.0.1", port: upPort }]);
    const [bAddr] = await berth.start();
    const berthBulk = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "bench-bulk", workers: WORKERS });
    berthBulk.setEndpoints([{ host: "127.0.0.1", port: bulkPort }]);
    const [bbAddr] = await berthBulk.start();
    proxies.push(berth, berthBulk);
    // Another checkout's proxy (same options), for a before/after in the same run.
    let peerRow: [string, string, string, CpuClock][] = [];
    if (PEER_DIR) {
      const { TcpProxy: PeerProxy } = (await import(join(PEER_DIR, "runtime/proxy/tcp_proxy.ts"))) as { TcpProxy: typeof TcpProxy };
      const rev = execFileSync("git", ["-C", PEER_DIR, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
      const pp = new PeerProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "bench-peer", workers: WORKERS });
      pp.setEndpoints([{ host: "127.0.0.1", port: upPort }]);
      const [pAddr] = await pp.start();
      const ppBulk = new PeerProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "bench-peer-bulk", workers: WORKERS });
      ppBulk.setEndpoints([{ host: "127.0.0.1", port: bulkPort }]);
      const [pbAddr] = await ppBulk.start();
      proxies.push(pp, ppBulk);
      const peerPids = (pp as { workerPids?: number[] }).workerPids ?? [];
      // Both proxies live in this process, but only the one being measured has traffic, so this
      // process's CPU plus the peer's own workers is the peer's CPU during its rows.
      peerRow = [[`berth ${rev}`, `http://127.0.0.1:${pAddr.port}/`, `http://127.0.0.1:${pbAddr.port}/big`, () => peerPids.reduce((sum, pid) => sum + pidCpu(pid)(), selfCpu())]];
    }
    // Berth's CPU: this process plus its proxy workers (once they have loaded).
    const berthPids = (berth as { workerPids?: number[] }).workerPids ?? [];
    const berthCpu: CpuClock = () => berthPids.reduce((sum, pid) => sum + pidCpu(pid)(), selfCpu());
    await new Promise((r) => setTimeout(r, 2000)); // workers load their code before the warm-up

    const local = (port: number) => `http://127.0.0.1:${port}/`;
    const peers: [string, string, string, CpuClock, string[]?][] = [
      ["direct", local(upPort), `${local(bulkPort)}big`, noCpu],
      ["berth", local(bAddr.port), `${local(bbAddr.port)}big`, berthCpu],
      ...peerRow,
      ["haproxy", local(haPort), `${local(haBulkPort)}big`, pidCpu(peer.pid!)],
    ];
    if (NFTABLES) {
      const cfg = join(dir, "pod-upstream.cfg");
      writeFileSync(cfg, `${global}  mode http\nfrontend up\n  bind 0.0.0.0:8080\n  http-request return status 200 content-type text/plain string "${body}"\n`);
      nft = await startNftBench(cfg, www, waitListeningIn, { sharedPodAddress: NFT_SHARED });
      peers.push(["direct (netns)", nft.direct.url, nft.direct.bulkUrl, noCpu, nft.exec]);
      // The kernel does the work (softirq), so there is no proxy process to measure CPU of.
      peers.push(["berth nftables (netns)", nft.nftables.url, nft.nftables.bulkUrl, noCpu, nft.exec]);
    }
    const pct = (v: number, base: number) => `${Math.round((100 * v) / base)}%`;
    const us = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} µs` : "—");
    const load = (r: WrkResult) => `${r.wrkCpuPct.toFixed(0)}% / ${r.hostBusyPct.toFixed(0)}%`;
    console.log(`# npx tsx bench/proxy.ts --duration ${DURATION} --connections ${CONNECTIONS} --workers ${WORKERS} --haproxy-threads ${HA_THREADS}${PEER_DIR ? ` --peer ${PEER_DIR}` : ""} --rounds ${ROUNDS}`);
    console.log(`# ${new Date().toISOString()} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, ${execFileSync("haproxy", ["-v"], { encoding: "utf8" }).split("\n")[0]}, wrk ${CONNECTIONS} connections, 10 KiB responses`);
    console.log(`# berth: ${1 + WORKERS} event loop(s) (--workers ${WORKERS}); haproxy peer: nbthread ${HA_THREADS}; "wrk / host" = wrk's CPU (% of one core) / the machine's busy share`);
    for (let round = 0; round < ROUNDS; round++) {
      const results: Record<string, Record<string, WrkResult>> = {};
      // Rotate the order each round, so a neighbour's burst does not always land on the same path.
      const order = peers.map((_, i) => peers[(i + round) % peers.length]);
      for (const [name, url, bulkUrl, cpu, exec] of order) {
        // Warm-up, so JIT and connection setup are not measured.
        const warm = [...(exec ?? []), "wrk", "-t", "1", "-c", "8", "-d", "1s", url];
        await execFileP(warm[0], warm.slice(1));
        results[name] = {
          keepalive: await wrk(url, { connections: CONNECTIONS, cpu, exec }),
          close: await wrk(url, { connections: CONNECTIONS, close: true, cpu, exec }),
          bulk: await wrk(bulkUrl, { connections: 2, threads: 2, cpu, exec }),
        };
      }
      const rows: string[] = [];
      rows.push(`## round ${round + 1} of ${ROUNDS} (${new Date().toISOString()}), order: ${order.map((p) => p[0]).join(", ")}`);
      rows.push("| path | keep-alive req/s | p99 | CPU/req | wrk / host | new conn per request req/s | p99 | CPU/req | wrk / host | bulk MB/s | CPU/MB |");
      rows.push("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
      for (const [name] of peers) {
        const r = results[name];
        const d = name.endsWith("(netns)") ? results["direct (netns)"] : results.direct;
        rows.push(
          `| ${name} | ${r.keepalive.rps.toFixed(0)} (${pct(r.keepalive.rps, d.keepalive.rps)}) | ${r.keepalive.p99ms.toFixed(2)} ms | ${us(r.keepalive.cpuUsPerReq)} | ${load(r.keepalive)} | ${r.close.rps.toFixed(0)} (${pct(r.close.rps, d.close.rps)}) | ${r.close.p99ms.toFixed(2)} ms | ${us(r.close.cpuUsPerReq)} | ${load(r.close)} | ${r.bulk.mbps.toFixed(0)} (${pct(r.bulk.mbps, d.bulk.mbps)}) | ${us(r.bulk.cpuUs / (r.bulk.mbps * DURATION))} |`,
        );
        for (const [k, v] of Object.entries(r)) if (v.errors) console.error(`${name} ${k}: ${v.errors}`);
      }
      const ha = results.haproxy;
      for (const [name] of peers.filter(([n]) => n.startsWith("berth") && !n.endsWith("(netns)"))) {
        const r = results[name];
        rows.push(`# ${name} / haproxy: keep-alive ${(r.keepalive.rps / ha.keepalive.rps).toFixed(2)}, new conn ${(r.close.rps / ha.close.rps).toFixed(2)}, bulk ${(r.bulk.mbps / ha.bulk.mbps).toFixed(2)}`);
      }
      console.log(rows.join("\n"));
    }
    if (nft) console.log("# (netns) rows: percentages are of direct (netns), the same path without the rules");
  } finally {
    await nft?.stop();
    for (const p of proxies) await p.stop();
    for (const c of children) c.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
