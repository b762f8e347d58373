/**
 * Flow control for the API edges, in the spirit of Kubernetes' API Priority and Fairness:
 *
 *   classify(request) → priority level     node-high: node agents' heartbeats (their Node
 *                                            and Lease), as Kubernetes' system-node-high
 *                                          system: node agents' other requests (pod status,
 *                                            events, reads)
 *                                          workload: every other API request
 *                                          catch-all: requests naming no resource
 *   level: its own share of the seats      a request runs when its level has a free seat; a
 *                                          flooded level cannot take another level's seats
 *   level: one queue per flow (identity)   waiting requests are dispatched round-robin across
 *                                          flows, so one busy client waits behind itself only
 *   full queue → 429 + Retry-After         a flow's queue, or the level's, is bounded
 *   requester's deadline                   a request waits no longer than its requester does
 *                                          (`maxWaitMs`): one whose requester has given up is
 *                                          dropped from the queue, never run, so a backlog
 *                                          cannot fill the seats with work nobody awaits
 *
 * One instance serves both edges of one Api (REST and NATS, see `flowControlFor`), so a flood on
 * one cannot starve the other. `figures()` is the plain object the metrics endpoint publishes.
 */
import { ApiError } from "../../model/errors.ts";

export const LEVELS = ["node-high", "system", "workload", "catch-all"] as const;
export type PriorityLevel = (typeof LEVELS)[number];

export interface LevelConfig {
  /** Relative share of `seats`. */
  shares: number;
  /** Requests waiting in one flow's queue at most. */
  maxQueuedPerFlow: number;
  /** Requests waiting in the level at most. */
  maxQueued: number;
}

export interface FlowControlOptions {
  /** Requests running at once, all levels together (default 256; kube-apiserver has 600). */
  seats?: number;
  levels?: Partial<Record<PriorityLevel, Partial<LevelConfig>>>;
  /** A request queued longer than this is answered 429 instead of run (default 10 s). */
  maxWaitMs?: number;
}

const DEFAULT_LEVELS: Record<PriorityLevel, LevelConfig> = {
  // A heartbeat must not queue behind its own node's pod status writes.
  "node-high": { shares: 10, maxQueuedPerFlow: 16, maxQueued: 4096 },
  system: { shares: 40, maxQueuedPerFlow: 256, maxQueued: 4096 },
  workload: { shares: 40, maxQueuedPerFlow: 128, maxQueued: 1024 },
  "catch-all": { shares: 20, maxQueuedPerFlow: 64, maxQueued: 256 },
};

/** What a request is, for classification. */
export interface RequestAttributes {
  /** `node:<name>` for a node agent; anything else is a client. */
  identity: string;
  /** Absent for requests that name no resource (discovery, unknown paths). */
  resource?: string;
  /**
   * How long the requester waits for an answer at most (its own timeout, as sent with the
   * request): the request is not run once it has waited that long (default: the level's
   * `maxWaitMs`, whichever is shorter).
   */
  maxWaitMs?: number;
}

/** Node agents' heartbeats: their Node object and their Lease. */
const NODE_HIGH_RESOURCES = new Set(["nodes", "leases"]);

/** The priority level of a request. Pure. */
export function classify(r: RequestAttributes): PriorityLevel {
  if (r.identity.startsWith("node:")) return r.resource !== undefined && NODE_HIGH_RESOURCES.has(r.resource) ? "node-high" : "system";
  if (r.resource === undefined) return "catch-all";
  return "workload";
}

/** Figures of one level (for metrics and tests). */
export interface LevelFigures {
  seats: number;
  inFlight: number;
  queued: number;
  /** Flows with requests waiting. */
  flows: number;
  dispatched: number;
  rejected: number;
  /** Refused after waiting longer than maxWaitMs. */
  timedOut: number;
  peakQueued: number;
}

interface Waiter {
  enqueued: number;
  /** Not run after this (local clock, ms): its requester has given up. */
  deadline: number;
  run: () => void;
  refuse: (e: ApiError) => void;
}

class Level {
  inFlight = 0;
  queued = 0;
  /** Flows with waiting requests, in round-robin order. */
  private readonly flows = new Map<string, Waiter[]>();
  readonly figures = { dispatched: 0, rejected: 0, timedOut: 0, peakQueued: 0 };

  constructor(readonly name: PriorityLevel, readonly seats: number, readonly cfg: LevelConfig, private readonly maxWaitMs: number) {}

  /** Resolves with a release function once a seat is free; rejects with 429 when the queue is full. */
  acquire(flow: string, maxWaitMs?: number): Promise<() => void> {
    if (this.inFlight < this.seats && this.queued === 0) return Promise.resolve(this.seat());
    let q = this.flows.get(flow);
    // Before refusing, make room by dropping requests whose requesters have given up.
    if (this.queued >= this.cfg.maxQueued) this.dropExpired();
    else if (q && q.length >= this.cfg.maxQueuedPerFlow) this.dropExpired(flow);
    q = this.flows.get(flow);
    if (this.queued >= this.cfg.maxQueued || (q?.length ?? 0) >= this.cfg.maxQueuedPerFlow) {
      this.figures.rejected++;
      return Promise.reject(tooMany(this.name, this.queued >= this.cfg.maxQueued ? "the level's queue is full" : "this client's queue is full"));
    }
    return new Promise((resolve, reject) => {
      const now = Date.now();
      const w: Waiter = { enqueued: now, deadline: now + Math.min(this.maxWaitMs, maxWaitMs ?? Infinity), run: () => resolve(this.seat()), refuse: reject };
      if (q) q.push(w);
      else this.flows.set(flow, [w]);
      this.queued++;
      this.figures.peakQueued = Math.max(this.figures.peakQueued, this.queued);
    });
  }

  private seat(): () => void {
    this.inFlight++;
    this.figures.dispatched++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
      this.dispatch();
    };
  }

  /** Fills free seats from the queues, one request per flow in turn (fair queuing). */
  private dispatch(): void {
    while (this.inFlight < this.seats && this.queued > 0) {
      // The Map's first flow is next; it goes to the back if it still has requests waiting.
      const [flow, q] = this.flows.entries().next().value as [string, Waiter[]];
      const w = q.shift()!;
      this.flows.delete(flow);
      if (q.length) this.flows.set(flow, q);
      this.queued--;
      if (Date.now() > w.deadline) {
        this.figures.timedOut++;
        w.refuse(tooMany(this.name, "the request waited too long"));
        continue;
      }
      w.run();
    }
  }

  /** Refuses the waiting requests past their deadline (of one flow, or all). */
  private dropExpired(only?: string): void {
    const now = Date.now();
    for (const [flow, q] of only === undefined ? this.flows : [[only, this.flows.get(only) ?? []] as const]) {
      const keep = q.filter((w) => {
        if (now <= w.deadline) return true;
        this.queued--;
        this.figures.timedOut++;
        w.refuse(tooMany(this.name, "the request waited too long"));
        return false;
      });
      if (keep.length === q.length) continue;
      if (keep.length) this.flows.set(flow, keep);
      else this.flows.delete(flow);
    }
  }

  snapshot(): LevelFigures {
    return { seats: this.seats, inFlight: this.inFlight, queued: this.queued, flows: this.flows.size, ...this.figures };
  }
}

function tooMany(level: PriorityLevel, why: string): ApiError {
  return new ApiError("TooManyRequests", `too many requests at priority level "${level}": ${why}; retry later`, { retryAfterSeconds: 1 });
}

export class FlowControl {
  private readonly levels: Record<PriorityLevel, Level>;

  constructor(opts: FlowControlOptions = {}) {
    // A seat is held while the request waits on the store too: with 64, a 1,000-node run kept the
    // system level full while the API process used 0.6 of a core.
    const seats = opts.seats ?? 256;
    const cfgs = Object.fromEntries(LEVELS.map((l) => [l, { ...DEFAULT_LEVELS[l], ...opts.levels?.[l] }])) as Record<PriorityLevel, LevelConfig>;
    const total = LEVELS.reduce((a, l) => a + cfgs[l].shares, 0);
    this.levels = Object.fromEntries(
      LEVELS.map((l) => [l, new Level(l, Math.max(1, Math.round((seats * cfgs[l].shares) / total)), cfgs[l], opts.maxWaitMs ?? 10_000)]),
    ) as Record<PriorityLevel, Level>;
  }

  /**
   * Waits for a seat at the request's level and returns its release (call it once the request
   * is done); rejects with 429 TooManyRequests (retryAfterSeconds 1) when the queue is full.
   */
  acquire(r: RequestAttributes): Promise<() => void> {
    return this.levels[classify(r)].acquire(r.identity, r.maxWaitMs);
  }

  /** Runs `task` in a seat. */
  async run<T>(r: RequestAttributes, task: () => Promise<T>): Promise<T> {
    const release = await this.acquire(r);
    try {
      return await task();
    } finally {
      release();
    }
  }

  /** Queue lengths, seats in use and rejections per level: a plain object for metrics. */
  figures(): Record<PriorityLevel, LevelFigures> {
    return Object.fromEntries(LEVELS.map((l) => [l, this.levels[l].snapshot()])) as Record<PriorityLevel, LevelFigures>;
  }
}

const shared = new WeakMap<object, FlowControl>();

/**
 * The flow control of the API object `api`: the REST and NATS edges of one Api share it, so
 * their requests draw on the same seats. Created with `opts` on first use.
 */
export function flowControlFor(api: object, opts?: FlowControlOptions): FlowControl {
  let fc = shared.get(api);
  if (!fc) shared.set(api, (fc = new FlowControl(opts)));
  return fc;
}
