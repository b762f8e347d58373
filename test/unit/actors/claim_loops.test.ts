/**
 * The claim loops' executors over an in-memory API: pvc-protection lists each namespace's pods
 * once per pass and carries on past a failing claim; the scheduler is woken only by the claim
 * events that can change a pending pod's fate, and only while a pending pod names a claim.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeApi } from "../../helpers/http_fake_api.ts";
import { waitFor } from "../../helpers/nats.ts";
import type { ApiClient, ListOptions } from "../../../model/client.ts";
import { type PersistentVolumeClaim, type Pod, PVC_PROTECTION_FINALIZER, type Resource, SELECTED_NODE_ANNOTATION } from "../../../model/types.ts";
import { Informer } from "../../../actors/informer_cache.ts";
import { startPvcProtection } from "../../../actors/pvc_protection.ts";
import { startScheduler } from "../../../actors/scheduler.ts";
import { claimEventMatters } from "../../../actors/scheduler_claims.ts";
import type { EventRecorder } from "../../../actors/event_recorder.ts";
import type { WorkLoop } from "../../../actors/work_loop.ts";
import { node } from "../../helpers/control_plane_fixtures.ts";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function informer<R extends Resource>(client: ApiClient, resource: R): Promise<Informer<R>> {
  const i = new Informer(client, resource);
  await i.start();
  cleanup.push(() => i.stop());
  return i;
}

const deletedClaim = (name: string, namespace: string) => ({
  metadata: { name, namespace, finalizers: [PVC_PROTECTION_FINALIZER], deletionTimestamp: "2026-01-01T00:00:00Z" },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
});
const claimObject = (name: string) => ({ metadata: { name, namespace: "default" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } });
const podObject = (name: string, claim: string, nodeName?: string) => ({
  metadata: { name, namespace: "default" },
  spec: { ...(nodeName ? { nodeName } : {}), volumes: [{ name: "v", persistentVolumeClaim: { claimName: claim } }], containers: [{ name: "c", image: "i" }] },
  status: { phase: "Pending" },
});
const released = async (api: FakeApi, name: string, ns: string) =>
  !((await api.get("persistentvolumeclaims", name, ns)) as PersistentVolumeClaim).metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER);
const passes = (loop: WorkLoop) => loop.actor.getSnapshot().context.passes;

describe("pvc-protection - executor", () => {
  it("lists each namespace's pods once per pass, however many claims it releases there", async () => {
    const api = new FakeApi();
    for (const [name, ns] of [["a1", "a"], ["a2", "a"], ["a3", "a"], ["b1", "b"], ["b2", "b"]]) await api.create("persistentvolumeclaims", deletedClaim(name, ns));
    /** Each fresh list of a namespace's pods, with the pass it was made in. */
    const lists: string[] = [];
    let loop: WorkLoop | undefined;
    const client = new Proxy(api as ApiClient, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        if (prop === "list") {
          return (resource: Resource, opts: ListOptions = {}) => {
            if (resource === "pods" && opts.namespace !== undefined && loop) lists.push(`pass ${passes(loop)}: ${opts.namespace}`);
            return v.call(target, resource, opts);
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const claims = await informer(api, "persistentvolumeclaims");
    const pods = await informer(api, "pods");
    const pvc = startPvcProtection({ client, claims, pods });
    loop = pvc.loop;
    cleanup.push(() => pvc.stop());
    for (const [name, ns] of [["a1", "a"], ["a2", "a"], ["a3", "a"], ["b1", "b"], ["b2", "b"]]) await waitFor(() => released(api, name, ns), `${ns}/${name} released`);
    // A later pass on a lagging view may list again; one pass never lists a namespace twice.
    expect(lists.length).toBeGreaterThanOrEqual(2);
    expect(new Set(lists).size).toBe(lists.length);
  });

  it("a claim that fails does not hold the others back; the pass reports it and is tried again", async () => {
    const api = new FakeApi();
    let storeAway = true;
    const client = new Proxy(api as ApiClient, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        if (prop === "update") {
          return async (resource: Resource, obj: PersistentVolumeClaim) => {
            if (storeAway && obj.metadata.name === "a-first") throw new Error("store unreachable");
            return v.call(target, resource, obj);
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    await api.create("persistentvolumeclaims", deletedClaim("a-first", "default"));
    await api.create("persistentvolumeclaims", deletedClaim("b-second", "default"));
    const pvc = startPvcProtection({ client, claims: await informer(api, "persistentvolumeclaims"), pods: await informer(api, "pods") });
    cleanup.push(() => pvc.stop());
    await waitFor(() => released(api, "b-second", "default"), "the second claim released despite the first");
    await waitFor(() => pvc.loop.actor.getSnapshot().context.lastError?.includes("store unreachable"), "the failure reported");
    expect(await released(api, "a-first", "default")).toBe(false);
    storeAway = false;
    await waitFor(() => released(api, "a-first", "default"), "the first claim released on a later pass");
  });
});

describe("scheduler - claim events", () => {
  it("only a claim made, gone, placed, or marked deleted can matter to a pending pod", () => {
    const c = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "c", namespace: "default", uid: "u1", resourceVersion: "1" }, spec: {} } as PersistentVolumeClaim;
    const placed = { ...c, metadata: { ...c.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: "a" } } };
    expect(claimEventMatters({ type: "ADDED", object: c })).toBe(true);
    expect(claimEventMatters({ type: "DELETED", object: c, old: c })).toBe(true);
    expect(claimEventMatters({ type: "MODIFIED", object: placed, old: c })).toBe(true);
    expect(claimEventMatters({ type: "MODIFIED", object: { ...c, metadata: { ...c.metadata, deletionTimestamp: "t" } }, old: c })).toBe(true);
    expect(claimEventMatters({ type: "MODIFIED", object: { ...placed, status: { phase: "Bound" } }, old: placed })).toBe(false);
    expect(claimEventMatters({ type: "MODIFIED", object: { ...c, metadata: { ...c.metadata, finalizers: ["x"], labels: { a: "b" } } }, old: c })).toBe(false);
  });

  it("wakes on claim events only while a pending pod names a claim, and only for those that matter", async () => {
    const api = new FakeApi();
    const recorder: EventRecorder = { record() {}, flush: async () => {}, dropped: 0, filtered: 0 };
    const claims = await informer(api, "persistentvolumeclaims");
    const nodes = await informer(api, "nodes");
    const pods = await informer(api, "pods");
    const scheduler = startScheduler({ client: api, pods, nodes, claims, recorder });
    cleanup.push(() => scheduler.stop());
    // Wake-ups counted where they are asked for (passes also come from the 5 s retry of an unschedulable pod).
    let wakes = 0;
    const wake = scheduler.loop.wake;
    scheduler.loop.wake = () => {
      wakes++;
      wake();
    };
    /** Writes through `change`, waits for the claim informer to show it, and tells whether that woke the scheduler. */
    const woke = async (change: () => Promise<{ metadata: { resourceVersion?: string } }>): Promise<boolean> => {
      const before = wakes;
      const rv = (await change()).metadata.resourceVersion;
      await waitFor(() => claims.list().some((c) => Number(c.metadata.resourceVersion) >= Number(rv)), "the informer caught up");
      return wakes > before;
    };
    const update = async (name: string, f: (c: PersistentVolumeClaim) => PersistentVolumeClaim) => api.update("persistentvolumeclaims", f((await api.get("persistentvolumeclaims", name, "default")) as PersistentVolumeClaim));

    // No pod waits on a claim: nothing a claim does wakes the scheduler.
    await api.create("nodes", node("a"));
    await waitFor(() => nodes.list().length === 1, "the node seen");
    expect(await woke(() => api.create("persistentvolumeclaims", claimObject("idle")))).toBe(false);

    // A pending pod waits for a claim that does not exist (unschedulable).
    await api.create("pods", podObject("p", "data"));
    await waitFor(() => pods.list()[0]?.status?.conditions?.some((c) => c.type === "PodScheduled"), "the pod seen unschedulable");
    expect(await woke(() => update("idle", (c) => ({ ...c, status: { phase: "Pending" } })))).toBe(false);
    expect(await woke(() => update("idle", (c) => ({ ...c, metadata: { ...c.metadata, labels: { x: "y" } } })))).toBe(false);
    expect(await woke(() => update("idle", (c) => ({ ...c, metadata: { ...c.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: "a" } } })))).toBe(true);
    expect(await woke(() => api.create("persistentvolumeclaims", claimObject("data")))).toBe(true);
    await waitFor(async () => ((await api.get("pods", "p", "default")) as Pod).spec.nodeName === "a", "the pod bound once its claim exists");
    // Nothing pending any more: the scheduler's own annotation and the claim's later changes are quiet.
    expect(await woke(() => update("data", (c) => ({ ...c, status: { phase: "Bound" } })))).toBe(false);
  });
});
