/**
 * One proxied connection: dial an endpoint (moving on to the next candidate when a dial fails or
 * times out), then copy bytes both ways until both sides are done.
 *
 *   dialing ──connect──▶ spliced ──both closed──▶ done
 *      │  └─fail/timeout─▶ next candidate (a fixed number of tries)
 *      └─ tries used up ─▶ client reset ──▶ done
 *
 * Cost per connection is what bounds connection churn, and cost per chunk what bounds streams,
 * so both are kept small (profiled with `node --cpu-prof` under wrk): one object per connection
 * and a fixed set of module-level listeners (they find the connection through a symbol on the
 * socket) instead of stream pipes and closures per connection and per dial, and the
 * upstream → client direction (responses, downloads: most of the bytes) reads into a reused
 * 64 KiB buffer (`onread`) instead of a fresh allocation per read. That buffer is written to the
 * client directly; while the kernel has not taken all of it (the client's `writableLength` is not
 * 0) the upstream is paused, so the bytes are never overwritten before they are sent — the same
 * backpressure a pipe gives. The client → upstream direction (requests, uploads) uses plain data
 * events with pause/resume.
 *
 * Half-close passes through (`end` on one side ends the other); an error, or a full close of one
 * side, destroys both.
 */
import net from "node:net";
import type { ProxyTarget } from "./balancer.ts";

const READ_BUFFER_BYTES = 64 * 1024;
/** Buffers kept for reuse (64 × 64 KiB = 4 MiB at most), so churn does not allocate per connection. */
const POOL_MAX = 64;
const pool: Buffer[] = [];

/** For a socket already given up on: errors it still reports change nothing. */
const ignore = (): void => {};

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
}

function giveBuffer(b: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

/** What a connection needs from its proxy: the decisions and the counters stay there. */
export interface ForwardHost {
  readonly dialTimeouts: readonly number[];
  readonly stopped: boolean;
  track(s: net.Socket): void;
  dialFailed(clientIp: string, target: ProxyTarget, err: Error, attempt: number): void;
  forwarded(clientIp: string, target: ProxyTarget): void;
  rejected(clientIp: string, tried: number): void;
}

/**
 * Node's `onread` (reads into a caller's buffer). Deno's node:net compat layer is not known to
 * honour it, so there the upstream is read through data events like the client side.
 */
const USE_ONREAD = !("Deno" in globalThis);

const kForward = Symbol("berth.forward");
type Tagged = net.Socket & { [kForward]?: Forward };
const fwd = (s: net.Socket): Forward => (s as Tagged)[kForward]!;

/** Drives one accepted (paused) client connection to completion. */
export class Forward {
  upstream?: net.Socket;
  buf?: Buffer;
  timer?: NodeJS.Timeout;
  attempt = 0;
  spliced = false;
  clientClosed = false;
  upstreamClosed = true;
  upstreamPaused = false;

  constructor(
    readonly host: ForwardHost,
    readonly client: net.Socket,
    readonly clientIp: string,
    readonly candidates: ProxyTarget[],
  ) {
    (client as Tagged)[kForward] = this;
    client.on("close", onClientClose);
    client.on("error", onClientError);
    this.dial();
  }

  dial(): void {
    const i = this.attempt;
    if (i >= this.host.dialTimeouts.length || this.candidates.length === 0) {
      this.host.rejected(this.clientIp, i);
      this.client.resetAndDestroy();
      return;
    }
    const target = this.candidates[i % this.candidates.length];
    if (USE_ONREAD) this.buf ??= takeBuffer();
    const up = net.connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
      ...(USE_ONREAD ? { onread: { buffer: this.buf!, callback: onUpstreamRead } } : {}),
    });
    (up as Tagged)[kForward] = this;
    this.upstream = up;
    this.upstreamClosed = false;
    this.timer = setTimeout(onDialTimeout, this.host.dialTimeouts[i], up);
    up.once("connect", onConnect);
    up.on("error", onUpstreamError);
    up.once("close", onUpstreamClose);
  }

  /** A dial that failed: count it, detach that socket entirely and try the next candidate. */
  dialFailed(up: net.Socket, e: Error): void {
    clearTimeout(this.timer);
    // Its late "close" must not be taken for the next socket's.
    up.off("connect", onConnect);
    up.off("close", onUpstreamClose);
    up.off("error", onUpstreamError);
    up.on("error", ignore);
    up.destroy();
    this.upstream = undefined;
    this.upstreamClosed = true;
    const target = this.candidates[this.attempt % this.candidates.length];
    this.host.dialFailed(this.clientIp, target, e, this.attempt + 1);
    this.attempt++;
    if (!this.clientClosed) this.dial();
    else this.release();
  }

  destroyBoth(): void {
    this.client.destroy();
    this.upstream?.destroy();
  }

  /** The read buffer goes back to the pool once neither socket can touch it any more. */
  release(): void {
    if (!this.clientClosed || !this.upstreamClosed || !this.buf) return;
    giveBuffer(this.buf);
    this.buf = undefined;
  }
}

// The listeners below are shared by every connection; `this` is the socket that emitted.

function onDialTimeout(up: net.Socket): void {
  up.destroy(new Error("dial timeout"));
}

function onConnect(this: net.Socket): void {
  const f = fwd(this);
  clearTimeout(f.timer);
  if (f.clientClosed || f.host.stopped) {
    this.destroy();
    return;
  }
  f.spliced = true;
  f.host.track(this);
  f.host.forwarded(f.clientIp, f.candidates[f.attempt % f.candidates.length]);
  const c = f.client;
  if (!USE_ONREAD) this.on("data", onUpstreamData);
  this.on("end", onUpstreamEnd);
  this.on("drain", onUpstreamDrain);
  c.on("data", onClientData);
  c.on("end", onClientEnd);
  c.on("drain", onClientDrain);
  c.resume();
}

/** Upstream → client, from the reused buffer; returning false pauses the upstream. */
function onUpstreamRead(this: net.Socket, n: number, b: Buffer): boolean {
  const f = fwd(this);
  const c = f.client;
  c.write(b.subarray(0, n));
  if (c.writableLength === 0) return true;
  // The client socket still holds (part of) the buffer: read nothing more into it until drain.
  f.upstreamPaused = true;
  return false;
}

/** Upstream → client where `onread` is not used: plain data events, paused on backpressure. */
function onUpstreamData(this: net.Socket, d: Buffer): void {
  const f = fwd(this);
  if (f.client.write(d)) return;
  f.upstreamPaused = true;
  this.pause();
}

function onClientDrain(this: net.Socket): void {
  const f = fwd(this);
  if (!f.upstreamPaused) return;
  f.upstreamPaused = false;
  f.upstream?.resume();
}

function onClientData(this: net.Socket, d: Buffer): void {
  if (!fwd(this).upstream!.write(d)) this.pause();
}

function onUpstreamDrain(this: net.Socket): void {
  fwd(this).client.resume();
}

function onClientEnd(this: net.Socket): void {
  fwd(this).upstream?.end();
}

function onUpstreamEnd(this: net.Socket): void {
  fwd(this).client.end();
}

function onUpstreamError(this: net.Socket, e: Error): void {
  const f = fwd(this);
  if (f.spliced) f.destroyBoth();
  else f.dialFailed(this, e);
}

function onUpstreamClose(this: net.Socket): void {
  const f = fwd(this);
  clearTimeout(f.timer);
  f.upstreamClosed = true;
  if (f.spliced) f.client.destroy();
  f.release();
}

function onClientError(this: net.Socket): void {
  // Before forwarding, a client error is only a reason to stop dialing (the close follows).
  fwd(this).destroyBoth();
}

function onClientClose(this: net.Socket): void {
  const f = fwd(this);
  f.clientClosed = true;
  // While dialing this aborts the dial; once spliced it ends the pair.
  f.upstream?.destroy();
  f.release();
}
