/**
 * What a node's proxy and DNS make of a Service's EndpointSlices (pure): kube-proxy's
 * EndpointSliceCache and CoreDNS's reading of the same slices, given as one Endpoints-shaped
 * object, the form the dataplanes take (runtime/service_proxy.ts, runtime/proxy/nft_dataplane.ts).
 *
 *   the Service's slices (label kubernetes.io/service-name, any writer) ──▶ endpointsFromSlices
 *     IPv4 slices only (FQDN and IPv6 ones are not proxied, as kube-proxy on an IPv4 node)
 *     each endpoint's first address; ready unless `conditions.ready` is false (nil is ready)
 *     an address in two slices with the same ports counts once (ready if ready in either)
 *     ClusterIP services: a port with no ready endpoint uses the serving, terminating ones
 *       (kube-proxy's terminating fallback, so connections drain during a rollout)
 *     headless services: ready endpoints only (CoreDNS answers no terminating address)
 *     `berth.dev/host-endpoints` of every slice merged (host ports for other machines)
 *
 * Slices are what Kubernetes' proxies read; the Endpoints API is kept for its readers, but a
 * Service whose slices someone else writes (a selectorless Service with hand-written slices, or
 * another controller's) routes by them too.
 */
import type { EndpointAddress, EndpointPort, Endpoints, EndpointSlice, EndpointSubset, Service } from "../model/types.ts";
import { type HostEndpoint, hostEndpointsAnnotation, hostEndpointsOf } from "./service_endpoints.ts";
import { SERVICE_NAME_LABEL } from "./endpointslice_decide.ts";

/** The `namespace/name` of the Service `slice` belongs to, or undefined when it names none. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return svc ? `${slice.metadata.namespace ?? "default"}/${svc}` : undefined;
}

interface Group {
  ports: EndpointPort[];
  ready: Map<string, EndpointAddress>;
  /** Serving and terminating: used for a port with no ready endpoint (ClusterIP services only). */
  draining: Map<string, EndpointAddress>;
  notReady: Map<string, EndpointAddress>;
}

const portKey = (p: EndpointPort) => `${p.name ?? ""}/${p.protocol ?? "TCP"}`;
const byIp = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);

/** The endpoints of `svc` as its slices give them, in the Endpoints form the dataplanes read. */
export function endpointsFromSlices(svc: Service, slices: readonly EndpointSlice[]): Endpoints {
  const ns = svc.metadata.namespace ?? "default";
  const headless = svc.spec.clusterIP === "None";
  const groups = new Map<string, Group>();
  const hosts: Record<string, HostEndpoint> = {};
  for (const slice of slices) {
    if (slice.addressType !== "IPv4" || (slice.metadata.namespace ?? "default") !== ns || slice.metadata.labels?.[SERVICE_NAME_LABEL] !== svc.metadata.name) continue;
    // A port without a number carries no traffic (kube-proxy skips it too); nor does SCTP here.
    const ports: EndpointPort[] = (slice.ports ?? []).flatMap((p) => {
      const protocol = p.protocol ?? "TCP";
      return p.port === undefined || protocol === "SCTP" ? [] : [{ ...(p.name ? { name: p.name } : {}), port: p.port, protocol }];
    });
    ports.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port);
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: new Map(), draining: new Map(), notReady: new Map() }));
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip) continue;
      const ready = e.conditions?.ready !== false;
      const serving = e.conditions?.serving ?? ready;
      const address: EndpointAddress = {
        ip,
        ...(e.hostname ? { hostname: e.hostname } : {}),
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
        ...(e.targetRef ? { targetRef: { ...e.targetRef } } : {}),
      };
      if (ready) {
        g.ready.set(ip, address);
        g.draining.delete(ip);
        g.notReady.delete(ip);
      } else if (!g.ready.has(ip)) {
        if (serving && e.conditions?.terminating) g.draining.set(ip, address);
        else if (!g.draining.has(ip)) g.notReady.set(ip, address);
      }
    }
    Object.assign(hosts, hostEndpointsOf(slice));
  }

  // The ports that have at least one ready endpoint somewhere.
  const served = new Set<string>();
  for (const g of groups.values()) if (g.ready.size > 0) for (const p of g.ports) served.add(portKey(p));

  const subsets: EndpointSubset[] = [];
  const fallback: EndpointSubset[] = [];
  for (const [, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const notReady = [...g.notReady.values()];
    // Terminating endpoints of a port nobody ready serves carry its new connections until they go.
    const drainPorts = headless ? [] : g.ports.filter((p) => !served.has(portKey(p)));
    if (drainPorts.length > 0 && g.draining.size > 0) {
      fallback.push({ addresses: [...g.draining.values()].sort(byIp), ports: drainPorts });
      if (drainPorts.length < g.ports.length) notReady.push(...g.draining.values());
    } else {
      notReady.push(...g.draining.values());
    }
    if (g.ready.size === 0 && notReady.length === 0) continue;
    subsets.push({
      ...(g.ready.size ? { addresses: [...g.ready.values()].sort(byIp) } : {}),
      ...(notReady.length ? { notReadyAddresses: notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    });
  }
  subsets.push(...fallback);

  const annotations = hostEndpointsAnnotation(hosts);
  return { apiVersion: "v1", kind: "Endpoints", metadata: { name: svc.metadata.name, namespace: ns, ...(annotations ? { annotations } : {}) }, subsets };
}
