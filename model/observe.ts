/**
 * What a component is given to be seen from outside: its metrics sink, and an observer of its
 * actors (published on NATS by the runtime while someone watches — runtime/inspect/). Both
 * optional; absent, nothing is measured or published and nothing is slowed.
 */
import { noMetrics, type Metrics } from "./metrics.ts";

/**
 * The part of an xstate inspection event Berth reads (xstate's `InspectionEvent`; the model
 * does not import xstate). Only `@xstate.snapshot` events of the root actor are used.
 */
export interface InspectedEvent {
  type: string;
  rootId: string;
  actorRef: unknown;
  snapshot?: { value?: unknown; status?: string; context?: unknown };
  event?: { type?: string };
}

/**
 * The part of an xstate root actor an observer uses (xstate's `Actor` fits it): its snapshot,
 * its snapshot observers, and its system's inspection API, attached only while someone watches.
 */
export interface ObservedActor {
  getSnapshot(): { value?: unknown; status?: string };
  subscribe(observer: { next?: (snapshot: unknown) => void; error?: (err: unknown) => void; complete?: () => void }): { unsubscribe(): void };
  system: { inspect(observer: (ev: InspectedEvent) => void): { unsubscribe(): void } };
}

/** Observes the root actors of one component (one scope: `control-plane`, `node-1`, …). */
export interface ActorObserver {
  /**
   * Follows a root actor of `kind` (pod, node, workloop, lease, …) named `id`, just created and
   * not yet started. Its owner must keep an error observer of its own (every root actor has one):
   * the observer's error handler only forgets the actor. The actor is forgotten when it reaches
   * a final, stopped or error status.
   */
  observe(kind: string, id: string, actor: ObservedActor): void;
}

export interface Observe {
  metrics: Metrics;
  actors?: ActorObserver;
}

/** Nothing measured, nothing published. */
export const unobserved: Observe = { metrics: noMetrics };

/** Hands a just-created root actor to the component's actor observer, if actors are observed. */
export function observeActor<A extends ObservedActor>(obs: Observe | undefined, kind: string, id: string, actor: A): A {
  obs?.actors?.observe(kind, id, actor);
  return actor;
}
