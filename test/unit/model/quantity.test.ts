import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BadRequestError } from "../../../model/errors.ts";
import { formatBytes, formatCpu, isQuantity, parseBytes, parseCpuMillis, QuantityError } from "../../../model/quantity.ts";

describe("quantity - cpu", () => {
  const cases: [string | number, number][] = [
    ["100m", 100],
    ["0.5", 500],
    ["2", 2000],
    ["0.1", 100],
    ["1.5", 1500],
    [".25", 250],
    ["1k", 1_000_000],
    [1, 1000],
    [0.25, 250],
    ["0.0001", 1], // fractions of a millicore round up, as Kubernetes' MilliValue does
    ["0", 0],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} is ${want} millicores`, () => expect(parseCpuMillis(input)).toBe(want));
  it("formats whole cores without a suffix and the rest in millicores", () => {
    expect(formatCpu(2000)).toBe("2");
    expect(formatCpu(1500)).toBe("1500m");
    expect(formatCpu(100)).toBe("100m");
  });
});

describe("quantity - bytes", () => {
  const cases: [string, number][] = [
    ["128Mi", 128 * 2 ** 20],
    ["1G", 1e9],
    ["1e3", 1000],
    ["512", 512],
    ["1Ki", 1024],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["1m", 1], // a thousandth of a byte rounds up to one byte
    ["2E", 2e18],
  ];
  for (const [input, want] of cases) it(`"${input}" is ${want} bytes`, () => expect(parseBytes(input)).toBe(want));
  it("formats with the largest binary suffix that divides exactly", () => {
    expect(formatBytes(128 * 2 ** 20)).toBe("128Mi");
    expect(formatBytes(1536)).toBe("1536");
    expect(formatBytes(3 * 2 ** 30)).toBe("3Gi");
    expect(formatBytes(1000)).toBe("1000");
    expect(formatBytes(0)).toBe("0");
  });
  it("formatBytes then parseBytes is the identity on whole bytes", () => {
    fc.assert(fc.property(fc.nat({ max: 2 ** 50 }), (n) => {
      expect(parseBytes(formatBytes(n))).toBe(n);
    }));
  });
  it("formatCpu then parseCpuMillis is the identity on whole millicores", () => {
    fc.assert(fc.property(fc.nat({ max: 10 ** 9 }), (n) => {
      expect(parseCpuMillis(formatCpu(n))).toBe(n);
    }));
  });
});

describe("quantity - invalid input", () => {
  for (const bad of ["", "abc", "1Kb", "1.2.3", "--1", "1 Mi", "Mi", ".", "1e", "1e999"]) {
    it(`"${bad}" is a QuantityError naming the input`, () => {
      expect(isQuantity(bad)).toBe(false);
      let err: unknown;
      try {
        parseBytes(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(QuantityError);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as Error).name).toBe("QuantityError");
      expect((err as Error).message).toContain(`"${bad}"`);
    });
  }
});

describe("quantity - isQuantity on what is no quantity (a request without a limit asks it of undefined)", () => {
  it("answers false for undefined, null, objects and non-finite numbers, true for numbers and valid strings, and the errors still say why", () => {
    for (const v of [undefined, null, {}, [], NaN, Infinity, true]) expect(isQuantity(v)).toBe(false);
    for (const v of [0, 1.5, "100m", "1Gi", "1e3", "-2"]) expect(isQuantity(v)).toBe(true);
    expect(() => parseBytes(Infinity)).toThrow(/"Infinity": must be a finite number/);
    expect(() => parseBytes(undefined as unknown as string)).toThrow(/"undefined": must be a string/);
    expect(() => parseBytes("1e99")).toThrow(/exponent too large/);
  });
});
