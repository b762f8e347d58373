/**
 * A bounded work queue for the API server: at most `maxInFlight` requests run at once, at most
 * `maxQueued` wait, and no single identity may hold more than `maxPerIdentity` of those places.
 * Anything beyond is refused at once (the caller answers 429 TooManyRequests), so a flood costs
 * a bounded amount of memory. A request that waited longer than `maxWaitMs` is not run at all:
 * its requester has given up already.
 */
export interface LimiterOptions {
  maxInFlight?: number;
  maxQueued?: number;
  maxPerIdentity?: number;
  maxWaitMs?: number;
}

/** Why a task was not run. */
export type Refusal = "queueFull" | "identityFull" | "waitedTooLong";

interface Waiting {
  identity: string;
  enqueued: number;
  run: () => void;
  refuse: (why: Refusal) => void;
}

export class Limiter {
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly maxPerIdentity: number;
  readonly maxWaitMs: number;
  private inFlight = 0;
  private readonly queue: Waiting[] = [];
  private head = 0;
  private readonly perIdentity = new Map<string, number>();
  /** Counters for tests and metrics. */
  readonly stats = { run: 0, refused: 0, expired: 0, peakQueued: 0, peakInFlight: 0 };

  constructor(opts: LimiterOptions = {}) {
    this.maxInFlight = opts.maxInFlight ?? 256; // no fewer than flow control's seats, which come first
    this.maxQueued = opts.maxQueued ?? 1024;
    this.maxPerIdentity = opts.maxPerIdentity ?? 512;
    this.maxWaitMs = opts.maxWaitMs ?? 10_000;
  }

  get queued(): number {
    return this.queue.length - this.head;
  }

  get running(): number {
    return this.inFlight;
  }

  /**
   * Runs `task` when a slot is free. `onRefused` is called instead when the queue or the
   * identity's share is full, or the task waited too long.
   */
  submit(identity: string, task: () => Promise<void>, onRefused: (why: Refusal) => void): void {
    const held = this.perIdentity.get(identity) ?? 0;
    if (held >= this.maxPerIdentity) return this.refuse(onRefused, "identityFull");
    if (this.inFlight >= this.maxInFlight && this.queued >= this.maxQueued) return this.refuse(onRefused, "queueFull");
    this.perIdentity.set(identity, held + 1);
    const release = () => {
      const n = (this.perIdentity.get(identity) ?? 1) - 1;
      if (n <= 0) this.perIdentity.delete(identity);
      else this.perIdentity.set(identity, n);
    };
    const run = () => {
      this.inFlight++;
      this.stats.run++;
      this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.inFlight);
      let p: Promise<void>;
      try {
        p = task();
      } catch (e) {
        p = Promise.reject(e);
      }
      // The task reports its own errors; the limiter only needs to know it ended.
      p.catch(() => {}).finally(() => {
        this.inFlight--;
        release();
        this.next();
      });
    };
    if (this.inFlight < this.maxInFlight) return run();
    this.queue.push({
      identity,
      enqueued: Date.now(),
      run,
      refuse: (why) => {
        release();
        onRefused(why);
      },
    });
    this.stats.peakQueued = Math.max(this.stats.peakQueued, this.queued);
  }

  private refuse(onRefused: (why: Refusal) => void, why: Refusal): void {
    this.stats.refused++;
    onRefused(why);
  }

  private next(): void {
    while (this.inFlight < this.maxInFlight && this.queued > 0) {
      const w = this.queue[this.head];
      this.queue[this.head] = undefined as unknown as Waiting;
      this.head++;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (Date.now() - w.enqueued > this.maxWaitMs) {
        this.stats.expired++;
        w.refuse("waitedTooLong");
        continue;
      }
      w.run();
    }
  }
}
