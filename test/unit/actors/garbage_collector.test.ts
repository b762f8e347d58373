import { describe, expect, it } from "vitest";
import { findGarbage, FOREGROUND_FINALIZER } from "../../../actors/garbage_collector.ts";
import type { ControllerRevision, Deployment, Node, OwnerReference, PersistentVolumeClaim, Pod, ReplicaSet, StatefulSet } from "../../../model/types.ts";

const ref = (kind: string, name: string, uid: string) => [{ apiVersion: kind === "ReplicationController" ? "v1" : "apps/v1", kind, name, uid, controller: true }];
const pod = (name: string, owner?: [string, string, string], nodeName = "n1"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", uid: `p-${name}`, ...(owner ? { ownerReferences: ref(...owner) } : {}) },
  spec: { nodeName, containers: [{ name: "c", image: "i" }] },
});
const rs = (name: string, uid: string, owner?: [string, string, string], extra: Partial<ReplicaSet["metadata"]> = {}): ReplicaSet => ({
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  metadata: { name, namespace: "default", uid, ...(owner ? { ownerReferences: ref(...owner) } : {}), ...extra },
  spec: { selector: { matchLabels: { a: "b" } } },
});
const deploy = (name: string, uid: string, extra: Partial<Deployment["metadata"]> = {}): Deployment => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "default", uid, ...extra },
  spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [] } } },
});
const node: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: {} };

const sts = (name: string, uid: string): StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name, namespace: "default", uid },
  spec: { selector: { matchLabels: { a: "b" } }, template: { spec: { containers: [] } } },
});
const claim = (name: string, owners: OwnerReference[]): PersistentVolumeClaim => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name, namespace: "default", uid: `c-${name}`, ownerReferences: owners },
  spec: {},
});
const plain = (kind: string, name: string, uid: string): OwnerReference => ({ apiVersion: kind === "Pod" || kind === "ConfigMap" ? "v1" : "apps/v1", kind, name, uid });

describe("garbage collector - claims and revisions of StatefulSets", () => {
  it("collects a claim only when every owner it names (a StatefulSet, a Pod) is gone; an owner of another kind keeps it", () => {
    const g = findGarbage({
      pods: [pod("web-0", ["StatefulSet", "web", "s-1"])],
      nodes: [node],
      rcs: [],
      statefulSets: [sts("web", "s-1")],
      claims: [
        claim("live-set", [plain("StatefulSet", "web", "s-1")]),
        claim("gone-set-live-pod", [plain("StatefulSet", "old", "s-x"), plain("Pod", "web-0", "p-web-0")]),
        claim("gone-pod-and-configmap", [plain("Pod", "web-9", "p-x"), plain("ConfigMap", "cm", "cm-1")]),
        claim("only-gone-set", [plain("StatefulSet", "old", "s-x")]),
        claim("gone-pod", [plain("Pod", "web-9", "p-x")]),
        claim("no-owners", []),
      ],
    });
    expect(g.filter((x) => x.type === "claimOwnersGone").map((x) => (x.type === "claimOwnersGone" ? x.claim.metadata.name : ""))).toEqual(["only-gone-set", "gone-pod"]);
  });

  it("collects a ControllerRevision whose StatefulSet is gone, and waits for revisions in a foreground deletion", () => {
    const rev = (name: string, owner: [string, string, string]): ControllerRevision => ({ apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name, namespace: "default", uid: `r-${name}`, ownerReferences: ref(...owner) }, revision: 1 });
    const g = findGarbage({
      pods: [],
      nodes: [node],
      rcs: [],
      statefulSets: [{ ...sts("web", "s-1"), metadata: { ...sts("web", "s-1").metadata, deletionTimestamp: "2026-12-01T00:00:00Z", finalizers: [FOREGROUND_FINALIZER] } }],
      revisions: [rev("web-a", ["StatefulSet", "web", "s-1"]), rev("old-a", ["StatefulSet", "old", "s-x"])],
    });
    expect(g.map((x) => (x.type === "ownerGone" ? `gone ${x.object.metadata.name}` : x.type === "foreground" ? `foreground ${x.owner.metadata.name}: ${x.dependents.map((d) => d.object.metadata.name).join()}` : x.type))).toEqual([
      "gone old-a",
      "foreground web: web-a",
    ]);
  });
});

describe("garbage collector - findGarbage", () => {
  it("garbage collector - a ReplicaSet whose Deployment is gone, and a pod whose ReplicaSet is gone, are garbage; owned ones are not", () => {
    const g = findGarbage({
      pods: [pod("owned", ["ReplicaSet", "live", "rs-1"]), pod("lost", ["ReplicaSet", "gone", "rs-x"]), pod("bare")],
      nodes: [node],
      rcs: [],
      replicaSets: [rs("live", "rs-1", ["Deployment", "d", "d-1"]), rs("lonely", "rs-2", ["Deployment", "gone", "d-x"])],
      deployments: [deploy("d", "d-1")],
    });
    expect(g.map((x) => (x.type === "ownerGone" ? `${x.resource}/${x.object.metadata.name}<-${x.owner.kind}/${x.owner.name}` : x.type))).toEqual([
      "pods/lost<-ReplicaSet/gone",
      "replicasets/lonely<-Deployment/gone",
    ]);
  });

  it("garbage collector - an owner marked for foreground deletion is reported with what still depends on it", () => {
    const marked = { deletionTimestamp: "2026-12-01T00:00:00Z", finalizers: [FOREGROUND_FINALIZER] };
    const g = findGarbage({
      pods: [pod("p1", ["ReplicaSet", "r", "rs-1"])],
      nodes: [node],
      rcs: [],
      replicaSets: [rs("r", "rs-1", ["Deployment", "d", "d-1"], marked)],
      deployments: [deploy("d", "d-1", marked), deploy("other", "d-2", { deletionTimestamp: "2026-12-01T00:00:00Z" })],
    });
    const fg = g.filter((x) => x.type === "foreground").map((x) => x.type === "foreground" && [x.owner.metadata.name, x.dependents.map((d) => d.object.metadata.name)]);
    // The deployment waits on its ReplicaSet, the ReplicaSet on its pod; "other" has no finalizer.
    expect(fg).toEqual([["r", ["p1"]], ["d", ["r"]]]);
  });

  it("garbage collector - a pod bound to a node that is gone is garbage, a terminating orphan is left alone", () => {
    const terminating = { ...pod("t", ["ReplicationController", "gone", "rc-x"]), metadata: { ...pod("t", ["ReplicationController", "gone", "rc-x"]).metadata, deletionTimestamp: "2026-12-01T00:00:00Z" } };
    const g = findGarbage({ pods: [pod("stranded", undefined, "n9"), terminating], nodes: [node], rcs: [] });
    expect(g.map((x) => x.type)).toEqual(["nodeGone"]);
  });

  it("garbage collector - a pod of a gone node already deleted (grace 0) and held by its finalizers is not asked again", () => {
    const base = pod("held", undefined, "n9");
    const held = { ...base, metadata: { ...base.metadata, deletionTimestamp: "2026-12-01T00:00:00Z", deletionGracePeriodSeconds: 0, finalizers: ["example.com/keep"] } };
    const graceful = { ...base, metadata: { ...base.metadata, name: "graceful", uid: "p-graceful", deletionTimestamp: "2026-12-01T00:00:00Z", deletionGracePeriodSeconds: 30, finalizers: ["example.com/keep"] } };
    const g = findGarbage({ pods: [held, graceful], nodes: [node], rcs: [] });
    expect(g.map((x) => x.type === "nodeGone" && x.pod.metadata.name)).toEqual(["graceful"]);
  });
});
