import { describe, expect, it } from "vitest";
import { VIEW_KINDS, type BudgetView, type ControllerView, type CronJobView, type FeedMessage, type JobView, type ViewKind, type ViewTypes } from "../../../runtime/ui/view.ts";
import { budgetList, ClusterStore, controllerGroups } from "../../../ui/src/store.ts";

const ctrl = (kind: ControllerView["kind"], name: string, extra: Partial<ControllerView> = {}): ControllerView => ({
  kind, namespace: "default", name, desired: 2, current: 2, ready: 1, selector: { app: name }, ...extra,
});

const job = (name: string, extra: Partial<JobView> = {}): JobView => ({ kind: "Job", namespace: "default", name, succeeded: 0, active: 1, failed: 0, ...extra });
const cronJob = (name: string, extra: Partial<CronJobView> = {}): CronJobView => ({ kind: "CronJob", namespace: "default", name, schedule: "* * * * *", suspend: false, active: 0, ...extra });
const budget = (name: string, extra: Partial<BudgetView> = {}): BudgetView => ({
  kind: "PodDisruptionBudget", namespace: "default", name, minAvailable: 1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1, disruptionsAllowed: 0, ...extra,
});

function snapshot(items: Partial<{ [K in ViewKind]: ViewTypes[K][] }>): FeedMessage {
  const empty = Object.fromEntries(VIEW_KINDS.map((k) => [k, []])) as unknown as { [K in ViewKind]: ViewTypes[K][] };
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

  it("keeps StatefulSets, DaemonSets, Jobs, CronJobs and budgets each in a map of its own, through puts, deletes and relists", () => {
    const s = new ClusterStore(() => 0);
    s.apply(snapshot({ statefulsets: [ctrl("StatefulSet", "web")], daemonsets: [ctrl("DaemonSet", "web")], jobs: [job("web")], cronjobs: [cronJob("web")], poddisruptionbudgets: [budget("web")] }));
    expect([s.statefulsets, s.daemonsets, s.jobs, s.cronjobs, s.budgets].map((m) => m.get("default/web")?.kind)).toEqual(["StatefulSet", "DaemonSet", "Job", "CronJob", "PodDisruptionBudget"]);
    const v0 = s.version;
    s.apply({
      type: "changes",
      changes: [
        { kind: "statefulsets", op: "put", key: "default/web", obj: ctrl("StatefulSet", "web", { desired: 3, updated: 1 }) },
        { kind: "jobs", op: "del", key: "default/web" },
        { kind: "poddisruptionbudgets", op: "put", key: "default/web", obj: budget("web", { disruptionsAllowed: 1 }) },
      ],
    });
    expect(s.version).toBeGreaterThan(v0);
    expect(s.statefulsets.get("default/web")).toMatchObject({ desired: 3, updated: 1 });
    expect(s.jobs.size).toBe(0);
    expect(s.budgets.get("default/web")?.disruptionsAllowed).toBe(1);
    expect(s.daemonsets.size + s.cronjobs.size + s.controllers.size).toBe(2);
    s.apply({ type: "relist", kind: "cronjobs", items: [cronJob("a"), cronJob("b")] });
    s.apply({ type: "relist", kind: "poddisruptionbudgets", items: [] });
    expect([...s.cronjobs.keys()]).toEqual(["default/a", "default/b"]);
    expect(s.budgets.size).toBe(0);
    expect(s.statefulsets.size).toBe(1);
  });

  it("lists a CronJob's Jobs under it, then Jobs without a drawn CronJob; StatefulSets and DaemonSets after RCs", () => {
    const s = new ClusterStore(() => 0);
    s.apply(snapshot({
      replicationcontrollers: [ctrl("ReplicationController", "backend")],
      statefulsets: [ctrl("StatefulSet", "db")],
      daemonsets: [ctrl("DaemonSet", "agent")],
      cronjobs: [cronJob("tick"), cronJob("tock", { namespace: "other" })],
      jobs: [
        job("tick-29000002", { owner: "tick" }),
        job("tick-29000001", { owner: "tick" }),
        // Same CronJob name, another namespace: not its child.
        job("tock-1", { owner: "tick", namespace: "other" }),
        job("once"),
      ],
    }));
    const groups = controllerGroups(s);
    expect(groups.map((g) => [g.type, `${g.top.namespace}/${g.top.name}`, g.children.map((c) => c.name)])).toEqual([
      ["controller", "default/backend", []],
      ["controller", "default/db", []],
      ["controller", "default/agent", []],
      ["cronjob", "default/tick", ["tick-29000001", "tick-29000002"]],
      ["cronjob", "other/tock", []],
      ["job", "default/once", []],
      ["job", "other/tock-1", []],
    ]);
  });

  it("lists disruption budgets by namespace and name", () => {
    const s = new ClusterStore(() => 0);
    s.apply(snapshot({ poddisruptionbudgets: [budget("web"), budget("api", { namespace: "zeta" }), budget("db")] }));
    expect(budgetList(s).map((b) => `${b.namespace}/${b.name}`)).toEqual(["default/db", "default/web", "zeta/api"]);
  });
});
