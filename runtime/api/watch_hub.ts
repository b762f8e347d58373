/**
 * One store watch per resource, shared by every API watch of that resource — kube-apiserver's
 * watch cache in miniature. Without it, N node agents each watching "pods on my node" would
 * be N JetStream consumers each receiving every pod change; with it there is one consumer and
 * an in-process fan-out.
 *
 * The hub keeps a sliding window of recent events. A subscriber starting from revision R gets
 * the buffered events after R, then live ones, with no gap: replay and registration happen in
 * one synchronous step, between two deliveries. A revision older than the window cannot be
 * served here; the caller falls back to a direct store watch (or Gone, if compacted).
 */
import type { AnyObject, Resource } from "../../model/types.ts";
import type { KvStore, StoreEvent } from "../store/kv_store.ts";

export interface HubSubscription {
  /** Events after the start revision, in order; ends when the hub's channel ends or `stop()`. */
  events: AsyncIterable<StoreEvent>;
  stop(): void;
}

interface Subscriber {
  from: number;
  push(ev: StoreEvent): void;
  end(): void;
}

const DEFAULT_WINDOW = 10_000;
/** A subscriber this far behind is cut off (its client relists) rather than buffered forever. */
const MAX_QUEUE = 100_000;

class Channel {
  readonly subscribers = new Set<Subscriber>();
  private buffer: StoreEvent[] = [];
  /** Every event with a revision above this is in the buffer. */
  private windowStart: number;
  ended = false;

  constructor(private readonly window: number, start: number) {
    this.windowStart = start;
  }

  deliver(ev: StoreEvent): void {
    this.buffer.push(ev);
    if (this.buffer.length > this.window) {
      const dropped = this.buffer.splice(0, this.buffer.length - this.window);
      this.windowStart = dropped[dropped.length - 1].revision;
    }
    for (const s of this.subscribers) if (ev.revision > s.from) s.push(ev);
  }

  /** Registers a subscriber from `from`, or returns false if `from` is older than the window. */
  attach(s: Subscriber): boolean {
    if (this.ended || s.from < this.windowStart) return false;
    // The buffer is in revision order: start at the first event after `from` (a thousand
    // subscribers starting at the newest revision must not each walk a 10,000-event window).
    let lo = 0;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buffer[mid].revision > s.from) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < this.buffer.length; i++) s.push(this.buffer[i]);
    this.subscribers.add(s);
    return true;
  }

  end(): void {
    this.ended = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }
}

export class WatchHub {
  private readonly channels = new Map<Resource, Promise<Channel>>();
  private readonly stops: (() => void)[] = [];
  private closed = false;

  constructor(private readonly store: KvStore, private readonly window = DEFAULT_WINDOW) {}

  /** Subscribes to `resource` changes after `from`; null when the hub cannot serve that revision. */
  async subscribe(resource: Resource, from: number): Promise<HubSubscription | null> {
    if (this.closed) return null;
    const ch = await this.channel(resource, from);
    const queue: (StoreEvent | null)[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const sub: Subscriber = {
      from,
      push(ev) {
        if (done) return;
        if (queue.length >= MAX_QUEUE) {
          sub.end();
          return;
        }
        queue.push(ev);
        wake?.();
      },
      end() {
        if (done) return;
        done = true;
        queue.push(null);
        ch.subscribers.delete(sub);
        wake?.();
      },
    };
    if (!ch.attach(sub)) return null;
    return {
      stop: () => sub.end(),
      events: {
        async *[Symbol.asyncIterator]() {
          try {
            for (;;) {
              while (queue.length === 0) await new Promise<void>((r) => (wake = r));
              wake = undefined;
              const ev = queue.shift()!;
              if (ev === null) return;
              yield ev;
            }
          } finally {
            sub.end();
          }
        },
      },
    };
  }

  /**
   * Opens the resource's shared channel if it is not open yet. A caller that lists and then
   * subscribes from the list's revision calls this first: a channel opened after the list would
   * start after that revision and could not serve it.
   */
  async prepare(resource: Resource): Promise<void> {
    if (!this.closed) await this.channel(resource);
  }

  /** The resource's channel; a new one starts at `from` when given (so its first subscriber is served), else at the newest revision. */
  private channel(resource: Resource, from?: number): Promise<Channel> {
    let ch = this.channels.get(resource);
    if (!ch) {
      const opened: Promise<Channel> = this.open(resource, from, () => {
        // An ended channel is forgotten, so the next subscriber opens a fresh one.
        if (this.channels.get(resource) === opened) this.channels.delete(resource);
      });
      ch = opened;
      this.channels.set(resource, ch);
      // A channel that fails to open is forgotten too.
      ch.catch(() => {
        if (this.channels.get(resource) === opened) this.channels.delete(resource);
      });
    }
    return ch;
  }

  private async open(resource: Resource, from: number | undefined, onEnd: () => void): Promise<Channel> {
    const last = await this.store.lastRevision();
    const start = from !== undefined && from > 0 && from < last ? from : last;
    const w = await this.store.watch(resource, { fromRevision: start });
    const ch = new Channel(this.window, start);
    this.stops.push(() => w.stop());
    (async () => {
      try {
        for await (const ev of w) ch.deliver(ev as StoreEvent<AnyObject>);
      } catch {
        // The store watch broke (connection lost for good): subscribers end and relist.
      } finally {
        ch.end();
        onEnd();
      }
    })();
    return ch;
  }

  close(): void {
    this.closed = true;
    for (const s of this.stops.splice(0)) s();
    this.channels.clear();
  }
}
