/**
 * Everything one Docker host runs in a multi-machine cluster — what `berth node` starts:
 *
 *   NATS (any server of the cluster; the connection fails over between them)
 *     │  NatsApiClient scoped to this node (berth.node.<name>.api.v1.…)
 *     ├── node agent (kubelet) on the local Docker engine; pod ports published on the
 *     │   advertise address, so proxies on other hosts reach them as hostIP:hostPort
 *     ├── service dataplane: cluster DNS + ClusterIP addresses + one TCP proxy per service
 *     │   port, following Services and Endpoints (read only: the control plane allocates
 *     │   ClusterIPs and writes Endpoints — runtime/control_plane_host.ts)
 *     └── node services: logs and exec on berth.node.<name>.{logs,exec}
 *
 * A proxy dials a pod's own IP when it is on a network of this host (the local berth bridge),
 * otherwise the pod's published `hostIP:hostPort` (runtime/service_proxy.ts `dialTarget`).
 * Stopping leaves the containers running; a new `berth node` with the same name re-adopts them.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { ApiClient } from "../model/client.ts";
import { NatsApiClient } from "./api/nats_client.ts";
import type { Endpoints, Service } from "../model/types.ts";
import { DockerRuntime, DEFAULT_NETWORK } from "./containers/docker.ts";
import type { ContainerRuntime } from "../model/container_runtime.ts";
import { startDnsServer, type DnsServer } from "./dns/server.ts";
import { DnsZone } from "./dns/zone.ts";
import { ClusterIpAssigner } from "./net/cluster_ip.ts";
import { startNodeAgent, type NodeAgent } from "./kubelet/agent.ts";
import { serveNodeServices } from "./kubelet/node_services.ts";
import { LocalDataplane } from "./service_proxy.ts";
import { Informer, objectKey } from "../actors/informer_cache.ts";

type Log = (msg: string, fields?: Record<string, unknown>) => void;

export interface NodeHostOptions {
  nc: NatsConnection;
  name: string;
  /** This host's address other hosts can reach: pod ports are published here. Default 127.0.0.1. */
  advertiseAddress?: string;
  /** Default: Docker (dockerode on the local socket). */
  runtime?: ContainerRuntime;
  /** Use the node-scoped API subjects (what a node's NATS identity may publish). Default true. */
  nodeScopedApi?: boolean;
  /** Host-side DNS listeners. Default 127.0.0.1 on a free port. */
  dnsAddresses?: { host: string; port: number }[];
  /**
   * Serve DNS to pods on the berth bridge gateway (port 53) and make it their resolver.
   * Default true; off when the gateway is not in this process's network namespace.
   */
  podDns?: boolean;
  /** Add ClusterIPs to `lo` (default: when root). */
  assignClusterIps?: boolean;
  heartbeatIntervalMs?: number;
  labels?: Record<string, string>;
  log?: Log;
}

export interface NodeHost {
  readonly name: string;
  readonly client: ApiClient;
  readonly agent: NodeAgent;
  readonly dataplane: LocalDataplane;
  readonly dns: DnsServer;
  /** Stops the agent (containers keep running), the proxies, DNS and node services. Idempotent. */
  stop(): Promise<void>;
}

/** Keeps a `LocalDataplane` in step with the Services and Endpoints the API holds. */
async function followServices(client: ApiClient, dataplane: LocalDataplane, log: Log): Promise<{ stop(): Promise<void> }> {
  const services = new Informer(client, "services", { log });
  const endpoints = new Informer(client, "endpoints", { log });
  await Promise.all([services.start(), endpoints.start()]);
  const retries = new Map<string, ReturnType<typeof setTimeout>>();
  let stopped = false;

  const sync = (key: string) => {
    if (stopped) return;
    const t = retries.get(key);
    if (t) clearTimeout(t);
    retries.delete(key);
    const svc: Service | undefined = services.get(key);
    const [ns, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    const done = svc
      ? dataplane.apply(svc, endpoints.get(key) ?? emptyEndpoints(svc))
      : dataplane.remove(ns || "default", name);
    done.catch((e: unknown) => {
      // A listener that cannot bind yet (address being assigned, port briefly busy): try again.
      log("service dataplane update failed; retrying", { service: key, error: String(e) });
      if (!stopped) retries.set(key, setTimeout(() => sync(key), 1_000));
    });
  };

  const unsubs = [
    services.subscribe((ev) => sync(objectKey(ev.object))),
    endpoints.subscribe((ev) => sync(objectKey(ev.object))),
  ];
  for (const s of services.list()) sync(objectKey(s));
  return {
    async stop() {
      stopped = true;
      for (const u of unsubs) u();
      for (const t of retries.values()) clearTimeout(t);
      await Promise.all([services.stop(), endpoints.stop()]);
      await dataplane.removeAll();
    },
  };
}

function emptyEndpoints(svc: Service): Endpoints {
  return { apiVersion: "v1", kind: "Endpoints", metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace }, subsets: [] } as Endpoints;
}

/** Starts the node agent, the service dataplane and the node services of one host. */
export async function startNodeHost(opts: NodeHostOptions): Promise<NodeHost> {
  const { nc, name } = opts;
  const log: Log = (m, f) => (opts.log ?? (() => {}))(m, { node: name, ...f });
  const advertise = opts.advertiseAddress ?? "127.0.0.1";
  const client: ApiClient = opts.nodeScopedApi === false ? new NatsApiClient(nc) : new NatsApiClient(nc, { node: name });
  const cleanups: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log("node host shutdown step failed", { error: String(e) });
      }
    }
  };

  try {
    let runtime = opts.runtime;
    let gateway: string | undefined;
    if (!runtime) {
      const docker = new DockerRuntime();
      try {
        await docker.ping();
      } catch (e) {
        throw new Error(`the Docker engine is not reachable (${(e as Error).message})`, { cause: e });
      }
      await docker.ensureNetwork();
      runtime = docker;
      gateway = DEFAULT_NETWORK.gateway;
    }
    const podDns = opts.podDns !== false && gateway !== undefined;

    const zone = new DnsZone("cluster.local");
    const assigner = new ClusterIpAssigner({ assign: opts.assignClusterIps, log });
    const dataplane = new LocalDataplane({ zone, assigner, nodeAddress: advertise, log });
    const dnsAddresses = [...(opts.dnsAddresses ?? [{ host: "127.0.0.1", port: 0 }])];
    if (podDns) dnsAddresses.push({ host: gateway!, port: 53 });
    const dns = await startDnsServer({
      addresses: dnsAddresses,
      domain: zone.domain,
      lookup: (n, t) => zone.lookup(n, t),
      version: () => zone.version,
      onError: (e, kind) => {
        if (kind === "lookup" || kind === "socket") log("dns error", { kind, error: e.message });
      },
    });
    cleanups.push(() => dns.close());
    cleanups.push(() => assigner.releaseAll());
    const follower = await followServices(client, dataplane, (m, f) => log(m, { component: "service-proxy", ...f }));
    cleanups.push(() => follower.stop());

    const agent = await startNodeAgent({
      client,
      runtime,
      name,
      advertiseAddress: advertise,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000,
      labels: opts.labels,
      dns: podDns ? { servers: [gateway!], search: [] } : undefined,
      log,
    });
    cleanups.push(() => agent.stop());
    const services = serveNodeServices(nc, { nodeName: name, runtime, client });
    cleanups.push(() => services.stop());
    log("node host started", { advertise, dns: dns.addresses.map((a) => `${a.host}:${a.port}`).join(","), clusterIpMode: assigner.mode });

    let stopping: Promise<void> | undefined;
    return {
      name,
      client,
      agent,
      dataplane,
      dns,
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
