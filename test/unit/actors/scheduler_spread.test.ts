import { describe, expect, it } from "vitest";
import { scheduleBatch, type ScheduleResult } from "../../../actors/scheduler_decide.ts";
import type { Node, Pod, TopologySpreadConstraint } from "../../../model/types.ts";
import { node, pod, type PodOpts } from "../../helpers/control_plane_fixtures.ts";

const nodeOf = (r: ScheduleResult) => ("node" in r ? r.node : r.unschedulable);
/** Three nodes: a and b in zone-1, c in zone-2. */
const nodes = (o: { taintC?: boolean } = {}): Node[] => [
  node("a", { labels: { "kubernetes.io/hostname": "a", zone: "zone-1" } }),
  node("b", { labels: { "kubernetes.io/hostname": "b", zone: "zone-1" } }),
  node("c", { labels: { "kubernetes.io/hostname": "c", zone: "zone-2" }, taint: o.taintC }),
];
const byZone = (extra: Partial<TopologySpreadConstraint> = {}): TopologySpreadConstraint => ({
  maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } }, ...extra,
});
const spread = (name: string, constraints: TopologySpreadConstraint[], o: PodOpts = {}): Pod => {
  const p = pod(name, { labels: { app: "web" }, owner: "web", ...o });
  return { ...p, spec: { ...p.spec, topologySpreadConstraints: constraints } };
};
const replicas = (n: number, constraints: TopologySpreadConstraint[], o: PodOpts = {}) => Array.from({ length: n }, (_, i) => spread(`web-${i}`, constraints, o));
const zoneCounts = (placed: string[]) => ({ "zone-1": placed.filter((n) => n === "a" || n === "b").length, "zone-2": placed.filter((n) => n === "c").length });

describe("scheduler - pod topology spread constraints", () => {
  it("DoNotSchedule by zone keeps the zones within maxSkew, where spreading by node alone would not", () => {
    const placed = scheduleBatch(replicas(4, [byZone()]), nodes(), []).map((r) => nodeOf(r.result));
    expect(zoneCounts(placed)).toEqual({ "zone-1": 2, "zone-2": 2 });
    // Without the constraint the replicas spread by node: a, b, c, then zone-1 again.
    expect(zoneCounts(scheduleBatch(replicas(4, []), nodes(), []).map((r) => nodeOf(r.result)))).toEqual({ "zone-1": 3, "zone-2": 1 });
  });

  it("counts bound pods, only in the pod's namespace, not those being deleted, and only those the selector matches", () => {
    const bound = [
      pod("old-1", { labels: { app: "web" }, node: "c" }),
      pod("other-ns", { labels: { app: "web" }, node: "a", ns: "other" }),
      pod("going", { labels: { app: "web" }, node: "a", deleting: true }),
      pod("db-1", { labels: { app: "db" }, node: "b" }),
      pod("db-2", { labels: { app: "db" }, node: "b" }),
    ];
    // zone-2 holds the one matching pod, so the new pod goes to zone-1, although c has the fewest pods.
    expect(nodeOf(scheduleBatch([spread("new", [byZone()])], nodes(), bound)[0].result)).toMatch(/^[ab]$/);
  });

  it("a tainted node's domain counts unless nodeTaintsPolicy is Honor (kube's default is Ignore)", () => {
    const [first, second] = scheduleBatch(replicas(2, [byZone()]), nodes({ taintC: true }), []).map((r) => nodeOf(r.result));
    expect(first).toMatch(/^[ab]$/);
    expect(second).toBe("0/3 nodes are available: 2 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {k: }.");
    const honoring = scheduleBatch(replicas(2, [byZone({ nodeTaintsPolicy: "Honor" })]), nodes({ taintC: true }), []).map((r) => nodeOf(r.result));
    expect(honoring.sort()).toEqual(["a", "b"]);
  });

  it("nodeAffinityPolicy Honor (the default) counts only the domains the pod's node selector admits; Ignore counts them all", () => {
    const inZone1 = { nodeSelector: { zone: "zone-1" } };
    expect(scheduleBatch(replicas(3, [byZone()], inZone1), nodes(), []).map((r) => nodeOf(r.result)).sort()).toEqual(["a", "a", "b"]);
    const ignoring = scheduleBatch(replicas(2, [byZone({ nodeAffinityPolicy: "Ignore" })], inZone1), nodes(), []).map((r) => nodeOf(r.result));
    expect(ignoring[1]).toBe("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) didn't match pod topology spread constraints.");
  });

  it("a node without the constraint's label is refused with kube-scheduler's reason", () => {
    const unlabelled = [node("a", { labels: {} }), node("b", { labels: { zone: "zone-1" } })];
    const placed = scheduleBatch(replicas(2, [byZone()]), unlabelled, []).map((r) => nodeOf(r.result));
    expect(placed[0]).toBe("b");
    expect(placed[1]).toBe("b"); // one domain: its own minimum, skew stays 1
    expect(nodeOf(scheduleBatch([spread("x", [byZone()])], [node("a", { labels: {} })], [])[0].result)).toBe(
      "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints (missing required label).",
    );
  });

  it("minDomains: with fewer domains than asked the emptiest counts as 0, so each zone takes maxSkew pods and no more", () => {
    const placed = scheduleBatch(replicas(3, [byZone({ minDomains: 3 })]), nodes(), []).map((r) => nodeOf(r.result));
    expect(zoneCounts(placed.slice(0, 2))).toEqual({ "zone-1": 1, "zone-2": 1 });
    expect(placed[2]).toBe("0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints.");
  });

  it("the incoming pod counts toward the skew only when the selector matches it", () => {
    // zone-1 holds one web pod; zone-2's only node is tainted, but its domain counts (as 0).
    const bound = [pod("w1", { labels: { app: "web" }, node: "a" })];
    expect(nodeOf(scheduleBatch([spread("m", [byZone()])], nodes({ taintC: true }), bound)[0].result)).toBe(
      "0/3 nodes are available: 2 node(s) didn't match pod topology spread constraints, 1 node(s) had untolerated taint {k: }.",
    );
    const other = spread("o", [byZone()], { labels: { app: "other" }, owner: "other" });
    expect(nodeOf(scheduleBatch([other], nodes({ taintC: true }), bound)[0].result)).toBe("b");
  });

  it("matchLabelKeys counts only pods sharing the incoming pod's values of those keys (a Deployment's pod-template-hash)", () => {
    const old = [pod("old-1", { labels: { app: "web", "pod-template-hash": "v1" }, node: "c" }), pod("old-2", { labels: { app: "web", "pod-template-hash": "v1" }, node: "c" })];
    const c = byZone({ matchLabelKeys: ["pod-template-hash"] });
    const fresh = replicas(2, [c], { labels: { app: "web", "pod-template-hash": "v2" } });
    expect(zoneCounts(scheduleBatch(fresh, nodes(), old).map((r) => nodeOf(r.result)))).toEqual({ "zone-1": 1, "zone-2": 1 });
    // Without the key the old pods count, and both new ones go to zone-1.
    const counted = replicas(2, [byZone()], { labels: { app: "web", "pod-template-hash": "v2" } });
    expect(zoneCounts(scheduleBatch(counted, nodes(), old).map((r) => nodeOf(r.result)))).toEqual({ "zone-1": 2, "zone-2": 0 });
  });

  it("ScheduleAnyway prefers the emptier domain and still schedules where DoNotSchedule would not", () => {
    const bound = [pod("w1", { labels: { app: "web" }, node: "c" }), pod("w2", { labels: { app: "web" }, node: "c" })];
    const soft = byZone({ whenUnsatisfiable: "ScheduleAnyway" });
    expect(nodeOf(scheduleBatch([spread("s", [soft])], nodes(), bound)[0].result)).toMatch(/^[ab]$/);
    // Only zone-2's node is left: DoNotSchedule refuses, ScheduleAnyway places.
    const onlyC = [nodes()[2], node("a", { labels: { zone: "zone-1" }, taint: true })];
    expect(nodeOf(scheduleBatch([spread("h", [byZone({ nodeTaintsPolicy: "Ignore" })])], onlyC, bound)[0].result)).toMatch(/^0\/2 nodes are available/);
    expect(nodeOf(scheduleBatch([spread("s", [soft])], onlyC, bound)[0].result)).toBe("c");
  });

  it("ScheduleAnyway scores the node's domain: the emptier zone wins where the node order would not", () => {
    const bound = [pod("w1", { labels: { app: "web" }, node: "b" }), pod("w2", { labels: { app: "web" }, node: "b" })];
    // a (zone-1) and c (zone-2) are equally loaded; without the score the name picks a.
    expect(nodeOf(scheduleBatch([spread("s", [byZone({ whenUnsatisfiable: "ScheduleAnyway" })])], nodes(), bound)[0].result)).toBe("c");
  });

  it("an empty labelSelector counts no placed pod, as kube-scheduler's: only the pod itself, so it never refuses a node", () => {
    // Counting every pod, zone-1 would hold 2 against zone-2's 0 and refuse the pod there.
    const bound = [pod("w1", { labels: { app: "web" }, node: "a" }), pod("w2", { labels: { app: "web" }, node: "b" })];
    expect(nodeOf(scheduleBatch([spread("e", [byZone({ labelSelector: {}, nodeAffinityPolicy: "Ignore" })], { nodeSelector: { zone: "zone-1" } })], nodes(), bound)[0].result)).toMatch(/^[ab]$/);
  });

  it("two constraints hold together: even zones and even nodes, until no node keeps both", () => {
    const both = [byZone(), byZone({ topologyKey: "kubernetes.io/hostname" })];
    const placed = scheduleBatch(replicas(6, both), nodes(), []).map((r) => nodeOf(r.result));
    // Zone-2 has one node, so it takes every other pod; the hostname constraint keeps c within 1 of a and b.
    expect(placed.slice(0, 5)).toEqual(["a", "c", "b", "c", "a"]);
    expect(placed[5]).toBe("0/3 nodes are available: 3 node(s) didn't match pod topology spread constraints.");
  });
});
