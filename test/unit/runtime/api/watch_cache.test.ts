/**
 * The watch cache's snapshots against a model: after any sequence of creates, updates and
 * deletes, a read at any revision the window still holds equals the state at that revision —
 * whatever versions trimming has dropped.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ResourceState, WatchCache } from "../../../../runtime/api/watch_cache.ts";
import type { BucketEvent, KvStore } from "../../../../runtime/store/kv_store.ts";
import type { AnyObject } from "../../../../model/types.ts";

/** A store whose bucket watch is fed by the test. */
function fakeStore() {
  let push: ((e: BucketEvent) => void) | undefined;
  const queue: BucketEvent[] = [];
  let rev = 0;
  const store = {
    listAll: async () => ({ entries: [], revision: 0 }),
    lastRevision: async () => rev,
    markProgress: async () => rev,
    watchBucket: async () => ({
      stop() {},
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (queue.length) yield queue.shift()!;
          await new Promise<void>((r) => (push = () => r()));
        }
      },
    }),
  };
  return {
    store: store as unknown as KvStore,
    emit(e: Omit<BucketEvent, "revision">) {
      queue.push({ ...e, revision: ++rev });
      push?.({} as BucketEvent);
      return rev;
    },
  };
}

const pod = (name: string, v: number, nodeName?: string): AnyObject =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels: { v: String(v) } }, spec: { containers: [], ...(nodeName ? { nodeName } : {}) } }) as unknown as AnyObject;

describe("watch cache snapshots", () => {
  it("watch cache - a read at any revision in the window equals the model's state at that revision", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.boolean(), fc.constantFrom("n1", "n2", undefined)), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 20 }),
        async (ops, window) => {
          const f = fakeStore();
          const cache = new WatchCache(f.store, { window });
          await cache.ready();
          const model = new Map<string, AnyObject>();
          const states: { rev: number; state: Map<string, AnyObject> }[] = [];
          let v = 0;
          for (const [i, del, node] of ops) {
            const name = `p${i}`;
            const exists = model.has(name);
            let rev: number;
            if (del && exists) {
              rev = f.emit({ key: `pods.default.${name}`, resource: "pods", type: "DELETED", object: model.get(name)! });
              model.delete(name);
            } else {
              const o = pod(name, ++v, exists ? (model.get(name) as { spec: { nodeName?: string } }).spec.nodeName : node);
              rev = f.emit({ key: `pods.default.${name}`, resource: "pods", type: exists ? "MODIFIED" : "ADDED", object: o });
              model.set(name, o);
            }
            states.push({ rev, state: new Map(model) });
          }
          await cache.reach(states[states.length - 1].rev, 1_000);
          for (const { rev, state } of states) {
            if (rev < cache.windowStart) continue;
            const all = cache.page({ resource: "pods", revision: rev });
            expect(all.items.map((o) => `${o.metadata.name}:${o.metadata.labels!.v}`)).toEqual(
              [...state.values()].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1)).map((o) => `${o.metadata.name}:${o.metadata.labels!.v}`),
            );
            const onN1 = cache.page({ resource: "pods", revision: rev, nodeName: "n1" }).items.map((o) => o.metadata.name);
            expect(onN1).toEqual([...state.values()].filter((o) => (o as { spec: { nodeName?: string } }).spec.nodeName === "n1").map((o) => o.metadata.name).sort());
            // Paged two at a time, the same objects.
            const paged: string[] = [];
            let after: string | undefined;
            for (;;) {
              const p = cache.page({ resource: "pods", revision: rev, limit: 2, after });
              paged.push(...p.items.map((o) => o.metadata.name));
              if (!p.more) break;
              after = `default/${p.items[p.items.length - 1].metadata.name}`;
            }
            expect(paged).toEqual(all.items.map((o) => o.metadata.name));
          }
          cache.close();
        },
      ),
      { numRuns: 400 },
    );
  });

  it("watch cache - a resource's keys read in order between any adds and forgets (merged lazily) are exactly its live keys", () => {
    const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    fc.assert(
      fc.property(
        // add a key (a new version), forget it (deleted, then trimmed away), or read the keys
        fc.array(fc.tuple(fc.constantFrom("add", "forget", "read"), fc.constantFrom("a", "b", "B", "ab", "b/c", "é", "a0", "")), { minLength: 1, maxLength: 80 }),
        (ops) => {
          const st = new ResourceState();
          const live = new Set<string>();
          let rev = 0;
          for (const [op, key] of ops) {
            if (op === "add") {
              st.apply(key, ++rev, pod(key || "x", rev));
              live.add(key);
            } else if (op === "forget" && live.has(key)) {
              st.apply(key, ++rev, null);
              st.trim(key, rev);
              live.delete(key);
            } else if (op === "read") {
              expect(st.sortedKeys()).toEqual([...live].sort(byCodeUnit));
            }
          }
          expect(st.sortedKeys()).toEqual([...live].sort(byCodeUnit));
          // Read again with nothing changed: the same keys.
          expect(st.sortedKeys()).toEqual([...live].sort(byCodeUnit));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
