import { describe, expect, it } from "vitest";
import { generateName } from "../../../model/names.ts";

describe("generateName", () => {
  it("is the prefix and five characters of Kubernetes' alphabet, and names drawn across refills of the random pool differ", () => {
    const names = Array.from({ length: 3000 }, () => generateName("web-")); // 15,000 bytes: many pool refills
    for (const n of names) expect(n).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    // 27^5 ≈ 14 million names: 3,000 draws collide with probability ~0.03 %, and a pool reused
    // without a refill would repeat whole runs of names.
    expect(new Set(names).size).toBeGreaterThan(2995);
    // Every character of the alphabet turns up (no byte is stuck).
    const chars = new Set(names.flatMap((n) => [...n.slice(4)]));
    expect(chars.size).toBe(27);
  });
});
