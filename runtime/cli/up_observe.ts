/**
 * The observability part of `berth up`: the process's metrics listener (`--metrics-address`,
 * default 127.0.0.1 on a free port) and, with `--prometheus`, a Prometheus scraping every
 * component. Kept apart from up.ts so that file only wires it in.
 */
import { join } from "node:path";
import type { Log } from "../../model/log.ts";
import type { Cluster, ClusterInfo } from "../cluster.ts";
import { formatLine, makeLogger, parseLogFormat, parseLogLevel } from "../log/logger.ts";
import { logFileFor, RotatingLogs } from "../log/rotating_file.ts";
import { parseListenAddress, startMetricsServer } from "../metrics/http_server.ts";
import { startPrometheus } from "../prometheus.ts";
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";

export const OBSERVE_FLAGS: FlagSpec[] = [
  { name: "metrics-address", type: "string", help: "HOST:PORT of the metrics listener (default 127.0.0.1:0, a free port)", default: "127.0.0.1:0" },
  { name: "prometheus", type: "boolean", help: "also start Prometheus (/usr/bin/prometheus) scraping every component; see `berth prometheus-config`" },
  { name: "prometheus-port", type: "number", help: "Prometheus' port with --prometheus (default: a free one)" },
  { name: "log-format", type: "string", help: "component logs in <home>/logs/: json or text", default: "json" },
  { name: "log-level", type: "string", help: "debug, info, warn or error", default: "info" },
];

/**
 * The cluster's log: one file per component under `<home>/logs/` (`node-1.log` for a node's
 * lines, `control-plane.log` for the scheduler's and controllers', else the line's `component`,
 * else `api.log`), rotated by size; read them with `berth logs --component NAME`. With BERTH_DEBUG set, lines are also printed to stderr as text.
 */
export function upLog(home: string, flags: Record<string, unknown>, err: (s: string) => void): { log: Log; close(): void } {
  let format, level;
  try {
    format = parseLogFormat(String(flags["log-format"] ?? "json"));
    level = parseLogLevel(String(flags["log-level"] ?? "info"));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const files = new RotatingLogs(join(home, "logs"));
  const debug = !!process.env.BERTH_DEBUG;
  const log = makeLogger({
    format,
    level,
    write: (text, line) => {
      files.write(logFileFor(line), text);
      if (debug) err(`${formatLine(line, "text")}\n`);
    },
  });
  return { log, close: () => files.close() };
}

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
