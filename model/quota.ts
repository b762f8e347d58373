/**
 * ResourceQuota arithmetic, as Kubernetes' quota evaluators do it: what an object costs, what a
 * namespace uses, and whether a request fits under a quota's `hard` limits. Pure and shared:
 * the API's admission charges quotas with it, the quota controller recomputes usage with it.
 *
 * Quantities are carried as numbers in canonical units — CPU in millicores, memory in bytes,
 * object counts as integers — and written back in Kubernetes' notation ("500m", "1Gi", "10").
 *
 * Names Berth enforces (the core/v1 names for the kinds it serves):
 *   pods, services, replicationcontrollers, resourcequotas,
 *   persistentvolumeclaims                                        (object counts)
 *   count/<resource> for every namespaced resource                (object counts)
 *   requests.cpu, requests.memory, cpu, memory                    (sum of pod requests)
 *   limits.cpu, limits.memory                                     (sum of pod limits)
 *   requests.storage                                              (sum of claims' storage requests)
 *   <class>.storageclass.storage.k8s.io/requests.storage,
 *   <class>.storageclass.storage.k8s.io/persistentvolumeclaims    (the same, for one storage class)
 * A pod counts while it is not Succeeded or Failed, as in Kubernetes; a claim counts while it
 * exists, its storage request rounded up to whole bytes (Kubernetes' PVC evaluator).
 */
import { formatBytes, formatCpu, parseBytes, parseCpuMillis, parseQuantity } from "./quantity.ts";
import { RESOURCES, type AnyObject, type PersistentVolumeClaim, type Pod, type Resource, type ResourceQuota } from "./types.ts";

/** Usage or limits by quota resource name, in canonical units. */
export type Usage = Record<string, number>;

const BARE_COUNTS: Record<string, Resource> = {
  pods: "pods",
  services: "services",
  replicationcontrollers: "replicationcontrollers",
  resourcequotas: "resourcequotas",
  persistentvolumeclaims: "persistentvolumeclaims",
};

const COMPUTE = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"] as const;
type ComputeName = (typeof COMPUTE)[number];

/** Storage quota names: all claims' storage requests, or one storage class's requests or claim count. */
const STORAGE_CLASS_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims)$/;

/** What a storage quota name charges: `{ class }` limits it to one storage class; `claims` counts claims instead of bytes. */
function storageName(name: string): { class?: string; claims: boolean } | undefined {
  if (name === "requests.storage") return { claims: false };
  const m = STORAGE_CLASS_NAME.exec(name);
  return m ? { class: m[1], claims: m[5] === "persistentvolumeclaims" } : undefined;
}

/** The resource whose objects a count name counts ("count/pods" → pods), or undefined for compute names. */
export function countedResource(name: string): Resource | undefined {
  if (Object.hasOwn(BARE_COUNTS, name)) return BARE_COUNTS[name];
  if (name.startsWith("count/")) {
    // `count/pods`, and for a named API group Kubernetes' `count/jobs.batch` (or the bare
    // `count/jobs`); a group may hold dots (`count/roles.rbac.authorization.k8s.io`).
    const counted = name.slice("count/".length);
    const dot = counted.indexOf(".");
    const r = dot < 0 ? counted : counted.slice(0, dot);
    const group = dot < 0 ? undefined : counted.slice(dot + 1);
    if (!Object.hasOwn(RESOURCES, r)) return undefined;
    const info: { namespaced: boolean; group?: string } = RESOURCES[r as Resource];
    if (info.namespaced && (group === undefined || group === info.group)) return r as Resource;
  }
  return undefined;
}

/** True for a name Berth's quota can enforce. */
export function isQuotaName(name: string): boolean {
  return countedResource(name) !== undefined || (COMPUTE as readonly string[]).includes(name) || storageName(name) !== undefined;
}

/** Every name Berth's quota can enforce (for error messages). */
export function quotaNames(): string[] {
  const counts = Object.entries(RESOURCES).filter(([, i]) => i.namespaced).map(([r]) => `count/${r}`);
  return [...Object.keys(BARE_COUNTS), ...counts, ...COMPUTE, "requests.storage"];
}

/** The resources whose objects the names in `hard` are about (pods for compute names). */
export function resourcesFor(names: Iterable<string>): Resource[] {
  const out = new Set<Resource>();
  for (const n of names) {
    const r = countedResource(n);
    if (r) out.add(r);
    else if ((COMPUTE as readonly string[]).includes(n)) out.add("pods");
    else if (storageName(n)) out.add("persistentvolumeclaims");
  }
  return [...out];
}

function isCpu(name: string): boolean {
  return name === "cpu" || name.endsWith(".cpu");
}

function isMemory(name: string): boolean {
  return name === "memory" || name.endsWith(".memory");
}

function isStorage(name: string): boolean {
  return storageName(name)?.claims === false;
}

/** One quantity in a name's canonical unit (throws `QuantityError` on a malformed one). */
export function parseQuotaQuantity(name: string, q: string | number): number {
  if (isCpu(name)) return parseCpuMillis(q);
  if (isMemory(name) || isStorage(name)) return parseBytes(q);
  return Math.ceil(parseQuantity(q));
}

/** A canonical amount in Kubernetes' notation for `name`. */
export function formatQuotaQuantity(name: string, n: number): string {
  if (isCpu(name)) return formatCpu(n);
  if (isMemory(name) || isStorage(name)) return formatBytes(n);
  return String(n);
}

/** A quantity map (`spec.hard`, `status.used`) in canonical units; names Berth does not enforce are left out. */
export function parseUsage(map: Record<string, string> | undefined): Usage {
  const out: Usage = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (!isQuotaName(k)) continue;
    try {
      out[k] = parseQuotaQuantity(k, v);
    } catch {
      // Validated on the way in; a stored value that no longer parses counts as absent.
    }
  }
  return out;
}

/** Canonical usage back to a quantity map, for the names in `names`. */
export function formatUsage(usage: Usage, names: Iterable<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of [...names].sort()) out[n] = formatQuotaQuantity(n, usage[n] ?? 0);
  return out;
}

/** True when the pod no longer uses quota (it has finished). */
export function podTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

function podCompute(pod: Pod, name: ComputeName): number {
  const kind = name.startsWith("limits.") ? "limits" : "requests";
  const res = isCpu(name) ? "cpu" : "memory";
  let sum = 0;
  for (const c of pod.spec.containers ?? []) {
    // A limit without a request is also the request, as Kubernetes defaults it.
    const q = kind === "requests" ? c.resources?.requests?.[res] ?? c.resources?.limits?.[res] : c.resources?.limits?.[res];
    if (q !== undefined) sum += isCpu(name) ? parseCpuMillis(q) : parseBytes(q);
  }
  return sum;
}

/** What one object of `resource` costs under each of `names` (0 for names it does not touch). */
export function usageOf(resource: Resource, obj: AnyObject, names: Iterable<string>): Usage {
  const out: Usage = {};
  const terminalPod = resource === "pods" && podTerminal(obj as Pod);
  for (const n of names) {
    const counted = countedResource(n);
    if (counted) {
      out[n] = counted === resource && !terminalPod ? 1 : 0;
    } else if ((COMPUTE as readonly string[]).includes(n)) {
      out[n] = resource === "pods" && !terminalPod ? podCompute(obj as Pod, n as ComputeName) : 0;
    } else {
      const storage = storageName(n);
      if (storage) out[n] = resource === "persistentvolumeclaims" ? claimStorage(obj as PersistentVolumeClaim, storage) : 0;
    }
  }
  return out;
}

/** A claim's cost under a storage name: 1 claim or its storage request in bytes, when of the name's class (if it names one). */
function claimStorage(pvc: PersistentVolumeClaim, name: { class?: string; claims: boolean }): number {
  if (name.class !== undefined && pvc.spec.storageClassName !== name.class) return 0;
  if (name.claims) return 1;
  const request = pvc.spec.resources?.requests?.storage;
  if (request === undefined) return 0;
  try {
    return parseBytes(request);
  } catch {
    return 0; // validated on the way in; a stored value that no longer parses costs nothing
  }
}

/** The usage of many objects: the sum of `usageOf` over them. */
export function totalUsage(objects: readonly { resource: Resource; obj: AnyObject }[], names: readonly string[]): Usage {
  const out: Usage = Object.fromEntries(names.map((n) => [n, 0]));
  for (const { resource, obj } of objects) {
    const u = usageOf(resource, obj, names);
    for (const n of names) out[n] += u[n] ?? 0;
  }
  return out;
}

/** One name over its limit. */
export interface Exceeded {
  name: string;
  requested: number;
  used: number;
  limited: number;
}

/**
 * The names of `hard` that `used + delta` would exceed. Only names the request actually asks
 * for (delta > 0) can be exceeded: a quota lowered below current usage blocks new objects but
 * does not break existing ones, as in Kubernetes.
 */
export function exceededBy(hard: Usage, used: Usage, delta: Usage): Exceeded[] {
  const out: Exceeded[] = [];
  for (const name of Object.keys(hard).sort()) {
    const requested = delta[name] ?? 0;
    if (requested <= 0) continue;
    const u = used[name] ?? 0;
    if (u + requested > hard[name]) out.push({ name, requested, used: u, limited: hard[name] });
  }
  return out;
}

/** `a + b` over the names of `a`. */
export function addUsage(a: Usage, b: Usage): Usage {
  const out: Usage = { ...a };
  for (const [k, v] of Object.entries(b)) if (k in out) out[k] += v;
  return out;
}

/**
 * Kubernetes' refusal text: `exceeded quota: default-quota, requested: pods=1, used: pods=10,
 * limited: pods=10` (names sorted, values in quantity notation).
 */
export function exceededMessage(quota: string, over: readonly Exceeded[]): string {
  const list = (pick: (e: Exceeded) => number) => over.map((e) => `${e.name}=${formatQuotaQuantity(e.name, pick(e))}`).join(",");
  return `exceeded quota: ${quota}, requested: ${list((e) => e.requested)}, used: ${list((e) => e.used)}, limited: ${list((e) => e.limited)}`;
}

/**
 * Compute names of `hard` a pod must state for every container, and the containers that do
 * not: with a `limits.cpu` quota, a pod without a CPU limit cannot be charged, so Kubernetes
 * refuses it ("must specify limits.cpu for: main").
 */
export function missingCompute(hard: Usage, pod: Pod): string[] {
  if (podTerminal(pod)) return [];
  const out: string[] = [];
  for (const name of Object.keys(hard).sort()) {
    if (!(COMPUTE as readonly string[]).includes(name)) continue;
    const res = isCpu(name) ? "cpu" : "memory";
    const kind = name.startsWith("limits.") ? "limits" : "requests";
    const lacking = (pod.spec.containers ?? [])
      .filter((c) => (kind === "limits" ? c.resources?.limits?.[res] : c.resources?.requests?.[res] ?? c.resources?.limits?.[res]) === undefined)
      .map((c) => c.name);
    if (lacking.length) out.push(`${name} for: ${lacking.join(",")}`);
  }
  return out;
}

/** The quota's hard limits (spec.hard) in canonical units. */
export function hardOf(q: ResourceQuota): Usage {
  return parseUsage(q.spec?.hard);
}

/**
 * The status the quota controller should write for `quota` given its namespace's objects:
 * `hard` copied from the spec, `used` counted for every hard name.
 */
export function quotaStatus(quota: ResourceQuota, objects: readonly { resource: Resource; obj: AnyObject }[]): { hard: Record<string, string>; used: Record<string, string> } {
  const names = Object.keys(hardOf(quota));
  const used = totalUsage(objects, names);
  return { hard: formatUsage(hardOf(quota), names), used: formatUsage(used, names) };
}

/** True when two quantity maps say the same (compared in canonical units). */
export function sameQuantities(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  if (ka.join("\n") !== kb.join("\n")) return false;
  const pa = parseUsage(a);
  const pb = parseUsage(b);
  return ka.every((k) => pa[k] === pb[k] && (a ?? {})[k] === (b ?? {})[k]);
}
