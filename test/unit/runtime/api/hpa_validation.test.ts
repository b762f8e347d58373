/**
 * autoscaling/v2 HorizontalPodAutoscalers at the API's edge: kube-apiserver's
 * ValidateHorizontalPodAutoscaler (its field paths, cause reasons and words), where Berth is
 * narrower (cpu and memory only; no custom or external metrics; a target's type matching its
 * field), the v2 defaults (SetDefaults_HorizontalPodAutoscaler), the status the autoscaler writes,
 * and what the rest of the API knows of the kind: field selectors, quota object counts, strict
 * field validation's schema.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { HorizontalPodAutoscaler } from "../../../../model/types.ts";
import { validate, validateStatus } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { countedResource, isQuotaName, resourcesFor, usageOf } from "../../../../model/quota.ts";
import { FIELD_LABELS, matchesFields, parseFieldSelector } from "../../../../model/selector.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";
import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, scalingRulesWithDefaults } from "../../../../model/hpa.ts";

const TARGET = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
const CPU_50 = { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 50 } } };

/** An HPA; `null` for one without a spec. */
const hpa = (spec: Record<string, unknown> | null = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: "autoscaling/v2",
  kind: "HorizontalPodAutoscaler",
  metadata: { name: "web", namespace: "default" },
  ...(spec === null ? {} : { spec: { scaleTargetRef: TARGET, minReplicas: 1, maxReplicas: 5, ...spec } }),
  ...extra,
});
/** An HPA with one metric. */
const withMetric = (metric: unknown) => hpa({ metrics: [metric] });
const HPA = "horizontalpodautoscalers";

describe("horizontalpodautoscalers - spec validation (ValidateHorizontalPodAutoscaler)", () => {
  it("what kubectl autoscale makes, a memory AverageValue, a ContainerResource and a full behavior are accepted", () => {
    for (const spec of [
      {},
      { metrics: [CPU_50] },
      { minReplicas: 3, maxReplicas: 3, metrics: [{ type: "Resource", resource: { name: "memory", target: { type: "AverageValue", averageValue: "100Mi" } } }] },
      { metrics: [{ type: "ContainerResource", containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 60 } } }, CPU_50] },
      { behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }] }, scaleDown: { stabilizationWindowSeconds: 3600, selectPolicy: "Disabled", policies: [{ type: "Percent", value: 100, periodSeconds: 1800 }] } } },
      { behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
      { behavior: {} },
    ]) {
      expect(causesOf(HPA, hpa(spec)), JSON.stringify(spec)).toEqual([]);
    }
  });

  it("minReplicas below 1 is refused: must be greater than or equal to 1", () => {
    expectCause(causesOf(HPA, hpa({ minReplicas: 0 })), "spec.minReplicas", "FieldValueInvalid", "Invalid value: 0: must be greater than or equal to 1");
    expectCause(causesOf(HPA, hpa({ minReplicas: -2 })), "spec.minReplicas", "FieldValueInvalid", "Invalid value: -2: must be greater than or equal to 1");
  });

  it("maxReplicas below 1 is refused (absent, it is 0 as Go reads it): must be greater than 0", () => {
    expectCause(causesOf(HPA, hpa({ maxReplicas: 0, minReplicas: undefined })), "spec.maxReplicas", "FieldValueInvalid", "Invalid value: 0: must be greater than 0");
    const { maxReplicas: _m, ...noMax } = hpa().spec!;
    expectCause(causesOf(HPA, { ...hpa(), spec: noMax }), "spec.maxReplicas", "FieldValueInvalid", "Invalid value: 0: must be greater than 0");
  });

  it("maxReplicas below minReplicas is refused at maxReplicas: must be greater than or equal to `minReplicas`", () => {
    const causes = causesOf(HPA, hpa({ minReplicas: 4, maxReplicas: 3 }));
    expect(causes).toEqual([{ reason: "FieldValueInvalid", field: "spec.maxReplicas", message: "Invalid value: 3: must be greater than or equal to `minReplicas`" }]);
    // Without minReplicas there is nothing to compare (the default 1 comes after validation).
    expect(causesOf(HPA, hpa({ minReplicas: undefined, maxReplicas: 1 }))).toEqual([]);
  });

  it("scaleTargetRef needs a kind and a name, each a valid path segment; a spec without one says so for both", () => {
    expectCause(causesOf(HPA, hpa({ scaleTargetRef: { kind: "Deployment" } })), "spec.scaleTargetRef.name", "FieldValueRequired", "Required value");
    expectCause(causesOf(HPA, hpa({ scaleTargetRef: { name: "web", kind: "" } })), "spec.scaleTargetRef.kind", "FieldValueRequired", "Required value");
    expectCause(causesOf(HPA, hpa({ scaleTargetRef: { kind: "Deployment", name: "a/b" } })), "spec.scaleTargetRef.name", "FieldValueInvalid", `Invalid value: "a/b": may not contain '/'`);
    expectCause(causesOf(HPA, hpa({ scaleTargetRef: { kind: "Deployment", name: ".." } })), "spec.scaleTargetRef.name", "FieldValueInvalid", `Invalid value: "..": may not be '..'`);
    const both = causesOf(HPA, hpa({ scaleTargetRef: { kind: "Deploy%ment", name: "x/%" } }));
    expect(both.map((c) => `${c.field}: ${c.message}`)).toEqual([
      `spec.scaleTargetRef.kind: Invalid value: "Deploy%ment": may not contain '%'`,
      `spec.scaleTargetRef.name: Invalid value: "x/%": may not contain '/'`,
      `spec.scaleTargetRef.name: Invalid value: "x/%": may not contain '%'`,
    ]);
    const none = causesOf(HPA, hpa(null));
    expect(none.map((c) => c.field).sort()).toEqual(["spec.maxReplicas", "spec.scaleTargetRef.kind", "spec.scaleTargetRef.name"]);
  });

  it("a metric's type must have its own source set, and only that one", () => {
    expectCause(causesOf(HPA, withMetric({ type: "Resource" })), "spec.metrics[0].resource", "FieldValueRequired", "Required value: must populate information for the given metric source");
    expectCause(causesOf(HPA, withMetric({ type: "ContainerResource", resource: CPU_50.resource })), "spec.metrics[0].containerResource", "FieldValueRequired", "Required value: must populate information for the given metric source");
    const two = causesOf(HPA, withMetric({ ...CPU_50, containerResource: { name: "cpu", container: "app", target: { type: "Utilization", averageUtilization: 50 } } }));
    expect(two).toEqual([{ reason: "FieldValueForbidden", field: "spec.metrics[0].containerResource", message: "Forbidden: must populate the given metric source only" }]);
    expectCause(causesOf(HPA, withMetric({ resource: CPU_50.resource })), "spec.metrics[0].type", "FieldValueRequired", "Required value: must specify a metric source type");
  });

  it("Pods, Object and External metrics are refused: Berth has no custom or external metrics API; an unknown type lists what Berth serves", () => {
    for (const type of ["Pods", "Object", "External"]) {
      const causes = causesOf(HPA, withMetric({ type, [type.toLowerCase()]: { metric: { name: "requests" }, target: { type: "AverageValue", averageValue: "10" } } }));
      expect(causes).toEqual([{
        reason: "FieldValueNotSupported", field: "spec.metrics[0].type",
        message: `Unsupported value: "${type}": Berth has no custom or external metrics API: only the metric types "ContainerResource", "Resource" are supported`,
      }]);
    }
    expectCause(causesOf(HPA, withMetric({ type: "Magic" })), "spec.metrics[0].type", "FieldValueNotSupported", 'Unsupported value: "Magic": supported values: "ContainerResource", "Resource"');
  });

  it("a resource metric names a resource, cpu or memory only (Berth's metrics), and a ContainerResource a container that is a DNS label", () => {
    const metric = (name: string, extra: Record<string, unknown> = {}) => ({ type: "Resource", resource: { name, target: { type: "AverageValue", averageValue: "1" }, ...extra } });
    expectCause(causesOf(HPA, withMetric(metric(""))), "spec.metrics[0].resource.name", "FieldValueRequired", "Required value: must specify a resource name");
    for (const name of ["ephemeral-storage", "nvidia.com/gpu", "CPU"]) {
      expectCause(causesOf(HPA, withMetric(metric(name))), "spec.metrics[0].resource.name", "FieldValueNotSupported",
        `Unsupported value: ${JSON.stringify(name)}: supported values: "cpu", "memory" (Berth has metrics for cpu and memory only)`);
    }
    const container = (c: unknown) => ({ type: "ContainerResource", containerResource: { name: "memory", container: c, target: { type: "AverageValue", averageValue: "64Mi" } } });
    expectCause(causesOf(HPA, withMetric(container(undefined))), "spec.metrics[0].containerResource.container", "FieldValueRequired", "Required value: must specify a container");
    expectCause(causesOf(HPA, withMetric(container("App_1"))), "spec.metrics[0].containerResource.container", "FieldValueInvalid", /^Invalid value: "App_1": a lowercase RFC 1123 label must consist of/);
    expect(causesOf(HPA, withMetric(container("app-1")))).toEqual([]);
  });

  it("a target: a known type, Utilization above 0, quantities above 0, one of averageUtilization and averageValue (kube's words)", () => {
    const target = (t: Record<string, unknown>) => withMetric({ type: "Resource", resource: { name: "cpu", target: t } });
    expectCause(causesOf(HPA, target({ averageUtilization: 50 })), "spec.metrics[0].resource.target.type", "FieldValueRequired", "Required value: must specify a metric target type");
    expectCause(causesOf(HPA, target({ type: "Percent", averageUtilization: 50 })), "spec.metrics[0].resource.target.type", "FieldValueInvalid", 'Invalid value: "Percent": must be either Utilization, Value, or AverageValue');
    expectCause(causesOf(HPA, target({ type: "Utilization", averageUtilization: 0 })), "spec.metrics[0].resource.target.averageUtilization", "FieldValueInvalid", "Invalid value: 0: must be greater than 0");
    expectCause(causesOf(HPA, target({ type: "AverageValue", averageValue: "0" })), "spec.metrics[0].resource.target.averageValue", "FieldValueInvalid", 'Invalid value: "0": must be positive');
    expectCause(causesOf(HPA, target({ type: "AverageValue", averageValue: "-10m" })), "spec.metrics[0].resource.target.averageValue", "FieldValueInvalid", 'Invalid value: "-10m": must be positive');
    expectCause(causesOf(HPA, target({ type: "AverageValue", averageValue: "lots" })), "spec.metrics[0].resource.target.averageValue", "FieldValueInvalid", /must be a quantity/);
    expectCause(causesOf(HPA, target({ type: "Utilization" })), "spec.metrics[0].resource.target.averageUtilization", "FieldValueRequired", "Required value: must set either a target raw value or a target utilization");
    expectCause(causesOf(HPA, target({ type: "Utilization", averageUtilization: 50, averageValue: "100m" })), "spec.metrics[0].resource.target.averageValue", "FieldValueForbidden", "Forbidden: may not set both a target raw value and a target utilization");
  });

  it("Berth's own: a resource metric's target type is never Value, and Utilization or AverageValue sets its own field", () => {
    const target = (t: Record<string, unknown>) => withMetric({ type: "Resource", resource: { name: "memory", target: t } });
    const value = causesOf(HPA, target({ type: "Value", value: "100Mi" }));
    expectCause(value, "spec.metrics[0].resource.target.type", "FieldValueInvalid", 'Invalid value: "Value": must be either Utilization or AverageValue');
    // kube-apiserver's own refusal of the same input comes with it.
    expectCause(value, "spec.metrics[0].resource.target.averageUtilization", "FieldValueRequired", "Required value: must set either a target raw value or a target utilization");
    expectCause(causesOf(HPA, target({ type: "Utilization", averageValue: "100Mi" })), "spec.metrics[0].resource.target.averageUtilization", "FieldValueRequired", "Required value: must be set for target type Utilization");
    expectCause(causesOf(HPA, target({ type: "AverageValue", averageUtilization: 70 })), "spec.metrics[0].resource.target.averageValue", "FieldValueRequired", "Required value: must be set for target type AverageValue");
  });

  it("behavior: a stabilization window from 0 to 3600, selectPolicy Max|Min|Disabled, and given policies at least one, each Pods|Percent, value above 0, period 1 to 1800", () => {
    const up = (rules: Record<string, unknown>) => causesOf(HPA, hpa({ behavior: { scaleUp: rules } }));
    expectCause(up({ stabilizationWindowSeconds: -1 }), "spec.behavior.scaleUp.stabilizationWindowSeconds", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to zero");
    expectCause(causesOf(HPA, hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 3601 } } })), "spec.behavior.scaleDown.stabilizationWindowSeconds", "FieldValueInvalid", "Invalid value: 3601: must be less than or equal to 3600");
    expectCause(up({ selectPolicy: "Average" }), "spec.behavior.scaleUp.selectPolicy", "FieldValueNotSupported", 'Unsupported value: "Average": supported values: "Disabled", "Max", "Min"');
    expectCause(up({ policies: [] }), "spec.behavior.scaleUp.policies", "FieldValueRequired", "Required value: must specify at least one Policy");
    expectCause(up({ policies: [{ type: "Replicas", value: 1, periodSeconds: 15 }] }), "spec.behavior.scaleUp.policies[0].type", "FieldValueNotSupported", 'Unsupported value: "Replicas": supported values: "Percent", "Pods"');
    expectCause(up({ policies: [{ type: "Pods", value: 0, periodSeconds: 15 }] }), "spec.behavior.scaleUp.policies[0].value", "FieldValueInvalid", "Invalid value: 0: must be greater than zero");
    expectCause(up({ policies: [{ type: "Pods", value: 1, periodSeconds: 0 }] }), "spec.behavior.scaleUp.policies[0].periodSeconds", "FieldValueInvalid", "Invalid value: 0: must be greater than zero");
    expectCause(up({ policies: [{ type: "Pods", value: 1, periodSeconds: 1801 }] }), "spec.behavior.scaleUp.policies[0].periodSeconds", "FieldValueInvalid", "Invalid value: 1801: must be less than or equal to 1800");
    // A policy's missing fields are Go's zero values.
    const bare = up({ policies: [{}] });
    expect(bare.map((c) => c.field)).toEqual(["spec.behavior.scaleUp.policies[0].type", "spec.behavior.scaleUp.policies[0].value", "spec.behavior.scaleUp.policies[0].periodSeconds"]);
  });

  it("wrong types are the schema's: a number as a string, a list as an object", () => {
    expectCause(causesOf(HPA, hpa({ maxReplicas: "5" })), "spec.maxReplicas", "FieldValueInvalid", /must be a number, got string/);
    expectCause(causesOf(HPA, hpa({ metrics: { type: "Resource" } })), "spec.metrics", "FieldValueInvalid", /must be an array/);
    expectCause(causesOf(HPA, hpa({ minReplicas: 1.5 })), "spec.minReplicas", "FieldValueInvalid", /integer/);
  });

  it("the name is a DNS subdomain, the apiVersion autoscaling/v2; every problem is reported at once", () => {
    expectCause(causesOf(HPA, { ...hpa(), metadata: { name: "Web_1" } }), "metadata.name", "FieldValueInvalid");
    expectCause(causesOf(HPA, { ...hpa(), apiVersion: "autoscaling/v1" }), "apiVersion", "FieldValueNotSupported");
    const all = causesOf(HPA, hpa({ minReplicas: 0, maxReplicas: 0, metrics: [{ type: "Pods" }], behavior: { scaleUp: { selectPolicy: "Any" } } }));
    expect(all.map((c) => c.field)).toEqual(["spec.minReplicas", "spec.maxReplicas", "spec.metrics[0].type", "spec.behavior.scaleUp.selectPolicy"]);
  });
});

describe("horizontalpodautoscalers - defaults (SetDefaults_HorizontalPodAutoscaler)", () => {
  const defaulted = (spec: Record<string, unknown>) => applyDefaults(HPA, validate(HPA, hpa(spec))).spec;

  it("minReplicas 1 and cpu at 80% of the requests when not given; no behavior given stays none", () => {
    const spec = defaulted({ minReplicas: undefined });
    expect(spec).toEqual({ scaleTargetRef: TARGET, minReplicas: 1, maxReplicas: 5, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }] });
    expect(spec).not.toHaveProperty("behavior");
    // An empty list is as none.
    expect(defaulted({ metrics: [] }).metrics).toEqual(spec.metrics);
    // Given metrics and bounds are kept as they are.
    expect(defaulted({ minReplicas: 2, metrics: [CPU_50] })).toMatchObject({ minReplicas: 2, metrics: [CPU_50] });
  });

  it("a behavior given is completed in both directions: scale up 0 s, Max, 4 pods or 100% per 15 s; scale down Max, 100% per 15 s and no window (the controller's 300 s applies)", () => {
    expect(defaulted({ behavior: {} }).behavior).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }, { type: "Percent", value: 100, periodSeconds: 15 }] },
      scaleDown: { selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
    });
  });

  it("only the parts not given are filled in: a given window, policy choice or policy list is kept whole", () => {
    const b = defaulted({ behavior: { scaleDown: { stabilizationWindowSeconds: 60 }, scaleUp: { selectPolicy: "Disabled", policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] } } }).behavior;
    expect(b).toEqual({
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Disabled", policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
    });
    // The defaults themselves are never shared with (or changed through) an object.
    const filled = scalingRulesWithDefaults(undefined, DEFAULT_SCALE_UP);
    filled.policies![0].value = 99;
    expect(DEFAULT_SCALE_UP.policies![0].value).toBe(4);
    expect(scalingRulesWithDefaults({}, DEFAULT_SCALE_DOWN)).not.toHaveProperty("stabilizationWindowSeconds");
  });

  it("defaulting is idempotent: a stored HPA defaulted again is unchanged (an update of the same spec keeps the generation)", () => {
    const once = applyDefaults(HPA, validate(HPA, hpa({ behavior: { scaleUp: {} } })));
    expect(applyDefaults(HPA, validate(HPA, once))).toEqual(once);
  });
});

describe("horizontalpodautoscalers - status (ValidateHorizontalPodAutoscalerStatusUpdate)", () => {
  const status = (extra: Record<string, unknown> = {}) => ({
    observedGeneration: 2,
    lastScaleTime: "2026-12-04T10:00:00Z",
    currentReplicas: 3,
    desiredReplicas: 4,
    currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 90, averageValue: "45m" } } }],
    conditions: [{ type: "AbleToScale", status: "True", reason: "SucceededRescale", message: "the HPA controller was able to update the target scale to 4", lastTransitionTime: "2026-12-04T10:00:00Z" }],
    ...extra,
  });

  it("what the autoscaler writes is accepted, by a status write and by a whole-object write alike", () => {
    expect(causesOf(HPA, hpa({}, { status: status() }), validateStatus)).toEqual([]);
    expect(causesOf(HPA, hpa({}, { status: status() }))).toEqual([]);
  });

  it("a status write does not judge the spec it carries (the stored one is kept)", () => {
    expect(causesOf(HPA, hpa({ maxReplicas: 0 }, { status: status() }), validateStatus)).toEqual([]);
  });

  it("the replica counts are non-negative; times are RFC 3339; current values are quantities", () => {
    for (const f of ["currentReplicas", "desiredReplicas"]) {
      expectCause(causesOf(HPA, hpa({}, { status: status({ [f]: -1 }) }), validateStatus), `status.${f}`, "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    }
    expectCause(causesOf(HPA, hpa({}, { status: status({ lastScaleTime: "noon" }) }), validateStatus), "status.lastScaleTime", "FieldValueInvalid", /RFC 3339/);
    expectCause(causesOf(HPA, hpa({}, { status: status({ currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageValue: "much" } } }] }) }), validateStatus), "status.currentMetrics[0].resource.current.averageValue", "FieldValueInvalid");
  });
});

describe("horizontalpodautoscalers - the rest of the API", () => {
  const stored = (): HorizontalPodAutoscaler => ({ ...validate(HPA, hpa()), metadata: { name: "web", namespace: "prod" } });

  it("field selectors: metadata.name and metadata.namespace, as for the other namespaced kinds", () => {
    expect(FIELD_LABELS.horizontalpodautoscalers).toEqual(["metadata.name", "metadata.namespace"]);
    expect(matchesFields(parseFieldSelector("metadata.name=web", HPA), stored())).toBe(true);
    expect(matchesFields(parseFieldSelector("metadata.namespace!=prod", HPA), stored())).toBe(false);
    expect(() => parseFieldSelector("spec.maxReplicas=5", HPA)).toThrow(/spec\.maxReplicas/);
  });

  it("quota: count/horizontalpodautoscalers.autoscaling (or bare) counts HPAs, one each", () => {
    expect(countedResource("count/horizontalpodautoscalers.autoscaling")).toBe(HPA);
    expect(countedResource("count/horizontalpodautoscalers")).toBe(HPA);
    expect(countedResource("count/horizontalpodautoscalers.apps")).toBeUndefined();
    expect(isQuotaName("count/horizontalpodautoscalers.autoscaling")).toBe(true);
    expect(resourcesFor(["count/horizontalpodautoscalers.autoscaling"])).toEqual([HPA]);
    expect(usageOf(HPA, stored(), ["count/horizontalpodautoscalers.autoscaling", "pods"])).toEqual({ "count/horizontalpodautoscalers.autoscaling": 1, pods: 0 });
  });

  it("strict field validation knows every field of the kind, and names a typo", () => {
    const full = hpa({
      metrics: [CPU_50, { type: "ContainerResource", containerResource: { name: "memory", container: "app", target: { type: "AverageValue", averageValue: "64Mi" } } }],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: "Max", policies: [{ type: "Pods", value: 4, periodSeconds: 15 }] }, scaleDown: { selectPolicy: "Min", policies: [{ type: "Percent", value: 10, periodSeconds: 60 }] } },
    }, {
      status: {
        observedGeneration: 1, lastScaleTime: "2026-12-04T10:00:00Z", currentReplicas: 1, desiredReplicas: 1,
        currentMetrics: [{ type: "Resource", resource: { name: "cpu", current: { averageUtilization: 10, averageValue: "5m" } } }, { type: "ContainerResource", containerResource: { name: "memory", container: "app", current: { averageValue: "10Mi" } } }],
        conditions: [{ type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "ok", lastTransitionTime: "2026-12-04T10:00:00Z" }],
      },
    });
    expect(unknownFields("HorizontalPodAutoscaler", full)).toEqual([]);
    expect(unknownFields("HorizontalPodAutoscaler", hpa({ maxReplica: 2 }))).toEqual(["spec.maxReplica"]);
    expect(unknownFields("HorizontalPodAutoscaler", hpa({ metrics: [{ ...CPU_50, resource: { ...CPU_50.resource, targetAverageUtilization: 5 } }] }))).toEqual(["spec.metrics[0].resource.targetAverageUtilization"]);
    // A custom metric source is no unknown field: validation says why it is refused.
    expect(unknownFields("HorizontalPodAutoscaler", withMetric({ type: "Pods", pods: { metric: { name: "qps" }, target: { type: "AverageValue", averageValue: "1" } } }))).toEqual([]);
  });
});
