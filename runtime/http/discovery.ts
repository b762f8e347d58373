/**
 * Discovery documents: what kubectl reads before it does anything else. Legacy (unaggregated)
 * discovery only — kubectl 1.32 asks for the aggregated form first and falls back when the
 * answer is plain `application/json`.
 */
import { RESOURCES, type Resource } from "../../model/types.ts";
import { SUBRESOURCES } from "./routes.ts";
import { metricsApiGroup } from "./metrics_api.ts";

/** The Kubernetes minor version Berth's API mimics (kubectl warns beyond one minor of skew). */
export const KUBE_MINOR = "32";

/** `/version`. */
export function versionInfo(berthVersion: string): Record<string, string> {
  return {
    major: "1",
    minor: KUBE_MINOR,
    gitVersion: `v1.${KUBE_MINOR}.0-berth.${berthVersion}`,
    gitCommit: "",
    gitTreeState: "clean",
    buildDate: "1970-01-01T00:00:00Z",
    goVersion: "n/a",
    compiler: "berth",
    platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
  };
}

/** `/api`. */
export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

/** `/apis`: the named groups (the core group is `/api`). */
export function apiGroupList(): Record<string, unknown> {
  return { kind: "APIGroupList", apiVersion: "v1", groups: [metricsApiGroup()] };
}

const FULL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/** Resources listed in `kubectl get all`. */
const IN_ALL = new Set<Resource>(["pods", "replicationcontrollers", "services"]);

/** `/api/v1`: every resource and subresource with kind, verbs and short names. */
export function apiResourceList(): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const [name, info] of Object.entries(RESOURCES) as [Resource, (typeof RESOURCES)[Resource]][]) {
    resources.push({
      name,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      verbs: name === "namespaces" ? FULL_VERBS.filter((v) => v !== "deletecollection") : FULL_VERBS,
      shortNames: [...info.shortNames],
      ...(IN_ALL.has(name) ? { categories: ["all"] } : {}),
    });
    for (const sub of SUBRESOURCES[name] ?? []) {
      const base = { name: `${name}/${sub}`, singularName: "", namespaced: info.namespaced };
      switch (sub) {
        case "status":
          resources.push({ ...base, kind: info.kind, verbs: ["get", "patch", "update"] });
          break;
        case "log":
          resources.push({ ...base, kind: "Pod", verbs: ["get"] });
          break;
        case "binding":
          resources.push({ ...base, kind: "Binding", verbs: ["create"] });
          break;
        case "scale":
          resources.push({ ...base, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
          break;
      }
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: "v1", resources };
}
