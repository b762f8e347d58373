/**
 * A node's claims (runtime/kubelet/claim_volumes.ts) over an in-memory API and the hollow
 * runtime: the reclaim loop looks at every claim once its informer has listed and on every
 * collection, a failing claim does not hold the others back, and a pod's first start reads its
 * claims live.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FakeApi } from "../../../helpers/http_fake_api.ts";
import { waitFor } from "../../../helpers/nats.ts";
import type { ApiClient } from "../../../../model/client.ts";
import { claimVolumeName, LABELS } from "../../../../model/container_runtime.ts";
import { LOCAL_VOLUME_FINALIZER, type PersistentVolumeClaim, type Pod, SELECTED_NODE_ANNOTATION } from "../../../../model/types.ts";
import { HollowRuntime } from "../../../../runtime/containers/hollow.ts";
import { type NodeClaims, nodeClaims } from "../../../../runtime/kubelet/claim_volumes.ts";

const NODE = "n1";
let running: NodeClaims | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

function claimObject(name: string, o: { deleting?: boolean; node?: string } = {}): unknown {
  return {
    metadata: {
      name,
      namespace: "default",
      annotations: { [SELECTED_NODE_ANNOTATION]: o.node ?? NODE },
      finalizers: [LOCAL_VOLUME_FINALIZER],
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  };
}

function podObject(claims: string[]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "pod-uid" },
    spec: { nodeName: NODE, volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })), containers: [{ name: "c", image: "i" }] },
  };
}

/** `api` with calls counted by method, and `fail(resource, name)` deciding which updates throw. */
function counting(api: FakeApi, o: { fail?: (obj: PersistentVolumeClaim) => Error | undefined; holdWatch?: () => boolean } = {}) {
  const calls: Record<string, number> = {};
  const client = new Proxy(api as ApiClient, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
      if (typeof v !== "function") return v;
      return async (...a: unknown[]) => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        if (prop === "update" && a[0] === "persistentvolumeclaims") {
          const err = o.fail?.(a[1] as PersistentVolumeClaim);
          if (err) throw err;
        }
        if (prop === "watch" && o.holdWatch?.()) {
          // A watch that shows nothing until stopped: the node's cache stays as listed.
          let end = () => {};
          const ended = new Promise<void>((r) => (end = r));
          return { stop: () => end(), async *[Symbol.asyncIterator]() { await ended; } };
        }
        return v.apply(target, a);
      };
    },
  });
  return { client, calls };
}

async function claimVolume(rt: HollowRuntime, claim: PersistentVolumeClaim): Promise<string> {
  const name = claimVolumeName(claim.metadata.uid!);
  await rt.createVolume(name, { [LABELS.node]: NODE, [LABELS.volumeKind]: "persistent", [LABELS.claimUid]: claim.metadata.uid! });
  return name;
}

const exists = async (rt: HollowRuntime, name: string) => (await rt.listVolumes({ [LABELS.node]: NODE })).some((v) => v.name === name);
const claimGoneOrReleased = async (api: FakeApi, name: string) => {
  try {
    return !((await api.get("persistentvolumeclaims", name, "default")) as PersistentVolumeClaim).metadata.finalizers?.includes(LOCAL_VOLUME_FINALIZER);
  } catch {
    return true;
  }
};

describe("a node's claims - reclaim", () => {
  it("reclaims a claim released while the agent was away, once its informer has listed", async () => {
    const api = new FakeApi();
    const rt = new HollowRuntime();
    const claim = (await api.create("persistentvolumeclaims", claimObject("away", { deleting: true }))) as PersistentVolumeClaim;
    const volume = await claimVolume(rt, claim);
    running = nodeClaims({ client: api, runtime: rt, node: NODE });
    await running.start();
    await waitFor(() => claimGoneOrReleased(api, "away"), "the released claim's finalizer taken off");
    expect(await exists(rt, volume)).toBe(false);
  });

  it("looks at every claim again on each collection (level-based), not only when woken or when a retry is due", async () => {
    const api = new FakeApi();
    const rt = new HollowRuntime();
    const claim = (await api.create("persistentvolumeclaims", claimObject("later", { deleting: true }))) as PersistentVolumeClaim;
    const volume = await claimVolume(rt, claim);
    // The engine is away when the claim is first looked at; the retry is far off.
    rt.available = false;
    running = nodeClaims({ client: api, runtime: rt, node: NODE, retryMs: 3_600_000 });
    await running.start();
    await waitFor(() => running!.reclaimer.actor.getSnapshot().value === "sleeping", "the reclaimer waiting for its retry");
    rt.available = true;
    await running.collect();
    await waitFor(() => claimGoneOrReleased(api, "later"), "the claim reclaimed on the next collection");
    expect(await exists(rt, volume)).toBe(false);
  });

  it("a claim whose finalizer cannot be taken off does not hold the others back; the pass fails and is tried again", async () => {
    const api = new FakeApi();
    const rt = new HollowRuntime();
    let storeAway = true;
    const { client } = counting(api, { fail: (c) => (storeAway && c.metadata.name === "a-first" ? new Error("store unreachable") : undefined) });
    const first = (await api.create("persistentvolumeclaims", claimObject("a-first", { deleting: true }))) as PersistentVolumeClaim;
    const second = (await api.create("persistentvolumeclaims", claimObject("b-second", { deleting: true }))) as PersistentVolumeClaim;
    await claimVolume(rt, first);
    await claimVolume(rt, second);
    running = nodeClaims({ client, runtime: rt, node: NODE });
    await running.start();
    await waitFor(() => claimGoneOrReleased(api, "b-second"), "the second claim reclaimed despite the first");
    await waitFor(() => running!.reclaimer.actor.getSnapshot().context.lastError?.includes("store unreachable"), "the pass reported the first claim's failure");
    expect(await claimGoneOrReleased(api, "a-first")).toBe(false);
    storeAway = false;
    await waitFor(() => claimGoneOrReleased(api, "a-first"), "the first claim reclaimed on a later pass");
  });
});

describe("a node's claims - a pod still removing its containers", () => {
  it("does not ask the engine to remove a volume a pod of the node still names; a wake once its containers are gone reclaims it", async () => {
    const api = new FakeApi();
    const rt = new HollowRuntime();
    const claim = (await api.create("persistentvolumeclaims", claimObject("busy", { deleting: true }))) as PersistentVolumeClaim;
    const volume = await claimVolume(rt, claim);
    const tried: string[] = [];
    const remove = rt.removeVolume.bind(rt);
    rt.removeVolume = async (name: string) => {
      tried.push(name);
      return remove(name);
    };
    let podThere = true;
    running = nodeClaims({ client: api, runtime: rt, node: NODE, retryMs: 3_600_000, inUse: (ns, name) => podThere && ns === "default" && name === "busy" });
    await running.start();
    await waitFor(() => running!.reclaimer.actor.getSnapshot().value === "sleeping", "the reclaimer waiting");
    expect(tried).toEqual([]);
    expect(await exists(rt, volume)).toBe(true);
    podThere = false;
    running.reclaimer.wake(); // what the agent does when the pod's actor completes
    await waitFor(() => claimGoneOrReleased(api, "busy"), "the claim reclaimed");
    expect(tried).toEqual([volume]);
  });
});

describe("a node's claims - the check before a mount", () => {
  it("a pod's first start reads each claim live, one GET per claim, and refuses one being deleted that the cache shows live", async () => {
    const api = new FakeApi();
    let hold = false;
    const { client, calls } = counting(api, { holdWatch: () => hold });
    const claim = (await api.create("persistentvolumeclaims", claimObject("data"))) as PersistentVolumeClaim;
    await api.create("persistentvolumeclaims", claimObject("logs"));
    hold = true; // the node's cache will not see the deletion
    running = nodeClaims({ client, runtime: new HollowRuntime(), node: NODE });
    await running.start();
    await api.update("persistentvolumeclaims", { ...claim, metadata: { ...claim.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } });
    expect(running.informer.get("default/data")?.metadata.deletionTimestamp).toBeUndefined();

    const gets = calls.get ?? 0;
    const first = await running.prepare(podObject(["logs", "data"]), true);
    expect(first.type).toBe("error");
    expect(first.type === "error" && first.message).toContain("can't start pod because PVC default/data is being deleted");
    expect((calls.get ?? 0) - gets).toBe(2);

    // A pod that has run keeps its claim, and trusts the cache when it says yes: no read.
    const later = await running.prepare(podObject(["logs", "data"]), false);
    expect(later).toEqual({ type: "ok", uids: { logs: expect.any(String), data: claim.metadata.uid } });
    expect((calls.get ?? 0) - gets).toBe(2);
  });
});
