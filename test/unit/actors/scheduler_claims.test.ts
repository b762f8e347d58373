import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { schedule, scheduleBatch, type ScheduleResult } from "../../../actors/scheduler_decide.ts";
import { REASON_READ_WRITE_ONCE_POD, REASON_VOLUME_NODE_CONFLICT } from "../../../actors/scheduler_claims.ts";
import { type PersistentVolumeAccessMode, type PersistentVolumeClaim, type Pod, SELECTED_NODE_ANNOTATION } from "../../../model/types.ts";
import { iso, node, pod, T0 } from "../../helpers/control_plane_fixtures.ts";

function claim(name: string, o: { node?: string; deleting?: boolean; modes?: PersistentVolumeAccessMode[]; ns?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: o.ns ?? "default",
      uid: `uid-${name}`,
      resourceVersion: "7",
      ...(o.node ? { annotations: { [SELECTED_NODE_ANNOTATION]: o.node } } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { accessModes: o.modes ?? ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  };
}

/** A pod (fixture) whose volumes name `claims`. */
function user(name: string, claims: string[], o: Parameters<typeof pod>[1] = {}): Pod {
  const p = pod(name, o);
  return { ...p, spec: { ...p.spec, volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) } };
}

const lookupOf = (claims: PersistentVolumeClaim[]) => {
  const m = new Map(claims.map((c) => [`${c.metadata.namespace}/${c.metadata.name}`, c]));
  return (key: string) => m.get(key);
};
const nodes3 = () => [node("a"), node("b"), node("c")];
const nodeOf = (r: ScheduleResult) => ("node" in r ? r.node : null);
const why = (r: ScheduleResult) => ("unschedulable" in r ? r.unschedulable : "");

describe("scheduler - persistent volume claims", () => {
  it("a missing claim, or one being deleted, makes the pod unschedulable with kube-scheduler's words", () => {
    const missing = schedule(user("p", ["data"]), nodes3(), [], lookupOf([]));
    expect(why(missing)).toBe('0/3 nodes are available: persistentvolumeclaim "data" not found.');
    const deleting = schedule(user("p", ["data"]), nodes3(), [], lookupOf([claim("data", { deleting: true })]));
    expect(why(deleting)).toBe('0/3 nodes are available: persistentvolumeclaim "data" is being deleted.');
    // A claim of the same name in another namespace is not the pod's.
    expect(why(schedule(user("p", ["data"]), nodes3(), [], lookupOf([claim("data", { ns: "other" })])))).toContain("not found");
  });

  it("an unplaced claim goes with the pod, to be written before the bind; a placed one restricts the pod to its node", () => {
    const first = schedule(user("p", ["data"]), nodes3(), [], lookupOf([claim("data")]));
    expect(first).toMatchObject({ node: "a", claims: [{ metadata: { name: "data", resourceVersion: "7" } }] });
    const placed = schedule(user("p", ["data"]), nodes3(), [], lookupOf([claim("data", { node: "c" })]));
    expect(placed).toEqual({ node: "c" });
    const full = schedule(user("p", ["data"], { cpu: "2" }), [node("a"), node("b"), node("c", { cpu: "1" })], [], lookupOf([claim("data", { node: "c" })]));
    expect(why(full)).toBe(`0/3 nodes are available: 1 Insufficient cpu, 2 ${REASON_VOLUME_NODE_CONFLICT}.`);
    // Two claims on different nodes: nowhere.
    const split = schedule(user("p", ["x", "y"]), nodes3(), [], lookupOf([claim("x", { node: "a" }), claim("y", { node: "b" })]));
    expect(why(split)).toBe(`0/3 nodes are available: 3 ${REASON_VOLUME_NODE_CONFLICT}.`);
  });

  it("two pods of one unplaced claim in a batch land on one node, and only the first places it", () => {
    // Spreading alone would put the second replica on another node.
    const pods = [user("p1", ["data"], { owner: "web" }), user("p2", ["data"], { owner: "web" })];
    const [r1, r2] = scheduleBatch(pods, nodes3(), [], lookupOf([claim("data")])).map((x) => x.result);
    expect(nodeOf(r1)).toBe("a");
    expect(nodeOf(r2)).toBe("a");
    // Both carry the claim (unwritten yet): the scheduler shares one write, and binds neither if it fails.
    expect(r1).toMatchObject({ claims: [{ metadata: { name: "data" } }] });
    expect(r2).toMatchObject({ claims: [{ metadata: { name: "data" } }] });
  });

  it("a ReadWriteOncePod claim in use by another pod leaves no node; a ReadWriteOnce one is shared", () => {
    const bound = [user("x", ["solo"], { node: "b" })];
    const r = schedule(user("p", ["solo"]), nodes3(), bound, lookupOf([claim("solo", { node: "b", modes: ["ReadWriteOncePod"] })]));
    expect(why(r)).toBe(`0/3 nodes are available: 3 ${REASON_READ_WRITE_ONCE_POD}.`);
    // A finished pod no longer holds it.
    const done = [user("x", ["solo"], { node: "b", phase: "Succeeded" })];
    expect(schedule(user("p", ["solo"]), nodes3(), done, lookupOf([claim("solo", { node: "b", modes: ["ReadWriteOncePod"] })]))).toEqual({ node: "b" });
    // Two pending pods of one ReadWriteOncePod claim: the first only.
    const batch = scheduleBatch([user("p1", ["solo"]), user("p2", ["solo"])], nodes3(), [], lookupOf([claim("solo", { modes: ["ReadWriteOncePod"] })])).map((x) => x.result);
    expect(nodeOf(batch[0])).toBe("a");
    expect(why(batch[1])).toContain(REASON_READ_WRITE_ONCE_POD);
    expect(schedule(user("p", ["rwo"]), nodes3(), [user("x", ["rwo"], { node: "b" })], lookupOf([claim("rwo", { node: "b" })]))).toEqual({ node: "b" });
  });

  it("without a claim lookup, or for pods that name no claim, nothing changes", () => {
    expect(schedule(user("p", ["data"]), nodes3(), [])).toEqual({ node: "a" });
    expect(schedule(pod("p"), nodes3(), [], lookupOf([]))).toEqual({ node: "a" });
  });

  it("property: every pod of a claim ends on one node, the claim's when it has one", () => {
    const arb = fc.record({
      placedOn: fc.array(fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }), { minLength: 3, maxLength: 3 }),
      pods: fc.array(fc.tuple(fc.subarray([0, 1, 2], { minLength: 1 }), fc.constantFrom("10m", "900m", "1500m")), { maxLength: 12 }),
      bound: fc.array(fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom("100m", "2")), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(arb, ({ placedOn, pods, bound }) => {
        const claims = placedOn.map((n, i) => claim(`c${i}`, { node: n }));
        const pending = pods.map(([cs, cpu], i) => user(`p${i}`, cs.map((c) => `c${c}`), { cpu, owner: "set" }));
        const boundPods = bound.map(([n, cpu], i) => pod(`b${i}`, { node: n, cpu }));
        const results = scheduleBatch(pending, [node("a", { cpu: "2" }), node("b", { cpu: "2" }), node("c", { cpu: "2" })], boundPods, lookupOf(claims));
        const claimNode = new Map<string, string>();
        placedOn.forEach((n, i) => n && claimNode.set(`c${i}`, n));
        for (const { pod: p, result } of results) {
          const at = nodeOf(result);
          if (at === null) continue;
          for (const v of p.spec.volumes ?? []) {
            const c = v.persistentVolumeClaim!.claimName;
            const prior = claimNode.get(c);
            if (prior !== undefined) expect(at).toBe(prior);
            claimNode.set(c, at);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
