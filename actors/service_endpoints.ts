/**
 * Pure endpoint computation for a Service: which pods back it, on which ports, and where the
 * proxy should dial each one. No I/O, no clock: the service actor calls these and writes the
 * result through the API.
 *
 * Kubernetes' Endpoints object has no field for the node-published host port of a pod, which is
 * what a proxy on another machine must dial (DESIGN.md, Addresses). Berth records it in the
 * annotation `berth.dev/host-endpoints` on the Endpoints object:
 *
 *   { "<podIP>": { "hostIP": "127.0.0.1", "hostPorts": { "<containerPort>/TCP": 32768 } } }
 *
 * The pod side of the same fact is the pod annotation `berth.dev/host-ports`
 * (`{"<containerPort>/TCP": hostPort}`), written by the node agent, plus `status.hostIP`.
 */
import type {
  EndpointAddress,
  EndpointPort,
  Endpoints,
  EndpointSubset,
  Pod,
  Service,
  ServicePort,
} from "../model/types.ts";
import { isPodReady, publishedHostPorts } from "../model/pod.ts";
import { mapMatches } from "../model/selector.ts";
/** Endpoints annotation written by the service actor: per pod IP, its host IP and host ports. */
export const HOST_ENDPOINTS_ANNOTATION = "berth.dev/host-endpoints";

/** One address's host-side reachability, as stored in `berth.dev/host-endpoints`. */
export interface HostEndpoint {
  hostIP?: string;
  hostPorts: Record<string, number>;
}

/**
 * The container port a service port targets on one pod: a number is taken as is, a name is looked
 * up among the pod's container ports (with the same protocol). Undefined when the name is absent.
 */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === "number") return target;
  if (/^\d+$/.test(target)) return Number(target);
  const proto = sp.protocol ?? "TCP";
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? "TCP") === proto) return p.containerPort;
    }
  }
  return undefined;
}

/**
 * The `hostname` an address of `pod` carries in the Endpoints of `service`, as Kubernetes'
 * endpoints controller sets it (`ShouldSetHostname`): the pod's `spec.hostname`, when the pod
 * has one and its `spec.subdomain` names this service in the pod's own namespace. The cluster
 * DNS then answers `<hostname>.<service>.<ns>.svc.<domain>` with that pod's IP.
 */
export function endpointHostname(pod: Pod, service: Service): string | undefined {
  const hostname = pod.spec.hostname;
  if (!hostname || pod.spec.subdomain !== service.metadata.name) return undefined;
  if ((pod.metadata.namespace ?? "default") !== (service.metadata.namespace ?? "default")) return undefined;
  return hostname;
}

function addressOf(pod: Pod, service: Service): EndpointAddress {
  const hostname = endpointHostname(pod, service);
  return {
    ip: pod.status!.podIP!,
    ...(hostname ? { hostname } : {}),
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: {
      kind: "Pod",
      name: pod.metadata.name,
      ...(pod.metadata.namespace ? { namespace: pod.metadata.namespace } : {}),
      ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
    },
  };
}

/**
 * True when `pod` can back `service`: in its namespace, picked by its selector, with an IP, and
 * not finished. (Endpoints leave out a terminating pod too; EndpointSlices keep it, marked.)
 */
export function backsService(service: Service, pod: Pod): boolean {
  if ((pod.metadata.namespace ?? "default") !== (service.metadata.namespace ?? "default")) return false;
  if (!mapMatches(service.spec.selector, pod.metadata.labels) || !pod.status?.podIP) return false;
  return pod.status.phase !== "Succeeded" && pod.status.phase !== "Failed";
}

/**
 * Where `pod` publishes the container `ports` (each `{port, protocol}`) on its node: its host IP
 * and the host ports the node agent recorded; undefined when it publishes none of them.
 */
export function hostEndpointOf(pod: Pod, ports: readonly { port?: number; protocol?: string }[]): HostEndpoint | undefined {
  const published = publishedHostPorts(pod);
  const hostPorts: Record<string, number> = {};
  for (const p of ports) {
    const k = `${p.port}/${p.protocol ?? "TCP"}`;
    if (published[k] !== undefined) hostPorts[k] = published[k];
  }
  if (Object.keys(hostPorts).length === 0) return undefined;
  const hostIP = pod.status?.hostIP;
  return { ...(hostIP ? { hostIP } : {}), hostPorts };
}

const byIp = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0);

/**
 * The Endpoints object of `service` given the pods of its namespace. Only pods that match the
 * selector, have an IP and are not terminating are listed; ready ones under `addresses`, the rest
 * under `notReadyAddresses`, each with its `hostname` when `endpointHostname` gives one. Pods are
 * grouped into subsets by their resolved port set (a named targetPort may resolve differently per
 * pod); a pod that resolves none of the ports is left out, except that a headless service without
 * ports lists its pods in one subset with no ports (as Kubernetes does: they are its DNS answers).
 * The output is deterministic (sorted), so equal inputs give equal JSON.
 */
export function computeEndpoints(service: Service, pods: Pod[]): Endpoints {
  const ns = service.metadata.namespace ?? "default";
  const servicePorts = service.spec.ports ?? [];
  const portlessHeadless = service.spec.clusterIP === "None" && servicePorts.length === 0;
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  const hostEndpoints: Record<string, HostEndpoint> = {};

  for (const pod of pods) {
    if (!backsService(service, pod) || pod.metadata.deletionTimestamp) continue;
    const ports: EndpointPort[] = [];
    for (const sp of servicePorts) {
      const port = resolveTargetPort(sp, pod);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? "TCP" });
    }
    if (ports.length === 0 && !portlessHeadless) continue;
    ports.sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.port - b.port);
    const key = JSON.stringify(ports);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports, ready: [], notReady: [] }));
    (isPodReady(pod) || service.spec.publishNotReadyAddresses ? g.ready : g.notReady).push(addressOf(pod, service));

    const host = hostEndpointOf(pod, ports);
    if (host) hostEndpoints[pod.status!.podIP!] = host;
  }

  const subsets: EndpointSubset[] = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, g]) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));

  const annotations = hostEndpointsAnnotation(hostEndpoints);
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: {
      name: service.metadata.name,
      namespace: ns,
      ...(service.metadata.labels ? { labels: { ...service.metadata.labels } } : {}),
      ...(annotations ? { annotations } : {}),
    },
    subsets,
  };
}

/** `berth.dev/host-endpoints` for `hosts` (keyed by address, in address order), or undefined when empty. */
export function hostEndpointsAnnotation(hosts: Record<string, HostEndpoint>): Record<string, string> | undefined {
  const sorted = Object.entries(hosts).sort(([a], [b]) => (a < b ? -1 : 1));
  return sorted.length ? { [HOST_ENDPOINTS_ANNOTATION]: JSON.stringify(Object.fromEntries(sorted)) } : undefined;
}

/** Reads `berth.dev/host-endpoints` back (from Endpoints or an EndpointSlice); a malformed value counts as absent. */
export function hostEndpointsOf(obj: { metadata: { annotations?: Record<string, string> } }): Record<string, HostEndpoint> {
  const raw = obj.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION];
  if (!raw) return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, HostEndpoint>) : {};
  } catch {
    return {};
  }
}

/** A place a proxy can send one service port's traffic. */
export interface Backend {
  /** Pod IP and container port. */
  ip: string;
  port: number;
  /** The node-published address of the same port, when the node agent published one. */
  hostIP?: string;
  hostPort?: number;
  /** The pod's name, for logs and stats. */
  pod?: string;
}

/**
 * The ready backends of one service port (matched by name, or the only port when unnamed), with
 * their host-published addresses. Sorted by IP so round-robin order is stable.
 */
export function backendsForPort(ep: Endpoints, sp: ServicePort): Backend[] {
  const host = hostEndpointsOf(ep);
  const out: Backend[] = [];
  const proto = sp.protocol ?? "TCP";
  for (const subset of ep.subsets ?? []) {
    const port = (subset.ports ?? []).find((p) => (p.name ?? "") === (sp.name ?? "") && (p.protocol ?? "TCP") === proto);
    if (!port) continue;
    for (const a of subset.addresses ?? []) {
      const h = host[a.ip];
      const hostPort = h?.hostPorts?.[`${port.port}/${proto}`];
      out.push({
        ip: a.ip,
        port: port.port,
        ...(h?.hostIP && hostPort ? { hostIP: h.hostIP, hostPort } : {}),
        ...(a.targetRef?.name ? { pod: a.targetRef.name } : {}),
      });
    }
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}

/** True when two Endpoints carry the same subsets and host annotation (what the actor writes). */
export function sameEndpoints(a: Endpoints | undefined, b: Endpoints | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    JSON.stringify(a.subsets ?? []) === JSON.stringify(b.subsets ?? []) &&
    (a.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION] ?? "") === (b.metadata.annotations?.[HOST_ENDPOINTS_ANNOTATION] ?? "")
  );
}
