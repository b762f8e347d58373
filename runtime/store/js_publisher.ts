/**
 * JetStream publishes that wait for the stream's acknowledgement, through one reply subscription
 * held for the store's lifetime.
 *
 * `js.publish` sends each message as `nc.request`. That is correct and costs, per write: a
 * request object, a timer of its own, and (nats-core 3.4.0) a `RequestError` built with its
 * stack for every *successful* request, to reject a promise already settled. On the API's write
 * path that was about a tenth of a write's CPU (bench/schedule.ts; docs/benchmarks.md). Here a
 * write is a map entry keyed by a counter in the reply subject, and one timer sweeps the
 * deadlines of all writes in flight.
 *
 * The outcomes are the ones `js.publish` gives: the sequence from the ack; `JetStreamApiError`
 * for an error the stream answers (wrong last sequence, bucket full, ...); nats-core's
 * `TimeoutError` after `timeoutMs` without an answer; "jetstream is not enabled" when no stream
 * listens on the subject (a no-responders status); the server's `PermissionViolationError` when
 * it refuses the publish (reported on the connection's status, matched to the oldest write in
 * flight to that subject); `DrainingConnectionError` while the connection drains (nothing is
 * sent); `ClosedConnectionError` once it is closed. There are no retries, as `js.publish` makes
 * none by default.
 */
import { ClosedConnectionError, createInbox, DrainingConnectionError, type MsgHdrs, type Msg, type NatsConnection, NoRespondersError, PermissionViolationError, type Subscription, TimeoutError } from "@nats-io/nats-core";
import { JetStreamApiError, JetStreamError } from "@nats-io/jetstream";

interface Pending {
  resolve(seq: number): void;
  reject(e: Error): void;
  subject: string;
  deadline: number;
}

/** The default wait for an ack, as the JetStream client's (5 s). */
export const PUBLISH_TIMEOUT_MS = 5000;

const decoder = new TextDecoder();

export class JsPublisher {
  private readonly prefix: string;
  private sub?: Subscription;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  private sweeper?: ReturnType<typeof setInterval>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs = PUBLISH_TIMEOUT_MS,
  ) {
    // The connection's inbox prefix, as nc.request uses: NATS permissions may allow only that.
    const inboxPrefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    this.prefix = createInbox(inboxPrefix);
    void this.watchRefusals();
  }

  /**
   * A publish the server refuses (permissions) is told only on the connection's status, with
   * the subject: the oldest write in flight to it is the one refused (the server answers a
   * connection's messages in order). Without this it would wait out the timeout.
   */
  private async watchRefusals(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type !== "error" || !(s.error instanceof PermissionViolationError) || s.error.operation !== "publish") continue;
        for (const [token, p] of this.pending) {
          if (p.subject !== s.error.subject) continue;
          this.pending.delete(token);
          p.reject(s.error);
          break;
        }
      }
    } catch {
      // The status feed ends with the connection; writes in flight then fail as closed.
    }
  }

  /** Writes in flight (for tests). */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Publishes `data` to `subject` and resolves with the stream sequence it was stored at. */
  publish(subject: string, data: Uint8Array | string, h?: MsgHdrs): Promise<number> {
    if (this.nc.isClosed()) return Promise.reject(new ClosedConnectionError());
    // Draining: the reply subscription may already be gone at the server, so a write sent now
    // could be stored with its ack lost. Refused unsent, as nc.request refuses.
    if (this.nc.isDraining()) return Promise.reject(new DrainingConnectionError());
    const token = (this.next++).toString(36);
    return new Promise<number>((resolve, reject) => {
      let sub: Subscription;
      try {
        sub = this.subscription();
        this.pending.set(token, { resolve, reject, subject, deadline: performance.now() + this.timeoutMs });
        this.nc.publish(subject, data, { reply: `${this.prefix}.${token}`, headers: h });
      } catch (e) {
        this.pending.delete(token);
        reject(e as Error);
        return;
      }
      if (sub.isClosed()) this.failAll(new ClosedConnectionError());
      else this.armSweeper();
    });
  }

  /** Stops listening; writes still waiting fail as on a closed connection. */
  close(): void {
    const sub = this.sub;
    this.sub = undefined;
    sub?.unsubscribe();
    this.failAll(new ClosedConnectionError());
  }

  private subscription(): Subscription {
    if (this.sub && !this.sub.isClosed()) return this.sub;
    const sub = this.nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err) {
          // The subscription itself failed (a permissions violation): nothing will be answered.
          this.failAll(err);
          return;
        }
        this.answer(msg);
      },
    });
    this.sub = sub;
    void sub.closed.then(() => {
      // A replaced subscription's end says nothing of the writes waiting on its successor
      // (close() and the error callback fail their own).
      if (this.sub !== sub) return;
      this.sub = undefined;
      this.failAll(new ClosedConnectionError());
    });
    return sub;
  }

  private answer(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length + 1);
    const p = this.pending.get(token);
    if (!p) return; // answered after its deadline: the writer was told it timed out
    this.pending.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      p.reject(new JetStreamError("jetstream is not enabled", { cause: new NoRespondersError(p.subject) }));
      return;
    }
    let ack: { stream?: string; seq?: number; error?: ConstructorParameters<typeof JetStreamApiError>[0] };
    try {
      ack = JSON.parse(decoder.decode(msg.data));
    } catch (e) {
      p.reject(new JetStreamError(`invalid ack response: ${(e as Error).message}`));
      return;
    }
    if (ack.error) p.reject(new JetStreamApiError(ack.error));
    else if (!ack.stream || typeof ack.seq !== "number") p.reject(new JetStreamError("invalid ack response"));
    else p.resolve(ack.seq);
  }

  private failAll(e: Error): void {
    if (this.pending.size === 0) return;
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
    this.disarmSweeper();
  }

  /** One timer for every write in flight, at a quarter of the timeout (at most 250 ms late). */
  private armSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), Math.min(250, Math.max(10, this.timeoutMs / 4)));
    this.sweeper.unref?.();
  }

  private disarmSweeper(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(): void {
    const now = performance.now();
    // Every write waits the same time, so the map's order (insertion) is the deadlines' order.
    for (const [token, p] of this.pending) {
      if (p.deadline > now) break;
      this.pending.delete(token);
      p.reject(new TimeoutError());
    }
    if (this.pending.size === 0) this.disarmSweeper();
  }
}
