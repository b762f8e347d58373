/**
 * `berth describe pdb`: kubectl's poddisruptionbudget describer — the name and namespace, the one
 * bound the budget has, its selector, the status' counts (allowed disruptions, current, desired,
 * total), then the events about it.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Event, PodDisruptionBudget } from "../../../../model/types.ts";

const now = Date.parse("2026-12-04T10:10:00Z");

function budget(spec: PodDisruptionBudget["spec"], status?: PodDisruptionBudget["status"]): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "default", uid: "b-1", creationTimestamp: "2026-12-04T10:00:00Z", labels: { team: "a" } },
    spec,
    ...(status ? { status } : {}),
  };
}

/** The `Key:` lines of a describe text, in order (indented ones included, without their indent). */
const keys = (text: string) => text.split("\n").filter((l) => /^\s*[A-Z][A-Za-z ]+:/.test(l)).map((l) => l.trim().split(":")[0]);

describe("describe poddisruptionbudget", () => {
  it("kubectl's fields in kubectl's order: Name, Namespace, Min available, Selector, then Status with its four counts, then Events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "web.1", namespace: "default" },
      involvedObject: { kind: "PodDisruptionBudget", name: "web" }, type: "Normal", reason: "NoPods", message: "No matching pods found",
      lastTimestamp: "2026-12-04T10:05:00Z", source: { component: "controllermanager" },
    };
    const text = describeObject("poddisruptionbudgets", budget({ minAvailable: 2, selector: { matchLabels: { app: "web" } } }, { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 }), [ev], now);
    expect(keys(text)).toEqual(["Name", "Namespace", "Min available", "Selector", "Status", "Allowed disruptions", "Current", "Desired", "Total", "Events"]);
    expect(text).toMatch(/^Name:\s+web\nNamespace:\s+default\nMin available:\s+2\nSelector:\s+app=web\nStatus:\n {4}Allowed disruptions:\s+1\n {4}Current:\s+3\n {4}Desired:\s+2\n {4}Total:\s+3\nEvents:\n/);
    // Aligned as kubectl's tab writer aligns each block.
    expect(text).toContain("Min available: 2\nSelector:      app=web\n");
    expect(text).toContain("    Allowed disruptions: 1\n    Current:             3\n");
    expect(text).toMatch(/Normal\s+NoPods\s+5m\s+controllermanager\s+No matching pods found/);
  });

  it("a maxUnavailable budget shows Max unavailable instead; a percentage as written", () => {
    const text = describeObject("poddisruptionbudgets", budget({ maxUnavailable: "50%", selector: { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front", "back"] }] } }), [], now);
    expect(text).toMatch(/^Max unavailable:\s+50%$/m);
    expect(text).not.toMatch(/Min available/);
    expect(text).toMatch(/^Selector:\s+app=web,tier in \(back,front\)$/m);
  });

  it("without a status the counts are 0; without a selector it is <unset>, the empty selector (every pod) <none>; neither bound prints neither line", () => {
    const text = describeObject("poddisruptionbudgets", budget({}), [], now);
    expect(keys(text)).toEqual(["Name", "Namespace", "Selector", "Status", "Allowed disruptions", "Current", "Desired", "Total", "Events"]);
    expect(text).toMatch(/^Selector:\s+<unset>$/m);
    expect(text).toMatch(/^ {4}Allowed disruptions:\s+0\n {4}Current:\s+0\n {4}Desired:\s+0\n {4}Total:\s+0$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
    expect(describeObject("poddisruptionbudgets", budget({ minAvailable: 0, selector: {} }), [], now)).toMatch(/^Min available:\s+0\nSelector:\s+<none>$/m);
  });
});
