/**
 * The horizontal pod autoscaler controller on a real cluster (own nats-server, the API, the
 * control plane, a hollow node whose pods report the cpu their annotation scripts): it scales a
 * Deployment up to its bound, down when the target is raised, and says why in its status and
 * Events, and which generation of its spec the status reflects; an autoscaler whose target is
 * missing says so. Sync period and usage reports are shortened (300 ms); the arithmetic itself
 * is test/unit/actors/hpa_decide.test.ts's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, startClusterComponents } from "../../mod.ts";
import type { Condition, HorizontalPodAutoscaler } from "../../model/types.ts";
import { waitFor } from "../helpers/nats.ts";

let cluster: Cluster;
let components: Awaited<ReturnType<typeof startClusterComponents>>;

beforeAll(async () => {
  cluster = await Cluster.start({ nodeNames: ["node-1"] });
  components = await startClusterComponents(cluster, {
    nodes: 1, runtime: "hollow", rest: false, services: false, nodeNames: ["node-1"], heartbeatIntervalMs: 200, usageIntervalMs: 300, hpaSyncPeriodMs: 300,
  });
  await components.waitReady();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

const hpa = () => cluster.client.get("horizontalpodautoscalers", "web", "default") as Promise<HorizontalPodAutoscaler>;
const condition = (h: HorizontalPodAutoscaler, type: string): Condition | undefined => h.status?.conditions?.find((c) => c.type === type);
const replicas = async () => (await cluster.client.get("deployments", "web", "default")).spec.replicas;
const events = async (reason: string) =>
  (await cluster.client.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.kind === "HorizontalPodAutoscaler" && e.reason === reason).map((e) => e.message ?? "");

describe("HorizontalPodAutoscaler controller (hollow node, scripted cpu)", () => {
  it("scales a Deployment whose pods use 80 % of their cpu request up to maxReplicas against a 50 % target, then down to 4 when the target is 100 %", async () => {
    await cluster.apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {berth.dev/hollow-cpu: 400m}
    spec:
      containers:
      - name: c
        image: berth/busybox
        resources: {requests: {cpu: 500m}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
`);
    // 2 → ceil(2 × 1.6) = 4 → ceil(4 × 1.6) = 7, capped at 5.
    await waitFor(async () => (await replicas()) === 5, "the autoscaler to scale web to 5", 30_000, 100);
    await waitFor(async () => {
      const h = await hpa();
      return h.status?.currentReplicas === 5 && condition(h, "ScalingLimited")?.reason === "TooManyReplicas";
    }, "the status to show 5 replicas, limited by maxReplicas", 30_000, 100);
    const h = await hpa();
    expect(h.status).toMatchObject({ desiredReplicas: 5, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 80, averageValue: "400m" } } }] });
    expect(condition(h, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound" });
    expect(condition(h, "ScalingLimited")).toMatchObject({ status: "True", message: "the desired replica count is more than the maximum replica count" });
    expect(h.status?.lastScaleTime).toBeTruthy();
    expect(h.status?.observedGeneration).toBe(h.metadata.generation);
    expect(await events("SuccessfulRescale")).toEqual(expect.arrayContaining([
      "New size: 4; reason: cpu resource utilization (percentage of request) above target",
      "New size: 5; reason: cpu resource utilization (percentage of request) above target",
    ]));

    // 80 % against 100 %: ceil(5 × 0.8) = 4, then 4 × 0.8 rounds up to 4 again.
    await cluster.client.patch("horizontalpodautoscalers", "web", { spec: { metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 100 } } }] } }, { namespace: "default", type: "merge" });
    await waitFor(async () => (await replicas()) === 4, "the autoscaler to scale web down to 4", 30_000, 100);
    // The status says it was computed from the changed spec (a new generation).
    await waitFor(async () => {
      const changed = await hpa();
      return changed.metadata.generation === (h.metadata.generation ?? 0) + 1 && changed.status?.observedGeneration === changed.metadata.generation;
    }, "the status to observe the new generation", 30_000, 100);
    expect(await events("SuccessfulRescale")).toContain("New size: 4; reason: All metrics below target");
    await waitFor(async () => (await hpa()).status?.currentReplicas === 4, "the status to show 4", 30_000, 100);
    // Settled: nothing more to do; the deployment stays at 4 over several more passes of the loop.
    await waitFor(async () => condition(await hpa(), "AbleToScale")?.reason === "ReadyForNewScale", "the autoscaler to settle", 30_000, 100);
    const seen = (await events("SuccessfulRescale")).length;
    const passes = () => components.controlPlane.autoscalers.loop.actor.getSnapshot().context.passes;
    const from = passes();
    await waitFor(async () => passes() >= from + 4, "four more passes of the autoscaler loop", 30_000, 50);
    expect(await replicas()).toBe(4);
    expect((await events("SuccessfulRescale")).length).toBe(seen);
  });

  it("a target that does not exist: AbleToScale=False FailedGetScale with the API's message, and a FailedGetScale Event", async () => {
    await cluster.apply(`apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}
  maxReplicas: 3
`);
    await waitFor(async () => condition(await cluster.client.get("horizontalpodautoscalers", "ghost", "default") as HorizontalPodAutoscaler, "AbleToScale")?.reason === "FailedGetScale",
      "the ghost autoscaler to report FailedGetScale", 30_000, 100);
    const h = await cluster.client.get("horizontalpodautoscalers", "ghost", "default") as HorizontalPodAutoscaler;
    expect(condition(h, "AbleToScale")).toMatchObject({ status: "False", message: expect.stringMatching(/^the HPA controller was unable to get the target's current scale: .*ghost.*not found/) });
    expect((await events("FailedGetScale")).length).toBeGreaterThan(0);
  });

  it("pods without a cpu request: ScalingActive=False naming the container and pod; the target keeps its replicas", async () => {
    await cluster.apply(`apiVersion: v1
kind: ReplicationController
metadata: {name: bare}
spec:
  replicas: 2
  selector: {app: bare}
  template:
    metadata: {labels: {app: bare}, annotations: {berth.dev/hollow-cpu: 900m}}
    spec: {containers: [{name: c, image: berth/busybox}]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bare}
spec:
  scaleTargetRef: {apiVersion: v1, kind: ReplicationController, name: bare}
  maxReplicas: 6
`);
    const get = () => cluster.client.get("horizontalpodautoscalers", "bare", "default") as Promise<HorizontalPodAutoscaler>;
    await waitFor(async () => condition(await get(), "ScalingActive")?.reason === "FailedGetResourceMetric", "ScalingActive=False", 30_000, 100);
    expect(condition(await get(), "ScalingActive")?.message).toMatch(/^the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container c of Pod bare-/);
    expect((await cluster.client.get("replicationcontrollers", "bare", "default")).spec.replicas).toBe(2);
  });
});
