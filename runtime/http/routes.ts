/**
 * Kubernetes URL paths → what they address. Pure: no I/O, no ApiClient.
 *
 *   /version /healthz /livez /readyz /api /api/v1 /apis /openapi/v2 /openapi/v3[/api/v1]
 *   /api/v1/{resource}                                   cluster-scoped, or all namespaces
 *   /api/v1/{resource}/{name}[/{sub}]                    cluster-scoped (nodes, namespaces)
 *   /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]  namespaced
 *   /api/v1/watch/...                                    the legacy watch prefix
 */
import { RESOURCES, type Resource } from "../../model/types.ts";

export type StaticPath =
  | "version"
  | "healthz"
  | "livez"
  | "readyz"
  | "api"
  | "api/v1"
  | "apis"
  | "openapi/v2"
  | "openapi/v3"
  | "openapi/v3/api/v1";

export type Route =
  | { type: "static"; path: StaticPath }
  | {
      type: "resource";
      resource: Resource;
      /** Absent: cluster-scoped, or a namespaced collection across all namespaces. */
      namespace?: string;
      name?: string;
      subresource?: Subresource;
      /** Reached through the deprecated `/api/v1/watch/` prefix. */
      watchPrefix: boolean;
    }
  | { type: "notFound" };

export type Subresource = "status" | "log" | "binding" | "scale";

/** The subresources served for each resource. */
export const SUBRESOURCES: { [R in Resource]?: readonly Subresource[] } = {
  pods: ["status", "log", "binding"],
  replicationcontrollers: ["status", "scale"],
  services: ["status"],
  nodes: ["status"],
  namespaces: ["status"],
  resourcequotas: ["status"],
};

const HEALTH = new Set(["healthz", "livez", "readyz"]);

function isResource(s: string | undefined): s is Resource {
  return s !== undefined && Object.hasOwn(RESOURCES, s);
}

/** Parses a URL path (without the query string). Percent-escapes are decoded per segment. */
export function parseRoute(pathname: string): Route {
  let segs: string[];
  try {
    segs = pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  } catch {
    return { type: "notFound" };
  }
  const joined = segs.join("/");
  if (segs.length >= 1 && HEALTH.has(segs[0])) return { type: "static", path: segs[0] as StaticPath };
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
  if (segs[0] !== "api" || segs[1] !== "v1") return { type: "notFound" };
  let rest = segs.slice(2);
  let watchPrefix = false;
  if (rest[0] === "watch") {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  const [a, b, c, d, e, ...more] = rest;
  if (!isResource(a)) return { type: "notFound" };

  // /api/v1/namespaces/{ns}/{resource}[/{name}[/{sub}]]
  if (a === "namespaces" && b !== undefined && isResource(c) && RESOURCES[c].namespaced) {
    if (more.length) return { type: "notFound" };
    return withSub({ type: "resource", resource: c, namespace: b, name: d, watchPrefix }, e);
  }
  // /api/v1/{resource}[/{name}[/{sub}]]
  if (d !== undefined) return { type: "notFound" };
  if (b !== undefined && RESOURCES[a].namespaced) return { type: "notFound" };
  return withSub({ type: "resource", resource: a, name: b, watchPrefix }, c);
}

function withSub(route: Extract<Route, { type: "resource" }>, sub: string | undefined): Route {
  if (sub === undefined) return route;
  if (route.name === undefined || route.watchPrefix) return { type: "notFound" };
  const allowed = SUBRESOURCES[route.resource] ?? [];
  if (!(allowed as readonly string[]).includes(sub)) return { type: "notFound" };
  return { ...route, subresource: sub as Subresource };
}
