import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideLease, observe, type LeaseObservation, type LeaseRecord } from "../../../runtime/leader.ts";

const rec = (holder: string, term = 1, ttlMs = 5000): LeaseRecord => ({ holder, term, ttlMs, renewedAt: "" });
const obsOf = (record: LeaseRecord | null, observedAt = 0, revision = 7): LeaseObservation => ({ record, revision, observedAt });
const standby = { id: "b", leading: false, validUntil: 0 };

describe("leader lease - decide", () => {
  it("acquires term 1 when no lease exists", () => {
    expect(decideLease(obsOf(null), 0, standby)).toMatchObject({ type: "acquire", term: 1 });
  });

  it("acquires the next term of a released lease at once", () => {
    expect(decideLease(obsOf(rec("", 4)), 10, standby)).toMatchObject({ type: "acquire", term: 5 });
  });

  it("stays standby while another holder's record is younger than its ttl on the local clock", () => {
    const d = decideLease(obsOf(rec("a", 3), 1000), 5999, standby);
    expect(d).toEqual({ type: "standby", holder: "a", expiresInMs: 1 });
  });

  it("takes over a lease left unrenewed for its ttl, with the next term", () => {
    expect(decideLease(obsOf(rec("a", 3), 1000), 6000, standby)).toMatchObject({ type: "acquire", term: 4 });
  });

  it("renews while it holds the record and its deadline has not passed", () => {
    expect(decideLease(obsOf(rec("b")), 100, { id: "b", leading: true, validUntil: 3000 })).toEqual({ type: "renew" });
  });

  it("steps down (fenced) once its renew deadline passes, even if the record still names it", () => {
    expect(decideLease(obsOf(rec("b")), 3000, { id: "b", leading: true, validUntil: 3000 })).toMatchObject({ type: "stepDown" });
  });

  it("steps down when the record names someone else", () => {
    const d = decideLease(obsOf(rec("a", 9)), 100, { id: "b", leading: true, validUntil: 3000 });
    expect(d).toEqual({ type: "stepDown", reason: "lease taken by a" });
  });

  it("measures age from when a revision was first observed, not from later reads", () => {
    const first = observe(undefined, rec("a"), 7, 1000);
    const again = observe(first, rec("a"), 7, 4000);
    expect(again.observedAt).toBe(1000);
    const renewed = observe(again, rec("a"), 8, 4500);
    expect(renewed.observedAt).toBe(4500);
  });

  it("never lets a standby acquire before the leader's own deadline has passed (any delays)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }), // renewal sent (leader clock)
        fc.integer({ min: 0, max: 5000 }), // write delay
        fc.integer({ min: 0, max: 5000 }), // observation delay at the standby
        fc.integer({ min: 2000, max: 30000 }), // ttl
        (sent, writeDelay, observeDelay, ttl) => {
          const renewDeadline = Math.round(ttl * 0.6);
          const leader = { id: "a", leading: true, validUntil: sent + renewDeadline };
          const o = observe(undefined, rec("a", 1, ttl), 9, sent + writeDelay + observeDelay);
          // The first instant the standby would acquire:
          let t = o.observedAt;
          while (decideLease(o, t, standby).type === "standby") t += 50;
          // By then the leader has already decided to step down.
          expect(decideLease(obsOf(rec("a", 1, ttl)), t, leader).type).toBe("stepDown");
          expect(t - leader.validUntil).toBeGreaterThanOrEqual(ttl - renewDeadline);
        },
      ),
      { numRuns: 200 },
    );
  });
});
