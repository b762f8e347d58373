import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { AlreadyExistsError, ApiError, ConflictError, GoneError, NotFoundError } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";
import { startTestNats, type TestNats } from "../helpers/nats.ts";

function pod(name: string, ns = "default", labels: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels, uid: `uid-${name}` },
    spec: { containers: [{ name: "c", image: "berth/busybox" }] },
  };
}

describe("KV object store", () => {
  let nats: TestNats;
  let store: KvStore;
  beforeAll(async () => {
    nats = await startTestNats();
    store = await KvStore.open(nats.nc);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("store - create sets resourceVersion to the KV revision and rejects a duplicate", async () => {
    const created = await store.create("pods", pod("a"));
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    await expect(store.create("pods", pod("a"))).rejects.toBeInstanceOf(AlreadyExistsError);
    const got = await store.get("pods", "default", "a");
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    await expect(store.get("pods", "default", "missing")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("store - update is compare-and-swap: a stale revision gets Conflict and changes nothing", async () => {
    const p = await store.create("pods", pod("cas"));
    const rev = Number(p.metadata.resourceVersion);
    const u1 = await store.update("pods", { ...p, metadata: { ...p.metadata, labels: { v: "1" } } }, rev);
    await expect(store.update("pods", { ...p, metadata: { ...p.metadata, labels: { v: "stale" } } }, rev)).rejects.toBeInstanceOf(ConflictError);
    const now = await store.get("pods", "default", "cas");
    expect(now.metadata.labels).toEqual({ v: "1" });
    expect(now.metadata.resourceVersion).toBe(u1.metadata.resourceVersion);
    const err = await store.update("pods", p, rev).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(409);
  });

  it("store - delete leaves nothing to get, and a re-create works", async () => {
    await store.create("pods", pod("del"));
    const deleted = await store.delete("pods", "default", "del");
    expect(deleted.metadata.name).toBe("del");
    await expect(store.get("pods", "default", "del")).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.delete("pods", "default", "del")).rejects.toBeInstanceOf(NotFoundError);
    const again = await store.create("pods", pod("del"));
    expect(again.metadata.name).toBe("del");
  });

  it("store - list by namespace returns live objects only and a revision to watch from", async () => {
    await store.create("pods", pod("l1", "ns-list"));
    await store.create("pods", pod("l2", "ns-list"));
    await store.create("pods", pod("l3", "ns-list"));
    await store.delete("pods", "ns-list", "l2");
    await store.create("pods", pod("other", "ns-other"));
    const { items, revision } = await store.list("pods", "ns-list");
    expect(items.map((p) => p.metadata.name)).toEqual(["l1", "l3"]);
    expect(revision).toBeGreaterThanOrEqual(Math.max(...items.map((p) => Number(p.metadata.resourceVersion))));
    const empty = await store.list("pods", "nothing-here");
    expect(empty.items).toEqual([]);
    const services = await store.list("services");
    expect(services.items).toEqual([]);
  });

  it("store - the consumer-free list (used when JetStream cannot create consumers) agrees with list", async () => {
    const ns = "ns-direct";
    for (const n of ["d1", "d2", "d3"]) await store.create("pods", pod(n, ns));
    await store.delete("pods", ns, "d2");
    const viaConsumer = await store.list("pods", ns);
    const direct = await (store as unknown as { listByDirectGet: KvStore["list"] }).listByDirectGet("pods", ns);
    expect(direct.items.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`)).toEqual(
      viaConsumer.items.map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`),
    );
    expect(direct.items.map((p) => p.metadata.name)).toEqual(["d1", "d3"]);
    expect(direct.revision).toBeGreaterThanOrEqual(Math.max(...direct.items.map((p) => Number(p.metadata.resourceVersion))));
  });

  it("store - a list while other keys are created, updated and deleted names every live key exactly once", async () => {
    const ns = "ns-race";
    for (const n of ["a", "b", "c"]) await store.create("pods", pod(n, ns));
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const n = await store.create("pods", pod(`n${i}`, ns));
        await store.update("pods", { ...n, metadata: { ...n.metadata, labels: { k: "1" } } });
        const b = await store.get("pods", ns, "b");
        await store.update("pods", { ...b, metadata: { ...b.metadata, labels: { last: `n${i}` } } });
        await store.delete("pods", ns, `n${i}`);
      }
    })();
    const bad: string[] = [];
    for (let k = 0; k < 150; k++) {
      const names = (await store.list("pods", ns)).items.map((p) => p.metadata.name);
      if (names.length !== new Set(names).size || !["a", "b", "c"].every((x) => names.includes(x))) bad.push(names.join(","));
    }
    writing = false;
    await writer;
    expect(bad).toEqual([]);
  });

  it("store - watch resumes from a revision with ADDED, MODIFIED and DELETED carrying the object", async () => {
    const ns = "ns-watch";
    const { revision } = await store.list("pods", ns);
    // Changes made before the watch starts must be replayed from the revision.
    const a = await store.create("pods", pod("w1", ns));
    await store.update("pods", { ...a, metadata: { ...a.metadata, labels: { x: "y" } } });
    const w = await store.watch("pods", { namespace: ns, fromRevision: revision });
    const seen: string[] = [];
    for await (const e of w) {
      seen.push(`${e.type}:${e.object.metadata.name}:${JSON.stringify(e.object.metadata.labels)}`);
      // Deleted once both versions are read: a third write would push the create out of the
      // key's two-version history before a slow consumer had delivered it (seen under load).
      if (seen.length === 2) await store.delete("pods", ns, "w1");
      if (e.type === "DELETED") break;
    }
    w.stop();
    // Two versions per key are kept, so both the create and the update are replayed.
    expect(seen).toEqual(["ADDED:w1:{}", 'MODIFIED:w1:{"x":"y"}', 'DELETED:w1:{"x":"y"}']);
  });

  it("store - a create folded into later updates is still an ADDED for a watch that began before it", async () => {
    const ns = "ns-fold";
    const { revision } = await store.list("pods", ns);
    let p = await store.create("pods", pod("f1", ns));
    // Three updates: with two versions kept per key, the create's own message is gone.
    for (let i = 1; i <= 3; i++) p = await store.update("pods", { ...p, metadata: { ...p.metadata, labels: { v: String(i) } } });
    const w = await store.watch("pods", { namespace: ns, fromRevision: revision });
    const seen: string[] = [];
    for await (const e of w) {
      seen.push(`${e.type}:${e.object.metadata.labels?.v}`);
      if (e.object.metadata.labels?.v === "3") break;
    }
    w.stop();
    expect(seen).toEqual(["ADDED:2", "MODIFIED:3"]);
  });

  it("store - an object that existed before the watch's revision is MODIFIED, not ADDED", async () => {
    const ns = "ns-mod";
    const a = await store.create("pods", pod("m1", ns));
    const from = Number(a.metadata.resourceVersion);
    const w = await store.watch("pods", { namespace: ns, fromRevision: from });
    await store.update("pods", { ...a, metadata: { ...a.metadata, labels: { v: "2" } } });
    for await (const e of w) {
      expect(e.type).toBe("MODIFIED");
      expect(e.createdRevision).toBe(from);
      break;
    }
    w.stop();
  });

  it("store - watch without a revision replays current objects as ADDED, then live changes", async () => {
    const ns = "ns-replay";
    await store.create("pods", pod("r1", ns));
    const w = await store.watch("pods", { namespace: ns });
    const seen: string[] = [];
    let created = false;
    for await (const e of w) {
      seen.push(`${e.type}:${e.object.metadata.name}`);
      if (!created) {
        created = true;
        await store.create("pods", pod("r2", ns));
      }
      if (seen.length === 2) break;
    }
    w.stop();
    expect(seen).toEqual(["ADDED:r1", "ADDED:r2"]);
  });

  it("store - resuming a watch from before a compaction fails with Gone", async () => {
    const ns = "ns-gone";
    const p = await store.create("pods", pod("g1", ns));
    const old = Number(p.metadata.resourceVersion);
    await store.delete("pods", ns, "g1");
    const compacted = await store.compact();
    expect(compacted).toBeGreaterThan(old);
    await expect(store.watch("pods", { namespace: ns, fromRevision: old })).rejects.toBeInstanceOf(GoneError);
    const ok = await store.watch("pods", { namespace: ns, fromRevision: compacted });
    ok.stop();
  });
});
