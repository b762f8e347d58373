/**
 * The node authorizer's NodeRestriction rules as pure decisions: which labels a node may set on
 * its own Node, its taints, and which events it may create or rewrite.
 */
import { describe, expect, it } from "vitest";
import { authorizeNodeRequest, isNodeRestrictedLabel, type NodeDecision, type Verdict } from "../../../../runtime/security/node_authorizer.ts";
import type { AnyObject } from "../../../../model/types.ts";

const nodeObj = (labels: Record<string, string>, taints?: unknown[]) =>
  ({ apiVersion: "v1", kind: "Node", metadata: { name: "n1", labels, resourceVersion: "5" }, spec: taints ? { taints } : {} }) as unknown as AnyObject;

/** The final verdict, fetching `stored` when the decision needs the object. */
function verdict(d: NodeDecision, stored?: AnyObject): Verdict {
  if (d.type === "allow" || d.type === "deny") return d;
  if (d.type === "needObject") return d.check(stored!);
  throw new Error("unexpected checkResult");
}

describe("node authorizer - NodeRestriction", () => {
  it("node labels - node-restriction, node-role and other kubernetes.io/k8s.io labels are restricted; the kubelet's own are not", () => {
    for (const k of ["node-restriction.kubernetes.io/a", "x.node-restriction.kubernetes.io/a", "node-role.kubernetes.io/control-plane", "kubernetes.io/role", "example.k8s.io/x", "k8s.io/x"]) {
      expect(isNodeRestrictedLabel(k), k).toBe(true);
    }
    for (const k of ["kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch", "topology.kubernetes.io/zone", "node.kubernetes.io/instance-type", "node.kubernetes.io/pool", "a.kubelet.kubernetes.io/x", "zone", "example.com/disk", "notkubernetes.io/x"]) {
      expect(isNodeRestrictedLabel(k), k).toBe(false);
    }
  });

  it("node labels - create with a node-role label is refused with the label named", () => {
    const v = verdict(authorizeNodeRequest("n1", { verb: "create", resource: "nodes", object: nodeObj({ "node-role.kubernetes.io/master": "" }) }));
    expect(v.type).toBe("deny");
    expect(v.type === "deny" && v.message).toMatch(/node-role\.kubernetes\.io\/master.*rule node\.labels/);
    expect(verdict(authorizeNodeRequest("n1", { verb: "create", resource: "nodes", object: nodeObj({ "kubernetes.io/hostname": "n1", zone: "a" }) })).type).toBe("allow");
  });

  it("node labels - an update or merge patch may keep an admin's restricted label but not add, change or remove one", () => {
    const stored = nodeObj({ "node-role.kubernetes.io/worker": "", a: "1" });
    const update = (labels: Record<string, string>) => verdict(authorizeNodeRequest("n1", { verb: "update", resource: "nodes", object: nodeObj(labels) }), stored).type;
    expect(update({ "node-role.kubernetes.io/worker": "", a: "2" })).toBe("allow");
    expect(update({ a: "1" })).toBe("deny");
    expect(update({ "node-role.kubernetes.io/worker": "x", a: "1" })).toBe("deny");
    const patch = (p: unknown) => verdict(authorizeNodeRequest("n1", { verb: "patch", resource: "nodes", name: "n1", patch: p, patchType: "merge" }), stored).type;
    expect(patch({ metadata: { labels: { a: "3" } } })).toBe("allow");
    expect(patch({ metadata: { annotations: { x: "y" } } })).toBe("allow");
    expect(patch({ metadata: { labels: { "node-role.kubernetes.io/worker": null } } })).toBe("deny");
    expect(patch({ metadata: { labels: null } })).toBe("deny");
    expect(patch({ metadata: { labels: { "node-restriction.kubernetes.io/x": "1" } } })).toBe("deny");
    expect(verdict(authorizeNodeRequest("n1", { verb: "updateStatus", resource: "nodes", object: nodeObj({ "node-role.kubernetes.io/x": "" }) })).type).toBe("allow");
  });

  it("node labels and taints - JSON patches touching labels or taints are refused, others allowed", () => {
    const json = (ops: unknown[]) => verdict(authorizeNodeRequest("n1", { verb: "patch", resource: "nodes", name: "n1", patch: ops, patchType: "json" })).type;
    expect(json([{ op: "add", path: "/metadata/labels/a", value: "1" }])).toBe("deny");
    expect(json([{ op: "replace", path: "/metadata", value: {} }])).toBe("deny");
    expect(json([{ op: "move", from: "/metadata/labels/x", path: "/metadata/annotations/x" }])).toBe("deny");
    expect(json([{ op: "remove", path: "/spec/taints/0" }])).toBe("deny");
    expect(json([{ op: "add", path: "/metadata/annotations/a", value: "1" }])).toBe("allow");
  });

  it("node taints - a node may not change its taints by update or patch", () => {
    const stored = nodeObj({}, [{ key: "k", effect: "NoSchedule" }]);
    const upd = (taints?: unknown[]) => verdict(authorizeNodeRequest("n1", { verb: "update", resource: "nodes", object: nodeObj({}, taints) }), stored);
    expect(upd([{ key: "k", effect: "NoSchedule" }]).type).toBe("allow");
    const removed = upd(undefined);
    expect(removed.type === "deny" && removed.rule).toBe("node.taints");
    const p = verdict(authorizeNodeRequest("n1", { verb: "patch", resource: "nodes", name: "n1", patch: { spec: { taints: [] } }, patchType: "merge" }), stored);
    expect(p.type === "deny" && p.rule).toBe("node.taints");
  });

  it("service data - a node reads Services, Endpoints and EndpointSlices (its service proxy's inputs) but writes none", () => {
    for (const resource of ["services", "endpoints", "endpointslices"] as const) {
      expect(authorizeNodeRequest("n1", { verb: "list", resource, opts: {} } as never).type, resource).toBe("allow");
      expect(authorizeNodeRequest("n1", { verb: "watch", resource, opts: {}, watchId: "w-123456" } as never).type, resource).toBe("allow");
      const obj = { metadata: { name: "x", namespace: "default" } };
      expect(verdict(authorizeNodeRequest("n1", { verb: "create", resource, object: obj, namespace: "default" } as never), obj as never).type, resource).toBe("deny");
    }
  });

  it("events - created only by itself about its own Node or a pod bound to it", () => {
    const ev = (involvedObject: unknown, source: unknown = { host: "n1" }) => ({ metadata: { name: "e", namespace: "default" }, involvedObject, source });
    const create = (e: unknown, pod?: AnyObject) => verdict(authorizeNodeRequest("n1", { verb: "create", resource: "events", object: e, namespace: "default" }), pod).type;
    const pod = (nodeName: string, uid = "u1") => ({ kind: "Pod", metadata: { name: "p", namespace: "default", uid }, spec: { nodeName, containers: [] } }) as unknown as AnyObject;
    expect(create(ev({ kind: "Pod", name: "p", namespace: "default" }), pod("n1"))).toBe("allow");
    expect(create(ev({ kind: "Pod", name: "p", namespace: "default" }), pod("n2"))).toBe("deny");
    expect(create(ev({ kind: "Pod", name: "p", namespace: "default", uid: "old" }), pod("n1"))).toBe("deny");
    expect(create(ev({ kind: "Pod", name: "p", namespace: "other" }), pod("n1"))).toBe("deny");
    expect(create(ev({ kind: "Node", name: "n1" }))).toBe("allow");
    expect(create(ev({ kind: "Node", name: "n2" }))).toBe("deny");
    expect(create(ev({ kind: "ReplicationController", name: "rc", namespace: "default" }))).toBe("deny");
    expect(create(ev({ kind: "Node", name: "n1" }, {}))).toBe("deny");
    expect(create(ev({ kind: "Node", name: "n1" }, { host: "n2" }))).toBe("deny");
    expect(create({ ...ev({ kind: "Node", name: "n1" }), reportingInstance: "n2" })).toBe("deny");
  });

  it("events - an event it reported cannot be pointed at another object", () => {
    const stored = { kind: "Event", metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "Pod", name: "p", namespace: "default" }, source: { host: "n1" } } as unknown as AnyObject;
    const update = (o: unknown) => verdict(authorizeNodeRequest("n1", { verb: "update", resource: "events", object: o }), stored).type;
    expect(update({ ...stored, count: 2 })).toBe("allow");
    expect(update({ ...stored, involvedObject: { kind: "Pod", name: "q", namespace: "default" } })).toBe("deny");
    expect(verdict(authorizeNodeRequest("n1", { verb: "patch", resource: "events", name: "e", namespace: "default", patch: { involvedObject: { name: "q" } }, patchType: "merge" }), stored).type).toBe("deny");
  });
});
