import { describe, expect, it } from "vitest";
import fc from "fast-check";
import type { Pod } from "../../../model/types.ts";
import { type ContainerRecord, newRecord } from "../../../actors/pod_backoff.ts";
import { initRestartPolicy, initStep } from "../../../actors/pod_init.ts";
import { allFinished } from "../../../actors/pod.ts";
import { computePodStatus, podPhase } from "../../../actors/pod_status.ts";
import { podStatus } from "../../../runtime/api/table.ts";

function pod(restartPolicy: Pod["spec"]["restartPolicy"], inits = ["a", "b"]): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "u" },
    spec: { restartPolicy, initContainers: inits.map((name) => ({ name, image: "i" })), containers: [{ name: "app", image: "i" }] },
  };
}
const done = (name: string): ContainerRecord => ({ ...newRecord(name), id: `${name}-1`, started: true, state: { kind: "terminated", terminated: { exitCode: 0, reason: "Completed" } } });
const failed = (name: string): ContainerRecord => ({ ...newRecord(name), id: `${name}-1`, started: true, state: { kind: "terminated", terminated: { exitCode: 1, reason: "Error" } } });
const running = (name: string): ContainerRecord => ({ ...newRecord(name), id: `${name}-1`, started: true, state: { kind: "running" } });
const crashLoop = (name: string): ContainerRecord => ({ ...failed(name), restartCount: 2, state: { kind: "waiting", reason: "CrashLoopBackOff" } });
const status = (p: Pod, records: ContainerRecord[]) => computePodStatus({ pod: p, records, hostIP: "h", sandboxReady: true, terminating: false, now: "2026-12-02T00:00:00Z" });

describe("init containers - decisions", () => {
  it("init - runs them in order: the first one not finished with exit 0 is next; then done", () => {
    const p = pod("Always");
    expect(initStep(p, [newRecord("a"), newRecord("b"), newRecord("app")])).toEqual({ type: "run", name: "a", index: 0 });
    expect(initStep(p, [running("a"), newRecord("b")])).toEqual({ type: "run", name: "a", index: 0 });
    expect(initStep(p, [done("a"), newRecord("b")])).toEqual({ type: "run", name: "b", index: 1 });
    expect(initStep(p, [done("a"), done("b")])).toEqual({ type: "done" });
    expect(initStep({ ...p, spec: { ...p.spec, initContainers: undefined } }, [])).toEqual({ type: "done" });
  });

  it("init - a failure with restartPolicy Never fails the pod; otherwise the init container is retried (OnFailure)", () => {
    expect(initStep(pod("Never"), [done("a"), failed("b")])).toEqual({ type: "failed", name: "b" });
    expect(initStep(pod("Always"), [done("a"), failed("b")])).toEqual({ type: "run", name: "b", index: 1 });
    expect(initRestartPolicy(pod("Always"))).toBe("OnFailure");
    expect(initRestartPolicy(pod("OnFailure"))).toBe("OnFailure");
    expect(initRestartPolicy(pod("Never"))).toBe("Never");
    expect(allFinished(pod("Never"), [failed("a"), newRecord("b"), newRecord("app")], Date.now())).toBe(true);
    expect(podPhase(pod("Never"), [failed("a"), newRecord("b"), newRecord("app")])).toBe("Failed");
    expect(podPhase(pod("Always"), [done("a"), running("b"), newRecord("app")])).toBe("Pending");
  });

  it("init - property: the container to run is always the first that has not exited 0, and app containers wait for all", () => {
    const state = fc.constantFrom("new", "running", "done", "failed", "crash");
    fc.assert(fc.property(fc.array(state, { minLength: 1, maxLength: 6 }), fc.constantFrom("Always", "OnFailure", "Never") as fc.Arbitrary<"Always" | "OnFailure" | "Never">, (states, policy) => {
      const names = states.map((_, i) => `i${i}`);
      const p = pod(policy, names);
      const make = { new: newRecord, running, done, failed, crash: crashLoop } as const;
      const records = states.map((s, i) => make[s](names[i]));
      const step = initStep(p, records);
      const firstOpen = states.findIndex((s) => s !== "done");
      if (firstOpen < 0) return step.type === "done";
      if (step.type === "done") return false;
      if (step.name !== names[firstOpen]) return false;
      const st = status(p, [...records, newRecord("app")]);
      // While initializing the app container never runs and the pod is not Initialized.
      return st.containerStatuses![0].state.waiting?.reason === "PodInitializing" &&
        st.conditions!.find((c) => c.type === "Initialized")!.status === "False" &&
        (step.type === "failed") === (policy === "Never" && states[firstOpen] === "failed");
    }));
  });
});

describe("init containers - kubectl STATUS", () => {
  it("status - Init:N/M while running, Init:Error, Init:CrashLoopBackOff, then the app's status; Terminating wins", () => {
    const p = pod("Always");
    const show = (records: ContainerRecord[], deleting = false) =>
      podStatus({ ...p, metadata: { ...p.metadata, ...(deleting ? { deletionTimestamp: "2026-12-02T00:00:00Z" } : {}) }, status: status(p, records) });
    expect(show([newRecord("a"), newRecord("b"), newRecord("app")])).toBe("Init:0/2");
    expect(show([done("a"), running("b"), newRecord("app")])).toBe("Init:1/2");
    expect(show([done("a"), failed("b"), newRecord("app")])).toBe("Init:Error");
    expect(show([crashLoop("a"), newRecord("b"), newRecord("app")])).toBe("Init:CrashLoopBackOff");
    expect(show([done("a"), done("b"), running("app")])).toBe("Running");
    expect(show([done("a"), running("b"), newRecord("app")], true)).toBe("Terminating");
    const st = status(p, [done("a"), running("b"), newRecord("app")]);
    expect(st.initContainerStatuses?.map((s) => s.name)).toEqual(["a", "b"]);
    expect(st.initContainerStatuses?.[0].state.terminated?.exitCode).toBe(0);
    expect(st.phase).toBe("Pending");
  });

  it("status - an init exit code without a reason prints Init:ExitCode:N, as kubectl", () => {
    const p = pod("Always");
    expect(podStatus({ ...p, status: { initContainerStatuses: [{ name: "a", ready: false, restartCount: 0, image: "i", state: { terminated: { exitCode: 7 } } }] } })).toBe("Init:ExitCode:7");
    expect(podStatus({ ...p, status: { initContainerStatuses: [{ name: "a", ready: false, restartCount: 0, image: "i", state: { terminated: { exitCode: 137, signal: 9 } } }] } })).toBe("Init:Signal:9");
  });
});
