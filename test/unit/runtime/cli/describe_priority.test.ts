/**
 * `berth describe` of a PriorityClass, a Lease and a pod's priority, against what kubectl 1.32
 * printed for the same objects on Berth (`kubectl describe priorityclass|pod`, run by hand).
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Lease, Pod, PriorityClass } from "../../../../model/types.ts";

const NOW = Date.parse("2026-12-04T10:05:00Z");
const CREATED = "2026-12-04T10:00:00Z";

describe("describe priority - kubectl's describers", () => {
  it("a PriorityClass as kubectl's describer prints it: fields, annotations on one line, events", () => {
    const pc: PriorityClass = {
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "batch", creationTimestamp: CREATED },
      value: 100, description: "batch jobs", preemptionPolicy: "Never",
    };
    expect(describeObject("priorityclasses", pc, [], NOW)).toBe(`Name:              batch
Value:             100
GlobalDefault:     false
PreemptionPolicy:  Never
Description:       batch jobs
Annotations:       <none>
Events:            <none>
`);
    const annotated = { ...pc, globalDefault: true, description: undefined, metadata: { ...pc.metadata, annotations: { team: "data", a: "1" } } };
    expect(describeObject("priorityclasses", annotated, [], NOW)).toContain("GlobalDefault:     true\nPreemptionPolicy:  Never\nDescription:       \nAnnotations:       a=1,team=data\n");
  });

  it("an annotation ending in a newline (kubectl apply's last-applied JSON) ends kubectl's tab-writer run: Events lines up alone", () => {
    const applied: PriorityClass = {
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", value: 1, preemptionPolicy: "PreemptLowerPriority",
      metadata: { name: "high", creationTimestamp: CREATED, annotations: { "kubectl.kubernetes.io/last-applied-configuration": '{"value":1}\n' } },
    };
    expect(describeObject("priorityclasses", applied, [], NOW)).toMatch(/\nAnnotations:       kubectl.kubernetes.io\/last-applied-configuration=\{"value":1\}\n\nEvents:  <none>\n$/);
  });

  it("a pod shows the priority admission gave it, and its class when it has one", () => {
    const pod: Pod = {
      apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", creationTimestamp: CREATED },
      spec: { containers: [{ name: "c", image: "busybox" }], priorityClassName: "high", priority: 1000000, preemptionPolicy: "PreemptLowerPriority" },
    };
    const out = describeObject("pods", pod, [], NOW);
    expect(out).toMatch(/\nPriority:\s+1000000\nPriority Class Name:\s+high\nNode:/);
    const plain = describeObject("pods", { ...pod, spec: { ...pod.spec, priorityClassName: undefined, priority: 0 } }, [], NOW);
    expect(plain).toMatch(/\nPriority:\s+0\nNode:/);
    expect(plain).not.toContain("Priority Class Name");
  });

  it("a Lease: its holder, duration, times and transitions", () => {
    const lease: Lease = {
      apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "my-operator", namespace: "default", creationTimestamp: CREATED },
      spec: { holderIdentity: "op-1", leaseDurationSeconds: 15, acquireTime: "2026-12-04T10:00:00.000000Z", renewTime: "2026-12-04T10:00:05.123456Z", leaseTransitions: 2 },
    };
    const out = describeObject("leases", lease, [], NOW);
    for (const line of [/^Holder Identity:\s+op-1$/m, /^Lease Duration Seconds:\s+15$/m, /^Renew Time:\s+2026-12-04T10:00:05.123456Z$/m, /^Lease Transitions:\s+2$/m]) expect(out).toMatch(line);
  });
});
