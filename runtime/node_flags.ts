/**
 * The V8 flags Berth's long-running processes start with (`berth up`, `berth control-plane`,
 * `berth node`): the package's launcher (bin/berth.cjs), bin/berth.js's first line, the npm
 * scripts that run a cluster, and the benchmarks all pass these, and a test keeps them in step.
 *
 * `--max-semi-space-size=64` (MB; Node 20's default is 16): the API server, the control loops and
 * the node agents allocate short-lived objects quickly (decoded watch events, request bodies,
 * actor snapshots), and with 16 MB semi-spaces many of them were still alive at each young
 * collection and were copied, some twice. With 64 MB, bench/schedule.ts (5,000 pods, 100 hollow
 * nodes) used about 12 % less CPU and took about 12 % less time, for 60–70 MB more peak memory;
 * 128 MB bought nothing more for 140 MB more (docs/benchmarks.md, "Young generation").
 *
 * V8 reads these only when the process starts (`v8.setFlagsFromString` later changes nothing),
 * so they are command-line flags; the programmatic API runs with whatever its host process has.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=64"];

/** The flags of `SERVER_NODE_FLAGS` this process did not start with (its argv or NODE_OPTIONS). */
export function missingServerFlags(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ""): string[] {
  const given = new Set([...execArgv, ...nodeOptions.split(/\s+/)]);
  return SERVER_NODE_FLAGS.filter((f) => !given.has(f));
}
