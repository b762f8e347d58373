/**
 * `Metrics` (model/metrics.ts) on prom-client: one `Registry` per component, never the global
 * default registry, so several components in one process (`berth up`, tests) never collide
 * over a metric name. Each registry may carry constant labels (`{ node: "node-1" }`).
 */
import { Gauge, Registry, collectDefaultMetrics, type Metric as PromMetric } from "prom-client";
import type { Counter as CounterI, Gauge as GaugeI, Histogram as HistogramI, Labels, Metrics } from "../../model/metrics.ts";
import { FastCounter, FastHistogram } from "./fast.ts";

/** Buckets for request and operation durations, in seconds (kube-apiserver's, trimmed). */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

type Metric = FastCounter | Gauge<string> | FastHistogram;

/** One component's metrics: what it serves on `/metrics`. */
export class ComponentMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly byName = new Map<string, { kind: string; labels: string; metric: Metric }>();

  /**
   * @param component the component's name, used in scrape configs and logs (`api`, `node-1` …)
   * @param opts.processMetrics add prom-client's process metrics (CPU, memory, event loop lag);
   *   only one registry per process should, or each would repeat the same figures.
   */
  constructor(readonly component: string, opts: { labels?: Record<string, string>; processMetrics?: boolean } = {}) {
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.processMetrics) {
      collectDefaultMetrics({ register: this.registry });
      // prom-client names these gauges `_total`, which Prometheus reserves for counters
      // (`promtool check metrics` refuses them); the same figures stay as nodejs_active_*.
      for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
        this.registry.removeSingleMetric(name);
      }
    }
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): CounterI {
    // Counters and histograms are Berth's own (fast.ts: no hashing per update), in the same registry.
    const c = this.get(name, "counter", labelNames, () => this.register(new FastCounter(name, help, labelNames))) as FastCounter;
    return {
      inc: (labels?: Labels, value = 1) => c.inc(labels, value),
      labels: (labels?: Labels) => c.labels(labels),
    };
  }

  gauge(name: string, help: string, labelNames: readonly string[] = [], collect?: (g: GaugeI) => void): GaugeI {
    let self: GaugeI | undefined;
    const g = this.get(name, "gauge", labelNames, () => new Gauge({ name, help, labelNames: [...labelNames], registers: [this.registry], ...(collect ? { collect: () => collect(self!) } : {}) })) as Gauge<string>;
    return (self = {
      set: (labels, value) => (labels ? g.set(labels, value) : g.set(value)),
      inc: (labels?: Labels, value = 1) => (labels ? g.inc(labels, value) : g.inc(value)),
      dec: (labels?: Labels, value = 1) => (labels ? g.dec(labels, value) : g.dec(value)),
    });
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = DURATION_BUCKETS): HistogramI {
    const h = this.get(name, "histogram", labelNames, () => this.register(new FastHistogram(name, help, labelNames, buckets))) as FastHistogram;
    return {
      observe: (labels, value) => h.observe(labels, value),
      labels: (labels?: Labels) => h.labels(labels),
    };
  }

  private register<M extends FastCounter | FastHistogram>(m: M): M {
    this.registry.registerMetric(m as unknown as PromMetric);
    return m;
  }

  private readonly scrapeHooks: (() => void)[] = [];

  beforeScrape(fn: () => void): void {
    this.scrapeHooks.push(fn);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    for (const fn of this.scrapeHooks) fn();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private get(name: string, kind: string, labelNames: readonly string[], make: () => Metric): Metric {
    const labels = [...labelNames].sort().join(",");
    const found = this.byName.get(name);
    if (found) {
      if (found.kind !== kind || found.labels !== labels) {
        throw new Error(`metric ${name} is a ${found.kind} with labels [${found.labels}]; asked for a ${kind} with [${labels}]`);
      }
      return found.metric;
    }
    const metric = make();
    this.byName.set(name, { kind, labels, metric });
    return metric;
  }
}
