/**
 * The leader lease machine with its I/O faked over one in-memory record with revisions (the
 * CAS semantics of the KV bucket) and xstate's simulated clock: acquisition, hand-over on stop,
 * the fence while a renewal hangs, a lost lease, a failed start.
 */
import { describe, expect, it } from "vitest";
import { createActor, fromPromise, SimulatedClock } from "xstate";
import { isCasLoss, leaderLeaseMachine, type LeaseRead, type LeaseRecord, type LeaseWrite, type LeaseWritten } from "../../../actors/leader_lease.ts";

class CasError extends Error {
  code = 10071;
}

/** The lease key: a record and its revision. */
class Store {
  record: LeaseRecord | null = null;
  revision = 0;
  hang = false;
  write(w: LeaseWrite): number {
    if (w.create ? this.revision !== 0 : w.revision !== this.revision) throw new CasError("wrong last sequence");
    this.record = { ...w.record, renewedAt: "" };
    return ++this.revision;
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

function copy(id: string, store: Store, clock: SimulatedClock) {
  const calls: string[] = [];
  const machine = leaderLeaseMachine.provide({
    actors: {
      readLease: fromPromise<LeaseRead, void>(async () => ({ record: store.record, revision: store.revision, exists: store.revision > 0, at: clock.now() })),
      writeLease: fromPromise<LeaseWritten, LeaseWrite>(async ({ input }) => {
        const sentAt = clock.now();
        if (store.hang) await new Promise(() => {});
        const revision = store.write(input);
        return { revision, record: { ...input.record, renewedAt: "" }, sentAt, doneAt: clock.now() };
      }),
      releaseLease: fromPromise(async ({ input }: { input: { release: boolean; term: number; revision: number; ttlMs: number } }) => {
        calls.push(`release ${input.release}`);
        if (input.release) store.write({ record: { holder: "", term: input.term, ttlMs: input.ttlMs }, revision: input.revision, create: false });
      }),
    },
    actions: {
      startLoops: (_, { term }) => void calls.push(`start ${term}`),
      stopLoops: (_, { reason }) => void calls.push(`stop ${reason}`),
    },
  });
  const actor = createActor(machine, { clock, input: { id, ttlMs: 5000, renewMs: 1000, renewDeadlineMs: 3000 } });
  actor.start();
  return { actor, calls, ctx: () => actor.getSnapshot().context };
}

/** Advances the simulated clock in renew-sized steps, letting the fake I/O settle between. */
async function advance(clock: SimulatedClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.increment(Math.min(step, ms - t));
    await settle();
  }
}

describe("leader lease machine", () => {
  it("one copy acquires term 1 and renews; the other stays standby; on stop the lease is handed over at once", async () => {
    const clock = new SimulatedClock();
    const store = new Store();
    const a = copy("a", store, clock);
    await settle();
    const b = copy("b", store, clock);
    await advance(clock, 2500);
    expect(a.actor.getSnapshot().matches("leading")).toBe(true);
    expect(a.ctx()).toMatchObject({ leading: true, term: 1 });
    expect(a.calls).toEqual(["start 1"]);
    expect(b.actor.getSnapshot().matches("standby")).toBe(true);
    expect(store.revision).toBeGreaterThan(2); // renewed
    a.actor.send({ type: "STOP" });
    await settle();
    expect(a.actor.getSnapshot().status).toBe("done");
    expect(a.calls).toEqual(["start 1", "stop shutting down", "release true"]);
    expect(store.record?.holder).toBe("");
    await advance(clock, 1000);
    expect(b.ctx()).toMatchObject({ leading: true, term: 2 });
    b.actor.send({ type: "STOP" });
    await settle();
  });

  it("the fence: a renewal that hangs past the deadline steps down while the write is still in flight", async () => {
    const clock = new SimulatedClock();
    const store = new Store();
    const a = copy("a", store, clock);
    await settle();
    expect(a.ctx().leading).toBe(true);
    store.hang = true;
    await advance(clock, 2900, 100);
    expect(a.ctx().leading).toBe(true);
    expect(a.actor.getSnapshot().matches({ leading: "renewing" })).toBe(true);
    await advance(clock, 200, 100);
    expect(a.ctx().leading).toBe(false);
    expect(a.calls).toEqual(["start 1", "stop renew deadline passed"]);
  });

  it("steps down when another copy took the lease, and when its control loops failed to start", async () => {
    const clock = new SimulatedClock();
    const store = new Store();
    const a = copy("a", store, clock);
    await settle();
    store.write({ record: { holder: "x", term: 7, ttlMs: 5000 }, revision: store.revision, create: false });
    await advance(clock, 1000);
    expect(a.ctx().leading).toBe(false);
    expect(a.calls).toEqual(["start 1", "stop lease taken by x"]);

    const s2 = new Store();
    const c = copy("c", s2, clock);
    await settle();
    c.actor.send({ type: "START_FAILED", term: 99 }); // another term's: ignored
    expect(c.ctx().leading).toBe(true);
    c.actor.send({ type: "START_FAILED", term: 1 });
    expect(c.ctx().leading).toBe(false);
    expect(c.calls).toEqual(["start 1", "stop start failed"]);
    // Its own record, not renewed: it acquires again with the next term.
    await advance(clock, 1000);
    expect(c.ctx()).toMatchObject({ leading: true, term: 2 });
  });

  it("a lost CAS is recognised by JetStream's codes and message", () => {
    expect(isCasLoss(new CasError("x"))).toBe(true);
    expect(isCasLoss(Object.assign(new Error("x"), { code: 10164 }))).toBe(true);
    expect(isCasLoss(new Error("wrong last sequence: 4"))).toBe(true);
    expect(isCasLoss(new Error("timeout"))).toBe(false);
  });
});
