/**
 * ClusterIP and NodePort allocators. Pure bookkeeping (no I/O): the services manager rebuilds
 * them from the stored services at start (`markUsed`), then allocates for new services and
 * releases on delete. An address or port is never handed out while it is in use; allocation
 * walks forward from the last one handed out, so a just-released address is not reused at once
 * (a stale DNS answer or connection then finds nothing rather than a different service).
 */

/** The range is exhausted or the request is outside it. */
export class AllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AllocationError";
  }
}

/** IPv4 dotted quad → unsigned 32-bit integer; throws on anything else. */
export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new AllocationError(`not an IPv4 address: ${ip}`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new AllocationError(`not an IPv4 address: ${ip}`);
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

/** Unsigned 32-bit integer → dotted quad. */
export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Parses `a.b.c.d/len` into its network base and size. */
export function parseCidr(cidr: string): { base: number; size: number; prefix: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m) throw new AllocationError(`not an IPv4 CIDR: ${cidr}`);
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new AllocationError(`CIDR prefix must be /8 to /30: ${cidr}`);
  const size = 2 ** (32 - prefix);
  const base = (ipToInt(m[1]) & ~(size - 1)) >>> 0;
  return { base, size, prefix };
}

/** The default service range, as in kubeadm. */
export const DEFAULT_SERVICE_CIDR = "10.96.0.0/16";

/**
 * Hands out ClusterIPs from a CIDR. The network address, the first host address (.1, kept for
 * the cluster's own use, as Kubernetes gives it to the `kubernetes` service) and the broadcast
 * address are never handed out.
 */
export class ClusterIpAllocator {
  readonly cidr: string;
  private readonly base: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  private cursor = 2;

  constructor(cidr = DEFAULT_SERVICE_CIDR) {
    this.cidr = cidr;
    ({ base: this.base, size: this.size } = parseCidr(cidr));
  }

  /** True when `ip` is an allocatable address of this range. */
  contains(ip: string): boolean {
    let n: number;
    try {
      n = ipToInt(ip);
    } catch {
      return false;
    }
    const off = n - this.base;
    return off >= 2 && off < this.size - 1;
  }

  /** How many addresses remain free. */
  get free(): number {
    return this.size - 3 - this.used.size;
  }

  /** Records an address already held by a stored service. False if it was already marked. */
  markUsed(ip: string): boolean {
    if (!this.contains(ip)) return false;
    const n = ipToInt(ip);
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }

  isUsed(ip: string): boolean {
    return this.contains(ip) && this.used.has(ipToInt(ip));
  }

  /** The next free address; throws `AllocationError` when the range is full. */
  allocate(): string {
    const span = this.size - 3;
    for (let i = 0; i < span; i++) {
      const off = 2 + ((this.cursor - 2 + i) % span);
      const n = (this.base + off) >>> 0;
      if (!this.used.has(n)) {
        this.used.add(n);
        this.cursor = off + 1 >= this.size - 1 ? 2 : off + 1;
        return intToIp(n);
      }
    }
    throw new AllocationError(`no free ClusterIP left in ${this.cidr}`);
  }

  /** Returns an address to the pool (idempotent). */
  release(ip: string): void {
    if (this.contains(ip)) this.used.delete(ipToInt(ip));
  }
}

/** The Kubernetes default NodePort range. */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** Hands out node ports from a range (default 30000–32767), never one in use. */
export class NodePortAllocator {
  private readonly used = new Set<number>();
  private cursor: number;

  constructor(readonly min: number = NODE_PORT_RANGE.min, readonly max: number = NODE_PORT_RANGE.max) {
    if (!(Number.isInteger(min) && Number.isInteger(max) && min > 0 && max < 65536 && min <= max)) {
      throw new AllocationError(`invalid node port range ${min}-${max}`);
    }
    this.cursor = min;
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.min && port <= this.max;
  }

  /** Records a port already held by a stored service. False if outside the range or already held. */
  markUsed(port: number): boolean {
    if (!this.contains(port) || this.used.has(port)) return false;
    this.used.add(port);
    return true;
  }

  isUsed(port: number): boolean {
    return this.used.has(port);
  }

  allocate(): number {
    const span = this.max - this.min + 1;
    for (let i = 0; i < span; i++) {
      const p = this.min + ((this.cursor - this.min + i) % span);
      if (!this.used.has(p)) {
        this.used.add(p);
        this.cursor = p + 1 > this.max ? this.min : p + 1;
        return p;
      }
    }
    throw new AllocationError(`no free node port left in ${this.min}-${this.max}`);
  }

  release(port: number): void {
    this.used.delete(port);
  }
}

/** What a service was given by {@link allocateFor}: the service to store, and what to hand back if that fails. */
export interface Allocation<S> {
  /** The service with `spec.clusterIP(s)` and missing node ports filled in. */
  next: S;
  /** The ClusterIP taken for it, if one was. */
  clusterIP?: string;
  /** The node ports taken for it. */
  nodePorts: number[];
}

type AllocatableService = {
  spec: { clusterIP?: string; clusterIPs?: string[]; type?: string; ports?: { nodePort?: number }[] };
};

/**
 * The allocation decision for one service, pure except for the allocators' own bookkeeping:
 * a ClusterIP when `spec.clusterIP` is empty ("None" is headless and gets none), and a node
 * port for every port without one when the type listens on node ports (NodePort,
 * LoadBalancer). Undefined when nothing is missing. On an `AllocationError` whatever was taken
 * is released before the error is thrown, so a failed decision holds nothing.
 */
export function allocateFor<S extends AllocatableService>(svc: S, clusterIps: ClusterIpAllocator, nodePorts: NodePortAllocator): Allocation<S> | undefined {
  // An ExternalName service is only a DNS alias: no address, no node ports.
  if (svc.spec.type === "ExternalName") return undefined;
  const wantIp = !svc.spec.clusterIP;
  const nodePortTypes = svc.spec.type === "NodePort" || svc.spec.type === "LoadBalancer";
  const missing = nodePortTypes ? (svc.spec.ports ?? []).filter((p) => !p.nodePort).length : 0;
  if (!wantIp && missing === 0) return undefined;
  const next = structuredClone(svc);
  const taken: Allocation<S> = { next, nodePorts: [] };
  try {
    if (wantIp) {
      taken.clusterIP = clusterIps.allocate();
      next.spec.clusterIP = taken.clusterIP;
      next.spec.clusterIPs = [taken.clusterIP];
    }
    if (nodePortTypes) {
      for (const p of next.spec.ports ?? []) {
        if (p.nodePort) continue;
        p.nodePort = nodePorts.allocate();
        taken.nodePorts.push(p.nodePort);
      }
    }
    return taken;
  } catch (e) {
    releaseAllocation(taken, clusterIps, nodePorts);
    throw e;
  }
}

/** Hands back what {@link allocateFor} took (the store write failed). */
export function releaseAllocation(a: Pick<Allocation<unknown>, "clusterIP" | "nodePorts">, clusterIps: ClusterIpAllocator, nodePorts: NodePortAllocator): void {
  if (a.clusterIP) clusterIps.release(a.clusterIP);
  for (const p of a.nodePorts) nodePorts.release(p);
}
