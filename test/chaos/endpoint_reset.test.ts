/**
 * The service proxy behind an endpoint toxic switched to `reset`, on loopback and without Docker:
 * the two sides of the line that the Docker chaos test's reset window is drawn on. A request
 * already relayed to the endpoint when the reset comes fails, and is not replayed elsewhere (as
 * through kube-proxy: only dials are retried); a connection made after the switch is failed over.
 * The harness's fault proxy and the service proxy share one event loop here, as in the chaos runs.
 */
import { afterEach, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import { FaultProxy } from "../../runtime/chaos/fault_proxy.ts";
import { TcpProxy } from "../../runtime/proxy/tcp_proxy.ts";
import { waitFor } from "../helpers/nats.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An HTTP server on loopback that records each request and answers it through `answer`. */
async function server(answer: (res: http.ServerResponse) => void): Promise<{ port: number; requests: number }> {
  const s = { port: 0, requests: 0 };
  const srv = http.createServer((_req, res) => {
    s.requests++;
    answer(res);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  s.port = (srv.address() as net.AddressInfo).port;
  cleanups.push(() => {
    srv.closeAllConnections();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return s;
}

/** One request on a fresh connection, as the chaos client sends them: the body, or the error code. */
function get(port: number): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 5_000 }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ ok: true, detail: body }));
      res.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: e.code ?? e.message }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, detail: e.code ?? e.message }));
  });
}

describe("service proxy behind a reset endpoint toxic", () => {
  it("a request relayed before the reset fails without being replayed; requests after it are failed over", async () => {
    // `held` keeps every request unanswered, so one is surely in flight when the toxic switches.
    const held = await server(() => {});
    const other = await server((res) => res.end("other"));
    const toxic = await FaultProxy.start({ upstream: { host: "127.0.0.1", port: held.port } });
    cleanups.push(() => toxic.stop());
    const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "web" });
    proxy.setEndpoints([{ host: "127.0.0.1", port: toxic.port }, { host: "127.0.0.1", port: other.port }]);
    const [addr] = await proxy.start();
    cleanups.push(() => proxy.stop());

    // Round robin: of two connections, one goes through the toxic and stays there.
    const first = [get(addr.port), get(addr.port)];
    await waitFor(() => held.requests === 1 && other.requests === 1, "one request held behind the toxic, one answered");
    toxic.setMode({ type: "reset" });
    const [a, b] = await Promise.all(first);
    expect([a, b].filter((x) => x.ok)).toEqual([{ ok: true, detail: "other" }]);
    expect([a, b].filter((x) => !x.ok)).toEqual([{ ok: false, detail: "ECONNRESET" }]);
    // Not replayed: the other endpoint still saw only its own request.
    expect(other.requests).toBe(1);

    // After the switch every new connection to the toxic's endpoint is reset as it is accepted;
    // the proxy dials the other endpoint instead, and no client sees it.
    const dialFailures = proxy.stats.dialFailures;
    const after: { ok: boolean; detail: string }[] = [];
    for (let i = 0; i < 10; i++) after.push(await get(addr.port));
    expect(after).toEqual(Array.from({ length: 10 }, () => ({ ok: true, detail: "other" })));
    expect(proxy.stats.dialFailures - dialFailures).toBe(5);
    expect(proxy.stats.rejected).toBe(0);
    expect(held.requests).toBe(1);
  });
});
