/**
 * The availability checker with the kernel data path: a chaos run on real Docker with
 * `cluster.proxyMode: nftables`, so the workload client's requests to the ClusterIP are DNAT'ed
 * by the run's own table (`berth-chaos-<id>`) instead of going through a userspace proxy (which
 * retries a refused connect on another endpoint; the kernel cannot). A node agent is killed long
 * enough for its node to go NotReady: its pods turn not Ready and leave the endpoints while their
 * containers still run (rules rewritten; the client's new connections go elsewhere), are replaced on the
 * other node, and the old copies are removed when the agent is back. No request may fail while an
 * endpoint is ready. Needs Docker and root: fails loudly without them.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { entriesOf } from "../../runtime/chaos/history.ts";
import { results, run, scenario } from "../helpers/scenario_fixture.ts";

const chaosTables = () => execFileSync("nft", ["list", "tables"], { encoding: "utf8" }).split("\n").filter((l) => /^table ip berth-chaos-/.test(l));

describe("chaos in nftables proxy mode", () => {
  it("node agent killed: its endpoints leave the kernel rules and return, no request fails while an endpoint is ready; the run's table is removed", async () => {
    const before = chaosTables();
    // Which tables the run had while it ran: the client must really have gone through nftables.
    const seen = new Set<string>();
    const poll = setInterval(() => chaosTables().forEach((t) => !before.includes(t) && seen.add(t)), 200);
    let r;
    try {
      r = await run(scenario({
        name: "t-nft-agent-kill",
        cluster: { nodes: 2, runtime: "docker", proxyMode: "nftables" },
        workload: { manifests: ["workloads/web.yaml"], clients: [{ service: "default/web", port: 80, interval: "20ms", timeout: "1s" }] },
        duration: "10s",
        warmup: "1s",
        faults: { script: [{ at: "0s", kind: "node-agent-kill", target: "node-2", duration: "8s" }] },
        checkers: { "faults-healed": {}, convergence: { bound: "45s" }, "no-orphans": {}, "no-duplicate-pods": {}, availability: {} },
      }));
    } finally {
      clearInterval(poll);
    }
    const c = results(r);
    expect(r.report.ok, JSON.stringify(r.report.results.filter((x) => !x.ok))).toBe(true);
    expect(seen.size, "the run's own nftables table existed while it ran").toBe(1);
    expect(chaosTables().filter((t) => !before.includes(t)), "no table left behind").toEqual([]);
    // Endpoints really left while pods kept running: fewer ready than the 3 replicas for a while.
    const samples = entriesOf(r.history.entries, "sample");
    expect(samples.some((s) => (s.endpoints["default/web"] ?? 0) < 3 && (s.endpoints["default/web"] ?? 0) > 0), JSON.stringify(samples.map((s) => s.endpoints["default/web"]))).toBe(true);
    expect(c.availability.figures!.counted).toBeGreaterThan(100);
  }, 180_000);
});
