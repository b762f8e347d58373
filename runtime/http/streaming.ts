/**
 * The REST API's streaming subresources — `pods/{name}/exec`, `pods/{name}/attach` and
 * `pods/{name}/portforward` — on HTTP upgrade, as kube-apiserver serves them to kubectl ≥ 1.30
 * and @kubernetes/client-node:
 *
 *   exec, attach   WebSocket, subprotocol `v5.channel.k8s.io` (or `v4.channel.k8s.io`): each
 *                  binary message is [channel][bytes]: 0 stdin, 1 stdout, 2 stderr, 3 the
 *                  metav1.Status that ends it (exit code as `NonZeroExitCode`), 4 TTY resize
 *                  {"Width","Height"}; v5 adds [255][channel], the client closing its stdin.
 *   portforward    WebSocket `SPDY/3.1+portforward.k8s.io` (kubectl tunnels SPDY in it), a plain
 *                  `SPDY/3.1` upgrade (kubectl's fallback) — both spdy.ts — or WebSocket
 *                  `v4.channel.k8s.io` (client-node): per port a data channel 2i and an error
 *                  channel 2i+1, each opened with the port as two little-endian bytes.
 *
 * Pod and container are checked before upgrading (404 naming a missing pod, 400 `container x is
 * not valid for pod y`), and an exec's session with the node is open before the 101, so those
 * failures are ordinary Status answers. Bytes then go through a NATS session with the pod's node
 * (runtime/stream/); while the node has not taken the client's bytes, the client's socket is
 * paused. Either side closing tears down the other.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { ApiError, toStatus } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";
import { failureStatus } from "../stream/frames.ts";
import type { StreamProvider, StreamRequest } from "../stream/open.ts";
import type { StreamSession } from "../stream/session.ts";
import { RST, SpdyFramer } from "./spdy.ts";

export type StreamSubresource = "exec" | "attach" | "portforward";

const V5 = "v5.channel.k8s.io";
const V4 = "v4.channel.k8s.io";
const SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io";
const PORTFORWARD_PROTOCOL = "portforward.k8s.io";

/** Serves one upgrade request for a pod's streaming subresource; failures are answered on `socket`. */
export async function serveStreamUpgrade(args: {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  namespace: string;
  pod: string;
  sub: StreamSubresource;
  query: URLSearchParams;
  provider: StreamProvider | undefined;
  log: (msg: string, fields: Record<string, unknown>) => void;
}): Promise<void> {
  const { req, socket, head, sub, query } = args;
  if (!args.provider) throw new ApiError("ServiceUnavailable", `${sub} is not available: this API server has no node streaming`);
  const provider = args.provider;
  const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const isWebSocket = /websocket/i.test(req.headers.upgrade ?? "");
  const isSpdy = /^SPDY\/3\.1$/i.test((req.headers.upgrade ?? "").trim());
  const flag = (k: string) => ["true", "1"].includes(query.get(k) ?? "");

  if (sub === "portforward") {
    const base: StreamRequest = { kind: "portforward", namespace: args.namespace, pod: args.pod };
    const pod = await provider.check(base);
    if (isWebSocket && offered.includes(SPDY_TUNNEL)) {
      return upgradeWs(req, socket, head, SPDY_TUNNEL, (ws) => spdyOverWebSocket(ws, pod, base, provider, args.log));
    }
    if (isWebSocket && (offered.includes(V4) || offered.includes(V5))) {
      const ports = query.getAll("ports").flatMap((p) => p.split(",")).map((p) => Number(p.trim()));
      if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
        throw new ApiError("BadRequest", `query parameter "ports" must name ports 1-65535, got ${JSON.stringify(query.getAll("ports"))}`);
      }
      return upgradeWs(req, socket, head, V4, (ws) => channelPortForward(ws, pod, base, ports, provider));
    }
    if (isSpdy) {
      const wanted = String(req.headers["x-stream-protocol-version"] ?? "").split(",").map((s) => s.trim());
      if (!wanted.includes(PORTFORWARD_PROTOCOL)) throw new ApiError("BadRequest", `port-forward needs X-Stream-Protocol-Version ${PORTFORWARD_PROTOCOL}`);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORTFORWARD_PROTOCOL}\r\n\r\n`);
      return spdyOverSocket(socket, head, pod, base, provider, args.log);
    }
    throw new ApiError("BadRequest", `port-forward needs a WebSocket (subprotocol ${SPDY_TUNNEL} or ${V4}) or a SPDY/3.1 upgrade`);
  }

  const request: StreamRequest = {
    kind: sub,
    namespace: args.namespace,
    pod: args.pod,
    container: query.get("container") || undefined,
    command: sub === "exec" ? query.getAll("command") : undefined,
    stdin: flag("stdin"),
    tty: flag("tty"),
  };
  const pod = await provider.check(request);
  if (!isWebSocket) {
    throw new ApiError("BadRequest", `${sub} is served over WebSocket (subprotocol ${V5} or ${V4}); SPDY is not supported`);
  }
  const protocol = offered.includes(V5) ? V5 : offered.includes(V4) ? V4 : undefined;
  if (!protocol) throw new ApiError("BadRequest", `${sub} needs WebSocket subprotocol ${V5} or ${V4}; offered: ${offered.join(", ") || "none"}`);
  if (request.kind === "exec" && !request.command?.length) throw new ApiError("BadRequest", "you must specify at least one command for the container");
  const session = await provider.open(pod, request);
  let upgraded = false;
  socket.once("close", () => {
    if (!upgraded) session.end("the client went away before the upgrade");
  });
  upgradeWs(req, socket, head, protocol, (ws) => {
    upgraded = true;
    execOverWebSocket(ws, session, protocol === V5);
  });
}

function upgradeWs(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, then: (ws: WebSocket) => void): void {
  // ws refuses subprotocols that are not RFC 7230 tokens, and `SPDY/3.1+portforward.k8s.io` has
  // a "/": the offer is taken out of the request and the chosen one added to the 101 here.
  delete req.headers["sec-websocket-protocol"];
  const server = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 });
  server.once("headers", (headers: string[]) => headers.push(`Sec-WebSocket-Protocol: ${protocol}`));
  server.handleUpgrade(req, socket, head, (ws) => then(ws));
}

/** Writes a Status as a plain HTTP answer on a socket that was not upgraded, then closes it. */
export function answerOnSocket(socket: Duplex, e: unknown): void {
  const st = toStatus(e);
  const body = JSON.stringify(st);
  const text = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" }[st.code] ?? "Error";
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${st.code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** exec/attach: the channel protocol on the WebSocket ⇄ the node session. */
function execOverWebSocket(ws: WebSocket, session: StreamSession, v5: boolean): void {
  let statusSent = false;
  let sending = 0;
  const send = (channel: number, data: Uint8Array) =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(Buffer.concat([Buffer.of(channel), data]), () => resolve());
    });
  session.handlers = {
    onData: (ch, data) => send(ch === 2 ? 2 : 1, data),
    onStatus: (s) => {
      statusSent = true;
      void send(3, Buffer.from(JSON.stringify(s)));
    },
    onEnd: (reason) => {
      if (!statusSent) void send(3, Buffer.from(JSON.stringify(failureStatus(`the stream ended: ${reason}`))));
      if (ws.readyState === ws.OPEN) ws.close(1000);
    },
  };
  if (session.isEnded) return void ws.close(1000);
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as ArrayBuffer);
    if (!isBinary || b.length === 0) return;
    const ch = b[0];
    if (v5 && ch === 255) {
      if (b[1] === 0) session.close(0);
      return;
    }
    if (ch === 0) {
      sending++;
      if (sending === 1) ws.pause();
      session.send(0, b.subarray(1)).then(
        () => {
          if (--sending === 0) ws.resume();
        },
        () => {},
      );
    } else if (ch === 4) {
      try {
        const size = JSON.parse(b.subarray(1).toString("utf8")) as { Width?: number; Height?: number };
        if (typeof size.Width === "number" && typeof size.Height === "number") session.resize(size.Width, size.Height);
      } catch {
        // A malformed resize is dropped: the terminal keeps its size.
      }
    }
  });
  ws.on("close", () => session.end("the client went away"));
  ws.on("error", () => session.end("the client connection failed"));
}

/** client-node's port-forward: one connection per port, data on channel 2i, errors on 2i+1. */
function channelPortForward(ws: WebSocket, pod: Pod, base: StreamRequest, ports: number[], provider: StreamProvider): void {
  const sessions: StreamSession[] = [];
  const send = (channel: number, data: Uint8Array) =>
    new Promise<void>((resolve) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(Buffer.concat([Buffer.of(channel), data]), () => resolve());
    });
  const portBytes = (p: number) => Buffer.from([p & 0xff, p >> 8]);
  ports.forEach((port, i) => {
    void send(2 * i, portBytes(port));
    void send(2 * i + 1, portBytes(port));
  });
  let closed = false;
  const closeAll = () => {
    if (closed) return;
    closed = true;
    for (const s of sessions) s.end("the client went away");
    if (ws.readyState === ws.OPEN) ws.close(1000);
  };
  ws.on("close", closeAll);
  ws.on("error", closeAll);
  // One session per port, opened after the upgrade; a refusal goes on that port's error channel.
  const opened = ports.map((port, i) =>
    provider.open(pod, { ...base, port }).then((s) => {
      sessions.push(s);
      if (closed) {
        s.end("the client went away");
        return undefined;
      }
      s.handlers = {
        onData: (_ch, data) => send(2 * i, data),
        onStatus: (st) => void send(2 * i + 1, Buffer.from(String(st.message ?? "port-forward failed"))),
        onClose: () => closeAll(),
        onEnd: () => closeAll(),
      };
      return s;
    }, (e: unknown) => {
      void send(2 * i + 1, Buffer.from(toStatus(e).message)).then(closeAll);
      return undefined;
    }));
  // The client may write before its session is open: messages wait for it, in order.
  let sending = 0;
  let chain: Promise<unknown> = Promise.resolve();
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    const b = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as ArrayBuffer);
    if (!isBinary || b.length === 0 || b[0] % 2 !== 0 || b[0] / 2 >= ports.length) return;
    const idx = b[0] / 2;
    sending++;
    if (sending === 1) ws.pause();
    chain = chain.then(() => opened[idx]).then((s) => (s ? s.send(0, b.subarray(1)) : undefined)).catch(() => {}).then(() => {
      if (--sending === 0) ws.resume();
    });
  });
}

interface Transport {
  write(b: Uint8Array, cb?: () => void): void;
  pause(): void;
  resume(): void;
  close(): void;
  onData(fn: (b: Uint8Array) => void): void;
  onClose(fn: () => void): void;
}

function spdyOverWebSocket(ws: WebSocket, pod: Pod, base: StreamRequest, provider: StreamProvider, log: (m: string, f: Record<string, unknown>) => void): void {
  spdyPortForward({
    write: (b, cb) => (ws.readyState === ws.OPEN ? ws.send(b, () => cb?.()) : cb?.()),
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.close(1000),
    onData: (fn) => ws.on("message", (raw: Buffer) => fn(Buffer.isBuffer(raw) ? raw : Buffer.from(raw as unknown as ArrayBuffer))),
    onClose: (fn) => {
      ws.on("close", fn);
      ws.on("error", fn);
    },
  }, pod, base, provider, log);
}

function spdyOverSocket(socket: Duplex, head: Buffer, pod: Pod, base: StreamRequest, provider: StreamProvider, log: (m: string, f: Record<string, unknown>) => void): void {
  spdyPortForward({
    write: (b, cb) => (socket.writable ? socket.write(b, () => cb?.()) : cb?.()),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    close: () => socket.destroy(),
    onData: (fn) => {
      if (head.length) queueMicrotask(() => fn(head));
      socket.on("data", fn);
    },
    onClose: (fn) => {
      socket.on("close", fn);
      socket.on("error", fn);
    },
  }, pod, base, provider, log);
}

/**
 * kubectl's port-forward over SPDY: per forwarded connection it opens an `error` stream and a
 * `data` stream (headers `streamtype`, `port`, `requestid`); the data stream is bridged to a node
 * session, and a failure is written on the error stream before both are closed — kubectl prints
 * it (`error forwarding port …: connection refused`) instead of hanging.
 */
function spdyPortForward(t: Transport, pod: Pod, base: StreamRequest, provider: StreamProvider, log: (m: string, f: Record<string, unknown>) => void): void {
  interface Pair {
    errorId?: number;
    dataId?: number;
    port?: number;
    session?: StreamSession;
    dataFinSent?: boolean;
    done?: boolean;
    held?: Buffer[];
    heldFin?: boolean;
  }
  const pairs = new Map<string, Pair>();
  const byStream = new Map<number, Pair>();
  let sending = 0;
  let closed = false;

  const finish = (p: Pair, error?: string) => {
    if (p.done) return;
    p.done = true;
    if (p.dataId !== undefined && !p.dataFinSent) framer.data(p.dataId, new Uint8Array(0), true);
    if (p.errorId !== undefined) framer.data(p.errorId, error ? Buffer.from(error) : new Uint8Array(0), true);
    p.session?.end("the port-forward stream closed");
    for (const [k, v] of pairs) if (v === p) pairs.delete(k);
    if (p.errorId !== undefined) byStream.delete(p.errorId);
    if (p.dataId !== undefined) byStream.delete(p.dataId);
  };

  const start = (p: Pair) => {
    provider.open(pod, { ...base, port: p.port }).then((s) => {
      if (p.done || closed) return s.end("the client went away");
      p.session = s;
      s.handlers = {
        onData: (_ch, data) => new Promise<void>((resolve) => (p.done ? resolve() : t.write(frameData(p.dataId!, data), resolve))),
        onClose: () => {
          if (!p.dataFinSent && !p.done) {
            p.dataFinSent = true;
            framer.data(p.dataId!, new Uint8Array(0), true);
          }
        },
        onStatus: (st) => finish(p, String(st.message ?? "port-forward failed")),
        onEnd: () => finish(p),
      };
      for (const b of p.held?.splice(0) ?? []) void s.send(0, b);
      if (p.heldFin) s.close(0);
    }, (e: unknown) => finish(p, toStatus(e).message));
  };

  // Data frames built here so their write can carry a completion callback (flow control).
  const frameData = (id: number, data: Uint8Array): Uint8Array => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head.writeUInt32BE(data.length, 4);
    return Buffer.concat([head, data]);
  };

  const framer = new SpdyFramer((b) => t.write(b), {
    onSynStream(id, headers) {
      framer.synReply(id);
      const type = headers.get("streamtype");
      const requestId = headers.get("requestid") ?? String(id);
      const port = Number(headers.get("port"));
      if ((type !== "error" && type !== "data") || !Number.isInteger(port) || port < 1 || port > 65535) {
        framer.rst(id, RST.PROTOCOL_ERROR);
        return;
      }
      const p = pairs.get(requestId) ?? {};
      pairs.set(requestId, p);
      byStream.set(id, p);
      p.port = port;
      if (type === "error") p.errorId = id;
      else p.dataId = id;
      if (p.errorId !== undefined && p.dataId !== undefined) start(p);
    },
    onData(id, data, fin) {
      const p = byStream.get(id);
      if (!p || id !== p.dataId) return; // the client's error stream carries nothing
      if (data.length) {
        if (!p.session) {
          // Bytes sent before the node's session is open (a client that speaks first): held until it is.
          (p.held ??= []).push(Buffer.from(data));
          if (fin) p.heldFin = true;
          return;
        }
        sending++;
        if (sending === 1) t.pause();
        p.session.send(0, data).then(() => {
          if (--sending === 0) t.resume();
        }, () => {
          if (--sending === 0) t.resume();
        });
      }
      if (fin) {
        if (p.session) p.session.close(0);
        else p.heldFin = true;
      }
    },
    onRst(id) {
      const p = byStream.get(id);
      if (p) finish(p);
    },
    onGoAway() {
      t.close();
    },
  });

  t.onData((b) => {
    try {
      framer.push(b);
    } catch (e) {
      log("port-forward protocol error", { pod: pod.metadata.name, error: (e as Error).message });
      t.close();
    }
  });
  t.onClose(() => {
    if (closed) return;
    closed = true;
    for (const p of new Set(byStream.values())) {
      p.done = true;
      p.session?.end("the client went away");
    }
    pairs.clear();
    byStream.clear();
  });
}
