/**
 * This tree against a peer (another checkout, e.g. a git worktree of the commit before), on
 * `bench/schedule.ts`, measured so that a noisy shared machine cannot decide the answer: many
 * rounds, each one run of each tree back to back (the order alternating between rounds), and
 * statistics of the paired ratios (this / peer of the same round) with bootstrap intervals.
 *
 *   npx tsx bench/paired.ts --peer /path/to/worktree [--rounds 8] [--out FILE] [--report-only 1] [-- <bench/schedule.ts options>]
 *
 * The peer needs its dependencies (a `node_modules`, or a symlink to this tree's). Each round is
 * appended to `--out` as a JSON line and the figures printed are over every round in that file,
 * so a long measurement can be split into batches (each under the machine's lock for heavy jobs).
 * Figures per run come from bench/schedule.ts's `result` line: time from the RC creates to all
 * pods Running, and CPU seconds of the bench process and of nats-server over that window.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { numArg, strArg } from "./args.ts";
import { bootstrap, mean, median } from "./stats.ts";
import { commitOf, pct, runSchedule, SCHEDULE_FIGURES, type ScheduleResult } from "./schedule_runs.ts";

const PEER = strArg("peer", "");
const ROUNDS = numArg("rounds", 8);
const OUT = strArg("out", `/tmp/berth-paired-${process.pid}.jsonl`);
const REPORT_ONLY = numArg("report-only", 0) !== 0;
const dashes = process.argv.indexOf("--");
const SCHEDULE_ARGS = dashes >= 0 ? process.argv.slice(dashes + 1) : [];
const HERE = resolve(fileURLToPath(new URL("..", import.meta.url)));

if (!PEER && !REPORT_ONLY) {
  console.error("bench/paired.ts: --peer <directory of the other checkout> is required");
  process.exit(2);
}

type RunResult = ScheduleResult;
interface Round { at: string; load1: number; head: string; peer: string; first: "head" | "peer"; args: string[]; a: RunResult; b: RunResult }

const runOnce = (tree: string): Promise<RunResult> => runSchedule(tree, SCHEDULE_ARGS);

function report(rounds: Round[]): void {
  if (rounds.length === 0) return console.log("no rounds yet");
  const figures = SCHEDULE_FIGURES;
  const loads = rounds.map((r) => r.load1);
  const pods = (r: Round) => (r.args.includes("--pods") ? Number(r.args[r.args.indexOf("--pods") + 1]) : 5000);
  console.log(`rounds: ${rounds.length} (${rounds[0].at} … ${rounds[rounds.length - 1].at} UTC), this tree ${[...new Set(rounds.map((r) => r.head))].join(", ")} against ${[...new Set(rounds.map((r) => r.peer))].join(", ")}, 1-min load ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
  console.log(`each: bench/schedule.ts ${rounds[0].args.join(" ")} in both trees, order alternating`);
  console.log(`pods/s, this tree: ${rounds.map((r) => (pods(r) / (r.a.runningMs / 1000)).toFixed(0)).join(", ")}`);
  console.log(`pods/s, peer:      ${rounds.map((r) => (pods(r) / (r.b.runningMs / 1000)).toFixed(0)).join(", ")}`);
  console.log("figure | this tree mean / median | peer mean / median | paired ratio this/peer: median [95 % CI] | ratio of sums [95 % CI]");
  for (const [name, f] of figures) {
    const a = rounds.map((r) => f(r.a));
    const b = rounds.map((r) => f(r.b));
    const ratios = rounds.map((r) => f(r.a) / f(r.b));
    const [dLo, dHi] = bootstrap(ratios, median);
    const idx = rounds.map((_, i) => i);
    const ratioOfSums = (ix: number[]) => ix.reduce((s, i) => s + f(rounds[i].a), 0) / ix.reduce((s, i) => s + f(rounds[i].b), 0);
    const [sLo, sHi] = bootstrap(idx, ratioOfSums);
    console.log(`${name} | ${mean(a).toFixed(2)} / ${median(a).toFixed(2)} s | ${mean(b).toFixed(2)} / ${median(b).toFixed(2)} s | ${pct(median(ratios))} [${pct(dLo)}, ${pct(dHi)}] | ${pct(ratioOfSums(idx))} [${pct(sLo)}, ${pct(sHi)}]`);
  }
}

function readRounds(): Round[] {
  if (!existsSync(OUT)) return [];
  return readFileSync(OUT, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Round);
}

if (!REPORT_ONLY) {
  const peer = resolve(PEER);
  const [head, peerCommit] = await Promise.all([commitOf(HERE), commitOf(peer)]);
  const before = readRounds().length;
  for (let i = 0; i < ROUNDS; i++) {
    const first = (before + i) % 2 === 0 ? "head" : "peer";
    const x = await runOnce(first === "head" ? HERE : peer);
    const y = await runOnce(first === "head" ? peer : HERE);
    const [a, b] = first === "head" ? [x, y] : [y, x];
    const round: Round = { at: new Date().toISOString().slice(0, 19), load1: loadavg()[0], head, peer: peerCommit, first, args: SCHEDULE_ARGS, a, b };
    appendFileSync(OUT, JSON.stringify(round) + "\n");
    console.log(`round ${before + i + 1}: this tree ${(a.runningMs / 1000).toFixed(2)} s, ${(a.cpuS + a.natsCpuS).toFixed(2)} CPU s; peer ${(b.runningMs / 1000).toFixed(2)} s, ${(b.cpuS + b.natsCpuS).toFixed(2)} CPU s (load ${round.load1.toFixed(1)})`);
  }
}
console.log(`rounds file: ${OUT}`);
report(readRounds());
