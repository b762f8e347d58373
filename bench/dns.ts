/**
 * Cluster DNS benchmark: Berth's dns2-based server vs dnsmasq (Debian) serving the same names,
 * measured with dnsperf in one run, on 127.0.0.1.
 *
 *   npx tsx bench/dns.ts [--duration 10] [--services 100] [--rounds 3] [--workers 0,1] [--peer DIR]
 *
 * Both serve `svc-N.default.svc.cluster.local` A records (N < services). The query file mixes
 * every name. dnsperf runs as a child process, so Berth's server (in this process) is free to
 * answer. Installs dnsperf / dnsmasq-base (the binary only: no system daemon on port 53) with
 * apt-get only when missing.
 *
 * The two servers are measured in alternation (Berth, dnsmasq, dnsmasq, Berth, ...) for
 * `--rounds` rounds and the median of each is reported, so a neighbour's load burst on a shared
 * machine does not land on one server only. Also reported: each server's CPU time per query
 * (Berth: this process's `process.cpuUsage`, dnsperf being a child; dnsmasq: /proc/<pid>/stat).
 *
 * Like with like: dnsmasq answers on one thread (it has no setting for more). `--workers` is a
 * list of Berth configurations, each measured as its own server in the same rotation: this
 * process plus N worker processes reading the same socket (N + 1 event loops). The default
 * `0,1` prints the one-loop row (one loop against dnsmasq's one thread, the like-for-like pair)
 * beside the two-loop row (the issue's "more than one event loop"; it takes more of the machine
 * than dnsmasq can), so neither is reported without the other. Both answer from a cache (dnsmasq `--cache-size=10000` plus its hosts
 * table; Berth's answer cache, 10,000 entries). `--peer DIR` adds another checkout's server (e.g.
 * main in a `git worktree`), with the last `--workers` value, in the same rotation. Each row also gives dnsperf's
 * own CPU (% of one core) and how busy the whole machine was, so a saturated run shows it.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startDnsServer } from "../runtime/dns/server.ts";
import { DnsZone } from "../runtime/dns/zone.ts";
import { median } from "./stats.ts";

const execFileP = promisify(execFile);
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DURATION = arg("duration", 10);
const SERVICES = arg("services", 100);
const ROUNDS = arg("rounds", 3);
/** Berth's DNS worker process counts (DnsServerOptions.workers), one server each: 1 = two event loops. */
const WORKERS_LIST = ((i) => (i >= 0 ? args[i + 1] : "0,1"))(args.indexOf("--workers"))
  .split(",")
  .map((w) => Number(w));
if (WORKERS_LIST.some((w) => !Number.isInteger(w) || w < 0)) throw new Error("--workers takes a comma-separated list of worker counts, e.g. 0,1");
const WORKERS = WORKERS_LIST[WORKERS_LIST.length - 1];
const PEER_DIR = ((i) => (i >= 0 ? args[i + 1] : undefined))(args.indexOf("--peer"));

function ensureTools(): void {
  const want: Record<string, string> = { dnsperf: "dnsperf", dnsmasq: "dnsmasq-base" };
  const missing = Object.keys(want).filter((t) => {
    try {
      execFileSync("sh", ["-c", `command -v ${t} || test -x /usr/sbin/${t}`], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.error(`installing ${missing.map((m) => want[m]).join(", ")} with apt-get`);
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", ...missing.map((m) => want[m])], { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}

async function freeUdpTcpPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface PerfResult {
  qps: number;
  lost: string;
  avgMs: number;
  /** CPU µs the server spent per query. */
  cpuUs: number;
  /** dnsperf's CPU over the run's wall time, % of one core. */
  genCpuPct: number;
  /** The whole machine's busy share over the run, 0–100 %. */
  hostBusyPct: number;
}

/** Busy and total jiffies of all CPUs (/proc/stat's first line). */
function hostJiffies(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

const selfCpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const pidCpu = (pid: number) => () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, clock ticks → µs
};

async function dnsperf(port: number, queryFile: string, cpu: () => number): Promise<PerfResult> {
  const cpu0 = cpu();
  const h0 = hostJiffies();
  const r = await dnsperfRun(port, queryFile);
  const h1 = hostJiffies();
  return { ...r, cpuUs: (cpu() - cpu0) / (r.qps * DURATION), hostBusyPct: (100 * (h1.busy - h0.busy)) / (h1.total - h0.total) };
}

async function dnsperfRun(port: number, queryFile: string): Promise<Omit<PerfResult, "cpuUs" | "hostBusyPct">> {
  // dnsperf under a shell that prints its own /proc stat after waiting for it: cutime + cstime are dnsperf's CPU.
  const script = 'dnsperf "$@"; s=$?; echo "GENSTAT $(cat /proc/$$/stat)"; exit $s';
  const t0 = performance.now();
  const { stdout } = await execFileP("sh", ["-c", script, "sh", "-s", "127.0.0.1", "-p", String(port), "-d", queryFile, "-l", String(DURATION), "-c", "4", "-Q", "200000", "-q", "200"], { encoding: "utf8" });
  const st = (/GENSTAT .*?\) (.*)/.exec(stdout)?.[1] ?? "").split(" ");
  // Over the run's wall time (dnsperf waits for the last answers after its DURATION).
  const genCpuPct = ((Number(st[13]) + Number(st[14])) * 10) / ((performance.now() - t0) / 100);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const lost = /Queries lost:\s+(.*)/.exec(stdout)?.[1]?.trim() ?? "?";
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN) * 1000;
  return { qps, lost, avgMs, genCpuPct };
}

async function main(): Promise<void> {
  ensureTools();
  const dir = mkdtempSync(join(os.tmpdir(), "berth-bench-dns-"));
  let dnsmasq: ChildProcess | undefined;
  const zone = new DnsZone();
  const hosts: string[] = [];
  const queries: string[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const ip = `10.96.${Math.floor(i / 250)}.${(i % 250) + 2}`;
    zone.set({ namespace: "default", name: `svc-${i}`, clusterIP: ip, ports: [] });
    hosts.push(`${ip} svc-${i}.default.svc.cluster.local`);
    queries.push(`svc-${i}.default.svc.cluster.local A`);
  }
  writeFileSync(join(dir, "hosts"), hosts.join("\n") + "\n");
  writeFileSync(join(dir, "queries"), queries.join("\n") + "\n");
  const loops = (w: number) => `${w + 1} loop${w ? "s" : ""}`;
  const berths: [string, Awaited<ReturnType<typeof startDnsServer>>][] = [];
  for (const w of WORKERS_LIST) {
    berths.push([`berth, ${loops(w)}`, await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version, workers: w })]);
  }
  // Another checkout's server, same options (its workers are its own processes).
  let peer: Awaited<ReturnType<typeof startDnsServer>> | undefined;
  let peerName = "";
  if (PEER_DIR) {
    const mod = (await import(join(PEER_DIR, "runtime/dns/server.ts"))) as { startDnsServer: typeof startDnsServer };
    peerName = `berth ${execFileSync("git", ["-C", PEER_DIR, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()}, ${loops(WORKERS)}`;
    peer = await mod.startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version, workers: WORKERS });
  }
  // Berth's CPU: this process plus its DNS workers (once loaded; they report ready within ~2 s).
  // Only the server being measured has traffic, so this process's CPU is that server's (the
  // idle servers' worker processes are not counted: they only wait).
  await new Promise((r) => setTimeout(r, 2500));
  const cpuOf = (s: { workerPids?: number[] }) => () => (s.workerPids ?? []).reduce((sum, pid) => sum + pidCpu(pid)(), selfCpu());
  try {
    const dmPort = await freeUdpTcpPort();
    dnsmasq = spawn(
      "dnsmasq",
      ["-k", "--no-resolv", "--no-hosts", "--no-poll", `--addn-hosts=${join(dir, "hosts")}`, "--listen-address=127.0.0.1", "--bind-interfaces", `--port=${dmPort}`, "--cache-size=10000", "--user=root", "--pid-file="],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await new Promise((r) => setTimeout(r, 500)); // dnsperf below fails loudly if it is not up
    const servers: [string, number, () => number][] = berths.map(([name, s]) => [name, s.addresses[0].port, cpuOf(s)]);
    if (peer) servers.push([peerName, peer.addresses[0].port, cpuOf(peer)]);
    servers.push(["dnsmasq", dmPort, pidCpu(dnsmasq.pid!)]);
    const results = new Map<string, PerfResult[]>(servers.map(([n]) => [n, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate who goes first, so a load burst is shared out.
      for (let i = 0; i < servers.length; i++) {
        const [name, port, cpu] = servers[(i + round) % servers.length];
        results.get(name)!.push(await dnsperf(port, join(dir, "queries"), cpu));
      }
    }
    const row = (name: string, rs: PerfResult[]) =>
      `| ${name} | ${median(rs.map((r) => r.qps)).toFixed(0)} | ${rs.map((r) => r.qps.toFixed(0)).join(", ")} | ${median(rs.map((r) => r.avgMs)).toFixed(2)} ms | ${median(rs.map((r) => r.cpuUs)).toFixed(1)} µs | ${rs.map((r) => `${r.genCpuPct.toFixed(0)}%/${r.hostBusyPct.toFixed(0)}%`).join(", ")} | ${rs.map((r) => r.lost).join("; ")} |`;
    console.log(`# npx tsx bench/dns.ts --duration ${DURATION} --services ${SERVICES} --rounds ${ROUNDS} --workers ${WORKERS_LIST.join(",")}${PEER_DIR ? ` --peer ${PEER_DIR}` : ""}`);
    console.log(`# ${new Date().toISOString()} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, dnsperf -c 4 -q 200, dnsmasq ${execFileSync("dnsmasq", ["--version"], { encoding: "utf8" }).split("\n")[0].replace(/^Dnsmasq version (\S+).*$/, "$1")} (one thread); berth: N + 1 event loops for --workers N, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
    console.log("| server | queries/s (median) | each round | avg latency | CPU/query | dnsperf CPU / host busy, each round | lost |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    for (const [name] of servers) console.log(row(name, results.get(name)!));
    const ds = results.get("dnsmasq")!;
    for (const [name] of servers.filter(([n]) => n !== "dnsmasq")) {
      console.log(`# ${name} / dnsmasq per round: ${results.get(name)!.map((b, i) => (b.qps / ds[i].qps).toFixed(2)).join(", ")}`);
    }
  } finally {
    dnsmasq?.kill("SIGTERM");
    for (const [, b] of berths) await b.close();
    await peer?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
