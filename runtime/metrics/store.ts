/**
 * `berth_store_request_duration_seconds{op}` and `berth_store_requests_total{op,result}`: every
 * call the API makes to the JetStream KV store, timed by wrapping the store's methods on the
 * instance (the store itself knows nothing of metrics), as etcd's client metrics in kube-apiserver.
 */
import { boundCounter, boundHistogram, type Metrics } from "../../model/metrics.ts";

const OPS = ["create", "get", "tryGet", "list", "update", "delete"] as const;

function resultOf(e: unknown): "not_found" | "error" {
  return (e as { name?: string }).name === "NotFoundError" || (e as { code?: number }).code === 404 ? "not_found" : "error";
}

export function instrumentStore<S extends object>(store: S, metrics: Metrics): S {
  const duration = metrics.histogram("berth_store_request_duration_seconds", "Latency of requests to the JetStream KV store, by operation.", ["op"]);
  const total = metrics.counter("berth_store_requests_total", "Requests to the JetStream KV store, by operation and result.", ["op", "result"]);
  const s = store as unknown as Record<string, unknown>;
  for (const op of OPS) {
    const fn = s[op];
    if (typeof fn !== "function") continue;
    // The op's series found once (no label lookup or allocation per call).
    const time = boundHistogram(duration, { op });
    const results = {
      ok: boundCounter(total, { op, result: "ok" }),
      not_found: boundCounter(total, { op, result: "not_found" }),
      error: boundCounter(total, { op, result: "error" }),
    };
    const f = fn as (...a: unknown[]) => Promise<unknown>;
    // One `then` per call (no async wrapper, await and finally: each a promise and a tick more on
    // the API's write path).
    const settle = (start: number, result: keyof typeof results) => {
      time.observe((performance.now() - start) / 1000);
      results[result].inc();
    };
    s[op] = (...args: unknown[]) => {
      const start = performance.now();
      let p: Promise<unknown>;
      try {
        p = f.apply(store, args);
      } catch (e) {
        settle(start, resultOf(e));
        return Promise.reject(e);
      }
      return p.then(
        (v) => (settle(start, "ok"), v),
        (e) => (settle(start, resultOf(e)), Promise.reject(e)),
      );
    };
  }
  return store;
}
