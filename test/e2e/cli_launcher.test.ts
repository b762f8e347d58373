/**
 * The `berth` binary's launcher (bin/berth.cjs's `#!/bin/sh` lines) against a running cluster:
 * `get` and `describe` started without NODE_EXTRA_CA_CERTS still list and describe the cluster's
 * objects, and `apply` (which keeps the variable) still changes them. The variable names a file
 * that does not exist, so Node warns "Ignoring extra certs from …" whenever it reads it.
 * The binary is executed directly, as a shell runs the command npm puts on the PATH.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berthUp, ROOT, tempHome, type RunningUp } from "../helpers/cli.ts";

const BIN = join(ROOT, "bin/berth.cjs");
let home: string;
let up: RunningUp | undefined;

function run(args: string[], input?: string) {
  const missing = join(home, "no-such-ca-bundle.pem");
  const r = spawnSync(BIN, args, { cwd: ROOT, input, encoding: "utf8", timeout: 60_000, env: { ...process.env, BERTH_HOME: home, NODE_EXTRA_CA_CERTS: missing } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, readCas: r.stderr.includes(`Ignoring extra certs from \`${missing}\``) };
}

beforeAll(async () => {
  home = tempHome("berth-launcher-e2e-");
  up = await berthUp("node", home, ["--runtime", "hollow", "--nodes", "1"], 120_000);
}, 150_000);

afterAll(async () => {
  await up?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("bin/berth.cjs launcher against a cluster", () => {
  it("apply keeps NODE_EXTRA_CA_CERTS; get and describe drop it and still read the cluster", () => {
    const rc = "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: launch}\nspec:\n  replicas: 2\n  selector: {app: launch}\n  template:\n    metadata: {labels: {app: launch}}\n    spec: {containers: [{name: c, image: berth/busybox}]}\n";
    const applied = run(["apply", "-f", "-"], rc);
    expect(applied.status, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("replicationcontroller/launch created");
    expect(applied.readCas).toBe(true);

    // Wait (on the condition) until the replication controller has made its two pods.
    let names: string[] = [];
    for (const deadline = Date.now() + 60_000; names.length !== 2; ) {
      if (Date.now() > deadline) throw new Error(`two pods of rc/launch did not appear within 60 s: ${names.join(", ")}`);
      const got = run(["get", "pods", "-o", "name"]);
      expect(got.status, got.stderr).toBe(0);
      expect(got.readCas, got.stderr).toBe(false);
      names = got.stdout.split("\n").filter((l) => l.startsWith("pod/launch-"));
    }
    const table = run(["get", "rc", "launch"]);
    expect(table.stdout).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nlaunch\s+2\s+2\s/);
    expect(table.readCas).toBe(false);

    const described = run(["describe", "pod", names[0].slice("pod/".length)]);
    expect(described.status, described.stderr).toBe(0);
    expect(described.stdout).toMatch(new RegExp(`^Name:\\s+${names[0].slice("pod/".length)}$`, "m"));
    expect(described.stdout).toMatch(/^Controlled By:\s+ReplicationController\/launch$/m);
    expect(described.readCas).toBe(false);

    // Given --nats, get keeps the variable (a server of the user's choosing) and works the same.
    const { natsUrl } = JSON.parse(readFileSync(join(home, "cluster.json"), "utf8")) as { natsUrl: string };
    const viaNats = run(["get", "pods", "-o", "name", "--nats", natsUrl]);
    expect(viaNats.status, viaNats.stderr).toBe(0);
    expect(viaNats.stdout.split("\n").filter((l) => l.startsWith("pod/launch-")).sort()).toEqual([...names].sort());
    expect(viaNats.readCas).toBe(true);
  }, 120_000);
});
