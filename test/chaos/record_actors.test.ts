/**
 * `berth chaos run --record-actors`: the real CLI runs a short scenario on hollow nodes and its
 * history.json holds the actors' states as they were published on NATS — pods and nodes under
 * their node's scope, the control loops under the control plane's.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ActorTransition, HistoryJson } from "../../runtime/chaos/history.ts";
import { ROOT } from "../helpers/cli.ts";

const SCENARIO = `
name: t-record-actors
cluster: { nodes: 2, runtime: hollow }
workload:
  objects:
    - apiVersion: v1
      kind: ReplicationController
      metadata: { name: web }
      spec:
        replicas: 3
        selector: { app: web }
        template:
          metadata: { labels: { app: web } }
          spec:
            terminationGracePeriodSeconds: 1
            containers: [{ name: app, image: berth/busybox:latest }]
duration: 1s
warmup: 200ms
heal: { timeout: 30s, settle: 500ms }
checkers: { convergence: {} }
`;

describe("chaos run --record-actors", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-record-actors-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("history.json holds pod, node and work-loop actor snapshots, each under its scope", async () => {
    writeFileSync(join(dir, "t.yaml"), SCENARIO);
    const child = spawn(process.execPath, [join(ROOT, "bin/berth.js"), "chaos", "run", join(dir, "t.yaml"), "--seed", "1", "--record-actors", "--report", join(dir, "reports")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, output).toBe(0);
    const history = JSON.parse(readFileSync(join(dir, "reports", "t-record-actors-seed-1", "history.json"), "utf8")) as HistoryJson;
    const actors = history.entries.filter((e): e is ActorTransition => e.type === "actor");
    expect(new Set(actors.map((a) => a.kind))).toEqual(new Set(["pod", "node", "workloop"]));
    // Pods and nodes under their node's scope; every RC pod reached running, seen from NATS.
    const nodes = actors.filter((a) => a.kind === "node");
    const nodeNames = new Set(nodes.map((a) => a.id));
    expect(nodeNames.size, [...nodeNames].join()).toBe(2);
    for (const n of nodes) expect(n.scope).toBe(n.id);
    const pods = actors.filter((a) => a.kind === "pod");
    for (const p of pods) expect(nodeNames).toContain(p.scope);
    const running = new Set(pods.filter((p) => /running/.test(p.state)).map((p) => p.id));
    expect([...running].filter((id) => id.startsWith("default/web-")).length).toBeGreaterThanOrEqual(3);
    // The control loops under the control plane's scope, the RC's own loop among them.
    const loops = new Set(actors.filter((a) => a.kind === "workloop").map((a) => { expect(a.scope).toBe("control-plane"); return a.id; }));
    for (const id of ["scheduler", "controller-manager", "rc/default/web"]) expect(loops).toContain(id);
    // Snapshots are ordered in time and their transition counts never go back for one actor.
    const last = new Map<string, number>();
    for (const a of actors) {
      const k = `${a.kind}/${a.scope}/${a.id}`;
      expect(a.transitions).toBeGreaterThanOrEqual(last.get(k) ?? 0);
      last.set(k, a.transitions);
    }
    expect(actors.map((a) => a.t)).toEqual(actors.map((a) => a.t).sort((x, y) => x - y));
  }, 120_000);
});
