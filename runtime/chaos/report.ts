/**
 * The report of a chaos run: `history.json` (every recorded entry), `report.json` (scenario,
 * seed, schedule, checker results, final state), `summary.txt` (for people) and `timeline.svg`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckResult, FinalState } from "./checkers.ts";
import { entriesOf, type History } from "./history.ts";
import type { ScheduledFault } from "./schedule.ts";
import { renderTimelineSvg } from "./timeline_svg.ts";

export interface ChaosReport {
  scenario: string;
  seed: number;
  startedAt: string;
  durationMs: number;
  schedule: ScheduledFault[];
  results: CheckResult[];
  /** True when every checker passed. */
  ok: boolean;
  final: FinalState;
  /** Figures for summary tables. */
  figures: { convergenceMs?: number; requests: number; failedRequests: number; faults: number };
}

/** Builds the report object from a finished run. */
export function buildReport(history: History, schedule: ScheduledFault[], results: CheckResult[], final: FinalState): ChaosReport {
  const requests = entriesOf(history.entries, "request");
  const conv = results.find((r) => r.name === "convergence")?.figures?.convergenceMs;
  return {
    scenario: history.scenario,
    seed: history.seed,
    startedAt: new Date(history.t0).toISOString(),
    durationMs: final.t,
    schedule,
    results,
    ok: results.every((r) => r.ok),
    final,
    figures: {
      convergenceMs: conv,
      requests: requests.length,
      failedRequests: requests.filter((r) => !r.ok).length,
      faults: entriesOf(history.entries, "fault").filter((f) => f.phase === "start" && !f.skipped).length,
    },
  };
}

/** The human-readable summary. */
export function summaryText(r: ChaosReport): string {
  const lines = [
    `chaos scenario ${r.scenario}, seed ${r.seed}: ${r.ok ? "ALL INVARIANTS HELD" : "INVARIANTS VIOLATED"}`,
    `started ${r.startedAt}, ran ${(r.durationMs / 1000).toFixed(1)} s, ${r.figures.faults} faults, ${r.figures.requests} requests (${r.figures.failedRequests} failed)`,
    "",
    "faults:",
    ...(r.schedule.length ? r.schedule.map((f) => `  ${f.id.padEnd(4)} +${(f.at / 1000).toFixed(1).padStart(5)}s  ${f.kind.padEnd(16)} ${f.target.padEnd(12)} ${(f.durationMs / 1000).toFixed(1)}s${Object.keys(f.params).length ? ` ${JSON.stringify(f.params)}` : ""}`) : ["  (none)"]),
    "",
    "invariants:",
  ];
  for (const c of r.results) {
    lines.push(`  [${c.ok ? "PASS" : "FAIL"}] ${c.name}: ${c.summary}`);
    for (const e of c.evidence.slice(0, 10)) lines.push(`         ${e}`);
  }
  return lines.join("\n") + "\n";
}

/** Writes the report directory and returns the paths written. */
export function writeReport(dir: string, history: History, report: ChaosReport): { dir: string; files: string[] } {
  mkdirSync(dir, { recursive: true });
  const files = {
    history: join(dir, "history.json"),
    report: join(dir, "report.json"),
    summary: join(dir, "summary.txt"),
    timeline: join(dir, "timeline.svg"),
  };
  writeFileSync(files.history, JSON.stringify(history.toJSON()) + "\n");
  writeFileSync(files.report, JSON.stringify(report, null, 2) + "\n");
  writeFileSync(files.summary, summaryText(report));
  writeFileSync(files.timeline, renderTimelineSvg(history.entries, { title: `${report.scenario} — seed ${report.seed} — ${report.ok ? "invariants held" : "invariants violated"}` }));
  return { dir, files: Object.values(files) };
}
