import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { LABELS } from "../../../../model/container_runtime.ts";
import { findOrphans } from "../../../../runtime/kubelet/container_gc.ts";

const container = (id: string, uid?: string) => ({ id, state: "running" as const, labels: { [LABELS.node]: "n1", ...(uid ? { [LABELS.podUid]: uid } : {}) } });
const volume = (name: string, uid?: string) => ({ name, labels: { [LABELS.node]: "n1", ...(uid ? { [LABELS.podUid]: uid } : {}) } });

describe("container GC - findOrphans", () => {
  it("picks the containers and emptyDir volumes of pods nobody wants, and anything without a pod", () => {
    const wanted = new Set(["u1"]);
    const o = findOrphans(
      [container("a", "u1"), container("b", "u2"), container("c")],
      [volume("v1", "u1"), volume("v2", "u2")],
      (uid) => wanted.has(uid),
    );
    expect(o.containers.map((c) => c.id)).toEqual(["b", "c"]);
    expect(o.volumes.map((v) => v.name)).toEqual(["v2"]);
  });

  it("property: a container is an orphan exactly when its pod is not wanted; wanted pods lose nothing", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 4 }), fc.option(fc.constantFrom("u1", "u2", "u3", "u4"), { nil: undefined })), { maxLength: 30 }),
        fc.subarray(["u1", "u2", "u3", "u4"]),
        (cs, want) => {
          const wanted = new Set(want);
          const all = cs.map(([id, uid]) => container(id, uid));
          const o = findOrphans(all, [], (uid) => wanted.has(uid));
          for (const c of all) {
            const uid = c.labels[LABELS.podUid];
            expect(o.containers.includes(c)).toBe(!uid || !wanted.has(uid));
          }
        },
      ),
    );
  });
});
