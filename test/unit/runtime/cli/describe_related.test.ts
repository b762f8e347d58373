/** `berth describe svc` shows the Endpoints, `berth describe node` the pods and allocated resources, as kubectl. */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Endpoints, Node, Pod, Service } from "../../../../model/types.ts";

const now = Date.parse("2026-12-02T00:10:00Z");
const meta = (name: string) => ({ name, namespace: "default", creationTimestamp: "2026-12-02T00:00:00Z" });

describe("describe with related objects", () => {
  it("a Service lists its ready endpoints with ports, <none> without", () => {
    const svc = { apiVersion: "v1", kind: "Service", metadata: meta("web"), spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } } as unknown as Service;
    const ep = { apiVersion: "v1", kind: "Endpoints", metadata: meta("web"), subsets: [{ addresses: [{ ip: "10.213.0.5" }, { ip: "10.213.0.6" }], ports: [{ port: 8080 }] }] } as unknown as Endpoints;
    expect(describeObject("services", svc, [], now, { endpoints: ep })).toMatch(/^Endpoints:\s+10\.213\.0\.5:8080,10\.213\.0\.6:8080$/m);
    expect(describeObject("services", svc, [], now, { endpoints: null })).toMatch(/^Endpoints:\s+<none>$/m);
  });

  it("a Node lists its non-terminated pods and the requests and limits against allocatable", () => {
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "node-1", creationTimestamp: "2026-12-02T00:00:00Z" }, spec: {}, status: { allocatable: { cpu: "2", memory: "4Gi" } } } as unknown as Node;
    const pod = (name: string, phase: string, cpu?: string) => ({
      apiVersion: "v1", kind: "Pod", metadata: meta(name),
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "i", resources: cpu ? { requests: { cpu, memory: "1Gi" }, limits: { cpu: "1" } } : undefined }] },
      status: { phase },
    }) as unknown as Pod;
    const text = describeObject("nodes", node, [], now, { pods: [pod("a", "Running", "500m"), pod("b", "Running"), pod("done", "Succeeded", "1")] });
    expect(text).toContain("Non-terminated Pods:          (2 in total)");
    expect(text).toMatch(/^\s+default\s+a\s+500m \(25%\)\s+1 \(50%\)\s+1Gi \(25%\)/m);
    expect(text).not.toMatch(/\bdone\b/);
    expect(text).toMatch(/^\s+cpu\s+500m \(25%\)\s+1 \(50%\)$/m);
    expect(text).toMatch(/^\s+memory\s+1Gi \(25%\)\s+0 \(0%\)$/m);
  });
});
