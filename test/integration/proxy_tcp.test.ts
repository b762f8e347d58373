import { afterEach, describe, expect, it } from "vitest";
import net from "node:net";
import crypto from "node:crypto";
import { TcpProxy } from "../../runtime/proxy/tcp_proxy.ts";
import { waitFor } from "../helpers/nats.ts";

/** A loopback TCP server that answers every connection with its name, then closes. */
async function nameServer(name: string): Promise<{ port: number; server: net.Server; close(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((s) => {
    conns.add(s);
    s.on("close", () => conns.delete(s));
    s.end(name);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        for (const c of conns) c.destroy();
      }),
  };
}

function fetchOnce(port: number, host = "127.0.0.1"): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let data = "";
    s.on("data", (d) => (data += d));
    s.on("end", () => resolve(data));
    s.on("error", reject);
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function proxyTo(ports: number[], opts: { affinity?: number } = {}): Promise<{ proxy: TcpProxy; port: number }> {
  const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "test", affinityTimeoutSeconds: opts.affinity });
  proxy.setEndpoints(ports.map((port) => ({ host: "127.0.0.1", port })));
  const [addr] = await proxy.start();
  cleanups.push(() => proxy.stop());
  return { proxy, port: addr.port };
}

describe("TCP proxy on loopback", () => {
  it("spreads connections round robin over three servers", async () => {
    const servers = await Promise.all(["a", "b", "c"].map(nameServer));
    for (const s of servers) cleanups.push(s.close);
    const { port } = await proxyTo(servers.map((s) => s.port));
    const got: string[] = [];
    for (let i = 0; i < 9; i++) got.push(await fetchOnce(port));
    expect(got.filter((g) => g === "a")).toHaveLength(3);
    expect(got.filter((g) => g === "b")).toHaveLength(3);
    expect(got.filter((g) => g === "c")).toHaveLength(3);
  });

  it("moves to the next endpoint when one refuses connections, so no client fails", async () => {
    const servers = await Promise.all(["a", "b"].map(nameServer));
    for (const s of servers) cleanups.push(s.close);
    const dead = await freePort();
    const { proxy, port } = await proxyTo([servers[0].port, dead, servers[1].port]);
    const got: string[] = [];
    for (let i = 0; i < 12; i++) got.push(await fetchOnce(port));
    expect(got.every((g) => g === "a" || g === "b")).toBe(true);
    expect(proxy.stats.dialFailures).toBeGreaterThan(0);
    expect(proxy.stats.rejected).toBe(0);
  });

  it("resets the client when no endpoint can be reached, after a few tries", async () => {
    const { proxy, port } = await proxyTo([await freePort()]);
    await expect(fetchOnce(port)).rejects.toThrow();
    expect(proxy.stats.rejected).toBe(1);
    expect(proxy.stats.dialFailures).toBe(4);
  });

  it("serves an endpoint given by name (not an IP literal) on the socket path, half-close and all", async () => {
    const server = await nameServer("named");
    cleanups.push(server.close);
    const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "named" });
    proxy.setEndpoints([{ host: "localhost", port: server.port }]);
    const [addr] = await proxy.start();
    cleanups.push(() => proxy.stop());
    for (let i = 0; i < 3; i++) expect(await fetchOnce(addr.port)).toBe("named");
    expect(proxy.stats.forwarded).toBe(3);
    await waitFor(() => proxy.stats.active === 0, "the connections counted out");
  });

  it("pins a client to one endpoint with ClientIP affinity", async () => {
    const servers = await Promise.all(["a", "b", "c"].map(nameServer));
    for (const s of servers) cleanups.push(s.close);
    const { port } = await proxyTo(servers.map((s) => s.port), { affinity: 60 });
    const got = new Set<string>();
    for (let i = 0; i < 10; i++) got.add(await fetchOnce(port));
    expect(got.size).toBe(1);
  });

  it("a failed dial clears the client's affinity and it moves on", async () => {
    const a = await nameServer("a");
    const b = await nameServer("b");
    cleanups.push(b.close);
    const { port } = await proxyTo([a.port, b.port], { affinity: 60 });
    const first = await fetchOnce(port);
    if (first === "a") await a.close();
    else await b.close();
    const after = await fetchOnce(port);
    expect(after).not.toBe(first);
    expect(await fetchOnce(port)).toBe(after);
    if (first === "b") await a.close();
  });

  it("an open connection to a removed endpoint keeps working while new ones go elsewhere", async () => {
    // An echo server, so the open connection can be exercised after the removal.
    const echo = net.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
    const echoPort = (echo.address() as net.AddressInfo).port;
    const other = await nameServer("other");
    cleanups.push(other.close, () => new Promise<void>((r) => echo.close(() => r())));
    const { proxy, port } = await proxyTo([echoPort]);
    const c = net.connect(port, "127.0.0.1");
    const echoed = (msg: string) =>
      new Promise<string>((resolve) => {
        c.once("data", (d) => resolve(d.toString()));
        c.write(msg);
      });
    expect(await echoed("one")).toBe("one");
    proxy.setEndpoints([{ host: "127.0.0.1", port: other.port }]);
    expect(await fetchOnce(port)).toBe("other");
    expect(await echoed("two")).toBe("two");
    c.destroy();
  });

  it("passes a half-close through: the client ends its side and still reads the reply", async () => {
    // Replies with the byte count of the request only once the request side is ended.
    const counter = net.createServer({ allowHalfOpen: true }, (s) => {
      let n = 0;
      s.on("data", (d) => (n += d.length));
      s.on("end", () => s.end(`got ${n}`));
    });
    await new Promise<void>((r) => counter.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => counter.close(() => r())));
    const { port } = await proxyTo([(counter.address() as net.AddressInfo).port]);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      let data = "";
      s.on("data", (d) => (data += d));
      s.on("end", () => resolve(data));
      s.on("error", reject);
      s.end("x".repeat(1000));
    });
    expect(reply).toBe("got 1000");
  });

  it("carries a large transfer intact both ways with backpressure (64 MiB through a slow reader)", async () => {
    const size = 64 * 1024 * 1024;
    const payload = crypto.randomBytes(1024 * 1024);
    const expected = crypto.createHash("sha256");
    for (let i = 0; i < size / payload.length; i++) expected.update(payload);
    const digest = expected.digest("hex");
    // The upstream hashes what it receives and then streams the same amount back.
    const upstream = net.createServer({ allowHalfOpen: true }, (s) => {
      const h = crypto.createHash("sha256");
      s.on("data", (d) => h.update(d));
      s.on("end", async () => {
        s.write(h.digest("hex") + "\n");
        for (let i = 0; i < size / payload.length; i++) {
          if (!s.write(payload)) await new Promise((r) => s.once("drain", r));
        }
        s.end();
      });
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => upstream.close(() => r())));
    const { proxy, port } = await proxyTo([(upstream.address() as net.AddressInfo).port]);
    const c = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    for (let i = 0; i < size / payload.length; i++) {
      if (!c.write(payload)) await new Promise((r) => c.once("drain", r));
    }
    c.end();
    const back = crypto.createHash("sha256");
    let header = "";
    let received = 0;
    let maxBuffered = 0;
    await new Promise<void>((resolve, reject) => {
      c.on("data", (d: Buffer) => {
        if (header.length < 65) {
          const take = Math.min(65 - header.length, d.length);
          header += d.subarray(0, take).toString();
          d = d.subarray(take);
        }
        received += d.length;
        back.update(d);
        // A slow reader: pause now and then, so the proxy must hold back the upstream.
        if (received % (8 * 1024 * 1024) < d.length) {
          c.pause();
          setTimeout(() => c.resume(), 20);
        }
        maxBuffered = Math.max(maxBuffered, ...[...(proxy as unknown as { sockets: Set<net.Socket> }).sockets].map((s) => s.writableLength));
      });
      c.on("end", () => resolve());
      c.on("error", reject);
    });
    expect(header.trim()).toBe(digest);
    expect(received).toBe(size);
    expect(back.digest("hex")).toBe(digest);
    // Backpressure: the proxy never queued more than a few MiB toward the slow reader.
    expect(maxBuffered).toBeLessThan(8 * 1024 * 1024);
  });
  it("keeps the bytes of concurrent connections apart, also when read buffers are reused", async () => {
    // Each connection names a seed; the upstream answers 1 MiB derived from it, then closes.
    const pattern = (seed: number) => {
      const b = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((seed * 2654435761 + i) >>> 0, i);
      return b;
    };
    const upstream = net.createServer((s) => s.once("data", (d) => s.end(pattern(Number(d.toString())))));
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
    cleanups.push(() => new Promise<void>((r) => upstream.close(() => r())));
    const { proxy, port } = await proxyTo([(upstream.address() as net.AddressInfo).port]);
    const fetchSeed = (seed: number) =>
      new Promise<Buffer>((resolve, reject) => {
        const c = net.connect(port, "127.0.0.1", () => c.write(String(seed)));
        const parts: Buffer[] = [];
        c.on("data", (d: Buffer) => parts.push(d));
        c.on("end", () => resolve(Buffer.concat(parts)));
        c.on("error", reject);
      });
    // Two rounds of 40 at once: the second round runs on buffers the first one gave back.
    for (const round of [0, 1]) {
      const seeds = Array.from({ length: 40 }, (_, i) => round * 100 + i + 1);
      const got = await Promise.all(seeds.map(fetchSeed));
      for (const [i, seed] of seeds.entries()) expect(got[i].equals(pattern(seed)), `seed ${seed}`).toBe(true);
    }
    await waitFor(() => proxy.stats.active === 0, "every proxied connection to be closed");
    expect((proxy as unknown as { sockets: Set<net.Socket> }).sockets.size).toBe(0);
    expect(proxy.stats.forwarded).toBe(80);
  });

  it("stop closes connections that are open and ones still dialing, and the counters settle", async () => {
    // An upstream that accepts and never answers: forwarded connections stay open.
    const held = new Set<net.Socket>();
    const silent = net.createServer((s) => {
      held.add(s);
      s.on("close", () => held.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const s of held) s.destroy();
          silent.close(() => r());
        }),
    );
    const proxy = new TcpProxy({ listen: [{ host: "127.0.0.1", port: 0 }], name: "test" });
    proxy.setEndpoints([{ host: "127.0.0.1", port: (silent.address() as net.AddressInfo).port }]);
    const [addr] = await proxy.start();
    const clients = Array.from({ length: 10 }, () => {
      const c = net.connect(addr.port, "127.0.0.1");
      c.on("error", () => {});
      return { c, closed: new Promise((r) => c.once("close", r)) };
    });
    await waitFor(() => proxy.stats.forwarded === 10, "ten forwarded connections");
    await proxy.stop();
    await Promise.all(clients.map((x) => x.closed));
    await waitFor(() => proxy.stats.active === 0, "the active count to settle at 0");
    await waitFor(() => held.size === 0, "the upstream side of every pair to be closed");
  });
});
