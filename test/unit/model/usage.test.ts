/** Usage arithmetic as cAdvisor and metrics-server do it, and the check of reports from the network. */
import { describe, expect, it } from "vitest";
import { cpuNanoCores, cpuQuantity, memoryQuantity, usageReportProblem, workingSetBytes } from "../../../model/usage.ts";

describe("usage", () => {
  it("cpu - the rate of cumulative usage between two samples, in nanocores; a counter that went back is 0", () => {
    // 0.5 s of CPU over 2 s of wall time: a quarter of a core.
    expect(cpuNanoCores({ usageNs: 1e9, atMs: 1000 }, { usageNs: 1.5e9, atMs: 3000 })).toBe(250_000_000);
    expect(cpuNanoCores({ usageNs: 5e9, atMs: 0 }, { usageNs: 1e9, atMs: 1000 })).toBe(0);
    expect(cpuNanoCores({ usageNs: 0, atMs: 5 }, { usageNs: 10, atMs: 5 })).toBe(0);
  });

  it("memory - the working set is usage minus inactive file pages, never negative", () => {
    expect(workingSetBytes(100 << 20, 30 << 20)).toBe(70 << 20);
    expect(workingSetBytes(10, 50)).toBe(0);
    expect(workingSetBytes(10, undefined)).toBe(10);
  });

  it("quantities - written as metrics-server writes them", () => {
    expect(cpuQuantity(12_345.6)).toBe("12346n");
    expect(memoryQuantity(2 * 1024 * 1024)).toBe("2048Ki");
  });

  it("reports - refused when malformed or when they name another node than their sender", () => {
    const ok = { node: "n1", timestamp: new Date().toISOString(), windowSeconds: 10, usage: { cpuNanoCores: 1, memoryBytes: 2 }, pods: [{ namespace: "d", name: "p", containers: [{ name: "c", cpuNanoCores: 1, memoryBytes: 2 }] }] };
    expect(usageReportProblem(ok, "n1")).toBeNull();
    expect(usageReportProblem(ok, "n2")).toMatch(/sent by n2/);
    expect(usageReportProblem({ ...ok, windowSeconds: 0 }, "n1")).toMatch(/windowSeconds/);
    expect(usageReportProblem({ ...ok, usage: { cpuNanoCores: -1, memoryBytes: 0 } }, "n1")).toMatch(/usage/);
    expect(usageReportProblem({ ...ok, pods: [{ namespace: "d", name: "p", containers: [{ name: "c", cpuNanoCores: "x" }] }] }, "n1")).toMatch(/malformed container/);
    expect(usageReportProblem(null, "n1")).toMatch(/not an object/);
  });
});
