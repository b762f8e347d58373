/**
 * Discovery documents: what kubectl reads before it does anything else. Legacy (unaggregated)
 * discovery only — kubectl 1.32 asks for the aggregated form first and falls back when the
 * answer is plain `application/json`.
 */
import { RESOURCES, apiVersionOf, type Resource } from "../../model/types.ts";
import { OLDER_VERSION_VERBS, OLDER_VERSIONS, SUBRESOURCES } from "./routes.ts";
import { metricsApiGroup } from "./metrics_api.ts";
import { reviewApiGroups } from "./access_review.ts";

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

/** Every named group/version Berth serves (from `RESOURCES`), e.g. `apps/v1`, and the older ones of `OLDER_VERSIONS`. */
export function groupVersions(): string[] {
  const out = new Set<string>();
  for (const r of Object.keys(RESOURCES) as Resource[]) {
    if (apiVersionOf(r) !== "v1") out.add(apiVersionOf(r));
    for (const gv of OLDER_VERSIONS[r] ?? []) out.add(gv);
  }
  return [...out].sort();
}

/** True for a group/version that is only an older form of resources stored in a newer one. */
const isOlder = (gv: string) => (Object.keys(RESOURCES) as Resource[]).every((r) => apiVersionOf(r) !== gv);

/** `/apis/{group}`: one APIGroup (the stored version first and preferred), or undefined when Berth does not serve it. */
export function apiGroup(group: string): Record<string, unknown> | undefined {
  const versions = groupVersions()
    .filter((gv) => gv.split("/")[0] === group)
    .sort((a, b) => Number(isOlder(a)) - Number(isOlder(b)))
    .map((gv) => ({ groupVersion: gv, version: gv.split("/")[1] }));
  if (!versions.length) return undefined;
  return { kind: "APIGroup", apiVersion: "v1", name: group, versions, preferredVersion: versions[0] };
}

/** `/apis`: the named groups of `RESOURCES`. */
export function apiGroupList(): Record<string, unknown> {
  const groups = [...new Set(groupVersions().map((gv) => gv.split("/")[0]))].map((g) => {
    const { kind: _k, apiVersion: _v, ...rest } = apiGroup(g)!;
    return rest;
  });
  // metrics.k8s.io (kubectl top) and kubectl auth's review groups are served apart from RESOURCES
  // (metrics_api.ts, access_review.ts).
  return { kind: "APIGroupList", apiVersion: "v1", groups: [...groups, metricsApiGroup(), ...reviewApiGroups()] };
}

const FULL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
/** Resources listed in `kubectl get all`. */
const IN_ALL = new Set<Resource>(["pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "horizontalpodautoscalers", "cronjobs", "jobs"]);

/**
 * `/api/v1` (the default) or `/apis/{group}/{version}`: every resource and subresource of that
 * group/version with kind, verbs and short names; undefined for a group/version not served.
 */
export function apiResourceList(groupVersion = "v1"): Record<string, unknown> | undefined {
  const resources: Record<string, unknown>[] = [];
  const entries = Object.entries(RESOURCES) as [Resource, (typeof RESOURCES)[Resource]][];
  // kube-apiserver lists a named group's resources by name (apps/v1: daemonsets, deployments,
  // replicasets, statefulsets; batch/v1: cronjobs before jobs), the order `kubectl get all`
  // prints them in.
  if (groupVersion !== "v1") entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, info] of entries) {
    const older = (OLDER_VERSIONS[name] ?? []).includes(groupVersion);
    if (apiVersionOf(name) !== groupVersion && !older) continue;
    resources.push({
      name,
      singularName: info.singular,
      namespaced: info.namespaced,
      kind: info.kind,
      // An older version is served for the verbs its clients use (hpa_v1.ts).
      verbs: older ? [...OLDER_VERSION_VERBS] : name === "namespaces" ? FULL_VERBS.filter((v) => v !== "deletecollection") : FULL_VERBS,
      // Kubernetes leaves shortNames out for a resource that has none (secrets).
      ...(info.shortNames.length ? { shortNames: [...info.shortNames] } : {}),
      ...(IN_ALL.has(name) ? { categories: ["all"] } : {}),
    });
    if (older) continue;
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
        case "exec":
        case "attach":
        case "portforward":
          // Served on upgrade (streaming.ts); kinds as kube-apiserver names them.
          resources.push({ ...base, kind: { exec: "PodExecOptions", attach: "PodAttachOptions", portforward: "PodPortForwardOptions" }[sub], verbs: ["create", "get"] });
          break;
        case "scale":
          resources.push({ ...base, group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
          break;
        case "eviction":
          // kubectl drain looks for exactly this entry (group and version set) before evicting.
          resources.push({ ...base, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
          break;
        case "token":
          // As kube-apiserver lists it; `kubectl create token` needs only the create.
          resources.push({ ...base, group: "authentication.k8s.io", version: "v1", kind: "TokenRequest", verbs: ["create"] });
          break;
      }
    }
  }
  if (!resources.length) return undefined;
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}
