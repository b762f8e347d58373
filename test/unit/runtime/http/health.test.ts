import { describe, expect, it } from "vitest";
import { checksFor, HealthRunner, PING, renderHealth, renderSingleCheck, type HealthCheck } from "../../../../runtime/http/health.ts";

describe("health", () => {
  it("health - renders as kube-apiserver: plain ok, verbose list, failure withheld with 500", () => {
    const ok = [{ name: "ping", ok: true }, { name: "store", ok: true }];
    expect(renderHealth("readyz", ok, false)).toEqual({ status: 200, text: "ok" });
    expect(renderHealth("readyz", ok, true)).toEqual({ status: 200, text: "[+]ping ok\n[+]store ok\nreadyz check passed\n" });
    const bad = [{ name: "ping", ok: true }, { name: "store", ok: false, reason: "nats: disconnected" }];
    for (const verbose of [false, true]) {
      expect(renderHealth("livez", bad, verbose)).toEqual({ status: 500, text: "[+]ping ok\n[-]store failed: reason withheld\nlivez check failed\n" });
    }
    expect(renderSingleCheck(bad[1])).toEqual({ status: 500, text: "internal server error: nats: disconnected\n" });
  });

  it("health - livez skips readiness-only checks", () => {
    const leader: HealthCheck = { name: "leader", check: () => {}, readinessOnly: true };
    expect(checksFor("livez", [PING, leader]).map((c) => c.name)).toEqual(["ping"]);
    expect(checksFor("readyz", [PING, leader]).map((c) => c.name)).toEqual(["ping", "leader"]);
  });

  it("health - a check that throws or hangs fails with its reason; concurrent runs share one call", async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: HealthCheck = { name: "slow", check: () => { calls++; return gate; } };
    const runner = new HealthRunner(10_000);
    const a = runner.run([slow]);
    const b = runner.run([slow]);
    release();
    expect(await a).toEqual([{ name: "slow", ok: true }]);
    expect(await b).toEqual([{ name: "slow", ok: true }]);
    expect(calls).toBe(1);
    const short = new HealthRunner(20);
    const [hung, thrown] = await short.run([
      { name: "hung", check: () => new Promise<void>(() => {}) },
      { name: "thrown", check: () => { throw new Error("boom"); } },
    ]);
    expect(hung).toEqual({ name: "hung", ok: false, reason: "no answer within 20 ms" });
    expect(thrown).toEqual({ name: "thrown", ok: false, reason: "boom" });
  });
});
