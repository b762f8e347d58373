import { describe, expect, it } from "vitest";
import type { CronJob, DaemonSet, Deployment, Endpoints, Job, Node, Pod, PodDisruptionBudget, ReplicaSet, ReplicationController, StatefulSet } from "../../../../model/types.ts";
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

  it("a StatefulSet shows desired / current / ready and its updated pods; a DaemonSet counts nodes", () => {
    const sts: StatefulSet = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "data" },
      spec: { replicas: 3, selector: { matchLabels: { app: "db" } }, template: { spec: { containers: [] } } },
      status: { replicas: 2, readyReplicas: 1, currentReplicas: 2, updatedReplicas: 1 },
    };
    expect(toView("statefulsets", sts)).toEqual({ kind: "StatefulSet", namespace: "data", name: "db", desired: 3, current: 2, ready: 1, updated: 1, selector: { app: "db" } });
    const ds: DaemonSet = {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: "agent", namespace: "default" },
      spec: { selector: { matchLabels: { app: "agent" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, template: { spec: { containers: [] } } },
      status: { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, numberMisscheduled: 1 },
    };
    const v = toView("daemonsets", ds);
    expect(v).toEqual({
      kind: "DaemonSet", namespace: "default", name: "agent", desired: 3, current: 2, ready: 2, updated: 2,
      selector: { app: "agent" }, expressions: [{ key: "canary", operator: "DoesNotExist" }],
    });
    expect(controllerPicks(v as never, { app: "agent" })).toBe(true);
    expect(controllerPicks(v as never, { app: "agent", canary: "yes" })).toBe(false);
    // Before its controller has written a status, a DaemonSet wants no node yet (it has not counted them).
    expect(toView("daemonsets", { ...ds, status: undefined })).toMatchObject({ desired: 0, current: 0, ready: 0, updated: 0 });
  });

  it("a Job shows successes of its completions, active and failed pods, how it ended, and its CronJob", () => {
    const job: Job = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "tick-29000000", namespace: "default", ownerReferences: [{ apiVersion: "batch/v1", kind: "CronJob", name: "tick", uid: "c", controller: true }] },
      spec: { completions: 3, selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } }, template: { spec: { containers: [] } } },
      status: {
        succeeded: 1,
        active: 1,
        failed: 2,
        conditions: [
          { type: "Suspended", status: "False" },
          { type: "Failed", status: "True", reason: "BackoffLimitExceeded" },
        ],
      },
    };
    expect(toView("jobs", job)).toEqual({
      kind: "Job", namespace: "default", name: "tick-29000000", completions: 3, succeeded: 1, active: 1, failed: 2,
      condition: "Failed", reason: "BackoffLimitExceeded", selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } }, owner: "tick",
    });
    // A work queue (no completions) that is still running: no condition, no owner of its own.
    const queue: Job = { ...job, metadata: { name: "q" }, spec: { parallelism: 2, template: { spec: { containers: [] } } }, status: { active: 2, conditions: [{ type: "Complete", status: "False" }] } };
    expect(toView("jobs", queue)).toEqual({ kind: "Job", namespace: "default", name: "q", succeeded: 0, active: 2, failed: 0 });
    const done: Job = { ...job, status: { succeeded: 3, conditions: [{ type: "Complete", status: "True", reason: "Completed" }] } };
    expect(toView("jobs", done)).toMatchObject({ condition: "Complete", succeeded: 3, completions: 3 });
    expect(toView("jobs", done)).not.toHaveProperty("reason");
  });

  it("a CronJob shows its schedule and zone, suspend, its last run and how many runs are active", () => {
    const cj: CronJob = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "tick", namespace: "default" },
      spec: { schedule: "*/5 * * * *", timeZone: "Europe/Berlin", suspend: true, jobTemplate: { spec: { template: { spec: { containers: [] } } } } },
      status: { active: [{ kind: "Job", name: "tick-1" }, { kind: "Job", name: "tick-2" }], lastScheduleTime: "2026-12-02T10:05:00Z" },
    };
    expect(toView("cronjobs", cj)).toEqual({
      kind: "CronJob", namespace: "default", name: "tick", schedule: "*/5 * * * *", timeZone: "Europe/Berlin", suspend: true, lastSchedule: "2026-12-02T10:05:00Z", active: 2,
    });
    expect(toView("cronjobs", { ...cj, spec: { ...cj.spec, timeZone: undefined, suspend: undefined }, status: undefined })).toEqual({
      kind: "CronJob", namespace: "default", name: "tick", schedule: "*/5 * * * *", suspend: false, active: 0,
    });
  });

  it("a PodDisruptionBudget shows its rule, healthy pods, allowed disruptions, selector, and why it could not be counted", () => {
    const pdb: PodDisruptionBudget = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "db", namespace: "data" },
      spec: { maxUnavailable: "50%", selector: { matchLabels: { app: "db" } } },
      status: {
        currentHealthy: 3, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 1,
        conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods" }],
      },
    };
    expect(toView("poddisruptionbudgets", pdb)).toEqual({
      kind: "PodDisruptionBudget", namespace: "data", name: "db", maxUnavailable: "50%", currentHealthy: 3, desiredHealthy: 2, expectedPods: 4, disruptionsAllowed: 1, selector: { matchLabels: { app: "db" } },
    });
    const failing: PodDisruptionBudget = {
      ...pdb,
      spec: { minAvailable: 0 },
      status: { currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, conditions: [{ type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: "jobs.batch does not implement the scale subresource" }] },
    };
    // minAvailable 0 is a rule (not "none"); no selector stays absent: it picks no pod.
    expect(toView("poddisruptionbudgets", failing)).toEqual({
      kind: "PodDisruptionBudget", namespace: "data", name: "db", minAvailable: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0,
      problem: "jobs.batch does not implement the scale subresource",
    });
    // Not counted yet: no disruption is allowed.
    expect(toView("poddisruptionbudgets", { ...pdb, status: undefined })).toMatchObject({ currentHealthy: 0, desiredHealthy: 0, disruptionsAllowed: 0 });
  });
});
