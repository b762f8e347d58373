/**
 * A node agent's stop and restart, where races lose pods or lie about the node:
 * - a restarted agent must not collect its own pods' containers before it knows its pods (the
 *   node actor's first heartbeat marks the node Ready and runs a garbage collection; when that
 *   heartbeat beat the pod list, every container looked orphaned and was removed);
 * - a collection in flight when the agent stops must not judge the containers by the stopped
 *   agent's empty pod set (they stay for the next agent to re-adopt);
 * - a heartbeat under way when the agent stops must not reach the API afterwards (stamped later,
 *   it made a stopped node look alive past the moment it stopped).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent } from "../../runtime/kubelet/agent.ts";
import { LABELS } from "../../model/container_runtime.ts";
import type { ApiClient } from "../../model/client.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";
import { pod, waitRunning } from "../helpers/pod_fixture.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.stop();
});

/** The API, with lists of pods held back until `release()`: the pod list arrives after the first heartbeats. */
function slowPodLists(api: ApiClient): { client: ApiClient; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const client = new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== "list" || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
      return async (resource: string, ...rest: unknown[]) => {
        if (resource === "pods") await gate;
        return (v as (...a: unknown[]) => unknown).call(target, resource, ...rest);
      };
    },
  });
  return { client, release };
}

describe("node agent restart", () => {
  it("re-adopts its running containers even when its first heartbeat comes before its pod list", async () => {
    const runtime = new HollowRuntime();
    const node = "race-node";
    const opts = { runtime, name: node, heartbeatIntervalMs: 100, gcIntervalMs: 60_000 };
    const first = await startNodeAgent({ ...opts, client: t.api });
    await t.api.create("pods", pod("kept", node, { containers: [{ name: "c", image: "berth/busybox" }] }));
    const running = await waitRunning(t.api, "kept");
    const before = (await runtime.listContainers({ [LABELS.node]: node })).map((c) => c.id).sort();
    expect(before).toHaveLength(2); // the sandbox and the app container
    await first.stop();

    const slow = slowPodLists(t.api);
    const starting = startNodeAgent({ ...opts, client: slow.client });
    // Several heartbeats (the node is Ready again) while the pod list is held back.
    const beat = (await t.api.get("nodes", node)).status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;
    await waitFor(async () => (await t.api.get("nodes", node)).status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime !== beat, "a heartbeat of the restarted agent", 10_000);
    slow.release();
    const second = await starting;
    try {
      await waitFor(() => [...second.pods.values()][0]?.getSnapshot().matches({ active: "running" }), "the pod re-adopted and running");
      const after = (await runtime.listContainers({ [LABELS.node]: node })).map((c) => c.id).sort();
      expect(after).toEqual(before);
      expect((await t.api.get("pods", "kept", "default")).status?.containerStatuses?.[0].containerID).toBe(running.status?.containerStatuses?.[0].containerID);
    } finally {
      await second.stop();
    }
  });
});

/** The runtime, with garbage collection's container lists (node label only) held, once armed, until `release()`. */
function heldCollections(runtime: HollowRuntime): { runtime: HollowRuntime; arm(): Promise<void>; release(): void } {
  let armed = false;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const wrapped = new Proxy(runtime, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== "listContainers" || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
      return async (labels: Record<string, string> = {}, ...rest: unknown[]) => {
        const result = await (v as (...a: unknown[]) => Promise<unknown>).call(target, labels, ...rest);
        // Collection lists by node only (a pod's own steps add its uid, usage reports the role).
        if (armed && Object.keys(labels).every((k) => k === LABELS.node || k === LABELS.cluster)) {
          entered();
          await gate;
        }
        return result;
      };
    },
  });
  return { runtime: wrapped, arm: () => ((armed = true), inside), release };
}

describe("node agent stop", () => {
  it("a garbage collection in flight when the agent stops removes nothing", async () => {
    const hollow = new HollowRuntime();
    const held = heldCollections(hollow);
    const node = "stop-race-node";
    const agent = await startNodeAgent({ client: t.api, runtime: held.runtime, name: node, heartbeatIntervalMs: 1000, gcIntervalMs: 50 });
    await t.api.create("pods", pod("stays", node, { containers: [{ name: "c", image: "berth/busybox" }] }));
    await waitRunning(t.api, "stays");
    const before = (await hollow.listContainers({ [LABELS.node]: node })).map((c) => c.id).sort();
    expect(before).toHaveLength(2);
    // A periodic collection has listed the containers (all wanted then) and is held there while
    // the agent stops: it must not go on to judge them by the stopped agent's (empty) pod set.
    await held.arm();
    const stopping = agent.stop();
    await waitFor(() => agent.pods.size === 0, "the stopping agent's pod actors stopped", 10_000, 10);
    held.release();
    // The hollow runtime answers within microtasks: one turn of the event loop lets the released
    // collection run to its end (removals included) whether or not stop() waits for it.
    await new Promise((r) => setImmediate(r));
    await stopping;
    const after = (await hollow.listContainers({ [LABELS.node]: node })).map((c) => c.id).sort();
    expect(after).toEqual(before);
    await t.api.delete("pods", "stays", "default");
  });
});

describe("node agent stop, heartbeats", () => {
  it("a heartbeat under way when the agent stops is never written: no status write starts after stop()", async () => {
    const hollow = new HollowRuntime();
    let hold = false;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let released = false;
    let versionAfterRelease = false;
    const runtime = new Proxy(hollow, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (typeof v !== "function") return v;
        if (prop === "ping") {
          return async () => {
            if (hold) {
              hold = false;
              entered();
              await gate;
            }
            return target.ping();
          };
        }
        if (prop === "version") {
          return async () => {
            const out = await target.version();
            if (released) versionAfterRelease = true;
            return out;
          };
        }
        return v.bind(target);
      },
    });
    let stopCalled = false;
    const lateWrites: string[] = [];
    const client = new Proxy(t.api, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        if (prop !== "updateStatus" || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
        return (resource: string, obj: { status?: { conditions?: { lastHeartbeatTime?: string }[] } }) => {
          if (resource === "nodes" && stopCalled) lateWrites.push(obj.status?.conditions?.[0]?.lastHeartbeatTime ?? "?");
          return (v as (...a: unknown[]) => unknown).call(target, resource, obj);
        };
      },
    });
    const node = "stop-heartbeat-node";
    const agent = await startNodeAgent({ client, runtime, name: node, heartbeatIntervalMs: 50, gcIntervalMs: 60_000 });
    await waitFor(async () => (await t.api.get("nodes", node)).status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), "the node Ready", 10_000, 20);
    // The next heartbeat is held in its runtime ping while the agent stops.
    hold = true;
    await inside;
    stopCalled = true;
    const stopping = agent.stop();
    await waitFor(() => agent.node.getSnapshot().status !== "active", "the node actor stopped", 10_000, 5);
    released = true;
    release();
    await stopping;
    // The held heartbeat has gone on past the runtime (its version is asked just before the
    // write); the hollow runtime answers in microtasks, so one turn later a write would have begun.
    await waitFor(() => versionAfterRelease, "the held heartbeat past the runtime", 10_000, 5);
    await new Promise((r) => setImmediate(r));
    expect(lateWrites).toEqual([]);
  });
});
