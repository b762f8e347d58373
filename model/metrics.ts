/**
 * The metrics sink every component takes: counters, histograms and gauges by name, with
 * labels. Actors and work loops call it at their measurement points; the runtime implements it
 * with prom-client, one registry per component (runtime/metrics/registry.ts). Where no sink is
 * given, `noMetrics` drops everything, so unit tests need nothing.
 *
 * Names follow Kubernetes where a metric exists there (`apiserver_request_total`,
 * `workqueue_depth`, `kubelet_running_pods`, ...); Berth's own carry a `berth_` prefix. Durations
 * are in seconds, as Prometheus expects.
 */
export type Labels = Readonly<Record<string, string | number>>;

export interface Counter {
  inc(labels?: Labels, value?: number): void;
  /**
   * The series of `labels`, found once: its `inc` adds without looking the series up again (for
   * hot paths that count with the same labels on every call, as prom-client's `labels(...)`).
   */
  labels?(labels?: Labels): BoundCounter;
}

/** One series of a counter. */
export interface BoundCounter {
  inc(value?: number): void;
}

export interface Gauge {
  set(labels: Labels | undefined, value: number): void;
  inc(labels?: Labels, value?: number): void;
  dec(labels?: Labels, value?: number): void;
}

export interface Histogram {
  /** Records one observation, in the metric's unit (seconds for durations). */
  observe(labels: Labels | undefined, value: number): void;
  /** The series of `labels`, found once (see `Counter.labels`). */
  labels?(labels?: Labels): BoundHistogram;
}

/** One series of a histogram. */
export interface BoundHistogram {
  observe(value: number): void;
}

export interface Metrics {
  /**
   * The named metric, created on first use and shared afterwards. Asking again for a name with
   * other label names is a programming error and throws.
   */
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  /** `collect`, when given, runs at each scrape to bring the gauge up to date. */
  gauge(name: string, help: string, labelNames?: readonly string[], collect?: (g: Gauge) => void): Gauge;
  histogram(name: string, help: string, labelNames?: readonly string[], buckets?: readonly number[]): Histogram;
  /** Runs `fn` at each scrape before anything is read (to bring counters up to cumulative figures). */
  beforeScrape?(fn: () => void): void;
}

const NOOP: Required<Counter> & Gauge & Required<Histogram> & BoundCounter & BoundHistogram = { inc() {}, dec() {}, set() {}, observe() {}, labels: () => NOOP };

/** A sink that drops everything (the default where no metrics are given). */
export const noMetrics: Metrics = {
  counter: () => NOOP,
  gauge: () => NOOP,
  histogram: () => NOOP,
};

/** The series of `labels` of `c`, bound once where the sink can (`Counter.labels`), else each `inc` passes the labels. */
export function boundCounter(c: Counter, labels?: Labels): BoundCounter {
  return c.labels ? c.labels(labels) : { inc: (value?: number) => c.inc(labels, value) };
}

/** The series of `labels` of `h`, bound once where the sink can (`Histogram.labels`). */
export function boundHistogram(h: Histogram, labels?: Labels): BoundHistogram {
  return h.labels ? h.labels(labels) : { observe: (value: number) => h.observe(labels, value) };
}

/** Seconds since `start` (a `performance.now()`-style millisecond clock reading). */
export function secondsSince(start: number, now: number): number {
  return Math.max(0, (now - start) / 1000);
}
