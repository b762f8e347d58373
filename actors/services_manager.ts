/**
 * The services manager: keeps one service actor (service.ts) per Service, as root actors in a
 * Map (not children of one parent: spawning thousands of children is quadratic in xstate).
 *
 *   services informer synced ──▶ rebuild the ClusterIP / NodePort allocators from stored services
 *                            ──▶ start one actor per service
 *   service ADDED/MODIFIED ──▶ start or wake its actor
 *   service DELETED        ──▶ stop its actor, release its ClusterIP and node ports, delete its
 *                              Endpoints
 *   pod change             ──▶ wake the actors of that namespace whose selector matches the pod
 *                              (before or after the change)
 *
 * Every actor is a work loop with its own error observer (work_loop.ts). Subjects: none.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Pod, Service } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";
import { type ServiceActor, startServiceActor, usesNodePorts } from "./service.ts";
import type { ClusterIpAllocator, NodePortAllocator } from "./service_ip_allocator.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import { mapMatches } from "../model/selector.ts";

export interface ServicesManagerDeps {
  /** Metrics and actor inspection, passed to each service actor. */
  observe?: import("../model/observe.ts").Observe;
  client: ApiClient;
  services: Informer<"services">;
  pods: Informer<"pods">;
  clusterIps: ClusterIpAllocator;
  nodePorts: NodePortAllocator;
  ingressAddress: string;
  log: Log;
}

export interface ServicesManager {
  /** The running actors by `namespace/name`. */
  readonly actors: ReadonlyMap<string, ServiceActor>;
  /** Stops every actor (leaves Endpoints and allocations as they are). */
  stop(): Promise<void>;
}

/** Marks the service's ClusterIP and node ports as taken. */
function markAllocations(svc: Service, clusterIps: ClusterIpAllocator, nodePorts: NodePortAllocator): void {
  const ip = svc.spec.clusterIP;
  if (ip && ip !== "None") clusterIps.markUsed(ip);
  if (usesNodePorts(svc)) for (const p of svc.spec.ports ?? []) if (p.nodePort) nodePorts.markUsed(p.nodePort);
}

/** Starts the manager over already-started (synced) informers. */
export function startServicesManager(deps: ServicesManagerDeps): ServicesManager {
  const { services, pods, log } = deps;
  const actors = new Map<string, ServiceActor>();
  const podsByNs = (ns: string): Pod[] => pods.list().filter((p) => (p.metadata.namespace ?? "default") === ns);

  const start = (svc: Service) => {
    const key = objectKey(svc);
    if (actors.has(key)) return actors.get(key)!.wake();
    const ns = svc.metadata.namespace ?? "default";
    actors.set(
      key,
      startServiceActor(ns, svc.metadata.name, {
        client: deps.client,
        getService: () => services.get(key),
        podsIn: podsByNs,
        clusterIps: deps.clusterIps,
        nodePorts: deps.nodePorts,
        ingressAddress: deps.ingressAddress,
        log,
        observe: deps.observe,
      }),
    );
  };

  const remove = async (svc: Service) => {
    const key = objectKey(svc);
    const ns = svc.metadata.namespace ?? "default";
    actors.get(key)?.stop();
    actors.delete(key);
    if (svc.spec.clusterIP && svc.spec.clusterIP !== "None") deps.clusterIps.release(svc.spec.clusterIP);
    for (const p of svc.spec.ports ?? []) if (p.nodePort) deps.nodePorts.release(p.nodePort);
    if (svc.spec.selector && Object.keys(svc.spec.selector).length > 0) {
      await deps.client.delete("endpoints", svc.metadata.name, ns).catch((e: unknown) => {
        // Already gone is the goal; anything else is worth a log line but not a retry loop.
        if (!(e instanceof ApiError && e.code === 404)) log("deleting endpoints failed", { service: key, error: String(e) });
      });
    }
  };

  for (const svc of services.list()) markAllocations(svc, deps.clusterIps, deps.nodePorts);
  for (const svc of services.list()) start(svc);

  const unsubServices = services.subscribe((ev) => {
    if (ev.type === "DELETED") {
      void remove(ev.object);
      return;
    }
    // What a changed service no longer holds (made ExternalName, or ClusterIP from NodePort) is
    // free again; the rest is marked as used.
    const old = ev.old;
    if (old) {
      const ip = old.spec.clusterIP;
      if (ip && ip !== "None" && ip !== ev.object.spec.clusterIP) deps.clusterIps.release(ip);
      const kept = new Set((ev.object.spec.ports ?? []).map((p) => p.nodePort).filter(Boolean));
      for (const p of old.spec.ports ?? []) if (p.nodePort && !kept.has(p.nodePort)) deps.nodePorts.release(p.nodePort);
    }
    markAllocations(ev.object, deps.clusterIps, deps.nodePorts);
    start(ev.object);
  });

  const unsubPods = pods.subscribe((ev) => {
    const ns = ev.object.metadata.namespace ?? "default";
    for (const svc of services.list()) {
      if ((svc.metadata.namespace ?? "default") !== ns) continue;
      if (mapMatches(svc.spec.selector, ev.object.metadata.labels) || mapMatches(svc.spec.selector, ev.old?.metadata.labels)) {
        actors.get(objectKey(svc))?.wake();
      }
    }
  });

  return {
    actors,
    async stop() {
      unsubServices();
      unsubPods();
      for (const a of actors.values()) a.stop();
      actors.clear();
    },
  };
}
