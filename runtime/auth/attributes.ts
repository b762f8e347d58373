/**
 * What a REST request asks, in RBAC's terms (kube-apiserver's RequestInfo): the verb from the
 * method and the path, the group and resource from the route, or the path of a non-resource URL.
 * Pure.
 *
 *   GET one object → get       GET a collection → list      ?watch=1 or /watch/ → watch
 *   POST → create              PUT → update                 PATCH → patch
 *   DELETE one → delete        DELETE a collection → deletecollection
 *   exec / attach / portforward (POST or an upgrade) → create on pods/<sub>
 *   a path that is not a resource (discovery, /version, /metrics, /openapi) → the method, lower-case
 */
import type { RequestAttributes } from "../../model/rbac.ts";
import { RESOURCES } from "../../model/types.ts";
import type { Route } from "../http/routes.ts";

const METRICS_GROUP = "metrics.k8s.io";

function groupOf(resource: keyof typeof RESOURCES): string {
  const info = RESOURCES[resource];
  return "group" in info ? info.group : "";
}

function resourceVerb(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      // GET and HEAD.
      if (watch) return "watch";
      return hasName ? "get" : "list";
  }
}

/** The attributes of a request to `path` routed as `route` (the path as sent, without its query). */
export function requestAttributes(method: string, route: Route, query: URLSearchParams, path: string, upgrade = false): RequestAttributes {
  const watchParam = ["true", "1"].includes(query.get("watch") ?? "");
  switch (route.type) {
    case "resource": {
      const streaming = route.subresource === "exec" || route.subresource === "attach" || route.subresource === "portforward";
      const verb = streaming && (upgrade || method === "POST" || method === "GET") ? "create" : resourceVerb(method, route.name !== undefined, route.watchPrefix || watchParam);
      // A namespace is its own namespace, as kube's RequestInfo has it: a RoleBinding in `x` may allow getting namespace `x`.
      const namespace = route.resource === "namespaces" ? route.name : route.namespace;
      return {
        type: "resource",
        verb,
        apiGroup: groupOf(route.resource),
        resource: route.resource,
        ...(route.subresource ? { subresource: route.subresource } : {}),
        ...(namespace ? { namespace } : {}),
        ...(route.name !== undefined ? { name: route.name } : {}),
      };
    }
    case "metricsApi":
      if (route.doc === "nodes" || route.doc === "pods") {
        return {
          type: "resource",
          verb: resourceVerb(method, route.name !== undefined, watchParam),
          apiGroup: METRICS_GROUP,
          resource: route.doc,
          ...(route.doc === "pods" && route.namespace ? { namespace: route.namespace } : {}),
          ...(route.name !== undefined ? { name: route.name } : {}),
        };
      }
      break;
    case "review":
      if (route.doc === "create") {
        const group = route.kind === "SelfSubjectReview" || route.kind === "TokenReview" ? "authentication.k8s.io" : "authorization.k8s.io";
        return { type: "resource", verb: resourceVerb(method, false, false), apiGroup: group, resource: `${route.kind.toLowerCase()}s`, ...(route.namespace ? { namespace: route.namespace } : {}) };
      }
      break;
  }
  return { type: "nonResource", verb: method === "HEAD" ? "get" : method.toLowerCase(), path };
}
