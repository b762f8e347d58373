import { describe, expect, it } from "vitest";
import { createActor, fromPromise } from "xstate";
import { waitFor } from "../../helpers/nats.ts";
import { type HeartbeatResult, nodeMachine } from "../../../actors/node.ts";

/** The node machine with fake register/heartbeat logic (what runtime/kubelet/node_heartbeat.ts provides). */
function fakeNode(opts: { registerFailures?: number; beats: () => HeartbeatResult | Error }) {
  let registerCalls = 0;
  let beats = 0;
  const changes: { ready: boolean; reason?: string }[] = [];
  let failuresLeft = opts.registerFailures ?? 0;
  const machine = nodeMachine.provide({
    actors: {
      register: fromPromise(async () => {
        registerCalls++;
        if (failuresLeft-- > 0) throw new Error("API unreachable");
      }),
      heartbeat: fromPromise(async () => {
        beats++;
        const r = opts.beats();
        if (r instanceof Error) throw r;
        return r;
      }),
    },
    actions: { readinessChanged: (_, p) => void changes.push(p) },
  });
  const actor = createActor(machine, { input: { name: "n1", heartbeatIntervalMs: 10 } });
  actor.start();
  return { actor, changes, registerCalls: () => registerCalls, beats: () => beats };
}

describe("node actor", () => {
  it("retries registration until it works, then heartbeats and becomes Ready once", async () => {
    const n = fakeNode({ registerFailures: 2, beats: () => ({ ready: true }) });
    await waitFor(() => n.beats() >= 3, "heartbeats");
    expect(n.registerCalls()).toBe(3);
    expect(n.changes).toEqual([{ ready: true, reason: undefined }]);
    expect(n.actor.getSnapshot().context.ready).toBe(true);
    n.actor.send({ type: "STOP" });
    expect(n.actor.getSnapshot().status).toBe("done");
  });

  it("reports readiness changes (runtime down, back up) and only changes", async () => {
    let ready = true;
    const n = fakeNode({ beats: () => (ready ? { ready: true } : { ready: false, reason: "ContainerRuntimeUnreachable" }) });
    await waitFor(() => n.changes.length === 1, "ready");
    ready = false;
    await waitFor(() => n.changes.length === 2, "not ready");
    const beatsAtNotReady = n.beats();
    await waitFor(() => n.beats() >= beatsAtNotReady + 3, "more heartbeats");
    ready = true;
    await waitFor(() => n.changes.length === 3, "ready again");
    expect(n.changes).toEqual([
      { ready: true, reason: undefined },
      { ready: false, reason: "ContainerRuntimeUnreachable" },
      { ready: true, reason: undefined },
    ]);
    n.actor.send({ type: "STOP" });
  });

  it("keeps heartbeating through a failed heartbeat write (API unreachable), without a readiness change", async () => {
    let fail = false;
    const n = fakeNode({ beats: () => (fail ? new Error("timeout") : { ready: true }) });
    await waitFor(() => n.changes.length === 1, "ready");
    fail = true;
    const b = n.beats();
    await waitFor(() => n.beats() >= b + 3, "heartbeats while failing");
    expect(n.actor.getSnapshot().context.lastError).toContain("timeout");
    fail = false;
    const c = n.beats();
    await waitFor(() => n.beats() >= c + 1 && !n.actor.getSnapshot().context.lastError, "recovered");
    expect(n.changes.length).toBe(1);
    n.actor.send({ type: "STOP" });
  });
});
