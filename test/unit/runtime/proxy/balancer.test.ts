import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Balancer, type ProxyTarget } from "../../../../runtime/proxy/balancer.ts";

const t = (k: string): ProxyTarget => ({ host: k, port: 80, key: k });

describe("proxy balancer", () => {
  it("rotates over endpoints and restarts the rotation when the set changes", () => {
    const b = new Balancer();
    b.setTargets([t("c"), t("a"), t("b")]);
    expect([0, 1, 2, 3].map(() => b.candidates("x", 0)[0].key)).toEqual(["a", "b", "c", "a"]);
    b.setTargets([t("b"), t("a"), t("c")]); // same set: rotation continues
    expect(b.candidates("x", 0)[0].key).toBe("b");
    b.setTargets([t("a"), t("d")]);
    expect(b.candidates("x", 0).map((c) => c.key)).toEqual(["a", "d"]);
  });

  it("pins a client with ClientIP affinity until the timeout, and a failure clears the pin", () => {
    const b = new Balancer(1000);
    b.setTargets([t("a"), t("b"), t("c")]);
    const first = b.candidates("10.0.0.1", 0)[0];
    b.succeeded("10.0.0.1", first, 0);
    for (let i = 1; i < 6; i++) expect(b.candidates("10.0.0.1", i * 100)[0].key).toBe(first.key);
    expect(b.candidates("10.0.0.2", 600)[0].key).not.toBe(undefined);
    b.failed("10.0.0.1", first);
    expect(b.pinned).toBe(0);
    b.succeeded("10.0.0.1", first, 0);
    // Expired: back to the rotation (which may or may not land on the same one), and the pin is gone.
    b.candidates("10.0.0.1", 5000);
    expect(b.pinned).toBe(0);
  });

  it("drops pins to endpoints that were removed", () => {
    const b = new Balancer(10_000);
    b.setTargets([t("a"), t("b")]);
    b.succeeded("c1", t("a"), 0);
    b.setTargets([t("b")]);
    expect(b.pinned).toBe(0);
    expect(b.candidates("c1", 1)[0].key).toBe("b");
  });

  it("property: without affinity, n consecutive picks over n endpoints cover each exactly once", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), fc.nat(30), (keys, skip) => {
        const b = new Balancer();
        b.setTargets(keys.map(t));
        for (let i = 0; i < skip; i++) b.candidates("x", 0);
        const picks = keys.map(() => b.candidates("x", 0));
        expect(new Set(picks.map((p) => p[0].key)).size).toBe(keys.length);
        // Every candidate list names every endpoint once (the failover order).
        for (const p of picks) expect(new Set(p.map((c) => c.key)).size).toBe(keys.length);
      }),
    );
  });
});
