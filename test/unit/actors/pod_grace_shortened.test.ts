/**
 * A pod already terminating, deleted again with a shorter grace period (`kubectl delete pod x
 * --grace-period=1` on a pod stuck in its 30 s): the kubelet's pod workers cancel the stop in
 * flight and stop the pod again within the new period. Before, the actor kept its first stop,
 * so the shorter period changed nothing until the longer one had run out.
 */
import { afterEach, describe, expect, test } from "vitest";
import { createActor, fromPromise } from "xstate";
import { type PodEvent, podMachine, type TerminateInput } from "../../../actors/pod.ts";
import type { Pod, PodStatus } from "../../../model/types.ts";
import { HollowRuntime } from "../../../runtime/containers/hollow.ts";
import { podEffects, terminatePod } from "../../../runtime/kubelet/pod_effects.ts";
import { LABELS } from "../../../model/container_runtime.ts";

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function deleting(grace: number | undefined, specGrace?: number): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "slow", namespace: "default", uid: "uid-slow", resourceVersion: "7", deletionTimestamp: "2026-12-04T00:00:30Z", ...(grace === undefined ? {} : { deletionGracePeriodSeconds: grace }) },
    spec: { nodeName: "h1", terminationGracePeriodSeconds: specGrace, containers: [{ name: "c", image: "berth/busybox" }] },
  };
}

/** The pod actor with a stop that waits for the test to finish it, recording each call. */
function withHeldStops(pod: Pod) {
  const calls: { grace: number; signal: AbortSignal; finish: () => void }[] = [];
  const statuses: PodStatus[] = [];
  const actor = createActor(podMachine.provide({
    actors: {
      ...podEffects(new HollowRuntime(), { node: "h1" }).actors,
      terminatePod: fromPromise<PodEvent[], TerminateInput>(({ input, signal }) =>
        new Promise((resolve) => calls.push({ grace: input.graceSeconds, signal, finish: () => resolve([]) }))
      ),
    },
    actions: { reportStatus: (_, p) => void statuses.push(p.status), recordEvents: () => {} },
  }), { input: { pod, node: "h1", hostIP: "127.0.0.1", retryMs: 50 } });
  actor.start();
  stops.push(() => actor.stop());
  return { actor, calls, statuses };
}

const update = (pod: Pod, grace: number): { type: "POD_UPDATED"; pod: Pod } => ({
  type: "POD_UPDATED",
  pod: { ...pod, metadata: { ...pod.metadata, deletionGracePeriodSeconds: grace, resourceVersion: String(Number(pod.metadata.resourceVersion) + 1) } },
});

describe("pod actor: a shorter grace period while terminating", () => {
  test("cancels the stop in flight and stops again with the shorter period; the status is not reported again", () => {
    const pod = deleting(30);
    const h = withHeldStops(pod);
    expect(h.calls.map((c) => c.grace)).toEqual([30]);
    const reported = h.statuses.length;
    h.actor.send(update(pod, 1));
    expect(h.calls.map((c) => c.grace)).toEqual([30, 1]);
    expect(h.calls[0].signal.aborted).toBe(true);
    expect(h.calls[1].signal.aborted).toBe(false);
    expect(h.statuses.length).toBe(reported);
    expect(h.actor.getSnapshot().context.graceSeconds).toBe(1);
    // The cancelled stop ending late changes nothing; the new one ends the actor.
    h.calls[0].finish();
    h.calls[1].finish();
    return new Promise<void>((resolve) => {
      const sub = h.actor.subscribe((s) => {
        if (s.status === "done") {
          sub.unsubscribe();
          resolve();
        }
      });
      if (h.actor.getSnapshot().status === "done") resolve();
    });
  });

  test("the same or a longer period, or an update of anything else, leaves the stop in flight alone", () => {
    const pod = deleting(5);
    const h = withHeldStops(pod);
    h.actor.send(update(pod, 5));
    h.actor.send(update(pod, 30));
    h.actor.send({ type: "POD_UPDATED", pod: { ...pod, metadata: { ...pod.metadata, labels: { a: "b" } } } });
    expect(h.calls.map((c) => c.grace)).toEqual([5]);
    expect(h.calls[0].signal.aborted).toBe(false);
    expect(h.actor.getSnapshot().context.pod.metadata.labels).toEqual({ a: "b" });
  });

  test("without deletionGracePeriodSeconds the spec's period counts: 30 by default, then shortened", () => {
    const pod = deleting(undefined);
    const h = withHeldStops(pod);
    expect(h.calls.map((c) => c.grace)).toEqual([30]);
    h.actor.send(update(pod, 2));
    expect(h.calls.map((c) => c.grace)).toEqual([30, 2]);
  });
});

describe("terminatePod once superseded", () => {
  test("stops the containers but leaves removing them to the stop that replaced it", async () => {
    const rt = new HollowRuntime();
    const pod = deleting(30);
    const labels = { [LABELS.node]: "h1", [LABELS.podUid]: "uid-slow" };
    const ref = { node: "h1", uid: "uid-slow", name: "slow", namespace: "default" };
    const sandbox = await rt.createSandbox({ pod: ref, ports: [] });
    await rt.startContainer(await rt.createContainer({ pod: ref, name: "c", sandboxId: sandbox.id, image: "berth/busybox", restartCount: 0 }));
    await terminatePod(rt, { pod, node: "h1", graceSeconds: 30 }, undefined, () => true);
    const left = await rt.listContainers(labels);
    expect(left.map((c) => [c.labels[LABELS.role], c.state]).sort()).toEqual([["app", "exited"], ["infra", "running"]]);
    // Not superseded: removed.
    await terminatePod(rt, { pod, node: "h1", graceSeconds: 1 });
    expect(await rt.listContainers(labels)).toEqual([]);
  });
});

/** A hollow runtime whose container stops wait until the test lets them go. */
class HeldStops extends HollowRuntime {
  held: (() => void)[] = [];
  stops: number[] = [];
  override async stopContainer(id: string, graceSeconds: number): Promise<void> {
    this.stops.push(graceSeconds);
    await new Promise<void>((r) => this.held.push(r));
    return super.stopContainer(id, graceSeconds);
  }
  release(): void {
    for (const r of this.held.splice(0)) r();
  }
}

async function runningPod(rt: HollowRuntime): Promise<void> {
  const ref = { node: "h1", uid: "uid-slow", name: "slow", namespace: "default" };
  const sandbox = await rt.createSandbox({ pod: ref, ports: [] });
  await rt.startContainer(await rt.createContainer({ pod: ref, name: "c", sandboxId: sandbox.id, image: "berth/busybox", restartCount: 0 }));
}

const until = async (f: () => boolean, what: string) => {
  const end = Date.now() + 5_000;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("the real stop effect under the pod actor", () => {
  test("an actor stopped mid-stop (the node agent shutting down) still has its containers removed: settle() waits for it", async () => {
    const rt = new HeldStops();
    await runningPod(rt);
    const effects = podEffects(rt, { node: "h1" });
    const actor = createActor(podMachine.provide({ actors: effects.actors, actions: { reportStatus: () => {}, recordEvents: () => {} } }), { input: { pod: deleting(30), node: "h1", hostIP: "127.0.0.1" } });
    actor.start();
    await until(() => rt.held.length === 1, "the app container's stop");
    actor.stop();
    rt.release();
    await until(() => rt.held.length === 1, "the sandbox's stop");
    rt.release();
    await effects.settle();
    expect(await rt.listContainers({ [LABELS.podUid]: "uid-slow" })).toEqual([]);
  });

  test("a shorter grace period mid-stop: the container is stopped again with it, and removed once", async () => {
    const rt = new HeldStops();
    await runningPod(rt);
    const effects = podEffects(rt, { node: "h1" });
    const pod = deleting(30);
    const actor = createActor(podMachine.provide({ actors: effects.actors, actions: { reportStatus: () => {}, recordEvents: () => {} } }), { input: { pod, node: "h1", hostIP: "127.0.0.1", retryMs: 50 } });
    const errors: unknown[] = [];
    actor.subscribe({ error: (e) => errors.push(e) });
    actor.start();
    stops.push(() => actor.stop());
    await until(() => rt.held.length === 1, "the first stop");
    actor.send(update(pod, 1));
    await until(() => rt.held.length === 2, "the second stop");
    expect(rt.stops).toEqual([30, 2]); // Docker's stop timeout: at least 2 s, as the kubelet's minimum
    for (let i = 0; i < 10 && actor.getSnapshot().status !== "done"; i++) {
      rt.release();
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => actor.getSnapshot().status === "done", "the actor to finish");
    await effects.settle();
    expect(await rt.listContainers({ [LABELS.podUid]: "uid-slow" })).toEqual([]);
    expect(actor.getSnapshot().context.lastError).toBeUndefined();
    expect(errors).toEqual([]);
  });
});

describe("the Killing event", () => {
  test("is recorded as the stop of a running container begins, not when it ends, and once", async () => {
    const rt = new HeldStops();
    const effects = podEffects(rt, { node: "h1" });
    const events: PodEvent[] = [];
    const statuses: PodStatus[] = [];
    const pod: Pod = { ...deleting(30), metadata: { name: "slow", namespace: "default", uid: "uid-slow", resourceVersion: "7" } };
    const actor = createActor(podMachine.provide({
      actors: effects.actors,
      actions: { reportStatus: (_, p) => void statuses.push(p.status), recordEvents: (_, p) => void events.push(...p.events) },
    }), { input: { pod, node: "h1", hostIP: "127.0.0.1" } });
    actor.start();
    stops.push(() => actor.stop());
    await until(() => statuses.at(-1)?.phase === "Running", "the pod Running");
    actor.send({ type: "DELETE" });
    await until(() => rt.held.length === 1, "the app container's stop");
    expect(events.filter((e) => e.reason === "Killing")).toEqual([{ type: "Normal", reason: "Killing", message: "Stopping container c" }]);
    for (let i = 0; i < 10 && actor.getSnapshot().status !== "done"; i++) {
      rt.release();
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => actor.getSnapshot().status === "done", "the actor to finish");
    expect(events.filter((e) => e.reason === "Killing")).toHaveLength(1);
  });
});
