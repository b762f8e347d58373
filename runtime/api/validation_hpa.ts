/**
 * The rules of an autoscaling/v2 HorizontalPodAutoscaler's spec, in the order and words of
 * kube-apiserver's ValidateHorizontalPodAutoscaler (pkg/apis/autoscaling/validation), on the raw
 * input (read defensively: the schema pass reports wrong types). An absent number is read as
 * Go's zero value, as kube-apiserver sees it (no maxReplicas is `Invalid value: 0`).
 *
 * Where Berth is narrower than Kubernetes it says so rather than accept what it cannot do:
 *   - it has resource metrics only (metrics.k8s.io, cpu and memory): metric types Pods, Object and
 *     External need a custom or external metrics API, and are refused;
 *   - a target's type must match the field it sets (Utilization → averageUtilization,
 *     AverageValue → averageValue), and a resource metric's type is never Value (Kubernetes
 *     accepts these and then goes by which field is set).
 */
import { parseQuantity, isQuantity } from "../../model/quantity.ts";
import type { StatusCause } from "../../model/types.ts";
import { CAUSE, DNS1123_LABEL_MESSAGE, isDns1123Label, pathSegmentProblems, type Obj, obj, Causes } from "./validation_util.ts";


const str = (v: unknown): string => (typeof v === "string" ? v : "");
/** A number as Go reads it: absent is 0; a wrong type is the schema's to report (undefined: no rule applies). */
const num = (v: unknown): number | undefined => (v === undefined ? 0 : typeof v === "number" ? v : undefined);

/** Kubernetes' MaxStabilizationWindowSeconds and MaxPeriodSeconds. */
const MAX_STABILIZATION_WINDOW_SECONDS = 3600;
const MAX_PERIOD_SECONDS = 1800;

/** The metric types Kubernetes knows, sorted as its refusals list them, and the ones Berth serves. */
const KUBE_METRIC_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"];
const BERTH_METRIC_TYPES = ["ContainerResource", "Resource"];
/** The source field of each metric type, in the order Kubernetes looks at them. */
const SOURCE_OF: Record<string, string> = { Object: "object", External: "external", Pods: "pods", Resource: "resource", ContainerResource: "containerResource" };
/** The resources Berth measures (its node agents report cpu and memory use). */
const METRIC_RESOURCES = ["cpu", "memory"];

const quoted = (vs: readonly string[]) => vs.map((v) => `"${v}"`).join(", ");

/** Every problem of an HPA's spec (validate() runs this for `horizontalpodautoscalers`). */
export function hpaSpecProblems(rawSpec: unknown): StatusCause[] {
  const c = new Causes();
  // A struct in Go: an absent spec is the empty one.
  const spec = obj(rawSpec) ?? {};
  const min = spec.minReplicas === undefined ? undefined : num(spec.minReplicas);
  const max = num(spec.maxReplicas);
  if (min !== undefined && min < 1) c.add(CAUSE.invalid, "spec.minReplicas", min, "must be greater than or equal to 1");
  if (max !== undefined && max < 1) c.add(CAUSE.invalid, "spec.maxReplicas", max, "must be greater than 0");
  if (min !== undefined && max !== undefined && max < min) c.add(CAUSE.invalid, "spec.maxReplicas", max, "must be greater than or equal to `minReplicas`");
  crossVersionReference(c, obj(spec.scaleTargetRef) ?? {}, "spec.scaleTargetRef");
  if (Array.isArray(spec.metrics)) spec.metrics.forEach((m, i) => metricSpec(c, obj(m), `spec.metrics[${i}]`));
  const behavior = obj(spec.behavior);
  if (behavior) {
    for (const direction of ["scaleUp", "scaleDown"]) {
      const rules = obj(behavior[direction]);
      if (rules) scalingRules(c, rules, `spec.behavior.${direction}`);
    }
  }
  return c.list;
}

/** A kind and a name, each required and usable as a URL path segment (ValidateCrossVersionObjectReference). */
function crossVersionReference(c: Causes, ref: Obj, at: string): void {
  for (const field of ["kind", "name"]) {
    const v = str(ref[field]);
    if (v === "") c.add(CAUSE.required, `${at}.${field}`, undefined);
    else for (const why of pathSegmentProblems(v)) c.add(CAUSE.invalid, `${at}.${field}`, v, why);
  }
}

function metricSpec(c: Causes, m: Obj | undefined, at: string): void {
  if (!m) return;
  const type = str(m.type);
  if (type === "") {
    c.add(CAUSE.required, `${at}.type`, undefined, "must specify a metric source type");
    return;
  }
  if (!KUBE_METRIC_TYPES.includes(type)) {
    c.add(CAUSE.notSupported, `${at}.type`, type, `supported values: ${quoted(BERTH_METRIC_TYPES)}`);
    return;
  }
  if (!BERTH_METRIC_TYPES.includes(type)) {
    c.add(CAUSE.notSupported, `${at}.type`, type, `Berth has no custom or external metrics API: only the metric types ${quoted(BERTH_METRIC_TYPES)} are supported`);
    return;
  }
  const expected = SOURCE_OF[type];
  const present = Object.values(SOURCE_OF).filter((f) => m[f] !== undefined);
  if (m[expected] === undefined) c.add(CAUSE.required, `${at}.${expected}`, undefined, "must populate information for the given metric source");
  if (present.length !== 1) {
    for (const f of present) if (f !== expected) c.add(CAUSE.forbidden, `${at}.${f}`, undefined, "must populate the given metric source only");
  }
  const source = obj(m[expected]);
  if (source) resourceSource(c, source, `${at}.${expected}`, type === "ContainerResource");
}

/** A Resource or ContainerResource source (validateResourceSource, validateContainerResourceSource). */
function resourceSource(c: Causes, src: Obj, at: string, perContainer: boolean): void {
  const name = str(src.name);
  if (name === "") c.add(CAUSE.required, `${at}.name`, undefined, "must specify a resource name");
  else if (!METRIC_RESOURCES.includes(name)) c.add(CAUSE.notSupported, `${at}.name`, name, `supported values: ${quoted(METRIC_RESOURCES)} (Berth has metrics for cpu and memory only)`);
  if (perContainer) {
    const container = str(src.container);
    if (container === "") c.add(CAUSE.required, `${at}.container`, undefined, "must specify a container");
    else if (container.length > 63) c.add(CAUSE.invalid, `${at}.container`, container, "must be no more than 63 characters");
    else if (!isDns1123Label(container)) c.add(CAUSE.invalid, `${at}.container`, container, DNS1123_LABEL_MESSAGE);
  }
  const target = obj(src.target) ?? {};
  metricTarget(c, target, `${at}.target`);
  const { averageUtilization, averageValue } = target;
  if (averageUtilization === undefined && averageValue === undefined) {
    c.add(CAUSE.required, `${at}.target.averageUtilization`, undefined, "must set either a target raw value or a target utilization");
  }
  if (averageUtilization !== undefined && averageValue !== undefined) {
    c.add(CAUSE.forbidden, `${at}.target.averageValue`, undefined, "may not set both a target raw value and a target utilization");
  }
  // Berth's own: a resource metric is a per-pod average, in the form its type names.
  const type = str(target.type);
  if (type === "Value") c.add(CAUSE.invalid, `${at}.target.type`, type, "must be either Utilization or AverageValue");
  if (type === "Utilization" && averageUtilization === undefined && averageValue !== undefined) {
    c.add(CAUSE.required, `${at}.target.averageUtilization`, undefined, "must be set for target type Utilization");
  }
  if (type === "AverageValue" && averageValue === undefined && averageUtilization !== undefined) {
    c.add(CAUSE.required, `${at}.target.averageValue`, undefined, "must be set for target type AverageValue");
  }
}

/** validateMetricTarget: a known type, positive quantities, a utilization of at least 1 %. */
function metricTarget(c: Causes, t: Obj, at: string): void {
  const type = str(t.type);
  if (type === "") c.add(CAUSE.required, `${at}.type`, undefined, "must specify a metric target type");
  if (!["Utilization", "Value", "AverageValue"].includes(type)) c.add(CAUSE.invalid, `${at}.type`, type, "must be either Utilization, Value, or AverageValue");
  for (const field of ["value", "averageValue"]) {
    const q = t[field];
    if ((typeof q === "string" || typeof q === "number") && isQuantity(q) && parseQuantity(q) <= 0) c.add(CAUSE.invalid, `${at}.${field}`, q, "must be positive");
  }
  const u = t.averageUtilization;
  if (typeof u === "number" && u < 1) c.add(CAUSE.invalid, `${at}.averageUtilization`, u, "must be greater than 0");
}

/** One direction's scaling rules (validateScalingRules, validateScalingPolicy). */
function scalingRules(c: Causes, rules: Obj, at: string): void {
  const window = rules.stabilizationWindowSeconds;
  if (typeof window === "number" && window < 0) c.add(CAUSE.invalid, `${at}.stabilizationWindowSeconds`, window, "must be greater than or equal to zero");
  if (typeof window === "number" && window > MAX_STABILIZATION_WINDOW_SECONDS) {
    c.add(CAUSE.invalid, `${at}.stabilizationWindowSeconds`, window, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`);
  }
  const select = rules.selectPolicy;
  if (typeof select === "string" && !["Disabled", "Max", "Min"].includes(select)) {
    c.add(CAUSE.notSupported, `${at}.selectPolicy`, select, `supported values: ${quoted(["Disabled", "Max", "Min"])}`);
  }
  // Absent, the defaults fill the policies in; given empty, they stay empty.
  if (!Array.isArray(rules.policies)) return;
  if (rules.policies.length === 0) c.add(CAUSE.required, `${at}.policies`, undefined, "must specify at least one Policy");
  rules.policies.forEach((raw, i) => {
    const p = obj(raw) ?? {};
    const path = `${at}.policies[${i}]`;
    const type = str(p.type);
    if (type !== "Pods" && type !== "Percent") c.add(CAUSE.notSupported, `${path}.type`, type, `supported values: ${quoted(["Percent", "Pods"])}`);
    const value = num(p.value);
    if (value !== undefined && value <= 0) c.add(CAUSE.invalid, `${path}.value`, value, "must be greater than zero");
    const period = num(p.periodSeconds);
    if (period !== undefined && period <= 0) c.add(CAUSE.invalid, `${path}.periodSeconds`, period, "must be greater than zero");
    if (period !== undefined && period > MAX_PERIOD_SECONDS) c.add(CAUSE.invalid, `${path}.periodSeconds`, period, `must be less than or equal to ${MAX_PERIOD_SECONDS}`);
  });
}
