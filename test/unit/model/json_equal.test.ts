import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { jsonEqual } from "../../../model/json_equal.ts";

/** The definition it replaces: JSON with keys sorted (undefined fields dropped). */
function canonicalJson(v: unknown): string {
  const canonical = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canonical);
    if (x && typeof x === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) {
        const y = (x as Record<string, unknown>)[k];
        if (y !== undefined) Object.defineProperty(out, k, { value: canonical(y), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return x;
  };
  return JSON.stringify(canonical(v));
}

/** Small JSON-ish values with undefined fields and shuffled keys, so that equal pairs are common. */
const leaf = fc.oneof(fc.constantFrom(0, 1, "a", "b", true, false, null, undefined), fc.integer({ min: -2, max: 2 }));
const value = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("v"), { maxLength: 3 }), fc.dictionary(fc.constantFrom("x", "y", "z", "__proto__"), tie("v"), { maxKeys: 3 })),
})).v;

function shuffledCopy(v: unknown, seed: number): unknown {
  if (Array.isArray(v)) return v.map((x, i) => shuffledCopy(x, seed + i));
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (seed % 2) keys.reverse();
    const out: Record<string, unknown> = {};
    for (const k of keys) Object.defineProperty(out, k, { value: shuffledCopy((v as Record<string, unknown>)[k], seed + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

describe("jsonEqual", () => {
  it("property: agrees with comparing canonical JSON", () => {
    fc.assert(fc.property(value, value, (a, b) => {
      expect(jsonEqual(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
    }), { numRuns: 2000 });
  });

  it("property: a copy with keys in another order is equal; one changed leaf is not", () => {
    fc.assert(fc.property(value, fc.nat(), (a, seed) => {
      expect(jsonEqual(a, shuffledCopy(a, seed))).toBe(true);
    }));
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, b: null }, { a: 1 })).toBe(false);
    expect(jsonEqual({ s: { phase: "Running" } }, { s: { phase: "Pending" } })).toBe(false);
    expect(jsonEqual([1, undefined], [1, null])).toBe(true);
    expect(jsonEqual([], {})).toBe(false);
  });
});
