/**
 * The read → modify → compare-and-swap loop, once. A writer that loses the CAS to a concurrent
 * writer (409 Conflict) reads again and retries, a bounded number of times: a conflict means
 * someone else made progress, so a few tries always suffice unless a hot object is fought over.
 */
import { ApiError } from "./errors.ts";

/** How many times a lost compare-and-swap is retried before the Conflict is returned. */
export const CONFLICT_RETRIES = 8;

/** True for a 409 Conflict (a lost compare-and-swap). */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.reason === "Conflict";
}

/**
 * Runs `attempt` until it does not throw a Conflict, at most `retries + 1` times. `attempt` gets
 * the attempt number (0 first) and must read the current object itself each time. Any other
 * error, and the last Conflict, is thrown. `retryIf` narrows when a Conflict may be retried
 * (e.g. never when the caller pinned a resourceVersion: then the Conflict is the answer).
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  opts: { retries?: number; retryIf?: () => boolean } = {},
): Promise<T> {
  const retries = opts.retries ?? CONFLICT_RETRIES;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!isConflict(e) || n >= retries || (opts.retryIf && !opts.retryIf())) throw e;
    }
  }
}
