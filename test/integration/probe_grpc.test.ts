/**
 * gRPC probes against real HTTP/2 servers on loopback (node:http2, no Docker): a health service
 * answering per service name, a server without the health service, one that never answers, a
 * TCP listener that never speaks HTTP/2, and a closed port. `runProbe` is called as the prober
 * calls it, with the pod IP 127.0.0.1, and must answer with the kubelet's words.
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Container, Probe } from "../../model/types.ts";
import type { ContainerRuntime } from "../../model/container_runtime.ts";
import { resolveProbe } from "../../runtime/kubelet/probe_decide.ts";
import { runProbe } from "../../runtime/kubelet/probes.ts";
import { waitFor } from "../helpers/nats.ts";

/** runProbe reaches the runtime only for exec and for runtimes that answer probes themselves (hollow). */
const noRuntime = {} as ContainerRuntime;

interface Served {
  server: http2.Http2Server;
  port: number;
  requests: { headers: http2.IncomingHttpHeaders; body: Buffer }[];
  /** HTTP/2 sessions currently open on the server side. */
  open: Set<http2.ServerHttp2Session>;
}

async function serve(onRequest: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, body: Buffer) => void): Promise<Served> {
  const server = http2.createServer();
  const requests: Served["requests"] = [];
  const open = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    open.add(s);
    s.on("close", () => open.delete(s));
    s.on("error", () => {}); // a client that goes away mid-call is expected here
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      requests.push({ headers, body });
      onRequest(stream, headers, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, requests, open };
}

/** The `service` field of a framed HealthCheckRequest ("" when absent). */
function requestedService(body: Buffer): string {
  const msg = body.subarray(5, 5 + body.readUInt32BE(1));
  if (msg.length === 0) return "";
  expect(msg[0]).toBe(0x0a); // field 1, length-delimited
  return msg.subarray(2, 2 + msg[1]).toString("utf8");
}

function replyStatus(stream: http2.ServerHttp2Stream, status: number): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "" }));
  // HealthCheckResponse{status}: field 1 varint; SERVING etc. are single bytes.
  const msg = status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(msg.length, 1);
  stream.end(Buffer.concat([prefix, msg]));
}

/** A trailers-only reply: the status in the one HEADERS frame, as grpc-go sends errors. */
function replyError(stream: http2.ServerHttp2Stream, code: number, message: string): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": encodeURIComponent(message) }, { endStream: true });
}

const container: Container = { name: "app", image: "berth/busybox" };
const probe = (p: Partial<Probe>, grpc: Probe["grpc"]): Probe => ({ grpc, timeoutSeconds: 1, ...p });
const target = { pod: { node: "n1", uid: "u1", name: "p", namespace: "default" }, container: "app", containerId: "c1", podIP: "127.0.0.1" };

async function probeOnce(p: Probe) {
  const started = Date.now();
  const outcome = await runProbe(noRuntime, resolveProbe(container, p), target);
  return { ...outcome, ms: Date.now() - started };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("gRPC probes against real HTTP/2 servers", () => {
  // The grpc-go health server's answers: the whole server ("") and "api" serving, "batch" not, anything else NotFound.
  const STATUSES: Record<string, number> = { "": 1, api: 1, batch: 2, draining: 3 };
  let health: Served;
  let noHealth: Served;
  let silent: Served;
  let mute: net.Server;
  let mutePort: number;
  const muteSockets = new Set<net.Socket>();

  beforeAll(async () => {
    health = await serve((stream, headers, body) => {
      if (headers[":path"] !== "/grpc.health.v1.Health/Check") return replyError(stream, 12, `unknown service ${String(headers[":path"]).split("/")[1]}`);
      const svc = requestedService(body);
      if (svc in STATUSES) replyStatus(stream, STATUSES[svc]);
      else replyError(stream, 5, "unknown service");
    });
    noHealth = await serve((stream) => replyError(stream, 12, "unknown service grpc.health.v1.Health"));
    silent = await serve(() => {}); // accepts the call, never answers it
    mute = net.createServer((s) => {
      s.resume(); // read (and drop) the client preface, so that the client's FIN is seen
      muteSockets.add(s);
      s.on("close", () => muteSockets.delete(s));
    });
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", r));
    mutePort = (mute.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of muteSockets) s.destroy();
    await new Promise((r) => mute.close(r));
    for (const h of [health, noHealth, silent]) await new Promise((r) => h.server.close(r));
  });

  test("a SERVING service passes; the request is a framed HealthCheckRequest over h2c", async () => {
    expect(await probeOnce(probe({}, { port: health.port, service: "api" }))).toMatchObject({ ok: true });
    const req = health.requests[health.requests.length - 1];
    expect(req.headers).toMatchObject({ ":method": "POST", ":path": "/grpc.health.v1.Health/Check", ":scheme": "http", "content-type": "application/grpc", te: "trailers" });
    expect(req.body.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 5]));
    expect(requestedService(req.body)).toBe("api");
  });

  test("no service asks about the whole server, with an empty message", async () => {
    expect(await probeOnce(probe({}, { port: health.port }))).toMatchObject({ ok: true });
    expect(health.requests[health.requests.length - 1].body).toEqual(Buffer.from([0, 0, 0, 0, 0]));
  });

  test("NOT_SERVING and SERVICE_UNKNOWN fail as service unhealthy", async () => {
    expect(await probeOnce(probe({}, { port: health.port, service: "batch" }))).toMatchObject({ ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(await probeOnce(probe({}, { port: health.port, service: "draining" }))).toMatchObject({ ok: false, message: 'service unhealthy (responded with "SERVICE_UNKNOWN")' });
  });

  test("an unknown service fails with the server's NotFound status", async () => {
    expect(await probeOnce(probe({}, { port: health.port, service: "nope" }))).toMatchObject({
      ok: false,
      message: "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
    });
  });

  test("a server without the health service (Unimplemented) fails", async () => {
    expect(await probeOnce(probe({}, { port: noHealth.port }))).toMatchObject({
      ok: false,
      message: "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health",
    });
  });

  test("a closed port is retried until the timeout, then reported as a connect timeout", async () => {
    const port = await closedPort();
    const r = await probeOnce(probe({ timeoutSeconds: 1 }, { port }));
    expect(r).toMatchObject({ ok: false, message: `timeout: failed to connect service "127.0.0.1:${port}" within 1s: context deadline exceeded` });
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(2500);
  });

  test("a server that comes up within the timeout is reached by a later dial, as grpc-go's back-off retries", async () => {
    const port = await closedPort();
    const late = http2.createServer();
    late.on("stream", (stream) => {
      stream.on("error", () => {});
      stream.resume();
      stream.on("end", () => replyStatus(stream, 1));
    });
    const up = setTimeout(() => late.listen(port, "127.0.0.1"), 300);
    try {
      const r = await probeOnce(probe({ timeoutSeconds: 3 }, { port }));
      expect(r).toMatchObject({ ok: true });
      expect(r.ms).toBeGreaterThanOrEqual(900); // the second dial, after the first back-off (1 s)
    } finally {
      clearTimeout(up);
      await new Promise((r) => late.close(r));
    }
  });

  test("a listener that never speaks HTTP/2 is a connect timeout within timeoutSeconds", async () => {
    const r = await probeOnce(probe({ timeoutSeconds: 1 }, { port: mutePort }));
    expect(r).toMatchObject({ ok: false, message: `timeout: failed to connect service "127.0.0.1:${mutePort}" within 1s: context deadline exceeded` });
    expect(r.ms).toBeGreaterThanOrEqual(950);
    expect(r.ms).toBeLessThan(2500);
    await waitFor(() => muteSockets.size === 0, "the probe's connection closed");
  });

  test("a call never answered ends at timeoutSeconds as the kubelet's rpc timeout", async () => {
    const r = await probeOnce(probe({ timeoutSeconds: 2 }, { port: silent.port }));
    expect(r).toMatchObject({ ok: false, message: "timeout: health rpc did not complete within 2s" });
    expect(r.ms).toBeGreaterThanOrEqual(1950);
    expect(r.ms).toBeLessThan(3500);
    // The deadline is sent along, as grpc-go does.
    expect(silent.requests[silent.requests.length - 1].headers["grpc-timeout"]).toMatch(/^\d+m$/);
  });

  test("every probe closes its HTTP/2 session", async () => {
    for (let i = 0; i < 5; i++) await probeOnce(probe({}, { port: health.port, service: i % 2 ? "api" : "batch" }));
    await probeOnce(probe({}, { port: noHealth.port }));
    await probeOnce(probe({ timeoutSeconds: 1 }, { port: silent.port }));
    await waitFor(() => health.open.size === 0 && noHealth.open.size === 0 && silent.open.size === 0, "server sessions closed");
  });
});
