/**
 * Small scripted scenarios for the chaos suite: one fault kind each, on a short timeline, with
 * the invariants the harness checks after it.
 */
import { runScenario, type RunResult } from "../../runtime/chaos/run.ts";
import { scenarioFromObject, type Scenario } from "../../runtime/chaos/scenario.ts";
import { summaryText } from "../../runtime/chaos/report.ts";

export const rc = (name: string, replicas: number) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name },
  spec: {
    replicas,
    selector: { app: name },
    template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: "berth/busybox:latest" }] } },
  },
});

/** A scenario from a partial YAML-shaped object (manifest paths resolve against chaos/). */
export function scenario(doc: Record<string, unknown>): Scenario {
  return scenarioFromObject(doc, new URL("../../chaos/", import.meta.url).pathname);
}

/** Runs it; prints the summary (kept in the test log as the evidence of the run). */
export async function run(s: Scenario, seed = 1): Promise<RunResult> {
  const r = await runScenario(s, { seed, reportDir: process.env.BERTH_CHAOS_REPORTS ? `${process.env.BERTH_CHAOS_REPORTS}/${s.name}-${seed}` : undefined });
  console.log(summaryText(r.report));
  return r;
}

/** The checker results by name. */
export function results(r: RunResult): Record<string, { ok: boolean; summary: string; evidence: string[]; figures?: Record<string, number> }> {
  return Object.fromEntries(r.report.results.map((c) => [c.name, c]));
}
