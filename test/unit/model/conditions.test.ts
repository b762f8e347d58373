import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { setCondition } from "../../../model/conditions.ts";
import type { Condition } from "../../../model/types.ts";

const T0 = "2026-12-01T00:00:00.000Z";
const T1 = "2026-12-01T00:01:00.000Z";

describe("status conditions - set as Kubernetes sets them", () => {
  it("appends a new type with the time it was set", () => {
    const before: Condition[] = [{ type: "A", status: "True", lastTransitionTime: T0 }];
    const after = setCondition(before, { type: "B", status: "False", reason: "R", message: "m" }, T1);
    expect(after).toEqual([before[0], { type: "B", status: "False", reason: "R", message: "m", lastTransitionTime: T1 }]);
    expect(setCondition(undefined, { type: "B", status: "True" }, T1)).toEqual([{ type: "B", status: "True", lastTransitionTime: T1 }]);
  });

  it("keeps the transition time while the status holds, taking the newest reason and message", () => {
    const before: Condition[] = [
      { type: "A", status: "True", reason: "Old", message: "old", lastTransitionTime: T0 },
      { type: "B", status: "True", lastTransitionTime: T0 },
    ];
    const after = setCondition(before, { type: "A", status: "True", reason: "New", message: "new" }, T1);
    expect(after).toEqual([{ type: "A", status: "True", reason: "New", message: "new", lastTransitionTime: T0 }, before[1]]);
  });

  it("moves the transition time when the status changes, in the condition's place", () => {
    const before: Condition[] = [{ type: "A", status: "True", lastTransitionTime: T0 }, { type: "B", status: "True", lastTransitionTime: T0 }];
    const after = setCondition(before, { type: "A", status: "False", reason: "R" }, T1);
    expect(after.map((c) => c.type)).toEqual(["A", "B"]);
    expect(after[0]).toEqual({ type: "A", status: "False", reason: "R", lastTransitionTime: T1 });
  });

  it("replaces the whole condition: fields the new one lacks are gone", () => {
    const before: Condition[] = [{ type: "A", status: "True", reason: "R", message: "m", observedGeneration: 3, lastTransitionTime: T0 }];
    expect(setCondition(before, { type: "A", status: "True" }, T1)).toEqual([{ type: "A", status: "True", lastTransitionTime: T0 }]);
  });

  it("an old condition without a time gets the time it is set at; a time given with the new one is not used", () => {
    expect(setCondition([{ type: "A", status: "True" }], { type: "A", status: "True" }, T1)[0].lastTransitionTime).toBe(T1);
    expect(setCondition([], { type: "A", status: "True", lastTransitionTime: T0 }, T1)[0].lastTransitionTime).toBe(T1);
  });

  it("leaves the array it was given as it was", () => {
    const before: Condition[] = [{ type: "A", status: "True", lastTransitionTime: T0 }];
    const copy = structuredClone(before);
    setCondition(before, { type: "A", status: "False" }, T1);
    setCondition(before, { type: "B", status: "False" }, T1);
    expect(before).toEqual(copy);
  });

  it("after any sequence of sets, each type appears once and its time is that of its last status change", () => {
    const step = fc.record({ type: fc.constantFrom("A", "B", "C"), status: fc.constantFrom("True" as const, "False" as const, "Unknown" as const) });
    fc.assert(fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
      let conditions: Condition[] = [];
      const changedAt = new Map<string, string>();
      const last = new Map<string, string>();
      steps.forEach((s, i) => {
        const now = new Date(Date.parse(T0) + i * 1000).toISOString();
        if (last.get(s.type) !== s.status) changedAt.set(s.type, now);
        last.set(s.type, s.status);
        conditions = setCondition(conditions, s, now);
      });
      expect(conditions.map((c) => c.type).sort()).toEqual([...last.keys()].sort());
      for (const c of conditions) {
        expect(c.status).toBe(last.get(c.type));
        expect(c.lastTransitionTime).toBe(changedAt.get(c.type));
      }
    }));
  });
});
