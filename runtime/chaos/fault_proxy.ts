/**
 * A TCP fault proxy owned by the chaos harness (Toxiproxy's idea, in process): it listens on a
 * loopback port and forwards every connection to one upstream; faults are switched on and off
 * with `setMode` and apply to open connections as well as new ones.
 *
 *   pass        bytes flow unchanged
 *   blackhole   nothing flows either way; new connections are accepted and held (a partition:
 *               TCP stays up, the peers see silence, queued bytes flow again on heal)
 *   delay       every chunk is held `ms` (± `jitterMs`), order kept
 *   bandwidth   each direction limited to `bytesPerSecond`
 *   reset       open connections are reset (RST), new ones reset at once
 *
 * Loopback only: it refuses to listen on, or forward to, anything outside 127.0.0.0/8.
 */
import net from "node:net";

export type FaultMode =
  | { type: "pass" }
  | { type: "blackhole" }
  | { type: "delay"; ms: number; jitterMs?: number }
  | { type: "bandwidth"; bytesPerSecond: number }
  | { type: "reset" };

export class FaultProxyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FaultProxyError";
  }
}

export interface FaultProxyOptions {
  upstream: { host: string; port: number };
  listenHost?: string;
  port?: number;
  /** Random source for jitter (inject a seeded one for reproducible delays). Default Math.random. */
  random?: () => number;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** One direction of a proxied connection, honouring the proxy's current mode. */
class Direction {
  /** Chunks waiting, each with the time it may be written (fixed when it reaches the head). */
  private queue: { chunk: Buffer; due?: number }[] = [];
  /** When the (throttled) link is free again, or the last delayed chunk's release time. */
  private busyUntil = 0;
  private timer?: ReturnType<typeof setTimeout>;
  /** The source half-closed: end the destination once everything queued is written. */
  private ending = false;
  bytes = 0;

  constructor(private readonly src: net.Socket, private readonly dst: net.Socket, private readonly proxy: FaultProxy) {
    src.on("data", (chunk: Buffer) => this.push(chunk));
    src.once("end", () => {
      this.ending = true;
      this.pump();
    });
    dst.on("drain", () => this.pump());
  }

  private push(chunk: Buffer): void {
    const m = this.proxy.mode;
    if (m.type === "pass" && !this.queue.length) return this.write(chunk);
    if (m.type === "bandwidth") {
      // Slices of ~50 ms each, so a big chunk trickles out instead of passing at once.
      const slice = Math.max(1, Math.floor(m.bytesPerSecond / 20));
      for (let i = 0; i < chunk.length; i += slice) this.queue.push({ chunk: chunk.subarray(i, i + slice) });
    } else this.queue.push({ chunk });
    this.pump();
  }

  private write(chunk: Buffer): void {
    if (this.dst.destroyed) return;
    this.bytes += chunk.length;
    if (!this.dst.write(chunk)) this.src.pause();
  }

  /** Sends queued chunks as the mode allows; called on every chunk, on drain and on mode changes. */
  pump(): void {
    const m = this.proxy.mode;
    if (m.type === "blackhole") {
      this.src.pause();
      return;
    }
    if (this.timer) return;
    for (;;) {
      const head = this.queue[0];
      if (!head) break;
      const now = Date.now();
      if (head.due === undefined) {
        if (m.type === "delay") head.due = Math.max(this.busyUntil, now + m.ms + (m.jitterMs ? (this.proxy.random() * 2 - 1) * m.jitterMs : 0));
        else if (m.type === "bandwidth") head.due = Math.max(this.busyUntil, now) + (head.chunk.length / m.bytesPerSecond) * 1000;
        else head.due = now;
        this.busyUntil = head.due;
      }
      if (head.due > now) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, head.due - now);
        break;
      }
      this.queue.shift();
      this.write(head.chunk);
    }
    if (this.ending && !this.queue.length && !this.timer) {
      if (!this.dst.destroyed) this.dst.end();
      return;
    }
    // Keep reading unless the destination is full or too much is queued (backpressure).
    if (!this.dst.writableNeedDrain && this.queue.length < 256) this.src.resume();
    else this.src.pause();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue = [];
  }
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
  dirs: Direction[];
}

/** The proxy. Start with `FaultProxy.start`. */
export class FaultProxy {
  private _mode: FaultMode = { type: "pass" };
  private readonly links = new Set<Link>();
  /** Connections accepted while blackholed, waiting to be connected upstream. */
  private readonly held = new Set<net.Socket>();
  private closed = false;
  /** Connections accepted since start. */
  accepted = 0;
  readonly random: () => number;

  private constructor(private readonly server: net.Server, readonly host: string, readonly port: number, private readonly opts: FaultProxyOptions) {
    this.random = opts.random ?? Math.random;
  }

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const listenHost = opts.listenHost ?? "127.0.0.1";
    if (!isLoopback(listenHost) || !isLoopback(opts.upstream.host)) {
      throw new FaultProxyError(`the fault proxy works on loopback only (listen ${listenHost}, upstream ${opts.upstream.host})`);
    }
    let proxy: FaultProxy | undefined;
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (sock) => proxy?.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e) => reject(new FaultProxyError(`cannot listen on ${listenHost}:${opts.port ?? 0}: ${e.message}`, { cause: e })));
      server.listen(opts.port ?? 0, listenHost, () => resolve());
    });
    const port = (server.address() as net.AddressInfo).port;
    proxy = new FaultProxy(server, listenHost, port, opts);
    return proxy;
  }

  get mode(): FaultMode {
    return this._mode;
  }

  /** `nats://127.0.0.1:<port>`-style address of the proxy for a scheme. */
  url(scheme = "nats"): string {
    return `${scheme}://${this.host}:${this.port}`;
  }

  /** Number of proxied connections currently open (including held ones). */
  get connections(): number {
    return this.links.size + this.held.size;
  }

  /** Switches the fault mode; applies to open connections at once. */
  setMode(mode: FaultMode): void {
    if (mode.type === "delay" && !(mode.ms >= 0)) throw new FaultProxyError(`bad delay ${mode.ms}`);
    if (mode.type === "bandwidth" && !(mode.bytesPerSecond > 0)) throw new FaultProxyError(`bad bandwidth ${mode.bytesPerSecond}`);
    this._mode = mode;
    if (mode.type === "reset") {
      for (const l of [...this.links]) this.reset(l);
      for (const s of [...this.held]) {
        this.held.delete(s);
        s.resetAndDestroy();
      }
      return;
    }
    if (mode.type !== "blackhole") {
      for (const s of [...this.held]) {
        this.held.delete(s);
        this.connect(s);
      }
    }
    for (const l of this.links) for (const d of l.dirs) d.pump();
  }

  /** Back to `pass`. Idempotent. */
  heal(): void {
    this.setMode({ type: "pass" });
  }

  private accept(sock: net.Socket): void {
    this.accepted++;
    if (this.closed || this._mode.type === "reset") {
      sock.resetAndDestroy();
      return;
    }
    sock.on("error", () => {}); // a reset client is expected under chaos; the link closes below
    if (this._mode.type === "blackhole") {
      this.held.add(sock);
      sock.once("close", () => this.held.delete(sock));
      return;
    }
    this.connect(sock);
  }

  private connect(client: net.Socket): void {
    const link: Link = { client, dirs: [] };
    this.links.add(link);
    const upstream = net.connect({ host: this.opts.upstream.host, port: this.opts.upstream.port, allowHalfOpen: true });
    link.upstream = upstream;
    upstream.pause();
    upstream.on("error", () => {});
    const close = () => {
      if (!this.links.delete(link)) return;
      for (const d of link.dirs) d.stop();
      client.destroy();
      upstream.destroy();
    };
    client.once("close", close);
    upstream.once("close", close);
    // Half-close passes through: an end on one side ends the other once its queue is written
    // (each Direction does it). Until upstream connects, the paused client cannot end.
    upstream.once("connect", () => {
      link.dirs.push(new Direction(client, upstream, this), new Direction(upstream, client, this));
      for (const d of link.dirs) d.pump();
    });
  }

  private reset(l: Link): void {
    this.links.delete(l);
    for (const d of l.dirs) d.stop();
    if (!l.client.destroyed) l.client.resetAndDestroy();
    if (l.upstream && !l.upstream.destroyed) l.upstream.resetAndDestroy();
  }

  /** Closes the listener and every connection. Idempotent. */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const l of [...this.links]) this.reset(l);
    for (const s of this.held) s.destroy();
    this.held.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
