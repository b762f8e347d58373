/**
 * Kubernetes Event recording for a node agent: `record(pod, type, reason, message)` creates an
 * Event whose involvedObject is the pod; a repeat of the same (object, type, reason, message)
 * bumps `count` and `lastTimestamp` on the existing Event instead of creating another, as the
 * kubelet's event correlator does. Writes are serialized and best-effort: a failure to record an
 * event is logged, never thrown into the actor that reported it.
 */
import type { ApiClient } from "../../model/client.ts";
import type { Event, Pod } from "../../model/types.ts";

export type Logger = (msg: string, fields?: Record<string, unknown>) => void;

interface Seen {
  name: string;
  namespace: string;
  count: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly host: string,
    private readonly log: Logger = () => {},
  ) {}

  /** Queues one event; resolves when it (and everything before it) was written. */
  record(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    this.chain = this.chain.then(() => this.write(pod, type, reason, message)).catch((e) => {
      // Events are diagnostics: losing one must not stop the pod actor that reported it.
      this.log("event not recorded", { reason, pod: pod.metadata.name, error: String(e) });
    });
    return this.chain;
  }

  /** Resolves when every queued event has been written. */
  flush(): Promise<void> {
    return this.chain;
  }

  private async write(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const namespace = pod.metadata.namespace ?? "default";
    const key = `${pod.metadata.uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const now = new Date().toISOString();
    const prior = this.seen.get(key);
    if (prior) {
      try {
        const ev = await this.client.get("events", prior.name, prior.namespace);
        const count = (ev.count ?? prior.count) + 1;
        await this.client.update("events", { ...ev, count, lastTimestamp: now });
        prior.count = count;
        return;
      } catch {
        // Gone (expired or deleted) or raced: fall through and create a fresh one.
        this.seen.delete(key);
      }
    }
    const name = `${pod.metadata.name}.${Date.now().toString(16)}${Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0")}`;
    const ev: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        kind: "Pod",
        apiVersion: "v1",
        namespace,
        name: pod.metadata.name,
        uid: pod.metadata.uid,
        ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component: this.component, host: this.host },
      reportingComponent: this.component,
      reportingInstance: this.host,
    };
    await this.client.create("events", ev, namespace);
    this.seen.set(key, { name, namespace, count: 1 });
    if (this.seen.size > 5000) this.seen.delete(this.seen.keys().next().value!);
  }
}
