/**
 * The API's write path at scale (issue 16, throughput): an update naming the resourceVersion
 * the watch cache holds starts from the cached object (no store read), and stays a
 * compare-and-swap, so a cache behind the store costs a conflict, never a lost write; namespace
 * admission reads the cache, except for a namespace this API has just deleted; a delete starts
 * from the cached copy too, and decides again on the store's copy when that one is behind.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { entryReads, startTestApi, storeReads, waitFor, type TestApi } from "../helpers/api.ts";
import { ApiError } from "../../model/errors.ts";
import type { AnyObject, Pod } from "../../model/types.ts";
import { aesgcmTransformer, plainTransformer } from "../helpers/encryption.ts";

const pod = (name: string, ns = "default") => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c", image: "berth/busybox" }] },
});

describe("API write path", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cached = (resource: string, key: string) => t.impl.cache.newest(resource, key);
  /** Runs `fn` while the watch cache shows `stale` for `key` and nothing for any other key, as while its feed lags. */
  async function whileCacheShows(key: string, stale: AnyObject, fn: () => Promise<void>): Promise<void> {
    const newest = vi.spyOn(t.impl.cache, "newest").mockImplementation((_r: string, k: string): AnyObject | null => (k === key ? stale : null));
    try {
      await fn();
    } finally {
      newest.mockRestore();
    }
  }

  it("a bind and a status write naming the cached resourceVersion read nothing from the store; creates check the namespace in the cache", async () => {
    await waitFor(() => cached("namespaces", "/default"), "the cache has the default namespace");
    let p!: Pod;
    expect(await storeReads(t.store, async () => (p = await t.api.create("pods", pod("a"))))).toBe(0);
    await waitFor(() => cached("pods", "default/a")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    let bound!: Pod;
    expect(await storeReads(t.store, async () => (bound = await t.api.update("pods", { ...p, spec: { ...p.spec, nodeName: "n1" } })))).toBe(0);
    expect(bound.spec.nodeName).toBe("n1");
    await waitFor(() => cached("pods", "default/a")?.metadata.resourceVersion === bound.metadata.resourceVersion, "the cache has the bind");
    let running!: Pod;
    expect(await storeReads(t.store, async () => (running = await t.api.updateStatus("pods", { ...bound, status: { phase: "Running" } })))).toBe(0);
    const stored = await t.store.get("pods", "default", "a");
    expect(stored.status?.phase).toBe("Running");
    expect(stored.spec.nodeName).toBe("n1");
    expect(stored.metadata.resourceVersion).toBe(running.metadata.resourceVersion);
    // The creation revision rides along: a watch resumed before the create still sees ADDED.
    expect(t.store.createdRevisionOf(stored)).toBe(Number(p.metadata.resourceVersion));
  });

  it("a cache behind the store costs a conflict, never a lost write", async () => {
    const p = await t.api.create("pods", pod("b"));
    await waitFor(() => cached("pods", "default/b")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const stale = cached("pods", "default/b")!;
    const other = await t.api.updateStatus("pods", { ...p, status: { phase: "Running", message: "written by another client" } });
    // The cache answers with the old version, as while its watch lags.
    await whileCacheShows("default/b", stale, async () => {
      const err = await t.api.updateStatus("pods", { ...p, status: { phase: "Failed" } }).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).reason).toBe("Conflict");
    });
    const stored = await t.store.get("pods", "default", "b");
    expect(stored.status).toEqual({ phase: "Running", message: "written by another client" });
    expect(stored.metadata.resourceVersion).toBe(other.metadata.resourceVersion);
  });

  it("a write that changes nothing against a cache behind the store is a conflict, not 'unchanged' at an old version", async () => {
    const p = await t.api.create("pods", pod("d"));
    await waitFor(() => cached("pods", "default/d")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const stale = cached("pods", "default/d")!;
    const other = await t.api.updateStatus("pods", { ...p, status: { phase: "Running", message: "written by another client" } });
    await whileCacheShows("default/d", stale, async () => {
      // The same object as the (stale) cached copy: on the cache alone this looks like a no-op.
      const err = await t.api.updateStatus("pods", { ...p }).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).reason).toBe("Conflict");
      const err2 = await t.api.update("pods", { ...p }).catch((e) => e);
      expect((err2 as ApiError).reason).toBe("Conflict");
    });
    expect((await t.store.get("pods", "default", "d")).metadata.resourceVersion).toBe(other.metadata.resourceVersion);
  });

  it("a write that changes nothing returns a copy the caller may change, not the cache's frozen object", async () => {
    const p = await t.api.create("pods", pod("c"));
    await waitFor(() => cached("pods", "default/c")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const same = await t.api.updateStatus("pods", { ...p });
    expect(same.metadata.resourceVersion).toBe(p.metadata.resourceVersion);
    expect(Object.isFrozen(same)).toBe(false);
    same.metadata.labels = { changed: "yes" };
    expect(cached("pods", "default/c")?.metadata.labels).toBeUndefined();
  });

  it("a delete starts from the cached copy: no store read, one compare-and-swap write, the tombstone carries the object", async () => {
    const p = await t.api.create("pods", { ...pod("del-cached"), metadata: { name: "del-cached", labels: { keep: "me" } } });
    await waitFor(() => cached("pods", "default/del-cached")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const w = await t.api.watch("pods", { namespace: "default", resourceVersion: p.metadata.resourceVersion });
    let deleted!: Pod;
    expect(await entryReads(t.store, async () => (deleted = await t.api.delete("pods", "del-cached", "default", { gracePeriodSeconds: 0 })))).toBe(0);
    expect(deleted.metadata.uid).toBe(p.metadata.uid);
    expect(Number(deleted.metadata.resourceVersion)).toBeGreaterThan(Number(p.metadata.resourceVersion));
    expect(await t.store.tryGet("pods", "default", "del-cached")).toBeNull();
    try {
      for await (const ev of w) {
        if (ev.object.metadata.name !== "del-cached") continue;
        expect(ev.type).toBe("DELETED");
        expect(ev.object.metadata.labels).toEqual({ keep: "me" });
        expect(ev.object.metadata.resourceVersion).toBe(deleted.metadata.resourceVersion);
        break;
      }
    } finally {
      w.stop();
    }
    // A delete of what the cache does not hold still reads the store: NotFound.
    const gone = await t.api.delete("pods", "never-was", "default").catch((e) => e);
    expect((gone as ApiError).reason).toBe("NotFound");
  });

  it("a delete against a cache behind the store decides again on the store's copy: preconditions and the tombstone see the newest version", async () => {
    const p = await t.api.create("pods", pod("del-stale"));
    await waitFor(() => cached("pods", "default/del-stale")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const stale = cached("pods", "default/del-stale")!;
    const other = await t.api.updateStatus("pods", { ...p, status: { phase: "Running", message: "written by another client" } });
    await whileCacheShows("default/del-stale", stale, async () => {
      // Pinned to the store's newest version, which the stale copy does not carry: not a Conflict.
      const deleted = await t.api.delete("pods", "del-stale", "default", { gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid, resourceVersion: other.metadata.resourceVersion } });
      expect(deleted.status).toEqual({ phase: "Running", message: "written by another client" });
    });
    expect(await t.store.tryGet("pods", "default", "del-stale")).toBeNull();

    // Deleted and made again under the same name: the stale copy has the old uid.
    const first = await t.api.create("pods", pod("del-again"));
    await waitFor(() => cached("pods", "default/del-again")?.metadata.uid === first.metadata.uid, "the cache has the first pod");
    const old = cached("pods", "default/del-again")!;
    await t.api.delete("pods", "del-again", "default", { gracePeriodSeconds: 0 });
    const second = await t.api.create("pods", pod("del-again"));
    await whileCacheShows("default/del-again", old, async () => {
      const wrong = await t.api.delete("pods", "del-again", "default", { gracePeriodSeconds: 0, preconditions: { uid: first.metadata.uid } }).catch((e) => e);
      expect((wrong as ApiError).reason).toBe("Conflict");
      expect((wrong as ApiError).message).toContain(second.metadata.uid!);
      const right = await t.api.delete("pods", "del-again", "default", { gracePeriodSeconds: 0, preconditions: { uid: second.metadata.uid } });
      expect(right.metadata.uid).toBe(second.metadata.uid);
    });
  });

  it("a foreground delete that would change nothing on a stale cached copy is decided again on the store's copy", async () => {
    const rc = await t.api.create("replicationcontrollers", {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "fg" },
      spec: { replicas: 0, selector: { app: "fg" }, template: { metadata: { labels: { app: "fg" } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } } },
    });
    const marked = await t.api.delete("replicationcontrollers", "fg", "default", { propagationPolicy: "Foreground" });
    expect(marked.metadata.finalizers).toContain("foregroundDeletion");
    await waitFor(() => cached("replicationcontrollers", "default/fg")?.metadata.resourceVersion === marked.metadata.resourceVersion, "the cache has the marked RC");
    const stale = cached("replicationcontrollers", "default/fg")!;
    // Someone else takes the finalizer off in the store (the cache not told yet).
    const unmarked = await t.store.update("replicationcontrollers", { ...marked, metadata: { ...marked.metadata, finalizers: [] } }, Number(marked.metadata.resourceVersion));
    await whileCacheShows("default/fg", stale, async () => {
      const again = await t.api.delete("replicationcontrollers", "fg", "default", { propagationPolicy: "Foreground" });
      expect(Number(again.metadata.resourceVersion)).toBeGreaterThan(Number(unmarked.metadata.resourceVersion));
    });
    expect((await t.store.get("replicationcontrollers", "default", "fg")).metadata.finalizers).toEqual(["foregroundDeletion"]);
    expect(rc.metadata.uid).toBe(marked.metadata.uid);
  });

  it("a delete starting from a readable cached copy of what the store now holds unreadable ends as a store-path delete: refused naming the way out, or done unread when asked", async () => {
    t.store.useTransformer(aesgcmTransformer("old", 1));
    try {
      const s = await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "rekeyed" }, stringData: { a: "1" } }, "default");
      await waitFor(() => cached("secrets", "default/rekeyed")?.metadata.resourceVersion === s.metadata.resourceVersion, "the cache has the secret");
      const stale = cached("secrets", "default/rekeyed")!;
      // A newer version, then the key is lost: the store's value can no longer be read, while
      // this cache (its feed lagging) still shows the readable older copy.
      await t.api.update("secrets", { ...s, stringData: { a: "2" } });
      t.store.useTransformer(aesgcmTransformer("new", 2));
      await whileCacheShows("default/rekeyed", stale, async () => {
        const refused = await t.api.delete("secrets", "rekeyed", "default").catch((e) => e);
        expect((refused as ApiError).code).toBe(500);
        expect((refused as ApiError).message).toMatch(/no key named "old".*ignoreStoreReadErrorWithClusterBreakingPotential/);
        await t.api.delete("secrets", "rekeyed", "default", { ignoreStoreReadErrorWithClusterBreakingPotential: true });
      });
      t.store.useTransformer(aesgcmTransformer("old", 1));
      expect(await t.store.tryGet("secrets", "default", "rekeyed")).toBeNull();
    } finally {
      // Back to plain storage for the tests after this one.
      t.store.useTransformer(plainTransformer());
    }
  });

  it("a delete that lost to another delete is NotFound, not Conflict, also when the store writes the tombstone from a copy it was given", async () => {
    const p = await t.api.create("pods", pod("lost-race"));
    const read = await t.store.get("pods", "default", "lost-race");
    await t.store.delete("pods", "default", "lost-race", Number(read.metadata.resourceVersion));
    const err = await t.store.delete("pods", "default", "lost-race", Number(read.metadata.resourceVersion), read).catch((e) => e);
    expect((err as ApiError).reason).toBe("NotFound");
    expect(p.metadata.uid).toBe(read.metadata.uid);
  });

  it("namespace deletion marks the namespace Terminating first: what a controller tries to make in it meanwhile is refused, and nothing is left", async () => {
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "busy" } });
    await t.api.create("pods", pod("worker", "busy"));
    const del = t.impl.delete.bind(t.impl);
    const refused: unknown[] = [];
    // As a controller or kubelet would: an Event about the pod, written while the pod goes.
    const spy = vi.spyOn(t.impl, "delete").mockImplementation(async (resource, name, ns, opts) => {
      const out = await del(resource, name, ns, opts);
      if (resource === "pods") {
        await t.api.create("events", {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: `${name}.killing`, namespace: ns },
          involvedObject: { kind: "Pod", name, namespace: ns },
          reason: "Killing",
          message: "Stopping container c",
          type: "Normal",
        }, ns).catch((e) => refused.push(e));
      }
      return out;
    });
    let gone;
    try {
      gone = await t.api.delete("namespaces", "busy");
    } finally {
      spy.mockRestore();
    }
    expect(gone.metadata.deletionTimestamp).toBeDefined();
    expect((gone as { status?: { phase?: string } }).status?.phase).toBe("Terminating");
    expect(refused).toHaveLength(1);
    expect((refused[0] as ApiError).code).toBe(403);
    expect((refused[0] as ApiError).message).toBe("unable to create new content in namespace busy because it is being terminated");
    expect(await t.store.tryGet("events", "busy", "worker.killing")).toBeNull();
    expect(await t.store.tryGet("pods", "busy", "worker")).toBeNull();
    expect(await t.store.tryGet("namespaces", undefined, "busy")).toBeNull();
  });

  it("namespace admission: a namespace this API deleted is read from the store even while the cache still shows it; one not cached yet is found in the store", async () => {
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "doomed" } });
    await waitFor(() => cached("namespaces", "/doomed"), "the cache has the namespace");
    const stale = cached("namespaces", "/doomed")!;
    await t.api.delete("namespaces", "doomed");
    await whileCacheShows("/doomed", stale, async () => {
      const err = await t.api.create("pods", pod("x", "doomed")).catch((e) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).reason).toBe("NotFound");
      expect((err as ApiError).message).toMatch(/namespaces "doomed" not found/);
      // Created meanwhile by another API replica: not in this cache yet, found in the store.
      await t.store.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "fresh" } });
      const created = await t.api.create("pods", pod("y", "fresh"));
      expect(created.metadata.namespace).toBe("fresh");
    });
  });

  it("a status write takes the spec from the stored pod: the body's spec is neither checked nor kept, its status is", async () => {
    const p = await t.api.create("pods", pod("status-only"));
    // A spec no create would pass (no containers, a bad restart policy) rides along in the body.
    const broken = { ...p, spec: { containers: [], restartPolicy: "Sometimes" }, status: { phase: "Running" } };
    const written = await t.api.updateStatus("pods", broken);
    expect(written.status?.phase).toBe("Running");
    const stored = await t.store.get("pods", "default", "status-only");
    expect(stored.spec).toEqual(p.spec);
    expect(stored.status?.phase).toBe("Running");
    // The status and metadata are still checked.
    const bad = await t.api.updateStatus("pods", { ...stored, status: { phase: "Sleeping" } }).catch((e) => e);
    expect(bad).toBeInstanceOf(ApiError);
    expect((bad as ApiError).reason).toBe("Invalid");
    expect(JSON.stringify((bad as { causes?: unknown }).causes)).toContain("status.phase");
    const unnamed = await t.api.updateStatus("pods", { ...stored, metadata: { ...stored.metadata, name: "" } }).catch((e) => e);
    expect((unnamed as ApiError).reason).toBe("Invalid");
  });

  it("a bind (pods/binding) sets the node and PodScheduled=True in one write from the cache, and is refused for a pod bound, being deleted or of another uid", async () => {
    const p = await t.api.create("pods", pod("bind-a"));
    // The scheduler said Unschedulable before a node came.
    const waiting = await t.api.updateStatus("pods", { ...p, status: { conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/0 nodes are available" }] } });
    await waitFor(() => cached("pods", "default/bind-a")?.metadata.resourceVersion === waiting.metadata.resourceVersion, "the cache has the pod");
    let bound!: Pod;
    expect(await storeReads(t.store, async () => (bound = await t.api.bind("bind-a", "default", "n1", { uid: p.metadata.uid })))).toBe(0);
    expect(bound.spec.nodeName).toBe("n1");
    expect(bound.status?.conditions).toEqual([{ type: "PodScheduled", status: "True", lastTransitionTime: expect.any(String) }]);
    const stored = await t.store.get("pods", "default", "bind-a");
    expect(stored.spec.nodeName).toBe("n1");
    expect(stored.metadata.resourceVersion).toBe(bound.metadata.resourceVersion);
    // Bound already: refused, whatever node is asked (from the cache's copy or the store's).
    const again = await t.api.bind("bind-a", "default", "n2").catch((e) => e);
    expect(again).toMatchObject({ reason: "Conflict", message: expect.stringContaining('already assigned to node "n1"') });
    // Another uid (the pod deleted and created again under the name): refused.
    const q = await t.api.create("pods", pod("bind-b"));
    const wrongUid = await t.api.bind("bind-b", "default", "n1", { uid: "not-this-pod" }).catch((e) => e);
    expect(wrongUid).toMatchObject({ reason: "Conflict", message: expect.stringContaining("Precondition failed: UID") });
    // Being deleted (gracefully: it runs out its grace period on its node): refused, as being deleted.
    await t.api.bind("bind-b", "default", "n1", { uid: q.metadata.uid });
    await t.api.delete("pods", "bind-b", "default");
    expect((await t.store.get("pods", "default", "bind-b")).metadata.deletionTimestamp).toBeDefined();
    const deleting = await t.api.bind("bind-b", "default", "n2").catch((e) => e);
    expect(deleting).toMatchObject({ reason: "Conflict", message: expect.stringContaining("being deleted") });
    expect((await t.store.get("pods", "default", "bind-b")).spec.nodeName).toBe("n1");
    // A target that is no node name (a DNS label, as spec.nodeName) is Invalid, naming target.name.
    for (const node of ["Not A Node", "a.b", "n".repeat(64), ""]) {
      const bad = await t.api.bind("bind-b", "default", node).catch((e) => e);
      expect(bad, node).toMatchObject({ reason: "Invalid" });
      expect(JSON.stringify((bad as ApiError).details)).toContain("target.name");
    }
    // An empty uid is no precondition.
    const r = await t.api.create("pods", pod("bind-e"));
    expect((await t.api.bind("bind-e", "default", "n1", { uid: "" })).spec.nodeName).toBe("n1");
    expect(r.metadata.uid).toBeDefined();
  });

  it("a bind decided on a cache behind the store is decided again on the store's copy", async () => {
    const p = await t.api.create("pods", pod("bind-c"));
    await waitFor(() => cached("pods", "default/bind-c")?.metadata.resourceVersion === p.metadata.resourceVersion, "the cache has the pod");
    const stale = cached("pods", "default/bind-c")!;
    // Bound meanwhile by another scheduler; the cache still shows it unbound: the swap is lost, and the store's copy says why.
    await t.api.bind("bind-c", "default", "n1");
    await whileCacheShows("default/bind-c", stale, async () => {
      const err = await t.api.bind("bind-c", "default", "n2").catch((e) => e);
      expect(err).toMatchObject({ reason: "Conflict", message: expect.stringContaining('already assigned to node "n1"') });
    });
    // The cache shows it bound when the store holds it unbound (deleted and created again): the
    // refusal decided on the cache's copy is decided again on the store's, which binds. No uid
    // is given (a REST client's Binding), so "already assigned" is what the cache's copy says.
    const boundCopy = await waitFor(() => ((cached("pods", "default/bind-c") as Pod | null)?.spec.nodeName === "n1" ? cached("pods", "default/bind-c") : undefined), "the cache has the bound pod");
    await t.api.delete("pods", "bind-c", "default", { gracePeriodSeconds: 0 });
    await waitFor(async () => !(await t.store.tryGet("pods", "default", "bind-c")), "the pod gone");
    const fresh = await t.api.create("pods", pod("bind-c"));
    await whileCacheShows("default/bind-c", boundCopy, async () => {
      const ok = await t.api.bind("bind-c", "default", "n2");
      expect(ok.spec.nodeName).toBe("n2");
      expect(ok.metadata.uid).toBe(fresh.metadata.uid);
    });
  });

  it("over NATS a client binds, and a node may not (the scheduler's call)", async () => {
    const p = await t.api.create("pods", pod("bind-d"));
    const q = await t.api.create("pods", pod("bind-f"));
    const { NatsApiClient } = await import("../../runtime/api/nats_client.ts");
    const asNode = new NatsApiClient(t.nc, { node: "n1" });
    const denied = await asNode.bind("bind-f", "default", "n1", { uid: q.metadata.uid }).catch((e) => e);
    expect(denied).toMatchObject({ reason: "Forbidden", message: expect.stringContaining("bind") });
    expect((await t.store.get("pods", "default", "bind-f")).spec.nodeName).toBeUndefined();
    const bound = await t.remote.bind("bind-d", "default", "n1", { uid: p.metadata.uid });
    expect(bound.spec.nodeName).toBe("n1");
  });

  it("binds racing for one pod (in process and over NATS, from the cache or not): exactly one wins, the others get Conflict", async () => {
    for (let round = 0; round < 10; round++) {
      const p = await t.api.create("pods", pod(`race-${round}`));
      if (round % 2 === 0) await waitFor(() => cached("pods", `default/race-${round}`), "the cache has the pod");
      const tries = await Promise.allSettled([
        t.api.bind(p.metadata.name, "default", "n1", { uid: p.metadata.uid }),
        t.api.bind(p.metadata.name, "default", "n2", { uid: p.metadata.uid }),
        t.remote.bind(p.metadata.name, "default", "n3", { uid: p.metadata.uid }),
      ]);
      const won = tries.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<Pod>[];
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of tries) if (r.status === "rejected") expect((r.reason as ApiError).reason).toBe("Conflict");
      expect((await t.store.get("pods", "default", p.metadata.name)).spec.nodeName).toBe(won[0].value.spec.nodeName);
    }
  });
});
