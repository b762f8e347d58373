import { describe, expect, it } from "vitest";
import { cpuShares, podPorts } from "../../../../runtime/kubelet/pod_spec.ts";
import { resourceConfig } from "../../../../runtime/containers/docker.ts";
import type { Container, Pod } from "../../../../model/types.ts";

const c = (resources?: Container["resources"]): Container => ({ name: "c", image: "x", ...(resources ? { resources } : {}) });

describe("resources as the kubelet sets them on Docker", () => {
  it("CPU shares come from requests (the limit when no request), milli × 1024 / 1000, at least 2", () => {
    expect(cpuShares(c())).toBeUndefined();
    expect(cpuShares(c({ requests: { cpu: "250m" } }))).toBe(256);
    expect(cpuShares(c({ requests: { cpu: "1" }, limits: { cpu: "2" } }))).toBe(1024);
    expect(cpuShares(c({ limits: { cpu: "500m" } }))).toBe(512);
    expect(cpuShares(c({ requests: { cpu: "1m" } }))).toBe(2);
  });

  it("a CPU limit is a CFS quota per 100 ms; memory has no swap beyond the limit and respects Docker's minimum", () => {
    expect(resourceConfig({ cpus: 0.5, cpuShares: 512, memoryBytes: 64 * 2 ** 20 })).toEqual({
      CpuPeriod: 100_000,
      CpuQuota: 50_000,
      CpuShares: 512,
      Memory: 64 * 2 ** 20,
      MemorySwap: 64 * 2 ** 20,
    });
    expect(resourceConfig({ cpus: 0.001 }).CpuQuota).toBe(1000);
    expect(resourceConfig({ memoryBytes: 1024 }).Memory).toBe(6 * 2 ** 20);
    expect(resourceConfig({})).toEqual({});
  });

  it("hostPort and hostIP reach the sandbox's port spec; ports without one stay ephemeral", () => {
    const pod = {
      metadata: { name: "p" },
      spec: { containers: [{ name: "a", image: "x", ports: [{ containerPort: 80, hostPort: 8080, hostIP: "127.0.0.2" }, { containerPort: 81 }, { containerPort: 53, protocol: "UDP", hostPort: 5353 }] }] },
    } as Pod;
    expect(podPorts(pod)).toEqual([
      { containerPort: 80, protocol: "TCP", hostPort: 8080, hostIP: "127.0.0.2" },
      { containerPort: 81, protocol: "TCP" },
      { containerPort: 53, protocol: "UDP", hostPort: 5353 },
    ]);
  });
});
