/** Chaos runs in either service data path: the scenario's `cluster.proxyMode` and what nftables mode needs. */
import { describe, expect, it } from "vitest";
import { scenarioFromObject } from "../../../../runtime/chaos/scenario.ts";
import { nftablesProblem } from "../../../../runtime/chaos/cluster.ts";

const base = { name: "t", workload: { clients: [{ service: "default/web" }] } };

describe("chaos proxy mode", () => {
  it("defaults to userspace and reads nftables from the scenario", () => {
    expect(scenarioFromObject(base, "/").cluster.proxyMode).toBe("userspace");
    expect(scenarioFromObject({ ...base, cluster: { proxyMode: "nftables" } }, "/").cluster.proxyMode).toBe("nftables");
  });

  it("rejects an unknown mode with the field named", () => {
    expect(() => scenarioFromObject({ ...base, cluster: { proxyMode: "ipvs" } }, "/")).toThrow(/proxyMode/);
  });

  it("says why a cluster cannot run in nftables mode", () => {
    expect(nftablesProblem({ nodes: 1, runtime: "docker" })).toBeUndefined();
    expect(nftablesProblem({ nodes: 1, runtime: "hollow", proxyMode: "nftables" })).toMatch(/needs the service proxy/);
    expect(nftablesProblem({ nodes: 1, runtime: "docker", proxyMode: "nftables", endpointToxics: true })).toMatch(/endpoint-toxic faults need the userspace proxy/);
    const root = process.getuid?.() === 0;
    expect(nftablesProblem({ nodes: 1, runtime: "docker", proxyMode: "nftables" })).toBe(root ? undefined : "proxyMode nftables needs root (it writes nftables rules and adds ClusterIPs to lo)");
  });
});
