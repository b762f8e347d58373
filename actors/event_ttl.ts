/**
 * The event TTL sweeper: deletes Events older than their time to live, so history cannot grow
 * without bound. kube-apiserver stores every Event with an etcd lease of `--event-ttl` (1 h by
 * default); Berth's store (a JetStream KV on nats-server 2.9) has no per-message TTL, so the
 * control plane sweeps instead:
 *
 *   every intervalMs ──▶ work loop (work_loop.ts)
 *   one pass: list events ─▶ expiredEvents (pure) ─▶ delete each, a few at a time
 *             (precondition: the uid listed, so a recreated event of the same name survives)
 *
 * An event's age is taken from its last occurrence (`lastTimestamp`, else `firstTimestamp`,
 * else its creation), as the lease is renewed on each update in Kubernetes. The delete markers
 * left behind are purged by the store's compaction (KvStore.compact). Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Event } from "../model/types.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";

/** Kubernetes' default `--event-ttl`. */
export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;

/** When an event last happened (ms since the epoch), or NaN when it carries no usable time. */
export function lastSeen(e: Event): number {
  for (const t of [e.lastTimestamp, e.firstTimestamp, e.metadata.creationTimestamp]) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms)) return ms;
  }
  return NaN;
}

/** The events whose time to live has passed at `now`. An event with no usable time is kept. Pure. */
export function expiredEvents(events: readonly Event[], now: number, ttlMs: number): Event[] {
  return events.filter((e) => {
    const t = lastSeen(e);
    return !Number.isNaN(t) && now - t >= ttlMs;
  });
}

export interface EventSweeperDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  log?: Log;
  now?: () => number;
  /** Time to live of an event. Default 1 h. */
  ttlMs?: number;
  /** Time between sweeps. Default: a tenth of the TTL, between 1 s and 5 min. */
  intervalMs?: number;
  /** Deletes in flight at once. Default 8. */
  concurrency?: number;
}

export interface EventSweeper {
  loop: WorkLoop;
  /** Events deleted so far. */
  readonly deleted: number;
  stop(): void;
}

export function startEventSweeper(deps: EventSweeperDeps): EventSweeper {
  const log = deps.log ?? (() => {});
  const now = deps.now ?? Date.now;
  const ttlMs = deps.ttlMs ?? DEFAULT_EVENT_TTL_MS;
  const intervalMs = deps.intervalMs ?? Math.min(300_000, Math.max(1_000, Math.floor(ttlMs / 10)));
  const concurrency = deps.concurrency ?? 8;
  let deleted = 0;
  let stopped = false;

  async function pass(): Promise<{ requeueAfterMs: number }> {
    const { items } = await deps.client.list("events");
    const expired = expiredEvents(items, now(), ttlMs);
    let next = 0;
    let failed = 0;
    const worker = async () => {
      while (next < expired.length && !stopped) {
        const e = expired[next++];
        try {
          await deps.client.delete("events", e.metadata.name, e.metadata.namespace, { preconditions: { uid: e.metadata.uid } });
          deleted++;
        } catch (err) {
          // Gone already, or replaced by a newer event of the same name: nothing to do.
          if (err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict")) continue;
          failed++;
          if (failed === 1) log("expired event not deleted; the next sweep tries again", { event: e.metadata.name, error: String(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, expired.length) }, worker));
    if (expired.length) log("expired events deleted", { expired: expired.length, failed, ttlMs });
    return { requeueAfterMs: intervalMs };
  }

  const loop = startWorkLoop("event-ttl", pass, log, deps.observe);
  return {
    loop,
    get deleted() {
      return deleted;
    },
    stop() {
      stopped = true;
      loop.stop();
    },
  };
}
