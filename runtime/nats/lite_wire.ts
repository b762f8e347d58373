/**
 * The TCP connection under the small NATS client (lite.ts). Where Node's `tcp_wrap` and
 * `stream_wrap` bindings are there (Node 20: `process.binding`, on its allow-list; what `net` is
 * built on) and the server is an IP address, it is one libuv handle: `require("node:net")` alone
 * costs 5–8 ms of CPU, a tenth of a whole `berth get`. Otherwise (a host name, Deno, a Node
 * without the bindings) it is a `net.Socket`. runtime/proxy/raw_forward.ts uses the same
 * bindings for the proxy's connections.
 *
 *   connecting ──connected──▶ open ──end() / destroy() / EOF / error──▶ closed (onClose once)
 *        └──── refused / error ───────────────────────────────────────▶ closed (onClose(err))
 */
import { type Handle, type TcpBindings, loadTcpBindings } from "../net/tcp_bindings.ts";
import { connect as netConnect } from "node:net";

/** A connection: bytes in through `onData`, and one `onClose` (with the error, if any) at the end. */
export interface Wire {
  /** Which of the two connections this is. */
  readonly kind: "handle" | "net";
  write(data: string | Buffer): void;
  /** Closes after what was written has gone out. */
  end(): void;
  /** Closes now. */
  destroy(): void;
}

export interface WireEvents {
  onConnect(): void;
  onData(chunk: Buffer): void;
  onClose(error?: Error): void;
}

type Bindings = TcpBindings;

function loadBindings(): Bindings | null {
  return loadTcpBindings() ?? null;
}

/** An error worded as `net` words it (`connect ECONNREFUSED 127.0.0.1:4222`), with its `code`. */
function uvError(b: Bindings, status: number, what: string): Error {
  let code = String(status);
  try {
    code = b.errname(status);
  } catch {
    // keep the number
  }
  return Object.assign(new Error(`${what} ${code}`), { code, errno: status });
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Opens a connection to `host:port`; `force: "net"` takes the `net.Socket` path (tests). */
export function dial(host: string, port: number, ev: WireEvents, opts: { force?: "net" } = {}): Wire {
  const b = opts.force === "net" ? null : loadBindings();
  const ip = IPV4.test(host) || host.includes(":");
  return b && ip ? rawDial(b, host, port, ev) : netDial(host, port, ev);
}

function rawDial(b: Bindings, host: string, port: number, ev: WireEvents): Wire {
  const h = new b.TCP(b.SOCKET);
  const readBuf = Buffer.allocUnsafeSlow(64 * 1024);
  /** Writes libuv still holds (their buffers must stay alive until done). */
  const inFlight = new Set<Handle>();
  let closed = false;
  const close = (error?: Error) => {
    if (closed) return;
    closed = true;
    h.close(() => ev.onClose(error));
  };
  const req = new b.TCPConnectWrap();
  req.oncomplete = (status: number) => {
    if (closed) return;
    if (status !== 0) {
      close(uvError(b, status, `connect`));
      return;
    }
    h.setNoDelay(true);
    h.onread = () => {
      const n = b.state[b.kReadBytesOrError];
      // A copy: the read buffer is reused for the next read.
      if (n > 0) ev.onData(Buffer.from(readBuf.subarray(0, n)));
      else if (n < 0) close(n === b.UV_EOF ? undefined : uvError(b, n, "read"));
    };
    h.useUserBuffer(readBuf);
    h.readStart();
    ev.onConnect();
  };
  const err = host.includes(":") ? h.connect6(req, host, port) : h.connect(req, host, port);
  if (err !== 0) queueMicrotask(() => close(uvError(b, err, "connect")));
  return {
    kind: "handle",
    write(data) {
      if (closed) return;
      const w = new b.WriteWrap();
      const buf = typeof data === "string" ? Buffer.from(data) : data;
      w.buffer = buf;
      w.oncomplete = (status: number) => {
        inFlight.delete(w);
        if (status < 0) close(uvError(b, status, "write"));
      };
      inFlight.add(w);
      const e = h.writeBuffer(w, buf);
      if (e !== 0) close(uvError(b, e, "write"));
      // Written at once (the usual case): libuv keeps nothing and calls nothing back.
      else if (b.state[b.kLastWriteWasAsync] === 0) inFlight.delete(w);
    },
    end() {
      if (closed) return;
      const s = new b.ShutdownWrap();
      s.oncomplete = () => close();
      // Done at once (1) or refused: close now.
      if (h.shutdown(s) !== 0) close();
    },
    destroy() {
      close();
    },
  };
}

function netDial(host: string, port: number, ev: WireEvents): Wire {
  const socket = netConnect(port, host);
  let error: Error | undefined;
  socket.setNoDelay(true);
  socket.on("connect", () => ev.onConnect());
  socket.on("data", (d: Buffer) => ev.onData(d));
  socket.on("error", (e) => (error ??= e));
  socket.on("close", () => ev.onClose(error));
  return {
    kind: "net",
    write: (data) => void socket.write(data),
    end: () => void socket.end(),
    destroy: () => void socket.destroy(),
  };
}
