/**
 * Resource usage as node agents report it to the control plane (for `kubectl top`, the
 * metrics.k8s.io API and `berth top`), and the pure arithmetic behind it — the same as
 * cAdvisor's: a container's memory working set is its usage minus inactive file pages (the
 * page cache the kernel can drop), and CPU is the rate of its cumulative usage between two samples.
 */

/** One container's usage over the last window. */
export interface ContainerUsage {
  name: string;
  /** CPU in nanocores (1e9 = one core busy). */
  cpuNanoCores: number;
  /** Memory working set in bytes. */
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  containers: ContainerUsage[];
}

/** What node `node` publishes on `berth.node.<node>.usage` each interval. */
export interface UsageReport {
  node: string;
  /** End of the window (ISO 8601). */
  timestamp: string;
  windowSeconds: number;
  /** The node: the sum of its pods (Berth's nodes may share one machine, so the machine's own figures would count every node's pods). */
  usage: { cpuNanoCores: number; memoryBytes: number };
  pods: PodUsage[];
}

/** A cumulative CPU reading of one container. */
export interface CpuSample {
  /** Cumulative CPU time used, nanoseconds. */
  usageNs: number;
  /** When it was read, milliseconds (any monotonic clock). */
  atMs: number;
}

/** CPU rate between two samples in nanocores; 0 when the counter went back (container restarted). */
export function cpuNanoCores(prev: CpuSample, cur: CpuSample): number {
  const dt = cur.atMs - prev.atMs;
  const du = cur.usageNs - prev.usageNs;
  if (dt <= 0 || du < 0) return 0;
  return Math.round((du / (dt * 1e6)) * 1e9);
}

/** Working set: usage minus inactive file pages, never below 0 (cAdvisor's `container_memory_working_set_bytes`). */
export function workingSetBytes(usage: number, inactiveFile: number | undefined): number {
  return Math.max(0, usage - (inactiveFile ?? 0));
}

/** A quantity string for CPU nanocores, as metrics-server writes it (`12345n`). */
export function cpuQuantity(nanoCores: number): string {
  return `${Math.max(0, Math.round(nanoCores))}n`;
}

/** A quantity string for memory bytes, in Ki as metrics-server writes it (`2048Ki`). */
export function memoryQuantity(bytes: number): string {
  return `${Math.max(0, Math.round(bytes / 1024))}Ki`;
}

/**
 * Checks a report received from the network. Returns an error message, or null when usable.
 * The node's name is compared with the one its subject carries (NATS permissions make that one true).
 */
export function usageReportProblem(r: unknown, node: string): string | null {
  const o = r as Partial<UsageReport> | null;
  if (!o || typeof o !== "object") return "not an object";
  if (o.node !== node) return `report names node ${JSON.stringify(o.node)}, sent by ${node}`;
  if (typeof o.timestamp !== "string" || Number.isNaN(Date.parse(o.timestamp))) return "timestamp is not a date";
  if (typeof o.windowSeconds !== "number" || !(o.windowSeconds > 0)) return "windowSeconds must be positive";
  const num = (x: unknown) => typeof x === "number" && Number.isFinite(x) && x >= 0;
  if (!o.usage || !num(o.usage.cpuNanoCores) || !num(o.usage.memoryBytes)) return "usage must carry cpuNanoCores and memoryBytes";
  if (!Array.isArray(o.pods)) return "pods must be a list";
  for (const p of o.pods) {
    if (!p || typeof p.namespace !== "string" || typeof p.name !== "string" || !Array.isArray(p.containers)) return "a pod lacks namespace, name or containers";
    for (const c of p.containers) if (!c || typeof c.name !== "string" || !num(c.cpuNanoCores) || !num(c.memoryBytes)) return `pod ${p.namespace}/${p.name} has a malformed container`;
  }
  return null;
}
