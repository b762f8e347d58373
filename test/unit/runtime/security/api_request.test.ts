import { describe, expect, it } from "vitest";
import { parseApiRequest } from "../../../../runtime/security/api_request.ts";

describe("api request - list options", () => {
  it("api request - limit must be a non-negative safe integer (1e308 and 2^53 are a 400)", () => {
    for (const limit of [1e308, 2 ** 53, -1, 1.5, "10", Infinity]) {
      expect(() => parseApiRequest("pods", "list", { limit }), String(limit)).toThrow(/field "limit" must be a non-negative integer/);
    }
    expect(parseApiRequest("pods", "list", { limit: 500 })).toMatchObject({ verb: "list", opts: { limit: 500 } });
    expect(parseApiRequest("pods", "list", { limit: Number.MAX_SAFE_INTEGER })).toMatchObject({ opts: { limit: Number.MAX_SAFE_INTEGER } });
  });
});
