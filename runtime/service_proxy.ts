/**
 * The service proxy of one machine (kube-proxy and the node's cluster DNS): the DNS server,
 * ClusterIP addresses and one TCP proxy per service port, kept in step with the Services and
 * EndpointSlices the API holds through two informers — the same code in `berth up` and
 * `berth node`. It only reads: ClusterIPs and node ports are written by the service controller
 * in the control plane (runtime/service_controller.ts), slices by the endpointslice controllers
 * (actors/endpointslice_controller.ts) or by whoever manages a selectorless Service's endpoints.
 *
 *   Services informer ───────┐
 *                            ├─▶ sync(namespace/name) ─▶ ServiceDataplane.apply / remove (retried on failure)
 *   EndpointSlices informer ─┘   (the Service's slices,    └─ LocalDataplane: ClusterIP on lo, TcpProxy per port, DNS zone
 *                                 by kubernetes.io/service-name: actors/slice_view.ts)
 *
 * Where a proxy sends a connection (DESIGN.md, Addresses): to the pod's IP and container port
 * when that IP is on a network attached to this machine (the berth bridge), otherwise to the
 * node-published `hostIP:hostPort` from the slices' `berth.dev/host-endpoints` annotation.
 */
import os from "node:os";
import type { ApiClient } from "../model/client.ts";
import { objectKey } from "../model/names.ts";
import type { Endpoints, EndpointSlice, Service } from "../model/types.ts";
import { Informer } from "../actors/informer_cache.ts";
import { externalNameOf, usesNodePorts } from "../actors/service.ts";
import { type Backend, backendsForPort } from "../actors/service_endpoints.ts";
import { endpointsFromSlices, sliceServiceKey } from "../actors/slice_view.ts";
import { ipToInt, parseCidr } from "../actors/service_ip_allocator.ts";
import { type DnsServer, startDnsServer } from "./dns/server.ts";
import { DnsZone, dnsEndpointsOf } from "./dns/zone.ts";
import { ClusterIpAssigner, type ClusterIpMode } from "./net/cluster_ip.ts";
import { TcpProxy } from "./proxy/tcp_proxy.ts";
import { NftDataplane } from "./proxy/nft_dataplane.ts";
import { ensureHairpin } from "./net/hairpin.ts";
import { type ProxiedPort, proxyMetrics } from "./metrics/proxy.ts";

import type { Log } from "../model/log.ts";
import { Cleanups } from "./async.ts";

/** Kubernetes' default ClientIP affinity timeout (3 hours). */
const DEFAULT_AFFINITY_SECONDS = 10800;

/** True when `ip` lies in the subnet of an IPv4 address configured on this machine. */
export function isOnLocalNetwork(ip: string): boolean {
  let n: number;
  try {
    n = ipToInt(ip);
  } catch {
    return false;
  }
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family !== "IPv4" || !a.cidr) continue;
      const { base, size } = parseCidr(a.cidr.replace(/\/(3[12])$/, "/30"));
      if (n >= base && n < base + size) return true;
    }
  }
  return false;
}

/**
 * Where to dial one backend from this machine: the pod IP when it is on a local network, else
 * its node-published host port; undefined when neither is reachable (such a backend is left out
 * rather than dialed blindly at an address that may not even be ours).
 */
export function dialTarget(b: Backend, isLocal: (ip: string) => boolean): { host: string; port: number; key: string } | undefined {
  const key = b.pod ?? `${b.ip}:${b.port}`;
  if (isLocal(b.ip)) return { host: b.ip, port: b.port, key };
  if (b.hostIP && b.hostPort) return { host: b.hostIP, port: b.hostPort, key };
  return undefined;
}

/**
 * What a machine's service data path does with one service: proxies (or kernel rules), ClusterIP
 * addresses, DNS records. Fed only by `followServices` below.
 */
export interface ServiceDataplane {
  /** Makes the data path match the service and its endpoints (idempotent). */
  apply(service: Service, endpoints: Endpoints): Promise<void>;
  /** Tears down everything for `namespace/name` (idempotent). */
  remove(namespace: string, name: string): Promise<void>;
  /** Tears down every service (shutdown). */
  removeAll(): Promise<void>;
}

interface Served {
  signature: string;
  clusterIP?: string;
  proxies: { port: NonNullable<Service["spec"]["ports"]>[number]; proxy: TcpProxy }[];
}

export interface LocalDataplaneOptions {
  zone: DnsZone;
  assigner: ClusterIpAssigner;
  nodeAddress: string;
  isLocal?: (ip: string) => boolean;
  log: Log;
}

/** Proxies, ClusterIP addresses and DNS records of this machine, per service. */
export class LocalDataplane implements ServiceDataplane {
  private readonly served = new Map<string, Served>();
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly isLocal: (ip: string) => boolean;
  private closed = false;

  constructor(private readonly opts: LocalDataplaneOptions) {
    this.isLocal = opts.isLocal ?? isOnLocalNetwork;
  }

  /** The proxies of one service (for stats and tests). */
  proxiesOf(namespace: string, name: string): TcpProxy[] {
    return this.served.get(`${namespace}/${name}`)?.proxies.map((p) => p.proxy) ?? [];
  }

  /** Every proxied service port with its counters (metrics, read at each scrape). */
  *servicePorts(): Iterable<ProxiedPort> {
    for (const [service, s] of this.served) for (const p of s.proxies) yield { service, port: p.port.port, stats: p.proxy.stats };
  }

  /** Runs `fn` after any earlier operation on the same service. */
  private serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.catch(() => {}).then(fn);
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    }).catch(() => {});
    return next;
  }

  apply(svc: Service, ep: Endpoints): Promise<void> {
    const ns = svc.metadata.namespace ?? "default";
    const key = `${ns}/${svc.metadata.name}`;
    return this.serialize(key, () => this.applyNow(key, ns, svc, ep));
  }

  remove(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    return this.serialize(key, async () => {
      this.opts.zone.delete(namespace, name);
      await this.teardown(key);
    });
  }

  /** Tears down every service (shutdown). */
  async removeAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.served.keys()].map((k) => {
      const [ns, name] = k.split("/");
      return this.remove(ns, name);
    }));
  }

  private async teardown(key: string): Promise<void> {
    const s = this.served.get(key);
    if (!s) return;
    this.served.delete(key);
    await Promise.all(s.proxies.map((p) => p.proxy.stop()));
    if (s.clusterIP) await this.opts.assigner.release(s.clusterIP);
  }

  private async applyNow(key: string, ns: string, svc: Service, ep: Endpoints): Promise<void> {
    if (this.closed) return; // Shutting down: a late pass must not reopen listeners.
    const externalName = externalNameOf(svc);
    if (externalName !== undefined) {
      // A DNS alias: nothing to listen on (it may have been another type before).
      await this.teardown(key);
      this.opts.zone.set({ namespace: ns, name: svc.metadata.name, ports: [], externalName });
      return;
    }
    const clusterIP = svc.spec.clusterIP;
    const headless = clusterIP === "None";
    if (!clusterIP) return; // Not allocated yet: the actor's next pass brings it.
    const ports = svc.spec.ports ?? [];
    const affinity = svc.spec.sessionAffinity === "ClientIP" ? (svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : 0;
    const signature = JSON.stringify([clusterIP, svc.spec.type, ports.map((p) => [p.name, p.protocol, p.port, usesNodePorts(svc) ? p.nodePort : 0])]);

    let served = this.served.get(key);
    if (served && served.signature !== signature) {
      await this.teardown(key);
      served = undefined;
    }
    if (!served) {
      served = { signature, proxies: [] };
      if (!headless) {
        const address = await this.opts.assigner.acquire(clusterIP);
        served.clusterIP = clusterIP;
        try {
          for (const port of ports) {
            if ((port.protocol ?? "TCP") !== "TCP") {
              this.opts.log("service port not proxied: only TCP is", { service: key, port: port.port, protocol: port.protocol });
              continue;
            }
            const listen = [{ host: address, port: port.port }];
            if (usesNodePorts(svc) && port.nodePort) listen.push({ host: this.opts.nodeAddress, port: port.nodePort });
            const proxy = new TcpProxy({ listen, name: `${key}:${port.port}`, affinityTimeoutSeconds: affinity, log: this.opts.log });
            served.proxies.push({ port, proxy });
            await proxy.start();
          }
        } catch (e) {
          this.served.set(key, served);
          await this.teardown(key);
          throw e;
        }
      }
      this.served.set(key, served);
      this.opts.log("service proxied", { service: key, clusterIP, ports: served.proxies.map((p) => p.proxy.addresses) });
    }
    for (const { port, proxy } of served.proxies) {
      proxy.setAffinity(affinity);
      proxy.setEndpoints(backendsForPort(ep, port).flatMap((b) => dialTarget(b, this.isLocal) ?? []));
    }
    this.opts.zone.set({
      namespace: ns,
      name: svc.metadata.name,
      clusterIP: headless ? undefined : this.opts.assigner.addressFor(clusterIP),
      ...(headless ? { endpoints: dnsEndpointsOf(ep) } : {}),
      ports: ports.map((p) => ({ name: p.name, protocol: p.protocol, port: p.port })),
    });
  }
}

/** Keeps a dataplane in step with the Services and EndpointSlices the API holds. */
export async function followServices(client: ApiClient, dataplane: ServiceDataplane, log: Log, retryMs = 1_000, synced?: (seconds: number) => void): Promise<{ stop(): Promise<void> }> {
  const services = new Informer(client, "services", { log });
  const slices = new Informer(client, "endpointslices", { log });
  await Promise.all([services.start(), slices.start()]);
  const retries = new Map<string, ReturnType<typeof setTimeout>>();
  let stopped = false;
  /** Slice keys by the Service they name, and the Service each slice was filed under. */
  const slicesOf = new Map<string, Set<string>>();
  const filedUnder = new Map<string, string>();
  const file = (slice: EndpointSlice, gone: boolean): string[] => {
    const key = objectKey(slice);
    const before = filedUnder.get(key);
    const now = gone ? undefined : sliceServiceKey(slice);
    if (before !== now) {
      if (before) slicesOf.get(before)?.delete(key);
      if (before && slicesOf.get(before)?.size === 0) slicesOf.delete(before);
      if (now) {
        let set = slicesOf.get(now);
        if (!set) slicesOf.set(now, (set = new Set()));
        set.add(key);
        filedUnder.set(key, now);
      } else filedUnder.delete(key);
    }
    return [...new Set([before, now].filter((k): k is string => k !== undefined))];
  };
  for (const s of slices.list()) file(s, false);
  const endpointsOf = (svc: Service, key: string): Endpoints =>
    endpointsFromSlices(svc, [...(slicesOf.get(key) ?? [])].flatMap((k) => slices.get(k) ?? []));

  const sync = (key: string) => {
    if (stopped) return;
    const t = retries.get(key);
    if (t) clearTimeout(t);
    retries.delete(key);
    const svc: Service | undefined = services.get(key);
    const slash = key.indexOf("/");
    const t0 = performance.now();
    const done = svc
      ? dataplane.apply(svc, endpointsOf(svc, key))
      : dataplane.remove(key.slice(0, slash) || "default", key.slice(slash + 1));
    done.then(() => synced?.((performance.now() - t0) / 1000), (e: unknown) => {
      // A listener that cannot bind yet (address being assigned, port briefly busy): try again.
      log("service dataplane update failed; retrying", { service: key, error: String(e) });
      if (!stopped) retries.set(key, setTimeout(() => sync(key), retryMs));
    });
  };

  const unsubs = [
    services.subscribe((ev) => sync(objectKey(ev.object))),
    slices.subscribe((ev) => {
      for (const key of file(ev.object, ev.type === "DELETED")) sync(key);
    }),
  ];
  for (const s of services.list()) sync(objectKey(s));
  return {
    async stop() {
      stopped = true;
      for (const u of unsubs) u();
      for (const t of retries.values()) clearTimeout(t);
      await Promise.all([services.stop(), slices.stop()]);
      await dataplane.removeAll();
    },
  };
}

export interface ServiceProxyOptions {
  client: ApiClient;
  /** DNS request metrics (coredns_*) and the proxy's (kubeproxy_*, berth_proxy_*); none by default. */
  metrics?: import("../model/metrics.ts").Metrics;
  /** For logs: the node this proxy runs beside. */
  nodeName?: string;
  /** Where DNS listens: loopback for the host, the berth bridge gateway (port 53) for pods. */
  dnsAddresses: { host: string; port: number }[];
  /** For NodePort/LoadBalancer listeners (default 127.0.0.1). */
  nodeAddress?: string;
  /** Add ClusterIPs to `lo` (default: when root). Otherwise they are served on 127.x stand-ins. */
  assignClusterIps?: boolean;
  domain?: string;
  /** Whether a pod IP is directly reachable from here (default: on a local interface's subnet). */
  isLocalAddress?: (ip: string) => boolean;
  /**
   * "userspace" (default): a TCP proxy per service port. "nftables": kernel DNAT rules in
   * Berth's own table (runtime/proxy/nft_dataplane.ts; needs root). See docs/services.md.
   */
  proxyMode?: ProxyMode;
  /** nftables mode: the table's name (default "berth"). */
  nftTable?: string;
  /** nftables mode: pod bridges (by gateway address) whose ports get hairpin mode (runtime/net/hairpin.ts). */
  hairpinGateways?: string[];
  log?: Log;
}

export type ProxyMode = "userspace" | "nftables";
export const PROXY_MODES: readonly ProxyMode[] = ["userspace", "nftables"];

/** Hairpin mode on the ports of these gateways' bridges (undefined when there are none). */
function hairpinOf(gateways: string[] | undefined): (() => Promise<string[]>) | undefined {
  if (!gateways?.length) return undefined;
  return async () => (await Promise.all(gateways.map((g) => ensureHairpin(g)))).flat();
}

/** Checks a `--proxy-mode` value. */
export function parseProxyMode(v: unknown): ProxyMode {
  if (v === undefined) return "userspace";
  if (typeof v === "string" && (PROXY_MODES as readonly string[]).includes(v)) return v as ProxyMode;
  throw new Error(`--proxy-mode must be ${PROXY_MODES.join(" or ")}, got ${JSON.stringify(v)}`);
}

export interface ServiceProxy {
  /** The first DNS address's port (the one to put in cluster.json). */
  dnsPort: number;
  dnsAddresses: { host: string; port: number }[];
  clusterIpMode: ClusterIpMode;
  proxyMode: ProxyMode;
  zone: DnsZone;
  dataplane: LocalDataplane | NftDataplane;
  dns: DnsServer;
  stop(): Promise<void>;
}

/** Starts DNS, the ClusterIP assigner, the dataplane and the Services/EndpointSlices informers feeding it. */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const log: Log = (m, f) => (opts.log ?? (() => {}))(m, { component: "service-proxy", ...(opts.nodeName ? { node: opts.nodeName } : {}), ...f });
  const zone = new DnsZone(opts.domain ?? "cluster.local");
  const proxyMode = opts.proxyMode ?? "userspace";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (proxyMode === "nftables" && !isRoot) throw new Error("--proxy-mode nftables needs root (it writes nftables rules and adds ClusterIPs to lo)");
  const assigner = new ClusterIpAssigner({ assign: proxyMode === "nftables" ? true : opts.assignClusterIps, log });
  const nodeAddress = opts.nodeAddress ?? "127.0.0.1";
  const isLocal = opts.isLocalAddress ?? isOnLocalNetwork;
  const dataplane = proxyMode === "nftables"
    ? new NftDataplane({ zone, assigner, table: opts.nftTable, dialTarget: (b) => dialTarget(b, isLocal), hairpin: hairpinOf(opts.hairpinGateways), log })
    : new LocalDataplane({ zone, assigner, nodeAddress, isLocal, log });
  const cleanups = new Cleanups((e) => log("service proxy shutdown step failed", { error: String(e) }));
  const stopAll = () => cleanups.run();
  try {
    const dns = await startDnsServer({
      addresses: opts.dnsAddresses,
      domain: zone.domain,
      lookup: (name, type) => zone.lookup(name, type),
      version: () => zone.version,
      metrics: opts.metrics,
      onError: (e, kind) => {
        if (kind === "lookup" || kind === "socket") log("dns error", { kind, error: e.message });
      },
    });
    cleanups.push(() => dns.close());
    cleanups.push(() => assigner.releaseAll());
    cleanups.push(() => dataplane.removeAll());
    // nftables: a stale table from a crash is replaced before the first service is synced.
    if (dataplane instanceof NftDataplane) await dataplane.start();
    const pm = opts.metrics ? proxyMetrics(opts.metrics, () => (dataplane instanceof LocalDataplane ? dataplane.servicePorts() : [])) : undefined;
    const follower = await followServices(opts.client, dataplane, log, undefined, pm?.synced);
    cleanups.push(() => follower.stop());
    return {
      dnsPort: dns.addresses[0]?.port ?? 0,
      dnsAddresses: dns.addresses,
      clusterIpMode: assigner.mode,
      proxyMode,
      zone,
      dataplane,
      dns,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
