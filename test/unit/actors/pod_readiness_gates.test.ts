/**
 * Readiness gates and conditions the kubelet does not own (actors/pod_status.ts), against
 * kube's GeneratePodReadyCondition and the status manager's merge.
 */
import { describe, expect, it } from "vitest";
import type { Condition, Pod, PodStatus } from "../../../model/types.ts";
import { computePodStatus, gateConditionsChanged, withForeignConditions } from "../../../actors/pod_status.ts";
import type { ContainerRecord } from "../../../actors/pod_backoff.ts";

const NOW = "2026-12-05T02:00:00Z";
const pod = (conditions: Condition[] = [], gates = ["example.com/lb-ready", "example.com/warm"]): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "u1" },
  spec: { nodeName: "n1", readinessGates: gates.map((conditionType) => ({ conditionType })), containers: [{ name: "c", image: "i" }] },
  status: { phase: "Running", conditions },
});
const running = (ready = true): ContainerRecord[] => [{ name: "c", id: "abc", restartCount: 0, started: true, ready, state: { kind: "running", startedAt: NOW } } as ContainerRecord];
const statusOf = (p: Pod, ready = true) => computePodStatus({ pod: p, records: running(ready), podIP: "10.0.0.2", hostIP: "127.0.0.1", sandboxReady: true, terminating: false, now: NOW });
const cond = (s: PodStatus, type: string) => s.conditions?.find((c) => c.type === type);
const gate = (type: string, status: "True" | "False"): Condition => ({ type, status, lastTransitionTime: NOW });

describe("readiness gates", () => {
  it("keep the pod from Ready while a gate's condition is missing or not True, with kube's reason and messages", () => {
    const missing = statusOf(pod());
    expect(cond(missing, "ContainersReady")?.status).toBe("True");
    expect(cond(missing, "Ready")).toMatchObject({
      status: "False",
      reason: "ReadinessGatesNotReady",
      message: 'corresponding condition of pod readiness gate "example.com/lb-ready" does not exist., corresponding condition of pod readiness gate "example.com/warm" does not exist.',
    });
    const oneFalse = statusOf(pod([gate("example.com/lb-ready", "True"), gate("example.com/warm", "False")]));
    expect(cond(oneFalse, "Ready")).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady", message: 'the status of pod readiness gate "example.com/warm" is not "True", but False' });
    const all = statusOf(pod([gate("example.com/lb-ready", "True"), gate("example.com/warm", "True")]));
    expect(cond(all, "Ready")).toEqual({ type: "Ready", status: "True", lastTransitionTime: NOW });
    // The gates' conditions are the gate owner's: carried in the status the kubelet reports.
    expect(all.conditions?.map((c) => c.type)).toEqual(["Initialized", "Ready", "ContainersReady", "PodScheduled", "example.com/lb-ready", "example.com/warm"]);
  });

  it("say nothing while the containers are not ready (ContainersNotReady comes first)", () => {
    expect(cond(statusOf(pod(), false), "Ready")).toEqual({ type: "Ready", status: "False", reason: "ContainersNotReady", lastTransitionTime: NOW });
  });

  it("a change of a gate's condition is noticed, other status changes are not", () => {
    const p = pod();
    expect(gateConditionsChanged(p, { conditions: [gate("example.com/warm", "False")] }, { conditions: [gate("example.com/warm", "True")] })).toBe(true);
    expect(gateConditionsChanged(p, {}, { conditions: [gate("example.com/warm", "False")] })).toBe(true);
    expect(gateConditionsChanged(p, { phase: "Pending" }, { phase: "Running", conditions: [gate("Ready", "True")] })).toBe(false);
    expect(gateConditionsChanged(pod([], []), {}, { conditions: [gate("example.com/warm", "True")] })).toBe(false);
  });
});

describe("conditions the kubelet does not own", () => {
  it("are written as the API holds them now, whatever the kubelet computed from an older copy", () => {
    const computed: PodStatus = { phase: "Running", conditions: [gate("Ready", "False"), gate("example.com/warm", "False")] };
    const current: PodStatus = { phase: "Running", conditions: [gate("Ready", "False"), gate("example.com/warm", "True"), { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI" }] };
    expect(withForeignConditions(computed, current).conditions).toEqual([gate("Ready", "False"), gate("example.com/warm", "True"), { type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI" }]);
    const plain: PodStatus = { phase: "Running", conditions: [gate("Ready", "True")] };
    expect(withForeignConditions(plain, { phase: "Pending", conditions: [gate("PodScheduled", "True")] })).toBe(plain);
  });
});
