/**
 * `berth node --runtime hollow --count N`: one process running N hollow node agents against a
 * `berth control-plane` over a private nats-server, as a density run spreads 1,000 hollow nodes
 * over a few processes (bench/density.ts). The nodes register, become Ready, and run the pods the
 * scheduler spreads over them; SIGTERM stops the process cleanly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { berth, ROOT } from "../helpers/cli.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

let nats: TestNats;
let dir: string;
const procs: { proc: ChildProcess; out: () => string }[] = [];

function start(args: string[]) {
  const proc = spawn(process.execPath, ["bin/berth.js", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d) => (out += String(d)));
  proc.stderr!.on("data", (d) => (out += String(d)));
  const p = { proc, out: () => out };
  procs.push(p);
  return p;
}

async function stop(p: { proc: ChildProcess }): Promise<number | null> {
  if (p.proc.exitCode !== null) return p.proc.exitCode;
  const exited = new Promise<number | null>((r) => p.proc.once("exit", (c) => r(c)));
  p.proc.kill("SIGTERM");
  return await exited;
}

beforeAll(async () => {
  nats = await startTestNats();
  dir = mkdtempSync(join(tmpdir(), "berth-hollow-cli-"));
  const cp = start(["control-plane", "--nats", nats.url, "--home", join(dir, "cp"), "-q"]);
  await waitFor(() => /leading/.test(cp.out()), "the control plane to lead", 60_000, 100).catch((e) => {
    throw new Error(`${(e as Error).message}\n${cp.out()}`);
  });
}, 90_000);

afterAll(async () => {
  for (const p of procs.reverse()) await stop(p);
  await nats?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("berth node --runtime hollow --count N", () => {
  it("hollow nodes cli - --help documents it; --count without the hollow runtime is a usage error", () => {
    const help = berth("node", dir, ["node", "--help"]);
    expect(help.stdout).toMatch(/--runtime hollow --count N/);
    expect(help.stdout).toMatch(/--count/);
    const bad = berth("node", dir, ["node", "--nats", nats.url, "--count", "3"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--count needs --runtime hollow/);
    const badRuntime = berth("node", dir, ["node", "--nats", nats.url, "--runtime", "podman"]);
    expect(badRuntime.stderr).toMatch(/--runtime must be docker or hollow \(got "podman"\)/);
  });

  it("hollow nodes cli - one process runs N node agents that register, become Ready and run the scheduled pods", async () => {
    const nodes = start(["node", "--nats", nats.url, "--runtime", "hollow", "--count", "3", "--name", "hn", "--heartbeat", "1", "-q"]);
    await waitFor(() => /3 hollow nodes ready \(hn-0 … hn-2\)/.test(nodes.out()), "the hollow nodes to start", 60_000, 100).catch((e) => {
      throw new Error(`${(e as Error).message}\n${nodes.out()}`);
    });
    const client = new NatsApiClient(nats.nc);
    await waitFor(async () => {
      const ready = (await client.list("nodes")).items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      return ready.map((n) => n.metadata.name).sort().join(",") === "hn-0,hn-1,hn-2";
    }, "hn-0..hn-2 Ready", 30_000);
    await client.create("replicationcontrollers", {
      apiVersion: "v1", kind: "ReplicationController", metadata: { name: "hollow-rc" },
      spec: { replicas: 6, selector: { app: "hollow-rc" }, template: { metadata: { labels: { app: "hollow-rc" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } } },
    }, "default");
    const pods = await waitFor(async () => {
      const items = (await client.list("pods", { namespace: "default", labelSelector: "app=hollow-rc" })).items;
      return items.length === 6 && items.every((p) => p.status?.phase === "Running") ? items : undefined;
    }, "6 pods Running", 60_000, 200);
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(3);
    expect(await stop(nodes)).toBe(0);
    expect(nodes.out()).toMatch(/hollow nodes hn-0 … hn-2: SIGTERM, stopping/);
  }, 120_000);
});
