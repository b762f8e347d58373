/**
 * Records Kubernetes Events for every component that reports them: the control loops
 * (`SuccessfulCreate`, `FailedScheduling`, ...) and the node agents (`Pulled`, `Started`,
 * `Killing`, ...).
 *
 * - Recording never blocks the caller and never fails it: events are written in the background
 *   with a bounded number in flight. When more than `maxQueued` are waiting, further events are
 *   dropped and counted, as client-go's broadcaster drops when its queue is full.
 * - Every event passes through a correlator with client-go's rules and defaults
 *   (tools/record/events_cache.go), so a source cannot flood the store with events about one
 *   object:
 *   - **Counting.** A repeat of an event (same source, object, type, reason and message) bumps
 *     `count` and `lastTimestamp` on the Event already written instead of creating another.
 *   - **Aggregation.** Events that differ only in their message (a replication controller's
 *     `Created pod: <name>`, one per pod) are written one by one until 10 distinct messages were
 *     seen within 10 minutes; from then on they become one Event whose message is
 *     `(combined from similar events): <the latest message>`, counted as above.
 *   - **Spam filter.** Each source may write 25 events about one object at once, then one more
 *     every 5 minutes (a token bucket per source and object); the rest are not written
 *     (`filtered`).
 *   The caches are LRUs of 4,096 entries, as client-go's.
 *
 * Writes of one Event (its create, then its count updates) happen in order, whatever
 * `concurrency` allows for different Events.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import type { Event, KubeObject } from "../model/types.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every queued event has been written (or dropped). */
  flush(): Promise<void>;
  /** Events not written because the queue was full. */
  readonly dropped: number;
  /** Events not written because their source and object had spent their budget (spam filter). */
  readonly filtered: number;
}

export interface EventRecorderOptions {
  /** `source.host` (and `reportingInstance`): the node of a node agent. */
  host?: string;
  /** Writes in flight at once (default 8; 1 keeps a component's events in order). */
  concurrency?: number;
  /** Queued events beyond which new ones are dropped (default 2,000). */
  maxQueued?: number;
  /** The clock, in ms (tests). */
  now?: () => number;
}

/** client-go's defaults (tools/record/events_cache.go). */
export const CORRELATOR = {
  lruEntries: 4096,
  /** Distinct messages of similar events, within `aggregateIntervalMs`, before they are combined. */
  aggregateMaxEvents: 10,
  aggregateIntervalMs: 600_000,
  /** Events a source may write about one object at once. */
  spamBurst: 25,
  /** Then one more every 5 minutes. */
  spamRefillPerMs: 1 / 300_000,
} as const;

export const AGGREGATE_PREFIX = "(combined from similar events): ";

const HEX = "0123456789abcdef";

function suffix(): string {
  let s = Date.now().toString(16);
  for (let i = 0; i < 6; i++) s += HEX[Math.floor(Math.random() * 16)];
  return s;
}

/** A Map used as an LRU: `get` refreshes, `set` evicts the least recently used past `max`. */
class Lru<V> {
  private readonly m = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.m.get(k);
    if (v !== undefined) {
      this.m.delete(k);
      this.m.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > this.max) this.m.delete(this.m.keys().next().value!);
  }
}

/** What the recorder knows of an Event it wrote (client-go's eventLog). */
interface Observation {
  count: number;
  name: string;
  firstTimestamp: string;
  /** The Event as its last write returned it (absent until written, or if never written). */
  written?: Event;
  /** Settles when the last write queued for this Event is done: the next one waits for it. */
  tail: Promise<void>;
}

const SEP = "\u0000";

function sourceAndObject(e: Event): string {
  const o = e.involvedObject;
  return [e.source?.component, e.source?.host, o.kind, o.namespace, o.name, o.uid, o.apiVersion].join(SEP);
}

/** A recorder writing through `client` as `component`. */
export function createEventRecorder(client: ApiClient, component: string, log: Log, opts: EventRecorderOptions = {}): EventRecorder {
  const concurrency = opts.concurrency ?? 8;
  const maxQueued = opts.maxQueued ?? 2000;
  const now = opts.now ?? Date.now;
  const queue: (() => Promise<unknown>)[] = [];
  const observations = new Lru<Observation>(CORRELATOR.lruEntries);
  const aggregates = new Lru<{ messages: Set<string>; last: number }>(CORRELATOR.lruEntries);
  const buckets = new Lru<{ tokens: number; at: number }>(CORRELATOR.lruEntries);
  let inFlight = 0;
  let dropped = 0;
  let filtered = 0;
  let idle: (() => void)[] = [];

  const pump = () => {
    while (inFlight < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      inFlight++;
      job()
        // Events are diagnostics: losing one must not stop the loop or actor that reported it.
        .catch((err) => log("event not recorded", { component, error: String(err) }))
        .finally(() => {
          inFlight--;
          pump();
        });
    }
    if (inFlight === 0 && queue.length === 0) {
      const waiting = idle;
      idle = [];
      for (const w of waiting) w();
    }
  };

  /**
   * client-go's EventAggregate: the event itself, or the combined one once similar events are
   * many. `source` is `sourceAndObject(ev)`, worked out once per event. (An LRU `get` refreshes
   * an entry already; only a new one is `set`.)
   */
  const aggregate = (ev: Event, source: string, at: number): { event: Event; key: string } => {
    const similar = [source, ev.type, ev.reason, ev.reportingComponent, ev.reportingInstance].join(SEP);
    let record = aggregates.get(similar);
    if (!record || at - record.last > CORRELATOR.aggregateIntervalMs) aggregates.set(similar, (record = { messages: new Set(), last: at }));
    record.messages.add(ev.message ?? "");
    record.last = at;
    if (record.messages.size < CORRELATOR.aggregateMaxEvents) {
      return { event: ev, key: [source, ev.type, ev.reason, ev.message].join(SEP) };
    }
    // Keep the set below the threshold, so every later similar event is combined too.
    record.messages.delete(record.messages.values().next().value!);
    return { event: { ...ev, message: AGGREGATE_PREFIX + (ev.message ?? "") }, key: `${similar}${SEP}aggregate` };
  };

  /** client-go's spam filter: true when the source has no token left for this object (`source`: its sourceAndObject). */
  const spam = (source: string, at: number): boolean => {
    let b = buckets.get(source);
    if (!b) buckets.set(source, (b = { tokens: CORRELATOR.spamBurst, at }));
    b.tokens = Math.min(CORRELATOR.spamBurst, b.tokens + (at - b.at) * CORRELATOR.spamRefillPerMs);
    b.at = at;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    return !allowed;
  };

  /** Counts `ev` on the Event the store holds under its name (read first: someone else wrote it). */
  const countOnStored = async (ev: Event): Promise<Event> => {
    const current = await client.get("events", ev.metadata.name, ev.metadata.namespace);
    return await client.update("events", { ...current, count: Math.max(ev.count ?? 1, (current.count ?? 0) + 1), lastTimestamp: ev.lastTimestamp, message: ev.message });
  };

  /** The write of one observation: create it, or bump the count of the Event already written. */
  const write = async (obs: Observation, ev: Event, previous: Promise<void>): Promise<void> => {
    await previous;
    const ns = ev.metadata.namespace!;
    const base = obs.written;
    if (base) {
      const bumped = { ...base, count: ev.count, lastTimestamp: ev.lastTimestamp, message: ev.message };
      try {
        obs.written = await client.update("events", bumped);
        return;
      } catch (e) {
        if (!(e instanceof ApiError) || (e.reason !== "Conflict" && e.reason !== "NotFound")) throw e;
        // Someone else changed it (a second recorder of the same name): count from theirs.
        if (e.reason === "Conflict") {
          obs.written = await countOnStored(ev);
          return;
        }
        // Gone (expired or deleted): written afresh below, under its name.
      }
    }
    try {
      obs.written = await client.create("events", { ...ev, metadata: { name: ev.metadata.name, namespace: ns } }, ns);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      // Written before by an earlier try whose answer was lost: count on that one.
      obs.written = await countOnStored(ev);
    }
  };

  return {
    get dropped() {
      return dropped;
    },
    get filtered() {
      return filtered;
    },
    record(obj, type, reason, message) {
      const at = now();
      const stamp = new Date(at).toISOString();
      const ns = obj.metadata.namespace ?? "default";
      const fresh: Event = {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${obj.metadata.name}.${suffix()}`, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace ?? (obj.kind === "Pod" ? ns : undefined),
          uid: obj.metadata.uid,
          ...(obj.metadata.resourceVersion ? { resourceVersion: obj.metadata.resourceVersion } : {}),
        },
        reason,
        message,
        type,
        source: opts.host ? { component, host: opts.host } : { component },
        reportingComponent: component,
        ...(opts.host ? { reportingInstance: opts.host } : {}),
        firstTimestamp: stamp,
        lastTimestamp: stamp,
        count: 1,
      };
      const source = sourceAndObject(fresh);
      const { event, key } = aggregate(fresh, source, at);
      // client-go's eventObserve: a known Event is counted up under its first name.
      const prior = observations.get(key);
      const observed: Event = prior
        ? { ...event, metadata: { ...event.metadata, name: prior.name }, firstTimestamp: prior.firstTimestamp, count: prior.count + 1 }
        : event;
      let obs = prior;
      if (!obs) observations.set(key, (obs = { count: 0, name: observed.metadata.name, firstTimestamp: observed.firstTimestamp!, tail: Promise.resolve() }));
      obs.count = observed.count!;
      if (spam(source, at)) {
        filtered++;
        return;
      }
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      const previous = obs.tail;
      let done!: () => void;
      obs.tail = new Promise<void>((r) => (done = r));
      queue.push(() => write(obs, observed, previous).finally(done));
      pump();
    },
    flush() {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
