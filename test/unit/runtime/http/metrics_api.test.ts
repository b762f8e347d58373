/** metrics.k8s.io/v1beta1 as kubectl top reads it: routes, discovery and the documents. Pure. */
import { describe, expect, it } from "vitest";
import { parseRoute } from "../../../../runtime/http/routes.ts";
import { apiGroupList } from "../../../../runtime/http/discovery.ts";
import { serveMetricsApi, type MetricsApiRoute } from "../../../../runtime/http/metrics_api.ts";
import type { UsageReport } from "../../../../model/usage.ts";
import { leaderElectionCheck } from "../../../../runtime/control_plane_host.ts";

const report: UsageReport = {
  node: "node-1",
  timestamp: "2026-12-02T04:00:00.000Z",
  windowSeconds: 10,
  usage: { cpuNanoCores: 30_000_000, memoryBytes: 6 * 1024 * 1024 },
  pods: [
    { namespace: "default", name: "web", containers: [{ name: "a", cpuNanoCores: 10_000_000, memoryBytes: 2 * 1024 * 1024 }, { name: "b", cpuNanoCores: 20_000_000, memoryBytes: 4 * 1024 * 1024 }] },
    { namespace: "kube", name: "dns", containers: [{ name: "c", cpuNanoCores: 0, memoryBytes: 0 }] },
  ],
};

const route = (p: string) => parseRoute(p) as MetricsApiRoute;

describe("metrics.k8s.io", () => {
  it("routes - group, version, nodes, pods in all or one namespace; anything else below the group is 404", () => {
    expect(parseRoute("/apis/metrics.k8s.io")).toEqual({ type: "metricsApi", doc: "group" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1")).toEqual({ type: "metricsApi", doc: "resources" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/nodes/node-1")).toEqual({ type: "metricsApi", doc: "nodes", name: "node-1" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/pods")).toEqual({ type: "metricsApi", doc: "pods" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web")).toEqual({ type: "metricsApi", doc: "pods", namespace: "default", name: "web" });
    expect(parseRoute("/apis/metrics.k8s.io/v1/nodes")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/services")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web/x")).toEqual({ type: "notFound" });
  });

  it("discovery - /apis lists the group so kubectl top finds it", () => {
    const groups = (apiGroupList() as { groups: { name: string; preferredVersion: { version: string } }[] }).groups;
    expect(groups.find((g) => g.name === "metrics.k8s.io")?.preferredVersion.version).toBe("v1beta1");
  });

  it("nodes - NodeMetrics with metrics-server's quantities and window", () => {
    const list = serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/nodes"), [report], new URLSearchParams()) as { kind: string; items: unknown[] };
    expect(list.kind).toBe("NodeMetricsList");
    expect(list.items).toEqual([{ metadata: { name: "node-1", creationTimestamp: report.timestamp }, timestamp: report.timestamp, window: "10s", usage: { cpu: "30000000n", memory: "6144Ki" } }]);
    expect(() => serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/nodes/nope"), [report], new URLSearchParams())).toThrow(/not found/);
  });

  it("pods - per-container usage, by namespace, name and label selector", () => {
    const q = new URLSearchParams();
    const inDefault = serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/namespaces/default/pods"), [report], q) as { items: { metadata: { name: string }; containers: { name: string; usage: { cpu: string } }[] }[] };
    expect(inDefault.items.map((i) => i.metadata.name)).toEqual(["web"]);
    expect(inDefault.items[0].containers.map((c) => `${c.name}=${c.usage.cpu}`)).toEqual(["a=10000000n", "b=20000000n"]);
    const all = serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/pods"), [report], q) as { items: unknown[] };
    expect(all.items).toHaveLength(2);
    const one = serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/namespaces/kube/pods/dns"), [report], q) as { kind: string };
    expect(one.kind).toBe("PodMetrics");
    const labels = (ns: string) => (ns === "default" ? { app: "web" } : { app: "dns" });
    const sel = serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/pods"), [report], new URLSearchParams("labelSelector=app%3Dweb"), labels) as { items: { metadata: { name: string } }[] };
    expect(sel.items.map((i) => i.metadata.name)).toEqual(["web"]);
    expect(() => serveMetricsApi(route("/apis/metrics.k8s.io/v1beta1/pods"), [report], new URLSearchParams("labelSelector=%3D%3D"), labels)).toThrow(/labelSelector/);
  });
});

describe("leader-election readiness", () => {
  it("passes on standby and while the lease is renewed; fails when leading past the renew deadline", () => {
    expect(() => leaderElectionCheck({ leading: false, mayAct: () => false, term: 0 }).check()).not.toThrow();
    expect(() => leaderElectionCheck({ leading: true, mayAct: () => true, term: 3 }).check()).not.toThrow();
    expect(() => leaderElectionCheck({ leading: true, mayAct: () => false, term: 3 }).check()).toThrow(/term 3/);
    expect(leaderElectionCheck({ leading: false, mayAct: () => false, term: 0 }).readinessOnly).toBe(true);
  });
});
