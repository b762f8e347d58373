/**
 * A stand-in for node agents at the API level, for control-plane tests that need nodes but not
 * containers: Node objects, heartbeats, and pods reported Running/Ready and finished when
 * deleted — what a kubelet writes, with nothing run. Tests with the real node agent use
 * runtime/node_agent.ts instead.
 */
import { afterAll, beforeAll } from "vitest";
import type { ApiClient } from "../../model/client.ts";
import type { Pod } from "../../model/types.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { TestApi } from "./api.ts";

export function nodeObject(name: string): unknown {
  const now = new Date().toISOString();
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    spec: {},
    status: {
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
      conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: now }],
    },
  };
}

export interface StandInOptions {
  /**
   * For pods that run to completion (a Job's): the exit code their containers end with, or
   * undefined for a pod that runs until deleted. Such a pod is reported Running for one round,
   * then Succeeded (0) or Failed, and stays so.
   */
  exitCode?: (pod: Pod) => number | undefined;
}

/**
 * What a kubelet does every period, at the API level, for the nodes still "alive": refresh the
 * Ready heartbeat, report its pods Running and Ready, and finish graceful deletions.
 */
export async function kubeletStandIn(api: ApiClient, alive: Set<string>, opts: StandInOptions = {}): Promise<void> {
  const pods = (await api.list("pods")).items.filter((p) => p.spec.nodeName && alive.has(p.spec.nodeName));
  await Promise.all(pods.map(async (p) => {
    try {
      const exitCode = opts.exitCode?.(p);
      if (p.metadata.deletionTimestamp) {
        await api.delete("pods", p.metadata.name, p.metadata.namespace, { gracePeriodSeconds: 0 });
      } else if (exitCode !== undefined && (p.status?.phase === "Succeeded" || p.status?.phase === "Failed")) {
        // Finished: a kubelet never starts a finished pod again.
      } else if (exitCode !== undefined && p.status?.phase === "Running") {
        // Ran once as Running (the controllers saw it active); now its containers exit.
        const now = new Date().toISOString();
        const reason = exitCode === 0 ? "Completed" : "Error";
        await api.updateStatus("pods", {
          ...p,
          status: {
            ...p.status,
            phase: exitCode === 0 ? "Succeeded" : "Failed",
            conditions: [{ type: "Ready", status: "False", reason: "PodCompleted", lastTransitionTime: now }],
            containerStatuses: p.spec.containers.map((c) => ({
              name: c.name, image: c.image, ready: false, restartCount: 0,
              state: { terminated: { exitCode, reason, startedAt: p.status?.startTime ?? now, finishedAt: now } },
            })),
          },
        });
      } else if (p.status?.phase !== "Running" || p.status?.reason === "NodeLost") {
        const now = new Date().toISOString();
        await api.updateStatus("pods", {
          ...p,
          status: { phase: "Running", startTime: now, conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }] },
        });
      }
    } catch {
      // Lost a race with a controller: the next round sees the fresh pod.
    }
  }));
}

/** The kubelet's node heartbeat, for the nodes still "alive". */
export async function heartbeats(api: ApiClient, alive: Set<string>): Promise<void> {
  await Promise.all([...alive].map(async (name) => {
    try {
      const n = await api.get("nodes", name);
      const now = new Date().toISOString();
      const prev = n.status?.conditions?.find((c) => c.type === "Ready");
      const ready = { type: "Ready", status: "True" as const, reason: "KubeletReady", lastHeartbeatTime: now, lastTransitionTime: prev?.status === "True" ? prev.lastTransitionTime : now };
      await api.updateStatus("nodes", { ...n, status: { ...n.status, conditions: [ready] } });
    } catch {
      // A lost CAS against the node lifecycle controller: the next beat wins.
    }
  }));
}

/** Runs `fn` every `ms`, never two at once. */
export function every(ms: number, fn: () => Promise<void>): ReturnType<typeof setInterval> {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    void fn().catch(() => {}).finally(() => { busy = false; });
  }, ms);
}

/** Pods of a job run to completion (exit 0); any other pod runs until deleted. */
export const jobPodsSucceed: StandInOptions = {
  exitCode: (p) => (p.metadata.labels?.["batch.kubernetes.io/job-name"] ? 0 : undefined),
};

/**
 * For a test file: the control plane (over NATS) with the nodes in `alive` played by the
 * stand-in. beforeAll (with `hookTimeoutMs`) creates their Node objects, starts the stand-in's
 * rounds and heartbeats and the control plane; afterAll stops them. `h.test` is read in beforeAll,
 * so `h` may be what `useRestHarness` returned, called before this (its hooks run first and, for
 * the after-hooks, last).
 */
export function useStandInControlPlane(h: { test: TestApi }, alive: Set<string>, opts: StandInOptions = {}, hookTimeoutMs?: number): void {
  let timers: ReturnType<typeof setInterval>[] = [];
  let cp: ControlPlane | undefined;
  beforeAll(async () => {
    const api = h.test.api;
    for (const n of alive) await api.create("nodes", nodeObject(n));
    timers = [every(100, () => kubeletStandIn(api, alive, opts)), every(250, () => heartbeats(api, alive))];
    cp = await startControlPlane({ client: h.test.remote, scheduledEvents: false, services: false });
  }, hookTimeoutMs);
  afterAll(async () => {
    for (const t of timers) clearInterval(t);
    await cp?.stop();
  });
}

export function rcObject(name: string, replicas: number, labels: Record<string, string> = { app: name }): unknown {
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name },
    spec: { replicas, selector: labels, template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }] } } },
  };
}

