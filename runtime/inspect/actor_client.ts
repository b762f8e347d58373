/**
 * Reading actors from NATS: a snapshot of every live actor (`berth.inspect.actors`, answered by
 * every process that runs actors) and a stream of transitions (`berth.actors.>`), with a filter.
 * What `berth actors [-w]`, `cluster.actors()` and `cluster.watchActors()` use.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { subjects } from "../subjects.ts";
import type { ActorRecord } from "./actor_publisher.ts";

export type { ActorRecord } from "./actor_publisher.ts";

export interface ActorFilter {
  /** `pod`, `node`, `workloop`, `lease`. */
  kind?: string;
  /** A node name, or `control-plane`. */
  scope?: string;
}

const dec = new TextDecoder();
const enc = new TextEncoder();

function matches(r: ActorRecord, f: ActorFilter): boolean {
  return (!f.kind || r.kind === f.kind) && (!f.scope || r.scope === f.scope);
}

/**
 * Every live actor matching `filter`, sorted by scope, kind and id. Scatter-gather: the answers
 * of all processes are collected until none has come for `stallMs` (or `maxWaitMs` passed).
 */
export async function listActors(nc: NatsConnection, filter: ActorFilter = {}, opts: { maxWaitMs?: number; stallMs?: number } = {}): Promise<ActorRecord[]> {
  const out: ActorRecord[] = [];
  const replies = await nc.requestMany(subjects.actorSnapshot(), new Uint8Array(), { maxWait: opts.maxWaitMs ?? 2_000, strategy: "stall", stall: opts.stallMs ?? 300 });
  for await (const m of replies) {
    if (m.data.length === 0) continue;
    try {
      const body = JSON.parse(dec.decode(m.data)) as { actors?: ActorRecord[] };
      for (const r of body.actors ?? []) if (matches(r, filter)) out.push(r);
    } catch {
      // A malformed answer is one process's problem; the others still count.
    }
  }
  return out.sort((a, b) => a.scope.localeCompare(b.scope) || a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
}

/** How often a watcher announces its interest, and how long each announcement holds. */
export const WATCH_ANNOUNCE_MS = 1_000;
export const WATCH_TTL_MS = 5_000;

/**
 * Streams transitions of actors matching `filter` until the returned stop is called. Actors are
 * published only while watched: the watch announces its interest on `berth.inspect.watchers` at
 * once and every `announceMs` (a lease of `ttlMs`), so publishers start within a tick, a
 * publisher that starts later joins within `announceMs`, and publishing ends within `ttlMs` of
 * the last watcher stopping (or dying). Each matching actor's current state comes first.
 */
export function watchActors(nc: NatsConnection, filter: ActorFilter, onRecord: (r: ActorRecord) => void, opts: { announceMs?: number; ttlMs?: number } = {}): { stop(): void } {
  const sub = nc.subscribe(subjects.actorFilter(filter), {
    callback: (err, m) => {
      if (err) return;
      try {
        onRecord(JSON.parse(dec.decode(m.data)) as ActorRecord);
      } catch {
        // Not an actor record: ignore it rather than end the stream.
      }
    },
  });
  const ttlMs = opts.ttlMs ?? WATCH_TTL_MS;
  const interest = enc.encode(JSON.stringify({ id: crypto.randomUUID(), ...(filter.kind ? { kind: filter.kind } : {}), ...(filter.scope ? { scope: filter.scope } : {}), ttlMs }));
  const announce = () => {
    try {
      nc.publish(subjects.actorInterest(), interest);
    } catch {
      // The connection is closing: the watch ends with it.
    }
  };
  // After the subscription on the same connection, so no published state can precede it.
  announce();
  const timer = setInterval(announce, opts.announceMs ?? WATCH_ANNOUNCE_MS);
  (timer as { unref?: () => void }).unref?.();
  return {
    stop: () => {
      clearInterval(timer);
      sub.unsubscribe();
    },
  };
}

/** A state value as one short string: `running`, `running.ready`. */
export function stateText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object") {
    return Object.entries(v as Record<string, unknown>).map(([k, sub]) => `${k}.${stateText(sub)}`).join(",");
  }
  return String(v);
}
