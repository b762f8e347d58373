/**
 * Publishes the transitions of one scope's root actors on NATS (`berth.actors.<kind>.<scope>.<id…>`),
 * fed by xstate's inspection API, and answers `berth.inspect.actors` with every live actor.
 *
 * Coalesced so that inspection never slows the work: the inspect callback only records the
 * newest snapshot of its actor in a map (a few property writes); a timer publishes each changed
 * actor's newest state once per tick (default 100 ms) and drops the intermediate ones, counting
 * them (`transitions` keeps rising, so a watcher sees how many it missed). Publishing is
 * fire-and-forget (`nc.publish` buffers), and serialising happens on the tick, not in the actor.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import type { ActorObserver, InspectedEvent } from "../../model/observe.ts";
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
  /** The event that led to this state (`xstate.init` at start). */
  event?: string;
  /** Transitions seen since the actor started (those coalesced away included). */
  transitions: number;
  /** When this state was reached (ISO 8601). */
  at: string;
}

const enc = new TextEncoder();

interface Live {
  record: ActorRecord;
  dirty: boolean;
}

export class ActorPublisher implements ActorObserver {
  private readonly live = new Map<string, Live>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sub: Subscription | undefined;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    readonly scope: string,
    private readonly opts: { tickMs?: number; answerSnapshots?: boolean } = {},
  ) {
    if (opts.answerSnapshots !== false) {
      this.sub = nc.subscribe(subjects.actorSnapshot(), {
        callback: (_err, msg) => {
          if (!msg.reply) return;
          try {
            msg.respond(enc.encode(JSON.stringify({ scope, actors: this.snapshot() })));
          } catch {
            // The requester went away or the connection is closing: nothing to answer.
          }
        },
      });
    }
  }

  inspector(kind: string, id: string): (ev: InspectedEvent) => void {
    const key = `${kind}\u0000${id}`;
    return (ev) => {
      // Only the root actor's own snapshots: its invoked promises and children are its business.
      if (ev.type !== "@xstate.snapshot" || ev.actorRef.sessionId !== ev.rootId || this.closed) return;
      let l = this.live.get(key);
      if (!l) {
        l = { record: { kind, scope: this.scope, id, state: undefined, status: "active", transitions: 0, at: "" }, dirty: false };
        this.live.set(key, l);
      }
      const r = l.record;
      r.state = ev.snapshot?.value;
      r.status = ev.snapshot?.status ?? "active";
      r.event = ev.event?.type;
      r.transitions++;
      r.at = "";
      l.dirty = true;
      this.schedule();
    };
  }

  /** Every live actor of this scope (the newest state of each). */
  snapshot(): ActorRecord[] {
    return [...this.live.values()].map((l) => ({ ...l.record, at: l.record.at || new Date().toISOString() }));
  }

  /** Publishes what is pending now (tests; stop). */
  flush(): void {
    this.timer = undefined;
    const now = new Date().toISOString();
    for (const [key, l] of this.live) {
      if (!l.dirty) continue;
      l.dirty = false;
      if (!l.record.at) l.record.at = now;
      const r = l.record;
      try {
        this.nc.publish(subjects.actor(r.kind, r.scope, r.id), enc.encode(JSON.stringify(r)));
      } catch {
        // A closed connection: the component is stopping; its actors go with it.
      }
      if (r.status !== "active") this.live.delete(key);
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    this.sub?.unsubscribe();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.opts.tickMs ?? 100);
    (this.timer as { unref?: () => void }).unref?.();
  }
}
