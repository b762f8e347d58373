import { describe, expect, it } from "vitest";
import {
  checkAvailability,
  checkConvergence,
  checkFaultsHealed,
  checkNoDuplicatePods,
  checkNoLostWrites,
  checkNoOrphans,
  checkSeedStory,
  type FinalState,
} from "../../../../runtime/chaos/checkers.ts";
import type { HistoryEntry, RcSample, Sample } from "../../../../runtime/chaos/history.ts";
import { buildReport, summaryText } from "../../../../runtime/chaos/report.ts";
import { History } from "../../../../runtime/chaos/history.ts";
import { renderTimelineSvg } from "../../../../runtime/chaos/timeline_svg.ts";

const rc = (desired: number, active: number, ready: number, running?: number): RcSample => ({ desired, active, ready, running });
const sample = (t: number, r: RcSample, extra: Partial<Sample> = {}): Sample => ({
  type: "sample",
  t,
  rcs: { "default/web": r },
  nodes: { n1: "True", n2: "True" },
  endpoints: { "default/web": r.ready },
  ...extra,
});
const final = (over: Partial<FinalState> = {}): FinalState => ({
  t: 10_000,
  rcs: { "default/web": rc(3, 3, 3, 3) },
  objects: {},
  pods: {},
  services: [],
  containers: [],
  volumes: [],
  listeners: [],
  ...over,
});

describe("chaos checkers", () => {
  it("convergence: measures from the heal mark to the first sample after which all stay converged", () => {
    const h: HistoryEntry[] = [
      sample(0, rc(3, 3, 3)),
      { type: "mark", t: 1000, label: "healed" },
      sample(1500, rc(3, 2, 2)),
      sample(2000, rc(3, 3, 3)),
      sample(2500, rc(3, 3, 2)), // a relapse: convergence is only from 3000
      sample(3000, rc(3, 3, 3)),
      sample(4000, rc(3, 3, 3)),
    ];
    const r = checkConvergence(h, final(), 5000);
    expect(r.ok).toBe(true);
    expect(r.figures?.convergenceMs).toBe(2000);
    expect(checkConvergence(h, final(), 1500).ok).toBe(false);
  });

  it("convergence: is measured from the last fault's heal when there were faults", () => {
    const h: HistoryEntry[] = [
      { type: "fault", phase: "start", id: "f1", kind: "container-kill", target: "pod:0", t: 500 },
      { type: "fault", phase: "stop", id: "f1", kind: "container-kill", target: "pod:0", t: 500 },
      sample(1000, rc(3, 3, 2)),
      sample(2500, rc(3, 3, 3)),
      { type: "mark", t: 4000, label: "healed" },
      sample(4500, rc(3, 3, 3)),
    ];
    expect(checkConvergence(h, final(), 5000).figures?.convergenceMs).toBe(2000);
  });

  it("convergence: fails with evidence when the final state is off, counting running copies too", () => {
    const r = checkConvergence([{ type: "mark", t: 0, label: "healed" }], final({ rcs: { "default/web": rc(3, 3, 3, 4) } }), 60_000);
    expect(r.ok).toBe(false);
    expect(r.evidence[0]).toContain("running 4");
  });

  it("no lost writes: flags a missing acknowledged create, a replaced uid and a lost update; tolerates indeterminate writes", () => {
    const w = (o: Partial<Extract<HistoryEntry, { type: "write" }>>) => ({ type: "write", op: "create", resource: "namespaces", name: "a", start: 0, end: 1, ok: true, ...o }) as HistoryEntry;
    const h: HistoryEntry[] = [
      w({ name: "a", uid: "u-a", value: 0 }),
      w({ name: "a", op: "update", value: 1 }),
      w({ name: "a", op: "update", value: 2, ok: false, indeterminate: true }),
      w({ name: "b", uid: "u-b" }),
      w({ name: "c", uid: "u-c" }),
      w({ name: "d", uid: "u-d", value: 0 }),
      w({ name: "d", op: "update", value: 5 }),
      w({ name: "e", uid: "u-e" }),
      w({ name: "e", op: "delete" }),
      w({ name: "f", ok: false, error: "refused" }),
    ];
    const objects = {
      "namespaces//a": { uid: "u-a", value: 2 }, // indeterminate write applied: fine
      "namespaces//c": { uid: "other" },
      "namespaces//d": { uid: "u-d", value: 4 },
      "namespaces//e": { uid: "u-e" },
    };
    const r = checkNoLostWrites(h, final({ objects }));
    expect(r.ok).toBe(false);
    expect(r.evidence.join("\n")).toMatch(/namespaces\/\/b: acknowledged .* missing/);
    expect(r.evidence.join("\n")).toMatch(/namespaces\/\/c: acknowledged uid u-c, found other/);
    expect(r.evidence.join("\n")).toMatch(/namespaces\/\/d: last acknowledged value 5, found 4/);
    expect(r.evidence.join("\n")).toMatch(/namespaces\/\/e: acknowledged delete/);
    expect(r.evidence).toHaveLength(4);
    expect(checkNoLostWrites(h.slice(0, 3), final({ objects: { "namespaces//a": { uid: "u-a", value: 1 } } })).ok).toBe(true);
  });

  it("no orphans: a container without its pod, on the wrong node, a stray volume and a stray listener", () => {
    const c = (podUid: string, node: string) => ({ id: `${podUid}-${node}-0123456789`, node, podUid, pod: podUid, container: "app", role: "app", running: true });
    const r = checkNoOrphans(final({
      pods: { p1: { namespace: "default", name: "p1", node: "n1" } },
      containers: [c("p1", "n1"), c("p1", "n2"), c("gone", "n1")],
      volumes: [{ name: "v", node: "n1", podUid: "gone" }],
      services: ["default/web"],
      listeners: ["default/web", "default/old"],
    }));
    expect(r.ok).toBe(false);
    expect(r.evidence).toHaveLength(4);
    expect(checkNoOrphans(final({ pods: { p1: { namespace: "default", name: "p1", node: "n1" } }, containers: [c("p1", "n1")] })).ok).toBe(true);
  });

  it("no duplicate pods: sightings in samples and two running copies at the end", () => {
    const c = (node: string) => ({ id: `${node}-abcdefabcdef`, node, podUid: "p1", pod: "web-1", container: "app", role: "app", running: true });
    expect(checkNoDuplicatePods([sample(0, rc(3, 3, 3))], final({ containers: [c("n1")] })).ok).toBe(true);
    expect(checkNoDuplicatePods([sample(0, rc(3, 3, 3), { duplicates: ["p1/app"] })], final()).ok).toBe(false);
    expect(checkNoDuplicatePods([], final({ containers: [c("n1"), c("n2")] })).evidence[0]).toContain("runs 2 times");
  });

  it("availability: counts failures only while an endpoint was ready, excludes chosen fault kinds, reports percentiles", () => {
    const req = (start: number, ok: boolean): HistoryEntry => ({ type: "request", client: "default/web", start, end: start + 10, ok, detail: ok ? "web-1" : "ECONNREFUSED" });
    const h: HistoryEntry[] = [
      sample(0, rc(3, 3, 0)), // no endpoint ready
      req(100, false),
      sample(1000, rc(3, 3, 3)),
      req(1100, true),
      req(1200, true),
      req(1300, false),
      { type: "fault", phase: "start", id: "f1", kind: "container-pause", target: "pod:0", t: 2000 },
      req(2100, false),
      { type: "fault", phase: "stop", id: "f1", kind: "container-pause", target: "pod:0", t: 3000 },
    ];
    const strict = checkAvailability(h);
    expect(strict.ok).toBe(false);
    expect(strict.figures).toMatchObject({ counted: 4, failed: 2 });
    const lenient = checkAvailability(h, { excludeKinds: ["container-pause"] });
    expect(lenient.figures).toMatchObject({ counted: 3, failed: 1, p50: 10 });
    expect(checkAvailability(h, { excludeKinds: ["container-pause"], maxFailedRatio: 0.5 }).ok).toBe(true);
  });

  it("availability: a request already in flight when a fault begins is reported, not counted; one starting after it is", () => {
    const h: HistoryEntry[] = [
      sample(0, rc(3, 3, 3)),
      { type: "request", client: "default/web", start: 990, end: 1020, ok: false, detail: "ECONNRESET" },
      { type: "fault", phase: "start", id: "f1", kind: "container-kill", target: "pod:0", t: 1000 },
      { type: "fault", phase: "stop", id: "f1", kind: "container-kill", target: "pod:0", t: 1000 },
      { type: "request", client: "default/web", start: 1010, end: 1030, ok: false, detail: "ECONNREFUSED" },
      { type: "request", client: "default/web", start: 1040, end: 1050, ok: true, detail: "web-2" },
    ];
    const r = checkAvailability(h);
    expect(r.figures).toMatchObject({ counted: 2, failed: 1 });
    expect(r.summary).toMatch(/1 failed that were already in flight when a fault began/);
    expect(r.ok).toBe(false);
  });

  it("availability: a connection made while the kill was still being carried out counts as in flight; one after it does not", () => {
    const h: HistoryEntry[] = [
      sample(0, rc(3, 3, 3)),
      { type: "fault", phase: "start", id: "f1", kind: "container-kill", target: "pod:0", t: 1000, effective: 1030 },
      { type: "request", client: "default/web", start: 1010, end: 1040, ok: false, detail: "ECONNRESET" },
      { type: "fault", phase: "stop", id: "f1", kind: "container-kill", target: "pod:0", t: 1030 },
      { type: "request", client: "default/web", start: 1035, end: 1045, ok: false, detail: "ECONNRESET" },
    ];
    const r = checkAvailability(h);
    expect(r.figures).toMatchObject({ counted: 1, failed: 1 });
    expect(r.summary).toMatch(/1 failed that were already in flight when a fault began/);
  });

  it("seed story: 3 → 4 → 3 in running copies passes; a run that never overshoots fails", () => {
    const story = [3, 3, 2, 3, 4, 4, 3, 3].map((n, i) => sample(i * 1000, rc(3, Math.min(n, 3), Math.min(n, 3), n)));
    const r = checkSeedStory(story, final(), "default/web");
    expect(r.ok).toBe(true);
    expect(r.summary).toMatch(/3 → 4 at 4\.0s → 3 at 6\.0s/);
    const flat = [3, 2, 3].map((n, i) => sample(i * 1000, rc(3, n, n, n)));
    const bad = checkSeedStory(flat, final(), "default/web");
    expect(bad.ok).toBe(false);
    expect(bad.evidence[0]).toContain("3@0.0s → 2@1.0s → 3@2.0s");
  });

  it("faults healed: an unhealed fault and a failed heal are reported", () => {
    const f = (id: string, phase: "start" | "stop", error?: string): HistoryEntry => ({ type: "fault", phase, id, kind: "nats-pause", target: "nats", t: 0, error });
    expect(checkFaultsHealed([f("f1", "start"), f("f1", "stop")]).ok).toBe(true);
    const r = checkFaultsHealed([f("f1", "start"), f("f2", "start"), f("f2", "stop", "boom")]);
    expect(r.ok).toBe(false);
    expect(r.evidence).toEqual(["f1 nats-pause on nats was never healed", "f2 nats-pause on nats: heal failed: boom"]);
    // A fault skipped for want of a target is reported, but is not a failure.
    const skipped = checkFaultsHealed([{ type: "fault", phase: "start", id: "f3", kind: "container-kill", target: "pod:0", t: 0, skipped: "no running workload pod" }]);
    expect(skipped.ok).toBe(true);
    expect(skipped.summary).toMatch(/1 skipped/);
  });
});

describe("chaos report", () => {
  const h = new History(7, "unit", 0);
  h.entries.push(
    sample(0, rc(3, 3, 3, 3)),
    { type: "mark", t: 500, label: "faults" },
    { type: "fault", phase: "start", id: "f1", kind: "node-partition", target: "n2", t: 1000 },
    { type: "request", client: "default/web", start: 1100, end: 1120, ok: true },
    { type: "request", client: "default/web", start: 1200, end: 3200, ok: false, detail: "timeout" },
    sample(2000, rc(3, 2, 2, 3), { nodes: { n1: "True", n2: "Unknown" } }),
    sample(3000, rc(3, 3, 3, 4), { nodes: { n1: "True", n2: "Unknown" } }),
    { type: "fault", phase: "stop", id: "f1", kind: "node-partition", target: "n2", t: 4000 },
    { type: "mark", t: 4000, label: "healed" },
    sample(5000, rc(3, 3, 3, 3)),
  );

  it("renders a well-formed SVG timeline with fault shading, node rows and request buckets", () => {
    const svg = renderTimelineSvg(h.entries, { title: "unit <run>" });
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg).toContain("unit &lt;run&gt;");
    expect(svg).toContain("node-partition");
    expect(svg).toContain("n2 Ready=Unknown from 2.0s");
    expect(svg).toContain("1 failed of 2");
    // Balanced tags: every opened element is closed (self-closing or paired).
    const opens = (svg.match(/<(rect|text|path|line|svg|title)\b/g) ?? []).length;
    const closes = (svg.match(/\/>|<\/(rect|text|path|line|svg|title)>/g) ?? []).length;
    expect(closes).toBe(opens);
  });

  it("the summary names the verdict, each invariant, and the schedule", () => {
    const results = [checkConvergence(h.entries, final(), 10_000), checkAvailability(h.entries)];
    const report = buildReport(h, [{ id: "f1", kind: "node-partition", at: 1000, durationMs: 3000, target: "n2", params: { mode: "blackhole" } }], results, final());
    const text = summaryText(report);
    expect(report.ok).toBe(false);
    expect(text).toMatch(/seed 7: INVARIANTS VIOLATED/);
    expect(text).toMatch(/\[PASS\] convergence: converged 1\.0s after the last heal/);
    expect(text).toMatch(/\[FAIL\] availability: 1\/2 requests failed/);
    expect(text).toMatch(/f1 +\+ +1\.0s +node-partition +n2/);
  });
});
