/**
 * Controller expectations, as in Kubernetes' `ControllerExpectations`: after a controller issues
 * N creates (or deletes), its view of the world lags until the watch delivers them. Until the
 * expected events are observed — or a TTL passes, in case some were lost — the controller must
 * not act on pod counts again, or a lagging view would make it create (or delete) twice.
 *
 * `Expectation` values are plain data and the functions over them are pure, so the reconcile
 * function can take one as input; `ExpectationsStore` keeps them per controller key for the
 * actors. Deletions are tracked by pod key, so a pod seen deleted twice (a MODIFIED with a
 * deletionTimestamp, then DELETED) is counted once.
 */

/** What one controller is still waiting to observe. */
export interface Expectation {
  /** Creates issued but not yet observed. */
  add: number;
  /** Keys (`namespace/name`) of pods whose deletion was issued but not yet observed. */
  deletes: readonly string[];
  /** When the expectation was last raised (ms since epoch). */
  timestamp: number;
}

/** Kubernetes waits 5 minutes; a local cluster recovers from a lost watch event sooner. */
export const DEFAULT_EXPECTATIONS_TTL_MS = 60_000;

/** True when the controller may act: nothing in flight, or the expectation has expired. */
export function expectationsSatisfied(e: Expectation | undefined, now: number, ttlMs = DEFAULT_EXPECTATIONS_TTL_MS): boolean {
  if (!e) return true;
  if (e.add <= 0 && e.deletes.length === 0) return true;
  return now - e.timestamp > ttlMs;
}

/** Sets fresh expectations (replacing any expired ones). */
export function expect(adds: number, deletes: readonly string[], now: number): Expectation {
  return { add: adds, deletes: [...deletes], timestamp: now };
}

/** One create observed (or failed, so it will never be observed). */
export function creationObserved(e: Expectation): Expectation {
  return { ...e, add: Math.max(0, e.add - 1) };
}

/** One deletion observed (or failed). Unknown keys leave the expectation as is. */
export function deletionObserved(e: Expectation, podKey: string): Expectation {
  if (!e.deletes.includes(podKey)) return e;
  return { ...e, deletes: e.deletes.filter((k) => k !== podKey) };
}

/** Per-controller expectations, keyed by the controller's `namespace/name`. */
export class ExpectationsStore {
  #byKey = new Map<string, Expectation>();

  get(key: string): Expectation | undefined {
    return this.#byKey.get(key);
  }
  satisfied(key: string, now: number, ttlMs?: number): boolean {
    return expectationsSatisfied(this.#byKey.get(key), now, ttlMs);
  }
  expect(key: string, adds: number, deletes: readonly string[], now: number): void {
    this.#byKey.set(key, expect(adds, deletes, now));
  }
  creationObserved(key: string): void {
    const e = this.#byKey.get(key);
    if (e) this.#byKey.set(key, creationObserved(e));
  }
  deletionObserved(key: string, podKey: string): void {
    const e = this.#byKey.get(key);
    if (e) this.#byKey.set(key, deletionObserved(e, podKey));
  }
  delete(key: string): void {
    this.#byKey.delete(key);
  }
}
