/**
 * The service controller: ClusterIP and NodePort allocation, LoadBalancer ingress and Endpoints
 * — one service actor per Service (actors/services_manager.ts, actors/service.ts) — and beside
 * it the endpointslice and endpointslicemirroring controllers (actors/endpointslice_controller.ts),
 * whose slices every node's proxies and DNS read (runtime/service_proxy.ts). It runs in the
 * control plane only, in `berth up` and in `berth control-plane` alike: one writer, so two
 * allocators can never hand the same ClusterIP to two services.
 */
import type { ApiClient } from "../model/client.ts";
import type { Log } from "../model/log.ts";
import { Informer } from "../actors/informer_cache.ts";
import { ClusterIpAllocator, DEFAULT_SERVICE_CIDR, NodePortAllocator } from "../actors/service_ip_allocator.ts";
import type { Observe } from "../model/observe.ts";
import { type ServicesManager, startServicesManager } from "../actors/services_manager.ts";
import { type EndpointSliceController, startEndpointSliceController } from "../actors/endpointslice_controller.ts";

export interface ServiceControllerOptions {
  /** ClusterIP range (default 10.96.0.0/16). */
  clusterCidr?: string;
  /** Node port range (default 30000–32767). */
  nodePortRange?: { min: number; max: number };
  /** Written to `status.loadBalancer.ingress` of LoadBalancer services (default 127.0.0.1). */
  ingressAddress?: string;
}

export interface ServiceController {
  readonly manager: ServicesManager;
  /** Every Service's EndpointSlices: from its pods, or mirrored from its Endpoints. */
  readonly endpointSlices: EndpointSliceController;
  stop(): Promise<void>;
}

/**
 * Starts the controller over synced informers. Informers not given are made (and started and
 * stopped) here; given ones are the caller's to stop.
 */
export async function startServiceController(
  client: ApiClient,
  opts: ServiceControllerOptions & {
    services?: Informer<"services">;
    pods?: Informer<"pods">;
    endpoints?: Informer<"endpoints">;
    endpointSlices?: Informer<"endpointslices">;
    nodes?: Informer<"nodes">;
    log?: Log;
    /** The endpointslice controllers' log (default: `log`). */
    sliceLog?: Log;
    observe?: Observe;
  } = {},
): Promise<ServiceController> {
  const log = opts.log ?? (() => {});
  const own: { start(): Promise<unknown>; stop(): Promise<unknown> }[] = [];
  const informer = <I extends { start(): Promise<unknown>; stop(): Promise<unknown> }>(given: I | undefined, make: () => I): I => {
    if (given) return given;
    const made = make();
    own.push(made);
    return made;
  };
  const services = informer(opts.services, () => new Informer(client, "services", { log }));
  const pods = informer(opts.pods, () => new Informer(client, "pods", { log }));
  const endpoints = informer(opts.endpoints, () => new Informer(client, "endpoints", { log }));
  const endpointSlices = informer(opts.endpointSlices, () => new Informer(client, "endpointslices", { log }));
  const nodes = informer(opts.nodes, () => new Informer(client, "nodes", { log }));
  await Promise.all(own.map((i) => i.start()));
  const manager = startServicesManager({
    client,
    services,
    pods,
    clusterIps: new ClusterIpAllocator(opts.clusterCidr ?? DEFAULT_SERVICE_CIDR),
    nodePorts: new NodePortAllocator(opts.nodePortRange?.min, opts.nodePortRange?.max),
    ingressAddress: opts.ingressAddress ?? "127.0.0.1",
    log,
    observe: opts.observe,
  });
  const slices = startEndpointSliceController({ client, services, pods, endpoints, endpointSlices, nodes, log: opts.sliceLog ?? log, observe: opts.observe });
  return {
    manager,
    endpointSlices: slices,
    async stop() {
      slices.stop();
      await manager.stop();
      await Promise.all(own.map((i) => i.stop()));
    },
  };
}
