import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decideNodeLifecycle, isMarkedLost, isReplaceable, lostPodStatus, NODE_UNKNOWN_REASON, replaceablePodStatus } from "../../../actors/node_lifecycle_decide.ts";
import { isActive } from "../../../actors/replication_controller_reconcile.ts";
import type { Pod } from "../../../model/types.ts";
import { T0, node, pod } from "../../helpers/control_plane_fixtures.ts";

const opts = { gracePeriodMs: 5_000, podEvictionTimeoutMs: 10_000 };

describe("node lifecycle decision", () => {
  it("leaves nodes that heartbeat within the grace period alone", () => {
    const cmds = decideNodeLifecycle({ nodes: [node("a", { heartbeat: T0 })], pods: [pod("p", { node: "a" })], now: T0 + 4_000, ...opts });
    expect(cmds).toEqual([]);
  });

  it("marks a silent node Ready=Unknown and its pods lost", () => {
    const cmds = decideNodeLifecycle({
      nodes: [node("a", { heartbeat: T0 }), node("b", { heartbeat: T0 + 6_000 })],
      pods: [pod("p", { node: "a", ready: true }), pod("q", { node: "b", ready: true }), pod("r", { node: "a", phase: "Succeeded" })],
      now: T0 + 6_000,
      ...opts,
    });
    expect(cmds.map((c) => [c.type, c.type === "markNodeUnknown" ? c.node.metadata.name : c.pod.metadata.name])).toEqual([
      ["markNodeUnknown", "a"],
      ["markPodLost", "p"],
    ]);
    const mark = cmds[0] as Extract<(typeof cmds)[0], { type: "markNodeUnknown" }>;
    expect(mark.condition).toMatchObject({ type: "Ready", status: "Unknown", reason: NODE_UNKNOWN_REASON });
  });

  it("a lost pod is Unknown and not Ready, but keeps its container statuses", () => {
    const p = pod("p", { node: "a", ready: true });
    const s = lostPodStatus(p, "a", T0);
    expect(s.phase).toBe("Unknown");
    expect(s.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
    expect(s.containerStatuses).toEqual(p.status?.containerStatuses);
    expect(isMarkedLost({ ...p, status: s })).toBe(true);
  });

  it("does not mark an already lost pod again", () => {
    const p = pod("p", { node: "a" });
    const lost: Pod = { ...p, status: lostPodStatus(p, "a", T0 + 6_000) };
    const cmds = decideNodeLifecycle({ nodes: [node("a", { ready: "Unknown", transition: T0 + 6_000 })], pods: [lost], now: T0 + 7_000, ...opts });
    expect(cmds).toEqual([]);
  });

  it("evicts the pods of a node not Ready for longer than the eviction timeout", () => {
    const nodes = [node("a", { ready: "Unknown", transition: T0 }), node("b", { ready: false, heartbeat: T0 + 10_000, transition: T0 }), node("c", { heartbeat: T0 + 10_000 })];
    const pods = [pod("p", { node: "a" }), pod("q", { node: "b" }), pod("gone", { node: "a", deleting: true }), pod("r", { node: "c" })];
    expect(decideNodeLifecycle({ nodes, pods, now: T0 + 9_999, ...opts }).filter((c) => c.type === "evictPod")).toEqual([]);
    const cmds = decideNodeLifecycle({ nodes, pods, now: T0 + 10_000, ...opts });
    expect(cmds.filter((c) => c.type === "evictPod").map((c) => (c as { pod: Pod }).pod.metadata.name)).toEqual(["p", "q"]);
  });

  it("a pod's own toleration of the node's NoExecute taint sets how long it is kept: unreachable (Unknown) and not-ready (False) apart; none for ever; 0 at once; the first matching toleration counts", () => {
    const nodes = [node("a", { ready: "Unknown", transition: T0 }), node("b", { ready: false, heartbeat: T0 + 60_000, transition: T0 }), node("c", { heartbeat: T0 + 60_000 })];
    const tolerating = (name: string, on: string, tolerations: NonNullable<Pod["spec"]["tolerations"]>): Pod => {
      const p = pod(name, { node: on });
      return { ...p, spec: { ...p.spec, tolerations } };
    };
    const pods = [
      tolerating("fast", "a", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 }]),
      // A toleration of the other taint does not count on an unreachable node.
      tolerating("wrong-taint", "a", [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 }]),
      tolerating("forever", "a", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" }]),
      tolerating("now", "a", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 0 }]),
      // A wildcard (no key, Exists) tolerates every taint; the first match counts (30 s, not 1 s).
      tolerating("everything", "a", [{ operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }, { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 1 }]),
      // A NoSchedule toleration of the same key does not tolerate the NoExecute taint.
      tolerating("noschedule", "a", [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoSchedule" }]),
      tolerating("not-ready", "b", [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 3 }]),
    ];
    const evicted = (now: number) => decideNodeLifecycle({ nodes, pods, now, ...opts }).filter((c) => c.type === "evictPod").map((c) => (c as { pod: Pod }).pod.metadata.name).sort();
    expect(evicted(T0)).toEqual(["now"]);
    expect(evicted(T0 + 1_999)).toEqual(["now"]);
    expect(evicted(T0 + 2_000)).toEqual(["fast", "now"]);
    expect(evicted(T0 + 3_000)).toEqual(["fast", "not-ready", "now"]);
    // The Berth default (podEvictionTimeoutMs) for the pods with no toleration of the taint.
    expect(evicted(T0 + 10_000)).toEqual(["fast", "noschedule", "not-ready", "now", "wrong-taint"]);
    expect(evicted(T0 + 30_000)).toEqual(["everything", "fast", "noschedule", "not-ready", "now", "wrong-taint"]);
    // The pod that tolerates the taint for ever is only marked lost, never given up.
    const later = decideNodeLifecycle({ nodes, pods, now: T0 + 3_600_000, ...opts });
    expect(later.find((c) => c.type === "evictPod" && c.pod.metadata.name === "forever")).toBeUndefined();
    expect(later.find((c) => c.type === "markPodLost" && c.pod.metadata.name === "forever")).toBeDefined();
  });

  it("full disruption: with every node unhealthy, pods are marked lost but none is given up", () => {
    const nodes = [node("a", { heartbeat: T0 }), node("b", { ready: "Unknown", transition: T0 })];
    const pods = [pod("p", { node: "a", ready: true }), pod("q", { node: "b", ready: true })];
    const cmds = decideNodeLifecycle({ nodes, pods, now: T0 + 60_000, ...opts });
    expect(cmds.filter((c) => c.type === "evictPod")).toEqual([]);
    expect(cmds.filter((c) => c.type === "markPodLost").map((c) => (c as { pod: Pod }).pod.metadata.name)).toEqual(["p", "q"]);
    // One node back: the other's pods are given up as usual.
    const back = [node("a", { heartbeat: T0 + 60_000 }), nodes[1]];
    expect(decideNodeLifecycle({ nodes: back, pods, now: T0 + 60_000, ...opts }).filter((c) => c.type === "evictPod").map((c) => (c as { pod: Pod }).pod.metadata.name)).toEqual(["q"]);
  });

  it("property: only pods on unhealthy nodes are touched, and never terminated or deleting ones", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ hb: fc.integer({ min: 0, max: 30_000 }), st: fc.constantFrom<boolean | "Unknown">(true, false, "Unknown") }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.record({ n: fc.nat(4), phase: fc.constantFrom("Running" as const, "Failed" as const, "Pending" as const), del: fc.boolean() }), { maxLength: 15 }),
        fc.integer({ min: 0, max: 40_000 }),
        (ns, ps, now) => {
          const nodes = ns.map((n, i) => node(`n${i}`, { ready: n.st, heartbeat: T0 + n.hb, transition: T0 + n.hb }));
          const pods = ps.map((p, i) => pod(`p${i}`, { node: `n${p.n % ns.length}`, phase: p.phase, deleting: p.del }));
          for (const c of decideNodeLifecycle({ nodes, pods, now: T0 + now, ...opts })) {
            if (c.type === "markNodeUnknown") {
              expect(now - ns[Number(c.node.metadata.name.slice(1))].hb).toBeGreaterThan(opts.gracePeriodMs);
              continue;
            }
            const n = ns[Number(c.node.slice(1))];
            const healthyNow = n.st === true && now - n.hb <= opts.gracePeriodMs;
            expect(healthyNow).toBe(false);
            expect(c.pod.metadata.deletionTimestamp).toBeUndefined();
            expect(c.pod.status?.phase).not.toBe("Failed");
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("node lifecycle - a pod given up for lost stops counting for its RC, is not given up twice, and counts again once reported running", () => {
    const p = pod("p", { node: "n0", phase: "Running" });
    expect(isActive(p)).toBe(true);
    const lostOnly = { ...p, status: lostPodStatus(p, "n0", T0) };
    // Lost but not yet past the eviction timeout: still counted (Kubernetes counts Unknown pods).
    expect(isActive(lostOnly)).toBe(true);
    const givenUp = { ...p, status: replaceablePodStatus(lostOnly, "n0", T0 + 10_000) };
    expect(isReplaceable(givenUp)).toBe(true);
    expect(isActive(givenUp)).toBe(false);
    expect(givenUp.metadata.deletionTimestamp).toBeUndefined();
    const nodes = [node("n0", { ready: "Unknown", heartbeat: T0, transition: T0 })];
    expect(decideNodeLifecycle({ nodes, pods: [givenUp], now: T0 + 60_000, ...opts })).toEqual([]);
    // The node agent comes back and reports what it sees: the pod counts again.
    const back = { ...givenUp, status: { phase: "Running" as const, conditions: [{ type: "Ready", status: "True" as const }] } };
    expect(isReplaceable(back)).toBe(false);
    expect(isActive(back)).toBe(true);
  });
});
