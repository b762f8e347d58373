import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ClientThrottle, reserve } from "../../../../runtime/api/client_throttle.ts";

/** A clock and sleep that only move when told: waits are read, never slept. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    clock: () => now,
    sleep: (ms: number) => {
      sleeps.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
    get now() {
      return now;
    },
  };
}

describe("client throttle", () => {
  it("client throttle - a burst leaves at once, the rest at the sustained rate", () => {
    const cfg = { qps: 50, burst: 100 };
    let st = undefined as ReturnType<typeof reserve>["state"] | undefined;
    const waits: number[] = [];
    for (let i = 0; i < 150; i++) {
      const r = reserve(st, 0, cfg);
      st = r.state;
      waits.push(r.waitMs);
    }
    expect(waits.slice(0, 100).every((w) => w === 0)).toBe(true);
    // Request 101 waits for one token (20 ms at 50/s), request 150 for fifty.
    expect(waits[100]).toBeCloseTo(20, 5);
    expect(waits[149]).toBeCloseTo(1000, 5);
  });

  it("client throttle - over any span no more than burst + qps × span requests leave", () => {
    fc.assert(fc.property(
      fc.record({ qps: fc.integer({ min: 1, max: 200 }), burst: fc.integer({ min: 1, max: 300 }) }),
      fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 400 }),
      (cfg, gaps) => {
        let st = undefined as ReturnType<typeof reserve>["state"] | undefined;
        let now = 0;
        const leaves: number[] = [];
        for (const g of gaps) {
          now += g;
          const r = reserve(st, now, cfg);
          st = r.state;
          leaves.push(now + r.waitMs);
        }
        leaves.sort((a, b) => a - b);
        // Every window [leaves[i], leaves[j]] holds j - i + 1 departures.
        for (let i = 0; i < leaves.length; i++) {
          for (let j = i; j < leaves.length; j++) {
            const span = leaves[j] - leaves[i];
            if (j - i + 1 > cfg.burst + (cfg.qps * span) / 1000 + 1e-6) return false;
          }
        }
        return true;
      },
    ), { numRuns: 150 });
  });

  it("client throttle - a 429's back-off holds every throttled request of the client, also those already waiting for a token", async () => {
    const t = fakeTime();
    const th = new ClientThrottle({ qps: 10, burst: 1 }, t.clock, t.sleep);
    await th.wait(); // the burst token
    const start = t.now;
    th.backOff(2_000);
    await th.wait();
    // Not before the back-off ended, although a token was there after 100 ms.
    expect(t.now - start).toBeGreaterThanOrEqual(2_000);
    expect(th.figures.backOffs).toBe(1);
    expect(th.figures.waited).toBe(1);
  });

  it("client throttle - a back-off that begins while a request waits for its token holds it too", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const th = new ClientThrottle({ qps: 1, burst: 1 }, () => now, (ms) => {
      sleeps.push(ms);
      // While this request sleeps for its token, a 429 arrives for another one.
      if (sleeps.length === 1) th.backOff(5_000);
      now += ms;
      return Promise.resolve();
    });
    await th.wait();
    await th.wait(); // waits 1 s for its token; the back-off (from t=0) runs until 5 s
    expect(now).toBeGreaterThanOrEqual(5_000);
  });

  it("client throttle - a request that finds its token leaves without counting as waited, even when the clock moves meanwhile", async () => {
    let now = 0;
    const slept: number[] = [];
    // Every reading of the clock is a millisecond later, as on a busy event loop.
    const th = new ClientThrottle({ qps: 20, burst: 1 }, () => now++, (ms) => (slept.push(ms), (now += ms), Promise.resolve()));
    await th.wait();
    expect(slept).toEqual([]);
    expect(th.figures).toEqual({ waited: 0, waitedMs: 0, backOffs: 0 });
    await th.wait(); // the burst is spent: this one sleeps for its token
    expect(slept).toHaveLength(1);
    expect(th.figures.waited).toBe(1);
    expect(th.figures.waitedMs).toBeGreaterThanOrEqual(slept[0]);
  });

  it("client throttle - qps 0 is no limit", async () => {
    const t = fakeTime();
    const th = new ClientThrottle({ qps: 0, burst: 0 }, t.clock, t.sleep);
    for (let i = 0; i < 1000; i++) await th.wait();
    th.backOff(10_000);
    await th.wait();
    expect(t.sleeps).toEqual([]);
  });
});
