/**
 * The service proxy's metrics. Nothing is counted on the connection path for them: each
 * TcpProxy keeps plain counters (its worker processes' counters join them over IPC every
 * 200 ms, runtime/proxy/worker_pool.ts), and at each scrape the increase since the previous
 * scrape is added to the Prometheus counters, per service port.
 *
 *   kubeproxy_sync_proxy_rules_duration_seconds      histogram   one service's dataplane update (both modes)
 *   kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge      when the last update finished
 *   berth_proxy_connections_total{service,port}       counter    connections accepted (userspace mode)
 *   berth_proxy_active_connections{service,port}      gauge
 *   berth_proxy_bytes_total{service,port,direction}   counter    `in` read from clients, `out` written to them (at close)
 *   berth_proxy_dial_failures_total{service,port}     counter    endpoint dials refused or timed out
 *   berth_proxy_rejected_connections_total{service,port} counter no endpoint reachable
 *
 * kube-proxy has no per-service connection metrics (its userspace mode had none either), hence
 * Berth's own names for those.
 */
import type { Metrics } from "../../model/metrics.ts";
import type { ProxyStats } from "../proxy/tcp_proxy.ts";

/** One proxied service port. */
export interface ProxiedPort {
  /** `namespace/name`. */
  service: string;
  port: number;
  stats: ProxyStats;
}

type Counted = Pick<ProxyStats, "accepted" | "dialFailures" | "rejected" | "bytesIn" | "bytesOut">;

export interface ProxyMetrics {
  /** One dataplane update of a service took `seconds`. */
  synced(seconds: number): void;
}

/** Registers the proxy's metrics on `metrics`, reading `ports()` at each scrape. */
export function proxyMetrics(metrics: Metrics, ports: () => Iterable<ProxiedPort>): ProxyMetrics {
  const syncDuration = metrics.histogram("kubeproxy_sync_proxy_rules_duration_seconds", "SyncProxyRules latency in seconds: one service's dataplane update", [], [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);
  const lastSync = metrics.gauge("kubeproxy_sync_proxy_rules_last_timestamp_seconds", "The last time a service's proxy rules were successfully synced (Unix seconds)");
  const labels = ["service", "port"] as const;
  const connections = metrics.counter("berth_proxy_connections_total", "Connections accepted by the userspace proxy, per service port", labels);
  const bytes = metrics.counter("berth_proxy_bytes_total", "Bytes proxied per service port: in = read from clients, out = written to them (counted as each connection closes)", [...labels, "direction"]);
  const dialFailures = metrics.counter("berth_proxy_dial_failures_total", "Endpoint dials that failed (refused, unreachable or timed out), per service port", labels);
  const rejected = metrics.counter("berth_proxy_rejected_connections_total", "Connections closed because no endpoint could be reached, per service port", labels);
  const shown = new Set<string>();
  const active = metrics.gauge("berth_proxy_active_connections", "Connections open through the userspace proxy, per service port", labels, (g) => {
    const now = new Set<string>();
    for (const p of ports()) {
      const key = `${p.service}\u0000${p.port}`;
      now.add(key);
      g.set({ service: p.service, port: p.port }, p.stats.active);
    }
    // A service port gone: its gauge reads 0 rather than its last value.
    for (const key of shown) {
      if (now.has(key)) continue;
      const [service, port] = key.split("\u0000");
      g.set({ service, port }, 0);
    }
    shown.clear();
    for (const k of now) shown.add(k);
  });
  void active;

  // What each proxy's counters read at the previous scrape (a proxy replaced starts again at 0).
  const seen = new WeakMap<ProxyStats, Counted>();
  metrics.beforeScrape?.(() => {
    for (const p of ports()) {
      const s = p.stats;
      const last = seen.get(s) ?? { accepted: 0, dialFailures: 0, rejected: 0, bytesIn: 0, bytesOut: 0 };
      const l = { service: p.service, port: p.port };
      if (s.accepted > last.accepted) connections.inc(l, s.accepted - last.accepted);
      if (s.dialFailures > last.dialFailures) dialFailures.inc(l, s.dialFailures - last.dialFailures);
      if (s.rejected > last.rejected) rejected.inc(l, s.rejected - last.rejected);
      if (s.bytesIn > last.bytesIn) bytes.inc({ ...l, direction: "in" }, s.bytesIn - last.bytesIn);
      if (s.bytesOut > last.bytesOut) bytes.inc({ ...l, direction: "out" }, s.bytesOut - last.bytesOut);
      seen.set(s, { accepted: s.accepted, dialFailures: s.dialFailures, rejected: s.rejected, bytesIn: s.bytesIn, bytesOut: s.bytesOut });
    }
  });

  return {
    synced(seconds) {
      syncDuration.observe(undefined, seconds);
      lastSync.set(undefined, Date.now() / 1000);
    },
  };
}
