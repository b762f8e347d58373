/**
 * The horizontal pod autoscaler's decisions, pure (after kube-controller-manager's
 * podautoscaler: horizontal.go and replica_calculator.go). One call per HorizontalPodAutoscaler
 * per sync: its target's scale, the pods the scale's selector picks, their resource usage, and
 * the autoscaler's memory of its recent recommendations and scale changes, in; the replicas
 * wanted, the status, the Events and the memory, out.
 *
 *   scale.spec.replicas 0 (and minReplicas > 0) ──▶ ScalingDisabled, nothing done
 *   above maxReplicas / below minReplicas ──────▶ clamped to the bound
 *   otherwise, each metric ──▶ replicas (usage / target × pods counted, tolerance 10 %:
 *        Pending, unready-at-start and unmeasured pods are filled in against the move, deleting
 *        and Failed pods ignored) ──▶ the highest ──▶ stabilized (scale-down: the highest
 *        recommendation of the window, 300 s by default) ──▶ rate-limited by the behavior's
 *        policies (Pods / Percent per period) and min/max ──▶ desired
 *
 * Metrics: `Resource` and `ContainerResource` (cpu, memory), from the node agents' usage
 * reports (metrics.k8s.io); targets `Utilization` (percent of the pods' requests) and
 * `AverageValue`. Units: milli (millicores for cpu, thousandths of a byte for memory), as
 * Kubernetes' metrics client gives them, so both resources share the arithmetic.
 */
import { setCondition } from "../model/conditions.ts";
import { DEFAULT_HPA_METRIC, DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, DOWNSCALE_STABILIZATION_SECONDS, scalingRulesWithDefaults } from "../model/hpa.ts";
import { parseBytes, parseCpuMillis } from "../model/quantity.ts";
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerStatus,
  HPAScalingRules,
  MetricSpec,
  MetricStatus,
  MetricValueStatus,
  Pod,
} from "../model/types.ts";
import type { UsageReport } from "../model/usage.ts";

/** Usage ratios within 10 % of 1 change nothing (`--horizontal-pod-autoscaler-tolerance`). */
export const TOLERANCE = 0.1;
/** A pod's cpu is not trusted for this long after it starts unless it was Ready a window ago (`--horizontal-pod-autoscaler-cpu-initialization-period`). */
export const CPU_INITIALIZATION_MS = 5 * 60_000;
/** A pod that turned unready this soon after starting never was ready (`--horizontal-pod-autoscaler-initial-readiness-delay`). */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** A recommendation or a scale change the autoscaler remembers (kept in memory, as Kubernetes does). */
export interface Timestamped {
  at: number;
  value: number;
}

export interface HpaMemory {
  /** Unstabilized recommendations, newest last. */
  recommendations: Timestamped[];
  /** Replicas added by each scale-up (`value`), and removed by each scale-down. */
  scaleUps: Timestamped[];
  scaleDowns: Timestamped[];
}

/** A pod's measured usage: milli-units per container, and when and over how long it was measured. */
export interface PodUsageSample {
  containers: Map<string, { cpu: number; memory: number }>;
  /** End of the measuring window, ms. */
  at: number;
  windowMs: number;
}

/** The newest usage of every pod the reports name, by `namespace/name`. */
export function usageByPod(reports: UsageReport[]): Map<string, PodUsageSample> {
  const out = new Map<string, PodUsageSample>();
  for (const r of reports) {
    const at = Date.parse(r.timestamp);
    for (const p of r.pods) {
      const containers = new Map<string, { cpu: number; memory: number }>();
      for (const c of p.containers) containers.set(c.name, { cpu: Math.ceil(c.cpuNanoCores / 1e6), memory: c.memoryBytes * 1000 });
      out.set(`${p.namespace}/${p.name}`, { containers, at, windowMs: r.windowSeconds * 1000 });
    }
  }
  return out;
}

export interface HpaInput {
  hpa: HorizontalPodAutoscaler;
  /** The target's `spec.replicas` (its scale). */
  currentReplicas: number;
  /** The pods the scale's selector picks, in the autoscaler's namespace. */
  pods: Pod[];
  usage: (pod: Pod) => PodUsageSample | undefined;
  memory: HpaMemory | undefined;
  now: number;
}

export interface HpaEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface HpaDecision {
  /** The autoscaler has a behavior: its scale changes count against the policies' rates. */
  withBehavior: boolean;
  /** Replicas to set on the target, when they change. */
  rescale?: { replicas: number; reason: string };
  status: HorizontalPodAutoscalerStatus;
  events: HpaEvent[];
  memory: HpaMemory;
}

class MetricError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

type Resource = "cpu" | "memory";

/** A metric's kind name in messages: "cpu resource utilization (percentage of request)". */
function metricName(m: MetricSpec): string {
  const src = m.type === "ContainerResource" ? m.containerResource! : m.resource!;
  const what = `${src.name} resource`;
  return src.target.type === "Utilization" ? `${what} utilization (percentage of request)` : what;
}

/** Requests per pod in milli-units (one container's, or the pod's app containers' sum). */
function podRequest(pod: Pod, resource: Resource, container: string | undefined): number {
  if (container !== undefined && !pod.spec.containers.some((c) => c.name === container)) {
    throw new MetricError("FailedGetContainerResourceMetric", `container ${container} not found in Pod ${pod.metadata.name}`);
  }
  let total = 0;
  for (const c of pod.spec.containers) {
    if (container !== undefined && c.name !== container) continue;
    const req = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
    if (req === undefined) throw new MetricError("FailedGetResourceMetric", `missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
    total += resource === "cpu" ? parseCpuMillis(req) : parseBytes(req) * 1000;
  }
  return total;
}

function podMetric(sample: PodUsageSample, resource: Resource, container: string | undefined): number | undefined {
  if (container !== undefined) return sample.containers.get(container)?.[resource];
  let total = 0;
  for (const c of sample.containers.values()) total += c[resource];
  return total;
}

interface Grouped {
  metrics: Map<string, number>;
  /** Some pod had a sample (then an empty `metrics` means they were all unready). */
  sampled: boolean;
  ready: number;
  unready: Set<string>;
  missing: Set<string>;
  requests: Map<string, number>;
}

/**
 * Splits the pods as Kubernetes' groupPods: deleting and Failed ones ignored; Pending ones
 * unready; ones without a sample missing; for cpu, ones that are not Ready, or still starting
 * and not measured a whole window since they turned Ready, unready.
 */
function groupPods(pods: Pod[], usage: HpaInput["usage"], resource: Resource, container: string | undefined, now: number, withRequests: boolean): Grouped {
  const g: Grouped = { metrics: new Map(), sampled: false, ready: 0, unready: new Set(), missing: new Set(), requests: new Map() };
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp || pod.status?.phase === "Failed") continue;
    if (withRequests) g.requests.set(pod.metadata.name, podRequest(pod, resource, container));
    if ((pod.status?.phase ?? "Pending") === "Pending") {
      g.unready.add(pod.metadata.name);
      continue;
    }
    const sample = usage(pod);
    const value = sample && podMetric(sample, resource, container);
    if (!sample || value === undefined) {
      g.missing.add(pod.metadata.name);
      continue;
    }
    g.sampled = true;
    if (resource === "cpu") {
      const ready = pod.status?.conditions?.find((c) => c.type === "Ready");
      const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
      let unready: boolean;
      if (!ready || started === undefined) unready = true;
      else {
        const changed = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : started;
        if (started + CPU_INITIALIZATION_MS > now) unready = ready.status === "False" || sample.at < changed + sample.windowMs;
        else unready = ready.status === "False" && started + INITIAL_READINESS_DELAY_MS > changed;
      }
      if (unready) {
        g.unready.add(pod.metadata.name);
        continue;
      }
    }
    g.metrics.set(pod.metadata.name, value);
    g.ready++;
  }
  return g;
}

interface MetricResult {
  replicas: number;
  status: MetricStatus;
}

/** |1 − ratio| ≤ tolerance, with slack for floating point (1.1 is within, as in Kubernetes). */
function withinTolerance(ratio: number): boolean {
  return Math.abs(1 - ratio) <= TOLERANCE + 1e-9;
}

function sum(values: Iterable<number>): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** Replicas for one Resource or ContainerResource metric (GetResourceReplicas / GetRawResourceReplicas). */
function resourceReplicas(m: MetricSpec, input: HpaInput): MetricResult {
  const src = m.type === "ContainerResource" ? m.containerResource! : m.resource!;
  const resource = src.name as Resource;
  const container = m.type === "ContainerResource" ? m.containerResource!.container : undefined;
  const byUtilization = src.target.type === "Utilization";
  const current = input.currentReplicas;
  const g = groupPods(input.pods, input.usage, resource, container, input.now, byUtilization);
  if (input.pods.length === 0) throw new MetricError("FailedGetResourceMetric", "no pods returned by selector while calculating replica count");
  if (g.metrics.size === 0) {
    throw new MetricError("FailedGetResourceMetric", g.sampled
      ? "did not receive metrics for targeted pods (pods might be unready)"
      : `unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
  }
  const metrics = new Map(g.metrics);
  /** usage ÷ target, over the pods in `ms`. */
  const ratioOf = (ms: Map<string, number>): number => {
    if (byUtilization) {
      let used = 0;
      let requested = 0;
      for (const [name, v] of ms) {
        used += v;
        requested += g.requests.get(name) ?? 0;
      }
      return requested === 0 ? 0 : Math.trunc((used * 100) / requested) / src.target.averageUtilization!;
    }
    const target = resource === "cpu" ? parseCpuMillis(src.target.averageValue!) : parseBytes(src.target.averageValue!) * 1000;
    // Kubernetes' GetMetricUsageRatio: the average, truncated to a whole milli-unit, over the target.
    return Math.trunc(sum(ms.values()) / ms.size) / target;
  };
  const usedTotal = sum(metrics.values());
  const rawAverage = Math.trunc(usedTotal / metrics.size);
  let utilization: number | undefined;
  if (byUtilization) {
    let requested = 0;
    for (const name of metrics.keys()) requested += g.requests.get(name) ?? 0;
    if (requested === 0) throw new MetricError("FailedGetResourceMetric", `no ${resource} requests for the pods measured`);
    utilization = Math.trunc((usedTotal * 100) / requested);
  }
  const status: MetricStatus = m.type === "ContainerResource"
    ? { type: "ContainerResource", containerResource: { name: resource, container: container!, current: currentValue(rawAverage, utilization) } }
    : { type: "Resource", resource: { name: resource, current: currentValue(rawAverage, utilization) } };

  const ratio = ratioOf(metrics);
  const scaleUpWithUnready = g.unready.size > 0 && ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (withinTolerance(ratio)) return { replicas: current, status };
    return { replicas: Math.ceil(ratio * g.ready), status };
  }
  // Fill in the pods not counted, against the direction of the move: missing ones at 100 % of
  // their request (or the target, above 100 %) on a scale-down and 0 on a scale-up; unready ones 0.
  if (g.missing.size > 0) {
    for (const name of g.missing) {
      if (ratio < 1) {
        metrics.set(name, byUtilization
          ? Math.trunc(((g.requests.get(name) ?? 0) * Math.max(100, src.target.averageUtilization!)) / 100)
          : (resource === "cpu" ? parseCpuMillis(src.target.averageValue!) : parseBytes(src.target.averageValue!) * 1000));
      } else if (ratio > 1) metrics.set(name, 0);
    }
  }
  if (scaleUpWithUnready) for (const name of g.unready) metrics.set(name, 0);
  const next = ratioOf(metrics);
  if (withinTolerance(next) || (ratio < 1 && next > 1) || (ratio > 1 && next < 1)) return { replicas: current, status };
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1 && replicas > current) || (next > 1 && replicas < current)) return { replicas: current, status };
  return { replicas, status };
}

function currentValue(rawAverageMilli: number, utilization: number | undefined): MetricValueStatus {
  return { ...(utilization !== undefined ? { averageUtilization: utilization } : {}), averageValue: formatMilli(rawAverageMilli) };
}

/** A milli-value as Kubernetes prints a DecimalSI quantity: "250m", "2", "12M". */
export function formatMilli(milli: number): string {
  const m = Math.round(milli);
  if (m % 1000 !== 0) return `${m}m`;
  let v = m / 1000;
  if (v === 0) return "0";
  for (const suffix of ["", "k", "M", "G", "T", "P", "E"]) {
    if (suffix === "E" || v % 1000 !== 0) return `${v}${suffix}`;
    v /= 1000;
  }
  return String(v);
}

/**
 * The generation the status was computed from (HorizontalPodAutoscalerStatus.observedGeneration),
 * so a reader can tell a status that already reflects a spec change from one that does not yet.
 */
function observed(hpa: HorizontalPodAutoscaler): Pick<HorizontalPodAutoscalerStatus, "observedGeneration"> {
  return hpa.metadata.generation !== undefined ? { observedGeneration: hpa.metadata.generation } : {};
}

/** Replicas added (or removed) within the last `periodSeconds`. */
function changedWithin(events: Timestamped[], periodSeconds: number, now: number): number {
  let n = 0;
  for (const e of events) if (e.at > now - periodSeconds * 1000) n += e.value;
  return n;
}

/** One direction's rules, each unset part from kube's defaults (the scale-down window from the controller's flag). */
function rules(r: HPAScalingRules | undefined, d: Readonly<HPAScalingRules>): Required<HPAScalingRules> {
  const full = scalingRulesWithDefaults(r, d);
  return { stabilizationWindowSeconds: full.stabilizationWindowSeconds ?? DOWNSCALE_STABILIZATION_SECONDS, selectPolicy: full.selectPolicy ?? "Max", policies: full.policies ?? [] };
}

/** The most replicas the scale-up policies allow now (calculateScaleUpLimitWithScalingRules). */
function scaleUpLimit(current: number, mem: HpaMemory, r: Required<HPAScalingRules>, now: number): number {
  if (r.selectPolicy === "Disabled") return current;
  let result = r.selectPolicy === "Min" ? Infinity : -Infinity;
  for (const p of r.policies) {
    const start = current - changedWithin(mem.scaleUps, p.periodSeconds, now) + changedWithin(mem.scaleDowns, p.periodSeconds, now);
    const proposed = p.type === "Pods" ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = r.selectPolicy === "Min" ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** The fewest replicas the scale-down policies allow now (calculateScaleDownLimitWithBehaviors). */
function scaleDownLimit(current: number, mem: HpaMemory, r: Required<HPAScalingRules>, now: number): number {
  if (r.selectPolicy === "Disabled") return current;
  let result = r.selectPolicy === "Min" ? -Infinity : Infinity;
  for (const p of r.policies) {
    const start = current - changedWithin(mem.scaleUps, p.periodSeconds, now) + changedWithin(mem.scaleDowns, p.periodSeconds, now);
    const proposed = p.type === "Pods" ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = r.selectPolicy === "Min" ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

/** Decides one sync of one autoscaler. */
export function decideHpa(input: HpaInput): HpaDecision {
  const { hpa, currentReplicas: current, now } = input;
  const nowIso = new Date(now).toISOString();
  const min = hpa.spec.minReplicas ?? 1;
  const max = hpa.spec.maxReplicas;
  // Without a behavior Kubernetes takes its older path (normalizeDesiredReplicas): a 300 s
  // scale-down window, scale-ups capped at max(2 × current, 4), no memory of past scale changes.
  const withBehavior = hpa.spec.behavior !== undefined;
  const up = rules(hpa.spec.behavior?.scaleUp, DEFAULT_SCALE_UP);
  const down = rules(hpa.spec.behavior?.scaleDown, DEFAULT_SCALE_DOWN);
  const longest = withBehavior
    ? Math.max(up.stabilizationWindowSeconds, down.stabilizationWindowSeconds, ...up.policies.map((p) => p.periodSeconds), ...down.policies.map((p) => p.periodSeconds))
    : DOWNSCALE_STABILIZATION_SECONDS;
  // With a behavior, a new autoscaler (or a restarted controller) remembers the current size as a
  // recommendation, so it does not scale down before a whole window has been seen
  // (maybeInitScaleDownStabilizationWindow); the older path starts with none.
  const memory: HpaMemory = input.memory
    ? {
      recommendations: input.memory.recommendations.filter((r) => r.at > now - longest * 1000),
      scaleUps: input.memory.scaleUps.filter((e) => e.at > now - longest * 1000),
      scaleDowns: input.memory.scaleDowns.filter((e) => e.at > now - longest * 1000),
    }
    : { recommendations: withBehavior && down.stabilizationWindowSeconds > 0 ? [{ at: now, value: current }] : [], scaleUps: [], scaleDowns: [] };
  let conditions = setCondition(hpa.status?.conditions, { type: "AbleToScale", status: "True", reason: "SucceededGetScale", message: "the HPA controller was able to get the target's current scale" }, nowIso);
  const events: HpaEvent[] = [];
  const metricsSpec = hpa.spec.metrics?.length ? hpa.spec.metrics : [DEFAULT_HPA_METRIC];
  let currentMetrics: MetricStatus[] | undefined;
  let desired = current;
  let reason = "";
  let rescale = true;

  if (current === 0 && min !== 0) {
    desired = 0;
    rescale = false;
    conditions = setCondition(conditions, { type: "ScalingActive", status: "False", reason: "ScalingDisabled", message: "scaling is disabled since the replica count of the target is zero" }, nowIso);
  } else if (current > max) {
    desired = max;
    reason = "Current number of replicas above Spec.MaxReplicas";
  } else if (current < min) {
    desired = min;
    reason = "Current number of replicas below Spec.MinReplicas";
  } else {
    // Every metric's replicas; the highest wins. A metric that fails counts for nothing, unless
    // all fail or the others would scale down (then nothing is done: it may be the one high).
    let best = -1;
    let bestName = "";
    const statuses: MetricStatus[] = [];
    let firstError: MetricError | undefined;
    let invalid = 0;
    for (const m of metricsSpec) {
      try {
        if (m.type !== "Resource" && m.type !== "ContainerResource") throw new MetricError("FailedGetExternalMetric", `metric type ${m.type} needs a custom or external metrics API, which Berth has not`);
        const r = resourceReplicas(m, input);
        statuses.push(r.status);
        if (r.replicas > best) {
          best = r.replicas;
          bestName = metricName(m);
        }
      } catch (e) {
        if (!(e instanceof MetricError)) throw e;
        const src = m.type === "ContainerResource" ? m.containerResource : m.resource;
        invalid++;
        statuses.push({ type: m.type });
        const message = `failed to get ${src?.name ?? m.type} ${src?.target.type === "AverageValue" ? "usage" : "utilization"}: ${e.message}`;
        firstError ??= new MetricError(e.reason, message);
        events.push({ type: "Warning", reason: e.reason, message });
      }
    }
    currentMetrics = statuses;
    if (invalid >= metricsSpec.length || (invalid > 0 && best < current)) {
      const err = `invalid metrics (${invalid} invalid out of ${metricsSpec.length}), first error is: ${firstError!.message}`;
      conditions = setCondition(conditions, { type: "ScalingActive", status: "False", reason: firstError!.reason, message: `the HPA was unable to compute the replica count: ${firstError!.message}` }, nowIso);
      events.push({ type: "Warning", reason: "FailedComputeMetricsReplicas", message: err });
      return {
        withBehavior,
        status: { ...observed(hpa), currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, ...(hpa.status?.lastScaleTime ? { lastScaleTime: hpa.status.lastScaleTime } : {}), currentMetrics, conditions },
        events,
        memory,
      };
    }
    conditions = setCondition(conditions, { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: `the HPA was able to successfully calculate a replica count from ${bestName}` }, nowIso);
    const recommended = best;
    if (recommended > current) reason = `${bestName} above target`;
    else if (recommended < current) reason = "All metrics below target";

    if (!withBehavior) {
      // normalizeDesiredReplicas: the highest recommendation of the last 300 s, then
      // convertDesiredReplicasWithRules.
      let stabilized = recommended;
      for (const r of memory.recommendations) if (r.at > now - DOWNSCALE_STABILIZATION_SECONDS * 1000) stabilized = Math.max(stabilized, r.value);
      memory.recommendations.push({ at: now, value: recommended });
      if (stabilized !== recommended) conditions = setCondition(conditions, { type: "AbleToScale", status: "True", reason: "ScaleDownStabilized", message: "recent recommendations were higher than current one, applying the highest recent recommendation" }, nowIso);
      else conditions = setCondition(conditions, { type: "AbleToScale", status: "True", reason: "ReadyForNewScale", message: "recommended size matches current size" }, nowIso);
      const upLimit = Math.max(2 * current, 4);
      const [maxAllowed, upReason, upMessage] = max > upLimit
        ? [upLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"]
        : [max, "TooManyReplicas", "the desired replica count is more than the maximum replica count"];
      let limited = stabilized;
      let limitReason = "DesiredWithinRange";
      let limitMessage = "the desired count is within the acceptable range";
      if (stabilized < min) [limited, limitReason, limitMessage] = [min, "TooFewReplicas", "the desired replica count is less than the minimum replica count"];
      else if (stabilized > maxAllowed) [limited, limitReason, limitMessage] = [maxAllowed, upReason, upMessage];
      conditions = setCondition(conditions, { type: "ScalingLimited", status: limited === stabilized ? "False" : "True", reason: limitReason, message: limitMessage }, nowIso);
      desired = limited;
    } else {
      // Stabilize: the lowest recommendation of the scale-up window, the highest of the scale-down window.
      let upRec = recommended;
      let downRec = recommended;
      for (const r of memory.recommendations) {
        if (r.at > now - up.stabilizationWindowSeconds * 1000) upRec = Math.min(upRec, r.value);
        if (r.at > now - down.stabilizationWindowSeconds * 1000) downRec = Math.max(downRec, r.value);
      }
      let stabilized = current;
      if (stabilized < upRec) stabilized = upRec;
      if (stabilized > downRec) stabilized = downRec;
      memory.recommendations.push({ at: now, value: recommended });
      if (stabilized !== recommended) {
        const [why, message] = recommended >= current
          ? ["ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"]
          : ["ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"];
        conditions = setCondition(conditions, { type: "AbleToScale", status: "True", reason: why, message }, nowIso);
      } else {
        conditions = setCondition(conditions, { type: "AbleToScale", status: "True", reason: "ReadyForNewScale", message: "recommended size matches current size" }, nowIso);
      }

      // Rate limits and bounds.
      let limited = stabilized;
      let limitReason = "DesiredWithinRange";
      let limitMessage = "the desired count is within the acceptable range";
      if (stabilized > current) {
        const cap = Math.max(current, scaleUpLimit(current, memory, up, now));
        const allowed = Math.min(max, cap);
        const [r, msg] = max > cap
          ? ["ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"]
          : ["TooManyReplicas", "the desired replica count is more than the maximum replica count"];
        if (stabilized > allowed) [limited, limitReason, limitMessage] = [allowed, r, msg];
      } else if (stabilized < current) {
        const floor = Math.min(current, scaleDownLimit(current, memory, down, now));
        const allowed = Math.max(min, floor);
        const [r, msg] = min < floor
          ? ["ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"]
          : ["TooFewReplicas", "the desired replica count is less than the minimum replica count"];
        if (stabilized < allowed) [limited, limitReason, limitMessage] = [allowed, r, msg];
      }
      conditions = setCondition(conditions, { type: "ScalingLimited", status: limited === stabilized ? "False" : "True", reason: limitReason, message: limitMessage }, nowIso);
      desired = limited;
    }
    rescale = desired !== current;
  }

  const lastScaleTime = hpa.status?.lastScaleTime;
  return {
    withBehavior,
    ...(rescale ? { rescale: { replicas: desired, reason } } : {}),
    status: { ...observed(hpa), currentReplicas: current, desiredReplicas: desired, ...(lastScaleTime ? { lastScaleTime } : {}), ...(currentMetrics ? { currentMetrics } : {}), conditions },
    events,
    memory,
  };
}

/** The decision once the target's scale was written: SucceededRescale, SuccessfulRescale, the change remembered for the rate limits. */
export function rescaled(d: HpaDecision, current: number, now: number): HpaDecision {
  const r = d.rescale!;
  const nowIso = new Date(now).toISOString();
  const conditions = setCondition(d.status.conditions, { type: "AbleToScale", status: "True", reason: "SucceededRescale", message: `the HPA controller was able to update the target scale to ${r.replicas}` }, nowIso);
  const memory = { ...d.memory, scaleUps: [...d.memory.scaleUps], scaleDowns: [...d.memory.scaleDowns] };
  // storeScaleEvent: only an autoscaler with a behavior keeps them.
  if (d.withBehavior && r.replicas > current) memory.scaleUps.push({ at: now, value: r.replicas - current });
  else if (d.withBehavior) memory.scaleDowns.push({ at: now, value: current - r.replicas });
  return {
    ...d,
    status: { ...d.status, lastScaleTime: nowIso, conditions },
    events: [...d.events, { type: "Normal", reason: "SuccessfulRescale", message: `New size: ${r.replicas}; reason: ${r.reason}` }],
    memory,
  };
}

/**
 * The decision when writing the target's scale failed: FailedUpdateScale, FailedRescale; the
 * status takes the replicas and metrics seen, and keeps the desired count it had (setCurrentReplicasAndMetricsInStatus).
 */
export function rescaleFailed(d: HpaDecision, hpa: HorizontalPodAutoscaler, current: number, error: string, now: number): HpaDecision {
  const r = d.rescale!;
  const conditions = setCondition(d.status.conditions, { type: "AbleToScale", status: "False", reason: "FailedUpdateScale", message: `the HPA controller was unable to update the target scale: ${error}` }, new Date(now).toISOString());
  return {
    ...d,
    status: { ...d.status, currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? 0, conditions },
    events: [...d.events, { type: "Warning", reason: "FailedRescale", message: `New size: ${r.replicas}; reason: ${r.reason}; error: ${error}` }],
  };
}

/** The status of an autoscaler whose target's scale cannot be read (FailedGetScale). */
export function scaleUnreadable(hpa: HorizontalPodAutoscaler, error: string, now: number): { status: HorizontalPodAutoscalerStatus; events: HpaEvent[] } {
  const conditions = setCondition(hpa.status?.conditions, { type: "AbleToScale", status: "False", reason: "FailedGetScale", message: `the HPA controller was unable to get the target's current scale: ${error}` }, new Date(now).toISOString());
  return {
    status: { ...(hpa.status ?? { desiredReplicas: 0 }), ...observed(hpa), desiredReplicas: hpa.status?.desiredReplicas ?? 0, conditions },
    events: [{ type: "Warning", reason: "FailedGetScale", message: error }],
  };
}
