/**
 * scheduling.k8s.io/v1 PriorityClass, a pod's priority fields and coordination.k8s.io/v1 Lease at
 * the API's edge: kube-apiserver's ValidatePriorityClass and its Update form (the reserved
 * `system-` names, the user ceiling, immutable value and preemptionPolicy), ValidatePreemptionPolicy
 * in pods and pod templates, ValidateLeaseSpec, the defaults (preemptionPolicy, MicroTime with six
 * digits), the OpenAPI schema strict field validation reads, and quota counts of leases.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { Lease, PriorityClass } from "../../../../model/types.ts";
import { validate } from "../../../../runtime/api/validation.ts";
import { applyDefaults, microTime } from "../../../../runtime/api/defaults.ts";
import { priorityClassUpdateProblems } from "../../../../runtime/api/validation_scheduling.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";
import { countedResource } from "../../../../model/quota.ts";
import { SYSTEM_PRIORITY_CLASSES } from "../../../../model/priority.ts";

const pc = (name: string, extra: Record<string, unknown> = {}) => ({ apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name }, value: 1000, ...extra });
const pod = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "busybox" }], ...spec } });
const lease = (spec: Record<string, unknown>) => ({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "leader", namespace: "default" }, spec });

describe("priority classes - ValidatePriorityClass", () => {
  it("a user class up to 1,000,000,000 (negative values too) with either policy is accepted, and defaulted to PreemptLowerPriority", () => {
    expect(causesOf("priorityclasses", pc("high", { value: 1_000_000_000, globalDefault: true, description: "important" }))).toEqual([]);
    expect(causesOf("priorityclasses", pc("low", { value: -5, preemptionPolicy: "Never" }))).toEqual([]);
    const stored = applyDefaults("priorityclasses", validate("priorityclasses", pc("plain")));
    expect(stored.preemptionPolicy).toBe("PreemptLowerPriority");
    // value is never omitted, as Kubernetes writes it.
    expect(applyDefaults("priorityclasses", validate("priorityclasses", { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "zero" } })).value).toBe(0);
  });

  it("a user class above 1,000,000,000 is Forbidden with kube's words", () => {
    const causes = causesOf("priorityclasses", pc("huge", { value: 1_000_000_001 }));
    expectCause(causes, "value", "FieldValueForbidden", "Forbidden: maximum allowed value of a user defined priority is 1000000000");
    expect(causes).toHaveLength(1);
  });

  it("system- names are reserved: only the two system classes, with exactly their value and globalDefault", () => {
    for (const sys of SYSTEM_PRIORITY_CLASSES) expect(causesOf("priorityclasses", structuredClone(sys))).toEqual([]);
    expectCause(causesOf("priorityclasses", pc("system-mine")), "metadata.name", "FieldValueForbidden",
      "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class");
    expectCause(causesOf("priorityclasses", pc("system-node-critical", { value: 5 })), "metadata.name", "FieldValueForbidden",
      "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: value of system-node-critical PriorityClass must be 2000001000");
    expectCause(causesOf("priorityclasses", pc("system-cluster-critical", { value: 2_000_000_000, globalDefault: true })), "metadata.name", "FieldValueForbidden",
      "Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: globalDefault of system-cluster-critical PriorityClass must be false");
  });

  it("preemptionPolicy is PreemptLowerPriority or Never; an empty one is Required", () => {
    expectCause(causesOf("priorityclasses", pc("x", { preemptionPolicy: "Sometimes" })), "preemptionPolicy", "FieldValueNotSupported",
      'Unsupported value: "Sometimes": supported values: "PreemptLowerPriority", "Never"');
    expectCause(causesOf("priorityclasses", pc("x", { preemptionPolicy: "" })), "preemptionPolicy", "FieldValueRequired", "Required value");
  });

  it("names are DNS subdomains; value is an int32", () => {
    expectCause(causesOf("priorityclasses", pc("High")), "metadata.name", "FieldValueInvalid");
    expectCause(causesOf("priorityclasses", pc("x", { value: 2 ** 31 })), "value", "FieldValueInvalid");
    expectCause(causesOf("priorityclasses", pc("x", { value: "1000" })), "value", "FieldValueInvalid");
  });

  it("on update value and preemptionPolicy may not change (kube's words); description and globalDefault may", () => {
    const current = applyDefaults("priorityclasses", validate("priorityclasses", pc("high"))) as PriorityClass;
    expect(priorityClassUpdateProblems(current, { ...current, description: "now described", globalDefault: true })).toEqual([]);
    expect(priorityClassUpdateProblems(current, { ...current, value: 2000 })).toEqual([
      { reason: "FieldValueForbidden", field: "value", message: "Forbidden: may not be changed in an update." },
    ]);
    expect(priorityClassUpdateProblems(current, { ...current, preemptionPolicy: "Never" })).toEqual([
      { reason: "FieldValueInvalid", field: "preemptionPolicy", message: 'Invalid value: "Never": field is immutable' },
    ]);
  });
});

describe("priority classes - a pod's priority fields", () => {
  it("priorityClassName, priority and preemptionPolicy are part of the pod spec, and of every pod template", () => {
    expect(causesOf("pods", pod({ priorityClassName: "high", priority: 1000, preemptionPolicy: "Never" }))).toEqual([]);
    const deployment = {
      apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" },
      spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { priorityClassName: "high", containers: [{ name: "c", image: "busybox" }] } } },
    };
    expect(validate("deployments", deployment).spec.template.spec.priorityClassName).toBe("high");
    // Strict field validation (kubectl apply) knows them, in a pod and in a template.
    expect(unknownFields("Pod", pod({ priorityClassName: "high", priority: 1, preemptionPolicy: "Never" }))).toEqual([]);
    expect(unknownFields("Deployment", deployment)).toEqual([]);
  });

  it("a class name is a DNS subdomain, a policy one of two, a priority an int32 — in templates too", () => {
    expectCause(causesOf("pods", pod({ priorityClassName: "High_Class" })), "spec.priorityClassName", "FieldValueInvalid", /a lowercase RFC 1123 subdomain/);
    expectCause(causesOf("pods", pod({ preemptionPolicy: "Always" })), "spec.preemptionPolicy", "FieldValueNotSupported", 'Unsupported value: "Always": supported values: "PreemptLowerPriority", "Never"');
    expectCause(causesOf("pods", pod({ priority: 1.5 })), "spec.priority", "FieldValueInvalid");
    const job = {
      apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" },
      spec: { template: { spec: { restartPolicy: "Never", preemptionPolicy: "", containers: [{ name: "c", image: "busybox" }] } } },
    };
    expectCause(causesOf("jobs", job), "spec.template.spec.preemptionPolicy", "FieldValueRequired");
  });
});

describe("leases - ValidateLeaseSpec and MicroTime", () => {
  it("a lease as client-go's leader election writes it is accepted and stored with six fractional digits", () => {
    const spec = { holderIdentity: "op-1_2b3c", leaseDurationSeconds: 15, acquireTime: "2026-12-04T10:00:00.123456Z", renewTime: "2026-12-04T10:00:02.5Z", leaseTransitions: 0 };
    expect(causesOf("leases", lease(spec))).toEqual([]);
    const stored = applyDefaults("leases", validate("leases", lease(spec))) as Lease;
    expect(stored.spec).toEqual({ ...spec, renewTime: "2026-12-04T10:00:02.500000Z" });
  });

  it("a lease without a spec is stored with an empty one, as Kubernetes writes it", () => {
    const bare = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "empty" } };
    expect(applyDefaults("leases", validate("leases", bare)).spec).toEqual({});
  });

  it("MicroTime: UTC, six digits, nothing lost beyond milliseconds, offsets converted", () => {
    expect(microTime("2026-12-04T10:00:00Z")).toBe("2026-12-04T10:00:00.000000Z");
    expect(microTime("2026-12-04T10:00:00.123456789Z")).toBe("2026-12-04T10:00:00.123456Z");
    expect(microTime("2026-12-04T12:00:00.000001+02:00")).toBe("2026-12-04T10:00:00.000001Z");
  });

  it("leaseDurationSeconds > 0 and leaseTransitions ≥ 0, with kube's words", () => {
    const causes = causesOf("leases", lease({ leaseDurationSeconds: 0, leaseTransitions: -1 }));
    expectCause(causes, "spec.leaseDurationSeconds", "FieldValueInvalid", "Invalid value: 0: must be greater than 0");
    expectCause(causes, "spec.leaseTransitions", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    expect(causes).toHaveLength(2);
  });

  it("strategy is OldestEmulationVersion or a qualified name; preferredHolder only with a strategy", () => {
    expect(causesOf("leases", lease({ strategy: "OldestEmulationVersion", preferredHolder: "b" }))).toEqual([]);
    expect(causesOf("leases", lease({ strategy: "example.com/newest" }))).toEqual([]);
    expectCause(causesOf("leases", lease({ strategy: "Newest" })), "spec.strategy", "FieldValueNotSupported", 'Unsupported value: "Newest": supported values: "OldestEmulationVersion"');
    expectCause(causesOf("leases", lease({ preferredHolder: "b" })), "spec.preferredHolder", "FieldValueForbidden", "Forbidden: may only be specified if `strategy` is defined");
  });

  it("times must be RFC 3339; a name is a DNS subdomain", () => {
    expectCause(causesOf("leases", lease({ renewTime: "yesterday" })), "spec.renewTime", "FieldValueInvalid");
    expectCause(causesOf("leases", { ...lease({}), metadata: { name: "Leader" } }), "metadata.name", "FieldValueInvalid");
  });

  it("strict field validation knows a lease's fields; quotas count leases by their group", () => {
    expect(unknownFields("Lease", lease({ holderIdentity: "a", strategy: "OldestEmulationVersion", preferredHolder: "b" }))).toEqual([]);
    expect(unknownFields("Lease", lease({ holder: "a" }))).toEqual(["spec.holder"]);
    expect(unknownFields("PriorityClass", pc("x", { globalDefault: true, description: "d", preemptionPolicy: "Never" }))).toEqual([]);
    expect(countedResource("count/leases.coordination.k8s.io")).toBe("leases");
    // Cluster-scoped: never counted by a namespace's quota.
    expect(countedResource("count/priorityclasses.scheduling.k8s.io")).toBeUndefined();
  });
});
