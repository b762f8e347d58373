/**
 * The replication controller's timing decisions, pure: when an orphan may be adopted, and when
 * the RC's work loop should look again. The RC actor (replication_controller.ts) executes them;
 * what to create, delete, adopt or release is `reconcile` (replication_controller_reconcile.ts).
 */
import type { ReplicationControllerStatus } from "../model/types.ts";

/**
 * How long a matching orphan must stay an orphan before the RC adopts it. An API deleting the
 * RC with `propagationPolicy: Orphan` strips the owner references first and deletes the RC
 * after; adopting at once would take the pods straight back (Kubernetes avoids this by marking
 * the RC deleted first, see docs/controllers.md).
 */
export const ADOPT_DELAY_MS = 2_000;

/** The outcome of {@link adoptionWait}. */
export interface AdoptionWait {
  /** How long until the youngest orphan may be adopted; 0 when every one may be now. */
  waitMs: number;
  /** When each orphan still seen was first seen orphaned (orphans no longer seen are dropped). */
  orphanSince: Map<string, number>;
}

/**
 * Given the orphans the reconcile wants to adopt (by key) and when each was first seen orphaned,
 * how long adoption must still wait. While it waits, the counts include pods that are not yet
 * the RC's, so the RC changes nothing but its status and releases.
 */
export function adoptionWait(orphans: readonly string[], seenBefore: ReadonlyMap<string, number>, now: number, delayMs = ADOPT_DELAY_MS): AdoptionWait {
  const orphanSince = new Map<string, number>();
  let waitMs = 0;
  for (const k of orphans) {
    const since = seenBefore.get(k) ?? now;
    orphanSince.set(k, since);
    if (now - since < delayMs) waitMs = Math.max(waitMs, delayMs - (now - since));
  }
  return { waitMs, orphanSince };
}

/** What a pass saw, for {@link requeueAfter}. */
export interface PassOutcome {
  /** A write lost a compare-and-swap (someone else changed the object). */
  casLost: boolean;
  /** From {@link adoptionWait}. */
  adoptWaitMs: number;
  /** The RC's expectations are met (every create/delete it issued was observed). */
  expectationsSatisfied: boolean;
  expectationsTtlMs?: number;
  minReadySeconds?: number;
  status?: ReplicationControllerStatus;
}

/**
 * When the work loop should run the RC's pass again without being woken, in ms (undefined: only
 * when woken). In order: a lost CAS → soon (50 ms); an adoption waiting → just after it may
 * happen; expectations not met → after their TTL, in case an expected event never arrives;
 * pods ready but not yet available (`minReadySeconds`) → when they may have become available.
 */
export function requeueAfter(o: PassOutcome): number | undefined {
  if (o.casLost) return 50;
  if (o.adoptWaitMs > 0) return o.adoptWaitMs + 10;
  if (!o.expectationsSatisfied) return (o.expectationsTtlMs ?? 60_000) + 100;
  const minReady = (o.minReadySeconds ?? 0) * 1000;
  const st = o.status;
  if (minReady > 0 && st && (st.readyReplicas ?? 0) > (st.availableReplicas ?? 0)) return Math.min(minReady, 1000);
  return undefined;
}
