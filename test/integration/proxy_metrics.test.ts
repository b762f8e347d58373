/**
 * The userspace proxy's metrics when worker processes serve part of the connections: their
 * counters (connections, bytes, dial failures) come back over IPC and add up, per service port,
 * in the owning process's registry — the figures /metrics serves — and promtool accepts them.
 */
import { execFileSync } from "node:child_process";
import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { proxyMetrics } from "../../runtime/metrics/proxy.ts";
import { ComponentMetrics } from "../../runtime/metrics/registry.ts";
import { TcpProxy } from "../../runtime/proxy/tcp_proxy.ts";
import type { StatsDelta } from "../../runtime/proxy/worker_pool.ts";
import { waitFor } from "../helpers/nats.ts";

/** Answers "ok" to whatever a client sends, then closes. */
async function okServer(): Promise<{ port: number; close(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on("close", () => conns.delete(s));
    s.once("data", () => s.end("ok"));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      for (const c of conns) c.destroy();
    }),
  };
}

/** Sends "hello", reads to the end; resolves with what came back ("" when the proxy reset it). */
function exchange(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => s.write("hello"));
    let data = "";
    const t = setTimeout(() => s.destroy(), 5000);
    s.on("data", (d) => (data += d));
    s.on("close", () => {
      clearTimeout(t);
      resolve(data);
    });
    s.on("error", () => {});
  });
}

/** A closed port on loopback: dials to it are refused. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe("proxy metrics with worker processes", () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
  });

  it("connections, bytes and dial failures served by the workers add up per service port in the node's registry", async () => {
    const up = await okServer();
    stops.push(up.close);
    const web = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "default/web:80", workers: 1 });
    web.setEndpoints([{ host: "127.0.0.1", port: up.port, key: "up" }]);
    const dead = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "default/dead:81", workers: 1, dialTimeoutsMs: [200] });
    dead.setEndpoints([{ host: "127.0.0.1", port: await closedPort(), key: "gone" }]);
    const [webAddr] = await web.start();
    const [deadAddr] = await dead.start();
    stops.push(() => web.stop(), () => dead.stop());
    expect(web.workerPids.length).toBe(1);

    const metrics = new ComponentMetrics("proxy");
    proxyMetrics(metrics, () => [{ service: "default/web", port: 80, stats: web.stats }, { service: "default/dead", port: 81, stats: dead.stats }]);

    // Until the worker has loaded, this process serves everything; go on until it served some.
    let fromWorker = 0;
    const orig = web.workerStats.bind(web);
    web.workerStats = (w: number, d: StatsDelta) => {
      fromWorker += d.bytesOut;
      orig(w, d);
    };
    let sent = 0;
    await waitFor(async () => {
      const got = await Promise.all(Array.from({ length: 10 }, () => exchange(webAddr.port)));
      sent += got.length;
      expect(got.every((g) => g === "ok")).toBe(true);
      return fromWorker > 0;
    }, "bytes counted by the worker process", 20_000, 50);
    expect(await exchange(deadAddr.port)).toBe("");
    expect(await exchange(deadAddr.port)).toBe("");

    const line = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
    const text = await waitFor(async () => {
      const t = await metrics.text();
      return line(t, 'berth_proxy_bytes_total{service="default/web",port="80",direction="out"}') === 2 * sent && line(t, 'berth_proxy_rejected_connections_total{service="default/dead",port="81"}') === 2 ? t : undefined;
    }, "the workers' counters in the registry", 5000, 100);
    expect(line(text, 'berth_proxy_connections_total{service="default/web",port="80"}')).toBe(sent);
    expect(line(text, 'berth_proxy_bytes_total{service="default/web",port="80",direction="in"}')).toBe(5 * sent);
    expect(line(text, 'berth_proxy_active_connections{service="default/web",port="80"}')).toBe(0);
    expect(line(text, 'berth_proxy_dial_failures_total{service="default/dead",port="81"}')).toBeGreaterThanOrEqual(2);
    expect(line(text, 'berth_proxy_connections_total{service="default/dead",port="81"}')).toBe(2);
    execFileSync("promtool", ["check", "metrics"], { input: text });
    // Counters only grow between scrapes: a second scrape with no traffic reads the same.
    expect(line(await metrics.text(), 'berth_proxy_connections_total{service="default/web",port="80"}')).toBe(sent);
  }, 60_000);
});
