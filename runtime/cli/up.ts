/**
 * `berth up` and `berth down`.
 *
 * `up` runs a whole cluster in this process until SIGINT/SIGTERM: a private nats-server child
 * (unless --nats), the API (NATS and REST), the control plane, N node agents and the service
 * proxy. It writes `$BERTH_HOME/cluster.json` and `kubeconfig`, prints one line containing
 * `ready` when every node is Ready, and on a signal stops everything it started — no child
 * process is left behind. `down` signals the `up` recorded in cluster.json and waits for it.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readIfExists } from "../security/home_files.ts";
import { join } from "node:path";
// The cluster machinery is imported when `up` runs, so that `berth get` does not load it.
import { readClusterInfo } from "../cluster_info.ts";
import { claimSlot, listLocalClusters, planFromCidrs, processAlive as alive, registerCluster, unregisterCluster, type NetworkPlan } from "../local_clusters.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import { homeDir } from "./connect.ts";
import type { ProxyMode } from "../service_proxy.ts";
import type * as Registry from "../registry.ts";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import { LABELS } from "../../model/container_runtime.ts";
import { OBSERVE_FLAGS, startUpObservability, startUpPrometheus, upLog } from "./up_observe.ts";

export const UP_FLAGS: FlagSpec[] = [
  { name: "home", type: "string", help: "state directory (default $BERTH_HOME or ./.berth)" },
  { name: "nodes", type: "number", help: "number of local node agents", default: 1 },
  { name: "runtime", type: "string", help: "container runtime: docker or hollow", default: "docker" },
  { name: "nats", type: "string", help: "use this NATS server instead of starting a private one" },
  { name: "api-port", type: "number", help: "REST API port (0 = any free port)", default: 0 },
  { name: "insecure-http", type: "boolean", help: "serve the REST API over plain HTTP (not recommended)" },
  { name: "example", type: "boolean", help: "apply the example app (the manifests directly in examples/) once ready" },
  { name: "listen", type: "string", help: "address for the private nats-server (default 127.0.0.1; read docs/security.md first)" },
  { name: "no-host-path", type: "boolean", help: "refuse pods with hostPath volumes" },
  { name: "no-default-quota", type: "boolean", help: "do not create the default ResourceQuota in namespace default (pods 1000; see docs/controllers.md)" },
  { name: "pod-cidr", type: "string", help: "the pods' Docker bridge subnet (default: the home's network slot, 10.213.0.0/16 for the first cluster; see berth list)" },
  { name: "service-cidr", type: "string", help: "the ClusterIP range (default: the home's network slot, 10.96.0.0/16 for the first cluster)" },
  { name: "proxy-mode", type: "string", help: "service data path: userspace (TCP proxies) or nftables (kernel DNAT, root; docs/services.md)", default: "userspace" },
  { name: "registry", type: "boolean", help: "also run a local image registry on 127.0.0.1 with its data in the home (docker push to it)" },
  { name: "registry-port", type: "number", help: "port of the --registry registry (default: the last one used, else a free one)", default: 0 },
  { name: "hpa-sync-period", type: "duration", help: "how often each HorizontalPodAutoscaler is synced, as kube-controller-manager's --horizontal-pod-autoscaler-sync-period (default 15s)" },
  { name: "usage-report-interval", type: "duration", help: "how often node agents measure pods' cpu and memory for kubectl top and autoscalers, as metrics-server's --metric-resolution (default 10s)" },
  { name: "quiet", short: "q", type: "boolean", help: "print only the ready line and errors" },
  ...OBSERVE_FLAGS,
  { name: "help", short: "h", type: "boolean", help: "show help for this command" },
];

type Out = (s: string) => void;

export async function upCmd(flags: Record<string, unknown>, out: Out, err: Out): Promise<number> {
  const home = homeDir(flags.home);
  const nodes = flags.nodes as number;
  const runtime = flags.runtime as string;
  if (!Number.isInteger(nodes) || nodes < 0) throw new UsageError(`--nodes must be a non-negative integer, got ${nodes}`);
  if (runtime !== "docker" && runtime !== "hollow") throw new UsageError(`--runtime must be docker or hollow, got ${JSON.stringify(runtime)}`);
  const [{ Cluster }, { startClusterComponents }, { DEFAULT_QUOTA_HARD, DEFAULT_QUOTA_NAME, ensureDefaultQuota }] = await Promise.all([
    import("../cluster.ts"),
    import("../cluster_components.ts"),
    import("../default_quota.ts"),
  ]);
  let proxyMode: ProxyMode;
  try {
    proxyMode = (await import("../service_proxy.ts")).parseProxyMode(flags["proxy-mode"]);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const existing = readClusterInfo(home);
  if (existing && existing.pid !== process.pid && alive(existing.pid)) {
    err(`berth up: a cluster is already running for ${home} (pid ${existing.pid}); stop it with \`berth down --home ${home}\`\n`);
    return 1;
  }
  const quiet = !!flags.quiet;
  const say = (s: string) => {
    if (!quiet) out(s);
  };
  // Structured component logs under <home>/logs/ (`berth logs --component NAME`).
  const { log, close: closeLogs } = upLog(home, flags, err);

  // Its own bridge, pod subnet, DNS address and ClusterIP range, so clusters run side by side.
  let plan: NetworkPlan;
  try {
    plan = planFromCidrs(claimSlot(home), flags["pod-cidr"] as string | undefined, flags["service-cidr"] as string | undefined);
  } catch (e) {
    unregisterCluster(home);
    throw new UsageError((e as Error).message);
  }
  say(`berth: starting a cluster in ${home} (${nodes} node${nodes === 1 ? "" : "s"}, ${runtime} runtime; ` +
    `${runtime === "docker" ? `pods on ${plan.network.name} ${plan.network.subnet}, ` : ""}ClusterIPs ${plan.serviceCidr})\n`);
  // Started first and stopped last: pods may pull from it from their first moment.
  const { registryHowTo, startHomeRegistry }: typeof Registry = await import("../registry.ts");
  const registry = flags.registry ? await startHomeRegistry(home, flags["registry-port"] as number) : undefined;
  if (registry) for (const line of registryHowTo(registry.address)) say(`berth: ${line}\n`);
  const nodeNames = Array.from({ length: nodes }, (_, i) => `node-${i + 1}`);
  process.once("exit", () => unregisterCluster(home));
  const cluster = await Cluster.start({
    home,
    natsUrl: flags.nats as string | undefined,
    nodeNames,
    listen: flags.listen as string | undefined,
    admission: flags["no-host-path"] ? { allowHostPath: false } : undefined,
    log,
  }).catch(async (e) => {
    await registry?.stop();
    throw e;
  });
  let stopping = false;
  const done = new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      if (stopping) return;
      stopping = true;
      say(`\nberth: ${sig} received, stopping the cluster\n`);
      cluster.stop().then(() => registry?.stop()).then(resolve, resolve);
    };
    process.once("SIGINT", () => onSignal("SIGINT"));
    process.once("SIGTERM", () => onSignal("SIGTERM"));
  });

  try {
    say(`berth: NATS at ${cluster.natsUrl}\n`);
    if (!flags["no-default-quota"]) {
      const q = await ensureDefaultQuota(cluster.api);
      if (q === "created") say(`berth: created ResourceQuota default/${DEFAULT_QUOTA_NAME} (pods ${DEFAULT_QUOTA_HARD.pods}); change it with kubectl edit quota ${DEFAULT_QUOTA_NAME}\n`);
    }
    const components = await startClusterComponents(cluster, {
      nodes,
      nodeNames,
      runtime,
      apiPort: flags["api-port"] as number,
      insecureHttp: !!flags["insecure-http"],
      proxyMode,
      progress: (s) => say(`berth: ${s}\n`),
      network: plan.network,
      serviceCidr: plan.serviceCidr,
      // nftables mode: one table per slot, so clusters side by side never touch each other's rules.
      nftTable: plan.slot === 0 ? "berth" : `berth${plan.slot}`,
      hpaSyncPeriodMs: flags["hpa-sync-period"] as number | undefined,
      usageIntervalMs: flags["usage-report-interval"] as number | undefined,
    });
    const observed = await startUpObservability(cluster, flags, (s) => say(`berth: ${s}\n`));
    const info = cluster.writeInfo({
      ...observed,
      apiUrl: components.apiUrl,
      token: components.token,
      dnsAddress: components.dnsAddress,
      kubeconfig: components.kubeconfig,
      nodes: components.nodeNames,
    });
    registerCluster(home, plan, runtime, { natsUrl: info.natsUrl, apiUrl: info.apiUrl });
    await startUpPrometheus(cluster, info, flags, (s) => say(`berth: ${s}\n`));
    await components.waitReady();
    out(`berth: cluster ready — ${nodes} node${nodes === 1 ? "" : "s"} Ready; NATS ${info.natsUrl}` +
      `${info.apiUrl ? `; API ${info.apiUrl}` : ""}${info.dnsAddress ? `; DNS ${info.dnsAddress}` : ""}\n`);
    if (info.kubeconfig) say(`berth: kubeconfig: ${info.kubeconfig}  (kubectl --kubeconfig ${info.kubeconfig} get nodes)\n`);
    const homeFlag = home === homeDir(undefined) ? "" : ` --home ${home}`;
    say(`berth: try \`bin/berth.js get pods${homeFlag}\` (or \`berth\` after \`npm link\`); stop with Ctrl-C or \`bin/berth.js down${homeFlag}\`\n`);
    if (flags.example) {
      const dir = new URL("../../examples/", import.meta.url).pathname;
      const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith("_")).sort() : [];
      for (const f of files) {
        const applied = await cluster.apply(readFileSync(join(dir, f), "utf8"), join("examples", f));
        for (const a of applied) say(`berth: example ${a.resource}/${a.name} ${a.action}\n`);
      }
    }
  } catch (e) {
    if (!stopping) {
      stopping = true;
      await cluster.stop();
      await registry?.stop();
    }
    throw e;
  }
  await done;
  unregisterCluster(home);
  closeLogs();
  say("berth: stopped\n");
  return 0;
}

type WithClient = <T>(flags: Record<string, unknown>, fn: (c: ApiClient) => Promise<T>) => Promise<T>;

export async function downCmd(flags: Record<string, unknown>, out: Out, withClient?: WithClient): Promise<number> {
  const grace = flags["grace-period"] as number | undefined;
  if (grace !== undefined && !flags.purge) throw new UsageError("--grace-period applies to the pods --purge deletes: add --purge");
  if (grace !== undefined && (!Number.isInteger(grace) || grace < 0)) throw new UsageError(`--grace-period must be a whole number of seconds, 0 or more, got ${grace}`);
  const home = homeDir(flags.home);
  const info = readClusterInfo(home);
  if (!info || !alive(info.pid)) {
    out(`berth down: no cluster is running for ${home}\n`);
    const left = await leftoverContainers(home);
    if (left?.count) {
      out(`berth down: ${left.count} container(s) of its pods are still running, kept for the next \`berth up\` to take back (README, "What \`berth down\` leaves"); ` +
        `to remove them, start the cluster and run \`berth down --purge\`, or \`docker rm -f -v $(docker ps -aq --filter label=${LABELS.cluster}=${left.id})\`\n`);
    }
    return 0;
  }
  if (flags.purge && withClient) await withClient(flags, (c) => purge(c, out, grace));
  process.kill(info.pid, "SIGTERM");
  const deadline = Date.now() + 60_000;
  while (alive(info.pid)) {
    if (Date.now() > deadline) {
      out(`berth down: pid ${info.pid} did not stop within 60 s; sending SIGKILL\n`);
      process.kill(info.pid, "SIGKILL");
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  out(`berth down: stopped the cluster for ${home} (pid ${info.pid})\n`);
  return 0;
}

/**
 * The containers a stopped cluster of `home` left running (its pods', labelled with the home's
 * cluster id), or undefined when the home has no id or Docker cannot be asked (a hollow-only
 * cluster needs no Docker).
 */
async function leftoverContainers(home: string): Promise<{ id: string; count: number } | undefined> {
  const id = readIfExists(join(home, "cluster-id"))?.trim();
  if (!id) return undefined;
  try {
    // The agents' own runtime and scope: the same labels and the same rule for what is the cluster's.
    const [{ default: Docker }, { DockerRuntime }, { clusterScoped }] = await Promise.all([import("dockerode"), import("../containers/docker.ts"), import("../containers/cluster_scope.ts")]);
    const all = await clusterScoped(new DockerRuntime({ docker: new Docker({ timeout: 5_000 }) }), id).listContainers({});
    return { id, count: all.filter((c) => c.state === "running").length };
  } catch {
    return undefined;
  }
}

/** What `down --purge` deletes before the pods, owners first (a CronJob's Jobs, a Deployment's ReplicaSets): each would make its pods again. */
const PURGED = [
  ["cronjobs", "cron job"],
  ["deployments", "deployment"],
  ["statefulsets", "stateful set"],
  ["daemonsets", "daemon set"],
  ["jobs", "job"],
  ["replicasets", "replica set"],
  ["replicationcontrollers", "replication controller"],
] as const;

/**
 * Deletes every workload controller (their pods with them) and every pod, then waits until the
 * pod objects are gone — the node agents stop and remove the containers before they let a pod
 * object go — so `down` leaves no container running. `graceSeconds` (`--grace-period`) replaces
 * each pod's own termination grace period, as `kubectl delete --grace-period` does; it also
 * hurries a pod whose deletion began with a longer one.
 */
async function purge(client: ApiClient, out: Out, graceSeconds?: number, timeoutMs = 120_000): Promise<void> {
  const deleted: string[] = [];
  for (const [resource, noun] of PURGED) {
    const items = (await client.list(resource)).items;
    for (const o of items) await client.delete(resource, o.metadata.name, o.metadata.namespace).catch(ignoreNotFound);
    if (items.length || resource === "replicationcontrollers") deleted.push(`${items.length} ${noun}(s)`);
  }
  const pods = await client.list("pods");
  // 0 would remove the objects at once, before any node has stopped a container (kubectl too
  // turns 0 into 1 without --force).
  const opts = graceSeconds === undefined ? undefined : { gracePeriodSeconds: Math.max(1, graceSeconds) };
  for (const p of pods.items) await client.delete("pods", p.metadata.name, p.metadata.namespace, opts).catch(ignoreNotFound);
  out(`berth down: deleted ${deleted.join(", ")} and ${pods.items.length} pod(s); waiting for their containers to stop\n`);
  const deadline = Date.now() + timeoutMs;
  let reported = Date.now();
  for (;;) {
    const left = (await client.list("pods")).items;
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      out(`berth down: ${left.length} pod(s) still terminating after ${timeoutMs / 1000} s; stopping anyway\n`);
      return;
    }
    if (Date.now() - reported >= 10_000) {
      reported = Date.now();
      out(`berth down: ${left.length} pod(s) still terminating (${left.slice(0, 3).map((p) => p.metadata.name).join(", ")}${left.length > 3 ? ", ..." : ""}); --grace-period shortens the wait\n`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function ignoreNotFound(e: unknown): void {
  if (!(e instanceof ApiError && e.code === 404)) throw e;
}

/** `berth list`: the clusters running on this machine, their homes and address ranges. */
export function listCmd(out: Out): number {
  const clusters = listLocalClusters();
  if (!clusters.length) {
    out("No Berth clusters are running on this machine.\n");
    return 0;
  }
  const rows = [["HOME", "PID", "RUNTIME", "NETWORK", "POD CIDR", "SERVICE CIDR", "API"], ...clusters.map((c) => [c.home, String(c.pid), c.runtime, c.network, c.podCidr, c.serviceCidr, c.apiUrl ?? "<none>"])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)) + 3);
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]))).join("") + "\n");
  return 0;
}
