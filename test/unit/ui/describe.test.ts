import { describe, expect, it } from "vitest";
import type { BudgetView, ControllerView, JobView, PodView } from "../../../runtime/ui/view.ts";
import { budgetRule, controllerFocus, fmtControllerSelector, fmtSpec, focusPicks, jobCompletions, labelFocus, serviceFocus, specFocus } from "../../../ui/src/describe.ts";

const pod = (namespace: string, labels: Record<string, string>): Pick<PodView, "namespace" | "labels"> => ({ namespace, labels });
const budget = (extra: Partial<BudgetView>): BudgetView => ({
  kind: "PodDisruptionBudget", namespace: "default", name: "db", currentHealthy: 0, desiredHealthy: 0, expectedPods: 0, disruptionsAllowed: 0, ...extra,
});
const job = (extra: Partial<JobView>): JobView => ({ kind: "Job", namespace: "default", name: "once", succeeded: 1, active: 1, failed: 0, ...extra });

describe("the page's words and highlights", () => {
  it("a namespaced object's selector highlights pods of its namespace only; a label highlights in every namespace", () => {
    const sts: ControllerView = { kind: "StatefulSet", namespace: "data", name: "db", desired: 2, current: 2, ready: 2, selector: { app: "db" } };
    const f = controllerFocus(sts);
    expect(f.title).toBe("sts db: app=db");
    expect(focusPicks(f, pod("data", { app: "db" }))).toBe(true);
    expect(focusPicks(f, pod("default", { app: "db" }))).toBe(false);
    expect(focusPicks(f, pod("data", { app: "web" }))).toBe(false);
    const s = serviceFocus({ namespace: "data", name: "db", type: "ClusterIP", ports: [], selector: { app: "db" } });
    expect(focusPicks(s, pod("default", { app: "db" }))).toBe(false);
    expect(focusPicks(labelFocus("app", "db"), pod("default", { app: "db" }))).toBe(true);
    expect(focusPicks(labelFocus("app", "db"), pod("data", { app: "db" }))).toBe(true);
  });

  it("a budget without a selector highlights no pod; an empty selector every pod of its namespace", () => {
    const none = specFocus(budget({}));
    expect(none.title).toBe("pdb db: (none)");
    expect(focusPicks(none, pod("default", { app: "db" }))).toBe(false);
    const every = specFocus(budget({ selector: {} }));
    expect(every.title).toBe("pdb db: (every pod)");
    expect(focusPicks(every, pod("default", {}))).toBe(true);
    expect(focusPicks(every, pod("other", {}))).toBe(false);
    const exprs = specFocus(budget({ selector: { matchLabels: { app: "db" }, matchExpressions: [{ key: "role", operator: "NotIn", values: ["replica"] }] } }));
    expect(focusPicks(exprs, pod("default", { app: "db", role: "primary" }))).toBe(true);
    expect(focusPicks(exprs, pod("default", { app: "db", role: "replica" }))).toBe(false);
  });

  it("a Job's generated selector highlights its own pods", () => {
    const f = specFocus(job({ selector: { matchLabels: { "batch.kubernetes.io/controller-uid": "u1" } } }));
    expect(f.title).toBe("job once: batch.kubernetes.io/controller-uid=u1");
    expect(focusPicks(f, pod("default", { "batch.kubernetes.io/controller-uid": "u1", "job-name": "once" }))).toBe(true);
    expect(focusPicks(f, pod("default", { "batch.kubernetes.io/controller-uid": "u2", "job-name": "once" }))).toBe(false);
  });

  it("selectors, budget rules and completions read as kubectl writes them", () => {
    expect(fmtSpec({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["a", "b"] }, { key: "canary", operator: "DoesNotExist" }, { key: "x", operator: "Exists" }] }))
      .toBe("app=web,tier in (a,b),!canary,x");
    // An RC's empty selector picks nothing; so does an absent apps/v1 one.
    expect(fmtControllerSelector({ kind: "ReplicationController", namespace: "default", name: "rc", desired: 1, current: 0, ready: 0, selector: {} })).toBe("(none)");
    expect(fmtSpec(undefined)).toBe("(none)");
    expect(budgetRule(budget({ minAvailable: 2 }))).toBe("min available 2");
    expect(budgetRule(budget({ minAvailable: 0 }))).toBe("min available 0");
    expect(budgetRule(budget({ maxUnavailable: "25%" }))).toBe("max unavailable 25%");
    expect(jobCompletions(job({ completions: 3 }))).toBe("1/3");
    expect(jobCompletions(job({}))).toBe("1");
  });
});
