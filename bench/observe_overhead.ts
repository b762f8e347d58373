/**
 * What seeing inside costs (issue 17: metrics + actor inspection ≤ 5 % on bench/schedule.ts),
 * measured so that a noisy shared machine cannot decide the answer: many rounds, each round one
 * run of `bench/schedule.ts --observe 0` and one with `--observe 1` back to back (the order
 * alternating between rounds: 0 1, 1 0, 0 1 …), and statistics of the paired ratios
 * (observe 1 / observe 0 of the same round), with a bootstrap confidence interval.
 *
 *   npx tsx bench/observe_overhead.ts [--rounds 12] [--nodes 50] [--pods 2000] [--rcs 20] [--out FILE] [--report-only 1]
 *
 * Each round is appended to `--out` as a JSON line, and the figures printed are over every round
 * in that file, so a long measurement can be split into several shorter batches (each batch under
 * the machine's shared lock for heavy jobs), all counted together. `--report-only 1` runs nothing
 * and prints the figures of the file.
 *
 * Figures per run (from bench/schedule.ts's `result` line): time from the RC creates to all pods
 * Running, stamped in the control plane's informer handler; CPU seconds of the bench process
 * (API, control plane and node agents) over that window, and of nats-server (/proc) over the same
 * window; their sum is the "total CPU".
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { numArg, strArg } from "./args.ts";
import { bootstrap, mean, median } from "./stats.ts";
import { commitOf, pct, runSchedule, SCHEDULE_FIGURES, type ScheduleResult } from "./schedule_runs.ts";

const ROUNDS = numArg("rounds", 12);
const NODES = numArg("nodes", 50);
const PODS = numArg("pods", 2000);
const RCS = numArg("rcs", 20);
const OUT = strArg("out", `/tmp/berth-observe-overhead-${process.pid}.jsonl`);
const REPORT_ONLY = numArg("report-only", 0) !== 0;

type RunResult = ScheduleResult;
interface Round { at: string; load1: number; commit: string; first: number; off: RunResult; on: RunResult }

const HERE = fileURLToPath(new URL("..", import.meta.url));

const runOnce = (observe: number): Promise<RunResult> =>
  runSchedule(HERE, ["--nodes", String(NODES), "--pods", String(PODS), "--rcs", String(RCS), "--observe", String(observe)]);

function report(rounds: Round[]): void {
  if (rounds.length === 0) return console.log("no rounds yet");
  const figures = SCHEDULE_FIGURES;
  const loads = rounds.map((r) => r.load1);
  console.log(`rounds: ${rounds.length} (${rounds[0].at} … ${rounds[rounds.length - 1].at} UTC), commits ${[...new Set(rounds.map((r) => r.commit))].join(", ")}, 1-min load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  console.log(`each: bench/schedule.ts --nodes ${rounds[0].off.nodes} --pods ${rounds[0].off.pods} --observe 0 and 1, order alternating`);
  console.log("figure | observe 0 mean / median | observe 1 mean / median | paired ratio 1/0: mean [95 % CI] | median [95 % CI]");
  for (const [name, f] of figures) {
    const off = rounds.map((r) => f(r.off));
    const on = rounds.map((r) => f(r.on));
    const ratios = rounds.map((r) => f(r.on) / f(r.off));
    const [mLo, mHi] = bootstrap(ratios, mean);
    const [dLo, dHi] = bootstrap(ratios, median);
    console.log(`${name} | ${mean(off).toFixed(2)} / ${median(off).toFixed(2)} s | ${mean(on).toFixed(2)} / ${median(on).toFixed(2)} s | ${pct(mean(ratios))} [${pct(mLo)}, ${pct(mHi)}] | ${pct(median(ratios))} [${pct(dLo)}, ${pct(dHi)}]`);
  }
  // The ratio of the sums (one overall figure, less swayed by a single slow round than the mean of ratios).
  for (const [name, f] of figures) {
    const idx = rounds.map((_, i) => i);
    const ratioOfSums = (ix: number[]) => ix.reduce((s, i) => s + f(rounds[i].on), 0) / ix.reduce((s, i) => s + f(rounds[i].off), 0);
    const [lo, hi] = bootstrap(idx, ratioOfSums);
    console.log(`${name}: ratio of sums ${pct(ratioOfSums(idx))} [${pct(lo)}, ${pct(hi)}]`);
  }
}

function readRounds(): Round[] {
  if (!existsSync(OUT)) return [];
  return readFileSync(OUT, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Round);
}

if (!REPORT_ONLY) {
  const commit = await commitOf(HERE);
  const before = readRounds().length;
  for (let i = 0; i < ROUNDS; i++) {
    const first = (before + i) % 2; // alternate which mode runs first, across batches too
    const a = await runOnce(first);
    const b = await runOnce(1 - first);
    const [off, on] = first === 0 ? [a, b] : [b, a];
    const round: Round = { at: new Date().toISOString().slice(0, 19), load1: loadavg()[0], commit, first, off, on };
    appendFileSync(OUT, JSON.stringify(round) + "\n");
    console.log(`round ${before + i + 1}: off ${(off.runningMs / 1000).toFixed(2)} s, ${(off.cpuS + off.natsCpuS).toFixed(2)} CPU s; on ${(on.runningMs / 1000).toFixed(2)} s, ${(on.cpuS + on.natsCpuS).toFixed(2)} CPU s (load ${round.load1.toFixed(1)})`);
  }
}
console.log(`rounds file: ${OUT}`);
report(readRounds());
