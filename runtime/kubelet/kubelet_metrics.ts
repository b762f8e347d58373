/**
 * The node agent's figures, named as the kubelet's:
 *
 *   kubelet_running_pods                                   pods whose last reported phase is Running
 *   kubelet_pod_start_duration_seconds                     from the agent first seeing a pod to it Running
 *   kubelet_runtime_operations_total{operation_type}       container runtime calls
 *   kubelet_runtime_operations_duration_seconds{operation_type}
 *   kubelet_runtime_operations_errors_total{operation_type}
 *   kubelet_image_pull_duration_seconds / kubelet_image_pulls_total{result}   (runtimes that pull)
 *
 * Runtime calls are measured by wrapping the runtime (`instrumentRuntime`), so neither the Docker
 * nor the hollow runtime knows about metrics.
 */
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import { boundCounter, boundHistogram, noMetrics, type Metrics } from "../../model/metrics.ts";

/** Long-lived streams: their call returns at once; timing them would say nothing. */
const NOT_TIMED = new Set(["close", "events", "logs"]);

/** The runtime with every call counted and timed (the same object when metrics are off). */
export function instrumentRuntime(runtime: ContainerRuntime, metrics: Metrics = noMetrics): ContainerRuntime {
  if (metrics === noMetrics) return runtime;
  const total = metrics.counter("kubelet_runtime_operations_total", "Cumulative number of runtime operations by operation type.", ["operation_type"]);
  const errors = metrics.counter("kubelet_runtime_operations_errors_total", "Cumulative number of runtime operation errors by operation type.", ["operation_type"]);
  const duration = metrics.histogram("kubelet_runtime_operations_duration_seconds", "Duration in seconds of runtime operations. Broken down by operation type.", ["operation_type"]);
  const pulls = metrics.counter("kubelet_image_pulls_total", "Image pulls by result (the runtime's pullImage calls).", ["result"]);
  const pullDuration = metrics.histogram("kubelet_image_pull_duration_seconds", "Duration in seconds to pull an image.", []);
  const wrap = (target: ContainerRuntime, prop: string, v: (...a: unknown[]) => unknown): unknown => {
    if (NOT_TIMED.has(prop)) return v.bind(target);
    const op = prop.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
    const labels = { operation_type: op };
    // The op's series found once, here: a call counts and times without looking them up.
    const calls = boundCounter(total, labels);
    const failures = boundCounter(errors, labels);
    const time = boundHistogram(duration, labels);
    const pull = op === "pull_image";
    const pullOk = pull ? boundCounter(pulls, { result: "success" }) : undefined;
    const pullFailed = pull ? boundCounter(pulls, { result: "failure" }) : undefined;
    const pullTime = pull ? boundHistogram(pullDuration) : undefined;
    const done = (start: number, success: boolean) => {
      const s = (performance.now() - start) / 1000;
      time.observe(s);
      if (!success) failures.inc();
      if (pull) {
        (success ? pullOk! : pullFailed!).inc();
        pullTime!.observe(s);
      }
    };
    return (...args: unknown[]) => {
      const start = performance.now();
      calls.inc();
      let r: unknown;
      try {
        r = v.apply(target, args);
      } catch (e) {
        done(start, false);
        throw e;
      }
      if (r && typeof (r as Promise<unknown>).then === "function") {
        // One `then` for the call's settling (the runtime's methods are async): its handlers
        // close over the start time only.
        return (r as Promise<unknown>).then((x) => (done(start, true), x), (e) => (done(start, false), Promise.reject(e)));
      }
      done(start, true);
      return r;
    };
  };
  // The runtime's methods (own and inherited), each wrapped once, on an object whose prototype is
  // the runtime: everything else (fields, getters) is read from the runtime itself. A plain
  // object, not a Proxy: a method read is an ordinary property read on the kubelet's hot path.
  const out = Object.create(runtime) as ContainerRuntime;
  const done = new Set<string>(["constructor"]);
  for (let o: object | null = runtime; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const prop of Object.getOwnPropertyNames(o)) {
      if (done.has(prop)) continue;
      done.add(prop);
      const d = Object.getOwnPropertyDescriptor(o, prop);
      if (typeof d?.value !== "function") continue;
      Object.defineProperty(out, prop, { value: wrap(runtime, prop, d.value as (...a: unknown[]) => unknown), writable: true, configurable: true });
    }
  }
  return out;
}

/** Running pods and pod start times, fed by the pod supervisor's status reports. */
export function podMetrics(metrics: Metrics = noMetrics) {
  const running = new Set<string>();
  metrics.gauge("kubelet_running_pods", "Number of pods that have a running pod sandbox", [], (g) => g.set(undefined, running.size));
  const start = metrics.histogram("kubelet_pod_start_duration_seconds", "Duration in seconds from kubelet seeing a pod for the first time to the pod starting to run", [], [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 300, 600]);
  const seen = new Map<string, number>();
  return {
    /** A pod's actor started. */
    seen(key: string): void {
      if (!seen.has(key)) seen.set(key, performance.now());
    },
    /** A status report of the pod's actor. */
    phase(key: string, phase: string | undefined): void {
      if (phase === "Running") {
        if (!running.has(key)) {
          running.add(key);
          const t = seen.get(key);
          if (t !== undefined && t !== Infinity) start.observe(undefined, (performance.now() - t) / 1000);
          seen.set(key, Infinity); // measured once: a container restart is no pod start
        }
      } else running.delete(key);
    },
    /** The pod's actor is gone. */
    gone(key: string): void {
      running.delete(key);
      seen.delete(key);
    },
  };
}
