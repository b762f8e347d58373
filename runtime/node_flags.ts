/**
 * The V8 flags Berth's long-running processes start with (`berth up`, `berth control-plane`,
 * `berth node`): the package's launcher (bin/berth.cjs, the `berth` npm puts on the PATH), the npm
 * scripts that run a cluster, and the benchmarks pass these, and a test keeps them in step.
 * `node bin/berth.js …` runs with Node's defaults unless given them (`node
 * --max-semi-space-size=64 bin/berth.js control-plane …`; Deno: `--v8-flags=…`).
 *
 * `--max-semi-space-size=64` (MB; Node 20's default is 16): the API server, the control loops and
 * the node agents allocate short-lived objects quickly (decoded watch events, request bodies,
 * actor snapshots), and with 16 MB semi-spaces more of them are still alive at a young
 * collection and get copied. V8 grows the young generation toward the limit only under such
 * pressure (a lightly loaded node agent stays at the default size). bench/schedule.ts (5,000
 * pods, 100 hollow nodes, one process), 16 paired rounds against the same code without the flag:
 * 3.6 % less time to all Running and 4.4 % less CPU, for 60–130 MB more peak memory; 128 MB
 * bought nothing more for 140 MB more (docs/benchmarks.md, "Young generation"). Not in
 * bin/berth.js's `#!` line: `env -S` is missing from some systems' env (BusyBox).
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
