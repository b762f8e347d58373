/**
 * The cluster a chaos run works on, built so every fault has a handle:
 *
 *   NatsControl (own nats-server, JetStream on disk)  ◀── restart / pause
 *     ▲      ▲ direct: Cluster (store + Api), control plane, service proxy, workload clients
 *     │
 *   FaultProxy per node  ◀── partition (blackhole / delay / bandwidth / reset)
 *     ▲
 *   node agent per node (its own NATS connection, node-scoped API client)  ◀── kill / restart
 *     │
 *   container runtime: the machine's Docker engine, a harness-owned dockerd (◀── stop / start),
 *   or a hollow runtime per node
 *
 * Node names carry a per-run prefix (`chaos-<id>-node-1`) so runs beside other tests on one
 * Docker engine never touch each other's containers; the schedule uses the logical names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { Cluster } from "../cluster.ts";
import { NatsApiClient } from "../api/nats_client.ts";
import { connectNats, type NatsConnection } from "../nats/connection.ts";
import { startControlPlane, type ControlPlane } from "../control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../kubelet/agent.ts";
import { ActorPublisher } from "../inspect/actor_publisher.ts";
import { noMetrics } from "../../model/metrics.ts";
import { startServiceProxy, type ServiceProxy } from "../service_proxy.ts";
import { DEFAULT_NETWORK, DockerRuntime, INFRA_IMAGE, type BridgeNetwork } from "../containers/docker.ts";
import { HollowRuntime } from "../containers/hollow.ts";
import { type ContainerRuntime, LABELS } from "../../model/container_runtime.ts";
import { FaultProxy } from "./fault_proxy.ts";
import { NatsControl } from "./nats_control.ts";
import { PrivateDockerd } from "./dockerd.ts";
import { EndpointToxics } from "./toxics.ts";

import type { Log } from "../../model/log.ts";
export type { Log };

export interface ChaosClusterOptions {
  nodes: number;
  /** Publish every actor's transitions on NATS (the harness can record them into its history). */
  observeActors?: boolean;
  runtime: "docker" | "hollow";
  /** How many nodes (the last ones) run on a Docker daemon the harness starts itself. */
  privateDockerNodes?: number;
  nodeGracePeriodMs?: number;
  podEvictionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  resyncMs?: number;
  /** Start the service proxy (cluster DNS, ClusterIPs on loopback stand-ins, TCP proxies). Default: with Docker. */
  services?: boolean;
  /** Put a fault proxy in front of every pod on the service path (for endpoint-toxic faults). */
  endpointToxics?: boolean;
  /**
   * The service data path: "userspace" (default; TCP proxies, ClusterIPs on 127.x stand-ins) or
   * "nftables" (kernel DNAT in a table of this run's own, `berth-chaos-<id>`; root; the run's
   * ClusterIPs are added to `lo` and removed at the end). See nftablesProblem for what it needs.
   */
  proxyMode?: "userspace" | "nftables";
  log?: Log;
}

export class ChaosClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ChaosClusterError";
  }
}

/** One node: its fault proxy, runtime and (while alive) its agent and NATS connection. */
export class ChaosNode {
  agent?: NodeAgent;
  nc?: NatsConnection;
  /** Publishes this node's actors while its agent runs (with `observeActors`). */
  private publisher?: ActorPublisher;
  private starting?: Promise<void>;

  constructor(
    /** Logical name used in schedules and reports (`node-1`). */
    readonly logical: string,
    /** The Node object's name. */
    readonly name: string,
    readonly proxy: FaultProxy,
    readonly runtime: ContainerRuntime,
    /** dockerode on the node's engine (Docker runtimes only): for faults behind Berth's back. */
    readonly docker: Docker | undefined,
    readonly dockerd: PrivateDockerd | undefined,
    private readonly opts: ChaosClusterOptions,
    private readonly dns: { servers: string[]; search: string[] } | undefined,
  ) {}

  get alive(): boolean {
    return !!this.agent;
  }

  /** Starts the node agent (connecting to NATS through the node's fault proxy). Idempotent. */
  startAgent(): Promise<void> {
    if (this.agent) return Promise.resolve();
    this.starting ??= (async () => {
      const log = this.opts.log ?? (() => {});
      this.nc = await connectNats({ servers: this.proxy.url(), name: `berth-node-${this.name}` });
      const client = new NatsApiClient(this.nc, { node: this.name, timeoutMs: 5_000 });
      this.agent = await startNodeAgent({
        client,
        runtime: this.runtime,
        name: this.name,
        heartbeatIntervalMs: this.opts.heartbeatIntervalMs ?? 1000,
        resyncMs: this.opts.resyncMs ?? 2000,
        gcIntervalMs: 5_000,
        backoff: { baseMs: 500, maxMs: 5_000 },
        dns: this.dns,
        log: (m, f) => log(m, { node: this.logical, ...f }),
        ...(this.opts.observeActors ? { observe: { metrics: noMetrics, actors: this.publisher = new ActorPublisher(this.nc, this.name) } } : {}),
      });
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Kills the agent as a crash would: its containers keep running, its connection drops. Idempotent. */
  async killAgent(): Promise<void> {
    await this.starting?.catch(() => {});
    const a = this.agent;
    const nc = this.nc;
    this.publisher?.close();
    this.publisher = undefined;
    this.agent = undefined;
    this.nc = undefined;
    await a?.stop();
    await nc?.close().catch(() => {});
  }
}

/** A unique, short id for names of this run's nodes, networks and daemons. */
function runId(): string {
  return `${process.pid.toString(36)}${Math.floor(Math.random() * 36 ** 4).toString(36)}`;
}

export class ChaosCluster {
  readonly nodes: ChaosNode[] = [];
  controlPlane?: ControlPlane;
  services?: ServiceProxy;
  toxics?: EndpointToxics;
  private readonly stops: (() => Promise<void>)[] = [];
  private stopping?: Promise<void>;

  private constructor(readonly id: string, readonly home: string, readonly nats: NatsControl, readonly cluster: Cluster, readonly opts: ChaosClusterOptions) {}

  /** Starts NATS, the API, the control plane, the service proxy and the node agents. */
  static async start(opts: ChaosClusterOptions): Promise<ChaosCluster> {
    const id = runId();
    const home = mkdtempSync(join(tmpdir(), `berth-chaos-${id}-`));
    const log = opts.log ?? (() => {});
    const nats = await NatsControl.start(join(home, "nats"));
    let cluster: Cluster;
    try {
      cluster = await Cluster.start({ home: join(home, "cluster"), natsUrl: nats.url, log });
    } catch (e) {
      await nats.stop();
      throw e;
    }
    const cc = new ChaosCluster(id, home, nats, cluster, opts);
    try {
      await cc.init();
    } catch (e) {
      await cc.stop().catch(() => {});
      throw e;
    }
    return cc;
  }

  get api() {
    return this.cluster.api;
  }

  node(logical: string): ChaosNode {
    const n = this.nodes.find((x) => x.logical === logical || x.name === logical);
    if (!n) throw new ChaosClusterError(`no node ${logical} in this cluster (${this.nodes.map((x) => x.logical).join(", ")})`);
    return n;
  }

  /** The nftables table of this run (its own, so runs and `berth up` clusters never share rules). */
  get nftTable(): string {
    return `berth-chaos-${this.id}`;
  }

  private async init(): Promise<void> {
    const o = this.opts;
    const nftProblem = nftablesProblem(o);
    if (nftProblem) throw new ChaosClusterError(nftProblem);
    const log = o.log ?? (() => {});
    // A ClusterIP range of this run's own, served on 127.x stand-ins: no root, no collisions.
    const clusterCidr = `10.${97 + Math.floor(Math.random() * 2)}.${1 + Math.floor(Math.random() * 250)}.0/24`;
    this.controlPlane = await startControlPlane({
      client: this.api,
      services: { clusterCidr },
      nodeGracePeriodMs: o.nodeGracePeriodMs ?? 3000,
      podEvictionTimeoutMs: o.podEvictionTimeoutMs ?? 4000,
      log: (m, f) => log(m, { component: "control-plane", ...f }),
      ...(o.observeActors ? { observe: this.cluster.observability.observe("control-plane", { nc: this.cluster.nc, scope: "control-plane" }) } : {}),
    });
    this.stops.push(() => this.controlPlane!.stop());

    let shared: { runtime: DockerRuntime; docker: Docker } | undefined;
    if (o.runtime === "docker") {
      const docker = new Docker();
      const runtime = new DockerRuntime({ docker });
      try {
        await runtime.ping();
      } catch (e) {
        throw new ChaosClusterError(`Docker engine not reachable (${(e as Error).message}): run \`npm run setup\``, { cause: e });
      }
      if (!(await runtime.hasImage(INFRA_IMAGE))) throw new ChaosClusterError(`base image ${INFRA_IMAGE} is missing: run \`npm run setup\``);
      await runtime.ensureNetwork();
      shared = { runtime, docker };
    }
    if (o.services ?? o.runtime === "docker") {
      if (o.endpointToxics) {
        this.toxics = new EndpointToxics();
        this.stops.push(() => this.toxics!.stop());
      }
      const nft = o.proxyMode === "nftables";
      this.services = await startServiceProxy({
        client: this.toxics ? this.toxics.wrap(this.api) : this.api,
        ...(nft ? { proxyMode: "nftables" as const, nftTable: this.nftTable, ...(shared ? { hairpinGateways: [shared.runtime.network.gateway] } : {}) } : {}),
        // With toxics, every backend is dialed at its (proxied) host port, never its pod IP.
        ...(this.toxics ? { isLocalAddress: () => false } : {}),
        dnsAddresses: [{ host: "127.0.0.1", port: 0 }],
        assignClusterIps: false,
        nodeName: `chaos-${this.id}`,
        log: (m, f) => log(m, f),
      });
      this.stops.push(() => this.services!.stop());
    }

    const privateCount = o.runtime === "docker" ? Math.min(o.nodes, o.privateDockerNodes ?? 0) : 0;
    for (let i = 1; i <= o.nodes; i++) {
      const logical = `node-${i}`;
      const name = `chaos-${this.id}-${logical}`;
      const proxy = await FaultProxy.start({ upstream: { host: "127.0.0.1", port: this.nats.port } });
      this.stops.push(() => proxy.stop());
      let runtime: ContainerRuntime;
      let docker: Docker | undefined;
      let dockerd: PrivateDockerd | undefined;
      if (o.runtime === "hollow") runtime = new HollowRuntime();
      else if (i > o.nodes - privateCount) {
        dockerd = await PrivateDockerd.start({ id: `${this.id}-${i}`, log });
        this.stops.push(() => dockerd!.stop());
        await dockerd.importImageFrom(shared!.docker, INFRA_IMAGE);
        docker = dockerd.client();
        const network: BridgeNetwork = { name: `berth-chaos-${this.id}-${i}`, subnet: `10.216.${(Math.floor(Math.random() * 60) * 4 + i) % 256}.0/24`, gateway: "" };
        network.gateway = network.subnet.replace(/\.0\/24$/, ".1");
        const rt = new DockerRuntime({ docker, network });
        await rt.ensureNetwork();
        runtime = rt;
      } else {
        runtime = shared!.runtime;
        docker = shared!.docker;
      }
      const node = new ChaosNode(logical, name, proxy, runtime, docker, dockerd, o, undefined);
      this.nodes.push(node);
      this.stops.push(async () => {
        await node.killAgent();
        // Remove what this run created on the engines (never anything else: label-scoped).
        await removeLabelled(runtime, name);
      });
      await node.startAgent();
    }
    // Stops run in reverse order of registration.
    this.stops.reverse();
  }

  /** Resolves once every node reports Ready. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nodes = await this.api.list("nodes");
      const ready = this.nodes.filter((n) => nodes.items.find((x) => x.metadata.name === n.name)?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      if (ready.length === this.nodes.length) return;
      if (Date.now() > deadline) throw new ChaosClusterError(`nodes not Ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Heals NATS first (so everything can reach it), then stops everything in reverse order. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const log = this.opts.log ?? (() => {});
      await this.nats.heal().catch((e) => log("chaos: nats heal on stop failed", { error: String(e) }));
      for (const n of this.nodes) n.proxy.heal();
      for (const s of this.stops) {
        try {
          await s();
        } catch (e) {
          // Keep going: one failed step must not leave other children running.
          log("chaos: stop step failed", { error: String(e) });
        }
      }
      await this.cluster.stop().catch(() => {});
      await this.nats.stop();
      rmSync(this.home, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

/** Why these options cannot run in nftables proxy mode (undefined: they can, or it is not asked for). */
export function nftablesProblem(o: ChaosClusterOptions): string | undefined {
  if (o.proxyMode !== "nftables") return undefined;
  if (!(o.services ?? o.runtime === "docker")) return "proxyMode nftables needs the service proxy (a Docker cluster, or services: true)";
  // The toxics' fault proxies listen on 127.0.0.1; the kernel does not DNAT to loopback.
  if (o.endpointToxics) return "endpoint-toxic faults need the userspace proxy (their fault proxies are on loopback, which nftables DNAT cannot reach): use proxyMode userspace";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "proxyMode nftables needs root (it writes nftables rules and adds ClusterIPs to lo)";
  return undefined;
}

/** Removes every container and volume labelled with this node, on its runtime. */
export async function removeLabelled(runtime: ContainerRuntime, node: string): Promise<void> {
  const cs = await runtime.listContainers({ [LABELS.node]: node }).catch(() => []);
  await Promise.all(cs.map((c) => runtime.removeContainer(c.id).catch(() => {})));
  const vs = await runtime.listVolumes({ [LABELS.node]: node }).catch(() => []);
  await Promise.all(vs.map((v) => runtime.removeVolume(v.name).catch(() => {})));
}

export { DEFAULT_NETWORK };
