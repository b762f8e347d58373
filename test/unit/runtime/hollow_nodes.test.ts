import { describe, expect, it } from "vitest";
import { hollowNodeNames } from "../../../runtime/hollow_nodes.ts";

describe("hollow node names", () => {
  it("hollow nodes - names are the prefix and a zero-padded index, so they sort in order", () => {
    expect(hollowNodeNames("h", 3)).toEqual(["h-0", "h-1", "h-2"]);
    expect(hollowNodeNames("p1", 250).slice(0, 2)).toEqual(["p1-000", "p1-001"]);
    expect(hollowNodeNames("p1", 250).at(-1)).toBe("p1-249");
    expect(hollowNodeNames("x", 1)).toEqual(["x-0"]);
  });

  it("hollow nodes - a bad count or a prefix that makes no DNS label is refused, saying which", () => {
    expect(() => hollowNodeNames("h", 0)).toThrow(/count must be a whole number from 1 to 10000 \(got 0\)/);
    expect(() => hollowNodeNames("h", 2.5)).toThrow(/got 2.5/);
    expect(() => hollowNodeNames("Bad_Prefix", 2)).toThrow(/"Bad_Prefix-0".*DNS label/);
    expect(() => hollowNodeNames("a".repeat(62), 2)).toThrow(/at most 63/);
  });
});
