/**
 * The shape every Berth control loop shares (scheduler, controller manager, each replication
 * controller, node lifecycle, garbage collector): a level-based worker that is woken, runs one
 * pass over the current state, and never runs two passes at once.
 *
 *            WAKE                       done (not dirty, no requeue)
 *   ┌──────┐ ───────────▶ ┌─────────┐ ──────────────────────────────▶ ┌──────┐
 *   │ idle │              │ working │ ◀── WAKE while working: dirty ── │ idle │
 *   └──────┘ ◀─────────── └─────────┘                                  └──────┘
 *      ▲   done, requeueAfterMs │  │ error
 *      │      ┌──────────┐ ◀───┘  └──────▶ ┌─────────┐
 *      └──────│ sleeping │ ──after──────▶  │ backoff │ ──after (100 ms · 2^n, ≤ 10 s)──▶ working
 *       WAKE  └──────────┘  ──▶ working    └─────────┘
 *   any ──STOP──▶ stopped (final)
 *
 * WAKE events carry no payload on purpose: the pass reads the world (informer caches) afresh,
 * so a wake-up is only ever a hint. Passes are run by the `worker`, one child actor for the
 * loop's whole life: `working` sends it RUN and it answers PASS_DONE or PASS_FAILED. (An actor
 * invoked per pass cost an actor's creation, start and completion every pass: about half of the
 * loop's own CPU, with a controller passing thousands of times a minute under load.) The work
 * itself is a function given to `passWorker(work)`, provided as `worker` with `.provide()` by
 * whoever starts the loop (real I/O) or by a unit test (fakes). No subjects are used directly.
 */
import { assign, createActor, fromCallback, sendTo, setup } from "xstate";
import type { Log } from "../model/log.ts";
import { observeActor, type Observe } from "../model/observe.ts";
import { loopMetrics } from "./work_loop_metrics.ts";

/**
 * The delay a requeue waits: `ms` at least 0, and at most what a timer can wait (2³¹ − 1 ms, about
 * 24.8 days). Node runs a longer timeout after 1 ms, so a requeue 30 days away (a Job's TTL) was
 * a pass every millisecond; a pass that far off is run then, and asks again for the rest.
 */
export function requeueDelay(ms: number | undefined): number {
  return Math.min(MAX_TIMER_MS, Math.max(0, ms ?? 0));
}
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a pass reports back: optionally, "run me again after this long even if nobody wakes me". */
export interface WorkResult {
  requeueAfterMs?: number;
}

export interface WorkLoopContext {
  dirty: boolean;
  failures: number;
  passes: number;
  lastError: string | null;
  requeueAfterMs: number;
}

export type WorkLoopEvent =
  | { type: "WAKE" }
  | { type: "STOP" }
  | { type: "PASS_DONE"; pass: number; output: WorkResult }
  | { type: "PASS_FAILED"; pass: number; error: unknown };

/** What the machine tells its worker: run pass number `pass`. */
export interface RunPass {
  type: "RUN";
  pass: number;
}

/** A pass: resolves with what it reports, rejects when it failed. */
export type Work = (pass: number) => Promise<WorkResult | void>;

/**
 * The worker: runs each pass it is told to and reports the outcome to the loop. A pass still
 * running when the loop stops finishes in the background; its outcome is dropped.
 */
export function passWorker(work: Work) {
  return fromCallback<RunPass, void, WorkLoopEvent>(({ sendBack, receive }) => {
    let stopped = false;
    receive(({ pass }) => {
      let p: Promise<WorkResult | void>;
      try {
        // Whatever the work returns (a value or a thenable) is its outcome; a throw is a failure.
        p = Promise.resolve(work(pass));
      } catch (error) {
        p = Promise.reject(error);
      }
      p.then(
        (output) => { if (!stopped) sendBack({ type: "PASS_DONE", pass, output: output ?? {} }); },
        (error) => { if (!stopped) sendBack({ type: "PASS_FAILED", pass, error }); },
      );
    });
    return () => { stopped = true; };
  });
}

const MAX_BACKOFF_MS = 10_000;

/** The machine; `worker` (a `passWorker`) and `reportError` are meant to be provided. */
export const workLoopMachine = setup({
  types: {
    context: {} as WorkLoopContext,
    events: {} as WorkLoopEvent,
  },
  actors: {
    worker: passWorker(async () => ({})),
  },
  actions: {
    /** Called with the error of a failed pass (the loop retries with back-off). */
    reportError: (_, _params: { error: unknown; failures: number }) => {},
  },
  delays: {
    backoff: ({ context }) => Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(context.failures - 1, 10)),
    requeue: ({ context }) => context.requeueAfterMs,
  },
  guards: {
    dirty: ({ context }) => context.dirty,
    /** The outcome is of the pass now running (not a stray event sent by someone else). */
    thisPass: ({ context, event }) => (event as { pass?: number }).pass === context.passes,
    requeue: ({ context }) => context.requeueAfterMs > 0,
  },
}).createMachine({
  id: "workLoop",
  context: { dirty: false, failures: 0, passes: 0, lastError: null, requeueAfterMs: 0 },
  invoke: { id: "worker", src: "worker" },
  initial: "working",
  on: { STOP: ".stopped" },
  states: {
    idle: {
      on: { WAKE: "working" },
    },
    sleeping: {
      on: { WAKE: "working" },
      after: { requeue: "working" },
    },
    working: {
      entry: [assign({ dirty: false }), sendTo("worker", ({ context }): RunPass => ({ type: "RUN", pass: context.passes }))],
      on: {
        WAKE: { actions: assign({ dirty: true }) },
        PASS_DONE: {
          guard: "thisPass",
          target: "decide",
          actions: assign({
            failures: 0,
            passes: ({ context }) => context.passes + 1,
            lastError: null,
            requeueAfterMs: ({ event }) => requeueDelay(event.output.requeueAfterMs),
          }),
        },
        PASS_FAILED: {
          guard: "thisPass",
          target: "backoff",
          actions: [
            assign({
              failures: ({ context }) => context.failures + 1,
              passes: ({ context }) => context.passes + 1,
              lastError: ({ event }) => String(event.error),
            }),
            { type: "reportError", params: ({ context, event }) => ({ error: event.error, failures: context.failures }) },
          ],
        },
      },
    },
    decide: {
      always: [
        { guard: "dirty", target: "working" },
        { guard: "requeue", target: "sleeping" },
        { target: "idle" },
      ],
    },
    backoff: {
      on: { WAKE: { actions: assign({ dirty: true }) } },
      after: { backoff: "working" },
    },
    stopped: { type: "final" },
  },
});

/** Runs `f` after the current event-loop turn's I/O callbacks (setImmediate where there is one). */
const nextTurn: (f: () => void) => void = typeof globalThis.setImmediate === "function" ? (f) => void globalThis.setImmediate(f) : (f) => void setTimeout(f, 0);

/** A running loop. */
export interface WorkLoop {
  readonly name: string;
  /** Asks for another pass (coalesced with any pending one). */
  wake(): void;
  /** Stops the loop; a pass in flight finishes in the background. */
  stop(): void;
  /** The underlying root actor, for inspection. */
  readonly actor: ReturnType<typeof createWorkLoopActor>;
}



function createWorkLoopActor(name: string, work: Work, log: Log, obs?: Observe, onError: () => void = () => {}) {
  const machine = workLoopMachine.provide({
    actors: { worker: passWorker(work) },
    actions: {
      reportError: (_, params) => {
        onError();
        log("control loop pass failed; retrying", { loop: name, failures: params.failures, error: errorText(params.error) });
      },
    },
  });
  return observeActor(obs, "workloop", name, createActor(machine, { id: name }));
}

/** Starts a work loop as a root actor with an error observer; its first pass runs at once. */
export function startWorkLoop(name: string, work: (pass: number) => Promise<WorkResult | void>, log: Log = () => {}, obs?: Observe): WorkLoop {
  // workqueue_* figures (Kubernetes' names), measured around the pass and the wake-ups.
  const m = loopMetrics(obs?.metrics, name);
  const actor = createWorkLoopActor(name, m.measure(work), log, obs, m.retried);
  actor.subscribe({
    // The machine handles its pass's errors itself; this catches a broken machine, which must not
    // become an uncaught exception that takes the whole control plane down.
    error: (err) => log("control loop actor failed", { loop: name, error: errorText(err) }),
  });
  actor.start();
  // A wake-up after stop is a hint nobody needs (an informer event racing the stop): drop it
  // instead of sending to a finished actor, which xstate warns about on the console.
  const live = () => actor.getSnapshot().status === "active";
  let wakeQueued = false;
  return {
    name,
    actor,
    wake: () => {
      if (!live()) return;
      const snap = actor.getSnapshot();
      // Another pass is owed already: this wake-up changes nothing, so it is not even sent (a
      // controller is woken once per informer event, thousands a second under load; each send
      // through the machine was 6 % of a 5,000-pod run). client-go's queue likewise drops, and
      // does not count, an add of an item that is already dirty.
      if ((snap.value === "working" || snap.value === "backoff") && snap.context.dirty) return;
      if (snap.value === "idle" || snap.value === "sleeping") {
        // The pass starts once this event-loop turn's I/O is handled, so the informer events of
        // one watch delivery (a burst of pods of one RC) wake it once, and its pass sees them all:
        // a wake per event ran an RC's pass per pod event (5,700 passes for 5,000 pods; now
        // about 1,100). client-go's queue likewise hands a key to a worker once however often it
        // was added while waiting.
        if (wakeQueued) return;
        wakeQueued = true;
        m.added(snap.value);
        nextTurn(() => {
          wakeQueued = false;
          if (live()) actor.send({ type: "WAKE" });
        });
        return;
      }
      m.added(snap.value);
      actor.send({ type: "WAKE" });
    },
    stop: () => {
      if (!live()) return;
      m.stopped();
      actor.send({ type: "STOP" });
    },
  };
}

/** An error as one line of text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
