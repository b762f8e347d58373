/**
 * What the programs that run bench/schedule.ts many times share (bench/observe_overhead.ts,
 * bench/paired.ts): one run in a child process, read from its `result {…}` line; the figures
 * compared; the commit of a checkout; a ratio written as a signed percentage.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";

/** The figures of one run, as bench/schedule.ts's `result` line gives them. */
export interface ScheduleResult {
  observe: number;
  nodes: number;
  pods: number;
  runningMs: number;
  boundMs: number;
  cpuS: number;
  natsCpuS: number;
  loopP99Ms: number;
}

/** Runs `<tree>/bench/schedule.ts` with `args` (and `--json 1`) in a child process, in `tree`. */
export function runSchedule(tree: string, args: string[]): Promise<ScheduleResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(tree, "bench", "schedule.ts"), ...args, "--json", "1"], { cwd: tree, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("result "));
      if (code !== 0 || !line) return reject(new Error(`${join(tree, "bench", "schedule.ts")} ${args.join(" ")} exited ${code} without a result:\n${out.slice(-2000)}`));
      resolve(JSON.parse(line.slice("result ".length)) as ScheduleResult);
    });
  });
}

/** The short commit of the checkout at `dir`, or "unknown". */
export function commitOf(dir: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn("git", ["rev-parse", "--short", "HEAD"], { cwd: dir, stdio: ["ignore", "pipe", "ignore"] });
    let s = "";
    c.stdout.on("data", (d) => (s += d));
    c.on("close", () => resolve(s.trim() || "unknown"));
    c.on("error", () => resolve("unknown"));
  });
}

/** The figures the paired reports compare, each in seconds. */
export const SCHEDULE_FIGURES: [string, (r: ScheduleResult) => number][] = [
  ["time to all Running", (r) => r.runningMs / 1000],
  ["CPU of the bench process", (r) => r.cpuS],
  ["CPU of nats-server", (r) => r.natsCpuS],
  ["total CPU (process + nats-server)", (r) => r.cpuS + r.natsCpuS],
];

/** A ratio as a signed percentage: 1.053 → "+5.3 %". */
export const pct = (ratio: number) => `${ratio >= 1 ? "+" : ""}${((ratio - 1) * 100).toFixed(1)} %`;
