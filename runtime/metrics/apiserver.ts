/**
 * The API server's request metrics, named as kube-apiserver's:
 *
 *   apiserver_request_total{verb,resource,code}          counter
 *   apiserver_request_duration_seconds{verb,resource}   histogram (watches excluded, as there)
 *   apiserver_current_inflight_requests{request_kind}   gauge (readOnly / mutating)
 *   apiserver_registered_watchers{resource}              gauge
 *   apiserver_flowcontrol_rejected_requests_total{reason}  counter (rate limit, connection caps)
 *
 * `verb` is Kubernetes' upper-case request verb: GET, LIST, WATCH, POST, PUT, PATCH, DELETE.
 */
import type { Metrics } from "../../model/metrics.ts";
import type { Route } from "../http/routes.ts";

/** Kubernetes' verb for a request (LIST and WATCH are GETs of a collection). */
export function requestVerb(method: string, route: Route, query: URLSearchParams): string {
  if (route.type === "resource" && method === "GET") {
    if (route.watchPrefix || query.get("watch") === "true" || query.get("watch") === "1") return "WATCH";
    if (route.name === undefined) return "LIST";
  }
  return method;
}

/** The `resource` label: the resource (with subresource), or the path for non-resource requests. */
export function requestResource(route: Route, path: string): string {
  if (route.type === "resource") return route.subresource ? `${route.resource}/${route.subresource}` : route.resource;
  if (route.type === "static") return "";
  // Unknown paths are not echoed into label values (unbounded cardinality).
  return route.type === "health" ? "" : path === "/metrics" ? "" : "unknown";
}

export interface RequestMetrics {
  /** Call at the start of a request; the returned function at its end, with the status code. */
  begin(method: string, route: Route, path: string, query: URLSearchParams): (code: number) => void;
  /** A request refused before it was served (rate limit, connection cap). */
  rejected(reason: string): void;
}

export function requestMetrics(m: Metrics): RequestMetrics {
  const total = m.counter("apiserver_request_total", "Counter of apiserver requests broken out for each verb, resource and HTTP response code.", ["verb", "resource", "code"]);
  const duration = m.histogram("apiserver_request_duration_seconds", "Response latency distribution in seconds for each verb and resource (watches excluded).", ["verb", "resource"]);
  const inflight = m.gauge("apiserver_current_inflight_requests", "Maximal number of currently used inflight request limit of this apiserver per request kind.", ["request_kind"]);
  const rejected = m.counter("apiserver_flowcontrol_rejected_requests_total", "Number of requests rejected by flow control (rate limit, connection caps).", ["reason"]);
  const watchers = m.gauge("apiserver_registered_watchers", "Number of currently registered watchers for a given resource.", ["resource"]);
  for (const kind of ["readOnly", "mutating"]) inflight.set({ request_kind: kind }, 0);
  return {
    begin(method, route, path, query) {
      const start = performance.now();
      const verb = requestVerb(method, route, query);
      const resource = requestResource(route, path);
      const kind = method === "GET" || method === "HEAD" ? "readOnly" : "mutating";
      inflight.inc({ request_kind: kind });
      // A REST watch is registered for as long as its request is open.
      if (verb === "WATCH") watchers.inc({ resource });
      let done = false;
      return (code) => {
        if (done) return;
        done = true;
        inflight.dec({ request_kind: kind });
        if (verb === "WATCH") watchers.dec({ resource });
        total.inc({ verb, resource, code: String(code) });
        if (verb !== "WATCH") duration.observe({ verb, resource }, (performance.now() - start) / 1000);
      };
    },
    rejected: (reason) => rejected.inc({ reason }),
  };
}

/** What flow control (runtime/security/flow_control.ts) reports per priority level. */
export interface FlowLevelFigures {
  seats: number;
  inFlight: number;
  queued: number;
  dispatched: number;
  rejected: number;
  timedOut: number;
}

/**
 * Flow control's figures under API Priority and Fairness' names, read at each scrape:
 *
 *   apiserver_flowcontrol_nominal_limit_seats{priority_level}           gauge
 *   apiserver_flowcontrol_current_executing_requests{priority_level}    gauge
 *   apiserver_flowcontrol_current_inqueue_requests{priority_level}      gauge
 *   apiserver_flowcontrol_dispatched_requests_total{priority_level}     counter
 *   apiserver_flowcontrol_rejected_requests_total{reason="queue-full"|"time-out"}  counter
 */
export function flowControlMetrics(m: Metrics, figures: () => Record<string, FlowLevelFigures>): void {
  const dispatched = m.counter("apiserver_flowcontrol_dispatched_requests_total", "Number of requests executed by API Priority and Fairness subsystem.", ["priority_level"]);
  const rejected = m.counter("apiserver_flowcontrol_rejected_requests_total", "Number of requests rejected by flow control (rate limit, connection caps).", ["reason"]);
  // The counters follow the cumulative figures: each scrape adds what grew since the last.
  const last = new Map<string, number>();
  const grow = (key: string, now: number, add: (n: number) => void) => {
    const d = now - (last.get(key) ?? 0);
    if (d > 0) add(d);
    last.set(key, now);
  };
  m.gauge("apiserver_flowcontrol_nominal_limit_seats", "Nominal number of execution seats configured for each priority level.", ["priority_level"], (g) => {
    for (const [level, f] of Object.entries(figures())) g.set({ priority_level: level }, f.seats);
  });
  m.gauge("apiserver_flowcontrol_current_executing_requests", "Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage.", ["priority_level"], (g) => {
    for (const [level, f] of Object.entries(figures())) g.set({ priority_level: level }, f.inFlight);
  });
  m.beforeScrape?.(() => {
    let queueFull = 0, timedOut = 0;
    for (const [level, f] of Object.entries(figures())) {
      grow(`dispatched/${level}`, f.dispatched, (n) => dispatched.inc({ priority_level: level }, n));
      queueFull += f.rejected;
      timedOut += f.timedOut;
    }
    grow("queue-full", queueFull, (n) => rejected.inc({ reason: "queue-full" }, n));
    grow("time-out", timedOut, (n) => rejected.inc({ reason: "time-out" }, n));
  });
  m.gauge("apiserver_flowcontrol_current_inqueue_requests", "Number of requests currently pending in queues.", ["priority_level"], (g) => {
    for (const [level, f] of Object.entries(figures())) g.set({ priority_level: level }, f.queued);
  });
}
