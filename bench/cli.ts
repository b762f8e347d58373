/**
 * CLI start-up: wall time of `berth get pods` against kubectl's `kubectl get pods` on the same
 * cluster, run alternately so both see the same machine load. Also `berth get pods` run from the
 * TypeScript sources through tsx (BERTH_FROM_SOURCES=1: what every run cost before dist/).
 *
 *   npx tsx bench/cli.ts [--runs 20] [--pods 20]
 *
 * Starts its own `berth up --runtime hollow` in a temporary home (no Docker), with --pods pods
 * from one replication controller, and prints median and p90 per command and the ratios.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { numArg } from "./args.ts";
import { berthUp, ROOT, tempHome } from "../test/helpers/cli.ts";

const runs = numArg("runs", 20);
const pods = numArg("pods", 20);

const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs")], { stdio: "inherit" });
if (build.status !== 0) throw new Error("npm run build failed");

const home = tempHome("berth-bench-cli-");
const up = await berthUp("node", home, ["--runtime", "hollow", "--nodes", "2"], 120_000);
try {
  const info = JSON.parse(readFileSync(join(home, "cluster.json"), "utf8")) as { kubeconfig: string };
  const rc = `apiVersion: v1\nkind: ReplicationController\nmetadata: {name: bench}\nspec:\n  replicas: ${pods}\n  selector: {app: bench}\n  template:\n    metadata: {labels: {app: bench}}\n    spec: {containers: [{name: c, image: berth/busybox}]}\n`;
  const applied = spawnSync(process.execPath, [join(ROOT, "bin/berth.js"), "apply", "-f", "-"], { input: rc, env: { ...process.env, BERTH_HOME: home }, encoding: "utf8" });
  if (applied.status !== 0) throw new Error(applied.stderr);

  const commands: Record<string, [string, string[], NodeJS.ProcessEnv]> = {
    "berth get pods": [process.execPath, [join(ROOT, "bin/berth.js"), "get", "pods"], { ...process.env, BERTH_HOME: home }],
    "kubectl get pods": ["kubectl", ["--kubeconfig", info.kubeconfig, "get", "pods"], process.env],
    "berth get pods (sources, tsx)": [process.execPath, [join(ROOT, "bin/berth.js"), "get", "pods"], { ...process.env, BERTH_HOME: home, BERTH_FROM_SOURCES: "1" }],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs + 2; i++) {
    for (const [name, [cmd, args, env]] of Object.entries(commands)) {
      const t = performance.now();
      const r = spawnSync(cmd, args, { env, encoding: "utf8" });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
      if (r.stdout.split("\n").filter((l) => l.startsWith("bench-")).length !== pods) throw new Error(`${name} did not list ${pods} pods:\n${r.stdout}`);
      if (i >= 2) times[name].push(ms); // the first two runs warm the file cache
    }
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  const kube = q(times["kubectl get pods"], 0.5);
  console.log(`${runs} runs each, ${pods} pods, alternating; wall time in ms`);
  console.log(`${"command".padEnd(32)}${"p50".padStart(8)}${"p90".padStart(8)}  vs kubectl (p50)`);
  for (const [name, xs] of Object.entries(times)) {
    console.log(`${name.padEnd(32)}${q(xs, 0.5).toFixed(0).padStart(8)}${q(xs, 0.9).toFixed(0).padStart(8)}  ${(q(xs, 0.5) / kube).toFixed(2)}×`);
  }
} finally {
  await up.stop();
  rmSync(home, { recursive: true, force: true });
}
