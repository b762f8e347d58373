import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  daemonPod, decideDaemonSet, nodeShouldRun, REVISION_LABEL, targetNode, templateHash, type DaemonCommand,
} from "../../../actors/daemonset_decide.ts";
import type { DaemonSet, Node, Pod } from "../../../model/types.ts";
import { iso, node, T0 } from "../../helpers/control_plane_fixtures.ts";

function ds(o: { nodeSelector?: Record<string, string>; tolerations?: Pod["spec"]["tolerations"]; image?: string; strategy?: DaemonSet["spec"]["updateStrategy"]; minReadySeconds?: number } = {}): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "agent", namespace: "default", uid: "ds-uid", generation: 1 },
    spec: {
      selector: { matchLabels: { app: "agent" } },
      template: {
        metadata: { labels: { app: "agent" } },
        spec: { containers: [{ name: "a", image: o.image ?? "berth/busybox:1" }], nodeSelector: o.nodeSelector, tolerations: o.tolerations },
      },
      updateStrategy: o.strategy ?? { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      minReadySeconds: o.minReadySeconds,
    },
  };
}

let seq = 0;
/** A pod of `d` for `nodeName`, bound (or only aimed at it), of the given template. */
function dpod(d: DaemonSet, nodeName: string, o: { ready?: boolean; bound?: boolean; phase?: "Running" | "Failed" | "Pending"; created?: number; deleting?: boolean; readySince?: number } = {}): Pod {
  const p = daemonPod(d, nodeName, templateHash(d));
  const name = `agent-${seq++}`;
  const bound = o.bound ?? true;
  return {
    ...p,
    metadata: { ...p.metadata, name, uid: `uid-${name}`, creationTimestamp: iso(o.created ?? T0), ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { ...p.spec, ...(bound ? { nodeName } : {}) },
    status: {
      phase: o.phase ?? (bound ? "Running" : "Pending"),
      conditions: [{ type: "Ready", status: o.ready ?? bound ? "True" : "False", lastTransitionTime: iso(o.readySince ?? T0) }],
    },
  };
}

const creates = (cmds: DaemonCommand[]) => cmds.flatMap((c) => (c.type === "create" ? c.nodes : []));
const deletes = (cmds: DaemonCommand[], reason?: string) => cmds.flatMap((c) => (c.type === "delete" && (!reason || c.reason === reason) ? c.pods.map((p) => p.metadata.name) : []));
const updates = (d: { update: Pod[] }) => d.update.map((p) => p.metadata.name);
const NOW = T0 + 60_000;

describe("the DaemonSet decision", () => {
  it("makes one pod per node that should run it, aimed at that node, with the daemon tolerations and the revision label", () => {
    const d = ds();
    const nodes = [node("a"), node("b"), node("c", { ready: false })];
    const dec = decideDaemonSet({ ds: d, nodes, pods: [], now: NOW });
    expect(creates(dec.commands)).toEqual(["a", "b"]);
    expect(dec.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 0, numberUnavailable: 2, observedGeneration: 1 });
    const p = daemonPod(d, "a", templateHash(d));
    expect(targetNode(p)).toBe("a");
    expect(p.metadata.labels).toMatchObject({ app: "agent", [REVISION_LABEL]: templateHash(d), "pod-template-generation": "1" });
    expect(p.spec.tolerations?.map((t) => `${t.key}:${t.effect}`)).toContain("node.kubernetes.io/unreachable:NoExecute");
    expect(p.metadata.ownerReferences?.[0]).toMatchObject({ kind: "DaemonSet", uid: "ds-uid", controller: true });
  });

  it("runs on a cordoned node, not on one it does not tolerate; keeps a pod on a new NoSchedule taint, removes it on NoExecute", () => {
    const d = ds();
    expect(nodeShouldRun(d, node("a", { unschedulable: true }))).toEqual({ shouldRun: true, shouldContinueRunning: true });
    const noSchedule: Node = { ...node("b"), spec: { taints: [{ key: "k", effect: "NoSchedule" }] } };
    expect(nodeShouldRun(d, noSchedule)).toEqual({ shouldRun: false, shouldContinueRunning: true });
    const noExecute: Node = { ...node("c"), spec: { taints: [{ key: "k", effect: "NoExecute" }] } };
    expect(nodeShouldRun(d, noExecute)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRun(ds({ tolerations: [{ key: "k", operator: "Exists" }] }), noExecute)).toEqual({ shouldRun: true, shouldContinueRunning: true });
    // A lost node keeps its daemon pod (unreachable is tolerated for NoExecute), but gets no new one.
    expect(nodeShouldRun(d, node("d", { ready: "Unknown" }))).toEqual({ shouldRun: false, shouldContinueRunning: true });

    const pb = dpod(d, "b");
    const pc = dpod(d, "c");
    const dec = decideDaemonSet({ ds: d, nodes: [noSchedule, noExecute], pods: [pb, pc], now: NOW });
    expect(deletes(dec.commands, "misplaced")).toEqual([pc.metadata.name]);
    expect(dec.status).toMatchObject({ desiredNumberScheduled: 0, numberMisscheduled: 2 });
  });

  it("removes pods from nodes whose labels no longer match, and unbound pods aimed at a node that is gone", () => {
    const d = ds({ nodeSelector: { role: "edge" } });
    const a = node("a", { labels: { role: "edge" } });
    const b = node("b");
    const pa = dpod(d, "a");
    const pb = dpod(d, "b");
    const pending = dpod(d, "gone", { bound: false });
    const dec = decideDaemonSet({ ds: d, nodes: [a, b], pods: [pa, pb, pending], now: NOW });
    expect(deletes(dec.commands, "misplaced")).toEqual([pb.metadata.name]);
    expect(deletes(dec.commands, "nodeGone")).toEqual([pending.metadata.name]);
    expect(creates(dec.commands)).toEqual([]);
    expect(dec.status).toMatchObject({ desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, numberAvailable: 1, updatedNumberScheduled: 1, numberMisscheduled: 1 });
  });

  it("deletes a failed pod and waits for it to go before making the next; keeps the oldest of two; waits out a terminating one", () => {
    const d = ds();
    const failed = dpod(d, "a", { phase: "Failed", ready: false });
    const old = dpod(d, "b", { created: T0 });
    const young = dpod(d, "b", { created: T0 + 1000 });
    const terminating = dpod(d, "c", { deleting: true });
    const dec = decideDaemonSet({ ds: d, nodes: [node("a"), node("b"), node("c")], pods: [failed, young, old, terminating], now: NOW });
    expect(deletes(dec.commands, "failed")).toEqual([failed.metadata.name]);
    expect(deletes(dec.commands, "surplus")).toEqual([young.metadata.name]);
    expect(creates(dec.commands)).toEqual([]);
  });

  it("rolls a new template out node by node: pods of the old one down anyway first, then at most maxUnavailable", () => {
    const v1 = ds({ image: "berth/busybox:1" });
    const v2 = ds({ image: "berth/busybox:2" });
    expect(templateHash(v1)).not.toBe(templateHash(v2));
    const nodes = ["a", "b", "c", "d"].map((n) => node(n));
    const pods = [dpod(v1, "a"), dpod(v1, "b", { created: T0 + 1000 }), dpod(v1, "c", { ready: false }), dpod(v1, "d", { created: T0 + 2000 })];
    let dec = decideDaemonSet({ ds: v2, nodes, pods, now: NOW });
    // c is down anyway: replaced without counting; plus one available, the oldest (a).
    expect(updates(dec).sort()).toEqual([pods[2].metadata.name, pods[0].metadata.name].sort());
    expect(deletes(dec.commands)).toEqual([]);
    expect(dec.status).toMatchObject({ updatedNumberScheduled: 0, numberAvailable: 3, numberUnavailable: 1 });
    // A node whose new pod is not available yet uses the budget up.
    dec = decideDaemonSet({ ds: v2, nodes, pods: [dpod(v2, "a", { ready: false }), pods[1], dpod(v2, "c"), pods[3]], now: NOW });
    expect(updates(dec)).toEqual([]);
    // A node with no pod at all (its create pending, or refused) does not, as in Kubernetes; it gets a create.
    dec = decideDaemonSet({ ds: v2, nodes, pods: [dpod(v2, "a"), pods[1], pods[3]], now: NOW });
    expect(creates(dec.commands)).toEqual(["c"]);
    expect(updates(dec)).toEqual([pods[1].metadata.name]);
    // OnDelete: nothing is replaced until deleted.
    const onDelete = ds({ image: "berth/busybox:2", strategy: { type: "OnDelete" } });
    dec = decideDaemonSet({ ds: onDelete, nodes, pods, now: NOW });
    expect(deletes(dec.commands)).toEqual([]);
    expect(updates(dec)).toEqual([]);
  });

  it("counts a pod available only after minReadySeconds, and asks to look again then", () => {
    const d = ds({ minReadySeconds: 30 });
    const dec = decideDaemonSet({ ds: d, nodes: [node("a")], pods: [dpod(d, "a", { readySince: NOW - 10_000 })], now: NOW });
    expect(dec.status).toMatchObject({ numberReady: 1, numberAvailable: 0, numberUnavailable: 1 });
    expect(dec.requeueAfterMs).toBe(20_000);
  });

  it("property: a rolling update never leaves more than maxUnavailable nodes without an available pod, beyond those down already", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ old: fc.boolean(), ready: fc.boolean(), present: fc.boolean() }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 4 }),
        (spec, maxUnavailable) => {
          const v1 = ds({ image: "x:1" });
          const v2 = ds({ image: "x:2", strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable } } });
          const nodes = spec.map((_, i) => node(`n${i}`));
          const pods = spec.flatMap((s, i) => (s.present ? [dpod(s.old ? v1 : v2, `n${i}`, { ready: s.ready })] : []));
          const dec = decideDaemonSet({ ds: v2, nodes, pods, now: NOW });
          const deleted = new Set([...deletes(dec.commands), ...updates(dec)]);
          const downBefore = pods.filter((p) => p.status?.conditions?.[0].status !== "True").length;
          const availableDeleted = pods.filter((p) => deleted.has(p.metadata.name) && p.status?.conditions?.[0].status === "True").length;
          // Available pods are taken down only within the budget left by the nodes already down.
          expect(availableDeleted).toBeLessThanOrEqual(Math.max(0, maxUnavailable - (downBefore - pods.filter((p) => deleted.has(p.metadata.name) && p.status?.conditions?.[0].status !== "True").length)));
          // Only old pods are replaced.
          for (const p of pods) if (deleted.has(p.metadata.name)) expect(p.metadata.labels?.[REVISION_LABEL]).toBe(templateHash(v1));
        },
      ),
    );
  });

  it("adopts orphans its selector matches (a DaemonSet deleted with --cascade=orphan and made again), and counts them", () => {
    const d = ds();
    const old = dpod(d, "a");
    const orphan: Pod = { ...old, metadata: { ...old.metadata, ownerReferences: undefined } };
    const stranger = { ...orphan, metadata: { ...orphan.metadata, name: "other", labels: { app: "else" } } };
    const dec = decideDaemonSet({ ds: d, nodes: [node("a")], pods: [], orphans: [orphan, stranger], now: NOW });
    expect(dec.adopt.map((p) => p.metadata.name)).toEqual([orphan.metadata.name]);
    expect(creates(dec.commands)).toEqual([]);
    expect(dec.status).toMatchObject({ currentNumberScheduled: 1, desiredNumberScheduled: 1 });
  });
});

