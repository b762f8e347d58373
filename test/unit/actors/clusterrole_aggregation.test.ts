/**
 * The clusterrole-aggregation controller's decision (actors/clusterrole_aggregation.ts): which
 * roles an aggregating ClusterRole picks, in which order, and which roles need a write.
 */
import { describe, expect, it } from "vitest";
import { aggregatedRules, aggregationUpdates, sameRule } from "../../../actors/clusterrole_aggregation.ts";
import type { AggregationRule, ClusterRole, LabelSelectorSpec, PolicyRule } from "../../../model/types.ts";

const role = (name: string, rules: PolicyRule[], labels?: Record<string, string>, aggregationRule?: AggregationRule): ClusterRole => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name, ...(labels ? { labels } : {}) },
  rules,
  ...(aggregationRule ? { aggregationRule } : {}),
});
const selecting = (name: string, ...clusterRoleSelectors: LabelSelectorSpec[]) => role(name, [], undefined, { clusterRoleSelectors });
const read = (resource: string): PolicyRule => ({ verbs: ["get", "list", "watch"], apiGroups: [""], resources: [resource] });
const AGG = { "example.com/aggregate-to-monitoring": "true" };

describe("clusterrole aggregation - aggregatedRules", () => {
  it("a role without an aggregationRule aggregates nothing: its rules are its own", () => {
    const own = role("own", [read("pods")], AGG);
    expect(aggregatedRules(own, [own, role("other", [read("nodes")], AGG)])).toBeUndefined();
  });

  it("collects the rules of the roles whose labels match, and none of the others", () => {
    const agg = selecting("monitoring", { matchLabels: AGG });
    const all = [agg, role("pods-reader", [read("pods")], AGG), role("unlabelled", [read("secrets")]), role("other-value", [read("nodes")], { "example.com/aggregate-to-monitoring": "false" })];
    expect(aggregatedRules(agg, all)).toEqual([read("pods")]);
  });

  it("takes the picked roles in name order (Go's byte order), whatever the order given", () => {
    const agg = selecting("monitoring", { matchLabels: AGG });
    const all = [role("b", [read("b")], AGG), agg, role("Z", [read("Z")], AGG), role("a", [read("a1"), read("a2")], AGG)];
    // Capitals sort before lower case in byte order.
    expect(aggregatedRules(agg, all)).toEqual([read("Z"), read("a1"), read("a2"), read("b")]);
    expect(aggregatedRules(agg, [...all].reverse())).toEqual([read("Z"), read("a1"), read("a2"), read("b")]);
  });

  it("skips a rule equal to one already taken, an absent list being an empty one; keeps rules that differ only in order", () => {
    const agg = selecting("monitoring", { matchLabels: AGG });
    const withEmptyNames: PolicyRule = { ...read("pods"), resourceNames: [] };
    const reordered: PolicyRule = { verbs: ["watch", "list", "get"], apiGroups: [""], resources: ["pods"] };
    const all = [agg, role("a", [read("pods"), read("pods")], AGG), role("b", [withEmptyNames, reordered], AGG)];
    expect(aggregatedRules(agg, all)).toEqual([read("pods"), reordered]);
    expect(sameRule(read("pods"), withEmptyNames)).toBe(true);
    expect(sameRule(read("pods"), reordered)).toBe(false);
  });

  it("never picks itself, even when its own labels match its selector", () => {
    const agg = role("monitoring", [read("stale")], AGG, { clusterRoleSelectors: [{ matchLabels: AGG }] });
    expect(aggregatedRules(agg, [agg, role("a", [read("pods")], AGG)])).toEqual([read("pods")]);
    expect(aggregatedRules(agg, [agg])).toEqual([]);
  });

  it("several selectors: a role picked by any of them, taken once", () => {
    const agg = selecting("monitoring", { matchLabels: { team: "a" } }, { matchLabels: { team: "b" } }, { matchLabels: { tier: "x" } });
    const all = [agg, role("ra", [read("a")], { team: "a" }), role("rb", [read("b")], { team: "b", tier: "x" }), role("rc", [read("c")], { team: "c" })];
    expect(aggregatedRules(agg, all)).toEqual([read("a"), read("b")]);
  });

  it("matchExpressions: In, NotIn, Exists, DoesNotExist, with matchLabels all holding", () => {
    const all = [
      role("prod", [read("prod")], { env: "prod", team: "a" }),
      role("dev", [read("dev")], { env: "dev", team: "a" }),
      role("none", [read("none")], { team: "a" }),
      role("canary", [read("canary")], { env: "prod", team: "a", canary: "yes" }),
    ];
    const pick = (spec: LabelSelectorSpec) => aggregatedRules(selecting("agg", spec), all)?.map((r) => r.resources![0]);
    expect(pick({ matchExpressions: [{ key: "env", operator: "In", values: ["prod"] }] })).toEqual(["canary", "prod"]);
    expect(pick({ matchExpressions: [{ key: "env", operator: "NotIn", values: ["prod"] }] })).toEqual(["dev", "none"]);
    expect(pick({ matchExpressions: [{ key: "env", operator: "Exists" }] })).toEqual(["canary", "dev", "prod"]);
    expect(pick({ matchExpressions: [{ key: "env", operator: "DoesNotExist" }] })).toEqual(["none"]);
    expect(pick({ matchLabels: { team: "a" }, matchExpressions: [{ key: "canary", operator: "DoesNotExist" }, { key: "env", operator: "In", values: ["prod", "dev"] }] })).toEqual(["dev", "prod"]);
  });
});

describe("clusterrole aggregation - aggregationUpdates", () => {
  it("rewrites only the aggregating roles whose rules differ, keeping the rest of the role (its resourceVersion guards the write)", () => {
    const upToDate = { ...selecting("current", { matchLabels: AGG }), rules: [read("pods")] };
    const stale: ClusterRole = { ...selecting("stale", { matchLabels: AGG }), metadata: { name: "stale", resourceVersion: "7", labels: { keep: "me" } } };
    const all = [upToDate, stale, role("pods-reader", [read("pods")], AGG)];
    expect(aggregationUpdates(all)).toEqual([{ ...stale, rules: [read("pods")] }]);
  });

  it("an aggregating role that picks nothing and holds no rules needs no write, whether its rules are [] or absent", () => {
    const { rules: _, ...absent } = selecting("absent", { matchLabels: AGG });
    expect(aggregationUpdates([absent as ClusterRole, selecting("empty", { matchLabels: AGG })])).toEqual([]);
  });

  it("a chain converges over passes: a role labelled into view reaches edit once view holds it", () => {
    const view = { ...selecting("view", { matchLabels: { "to-view": "true" } }), metadata: { name: "view", labels: { "to-edit": "true" } } };
    const edit = selecting("edit", { matchLabels: { "to-edit": "true" } });
    const extra = role("extra", [read("widgets")], { "to-view": "true" });
    const first = aggregationUpdates([edit, view, extra]);
    expect(first.map((r) => [r.metadata.name, r.rules])).toEqual([["view", [read("widgets")]]]);
    const second = aggregationUpdates([edit, first[0], extra]);
    expect(second.map((r) => [r.metadata.name, r.rules])).toEqual([["edit", [read("widgets")]]]);
    expect(aggregationUpdates([second[0], first[0], extra])).toEqual([]);
  });
});
