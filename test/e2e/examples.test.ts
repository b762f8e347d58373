/**
 * The examples that the docs point at run as written: examples/nats-client.mjs (docs/nats-api.md)
 * against a `berth up` cluster (hollow nodes: it needs no Docker), with only cluster.json to go on.
 */
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, berthUp, ROOT, tempHome, type RunningUp } from "../helpers/cli.ts";

let home: string;
let up: RunningUp | undefined;

beforeAll(async () => {
  home = tempHome("berth-examples-");
  up = await berthUp("node", home, ["--runtime", "hollow", "--nodes", "1"], 90_000);
}, 120_000);

afterAll(async () => {
  await up?.stop();
  rmSync(home, { recursive: true, force: true });
});

describe("examples/", () => {
  it("nats-client.mjs creates, lists, watches and deletes a pod with the credentials from cluster.json", () => {
    const out = execFileSync(process.execPath, [join(ROOT, "examples/nats-client.mjs")], { cwd: ROOT, env: { ...process.env, BERTH_HOME: home }, encoding: "utf8", timeout: 60_000 });
    const name = /created pod (\S+)/.exec(out)?.[1];
    expect(name).toMatch(/^nats-example-\d+$/);
    expect(out).toContain(`watch: ADDED pod/${name}`);
    expect(out).toContain(`deleted pod ${name}`);
    // The pod is gone from the cluster (hollow nodes remove it at once with grace 0).
    const left = berth("node", home, ["get", "pods", "-o", "name"]);
    expect(left.code).toBe(0);
    expect(left.stdout).not.toContain(name!);
  });
});
