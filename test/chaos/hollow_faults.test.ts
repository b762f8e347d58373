/**
 * Chaos on hollow nodes (the real node agents, pod actors, control plane, API and NATS; only
 * the container engine is in memory): one fault kind per test, invariants asserted after it.
 */
import { describe, expect, it } from "vitest";
import { entriesOf, faultWindows } from "../../runtime/chaos/history.ts";
import { rc, results, run, scenario } from "../helpers/scenario_fixture.ts";

const cluster = { nodes: 3, runtime: "hollow", nodeGracePeriod: "2s", podEvictionTimeout: "2s" };
const allCheckers = { "faults-healed": {}, convergence: { bound: "30s" }, "no-lost-writes": {}, "no-orphans": {}, "no-duplicate-pods": {} };

describe("chaos on hollow nodes", () => {
  it("node partition (blackhole): the seed story 3 → 4 → 3 holds, and every invariant after healing", async () => {
    const r = await run(scenario({
      name: "t-partition-blackhole",
      cluster,
      workload: { objects: [rc("web", 3)], writer: { interval: "100ms", objects: 3 } },
      duration: "12s",
      warmup: "500ms",
      faults: { script: [{ at: "0s", kind: "node-partition", target: "node-2", duration: "10s", params: { mode: "blackhole" } }] },
      checkers: { ...allCheckers, "seed-story": { rc: "default/web" } },
    }));
    const c = results(r);
    expect(c["seed-story"].ok, c["seed-story"].evidence.join("\n")).toBe(true);
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    // The partitioned node was seen as not Ready while cut off.
    expect(entriesOf(r.history.entries, "sample").some((s) => s.nodes["node-2"] === "Unknown")).toBe(true);
  }, 120_000);

  it("node agent killed and restarted: it re-adopts its running pods (nothing runs twice, nothing is replaced needlessly)", async () => {
    const r = await run(scenario({
      name: "t-agent-kill",
      cluster: { ...cluster, nodeGracePeriod: "4s", podEvictionTimeout: "30s" },
      workload: { objects: [rc("web", 4)], writer: { interval: "100ms", objects: 2 } },
      duration: "6s",
      warmup: "500ms",
      faults: { script: [{ at: "0s", kind: "node-agent-kill", target: "node-1", duration: "3s" }] },
      checkers: allCheckers,
    }));
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    // Re-adoption: running copies never went above the desired count.
    const samples = entriesOf(r.history.entries, "sample").filter((s) => s.rcs["default/web"]);
    expect(Math.max(...samples.map((s) => s.rcs["default/web"].running ?? 0))).toBe(4);
  }, 120_000);

  it("NATS server restarted (JetStream on disk): no acknowledged write is lost, the cluster converges", async () => {
    const r = await run(scenario({
      name: "t-nats-restart",
      cluster,
      workload: { objects: [rc("web", 3)], writer: { interval: "50ms", objects: 4 } },
      duration: "8s",
      warmup: "500ms",
      faults: { script: [{ at: "1s", kind: "nats-restart", target: "nats", duration: "2s" }] },
      checkers: allCheckers,
    }));
    const c = results(r);
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    expect(c["no-lost-writes"].figures!.acknowledged).toBeGreaterThan(20);
    // The writer kept going across the restart: writes were acknowledged after it too.
    const [restart] = faultWindows(r.history.entries);
    expect(entriesOf(r.history.entries, "write").filter((w) => w.ok && w.start > restart.end).length).toBeGreaterThan(5);
  }, 120_000);

  it("NATS server paused (SIGSTOP) then resumed: nothing is acknowledged while frozen, writes resume, none acknowledged is lost", async () => {
    const r = await run(scenario({
      name: "t-nats-pause",
      cluster,
      workload: { objects: [rc("web", 3)], writer: { interval: "50ms", objects: 4 } },
      duration: "7s",
      warmup: "500ms",
      faults: { script: [{ at: "1s", kind: "nats-pause", target: "nats", duration: "3s" }] },
      checkers: allCheckers,
    }));
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    const [pause] = faultWindows(r.history.entries);
    const acked = entriesOf(r.history.entries, "write").filter((w) => w.ok);
    expect(acked.filter((w) => w.start > pause.start && w.end < pause.end)).toEqual([]);
    expect(acked.filter((w) => w.start > pause.end).length).toBeGreaterThan(5);
  }, 120_000);

  it("partition modes reset and delay, and a killed container: every invariant holds after healing", async () => {
    const r = await run(scenario({
      name: "t-reset-delay-kill",
      cluster,
      workload: { objects: [rc("web", 3)], writer: { interval: "100ms", objects: 2 } },
      duration: "9s",
      warmup: "500ms",
      faults: {
        script: [
          { at: "0s", kind: "node-partition", target: "node-1", duration: "3s", params: { mode: "reset" } },
          { at: "0s", kind: "node-partition", target: "node-3", duration: "3s", params: { mode: "delay", ms: 700 } },
          { at: "4s", kind: "container-kill", target: "pod:1" },
          { at: "5s", kind: "node-partition", target: "node-2", duration: "3s", params: { mode: "bandwidth", bytesPerSecond: 2000 } },
        ],
      },
      checkers: allCheckers,
    }));
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    expect(results(r)["faults-healed"].figures!.faults).toBe(4);
  }, 120_000);
});
