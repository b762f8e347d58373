/**
 * Records Kubernetes Events (`SuccessfulCreate`, `FailedScheduling`, ...) for the control loops.
 *
 * Recording never blocks a control loop and never fails it: events are written in the
 * background with a bounded number in flight. When more than `maxQueued` are waiting (a burst
 * of thousands of creates), further events are dropped and counted — Kubernetes' recorder
 * likewise drops and rate-limits rather than slowing the controllers down.
 */
import type { ApiClient } from "../model/client.ts";
import type { KubeObject } from "../model/types.ts";
import type { Log } from "./work_loop.ts";

export type EventType = "Normal" | "Warning";

export interface EventRecorder {
  record(obj: KubeObject, type: EventType, reason: string, message: string): void;
  /** Resolves when every queued event has been written (or dropped). */
  flush(): Promise<void>;
  readonly dropped: number;
}

const HEX = "0123456789abcdef";

function suffix(): string {
  let s = Date.now().toString(16);
  for (let i = 0; i < 6; i++) s += HEX[Math.floor(Math.random() * 16)];
  return s;
}

/** A recorder writing through `client` as `component`. */
export function createEventRecorder(client: ApiClient, component: string, log: Log, opts: { concurrency?: number; maxQueued?: number } = {}): EventRecorder {
  const concurrency = opts.concurrency ?? 8;
  const maxQueued = opts.maxQueued ?? 2000;
  const queue: (() => Promise<unknown>)[] = [];
  let inFlight = 0;
  let dropped = 0;
  let idle: (() => void)[] = [];

  const pump = () => {
    while (inFlight < concurrency && queue.length > 0) {
      const job = queue.shift()!;
      inFlight++;
      job()
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

  return {
    get dropped() {
      return dropped;
    },
    record(obj, type, reason, message) {
      if (queue.length >= maxQueued) {
        dropped++;
        return;
      }
      const now = new Date().toISOString();
      const ns = obj.metadata.namespace ?? "default";
      const event = {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${obj.metadata.name}.${suffix()}`, namespace: ns },
        involvedObject: {
          apiVersion: obj.apiVersion,
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: obj.metadata.namespace,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        reportingComponent: component,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      queue.push(() => client.create("events", event, ns));
      pump();
    },
    flush() {
      if (inFlight === 0 && queue.length === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idle.push(resolve));
    },
  };
}
