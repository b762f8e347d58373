/**
 * Registration and heartbeat: the logic the node machine (actors/node.ts) is provided with.
 * The machine decides *when* (register, retry, heartbeat every interval, readiness changes);
 * this module does *what*: create or relabel the Node object, ask the container runtime
 * whether it answers, and write `status` (conditions, addresses, capacity, node info — built
 * purely in node_status.ts) with a compare-and-swap retried on conflict.
 */
import * as os from "node:os";
import type { ApiClient } from "../../model/client.ts";
import { retryOnConflict } from "../../model/conflict.ts";
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import { ApiError } from "../../model/errors.ts";
import type { HeartbeatResult } from "../../actors/node.ts";
import type { Node } from "../../model/types.ts";
import { type MachineFacts, nodeObject, nodeStatus } from "./node_status.ts";

export interface NodeHeartbeatOptions {
  client: ApiClient;
  runtime: ContainerRuntime;
  name: string;
  /** What the Node reports as InternalIP. */
  advertiseAddress: string;
  labels?: Record<string, string>;
}

const ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386" };

/** What this machine offers, as the Node reports it. */
export async function machineFacts(runtime: ContainerRuntime): Promise<MachineFacts> {
  return { ...hostFacts(), runtimeVersion: await runtime.version().catch(() => `${runtime.kind}://unknown`) };
}

let host: Omit<MachineFacts, "runtimeVersion"> | undefined;

/**
 * The host's part of the facts, read once per process as the kubelet reads its machine info once
 * at start: `os.cpus()` parses /proc/cpuinfo, and every heartbeat of every agent asked for it
 * (0.5 % of the CPU of a 100-node bench run). The runtime's version is still asked every time.
 */
function hostFacts(): Omit<MachineFacts, "runtimeVersion"> {
  host ??= {
    cpus: os.cpus().length,
    memoryBytes: os.totalmem(),
    maxPods: 110,
    kernelVersion: os.release(),
    operatingSystem: os.platform(),
    architecture: ARCH[os.arch()] ?? os.arch(),
    osImage: `${os.type()} ${os.release()}`,
  };
  return host;
}

/** The node machine's injected logic, bound to one node. */
export function nodeHeartbeat(opts: NodeHeartbeatOptions) {
  const { client, runtime, name, advertiseAddress } = opts;

  /**
   * The Node as this agent's last status write returned it. The agent is the only writer of its
   * Node's status, so the next heartbeat's compare-and-swap starts from it without a read (half
   * the requests of a heartbeat); when someone else changed the Node meanwhile (labels, taints,
   * the lifecycle controller's conditions), the CAS fails and the Node is read.
   */
  let last: Node | undefined;
  /** Set by stop(): nothing is written any more (a stopped agent has stopped answering). */
  let stopped = false;
  /** Registrations, heartbeats and status writes under way, for stop() to wait for. */
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };

  /** Writes the Node's status with the given readiness (build, CAS; read and retried on conflict). */
  function writeStatus(ready: HeartbeatResult): Promise<void> {
    return track((async () => {
      const facts = await machineFacts(runtime);
      await retryOnConflict(async () => {
        // A heartbeat that began before stop() ends here: its status would be stamped later.
        if (stopped) return;
        const cur = last ?? await client.get("nodes", name);
        if (stopped) return;
        last = undefined;
        last = await client.updateStatus("nodes", { ...cur, status: nodeStatus(advertiseAddress, name, facts, ready, cur.status, new Date().toISOString()) });
      });
    })());
  }

  /** Creates the Node, or adds this agent's labels to the one already there (a restart). */
  async function register(): Promise<void> {
    const obj = nodeObject(name, advertiseAddress, opts.labels ?? {}, await machineFacts(runtime));
    try {
      await client.create("nodes", obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      await retryOnConflict(async () => {
        const cur = await client.get("nodes", name);
        await client.update("nodes", { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...obj.metadata.labels } } });
      });
    }
  }

  /** One heartbeat: Ready when the container runtime answers, NotReady with the reason if not. */
  async function heartbeat(): Promise<HeartbeatResult> {
    let ready: HeartbeatResult;
    try {
      await runtime.ping();
      ready = { ready: true };
    } catch (e) {
      ready = { ready: false, reason: "ContainerRuntimeUnreachable", message: `container runtime ${runtime.kind} is down: ${(e as Error).message}` };
    }
    await writeStatus(ready);
    return ready;
  }

  /**
   * Ends status writing: none starts after this, and it resolves once those under way have
   * settled — so no heartbeat stamped after the agent stopped can reach the API.
   */
  async function stop(): Promise<void> {
    stopped = true;
    await Promise.allSettled([...inflight]);
  }

  return { register, heartbeat, writeStatus, stop };
}
