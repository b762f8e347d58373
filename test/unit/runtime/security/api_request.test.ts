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

describe("api request - bind", () => {
  it("api request - bind is a pods verb taking name, node and an optional uid; bad input is a clear 400 or 404", () => {
    expect(parseApiRequest("pods", "bind", { name: "web-1", namespace: "ns", node: "n1", uid: "u-1" })).toEqual({ verb: "bind", resource: "pods", name: "web-1", namespace: "ns", node: "n1", uid: "u-1" });
    // An empty uid is no precondition.
    expect(parseApiRequest("pods", "bind", { name: "web-1", node: "n1", uid: "" })).toMatchObject({ uid: undefined });
    expect(() => parseApiRequest("services", "bind", { name: "s", node: "n1" })).toThrow(/unknown verb "bind" for services \(only pods are bound to nodes\)/);
    expect(() => parseApiRequest("pods", "bind", { name: "web-1" })).toThrow(/field "node" is required/);
    expect(() => parseApiRequest("pods", "bind", { name: "web-1", node: 7 })).toThrow(/field "node" must be a string/);
    expect(() => parseApiRequest("pods", "bind", { name: "web-1", node: "n1", uid: 3 })).toThrow(/field "uid" must be a string/);
    expect(() => parseApiRequest("pods", "bind", { node: "n1" })).toThrow(/field "name" is required/);
    expect(() => parseApiRequest("pods", "bind", { name: "a b", node: "n1" })).toThrow(/not found/);
  });
});

describe("api request - dryRun", () => {
  it("api request - every write takes dryRun: true (false or absent is a real write); anything else, or with the unsafe deletion, is a clear 400", () => {
    const pod = { metadata: { name: "p" } };
    expect(parseApiRequest("pods", "create", { object: pod, dryRun: true })).toMatchObject({ verb: "create", dryRun: true });
    expect(parseApiRequest("pods", "create", { object: pod, dryRun: false })).not.toHaveProperty("dryRun");
    expect(parseApiRequest("pods", "create", { object: pod })).not.toHaveProperty("dryRun");
    expect(parseApiRequest("pods", "update", { object: pod, dryRun: true })).toMatchObject({ verb: "update", dryRun: true });
    expect(parseApiRequest("pods", "updateStatus", { object: pod, dryRun: true })).toMatchObject({ verb: "updateStatus", dryRun: true });
    expect(parseApiRequest("pods", "patch", { name: "p", patch: {}, dryRun: true })).toMatchObject({ verb: "patch", dryRun: true });
    expect(parseApiRequest("pods", "delete", { name: "p", dryRun: true })).toMatchObject({ verb: "delete", opts: { dryRun: true } });
    expect(parseApiRequest("pods", "bind", { name: "p", node: "n1", dryRun: true })).toMatchObject({ verb: "bind", dryRun: true });
    expect(parseApiRequest("scale", "update", { name: "rc", replicas: 2, dryRun: true })).toMatchObject({ verb: "updateScale", dryRun: true });
    for (const dryRun of ["All", ["All"], 1]) {
      expect(() => parseApiRequest("pods", "create", { object: pod, dryRun }), JSON.stringify(dryRun)).toThrow(/field "dryRun" must be a boolean/);
    }
    expect(() => parseApiRequest("pods", "delete", { name: "p", dryRun: true, ignoreStoreReadErrorWithClusterBreakingPotential: true })).toThrow(
      "ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: cannot be set together with .dryRun",
    );
  });
});
