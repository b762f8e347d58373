/**
 * The horizontal pod autoscaler's decisions (actors/hpa_decide.ts) against the arithmetic of
 * kube-controller-manager's replica calculator and its behavior rules.
 */
import { describe, expect, test } from "vitest";
import { decideHpa, formatMilli, type HpaInput, type HpaMemory, type PodUsageSample, rescaled, rescaleFailed, scaleUnreadable, usageByPod } from "../../../actors/hpa_decide.ts";
import type { HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, Pod } from "../../../model/types.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");
const LONG_AGO = new Date(NOW - 3_600_000).toISOString();

function hpa(spec: Partial<HorizontalPodAutoscalerSpec> = {}, status?: HorizontalPodAutoscaler["status"]): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default", uid: "u-hpa" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

interface PodOpts {
  phase?: "Pending" | "Running" | "Failed";
  ready?: boolean;
  startedAt?: string;
  readySince?: string;
  cpuRequest?: string | null;
  deleting?: boolean;
  containers?: { name: string; cpu?: string; memory?: string }[];
}

function pod(name: string, o: PodOpts = {}): Pod {
  const containers = o.containers ?? [{ name: "c", cpu: o.cpuRequest === null ? undefined : (o.cpuRequest ?? "500m") }];
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", labels: { app: "web" }, ...(o.deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}) },
    spec: {
      containers: containers.map((c) => ({
        name: c.name, image: "berth/busybox",
        ...(c.cpu || c.memory ? { resources: { requests: { ...(c.cpu ? { cpu: c.cpu } : {}), ...(c.memory ? { memory: c.memory } : {}) } } } : {}),
      })),
    },
    status: {
      phase: o.phase ?? "Running",
      startTime: o.startedAt ?? LONG_AGO,
      conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True", lastTransitionTime: o.readySince ?? LONG_AGO }],
    },
  };
}

/** Usage per pod name: cpu in millicores and memory in bytes, per container (or "c"). */
function usage(byPod: Record<string, { cpu?: number; memory?: number } | Record<string, { cpu?: number; memory?: number }>>, at = NOW - 1_000): HpaInput["usage"] {
  return (p) => {
    const u = byPod[p.metadata.name];
    if (!u) return undefined;
    const perContainer = "cpu" in u || "memory" in u ? { c: u as { cpu?: number; memory?: number } } : (u as Record<string, { cpu?: number; memory?: number }>);
    const containers = new Map(Object.entries(perContainer).map(([n, v]) => [n, { cpu: v.cpu ?? 0, memory: (v.memory ?? 0) * 1000 }]));
    return { containers, at, windowMs: 10_000 } satisfies PodUsageSample;
  };
}

const run = (h: HorizontalPodAutoscaler, current: number, pods: Pod[], u: HpaInput["usage"], memory?: HpaMemory, now = NOW) =>
  decideHpa({ hpa: h, currentReplicas: current, pods, usage: u, memory, now });

const cond = (d: { status: { conditions?: { type: string; status: string; reason?: string; message?: string }[] } }, type: string) =>
  d.status.conditions?.find((c) => c.type === type);

describe("replicas from cpu utilization", () => {
  test("3 pods at 80 % of their requests against a 50 % target: ceil(3 × 1.6) = 5, with kube's reason, conditions and metric status", () => {
    const pods = ["a", "b", "c"].map((n) => pod(n));
    const d = run(hpa(), 3, pods, usage({ a: { cpu: 400 }, b: { cpu: 400 }, c: { cpu: 400 } }));
    expect(d.rescale).toEqual({ replicas: 5, reason: "cpu resource utilization (percentage of request) above target" });
    expect(d.status.currentMetrics).toEqual([{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 80, averageValue: "400m" } } }]);
    expect(d.status).toMatchObject({ currentReplicas: 3, desiredReplicas: 5 });
    expect(cond(d, "ScalingActive")).toMatchObject({ status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" });
    expect(cond(d, "AbleToScale")).toMatchObject({ status: "True", reason: "ReadyForNewScale" });
    expect(cond(d, "ScalingLimited")).toMatchObject({ status: "False", reason: "DesiredWithinRange" });
    expect(d.events).toEqual([]);
  });

  test("within the 10 % tolerance nothing changes (54 % against 50 %)", () => {
    const pods = ["a", "b"].map((n) => pod(n));
    const d = run(hpa(), 2, pods, usage({ a: { cpu: 270 }, b: { cpu: 270 } }));
    expect(d.rescale).toBeUndefined();
    expect(d.status.desiredReplicas).toBe(2);
  });

  test("deleting and Failed pods are left out; a Pending pod counts as 0 on a scale-up", () => {
    const pods = [pod("a"), pod("b"), pod("gone", { deleting: true }), pod("dead", { phase: "Failed" }), pod("new", { phase: "Pending" })];
    // a, b at 100 % → ratio 2 → 4 from the 2 counted; with the Pending pod at 0: 1000/1500 = 66 % → ceil(1.32 × 3) = 4.
    const d = run(hpa(), 3, pods, usage({ a: { cpu: 500 }, b: { cpu: 500 }, gone: { cpu: 5000 }, dead: { cpu: 5000 } }));
    expect(d.rescale?.replicas).toBe(4);
  });

  test("pods without a sample count as 0 on a scale-up, and as 100 % of their request on a scale-down", () => {
    const pods = ["a", "b", "c", "d"].map((n) => pod(n));
    // Up: a, b at 100 % (ratio 2); c, d unmeasured at 0 → 50 % → no change.
    expect(run(hpa(), 4, pods, usage({ a: { cpu: 500 }, b: { cpu: 500 } })).rescale).toBeUndefined();
    // Down: a, b at 10 % (ratio 0.2); c, d at 100 % → 55 % → ratio 1.1: within tolerance, no change.
    const h = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
    expect(run(h, 4, pods, usage({ a: { cpu: 50 }, b: { cpu: 50 } })).rescale).toBeUndefined();
  });

  test("a pod still starting whose Ready turned true less than a window before its sample is not trusted for cpu", () => {
    const starting = pod("s", { startedAt: new Date(NOW - 60_000).toISOString(), readySince: new Date(NOW - 5_000).toISOString() });
    // Its sample ended 1 s ago, but the window (10 s) began before it was Ready: only "a" counts (ratio 2) and "s" is 0.
    const d = run(hpa(), 2, [pod("a"), starting], usage({ a: { cpu: 500 }, s: { cpu: 2000 } }));
    // a alone: 100 % → ratio 2; with s at 0: 50 % → 1.0 → no change.
    expect(d.rescale).toBeUndefined();
    // Started long ago, it counts: (500 + 2000) / 1000 = 250 % → ceil(5 × 2) = 10, which the
    // rate of an autoscaler without a behavior brings to max(2 × 2, 4) = 4.
    const counted = run(hpa(), 2, [pod("a"), pod("s")], usage({ a: { cpu: 500 }, s: { cpu: 2000 } }));
    expect(counted.status.currentMetrics?.[0].resource?.current.averageUtilization).toBe(250);
    expect(counted.rescale?.replicas).toBe(4);
  });

  test("a pod without a cpu request: the metric fails with kube's message and nothing is scaled", () => {
    const d = run(hpa(), 2, [pod("a"), pod("b", { cpuRequest: null })], usage({ a: { cpu: 500 }, b: { cpu: 500 } }));
    expect(d.rescale).toBeUndefined();
    expect(cond(d, "ScalingActive")).toMatchObject({ status: "False", reason: "FailedGetResourceMetric", message: "the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container c of Pod b" });
    expect(d.events).toEqual([
      { type: "Warning", reason: "FailedGetResourceMetric", message: "failed to get cpu utilization: missing request for cpu in container c of Pod b" },
      { type: "Warning", reason: "FailedComputeMetricsReplicas", message: "invalid metrics (1 invalid out of 1), first error is: failed to get cpu utilization: missing request for cpu in container c of Pod b" },
    ]);
    expect(d.status.currentMetrics).toEqual([{ type: "Resource" }]);
  });

  test("no usage reported for any pod: no metrics returned from resource metrics API", () => {
    const d = run(hpa(), 2, [pod("a"), pod("b")], usage({}));
    expect(cond(d, "ScalingActive")?.message).toBe("the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API");
    expect(d.status.desiredReplicas).toBe(2);
  });

  test("no metrics named: cpu at 80 % of requests", () => {
    const pods = ["a", "b"].map((n) => pod(n));
    expect(run(hpa({ metrics: undefined }), 2, pods, usage({ a: { cpu: 400 }, b: { cpu: 400 } })).rescale).toBeUndefined();
    expect(run(hpa({ metrics: [] }), 2, pods, usage({ a: { cpu: 500 }, b: { cpu: 500 } })).rescale?.replicas).toBe(3); // 100/80 × 2 = 2.5 → 3
  });
});

describe("other targets", () => {
  test("memory AverageValue: 3 pods at 200Mi against 100Mi → 6; the status carries the average as a quantity", () => {
    const h = hpa({ metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } }] });
    const pods = ["a", "b", "c"].map((n) => pod(n, { cpuRequest: null }));
    const mi = 1024 * 1024;
    const d = run(h, 3, pods, usage({ a: { memory: 200 * mi }, b: { memory: 200 * mi }, c: { memory: 200 * mi } }));
    expect(d.rescale).toEqual({ replicas: 6, reason: "memory resource above target" });
    expect(d.status.currentMetrics).toEqual([{ type: "Resource", resource: { name: "memory", current: { averageValue: String(200 * mi) } } }]);
  });

  test("ContainerResource counts only the named container", () => {
    const h = hpa({ metrics: [{ type: "ContainerResource", containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 50 } } }] });
    const pods = ["a", "b"].map((n) => pod(n, { containers: [{ name: "app", cpu: "500m" }, { name: "side", cpu: "100m" }] }));
    const d = run(h, 2, pods, usage({ a: { app: { cpu: 500 }, side: { cpu: 0 } }, b: { app: { cpu: 500 }, side: { cpu: 0 } } }));
    expect(d.rescale).toEqual({ replicas: 4, reason: "cpu resource utilization (percentage of request) above target" });
    expect(d.status.currentMetrics?.[0]).toEqual({ type: "ContainerResource", containerResource: { name: "cpu", container: "app", current: { averageUtilization: 100, averageValue: "500m" } } });
  });

  test("the highest of several metrics wins; Pods, Object and External metrics are refused as not measurable here", () => {
    const h = hpa({
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "10Mi" } } },
      ],
    });
    const pods = [pod("a", { containers: [{ name: "c", cpu: "500m", memory: "64Mi" }] })];
    const d = run(h, 1, pods, usage({ a: { cpu: 250, memory: 30 * 1024 * 1024 } }));
    expect(d.rescale).toEqual({ replicas: 3, reason: "memory resource above target" });
    const ext = run(hpa({ metrics: [{ type: "External", external: {} }] }), 1, pods, usage({ a: { cpu: 250 } }));
    expect(cond(ext, "ScalingActive")?.message).toMatch(/metric type External needs a custom or external metrics API, which Berth has not/);
  });
});

describe("details as Kubernetes has them", () => {
  test("an AverageValue ratio uses the average truncated to a whole milli-unit: 150m and 151m against 100m → 3, not 4", () => {
    const h = hpa({ metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "AverageValue", averageValue: "100m" } } }] });
    expect(run(h, 2, [pod("a"), pod("b")], usage({ a: { cpu: 150 }, b: { cpu: 151 } })).rescale?.replicas).toBe(3);
  });

  test("every measured pod unready: 'did not receive metrics for targeted pods'; an AverageValue metric fails as 'usage'", () => {
    const notReady = [pod("a", { ready: false, startedAt: new Date(NOW - 10_000).toISOString(), readySince: new Date(NOW - 5_000).toISOString() })];
    const d = run(hpa(), 1, notReady, usage({ a: { cpu: 500 } }));
    expect(cond(d, "ScalingActive")?.message).toBe("the HPA was unable to compute the replica count: failed to get cpu utilization: did not receive metrics for targeted pods (pods might be unready)");
    const avg = hpa({ metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "AverageValue", averageValue: "100m" } } }] });
    expect(cond(run(avg, 1, [pod("a")], usage({})), "ScalingActive")?.message).toMatch(/failed to get cpu usage: unable to get metrics/);
  });

  test("a ContainerResource metric naming a container a pod has not: 'container X not found in Pod Y'", () => {
    const h = hpa({ metrics: [{ type: "ContainerResource", containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 50 } } }] });
    expect(cond(run(h, 1, [pod("a")], usage({ a: { cpu: 100 } })), "ScalingActive")?.message).toMatch(/container app not found in Pod a$/);
  });

  test("each sync says the scale was read (SucceededGetScale) before anything else decides; the bound paths carry no metrics", () => {
    const stale = hpa({}, { desiredReplicas: 2, currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 10 } } }], conditions: [{ type: "AbleToScale", status: "False", reason: "FailedGetScale", message: "x" }] });
    const d = run(stale, 0, [], usage({}));
    expect(cond(d, "AbleToScale")).toMatchObject({ status: "True", reason: "SucceededGetScale", message: "the HPA controller was able to get the target's current scale" });
    expect(d.status.currentMetrics).toBeUndefined();
  });

  test("every status written says which generation of the autoscaler it was computed from (observedGeneration)", () => {
    const at = (generation: number, status?: HorizontalPodAutoscaler["status"]) => {
      const h = hpa({}, status);
      h.metadata.generation = generation;
      return h;
    };
    const pods = ["a", "b", "c"].map((n) => pod(n));
    const hot = usage({ a: { cpu: 400 }, b: { cpu: 400 }, c: { cpu: 400 } });
    // Metrics read, a rescale made or refused, metrics failing, the target at 0, the scale unreadable.
    const d = run(at(3, { observedGeneration: 2, desiredReplicas: 3 }), 3, pods, hot);
    expect(d.status.observedGeneration).toBe(3);
    expect(rescaled(d, 3, NOW).status.observedGeneration).toBe(3);
    expect(rescaleFailed(d, at(3), 3, "conflict", NOW).status.observedGeneration).toBe(3);
    expect(run(at(4), 3, pods, usage({})).status.observedGeneration).toBe(4);
    expect(run(at(5), 0, [], usage({})).status.observedGeneration).toBe(5);
    expect(scaleUnreadable(at(6, { observedGeneration: 5, desiredReplicas: 3 }), "not found", NOW).status.observedGeneration).toBe(6);
  });

  test("a ratio of exactly 1.1 is within the tolerance (55 % of a 50 % target over 10 pods stays 10)", () => {
    const pods = Array.from({ length: 10 }, (_, i) => pod(`p${i}`));
    expect(run(hpa(), 10, pods, usage(Object.fromEntries(pods.map((p) => [p.metadata.name, { cpu: 275 }])))).rescale).toBeUndefined();
  });
});

describe("bounds, stabilization and rate limits", () => {
  const hot = (names: string[]) => usage(Object.fromEntries(names.map((n) => [n, { cpu: 1000 }]))); // 200 % of 500m
  const podsOf = (n: number) => Array.from({ length: n }, (_, i) => pod(`p${i}`));
  const names = (n: number) => Array.from({ length: n }, (_, i) => `p${i}`);

  test("the target at 0 replicas: scaling disabled", () => {
    const d = run(hpa(), 0, [], usage({}));
    expect(d.rescale).toBeUndefined();
    expect(d.status.desiredReplicas).toBe(0);
    expect(cond(d, "ScalingActive")).toMatchObject({ status: "False", reason: "ScalingDisabled", message: "scaling is disabled since the replica count of the target is zero" });
  });

  test("above maxReplicas or below minReplicas: brought to the bound whatever the metrics", () => {
    expect(run(hpa({ maxReplicas: 4 }), 7, podsOf(7), usage({})).rescale).toEqual({ replicas: 4, reason: "Current number of replicas above Spec.MaxReplicas" });
    expect(run(hpa({ minReplicas: 3 }), 1, podsOf(1), usage({})).rescale).toEqual({ replicas: 3, reason: "Current number of replicas below Spec.MinReplicas" });
  });

  test("scale-up capped by maxReplicas (TooManyReplicas) and by the rate: without a behavior max(2 × current, 4); with one, the default policies' max(+4, +100 %) per 15 s (ScaleUpLimit)", () => {
    const capped = run(hpa({ maxReplicas: 5 }), 3, podsOf(3), hot(names(3)));
    expect(capped.rescale?.replicas).toBe(5);
    expect(cond(capped, "ScalingLimited")).toMatchObject({ status: "True", reason: "TooManyReplicas" });
    const burning = usage({ p0: { cpu: 5000 }, p1: { cpu: 5000 } }); // 1000 % → 20
    const legacy = run(hpa({ maxReplicas: 50 }), 2, podsOf(2), burning);
    expect(legacy.rescale?.replicas).toBe(4); // max(2 × 2, 4)
    expect(cond(legacy, "ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleUpLimit", message: "the desired replica count is increasing faster than the maximum scale rate" });
    expect(run(hpa({ maxReplicas: 50 }), 1, podsOf(1), usage({ p0: { cpu: 5000 } })).rescale?.replicas).toBe(4); // 1 → 4, not 5
    const withBehavior = run(hpa({ maxReplicas: 50, behavior: {} }), 2, podsOf(2), burning);
    expect(withBehavior.rescale?.replicas).toBe(6); // max(2 + 4, 2 × 2)
    expect(cond(withBehavior, "ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleUpLimit" });
  });

  test("a scale-up made counts against the rate for its period: 2 → 6, then within 15 s at most 6 → max(2 + 4, 4) … = 6, and after the period 6 → 12", () => {
    const h = hpa({ maxReplicas: 50, behavior: {} });
    const first = rescaled(run(h, 2, podsOf(2), usage({ p0: { cpu: 5000 }, p1: { cpu: 5000 } })), 2, NOW);
    expect(first.status.lastScaleTime).toBe(new Date(NOW).toISOString());
    expect(first.events).toEqual([{ type: "Normal", reason: "SuccessfulRescale", message: "New size: 6; reason: cpu resource utilization (percentage of request) above target" }]);
    expect(cond(first, "AbleToScale")).toMatchObject({ reason: "SucceededRescale", message: "the HPA controller was able to update the target scale to 6" });
    const soon = run(h, 6, podsOf(6), hot(names(6)), first.memory, NOW + 5_000);
    expect(soon.rescale).toBeUndefined(); // the period began at 2: limit max(6, 4) = 6
    const later = run(h, 6, podsOf(6), hot(names(6)), first.memory, NOW + 16_000);
    expect(later.rescale?.replicas).toBe(12);
    // Without a behavior no scale change is remembered: 4 → 8 at once (max(2 × 4, 4)).
    const legacy = rescaled(run(hpa({ maxReplicas: 50 }), 2, podsOf(2), usage({ p0: { cpu: 5000 }, p1: { cpu: 5000 } })), 2, NOW);
    expect(legacy.memory.scaleUps).toEqual([]);
    expect(run(hpa({ maxReplicas: 50 }), 4, podsOf(4), hot(names(4)), legacy.memory, NOW + 5_000).rescale?.replicas).toBe(8);
  });

  test("with a behavior, scale-down waits out the 300 s stabilization window from the autoscaler's first sight, then goes", () => {
    const h = hpa({ behavior: {} });
    const cold = usage(Object.fromEntries(names(6).map((n) => [n, { cpu: 25 }]))); // 5 % → 1
    const first = run(h, 6, podsOf(6), cold);
    expect(first.rescale).toBeUndefined();
    expect(cond(first, "AbleToScale")).toMatchObject({ reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" });
    const within = run(h, 6, podsOf(6), cold, first.memory, NOW + 200_000);
    expect(within.rescale).toBeUndefined();
    const after = run(h, 6, podsOf(6), cold, within.memory, NOW + 301_000);
    expect(after.rescale).toEqual({ replicas: 1, reason: "All metrics below target" });
  });

  test("without a behavior, the highest recommendation of the last 300 s holds a scale-down (none at first sight)", () => {
    const cold = usage(Object.fromEntries(names(6).map((n) => [n, { cpu: 25 }])));
    expect(run(hpa(), 6, podsOf(6), cold).rescale).toEqual({ replicas: 1, reason: "All metrics below target" });
    const busy = run(hpa(), 6, podsOf(6), usage(Object.fromEntries(names(6).map((n) => [n, { cpu: 250 }])))); // 50 %: stays 6
    expect(busy.rescale).toBeUndefined();
    const held = run(hpa(), 6, podsOf(6), cold, busy.memory, NOW + 100_000);
    expect(held.rescale).toBeUndefined();
    expect(cond(held, "AbleToScale")).toMatchObject({ reason: "ScaleDownStabilized" });
    expect(run(hpa(), 6, podsOf(6), cold, held.memory, NOW + 301_000).rescale?.replicas).toBe(1);
  });

  test("scale-down policies: Pods 1 per 60 s limits 6 → 5 (ScaleDownLimit); selectPolicy Disabled never scales down", () => {
    const cold = usage(Object.fromEntries(names(6).map((n) => [n, { cpu: 25 }])));
    const h = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] } } });
    const d = run(h, 6, podsOf(6), cold);
    expect(d.rescale?.replicas).toBe(5);
    expect(cond(d, "ScalingLimited")).toMatchObject({ status: "True", reason: "ScaleDownLimit" });
    const again = run(h, 5, podsOf(5), cold, rescaled(d, 6, NOW).memory, NOW + 30_000);
    expect(again.rescale).toBeUndefined(); // one pod already removed this minute
    const off = hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: "Disabled" } } });
    expect(run(off, 6, podsOf(6), cold).rescale).toBeUndefined();
  });

  test("a failed scale write: FailedUpdateScale and a FailedRescale event; nothing remembered as scaled", () => {
    const d = run(hpa(), 3, podsOf(3), hot(names(3)));
    const f = rescaleFailed(d, hpa(), 3, "deployments.apps \"web\" not found", NOW);
    expect(cond(f, "AbleToScale")).toMatchObject({ status: "False", reason: "FailedUpdateScale", message: "the HPA controller was unable to update the target scale: deployments.apps \"web\" not found" });
    expect(f.events.at(-1)).toEqual({ type: "Warning", reason: "FailedRescale", message: "New size: 6; reason: cpu resource utilization (percentage of request) above target; error: deployments.apps \"web\" not found" });
    expect(f.status.desiredReplicas).toBe(0); // the desired count it had (none yet)
    expect(f.memory.scaleUps).toEqual([]);
    expect(f.status.lastScaleTime).toBeUndefined();
  });

  test("an unreadable scale: FailedGetScale; a condition whose status holds keeps its transition time", () => {
    const u = scaleUnreadable(hpa(), "deployments.apps \"web\" not found", NOW);
    expect(u.status.conditions).toEqual([{ type: "AbleToScale", status: "False", reason: "FailedGetScale", message: "the HPA controller was unable to get the target's current scale: deployments.apps \"web\" not found", lastTransitionTime: new Date(NOW).toISOString() }]);
    const again = scaleUnreadable(hpa({}, u.status), "still not found", NOW + 15_000);
    expect(again.status.conditions?.[0].lastTransitionTime).toBe(new Date(NOW).toISOString());
  });
});

test("usageByPod reads the node reports into milli-units; formatMilli prints DecimalSI quantities", () => {
  const m = usageByPod([{ node: "n", timestamp: new Date(NOW).toISOString(), windowSeconds: 10, usage: { cpuNanoCores: 0, memoryBytes: 0 }, pods: [{ namespace: "default", name: "a", containers: [{ name: "c", cpuNanoCores: 250_000_001, memoryBytes: 2048 }] }] }]);
  expect(m.get("default/a")).toEqual({ containers: new Map([["c", { cpu: 251, memory: 2_048_000 }]]), at: NOW, windowMs: 10_000 });
  expect([formatMilli(250), formatMilli(2000), formatMilli(12_000_000_000), formatMilli(209_715_200_000), formatMilli(0)]).toEqual(["250m", "2", "12M", "209715200", "0"]);
});
