/**
 * autoscaling/v1 HorizontalPodAutoscalers, an older view of the autoscaling/v2 objects Berth
 * stores, converted at the edge as kube-apiserver converts between versions. `kubectl autoscale`
 * (1.32) creates its HPA through this version (a protobuf body, protobuf.ts), and `kubectl
 * describe hpa` falls back to it; everything else uses autoscaling/v2, the preferred version.
 *
 *   v1 spec.targetCPUUtilizationPercentage  ⇄  v2 spec.metrics: [{Resource cpu, Utilization}]
 *   v1 status.currentCPUUtilizationPercentage ⇐ v2 status.currentMetrics' cpu utilization
 *
 * Served verbs: create, get, list, delete (routes.ts, OLDER_VERSION_VERBS). Updates, patches, watches and the
 * status subresource are autoscaling/v2's: a v1 update could not carry the v2 metrics and behavior
 * (Kubernetes keeps them in `autoscaling.alpha.kubernetes.io/*` annotations, which Berth does not).
 */
import { ApiError, BadRequestError } from "../../model/errors.ts";
import type { HorizontalPodAutoscaler, MetricSpec } from "../../model/types.ts";
import { asTable, checkTypeMeta, deleteOptions, listOptions, parseDryRun, type HandlerContext, type Reply } from "./handlers.ts";
import { OLDER_VERSION_VERBS } from "./routes.ts";

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);

/**
 * An autoscaling/v1 HPA as the v2 object it stands for: its bounds and target, and a cpu
 * utilization target as the one metric (none: v2's default applies). The status is dropped, as a
 * create drops it; fields v1 does not have are not carried over.
 */
export function hpaFromV1(v1: Obj): Obj {
  const spec = obj(v1.spec) ?? {};
  const out: Obj = {};
  for (const k of ["scaleTargetRef", "minReplicas", "maxReplicas"]) if (spec[k] !== undefined) out[k] = spec[k];
  const cpu = spec.targetCPUUtilizationPercentage;
  if (cpu !== undefined) out.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpu } } }];
  return { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: v1.metadata ?? {}, spec: out };
}

const isCpuUtilization = (m: MetricSpec) => m.type === "Resource" && m.resource?.name === "cpu" && m.resource.target.averageUtilization !== undefined;

/** A stored (v2) HPA in autoscaling/v1 form: the cpu utilization target and measurement, the replica counts. */
export function hpaToV1(hpa: HorizontalPodAutoscaler): Obj {
  const { scaleTargetRef, minReplicas, maxReplicas, metrics } = hpa.spec;
  const cpu = metrics?.find(isCpuUtilization)?.resource?.target.averageUtilization;
  const st = hpa.status;
  const current = st?.currentMetrics?.find((m) => m.type === "Resource" && m.resource?.name === "cpu")?.resource?.current.averageUtilization;
  return {
    apiVersion: "autoscaling/v1",
    kind: "HorizontalPodAutoscaler",
    metadata: hpa.metadata,
    spec: { scaleTargetRef, ...(minReplicas !== undefined ? { minReplicas } : {}), maxReplicas, ...(cpu !== undefined ? { targetCPUUtilizationPercentage: cpu } : {}) },
    status: {
      ...(st?.observedGeneration !== undefined ? { observedGeneration: st.observedGeneration } : {}),
      ...(st?.lastScaleTime ? { lastScaleTime: st.lastScaleTime } : {}),
      // Never omitted in v1.
      currentReplicas: st?.currentReplicas ?? 0,
      desiredReplicas: st?.desiredReplicas ?? 0,
      ...(current !== undefined ? { currentCPUUtilizationPercentage: current } : {}),
    },
  };
}

/** A request for `/apis/autoscaling/v1/…/horizontalpodautoscalers…`. */
export async function handleAutoscalingV1(ctx: HandlerContext): Promise<Reply> {
  const { route, method, api, query } = ctx;
  const { namespace, name } = route;
  if (route.resource !== "horizontalpodautoscalers" || route.olderVersion !== "autoscaling/v1") throw new ApiError("NotFound", "the server could not find the requested resource");
  const watching = route.watchPrefix || query.get("watch") === "true" || query.get("watch") === "1";
  const verb = route.subresource ? `${method} horizontalpodautoscalers/${route.subresource}` : watching ? "watch" : method;
  const notServed = () =>
    new ApiError("MethodNotAllowed", `Berth serves autoscaling/v1 horizontalpodautoscalers for ${OLDER_VERSION_VERBS.join(", ")} only, not ${verb}: use autoscaling/v2`);
  if (route.subresource || watching) throw notServed();
  if (name === undefined) {
    if (method === "GET") {
      const list = await api.list("horizontalpodautoscalers", listOptions(ctx));
      if (ctx.accept.table) return { status: 200, body: asTable(ctx, list.items, list.metadata) };
      return { status: 200, body: { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscalerList", metadata: list.metadata, items: list.items.map(hpaToV1) } };
    }
    if (method === "POST" && namespace !== undefined) {
      const body = obj(await ctx.body());
      if (!body) throw new BadRequestError("the request body must be a JSON object");
      checkTypeMeta(body, "HorizontalPodAutoscaler", "autoscaling/v1");
      const meta = { ...obj(body.metadata) };
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw new BadRequestError("the namespace of the provided object does not match the namespace sent on the request");
      }
      const dryRun = parseDryRun(query.getAll("dryRun"), "CreateOptions");
      const created = await api.create("horizontalpodautoscalers", hpaFromV1({ ...body, metadata: { ...meta, namespace } }), namespace, { dryRun });
      return { status: 201, body: hpaToV1(created) };
    }
    throw notServed();
  }
  if (method === "GET") {
    const hpa = await api.get("horizontalpodautoscalers", name, namespace);
    if (ctx.accept.table) return { status: 200, body: asTable(ctx, [hpa], { resourceVersion: hpa.metadata.resourceVersion }) };
    return { status: 200, body: hpaToV1(hpa) };
  }
  if (method === "DELETE") {
    const raw = ctx.req.headers["content-length"] && ctx.req.headers["content-length"] !== "0" ? await ctx.body() : undefined;
    const gone = await api.delete("horizontalpodautoscalers", name, namespace, deleteOptions(ctx, raw));
    return { status: 200, body: (gone as { kind?: string }).kind === "HorizontalPodAutoscaler" ? hpaToV1(gone as HorizontalPodAutoscaler) : gone };
  }
  throw notServed();
}
