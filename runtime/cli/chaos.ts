/**
 * `berth chaos`: run chaos scenarios and list them.
 *
 *   berth chaos list [--dir DIR]
 *   berth chaos run SCENARIO... [--seed N | --seeds 1,2,3] [--duration D] [--report DIR] [--all]
 *
 * A run starts its own cluster (own NATS, control plane, service proxy, node agents through
 * fault proxies), so it needs no running `berth up`. Exit code 0 when every invariant held.
 */
import { join } from "node:path";
import { type FlagSpec, UsageError, type Command } from "./args.ts";
// The harness (scenario schema, the cluster a run starts) is imported when `chaos` runs, so the
// other commands do not load it.
import type * as ChaosRun from "../chaos/run.ts";
import type { TableRow } from "../chaos/table.ts";

type Out = (s: string) => void;

function seedsOf(flags: Record<string, unknown>): number[] {
  if (typeof flags.seeds === "string") {
    const seeds = flags.seeds.split(",").map((s) => Number(s.trim()));
    if (!seeds.length || seeds.some((n) => !Number.isInteger(n) || n < 0)) throw new UsageError(`--seeds must be non-negative integers separated by commas, got ${JSON.stringify(flags.seeds)}`);
    return seeds;
  }
  if (flags.seed !== undefined) {
    const n = flags.seed as number;
    if (!Number.isInteger(n) || n < 0) throw new UsageError("--seed must be a non-negative integer");
    return [n];
  }
  // No seed given: a fresh one, printed so the run can be replayed.
  return [Math.floor(Math.random() * 2 ** 31)];
}

export function chaosCommands(conn: FlagSpec[], out: Out, err: Out): { chaos: Command } {
  const help = conn.find((f) => f.name === "help");
  return {
    chaos: {
      summary: "run chaos scenarios (faults in, invariants checked, a report out)",
      usage: "berth chaos list [--dir DIR] | berth chaos run SCENARIO... [--seed N | --seeds 1,2,3] [--duration D] [--proxy-mode nftables] [--report DIR] [--all]",
      flags: [
        ...(help ? [help] : []),
        { name: "seed", type: "number", help: "seed of the fault schedule (same seed → same schedule); default: a random one, printed" },
        { name: "seeds", type: "string", help: "several seeds, comma-separated: one run each, then a summary table" },
        { name: "duration", type: "string", help: "length of the fault phase, e.g. 30s (overrides the scenario)" },
        { name: "report", type: "string", help: "report directory (default chaos-reports/); one subdirectory per run" },
        { name: "dir", type: "string", help: "directory of scenario files (default chaos/)" },
        { name: "all", type: "boolean", help: "run every scenario in the directory" },
        { name: "verbose", short: "v", type: "boolean", help: "print the cluster's logs to stderr" },
        { name: "record-actors", type: "boolean", help: "record every actor's transitions (from NATS) into history.json" },
        { name: "proxy-mode", type: "string", help: "service data path for the run: userspace or nftables (root; overrides the scenario's cluster.proxyMode)" },
      ],
      async run(p) {
        const [sub, ...names] = p.positional;
        const dir = (p.flags.dir as string | undefined) ?? "chaos";
        const [{ listScenarios, loadScenario, resolveScenario }, { summaryText }, { parseDuration }, { rowOf, summaryTable }] = await Promise.all([
          import("../chaos/scenario.ts"),
          import("../chaos/report.ts"),
          import("../chaos/schedule.ts"),
          import("../chaos/table.ts"),
        ]);
        if (sub === "list") {
          const list = listScenarios(dir);
          if (!list.length) {
            out(`No scenarios in ${dir}/.\n`);
            return;
          }
          // Which runtime each needs: "docker" scenarios need a running Docker engine (npm run setup).
          const rows = [["NAME", "NEEDS", "DESCRIPTION"], ...list.map((s) => [s.name, s.error ? "-" : s.runtime === "docker" ? "Docker" : "nothing", s.error ? `INVALID: ${s.error}` : s.description ?? ""])];
          const w = [0, 1].map((i) => Math.max(...rows.map((r) => r[i].length)) + 3);
          for (const r of rows) out(`${r[0].padEnd(w[0])}${r[1].padEnd(w[1])}${r[2]}\n`);
          return;
        }
        if (sub !== "run") throw new UsageError(`expected \`chaos run SCENARIO\` or \`chaos list\`, got ${sub ? JSON.stringify(sub) : "nothing"}`);
        const paths = p.flags.all ? listScenarios(dir).filter((s) => !s.error).map((s) => s.path) : names.map((n) => resolveScenario(n, dir));
        if (!paths.length) throw new UsageError("name a scenario (see `berth chaos list`) or pass --all");
        const seeds = seedsOf(p.flags);
        const durationMs = typeof p.flags.duration === "string" ? parseDuration(p.flags.duration) : undefined;
        const proxyMode = p.flags["proxy-mode"];
        if (proxyMode !== undefined && proxyMode !== "userspace" && proxyMode !== "nftables") throw new UsageError(`--proxy-mode must be userspace or nftables, got ${JSON.stringify(proxyMode)}`);
        const reportRoot = (p.flags.report as string | undefined) ?? "chaos-reports";
        const ac = new AbortController();
        const onSigint = () => {
          err("interrupted: healing every fault and stopping the cluster...\n");
          ac.abort();
        };
        process.once("SIGINT", onSigint);
        const rows: TableRow[] = [];
        const { ChaosAbortedError, runScenario }: typeof ChaosRun = await import("../chaos/run.ts");
        try {
          for (const path of paths) {
            const scenario = loadScenario(path);
            for (const seed of seeds) {
              const reportDir = join(reportRoot, `${scenario.name}-seed-${seed}`);
              try {
                const r = await runScenario(scenario, {
                  seed,
                  durationMs,
                  ...(proxyMode ? { proxyMode } : {}),
                  reportDir,
                  signal: ac.signal,
                  recordActors: !!p.flags["record-actors"],
                  progress: (l) => out(l + "\n"),
                  log: p.flags.verbose ? (m, f) => err(`${m}${f ? " " + JSON.stringify(f) : ""}\n`) : undefined,
                });
                out("\n" + summaryText(r.report));
                out(`report: ${reportDir}/ (summary.txt, report.json, history.json, timeline.svg)\n\n`);
                rows.push(rowOf(r.report));
              } catch (e) {
                if (e instanceof ChaosAbortedError) throw e;
                err(`scenario ${scenario.name}, seed ${seed}: the run failed: ${(e as Error).message}\n`);
                rows.push({ scenario: scenario.name, seed, ok: false, faults: 0, failed: [], requests: 0, failedRequests: 0, error: (e as Error).message.split("\n")[0] });
              }
            }
          }
        } catch (e) {
          if (e instanceof ChaosAbortedError) {
            err("chaos run aborted; the cluster was stopped\n");
            return 130;
          }
          throw e;
        } finally {
          process.removeListener("SIGINT", onSigint);
        }
        if (rows.length > 1) out(summaryTable(rows));
        return rows.every((r) => r.ok) ? 0 : 1;
      },
    },
  };
}
