import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  addUsage,
  countedResource,
  exceededBy,
  exceededMessage,
  formatUsage,
  isQuotaName,
  missingCompute,
  parseUsage,
  quotaNames,
  quotaStatus,
  totalUsage,
  usageOf,
} from "../../../model/quota.ts";
import type { DaemonSet, Pod, ResourceQuota } from "../../../model/types.ts";

const pod = (name: string, resources?: { requests?: Record<string, string>; limits?: Record<string, string> }, phase?: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "main", image: "i", ...(resources ? { resources } : {}) }] },
  ...(phase ? { status: { phase: phase as "Running" } } : {}),
});

describe("quota arithmetic", () => {
  it("quota - a pod costs one pod and its requests; a limit without a request is also the request; a finished pod costs nothing", () => {
    const names = ["pods", "count/pods", "requests.cpu", "limits.memory", "cpu", "services"];
    expect(usageOf("pods", pod("a", { requests: { cpu: "250m" }, limits: { memory: "1Gi" } }), names)).toEqual({
      pods: 1, "count/pods": 1, "requests.cpu": 250, "limits.memory": 2 ** 30, cpu: 250, services: 0,
    });
    expect(usageOf("pods", pod("b", { limits: { cpu: "1" } }), ["requests.cpu"])).toEqual({ "requests.cpu": 1000 });
    expect(usageOf("pods", pod("c", { requests: { cpu: "1" } }, "Succeeded"), names)).toEqual({
      pods: 0, "count/pods": 0, "requests.cpu": 0, "limits.memory": 0, cpu: 0, services: 0,
    });
    expect(usageOf("services", { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [] } } as never, ["services", "count/services", "pods"]))
      .toEqual({ services: 1, "count/services": 1, pods: 0 });
  });

  it("quota - names: the core/v1 counts and compute names are enforced, others are refused", () => {
    for (const n of ["pods", "services", "replicationcontrollers", "resourcequotas", "persistentvolumeclaims", "count/services", "count/events", "requests.cpu", "limits.memory", "cpu", "memory", "requests.storage", "local.storageclass.storage.k8s.io/requests.storage"]) {
      expect(isQuotaName(n)).toBe(true);
    }
    for (const n of ["count/nodes", "count/namespaces", "count/nonsense", "gpu", "storage", "limits.storage", "local.storageclass.storage.k8s.io/storage", "secrets"]) expect(isQuotaName(n)).toBe(false);
  });

  it("quota - the refusal names every exceeded resource in Kubernetes' words", () => {
    const hard = parseUsage({ pods: "10", "limits.cpu": "2" });
    const over = exceededBy(hard, { pods: 10, "limits.cpu": 1500 }, { pods: 1, "limits.cpu": 1000 });
    expect(exceededMessage("default-quota", over)).toBe(
      "exceeded quota: default-quota, requested: limits.cpu=1,pods=1, used: limits.cpu=1500m,pods=10, limited: limits.cpu=2,pods=10",
    );
  });

  it("quota - admitting requests one by one never takes usage past a limit, and admits every request that fits", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 50 }),
      fc.integer({ min: 0, max: 50 }),
      fc.array(fc.record({ pods: fc.integer({ min: 0, max: 3 }), cpu: fc.integer({ min: 0, max: 2000 }) }), { maxLength: 60 }),
      (podLimit, cpuCores, requests) => {
        const hard = { pods: podLimit, "requests.cpu": cpuCores * 1000 };
        let used = { pods: 0, "requests.cpu": 0 };
        for (const r of requests) {
          const delta = { pods: r.pods, "requests.cpu": r.cpu };
          const over = exceededBy(hard, used, delta);
          // Only what a request asks for can be exceeded.
          const fits = (r.pods === 0 || used.pods + r.pods <= podLimit) && (r.cpu === 0 || used["requests.cpu"] + r.cpu <= hard["requests.cpu"]);
          expect(over.length === 0).toBe(fits);
          if (over.length === 0) used = addUsage(used, delta) as typeof used;
          expect(used.pods).toBeLessThanOrEqual(podLimit);
          expect(used["requests.cpu"]).toBeLessThanOrEqual(hard["requests.cpu"]);
        }
      },
    ));
  });

  it("quota - a quota lowered below usage refuses new objects but only for what they ask", () => {
    expect(exceededBy({ pods: 1, services: 1 }, { pods: 5, services: 0 }, { pods: 0, services: 1 })).toEqual([]);
    expect(exceededBy({ pods: 1 }, { pods: 5 }, { pods: 1 })).toEqual([{ name: "pods", requested: 1, used: 5, limited: 1 }]);
  });

  it("quota - a compute quota needs every container to state the resource", () => {
    const hard = parseUsage({ "limits.cpu": "4", "requests.memory": "1Gi", pods: "5" });
    expect(missingCompute(hard, pod("a"))).toEqual(["limits.cpu for: main", "requests.memory for: main"]);
    expect(missingCompute(hard, pod("b", { limits: { cpu: "1", memory: "1Mi" } }))).toEqual([]);
  });

  it("quota - status counts every hard name in quantity notation; quantities round-trip", () => {
    const q: ResourceQuota = { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q" }, spec: { hard: { pods: "10", "requests.memory": "1Gi", "requests.cpu": "1.5" } } };
    const objects = [pod("a", { requests: { cpu: "500m", memory: "256Mi" } }), pod("b", { requests: { cpu: "1", memory: "256Mi" } }), pod("c", {}, "Failed")].map((obj) => ({ resource: "pods" as const, obj }));
    expect(quotaStatus(q, objects)).toEqual({
      hard: { pods: "10", "requests.cpu": "1500m", "requests.memory": "1Gi" },
      used: { pods: "2", "requests.cpu": "1500m", "requests.memory": "512Mi" },
    });
    fc.assert(fc.property(fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 2 ** 40 }), (cpu, mem) => {
      const names = ["requests.cpu", "limits.memory"];
      const u = { "requests.cpu": cpu, "limits.memory": mem };
      expect(parseUsage(formatUsage(u, names))).toEqual(u);
    }));
    expect(totalUsage([], ["pods"])).toEqual({ pods: 0 });
  });
});

describe("object count names", () => {
  it("take a named group's resources as Kubernetes writes them (count/jobs.batch), or bare", () => {
    expect(countedResource("count/jobs.batch")).toBe("jobs");
    expect(countedResource("count/deployments.apps")).toBe("deployments");
    expect(countedResource("count/jobs")).toBe("jobs");
    expect(countedResource("count/pods")).toBe("pods");
    expect(countedResource("count/jobs.apps")).toBeUndefined();
    expect(countedResource("count/pods.batch")).toBeUndefined();
    expect(countedResource("count/nodes")).toBeUndefined();
    expect(countedResource("count/jobs.batch.x")).toBeUndefined();
    expect(isQuotaName("count/jobs.batch")).toBe(true);
  });

  it("take apps/v1 DaemonSets as count/daemonsets.apps (or bare), not under another group", () => {
    expect(countedResource("count/daemonsets.apps")).toBe("daemonsets");
    expect(countedResource("count/daemonsets")).toBe("daemonsets");
    expect(countedResource("count/daemonsets.batch")).toBeUndefined();
    expect(isQuotaName("count/daemonsets.apps")).toBe(true);
    expect(quotaNames()).toContain("count/daemonsets");
    const ds = { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "agent", namespace: "default" }, spec: {} } as unknown as DaemonSet;
    expect(usageOf("daemonsets", ds, ["count/daemonsets.apps", "pods", "requests.cpu"])).toEqual({ "count/daemonsets.apps": 1, pods: 0, "requests.cpu": 0 });
  });
});
