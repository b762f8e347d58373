/**
 * The scheduler's figures, named as kube-scheduler's:
 *
 *   scheduler_scheduling_attempt_duration_seconds{result}   decision + bind of one pod
 *                                                           (result: scheduled | unschedulable | error)
 *   scheduler_pending_pods{queue}                           pods waiting (queue "active"), counted each pass
 */
import { boundHistogram, noMetrics, type Metrics } from "../model/metrics.ts";

export function schedulerMetrics(metrics: Metrics = noMetrics) {
  const attempt = metrics.histogram("scheduler_scheduling_attempt_duration_seconds", "Scheduling attempt latency in seconds (scheduling algorithm + binding)", ["result"]);
  const pending = metrics.gauge("scheduler_pending_pods", "Number of pending pods, by the queue type.", ["queue"]);
  // Each result's series found once (one observation per pod).
  const results = {
    scheduled: boundHistogram(attempt, { result: "scheduled" }),
    unschedulable: boundHistogram(attempt, { result: "unschedulable" }),
    error: boundHistogram(attempt, { result: "error" }),
  };
  const active = { queue: "active" };
  return {
    pending: (n: number) => pending.set(active, n),
    attempt: (result: "scheduled" | "unschedulable" | "error", start: number) => results[result].observe((performance.now() - start) / 1000),
  };
}
