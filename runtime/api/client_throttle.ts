/**
 * A client's own request rate, as client-go's QPS/burst (the kubelet's `kubeAPIQPS` 50,
 * `kubeAPIBurst` 100): a token bucket that makes requests *wait* for their turn instead of
 * sending them. With a thousand node agents, a busy API server sees each agent's sustained
 * rate, not the burst of everything it has pending.
 *
 *   request ─ exempt? ──────────────────────────────▶ sent      (heartbeats: Node, Lease;
 *      │                                                         watch keep-alives — the
 *      └─ reserve a token: wait until it is there ──▶ sent       kubelet's heartbeat client is
 *                           and past any back-off                 not rate limited either)
 *   answer 429 + Retry-After ─▶ backOff: no throttled request of this client leaves before then
 *
 * The back-off is the client's, not the request's: one refusal pauses everything the agent
 * would have sent next, so a node with thirty pending pod statuses does not answer a full server
 * with thirty retries. `reserve` is the arithmetic (no clock: `now` comes in), as golang.org/x/
 * time/rate's reservations: tokens may go below zero, and the debt is the wait.
 */

/** Sustained requests per second and how many may leave at once; qps ≤ 0 means no limit. */
export interface ThrottleConfig {
  qps: number;
  burst: number;
}

/** The kubelet's defaults (kubeAPIQPS, kubeAPIBurst). */
export const KUBELET_THROTTLE: ThrottleConfig = { qps: 50, burst: 100 };

/** Tokens at time `at` (ms); negative while requests wait for tokens already promised to them. */
export interface ThrottleState {
  tokens: number;
  at: number;
}

/**
 * Takes one token at `now` and says how long its request must wait (ms) before it leaves:
 * until the token exists, and not before `notBefore` (a server's Retry-After). Pure.
 */
export function reserve(state: ThrottleState | undefined, now: number, cfg: ThrottleConfig, notBefore = 0): { state: ThrottleState; waitMs: number } {
  const burst = Math.max(1, cfg.burst);
  const start = state ?? { tokens: burst, at: now };
  const at = Math.max(now, start.at);
  const tokens = Math.min(burst, start.tokens + ((at - start.at) * cfg.qps) / 1000) - 1;
  const forToken = tokens >= 0 ? 0 : (-tokens * 1000) / cfg.qps;
  return { state: { tokens, at }, waitMs: Math.max(forToken, notBefore - now, 0) };
}

export interface ThrottleFigures {
  /** Requests that had to wait, and their total wait (ms). */
  waited: number;
  waitedMs: number;
  /** Back-offs taken after a 429. */
  backOffs: number;
}

/** One client's throttle. */
export class ClientThrottle {
  private state?: ThrottleState;
  private notBefore = 0;
  readonly figures: ThrottleFigures = { waited: 0, waitedMs: 0, backOffs: 0 };

  constructor(
    readonly cfg: ThrottleConfig,
    private readonly clock: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  get enabled(): boolean {
    return this.cfg.qps > 0;
  }

  /** Resolves when a request may leave: its token is there and no back-off is running. */
  async wait(): Promise<void> {
    if (!this.enabled) return;
    const started = this.clock();
    let reserved = false;
    let slept = false;
    for (;;) {
      const now = this.clock();
      let ms = 0;
      if (!reserved) {
        const r = reserve(this.state, now, this.cfg);
        this.state = r.state;
        reserved = true;
        ms = r.waitMs;
      }
      // A back-off that began while this request waited for its token holds it too.
      ms = Math.max(ms, this.notBefore - now);
      if (ms <= 0) break;
      await this.sleep(ms);
      slept = true;
    }
    // Counted by whether it slept, not by the clock: a request that left at once may still see
    // the clock move on (a millisecond boundary passed, or a busy event loop) and did not wait.
    if (slept) {
      this.figures.waited++;
      this.figures.waitedMs += this.clock() - started;
    }
  }

  /** A server said "too many requests, retry after `ms`": nothing throttled leaves before then. */
  backOff(ms: number): void {
    if (!this.enabled) return;
    const until = this.clock() + ms;
    if (until > this.notBefore) {
      this.notBefore = until;
      this.figures.backOffs++;
    }
  }
}
