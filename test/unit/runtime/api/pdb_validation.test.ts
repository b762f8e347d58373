/**
 * policy/v1 PodDisruptionBudgets at the API's edge: kube-apiserver's ValidatePodDisruptionBudgetSpec
 * (its field paths, cause reasons and words), the status the disruption controller and the
 * eviction subresource write (ValidatePodDisruptionBudgetStatusUpdate and metav1 conditions), no
 * defaults in policy/v1, and what the rest of the API knows of the kind: field selectors, quota
 * object counts, strict field validation's schema.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { PodDisruptionBudget } from "../../../../model/types.ts";
import { validate, validateStatus } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { countedResource, isQuotaName, quotaNames, resourcesFor, usageOf } from "../../../../model/quota.ts";
import { FIELD_LABELS, matchesFields, parseFieldSelector } from "../../../../model/selector.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";

/** The causes a check reports, or [] when it accepts the object. */


/** A budget; `null` for one without a spec. */
const pdb = (spec: Record<string, unknown> | null = { minAvailable: 2, selector: { matchLabels: { app: "web" } } }, extra: Record<string, unknown> = {}) => ({
  apiVersion: "policy/v1",
  kind: "PodDisruptionBudget",
  metadata: { name: "web", namespace: "default" },
  ...(spec === null ? {} : { spec }),
  ...extra,
});

const PERCENT = "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')";

describe("poddisruptionbudgets - spec validation (ValidatePodDisruptionBudgetSpec)", () => {
  it("a count or a percentage from 0 to 100% of either bound is accepted, as is a budget with neither, no selector, or the empty one", () => {
    for (const spec of [
      { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
      { minAvailable: 0 },
      { minAvailable: "0%" },
      { minAvailable: "100%" },
      { maxUnavailable: 1, selector: { matchExpressions: [{ key: "app", operator: "In", values: ["web", "api"] }] } },
      { maxUnavailable: "50%", selector: {} },
      { maxUnavailable: "100%", unhealthyPodEvictionPolicy: "AlwaysAllow" },
      { selector: { matchLabels: { app: "web" } }, unhealthyPodEvictionPolicy: "IfHealthyBudget" },
      {},
    ]) {
      expect(causesOf("poddisruptionbudgets", pdb(spec)), JSON.stringify(spec)).toEqual([]);
    }
  });

  it("a negative count is refused: must be greater than or equal to 0", () => {
    const causes = causesOf("poddisruptionbudgets", pdb({ minAvailable: -1 }));
    expectCause(causes, "spec.minAvailable", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    expectCause(causesOf("poddisruptionbudgets", pdb({ maxUnavailable: -3 })), "spec.maxUnavailable", "FieldValueInvalid", "Invalid value: -3: must be greater than or equal to 0");
  });

  it("a string that is not digits followed by '%' is refused with kube-apiserver's percent message (a count in quotes included)", () => {
    for (const v of ["abc", "2", "50", "%", "-5%", "5.5%", "50 %", ""]) {
      expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: v })), "spec.minAvailable", "FieldValueInvalid", `Invalid value: ${JSON.stringify(v)}: ${PERCENT}`);
      expectCause(causesOf("poddisruptionbudgets", pdb({ maxUnavailable: v })), "spec.maxUnavailable", "FieldValueInvalid", `Invalid value: ${JSON.stringify(v)}: ${PERCENT}`);
    }
  });

  it("a percentage above 100% is refused: must not be greater than 100%", () => {
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: "101%" })), "spec.minAvailable", "FieldValueInvalid", 'Invalid value: "101%": must not be greater than 100%');
    expectCause(causesOf("poddisruptionbudgets", pdb({ maxUnavailable: "250%" })), "spec.maxUnavailable", "FieldValueInvalid", 'Invalid value: "250%": must not be greater than 100%');
    // A count has no such bound (a budget may ask for more pods than exist: it then allows no disruption).
    expect(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1000 }))).toEqual([]);
  });

  it("a value that is neither a number nor a string is refused", () => {
    for (const v of [true, [1], { n: 1 }]) {
      expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: v })), "spec.minAvailable", "FieldValueInvalid", /must be an integer or a percentage/);
    }
  });

  it("both bounds set is refused at spec: minAvailable and maxUnavailable cannot be both set (also when each is valid alone)", () => {
    const spec = { minAvailable: 2, maxUnavailable: "50%", selector: { matchLabels: { app: "web" } } };
    const causes = causesOf("poddisruptionbudgets", pdb(spec));
    expect(causes).toHaveLength(1);
    expect(causes[0]).toEqual({ reason: "FieldValueInvalid", field: "spec", message: `Invalid value: ${JSON.stringify(spec)}: minAvailable and maxUnavailable cannot be both set` });
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 0, maxUnavailable: 0 })), "spec", "FieldValueInvalid", /minAvailable and maxUnavailable cannot be both set$/);
    // Every problem is reported at once.
    const all = causesOf("poddisruptionbudgets", pdb({ minAvailable: "200%", maxUnavailable: -1 }));
    expect(all.map((c) => c.field).sort()).toEqual(["spec", "spec.maxUnavailable", "spec.minAvailable"]);
  });

  it("null counts as unset, as Kubernetes' JSON decoding reads it", () => {
    expect(causesOf("poddisruptionbudgets", pdb({ minAvailable: 2, maxUnavailable: null }))).toEqual([]);
  });

  it("unhealthyPodEvictionPolicy is IfHealthyBudget or AlwaysAllow: anything else is an Unsupported value listing both", () => {
    for (const v of ["Never", "alwaysallow", ""]) {
      expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, unhealthyPodEvictionPolicy: v })), "spec.unhealthyPodEvictionPolicy", "FieldValueNotSupported",
        `Unsupported value: ${JSON.stringify(v)}: supported values: "AlwaysAllow", "IfHealthyBudget"`);
    }
  });

  it("the selector is checked as other label selectors are: label keys and values, operators", () => {
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, selector: { matchLabels: { "bad key!": "x" } } })), "spec.selector.matchLabels", "FieldValueInvalid");
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, selector: { matchLabels: { app: "not a value" } } })), "spec.selector.matchLabels", "FieldValueInvalid");
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, selector: { matchExpressions: [{ key: "app", operator: "Near", values: ["web"] }] } })), "spec.selector.matchExpressions[0].operator", "FieldValueNotSupported");
    expectCause(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, selector: { matchExpressions: [{ key: "", operator: "Exists" }] } })), "spec.selector.matchExpressions[0].key", "FieldValueRequired");
  });

  it("the name is a DNS subdomain, the apiVersion policy/v1; a manifest without a spec is the empty budget", () => {
    expectCause(causesOf("poddisruptionbudgets", { ...pdb(), metadata: { name: "Web_1" } }), "metadata.name", "FieldValueInvalid");
    expectCause(causesOf("poddisruptionbudgets", { ...pdb(), apiVersion: "policy/v1beta1" }), "apiVersion", "FieldValueNotSupported");
    const empty = validate("poddisruptionbudgets", pdb(null));
    expect(empty.spec).toEqual({});
    expect(empty.apiVersion).toBe("policy/v1");
  });

  it("policy/v1 has no defaults: neither bound nor the eviction policy is filled in (unset means IfHealthyBudget)", () => {
    const b = validate("poddisruptionbudgets", pdb({ selector: { matchLabels: { app: "web" } } }));
    expect(applyDefaults("poddisruptionbudgets", b).spec).toEqual({ selector: { matchLabels: { app: "web" } } });
    const min = validate("poddisruptionbudgets", pdb({ maxUnavailable: "50%" }));
    expect(applyDefaults("poddisruptionbudgets", min).spec).toEqual({ maxUnavailable: "50%" });
  });
});

describe("poddisruptionbudgets - status (ValidatePodDisruptionBudgetStatusUpdate)", () => {
  const status = (extra: Record<string, unknown> = {}) => ({
    observedGeneration: 2,
    disruptionsAllowed: 1,
    currentHealthy: 3,
    desiredHealthy: 2,
    expectedPods: 3,
    disruptedPods: { "web-0": "2026-12-04T10:00:00Z" },
    conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 2, lastTransitionTime: "2026-12-04T10:00:00.123Z" }],
    ...extra,
  });

  it("what the disruption controller writes is accepted, by a status write and by a whole-object write alike", () => {
    expect(causesOf("poddisruptionbudgets", pdb(undefined, { status: status() }), validateStatus)).toEqual([]);
    expect(causesOf("poddisruptionbudgets", pdb(undefined, { status: status() }))).toEqual([]);
  });

  it("a status write does not judge the spec it carries (the stored one is kept)", () => {
    expect(causesOf("poddisruptionbudgets", pdb({ minAvailable: 1, maxUnavailable: 1 }, { status: status() }), validateStatus)).toEqual([]);
  });

  it("the counts are non-negative", () => {
    for (const f of ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods", "observedGeneration"]) {
      expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status({ [f]: -1 }) }), validateStatus), `status.${f}`, "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    }
  });

  it("disruptedPods maps pod names to times", () => {
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status({ disruptedPods: { "web-0": "yesterday" } }) }), validateStatus), "status.disruptedPods[web-0]", "FieldValueInvalid", /RFC 3339/);
  });

  it("conditions are metav1 Conditions: a reason and a transition time are required, a reason has its format, a type appears once", () => {
    const cond = (c: Record<string, unknown>) => ({ conditions: [{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", lastTransitionTime: "2026-12-04T10:00:00Z", ...c }] });
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ reason: undefined })) }), validateStatus), "status.conditions[0].reason", "FieldValueRequired");
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ reason: "" })) }), validateStatus), "status.conditions[0].reason", "FieldValueRequired", "Required value: must be set");
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ reason: "not ok" })) }), validateStatus), "status.conditions[0].reason", "FieldValueInvalid", /a condition reason must start with alphabetic character/);
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ lastTransitionTime: undefined })) }), validateStatus), "status.conditions[0].lastTransitionTime", "FieldValueRequired");
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ status: "Maybe" })) }), validateStatus), "status.conditions[0].status", "FieldValueNotSupported");
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(cond({ observedGeneration: -1 })) }), validateStatus), "status.conditions[0].observedGeneration", "FieldValueInvalid");
    const twice = { conditions: [...status().conditions, { ...status().conditions[0], status: "False", reason: "InsufficientPods" }] };
    expectCause(causesOf("poddisruptionbudgets", pdb(undefined, { status: status(twice) }), validateStatus), "status.conditions[1].type", "FieldValueDuplicate", 'Duplicate value: "DisruptionAllowed"');
  });
});

describe("poddisruptionbudgets - the rest of the API", () => {
  const stored = (): PodDisruptionBudget => ({ ...validate("poddisruptionbudgets", pdb()), metadata: { name: "web", namespace: "prod" } });

  it("field selectors: metadata.name and metadata.namespace, as for the other namespaced kinds", () => {
    expect(FIELD_LABELS.poddisruptionbudgets).toEqual(["metadata.name", "metadata.namespace"]);
    expect(matchesFields(parseFieldSelector("metadata.name=web", "poddisruptionbudgets"), stored())).toBe(true);
    expect(matchesFields(parseFieldSelector("metadata.namespace!=prod", "poddisruptionbudgets"), stored())).toBe(false);
    expect(() => parseFieldSelector("spec.minAvailable=2", "poddisruptionbudgets")).toThrow(/spec\.minAvailable/);
  });

  it("quota: count/poddisruptionbudgets.policy (or bare) counts budgets, one each", () => {
    expect(countedResource("count/poddisruptionbudgets.policy")).toBe("poddisruptionbudgets");
    expect(countedResource("count/poddisruptionbudgets")).toBe("poddisruptionbudgets");
    expect(countedResource("count/poddisruptionbudgets.apps")).toBeUndefined();
    expect(isQuotaName("count/poddisruptionbudgets.policy")).toBe(true);
    expect(quotaNames()).toContain("count/poddisruptionbudgets");
    expect(resourcesFor(["count/poddisruptionbudgets.policy"])).toEqual(["poddisruptionbudgets"]);
    expect(usageOf("poddisruptionbudgets", stored(), ["count/poddisruptionbudgets.policy", "pods"])).toEqual({ "count/poddisruptionbudgets.policy": 1, pods: 0 });
  });

  it("strict field validation knows every field of the kind, and names a typo", () => {
    const full = pdb({ maxUnavailable: "50%", selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "Exists" }] }, unhealthyPodEvictionPolicy: "AlwaysAllow" }, {
      status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptedPods: { a: "2026-12-04T10:00:00Z" }, conditions: [{ type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "", observedGeneration: 1, lastTransitionTime: "2026-12-04T10:00:00Z" }] },
    });
    expect(unknownFields("PodDisruptionBudget", full)).toEqual([]);
    expect(unknownFields("PodDisruptionBudget", pdb({ minAvailible: 2 }))).toEqual(["spec.minAvailible"]);
  });
});
