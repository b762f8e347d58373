import { afterEach, describe, expect, it, vi } from "vitest";
import { createActor, sendTo, setup } from "xstate";
import { proberLogic } from "../../../../runtime/kubelet/probes.ts";
import type { ContainerRuntime } from "../../../../model/container_runtime.ts";
import type { Pod } from "../../../../model/types.ts";

afterEach(() => {
  vi.useRealTimers();
});

/** Runs the prober over one running attempt for `ms` of fake time; returns when each probe ran (ms from start) and what it reported. */
async function run(pod: Pod, startupPassesAt: number, ms: number) {
  vi.useFakeTimers();
  const t0 = Date.now();
  const execs: { probe: string; at: number }[] = [];
  const results: { probe: string; result: string; at: number }[] = [];
  const runtime = {
    async exec(_id: string, cmd: string[]) {
      execs.push({ probe: cmd[0], at: Date.now() - t0 });
      return { exitCode: cmd[0] === "startup" && Date.now() - t0 < startupPassesAt ? 1 : 0, stdout: "", stderr: "" };
    },
  } as unknown as ContainerRuntime;
  const parent = setup({ actors: { prober: proberLogic(runtime, "n") } }).createMachine({
    invoke: { id: "prober", src: "prober", input: { pod } },
    entry: sendTo("prober", { type: "TARGETS", podIP: "10.0.0.2", pod, running: [{ name: "c", id: "attempt-1" }] }),
    on: { PROBE_RESULT: { actions: ({ event }) => results.push({ probe: event.probe, result: event.result, at: Date.now() - t0 }) } },
  });
  const actor = createActor(parent);
  actor.start();
  await vi.advanceTimersByTimeAsync(ms);
  actor.stop();
  return { execs, results };
}

const pod = (startup: boolean): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "default", uid: "u" },
  spec: {
    containers: [{
      name: "c",
      image: "x",
      ...(startup ? { startupProbe: { exec: { command: ["startup"] }, periodSeconds: 1, failureThreshold: 30 } } : {}),
      livenessProbe: { exec: { command: ["live"] }, initialDelaySeconds: 2, periodSeconds: 1 },
      readinessProbe: { exec: { command: ["ready"] }, initialDelaySeconds: 2, periodSeconds: 1 },
    }],
  },
});

describe("prober - startup probe", () => {
  it("liveness and readiness do not run until the startup probe passes, and then at once when their initial delay (from the container's start) is over", async () => {
    const { execs, results } = await run(pod(true), 2500, 6000);
    const first = (probe: string) => execs.find((e) => e.probe === probe)?.at;
    expect(execs.filter((e) => e.at < 3000).every((e) => e.probe === "startup")).toBe(true);
    expect(results.find((r) => r.probe === "startup")).toMatchObject({ result: "success", at: 3000 });
    // The delay (2 s) has passed by then: they run at once, not 2 s after the startup probe.
    for (const probe of ["live", "ready"]) {
      expect(first(probe), probe).toBeGreaterThanOrEqual(3000);
      expect(first(probe), probe).toBeLessThan(3100);
    }
    expect(execs.filter((e) => e.probe === "startup" && e.at > 3000)).toEqual([]);
  });

  it("without a startup probe, the initial delay counts from the start as before", async () => {
    const { execs } = await run(pod(false), 0, 3500);
    expect(execs.find((e) => e.probe === "live")?.at).toBe(2000);
  });
});
