import { describe, expect, it } from "vitest";
import type { Deployment, Endpoints, Node, Pod, ReplicaSet, ReplicationController } from "../../../../model/types.ts";
import { controllerPicks, controllerView, endpointsView, nodeView, podView, selectorPicks, toView } from "../../../../runtime/ui/view.ts";

describe("ui views", () => {
  it("a pod is slimmed to phase, readiness, restarts, containers, labels and owner", () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-1", namespace: "default", uid: "u1", labels: { app: "web" }, deletionTimestamp: "2026-12-02T00:00:00Z", ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: "web", uid: "r", controller: true }] },
      spec: { nodeName: "node-1", containers: [{ name: "a", image: "i" }, { name: "b", image: "i" }] },
      status: {
        phase: "Running",
        podIP: "10.0.0.5",
        conditions: [{ type: "Ready", status: "True" }],
        containerStatuses: [
          { name: "a", ready: true, restartCount: 2, image: "i", state: { running: {} } },
          { name: "b", ready: false, restartCount: 1, image: "i", state: { waiting: { reason: "CrashLoopBackOff" } } },
        ],
      },
    };
    expect(podView(pod)).toEqual({
      namespace: "default", name: "web-1", uid: "u1", node: "node-1", phase: "Running", ready: true, restarts: 3, terminating: true, ip: "10.0.0.5",
      labels: { app: "web" }, owner: "ReplicationController/web", created: undefined,
      containers: [
        { name: "a", image: "i", ready: true, restarts: 2, state: "running" },
        { name: "b", image: "i", ready: false, restarts: 1, state: "waiting: CrashLoopBackOff" },
      ],
    });
  });

  it("a node without a Ready condition is Unknown; cordon shows", () => {
    const n: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "n" }, spec: { unschedulable: true } };
    expect(nodeView(n)).toMatchObject({ name: "n", ready: "Unknown", unschedulable: true });
  });

  it("endpoints become the names of ready and not-ready pods", () => {
    const e: Endpoints = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "svc", namespace: "default" },
      subsets: [{ addresses: [{ ip: "1", targetRef: { kind: "Pod", name: "a" } }], notReadyAddresses: [{ ip: "2", targetRef: { kind: "Pod", name: "b" } }] }],
    };
    expect(endpointsView(e)).toEqual({ namespace: "default", name: "svc", ready: ["a"], notReady: ["b"] });
  });

  it("an empty selector picks nothing, as for replication controllers", () => {
    expect(selectorPicks({}, { app: "web" })).toBe(false);
    expect(selectorPicks({ app: "web" }, { app: "web", tier: "x" })).toBe(true);
    expect(selectorPicks({ app: "web", tier: "y" }, { app: "web", tier: "x" })).toBe(false);
  });

  it("a Deployment shows desired / current / ready and its apps/v1 selector, expressions included", () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "shop" },
      spec: { replicas: 4, selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front", "edge"] }] }, template: { spec: { containers: [] } } },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3 },
    };
    const v = toView("deployments", d);
    expect(v).toEqual({
      kind: "Deployment", namespace: "shop", name: "web", desired: 4, current: 3, ready: 2,
      selector: { app: "web" }, expressions: [{ key: "tier", operator: "In", values: ["front", "edge"] }],
    });
    const c = controllerView(d, "Deployment");
    expect(controllerPicks(c, { app: "web", tier: "edge" })).toBe(true);
    expect(controllerPicks(c, { app: "web", tier: "back" })).toBe(false);
    expect(controllerPicks(c, { app: "web" })).toBe(false);
  });

  it("a ReplicaSet names its controlling Deployment; an RC keeps its equality selector", () => {
    const rs: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web-5d8f7", namespace: "default", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "u", controller: true }] },
      spec: { replicas: 2, selector: { matchLabels: { app: "web", "pod-template-hash": "5d8f7" } } },
      status: { replicas: 2, readyReplicas: 2 },
    };
    expect(toView("replicasets", rs)).toEqual({
      kind: "ReplicaSet", namespace: "default", name: "web-5d8f7", desired: 2, current: 2, ready: 2, owner: "web",
      selector: { app: "web", "pod-template-hash": "5d8f7" },
    });
    const rc: ReplicationController = { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "web" }, spec: { replicas: 1, selector: {} } };
    const v = toView("replicationcontrollers", rc);
    expect(v).toMatchObject({ kind: "ReplicationController", selector: {} });
    // An empty RC selector picks nothing; an apps/v1 selector with no requirements would pick all.
    expect(controllerPicks(v as never, { app: "web" })).toBe(false);
  });
});
