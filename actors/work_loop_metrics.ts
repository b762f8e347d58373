/**
 * The work loop's figures, named as client-go's workqueue metrics, by controller (`name`; every
 * `rc/<key>` loop counts as `replicationcontroller`, every `service/<key>` as `service`, so the
 * label stays bounded):
 *
 *   workqueue_adds_total{name}                  wake-ups
 *   workqueue_depth{name}                       wake-ups waiting for a pass (a pass running or backing off)
 *   workqueue_retries_total{name}               failed passes, retried with back-off
 *   workqueue_work_duration_seconds{name}       time of one pass
 */
import { boundCounter, boundHistogram, noMetrics, type Metrics } from "../model/metrics.ts";

/** The bounded `name` label of a loop. */
export function loopKind(name: string): string {
  const i = name.indexOf("/");
  if (i < 0) return name;
  const head = name.slice(0, i);
  return head === "rc" ? "replicationcontroller" : head;
}

export function loopMetrics(metrics: Metrics = noMetrics, loopName: string) {
  const name = loopKind(loopName);
  const labels = { name };
  // This loop's series found once (no label lookup per wake-up or pass).
  const adds = boundCounter(metrics.counter("workqueue_adds_total", "Total number of adds handled by workqueue", ["name"]), labels);
  const depth = metrics.gauge("workqueue_depth", "Current depth of workqueue", ["name"]);
  const retries = boundCounter(metrics.counter("workqueue_retries_total", "Total number of retries handled by workqueue", ["name"]), labels);
  const duration = boundHistogram(metrics.histogram("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.", ["name"]), labels);
  let pending = false;
  const clear = () => {
    if (pending) {
      pending = false;
      depth.dec(labels);
    }
  };
  return {
    /** Wraps a pass: it takes the pending wake-up and is timed. */
    measure<A, R>(work: (a: A) => Promise<R>): (a: A) => Promise<R> {
      if (metrics === noMetrics) return work;
      // One `then` per pass, not an async wrapper with await and finally (a promise and a tick more each).
      return (a) => {
        clear();
        const start = performance.now();
        let p: Promise<R>;
        try {
          p = work(a);
        } catch (e) {
          duration.observe((performance.now() - start) / 1000);
          return Promise.reject(e);
        }
        return p.then(
          (v) => (duration.observe((performance.now() - start) / 1000), v),
          (e) => (duration.observe((performance.now() - start) / 1000), Promise.reject(e)),
        );
      };
    },
    /** A wake-up, given the loop's state when it came: while working or backing off it waits. */
    added(state: unknown): void {
      adds.inc();
      if ((state === "working" || state === "backoff") && !pending) {
        pending = true;
        depth.inc(labels);
      }
    },
    retried: () => retries.inc(),
    stopped: clear,
  };
}
