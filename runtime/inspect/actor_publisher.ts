/**
 * Publishes the transitions of one scope's root actors on NATS (`berth.actors.<kind>.<scope>.<id…>`)
 * while someone watches them, and answers `berth.inspect.actors` with every live actor.
 *
 * Watched only when watched (as a Kubernetes watch costs nothing until opened):
 *
 *   nobody watches ──interest on berth.inspect.watchers──▶ watched ──lease runs out──▶ nobody watches
 *
 * - Nobody watches: an actor costs one snapshot observer that counts its transitions. xstate's
 *   inspection API is not attached, so xstate builds no inspection events; nothing is serialised
 *   or published. A snapshot request reads each actor's state from the actor itself.
 * - A watcher (`watchActors`: `berth actors -w`, `cluster.watchActors`, chaos `--record-actors`)
 *   announces its interest (`{id, kind?, scope?, ttlMs}`) when it starts and every third of its
 *   lease. A publisher whose scope matches attaches inspection to the matching actors (for the
 *   event that led to each state), publishes their current state at the next tick, then each
 *   changed actor once per tick (default 100 ms), coalesced: intermediate states are dropped and
 *   counted (`transitions` keeps rising). When every lease has run out, inspection is detached.
 *
 * Publishing is fire-and-forget (`nc.publish` buffers) and serialising happens on the tick, never
 * in the actor.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { ActorObserver, ObservedActor } from "../../model/observe.ts";
import { subjects } from "../subjects.ts";

/** What is published for an actor, and what a snapshot lists. */
export interface ActorRecord {
  kind: string;
  scope: string;
  id: string;
  /** The machine's state value (`"running"`, `{ running: "ready" }`). */
  state: unknown;
  /** xstate's status: active, done, error, stopped. */
  status: string;
  /** The event that led to this state (`xstate.init` at start); known only while someone watches. */
  event?: string;
  /** Transitions since the actor started (those coalesced away, and those nobody watched, included). */
  transitions: number;
  /** When this state was published (ISO 8601); for a snapshot of an unwatched actor, the snapshot's time. */
  at: string;
}

/** A watcher's interest, as announced on `berth.inspect.watchers`. */
export interface ActorInterest {
  /** The watcher (random, one per watch). */
  id: string;
  kind?: string;
  scope?: string;
  /** How long the interest holds without being announced again. */
  ttlMs: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Bounds of an announced lease: long enough to be re-announced, short enough to end soon after a watcher dies. */
const MIN_TTL_MS = 100;
const MAX_TTL_MS = 60_000;

/** The interest in `data`, or undefined when it is not one (bad input is ignored, never fatal). */
export function parseInterest(data: Uint8Array): ActorInterest | undefined {
  let v: unknown;
  try {
    v = JSON.parse(dec.decode(data));
  } catch {
    return undefined;
  }
  if (!v || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  const name = (x: unknown) => x === undefined || (typeof x === "string" && /^[A-Za-z0-9_-]{1,253}$/.test(x));
  if (typeof o.id !== "string" || o.id.length === 0 || o.id.length > 64) return undefined;
  if (!name(o.kind) || !name(o.scope)) return undefined;
  if (typeof o.ttlMs !== "number" || !Number.isFinite(o.ttlMs)) return undefined;
  return { id: o.id, kind: o.kind as string | undefined, scope: o.scope as string | undefined, ttlMs: Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, o.ttlMs)) };
}

/**
 * One followed actor, and its snapshot observer: the one object made per actor when nobody
 * watches (no closures; its `next` only counts).
 */
class Tracked {
  transitions = 0;
  /** The event that led to the current state (known only while watched). */
  event?: string;
  /** Someone watches this actor: inspection is attached and changes are published. */
  watched = false;
  inspection?: { unsubscribe(): void };
  dirty = false;
  /** Reached a final, stopped or error status. */
  ended = false;

  constructor(readonly kind: string, readonly id: string, readonly key: string, readonly actor: ObservedActor, private readonly owner: ActorPublisher) {}

  next(): void {
    this.transitions++;
    if (this.watched) this.owner.changed(this);
  }

  // The owner's own error observer reports the error; here it only ends the record.
  error(): void {
    this.end();
  }

  complete(): void {
    this.end();
  }

  private end(): void {
    this.ended = true;
    this.owner.ended(this);
  }
}

export class ActorPublisher implements ActorObserver {
  private readonly live = new Map<string, Tracked>();
  /** Watchers whose interest covers this scope, by watcher id. */
  private readonly leases = new Map<string, { kind?: string; until: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expiry: ReturnType<typeof setTimeout> | undefined;
  private readonly subs: Subscription[] = [];
  private closed = false;
  /** Messages published (tests and benchmarks read it). */
  published = 0;

  constructor(
    private readonly nc: NatsConnection,
    readonly scope: string,
    private readonly opts: { tickMs?: number; answerSnapshots?: boolean } = {},
  ) {
    if (opts.answerSnapshots !== false) {
      this.subs.push(nc.subscribe(subjects.actorSnapshot(), {
        callback: (_err, msg) => {
          if (!msg.reply) return;
          try {
            msg.respond(enc.encode(JSON.stringify({ scope, actors: this.snapshot() })));
          } catch {
            // The requester went away or the connection is closing: nothing to answer.
          }
        },
      }));
    }
    this.subs.push(nc.subscribe(subjects.actorInterest(), {
      callback: (err, msg) => {
        if (err) return;
        const interest = parseInterest(msg.data);
        if (interest) this.interest(interest);
      },
    }));
  }

  /** Watchers whose interest covers this scope and has not run out (tests). */
  get watchers(): number {
    const now = Date.now();
    let n = 0;
    for (const w of this.leases.values()) if (w.until > now) n++;
    return n;
  }

  /** Whether anyone watches actors of `kind` in this scope now. */
  watching(kind?: string): boolean {
    const now = Date.now();
    for (const w of this.leases.values()) if (w.until > now && (!kind || !w.kind || w.kind === kind)) return true;
    return false;
  }

  observe(kind: string, id: string, actor: ObservedActor): void {
    if (this.closed) return;
    const key = `${kind}\u0000${id}`;
    const t = new Tracked(kind, id, key, actor, this);
    this.live.set(key, t);
    actor.subscribe(t);
    if (this.leases.size > 0 && this.watching(kind)) this.watch(t);
  }

  /** A watched actor changed (its Tracked's observer). */
  changed(t: Tracked): void {
    this.touch(t);
  }

  /** An actor reached a final, stopped or error status (its Tracked's observer). */
  ended(t: Tracked): void {
    if (t.watched) this.touch(t);
    else this.forget(t.key, t);
  }

  /** A watcher announced (or renewed) its interest. */
  interest(w: ActorInterest): void {
    if (this.closed || (w.scope && w.scope !== this.scope)) return;
    const fresh = !this.leases.has(w.id);
    this.leases.set(w.id, { kind: w.kind, until: Date.now() + w.ttlMs });
    if (fresh) {
      // A new watcher learns every matching actor's current state at the next tick.
      for (const t of this.live.values()) {
        if (w.kind && t.kind !== w.kind) continue;
        this.watch(t);
        this.touch(t);
      }
    }
    this.armExpiry();
  }

  /** Every live actor of this scope, its state read from the actor now. */
  snapshot(): ActorRecord[] {
    const at = new Date().toISOString();
    return [...this.live.values()].map((t) => this.record(t, at));
  }

  /** Publishes what is pending now (tests; stop). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const at = new Date().toISOString();
    for (const [key, t] of this.live) {
      if (!t.dirty) continue;
      t.dirty = false;
      const r = this.record(t, at);
      try {
        this.nc.publish(subjects.actor(r.kind, r.scope, r.id), enc.encode(JSON.stringify(r)));
        this.published++;
      } catch {
        // A closed connection: the component is stopping; its actors go with it.
      }
      if (t.ended) this.forget(key, t);
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
    for (const s of this.subs) s.unsubscribe();
    for (const t of this.live.values()) this.unwatch(t);
  }

  private record(t: Tracked, at: string): ActorRecord {
    const s = t.actor.getSnapshot();
    return { kind: t.kind, scope: this.scope, id: t.id, state: s.value, status: s.status ?? "active", ...(t.event !== undefined ? { event: t.event } : {}), transitions: t.transitions, at };
  }

  private watch(t: Tracked): void {
    if (t.watched || t.ended) return;
    t.watched = true;
    // Root snapshots only: the actor's invoked promises and children are its business.
    t.inspection = t.actor.system.inspect((ev) => {
      if (ev.type === "@xstate.snapshot" && ev.actorRef === t.actor) t.event = ev.event?.type;
    });
  }

  private unwatch(t: Tracked): void {
    t.watched = false;
    t.inspection?.unsubscribe();
    t.inspection = undefined;
  }

  private forget(key: string, t: Tracked): void {
    this.unwatch(t);
    if (this.live.get(key) === t) this.live.delete(key);
  }

  private touch(t: Tracked): void {
    t.dirty = true;
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => this.flush(), this.opts.tickMs ?? 100);
    (this.timer as { unref?: () => void }).unref?.();
  }

  /** Drops leases that ran out when the earliest one does, and detaches inspection from actors nobody watches any more. */
  private armExpiry(): void {
    clearTimeout(this.expiry);
    this.expiry = undefined;
    const now = Date.now();
    let next = Infinity;
    for (const [id, w] of this.leases) {
      if (w.until <= now) this.leases.delete(id);
      else next = Math.min(next, w.until);
    }
    for (const t of this.live.values()) if (t.watched && !this.watching(t.kind)) this.unwatch(t);
    if (next === Infinity || this.closed) return;
    this.expiry = setTimeout(() => this.armExpiry(), next - now + 1);
    (this.expiry as { unref?: () => void }).unref?.();
  }
}
