/**
 * Connection limits of the REST server, with small configured values: slow-header clients
 * (TLS done, headers trickling; or no TLS handshake at all) are closed by the header timeout,
 * connections beyond the per-address and total caps are refused as they arrive, a malformed
 * request's socket is destroyed, and ordinary requests are still served meanwhile.
 */
import { afterEach, describe, expect, it } from "vitest";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { startHttpApi, type HttpApi, type HttpApiOptions } from "../../../../runtime/http/server.ts";
import { generateCa, generateServerCert, generateToken } from "../../../../runtime/tls.ts";
import { FakeApi } from "../../../helpers/http_fake_api.ts";
import { request } from "node:https";
import { waitFor } from "../../../helpers/nats.ts";

const ca = await generateCa();
const cert = await generateServerCert(ca, { hosts: ["127.0.0.1"] });
const token = generateToken();
const servers: HttpApi[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function serve(opts: Partial<HttpApiOptions>): Promise<HttpApi> {
  const s = await startHttpApi({ api: new FakeApi(), token, tls: { cert: cert.certPem, key: cert.keyPem }, log: () => {}, ...opts });
  servers.push(s);
  return s;
}

interface Tracked<S extends Socket> {
  socket: S;
  closed: boolean;
  closedAt?: number;
}

function track<S extends Socket>(socket: S): Tracked<S> {
  const t: Tracked<S> = { socket, closed: false };
  sockets.push(socket);
  socket.on("error", () => {});
  // Read (and drop) whatever comes: a paused socket never sees the server's FIN.
  socket.on("data", () => {});
  // The server's FIN ("end") is when it closed; "close" may follow later.
  const closed = () => {
    if (t.closed) return;
    t.closed = true;
    t.closedAt = Date.now();
  };
  socket.on("end", closed);
  socket.on("close", closed);
  return t;
}

/**
 * A TLS connection from `from` that finishes its handshake and starts a request, then either
 * sends a header line every 100 ms (`trickle`) or nothing more; it never ends the headers.
 */
async function slowHeaders(port: number, from: string, trickle: boolean): Promise<Tracked<TLSSocket>> {
  // TLS over a TCP socket bound to `from`: each source address is a different client.
  const tcp = tcpConnect({ host: "127.0.0.1", port, localAddress: from });
  sockets.push(tcp);
  const t = track(tlsConnect({ socket: tcp, ca: ca.certPem, host: "127.0.0.1" }));
  await new Promise<void>((resolve, reject) => {
    t.socket.once("secureConnect", resolve);
    t.socket.once("close", () => reject(new Error("closed before the handshake")));
  });
  t.socket.write("GET /api/v1/pods HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (trickle) {
    const timer = setInterval(() => {
      if (!t.closed) t.socket.write(`X-Slow-${Date.now()}: 1\r\n`);
    }, 100);
    t.socket.once("close", () => clearInterval(timer));
  }
  return t;
}

/** One GET on a fresh connection (no keep-alive agent: the connection counts must settle). */
function get(s: HttpApi, path = "/api/v1/pods"): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { ca: ca.certPem, headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

/** A TCP connection from `from` that never sends a byte (not even a TLS ClientHello). */
function silent(port: number, from: string): Tracked<Socket> {
  return track(tcpConnect({ host: "127.0.0.1", port, localAddress: from }));
}

describe("http connections", () => {
  it("http connections - trickling, stalled and silent clients are closed by the header timeout; an ordinary GET is served meanwhile", async () => {
    const s = await serve({ headersTimeoutMs: 500 });
    const start = Date.now();
    const slow = await Promise.all(Array.from({ length: 20 }, (_, i) => slowHeaders(s.port, `127.0.0.${10 + i}`, i % 2 === 0)));
    const mute = Array.from({ length: 10 }, (_, i) => silent(s.port, `127.0.0.${40 + i}`));
    expect(await get(s)).toBe(200);
    await waitFor(() => [...slow, ...mute].every((t) => t.closed), "every slow client to be closed", 5_000);
    const longest = Math.max(...[...slow, ...mute].map((t) => t.closedAt! - start));
    // 500 ms allowed, checked about every 125 ms; generous for two shared cores.
    expect(longest).toBeLessThan(2_500);
    await waitFor(() => s.connections() === 0, "the server to count no connections");
  });

  it("http connections - beyond the per-address cap a connection is refused at once; other addresses are served", async () => {
    const s = await serve({ maxConnectionsPerAddress: 5, headersTimeoutMs: 20_000 });
    const held = Array.from({ length: 5 }, () => silent(s.port, "127.0.0.2"));
    await waitFor(() => s.connections() === 5, "five connections held");
    const extra = silent(s.port, "127.0.0.2");
    await waitFor(() => extra.closed, "the sixth connection from 127.0.0.2 to be refused", 5_000);
    expect(held.every((t) => !t.closed)).toBe(true);
    expect(s.connections()).toBe(5);
    expect(await get(s)).toBe(200);
    // A place freed is a place taken again.
    held[0].socket.destroy();
    await waitFor(() => s.connections() === 4, "the server to see the close");
    const again = silent(s.port, "127.0.0.2");
    await waitFor(() => s.connections() === 5, "the new connection to be held");
    expect(again.closed).toBe(false);
  });

  it("http connections - beyond the total cap a connection is refused at once, whatever its address", async () => {
    const s = await serve({ maxConnections: 6, maxConnectionsPerAddress: 100, headersTimeoutMs: 20_000 });
    const held = Array.from({ length: 6 }, (_, i) => silent(s.port, `127.0.1.${i + 1}`));
    await waitFor(() => s.connections() === 6, "six connections held");
    const extra = silent(s.port, "127.0.1.99");
    await waitFor(() => extra.closed, "the seventh connection to be refused", 5_000);
    expect(held.every((t) => !t.closed)).toBe(true);
  });

  it("http connections - a malformed request gets a 400 and its socket is destroyed, not left half-open", async () => {
    const s = await serve({ tls: false, headersTimeoutMs: 20_000 });
    // allowHalfOpen: the client does not close its side when the server does, so a server that
    // only ended its side would keep the socket (and its descriptor) until the client left.
    const t = track(tcpConnect({ host: "127.0.0.1", port: s.port, allowHalfOpen: true }));
    let reply = "";
    t.socket.on("data", (d) => (reply += String(d)));
    t.socket.write("NOT HTTP AT ALL\r\n\r\n");
    await waitFor(() => reply.includes("\r\n\r\n"), "the 400 reply");
    expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    await waitFor(() => s.connections() === 0, "the server to destroy the socket", 5_000);
  });
});
