/**
 * Two `berth control-plane` processes on one real nats-server: exactly one runs the control
 * loops; killing it hands the lease to the other within a bound; a paused ex-leader that wakes
 * up after losing the lease does not act; no replication controller ever overshoots (every pod
 * ever created is counted through a watch).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import type { Watch } from "../../model/client.ts";
import type { Pod } from "../../model/types.ts";
import { listActors } from "../../runtime/inspect/actor_client.ts";
import { ROOT } from "../helpers/cli.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";
import { leadsNow, printedReady } from "../helpers/control_plane_output.ts";

const TTL_S = 3;

interface Copy {
  id: string;
  proc: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
}

/** The copies' shared home (token, pki/), as the docs tell: not the default `.berth-control-plane` in the working directory. */
const HOME = mkdtempSync(join(tmpdir(), "berth-leader-"));

function startCopy(url: string, id: string): Copy {
  const proc = spawn(process.execPath, [join(ROOT, "bin/berth.js"), "control-plane", "--nats", url, "--home", HOME, "--id", id, "--lease-ttl", String(TTL_S), "--lease-renew", "0.5", "-q"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += String(d)));
  proc.stderr!.on("data", (d) => (out += String(d)));
  return { id, proc, out: () => out, exited: new Promise((r) => proc.once("exit", (c) => r(c))) };
}

const leads = (c: Copy) => leadsNow(c.out());

const rc = (replicas: number) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name: "web" },
  spec: { replicas, selector: { app: "web" }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } } },
});

describe("control-plane copies behind a leader lease", () => {
  let nats: TestNats;
  let api: NatsApiClient;
  const copies: Copy[] = [];
  const created = new Set<string>();
  let watch: Watch<Pod> | undefined;
  let watching = true;

  beforeAll(async () => {
    nats = await startTestNats();
    // Short timeouts: a frozen copy (SIGSTOP below) still holds its share of the API queue
    // group until NATS notices it is gone, so some requests go unanswered and are retried.
    api = new NatsApiClient(nats.nc, { timeoutMs: 2_000 });
  }, 30_000);

  afterAll(async () => {
    watching = false;
    watch?.stop();
    for (const c of copies) {
      c.proc.kill("SIGCONT");
      c.proc.kill("SIGKILL");
    }
    await Promise.all(copies.map((c) => c.exited));
    await nats?.stop();
    rmSync(HOME, { recursive: true, force: true });
  });

  const livePods = async () => (await api.list("pods", { namespace: "default", labelSelector: "app=web" })).items.filter((p) => !p.metadata.deletionTimestamp);

  it("one copy leads, the other takes over within the bound after the leader is killed, and no RC overshoots", async () => {
    copies.push(startCopy(nats.url, "cp-a"));
    await waitFor(() => printedReady(copies[0].out(), "cp-a") && leads(copies[0]), "cp-a leading", 30_000);
    copies.push(startCopy(nats.url, "cp-b"));
    await waitFor(() => printedReady(copies[1].out(), "cp-b"), "cp-b ready", 30_000);
    expect(leads(copies[1])).toBe(false);
    // The lease is an actor like the others: each copy's, over NATS, in its state.
    const leases = await waitFor(async () => {
      const l = await listActors(nats.nc, { kind: "lease", scope: "control-plane" });
      return l.length === 2 ? l : undefined;
    }, "both copies' lease actors", 10_000);
    expect(Object.fromEntries(leases.map((r) => [r.id, Object.keys(r.state as object)[0]]))).toEqual({ "control-plane/cp-a": "leading", "control-plane/cp-b": "standby" });

    // Count every pod ever created, from before the RC exists, through watches that resume
    // from the last revision when the API copy serving them dies.
    void (async () => {
      let rv: string | undefined;
      while (watching) {
        try {
          watch = await api.watch("pods", { namespace: "default", resourceVersion: rv });
          for await (const ev of watch) {
            if (ev.type === "ADDED") created.add(ev.object.metadata.uid!);
            rv = ev.object.metadata.resourceVersion ?? rv;
          }
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();

    await api.create("replicationcontrollers", rc(5), "default");
    await waitFor(async () => (await livePods()).length === 5, "5 pods", 20_000);

    // Scale up and kill the leader at once: part of the work may be done by each copy.
    await api.updateScale("web", 12, "default");
    const killedAt = Date.now();
    copies[0].proc.kill("SIGKILL");
    await copies[0].exited;
    await waitFor(() => leads(copies[1]), "cp-b leading", 30_000);
    const takeover = Date.now() - killedAt;
    // TTL (3 s) measured from cp-b's last observation, plus one renew period and start-up.
    console.info(`leader takeover after SIGKILL: ${takeover} ms (lease ttl ${TTL_S} s)`);
    expect(takeover).toBeLessThan(TTL_S * 1000 + 4_000);

    await waitFor(async () => (await livePods()).length === 12, "12 pods", 30_000);
    await waitFor(() => created.size >= 12, "12 pods seen by the watch", 10_000);
    // Level-based and settled: give the loops a few passes, then check nothing more was made.
    const settleUntil = Date.now() + 3_000;
    await waitFor(() => Date.now() > settleUntil, "settle", 5_000, 200);
    expect(created.size).toBe(12);
    expect((await livePods()).length).toBe(12);
  }, 120_000);

  it("a paused leader that wakes after losing the lease neither acts nor keeps leading", async () => {
    // cp-b leads now; start cp-c as the standby.
    const c = startCopy(nats.url, "cp-c");
    copies.push(c);
    await waitFor(() => printedReady(c.out(), "cp-c"), "cp-c ready", 30_000);
    const b = copies[1];
    expect(leads(b)).toBe(true);

    b.proc.kill("SIGSTOP"); // a frozen process: no renewals, no fence timer, no writes
    await waitFor(() => leads(c), "cp-c leading", 30_000);
    // While b is frozen, change what b's stale caches would react to.
    await waitFor(() => api.updateScale("web", 15, "default"), "scale to 15 answered", 30_000);
    await waitFor(async () => (await livePods()).length === 15, "15 pods", 30_000);
    b.proc.kill("SIGCONT");
    await waitFor(() => !leads(b), "cp-b standby after waking", 15_000);

    const settleUntil = Date.now() + 3_000;
    await waitFor(() => Date.now() > settleUntil, "settle", 5_000, 200);
    expect(created.size).toBe(15);
    expect((await livePods()).length).toBe(15);
    expect(leads(c)).toBe(true);
  }, 120_000);
});
