import { describe, expect, it } from "vitest";
import { evictionsDue } from "../../../actors/taint_eviction.ts";
import type { Node, Pod, Taint, Toleration } from "../../../model/types.ts";
import { node, pod, T0 } from "../../helpers/control_plane_fixtures.ts";

const tainted = (name: string, taints: Taint[]): Node => ({ ...node(name), spec: { taints } });
const on = (name: string, nodeName: string, tolerations?: Toleration[], o: { phase?: "Succeeded" } = {}): Pod => {
  const p = pod(name, { node: nodeName, phase: o.phase });
  return { ...p, spec: { ...p.spec, tolerations } };
};
const names = (r: ReturnType<typeof evictionsDue>) => r.evict.map((e) => e.pod.metadata.name).sort();

describe("taint eviction", () => {
  const drain: Taint = { key: "drain", value: "now", effect: "NoExecute" };

  it("evicts pods that do not tolerate a node's NoExecute taint, and only those", () => {
    const nodes = [tainted("a", [drain, { key: "soft", effect: "NoSchedule" }]), node("b")];
    const pods = [
      on("plain", "a"),
      on("tolerant", "a", [{ key: "drain", operator: "Exists" }]),
      on("wrong-value", "a", [{ key: "drain", value: "later" }]),
      on("elsewhere", "b"),
      on("finished", "a", undefined, { phase: "Succeeded" }),
    ];
    const r = evictionsDue({ nodes, pods, now: T0, started: new Map() });
    expect(names(r)).toEqual(["plain", "wrong-value"]);
    expect(r.nextAt).toBeUndefined();
    expect(r.started.size).toBe(0);
  });

  it("keeps a pod for the shortest tolerationSeconds in use, its clock started when first seen under the taint", () => {
    const nodes = [tainted("a", [drain, { key: "other", effect: "NoExecute" }])];
    const pods = [
      // Per taint, the first matching toleration counts: 30 s (drain) and 60 s (other).
      on("short", "a", [{ key: "drain", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }, { operator: "Exists", tolerationSeconds: 60 }]),
      // drain is tolerated for ever by its first match; the catch-all's 5 s is never used for it, but is for "other".
      on("first-match", "a", [{ key: "drain", operator: "Exists", effect: "NoExecute" }, { operator: "Exists", tolerationSeconds: 5 }]),
      on("forever", "a", [{ operator: "Exists" }]),
    ];
    let r = evictionsDue({ nodes, pods, now: T0, started: new Map() });
    expect(names(r)).toEqual([]);
    expect(r.nextAt).toBe(T0 + 5_000);
    expect([...r.started.keys()].sort()).toEqual(["uid-first-match", "uid-short"]);
    r = evictionsDue({ nodes, pods, now: T0 + 5_000, started: r.started });
    expect(names(r)).toEqual(["first-match"]);
    expect(r.nextAt).toBe(T0 + 30_000);
    // A pod arriving later gets its full time.
    const late = on("late", "a", [{ operator: "Exists", tolerationSeconds: 30 }]);
    r = evictionsDue({ nodes, pods: [pods[0], late], now: T0 + 20_000, started: r.started });
    expect(r.started.get("uid-late")).toBe(T0 + 20_000);
    r = evictionsDue({ nodes, pods: [pods[0], late], now: T0 + 30_000, started: r.started });
    expect(names(r)).toEqual(["short"]);
    expect(r.nextAt).toBe(T0 + 50_000);
    // tolerationSeconds 0 or less: at once.
    expect(names(evictionsDue({ nodes, pods: [on("zero", "a", [{ operator: "Exists", tolerationSeconds: 0 }])], now: T0, started: new Map() }))).toEqual(["zero"]);
  });
});
