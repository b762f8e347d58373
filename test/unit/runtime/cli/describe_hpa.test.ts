/**
 * `berth describe hpa`: kubectl's horizontalpodautoscaler (v2) describer — the reference, each
 * metric's current and target value ("( current / target )"), the bounds, the behavior when one is
 * set, the target's pods as the autoscaler last saw them, the conditions with their messages, then
 * the events about it.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Event, HorizontalPodAutoscaler } from "../../../../model/types.ts";

const now = Date.parse("2026-12-04T10:10:00Z");

function hpa(spec: Partial<HorizontalPodAutoscaler["spec"]> = {}, status?: HorizontalPodAutoscaler["status"]): HorizontalPodAutoscaler {
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { name: "web", namespace: "default", uid: "h-1", creationTimestamp: "2026-12-04T10:00:00Z", labels: { team: "a" } },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } }],
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/** The `Key:` lines of a describe text, in order (indented ones included, without their indent). */
const keys = (text: string) => text.split("\n").filter((l) => /^\s*[A-Za-z][A-Za-z "()]+:/.test(l)).map((l) => l.trim().split(":")[0]);

describe("describe horizontalpodautoscaler", () => {
  it("before the autoscaler has looked: kubectl's fields in kubectl's order, <unknown> current values, 0 current / 0 desired, no conditions", () => {
    const text = describeObject("horizontalpodautoscalers", hpa({}, { desiredReplicas: 0 }), [], now);
    expect(keys(text)).toEqual(["Name", "Namespace", "Labels", "Annotations", "CreationTimestamp", "Reference", "Metrics", "resource cpu on pods  (as a percentage of request)", "Min replicas", "Max replicas", "Deployment pods", "Events"]);
    // One block, aligned on its longest key (the metric's), as kubectl's tab writer aligns it.
    expect(text).toContain("CreationTimestamp:                                    Fri, 04 Dec 2026 10:00:00 +0000\n");
    expect(text).toContain("Reference:                                            Deployment/web\n");
    expect(text).toContain("Metrics:                                              ( current / target )\n");
    expect(text).toContain("  resource cpu on pods  (as a percentage of request): <unknown> / 50%\n");
    expect(text).toMatch(/^Min replicas:\s+2\nMax replicas:\s+5\n/m);
    expect(text).toMatch(/^Deployment pods:\s+0 current \/ 0 desired$/m);
    expect(text).not.toMatch(/Conditions|Behavior/);
    expect(text).toMatch(/^Events:\s+<none>$/m);
  });

  it("after: utilization with its average (40% (20m)), a memory average value, a container's metric, the conditions table with messages, the events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "web.1", namespace: "default" },
      involvedObject: { kind: "HorizontalPodAutoscaler", name: "web" }, type: "Normal", reason: "SuccessfulRescale", message: "New size: 4; reason: cpu resource utilization (percentage of request) above target",
      lastTimestamp: "2026-12-04T10:05:00Z", source: { component: "horizontal-pod-autoscaler" },
    };
    const text = describeObject("horizontalpodautoscalers", hpa({
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } },
        { type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } },
        { type: "ContainerResource", containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 60 } } },
      ],
    }, {
      currentReplicas: 3, desiredReplicas: 4,
      currentMetrics: [
        { type: "Resource", resource: { name: "cpu", current: { averageUtilization: 40, averageValue: "20m" } } },
        { type: "Resource", resource: { name: "memory", current: { averageValue: "10Mi" } } },
      ],
      conditions: [
        { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "the HPA controller was able to update the target scale to 4" },
        { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" },
        { type: "ScalingLimited", status: "False", reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" },
      ],
    }), [ev], now);
    expect(text).toMatch(/^ {2}resource cpu on pods {2}\(as a percentage of request\):\s+40% \(20m\) \/ 50%$/m);
    expect(text).toMatch(/^ {2}resource memory on pods:\s+10Mi \/ 100Mi$/m);
    expect(text).toMatch(/^ {2}resource cpu of container "app" on pods {2}\(as a percentage of request\):\s+<unknown> \/ 60%$/m);
    expect(text).toMatch(/^Deployment pods:\s+3 current \/ 4 desired\nConditions:\n/m);
    expect(text).toContain(
      "Conditions:\n" +
      "  Type            Status  Reason              Message\n" +
      "  ----            ------  ------              -------\n" +
      "  AbleToScale     True    SucceededRescale    the HPA controller was able to update the target scale to 4\n" +
      "  ScalingActive   True    ValidMetricFound    the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)\n" +
      "  ScalingLimited  False   DesiredWithinRange  the desired count is within the acceptable range\n",
    );
    expect(text).toMatch(/Normal\s+SuccessfulRescale\s+5m\s+horizontal-pod-autoscaler\s+New size: 4; reason: cpu resource utilization/);
  });

  it("a behavior is shown as kubectl prints it: each direction's window when set, its policy choice and its policies", () => {
    const text = describeObject("horizontalpodautoscalers", hpa({
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }] },
        scaleDown: { selectPolicy: "Min", policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
      },
    }), [], now);
    expect(text).toContain(
      "Behavior:\n" +
      "  Scale Up:\n" +
      "    Stabilization Window: 0 seconds\n" +
      "    Select Policy: Max\n" +
      "    Policies:\n" +
      "      - Type: Pods     Value: 4    Period: 15 seconds\n" +
      "      - Type: Percent  Value: 100  Period: 15 seconds\n" +
      "  Scale Down:\n" +
      "    Select Policy: Min\n" +
      "    Policies:\n" +
      "      - Type: Percent  Value: 10  Period: 60 seconds\n" +
      "Deployment pods:",
    );
  });
});
