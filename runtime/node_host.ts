/**
 * Everything one Docker host runs in a multi-machine cluster — what `berth node` starts:
 *
 *   NATS (any server of the cluster; the connection fails over between them)
 *     │  NatsApiClient scoped to this node (berth.node.<name>.api.v1.…)
 *     ├── node agent (kubelet) on the local Docker engine; pod ports published on the
 *     │   advertise address, so proxies on other hosts reach them as hostIP:hostPort
 *     ├── service proxy: cluster DNS + ClusterIP addresses + one TCP proxy per service port,
 *     │   following Services and Endpoints (runtime/service_proxy.ts, as in `berth up`; read
 *     │   only: the control plane allocates ClusterIPs and writes Endpoints)
 *     └── node services: logs and exec on berth.node.<name>.{logs,exec}
 *
 * A proxy dials a pod's own IP when it is on a network of this host (the local berth bridge),
 * otherwise the pod's published `hostIP:hostPort` (runtime/service_proxy.ts `dialTarget`).
 * Stopping leaves the containers running; a new `berth node` with the same name re-adopts them.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { ApiClient } from "../model/client.ts";
import { NatsApiClient } from "./api/nats_client.ts";
import { KUBELET_THROTTLE, type ThrottleConfig } from "./api/client_throttle.ts";
import { DockerRuntime, DEFAULT_NETWORK } from "./containers/docker.ts";
import { HollowRuntime } from "./containers/hollow.ts";
import type { ContainerRuntime } from "../model/container_runtime.ts";
import type { DnsServer } from "./dns/server.ts";
import { startNodeAgent, type NodeAgent } from "./kubelet/agent.ts";
import { serveNodeServices } from "./kubelet/node_services.ts";
import { type ProxyMode, type ServiceProxy, startServiceProxy } from "./service_proxy.ts";

import type { Log } from "../model/log.ts";
import type { Observe } from "../model/observe.ts";
import { dockerReading, startUsageReporter } from "./kubelet/usage_reporter.ts";
import { Cleanups } from "./async.ts";

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
  /** The node's own request rate to the API (default the kubelet's 50/s, burst 100; heartbeats are exempt). */
  throttle?: ThrottleConfig;
  /** Service data path (default userspace). */
  proxyMode?: ProxyMode;
  labels?: Record<string, string>;
  /** Metrics (kubelet_*) and actor inspection of this node's actors. */
  observe?: Observe;
  /** How often usage is sampled for kubectl top (default 10 s). */
  usageIntervalMs?: number;
  log?: Log;
}

export interface NodeHost {
  readonly name: string;
  readonly client: ApiClient;
  readonly agent: NodeAgent;
  readonly dataplane: ServiceProxy["dataplane"];
  readonly dns: DnsServer;
  /** Stops the agent (containers keep running), the proxies, DNS and node services. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the node agent, the service dataplane and the node services of one host. */
export async function startNodeHost(opts: NodeHostOptions): Promise<NodeHost> {
  const { nc, name } = opts;
  const log: Log = (m, f) => (opts.log ?? (() => {}))(m, { node: name, ...f });
  const advertise = opts.advertiseAddress ?? "127.0.0.1";
  const throttle = opts.throttle ?? KUBELET_THROTTLE;
  const client: ApiClient = opts.nodeScopedApi === false ? new NatsApiClient(nc, { throttle }) : new NatsApiClient(nc, { node: name, throttle });
  const cleanups = new Cleanups((e) => log("node host shutdown step failed", { error: String(e) }));
  const stopAll = () => cleanups.run();

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

    const dnsAddresses = [...(opts.dnsAddresses ?? [{ host: "127.0.0.1", port: 0 }])];
    if (podDns) dnsAddresses.push({ host: gateway!, port: 53 });
    const proxy = await startServiceProxy({ client, dnsAddresses, nodeAddress: advertise, assignClusterIps: opts.assignClusterIps, proxyMode: opts.proxyMode, ...(gateway ? { hairpinGateways: [gateway] } : {}), metrics: opts.observe?.metrics, log });
    cleanups.push(() => proxy.stop());

    const agent = await startNodeAgent({
      client,
      runtime,
      name,
      advertiseAddress: advertise,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000,
      labels: opts.labels,
      dns: podDns ? { servers: [gateway!], search: [] } : undefined,
      log,
      observe: opts.observe,
    });
    cleanups.push(() => agent.stop());
    const docker = runtime instanceof DockerRuntime ? runtime : undefined;
    const hollow = runtime instanceof HollowRuntime ? runtime : undefined;
    const usage = startUsageReporter({ nc, node: name, runtime: agent.runtime, read: docker && ((id) => dockerReading(docker, id)), scripted: hollow && ((id) => hollow.scriptedUsage(id)), intervalMs: opts.usageIntervalMs, log });
    cleanups.push(() => usage.stop());
    // The agent's runtime: scoped to this cluster's containers (cluster_scope.ts), as in `berth up`.
    const services = serveNodeServices(nc, { nodeName: name, runtime: agent.runtime, client, log });
    cleanups.push(() => services.stop());
    log("node host started", { advertise, dns: proxy.dnsAddresses.map((a) => `${a.host}:${a.port}`).join(","), clusterIpMode: proxy.clusterIpMode });

    let stopping: Promise<void> | undefined;
    return {
      name,
      client,
      agent,
      dataplane: proxy.dataplane,
      dns: proxy.dns,
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
