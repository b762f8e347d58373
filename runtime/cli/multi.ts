/**
 * The multi-machine commands (docs/multi-machine.md):
 *
 *   berth nats-config     write the configuration of a 3-server NATS cluster with JetStream
 *   berth control-plane   one copy of the API + control loops (loops only while holding the lease)
 *   berth node            the node agent, service proxy + DNS and node services of one Docker host
 *
 * The long-running ones connect with unlimited reconnects to every given server, print one line
 * containing `ready` when started, and stop cleanly on SIGINT/SIGTERM.
 */
import { connectNats, type NatsConnection } from "../nats/connection.ts";
import { parseServerList, writeNatsClusterConfigs } from "../nats/cluster_config.ts";
// The observability machinery (prom-client) loads when a node or control plane starts.
import type { Observability } from "../observability.ts";
import { mkdirSync } from "node:fs";
import { hostname, networkInterfaces } from "node:os";
import { resolve } from "node:path";
import type { ProxyMode } from "../service_proxy.ts";
import { UsageError, type FlagSpec, type Command } from "./args.ts";

type Out = (s: string) => void;

const METRICS_FLAG: FlagSpec = { name: "metrics-address", type: "string", help: "HOST:PORT of this process's metrics listener (/metrics)", default: "127.0.0.1:0" };

/** Starts the process's metrics listener on `--metrics-address`; says where. */
async function serveProcessMetrics(obs: Observability, flags: Record<string, unknown>, out: (s: string) => void, who: string) {
  const { parseListenAddress, startMetricsServer } = await import("../metrics/http_server.ts");
  let addr;
  try {
    addr = parseListenAddress(String(flags["metrics-address"]));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const server = await startMetricsServer({ ...addr, components: obs.components });
  out(`${who}: metrics at ${server.url}/metrics/{${Object.keys(server.paths()).join(",")}}\n`);
  return server;
}

const HELP: FlagSpec = { name: "help", short: "h", type: "boolean", help: "show help for this command" };
const NATS_FLAGS: FlagSpec[] = [
  { name: "nats", type: "string", help: "NATS server URLs, comma-separated (any servers of the cluster)" },
  { name: "user", type: "string", help: "NATS user (default $BERTH_NATS_USER)" },
  { name: "password", type: "string", help: "NATS password (default $BERTH_NATS_PASSWORD; prefer the variable: flags show in ps)" },
];

function natsServers(flags: Record<string, unknown>): string[] {
  const v = flags.nats;
  if (typeof v !== "string" || !v.trim()) throw new UsageError("give --nats URL[,URL...]");
  return v.split(",").map((s) => s.trim()).filter(Boolean);
}

async function connect(flags: Record<string, unknown>, name: string): Promise<NatsConnection> {
  const user = (flags.user as string | undefined) ?? process.env.BERTH_NATS_USER;
  const pass = (flags.password as string | undefined) ?? process.env.BERTH_NATS_PASSWORD;
  if ((user === undefined) !== (pass === undefined)) throw new UsageError("give both --user and --password (or neither)");
  return await connectNats({ servers: natsServers(flags), name, user, pass, maxReconnectAttempts: -1 });
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(sig);
    };
    const onInt = () => on("SIGINT");
    const onTerm = () => on("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
}

function jsonLog(err: Out, quiet: boolean) {
  return (msg: string, fields?: Record<string, unknown>) => {
    if (!quiet) err(JSON.stringify({ ts: new Date().toISOString(), msg, ...fields }) + "\n");
  };
}

/** The node agent's own request rate from `--kube-api-qps` and `--kube-api-burst`. */
function throttleFlags(flags: Record<string, unknown>): { qps: number; burst: number } {
  const qps = flags["kube-api-qps"] as number;
  const burst = flags["kube-api-burst"] as number;
  if (!Number.isFinite(qps) || qps < 0) throw new UsageError(`--kube-api-qps must be a number ≥ 0 (got ${qps})`);
  if (!Number.isInteger(burst) || burst < 1) throw new UsageError(`--kube-api-burst must be a whole number ≥ 1 (got ${burst})`);
  return { qps, burst };
}

/** `berth node --runtime hollow [--count N]`: N hollow node agents in this process. */
async function runHollowNodes(flags: Record<string, unknown>, prefix: string, out: Out, err: Out): Promise<void> {
  const count = flags.count as number;
  const { hollowNodeNames, startHollowNodes } = await import("../hollow_nodes.ts");
  let names: string[];
  try {
    names = count === 1 && flags.name !== undefined ? [prefix] : hollowNodeNames(prefix, count);
  } catch (e) {
    throw new UsageError(`--count/--name: ${(e as Error).message}`);
  }
  if (names.length > 1 && ((flags.user as string | undefined) ?? process.env.BERTH_NATS_USER) !== undefined) {
    throw new UsageError("--count > 1 shares one NATS connection between the nodes, and a node identity covers one node: connect without --user (a NATS server without client identities), or run one process per node");
  }
  const nc = await connect(flags, `berth-hollow-${prefix}`);
  const log = jsonLog(err, !!flags.quiet);
  try {
    const t0 = Date.now();
    const nodes = await startHollowNodes({ nc, names, heartbeatIntervalMs: (flags.heartbeat as number) * 1000, throttle: throttleFlags(flags), log });
    const span = names.length > 1 ? `${names[0]} … ${names.at(-1)}` : names[0];
    out(`${names.length} hollow node${names.length === 1 ? "" : "s"} ready (${span}) in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    const sig = await untilSignal();
    out(`hollow nodes ${span}: ${sig}, stopping\n`);
    await nodes.stop();
  } finally {
    await nc.drain().catch(() => {});
  }
}

export function multiCommands(_conn: FlagSpec[], out: Out, err: Out): Record<string, Command> {
  return {
    node: {
      summary: "run the node agent, service proxy + DNS and node services of this Docker host (or N hollow nodes)",
      usage: "berth node --nats URL[,URL...] --name NAME [--advertise-address IP] [--user U --password P]\n       berth node --nats URL --runtime hollow --count N --name PREFIX   (N hollow nodes PREFIX-0…, for scale tests)",
      flags: [
        ...NATS_FLAGS,
        { name: "name", type: "string", help: "node name (default: this host's name)" },
        { name: "advertise-address", type: "string", help: "this host's address other hosts reach; pod ports are published on it", default: "127.0.0.1" },
        { name: "dns-port", type: "number", help: "port of the host-side DNS listener on 127.0.0.1 (0: any free port)", default: 0 },
        { name: "pod-dns", type: "boolean", help: "serve DNS to pods on the berth bridge gateway :53 (--pod-dns=false to turn off)", default: true },
        { name: "heartbeat", type: "number", help: "seconds between node status reports", default: 1 },
        { name: "kube-api-qps", type: "number", help: "this node agent's sustained requests per second to the API (heartbeats are not counted; 0: no limit), as the kubelet's kubeAPIQPS", default: 50 },
        { name: "kube-api-burst", type: "number", help: "requests the node agent may send at once before --kube-api-qps applies, as the kubelet's kubeAPIBurst", default: 100 },
        { name: "runtime", type: "string", help: "docker, or hollow: in-memory containers that only pretend to run (scale tests; no service proxy or DNS)", default: "docker" },
        { name: "count", type: "number", help: "with --runtime hollow: run this many nodes in this process, named NAME-0, NAME-1, … (one NATS connection: connect without a node identity)", default: 1 },
        { name: "proxy-mode", type: "string", help: "service data path: userspace (TCP proxies) or nftables (kernel DNAT, root; docs/services.md)", default: "userspace" },
        { name: "usage-report-interval", type: "duration", help: "how often the node agent measures its pods' cpu and memory for kubectl top and autoscalers, as metrics-server's --metric-resolution (default 10s; Docker nodes)" },
        { name: "quiet", short: "q", type: "boolean", help: "no structured logs on stderr" },
        METRICS_FLAG,
        HELP,
      ],
      async run(p) {
        const name = (p.flags.name as string | undefined) ?? (await import("node:os")).hostname().split(".")[0];
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) throw new UsageError(`node name ${JSON.stringify(name)} must be a DNS label (lower-case letters, digits, -)`);
        if (p.flags.runtime !== "docker" && p.flags.runtime !== "hollow") throw new UsageError(`--runtime must be docker or hollow (got ${JSON.stringify(p.flags.runtime)})`);
        if (p.flags.runtime === "hollow") return await runHollowNodes(p.flags, name, out, err);
        if (p.flags.count !== 1) throw new UsageError("--count needs --runtime hollow (one process runs one Docker node)");
        let proxyMode: ProxyMode;
        try {
          proxyMode = (await import("../service_proxy.ts")).parseProxyMode(p.flags["proxy-mode"]);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        const nc = await connect(p.flags, `berth-node-${name}`);
        const log = jsonLog(err, !!p.flags.quiet);
        const obs = new (await import("../observability.ts")).Observability();
        try {
          const { startNodeHost } = await import("../node_host.ts");
          const host = await startNodeHost({
            observe: obs.observe(name, { nc, scope: name }),
            nc,
            name,
            advertiseAddress: p.flags["advertise-address"] as string,
            dnsAddresses: [{ host: "127.0.0.1", port: p.flags["dns-port"] as number }],
            podDns: p.flags["pod-dns"] as boolean,
            proxyMode,
            heartbeatIntervalMs: (p.flags.heartbeat as number) * 1000,
            throttle: throttleFlags(p.flags),
            usageIntervalMs: p.flags["usage-report-interval"] as number | undefined,
            log,
          });
          out(`node ${name} ready (advertise ${p.flags["advertise-address"]}, DNS ${host.dns.addresses.map((a) => `${a.host}:${a.port}`).join(" ")})\n`);
          const metrics = await serveProcessMetrics(obs, p.flags, out, `node ${name}`);
          const sig = await untilSignal();
          out(`node ${name}: ${sig}, stopping (containers keep running)\n`);
          await host.stop();
          obs.close();
          await metrics.close();
        } finally {
          await nc.drain().catch(() => {});
        }
      },
    },
    "control-plane": {
      summary: "run one copy of the API and control loops (the loops only while it holds the leader lease)",
      usage: "berth control-plane --nats URL[,URL...] [--replicas 3] [--user U --password P] [--lease-ttl S] [--hpa-sync-period DURATION] [--rest-port N [--rest-address A] [--home DIR]]",
      flags: [
        ...NATS_FLAGS,
        { name: "replicas", type: "number", help: "JetStream replicas of the state bucket (3 on a 3-server cluster)", default: 1 },
        { name: "id", type: "string", help: "identity in the leader lease (default: host-pid-random)" },
        { name: "lease-ttl", type: "number", help: "seconds an unrenewed lease lasts before another copy takes over", default: 5 },
        { name: "lease-renew", type: "number", help: "seconds between renewals", default: 1 },
        { name: "node-grace", type: "number", help: "seconds without a node heartbeat before it is NotReady", default: 10 },
        { name: "pod-eviction", type: "number", help: "seconds a node stays NotReady before its pods are replaced", default: 30 },
        { name: "hpa-sync-period", type: "duration", help: "how often each HorizontalPodAutoscaler is synced, as kube-controller-manager's --horizontal-pod-autoscaler-sync-period (default 15s)" },
        { name: "rest-port", type: "number", help: "also serve the Kubernetes REST API (kubectl) on this port; 0 picks a free one" },
        { name: "rest-address", type: "string", help: "address the REST API listens on (0.0.0.0 for other machines)", default: "127.0.0.1" },
        { name: "advertise-address", type: "string", help: "address pods on every machine reach this copy's REST API at: the `kubernetes` Service's endpoint while this copy leads (default: --rest-address, or this host's first non-loopback IPv4 address when that is a wildcard)" },
        { name: "home", type: "string", help: "where the REST API's token, CA and kubeconfig live (copy token and pki/ to every copy)", default: ".berth-control-plane" },
        { name: "quiet", short: "q", type: "boolean", help: "no structured logs on stderr" },
        METRICS_FLAG,
        HELP,
      ],
      async run(p) {
        const replicas = p.flags.replicas as number;
        const restPort = p.flags["rest-port"] as number | undefined;
        if (restPort !== undefined && !(Number.isInteger(restPort) && restPort >= 0 && restPort < 65536)) throw new UsageError("--rest-port must be a port number (0 picks a free one)");
        if (![1, 3, 5].includes(replicas)) throw new UsageError("--replicas must be 1, 3 or 5 (at most the number of NATS servers)");
        const ttl = p.flags["lease-ttl"] as number, renew = p.flags["lease-renew"] as number;
        if (!(renew > 0 && renew * 2 < ttl)) throw new UsageError("--lease-renew must be positive and under half of --lease-ttl");
        const nc = await connect(p.flags, "berth-control-plane");
        // The API's requests on a connection of their own (see ControlPlaneHostOptions.requestsNc).
        const requestsNc = await connect(p.flags, "berth-control-plane-api").catch(async (e) => {
          await nc.close().catch(() => {});
          throw e;
        });
        const log = jsonLog(err, !!p.flags.quiet);
        const obs = new (await import("../observability.ts")).Observability();
        const usage = new (await import("../metrics/usage_store.ts")).UsageStore(nc, { log });
        try {
          const [{ startControlPlaneHost, leaderElectionCheck }, { informerSyncCheck }, { serveRest, caFor }, { podLogProvider }, { encryptionTransformer, loadOrCreateEncryptionConfig }, { nodeStreamProvider }, { ensureKubernetesService, inClusterCertHosts }, { DEFAULT_SERVICE_CIDR }] = await Promise.all([
            import("../control_plane_host.ts"),
            import("../control_plane.ts"),
            import("../cluster_components.ts"),
            import("../kubelet/node_services.ts"),
            import("../security/encryption.ts"),
            import("../stream/open.ts"),
            import("../kubernetes_service.ts"),
            import("../../actors/service_ip_allocator.ts"),
          ]);
          const keysHome = resolve(p.flags.home as string);
          mkdirSync(keysHome, { recursive: true, mode: 0o700 });
          const { loadServiceAccountTokens } = await import("../auth/sa_tokens.ts");
          // With the REST API served here, pods reach it in-cluster as on Kubernetes: the leading
          // copy points the `kubernetes` Service at its own REST API (kube-apiserver's endpoint
          // reconciler), and publishes the cluster CA as `kube-root-ca.crt` in every namespace.
          const restAddress = p.flags["rest-address"] as string;
          const wildcard = restAddress === "0.0.0.0" || restAddress === "::";
          const advertise = (p.flags["advertise-address"] as string | undefined) ??
            (wildcard ? Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)?.address ?? "127.0.0.1" : restAddress);
          const rootCaPem = restPort !== undefined ? (await caFor(keysHome)).certPem : undefined;
          let restPortServing: number | undefined;
          const pointKubernetesService = async (client: import("../../model/client.ts").ApiClient) => {
            if (restPortServing === undefined) return;
            await ensureKubernetesService(client, { serviceCidr: DEFAULT_SERVICE_CIDR, address: advertise, port: restPortServing });
            log("kubernetes service points at this copy", { address: advertise, port: restPortServing });
          };
          const host = await startControlPlaneHost({
            nc,
            requestsNc,
            observability: obs,
            replicas,
            // Secrets are encrypted at rest with the key in <home>/encryption-config.yaml (made if absent; copy it to every copy).
            encryption: encryptionTransformer(loadOrCreateEncryptionConfig(keysHome)),
            // ServiceAccount tokens are signed with <home>/pki/sa.key (made if absent; copy it to every copy too).
            tokens: await loadServiceAccountTokens(keysHome),
            id: p.flags.id as string | undefined,
            leaseTtlMs: ttl * 1000,
            leaseRenewMs: renew * 1000,
            controlPlane: {
              nodeGracePeriodMs: (p.flags["node-grace"] as number) * 1000,
              podEvictionTimeoutMs: (p.flags["pod-eviction"] as number) * 1000,
              hpaSyncPeriodMs: p.flags["hpa-sync-period"] as number | undefined,
              ...(rootCaPem ? { rootCaPem } : {}),
            },
            onStartedLeading: pointKubernetesService,
            log: (m, f) => {
              log(m, f);
              if (m === "control loops started") out(`control-plane ${String(f?.id)} leading (term ${String(f?.term)})\n`);
              if (m === "control loops stopped") out(`control-plane ${String(f?.id)} standby (${String(f?.reason)})\n`);
            },
          });
          let rest: Awaited<ReturnType<typeof import("../cluster_components.ts").serveRest>> | undefined;
          if (restPort !== undefined) {
            rest = await serveRest({
              home: keysHome,
              api: host.api,
              host: restAddress,
              port: restPort,
              // In-cluster clients name it by the kubernetes Service's ClusterIP and DNS names.
              certHosts: [hostname(), advertise, ...inClusterCertHosts(DEFAULT_SERVICE_CIDR), ...(wildcard ? Object.values(networkInterfaces()).flat().map((i) => i!.address) : [restAddress])],
              logs: podLogProvider(nc, host.api),
              streams: nodeStreamProvider(nc, host.api),
              healthChecks: [informerSyncCheck(() => host.controlPlane), leaderElectionCheck(host.election)],
              metrics: obs.registry("api"),
              usage,
              log: (m, f) => log(m, f),
            });
            out(`control-plane ${host.id}: REST API at ${rest.url}; kubectl --kubeconfig ${rest.kubeconfig}\n`);
            restPortServing = rest.http.port;
            // Leading already (the loops started before the REST API did): point the Service now.
            if (host.leading) await pointKubernetesService(host.api).catch((e: unknown) => log("kubernetes service not written", { error: String(e) }));
          }
          out(`control-plane ${host.id} ready (API serving; state bucket replicas ${replicas})\n`);
          const metrics = await serveProcessMetrics(obs, p.flags, out, `control-plane ${host.id}`);
          const sig = await untilSignal();
          out(`control-plane ${host.id}: ${sig}, stopping\n`);
          await rest?.http.close();
          await host.stop();
          usage.stop();
          obs.close();
          await metrics.close();
        } finally {
          await requestsNc.drain().catch(() => {});
          await nc.drain().catch(() => {});
        }
      },
    },
    "nats-config": {
      summary: "write the configuration files of a NATS cluster with JetStream (one per server)",
      usage: "berth nats-config --cluster NAME --server HOST[:PORT[:CLUSTER_PORT]],... --out DIR [--store-dir DIR]",
      flags: [
        { name: "cluster", type: "string", help: "cluster name", default: "berth" },
        { name: "server", type: "strings", help: "server address host[:port[:clusterPort]] (default ports 4222 and 6222); repeat or comma-separate" },
        { name: "out", type: "string", help: "directory to write <cluster>-N.conf into" },
        { name: "store-dir", type: "string", help: "JetStream directory on each server", default: "/var/lib/berth/nats" },
        { name: "listen", type: "string", help: "listen on this address (e.g. 0.0.0.0) instead of each server's own" },
        { name: "route-user", type: "string", help: "user servers authenticate their routes with" },
        { name: "route-password", type: "string", help: "password for --route-user" },
        HELP,
      ],
      async run(p) {
        if (!p.flags.out) throw new UsageError("give --out DIR");
        const cluster = p.flags.cluster as string;
        let paths: string[];
        try {
          paths = writeNatsClusterConfigs(p.flags.out as string, {
            cluster,
            servers: parseServerList((p.flags.server as string[] | undefined) ?? [], cluster),
            storeDir: p.flags["store-dir"] as string,
            listenHost: p.flags.listen as string | undefined,
            routeUser: p.flags["route-user"] as string | undefined,
            routePassword: p.flags["route-password"] as string | undefined,
          });
        } catch (e) {
          if ((e as Error).name === "NatsClusterConfigError") throw new UsageError((e as Error).message);
          throw e;
        }
        for (const path of paths) out(`wrote ${path}\n`);
        out(`start each with: nats-server -c <file>; then berth control-plane --replicas ${paths.length >= 3 ? 3 : 1} --nats ...\n`);
      },
    },
  };
}
