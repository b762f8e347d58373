/**
 * A restarted node agent must not collect its own pods' containers before it knows its pods.
 * The node actor's first heartbeat marks the node Ready and runs a garbage collection; when that
 * heartbeat beat the pod list (a busy API), every container of the node looked orphaned and was
 * removed, and the pods came back with new containers instead of being re-adopted.
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
