/** `berth chaos list` says which scenarios need Docker (the runtime each scenario's cluster uses). */
import { describe, expect, it } from "vitest";
import { listScenarios } from "../../../../runtime/chaos/scenario.ts";

const ROOT = new URL("../../../..", import.meta.url).pathname;

describe("chaos scenarios list", () => {
  it("carries each scenario's runtime", () => {
    const list = listScenarios(`${ROOT}chaos`);
    expect(list.find((s) => s.name === "hollow-mixed")?.runtime).toBe("hollow");
    expect(list.find((s) => s.name === "seed-story")?.runtime).toBe("docker");
    expect(list.every((s) => s.error || s.runtime)).toBe(true);
  });
});
