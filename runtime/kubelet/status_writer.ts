/**
 * Writes pod statuses through the API, one writer per pod: coalescing (only the newest status
 * waiting to be written is kept), skipping writes that change nothing, and retrying a lost
 * compare-and-swap by re-reading. The host ports of the sandbox go into the annotation
 * `berth.dev/host-ports` (JSON `{"<containerPort>/TCP": hostPort}`) by a merge patch.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Pod, PodStatus } from "../../model/types.ts";
import type { Log } from "../../model/log.ts";
import { HOST_PORTS_ANNOTATION } from "../../model/pod.ts";
import { CONFLICT_RETRIES, isConflict } from "../../model/conflict.ts";

export class PodStatusWriter {
  private pending?: { status: PodStatus; hostPorts: Record<string, number> };
  private running?: Promise<void>;
  private closed = false;
  /** The pod as returned by this writer's last successful write (see writeOnce). */
  private last?: Pod;

  constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
    private readonly name: string,
    private readonly uid: string | undefined,
    private readonly log: Log = () => {},
  ) {}

  /** Queues the newest status; returns the promise of the write loop. */
  write(status: PodStatus, hostPorts: Record<string, number>): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending = { status, hostPorts };
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Resolves when nothing is left to write. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.closed) {
      const next = this.pending;
      this.pending = undefined;
      try {
        await this.writeOnce(next.status, next.hostPorts);
      } catch (e) {
        // The pod actor reports again on its next step; a lost write is repaired then.
        this.log("pod status not written", { pod: `${this.namespace}/${this.name}`, error: String(e) });
      }
    }
  }

  private async writeOnce(status: PodStatus, hostPorts: Record<string, number>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let cur: Pod;
      // The pod as this writer last wrote it: usually still the stored version (the kubelet is
      // the only writer of a running pod's status), so the CAS needs no read first. When someone
      // else changed the pod meanwhile, the CAS fails with a conflict and the pod is read again.
      const known = attempt === 0 ? this.last : undefined;
      this.last = undefined;
      if (known) {
        cur = known;
      } else {
        try {
          cur = await this.client.get("pods", this.name, this.namespace);
        } catch (e) {
          if (e instanceof ApiError && e.reason === "NotFound") return;
          throw e;
        }
      }
      if (this.uid && cur.metadata.uid !== this.uid) return; // a new pod with the same name
      const ports = JSON.stringify(hostPorts);
      if (Object.keys(hostPorts).length && cur.metadata.annotations?.[HOST_PORTS_ANNOTATION] !== ports) {
        try {
          cur = await this.client.patch("pods", this.name, { metadata: { annotations: { [HOST_PORTS_ANNOTATION]: ports } } }, { namespace: this.namespace, type: "merge" });
        } catch (e) {
          // The annotation is secondary to the status: write the status anyway, retry the
          // annotation on the next report.
          if (e instanceof ApiError && (e.reason === "NotFound")) return;
          this.log("host-ports annotation not written", { pod: `${this.namespace}/${this.name}`, error: String(e) });
        }
      }
      if (JSON.stringify(cur.status ?? {}) === JSON.stringify(status)) {
        // Unchanged by the remembered pod proves nothing (another writer may have changed the
        // stored one, e.g. marked it lost): read it and compare again.
        if (known) continue;
        this.last = cur;
        return;
      }
      try {
        this.last = await this.client.updateStatus("pods", { ...cur, status });
        return;
      } catch (e) {
        if (isConflict(e) && attempt < CONFLICT_RETRIES) continue;
        if (e instanceof ApiError && e.reason === "NotFound") return;
        throw e;
      }
    }
  }
}
