/**
 * What makes a process's components observable: one metrics registry per component
 * (runtime/metrics/registry.ts) and one actor publisher per actor scope (runtime/inspect/).
 * `berth up`, `berth node`, `berth control-plane` and `Cluster` each hold one, and hand each
 * component its `Observe` (model/observe.ts).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { noMetrics } from "../model/metrics.ts";
import type { Observe } from "../model/observe.ts";
import { ActorPublisher } from "./inspect/actor_publisher.ts";
import { ComponentMetrics } from "./metrics/registry.ts";

export interface ObservabilityOptions {
  /** Prometheus metrics. Default true. */
  metrics?: boolean;
  /** Publish actor transitions on NATS and answer actor snapshots. Default true. */
  actors?: boolean;
  /** Publishing tick of the actor publishers (coalescing window). Default 100 ms. */
  actorTickMs?: number;
}

export class Observability {
  readonly components: ComponentMetrics[] = [];
  private readonly publishers: ActorPublisher[] = [];

  constructor(readonly opts: ObservabilityOptions = {}) {}

  /** The registry of `component` (made on first use; the first one also carries process metrics), or none when metrics are off. */
  registry(component: string): ComponentMetrics | undefined {
    if (this.opts.metrics === false) return undefined;
    let c = this.components.find((x) => x.component === component);
    if (!c) {
      c = new ComponentMetrics(component, { processMetrics: this.components.length === 0 });
      this.components.push(c);
    }
    return c;
  }

  /** What component `component` is given: its metrics, and its actors published under `scope` on `nc`. */
  observe(component: string, actors?: { nc: NatsConnection; scope: string }): Observe {
    let publisher: ActorPublisher | undefined;
    if (actors && this.opts.actors !== false) {
      publisher = new ActorPublisher(actors.nc, actors.scope, { tickMs: this.opts.actorTickMs });
      this.publishers.push(publisher);
    }
    return { metrics: this.registry(component) ?? noMetrics, ...(publisher ? { actors: publisher } : {}) };
  }

  /** Publishes pending transitions and stops answering snapshots. */
  close(): void {
    for (const p of this.publishers) p.close();
  }
}
