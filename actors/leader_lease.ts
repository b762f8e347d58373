/**
 * The leader lease of a control-plane copy as an xstate machine: the decisions (pure, below) and
 * the states; the KV reads and compare-and-swap writes, and starting and stopping the control
 * loops, are provided by runtime/leader.ts (`.provide()`), so the machine does no I/O and reads
 * no clock (times come back with the I/O results).
 *
 *                       acquire (CAS ok)                 renew (CAS ok): re-entered, fence re-armed
 *   standby ─────────────────────────────────▶ leading ◀──────┐
 *   waiting ⇄ reading → deciding → acquiring      waiting ⇄ reading → deciding → renewing
 *      ▲                                            │
 *      └── stepDown: CAS lost, lease held by another, start failed, or the fence (renew deadline
 *          passed: fires even while a KV call hangs) ─┘
 *   STOP: after the I/O in flight → stopping (release the lease if it was ours) → stopped (final)
 *
 * Time is never compared across machines. A standby copy measures a lease's age on its own
 * clock, from the moment it first *observed* the current revision of the record; the leader
 * measures its validity from the moment it *sent* its last successful renewal. Since a write is
 * observed only after it was sent, the leader's view always ends first: it stops acting at
 * `sent + renewDeadlineMs`, while no other copy can take over before `observed + ttlMs`, and
 * `renewDeadlineMs < ttlMs` leaves a margin for the control loops to stop.
 */
import { assign, fromPromise, setup } from "xstate";

/** The value stored under the lease key. */
export interface LeaseRecord {
  /** Identity of the holder; "" when released. */
  holder: string;
  /** Incremented by every acquisition (a fencing token, and for logs). */
  term: number;
  /** How long after its last observed renewal the lease counts as expired. */
  ttlMs: number;
  /** The holder's wall clock at renewal: informational only, never used to decide. */
  renewedAt: string;
}

/** What this copy last read of the lease key. */
export interface LeaseObservation {
  /** null: the key does not exist. */
  record: LeaseRecord | null;
  /** KV revision of the record (0 when absent). */
  revision: number;
  /** Local clock when this revision was first seen. */
  observedAt: number;
}

/** This copy's own state. */
export interface LeaderSelf {
  id: string;
  leading: boolean;
  /** While leading: local time after which it must no longer act (last renewal sent + renewDeadlineMs). */
  validUntil: number;
}

export type LeaseDecision =
  | { type: "acquire"; term: number; reason: string }
  | { type: "renew" }
  | { type: "standby"; holder: string; expiresInMs: number }
  | { type: "stepDown"; reason: string };

/**
 * The pure decision for one tick: what to do given the last observation of the lease, the
 * local clock and this copy's state. No I/O, no clock of its own.
 */
export function decideLease(obs: LeaseObservation, now: number, self: LeaderSelf): LeaseDecision {
  const rec = obs.record;
  if (self.leading) {
    if (now >= self.validUntil) return { type: "stepDown", reason: "renew deadline passed" };
    if (!rec || rec.holder !== self.id) return { type: "stepDown", reason: rec?.holder ? `lease taken by ${rec.holder}` : "lease released or lost" };
    return { type: "renew" };
  }
  if (!rec) return { type: "acquire", term: 1, reason: "no lease" };
  if (rec.holder === "") return { type: "acquire", term: rec.term + 1, reason: "lease released" };
  // Our own record while not leading (we stepped down on a deadline but nobody took over):
  // the CAS on the observed revision proves nobody else acted since.
  if (rec.holder === self.id) return { type: "acquire", term: rec.term + 1, reason: "lease still ours" };
  const age = now - obs.observedAt;
  if (age >= rec.ttlMs) return { type: "acquire", term: rec.term + 1, reason: `lease of ${rec.holder} expired (unchanged for ${age} ms)` };
  return { type: "standby", holder: rec.holder, expiresInMs: rec.ttlMs - age };
}

/** Updates an observation with a fresh read: `observedAt` moves only when the revision changes. */
export function observe(prev: LeaseObservation | undefined, record: LeaseRecord | null, revision: number, now: number): LeaseObservation {
  if (prev && prev.revision === revision) return prev;
  return { record, revision, observedAt: now };
}

/** JetStream's "wrong last sequence" (10071, and 10164 from newer servers): a lost CAS. */
export function isCasLoss(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String(e));
}

/** One read of the lease key (`readLease`). */
export interface LeaseRead {
  record: LeaseRecord | null;
  revision: number;
  /** The key exists (possibly deleted or empty): a write must update, not create. */
  exists: boolean;
  /** Local clock at the read. */
  at: number;
}

/** A write of this copy's record (`writeLease`): create, or CAS update on `revision`. */
export interface LeaseWrite {
  record: Omit<LeaseRecord, "renewedAt">;
  revision: number;
  create: boolean;
}

export interface LeaseWritten {
  revision: number;
  record: LeaseRecord;
  /** Local clock just before the write was sent, and when it was acknowledged. */
  sentAt: number;
  doneAt: number;
}

export interface LeaseContext {
  id: string;
  ttlMs: number;
  renewMs: number;
  renewDeadlineMs: number;
  leading: boolean;
  term: number;
  validUntil: number;
  /** How long after the last renewal's acknowledgement the fence fires. */
  fenceMs: number;
  obs: LeaseObservation | undefined;
  exists: boolean;
  /** The decision of the last read (what `deciding` acts on). */
  decision: LeaseDecision | undefined;
  stopRequested: boolean;
  /** Give the lease back on stop (it was ours when the stop came). */
  release: boolean;
}

export type LeaseEvent = { type: "STOP" } | { type: "START_FAILED"; term: number };

export interface LeaseInput {
  id: string;
  ttlMs: number;
  renewMs: number;
  renewDeadlineMs: number;
}

const self = (c: LeaseContext): LeaderSelf => ({ id: c.id, leading: c.leading, validUntil: c.validUntil });

/** The machine; `readLease`, `writeLease`, `releaseLease`, `startLoops`, `stopLoops` and `log` are provided by the runtime. */
export const leaderLeaseMachine = setup({
  types: {
    context: {} as LeaseContext,
    events: {} as LeaseEvent,
    input: {} as LeaseInput,
  },
  actors: {
    readLease: fromPromise<LeaseRead, void>(async () => ({ record: null, revision: 0, exists: false, at: 0 })),
    writeLease: fromPromise<LeaseWritten, LeaseWrite>(async ({ input }) => ({ revision: input.revision + 1, record: { ...input.record, renewedAt: "" }, sentAt: 0, doneAt: 0 })),
    releaseLease: fromPromise<void, { release: boolean; term: number; revision: number; ttlMs: number }>(async () => {}),
  },
  actions: {
    log: (_, _params: { msg: string; fields?: Record<string, unknown> }) => {},
    /** Starts the control loops for `term` (serialized with stops; renewals go on meanwhile). */
    startLoops: (_, _params: { term: number }) => {},
    /** Stops the control loops. */
    stopLoops: (_, _params: { reason: string }) => {},
    notLeading: assign({ leading: false, validUntil: 0 }),
    /** Takes in what a read of the lease found and decides (standby and leading read alike). */
    observeRead: assign(({ context }, read: LeaseRead) => {
      const obs = observe(context.obs, read.record, read.revision, read.at);
      return { obs, exists: read.exists, decision: decideLease(obs, read.at, self(context)) };
    }),
    releaseOnStop: assign({ release: true }),
  },
  delays: {
    renew: ({ context }) => context.renewMs,
    fence: ({ context }) => Math.max(0, context.fenceMs),
  },
  guards: {
    stopRequested: ({ context }) => context.stopRequested,
    acquire: ({ context }) => context.decision?.type === "acquire",
    stepDown: ({ context }) => context.decision?.type === "stepDown",
  },
}).createMachine({
  id: "lease",
  context: ({ input }) => ({
    ...input,
    leading: false,
    term: 0,
    validUntil: 0,
    fenceMs: 0,
    obs: undefined,
    exists: false,
    decision: undefined,
    stopRequested: false,
    release: false,
  }),
  initial: "standby",
  // A stop waits for the read or write in flight (its outcome decides whether there is a lease to give back).
  on: { STOP: { actions: assign({ stopRequested: true }) } },
  states: {
    standby: {
      initial: "reading",
      states: {
        waiting: {
          always: { guard: "stopRequested", target: "#lease.stopping" },
          after: { renew: "reading" },
        },
        reading: {
          invoke: {
            src: "readLease",
            onDone: { target: "deciding", actions: { type: "observeRead", params: ({ event }) => event.output } },
            onError: { target: "waiting", actions: { type: "log", params: ({ context, event }) => ({ msg: "leader: lease read failed", fields: { id: context.id, error: String(event.error) } }) } },
          },
        },
        deciding: {
          always: [
            { guard: "stopRequested", target: "#lease.stopping" },
            { guard: "acquire", target: "acquiring" },
            { target: "waiting" },
          ],
        },
        acquiring: {
          invoke: {
            src: "writeLease",
            input: ({ context }) => ({
              record: { holder: context.id, term: context.decision?.type === "acquire" ? context.decision.term : context.term + 1, ttlMs: context.ttlMs },
              revision: context.obs?.revision ?? 0,
              create: context.obs?.record === null && !context.exists,
            }),
            onDone: {
              target: "#lease.leading",
              actions: [
                assign(({ context, event }) => ({
                  leading: true,
                  term: event.output.record.term,
                  validUntil: event.output.sentAt + context.renewDeadlineMs,
                  fenceMs: event.output.sentAt + context.renewDeadlineMs - event.output.doneAt,
                  obs: { record: event.output.record, revision: event.output.revision, observedAt: event.output.sentAt },
                })),
                { type: "log", params: ({ context }) => ({ msg: "leader: acquired lease", fields: { id: context.id, term: context.term, reason: context.decision?.type === "acquire" ? context.decision.reason : "" } }) },
                { type: "startLoops", params: ({ context }) => ({ term: context.term }) },
              ],
            },
            onError: { target: "waiting", actions: { type: "log", params: ({ context, event }) => ({ msg: "leader: lease write failed", fields: { id: context.id, decision: "acquire", error: String(event.error) } }) } },
          },
        },
      },
    },
    leading: {
      // The fence: the renew deadline passed without a renewal (re-armed by every renewal).
      after: { fence: { target: "standby.waiting", actions: stepDown("renew deadline passed") } },
      on: {
        START_FAILED: { guard: ({ context, event }) => event.term === context.term, target: "standby.waiting", actions: stepDown("start failed") },
      },
      initial: "waiting",
      states: {
        waiting: {
          always: { guard: "stopRequested", target: "#lease.stopping", actions: [...stepDown("shutting down"), { type: "releaseOnStop" as const }] },
          after: { renew: "reading" },
        },
        reading: {
          invoke: {
            src: "readLease",
            onDone: { target: "deciding", actions: { type: "observeRead", params: ({ event }) => event.output } },
            onError: { target: "waiting", actions: { type: "log", params: ({ context, event }) => ({ msg: "leader: lease read failed", fields: { id: context.id, error: String(event.error) } }) } },
          },
        },
        deciding: {
          always: [
            { guard: "stopRequested", target: "#lease.stopping", actions: [...stepDown("shutting down"), { type: "releaseOnStop" as const }] },
            { guard: "stepDown", target: "#lease.standby.waiting", actions: stepDown(({ context }) => (context.decision?.type === "stepDown" ? context.decision.reason : "")) },
            { target: "renewing" },
          ],
        },
        renewing: {
          invoke: {
            src: "writeLease",
            input: ({ context }) => ({ record: { holder: context.id, term: context.term, ttlMs: context.ttlMs }, revision: context.obs?.revision ?? 0, create: false }),
            onDone: {
              target: "#lease.leading",
              reenter: true,
              actions: assign(({ context, event }) => ({
                validUntil: event.output.sentAt + context.renewDeadlineMs,
                fenceMs: event.output.sentAt + context.renewDeadlineMs - event.output.doneAt,
                obs: { record: event.output.record, revision: event.output.revision, observedAt: event.output.sentAt },
              })),
            },
            onError: [
              {
                guard: ({ event }) => isCasLoss(event.error),
                target: "#lease.standby.waiting",
                actions: [
                  { type: "log", params: ({ context, event }) => ({ msg: "leader: lease write failed", fields: { id: context.id, decision: "renew", error: String(event.error) } }) },
                  ...stepDown("lease CAS lost"),
                ],
              },
              // Any other error: the deadline keeps running (the fence is not re-armed); retry.
              { target: "waiting", actions: { type: "log", params: ({ context, event }) => ({ msg: "leader: lease write failed", fields: { id: context.id, decision: "renew", error: String(event.error) } }) } },
            ],
          },
        },
      },
    },
    stopping: {
      invoke: {
        src: "releaseLease",
        input: ({ context }) => ({ release: context.release, term: context.term, revision: context.obs?.revision ?? 0, ttlMs: context.ttlMs }),
        onDone: "stopped",
        onError: "stopped",
      },
    },
    stopped: { type: "final" },
  },
});

/** The actions of a step-down: no longer leading (mayAct is false at once), log, stop the loops. */
function stepDown(reason: string | ((a: { context: LeaseContext }) => string)) {
  const why = (a: { context: LeaseContext }) => (typeof reason === "string" ? reason : reason(a));
  return [
    { type: "log" as const, params: (a: { context: LeaseContext }) => ({ msg: "leader: stepping down", fields: { id: a.context.id, term: a.context.term, reason: why(a) } }) },
    { type: "notLeading" as const },
    { type: "stopLoops" as const, params: (a: { context: LeaseContext }) => ({ reason: why(a) }) },
  ];
}
