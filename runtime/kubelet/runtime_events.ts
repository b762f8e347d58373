/**
 * The runtime event pump: the engine's container events for this node (die, oom, start, ...)
 * handed to the pod they belong to, so a pod actor reacts at once instead of on its next resync.
 *
 *   start ──▶ subscribe(labels: node=<name>) ──▶ deliver each event ──▶ stream ends or fails
 *     ▲                                                                        │
 *     └──────────────── after 1 s, unless stopped (the engine restarting) ◀────┘
 *
 * The stream is a hint, never the truth: pods also resync on their own period, so an event lost
 * while the engine was away costs only latency.
 */
import { type Closeable, type ContainerRuntime, LABELS, type RuntimeEvent } from "../../model/container_runtime.ts";

export class RuntimeEventPump {
  private stream?: Closeable<RuntimeEvent>;
  private loop?: Promise<void>;
  private stopped = false;
  private wake?: () => void;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly node: string,
    /** Called with each event and the pod uid it is labelled with. */
    private readonly deliver: (podUid: string, ev: RuntimeEvent) => void,
    private readonly retryMs = 1000,
  ) {}

  /** Starts the pump, or does nothing while it runs (called again when the engine returns). */
  start(): void {
    if (this.stopped || this.loop) return;
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  /** Stops the pump and closes the stream; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stream?.close();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        this.stream = await this.runtime.events({ [LABELS.node]: this.node });
        if (this.stopped) this.stream.close();
        for await (const ev of this.stream) {
          const uid = ev.labels[LABELS.podUid];
          if (uid) this.deliver(uid, ev);
        }
      } catch {
        // The engine is gone: tried again below; pods resync on their own period meanwhile.
      }
      if (!this.stopped) await this.pause();
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, this.retryMs);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
