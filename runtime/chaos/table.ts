/** The summary table of several runs (scenario × seed), as Markdown. */
import type { ChaosReport } from "./report.ts";

export interface TableRow {
  scenario: string;
  seed: number;
  ok: boolean;
  faults: number;
  /** Names of failed checkers. */
  failed: string[];
  convergenceMs?: number;
  requests: number;
  failedRequests: number;
  /** Failed / counted by the availability checker (while an endpoint was ready). */
  availability?: string;
  error?: string;
}

/** One row from a report. */
export function rowOf(r: ChaosReport): TableRow {
  const av = r.results.find((c) => c.name === "availability")?.figures;
  return {
    scenario: r.scenario,
    seed: r.seed,
    ok: r.ok,
    faults: r.figures.faults,
    failed: r.results.filter((c) => !c.ok).map((c) => c.name),
    convergenceMs: r.figures.convergenceMs,
    requests: r.figures.requests,
    failedRequests: r.figures.failedRequests,
    availability: av ? `${av.failed}/${av.counted}` : undefined,
  };
}

/** A Markdown table: scenario × seed → invariants held, convergence time, failed requests. */
export function summaryTable(rows: TableRow[]): string {
  const lines = [
    "| scenario | seed | faults | invariants | convergence after heal | failed requests (all) | failed while an endpoint was ready |",
    "| --- | ---: | ---: | --- | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const inv = r.error ? `error: ${r.error}` : r.ok ? "all held" : `violated: ${r.failed.join(", ")}`;
    const conv = r.convergenceMs === undefined ? "—" : `${(r.convergenceMs / 1000).toFixed(1)} s`;
    lines.push(`| ${r.scenario} | ${r.seed} | ${r.faults} | ${inv} | ${conv} | ${r.requests ? `${r.failedRequests}/${r.requests}` : "—"} | ${r.availability ?? "—"} |`);
  }
  return lines.join("\n") + "\n";
}
