/**
 * The observability part of `berth up`: the process's metrics listener (`--metrics-address`,
 * default 127.0.0.1 on a free port) and, with `--prometheus`, a Prometheus scraping every
 * component. Kept apart from up.ts so that file only wires it in.
 */
import type { Cluster, ClusterInfo } from "../cluster.ts";
import { parseListenAddress, startMetricsServer } from "../metrics/http_server.ts";
import { startPrometheus } from "../prometheus.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";

export const OBSERVE_FLAGS: FlagSpec[] = [
  { name: "metrics-address", type: "string", help: "HOST:PORT of the metrics listener (default 127.0.0.1:0, a free port)", default: "127.0.0.1:0" },
  { name: "prometheus", type: "boolean", help: "also start Prometheus (/usr/bin/prometheus) scraping every component; see `berth prometheus-config`" },
  { name: "prometheus-port", type: "number", help: "Prometheus' port with --prometheus (default: a free one)" },
];

/** Starts the metrics listener (and Prometheus); returns what cluster.json records. */
export async function startUpObservability(cluster: Cluster, flags: Record<string, unknown>, say: (s: string) => void): Promise<Pick<ClusterInfo, "metrics">> {
  let addr: { host: string; port: number };
  try {
    addr = parseListenAddress(String(flags["metrics-address"] ?? "127.0.0.1:0"));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (cluster.observability.components.length === 0) return {};
  const server = await startMetricsServer({ ...addr, components: cluster.observability.components });
  cluster.onStop(() => server.close());
  const paths = server.paths();
  say(`metrics at ${server.url}/metrics/{${Object.keys(paths).join(",")}} (the API server's own: <API>/metrics, with the token)`);
  return { metrics: { url: server.url, paths } };
}

/** `--prometheus`: starts Prometheus on the written scrape config, stopped with the cluster. */
export async function startUpPrometheus(cluster: Cluster, info: ClusterInfo, flags: Record<string, unknown>, say: (s: string) => void): Promise<void> {
  if (!flags.prometheus) return;
  const prom = await startPrometheus(info, { port: flags["prometheus-port"] as number | undefined });
  cluster.onStop(() => prom.stop());
  say(`Prometheus at ${prom.url} (scrape config ${prom.configPath})`);
}
