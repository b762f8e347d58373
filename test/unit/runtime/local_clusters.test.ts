/** Network slots for clusters side by side (runtime/local_clusters.ts), on a private registry directory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { claimSlot, listLocalClusters, planForSlot, planFromCidrs, registerCluster, unregisterCluster } from "../../../runtime/local_clusters.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "berth-registry-"));
  process.env.BERTH_CLUSTERS_DIR = join(dir, "registry");
});
afterEach(() => {
  delete process.env.BERTH_CLUSTERS_DIR;
  rmSync(dir, { recursive: true, force: true });
});

describe("local cluster slots", () => {
  it("slot 0 is the default network and range; each slot its own bridge, subnet, gateway and ClusterIPs", () => {
    expect(planForSlot(0)).toEqual({ slot: 0, network: { name: "berth0", subnet: "10.213.0.0/16", gateway: "10.213.0.1" }, serviceCidr: "10.96.0.0/16" });
    expect(planForSlot(2)).toEqual({ slot: 2, network: { name: "berth2", subnet: "10.222.0.0/16", gateway: "10.222.0.1" }, serviceCidr: "10.98.0.0/16" });
    expect(() => planForSlot(16)).toThrow(/0…15/);
  });

  it("a second home gets the next free slot; a home keeps its slot across restarts; a dead cluster's slot is free", async () => {
    const a = claimSlot(join(dir, "a"));
    registerCluster(join(dir, "a"), a, "hollow", {});
    // Another live process holds slot 1 for home b.
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      const b = claimSlot(join(dir, "b"));
      registerCluster(join(dir, "b"), b, "hollow", { pid: other.pid! });
      expect([a.slot, b.slot]).toEqual([0, 1]);
      expect(listLocalClusters().map((c) => c.slot)).toEqual([0, 1]);
      // Home a restarts (its entry goes, then it claims again): the same slot.
      unregisterCluster(join(dir, "a"));
      expect(claimSlot(join(dir, "a")).slot).toBe(0);
    } finally {
      other.kill("SIGKILL");
      await new Promise((r) => other.once("exit", r));
    }
    // b's process is gone: its entry is pruned and a third home may take slot 1.
    expect(listLocalClusters().map((c) => c.slot)).toEqual([0]);
    expect(claimSlot(join(dir, "c")).slot).toBe(1);
  });

  it("--pod-cidr and --service-cidr replace the slot's ranges; malformed ones are refused naming the flag", () => {
    const p = planFromCidrs(planForSlot(0), "10.230.0.0/16", "10.120.0.0/16");
    expect(p.network).toEqual({ name: "berth-10-230-0-0-16", subnet: "10.230.0.0/16", gateway: "10.230.0.1" });
    expect(p.serviceCidr).toBe("10.120.0.0/16");
    expect(() => planFromCidrs(planForSlot(0), "10.300.0.0/16")).toThrow(/--pod-cidr must be an IPv4 CIDR/);
    expect(() => planFromCidrs(planForSlot(0), undefined, "nonsense")).toThrow(/--service-cidr/);
  });
});
