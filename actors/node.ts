/**
 * The node actor (the kubelet's node-status half): registers the Node object, then heartbeats,
 * reporting `Ready` — or `NotReady` with the reason, e.g. the container runtime not answering.
 * Pod actors are not its children: the node agent (runtime/node_agent.ts) keeps them as root
 * actors in a Map, because xstate copies a parent's children map on every spawn.
 *
 *   registering ──ok──► heartbeat ──runtime answers──► ready ──after interval──┐
 *       │  ▲               ▲  │                                                │
 *   error  │ after retry    │  └──runtime down────► notReady ──after interval───┤
 *       ▼  │               └────────────────────────────────────────────────────┘
 *   registerRetry             (heartbeat errors, e.g. API unreachable → retried after interval)
 *   any ── STOP ──► stopped (final)
 *
 * Injected: actors `register` and `heartbeat`; action `readinessChanged` (the agent resyncs pods
 * and events when the runtime comes back). No NATS subjects: the ApiClient carries everything.
 */
import { assign, fromPromise, setup } from "xstate";

/** The outcome of one heartbeat. */
export interface HeartbeatResult {
  ready: boolean;
  reason?: string;
  message?: string;
}

export interface NodeInput {
  name: string;
  heartbeatIntervalMs: number;
}

export interface NodeContext {
  name: string;
  heartbeatIntervalMs: number;
  ready: boolean;
  reason?: string;
  message?: string;
  lastError?: string;
}

export type NodeMachineEvent = { type: "STOP" } | { type: "HEARTBEAT_NOW" };

const notProvided = (name: string) => () => Promise.reject(new Error(`node actor: ${name} not provided`));

export const nodeMachine = setup({
  types: {} as { context: NodeContext; events: NodeMachineEvent; input: NodeInput },
  actors: {
    register: fromPromise<void, { name: string }>(notProvided("register")),
    heartbeat: fromPromise<HeartbeatResult, { name: string; wasReady: boolean }>(notProvided("heartbeat")),
  },
  actions: {
    readinessChanged: (_, _params: { ready: boolean; reason?: string }) => {},
  },
  delays: {
    interval: ({ context }) => context.heartbeatIntervalMs,
  },
}).createMachine({
  id: "node",
  context: ({ input }) => ({ name: input.name, heartbeatIntervalMs: input.heartbeatIntervalMs, ready: false }),
  initial: "registering",
  on: { STOP: ".stopped" },
  states: {
    registering: {
      invoke: {
        src: "register",
        input: ({ context }) => ({ name: context.name }),
        onDone: "heartbeat",
        onError: { target: "registerRetry", actions: assign({ lastError: ({ event }) => String(event.error) }) },
      },
    },
    registerRetry: { after: { interval: "registering" } },
    heartbeat: {
      invoke: {
        src: "heartbeat",
        input: ({ context }) => ({ name: context.name, wasReady: context.ready }),
        onDone: [
          {
            guard: ({ context, event }) => event.output.ready !== context.ready,
            target: "decide",
            actions: [
              assign(({ event }) => ({ ready: event.output.ready, reason: event.output.reason, message: event.output.message, lastError: undefined })),
              { type: "readinessChanged", params: ({ event }) => ({ ready: event.output.ready, reason: event.output.reason }) },
            ],
          },
          { target: "decide", actions: assign(({ event }) => ({ reason: event.output.reason, message: event.output.message, lastError: undefined })) },
        ],
        onError: { target: "decide", actions: assign({ lastError: ({ event }) => String(event.error) }) },
      },
    },
    decide: { always: [{ guard: ({ context }) => context.ready, target: "ready" }, { target: "notReady" }] },
    ready: { after: { interval: "heartbeat" }, on: { HEARTBEAT_NOW: "heartbeat" } },
    notReady: { after: { interval: "heartbeat" }, on: { HEARTBEAT_NOW: "heartbeat" } },
    stopped: { type: "final" },
  },
});

export type NodeMachine = typeof nodeMachine;
