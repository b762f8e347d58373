import { describe, expect, it } from "vitest";
import {
  effectiveTaints, intolerablePreferNoSchedule, nodeAffinityAdmits, preferredAffinityScore, termMatches, tolerates, untoleratedTaint,
} from "../../../model/scheduling.ts";
import type { Taint } from "../../../model/types.ts";
import { node } from "../../helpers/control_plane_fixtures.ts";

const taint = (key: string, effect: Taint["effect"], value?: string): Taint => ({ key, effect, ...(value !== undefined ? { value } : {}) });

describe("tolerations", () => {
  it("match taints as Kubernetes' ToleratesTaint does", () => {
    const t = taint("dedicated", "NoSchedule", "gpu");
    expect(tolerates({ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }, t)).toBe(true);
    expect(tolerates({ key: "dedicated", value: "gpu" }, t)).toBe(true); // Equal by default, any effect
    expect(tolerates({ key: "dedicated", value: "cpu" }, t)).toBe(false);
    expect(tolerates({ key: "dedicated", operator: "Exists" }, t)).toBe(true);
    expect(tolerates({ key: "dedicated", operator: "Exists", effect: "NoExecute" }, t)).toBe(false);
    expect(tolerates({ operator: "Exists" }, t)).toBe(true); // empty key + Exists: everything
    expect(tolerates({ key: "other", operator: "Exists" }, t)).toBe(false);
    // A taint without a value matches Equal with an empty value.
    expect(tolerates({ key: "k", operator: "Equal", value: "" }, taint("k", "NoExecute"))).toBe(true);
  });

  it("find the first NoSchedule/NoExecute taint not tolerated; PreferNoSchedule only counts for scoring", () => {
    const taints = [taint("a", "PreferNoSchedule"), taint("b", "NoSchedule"), taint("c", "NoExecute")];
    expect(untoleratedTaint(undefined, taints)?.key).toBe("b");
    expect(untoleratedTaint([{ key: "b", operator: "Exists" }], taints)?.key).toBe("c");
    expect(untoleratedTaint([{ key: "b", operator: "Exists" }], taints, ["NoSchedule"])).toBeUndefined();
    expect(untoleratedTaint([{ operator: "Exists" }], taints)).toBeUndefined();
    expect(intolerablePreferNoSchedule(undefined, taints)).toBe(1);
    expect(intolerablePreferNoSchedule([{ key: "a", operator: "Exists", effect: "PreferNoSchedule" }], taints)).toBe(0);
  });

  it("see a node's state as the taints Kubernetes' node lifecycle controller would write", () => {
    expect(effectiveTaints(node("a"))).toEqual([]);
    expect(effectiveTaints(node("a", { ready: false })).map((t) => `${t.key}:${t.effect}`)).toEqual(["node.kubernetes.io/not-ready:NoSchedule"]);
    expect(effectiveTaints(node("a", { ready: "Unknown", unschedulable: true })).map((t) => t.key)).toEqual(["node.kubernetes.io/unreachable", "node.kubernetes.io/unschedulable"]);
    expect(effectiveTaints(node("a", { taint: true })).map((t) => t.key)).toEqual(["k"]);
  });
});

describe("node affinity", () => {
  const labels = { zone: "a", disk: "ssd", cores: "8" };
  it("ANDs a term's requirements and ORs the terms; an empty term matches nothing", () => {
    expect(termMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["a", "b"] }, { key: "disk", operator: "Exists" }] }, "n1", labels)).toBe(true);
    expect(termMatches({ matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }, { key: "gpu", operator: "Exists" }] }, "n1", labels)).toBe(false);
    expect(termMatches({ matchExpressions: [{ key: "zone", operator: "NotIn", values: ["b"] }, { key: "gpu", operator: "DoesNotExist" }] }, "n1", labels)).toBe(true);
    expect(termMatches({ matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }] }, "n1", labels)).toBe(true);
    expect(termMatches({ matchExpressions: [{ key: "cores", operator: "Lt", values: ["4"] }] }, "n1", labels)).toBe(false);
    expect(termMatches({ matchExpressions: [{ key: "zone", operator: "Gt", values: ["1"] }] }, "n1", labels)).toBe(false); // not an integer
    expect(termMatches({}, "n1", labels)).toBe(false);
    expect(termMatches({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }, "n1", labels)).toBe(true);
    expect(termMatches({ matchFields: [{ key: "metadata.name", operator: "NotIn", values: ["n1"] }] }, "n1", labels)).toBe(false);
    const spec = {
      nodeSelector: { disk: "ssd" },
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In" as const, values: ["b"] }] }, { matchFields: [{ key: "metadata.name", operator: "In" as const, values: ["n1"] }] }] } } },
    };
    expect(nodeAffinityAdmits(spec, "n1", labels)).toBe(true);
    expect(nodeAffinityAdmits(spec, "n2", labels)).toBe(false);
    expect(nodeAffinityAdmits({ ...spec, nodeSelector: { disk: "hdd" } }, "n1", labels)).toBe(false);
  });

  it("scores preferred terms by their weights", () => {
    const spec = { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
      { weight: 10, preference: { matchExpressions: [{ key: "zone", operator: "In" as const, values: ["a"] }] } },
      { weight: 5, preference: { matchExpressions: [{ key: "disk", operator: "In" as const, values: ["ssd"] }] } },
    ] } } };
    expect(preferredAffinityScore(spec, "n", labels)).toBe(15);
    expect(preferredAffinityScore(spec, "n", { zone: "b", disk: "ssd" })).toBe(5);
  });
});
