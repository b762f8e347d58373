/**
 * A container's environment as the kubelet builds it (makeEnvironmentVariables): the service
 * variables, then every `envFrom` source in order, then `env` in order — `value` with `$(VAR)`
 * expansion over what came before, `valueFrom` from a ConfigMap/Secret key, a pod field
 * (`fieldRef`, the downward API) or a container resource (`resourceFieldRef`).
 *
 * A reference that cannot be resolved and is not `optional` is the kubelet's
 * `CreateContainerConfigError`, with its messages: `configmap "x" not found`,
 * `couldn't find key k in ConfigMap default/x`, `secret "x" not found`, ... `buildEnv` is pure
 * (the objects are fetched before, by `fetchConfigObjects`); unit-tested.
 */
import { parseQuantity } from "../../model/quantity.ts";
import type { ConfigMap, Container, Pod, ResourceFieldSelector, Secret } from "../../model/types.ts";
import { podReferences } from "../../model/pod_references.ts";
import { expand } from "./pod_spec.ts";

/** What the pod's fields do not say by themselves: its addresses, its node, the node's capacity. */
export interface DownwardFields {
  podIP: string;
  hostIP: string;
  nodeName: string;
  /** For `resourceFieldRef` of a limit the container does not set (Kubernetes: node allocatable). */
  allocatable?: { cpu: number; memory: number };
}

/** A ConfigMap or Secret looked up by namespace and name; null when it does not exist. */
export type ConfigLookup = (resource: "configmaps" | "secrets", namespace: string, name: string) => Promise<ConfigMap | Secret | null>;

/** The ConfigMaps and Secrets a pod references, by name (null: not found). */
export interface ConfigObjects {
  configmaps: Map<string, ConfigMap | null>;
  secrets: Map<string, Secret | null>;
}

/** Fetches every ConfigMap and Secret the pod references (for env and volumes). */
export async function fetchConfigObjects(pod: Pod, lookup: ConfigLookup): Promise<ConfigObjects> {
  const ns = pod.metadata.namespace ?? "default";
  const refs = podReferences(pod);
  const configmaps = new Map<string, ConfigMap | null>();
  const secrets = new Map<string, Secret | null>();
  await Promise.all([
    ...[...refs.configmaps].map(async (n) => configmaps.set(n, (await lookup("configmaps", ns, n)) as ConfigMap | null)),
    ...[...refs.secrets].map(async (n) => secrets.set(n, (await lookup("secrets", ns, n)) as Secret | null)),
  ]);
  return { configmaps, secrets };
}

export type EnvResult = { type: "ok"; env: Record<string, string> } | { type: "error"; message: string };

/** Decodes base64 (Secret data) to UTF-8 text. */
export function fromBase64(s: string): string {
  return Buffer.from(s, "base64").toString("utf8");
}

/** The value of a downward API field path, or undefined when Kubernetes does not support it. */
export function fieldValue(pod: Pod, path: string, fields: DownwardFields): string | undefined {
  switch (path) {
    case "metadata.name": return pod.metadata.name;
    case "metadata.namespace": return pod.metadata.namespace ?? "default";
    case "metadata.uid": return pod.metadata.uid ?? "";
    case "spec.nodeName": return fields.nodeName;
    case "spec.serviceAccountName": return pod.spec.serviceAccountName ?? "default";
    case "status.podIP": return fields.podIP;
    case "status.podIPs": return fields.podIP;
    case "status.hostIP": return fields.hostIP;
    case "status.hostIPs": return fields.hostIP;
    case "metadata.labels": return formatMap(pod.metadata.labels);
    case "metadata.annotations": return formatMap(pod.metadata.annotations);
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      return m ? (pod.metadata[m[1] as "labels" | "annotations"]?.[m[2]] ?? "") : undefined;
    }
  }
}

/** Kubernetes' downward API form of a map: `key="value"` lines, sorted, values quoted as Go's %q. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join("\n");
}

/**
 * The value of a `resourceFieldRef`: the container's request or limit, divided by the divisor
 * and rounded up (at least 1 for cpu, as Kubernetes). A limit not set is the node's allocatable;
 * a request not set is the limit when one is set, else 0.
 */
export function resourceValue(pod: Pod, c: Container, ref: ResourceFieldSelector, fields: DownwardFields): string | undefined {
  const target = ref.containerName ? [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((x) => x.name === ref.containerName) : c;
  if (!target) return undefined;
  const [kind, res] = ref.resource.split(".", 2) as [string, string];
  if ((kind !== "limits" && kind !== "requests") || (res !== "cpu" && res !== "memory" && res !== "ephemeral-storage")) return undefined;
  const limits = target.resources?.limits ?? {};
  const requests = target.resources?.requests ?? {};
  const fallback = res === "cpu" ? fields.allocatable?.cpu ?? 0 : res === "memory" ? fields.allocatable?.memory ?? 0 : 0;
  let value: number;
  if (kind === "limits") value = limits[res] !== undefined ? parseQuantity(limits[res]) : fallback;
  else value = requests[res] !== undefined ? parseQuantity(requests[res]) : limits[res] !== undefined ? parseQuantity(limits[res]) : 0;
  const divisor = ref.divisor ? parseQuantity(ref.divisor) : 1;
  if (!(divisor > 0)) return undefined;
  const out = Math.ceil(value / divisor - 1e-9);
  return String(res === "cpu" ? Math.max(out, value > 0 ? 1 : 0) : out);
}

/**
 * The container's environment, or the first reference that stops it from starting. `base` is
 * the service variables (they come first and may be referred to with `$(VAR)`).
 */
export function buildEnv(pod: Pod, c: Container, fields: DownwardFields, base: Record<string, string>, objs: ConfigObjects): EnvResult {
  const ns = pod.metadata.namespace ?? "default";
  const out: Record<string, string> = { ...base };
  for (const from of c.envFrom ?? []) {
    const prefix = from.prefix ?? "";
    if (from.configMapRef) {
      const cm = objs.configmaps.get(from.configMapRef.name) ?? null;
      if (!cm) {
        if (from.configMapRef.optional) continue;
        return { type: "error", message: `configmap "${from.configMapRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) out[prefix + k] = v;
    } else if (from.secretRef) {
      const s = objs.secrets.get(from.secretRef.name) ?? null;
      if (!s) {
        if (from.secretRef.optional) continue;
        return { type: "error", message: `secret "${from.secretRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(s.data ?? {})) out[prefix + k] = fromBase64(v);
    }
  }
  for (const e of c.env ?? []) {
    const src = e.valueFrom;
    if (!src) {
      out[e.name] = expand(e.value ?? "", out);
    } else if (src.fieldRef) {
      const v = fieldValue(pod, src.fieldRef.fieldPath, fields);
      if (v === undefined) return { type: "error", message: `unsupported fieldPath: ${src.fieldRef.fieldPath}` };
      out[e.name] = v;
    } else if (src.resourceFieldRef) {
      const v = resourceValue(pod, c, src.resourceFieldRef, fields);
      if (v === undefined) return { type: "error", message: `unsupported container resource: ${src.resourceFieldRef.resource}` };
      out[e.name] = v;
    } else if (src.configMapKeyRef) {
      const ref = src.configMapKeyRef;
      const cm = objs.configmaps.get(ref.name) ?? null;
      if (!cm) {
        if (ref.optional) continue;
        return { type: "error", message: `configmap "${ref.name}" not found` };
      }
      const v = cm.data?.[ref.key] ?? (cm.binaryData?.[ref.key] !== undefined ? fromBase64(cm.binaryData[ref.key]) : undefined);
      if (v === undefined) {
        if (ref.optional) continue;
        return { type: "error", message: `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` };
      }
      out[e.name] = v;
    } else if (src.secretKeyRef) {
      const ref = src.secretKeyRef;
      const s = objs.secrets.get(ref.name) ?? null;
      if (!s) {
        if (ref.optional) continue;
        return { type: "error", message: `secret "${ref.name}" not found` };
      }
      const v = s.data?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        return { type: "error", message: `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` };
      }
      out[e.name] = fromBase64(v);
    }
  }
  return { type: "ok", env: out };
}
