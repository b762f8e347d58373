/**
 * Cluster DNS benchmark: Berth's dns2-based server vs dnsmasq (Debian) serving the same names,
 * measured with dnsperf in one run, on 127.0.0.1.
 *
 *   npx tsx bench/dns.ts [--duration 10] [--services 100] [--rounds 3] [--workers 1]
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
 */
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startDnsServer } from "../runtime/dns/server.ts";
import { DnsZone } from "../runtime/dns/zone.ts";

const execFileP = promisify(execFile);
const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const DURATION = arg("duration", 10);
const SERVICES = arg("services", 100);
const ROUNDS = arg("rounds", 3);
/** Berth's DNS worker processes (DnsServerOptions.workers): 1 = two event loops in all. */
const WORKERS = arg("workers", 1);

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
  const r = await dnsperfRun(port, queryFile);
  return { ...r, cpuUs: (cpu() - cpu0) / (r.qps * DURATION) };
}

async function dnsperfRun(port: number, queryFile: string): Promise<Omit<PerfResult, "cpuUs">> {
  const { stdout } = await execFileP("dnsperf", ["-s", "127.0.0.1", "-p", String(port), "-d", queryFile, "-l", String(DURATION), "-c", "4", "-Q", "200000", "-q", "200"], { encoding: "utf8" });
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const lost = /Queries lost:\s+(.*)/.exec(stdout)?.[1]?.trim() ?? "?";
  const avgMs = Number(/Average Latency \(s\):\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN) * 1000;
  return { qps, lost, avgMs };
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
    zone.set({ namespace: "default", name: `svc-${i}`, clusterIP: ip, readyIPs: [], ports: [] });
    hosts.push(`${ip} svc-${i}.default.svc.cluster.local`);
    queries.push(`svc-${i}.default.svc.cluster.local A`);
  }
  writeFileSync(join(dir, "hosts"), hosts.join("\n") + "\n");
  writeFileSync(join(dir, "queries"), queries.join("\n") + "\n");
  const berth = await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version, workers: WORKERS });
  // Berth's CPU: this process plus its DNS workers (once loaded; they report ready within ~2 s).
  await new Promise((r) => setTimeout(r, 2500));
  const workerPids = (berth as { workerPids?: number[] }).workerPids ?? [];
  const berthCpu = () => workerPids.reduce((sum, pid) => sum + pidCpu(pid)(), selfCpu());
  try {
    const dmPort = await freeUdpTcpPort();
    dnsmasq = spawn(
      "dnsmasq",
      ["-k", "--no-resolv", "--no-hosts", "--no-poll", `--addn-hosts=${join(dir, "hosts")}`, "--listen-address=127.0.0.1", "--bind-interfaces", `--port=${dmPort}`, "--cache-size=10000", "--user=root", "--pid-file="],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    await new Promise((r) => setTimeout(r, 500)); // dnsperf below fails loudly if it is not up
    const bs: PerfResult[] = [];
    const ds: PerfResult[] = [];
    const dmCpu = pidCpu(dnsmasq.pid!);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate who goes first, so a load burst is shared out.
      if (round % 2 === 0) {
        bs.push(await dnsperf(berth.addresses[0].port, join(dir, "queries"), berthCpu));
        ds.push(await dnsperf(dmPort, join(dir, "queries"), dmCpu));
      } else {
        ds.push(await dnsperf(dmPort, join(dir, "queries"), dmCpu));
        bs.push(await dnsperf(berth.addresses[0].port, join(dir, "queries"), berthCpu));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const row = (name: string, rs: PerfResult[]) =>
      `| ${name} | ${median(rs.map((r) => r.qps)).toFixed(0)} | ${rs.map((r) => r.qps.toFixed(0)).join(", ")} | ${median(rs.map((r) => r.avgMs)).toFixed(2)} ms | ${median(rs.map((r) => r.cpuUs)).toFixed(1)} µs | ${rs.map((r) => r.lost).join("; ")} |`;
    console.log(`# npx tsx bench/dns.ts --duration ${DURATION} --services ${SERVICES} --rounds ${ROUNDS} --workers ${WORKERS}`);
    console.log(`# ${new Date().toISOString()} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}, dnsperf -c 4 -q 200, dnsmasq ${execFileSync("dnsmasq", ["--version"], { encoding: "utf8" }).split("\n")[0].replace(/^Dnsmasq version (\S+).*$/, "$1")}`);
    console.log("| server | queries/s (median) | each round | avg latency | CPU/query | lost |");
    console.log("| --- | --- | --- | --- | --- | --- |");
    console.log(row("berth", bs));
    console.log(row("dnsmasq", ds));
    console.log(`# berth / dnsmasq per round: ${bs.map((b, i) => (b.qps / ds[i].qps).toFixed(2)).join(", ")}`);
  } finally {
    dnsmasq?.kill("SIGTERM");
    await berth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
