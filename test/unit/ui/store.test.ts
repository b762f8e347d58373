import { describe, expect, it } from "vitest";
import type { ControllerView, FeedMessage, ViewKind, ViewTypes } from "../../../runtime/ui/view.ts";
import { ClusterStore, controllerGroups } from "../../../ui/src/store.ts";

const ctrl = (kind: ControllerView["kind"], name: string, extra: Partial<ControllerView> = {}): ControllerView => ({
  kind, namespace: "default", name, desired: 2, current: 2, ready: 1, selector: { app: name }, ...extra,
});

function snapshot(items: Partial<{ [K in ViewKind]: ViewTypes[K][] }>): FeedMessage {
  const empty = { nodes: [], pods: [], services: [], endpoints: [], replicationcontrollers: [], deployments: [], replicasets: [], events: [] };
  return { type: "snapshot", items: { ...empty, ...items } };
}

describe("the page's store", () => {
  it("keeps RCs, ReplicaSets and Deployments apart: one name in each kind is three objects", () => {
    const s = new ClusterStore(() => 0);
    s.apply(snapshot({ replicationcontrollers: [ctrl("ReplicationController", "web")], replicasets: [ctrl("ReplicaSet", "web")] }));
    s.apply({ type: "changes", changes: [{ kind: "deployments", op: "put", key: "default/web", obj: ctrl("Deployment", "web", { desired: 5 }) }] });
    expect(s.controllers.get("default/web")?.kind).toBe("ReplicationController");
    expect(s.replicasets.get("default/web")?.kind).toBe("ReplicaSet");
    expect(s.deployments.get("default/web")).toMatchObject({ kind: "Deployment", desired: 5 });
    s.apply({ type: "changes", changes: [{ kind: "replicasets", op: "del", key: "default/web" }] });
    expect(s.replicasets.size).toBe(0);
    expect(s.controllers.size).toBe(1);
    expect(s.deployments.size).toBe(1);
    s.apply({ type: "relist", kind: "deployments", items: [] });
    expect(s.deployments.size).toBe(0);
    expect(s.controllers.size).toBe(1);
  });

  it("lists ReplicaSets under their Deployment, then loose ReplicaSets, then RCs", () => {
    const s = new ClusterStore(() => 0);
    s.apply(snapshot({
      deployments: [ctrl("Deployment", "web"), ctrl("Deployment", "api")],
      replicasets: [
        ctrl("ReplicaSet", "web-b", { owner: "web" }),
        ctrl("ReplicaSet", "web-a", { owner: "web" }),
        ctrl("ReplicaSet", "solo"),
        ctrl("ReplicaSet", "orphan-x", { owner: "gone" }),
      ],
      replicationcontrollers: [ctrl("ReplicationController", "backend")],
    }));
    expect(controllerGroups(s).map((g) => [`${g.top.kind}/${g.top.name}`, g.children.map((c) => c.name)])).toEqual([
      ["Deployment/api", []],
      ["Deployment/web", ["web-a", "web-b"]],
      ["ReplicaSet/orphan-x", []],
      ["ReplicaSet/solo", []],
      ["ReplicationController/backend", []],
    ]);
  });
});
