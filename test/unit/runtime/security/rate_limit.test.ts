import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RateLimiter, takeToken, type Bucket, type BucketConfig } from "../../../../runtime/security/rate_limit.ts";

const cfgArb = fc.record({ ratePerSecond: fc.integer({ min: 1, max: 1000 }), burst: fc.integer({ min: 1, max: 1000 }) });
/** Increasing request times (ms), as gaps. */
const gapsArb = fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 400 });

describe("token bucket", () => {
  it("rate limit - never admits more than burst + rate × elapsed, over any request times", () => {
    fc.assert(fc.property(cfgArb, gapsArb, (cfg: BucketConfig, gaps) => {
      let b: Bucket | undefined;
      let t = 0;
      let admitted = 0;
      for (const g of gaps) {
        t += g;
        const r = takeToken(b, t, cfg);
        b = r.bucket;
        if (r.ok) admitted++;
      }
      return admitted <= cfg.burst + (cfg.ratePerSecond * t) / 1000 + 1e-9;
    }));
  });

  it("rate limit - a full bucket admits exactly burst requests at once", () => {
    fc.assert(fc.property(cfgArb, (cfg) => {
      let b: Bucket | undefined;
      let admitted = 0;
      for (let i = 0; i < cfg.burst + 5; i++) {
        const r = takeToken(b, 1_000, cfg);
        b = r.bucket;
        if (r.ok) admitted++;
      }
      return admitted === cfg.burst;
    }));
  });

  it("rate limit - a refused request succeeds once its Retry-After has passed, and not much earlier", () => {
    fc.assert(fc.property(cfgArb, fc.integer({ min: 0, max: 5000 }), (cfg, drainAt) => {
      let b: Bucket | undefined;
      let r = takeToken(b, drainAt, cfg);
      while (r.ok) {
        b = r.bucket;
        r = takeToken(b, drainAt, cfg);
      }
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(takeToken(r.bucket, drainAt + r.retryAfterMs, cfg).ok).toBe(true);
      if (r.retryAfterMs > 1) expect(takeToken(r.bucket, drainAt + r.retryAfterMs - 2, cfg).ok).toBe(false);
    }));
  });

  it("rate limit - a clock going backwards refills nothing", () => {
    const cfg = { ratePerSecond: 10, burst: 2 };
    let r = takeToken(undefined, 10_000, cfg);
    r = takeToken(r.bucket, 10_000, cfg);
    expect(takeToken(r.bucket, 0, cfg).ok).toBe(false);
  });
});

describe("RateLimiter", () => {
  it("rate limit - identities have separate buckets; nodes get their own shape; exempt identities are never refused", () => {
    let now = 0;
    const rl = new RateLimiter({ default: { ratePerSecond: 1, burst: 2 }, node: { ratePerSecond: 1, burst: 5 }, exempt: ["system"] }, () => now);
    expect(rl.take("alice")).toBeNull();
    expect(rl.take("alice")).toBeNull();
    const refused = rl.take("alice");
    expect(refused).toEqual({ identity: "alice", retryAfterSeconds: 1 });
    expect(rl.take("bob")).toBeNull();
    for (let i = 0; i < 5; i++) expect(rl.take("node:n1")).toBeNull();
    expect(rl.take("node:n1")).not.toBeNull();
    for (let i = 0; i < 1000; i++) expect(rl.take("system")).toBeNull();
    now += 1000;
    expect(rl.take("alice")).toBeNull();
    expect(rl.stats.refused).toBe(2);
  });

  it("rate limit - enabled: false admits everything", () => {
    const rl = new RateLimiter({ default: { ratePerSecond: 0, burst: 0 }, enabled: false }, () => 0);
    for (let i = 0; i < 100; i++) expect(rl.take("x")).toBeNull();
  });
});
