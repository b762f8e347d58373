/**
 * The gRPC probe, as the kubelet's (pkg/probe/grpc/grpc.go): one grpc.health.v1.Health/Check
 * over plaintext HTTP/2 (h2c; the kubelet dials without TLS) to the pod IP, with node:http2 and
 * a hand-rolled codec for the two one-field protobuf messages involved.
 *
 *   connect ──(server SETTINGS)──▶ Check ──(grpc-status 0, SERVING)──▶ success
 *      │ refused / no answer: retry with back-off          │ anything else ──▶ failure, kubelet's words
 *      ▼ deadline (timeoutSeconds)                          ▼ deadline
 *   "timeout: failed to connect service …"            "timeout: health rpc did not complete within …"
 *
 * One deadline covers the dial and the call, as the kubelet's context does. Like grpc-go's
 * blocking dial, a refused connection is retried (back-off 1 s × 1.6) until that deadline, so
 * a closed port is reported as a connect timeout, never as "connection refused".
 */
import * as http2 from "node:http2";
import { STATUS_CODES } from "node:http";
import { goDuration } from "./go_duration.ts";

export const HEALTH_CHECK_PATH = "/grpc.health.v1.Health/Check";
const USER_AGENT = "berth-probe/1.0";

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by number. */
export const SERVING_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"] as const;
const SERVING = 1;

/** The gRPC status codes this module sets itself (the others only come from servers). */
export const GRPC_CODE = { OK: 0, Unknown: 2, DeadlineExceeded: 4, Unimplemented: 12, Internal: 13, Unavailable: 14 } as const;

const CODE_NAMES = [
  "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound", "AlreadyExists", "PermissionDenied",
  "ResourceExhausted", "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
];

/** grpc-go's name for a status code (`codes.Code.String()`). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `Code(${code})`;
}

/** grpc-go's mapping of a non-200 HTTP status of a gRPC response to a code (HTTPStatusConvTab). */
const HTTP_TO_CODE: Record<number, number> = { 400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14 };

/** A gRPC call's end: a status code and message, and the health status when the call succeeded. */
export interface RpcEnd {
  code: number;
  desc: string;
  status?: number;
}

/** A reply's response headers: HTTP/2 headers with the numeric `:status`. */
export type ReplyHeaders = http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;

/** A gRPC-level failure found while reading a reply (a bad frame or message): `code` is the status it becomes. */
export class GrpcStatusError extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = "GrpcStatusError";
    this.code = code;
  }
}

/** Go's net.JoinHostPort: brackets around an IPv6 host. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

/**
 * A HealthCheckRequest as one length-prefixed gRPC message: flag 0 (not compressed), a 4-byte
 * big-endian length, then field 1 `service` — omitted when empty, as proto3 writes it.
 */
export function encodeHealthCheckRequest(service: string): Buffer {
  const svc = Buffer.from(service, "utf8");
  const body = svc.length ? Buffer.concat([Buffer.from([0x0a]), varint(svc.length), svc]) : Buffer.alloc(0);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(body.length, 1);
  return Buffer.concat([prefix, body]);
}

/** Reads a varint at `at`; returns the value and the next offset. */
function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = at; i < buf.length && i < at + 10; i++) {
    value += (buf[i] & 0x7f) * scale;
    if (!(buf[i] & 0x80)) return [value, i + 1];
    scale *= 128;
  }
  throw new GrpcStatusError(GRPC_CODE.Internal, "grpc: failed to unmarshal the received message: proto: truncated varint");
}

/**
 * The `status` of the one HealthCheckResponse in a reply body (the length-prefixed messages
 * of the call). Throws `GrpcStatusError` for what grpc-go would refuse: no message, a second
 * one, a compressed one (none was negotiated), or a message that does not parse.
 */
export function decodeHealthCheckResponse(body: Buffer): number {
  if (body.length === 0) throw new GrpcStatusError(GRPC_CODE.Internal, "cardinality violation: expected <Message> for non server-streaming RPCs, but received <EOF>");
  if (body.length < 5) throw new GrpcStatusError(GRPC_CODE.Internal, "grpc: received a truncated message header");
  if (body[0] !== 0) throw new GrpcStatusError(GRPC_CODE.Internal, "grpc: compressed flag set with identity or empty encoding");
  const len = body.readUInt32BE(1);
  if (body.length < 5 + len) throw new GrpcStatusError(GRPC_CODE.Internal, "grpc: received a truncated message");
  if (body.length > 5 + len) throw new GrpcStatusError(GRPC_CODE.Internal, "cardinality violation: expected <EOF> for non server-streaming RPCs, but received another message");
  const msg = body.subarray(5, 5 + len);
  let status = 0; // proto3: an absent enum is its zero value, UNKNOWN
  let at = 0;
  while (at < msg.length) {
    const [tag, next] = readVarint(msg, at);
    at = next;
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0: {
        const [v, after] = readVarint(msg, at);
        if (field === 1) status = v;
        at = after;
        break;
      }
      case 1:
        at += 8;
        break;
      case 2: {
        const [n, after] = readVarint(msg, at);
        at = after + n;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new GrpcStatusError(GRPC_CODE.Internal, `grpc: failed to unmarshal the received message: proto: invalid wire type ${tag & 7}`);
    }
    if (at > msg.length) throw new GrpcStatusError(GRPC_CODE.Internal, "grpc: failed to unmarshal the received message: proto: unexpected end of message");
  }
  return status;
}

/** The name Go's generated enum gives a serving status ("7" for one it does not know). */
export function servingStatusName(status: number): string {
  return SERVING_STATUS[status] ?? String(status);
}

/** grpc-message is percent-encoded (gRPC over HTTP/2); a malformed escape is kept as sent. */
function decodeGrpcMessage(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The kubelet's verdict on a finished call (pkg/probe/grpc/grpc.go): SERVING passes, another
 * status is "service unhealthy", and a failed call is reported by its code.
 */
export function probeVerdict(end: RpcEnd, timeoutMs: number): { ok: boolean; message?: string } {
  if (end.code === GRPC_CODE.OK) {
    const status = end.status ?? 0;
    return status === SERVING ? { ok: true } : { ok: false, message: `service unhealthy (responded with ${JSON.stringify(servingStatusName(status))})` };
  }
  if (end.code === GRPC_CODE.Unimplemented) return { ok: false, message: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${end.desc}` };
  if (end.code === GRPC_CODE.DeadlineExceeded) return { ok: false, message: `timeout: health rpc did not complete within ${goDuration(timeoutMs)}` };
  return { ok: false, message: `error: health rpc probe failed: rpc error: code = ${codeName(end.code)} desc = ${end.desc}` };
}

/** What grpc-go makes of a reply's status and headers and the body read (operateHeaders, then the unary receive). */
export function rpcEnd(headers: ReplyHeaders | undefined, trailers: http2.IncomingHttpHeaders | undefined, body: Buffer): RpcEnd {
  const bad = headerProblem(headers);
  if (bad) return bad;
  // Trailers-only replies (an error without a body) carry the status in the headers.
  const raw = trailers?.["grpc-status"] ?? headers?.["grpc-status"];
  if (raw === undefined) return { code: GRPC_CODE.Internal, desc: "server closed the stream without sending trailers" };
  const code = Number(raw);
  if (!/^\d+$/.test(String(raw))) return { code: GRPC_CODE.Internal, desc: `transport: malformed grpc-status: ${String(raw)}` };
  const message = trailers?.["grpc-message"] ?? headers?.["grpc-message"];
  if (code !== GRPC_CODE.OK) return { code, desc: decodeGrpcMessage(typeof message === "string" ? message : "") };
  try {
    return { code, desc: "", status: decodeHealthCheckResponse(body) };
  } catch (e) {
    if (e instanceof GrpcStatusError) return { code: e.code, desc: e.message };
    throw e;
  }
}

/** A response that is not gRPC at all (a non-200 status, another content type), as grpc-go reports it. */
function headerProblem(headers: ReplyHeaders | undefined): RpcEnd | undefined {
  if (!headers) return undefined;
  const status = Number(headers[":status"] ?? 0);
  const errs: string[] = [];
  if (status !== 200) errs.push(`unexpected HTTP status code received from server: ${status} (${STATUS_CODES[status] ?? ""})`);
  const ct = headers["content-type"];
  if (ct !== undefined && !/^application\/grpc($|[+;])/.test(ct)) errs.push(`transport: received unexpected content-type ${JSON.stringify(ct)}`);
  if (!errs.length) return undefined;
  return { code: status === 200 ? GRPC_CODE.Unknown : (HTTP_TO_CODE[status] ?? GRPC_CODE.Unknown), desc: errs.join("; ") };
}

/**
 * One dial: resolves with a session once the server's SETTINGS arrived (grpc-go's READY), or
 * undefined when the connection failed or `ms` passed. Never throws.
 */
function dialOnce(addr: string, ms: number): Promise<http2.ClientHttp2Session | undefined> {
  return new Promise((resolve) => {
    let session: http2.ClientHttp2Session;
    try {
      session = http2.connect(`http://${addr}`, { settings: { enablePush: false } });
    } catch {
      resolve(undefined); // an address node cannot even parse (an empty pod IP): nothing to dial
      return;
    }
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!ok) session.destroy();
      resolve(ok ? session : undefined);
    };
    const timer = setTimeout(() => done(false), ms);
    // Kept for the session's life: a later session error reaches the call through its stream.
    session.on("error", () => done(false));
    session.once("close", () => done(false));
    session.once("remoteSettings", () => done(true));
  });
}

/** Dials until it connects or the deadline passes, backing off as grpc-go (1 s, × 1.6). */
async function dial(addr: string, deadline: number): Promise<http2.ClientHttp2Session | undefined> {
  let backoffMs = 1000;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    const session = await dialOnce(addr, left);
    if (session) return session;
    const wait = Math.min(backoffMs, deadline - Date.now());
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    backoffMs *= 1.6;
  }
}

/** The Check call on a connected session; the deadline ends it as DeadlineExceeded. Never rejects. */
function check(session: http2.ClientHttp2Session, service: string, deadline: number): Promise<RpcEnd> {
  return new Promise((resolve) => {
    const left = Math.max(1, deadline - Date.now());
    let settled = false;
    let headers: ReplyHeaders | undefined;
    let trailers: http2.IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    const req = session.request({
      ":method": "POST",
      ":path": HEALTH_CHECK_PATH,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-timeout": `${Math.ceil(left)}m`,
      "user-agent": USER_AGENT,
    });
    const finish = (end: RpcEnd) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(end); // the caller destroys the session, and the stream with it
    };
    const timer = setTimeout(() => finish({ code: GRPC_CODE.DeadlineExceeded, desc: "context deadline exceeded" }), left);
    req.on("response", (h) => {
      headers = h;
      const bad = headerProblem(h);
      if (bad) finish(bad);
    });
    req.on("trailers", (t) => void (trailers = t));
    req.on("data", (c: Buffer) => void chunks.push(c));
    req.on("end", () => {
      try {
        finish(rpcEnd(headers, trailers, Buffer.concat(chunks)));
      } catch (e) {
        finish({ code: GRPC_CODE.Internal, desc: e instanceof Error ? e.message : String(e) });
      }
    });
    req.on("error", (e) => finish({ code: GRPC_CODE.Unavailable, desc: `error reading from server: ${e.message}` }));
    // A reset, or a connection lost before the reply ended.
    req.on("close", () => finish(req.rstCode && req.rstCode !== http2.constants.NGHTTP2_NO_ERROR
      ? { code: GRPC_CODE.Internal, desc: `stream terminated by RST_STREAM with error code: ${req.rstCode}` }
      : { code: GRPC_CODE.Unavailable, desc: "error reading from server: EOF" }));
    req.end(encodeHealthCheckRequest(service));
  });
}

/**
 * Runs one gRPC health probe of `host:port` within `timeoutMs`, as the kubelet: success only
 * for SERVING; every failure is a failed probe with the kubelet's message. Never throws; the
 * HTTP/2 session is always closed.
 */
export async function grpcProbe(host: string, port: number, service: string, timeoutMs: number): Promise<{ ok: boolean; message?: string }> {
  const addr = joinHostPort(host, port);
  const deadline = Date.now() + timeoutMs;
  const session = await dial(addr, deadline);
  if (!session) return { ok: false, message: `timeout: failed to connect service ${JSON.stringify(addr)} within ${goDuration(timeoutMs)}: context deadline exceeded` };
  try {
    return probeVerdict(await check(session, service, deadline), timeoutMs);
  } finally {
    session.destroy();
  }
}
