/**
 * Per-identity request rate limits for the API edges (REST and NATS): a token bucket per
 * identity, refilled at `ratePerSecond` up to `burst`. A request takes one token; with none left
 * it is refused with 429 TooManyRequests and a `Retry-After` saying when the next token comes.
 *
 * This complements the concurrency limiter (limiter.ts), which bounds how much runs *at once*;
 * the bucket bounds how much one identity may ask for *over time*, so one client can no longer
 * create 10,000 pods in half a minute. Kubernetes' fuller answer (API Priority and Fairness) is
 * later work; system identities get their own, larger buckets here, and the in-process clients
 * of the control plane never pass an edge at all.
 *
 * `takeToken` is the pure arithmetic (no clock: `now` comes in); `RateLimiter` keeps one bucket
 * per identity in a bounded map.
 */
import { ApiError } from "../../model/errors.ts";

/** A bucket's shape: sustained rate and how many requests may arrive at once. */
export interface BucketConfig {
  ratePerSecond: number;
  burst: number;
}

/** A bucket's state: tokens left at time `at` (ms). */
export interface Bucket {
  tokens: number;
  at: number;
}

export interface TakeResult {
  ok: boolean;
  bucket: Bucket;
  /** When refused: milliseconds until `cost` tokens are back (0 when allowed). */
  retryAfterMs: number;
}

/**
 * Refills `bucket` to `now` and takes `cost` tokens if there are that many. A missing bucket is
 * a full one. A clock that goes backwards refills nothing. Pure.
 */
export function takeToken(bucket: Bucket | undefined, now: number, cfg: BucketConfig, cost = 1): TakeResult {
  const burst = Math.max(0, cfg.burst);
  const rate = Math.max(0, cfg.ratePerSecond);
  const start = bucket ?? { tokens: burst, at: now };
  const elapsed = Math.max(0, now - start.at);
  const tokens = Math.min(burst, start.tokens + (elapsed * rate) / 1000);
  const at = Math.max(now, start.at);
  if (tokens >= cost) return { ok: true, bucket: { tokens: tokens - cost, at }, retryAfterMs: 0 };
  const missing = cost - tokens;
  const retryAfterMs = rate > 0 && cost <= burst ? Math.ceil((missing * 1000) / rate) : Number.POSITIVE_INFINITY;
  return { ok: false, bucket: { tokens, at }, retryAfterMs };
}

/** Identity classes with their own buckets. */
export interface RateLimitOptions {
  /** Every identity not named below (the CLI, kubectl, external clients). Default 100/s, burst 500. */
  default?: BucketConfig;
  /** Node agents (identities starting with `node:`). Default 200/s, burst 1,000 each. */
  node?: BucketConfig;
  /** Identities never throttled (e.g. a control plane that reaches the API over NATS). */
  exempt?: readonly string[];
  /** Set false to turn rate limiting off. Default true. */
  enabled?: boolean;
}

export const DEFAULT_RATE: BucketConfig = { ratePerSecond: 100, burst: 500 };
export const DEFAULT_NODE_RATE: BucketConfig = { ratePerSecond: 200, burst: 1000 };

/** The most identities tracked at once; full buckets are forgotten first when it is reached. */
const MAX_IDENTITIES = 10_000;

/** Why a request was refused, for the 429's message and Retry-After. */
export interface RateRefusal {
  identity: string;
  retryAfterSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly cfg: Required<Omit<RateLimitOptions, "exempt">> & { exempt: Set<string> };
  /** Counters for tests and metrics. */
  readonly stats = { allowed: 0, refused: 0 };

  constructor(opts: RateLimitOptions = {}, private readonly clock: () => number = Date.now) {
    this.cfg = {
      default: opts.default ?? DEFAULT_RATE,
      node: opts.node ?? DEFAULT_NODE_RATE,
      exempt: new Set(opts.exempt ?? []),
      enabled: opts.enabled ?? true,
    };
  }

  /** The bucket shape that applies to `identity`, or null when it is exempt. */
  configFor(identity: string): BucketConfig | null {
    if (!this.cfg.enabled || this.cfg.exempt.has(identity)) return null;
    return identity.startsWith("node:") ? this.cfg.node : this.cfg.default;
  }

  /** Takes one token for `identity`: null when allowed, else why not and for how long. */
  take(identity: string): RateRefusal | null {
    const cfg = this.configFor(identity);
    if (!cfg) {
      this.stats.allowed++;
      return null;
    }
    const now = this.clock();
    const r = takeToken(this.buckets.get(identity), now, cfg);
    if (!this.buckets.has(identity) && this.buckets.size >= MAX_IDENTITIES) this.forgetFull(now);
    this.buckets.set(identity, r.bucket);
    if (r.ok) {
      this.stats.allowed++;
      return null;
    }
    this.stats.refused++;
    // Kubernetes sends whole seconds, at least 1.
    const seconds = Number.isFinite(r.retryAfterMs) ? Math.max(1, Math.ceil(r.retryAfterMs / 1000)) : 60;
    return { identity, retryAfterSeconds: seconds };
  }

  /** Drops buckets that have refilled completely (they equal a fresh one), or the oldest half. */
  private forgetFull(now: number): void {
    for (const [id, b] of this.buckets) {
      const cfg = this.configFor(id);
      if (!cfg || takeToken(b, now, cfg, 0).bucket.tokens >= cfg.burst) this.buckets.delete(id);
    }
    if (this.buckets.size >= MAX_IDENTITIES) {
      let n = this.buckets.size / 2;
      for (const id of this.buckets.keys()) {
        if (n-- <= 0) break;
        this.buckets.delete(id);
      }
    }
  }
}

/** The 429 for a refusal, as kube-apiserver words it, with `details.retryAfterSeconds` (→ `Retry-After`). */
export function rateLimitedError(r: RateRefusal): ApiError {
  return new ApiError(
    "TooManyRequests",
    `Too many requests, please try again later (rate limit of ${r.identity || "this client"}; retry after ${r.retryAfterSeconds} s)`,
    { retryAfterSeconds: r.retryAfterSeconds },
  );
}
