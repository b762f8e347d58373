/**
 * The service actor: one per Service, a work loop (see work_loop.ts for its states:
 * idle ─WAKE▶ working ─done▶ idle, errors ▶ backoff ▶ working, STOP ▶ stopped) whose pass is
 *
 *   read the Service and its namespace's pods from the shared informers
 *     ──▶ ensure spec.clusterIP (allocate unless "None" or ExternalName) and node ports (NodePort/LoadBalancer),
 *         written back with a CAS update; a lost CAS releases what was allocated and retries
 *     ──▶ status.loadBalancer.ingress for LoadBalancer services
 *     ──▶ computeEndpoints (pure, service_endpoints.ts) ──▶ create/update Endpoints (CAS) if changed
 *
 * Level-based: a wake-up (a pod or the service changed) only says "look again". The actor never
 * trusts what woke it. It runs in the control plane only (the one writer of allocations and
 * Endpoints); every node's proxies and DNS follow the Services and Endpoints it writes
 * (runtime/service_proxy.ts).
 *
 * Subjects: none directly — all API traffic goes through the injected `ApiClient`.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Endpoints, Pod, Service } from "../model/types.ts";
import { computeEndpoints, sameEndpoints } from "./service_endpoints.ts";
import { allocateFor, type ClusterIpAllocator, type NodePortAllocator, releaseAllocation } from "./service_ip_allocator.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";

export interface ServiceDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  /** The current Service from the shared informer, or undefined once deleted. */
  getService(): Service | undefined;
  /** Pods of one namespace, from the shared pod informer. */
  podsIn(namespace: string): Pod[];
  clusterIps: ClusterIpAllocator;
  nodePorts: NodePortAllocator;
  /** The address written to `status.loadBalancer.ingress` of LoadBalancer services. */
  ingressAddress: string;
  log: Log;
}

/** A CAS lost to a concurrent writer: run the pass again (the loop backs off briefly). */
export class ServiceRequeueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ServiceRequeueError";
  }
}

const isConflict = (e: unknown) => e instanceof ApiError && e.code === 409;
const isNotFound = (e: unknown) => e instanceof ApiError && e.code === 404;

/** True when the service wants a ClusterIP allocated (absent or empty; "None" is headless). */
export function needsClusterIp(svc: Service): boolean {
  return !svc.spec.clusterIP;
}

/** The name an ExternalName service is an alias of, as the DNS zone keeps it; undefined for other types. */
export function externalNameOf(svc: Service): string | undefined {
  if (svc.spec.type !== "ExternalName" || !svc.spec.externalName) return undefined;
  return svc.spec.externalName.toLowerCase().replace(/\.$/, "");
}

/** True for types that listen on node ports. */
export function usesNodePorts(svc: Service): boolean {
  return svc.spec.type === "NodePort" || svc.spec.type === "LoadBalancer";
}

/** One service's actor: `wake()` on any relevant change, `stop()` when the service goes. */
export interface ServiceActor {
  readonly key: string;
  wake(): void;
  stop(): void;
  readonly loop: WorkLoop;
}

/** Starts the actor for `namespace/name` (its first pass runs at once). */
export function startServiceActor(namespace: string, name: string, deps: ServiceDeps): ServiceActor {
  const key = `${namespace}/${name}`;
  let written: Endpoints | undefined;

  /** Fills clusterIP / nodePorts (decided by `allocateFor`); returns the service as stored afterwards. */
  async function ensureAllocations(svc: Service): Promise<Service> {
    const a = allocateFor(svc, deps.clusterIps, deps.nodePorts);
    if (!a) return svc;
    try {
      const stored = await deps.client.update("services", a.next);
      deps.log("service allocated", { service: key, clusterIP: stored.spec.clusterIP, nodePorts: a.nodePorts });
      return stored;
    } catch (e) {
      releaseAllocation(a, deps.clusterIps, deps.nodePorts);
      if (isConflict(e)) throw new ServiceRequeueError(`service ${key} changed while allocating`, { cause: e });
      throw e;
    }
  }

  async function ensureIngress(svc: Service): Promise<void> {
    if (svc.spec.type !== "LoadBalancer") return;
    const ingress = svc.status?.loadBalancer?.ingress ?? [];
    if (ingress.length === 1 && ingress[0].ip === deps.ingressAddress) return;
    try {
      await deps.client.updateStatus("services", { ...svc, status: { ...svc.status, loadBalancer: { ingress: [{ ip: deps.ingressAddress }] } } });
    } catch (e) {
      if (isConflict(e)) throw new ServiceRequeueError(`service ${key} changed while writing its status`, { cause: e });
      throw e;
    }
  }

  async function writeEndpoints(svc: Service, desired: Endpoints): Promise<void> {
    if (!svc.spec.selector || Object.keys(svc.spec.selector).length === 0) return; // Endpoints are the user's.
    if (svc.spec.type === "ExternalName") return; // An alias: as Kubernetes' endpoints controller, none.
    if (!written) {
      try {
        written = await deps.client.get("endpoints", name, namespace);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (written && sameEndpoints(written, desired) && JSON.stringify(written.metadata.labels ?? {}) === JSON.stringify(desired.metadata.labels ?? {})) return;
    try {
      if (!written) {
        written = await deps.client.create("endpoints", desired, namespace);
      } else {
        const annotations = { ...(written.metadata.annotations ?? {}) };
        delete annotations["berth.dev/host-endpoints"];
        Object.assign(annotations, desired.metadata.annotations ?? {});
        written = await deps.client.update("endpoints", {
          ...desired,
          metadata: { ...written.metadata, labels: desired.metadata.labels, annotations },
        });
      }
    } catch (e) {
      // Re-read on the next pass: someone else wrote (or deleted) it.
      written = undefined;
      if (isConflict(e) || isNotFound(e)) throw new ServiceRequeueError(`endpoints ${key} changed concurrently`, { cause: e });
      throw e;
    }
  }

  async function pass(): Promise<void> {
    const current = deps.getService();
    if (!current) return; // Deleted: the manager stops this actor and tears down.
    const svc = await ensureAllocations(current);
    await ensureIngress(svc);
    const desired = computeEndpoints(svc, deps.podsIn(namespace));
    await writeEndpoints(svc, desired);
  }

  const loop = startWorkLoop(`service/${key}`, pass, deps.log, deps.observe);
  return { key, loop, wake: () => loop.wake(), stop: () => loop.stop() };
}
