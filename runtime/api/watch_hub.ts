/**
 * The watch side of the watch cache (watch_cache.ts): one store watch of the whole bucket feeds
 * the cache, and the cache hands each resource's events to the hub, which fans them out to every
 * API watch of that resource. Without it, N node agents each watching "pods on my node" would
 * be N JetStream consumers each receiving every pod change; with it there is one consumer and
 * an in-process fan-out.
 *
 * The hub keeps a sliding window of recent events. A subscriber starting from revision R gets
 * the buffered events after R, then live ones, with no gap: replay and registration happen in
 * one synchronous step, between two deliveries. A revision older than the window cannot be
 * served here; the caller falls back to a direct store watch (or Gone, if compacted).
 */
import type { StoreEvent } from "../store/kv_store.ts";

export interface HubSubscription {
  /** Events after the start revision, in order; ends when the hub's channel ends or `stop()`. */
  events: AsyncIterable<StoreEvent>;
  stop(): void;
}

interface Subscriber {
  from: number;
  /**
   * Only events of objects whose `spec.nodeName` is this (a node agent's pods). A pod's node is
   * set once and never changes, so such a watcher misses nothing it would show; and each event
   * then costs one lookup instead of a visit to every node's watcher.
   */
  nodeName?: string;
  push(ev: StoreEvent): void;
  end(): void;
}

const DEFAULT_WINDOW = 10_000;
/** A subscriber this far behind is cut off (its client relists) rather than buffered forever. */
const MAX_QUEUE = 100_000;

class Channel {
  readonly subscribers = new Set<Subscriber>();
  private readonly byNode = new Map<string, Set<Subscriber>>();
  /** The window's events are `buffer[head..]` (dropping one from the front must not move 10,000). */
  private buffer: StoreEvent[] = [];
  private head = 0;
  /** Every event with a revision above this is in the buffer. */
  private windowStart: number;
  ended = false;

  constructor(private readonly window: number, start: number) {
    this.windowStart = start;
  }

  deliver(ev: StoreEvent): void {
    this.buffer.push(ev);
    if (this.buffer.length - this.head > this.window) {
      const end = this.buffer.length - this.window;
      this.windowStart = this.buffer[end - 1].revision;
      this.buffer.fill(undefined as unknown as StoreEvent, this.head, end);
      this.head = end;
      // Compacted once the dropped part outgrows the window: amortized O(1) per event.
      if (this.head > Math.max(1024, this.window)) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
    }
    for (const s of this.subscribers) if (ev.revision > s.from) s.push(ev);
    const node = nodeOf(ev);
    const routed = node ? this.byNode.get(node) : undefined;
    if (routed) for (const s of routed) if (ev.revision > s.from) s.push(ev);
  }

  remove(s: Subscriber): void {
    if (s.nodeName === undefined) {
      this.subscribers.delete(s);
      return;
    }
    const set = this.byNode.get(s.nodeName);
    set?.delete(s);
    if (set && set.size === 0) this.byNode.delete(s.nodeName);
  }

  get size(): number {
    let n = this.subscribers.size;
    for (const set of this.byNode.values()) n += set.size;
    return n;
  }

  /** Registers a subscriber from `from`, or returns false if `from` is older than the window. */
  attach(s: Subscriber): boolean {
    if (this.ended || s.from < this.windowStart) return false;
    // The buffer is in revision order: start at the first event after `from` (a thousand
    // subscribers starting at the newest revision must not each walk a 10,000-event window).
    let lo = this.head;
    let hi = this.buffer.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.buffer[mid].revision > s.from) hi = mid;
      else lo = mid + 1;
    }
    for (let i = lo; i < this.buffer.length; i++) if (s.nodeName === undefined || nodeOf(this.buffer[i]) === s.nodeName) s.push(this.buffer[i]);
    if (s.nodeName === undefined) this.subscribers.add(s);
    else {
      let set = this.byNode.get(s.nodeName);
      if (!set) this.byNode.set(s.nodeName, (set = new Set()));
      set.add(s);
    }
    return true;
  }

  end(): void {
    this.ended = true;
    for (const s of [...this.subscribers, ...[...this.byNode.values()].flatMap((set) => [...set])]) s.end();
    this.subscribers.clear();
    this.byNode.clear();
  }
}

export class WatchHub {
  private readonly channels = new Map<string, Channel>();
  /** Every event after this revision has been delivered to the channels. */
  private base = 0;
  private closed = false;

  constructor(private readonly window = DEFAULT_WINDOW) {}

  /**
   * Starts over at `revision` (the cache loaded or reloaded its state): every subscriber ends
   * (its client relists or resumes), and new channels start there.
   */
  reset(revision: number): void {
    for (const ch of this.channels.values()) ch.end();
    this.channels.clear();
    this.base = revision;
  }

  /** One change of `resource`, in revision order. */
  deliver(resource: string, ev: StoreEvent): void {
    this.channel(resource).deliver(ev);
  }

  /** Subscribes to `resource` changes after `from`; null when the hub cannot serve that revision. */
  subscribe(resource: string, from: number, nodeName?: string): HubSubscription | null {
    if (this.closed) return null;
    const ch = this.channel(resource);
    const queue: (StoreEvent | null)[] = [];
    let wake: (() => void) | undefined;
    let done = false;
    const sub: Subscriber = {
      from,
      nodeName,
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
        ch.remove(sub);
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

  /** Open watches per resource (for figures). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, ch] of this.channels) out[r] = ch.size;
    return out;
  }

  /**
   * The resource's channel. A new one starts at `base`: every event of the resource after it
   * has gone through `deliver`, which would have made the channel already.
   */
  private channel(resource: string): Channel {
    let ch = this.channels.get(resource);
    if (!ch) {
      ch = new Channel(this.window, this.base);
      this.channels.set(resource, ch);
    }
    return ch;
  }

  close(): void {
    this.closed = true;
    for (const ch of this.channels.values()) ch.end();
    this.channels.clear();
  }
}

function nodeOf(ev: StoreEvent): string | undefined {
  const n = (ev.object as { spec?: { nodeName?: unknown } }).spec?.nodeName;
  return typeof n === "string" && n ? n : undefined;
}
