/**
 * The node agent (kubelet): one node actor for the Node object and one root pod actor per pod
 * bound to this node, kept in a Map (never children of one parent: xstate copies a parent's
 * children map on every spawn).
 *
 * Start-up follows Nomad's "Restore before Run": list the pods bound here, start their actors
 * (which re-adopt running labelled containers: same container IDs, nothing restarted), remove
 * labelled containers and emptyDir volumes of this node that no pod wants, then watch from the
 * list's revision. Only objects labelled `berth.node=<name>` (and `berth.cluster=<clusterId>`,
 * or no cluster label when the agent has no cluster id) are ever touched, so several agents — of
 * one cluster or of several — can share one Docker engine.
 *
 * Also exported for the CLI: `podLogs` and `podExec`.
 */
import * as os from "node:os";
import { createActor, fromPromise, type Actor } from "xstate";
import { podMachine, type PodEvent } from "../../actors/pod.ts";
import type { BackoffConfig } from "../../actors/pod_backoff.ts";
import { nodeMachine } from "../../actors/node.ts";
import { type MachineFacts, nodeObject, nodeStatus } from "../../actors/node_status.ts";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Node, Pod } from "../../model/types.ts";
import { clusterScoped } from "../containers/cluster_scope.ts";
import { EventRecorder, type Logger } from "./events.ts";
import { podEffects } from "./pod_effects.ts";
import {
  type Closeable,
  type ContainerRuntime,
  type RuntimeEvent,
  type ExecResult,
  LABELS,
  type LogChunk,
  RuntimeError,
} from "../../model/container_runtime.ts";
import { PodStatusWriter } from "./status_writer.ts";
import { Informer } from "../../actors/informer_cache.ts";

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
  log?: Logger;
}

type PodActor = Actor<typeof podMachine>;

interface PodEntry {
  actor: PodActor;
  writer: PodStatusWriter;
  pod: Pod;
  /** The API object is gone already: no final delete needed. */
  objectGone: boolean;
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

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

function podKey(pod: Pod): string {
  return pod.metadata.uid ?? `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** Starts a node agent; resolves once it has registered (or tried to) and restored its pods. */
export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const { client, name } = opts;
  // Everything below goes through the cluster's view of the engine, never the raw runtime.
  const runtime = clusterScoped(opts.runtime, opts.clusterId);
  const log = opts.log ?? (() => {});
  const advertise = opts.advertiseAddress ?? "127.0.0.1";
  const recorder = new EventRecorder(client, "kubelet", name, log);
  const entries = new Map<string, PodEntry>();
  const actors = new Map<string, PodActor>();
  let stopped = false;
  // The services a new pod's environment variables come from, kept by a watch (the kubelet's
  // service lister) instead of a list per pod start — at 5,000 pods that was 5,000 lists. Until
  // the first list has worked, a pod start lists for itself.
  const serviceCache = new Informer(client, "services", { log: (m, f) => log(m, { node: name, component: "service-env", ...f }) });
  let serviceCacheSynced = false;
  const serviceCacheStarted = (async () => {
    while (!stopped) {
      try {
        await serviceCache.start();
        serviceCacheSynced = true;
        return;
      } catch (e) {
        log("service list for pod environments failed; retrying", { node: name, error: String(e) });
        await new Promise((r) => setTimeout(r, 2_000));
      }
    }
  })();
  const effects = podEffects(runtime, {
    node: name,
    cluster: opts.clusterId,
    dns: opts.dns,
    services: async (namespace) =>
      serviceCacheSynced
        ? serviceCache.list().filter((svc) => (svc.metadata.namespace ?? "default") === namespace)
        : (await client.list("services", { namespace })).items,
  });

  const facts = async (): Promise<MachineFacts> => ({
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    maxPods: 110,
    kernelVersion: os.release(),
    operatingSystem: os.platform(),
    architecture: ARCH[os.arch()] ?? os.arch(),
    osImage: `${os.type()} ${os.release()}`,
    runtimeVersion: await runtime.version().catch(() => `${runtime.kind}://unknown`),
  });

  // ---- node object -----------------------------------------------------------------------
  async function writeNodeStatus(ready: { ready: boolean; reason?: string; message?: string }): Promise<void> {
    const f = await facts();
    for (let attempt = 0; attempt < 8; attempt++) {
      const cur = await client.get("nodes", name);
      try {
        await client.updateStatus("nodes", { ...cur, status: nodeStatus(advertise, name, f, ready, cur.status, new Date().toISOString()) });
        return;
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === "Conflict")) throw e;
      }
    }
  }

  async function register(): Promise<void> {
    const f = await facts();
    const obj: Node = nodeObject(name, advertise, opts.labels ?? {}, f);
    try {
      await client.create("nodes", obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      const cur = await client.get("nodes", name);
      await client.update("nodes", { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...obj.metadata.labels } } });
    }
  }

  async function heartbeat(): Promise<{ ready: boolean; reason?: string; message?: string }> {
    let ready: { ready: boolean; reason?: string; message?: string };
    try {
      await runtime.ping();
      ready = { ready: true };
    } catch (e) {
      ready = { ready: false, reason: "ContainerRuntimeUnreachable", message: `container runtime ${runtime.kind} is down: ${(e as Error).message}` };
    }
    await writeNodeStatus(ready);
    return ready;
  }

  const node = createActor(
    nodeMachine.provide({
      actors: {
        register: fromPromise(() => register()),
        heartbeat: fromPromise(() => heartbeat()),
      },
      actions: {
        readinessChanged: (_, params) => {
          log("node readiness changed", { node: name, ready: params.ready, reason: params.reason });
          // The runtime is back: pick the event stream up again and converge every pod now.
          if (params.ready) {
            restartEvents();
            for (const e of entries.values()) e.actor.send({ type: "RESYNC" });
            void collectGarbage();
          }
        },
      },
    }),
    { input: { name, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000 } },
  );
  node.subscribe({ error: (e) => log("node actor failed", { node: name, error: String(e) }) });

  // ---- pod actors --------------------------------------------------------------------------
  function ensurePod(pod: Pod, deleting = false): void {
    const key = podKey(pod);
    const cur = entries.get(key);
    if (cur) {
      cur.pod = pod;
      cur.actor.send({ type: "POD_UPDATED", pod });
      return;
    }
    // A finished pod is left as it is (its containers stay for logs) until it is deleted.
    const phase = pod.status?.phase;
    if (!deleting && !pod.metadata.deletionTimestamp && (phase === "Succeeded" || phase === "Failed")) {
      finished.add(key);
      return;
    }
    const ns = pod.metadata.namespace ?? "default";
    const writer = new PodStatusWriter(client, ns, pod.metadata.name, pod.metadata.uid, log);
    const entry: PodEntry = { actor: undefined as unknown as PodActor, writer, pod, objectGone: deleting };
    const machine = podMachine.provide({
      actors: effects.actors,
      actions: {
        reportStatus: (_, p) => void writer.write(p.status, p.hostPorts),
        recordEvents: (_, p: { events: PodEvent[] }) => {
          for (const ev of p.events) void recorder.record(entry.pod, ev.type, ev.reason, ev.message);
        },
      },
    });
    const actor = createActor(machine, {
      input: { pod, node: name, hostIP: advertise, backoff: opts.backoff, resyncMs: opts.resyncMs, deleting },
    });
    entry.actor = actor;
    entries.set(key, entry);
    actors.set(key, actor);
    actor.subscribe({
      complete: () => void podGone(key, entry),
      error: (e) => {
        // A pod actor must never die silently: log, record, and let a fresh actor take over.
        log("pod actor failed", { pod: `${ns}/${pod.metadata.name}`, error: String(e) });
        void recorder.record(entry.pod, "Warning", "Failed", `pod actor failed: ${String(e)}`);
        entries.delete(key);
        actors.delete(key);
        if (!stopped) setTimeout(() => !stopped && !entries.has(key) && ensurePod(entry.pod, entry.objectGone), 1000);
      },
    });
    actor.start();
  }

  async function podGone(key: string, entry: PodEntry): Promise<void> {
    entries.delete(key);
    actors.delete(key);
    await entry.writer.flush();
    entry.writer.close();
    if (stopped || entry.objectGone) return;
    const { name: podName, namespace, uid } = entry.pod.metadata;
    try {
      await client.delete("pods", podName, namespace, { gracePeriodSeconds: 0, preconditions: uid ? { uid } : undefined });
    } catch (e) {
      if (!(e instanceof ApiError && (e.reason === "NotFound" || e.reason === "Conflict"))) {
        log("pod not deleted after termination", { pod: `${namespace}/${podName}`, error: String(e) });
      }
    }
  }

  function podDeleted(pod: Pod): void {
    const key = podKey(pod);
    finished.delete(key);
    const cur = entries.get(key);
    if (cur) {
      cur.objectGone = true;
      cur.actor.send({ type: "DELETE" });
    } else {
      ensurePod(pod, true);
    }
  }

  const finished = new Set<string>();

  // ---- garbage collection: labelled containers and emptyDir volumes nobody wants ------------
  let gcRunning = false;
  async function collectGarbage(): Promise<void> {
    if (gcRunning || stopped) return;
    gcRunning = true;
    try {
      const wanted = (uid: string | undefined) => !!uid && (entries.has(uid) || finished.has(uid));
      for (const c of await runtime.listContainers({ [LABELS.node]: name })) {
        if (!wanted(c.labels[LABELS.podUid])) {
          log("removing orphaned container", { node: name, id: c.id.slice(0, 12), pod: c.labels[LABELS.podName] });
          await runtime.removeContainer(c.id);
        }
      }
      for (const v of await runtime.listVolumes({ [LABELS.node]: name, [LABELS.volumeKind]: "emptyDir" })) {
        if (!wanted(v.labels[LABELS.podUid])) await runtime.removeVolume(v.name).catch(() => {});
      }
    } catch (e) {
      // The runtime may be down; the next period (or its return) runs the collection again.
      if (!(e instanceof RuntimeError)) log("garbage collection failed", { node: name, error: String(e) });
    } finally {
      gcRunning = false;
    }
  }

  // ---- runtime events -------------------------------------------------------------------------
  let events: Closeable<RuntimeEvent> | undefined;
  let eventsLoop: Promise<void> | undefined;
  function restartEvents(): void {
    if (stopped || eventsLoop) return;
    eventsLoop = (async () => {
      while (!stopped) {
        try {
          events = await runtime.events({ [LABELS.node]: name });
          for await (const ev of events) {
            const uid = ev.labels[LABELS.podUid];
            const entry = uid ? entries.get(uid) : undefined;
            entry?.actor.send({ type: "RUNTIME_EVENT", event: ev });
          }
        } catch {
          // Engine gone: retried below; pods resync on their own period meanwhile.
        }
        if (!stopped) await sleep(1000);
      }
    })().finally(() => {
      eventsLoop = undefined;
    });
  }

  // ---- restore, then run ------------------------------------------------------------------------
  node.start();
  const list = await listPods();
  for (const pod of list.items) ensurePod(pod);
  await collectGarbage();
  restartEvents();
  const gcTimer = setInterval(() => void collectGarbage(), opts.gcIntervalMs ?? 30_000);

  async function listPods() {
    for (;;) {
      try {
        return await client.list("pods", { fieldSelector: `spec.nodeName=${name}` });
      } catch (e) {
        if (stopped) throw e;
        log("pod list failed; retrying", { node: name, error: String(e) });
        await sleep(1000);
      }
    }
  }

  let watch: Awaited<ReturnType<ApiClient["watch"]>> | undefined;
  const watchLoop = (async () => {
    let rv = list.metadata.resourceVersion;
    while (!stopped) {
      try {
        watch = await client.watch("pods", { fieldSelector: `spec.nodeName=${name}`, resourceVersion: rv });
        for await (const ev of watch) {
          if (ev.type === "BOOKMARK" || ev.type === "ERROR") continue;
          const pod = ev.object as Pod;
          if (pod.metadata.resourceVersion) rv = pod.metadata.resourceVersion;
          if (ev.type === "DELETED") podDeleted(pod);
          else ensurePod(pod);
        }
      } catch (e) {
        if (stopped) break;
        log("pod watch ended; relisting", { node: name, error: String(e) });
        await sleep(1000);
        // Relist: level-based convergence after a gap (e.g. a compacted revision).
        try {
          const again = await client.list("pods", { fieldSelector: `spec.nodeName=${name}` });
          const seen = new Set(again.items.map(podKey));
          for (const pod of again.items) ensurePod(pod);
          for (const [key, entry] of entries) if (!seen.has(key)) podDeleted(entry.pod);
          rv = again.metadata.resourceVersion;
        } catch {
          // API unreachable: the loop tries again.
        }
      }
    }
  })();

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    clearInterval(gcTimer);
    watch?.stop();
    // Not waited for long: a list in flight to an unreachable API would hold the stop up.
    await Promise.race([Promise.all([serviceCache.stop(), serviceCacheStarted]), new Promise((r) => setTimeout(r, 2_000))]);
    events?.close();
    node.send({ type: "STOP" });
    node.stop();
    for (const e of entries.values()) {
      e.actor.stop();
      await e.writer.flush();
      e.writer.close();
    }
    entries.clear();
    actors.clear();
    await Promise.race([effects.settle(), sleep(30_000)]);
    await recorder.flush();
    await Promise.race([watchLoop, sleep(2000)]);
  }

  return {
    name,
    runtime,
    pods: actors,
    node,
    stop,
    async shutdown(o = {}) {
      if (o.removePods) {
        const pending = [...entries.values()].map((e) =>
          new Promise<void>((resolve) => {
            e.objectGone = true; // the objects stay in the API; only the containers go
            e.actor.subscribe({ complete: () => resolve(), error: () => resolve() });
            e.actor.send({ type: "DELETE" });
          })
        );
        await Promise.race([Promise.all(pending), sleep(60_000)]);
        await collectGarbage();
      }
      await writeNodeStatus({ ready: false, reason: "KubeletStopped", message: "the node agent was shut down" }).catch(() => {});
      await stop();
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The runtime container id of a pod's container: the newest attempt, preferring a running one. */
export async function findPodContainer(runtime: ContainerRuntime, pod: Pod, container?: string): Promise<string> {
  const name = container ?? pod.spec.containers[0]?.name;
  if (!name) throw new PodContainerNotFoundError(pod.metadata.name, "<none>");
  const all = await runtime.listContainers({
    [LABELS.podUid]: pod.metadata.uid ?? pod.metadata.name,
    [LABELS.container]: name,
    ...(pod.spec.nodeName ? { [LABELS.node]: pod.spec.nodeName } : {}),
  });
  const rank = (c: { state: string; labels: Record<string, string> }) => (c.state === "running" ? 1e9 : 0) + Number(c.labels[LABELS.restartCount] ?? 0);
  const best = all.sort((a, b) => rank(b) - rank(a))[0];
  if (!best) throw new PodContainerNotFoundError(pod.metadata.name, name);
  return best.id;
}

/** No container of that name exists (yet) for the pod on this runtime. */
export class PodContainerNotFoundError extends Error {
  constructor(pod: string, container: string) {
    super(`container ${container} of pod ${pod} not found on this node`);
    this.name = "PodContainerNotFoundError";
  }
}

/** For `berth logs POD [-c C] [-f]`: the container's stdout/stderr as chunks. */
export async function podLogs(runtime: ContainerRuntime, pod: Pod, container?: string, follow = false, tail?: number): Promise<Closeable<LogChunk>> {
  return runtime.logs(await findPodContainer(runtime, pod, container), { follow, tail });
}

/** For `berth exec POD [-c C] -- CMD`: runs the command, returns exit code and output. */
export async function podExec(runtime: ContainerRuntime, pod: Pod, container: string | undefined, cmd: string[], timeoutMs?: number): Promise<ExecResult> {
  return runtime.exec(await findPodContainer(runtime, pod, container), cmd, { timeoutMs });
}
