/**
 * Imported first by the benchmarks that run Berth in their own process (bench/schedule.ts): when
 * the process did not start with Berth's server flags (runtime/node_flags.ts), it runs itself
 * again with them, as `berth up` and `berth control-plane` run, and exits with that run's status.
 * `BENCH_NODE_FLAGS=as-started` keeps the flags the process was started with (to measure them).
 */
import { spawnSync } from "node:child_process";
import { missingServerFlags, SERVER_NODE_FLAGS } from "../runtime/node_flags.ts";

if (process.env.BENCH_NODE_FLAGS !== "as-started" && missingServerFlags().length > 0) {
  const r = spawnSync(process.execPath, [...SERVER_NODE_FLAGS, ...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

/** What the figures were measured with, for the benchmark's output. */
export const nodeFlagsLine = `node flags: ${[...process.execArgv.filter((a) => a.startsWith("--max-")), ...(process.env.NODE_OPTIONS ? [`NODE_OPTIONS="${process.env.NODE_OPTIONS}"`] : [])].join(" ") || "(defaults)"}`;
