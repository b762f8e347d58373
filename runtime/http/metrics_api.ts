/**
 * The resource metrics API, `metrics.k8s.io/v1beta1` (what metrics-server serves and
 * `kubectl top` reads): NodeMetrics and PodMetrics from the usage node agents report
 * (runtime/metrics/usage_store.ts). Read-only: get and list.
 *
 *   /apis/metrics.k8s.io                                         APIGroup
 *   /apis/metrics.k8s.io/v1beta1                                 APIResourceList
 *   /apis/metrics.k8s.io/v1beta1/nodes[/{name}]                  NodeMetrics(List)
 *   /apis/metrics.k8s.io/v1beta1/pods                            PodMetricsList, all namespaces
 *   /apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods[/{name}]   PodMetrics(List)
 *
 * The parse is pure; routes.ts and discovery.ts call in here (one line each).
 */
import { ApiError } from "../../model/errors.ts";
import { matchesLabels, parseLabelSelector, type LabelSelector } from "../../model/selector.ts";
import { cpuQuantity, memoryQuantity, type UsageReport } from "../../model/usage.ts";

export const METRICS_GROUP = "metrics.k8s.io";
export const METRICS_VERSION = "v1beta1";
const GV = `${METRICS_GROUP}/${METRICS_VERSION}`;

export type MetricsApiRoute =
  | { type: "metricsApi"; doc: "group" | "resources" }
  | { type: "metricsApi"; doc: "nodes"; name?: string }
  | { type: "metricsApi"; doc: "pods"; namespace?: string; name?: string };

/** The route of a path under `/apis/metrics.k8s.io`, `{ type: "notFound" }` for other paths below it, or null when the path is not in this group. */
export function parseMetricsApiRoute(segs: string[]): MetricsApiRoute | { type: "notFound" } | null {
  if (segs[0] !== "apis" || segs[1] !== METRICS_GROUP) return null;
  const rest = segs.slice(2);
  if (rest.length === 0) return { type: "metricsApi", doc: "group" };
  if (rest[0] !== METRICS_VERSION) return { type: "notFound" };
  const [, a, b, c, d, ...more] = rest;
  if (a === undefined) return { type: "metricsApi", doc: "resources" };
  if (a === "nodes" && c === undefined) return { type: "metricsApi", doc: "nodes", ...(b !== undefined ? { name: b } : {}) };
  if (a === "pods" && b === undefined) return { type: "metricsApi", doc: "pods" };
  if (a === "namespaces" && b !== undefined && c === "pods" && more.length === 0) return { type: "metricsApi", doc: "pods", namespace: b, ...(d !== undefined ? { name: d } : {}) };
  return { type: "notFound" };
}

/** The group as `/apis` lists it. */
export function metricsApiGroup(): Record<string, unknown> {
  const v = { groupVersion: GV, version: METRICS_VERSION };
  return { name: METRICS_GROUP, versions: [v], preferredVersion: v };
}

function resourceList(): Record<string, unknown> {
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: GV,
    resources: [
      { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
      { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
    ],
  };
}

/** Pod labels, for `-l` on pod metrics (kubectl top pod -l app=web). */
export type PodLabels = (namespace: string, name: string) => Record<string, string> | undefined;

/** Answers a metrics.k8s.io request from the current usage reports. Pure. */
export function serveMetricsApi(route: MetricsApiRoute, reports: UsageReport[], query: URLSearchParams, podLabels?: PodLabels): Record<string, unknown> {
  if (route.doc === "group") return { kind: "APIGroup", apiVersion: "v1", ...metricsApiGroup() };
  if (route.doc === "resources") return resourceList();
  let selector: LabelSelector | undefined;
  try {
    selector = query.get("labelSelector") ? parseLabelSelector(query.get("labelSelector")!) : undefined;
  } catch (e) {
    throw new ApiError("BadRequest", `labelSelector: ${(e as Error).message}`);
  }
  const window = (r: UsageReport) => `${r.windowSeconds}s`;
  if (route.doc === "nodes") {
    const items = reports
      .filter((r) => route.name === undefined || r.node === route.name)
      .map((r) => ({
        metadata: { name: r.node, creationTimestamp: r.timestamp },
        timestamp: r.timestamp,
        window: window(r),
        usage: { cpu: cpuQuantity(r.usage.cpuNanoCores), memory: memoryQuantity(r.usage.memoryBytes) },
      }));
    if (route.name !== undefined) {
      if (!items.length) throw new ApiError("NotFound", `nodemetrics.metrics.k8s.io "${route.name}" not found`);
      return { kind: "NodeMetrics", apiVersion: GV, ...items[0] };
    }
    return { kind: "NodeMetricsList", apiVersion: GV, metadata: {}, items };
  }
  const pr = route as Extract<MetricsApiRoute, { doc: "pods" }>;
  const items = [];
  for (const r of reports) {
    for (const p of r.pods) {
      if (pr.namespace !== undefined && p.namespace !== pr.namespace) continue;
      if (pr.name !== undefined && p.name !== pr.name) continue;
      if (selector && !matchesLabels(selector, podLabels?.(p.namespace, p.name) ?? {})) continue;
      items.push({
        metadata: { name: p.name, namespace: p.namespace, creationTimestamp: r.timestamp, labels: podLabels?.(p.namespace, p.name) ?? {} },
        timestamp: r.timestamp,
        window: window(r),
        containers: p.containers.map((c) => ({ name: c.name, usage: { cpu: cpuQuantity(c.cpuNanoCores), memory: memoryQuantity(c.memoryBytes) } })),
      });
    }
  }
  items.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  if (pr.name !== undefined) {
    if (!items.length) throw new ApiError("NotFound", `podmetrics.metrics.k8s.io "${pr.name}" not found`);
    return { kind: "PodMetrics", apiVersion: GV, ...items[0] };
  }
  return { kind: "PodMetricsList", apiVersion: GV, metadata: {}, items };
}
