import { describe, expect, it } from "vitest";
import { parseGoDuration } from "../../../model/duration.ts";

describe("Go durations (time.ParseDuration)", () => {
  it.each([
    ["15s", 15_000], ["500ms", 500], ["1m30s", 90_000], ["1.5h", 5_400_000], ["2h45m10.5s", 9_910_500],
    [".5s", 500], ["1.s", 1000], ["1500us", 1.5], ["1500µs", 1.5], ["2000000ns", 2], ["0", 0], ["-2m", -120_000], ["+3s", 3000],
  ])("reads %s as %d ms", (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(["", "15", "s", "1.5", "15 s", " 15s", "15s ", "1d", "15sec", "-", "1m-30s", "1e3s", "ms"])("refuses %j (NaN)", (text) => {
    expect(parseGoDuration(text)).toBeNaN();
  });
});
