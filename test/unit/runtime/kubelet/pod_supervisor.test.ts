/**
 * The pod supervisor on the hollow runtime, with an in-memory stand-in for the API (the status
 * writer's reads and writes, the event recorder's creates).
 */
import { afterEach, describe, expect, it } from "vitest";
import fc from "fast-check";
import type { ApiClient } from "../../../../model/client.ts";
import type { Pod } from "../../../../model/types.ts";
import { ApiError } from "../../../../model/errors.ts";
import { createEventRecorder } from "../../../../actors/event_recorder.ts";
import { HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { podEffects } from "../../../../runtime/kubelet/pod_effects.ts";
import { PodSupervisor, sameButStatus } from "../../../../runtime/kubelet/pod_supervisor.ts";
import { waitFor } from "../../../helpers/nats.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

function pod(rv: number, extra: { labels?: Record<string, string>; image?: string; phase?: string } = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "uid-p", resourceVersion: String(rv), labels: extra.labels ?? { app: "a" } },
    spec: { nodeName: "h1", containers: [{ name: "c", image: extra.image ?? "berth/busybox" }] },
    status: { phase: (extra.phase ?? "Pending") as "Pending" },
  };
}

function supervisor(del: (name: string, opts: unknown) => Promise<unknown> = async () => pod(9), onGone?: (pod: Pod) => void) {
  let stored = pod(1);
  // Just enough of the API for the status writer (get, updateStatus), the recorder (create) and the last delete.
  const client = {
    get: async () => stored,
    updateStatus: async (_r: string, p: Pod) => (stored = { ...p, metadata: { ...p.metadata, resourceVersion: String(Number(stored.metadata.resourceVersion) + 1) } }),
    create: async (_r: string, o: unknown) => o,
    delete: async (_r: string, name: string, _ns: string, opts: unknown) => await del(name, opts),
  } as unknown as ApiClient;
  const log = () => {};
  const sup = new PodSupervisor({
    client, node: "h1", hostIP: "127.0.0.1", log,
    effects: podEffects(new HollowRuntime(), { node: "h1" }),
    recorder: createEventRecorder(client, "kubelet", log, { host: "h1" }),
    onGone,
  });
  stops.push(() => sup.stop());
  return sup;
}

describe("pod supervisor", () => {
  it("knows which claims its pods' containers may still refer to, finished pods included, until a deleted pod's containers are gone", async () => {
    const gone: string[] = [];
    const sup = supervisor(undefined, (p) => gone.push(p.metadata.name));
    const withClaim = (p: Pod, claim: string): Pod => ({ ...p, spec: { ...p.spec, volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }] } });
    const finished = withClaim({ ...pod(2, { phase: "Succeeded" }), metadata: { ...pod(2).metadata, name: "done", uid: "uid-done" } }, "batch");
    sup.ensure(finished);
    expect(sup.usesClaim("default", "batch")).toBe(true);
    expect(sup.usesClaim("other", "batch")).toBe(false);
    // (This node serves no claims, so the pod waits ContainerCreating; its actor is what counts.)
    sup.ensure(withClaim(pod(1), "data"));
    expect(sup.actors.get("uid-p")).toBeDefined();
    expect(sup.usesClaim("default", "data")).toBe(true);
    // Deleted: its actor removes the containers, and then it is gone.
    sup.deleted(withClaim(pod(3), "data"));
    await waitFor(() => gone.includes("p"), "the pod's containers gone");
    expect(sup.usesClaim("default", "data")).toBe(false);
    sup.deleted(finished);
    await waitFor(() => gone.includes("done"), "the finished pod's containers gone");
    expect(sup.usesClaim("default", "batch")).toBe(false);
  });

  it("tells a pod's actor of changes to its spec or metadata, not of a change of status alone", async () => {
    const sup = supervisor();
    sup.ensure(pod(1));
    const actor = sup.actors.get("uid-p")!;
    await waitFor(() => actor.getSnapshot().matches({ active: "running" }), "the pod running");
    const seen = () => actor.getSnapshot().context.pod;

    // The echo of a status write: nothing for the actor (before: a POD_UPDATED, one macrostep a pod).
    sup.ensure(pod(5, { phase: "Running" }));
    expect(seen().metadata.resourceVersion).toBe("1");

    // A label change reaches it (its containers' config may read labels).
    sup.ensure(pod(6, { phase: "Running", labels: { app: "a", tier: "web" } }));
    expect(seen().metadata.resourceVersion).toBe("6");
    expect(seen().metadata.labels).toEqual({ app: "a", tier: "web" });

    // So does a new image, which the actor applies by recreating the container.
    sup.ensure(pod(7, { phase: "Running", labels: { app: "a", tier: "web" }, image: "berth/busybox:2" }));
    expect(seen().spec.containers[0].image).toBe("berth/busybox:2");
  });

  it("a terminated pod is not started again by later versions of its object, and its last delete is asked again until it is answered", async () => {
    const asked: unknown[] = [];
    let failures = 1;
    const sup = supervisor(async (_name, opts) => {
      asked.push(opts);
      if (failures-- > 0) throw new ApiError("ServiceUnavailable", "the API server is busy");
      return pod(9);
    });
    sup.ensure(pod(1));
    await waitFor(() => sup.actors.get("uid-p")?.getSnapshot().matches({ active: "running" }), "the pod running");
    const deleting = { ...pod(2, { phase: "Running" }), metadata: { ...pod(2).metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 0 } };
    sup.ensure(deleting);
    // Refused once (503), asked again after a second.
    await waitFor(() => asked.length === 2, "the last delete asked twice", 10_000);
    expect(asked).toEqual([{ gracePeriodSeconds: 0, preconditions: { uid: "uid-p" } }, { gracePeriodSeconds: 0, preconditions: { uid: "uid-p" } }]);
    // Held by a finalizer, the object comes again (the mark, a status echo): no actor starts.
    sup.ensure({ ...deleting, metadata: { ...deleting.metadata, resourceVersion: "10", finalizers: ["example.com/keep"] } });
    expect(sup.actors.size).toBe(0);
    // Gone at last: forgotten (a deletion of it starts nothing either).
    sup.deleted(deleting);
    expect(sup.actors.size).toBe(0);
    expect(sup.wants("uid-p")).toBe(false);
  });

  it("drops runtime events the pod machine never acts on (a container's start) before they reach the actor", async () => {
    const sup = supervisor();
    sup.ensure(pod(1));
    const actor = sup.actors.get("uid-p")!;
    await waitFor(() => actor.getSnapshot().matches({ active: "running" }), "the pod running");
    const received: string[] = [];
    actor.system.inspect((ev) => { if (ev.type === "@xstate.event" && ev.actorRef === actor) received.push(ev.event.type); });
    const sandbox = actor.getSnapshot().context.sandbox!.id;
    sup.deliver("uid-p", { type: "start", id: sandbox, labels: {} });
    expect(received).toEqual([]);
    // A death still arrives (the pod's actor then checks its containers again).
    sup.deliver("uid-p", { type: "die", id: "not-ours", labels: {} });
    expect(received).toEqual(["RUNTIME_EVENT"]);
    await waitFor(() => actor.getSnapshot().matches({ active: "running" }), "running again");
  });

  it("sameButStatus: property — equal exactly when the pods differ at most in status and resourceVersion", () => {
    const arb = fc.record({
      rv: fc.integer({ min: 1, max: 9 }),
      phase: fc.constantFrom("Pending", "Running"),
      tier: fc.option(fc.constantFrom("web", "db"), { nil: undefined }),
      image: fc.constantFrom("berth/busybox", "berth/busybox:2"),
      deleting: fc.boolean(),
    });
    const make = (x: { rv: number; phase: string; tier?: string; image: string; deleting: boolean }) => {
      const p = pod(x.rv, { phase: x.phase, image: x.image, labels: x.tier ? { app: "a", tier: x.tier } : { app: "a" } });
      if (x.deleting) p.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
      return p;
    };
    fc.assert(fc.property(arb, arb, (a, b) => {
      const same = a.tier === b.tier && a.image === b.image && a.deleting === b.deleting;
      expect(sameButStatus(make(a), make(b))).toBe(same);
    }));
  });
});
