/**
 * kube-apiserver's Priority admission plugin as pure decisions: a new pod's priority from its
 * class, the global default class or 0; kube's refusals (a missing class, a priority or policy
 * the pod sets itself that differs from its class's); what an update keeps; one global default;
 * the system classes that may not be deleted; and the scheduler's reading of a pod's priority.
 */
import { describe, expect, it } from "vitest";
import { decidePodPriority, globalDefaultProblem, keepPodPriority, systemClassDeleteError } from "../../../../runtime/api/priority_admission.ts";
import { defaultPriorityClass, podPriority, SYSTEM_PRIORITY_CLASSES } from "../../../../model/priority.ts";
import type { Pod, PriorityClass } from "../../../../model/types.ts";

const cls = (name: string, value: number, extra: Partial<PriorityClass> = {}): PriorityClass => ({
  apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value, preemptionPolicy: "PreemptLowerPriority", ...extra,
});
const pod = (spec: Partial<Pod["spec"]> = {}): Pod => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } });

describe("priority admission - a new pod", () => {
  it("a named class gives its value and policy", () => {
    expect(decidePodPriority({ priorityClassName: "high" }, cls("high", 1000, { preemptionPolicy: "Never" }), undefined)).toEqual({
      type: "admit", fields: { priorityClassName: "high", priority: 1000, preemptionPolicy: "Never" },
    });
  });

  it("a class that does not exist is refused with kube's message", () => {
    expect(decidePodPriority({ priorityClassName: "foo" }, undefined, cls("d", 5, { globalDefault: true }))).toEqual({ type: "forbid", message: "no PriorityClass with name foo was found" });
  });

  it("without a class: the global default's name, value and policy; without a default, 0 and PreemptLowerPriority and no name", () => {
    expect(decidePodPriority({}, undefined, cls("everyday", 10, { globalDefault: true }))).toEqual({
      type: "admit", fields: { priorityClassName: "everyday", priority: 10, preemptionPolicy: "PreemptLowerPriority" },
    });
    expect(decidePodPriority({}, undefined, undefined)).toEqual({ type: "admit", fields: { priority: 0, preemptionPolicy: "PreemptLowerPriority" } });
  });

  it("a priority the pod sets itself must be the class's (kube's words); the same value passes", () => {
    expect(decidePodPriority({ priorityClassName: "high", priority: 7 }, cls("high", 1000), undefined)).toEqual({
      type: "forbid", message: "the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name",
    });
    expect(decidePodPriority({ priority: 3 }, undefined, undefined)).toEqual({
      type: "forbid", message: "the integer value of priority (3) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name",
    });
    // A copy of an admitted pod (kubectl get -o yaml | kubectl create -f -) passes.
    expect(decidePodPriority({ priorityClassName: "high", priority: 1000, preemptionPolicy: "PreemptLowerPriority" }, cls("high", 1000), undefined).type).toBe("admit");
  });

  it("a preemption policy the pod sets itself must be the class's", () => {
    expect(decidePodPriority({ preemptionPolicy: "Never" }, undefined, undefined)).toEqual({
      type: "forbid", message: "the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name",
    });
  });

  it("of two default classes (a race between API copies) the lower value is taken, as kube does", () => {
    expect(defaultPriorityClass([cls("a", 50, { globalDefault: true }), cls("b", 20, { globalDefault: true }), cls("c", 1)])?.metadata.name).toBe("b");
    expect(defaultPriorityClass([cls("c", 1), ...SYSTEM_PRIORITY_CLASSES])).toBeUndefined();
  });
});

describe("priority admission - updates, classes and deletes", () => {
  it("an update that leaves out priority and preemptionPolicy keeps them; one that gives them is left to validation", () => {
    const current = pod({ priority: 1000, preemptionPolicy: "Never", priorityClassName: "high" });
    const { priority: _p, preemptionPolicy: _pp, ...rest } = current.spec;
    expect(keepPodPriority(current, { ...current, spec: rest }).spec).toEqual(current.spec);
    const changed = { ...current, spec: { ...current.spec, priority: 5 } };
    expect(keepPodPriority(current, changed)).toBe(changed);
  });

  it("a second global default is refused, naming the first; the default itself may be updated", () => {
    const existing = [cls("everyday", 10, { globalDefault: true }), cls("high", 1000)];
    expect(globalDefaultProblem(cls("other", 5, { globalDefault: true }), "create", existing)).toBe("PriorityClass everyday is already marked as default. Only one default can exist");
    expect(globalDefaultProblem(cls("high", 1000, { globalDefault: true }), "update", existing)).toBe("PriorityClass everyday is already marked as default. Only one default can exist");
    expect(globalDefaultProblem(cls("everyday", 10, { globalDefault: true, description: "d" }), "update", existing)).toBeUndefined();
    expect(globalDefaultProblem(cls("other", 5), "create", existing)).toBeUndefined();
  });

  it("the system classes may not be deleted (403, kube's words); others may", () => {
    const err = systemClassDeleteError("system-node-critical");
    expect(err?.code).toBe(403);
    expect(err?.message).toBe('priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted');
    expect(systemClassDeleteError("high")).toBeUndefined();
  });

  it("the scheduler reads spec.priority, 0 for a pod stored before admission set it", () => {
    expect(podPriority(pod({ priority: 2_000_000_000 }))).toBe(2_000_000_000);
    expect(podPriority(pod())).toBe(0);
  });
});
