/**
 * `cluster.stop()` leaves nothing running: a program that starts a cluster with its components
 * and stops it exits by itself, at once. (A 30 s timer raced against the pod effects' settle in
 * the node agent used to keep such a process alive for half a minute after stop.)
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Cluster, startClusterComponents } from "../../mod.ts";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

describe("programmatic cluster - exit after stop", () => {
  it("a script that starts a cluster with a hollow node and a pod, then stops it, exits on its own within seconds", async () => {
    const dir = mkdtempSync(join(tmpdir(), "berth-exit-"));
    const script = join(dir, "exit.mts");
    writeFileSync(script, `
      import { Cluster, startClusterComponents } from ${JSON.stringify(join(ROOT, "mod.ts"))};
      const cluster = await Cluster.start({ nodeNames: ["node-1"] });
      const c = await startClusterComponents(cluster, { nodes: 1, runtime: "hollow", rest: false, services: false, nodeNames: ["node-1"], heartbeatIntervalMs: 200 });
      await c.waitReady();
      await cluster.apply("apiVersion: v1\\nkind: Pod\\nmetadata: {name: p}\\nspec: {containers: [{name: c, image: berth/busybox}]}\\n");
      for (let i = 0; i < 200; i++) {
        const p = await cluster.client.get("pods", "p", "default");
        if (p.status?.phase === "Running") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await cluster.stop();
      console.log("stopped " + Date.now());
    `);
    const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    let exitedAt = 0;
    child.on("exit", () => (exitedAt = Date.now()));
    // Its output is read to the end ("close") before it is looked at; the time is the exit's.
    const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
    rmSync(dir, { recursive: true, force: true });
    expect(code, err).toBe(0);
    const stoppedAt = Number(/stopped (\d+)/.exec(out)?.[1]);
    expect(stoppedAt, out + err).toBeGreaterThan(0);
    // At once, give or take process teardown on a loaded machine; the leak held it 30 s.
    expect(exitedAt - stoppedAt).toBeLessThan(5_000);
  }, 90_000);

  it("startClusterComponents on a cluster started without the node's identity says how to start it, and starts nothing", async () => {
    const cluster = await Cluster.start();
    try {
      await expect(startClusterComponents(cluster, { nodes: 1, runtime: "hollow", rest: false, services: false })).rejects.toThrow(
        /node\(s\) node-1 have no NATS identity in this cluster; start it with Cluster.start\(\{ nodeNames: \["node-1"\] \}\)/,
      );
      expect((await cluster.api.list("nodes")).items).toEqual([]);
    } finally {
      await cluster.stop();
    }
  });
});
