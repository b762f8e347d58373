/** Berth's fast counters and histograms print exactly what prom-client's own print for the same updates. */
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { ComponentMetrics } from "../../../../runtime/metrics/registry.ts";

describe("fast counters and histograms", () => {
  it("the same exposition text as prom-client's Counter and Histogram, default labels included", async () => {
    const ref = new Registry();
    ref.setDefaultLabels({ node: "node-1" });
    const rc = new Counter({ name: "t_ops_total", help: "ops", labelNames: ["op", "result"], registers: [ref] });
    const rc0 = new Counter({ name: "t_plain_total", help: "plain", registers: [ref] });
    const rh = new Histogram({ name: "t_duration_seconds", help: "d", labelNames: ["op"], buckets: [0.1, 1, 10], registers: [ref] });
    const rh0 = new Histogram({ name: "t_start_seconds", help: "s", buckets: [1, 5], registers: [ref] });
    const ours = new ComponentMetrics("t", { labels: { node: "node-1" } });
    const oc = ours.counter("t_ops_total", "ops", ["op", "result"]);
    ours.counter("t_plain_total", "plain");
    const oh = ours.histogram("t_duration_seconds", "d", ["op"], [0.1, 1, 10]);
    const oh0 = ours.histogram("t_start_seconds", "s", [], [1, 5]);
    const updates: [string, string, number][] = [["get", "ok", 0.05], ["get", "ok", 0.1], ["list", "error", 2], ["get", "not_found", 12], ["list", "ok", 1]];
    for (const [op, result, v] of updates) {
      rc.inc({ op, result });
      oc.inc({ op, result });
      rh.observe({ op }, v);
      oh.observe({ op }, v);
    }
    rc.inc({ op: "get", result: "ok" }, 3);
    oc.inc({ op: "get", result: "ok" }, 3);
    for (const v of [0.5, 3, 7]) {
      rh0.observe(v);
      oh0.observe(undefined, v);
    }
    void rc0;
    expect(await ours.text()).toBe(await ref.metrics());
    expect(() => oc.inc({ op: "get", verb: "x" } as never)).toThrow(/label "verb" is not included/);
    expect(() => oh.observe({ op: "get" }, NaN)).toThrow(/not a valid number/);
  });

  it("a bound series (labels(...)) prints what prom-client's labels(...) child prints, and only once used", async () => {
    const ref = new Registry();
    const rc = new Counter({ name: "t_ops_total", help: "ops", labelNames: ["op", "result"], registers: [ref] });
    const rh = new Histogram({ name: "t_duration_seconds", help: "d", labelNames: ["op"], buckets: [0.1, 1], registers: [ref] });
    const ours = new ComponentMetrics("t");
    const oc = ours.counter("t_ops_total", "ops", ["op", "result"]);
    const oh = ours.histogram("t_duration_seconds", "d", ["op"], [0.1, 1]);
    const [getOk, getErr, listOk] = [oc.labels!({ op: "get", result: "ok" }), oc.labels!({ op: "get", result: "error" }), oc.labels!({ op: "list", result: "ok" })];
    const [hGet, hList] = [oh.labels!({ op: "get" }), oh.labels!({ op: "list" })];
    void getErr;
    void hList;
    rc.labels({ op: "get", result: "error" });
    rh.labels({ op: "list" });
    for (const v of [0.05, 0.5, 3]) {
      getOk.inc();
      rc.labels({ op: "get", result: "ok" }).inc();
      hGet.observe(v);
      rh.labels({ op: "get" }).observe(v);
    }
    listOk.inc(2);
    rc.labels({ op: "list", result: "ok" }).inc(2);
    // The same series by labels and bound: one series.
    oc.inc({ op: "get", result: "ok" });
    rc.inc({ op: "get", result: "ok" });
    oh.observe({ op: "get" }, 0.2);
    rh.observe({ op: "get" }, 0.2);
    expect(await ours.text()).toBe(await ref.metrics());
    expect(() => oc.labels!({ op: "get", verb: "x" } as never)).toThrow(/label "verb" is not included/);
    expect(() => hGet.observe(NaN)).toThrow(/not a valid number/);
  });
});
