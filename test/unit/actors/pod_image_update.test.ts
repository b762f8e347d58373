/**
 * Changing `spec.containers[*].image` of a running pod (the one pod spec field Kubernetes lets
 * change): the pod actor stops that container and recreates it with the new image; the others
 * are left alone. Pure decisions first, then the real pod actor on the hollow runtime.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createActor } from "xstate";
import { type PodEvent, podMachine, withSpecUpdate } from "../../../actors/pod.ts";
import { newRecord, planContainer } from "../../../actors/pod_backoff.ts";
import type { Pod, PodStatus } from "../../../model/types.ts";
import { HollowRuntime } from "../../../runtime/containers/hollow.ts";
import { podEffects } from "../../../runtime/kubelet/pod_effects.ts";
import type { ContainerInfo } from "../../../model/container_runtime.ts";

const backoff = { baseMs: 60_000, maxMs: 300_000 };
const running = (image: string): ContainerInfo => ({
  id: "a".repeat(64), labels: {}, image, state: "running", running: true, exitCode: 0, oomKilled: false, sandboxId: "sb", startedAt: "2026-01-01T00:00:00Z",
});

describe("image update decisions", () => {
  test("a running attempt of another image is replaced, counting a restart", () => {
    const rec = { ...newRecord("c"), id: "a".repeat(64), sandboxId: "sb", started: true, image: "img:v1", state: { kind: "running" as const } };
    const { record, action } = planContainer(rec, running("img:v1"), { policy: "Always", sandboxId: "sb", now: 0, backoff, image: "img:v2" });
    expect(action).toEqual({ type: "replace", id: rec.id });
    expect(record.restartCount).toBe(1);
    const same = planContainer(rec, running("img:v1"), { policy: "Always", sandboxId: "sb", now: 0, backoff, image: "img:v1" });
    expect(same.action).toEqual({ type: "none" });
  });

  test("a container backing off after a missing image starts at once when the image is changed", () => {
    const rec = { ...newRecord("c"), image: "missing:v1", crashes: 3, backoffUntil: 1_000_000, state: { kind: "waiting" as const, reason: "ErrImageNeverPull" } };
    expect(planContainer(rec, undefined, { policy: "Always", sandboxId: "sb", now: 0, backoff, image: "missing:v1" }).action.type).toBe("wait");
    const fixed = planContainer(rec, undefined, { policy: "Always", sandboxId: "sb", now: 0, backoff, image: "img:v2" });
    expect(fixed.action).toEqual({ type: "start" });
    expect(fixed.record.crashes).toBe(0);
  });

  test("withSpecUpdate takes only the images and activeDeadlineSeconds from an update", () => {
    const cur: Pod["spec"] = { containers: [{ name: "a", image: "x:1", command: ["sleep"] }, { name: "b", image: "y:1" }] };
    expect(withSpecUpdate(cur, { containers: [{ name: "a", image: "x:1" }, { name: "b", image: "y:1" }] })).toBe(cur);
    const next = withSpecUpdate(cur, { containers: [{ name: "a", image: "x:2", command: ["other"] }, { name: "b", image: "y:1" }] });
    expect(next.containers).toEqual([{ name: "a", image: "x:2", command: ["sleep"] }, { name: "b", image: "y:1" }]);
    // activeDeadlineSeconds too (set, or lowered), nothing else.
    const withDeadline = withSpecUpdate(cur, { ...cur, activeDeadlineSeconds: 60, restartPolicy: "Never" });
    expect(withDeadline).toEqual({ ...cur, activeDeadlineSeconds: 60 });
  });
});

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function run(pod: Pod, rt: HollowRuntime) {
  const statuses: PodStatus[] = [];
  const events: PodEvent[] = [];
  const actor = createActor(podMachine.provide({
    actors: podEffects(rt, { node: "h1" }).actors,
    actions: {
      reportStatus: (_, p) => void statuses.push(p.status),
      recordEvents: (_, p) => void events.push(...p.events),
    },
  }), { input: { pod, node: "h1", hostIP: "127.0.0.1", backoff, resyncMs: 60_000, retryMs: 50 } });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) });
  actor.start();
  void rt.events({ "berth.pod.uid": pod.metadata.uid! }).then(async (evs) => {
    stops.push(() => evs.close());
    for await (const ev of evs) actor.send({ type: "RUNTIME_EVENT", event: ev });
  });
  stops.push(() => actor.stop());
  const last = () => statuses[statuses.length - 1];
  const until = async (f: () => boolean, what: string, ms = 5000) => {
    const end = Date.now() + ms;
    while (!f()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last status ${JSON.stringify(last())}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { actor, statuses, events, errors, last, until };
}

const cs = (s: PodStatus | undefined, name: string) => s?.containerStatuses?.find((c) => c.name === name);

function twoContainers(image = "berth/busybox:latest"): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "img", namespace: "default", uid: "uid-img" },
    spec: { nodeName: "h1", containers: [{ name: "app", image }, { name: "side", image: "berth/busybox:latest" }] },
  };
}

function withImage(p: Pod, name: string, image: string): Pod {
  return { ...p, spec: { ...p.spec, containers: p.spec.containers.map((c) => (c.name === name ? { ...c, image } : c)) } };
}

describe("pod actor on the hollow runtime: image update", () => {
  test("recreates only the changed container with the new image and reports it", async () => {
    const h = run(twoContainers(), new HollowRuntime());
    await h.until(() => h.last()?.phase === "Running" && !!cs(h.last(), "app")?.state.running && !!cs(h.last(), "side")?.state.running, "Running");
    const before = h.last();
    h.actor.send({ type: "POD_UPDATED", pod: withImage(twoContainers(), "app", "berth/busybox:v2") });
    await h.until(() => cs(h.last(), "app")?.image === "berth/busybox:v2" && !!cs(h.last(), "app")?.state.running, "app running v2");
    const after = h.last();
    expect(cs(after, "app")?.restartCount).toBe(1);
    expect(cs(after, "app")?.containerID).not.toBe(cs(before, "app")?.containerID);
    expect(cs(after, "app")?.lastState?.terminated).toBeDefined();
    expect(cs(after, "side")?.containerID).toBe(cs(before, "side")?.containerID);
    expect(cs(after, "side")?.restartCount).toBe(0);
    expect(h.events).toContainEqual({ type: "Normal", reason: "Killing", message: "Container app definition changed, will be restarted" });
    expect(h.errors).toEqual([]);
  });

  test("fixing a missing image starts the container without waiting out the back-off", async () => {
    const rt = new HollowRuntime({ images: ["berth/busybox:latest"] });
    const h = run(twoContainers("berth/nope:1"), rt);
    // Not in the (hollow) registry either: the pull fails and backs off.
    await h.until(() => ["ErrImagePull", "ImagePullBackOff"].includes(cs(h.last(), "app")?.state.waiting?.reason ?? ""), "ErrImagePull");
    h.actor.send({ type: "POD_UPDATED", pod: withImage(twoContainers("berth/nope:1"), "app", "berth/busybox:latest") });
    // The back-off is a minute; this must happen long before.
    await h.until(() => !!cs(h.last(), "app")?.state.running, "app running after the image fix", 3000);
    expect(cs(h.last(), "app")?.image).toBe("berth/busybox:latest");
    expect(h.errors).toEqual([]);
  });
});
