import { describe, expect, it } from "vitest";
import { waitFor } from "../../helpers/nats.ts";
import { requeueDelay, startWorkLoop } from "../../../actors/work_loop.ts";
import { noMetrics } from "../../../model/metrics.ts";
import type { InspectedEvent, ObservedActor } from "../../../model/observe.ts";

/** A pass the test releases by hand, recording when passes start. */
function gatedWork() {
  const started: number[] = [];
  let release: (() => void)[] = [];
  let result: { requeueAfterMs?: number } | Error = {};
  const work = async (pass: number) => {
    started.push(pass);
    await new Promise<void>((r) => release.push(r));
    if (result instanceof Error) throw result;
    return result;
  };
  return {
    work,
    started,
    releaseAll: () => {
      const r = release;
      release = [];
      for (const f of r) f();
    },
    setResult: (r: { requeueAfterMs?: number } | Error) => (result = r),
    running: () => release.length,
  };
}

describe("work loop", () => {
  it("waits out a requeue longer than a timer can hold at the longest a timer holds, not 1 ms", async () => {
    expect(requeueDelay(30 * 24 * 3600 * 1000)).toBe(2 ** 31 - 1);
    expect(requeueDelay(-5)).toBe(0);
    expect(requeueDelay(undefined)).toBe(0);
    let farPasses = 0;
    const far = startWorkLoop("far", async () => {
      farPasses++;
      return { requeueAfterMs: 30 * 24 * 3600 * 1000 }; // a Job's TTL of 30 days
    }, () => {});
    // A second loop as the clock: ten passes 20 ms apart.
    let ticks = 0;
    const clock = startWorkLoop("clock", async () => ({ requeueAfterMs: ++ticks < 10 ? 20 : 0 }), () => {});
    await waitFor(() => ticks >= 10, "ten ticks of the clock loop");
    expect(farPasses).toBe(1);
    far.stop();
    clock.stop();
  });

  it("does not send the machine wake-ups while another pass is owed already (thousands of informer events, one pass)", async () => {
    const g = gatedWork();
    const wakes: InspectedEvent[] = [];
    const obs = { metrics: noMetrics, actors: { observe: (_k: string, _id: string, a: ObservedActor) => void a.system.inspect((ev) => { if (ev.type === "@xstate.event" && ev.event?.type === "WAKE") wakes.push(ev); }) } };
    const loop = startWorkLoop("t", g.work, () => {}, obs);
    await waitFor(() => g.started.length === 1, "first pass");
    for (let i = 0; i < 1000; i++) loop.wake();
    // The first marks the loop dirty; the other 999 carry nothing new.
    expect(wakes).toHaveLength(1);
    g.releaseAll();
    await waitFor(() => g.started.length === 2, "second pass");
    // A wake during the new pass is owed again: it reaches the machine.
    loop.wake();
    expect(wakes).toHaveLength(2);
    g.releaseAll();
    await waitFor(() => g.started.length === 3, "third pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    expect(g.started).toEqual([0, 1, 2]);
    loop.stop();
  });

  it("runs one pass for all the wake-ups an idle loop gets in one event-loop turn (an informer's burst)", async () => {
    let passes = 0;
    const wakes: InspectedEvent[] = [];
    const obs = { metrics: noMetrics, actors: { observe: (_k: string, _id: string, a: ObservedActor) => void a.system.inspect((ev) => { if (ev.type === "@xstate.event" && ev.event?.type === "WAKE") wakes.push(ev); }) } };
    const loop = startWorkLoop("t", async () => { passes++; }, () => {}, obs);
    await waitFor(() => passes === 1 && loop.actor.getSnapshot().value === "idle", "first pass done");
    // As an informer delivers one watch batch: many events, each waking the loop, in one turn.
    for (let i = 0; i < 100; i++) loop.wake();
    expect(wakes).toHaveLength(0); // not yet: the pass starts once the turn's I/O is handled
    await waitFor(() => passes === 2 && loop.actor.getSnapshot().value === "idle", "second pass done");
    await new Promise((r) => setImmediate(r));
    expect(wakes).toHaveLength(1);
    expect(passes).toBe(2);
    // A wake in a later turn is a new pass.
    loop.wake();
    await waitFor(() => passes === 3 && loop.actor.getSnapshot().value === "idle", "third pass done");
    // Stopped with a wake-up queued: nothing is sent to the finished actor.
    loop.wake();
    loop.stop();
    await new Promise((r) => setImmediate(r));
    expect(wakes).toHaveLength(2);
    expect(passes).toBe(3);
  });

  it("creates no actor per pass: one worker runs every pass of the loop's life", async () => {
    const g = gatedWork();
    const created: string[] = [];
    const obs = { metrics: noMetrics, actors: { observe: (_k: string, _id: string, a: ObservedActor) => void a.system.inspect((ev) => { if (ev.type === "@xstate.actor") created.push((ev.actorRef as { id: string }).id); }) } };
    const loop = startWorkLoop("t", g.work, () => {}, obs);
    for (let pass = 1; pass <= 5; pass++) {
      await waitFor(() => g.running() === 1, `pass ${pass} running`);
      loop.wake();
      g.releaseAll();
      await waitFor(() => g.started.length === pass + 1, `pass ${pass + 1} started`);
    }
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    expect(g.started).toEqual([0, 1, 2, 3, 4, 5]);
    // Before, each pass was an actor of its own: six here, each created, started and completed.
    expect(created).toEqual([]);
    expect(Object.keys(loop.actor.getSnapshot().children)).toEqual(["worker"]);
    loop.stop();
  });

  it("a pass that throws before its first await is a failed pass, retried with back-off", async () => {
    let calls = 0;
    const errors: string[] = [];
    const loop = startWorkLoop("t", (() => {
      calls++;
      if (calls === 1) throw new Error("synchronous failure");
      return Promise.resolve({});
    }) as unknown as () => Promise<void>, (msg, fields) => errors.push(`${msg} ${String(fields?.error)}`));
    await waitFor(() => calls === 2 && loop.actor.getSnapshot().value === "idle", "retried and idle");
    expect(loop.actor.getSnapshot().context.failures).toBe(0);
    expect(errors[0]).toContain("synchronous failure");
    loop.stop();
  });

  it("a pass that returns a plain value (not a promise) is a pass done", async () => {
    let calls = 0;
    const loop = startWorkLoop("t", (() => { calls++; return undefined; }) as unknown as () => Promise<void>);
    await waitFor(() => calls === 1 && loop.actor.getSnapshot().value === "idle", "first pass done");
    loop.wake();
    await waitFor(() => calls === 2 && loop.actor.getSnapshot().value === "idle", "second pass done");
    expect(loop.actor.getSnapshot().status).toBe("active");
    loop.stop();
  });

  it("ignores an outcome that is not of the pass running: no second pass at once", async () => {
    const g = gatedWork();
    const loop = startWorkLoop("t", g.work);
    await waitFor(() => g.running() === 1, "first pass running");
    loop.actor.send({ type: "PASS_DONE", pass: 7, output: {} });
    loop.actor.send({ type: "PASS_FAILED", pass: 7, error: new Error("stray") });
    expect(loop.actor.getSnapshot().value).toBe("working");
    loop.wake();
    expect(g.started).toEqual([0]);
    g.releaseAll();
    await waitFor(() => g.started.length === 2, "the owed pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    expect(loop.actor.getSnapshot().context.failures).toBe(0);
    loop.stop();
  });

  it("runs its first pass at once and never two passes at the same time", async () => {
    const g = gatedWork();
    const loop = startWorkLoop("t", g.work);
    await waitFor(() => g.started.length === 1, "first pass");
    loop.wake();
    loop.wake();
    expect(g.running()).toBe(1);
    g.releaseAll();
    // Wakes during a pass coalesce into exactly one more pass.
    await waitFor(() => g.started.length === 2, "second pass");
    expect(g.running()).toBe(1);
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    expect(g.started).toEqual([0, 1]);
    loop.stop();
  });

  it("runs again after requeueAfterMs without a wake-up, and sleeps until then", async () => {
    const g = gatedWork();
    g.setResult({ requeueAfterMs: 30 });
    const loop = startWorkLoop("t", g.work);
    await waitFor(() => g.started.length === 1, "first pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "sleeping" || g.started.length === 2, "sleeping");
    g.setResult({});
    await waitFor(() => g.started.length === 2, "requeued pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    loop.stop();
  });

  it("backs off after a failed pass, reports the error, and recovers", async () => {
    const g = gatedWork();
    const errors: string[] = [];
    g.setResult(new Error("boom"));
    const loop = startWorkLoop("t", g.work, (msg, f) => errors.push(`${msg} ${String(f?.error)}`));
    await waitFor(() => g.started.length === 1, "first pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "backoff", "backoff");
    expect(loop.actor.getSnapshot().context.failures).toBe(1);
    expect(errors.join()).toContain("boom");
    g.setResult({});
    await waitFor(() => g.started.length === 2, "retried pass");
    g.releaseAll();
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    expect(loop.actor.getSnapshot().context.failures).toBe(0);
    loop.stop();
  });

  it("stops for good: no pass after STOP, even when woken", async () => {
    const g = gatedWork();
    const loop = startWorkLoop("t", g.work);
    await waitFor(() => g.started.length === 1, "first pass");
    loop.stop();
    g.releaseAll();
    loop.wake();
    expect(loop.actor.getSnapshot().status).toBe("done");
    expect(g.started).toEqual([0]);
  });
});
