/**
 * Writes pod statuses through the API, one writer per pod: coalescing (only the newest status
 * waiting to be written is kept), skipping writes that change nothing, and retrying a lost
 * compare-and-swap by re-reading. Conditions the kubelet does not own are written as the API
 * holds them (actors/pod_status.ts withForeignConditions). The host ports of the sandbox go into the annotation
 * `berth.dev/host-ports` (JSON `{"<containerPort>/TCP": hostPort}`) by a merge patch.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Pod, PodStatus } from "../../model/types.ts";
import type { Log } from "../../model/log.ts";
import { HOST_PORTS_ANNOTATION } from "../../model/pod.ts";
import { CONFLICT_RETRIES, isConflict } from "../../model/conflict.ts";
import { withForeignConditions } from "../../actors/pod_status.ts";

/**
 * First wait before a status refused by a busy API server is written again; doubles up to the
 * max. The max is long on purpose: thousands of pods retrying every few seconds keep an
 * overloaded API server overloaded.
 */
export const STATUS_RETRY_BASE_MS = 200;
export const STATUS_RETRY_MAX_MS = 30_000;

/** Errors after which writing the same status again can succeed: the server was busy or not reached. */
function retryable(e: unknown): boolean {
  return e instanceof ApiError && (e.reason === "TooManyRequests" || e.reason === "Timeout" || e.reason === "ServiceUnavailable");
}

/** The newer of two copies of one object, by resourceVersion (Berth's are store revisions). */
function newer(a: Pod | undefined, b: Pod | undefined): Pod | undefined {
  if (!a || !b) return a ?? b;
  const ra = Number(a.metadata.resourceVersion);
  const rb = Number(b.metadata.resourceVersion);
  if (!Number.isFinite(ra) || !Number.isFinite(rb)) return b;
  return rb >= ra ? b : a;
}

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
    /**
     * The pod as the node last saw it (its informer's copy): the first write's compare-and-swap
     * starts from it instead of reading the pod first. Stale, it costs a conflict and a read.
     */
    private readonly seen?: () => Pod | undefined,
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
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.pending && !this.closed) {
      const next = this.pending;
      this.pending = undefined;
      try {
        await this.writeOnce(next.status, next.hostPorts);
        failures = 0;
      } catch (e) {
        this.log("pod status not written", { pod: `${this.namespace}/${this.name}`, error: String(e), ...(failures ? { failures: failures + 1 } : {}) });
        if (!retryable(e)) continue; // the pod actor reports again on its next step
        // An overloaded or unreachable API server (429, timeout, 503). The pod may never report
        // again — a Running pod with nothing new to say — so the status is kept (unless a newer
        // one arrived meanwhile) and written again after a backoff, instead of being dropped:
        // dropped, the pod stayed Pending in the store for good (bench/dashboard.ts, 50 hollow
        // nodes over NATS: 2,767 of 5,000 pods ever reported Running).
        this.pending ??= next;
        failures++;
        const ms = Math.min(STATUS_RETRY_MAX_MS, STATUS_RETRY_BASE_MS * 2 ** (failures - 1));
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, ms * (0.5 + Math.random() / 2));
          function done() {
            clearTimeout(t);
            resolve();
          }
          this.wake = done;
        });
        this.wake = undefined;
      }
    }
  }

  private wake?: () => void;

  private async writeOnce(status: PodStatus, hostPorts: Record<string, number>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let cur: Pod;
      // The pod as this writer last wrote it: usually still the stored version (the kubelet is
      // the only writer of a running pod's status), so the CAS needs no read first. When someone
      // else changed the pod meanwhile, the CAS fails with a conflict and the pod is read again.
      // Of that and the informer's copy, the newer: a change someone else made (a lifecycle
      // controller marking the pod not ready) reaches the informer, and is then compared against.
      const known = attempt === 0 ? newer(this.last, this.seen?.()) : undefined;
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
      // Conditions the kubelet does not own (a readiness gate's, DisruptionTarget) as the API
      // holds them now, not as the pod's actor last saw them (kube's mergePodStatus).
      const next = withForeignConditions(status, cur.status);
      if (JSON.stringify(cur.status ?? {}) === JSON.stringify(next)) {
        // Nothing to write. Compared against the newest copy the node has, not read from the
        // API: the kubelet's status manager is level-based in the same way (it syncs when the
        // status differs from its pod manager's copy). A change by another writer that the
        // informer has not delivered yet is compared against on the next report (every resync,
        // 10 s) — reading here instead cost a GET per pod per resync: 1,000 a second at
        // 10,000 pods, the most frequent node request of a density run.
        this.last = cur;
        return;
      }
      try {
        this.last = await this.client.updateStatus("pods", { ...cur, status: next });
        return;
      } catch (e) {
        if (isConflict(e) && attempt < CONFLICT_RETRIES) continue;
        if (e instanceof ApiError && e.reason === "NotFound") return;
        throw e;
      }
    }
  }
}
