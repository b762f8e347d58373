/**
 * What a component is given to be seen from outside: its metrics sink, and an observer of its
 * actors (xstate's inspection API, published on NATS by the runtime — runtime/actors/). Both
 * optional; absent, nothing is measured or published and nothing is slowed.
 */
import { noMetrics, type Metrics } from "./metrics.ts";

/**
 * The part of an xstate inspection event Berth reads (xstate's `InspectionEvent`; the model
 * does not import xstate). Only `@xstate.snapshot` events of the root actor are published.
 */
export interface InspectedEvent {
  type: string;
  rootId: string;
  actorRef: { sessionId: string; id?: string };
  snapshot?: { value?: unknown; status?: string; context?: unknown };
  event?: { type?: string };
}

/** Observes the root actors of one component (one scope: `control-plane`, `node-1`, …). */
export interface ActorObserver {
  /**
   * The `inspect` callback for a root actor of `kind` (pod, node, workloop, lease, …) named
   * `id`, to pass to `createActor(machine, { inspect })`; called once per actor before it starts.
   * The actor is forgotten when it reaches a final or stopped status.
   */
  inspector(kind: string, id: string): (ev: InspectedEvent) => void;
}

export interface Observe {
  metrics: Metrics;
  actors?: ActorObserver;
}

/** Nothing measured, nothing published. */
export const unobserved: Observe = { metrics: noMetrics };

/** The `inspect` option for `createActor`, or nothing when actors are not observed. */
export function inspectOption(obs: Observe | undefined, kind: string, id: string): { inspect?: (ev: InspectedEvent) => void } {
  const inspect = obs?.actors?.inspector(kind, id);
  return inspect ? { inspect } : {};
}
