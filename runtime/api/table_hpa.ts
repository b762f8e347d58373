/**
 * How kubectl words an autoscaling/v2 HorizontalPodAutoscaler's metrics: the TARGETS cell of
 * kube-apiserver's printer (`cpu: 40%/80%`, `memory: 10Mi/100Mi`, `cpu: <unknown>/80%` before
 * the autoscaler has measured) and the "Metrics: ( current / target )" lines of kubectl's
 * describer. Each metric's current value is the status' entry at the same index, as both read it.
 * Pure; shared by table.ts and `berth describe`.
 */
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus, MetricValueStatus } from "../../model/types.ts";

const UNKNOWN = "<unknown>";

/** The resource or container-resource parts of metric `i`: its source, and the current value the status holds for it. */
function resourceParts(m: MetricSpec, status: MetricStatus | undefined) {
  if (m.type === "Resource" && m.resource) return { source: m.resource, current: status?.resource?.current };
  if (m.type === "ContainerResource" && m.containerResource) return { source: m.containerResource, current: status?.containerResource?.current };
  return undefined;
}

/** `80%`, or `<auto>` for a utilization target without a number (as the printer says it). */
const percent = (v: number | undefined) => (v === undefined ? "<auto>" : `${v}%`);

/** The TARGETS cell: at most two metrics, then `+ N more...`; `<none>` without any. */
export function hpaTargets(hpa: HorizontalPodAutoscaler): string {
  const specs = hpa.spec.metrics ?? [];
  if (!specs.length) return "<none>";
  const statuses = hpa.status?.currentMetrics ?? [];
  const cells = specs.map((m, i) => {
    const parts = resourceParts(m, statuses[i]);
    if (!parts) return "<unknown type>";
    const { source, current } = parts;
    if (source.target.averageValue !== undefined) return `${source.name}: ${current ? current.averageValue ?? UNKNOWN : UNKNOWN}/${source.target.averageValue}`;
    const now = current?.averageUtilization !== undefined ? `${current.averageUtilization}%` : UNKNOWN;
    return `${source.name}: ${now}/${percent(source.target.averageUtilization)}`;
  });
  return cells.length > 2 ? `${cells.slice(0, 2).join(", ")} + ${cells.length - 2} more...` : cells.join(", ");
}

/** A utilization as the describer shows it: `40% (20m)` (the average beside the percentage). */
function utilizationNow(current: MetricValueStatus | undefined): string {
  if (current?.averageUtilization === undefined) return UNKNOWN;
  return `${current.averageUtilization}% (${current.averageValue ?? "0"})`;
}

/**
 * The describer's metric lines, one `[label, "current / target"]` per metric:
 * `resource cpu on pods  (as a percentage of request)`, `resource memory on pods`,
 * `resource cpu of container "app" on pods  (as a percentage of request)`.
 */
export function hpaMetricLines(hpa: HorizontalPodAutoscaler): [string, string][] {
  const statuses = hpa.status?.currentMetrics ?? [];
  return (hpa.spec.metrics ?? []).map((m, i): [string, string] => {
    const parts = resourceParts(m, statuses[i]);
    if (!parts) return [`<unknown metric type ${JSON.stringify(m.type)}>`, ""];
    const { source, current } = parts;
    const what = m.type === "ContainerResource" ? `resource ${source.name} of container "${m.containerResource!.container}" on pods` : `resource ${source.name} on pods`;
    if (source.target.averageValue !== undefined) return [what, `${current ? current.averageValue ?? UNKNOWN : UNKNOWN} / ${source.target.averageValue}`];
    return [`${what}  (as a percentage of request)`, `${utilizationNow(current)} / ${percent(source.target.averageUtilization)}`];
  });
}
