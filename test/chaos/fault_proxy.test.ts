/**
 * The harness's TCP fault proxy against a real loopback echo server: each mode observed on the
 * wire (no mocks), including modes switched while a connection is open.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import net from "node:net";
import { FaultProxy, FaultProxyError } from "../../runtime/chaos/fault_proxy.ts";
import { waitFor } from "../helpers/nats.ts";

let echo: net.Server;
let echoPort: number;

beforeAll(async () => {
  echo = net.createServer((s) => {
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  echoPort = (echo.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => echo.close(() => r())));

/** A client that collects everything it receives and how the connection ended. */
function client(port: number) {
  const sock = net.connect({ host: "127.0.0.1", port });
  const state = { data: "", closed: false, error: "" as string };
  sock.on("data", (d) => (state.data += String(d)));
  sock.on("error", (e) => (state.error = (e as NodeJS.ErrnoException).code ?? e.message));
  sock.on("close", () => (state.closed = true));
  return { sock, state, connected: new Promise<void>((r) => sock.once("connect", () => r())) };
}

async function withProxy(fn: (p: FaultProxy) => Promise<void>) {
  const p = await FaultProxy.start({ upstream: { host: "127.0.0.1", port: echoPort } });
  try {
    await fn(p);
  } finally {
    await p.stop();
  }
}

describe("fault proxy", () => {
  it("pass: bytes round-trip unchanged", () =>
    withProxy(async (p) => {
      const c = client(p.port);
      await c.connected;
      c.sock.write("hello");
      await waitFor(() => c.state.data === "hello", "echo through the proxy");
      c.sock.destroy();
    }));

  it("blackhole: an open connection goes silent, and the held bytes arrive in order on heal", () =>
    withProxy(async (p) => {
      const c = client(p.port);
      await c.connected;
      c.sock.write("a");
      await waitFor(() => c.state.data === "a", "first byte");
      p.setMode({ type: "blackhole" });
      c.sock.write("b");
      c.sock.write("c");
      // Silence, checked over a window (a negative can only be observed over time).
      const until = Date.now() + 300;
      while (Date.now() < until) {
        expect(c.state.data).toBe("a");
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(c.state.closed).toBe(false);
      p.heal();
      await waitFor(() => c.state.data === "abc", "held bytes after heal");
      c.sock.destroy();
    }));

  it("blackhole: new connections are accepted but held until heal", () =>
    withProxy(async (p) => {
      p.setMode({ type: "blackhole" });
      const c = client(p.port);
      await c.connected;
      c.sock.write("x");
      await waitFor(() => p.connections === 1, "the held connection");
      expect(c.state.data).toBe("");
      p.heal();
      await waitFor(() => c.state.data === "x", "the held connection to be forwarded");
      c.sock.destroy();
    }));

  it("delay: each chunk arrives no sooner than the delay, in order", () =>
    withProxy(async (p) => {
      const c = client(p.port);
      await c.connected;
      p.setMode({ type: "delay", ms: 150 });
      const t0 = Date.now();
      c.sock.write("1");
      c.sock.write("2");
      await waitFor(() => c.state.data === "12", "delayed echo");
      // Two hops through the proxy (there and back), each delayed.
      expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
      c.sock.destroy();
    }));

  it("delay: a response followed by a close arrives whole before the close (half-close waits for the queue)", async () => {
    const server = net.createServer((s) => {
      // The proxy may reset this side when it stops: that is expected, not a test failure.
      s.on("error", () => {});
      s.end("response");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const p = await FaultProxy.start({ upstream: { host: "127.0.0.1", port: (server.address() as net.AddressInfo).port } });
    try {
      p.setMode({ type: "delay", ms: 200 });
      const c = client(p.port);
      await waitFor(() => c.state.closed, "the connection to close");
      expect(c.state.data).toBe("response");
      expect(c.state.error).toBe("");
    } finally {
      await p.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("bandwidth: 20 KB at 40 KB/s takes about half a second each way", () =>
    withProxy(async (p) => {
      const c = client(p.port);
      await c.connected;
      p.setMode({ type: "bandwidth", bytesPerSecond: 40_000 });
      const payload = "z".repeat(20_000);
      const t0 = Date.now();
      c.sock.write(payload);
      await waitFor(() => c.state.data.length === payload.length, "throttled echo", 10_000);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
      c.sock.destroy();
    }));

  it("reset: open connections see ECONNRESET, new ones are reset, heal restores service", () =>
    withProxy(async (p) => {
      const c = client(p.port);
      await c.connected;
      c.sock.write("q");
      await waitFor(() => c.state.data === "q", "echo before reset");
      p.setMode({ type: "reset" });
      await waitFor(() => c.state.closed, "the open connection to be reset");
      expect(c.state.error).toBe("ECONNRESET");
      const d = client(p.port);
      await waitFor(() => d.state.closed, "a new connection to be reset");
      p.heal();
      const e = client(p.port);
      await e.connected;
      e.sock.write("ok");
      await waitFor(() => e.state.data === "ok", "echo after heal");
      e.sock.destroy();
    }));

  it("refuses anything but loopback", async () => {
    await expect(FaultProxy.start({ upstream: { host: "10.0.0.1", port: 4222 } })).rejects.toThrow(FaultProxyError);
    await expect(FaultProxy.start({ upstream: { host: "127.0.0.1", port: 4222 }, listenHost: "0.0.0.0" })).rejects.toThrow(/loopback only/);
  });
});
