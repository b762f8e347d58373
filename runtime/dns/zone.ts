/**
 * The cluster DNS zone: pure name → records data, kept up to date by the service actors and read
 * by the DNS server (runtime/dns/server.ts). No I/O.
 *
 * Names served, for a service `name` in namespace `ns` under the cluster domain `D`:
 *   name.ns.svc.D                  A → the ClusterIP; headless → one A per ready pod, NXDOMAIN if none;
 *                                  ExternalName → a CNAME to spec.externalName, whatever the type asked
 *   _port._proto.name.ns.svc.D     SRV for each named port → name.ns.svc.D:port
 *   ns.svc.D, svc.D, D             exist (empty answers), so resolvers walking the search list get
 *                                  NODATA rather than a wrong NXDOMAIN for an existing parent
 */

/** One answer record. `ttl` in seconds. */
export type DnsAnswer =
  | { type: "A"; name: string; ttl: number; address: string }
  | { type: "SRV"; name: string; ttl: number; priority: number; weight: number; port: number; target: string }
  | { type: "CNAME"; name: string; ttl: number; target: string };

/** The query types the zone understands; anything else gets NODATA for an existing name. */
export type QueryType = "A" | "AAAA" | "SRV" | "ANY" | string;

/** What the zone knows about one service. */
export interface ServiceDnsRecord {
  namespace: string;
  name: string;
  /** The address to answer (an effective ClusterIP); absent for a headless service. */
  clusterIP?: string;
  /** Ready pod IPs; answered for headless services. */
  readyIPs: string[];
  /** Ports, for SRV: only named ones get a record. */
  ports: { name?: string; protocol?: string; port: number }[];
  /** For an ExternalName service: the name it is an alias of (no trailing dot, lower case). */
  externalName?: string;
}

/** Default answer TTL, as CoreDNS's kubernetes plugin. */
export const DEFAULT_TTL = 5;

/** The zone; `lookup(name, type)` is what `startDnsServer` calls. */
export class DnsZone {
  readonly domain: string;
  private readonly services = new Map<string, ServiceDnsRecord>();
  private readonly namespaces = new Map<string, number>();
  private changes = 0;

  constructor(domain = "cluster.local", readonly ttl = DEFAULT_TTL) {
    this.domain = domain.toLowerCase().replace(/\.$/, "");
  }

  /**
   * A counter that moves whenever an answer may change (a record added, changed or removed), so
   * the DNS server knows when its cache of encoded replies is stale. Setting an identical record
   * does not move it: the service actors re-apply unchanged services often.
   */
  get version(): number {
    return this.changes;
  }

  /** Adds or replaces the record of one service. */
  set(rec: ServiceDnsRecord): void {
    const key = `${rec.name}.${rec.namespace}`.toLowerCase();
    const prev = this.services.get(key);
    const next = { ...rec, readyIPs: [...rec.readyIPs], ports: rec.ports.map((p) => ({ ...p })) };
    if (prev && sameRecord(prev, next)) return;
    if (!prev) this.namespaces.set(rec.namespace, (this.namespaces.get(rec.namespace) ?? 0) + 1);
    this.services.set(key, next);
    this.changes++;
  }

  /** Removes one service (idempotent). */
  delete(namespace: string, name: string): void {
    const key = `${name}.${namespace}`.toLowerCase();
    if (!this.services.delete(key)) return;
    this.changes++;
    const n = (this.namespaces.get(namespace) ?? 1) - 1;
    if (n <= 0) this.namespaces.delete(namespace);
    else this.namespaces.set(namespace, n);
  }

  get size(): number {
    return this.services.size;
  }

  /**
   * Answers for a fully qualified name (no trailing dot, any case) inside the cluster domain:
   * a list (empty = the name exists but has no record of that type), or "NXDOMAIN".
   */
  lookup(fqdn: string, type: QueryType): DnsAnswer[] | "NXDOMAIN" {
    const name = fqdn.toLowerCase().replace(/\.$/, "");
    const suffix = `.svc.${this.domain}`;
    if (name === this.domain || name === `svc.${this.domain}`) return [];
    if (!name.endsWith(suffix)) return "NXDOMAIN";
    const labels = name.slice(0, -suffix.length).split(".");
    if (labels.length === 1) return this.namespaces.has(labels[0]) ? [] : "NXDOMAIN";
    if (labels.length === 2) {
      const svc = this.services.get(`${labels[0]}.${labels[1]}`);
      if (!svc) return "NXDOMAIN";
      // An alias answers every type with its CNAME (RFC 1034 3.6.2), as CoreDNS does.
      if (svc.externalName) return svc.externalName === name ? [] : [{ type: "CNAME", name, ttl: this.ttl, target: svc.externalName }];
      if (svc.clusterIP === undefined && svc.readyIPs.length === 0) return "NXDOMAIN";
      if (type !== "A" && type !== "ANY") return [];
      const ips = svc.clusterIP !== undefined ? [svc.clusterIP] : svc.readyIPs;
      return ips.map((address) => ({ type: "A" as const, name, ttl: this.ttl, address }));
    }
    if (labels.length === 4 && labels[0].startsWith("_") && labels[1].startsWith("_")) {
      const svc = this.services.get(`${labels[2]}.${labels[3]}`);
      if (!svc || svc.externalName) return "NXDOMAIN";
      const portName = labels[0].slice(1);
      const proto = labels[1].slice(1);
      const port = svc.ports.find((p) => p.name?.toLowerCase() === portName && (p.protocol ?? "TCP").toLowerCase() === proto);
      if (!port) return "NXDOMAIN";
      if (svc.clusterIP === undefined && svc.readyIPs.length === 0) return "NXDOMAIN";
      if (type !== "SRV" && type !== "ANY") return [];
      const target = `${labels[2]}.${labels[3]}${suffix}`;
      return [{ type: "SRV", name, ttl: this.ttl, priority: 0, weight: 100, port: port.port, target }];
    }
    return "NXDOMAIN";
  }
}

function sameRecord(a: ServiceDnsRecord, b: ServiceDnsRecord): boolean {
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.clusterIP === b.clusterIP &&
    a.externalName === b.externalName &&
    a.readyIPs.length === b.readyIPs.length &&
    a.readyIPs.every((ip, i) => ip === b.readyIPs[i]) &&
    a.ports.length === b.ports.length &&
    a.ports.every((p, i) => p.name === b.ports[i].name && p.protocol === b.ports[i].protocol && p.port === b.ports[i].port)
  );
}
