/**
 * A cluster of separate processes for the benchmarks, as separate machines would run it:
 *
 *   nats-server (private, JetStream in a temp dir, no client identities)
 *   berth control-plane            the API over NATS (+ REST with `rest`) and the control loops
 *   berth node --runtime hollow --count K --name dI    × procs
 *
 * Used by bench/density.ts and bench/dashboard.ts (`--procs`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNatsServer, type NatsServerHandle } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { NatsApiClient } from "../runtime/api/nats_client.ts";
import { SERVER_NODE_FLAGS } from "../runtime/node_flags.ts";

export const ROOT = join(new URL("..", import.meta.url).pathname);

export interface Proc {
  label: string;
  proc: ChildProcess;
  out(): string;
}

export interface ProcCluster {
  nats: NatsServerHandle;
  nc: NatsConnection;
  client: NatsApiClient;
  home: string;
  cp: Proc;
  /** Every child process: the control plane first, then the node processes. */
  procs: Proc[];
  /** With `rest`: the REST API's URL and token. */
  restUrl?: string;
  token?: string;
  /** Starts the node processes (after the control plane leads). */
  startNodes(): void;
  stop(): Promise<void>;
}

/** Peak and current resident set of a process, in MB, from /proc/<pid>/status. */
export function memory(pid: number | undefined): { peak: number; now: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
    return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
  } catch {
    return { peak: NaN, now: NaN };
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (clock ticks of 10 ms). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number, proc?: Proc): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${proc ? `\n${proc.out().slice(-3000)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Ready nodes, by a list. */
export async function readyNodes(client: NatsApiClient): Promise<number> {
  return (await client.list("nodes")).items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
}

export async function startProcCluster(opts: { nodes: number; procs: number; heartbeatS: number; rest?: boolean }): Promise<ProcCluster> {
  const procs: Proc[] = [];
  const berth = (label: string, args: string[]): Proc => {
    // BENCH_CPU_PROF=<dir>: every Berth process writes a V8 CPU profile there when it exits.
    const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF, "--cpu-prof-interval", "250"] : [];
    // With Berth's server flags, as the package's launcher starts them (runtime/node_flags.ts).
    const proc = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...prof, "bin/berth.js", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const keep = (d: Buffer) => {
      out += String(d);
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    proc.stdout!.on("data", keep);
    proc.stderr!.on("data", keep);
    const p = { label, proc, out: () => out };
    procs.push(p);
    return p;
  };
  const home = mkdtempSync(join(tmpdir(), "berth-procs-"));
  const nats = await startNatsServer({ dir: join(home, "nats") });
  const nc = await connectNats({ servers: nats.url, name: "berth-bench" });
  const client = new NatsApiClient(nc, { timeoutMs: 60_000, rateLimitRetries: 100 });
  const grace = Math.max(40, opts.heartbeatS * 4);
  const cpHome = join(home, "cp");
  const cp = berth("control-plane", ["control-plane", "--nats", nats.url, "--home", cpHome, "--node-grace", String(grace), "--pod-eviction", "300",
    // Kubernetes' lease duration (15 s) and retry period (2 s): with the default 5 s a busy
    // control plane lost its lease again and again (27 terms in 200 s at 30,000 pods), and each
    // new term starts the control loops over.
    "--lease-ttl", "15", "--lease-renew", "2", ...(opts.rest ? ["--rest-port", "0"] : []), "-q"]);
  const stop = async () => {
    for (const p of [...procs].reverse()) {
      if (p.proc.exitCode !== null) continue;
      const exited = new Promise((r) => p.proc.once("exit", r));
      p.proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (p.proc.exitCode === null) p.proc.kill("SIGKILL");
    }
    await nc.close().catch(() => {});
    await nats.stop();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    await until(() => /leading/.test(cp.out()) && (!opts.rest || /REST API at https:/.test(cp.out())), "the control plane to lead", 120_000, cp);
  } catch (e) {
    await stop();
    throw e;
  }
  const restUrl = opts.rest ? /REST API at (https:\/\/[^;\s]+)/.exec(cp.out())?.[1] : undefined;
  const token = opts.rest ? readFileSync(join(cpHome, "token"), "utf8").trim() : undefined;
  return {
    nats, nc, client, home, cp, procs, restUrl, token, stop,
    startNodes() {
      const perProc = Math.ceil(opts.nodes / Math.max(1, opts.procs));
      for (let i = 0; i < opts.procs; i++) {
        const count = Math.min(perProc, opts.nodes - i * perProc);
        if (count > 0) berth(`nodes-${i}`, ["node", "--nats", nats.url, "--runtime", "hollow", "--count", String(count), "--name", `d${i}`, "--heartbeat", String(opts.heartbeatS), "-q"]);
      }
    },
  };
}
