/**
 * autoscaling/v1 ⇄ autoscaling/v2 HorizontalPodAutoscalers, as kube-apiserver converts them: a
 * v1 cpu target is the v2 cpu Utilization metric (none: v2's default applies), and a v2 object
 * shows v1 its cpu target and measurement and the replica counts (never omitted in v1).
 */
import { describe, expect, it } from "vitest";
import { hpaFromV1, hpaToV1 } from "../../../../runtime/http/hpa_v1.ts";
import type { HorizontalPodAutoscaler } from "../../../../model/types.ts";

const REF = { kind: "Deployment", name: "web", apiVersion: "apps/v1" };

describe("autoscaling/v1 horizontalpodautoscalers", () => {
  it("a v1 HPA becomes v2: the cpu target a Resource cpu Utilization metric; without one no metric (the default applies); the status and unknown fields dropped", () => {
    const v1 = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "web", labels: { a: "b" } }, spec: { scaleTargetRef: REF, minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 50, metrics: ["ignored"] }, status: { currentReplicas: 9 } };
    expect(hpaFromV1(v1)).toEqual({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", labels: { a: "b" } },
      spec: { scaleTargetRef: REF, minReplicas: 2, maxReplicas: 5, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }] },
    });
    expect(hpaFromV1({ metadata: { name: "plain" }, spec: { scaleTargetRef: REF, maxReplicas: 3 } }).spec).toEqual({ scaleTargetRef: REF, maxReplicas: 3 });
    // No spec at all: an empty v2 spec, which validation refuses.
    expect(hpaFromV1({ metadata: { name: "x" } }).spec).toEqual({});
  });

  it("a v2 HPA shown as v1: the first cpu Utilization target, the cpu measurement, currentReplicas and desiredReplicas always", () => {
    const v2: HorizontalPodAutoscaler = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "default", resourceVersion: "7" },
      spec: {
        scaleTargetRef: REF, minReplicas: 1, maxReplicas: 4,
        metrics: [
          { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
          { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
        ],
      },
      status: {
        observedGeneration: 3, lastScaleTime: "2026-12-04T10:00:00Z", currentReplicas: 2, desiredReplicas: 3,
        currentMetrics: [
          { type: "Resource", resource: { name: "memory", current: { averageValue: "10Mi" } } },
          { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 95, averageValue: "95m" } } },
        ],
      },
    };
    expect(hpaToV1(v2)).toEqual({
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "default", resourceVersion: "7" },
      spec: { scaleTargetRef: REF, minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 70 },
      status: { observedGeneration: 3, lastScaleTime: "2026-12-04T10:00:00Z", currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 95 },
    });
    // A new HPA (the empty status) and one without a cpu utilization target.
    const fresh = hpaToV1({ ...v2, spec: { ...v2.spec, metrics: [v2.spec.metrics![0]] }, status: { desiredReplicas: 0 } });
    expect(fresh.spec).toEqual({ scaleTargetRef: REF, minReplicas: 1, maxReplicas: 4 });
    expect(fresh.status).toEqual({ currentReplicas: 0, desiredReplicas: 0 });
  });
});
