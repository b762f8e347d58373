/**
 * The cluster DNS zone: pure name → records data, kept up to date by the service actors and read
 * by the DNS server (runtime/dns/server.ts). No I/O.
 *
 * Names served, for a service `name` in namespace `ns` under the cluster domain `D`, as CoreDNS's
 * kubernetes plugin serves them (the Kubernetes DNS specification):
 *   name.ns.svc.D                  A → the ClusterIP; headless → one A per ready endpoint, NXDOMAIN if none;
 *                                  ExternalName → a CNAME to spec.externalName, whatever the type asked
 *   ep.name.ns.svc.D               headless only: A → the ready endpoints named `ep`: an address's
 *                                  `hostname` (a pod whose spec.subdomain names the service), else its
 *                                  IP with dashes (10-0-0-5); NXDOMAIN for any other label
 *   _port._proto.name.ns.svc.D     SRV for each named port: → name.ns.svc.D:port; headless → one per
 *                                  ready endpoint with that port, → ep.name.ns.svc.D:<endpoint port>
 *   a-b-c-d.ns.pod.D               A → a.b.c.d for any IPv4 address (CoreDNS's `pods insecure`)
 *   ns.svc.D, svc.D, D, pod.D,     exist (empty answers), so resolvers walking the search list get
 *   ns.pod.D                       NODATA rather than a wrong NXDOMAIN for an existing parent
 *
 * Endpoint names are served for headless services only, as the specification defines them:
 * CoreDNS also answers them under services with a ClusterIP, which would make every endpoint
 * change of every service move `version` and flush the server's reply cache.
 */
import type { Endpoints } from "../../model/types.ts";

/** One answer record. `ttl` in seconds. */
export type DnsAnswer =
  | { type: "A"; name: string; ttl: number; address: string }
  | { type: "SRV"; name: string; ttl: number; priority: number; weight: number; port: number; target: string }
  | { type: "CNAME"; name: string; ttl: number; target: string };

/** The query types the zone understands; anything else gets NODATA for an existing name. */
export type QueryType = "A" | "AAAA" | "SRV" | "ANY" | string;

/** A port, for SRV: only named ones get a record. */
export interface DnsPort {
  name?: string;
  protocol?: string;
  port: number;
}

/** One ready address of a headless service. */
export interface DnsEndpoint {
  ip: string;
  /** The address's `hostname` in the Endpoints: its name under the service instead of the dashed IP. */
  hostname?: string;
  /** The address's ports (its subset's: the pod's ports, which SRV answers for a headless service). */
  ports: DnsPort[];
}

/** What the zone knows about one service. */
export interface ServiceDnsRecord {
  namespace: string;
  name: string;
  /** The address to answer (an effective ClusterIP); absent for a headless service. */
  clusterIP?: string;
  /** Headless: the ready endpoints (`dnsEndpointsOf`), answered in this order. */
  endpoints?: DnsEndpoint[];
  /** The service's ports, for the SRV records of a service with a ClusterIP. */
  ports: DnsPort[];
  /** For an ExternalName service: the name it is an alias of (no trailing dot, lower case). */
  externalName?: string;
}

/** The ready addresses of an Endpoints object, with their ports, as the zone takes them. */
export function dnsEndpointsOf(ep: Endpoints): DnsEndpoint[] {
  const out: DnsEndpoint[] = [];
  for (const subset of ep.subsets ?? []) {
    const ports = (subset.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? "TCP", port: p.port }));
    for (const a of subset.addresses ?? []) out.push({ ip: a.ip, ...(a.hostname ? { hostname: a.hostname } : {}), ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : (a.hostname ?? "").localeCompare(b.hostname ?? "")));
}

/** An endpoint's name under its service: its hostname, else its IP with dashes (CoreDNS's `endpointHostname`). */
export function endpointLabel(e: DnsEndpoint): string {
  return (e.hostname ?? e.ip.replaceAll(".", "-")).toLowerCase();
}

/** Default answer TTL, as CoreDNS's kubernetes plugin. */
export const DEFAULT_TTL = 5;

/** A service as the zone keeps it: the record, and the headless answers derived from it once. */
interface Entry {
  rec: ServiceDnsRecord;
  /** Headless: the ready IPs, each once, in the record's order. */
  ips: string[];
  /** Headless: the IPs of each endpoint name. */
  byLabel: Map<string, string[]>;
}

/** The zone; `lookup(name, type)` is what `startDnsServer` calls. */
export class DnsZone {
  readonly domain: string;
  private readonly services = new Map<string, Entry>();
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
    const next: ServiceDnsRecord = {
      ...rec,
      ...(rec.endpoints ? { endpoints: rec.endpoints.map((e) => ({ ...e, ports: e.ports.map((p) => ({ ...p })) })) } : {}),
      ports: rec.ports.map((p) => ({ ...p })),
    };
    if (prev && sameRecord(prev.rec, next)) return;
    if (!prev) this.namespaces.set(rec.namespace, (this.namespaces.get(rec.namespace) ?? 0) + 1);
    this.services.set(key, entryOf(next));
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
    if (name === this.domain || name === `svc.${this.domain}` || name === `pod.${this.domain}`) return [];
    if (name.endsWith(`.pod.${this.domain}`)) return this.lookupPod(name, type);
    if (!name.endsWith(suffix)) return "NXDOMAIN";
    const labels = name.slice(0, -suffix.length).split(".");
    if (labels.length === 1) return this.namespaces.has(labels[0]) ? [] : "NXDOMAIN";
    if (labels.length === 2) {
      const entry = this.services.get(`${labels[0]}.${labels[1]}`);
      if (!entry) return "NXDOMAIN";
      const svc = entry.rec;
      // An alias answers every type with its CNAME (RFC 1034 3.6.2), as CoreDNS does.
      if (svc.externalName) return svc.externalName === name ? [] : [{ type: "CNAME", name, ttl: this.ttl, target: svc.externalName }];
      const ips = svc.clusterIP !== undefined ? [svc.clusterIP] : entry.ips;
      return this.addresses(name, ips, type);
    }
    if (labels.length === 3) {
      const entry = this.services.get(`${labels[1]}.${labels[2]}`);
      if (!entry || entry.rec.externalName || entry.rec.clusterIP !== undefined) return "NXDOMAIN";
      return this.addresses(name, entry.byLabel.get(labels[0]) ?? [], type);
    }
    if (labels.length === 4 && labels[0].startsWith("_") && labels[1].startsWith("_")) {
      const entry = this.services.get(`${labels[2]}.${labels[3]}`);
      if (!entry || entry.rec.externalName) return "NXDOMAIN";
      const records = this.srv(name, entry.rec, labels[0].slice(1), labels[1].slice(1));
      if (records.length === 0) return "NXDOMAIN";
      return type === "SRV" || type === "ANY" ? records : [];
    }
    return "NXDOMAIN";
  }

  /** A records of `name` for `ips`: NXDOMAIN when there are none, NODATA for other types. */
  private addresses(name: string, ips: string[], type: QueryType): DnsAnswer[] | "NXDOMAIN" {
    if (ips.length === 0) return "NXDOMAIN";
    if (type !== "A" && type !== "ANY") return [];
    return ips.map((address) => ({ type: "A" as const, name, ttl: this.ttl, address }));
  }

  /**
   * The SRV records of one named port: the service name and port for a service with a ClusterIP;
   * one per ready endpoint for a headless one, targeting the endpoint's name, with its own port.
   * Weights split 100 between the records, as CoreDNS does (at least 1 each).
   */
  private srv(name: string, svc: ServiceDnsRecord, portName: string, proto: string): DnsAnswer[] {
    const matches = (p: DnsPort) => p.name?.toLowerCase() === portName && (p.protocol ?? "TCP").toLowerCase() === proto;
    const base = `${svc.name}.${svc.namespace}.svc.${this.domain}`.toLowerCase();
    const found: { target: string; port: number }[] = [];
    if (svc.clusterIP !== undefined) {
      const port = svc.ports.find(matches);
      if (port) found.push({ target: base, port: port.port });
    } else {
      for (const e of svc.endpoints ?? []) {
        for (const p of e.ports) if (matches(p)) found.push({ target: `${endpointLabel(e)}.${base}`, port: p.port });
      }
    }
    const weight = Math.max(1, Math.floor(100 / Math.max(1, found.length)));
    const seen = new Set<string>();
    const out: DnsAnswer[] = [];
    for (const f of found) {
      const k = `${f.target}:${f.port}`;
      if (seen.has(k)) continue; // Two pods with one hostname: one record, whose name has both IPs.
      seen.add(k);
      out.push({ type: "SRV", name, ttl: this.ttl, priority: 0, weight, port: f.port, target: f.target });
    }
    return out;
  }

  /** `a-b-c-d.ns.pod.D` → A a.b.c.d; `ns.pod.D` exists. Any namespace: the zone knows only those with services. */
  private lookupPod(name: string, type: QueryType): DnsAnswer[] | "NXDOMAIN" {
    const labels = name.slice(0, -`.pod.${this.domain}`.length).split(".");
    if (labels.some((l) => l === "")) return "NXDOMAIN";
    if (labels.length === 1) return [];
    if (labels.length !== 2) return "NXDOMAIN";
    const address = dashedIPv4(labels[0]);
    return address === undefined ? "NXDOMAIN" : this.addresses(name, [address], type);
  }
}

/** `10-0-0-5` → `10.0.0.5`; undefined unless it is four decimal octets without leading zeros. */
function dashedIPv4(label: string): string | undefined {
  const parts = label.split("-");
  if (parts.length !== 4) return undefined;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
  }
  return parts.join(".");
}

function entryOf(rec: ServiceDnsRecord): Entry {
  const ips: string[] = [];
  const byLabel = new Map<string, string[]>();
  if (rec.clusterIP === undefined && !rec.externalName) {
    const seen = new Set<string>();
    for (const e of rec.endpoints ?? []) {
      if (!seen.has(e.ip)) {
        seen.add(e.ip);
        ips.push(e.ip);
      }
      const label = endpointLabel(e);
      const list = byLabel.get(label) ?? [];
      if (!list.includes(e.ip)) list.push(e.ip);
      byLabel.set(label, list);
    }
  }
  return { rec, ips, byLabel };
}

const samePorts = (a: DnsPort[], b: DnsPort[]) =>
  a.length === b.length && a.every((p, i) => p.name === b[i].name && p.protocol === b[i].protocol && p.port === b[i].port);

function sameRecord(a: ServiceDnsRecord, b: ServiceDnsRecord): boolean {
  const ae = a.endpoints ?? [];
  const be = b.endpoints ?? [];
  return (
    a.namespace === b.namespace &&
    a.name === b.name &&
    a.clusterIP === b.clusterIP &&
    a.externalName === b.externalName &&
    ae.length === be.length &&
    ae.every((e, i) => e.ip === be[i].ip && e.hostname === be[i].hostname && samePorts(e.ports, be[i].ports)) &&
    samePorts(a.ports, b.ports)
  );
}
