import { HOST_PORTS_ANNOTATION } from "../../../model/pod.ts";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Pod, Service } from "../../../model/types.ts";
import {
  backendsForPort,
  computeEndpoints,
  endpointHostname,
  HOST_ENDPOINTS_ANNOTATION,
  hostEndpointsOf,
} from "../../../actors/service_endpoints.ts";

function svc(spec: Partial<Service["spec"]> = {}, name = "web"): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: { selector: { app: "web" }, ports: [{ port: 80 }], ...spec },
  };
}

interface PodOpts {
  ip?: string;
  ready?: boolean;
  labels?: Record<string, string>;
  ports?: { name?: string; containerPort: number }[];
  terminating?: boolean;
  hostPorts?: Record<string, number>;
  hostIP?: string;
  namespace?: string;
  phase?: "Running" | "Failed";
  hostname?: string;
  subdomain?: string;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: `uid-${name}`,
      labels: o.labels ?? { app: "web" },
      ...(o.terminating ? { deletionTimestamp: "2024-01-01T00:00:00Z" } : {}),
      ...(o.hostPorts ? { annotations: { [HOST_PORTS_ANNOTATION]: JSON.stringify(o.hostPorts) } } : {}),
    },
    spec: {
      nodeName: "node-1",
      containers: [{ name: "c", image: "berth/busybox", ports: o.ports }],
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    },
    status: {
      phase: o.phase ?? "Running",
      ...(o.ip === undefined ? {} : { podIP: o.ip }),
      ...(o.hostIP ? { hostIP: o.hostIP } : {}),
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }],
    },
  };
}

describe("computeEndpoints", () => {
  it("lists ready matching pods with an IP under addresses, sorted by IP", () => {
    const ep = computeEndpoints(svc(), [pod("b", { ip: "172.30.0.3" }), pod("a", { ip: "172.30.0.2" })]);
    expect(ep.metadata).toMatchObject({ name: "web", namespace: "default" });
    expect(ep.subsets).toEqual([
      {
        addresses: [
          { ip: "172.30.0.2", nodeName: "node-1", targetRef: { kind: "Pod", name: "a", namespace: "default", uid: "uid-a" } },
          { ip: "172.30.0.3", nodeName: "node-1", targetRef: { kind: "Pod", name: "b", namespace: "default", uid: "uid-b" } },
        ],
        ports: [{ port: 80, protocol: "TCP" }],
      },
    ]);
  });

  it("leaves out pods without an IP, terminating, finished, unmatched or in another namespace", () => {
    const ep = computeEndpoints(svc(), [
      pod("noip"),
      pod("term", { ip: "10.0.0.1", terminating: true }),
      pod("failed", { ip: "10.0.0.2", phase: "Failed" }),
      pod("other", { ip: "10.0.0.3", labels: { app: "db" } }),
      pod("elsewhere", { ip: "10.0.0.4", namespace: "prod" }),
    ]);
    expect(ep.subsets).toEqual([]);
  });

  it("puts pods that are not ready under notReadyAddresses", () => {
    const ep = computeEndpoints(svc(), [pod("a", { ip: "10.0.0.1", ready: false }), pod("b", { ip: "10.0.0.2" })]);
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual(["10.0.0.2"]);
    expect(ep.subsets?.[0].notReadyAddresses?.map((a) => a.ip)).toEqual(["10.0.0.1"]);
  });

  it("with publishNotReadyAddresses, lists pods that are not ready under addresses too", () => {
    const ep = computeEndpoints(svc({ publishNotReadyAddresses: true }), [pod("a", { ip: "10.0.0.1", ready: false }), pod("b", { ip: "10.0.0.2" })]);
    expect(ep.subsets?.[0].addresses?.map((a) => a.ip)).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(ep.subsets?.[0].notReadyAddresses).toBeUndefined();
  });

  it("resolves a named targetPort per pod and groups pods by their resolved ports", () => {
    const s = svc({ ports: [{ name: "http", port: 80, targetPort: "web" }] });
    const ep = computeEndpoints(s, [
      pod("a", { ip: "10.0.0.1", ports: [{ name: "web", containerPort: 8080 }] }),
      pod("b", { ip: "10.0.0.2", ports: [{ name: "web", containerPort: 9090 }] }),
      pod("c", { ip: "10.0.0.3", ports: [{ name: "other", containerPort: 1 }] }),
    ]);
    expect(ep.subsets).toHaveLength(2);
    const ports = ep.subsets!.map((x) => [x.addresses![0].ip, x.ports![0].port]).sort();
    expect(ports).toEqual([["10.0.0.1", 8080], ["10.0.0.2", 9090]]);
  });

  it("targetPort defaults to port and several named ports are kept", () => {
    const s = svc({ ports: [{ name: "http", port: 80 }, { name: "metrics", port: 9100, targetPort: 9101 }] });
    const ep = computeEndpoints(s, [pod("a", { ip: "10.0.0.1" })]);
    expect(ep.subsets?.[0].ports).toEqual([
      { name: "http", port: 80, protocol: "TCP" },
      { name: "metrics", port: 9101, protocol: "TCP" },
    ]);
  });

  it("records host ports of each address in the berth.dev/host-endpoints annotation", () => {
    const s = svc({ ports: [{ port: 80 }] });
    const ep = computeEndpoints(s, [
      pod("a", { ip: "10.0.0.1", hostIP: "127.0.0.1", hostPorts: { "80/TCP": 32768, "81/TCP": 32769 } }),
      pod("b", { ip: "10.0.0.2" }),
    ]);
    expect(JSON.parse(ep.metadata.annotations![HOST_ENDPOINTS_ANNOTATION])).toEqual({
      "10.0.0.1": { hostIP: "127.0.0.1", hostPorts: { "80/TCP": 32768 } },
    });
    expect(hostEndpointsOf(ep)["10.0.0.1"].hostPorts["80/TCP"]).toBe(32768);
    expect(backendsForPort(ep, s.spec.ports![0])).toEqual([
      { ip: "10.0.0.1", port: 80, hostIP: "127.0.0.1", hostPort: 32768, pod: "a" },
      { ip: "10.0.0.2", port: 80, pod: "b" },
    ]);
  });

  it("gives an address the pod's hostname when the pod's subdomain names the service, ready or not", () => {
    const ep = computeEndpoints(svc({ clusterIP: "None" }), [
      pod("web-0", { ip: "10.0.0.1", hostname: "web-0", subdomain: "web" }),
      pod("web-1", { ip: "10.0.0.2", hostname: "web-1", subdomain: "web", ready: false }),
      pod("other", { ip: "10.0.0.3", hostname: "other", subdomain: "db" }),
      pod("nohost", { ip: "10.0.0.4", subdomain: "web" }),
      pod("nosub", { ip: "10.0.0.5", hostname: "nosub" }),
    ]);
    const names = (list: { ip: string; hostname?: string }[] = []) => list.map((a) => [a.ip, a.hostname ?? null]);
    expect(names(ep.subsets?.[0].addresses)).toEqual([["10.0.0.1", "web-0"], ["10.0.0.3", null], ["10.0.0.4", null], ["10.0.0.5", null]]);
    expect(names(ep.subsets?.[0].notReadyAddresses)).toEqual([["10.0.0.2", "web-1"]]);
    // The namespace must match too (Kubernetes' ShouldSetHostname), whatever the caller passes.
    expect(endpointHostname(pod("x", { hostname: "x", subdomain: "web", namespace: "prod" }), svc())).toBeUndefined();
    expect(endpointHostname(pod("x", { hostname: "x", subdomain: "web" }), svc())).toBe("x");
  });

  it("lists the pods of a headless service without ports in one subset with no ports, as Kubernetes does", () => {
    const pods = [pod("a", { ip: "10.0.0.2", hostname: "a", subdomain: "web" }), pod("b", { ip: "10.0.0.1", ready: false })];
    const ep = computeEndpoints(svc({ clusterIP: "None", ports: undefined }), pods);
    expect(ep.subsets).toEqual([
      {
        addresses: [{ ip: "10.0.0.2", hostname: "a", nodeName: "node-1", targetRef: { kind: "Pod", name: "a", namespace: "default", uid: "uid-a" } }],
        notReadyAddresses: [{ ip: "10.0.0.1", nodeName: "node-1", targetRef: { kind: "Pod", name: "b", namespace: "default", uid: "uid-b" } }],
      },
    ]);
    expect(ep.metadata.annotations).toBeUndefined();
    // With a ClusterIP, or with ports none of which the pod has, a pod without ports is left out.
    expect(computeEndpoints(svc({ ports: [] }), pods).subsets).toEqual([]);
    expect(computeEndpoints(svc({ clusterIP: "None", ports: [{ port: 80, targetPort: "missing" }] }), pods).subsets).toEqual([]);
  });

  it("an empty or absent selector selects nothing", () => {
    expect(computeEndpoints(svc({ selector: {} }), [pod("a", { ip: "10.0.0.1" })]).subsets).toEqual([]);
    expect(computeEndpoints(svc({ selector: undefined }), [pod("a", { ip: "10.0.0.1" })]).subsets).toEqual([]);
  });

  it("property: every ready address is a matching, running pod with an IP, and each such pod appears once", () => {
    const podArb = fc.record({
      ip: fc.option(fc.integer({ min: 1, max: 250 }), { nil: undefined }),
      ready: fc.boolean(),
      match: fc.boolean(),
      terminating: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(podArb, { maxLength: 30 }), (specs) => {
        const pods = specs.map((s, i) =>
          pod(`p${i}`, {
            ip: s.ip === undefined ? undefined : `10.1.${i}.${s.ip}`,
            ready: s.ready,
            labels: s.match ? { app: "web" } : { app: "x" },
            terminating: s.terminating,
          }),
        );
        const ep = computeEndpoints(svc(), [...pods].reverse());
        const ready = (ep.subsets ?? []).flatMap((x) => x.addresses ?? []).map((a) => a.targetRef!.name);
        const notReady = (ep.subsets ?? []).flatMap((x) => x.notReadyAddresses ?? []).map((a) => a.targetRef!.name);
        const expectReady = specs.flatMap((s, i) => (s.ip !== undefined && s.ready && s.match && !s.terminating ? [`p${i}`] : []));
        const expectNotReady = specs.flatMap((s, i) => (s.ip !== undefined && !s.ready && s.match && !s.terminating ? [`p${i}`] : []));
        expect([...ready].sort()).toEqual([...expectReady].sort());
        expect([...notReady].sort()).toEqual([...expectNotReady].sort());
        // Deterministic: input order does not matter.
        expect(computeEndpoints(svc(), pods)).toEqual(ep);
      }),
    );
  });
});
