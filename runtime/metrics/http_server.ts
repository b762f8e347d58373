/**
 * The metrics listener of a `berth node` / `berth control-plane` / `berth up` process: plain
 * HTTP on 127.0.0.1 by default (`--metrics-address`), serving each component's registry:
 *
 *   GET /metrics              the first component's registry (a one-component process)
 *   GET /metrics/<component>  one component's registry (`berth up`: control-plane, node-1, …)
 *   GET /metrics/             the list of components, one path per line
 *
 * Read-only figures, no secrets, loopback by default — like the kubelet's and kube-proxy's
 * local metrics ports; the API server's `/metrics` is behind its bearer token instead.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ComponentMetrics } from "./registry.ts";

export interface MetricsServer {
  /** `http://host:port`. */
  url: string;
  /** Scrape paths by component, e.g. `{ "node-1": "/metrics/node-1" }`. */
  paths(): Record<string, string>;
  /** Adds a component (a node agent started later). */
  add(c: ComponentMetrics): void;
  close(): Promise<void>;
}

/** Parses `host:port` (`--metrics-address`); port 0 picks a free one. */
export function parseListenAddress(s: string, flag = "--metrics-address"): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:\s]+)):(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${flag} must be HOST:PORT (e.g. 127.0.0.1:9101), got ${JSON.stringify(s)}`);
  return { host: m[1] ?? m[2], port };
}

export async function startMetricsServer(opts: { host?: string; port?: number; components: ComponentMetrics[] }): Promise<MetricsServer> {
  const components = new Map(opts.components.map((c) => [c.component, c]));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, text: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : text);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "only GET\n");
    if (path === "/metrics/" ) return send(200, [...components.keys()].map((c) => `/metrics/${c}\n`).join(""));
    const c = path === "/metrics" ? components.values().next().value : path.startsWith("/metrics/") ? components.get(path.slice("/metrics/".length)) : undefined;
    if (!c) return send(404, `not found; try /metrics/ for the list\n`);
    c.text().then((t) => send(200, t, c.contentType), (e) => send(500, `${String(e)}\n`));
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    paths: () => Object.fromEntries([...components.keys()].map((c) => [c, `/metrics/${c}`])),
    add: (c) => void components.set(c.component, c),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
