/**
 * Kubernetes URL paths → what they address. Pure: no I/O, no ApiClient.
 *
 *   /healthz /livez /readyz [/{check}]                  health, without a token
 *   /version /api /api/v1 /apis /openapi/v2 /openapi/v3[/api/v1]
 *   /api/v1/{resource}                                   cluster-scoped, or all namespaces
 *   /api/v1/{resource}/{name}[/{sub}]                    cluster-scoped (nodes, namespaces)
 *   /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]  namespaced
 *   /api/v1/watch/...                                    the legacy watch prefix
 *   /apis/{group}[/{version}]                            discovery of a named group
 *   /apis/{group}/{version}/...                          as /api/v1/..., for that group's resources
 *                                                        (and the older versions in OLDER_VERSIONS)
 */
import { RESOURCES, apiVersionOf, type Resource } from "../../model/types.ts";
import { parseMetricsApiRoute, type MetricsApiRoute } from "./metrics_api.ts";
import { parseReviewRoute, type ReviewRoute } from "./access_review.ts";

export type HealthEndpoint = "healthz" | "livez" | "readyz";

export type StaticPath =
  | "version"
  | "api"
  | "api/v1"
  | "apis"
  | "openapi/v2"
  | "openapi/v3"
  | "openapi/v3/api/v1";

export type Route =
  | { type: "static"; path: StaticPath }
  /** `/healthz`, `/livez`, `/readyz`, or one named check below them. */
  | { type: "health"; endpoint: HealthEndpoint; check?: string }
  /** `/apis/{group}` (an APIGroup) or `/apis/{group}/{version}` (its APIResourceList). */
  | { type: "group"; group: string; version?: string }
  /** `/openapi/v3/apis/{group}/{version}`. */
  | { type: "openapiGroup"; groupVersion: string }
  | {
      type: "resource";
      resource: Resource;
      /** Absent: cluster-scoped, or a namespaced collection across all namespaces. */
      namespace?: string;
      name?: string;
      subresource?: Subresource;
      /** The older group/version the request named (OLDER_VERSIONS), when not the one stored. */
      olderVersion?: string;
      /** Reached through the deprecated `/api/v1/watch/` prefix. */
      watchPrefix: boolean;
    }
  /** `/apis/metrics.k8s.io/…` (runtime/http/metrics_api.ts). */
  | MetricsApiRoute
  /** `/apis/authorization.k8s.io/…` and `/apis/authentication.k8s.io/…`: kubectl auth's self reviews (access_review.ts). */
  | ReviewRoute
  | { type: "notFound" }
  /** A path that is not a plain sequence of names: an empty, `.` or `..` segment, or a bad escape. */
  | { type: "badPath"; message: string };

export type Subresource = "status" | "log" | "binding" | "scale" | "eviction" | "exec" | "attach" | "portforward" | "token";

/** The subresources served for each resource. */
export const SUBRESOURCES: { [R in Resource]?: readonly Subresource[] } = {
  pods: ["status", "log", "binding", "eviction", "exec", "attach", "portforward"],
  replicationcontrollers: ["status", "scale"],
  deployments: ["status", "scale"],
  replicasets: ["status", "scale"],
  daemonsets: ["status"],
  statefulsets: ["status", "scale"],
  persistentvolumeclaims: ["status"],
  poddisruptionbudgets: ["status"],
  horizontalpodautoscalers: ["status"],
  jobs: ["status"],
  cronjobs: ["status"],
  services: ["status"],
  nodes: ["status"],
  namespaces: ["status"],
  resourcequotas: ["status"],
  // Where an ingress controller would write the load balancer's address (Berth has none).
  ingresses: ["status"],
  // TokenRequest (token_request.ts): `kubectl create token`.
  serviceaccounts: ["token"],
};

/**
 * Older versions a resource is also served in, converted at the edge (hpa_v1.ts): `kubectl
 * autoscale` (1.32) creates its HorizontalPodAutoscaler through autoscaling/v1.
 */
export const OLDER_VERSIONS: { [R in Resource]?: readonly string[] } = {
  horizontalpodautoscalers: ["autoscaling/v1"],
};

/** The verbs an older version is served for (what its clients use; discovery lists these). */
export const OLDER_VERSION_VERBS = ["create", "delete", "get", "list"] as const;

const HEALTH = new Set(["healthz", "livez", "readyz"]);

function isResource(s: string | undefined): s is Resource {
  return s !== undefined && Object.hasOwn(RESOURCES, s);
}

/**
 * Splits a raw request path (as sent, without the query string) into decoded segments, or says
 * why it cannot be one. The path is never normalised: `new URL` would resolve `..` and `%2e%2e`
 * as dot segments, so `DELETE .../namespaces/victim/pods/%2e%2e` would address the namespace.
 * Each segment is percent-decoded exactly once, then refused if empty, `.` or `..`.
 */
export function pathSegments(rawPath: string): string[] | { message: string } {
  if (!rawPath.startsWith("/")) return { message: `the request path must start with "/"` };
  if (rawPath === "/") return [];
  const raw = rawPath.slice(1).split("/");
  const segs: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw[i]);
    } catch {
      return { message: `path segment ${i + 1} has a malformed percent-escape` };
    }
    if (seg === "" || seg === "." || seg === "..") {
      return { message: `path segment ${i + 1} is ${seg === "" ? "empty" : JSON.stringify(seg)}; paths are not normalised` };
    }
    segs.push(seg);
  }
  return segs;
}

/** Parses a raw URL path (without the query string); see `pathSegments` for what is refused. */
export function parseRoute(rawPath: string): Route {
  const parts = pathSegments(rawPath);
  if (!Array.isArray(parts)) return { type: "badPath", message: parts.message };
  const segs = parts;
  const joined = segs.join("/");
  if (segs.length >= 1 && HEALTH.has(segs[0])) {
    // `/readyz/store` runs one check, as kube-apiserver serves `/readyz/etcd`.
    if (segs.length > 2) return { type: "notFound" };
    return { type: "health", endpoint: segs[0] as HealthEndpoint, ...(segs[1] !== undefined ? { check: segs[1] } : {}) };
  }
  switch (joined) {
    case "version":
    case "api":
    case "api/v1":
    case "apis":
    case "openapi/v2":
    case "openapi/v3":
    case "openapi/v3/api/v1":
      return { type: "static", path: joined };
  }
  const metricsApi = parseMetricsApiRoute(segs) ?? parseReviewRoute(segs);
  if (metricsApi) return metricsApi;
  if (segs.length === 5 && segs[0] === "openapi" && segs[1] === "v3" && segs[2] === "apis") return { type: "openapiGroup", groupVersion: `${segs[3]}/${segs[4]}` };
  let groupVersion = "v1";
  if (segs[0] === "apis" && segs[1] !== undefined) {
    if (segs.length <= 3) return { type: "group", group: segs[1], ...(segs[2] !== undefined ? { version: segs[2] } : {}) };
    groupVersion = `${segs[1]}/${segs[2]}`;
  } else if (segs[0] !== "api" || segs[1] !== "v1") return { type: "notFound" };
  const older = (r: Resource) => apiVersionOf(r) !== groupVersion;
  const inGroup = (r: string | undefined): r is Resource => isResource(r) && (apiVersionOf(r) === groupVersion || (OLDER_VERSIONS[r] ?? []).includes(groupVersion));
  let rest = segs.slice(segs[0] === "apis" ? 3 : 2);
  let watchPrefix = false;
  if (rest[0] === "watch") {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const [a, b, c, d, e, ...more] = rest;
  // /apis/{g}/{v}/namespaces/{ns}/{resource}...: `namespaces` itself is a core resource.
  if (a === "namespaces" && groupVersion !== "v1" && b !== undefined && inGroup(c) && RESOURCES[c].namespaced) {
    if (more.length) return { type: "notFound" };
    return withSub({ type: "resource", resource: c, namespace: b, name: d, watchPrefix, ...(older(c) ? { olderVersion: groupVersion } : {}) }, e);
  }
  if (!inGroup(a)) return { type: "notFound" };

  // /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]
  if (a === "namespaces" && b !== undefined && inGroup(c) && RESOURCES[c].namespaced) {
    if (more.length) return { type: "notFound" };
    return withSub({ type: "resource", resource: c, namespace: b, name: d, watchPrefix }, e);
  }
  // /api/v1/{resource}[/{name}[/{sub}]]
  if (d !== undefined) return { type: "notFound" };
  if (b !== undefined && RESOURCES[a].namespaced) return { type: "notFound" };
  return withSub({ type: "resource", resource: a, name: b, watchPrefix, ...(older(a) ? { olderVersion: groupVersion } : {}) }, c);
}

function withSub(route: Extract<Route, { type: "resource" }>, sub: string | undefined): Route {
  if (sub === undefined) return route;
  if (route.name === undefined || route.watchPrefix) return { type: "notFound" };
  const allowed = SUBRESOURCES[route.resource] ?? [];
  if (!(allowed as readonly string[]).includes(sub)) return { type: "notFound" };
  return { ...route, subresource: sub as Subresource };
}
