import { describe, expect, it } from "vitest";
import { scheduleBatch, type ScheduleResult } from "../../../actors/scheduler_decide.ts";
import type { Affinity, Node, Pod, PodAffinityTerm } from "../../../model/types.ts";
import { node, pod } from "../../helpers/control_plane_fixtures.ts";

const nodeOf = (r: ScheduleResult) => ("node" in r ? r.node : r.unschedulable);
/** Three nodes, a and b in zone-1, c in zone-2, each with its hostname label as the kubelet sets it. */
const nodes = (): Node[] => [
  node("a", { labels: { "kubernetes.io/hostname": "a", zone: "zone-1" } }),
  node("b", { labels: { "kubernetes.io/hostname": "b", zone: "zone-1" } }),
  node("c", { labels: { "kubernetes.io/hostname": "c", zone: "zone-2" } }),
];
const withAffinity = (p: Pod, affinity: Affinity): Pod => ({ ...p, spec: { ...p.spec, affinity } });
const term = (labels: Record<string, string>, topologyKey = "kubernetes.io/hostname", extra: Partial<PodAffinityTerm> = {}): PodAffinityTerm => ({ labelSelector: { matchLabels: labels }, topologyKey, ...extra });

describe("scheduler - inter-pod affinity", () => {
  it("required anti-affinity by hostname puts each replica on its own node; a fourth is unschedulable, in kube-scheduler's words", () => {
    const replica = (i: number) => withAffinity(pod(`web-${i}`, { labels: { app: "web" }, owner: "web" }), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "web" })] } });
    const placed = scheduleBatch([0, 1, 2, 3].map(replica), nodes(), []).map((r) => nodeOf(r.result));
    expect(new Set(placed.slice(0, 3))).toEqual(new Set(["a", "b", "c"]));
    expect(placed[3]).toBe("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  });

  it("required anti-affinity by zone: the second replica goes to the other zone; bound pods count", () => {
    const replica = (name: string) => withAffinity(pod(name, { labels: { app: "web" } }), { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "web" }, "zone")] } });
    const bound = { ...pod("old", { labels: { app: "web" } }), spec: { ...pod("old").spec, nodeName: "c" } };
    expect(scheduleBatch([replica("new")], nodes(), [bound]).map((r) => nodeOf(r.result))[0]).toMatch(/^[ab]$/);
  });

  it("required affinity: near a matching pod's domain (zone), never where none runs; the first pod of a group that matches its own term goes anywhere", () => {
    const db = { ...pod("db", { labels: { app: "db" } }), spec: { ...pod("db").spec, nodeName: "c" } };
    const nearDb = withAffinity(pod("web", { labels: { app: "web" } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "db" }, "zone")] } });
    expect(nodeOf(scheduleBatch([nearDb], nodes(), [db])[0].result)).toBe("c");
    expect(nodeOf(scheduleBatch([nearDb], nodes(), [])[0].result)).toBe("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
    const selfish = withAffinity(pod("cache-0", { labels: { app: "cache" } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "cache" })] } });
    const [first, second] = scheduleBatch([selfish, { ...selfish, metadata: { ...selfish.metadata, name: "cache-1", uid: "uid-cache-1" } }], nodes(), []).map((r) => nodeOf(r.result));
    expect(["a", "b", "c"]).toContain(first);
    expect(second).toBe(first); // then beside the first
  });

  it("a node without the term's label never passes required affinity, first of a group or not; the exception needs no match for any term and the pod matching all of them", () => {
    const zoned = [node("a", { labels: {} }), node("b", { labels: {} }), node("z", { labels: { zone: "z1" } })];
    const together = (i: number) => withAffinity(pod(`t-${i}`, { labels: { app: "t" }, owner: "t" }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "t" }, "zone")] } });
    expect(scheduleBatch([0, 1, 2].map(together), zoned, []).map((r) => nodeOf(r.result))).toEqual(["z", "z", "z"]);
    // Two terms, one matched somewhere (db on c): no exception, and no node has a web pod.
    const db = { ...pod("db", { labels: { app: "db" } }), spec: { ...pod("db").spec, nodeName: "c" } };
    const both = withAffinity(pod("web", { labels: { app: "web" } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "web" }), term({ app: "db" })] } });
    expect(nodeOf(scheduleBatch([both], nodes(), [db])[0].result)).toBe("0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
  });

  it("a placed pod's required anti-affinity keeps matching pods out of its domain, though they have no terms of their own", () => {
    const loner = withAffinity({ ...pod("loner", { labels: { app: "loner" } }), spec: { ...pod("loner").spec, nodeName: "a" } }, { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ noisy: "yes" })] } });
    const noisy = [0, 1, 2].map((i) => pod(`noisy-${i}`, { labels: { noisy: "yes" }, owner: "noisy" }));
    const placed = scheduleBatch(noisy, [node("a", { labels: { "kubernetes.io/hostname": "a" } })], [loner]).map((r) => nodeOf(r.result));
    expect(placed).toEqual(Array(3).fill("0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules."));
    expect(scheduleBatch(noisy, nodes(), [loner]).map((r) => nodeOf(r.result))).not.toContain("a");
  });

  it("a term looks in the pod's namespace unless it names others; namespaceSelector {} is every namespace", () => {
    const elsewhere = { ...pod("db", { labels: { app: "db" }, ns: "other" }), spec: { ...pod("db").spec, nodeName: "c" } };
    const mine = withAffinity(pod("web", { labels: { app: "web" } }), { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "db" })] } });
    expect(nodeOf(scheduleBatch([mine], nodes(), [elsewhere])[0].result)).toMatch(/didn't match pod affinity rules/);
    const named = withAffinity(mine, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "db" }, "kubernetes.io/hostname", { namespaces: ["other"] })] } });
    expect(nodeOf(scheduleBatch([named], nodes(), [elsewhere])[0].result)).toBe("c");
    const every = withAffinity(mine, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "db" }, "kubernetes.io/hostname", { namespaceSelector: {} })] } });
    expect(nodeOf(scheduleBatch([every], nodes(), [elsewhere])[0].result)).toBe("c");
    const everyToo = withAffinity(mine, { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term({ app: "db" }, "kubernetes.io/hostname", { namespaceSelector: { matchLabels: {} } })] } });
    expect(nodeOf(scheduleBatch([everyToo], nodes(), [elsewhere])[0].result)).toBe("c");
  });

  it("preferred terms score: affinity draws a pod to a matching pod's node over the spread; anti-affinity pushes it away", () => {
    const db = { ...pod("db", { labels: { app: "db" } }), spec: { ...pod("db").spec, nodeName: "b" } };
    const others = [0, 1].map((i) => ({ ...pod(`web-${i}`, { labels: { app: "web" }, owner: "web" }), spec: { ...pod("x").spec, nodeName: "b" } }));
    const near = withAffinity(pod("web-2", { labels: { app: "web" }, owner: "web" }), { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: term({ app: "db" }) }] } });
    expect(nodeOf(scheduleBatch([near], nodes(), [db, ...others])[0].result)).toBe("b");
    const away = withAffinity(pod("batch", { labels: { app: "batch" } }), { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: term({ app: "db" }, "zone") }] } });
    expect(nodeOf(scheduleBatch([away], [nodes()[1], nodes()[2]], [db])[0].result)).toBe("c");
  });

  it("a preferred term weighs each matching pod in the domain: anti-affinity avoids the node with more of them", () => {
    const on = (name: string, n: string, labels: Record<string, string>) => ({ ...pod(name, { labels }), spec: { ...pod(name).spec, nodeName: n } });
    const placed = [...[0, 1, 2, 3].map((i) => on(`x-a-${i}`, "a", { app: "x" })), on("x-b", "b", { app: "x" }), ...[0, 1, 2, 3].map((i) => on(`other-${i}`, "b", { app: "other" }))];
    const shy = withAffinity(pod("shy", { labels: { app: "shy" } }), { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, podAffinityTerm: term({ app: "x" }) }] } });
    expect(nodeOf(scheduleBatch([shy], [nodes()[0], nodes()[1]], placed)[0].result)).toBe("b");
  });

  it("pods without terms pay nothing when no placed pod has required anti-affinity (the rules are skipped)", () => {
    const plain = [0, 1, 2, 3, 4, 5].map((i) => pod(`p-${i}`, { owner: "rc" }));
    const placed = scheduleBatch(plain, nodes(), []).map((r) => nodeOf(r.result));
    expect(new Set(placed)).toEqual(new Set(["a", "b", "c"]));
  });
});
