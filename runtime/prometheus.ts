/**
 * A scrape configuration for Prometheus covering every component of a running cluster, and
 * `berth up --prometheus`: Debian's `prometheus` as a child process scraping it.
 *
 *   job berth-api   the API server's /metrics (HTTPS, the cluster's CA, the bearer token file)
 *   job berth       the process's metrics listener, one target per component
 *                   (`__metrics_path__` /metrics/<component>, label component=<component>)
 *
 * Written to `<home>/prometheus/prometheus.yml`; `berth prometheus-config` prints the same text
 * for people who run their own Prometheus.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import type { ClusterInfo } from "./cluster.ts";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";

function hostPort(url: string): string {
  return new URL(url).host;
}

/** The scrape configuration (YAML; JSON strings are valid YAML scalars). */
export function scrapeConfig(info: Pick<ClusterInfo, "apiUrl" | "metrics" | "home">, opts: { intervalSeconds?: number } = {}): string {
  const q = JSON.stringify;
  const interval = `${opts.intervalSeconds ?? 5}s`;
  const lines = ["# Written by berth: every component of the cluster in " + info.home, "global:", `  scrape_interval: ${interval}`, `  evaluation_interval: ${interval}`, "scrape_configs:"];
  if (info.apiUrl) {
    const https = info.apiUrl.startsWith("https:");
    lines.push(
      "  - job_name: berth-api",
      `    scheme: ${https ? "https" : "http"}`,
      "    authorization:",
      "      type: Bearer",
      `      credentials_file: ${q(join(info.home, "token"))}`,
      ...(https ? ["    tls_config:", `      ca_file: ${q(join(info.home, "pki", "ca.crt"))}`] : []),
      "    static_configs:",
      `      - targets: [${q(hostPort(info.apiUrl))}]`,
      "        labels: { component: \"api\" }",
    );
  }
  if (info.metrics) {
    lines.push("  - job_name: berth", "    static_configs:");
    for (const [component, path] of Object.entries(info.metrics.paths)) {
      // The API server's registry is scraped once, through its own (authenticated) /metrics.
      if (component === "api" && info.apiUrl) continue;
      lines.push(`      - targets: [${q(hostPort(info.metrics.url))}]`, `        labels: { component: ${q(component)}, __metrics_path__: ${q(path)} }`);
    }
  }
  return lines.join("\n") + "\n";
}

export interface PrometheusHandle {
  url: string;
  configPath: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Writes the scrape config under `<home>/prometheus/` and starts Prometheus on loopback; resolves once it is ready. */
export async function startPrometheus(info: Pick<ClusterInfo, "apiUrl" | "metrics" | "home">, opts: { port?: number; log?: (s: string) => void } = {}): Promise<PrometheusHandle> {
  if (!existsSync(PROMETHEUS_BIN)) throw new Error(`${PROMETHEUS_BIN} is not installed (Debian package prometheus); run \`npm run setup\``);
  const dir = join(info.home, "prometheus");
  mkdirSync(join(dir, "data"), { recursive: true });
  const configPath = join(dir, "prometheus.yml");
  writeFileSync(configPath, scrapeConfig(info));
  const port = opts.port || (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(PROMETHEUS_BIN, [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--storage.tsdb.retention.time=1d",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // An orderly exit without stop() (process.exit in the CLI) takes Prometheus down too.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000).unref())]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      process.removeListener("exit", killOnExit);
      throw new Error(`prometheus exited with code ${child.exitCode}: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
    try {
      const r = await fetch(`${url}/-/ready`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus did not become ready within 30 s: ${stderr.trim().split("\n").slice(-3).join(" | ")}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, configPath, stop };
}
