import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ADOPT_DELAY_MS, adoptionWait, requeueAfter } from "../../../actors/replication_controller_decide.ts";

describe("replication controller - adoption wait", () => {
  it("waits the full delay for an orphan seen for the first time, and adopts once it has stayed orphaned that long", () => {
    const first = adoptionWait(["default/a"], new Map(), 1_000);
    expect(first.waitMs).toBe(ADOPT_DELAY_MS);
    expect(first.orphanSince.get("default/a")).toBe(1_000);
    const later = adoptionWait(["default/a"], first.orphanSince, 1_000 + ADOPT_DELAY_MS - 1);
    expect(later.waitMs).toBe(1);
    expect(adoptionWait(["default/a"], first.orphanSince, 1_000 + ADOPT_DELAY_MS).waitMs).toBe(0);
  });

  it("forgets orphans no longer proposed for adoption (adopted by someone else, or deleted)", () => {
    const w = adoptionWait(["default/b"], new Map([["default/a", 0], ["default/b", 0]]), 5_000);
    expect([...w.orphanSince.keys()]).toEqual(["default/b"]);
    expect(w.waitMs).toBe(0);
  });

  it("property: the wait is the longest of the orphans' remaining delays, never negative or beyond the delay", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 3 }), fc.nat(10_000)), { maxLength: 10 }), fc.nat(20_000), (seen, now) => {
        const before = new Map(seen.map(([k, t]) => [k, Math.min(t, now)]));
        const keys = [...new Set(seen.map(([k]) => k))];
        const w = adoptionWait(keys, before, now);
        const expected = Math.max(0, ...keys.map((k) => ADOPT_DELAY_MS - (now - (before.get(k) ?? now))));
        expect(w.waitMs).toBe(expected);
        expect(w.waitMs).toBeGreaterThanOrEqual(0);
        expect(w.waitMs).toBeLessThanOrEqual(ADOPT_DELAY_MS);
      }),
    );
  });
});

describe("replication controller - when to look again", () => {
  const base = { casLost: false, adoptWaitMs: 0, expectationsSatisfied: true };

  it("soon after a lost compare-and-swap, before anything else", () => {
    expect(requeueAfter({ ...base, casLost: true, adoptWaitMs: 500, expectationsSatisfied: false })).toBe(50);
  });

  it("just after a waiting adoption may happen", () => {
    expect(requeueAfter({ ...base, adoptWaitMs: 700 })).toBe(710);
  });

  it("after the expectations' TTL while creates or deletes are still unobserved", () => {
    expect(requeueAfter({ ...base, expectationsSatisfied: false })).toBe(60_100);
    expect(requeueAfter({ ...base, expectationsSatisfied: false, expectationsTtlMs: 2_000 })).toBe(2_100);
  });

  it("while ready pods wait out minReadySeconds, at most a second later", () => {
    const status = { replicas: 2, readyReplicas: 2, availableReplicas: 1 };
    expect(requeueAfter({ ...base, minReadySeconds: 5, status })).toBe(1_000);
    expect(requeueAfter({ ...base, minReadySeconds: 5, status: { ...status, availableReplicas: 2 } })).toBeUndefined();
    expect(requeueAfter({ ...base, minReadySeconds: 0, status })).toBeUndefined();
  });

  it("not at all when nothing is pending: only a wake-up runs the next pass", () => {
    expect(requeueAfter(base)).toBeUndefined();
  });
});
