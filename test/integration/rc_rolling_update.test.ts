/**
 * Rolling update of a replication controller against a real API and control plane; nodes are
 * played by the API-level kubelet stand-in (pods report Ready shortly after being bound).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ApiClient } from "../../model/client.ts";
import type { Pod } from "../../model/types.ts";
import {
  NEXT_CONTROLLER_ANNOTATION,
  RollingUpdateError,
  rollingUpdate,
  scaleRc,
  type RollingUpdateProgress,
} from "../../runtime/rolling_update.ts";
import { every, heartbeats, kubeletStandIn, nodeObject, rcObject } from "../helpers/control_plane_standin.ts";

let t: TestApi;
let cp: ControlPlane;
let api: ApiClient;
let timers: ReturnType<typeof setInterval>[] = [];
const alive = new Set(["node-a", "node-b"]);

const live = async (selector: string) =>
  (await api.list("pods", { namespace: "default", labelSelector: selector })).items.filter((p: Pod) => !p.metadata.deletionTimestamp);
const readyImages = async (selector: string) =>
  (await live(selector)).filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).map((p) => p.spec.containers[0].image);

beforeAll(async () => {
  t = await startTestApi();
  api = t.api;
  for (const n of alive) await api.create("nodes", nodeObject(n));
  timers = [every(100, () => kubeletStandIn(api, alive)), every(250, () => heartbeats(api, alive))];
  const log = process.env.BERTH_TEST_LOG ? (m: string, f?: Record<string, unknown>) => console.log(m, JSON.stringify(f ?? {})) : undefined;
  cp = await startControlPlane({ client: api, scheduledEvents: false, log });
}, 30_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  await cp?.stop();
  await t?.stop();
});

describe("rolling update", () => {
  it("rolling update - --image replaces pods one at a time, never below the desired ready count, and keeps the name", async () => {
    await api.create("replicationcontrollers", rcObject("roll", 3));
    await waitFor(async () => (await readyImages("app=roll")).length === 3, "3 ready pods");

    const steps: RollingUpdateProgress[] = [];
    let minReady = Infinity;
    const watcher = every(20, async () => {
      minReady = Math.min(minReady, (await readyImages("app=roll")).length);
    });
    const result = await rollingUpdate(api, { oldName: "roll", image: "berth/busybox:v2", pollMs: 50, timeoutMs: 20_000, onProgress: (p) => steps.push(p) });
    clearInterval(watcher);

    expect(result).toEqual({ name: "roll", replicas: 3 });
    // One pod at a time: each new pod, once available, replaces one old pod.
    expect(steps.filter((s) => s.step === "scale-up" || s.step === "scale-down").map((s) => `${s.step} ${s.newReplicas}/${s.oldReplicas}`)).toEqual([
      "scale-up 1/3", "scale-down 1/2", "scale-up 2/2", "scale-down 2/1", "scale-up 3/1", "scale-down 3/0",
    ]);
    expect(minReady).toBeGreaterThanOrEqual(3);
    await waitFor(async () => {
      const imgs = await readyImages("app=roll");
      return imgs.length === 3 && imgs.every((i) => i === "berth/busybox:v2");
    }, "3 ready v2 pods");
    const rc = await api.get("replicationcontrollers", "roll", "default");
    expect(rc.spec.template?.spec.containers[0].image).toBe("berth/busybox:v2");
    await waitFor(async () => {
      const pods = await live("app=roll");
      return pods.length === 3 && pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rc.metadata.uid);
    }, "the renamed RC owns the 3 pods", 15_000);
  }, 60_000);

  it("rolling update - with a new manifest, an interrupted update resumes from the annotations, and rollback restores the old RC", async () => {
    await api.create("replicationcontrollers", rcObject("blue", 2, { app: "shop", color: "blue" }));
    await waitFor(async () => (await readyImages("color=blue")).length === 2, "2 blue pods");
    const green = rcObject("green", 2, { app: "shop", color: "green" });

    // Interrupt after the first step: the progress callback throws.
    const stop = new Error("interrupted");
    const err = await rollingUpdate(api, { oldName: "blue", newRc: green, pollMs: 50, timeoutMs: 20_000, onProgress: (p) => { if (p.step === "scale-up") throw stop; } }).catch((e) => e);
    expect(err).toBe(stop);
    const blue = await api.get("replicationcontrollers", "blue", "default");
    expect(blue.metadata.annotations?.[NEXT_CONTROLLER_ANNOTATION]).toBe("green");

    // Roll back: blue back to 2, green gone.
    await rollingUpdate(api, { oldName: "blue", rollback: true, pollMs: 50, timeoutMs: 20_000 });
    await expect(api.get("replicationcontrollers", "green", "default")).rejects.toMatchObject({ code: 404 });
    await waitFor(async () => (await live("app=shop")).length === 2 && (await readyImages("color=blue")).length === 2, "2 blue pods again", 15_000);
    expect((await api.get("replicationcontrollers", "blue", "default")).metadata.annotations?.[NEXT_CONTROLLER_ANNOTATION]).toBeUndefined();

    // Start again, interrupt, then resume to completion without giving the manifest again.
    await rollingUpdate(api, { oldName: "blue", newRc: green, pollMs: 50, timeoutMs: 20_000, onProgress: (p) => { if (p.step === "scale-down") throw stop; } }).catch(() => {});
    const done = await rollingUpdate(api, { oldName: "blue", pollMs: 50, timeoutMs: 20_000 });
    expect(done).toEqual({ name: "green", replicas: 2 });
    await expect(api.get("replicationcontrollers", "blue", "default")).rejects.toMatchObject({ code: 404 });
    await waitFor(async () => (await live("app=shop")).length === 2 && (await readyImages("color=green")).length === 2, "2 green pods", 15_000);
  }, 60_000);

  it("rolling update - refuses a new RC with the same selector", async () => {
    await api.create("replicationcontrollers", rcObject("same", 1));
    const err = await rollingUpdate(api, { oldName: "same", newRc: rcObject("same2", 1, { app: "same" }) }).catch((e) => e);
    expect(err).toBeInstanceOf(RollingUpdateError);
  });

  it("scale - scaleRc goes through the scale subresource", async () => {
    const s = await scaleRc(api, "same", 2);
    expect(s.spec.replicas).toBe(2);
    await waitFor(async () => (await live("app=same")).length === 2, "2 pods");
  });
});
