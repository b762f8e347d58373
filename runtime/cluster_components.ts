/**
 * What `berth up` starts around a `Cluster`: the REST API (TLS + bearer token, kubeconfig),
 * the control plane, N local node agents and the service proxy. Kept apart from `Cluster` so
 * the programmatic API can start exactly the parts a test needs.
 *
 * Credentials live under the home (`pki/`, `token`), created once and reused, so a kubeconfig
 * stays valid when the cluster is restarted with the same home.
 */
import { mkdirSync } from "node:fs";
import { placeOnce, readIfExists, readOrCreate, waitForFile } from "./security/home_files.ts";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Cluster } from "./cluster.ts";
import { startHttpApi, type LogProvider } from "./http/server.ts";
import type { HealthCheck } from "./http/health.ts";
import type { ComponentMetrics } from "./metrics/registry.ts";
import { UsageStore, type UsageSource } from "./metrics/usage_store.ts";
import { dockerReading, startUsageReporter } from "./kubelet/usage_reporter.ts";
import { informerSyncCheck, startControlPlane, type ControlPlane } from "./control_plane.ts";
import { startNodeAgent, type NodeAgent } from "./kubelet/agent.ts";
import { startServiceProxy, type ProxyMode, type ServiceProxy } from "./service_proxy.ts";
import { DockerRuntime, type BridgeNetwork } from "./containers/docker.ts";
import { HollowRuntime } from "./containers/hollow.ts";
import type { ContainerRuntime } from "../model/container_runtime.ts";
import { podLogProvider, serveNodeServices } from "./kubelet/node_services.ts";
import { nodeStreamProvider, type StreamProvider } from "./stream/open.ts";
import { ApiError } from "../model/errors.ts";
import type { ApiClient } from "../model/client.ts";
import { NatsApiClient } from "./api/nats_client.ts";
import { connectNats } from "./nats/connection.ts";
import { subjects } from "./subjects.ts";
import { generateCa, generateServerCert, generateToken, writeKubeconfig, type CertKeyPair } from "./tls.ts";
import { loadServiceAccountTokens } from "./auth/sa_tokens.ts";
import { ensureKubernetesService, inClusterCertHosts } from "./kubernetes_service.ts";
import { DEFAULT_SERVICE_CIDR } from "../actors/service_ip_allocator.ts";

export interface ComponentOptions {
  nodes: number;
  runtime: "docker" | "hollow";
  apiPort?: number;
  insecureHttp?: boolean;
  /** Skip the REST API (programmatic clusters that only need NATS and the in-process API). */
  rest?: boolean;
  /** Skip cluster DNS and service proxies. */
  services?: boolean;
  /** Service data path (default userspace; see docs/services.md). */
  proxyMode?: ProxyMode;
  /** Node names; default node-1 … node-N. */
  nodeNames?: string[];
  /** Node lifecycle timings (defaults suit a local cluster: 5 s grace, 10 s eviction). */
  nodeGracePeriodMs?: number;
  podEvictionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Restart back-off base (default 10 s, as Kubernetes). */
  backoffBaseMs?: number;
  progress?: (s: string) => void;
  /**
   * The Docker bridge of this cluster's pods (default berth0, 10.213.0.0/16); its gateway is where
   * pods' DNS listens. Clusters side by side each need their own (runtime/local_clusters.ts).
   */
  network?: BridgeNetwork;
  /** The ClusterIP range (default 10.96.0.0/16); side by side, each cluster its own. */
  serviceCidr?: string;
  /** nftables proxy mode: the table's name (default "berth"); side by side, each cluster its own. */
  nftTable?: string;
  /** How often node agents sample usage for kubectl top and autoscalers (default 10 s). */
  usageIntervalMs?: number;
  /** How often each HorizontalPodAutoscaler is synced (default 15 s). */
  hpaSyncPeriodMs?: number;
}

export interface Components {
  controlPlane: ControlPlane;
  agents: NodeAgent[];
  services?: ServiceProxy;
  runtime?: ContainerRuntime;
  apiUrl?: string;
  token?: string;
  kubeconfig?: string;
  dnsAddress?: string;
  nodeNames: string[];
  /** Resolves when every local node reports Ready. */
  waitReady(timeoutMs?: number): Promise<void>;
}

/**
 * The cluster CA of a home (`<home>/pki/ca.crt` and `ca.key`), made on first use: it signs the
 * REST API's certificate. Two processes starting at once on one home agree on one CA: the key is
 * placed first (security/home_files.ts), and the certificate follows it, so a process that finds
 * the key but lost the race waits for the winner's certificate.
 */
export async function caFor(home: string): Promise<CertKeyPair> {
  const dir = join(home, "pki");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, "ca.crt");
  const keyPath = join(dir, "ca.key");
  let keyPem = readIfExists(keyPath);
  if (keyPem === undefined) {
    if (readIfExists(certPath) !== undefined) throw new Error(`${certPath} exists without ${keyPath}: remove ${certPath} to have a new CA made`);
    const made = await generateCa({ commonName: "berth-ca" });
    keyPem = placeOnce(keyPath, made.keyPem, 0o600);
    if (keyPem === made.keyPem) return { keyPem, certPem: placeOnce(certPath, made.certPem, 0o644) };
  }
  const certPem = await waitForFile(certPath, CA_CERT_WAIT_MS);
  if (certPem === undefined) throw new Error(`${keyPath} exists without ${certPath} (an interrupted start?): remove ${keyPath} to have a new CA made`);
  return { keyPem, certPem };
}

/** How long a process that lost the race to make the CA waits for the winner's certificate. */
const CA_CERT_WAIT_MS = 10_000;

/**
 * Serves the REST API on an Api: bearer token from `<home>/token`, TLS from the CA in
 * `<home>/pki`, the service-account signing key in `<home>/pki/sa.key` (all made on first use),
 * and a `<home>/kubeconfig` for kubectl. Shared by
 * `berth up` and `berth control-plane --rest-port`.
 */
export async function serveRest(opts: {
  home: string;
  api: ApiClient;
  host?: string;
  port?: number;
  /** Names and addresses the certificate is valid for, besides loopback. */
  certHosts?: string[];
  insecureHttp?: boolean;
  logs?: LogProvider;
  /** exec, attach and portforward sessions with the nodes (runtime/stream/open.ts). */
  streams?: StreamProvider;
  /** Readiness checks beside `ping` and `store` (e.g. the control loops' informers). */
  healthChecks?: HealthCheck[];
  /** The API server's registry, served on `/metrics`. */
  metrics?: ComponentMetrics;
  /** Node and pod usage for metrics.k8s.io. */
  usage?: UsageSource;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  warn?: (s: string) => void;
}) {
  const token = readOrCreate(join(opts.home, "token"), generateToken).trim();
  let tls: { cert: string; key: string } | false = false;
  let caPem: string | undefined;
  if (!opts.insecureHttp) {
    const ca = await caFor(opts.home);
    const hosts = [...new Set(["127.0.0.1", "localhost", "::1", ...(opts.certHosts ?? [])])];
    const server = await generateServerCert(ca, { hosts });
    tls = { cert: server.certPem, key: server.keyPem };
    caPem = ca.certPem;
  } else {
    opts.warn?.("WARNING: the REST API is served over plain HTTP (--insecure-http); the bearer token travels in clear text");
  }
  // The service-account signing key (`<home>/pki/sa.key`, made on first use): TokenRequest and
  // the authentication of the tokens it issues.
  const tokens = await loadServiceAccountTokens(opts.home);
  const http = await startHttpApi({ api: opts.api, host: opts.host, port: opts.port ?? 0, token, tokens, tls, logs: opts.logs, streams: opts.streams, healthChecks: opts.healthChecks, metrics: opts.metrics, usage: opts.usage, log: (m, f) => opts.log(m, f) });
  const kubeconfig = join(opts.home, "kubeconfig");
  // A wildcard listen address is no address to connect to: the kubeconfig names loopback.
  const url = opts.host === "0.0.0.0" || opts.host === "::" ? http.url.replace(/\/\/[^/]+:(\d+)$/, "//127.0.0.1:$1") : http.url;
  await writeKubeconfig(kubeconfig, { server: url, caPem, token, clusterName: "berth" });
  return { url, token, kubeconfig, http };
}

/** Starts the REST API on the cluster's Api and writes `kubeconfig` under home. */
export async function startRestApi(cluster: Cluster, opts: { port?: number; insecureHttp?: boolean; certHosts?: string[]; log?: (s: string) => void; logs?: LogProvider; streams?: StreamProvider; healthChecks?: HealthCheck[] } = {}) {
  // Node usage reports (kubectl top), heard on NATS.
  const usage = new UsageStore(cluster.nc, { log: cluster.log });
  cluster.onStop(() => usage.stop());
  const rest = await serveRest({
    usage, home: cluster.home, api: cluster.api, port: opts.port, insecureHttp: opts.insecureHttp, certHosts: opts.certHosts, logs: opts.logs, streams: opts.streams, healthChecks: opts.healthChecks, metrics: cluster.observability.registry("api"), log: (m, f) => cluster.log(m, f), warn: opts.log });
  cluster.onStop(() => rest.http.close());
  return rest;
}

/** Finds a free UDP+TCP port on loopback for the host-side DNS listener. */
async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts, in order: the control plane, the service proxy (DNS on loopback for the host and on
 * the berth bridge gateway for pods), N node agents sharing one container runtime (each owns
 * only its own labels), the node services (logs/exec), and the REST API.
 */
export async function startClusterComponents(cluster: Cluster, opts: ComponentOptions): Promise<Components> {
  const names = opts.nodeNames ?? Array.from({ length: opts.nodes }, (_, i) => `node-${i + 1}`);
  // Each node agent connects under its own NATS identity, made when the cluster's nats-server
  // started: say so plainly instead of failing later with an authorization error.
  const unknown = cluster.auth ? names.filter((n) => !cluster.auth!.nodeNames.includes(n)) : [];
  if (unknown.length > 0) {
    throw new Error(
      `startClusterComponents: node(s) ${unknown.join(", ")} have no NATS identity in this cluster; ` +
        `start it with Cluster.start({ nodeNames: ${JSON.stringify(names)} }) (the identities are made when its nats-server starts)`,
    );
  }
  const progress = opts.progress ?? (() => {});
  const log = cluster.log;
  const client = cluster.api;

  // What HorizontalPodAutoscalers scale on: the node agents' usage reports, heard on NATS.
  const usage = new UsageStore(cluster.nc, { log: cluster.log });
  cluster.onStop(() => usage.stop());
  // In-cluster clients reach the API as the `kubernetes` Service and trust it by the cluster CA,
  // which the control plane publishes in every namespace (kube-root-ca.crt).
  const serveTls = opts.rest !== false && !opts.insecureHttp;
  const serviceCidr = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const controlPlane = await startControlPlane({
    ...(serveTls ? { rootCaPem: (await caFor(cluster.home)).certPem } : {}),
    client,
    usage: () => usage.reports(),
    hpaSyncPeriodMs: opts.hpaSyncPeriodMs,
    observe: cluster.observability.observe("control-plane", { nc: cluster.nc, scope: "control-plane" }),
    nodeGracePeriodMs: opts.nodeGracePeriodMs,
    podEvictionTimeoutMs: opts.podEvictionTimeoutMs,
    ...(opts.serviceCidr ? { services: { clusterCidr: opts.serviceCidr } } : {}),
    log: (m, f) => log(m, { component: "control-plane", ...f }),
  });
  cluster.onStop(() => controlPlane.stop());
  progress("control plane started (scheduler, replication controllers, node lifecycle, garbage collector)");

  let runtime: ContainerRuntime | undefined;
  let gateway: string | undefined;
  if (opts.nodes > 0) {
    if (opts.runtime === "docker") {
      const docker = new DockerRuntime({ network: opts.network });
      try {
        await docker.ping();
      } catch (e) {
        throw new Error(`the Docker engine is not reachable (${(e as Error).message}); run \`npm run setup\` (as root it starts dockerd) or use --runtime hollow`);
      }
      await docker.ensureNetwork();
      gateway = docker.network.gateway;
      runtime = docker;
    } else {
      runtime = new HollowRuntime();
    }
  }

  let services: ServiceProxy | undefined;
  let dnsAddress: string | undefined;
  if (opts.services !== false) {
    const hostDnsPort = await freePort();
    const addrs = [{ host: "127.0.0.1", port: hostDnsPort }];
    if (gateway) addrs.push({ host: gateway, port: 53 });
    try {
      services = await startServiceProxy({ client, dnsAddresses: addrs, proxyMode: opts.proxyMode, nftTable: opts.nftTable, ...(gateway ? { hairpinGateways: [gateway] } : {}), metrics: cluster.observability.registry("proxy"), log: (m, f) => log(m, { component: "proxy", ...f }) });
    } catch (e) {
      throw new Error(
        `${(e as Error).message} — is another Berth cluster with Docker nodes running on this machine? ` +
          `They share the berth0 bridge's DNS address and the ClusterIP range; stop it first (berth down --home DIR)`,
        { cause: e },
      );
    }
    cluster.onStop(() => services!.stop());
    dnsAddress = `127.0.0.1:${services.dnsPort}`;
    progress(`cluster DNS at ${dnsAddress}${gateway ? ` (pods: ${gateway}:53)` : ""}; service proxies in ${services.proxyMode} mode, ClusterIPs ${services.clusterIpMode}`);
  }

  const agents: NodeAgent[] = [];
  // Containers carry this cluster's id, so two clusters on one Docker engine with the same
  // node names never touch each other's containers. Kept in the home: a restart re-adopts.
  const clusterId = readOrCreate(join(cluster.home, "cluster-id"), () => randomBytes(4).toString("hex")).trim();
  for (const name of names) {
    // With the cluster's own nats-server, each agent is a separate NATS client under its own
    // identity, confined to its node's subjects — exactly as on another machine. With an
    // external NATS (no identities known), agents use the in-process API.
    let agentClient: ApiClient = client;
    let agentNc = cluster.nc;
    if (cluster.auth) {
      const creds = cluster.auth.node(name);
      agentNc = await connectNats({
        servers: cluster.natsUrl,
        name: `berth-node-${name}`,
        user: creds.user,
        pass: creds.pass,
        inboxPrefix: subjects.nodeInboxPrefix(name),
      });
      agentClient = new NatsApiClient(agentNc, { node: name });
      const ncToClose = agentNc;
      cluster.onStop(async () => {
        await ncToClose.drain().catch(() => {});
      });
    }
    const agent = await startNodeAgent({
      clusterId,
      client: agentClient,
      runtime: runtime!,
      name,
      // Well inside the node grace period (5 s by default), so a busy machine does not flap.
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 1_000,
      dns: gateway && services ? { servers: [gateway], search: [] } : undefined,
      backoff: opts.backoffBaseMs ? { baseMs: opts.backoffBaseMs, maxMs: opts.backoffBaseMs * 30 } : undefined,
      log: (m, f) => log(m, { node: name, ...f }),
      observe: cluster.observability.observe(name, { nc: agentNc, scope: name }),
    });
    agents.push(agent);
    const svc = serveNodeServices(agentNc, { nodeName: name, runtime: agent.runtime, client: agentClient, log: (m, f) => log(m, { node: name, ...f }) });
    const docker = runtime instanceof DockerRuntime ? runtime : undefined;
    const hollow = runtime instanceof HollowRuntime ? runtime : undefined;
    const usage = startUsageReporter({ nc: agentNc, node: name, runtime: agent.runtime, read: docker && ((id) => dockerReading(docker, id)), scripted: hollow && ((id) => hollow.scriptedUsage(id)), intervalMs: opts.usageIntervalMs, log });
    // Agents stop before the control plane and API (onStop runs last-registered first), and
    // leave their containers running so a restart with the same home re-adopts them.
    cluster.onStop(async () => {
      usage.stop();
      svc.stop();
      await agent.stop();
    });
  }
  if (names.length) progress(`${names.length} node agent${names.length === 1 ? "" : "s"} started (${names.join(", ")}) on the ${opts.runtime} runtime`);

  let rest: Awaited<ReturnType<typeof startRestApi>> | undefined;
  if (opts.rest !== false) {
    rest = await startRestApi(cluster, { port: opts.apiPort, insecureHttp: opts.insecureHttp, certHosts: inClusterCertHosts(serviceCidr), log: progress, logs: podLogProvider(cluster.nc, client), streams: nodeStreamProvider(cluster.nc, client), healthChecks: [informerSyncCheck(() => controlPlane)] });
    progress(`REST API at ${rest.url}`);
    // Where pods find it: ClusterIP:443 (the service proxy forwards to the API's loopback port).
    await ensureKubernetesService(client, { serviceCidr, address: "127.0.0.1", port: rest.http.port });
  }

  return {
    controlPlane,
    agents,
    services,
    runtime,
    apiUrl: rest?.url,
    token: rest?.token,
    kubeconfig: rest?.kubeconfig,
    dnsAddress,
    nodeNames: names,
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const nodes = await client.list("nodes");
        const ready = names.filter((n) => nodes.items.find((x) => x.metadata.name === n)?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
        if (ready.length === names.length) return;
        if (Date.now() > deadline) {
          throw new ApiError("Timeout", `nodes not Ready after ${timeoutMs} ms: ${names.filter((n) => !ready.includes(n)).join(", ")}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}
