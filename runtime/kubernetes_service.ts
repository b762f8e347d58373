/**
 * The `kubernetes` Service in `default`, as kube-apiserver keeps it: the API server's ClusterIP
 * (the first address of the service range) on port 443 named `https`, and Endpoints naming where
 * the API server listens — how a pod's clients find the API (`kubernetes.default.svc`, and the
 * kubelet's `KUBERNETES_SERVICE_HOST`/`_PORT`) — and the EndpointSlice `kubernetes` saying the
 * same (the Endpoints are labelled not to be mirrored, as kube-apiserver's EndpointsAdapter
 * does). Written by the process that serves the REST API, at every start (its port may change),
 * and left alone when already right.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { EndpointSlice, Endpoints, Service } from "../model/types.ts";
import { intToIp, parseCidr } from "../actors/service_ip_allocator.ts";

export const KUBERNETES_SERVICE = "kubernetes";

/** The names the API server's certificate must carry for in-cluster clients. */
export const KUBERNETES_SERVICE_NAMES = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"];

/** What the API server's certificate must name for in-cluster clients: the Service's ClusterIP and DNS names. */
export function inClusterCertHosts(serviceCidr: string): string[] {
  return [kubernetesServiceIp(serviceCidr), ...KUBERNETES_SERVICE_NAMES];
}

/** The API server's ClusterIP: the first host address of the service range (kube's `.1`). */
export function kubernetesServiceIp(serviceCidr: string): string {
  const { base } = parseCidr(serviceCidr);
  return intToIp(base + 1);
}

/** The Service and Endpoints for an API server at `address:port` (pure). */
export function kubernetesServiceObjects(clusterIP: string, address: string, port: number): { service: Service; endpoints: Endpoints; slice: EndpointSlice } {
  const labels = { component: "apiserver", provider: "kubernetes" };
  return {
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels },
      spec: {
        type: "ClusterIP",
        clusterIP,
        clusterIPs: [clusterIP],
        sessionAffinity: "None",
        ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }],
      },
    } as Service,
    endpoints: {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels: { "endpointslice.kubernetes.io/skip-mirror": "true" } },
      subsets: [{ addresses: [{ ip: address }], ports: [{ name: "https", port, protocol: "TCP" }] }],
    },
    slice: {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: KUBERNETES_SERVICE, namespace: "default", labels: { "kubernetes.io/service-name": KUBERNETES_SERVICE } },
      addressType: "IPv4",
      endpoints: [{ addresses: [address], conditions: { ready: true } }],
      ports: [{ name: "https", port, protocol: "TCP" }],
    },
  };
}

/**
 * Creates or corrects the Service and its Endpoints. A Service of that name with another
 * ClusterIP is replaced (a ClusterIP cannot change in place).
 */
export async function ensureKubernetesService(client: ApiClient, opts: { serviceCidr: string; address: string; port: number }): Promise<void> {
  const { service, endpoints, slice } = kubernetesServiceObjects(kubernetesServiceIp(opts.serviceCidr), opts.address, opts.port);
  const current = await client.get("services", KUBERNETES_SERVICE, "default").catch(notFound);
  if (current && current.spec.clusterIP !== service.spec.clusterIP) {
    await client.delete("services", KUBERNETES_SERVICE, "default").catch(notFound);
  }
  if (!current || current.spec.clusterIP !== service.spec.clusterIP) {
    await client.create("services", service, "default").catch(alreadyExists);
  } else if (JSON.stringify(current.spec.ports) !== JSON.stringify(service.spec.ports)) {
    await client.update("services", { ...current, spec: { ...current.spec, ports: service.spec.ports } });
  }
  const ep = await client.get("endpoints", KUBERNETES_SERVICE, "default").catch(notFound);
  if (!ep) await client.create("endpoints", endpoints, "default").catch(alreadyExists);
  else if (JSON.stringify(ep.subsets) !== JSON.stringify(endpoints.subsets)) await client.update("endpoints", { ...ep, subsets: endpoints.subsets });
  const currentSlice = await client.get("endpointslices", KUBERNETES_SERVICE, "default").catch(notFound);
  if (!currentSlice) await client.create("endpointslices", slice, "default").catch(alreadyExists);
  else if (JSON.stringify([currentSlice.endpoints, currentSlice.ports, currentSlice.metadata.labels]) !== JSON.stringify([slice.endpoints, slice.ports, slice.metadata.labels])) {
    await client.update("endpointslices", { ...currentSlice, metadata: { ...currentSlice.metadata, labels: slice.metadata.labels }, addressType: slice.addressType, endpoints: slice.endpoints, ports: slice.ports });
  }
}

function notFound(e: unknown): undefined {
  if (e instanceof ApiError && e.reason === "NotFound") return undefined;
  throw e;
}

function alreadyExists(e: unknown): undefined {
  if (e instanceof ApiError && e.reason === "AlreadyExists") return undefined;
  throw e;
}
