/**
 * One byte-stream session over NATS (exec, attach, port-forward) between a requester (the API
 * server, the berth CLI) and the node agent that runs the pod. Frames and flow control are in
 * frames.ts; subjects in runtime/subjects.ts:
 *
 *   berth.node.<node>.stream                      open request {kind, pod, …, sessionId} → {ok} | Status
 *   berth.node.<node>.streamio.<sessionId>.up     requester → node (stdin, resize, acks of output)
 *   berth.node.<node>.streamio.<sessionId>.down   node → requester (output, status, acks of stdin)
 *
 * Lifecycle: open → (DATA/ACK/CLOSE/RESIZE)* → [STATUS] → END. Either side ends it by sending
 * END (or by falling silent: each side pings every `pingMs` and gives up after `deadMs` without
 * hearing anything); ending unsubscribes, so nothing is left behind on either side.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import { AckBatcher, decodeFrame, DEFAULT_WINDOW, encodeFrame, type Frame, SendCredit } from "./frames.ts";

export interface SessionHandlers {
  /** Bytes of a channel; the returned promise resolves once they are handed on (then acknowledged). */
  onData?(channel: number, data: Uint8Array): void | Promise<void>;
  onClose?(channel: number): void;
  onResize?(width: number, height: number): void;
  onStatus?(status: Record<string, unknown>): void;
  /** Once, when the session ends for any reason (END from the peer, `end()`, silence). */
  onEnd?(reason: string, byPeer: boolean): void;
}

export interface SessionOptions {
  sendSubject: string;
  recvSubject: string;
  window?: number;
  pingMs?: number;
  deadMs?: number;
}

/** A NATS stream session; see the file comment. */
export class StreamSession {
  private readonly sub: Subscription;
  private readonly credit: SendCredit;
  private readonly acks: AckBatcher;
  private readonly waiters: (() => void)[] = [];
  private lastHeard = Date.now();
  private readonly timer: ReturnType<typeof setInterval>;
  private ended = false;
  private sendChain: Promise<void> = Promise.resolve();
  private current: SessionHandlers = {};
  /**
   * Frames for the handlers that arrived before any were set (null once they are). A session
   * receives from the moment it exists, but its owner sets handlers later — the requester after
   * the open request's reply, which a quick command's output, status and END can overtake.
   * Bounded: the peer sends at most the window of data unacknowledged, and data is acknowledged
   * only once handed over.
   */
  private early: Frame[] | null = [];
  /** Resolves with the reason once the session has ended. */
  readonly done: Promise<string>;
  private resolveDone!: (r: string) => void;

  constructor(private readonly nc: NatsConnection, private readonly opts: SessionOptions) {
    this.credit = new SendCredit(opts.window ?? DEFAULT_WINDOW);
    this.acks = new AckBatcher(opts.window ?? DEFAULT_WINDOW);
    this.done = new Promise((r) => (this.resolveDone = r));
    this.sub = nc.subscribe(opts.recvSubject, { callback: (_e, m) => this.receive(m.data) });
    const pingMs = opts.pingMs ?? 5_000;
    const deadMs = opts.deadMs ?? 20_000;
    this.timer = setInterval(() => {
      if (Date.now() - this.lastHeard > deadMs) return this.finish(`no word from the other side for ${deadMs} ms`, false, true);
      this.publish({ type: "ping" });
    }, pingMs);
  }

  get handlers(): SessionHandlers {
    return this.current;
  }

  /** Sets the handlers; frames that arrived before them are handed over first, in order. */
  set handlers(h: SessionHandlers) {
    this.current = h;
    const early = this.early;
    this.early = null;
    for (const f of early ?? []) this.dispatch(f);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /**
   * Sends bytes on a channel, in order with every other `send`, waiting for credit as needed.
   * Resolves once all of them are handed to NATS; rejects if the session ends first.
   */
  send(channel: number, data: Uint8Array): Promise<void> {
    const p = this.sendChain.then(() => this.sendNow(channel, data));
    this.sendChain = p.catch(() => {});
    return p;
  }

  private async sendNow(channel: number, data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) {
      if (this.ended) throw new Error("the stream session has ended");
      const room = Math.min(this.credit.available(), this.credit.maxChunk, data.length - off);
      if (room <= 0) {
        await new Promise<void>((r) => this.waiters.push(r));
        continue;
      }
      this.credit.take(room);
      this.publish({ type: "data", channel, data: data.subarray(off, off + room) });
      off += room;
    }
  }

  /** Half-closes a channel, after every byte already queued on it. */
  close(channel: number): void {
    this.sendChain = this.sendChain.then(() => this.publish({ type: "close", channel }));
  }

  resize(width: number, height: number): void {
    this.publish({ type: "resize", width, height });
  }

  /** Sends the outcome after every byte already queued; resolves once it is out. */
  status(status: Record<string, unknown>): Promise<void> {
    this.sendChain = this.sendChain.then(() => this.publish({ type: "status", status }));
    return this.sendChain;
  }

  /** Ends the session on both sides (after queued output when `graceful`). */
  end(reason: string, graceful = false): void {
    if (graceful) void this.sendChain.then(() => this.finish(reason, false, true));
    else this.finish(reason, false, true);
  }

  /** Bytes sent and not yet acknowledged (for tests and flow-control checks). */
  outstanding(): number {
    return this.credit.outstanding();
  }

  private publish(f: Frame): void {
    if (this.ended && f.type !== "end") return;
    try {
      this.nc.publish(this.opts.sendSubject, encodeFrame(f));
    } catch {
      // The connection is closing: the session ends below, or by silence on the other side.
      if (f.type !== "end") this.finish("the NATS connection is closed", false, false);
    }
  }

  private receive(b: Uint8Array): void {
    if (this.ended) return;
    this.lastHeard = Date.now();
    let f: Frame;
    try {
      f = decodeFrame(b);
    } catch (e) {
      return this.finish(`protocol error: ${(e as Error).message}`, false, true);
    }
    // Credit for our own sends and liveness need no handlers; the rest waits for them.
    if (this.early && f.type !== "ack" && f.type !== "ping") {
      this.early.push(f);
      return;
    }
    this.dispatch(f);
  }

  private dispatch(f: Frame): void {
    if (this.ended) return;
    const h = this.current;
    try {
      switch (f.type) {
        case "data": {
          this.acks.arrived(f.data.length);
          const n = f.data.length;
          const settle = () => {
            const ack = this.acks.consumed(n);
            if (ack > 0) this.publish({ type: "ack", bytes: ack });
          };
          const r = h.onData?.(f.channel, f.data);
          if (r && typeof (r as Promise<void>).then === "function") (r as Promise<void>).then(settle, () => this.finish("the receiving end failed", false, true));
          else settle();
          return;
        }
        case "ack":
          this.credit.grant(f.bytes);
          for (const w of this.waiters.splice(0)) w();
          return;
        case "close":
          return h.onClose?.(f.channel);
        case "resize":
          return h.onResize?.(f.width, f.height);
        case "status":
          return h.onStatus?.(f.status);
        case "end":
          return this.finish(f.reason || "ended by the other side", true, false);
        case "ping":
          return;
      }
    } catch (e) {
      this.finish(`protocol error: ${(e as Error).message}`, false, true);
    }
  }

  private finish(reason: string, byPeer: boolean, tell: boolean): void {
    if (this.ended) return;
    if (tell) this.publish({ type: "end", reason });
    this.ended = true;
    clearInterval(this.timer);
    this.sub.unsubscribe();
    for (const w of this.waiters.splice(0)) w();
    try {
      this.current.onEnd?.(reason, byPeer);
    } finally {
      this.resolveDone(reason);
    }
  }
}
