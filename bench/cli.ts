/**
 * CLI start-up: wall time of `berth get pods` against kubectl's `kubectl get pods` on the same
 * cluster, run alternately so both see the same machine load. `berth` is the file package.json's
 * "bin" names, executed directly as a shell runs the command npm puts on the PATH (a symlink to
 * it): its `#!` line decides how Node starts — our launcher (bin/berth.cjs, `#!/bin/sh`), or a
 * peer's `#!/usr/bin/env node`. Measured beside it: `node bin/berth.cjs` (the same program without
 * the launcher, as npm's shim runs it on Windows), `node bin/berth.js` (the checkout's documented
 * way), and `berth get pods` from the TypeScript sources through tsx (BERTH_FROM_SOURCES=1: what
 * every run cost before dist/).
 *
 *   npx tsx bench/cli.ts [--runs 20] [--pods 20] [--peer DIR] [--no-sources]
 *
 * Starts its own `berth up --runtime hollow` in a temporary home (no Docker), with --pods pods
 * from one replication controller, and prints median and p90 per command and the ratios.
 * Also measured in the same run: `node -e 0` (Node's own start-up, the floor of any Node CLI);
 * with `--peer DIR`, another built checkout's `berth get pods` (its own package.json "bin", run
 * the same way) against the same cluster; and, when the environment sets NODE_EXTRA_CA_CERTS,
 * rows again without it (Node 20 reads and parses that file at every start, before any script
 * runs; bin/berth.cjs's launcher drops it for `get` and `describe`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { numArg, strArg } from "./args.ts";
import { berthUp, ROOT, tempHome } from "../test/helpers/cli.ts";

const runs = numArg("runs", 20);
const pods = numArg("pods", 20);
const peer = strArg("peer");
const sources = !process.argv.includes("--no-sources");

const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
if (build.status !== 0) throw new Error("npm run build failed");

const home = tempHome("berth-bench-cli-");
const up = await berthUp("node", home, ["--runtime", "hollow", "--nodes", "2"], 120_000);
try {
  const info = JSON.parse(readFileSync(join(home, "cluster.json"), "utf8")) as { kubeconfig: string };
  const rc = `apiVersion: v1\nkind: ReplicationController\nmetadata: {name: bench}\nspec:\n  replicas: ${pods}\n  selector: {app: bench}\n  template:\n    metadata: {labels: {app: bench}}\n    spec: {containers: [{name: c, image: berth/busybox}]}\n`;
  const applied = spawnSync(process.execPath, [join(ROOT, "bin/berth.js"), "apply", "-f", "-"], { input: rc, env: { ...process.env, BERTH_HOME: home }, encoding: "utf8" });
  if (applied.status !== 0) throw new Error(applied.stderr);
  // Every run must list all the pods: wait until the replication controller has created them.
  const listed = () => spawnSync(process.execPath, [join(ROOT, "bin/berth.js"), "get", "pods", "-o", "name"], { env: { ...process.env, BERTH_HOME: home }, encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith("pod/bench-")).length;
  for (const deadline = Date.now() + 60_000; listed() !== pods; ) {
    if (Date.now() > deadline) throw new Error(`the replication controller did not create ${pods} pods within 60 s`);
  }

  const binOf = (dir: string) => join(dir, (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: { berth: string } }).bin.berth);
  const bin = binOf(ROOT);
  // "berth" and the peer's are the "bin" file executed directly, as the shell runs the command on
  // the PATH (its `#!` line starts Node).
  const withHome = { ...process.env, BERTH_HOME: home };
  const commands: Record<string, [string, string[], NodeJS.ProcessEnv]> = {
    "berth get pods": [bin, ["get", "pods"], withHome],
    "node bin/berth.cjs get pods": [process.execPath, [bin, "get", "pods"], withHome],
    "node bin/berth.js get pods": [process.execPath, [join(ROOT, "bin/berth.js"), "get", "pods"], withHome],
    "kubectl get pods": ["kubectl", ["--kubeconfig", info.kubeconfig, "get", "pods"], process.env],
    "node -e 0": [process.execPath, ["-e", "0"], process.env],
  };
  if (peer) commands["peer: berth get pods"] = [binOf(peer), ["get", "pods"], withHome];
  if (sources) commands["berth get pods (sources, tsx)"] = [process.execPath, [join(ROOT, "bin/berth.js"), "get", "pods"], { ...withHome, BERTH_FROM_SOURCES: "1" }];
  if (process.env.NODE_EXTRA_CA_CERTS) {
    const { NODE_EXTRA_CA_CERTS: _, ...bare } = process.env;
    commands["berth get pods (no CA env)"] = [bin, ["get", "pods"], { ...bare, BERTH_HOME: home }];
    if (peer) commands["peer: berth get pods (no CA env)"] = [binOf(peer), ["get", "pods"], { ...bare, BERTH_HOME: home }];
    commands["node -e 0 (no CA env)"] = [process.execPath, ["-e", "0"], bare];
  }
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, [cmd, args, env]] of Object.entries(commands)) {
      const t = performance.now();
      const r = spawnSync(cmd, args, { env, encoding: "utf8" });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      if (!name.startsWith("node -e") && r.stdout.split("\n").filter((l) => l.startsWith("bench-")).length !== pods) throw new Error(`${name} did not list ${pods} pods:\n${r.stdout}`);
      if (i >= 2) times[name].push(ms); // the first two runs warm the file cache
    }
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const kube = q(times["kubectl get pods"], 0.5);
  console.log(`${runs} runs each, ${pods} pods, alternating; wall time in ms`);
  console.log(`${"command".padEnd(36)}${"p50".padStart(8)}${"p90".padStart(8)}  vs kubectl (p50)`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(`${name.padEnd(36)}${q(xs, 0.5).toFixed(0).padStart(8)}${q(xs, 0.9).toFixed(0).padStart(8)}  ${(q(xs, 0.5) / kube).toFixed(2)}×`);
  }
} finally {
  await up.stop();
  rmSync(home, { recursive: true, force: true });
}
