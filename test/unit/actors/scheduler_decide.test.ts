import { requestedHostPorts } from "../../../model/pod.ts";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  bytes,
  cpuMillis,
  nodeIsReady,
  podRequests,
  schedule,
  scheduleBatch,
  type ScheduleResult,
} from "../../../actors/scheduler_decide.ts";
import type { Node, Pod } from "../../../model/types.ts";
import { node, pod } from "../../helpers/control_plane_fixtures.ts";

const nodeOf = (r: ScheduleResult) => ("node" in r ? r.node : null);

describe("scheduler decision", () => {
  it("parses quantities", () => {
    expect(cpuMillis("250m")).toBe(250);
    expect(cpuMillis("1.5")).toBe(1500);
    expect(bytes("128Mi")).toBe(128 * 2 ** 20);
    expect(bytes("1G")).toBe(1e9);
    expect(bytes("512")).toBe(512);
  });

  it("spreads pods without requests of many controllers over all nodes by pod count, not onto the first nodes by name", () => {
    // 10 RCs of 10 pods on 100 nodes: spreading per RC alone put every RC on the same first 10
    // nodes (pods without requests add no load, and the name broke the tie).
    const nodes = Array.from({ length: 100 }, (_, i) => node(`n-${String(i).padStart(3, "0")}`));
    const pods = Array.from({ length: 100 }, (_, i) => pod(`p-${i}`, { owner: `rc-${Math.floor(i / 10)}` }));
    const placed = scheduleBatch(pods, nodes, []).map((r) => nodeOf(r.result));
    expect(new Set(placed).size).toBe(100);
  });

  it("places pods only on Ready, schedulable, untainted nodes", () => {
    const nodes = [
      node("a", { ready: false }),
      node("b", { unschedulable: true }),
      node("c", { taint: true }),
      node("d", { ready: "Unknown" }),
      node("e"),
    ];
    expect(schedule(pod("p"), nodes, [])).toEqual({ node: "e" });
    const r = schedule(pod("p"), nodes.slice(0, 4), []);
    expect(r).toMatchObject({ unschedulable: expect.stringContaining("0/4 nodes are available") });
    expect((r as { unschedulable: string }).unschedulable).toContain("2 node(s) were not ready");
  });

  it("fits cpu and memory requests against allocatable minus bound pods", () => {
    const nodes = [node("a", { cpu: "1" }), node("b", { cpu: "1", memory: "1Gi" })];
    const bound = [pod("x", { node: "a", cpu: "800m" })];
    expect(schedule(pod("p", { cpu: "500m" }), nodes, bound)).toEqual({ node: "b" });
    expect(schedule(pod("p", { cpu: "500m", memory: "2Gi" }), nodes, bound)).toMatchObject({
      unschedulable: expect.stringContaining("Insufficient"),
    });
  });

  it("ignores the requests of terminated pods", () => {
    const nodes = [node("a", { cpu: "1" })];
    const bound = [pod("x", { node: "a", cpu: "1", phase: "Succeeded" })];
    expect(schedule(pod("p", { cpu: "1" }), nodes, bound)).toEqual({ node: "a" });
  });

  it("respects the node's pod limit", () => {
    const nodes = [node("a", { pods: 1 })];
    expect(schedule(pod("p"), nodes, [pod("x", { node: "a" })])).toMatchObject({ unschedulable: expect.stringContaining("Too many pods") });
  });

  it("honours nodeSelector", () => {
    const nodes = [node("a"), node("b", { labels: { disk: "ssd" } })];
    expect(schedule(pod("p", { nodeSelector: { disk: "ssd" } }), nodes, [])).toEqual({ node: "b" });
    expect(schedule(pod("p", { nodeSelector: { disk: "hdd" } }), nodes, [])).toMatchObject({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
    });
  });

  it("avoids host-port conflicts", () => {
    const nodes = [node("a"), node("b")];
    const bound = [pod("x", { node: "a", hostPort: 8080 })];
    expect(schedule(pod("p", { hostPort: 8080 }), nodes, bound)).toEqual({ node: "b" });
    expect(schedule(pod("p", { hostPort: 8080 }), nodes, [...bound, pod("y", { node: "b", hostPort: 8080 })])).toMatchObject({
      unschedulable: expect.stringContaining("free ports"),
    });
  });

  it("spreads replicas of one controller before balancing load", () => {
    const nodes = [node("a"), node("b")];
    // b is busier overall, but a already runs a replica of the same RC.
    const bound = [pod("r1", { node: "a", owner: "web" }), pod("o1", { node: "b", cpu: "2" })];
    expect(schedule(pod("r2", { owner: "web" }), nodes, bound)).toEqual({ node: "b" });
    // An unrelated pod goes to the least requested node.
    expect(schedule(pod("z", { cpu: "100m" }), nodes, bound)).toEqual({ node: "a" });
  });

  it("breaks ties by node name", () => {
    expect(schedule(pod("p"), [node("c"), node("a"), node("b")], [])).toEqual({ node: "a" });
  });

  it("reports when there are no nodes", () => {
    expect(schedule(pod("p"), [], [])).toMatchObject({ unschedulable: expect.stringContaining("0/0") });
  });

  it("batch scheduling accounts for its own earlier choices", () => {
    const nodes = [node("a", { cpu: "1" }), node("b", { cpu: "1" })];
    const pods = [pod("p1", { cpu: "600m" }), pod("p2", { cpu: "600m" }), pod("p3", { cpu: "600m" })];
    const r = scheduleBatch(pods, nodes, []).map((x) => nodeOf(x.result));
    expect(r.slice(0, 2).sort()).toEqual(["a", "b"]);
    expect(r[2]).toBeNull();
  });

  // ---------------------------------------------------------------------------------------------
  // Properties over random clusters.

  const arbNode = fc.record({
    ready: fc.constantFrom<boolean | "Unknown">(true, true, true, false, "Unknown"),
    unschedulable: fc.integer({ min: 0, max: 3 }).map((i) => i === 0),
    cpu: fc.integer({ min: 0, max: 4000 }).map((m) => `${m}m`),
    memory: fc.integer({ min: 0, max: 4096 }).map((m) => `${m}Mi`),
    pods: fc.integer({ min: 0, max: 8 }),
    zone: fc.constantFrom("x", "y"),
  });
  const arbPod = fc.record({
    cpu: fc.integer({ min: 0, max: 1500 }).map((m) => `${m}m`),
    memory: fc.integer({ min: 0, max: 1024 }).map((m) => `${m}Mi`),
    hostPort: fc.option(fc.constantFrom(80, 443, 8080), { nil: undefined }),
    owner: fc.option(fc.constantFrom("web", "db"), { nil: undefined }),
    zone: fc.option(fc.constantFrom("x", "y"), { nil: undefined }),
  });
  const arbCluster = fc.record({
    nodes: fc.array(arbNode, { maxLength: 8 }),
    bound: fc.array(fc.tuple(fc.nat(7), arbPod), { maxLength: 12 }),
    pending: fc.array(arbPod, { maxLength: 25 }),
  }).map(({ nodes, bound, pending }) => {
    const ns: Node[] = nodes.map((n, i) => node(`n${i}`, { ...n, unschedulable: n.unschedulable, labels: { zone: n.zone } }));
    const bp: Pod[] = ns.length === 0 ? [] : bound.map(([i, p], j) => pod(`b${j}`, { ...p, node: ns[i % ns.length].metadata.name }));
    const pp: Pod[] = pending.map((p, j) => pod(`p${j}`, { ...p, nodeSelector: p.zone ? { zone: p.zone } : undefined }));
    return { nodes: ns, bound: bp, pending: pp };
  });

  it("property: never places a pod on an unready, unschedulable or mismatched node, nor over capacity", () => {
    fc.assert(
      fc.property(arbCluster, ({ nodes, bound, pending }) => {
        const results = scheduleBatch(pending, nodes, bound);
        const byName = new Map(nodes.map((n) => [n.metadata.name, n]));
        const placed = new Map<string, Pod[]>();
        for (const { pod: p, result } of results) {
          const name = nodeOf(result);
          if (name === null) continue;
          const n = byName.get(name)!;
          expect(nodeIsReady(n)).toBe(true);
          expect(n.spec.unschedulable).toBeFalsy();
          for (const [k, v] of Object.entries(p.spec.nodeSelector ?? {})) expect(n.metadata.labels?.[k]).toBe(v);
          placed.set(name, [...(placed.get(name) ?? []), { ...p, spec: { ...p.spec, nodeName: name } }]);
        }
        for (const [name, newPods] of placed) {
          const n = byName.get(name)!;
          const all = [...bound.filter((b) => b.spec.nodeName === name), ...newPods];
          // A node gets new pods only while everything (bound + new) still fits.
          expect(all.reduce((s, p) => s + podRequests(p).cpu, 0)).toBeLessThanOrEqual(cpuMillis(n.status!.allocatable!.cpu));
          expect(all.reduce((s, p) => s + podRequests(p).memory, 0)).toBeLessThanOrEqual(bytes(n.status!.allocatable!.memory));
          expect(all.length).toBeLessThanOrEqual(Number(n.status!.allocatable!.pods));
          const newPorts = newPods.flatMap(requestedHostPorts);
          expect(new Set(newPorts).size).toBe(newPorts.length);
          const boundPorts = new Set(bound.filter((b) => b.spec.nodeName === name).flatMap(requestedHostPorts));
          for (const p of newPorts) expect(boundPorts.has(p)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: a batch decides exactly as one-by-one scheduling with earlier choices bound", () => {
    fc.assert(
      fc.property(arbCluster, ({ nodes, bound, pending }) => {
        const batch = scheduleBatch(pending, nodes, bound).map((r) => r.result);
        const seq: ScheduleResult[] = [];
        const soFar = [...bound];
        for (const p of pending) {
          const r = schedule(p, nodes, soFar);
          seq.push(r);
          if ("node" in r) soFar.push({ ...p, spec: { ...p.spec, nodeName: r.node } });
        }
        expect(batch).toEqual(seq);
      }),
      { numRuns: 200 },
    );
  });

  it("property: replicas of one controller on identical roomy nodes are spread evenly", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 60 }), (n, replicas) => {
        const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`, { pods: 1000 }));
        const pods = Array.from({ length: replicas }, (_, i) => pod(`p${i}`, { owner: "web", cpu: "10m" }));
        const counts = new Map<string, number>(nodes.map((x) => [x.metadata.name, 0]));
        for (const r of scheduleBatch(pods, nodes, [])) counts.set(nodeOf(r.result)!, counts.get(nodeOf(r.result)!)! + 1);
        const vals = [...counts.values()];
        expect(Math.max(...vals) - Math.min(...vals)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it("places a pod on tainted, cordoned or not-ready nodes only when it tolerates them, and names the taint", () => {
    const tainted: Node = { ...node("t"), spec: { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] } };
    expect(schedule(pod("p"), [tainted], [])).toEqual({ unschedulable: "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}." });
    const tolerant = (tolerations: NonNullable<Pod["spec"]["tolerations"]>) => ({ ...pod("p"), spec: { ...pod("p").spec, tolerations } });
    expect(schedule(tolerant([{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }]), [tainted], [])).toEqual({ node: "t" });
    expect(schedule(tolerant([{ key: "dedicated", operator: "Equal", value: "cpu" }]), [tainted], [])).toMatchObject({ unschedulable: expect.stringContaining("untolerated taint") });
    // Cordoned and not-ready nodes: what a DaemonSet's pods tolerate.
    const cordoned = node("c", { unschedulable: true });
    expect(schedule(pod("p"), [cordoned], [])).toMatchObject({ unschedulable: expect.stringContaining("1 node(s) were unschedulable") });
    expect(schedule(tolerant([{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }]), [cordoned], [])).toEqual({ node: "c" });
    const notReady = node("n", { ready: false });
    expect(schedule(tolerant([{ key: "node.kubernetes.io/unschedulable", operator: "Exists" }]), [notReady], [])).toMatchObject({ unschedulable: expect.stringContaining("were not ready") });
    // A toleration of NoExecute only does not admit a NoSchedule taint.
    expect(schedule(tolerant([{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" }]), [notReady], [])).toMatchObject({ unschedulable: expect.stringContaining("were not ready") });
  });

  it("prefers nodes whose PreferNoSchedule taints the pod tolerates", () => {
    const soft: Node = { ...node("a"), spec: { taints: [{ key: "spot", effect: "PreferNoSchedule" }] } };
    expect(schedule(pod("p"), [soft, node("b")], [])).toEqual({ node: "b" });
    expect(schedule(pod("p"), [soft], [])).toEqual({ node: "a" });
  });

  it("honours required node affinity (labels and metadata.name) and ranks by preferred terms", () => {
    const nodes = [node("a", { labels: { zone: "x" } }), node("b", { labels: { zone: "y" } }), node("c", { labels: { zone: "y", disk: "ssd" } })];
    const withAffinity = (affinity: NonNullable<Pod["spec"]["affinity"]>) => ({ ...pod("p"), spec: { ...pod("p").spec, affinity } });
    const required = (terms: object[]) => withAffinity({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms as never } } });
    expect(schedule(required([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["b"] }] }]), nodes, [])).toEqual({ node: "b" });
    expect(schedule(required([{ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["y"] }] }]), nodes, [])).toEqual({ node: "a" });
    expect(schedule(required([{ matchExpressions: [{ key: "zone", operator: "In", values: ["z"] }] }]), nodes, [])).toEqual({
      unschedulable: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    });
    // Preferred terms outrank spreading and load: c has a pod already and still wins.
    const preferred = withAffinity({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: "disk", operator: "Exists" }] } }] } });
    expect(schedule(preferred, nodes, [pod("x", { node: "c" })])).toEqual({ node: "c" });
  });
});
