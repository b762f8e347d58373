import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rng } from "../../../../runtime/chaos/prng.ts";
import { type FaultChoice, generateSchedule, parseDuration, type ScheduleOptions } from "../../../../runtime/chaos/schedule.ts";

const choices: FaultChoice[] = [
  { kind: "container-kill", weight: 3, durationMs: [0, 0] },
  { kind: "container-pause", weight: 1, durationMs: [1000, 3000] },
  { kind: "node-partition", weight: 2, durationMs: [2000, 8000], variants: [{ mode: "blackhole" }, { mode: "reset" }] },
  { kind: "nats-restart", weight: 1, durationMs: [500, 2000] },
];
const base: Omit<ScheduleOptions, "seed"> = { durationMs: 60_000, warmupMs: 2000, gapMs: [1000, 4000], choices, nodes: ["n1", "n2", "n3"], podSlots: 3 };

describe("chaos prng", () => {
  it("the same seed gives the same sequence, another seed a different one", () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const sa = Array.from({ length: 20 }, () => a.nextU32());
    expect(Array.from({ length: 20 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.nextU32())).not.toEqual(sa);
  });

  it("int stays within its bounds and reaches both ends", () => {
    const r = new Rng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.int(3, 6);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(6);
      seen.add(v);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
  });

  it("weighted picks follow the weights roughly and never pick a zero weight", () => {
    const r = new Rng(1);
    const counts = { a: 0, b: 0, z: 0 };
    for (let i = 0; i < 10_000; i++) counts[r.weighted(["a", "b", "z"] as const, (k) => ({ a: 3, b: 1, z: 0 })[k])]++;
    expect(counts.z).toBe(0);
    expect(counts.a / counts.b).toBeGreaterThan(2.5);
    expect(counts.a / counts.b).toBeLessThan(3.5);
  });

  it("forked streams are independent of draws on the parent", () => {
    const a = new Rng(5);
    const b = new Rng(5);
    b.next();
    b.next();
    expect(a.fork("x").nextU32()).toBe(b.fork("x").nextU32());
    expect(a.fork("x").nextU32()).not.toBe(a.fork("y").nextU32());
  });
});

describe("chaos schedule generator", () => {
  it("same seed → same schedule; different seeds → different schedules", () => {
    const s1 = generateSchedule({ ...base, seed: 1 });
    expect(generateSchedule({ ...base, seed: 1 })).toEqual(s1);
    expect(generateSchedule({ ...base, seed: 2 })).not.toEqual(s1);
    expect(s1.length).toBeGreaterThan(3);
  });

  it("respects warm-up, duration, the concurrency bound, and target kinds (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 3 }), (seed, maxConcurrent) => {
        const s = generateSchedule({ ...base, seed, maxConcurrent });
        for (const f of s) {
          expect(f.at).toBeGreaterThanOrEqual(2000);
          expect(f.at + f.durationMs).toBeLessThanOrEqual(60_000);
          if (f.kind === "container-kill") expect(f.durationMs).toBe(0);
          if (f.kind === "node-partition") {
            expect(["n1", "n2", "n3"]).toContain(f.target);
            expect(["blackhole", "reset"]).toContain(f.params.mode);
          }
          if (f.kind.startsWith("container")) expect(f.target).toMatch(/^pod:[0-2]$/);
          if (f.kind === "nats-restart") expect(f.target).toBe("nats");
          // At f.at, at most maxConcurrent faults (including f) are active, and none on the same target.
          const active = s.filter((g) => g.at <= f.at && f.at < g.at + Math.max(1, g.durationMs));
          expect(active.length).toBeLessThanOrEqual(maxConcurrent);
          const same = active.filter((g) => g !== f && g.target === f.target && g.durationMs > 0 && f.durationMs > 0);
          expect(same).toEqual([]);
        }
        // Starts are in order.
        expect(s.map((f) => f.at)).toEqual([...s.map((f) => f.at)].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it("a kind with no targets (no Docker daemons of its own) is never chosen", () => {
    const s = generateSchedule({ ...base, seed: 3, choices: [{ kind: "docker-stop", weight: 1, durationMs: [1000, 2000] }, ...choices] });
    expect(s.some((f) => f.kind === "docker-stop")).toBe(false);
    expect(generateSchedule({ ...base, seed: 3, choices: [{ kind: "docker-stop", weight: 1, durationMs: [1, 2] }] })).toEqual([]);
  });

  it("rejects inverted ranges and parses durations", () => {
    expect(() => generateSchedule({ ...base, seed: 1, gapMs: [5, 1] })).toThrow(/gap/);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration(30)).toBe(30);
    expect(() => parseDuration("soon")).toThrow(/bad duration/);
  });
});
