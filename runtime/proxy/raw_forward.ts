/**
 * The proxy's fast path: one proxied connection driven on libuv's TCP handles directly, without a
 * `net.Socket` on either side. Same contract as forward.ts (which stays the path where this one
 * cannot run): dial the candidates in turn with growing timeouts, then copy bytes both ways with
 * backpressure, pass a half-close through, and close both sides when both directions are done or
 * either side fails.
 *
 *   accepted handle ──▶ dial (TCPConnectWrap) ──connected──▶ read both, write to the other
 *                          └─fail/timeout─▶ next candidate …  └─ tries used up ─▶ client reset
 *
 *   per direction:  src read (into this direction's pooled buffer) ──▶ dst.writeBuffer
 *                     write went async (kernel buffer full) ──▶ src.readStop until it completes
 *                     src EOF ──▶ dst.shutdown (after its pending writes) ── both done ──▶ close both
 *
 * Why: with two `net.Socket`s per proxied connection, Node's stream machinery (constructors,
 * stream state, event emitters, nextTicks) was most of the proxy's CPU per connection — about 3×
 * HAProxy's on churn (docs/benchmarks.md). On handles, a connection costs the two handle
 * objects, a connect request and a few calls; a chunk costs one read callback and one write.
 *
 * The handles come from Node's `tcp_wrap`/`stream_wrap` bindings (`process.binding`, on its
 * allow-list in Node 20; what `net` itself is built on). Where they are missing (Deno, a future
 * Node without them) `rawAvailable` is false and TcpProxy keeps to forward.ts.
 */
import type { ProxyTarget } from "./balancer.ts";
import { type Handle, loadTcpBindings } from "../net/tcp_bindings.ts";

const B = loadTcpBindings();

/** True where the handle path can run (Node with the bindings). */
export const rawAvailable = B !== undefined;

/** The read buffer of each direction: responses/downloads get the larger one. */
const DOWN_BYTES = 64 * 1024;
const UP_BYTES = 16 * 1024;
const POOL_MAX = 128;
const downPool: Buffer[] = [];
const upPool: Buffer[] = [];

/** What a raw connection needs from its proxy (the same decisions and counters as ForwardHost). */
export interface RawForwardHost {
  readonly dialTimeouts: readonly number[];
  readonly stopped: boolean;
  hold(f: RawForward): void;
  release(f: RawForward): void;
  dialFailed(clientIp: string, target: ProxyTarget, err: Error, attempt: number): void;
  forwarded(clientIp: string, target: ProxyTarget): void;
  rejected(clientIp: string, tried: number): void;
}

/** A libuv error number as an Error (as `net` words it). */
function uvError(code: number, what: string): Error {
  let name = String(code);
  try {
    name = (process as unknown as { binding(n: string): any }).binding("uv").errname(code);
  } catch {
    // Keep the number.
  }
  return Object.assign(new Error(`${what} ${name}`), { code: name, errno: code });
}

/** The WriteWrap for the next write; replaced only when a write stays pending (rare on loopback). */
let spareWrite: Handle;

/** One proxied connection on raw handles. */
export class RawForward {
  upstream: Handle = undefined;
  /** Read buffers: upstream → client, client → upstream (from the pools, while spliced). */
  downBuf?: Buffer;
  upBuf?: Buffer;
  /**
   * The last write's view of each read buffer (`buf[0, n)`), reused while reads keep the same
   * length — request/response traffic and full-buffer bulk reads do — so a chunk allocates no
   * Buffer object.
   */
  private downView?: Buffer;
  private upView?: Buffer;
  /** Writes still held by libuv (pending because the kernel buffer was full). */
  pendingWrites = 0;
  /** Bytes read from the client (passed upstream) and written to it (passed down), for metrics. */
  bytesIn = 0;
  bytesOut = 0;
  private timer?: NodeJS.Timeout;
  private attempt = 0;
  /** The current upstream handle's reads were started with its dial. */
  private upReading = false;
  /** Both handles closed (or being closed). */
  closed = false;
  /** EOF read from the client / from the upstream. */
  private clientEof = false;
  private upstreamEof = false;
  /** Our shutdown of the upstream's / client's write side completed. */
  private upstreamShut = false;
  private clientShut = false;

  constructor(
    readonly host: RawForwardHost,
    readonly client: Handle,
    readonly clientIp: string,
    readonly candidates: ProxyTarget[],
  ) {
    client.fwd = this;
    client.setNoDelay(true);
    host.hold(this);
    this.dial();
  }

  private dial(): void {
    const i = this.attempt;
    if (i >= this.host.dialTimeouts.length || this.candidates.length === 0) {
      let ip = this.clientIp;
      if (!ip) {
        const out: { address?: string } = {};
        this.client.getpeername(out);
        ip = out.address ?? "";
      }
      this.host.rejected(ip, i);
      this.closed = true;
      this.host.release(this);
      // The failed dials' handles are closed: their read buffer is free again.
      if (this.downBuf && downPool.length < POOL_MAX) downPool.push(this.downBuf);
      this.downBuf = undefined;
      // RST, as `resetAndDestroy`: the client learns at once that nothing answers.
      if (this.client.reset() !== 0) this.client.close();
      return;
    }
    const target = this.candidates[i % this.candidates.length];
    const up = new B!.TCP(B!.SOCKET);
    up.fwd = this;
    this.upstream = up;
    const req = new B!.TCPConnectWrap();
    req.oncomplete = onConnect;
    req.fwd = this;
    req.up = up;
    const err = target.host.includes(":") ? up.connect6(req, target.host, target.port) : up.connect(req, target.host, target.port);
    if (err !== 0) {
      this.dialFailed(up, uvError(err, "connect"));
      return;
    }
    // Ask for reads now: libuv then registers the socket once for both "connected" and
    // "readable" (one epoll_ctl instead of three), and delivers no read before the connect
    // callback. Where it refuses (not yet readable), `connected` starts reading instead.
    this.downBuf ??= downPool.pop() ?? Buffer.allocUnsafeSlow(DOWN_BYTES);
    up.onread = onUpstreamRead;
    up.useUserBuffer(this.downBuf);
    this.upReading = up.readStart() === 0;
    this.timer = setTimeout(onDialTimeout, this.host.dialTimeouts[i], this, up);
  }

  /** The dial on `up` failed: close it and try the next candidate. */
  dialFailed(up: Handle, e: Error): void {
    clearTimeout(this.timer);
    up.fwd = undefined;
    up.close();
    this.upstream = undefined;
    const target = this.candidates[this.attempt % this.candidates.length];
    this.host.dialFailed(this.clientIp, target, e, this.attempt + 1);
    this.attempt++;
    if (!this.closed) this.dial();
  }

  connected(up: Handle): void {
    clearTimeout(this.timer);
    if (this.closed || this.host.stopped) {
      this.destroy();
      return;
    }
    this.host.forwarded(this.clientIp, this.candidates[this.attempt % this.candidates.length]);
    up.setNoDelay(true);
    this.upBuf = upPool.pop() ?? Buffer.allocUnsafeSlow(UP_BYTES);
    if (!this.upReading) up.readStart();
    this.client.onread = onClientRead;
    this.client.useUserBuffer(this.upBuf);
    this.client.readStart();
  }

  /** `n` bytes arrived from `src` into `buf`: pass them to `dst`. */
  pass(src: Handle, dst: Handle, buf: Buffer, n: number): void {
    let view: Buffer;
    if (src === this.client) {
      this.bytesIn += n;
      view = this.upView !== undefined && this.upView.length === n ? this.upView : (this.upView = buf.subarray(0, n));
    } else {
      this.bytesOut += n;
      view = this.downView !== undefined && this.downView.length === n ? this.downView : (this.downView = buf.subarray(0, n));
    }
    const req = spareWrite ?? new B!.WriteWrap();
    spareWrite = undefined;
    const err = dst.writeBuffer(req, view);
    if (err !== 0) {
      spareWrite = req;
      this.destroy();
      return;
    }
    if (B!.state[B!.kLastWriteWasAsync] === 0) {
      spareWrite = req;
      return;
    }
    // The kernel did not take it all: libuv holds the rest (in `buf`). Read nothing more from
    // `src` into that buffer until the write completes.
    req.oncomplete = onWriteDone;
    req.fwd = this;
    req.src = src;
    this.pendingWrites++;
    src.readStop();
  }

  /** `src` sent EOF: end the other side's write half (after its pending writes). */
  eof(fromClient: boolean): void {
    if (fromClient) this.clientEof = true;
    else this.upstreamEof = true;
    // Both peers sent FIN and every byte read was handed to the kernel (no write held by libuv):
    // closing both sockets now ends both directions as shutdown-then-close would — close()
    // still sends what the kernel buffers, then FIN, and nothing is left unread to turn it into
    // a reset — without a shutdown request, its poll registration and its callback.
    if (this.clientEof && this.upstreamEof && this.pendingWrites === 0) {
      this.destroy();
      return;
    }
    const dst = fromClient ? this.upstream : this.client;
    const req = new B!.ShutdownWrap();
    req.oncomplete = onShutdown;
    req.fwd = this;
    req.toClient = !fromClient;
    const err = dst.shutdown(req);
    if (err === 1) this.shutDone(!fromClient);
    else if (err !== 0) this.destroy();
  }

  shutDone(toClient: boolean): void {
    if (toClient) this.clientShut = true;
    else this.upstreamShut = true;
    // Both directions carried to their end: the connection is over.
    if (this.clientEof && this.upstreamEof && this.clientShut && this.upstreamShut) this.destroy();
  }

  /** Closes both sides (idempotent); buffers go back to the pools once no read can use them. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.host.release(this);
    this.client.fwd = undefined;
    this.client.close();
    if (this.upstream) {
      this.upstream.fwd = undefined;
      this.upstream.close();
      // A dial still pending completes with ECANCELED and finds it no longer current.
      this.upstream = undefined;
    }
    // A closed handle reads no more; a buffer a pending write still points into is left to the
    // garbage collector rather than reused.
    if (this.downBuf && downPool.length < POOL_MAX && !this.pendingWrites) downPool.push(this.downBuf);
    if (this.upBuf && upPool.length < POOL_MAX && !this.pendingWrites) upPool.push(this.upBuf);
    this.downBuf = this.upBuf = undefined;
  }
}

// Callbacks shared by every connection; they find it through `fwd` on the handle or request.

function onDialTimeout(f: RawForward, up: Handle): void {
  if (f.upstream === up && !f.closed) f.dialFailed(up, new Error("dial timeout"));
}

function onConnect(this: Handle, status: number): void {
  const f: RawForward = this.fwd;
  // A dial given up on (timeout, stop) completes with ECANCELED: that handle is already closed.
  if (f.upstream !== this.up) return;
  if (status !== 0) {
    f.dialFailed(this.up, uvError(status, "connect"));
    return;
  }
  f.connected(this.up);
}

function onClientRead(this: Handle): void {
  const f: RawForward | undefined = this.fwd;
  if (!f) return;
  const n = B!.state[B!.kReadBytesOrError];
  if (n > 0) f.pass(this, f.upstream, f.upBuf!, n);
  else if (n === B!.UV_EOF) f.eof(true);
  else if (n < 0) f.destroy();
}

function onUpstreamRead(this: Handle): void {
  const f: RawForward | undefined = this.fwd;
  if (!f) return;
  const n = B!.state[B!.kReadBytesOrError];
  if (n > 0) f.pass(this, f.client, f.downBuf!, n);
  else if (n === B!.UV_EOF) f.eof(false);
  else if (n < 0) f.destroy();
}

function onWriteDone(this: Handle, status: number): void {
  const f: RawForward = this.fwd;
  f.pendingWrites--;
  if (f.closed) return;
  if (status < 0) {
    f.destroy();
    return;
  }
  this.src.readStart();
}

function onShutdown(this: Handle, status: number): void {
  const f: RawForward = this.fwd;
  if (f.closed) return;
  if (status < 0) f.destroy();
  else f.shutDone(this.toClient);
}
