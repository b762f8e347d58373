/**
 * Records Kubernetes Events for every component that reports them: the control loops
 * (`SuccessfulCreate`, `FailedScheduling`, ...) and the node agents (`Pulled`, `Started`,
 * `Killing`, ...). One recorder, two ways to run it:
 *
 * - Recording never blocks the caller and never fails it: events are written in the background
 *   with a bounded number in flight. When more than `maxQueued` are waiting (a burst of
 *   thousands of creates), further events are dropped and counted — Kubernetes' recorder
 *   likewise drops and rate-limits rather than slowing the controllers down.
 * - With `correlate` (the kubelet's event correlator), a repeat of the same (object, type,
 *   reason, message) bumps `count` and `lastTimestamp` on the Event already written instead of
 *   creating another; a node agent sets `host`, written as `source.host`.
 */
import type { ApiClient } from "../model/client.ts";
import type { Log } from "../model/log.ts";
import type { Event, KubeObject } from "../model/types.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every queued event has been written (or dropped). */
  flush(): Promise<void>;
  readonly dropped: number;
}

export interface EventRecorderOptions {
  /** `source.host` (and `reportingInstance`): the node of a node agent. */
  host?: string;
  /** Writes in flight at once (default 8; 1 keeps a component's events in order). */
  concurrency?: number;
  /** Queued events beyond which new ones are dropped (default 2,000). */
  maxQueued?: number;
  /** Repeats of one event bump its count instead of creating another (default off). */
  correlate?: boolean;
}

const HEX = "0123456789abcdef";

function suffix(): string {
  let s = Date.now().toString(16);
  for (let i = 0; i < 6; i++) s += HEX[Math.floor(Math.random() * 16)];
  return s;
}

/** How many correlated events a recorder remembers (oldest forgotten first). */
const MAX_REMEMBERED = 5000;

/** A recorder writing through `client` as `component`. */
export function createEventRecorder(client: ApiClient, component: string, log: Log, opts: EventRecorderOptions = {}): EventRecorder {
  const concurrency = opts.concurrency ?? 8;
  const maxQueued = opts.maxQueued ?? 2000;
  const queue: (() => Promise<unknown>)[] = [];
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  let inFlight = 0;
  let dropped = 0;
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

  const write = async (obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> => {
    const ns = obj.metadata.namespace ?? "default";
    const now = new Date().toISOString();
    const key = opts.correlate ? `${obj.metadata.uid ?? obj.metadata.name}\u0000${type}\u0000${reason}\u0000${message}` : "";
    const prior = opts.correlate ? seen.get(key) : undefined;
    if (prior) {
      try {
        const ev = await client.get("events", prior.name, prior.namespace);
        const count = (ev.count ?? prior.count) + 1;
        await client.update("events", { ...ev, count, lastTimestamp: now });
        prior.count = count;
        return;
      } catch {
        // Gone (expired or deleted) or raced: create a fresh one below.
        seen.delete(key);
      }
    }
    const event: Event = {
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
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await client.create("events", event, ns);
    if (opts.correlate) {
      seen.set(key, { name: event.metadata.name, namespace: ns, count: 1 });
      if (seen.size > MAX_REMEMBERED) seen.delete(seen.keys().next().value!);
    }
  };

  return {
    get dropped() {
      return dropped;
    },
    record(obj, type, reason, message) {
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      queue.push(() => write(obj, type, reason, message));
      pump();
    },
    flush() {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
