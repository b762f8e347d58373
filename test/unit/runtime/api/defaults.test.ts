import { describe, expect, it } from "vitest";
import { applyDefaults, defaultNamespace } from "../../../../runtime/api/defaults.ts";
import { BadRequestError } from "../../../../model/errors.ts";
import type { Event, Namespace, Node, Pod, ReplicationController, Service } from "../../../../model/types.ts";

const podSpec = () => ({
  containers: [
    {
      name: "web",
      image: "berth/busybox",
      ports: [{ containerPort: 80 }],
      livenessProbe: { httpGet: { port: 80 } },
      readinessProbe: { exec: { command: ["true"] }, periodSeconds: 0, failureThreshold: 7 },
    },
  ],
});

describe("defaults - pods", () => {
  it("works on a deep copy: the input (even frozen, as the watch cache's objects) is untouched and shares nothing, a \"__proto__\" label stays a label", () => {
    const labels = JSON.parse('{"__proto__": "x", "app": "web"}');
    const input = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels }, spec: podSpec() } as Pod;
    const before = JSON.stringify(input);
    Object.freeze(input.spec.containers[0]);
    const pod = applyDefaults("pods", input);
    expect(JSON.stringify(input)).toBe(before);
    expect(pod.spec.containers[0]).not.toBe(input.spec.containers[0]);
    expect(pod.spec.containers[0].ports![0]).not.toBe(input.spec.containers[0].ports![0]);
    expect(pod.spec.containers[0].ports![0].protocol).toBe("TCP");
    expect(Object.keys(pod.metadata.labels!)).toEqual(["__proto__", "app"]);
    expect(Object.getPrototypeOf(pod.metadata.labels)).toBe(Object.prototype);
  });

  it("defaults imagePullPolicy from the image as Kubernetes: :latest or no tag → Always, else IfNotPresent; a given one is kept", () => {
    const spec = { containers: [
      { name: "a", image: "app" },
      { name: "b", image: "127.0.0.1:5000/app:latest" },
      { name: "c", image: "127.0.0.1:5000/app:v1" },
      { name: "d", image: "app@sha256:0123" },
      { name: "e", image: "app", imagePullPolicy: "Never" as const },
    ] };
    const pod = applyDefaults("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec } as Pod);
    expect(pod.spec.containers.map((c) => c.imagePullPolicy)).toEqual(["Always", "Always", "IfNotPresent", "IfNotPresent", "Never"]);
  });

  it("fills restartPolicy, grace period, dnsPolicy, pull policy, port protocol and probe settings", () => {
    const pod = applyDefaults("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: podSpec() } as Pod);
    expect(pod.spec.restartPolicy).toBe("Always");
    expect(pod.spec.terminationGracePeriodSeconds).toBe(30);
    expect(pod.spec.dnsPolicy).toBe("ClusterFirst");
    const c = pod.spec.containers[0];
    // berth/busybox names no tag: Always, as Kubernetes defaults it.
    expect(c.imagePullPolicy).toBe("Always");
    expect(c.ports![0].protocol).toBe("TCP");
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      failureThreshold: 3,
      successThreshold: 1,
    });
    // 0 is Go's zero value ("unset"); a given value is kept.
    expect(c.readinessProbe!.periodSeconds).toBe(10);
    expect(c.readinessProbe!.failureThreshold).toBe(7);
  });

  it("defaults startup probes, a gRPC probe's service, and init containers (sidecars too) as app containers", () => {
    const spec = {
      initContainers: [{ name: "proxy", image: "envoy:1.30", restartPolicy: "Always", ports: [{ containerPort: 9901 }], startupProbe: { tcpSocket: { port: 9901 } } }],
      containers: [{ name: "app", image: "berth/busybox", startupProbe: { grpc: { port: 9000 } } }],
    };
    const pod = applyDefaults("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec } as unknown as Pod);
    const probeDefaults = { initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3, successThreshold: 1 };
    expect(pod.spec.containers[0].startupProbe).toEqual({ grpc: { port: 9000, service: "" }, ...probeDefaults });
    const init = pod.spec.initContainers![0];
    expect(init.imagePullPolicy).toBe("IfNotPresent");
    expect(init.ports![0].protocol).toBe("TCP");
    expect(init.startupProbe).toEqual({ tcpSocket: { port: 9901 }, ...probeDefaults });
  });
  it("keeps what is given and leaves its input untouched", () => {
    const input = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { ...podSpec(), restartPolicy: "Never", terminationGracePeriodSeconds: 0 } } as Pod;
    const before = structuredClone(input);
    const pod = applyDefaults("pods", input);
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.terminationGracePeriodSeconds).toBe(0);
    expect(input).toEqual(before);
    expect(pod).not.toBe(input);
  });
  it("is pure: the same input gives the same output, with no uid or timestamps", () => {
    const input = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: podSpec() } as Pod;
    const a = applyDefaults("pods", input);
    expect(applyDefaults("pods", input)).toEqual(a);
    expect(a.metadata).toEqual({ name: "p" });
  });
});

describe("defaults - replication controllers", () => {
  const rc = (extra: Partial<ReplicationController["spec"]> = {}, labels?: Record<string, string>) =>
    ({
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "rc", ...(labels ? { labels } : {}) },
      spec: { template: { metadata: { labels: { app: "web" } }, spec: podSpec() }, ...extra },
    }) as ReplicationController;
  it("defaults replicas to 1, the selector and the RC's labels to the template's labels", () => {
    const out = applyDefaults("replicationcontrollers", rc());
    expect(out.spec.replicas).toBe(1);
    expect(out.spec.selector).toEqual({ app: "web" });
    expect(out.metadata.labels).toEqual({ app: "web" });
    expect(out.spec.template!.spec.restartPolicy).toBe("Always");
    expect(out.spec.template!.spec.containers[0].ports![0].protocol).toBe("TCP");
  });
  it("keeps a given selector, labels and replicas (including 0)", () => {
    const out = applyDefaults("replicationcontrollers", rc({ replicas: 0, selector: { app: "web" } }, { team: "x" }));
    expect(out.spec.replicas).toBe(0);
    expect(out.metadata.labels).toEqual({ team: "x" });
  });
});

describe("defaults - services", () => {
  it("defaults type, affinity, protocol and targetPort = port", () => {
    const svc = applyDefaults("services", {
      apiVersion: "v1", kind: "Service", metadata: { name: "s" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80 }, { name: "dns", port: 53, protocol: "UDP", targetPort: "dns" }] },
    } as Service);
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.sessionAffinity).toBe("None");
    expect(svc.spec.sessionAffinityConfig).toBeUndefined();
    expect(svc.spec.ports![0]).toEqual({ name: "http", port: 80, protocol: "TCP", targetPort: 80 });
    expect(svc.spec.ports![1]).toEqual({ name: "dns", port: 53, protocol: "UDP", targetPort: "dns" });
  });
  it("fills the IP family and traffic policy fields as kube-apiserver does on an IPv4 cluster, by type", () => {
    const of = (spec: Service["spec"]) => applyDefaults("services", { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec } as Service).spec;
    expect(of({ ports: [{ port: 80 }] })).toMatchObject({ ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack", internalTrafficPolicy: "Cluster" });
    expect(of({ ports: [{ port: 80 }] }).externalTrafficPolicy).toBeUndefined();
    expect(of({ type: "NodePort", ports: [{ port: 80 }] }).externalTrafficPolicy).toBe("Cluster");
    expect(of({ type: "LoadBalancer", ports: [{ port: 80 }] })).toMatchObject({ externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true });
    expect(of({ type: "ExternalName", externalName: "db.example.com" })).not.toHaveProperty("ipFamilies");
    expect(of({ ipFamilyPolicy: "PreferDualStack", ports: [{ port: 80 }] }).ipFamilyPolicy).toBe("PreferDualStack");
  });
  it("gives ClientIP affinity its 10800 s timeout", () => {
    const svc = applyDefaults("services", {
      apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] },
    } as Service);
    expect(svc.spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });
});

describe("defaults - events, nodes, namespaces", () => {
  it("an event is Normal with count 1", () => {
    const ev = applyDefaults("events", { apiVersion: "v1", kind: "Event", metadata: { name: "e" }, involvedObject: {} } as Event);
    expect(ev.type).toBe("Normal");
    expect(ev.count).toBe(1);
    const warn = applyDefaults("events", { apiVersion: "v1", kind: "Event", metadata: { name: "e" }, involvedObject: {}, type: "Warning", count: 4 } as Event);
    expect([warn.type, warn.count]).toEqual(["Warning", 4]);
  });
  it("a node gets a spec, and allocatable defaults to capacity", () => {
    const node = applyDefaults("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, status: { capacity: { cpu: "2" } } } as unknown as Node);
    expect(node.spec).toEqual({});
    expect(node.status!.allocatable).toEqual({ cpu: "2" });
  });
  it("a namespace is Active", () => {
    expect(applyDefaults("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } } as Namespace).status).toEqual({ phase: "Active" });
  });
});

describe("defaults - namespace of a request", () => {
  it("uses the request's namespace, else the object's, else default", () => {
    expect(defaultNamespace("pods", { metadata: {} }, "team")).toBe("team");
    expect(defaultNamespace("pods", { metadata: { namespace: "team" } })).toBe("team");
    expect(defaultNamespace("pods", { metadata: { namespace: "team" } }, "team")).toBe("team");
    expect(defaultNamespace("pods", { metadata: {} })).toBe("default");
    expect(defaultNamespace("pods", {})).toBe("default");
  });
  it("gives cluster-scoped resources no namespace", () => {
    expect(defaultNamespace("nodes", { metadata: { namespace: "x" } }, "y")).toBeUndefined();
    expect(defaultNamespace("namespaces", { metadata: {} })).toBeUndefined();
  });
  it("rejects an object whose namespace disagrees with the request's", () => {
    expect(() => defaultNamespace("services", { metadata: { namespace: "a" } }, "b")).toThrow(BadRequestError);
    expect(() => defaultNamespace("services", { metadata: { namespace: "a" } }, "b")).toThrow(/does not match the namespace sent on the request/);
  });
});
