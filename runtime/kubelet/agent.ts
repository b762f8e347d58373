/**
 * The node agent (kubelet): the composition root of runtime/kubelet/. It builds the parts,
 * restores, then runs:
 *
 *   node actor (actors/node.ts) ◀── node_heartbeat.ts: register, heartbeat, status writes
 *   pod informer (spec.nodeName=<node>) ──▶ pod_supervisor.ts: one pod actor per pod
 *        pod actor ◀── pod_effects.ts (sandbox, containers, probes.ts) ─▶ ContainerRuntime
 *        pod actor ──▶ status_writer.ts, the event recorder
 *   runtime_events.ts: engine events ──▶ the pod they belong to
 *   container_gc.ts: labelled containers and emptyDir volumes no pod wants ──▶ removed
 *   claim_volumes.ts: claims informer ──▶ claim checks before mounts; reclaim of this node's
 *        volumes of deleted claims; volumes whose claims are gone ──▶ removed
 *   volume_refresh.ts: ConfigMap/Secret/downward API and ServiceAccount token volumes written
 *        before a container starts, kept current in place (tokens renewed), removed with the pod
 *
 * Start-up follows Nomad's "Restore before Run": list the pods bound here and start their
 * actors (which re-adopt running labelled containers: same container IDs, nothing restarted),
 * remove what no pod wants, then watch from the list's revision. Only objects labelled
 * `berth.node=<name>` (and `berth.cluster=<clusterId>`, or no cluster label when the agent has
 * no cluster id) are ever touched, so several agents — of one cluster or of several — can share
 * one Docker engine. Logs and exec for the CLI and the API: pod_containers.ts, node_services.ts.
 */
import { observeActor, type Observe } from "../../model/observe.ts";
import { instrumentRuntime } from "./kubelet_metrics.ts";
import { type Actor, createActor, fromPromise } from "xstate";
import type { ApiClient } from "../../model/client.ts";
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import type { Log } from "../../model/log.ts";
import type { Pod } from "../../model/types.ts";
import { createEventRecorder } from "../../actors/event_recorder.ts";
import { Informer } from "../../actors/informer_cache.ts";
import { nodeMachine } from "../../actors/node.ts";
import type { BackoffConfig } from "../../actors/pod_backoff.ts";
import { sleep, withTimeout } from "../async.ts";
import { clusterScoped } from "../containers/cluster_scope.ts";
import { ContainerGc } from "./container_gc.ts";
import { nodeHeartbeat } from "./node_heartbeat.ts";
import type { ImageCredentialProvider } from "./image_puller.ts";
import { apiSecretLookup, secretCredentials } from "./image_credentials.ts";
import { podEffects } from "./pod_effects.ts";
import { type PodActor, PodSupervisor } from "./pod_supervisor.ts";
import { RuntimeEventPump } from "./runtime_events.ts";
import { projectedVolumes, startVolumeRefresh } from "./volume_refresh.ts";
import { nodeClaims } from "./claim_volumes.ts";
import { podClaimNames } from "../../actors/volume_claims_decide.ts";


export interface NodeAgentOptions {
  client: ApiClient;
  runtime: ContainerRuntime;
  name: string;
  /**
   * The cluster this node belongs to: everything it creates is labelled `berth.cluster=<id>` and
   * it adopts, collects and watches only objects with both this id and its node name, so two
   * clusters with the same node names can share one engine. Absent: it touches only objects
   * without a cluster label (see runtime/containers/cluster_scope.ts). 1-63 of [A-Za-z0-9._-].
   */
  clusterId?: string;
  /** Where pod ports are published and what the Node reports as InternalIP. Default 127.0.0.1. */
  advertiseAddress?: string;
  heartbeatIntervalMs?: number;
  labels?: Record<string, string>;
  /** Cluster DNS for pods (dnsPolicy ClusterFirst). */
  dns?: { servers: string[]; search: string[] };
  /** Restart back-off (default 10 s doubling to 5 min). */
  backoff?: BackoffConfig;
  /** Level-based pod resync period (default 10 s). */
  resyncMs?: number;
  /** Orphan garbage collection period (default 30 s). */
  gcIntervalMs?: number;
  /**
   * Where ConfigMap/Secret/downward API volumes live on this machine (bind-mounted into
   * containers). Default `<tmpdir>/berth-kubelet/<cluster id>/<node>/pods`.
   */
  podsDir?: string;
  /** How often projected volumes are refreshed from their objects (default 2 s). */
  configRefreshMs?: number;
  /**
   * Mount a ServiceAccount token (with the cluster CA and the namespace) into every pod that does
   * not opt out, at /var/run/secrets/kubernetes.io/serviceaccount, as Kubernetes does (default
   * true). A pod whose token cannot be had — its account missing, an API without a signing key,
   * no `kube-root-ca.crt` ConfigMap — waits in ContainerCreating with a FailedMount event. false:
   * no pod gets one, as in a cluster without kube's ServiceAccount admission.
   */
  serviceAccountTokens?: boolean;
  /** Registry credentials for a pod's image pulls. Default: the pod's imagePullSecrets, read from the API (image_credentials.ts). */
  imageCredentials?: ImageCredentialProvider;
  log?: Log;
  /** Metrics (kubelet_*) and actor inspection of the node and pod actors (none by default). */
  observe?: Observe;
}

export interface NodeAgent {
  readonly name: string;
  /** The engine as this node's cluster sees it (give this one to logs/exec services). */
  readonly runtime: ContainerRuntime;
  /** The pod actors by pod uid (for inspection and tests). */
  readonly pods: ReadonlyMap<string, PodActor>;
  /** The node actor. */
  readonly node: Actor<typeof nodeMachine>;
  /** Leaves every container running; a new agent with the same name re-adopts them. */
  stop(): Promise<void>;
  /** Stops the agent; with `removePods`, first stops and removes every pod's containers. */
  shutdown(opts?: { removePods?: boolean }): Promise<void>;
}

/** Starts a node agent; resolves once it has registered (or tried to) and restored its pods. */
export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const { client, name } = opts;
  // Everything below goes through the cluster's view of the engine, never the raw runtime.
  const runtime = clusterScoped(instrumentRuntime(opts.runtime, opts.observe?.metrics), opts.clusterId);
  const log = opts.log ?? (() => {});
  const advertise = opts.advertiseAddress ?? "127.0.0.1";
  const scoped = (component: string): Log => (m, f) => log(m, { node: name, component, ...f });
  let stopped = false;

  // The services pods' environment variables come from (the kubelet's service lister).
  const services = new Informer(client, "services", { log: scoped("service-env") });
  const servicesStarted = startWithRetry(services, () => stopped, scoped("service-env"));
  // Hollow pods' volumes are plain directories: a tmpfs mount per pod would cost a mount(8) each,
  // and nothing reads them (kubemark's hollow kubelet mounts with a fake mounter too). Their
  // token volumes are not written at all (every pod has one; see ProjectedVolumesOptions).
  const hollow = opts.runtime.kind === "hollow";
  const projected = projectedVolumes(client, name, { ...opts, log, ...(hollow ? { tmpfs: false, tokenFiles: false } : {}) });
  // The PersistentVolumeClaims of this node's pods, and the reclaim of its claim volumes.
  const claims = nodeClaims({
    client,
    runtime,
    node: name,
    log: scoped("volumes"),
    // Not before this node's pod that names the claim has removed its containers.
    inUse: (namespace, claim) => pods.usesClaim(namespace, claim),
  });
  const claimsStarted = startWithRetry({ resource: "persistentvolumeclaims", start: () => claims.start() }, () => stopped, scoped("volumes"));
  const effects = podEffects(runtime, {
    node: name,
    cluster: opts.clusterId,
    claims,
    dns: opts.dns,
    config: projected.config,
    // The pod's imagePullSecrets, read through the node's API client (the node authorizer lets a
    // node read the Secrets its pods reference).
    imageCredentials: opts.imageCredentials ?? secretCredentials(apiSecretLookup(client), scoped("image-pull")),
    services: async (namespace) =>
      services.synced
        ? services.list().filter((svc) => (svc.metadata.namespace ?? "default") === namespace)
        : (await client.list("services", { namespace })).items,
  });
  // Serialized, as the kubelet's recorder (every recorder correlates: repeats bump a count).
  const recorder = createEventRecorder(client, "kubelet", log, { host: name, concurrency: 1, maxQueued: 10_000 });
  const pods = new PodSupervisor({
    client, node: name, hostIP: advertise, effects, recorder, backoff: opts.backoff, resyncMs: opts.resyncMs, log, observe: opts.observe,
    // A pod's containers are gone: a deleted claim's volume it held may be removed now.
    onGone: (pod) => {
      if (podClaimNames(pod).length > 0) claims.reclaimer.wake();
    },
  });
  const gc = new ContainerGc(runtime, name, (uid) => pods.wants(uid), log);
  const runtimeEvents = new RuntimeEventPump(runtime, name, (uid, ev) => pods.deliver(uid, ev));
  const heartbeat = nodeHeartbeat({ client, runtime, name, advertiseAddress: advertise, labels: opts.labels });

  const node = createActor(
    nodeMachine.provide({
      actors: { register: fromPromise(() => heartbeat.register()), heartbeat: fromPromise(() => heartbeat.heartbeat()) },
      actions: {
        readinessChanged: (_, params) => {
          log("node readiness changed", { node: name, ready: params.ready, reason: params.reason });
          // The runtime is back: pick the event stream up again and converge every pod now.
          if (params.ready) {
            runtimeEvents.start();
            pods.resyncAll();
            // Not before the pods bound here are known: a collection then would take every
            // container of this node for an orphan (the first heartbeat can beat the pod list).
            if (restored) void gc.collect();
          }
        },
      },
    }),
    { input: { name, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000 } },
  );
  observeActor(opts.observe, "node", name, node);
  node.subscribe({ error: (e) => log("node actor failed", { node: name, error: String(e) }) });

  // The pods bound here, through the shared informer. Keys are namespace/name; a pod re-created
  // under the same name is another pod (another uid): the old one is deleted first.
  const podInformer = new Informer(client, "pods", { fieldSelector: `spec.nodeName=${name}`, log: scoped("pods") });
  podInformer.subscribe((ev) => {
    const pod = ev.object as Pod;
    if (ev.type === "DELETED") return pods.deleted(pod);
    if (ev.old && ev.old.metadata.uid !== pod.metadata.uid) pods.deleted(ev.old as Pod);
    pods.ensure(pod);
  });

  // ---- restore, then run ----
  /** Set once the pod informer has listed this node's pods (and their actors exist). */
  let restored = false;
  node.start();
  await startWithRetry(podInformer, () => stopped, scoped("pods"));
  restored = true;
  await gc.collect();
  await projected.volumes.collect((uid) => pods.wants(uid));
  runtimeEvents.start();
  const gcTimer = setInterval(() => {
    void gc.collect();
    void claims.collect();
    void projected.volumes.collect((uid) => pods.wants(uid));
  }, opts.gcIntervalMs ?? 30_000);
  const refreshTimer = startVolumeRefresh(projected.volumes, projected.lookup, () => podInformer.list(), (uid) => pods.wants(uid), opts.configRefreshMs ?? 2_000, scoped("volumes"));

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    clearInterval(gcTimer);
    // Before the pod actors stop: a collection in flight must not judge this node's containers
    // by an empty set of pods (they stay running for the next agent to re-adopt).
    const gcStopped = gc.stop();
    refreshTimer.stop();
    // Bounded: a list in flight to an unreachable API must not hold the stop up.
    await withTimeout(Promise.all([podInformer.stop(), services.stop(), servicesStarted, claims.stop(), claimsStarted, projected.stop()]), 2_000);
    const eventsStopped = runtimeEvents.stop();
    node.send({ type: "STOP" });
    node.stop();
    // A heartbeat already under way is not written: the node has stopped answering now.
    const heartbeatStopped = withTimeout(heartbeat.stop(), 2_000);
    await pods.stop();
    await withTimeout(effects.settle(), 30_000);
    await withTimeout(eventsStopped, 2_000);
    await withTimeout(gcStopped, 2_000);
    await heartbeatStopped;
    await recorder.flush();
  }

  return {
    name,
    runtime,
    pods: pods.actors,
    node,
    stop,
    async shutdown(o = {}) {
      if (o.removePods) {
        await pods.removeAll(60_000);
        await gc.collect();
      }
      await heartbeat.writeStatus({ ready: false, reason: "KubeletStopped", message: "the node agent was shut down" }).catch(() => {});
      await stop();
    },
  };
}

/** Starts an informer, retrying its first list until it works or the agent stops. */
async function startWithRetry(informer: { start(): Promise<void>; readonly resource: string }, stopped: () => boolean, log: Log): Promise<void> {
  while (!stopped()) {
    try {
      await informer.start();
      return;
    } catch (e) {
      log("first list failed; retrying", { informer: informer.resource, error: String(e) });
      await sleep(1000);
    }
  }
}
