/**
 * The pod supervisor: one root pod actor per pod bound to this node, kept in a Map (never
 * children of one parent: xstate copies a parent's children map on every spawn).
 *
 *   ensure(pod) ──new──▶ actor started (it re-adopts labelled containers: Restore before Run)
 *        │ known        ──▶ POD_UPDATED to its actor (not for a change of status alone)
 *        │ finished     ──▶ left alone (its containers stay for logs) until deleted
 *   deleted(pod) ──▶ DELETE to its actor (or an actor started just to clean up)
 *   actor completes ──▶ onGone (its containers are removed), status flushed, the API object
 *                       deleted (grace 0) unless already gone
 *   actor fails     ──▶ logged, an Event, and a fresh actor after 1 s: a pod never dies silently
 *
 * Each actor gets a status writer (coalescing, CAS) and the node's event recorder.
 */
import { type Actor, createActor } from "xstate";
import type { ApiClient } from "../../model/client.ts";
import type { RuntimeEvent } from "../../model/container_runtime.ts";
import { ApiError } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import { jsonEqual } from "../../model/json_equal.ts";
import { podRefString } from "../../model/names.ts";
import type { Pod } from "../../model/types.ts";
import type { EventRecorder } from "../../actors/event_recorder.ts";
import { type PodEvent, podActsOn, podMachine } from "../../actors/pod.ts";
import type { BackoffConfig } from "../../actors/pod_backoff.ts";
import type { podEffects } from "./pod_effects.ts";
import { PodStatusWriter } from "./status_writer.ts";
import { withTimeout } from "../async.ts";
import { observeActor, type Observe } from "../../model/observe.ts";
import { gateConditionsChanged } from "../../actors/pod_status.ts";
import { podMetrics } from "./kubelet_metrics.ts";

export type PodActor = Actor<typeof podMachine>;

interface PodEntry {
  key: string;
  actor: PodActor;
  writer: PodStatusWriter;
  pod: Pod;
  /** The API object is gone already: no final delete needed. */
  objectGone: boolean;
}

export interface PodSupervisorOptions {
  client: ApiClient;
  node: string;
  /** The node's address, reported as the pod's hostIP. */
  hostIP: string;
  effects: ReturnType<typeof podEffects>;
  recorder: EventRecorder;
  backoff?: BackoffConfig;
  resyncMs?: number;
  log: Log;
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  /** Delay before a failed pod actor is replaced (default 1 s). */
  restartDelayMs?: number;
  /** Called once a pod's actor has completed: its containers are stopped and removed. */
  onGone?: (pod: Pod) => void;
}

/** The supervisor's key for a pod: its uid (a re-created pod of the same name is another pod). */
export function podKey(pod: Pod): string {
  return pod.metadata.uid ?? podRefString(pod);
}

/**
 * True when two versions of a pod differ at most in status and resourceVersion: spec, labels,
 * annotations, owners and deletion are the same.
 */
export function sameButStatus(a: Pod, b: Pod): boolean {
  if (a === b) return true;
  const { resourceVersion: _ra, ...ma } = a.metadata;
  const { resourceVersion: _rb, ...mb } = b.metadata;
  return jsonEqual(a.spec, b.spec) && jsonEqual(ma, mb);
}

export class PodSupervisor {
  private readonly entries = new Map<string, PodEntry>();
  /** The live actors by pod key (for inspection and tests). */
  readonly actors = new Map<string, PodActor>();
  /** Finished pods (Succeeded/Failed) left alone until deleted: their containers are wanted. */
  private readonly finished = new Map<string, Pod>();
  /**
   * Pods whose containers this node stopped and whose API object it then deleted, still there
   * waiting on finalizers: done here, as the kubelet's pod workers keep a terminated pod's uid,
   * so a later version of the object does not start them again.
   */
  private readonly terminated = new Set<string>();
  private stopped = false;

  private readonly metrics: ReturnType<typeof podMetrics>;
  /** Each actor's entry, for the machine's actions (they get the actor as `self`). */
  private readonly byActor = new WeakMap<object, PodEntry>();
  /**
   * The pod machine with this node's effects, made once: `provide` builds the machine's whole
   * state tree again, which per pod was 6 % of the CPU of a 5,000-pod run (bench/schedule.ts).
   * The actions find their pod through `self`.
   */
  private readonly machine: ReturnType<typeof podMachine.provide>;
  constructor(private readonly opts: PodSupervisorOptions) {
    this.metrics = podMetrics(opts.observe?.metrics);
    this.machine = podMachine.provide({
      actors: opts.effects.actors,
      actions: {
        reportStatus: ({ self }, p) => {
          const entry = this.byActor.get(self);
          if (!entry) return;
          this.metrics.phase(entry.key, p.status.phase);
          void entry.writer.write(p.status, p.hostPorts);
        },
        recordEvents: ({ self }, p: { events: PodEvent[] }) => {
          const entry = this.byActor.get(self);
          if (!entry) return;
          for (const ev of p.events) opts.recorder.record(entry.pod, ev.type, ev.reason, ev.message);
        },
      },
    });
  }

  /**
   * True while some pod (running or finished) wants objects labelled with this pod uid. Once
   * stopped, the supervisor no longer knows its pods (their containers keep running for the next
   * agent to re-adopt), so every uid is wanted: a late collection must not take them for orphans.
   */
  wants(uid: string): boolean {
    return this.stopped || this.entries.has(uid) || this.finished.has(uid);
  }

  /**
   * True while a pod of `namespace` that names claim `claim` has containers here: its actor runs
   * (or stops and removes them), or it finished and is left alone until deleted. Its containers
   * may still refer to the claim's volume.
   */
  usesClaim(namespace: string, claim: string): boolean {
    const names = (pod: Pod) =>
      (pod.metadata.namespace ?? "default") === namespace && (pod.spec.volumes?.some((v) => v.persistentVolumeClaim?.claimName === claim) ?? false);
    for (const e of this.entries.values()) if (names(e.pod)) return true;
    for (const pod of this.finished.values()) if (names(pod)) return true;
    return false;
  }

  /** Starts an actor for the pod, or tells the running one about the new version. */
  ensure(pod: Pod, deleting = false): void {
    if (this.stopped) return;
    const key = podKey(pod);
    const cur = this.entries.get(key);
    if (cur) {
      // As the kubelet's pod config (podsDifferSemantically): a change of status alone, such as
      // the echo of this node's own status write, is nothing for the pod's actor to act on.
      // But a pod with readiness gates is told when a gate's condition changed: its Ready
      // depends on it (the kubelet's HandlePodReconcile, NeedToReconcilePodReadiness).
      const changed = !sameButStatus(cur.pod, pod) || gateConditionsChanged(pod, cur.pod.status, pod.status);
      cur.pod = pod;
      if (changed) cur.actor.send({ type: "POD_UPDATED", pod });
      return;
    }
    if (this.terminated.has(key)) return;
    // A finished pod is left as it is (its containers stay for logs) until it is deleted.
    const phase = pod.status?.phase;
    if (!deleting && !pod.metadata.deletionTimestamp && (phase === "Succeeded" || phase === "Failed")) {
      this.finished.set(key, pod);
      return;
    }
    this.start(key, pod, deleting);
  }

  /** The pod's API object is gone: its actor stops the containers and completes. */
  deleted(pod: Pod): void {
    const key = podKey(pod);
    this.finished.delete(key);
    if (this.terminated.delete(key)) return;
    const cur = this.entries.get(key);
    if (cur) {
      cur.objectGone = true;
      cur.actor.send({ type: "DELETE" });
    } else {
      this.ensure(pod, true);
    }
  }

  /** Hands a runtime event to the pod it belongs to. */
  deliver(uid: string, event: RuntimeEvent): void {
    if (!podActsOn(event)) return;
    this.entries.get(uid)?.actor.send({ type: "RUNTIME_EVENT", event });
  }

  /** Asks every pod actor to converge now (e.g. the container runtime came back). */
  resyncAll(): void {
    for (const e of this.entries.values()) e.actor.send({ type: "RESYNC" });
  }

  /**
   * Stops every pod's containers (their API objects stay) and resolves when every actor has
   * completed or `timeoutMs` passed. For `shutdown({ removePods: true })`.
   */
  async removeAll(timeoutMs: number): Promise<void> {
    const pending = [...this.entries.values()].map((e) =>
      new Promise<void>((resolve) => {
        e.objectGone = true; // the objects stay in the API; only the containers go
        e.actor.subscribe({ complete: () => resolve(), error: () => resolve() });
        e.actor.send({ type: "DELETE" });
      })
    );
    await withTimeout(Promise.all(pending), timeoutMs);
  }

  /** Stops every actor (containers keep running), flushing their last statuses. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) {
      e.actor.stop();
      await e.writer.flush();
      e.writer.close();
    }
    this.entries.clear();
    this.actors.clear();
  }

  private start(key: string, pod: Pod, deleting: boolean): void {
    const { client, node, log } = this.opts;
    const ns = pod.metadata.namespace ?? "default";
    const entry: PodEntry = { key, actor: undefined as unknown as PodActor, writer: undefined as unknown as PodStatusWriter, pod, objectGone: deleting };
    const writer = new PodStatusWriter(client, ns, pod.metadata.name, pod.metadata.uid, log, () => entry.pod);
    entry.writer = writer;
    this.metrics.seen(key);
    const actor = observeActor(this.opts.observe, "pod", `${ns}/${pod.metadata.name}`, createActor(this.machine, {
      input: { pod, node, hostIP: this.opts.hostIP, backoff: this.opts.backoff, resyncMs: this.opts.resyncMs, deleting },
    }));
    entry.actor = actor;
    this.byActor.set(actor, entry);
    this.entries.set(key, entry);
    this.actors.set(key, actor);
    actor.subscribe({
      complete: () => void this.gone(key, entry),
      error: (e) => this.failed(key, entry, e),
    });
    actor.start();
  }

  /** A pod actor must never die silently: log, record, and let a fresh actor take over. */
  private failed(key: string, entry: PodEntry, e: unknown): void {
    const { log, recorder } = this.opts;
    log("pod actor failed", { pod: podRefString(entry.pod), error: String(e) });
    recorder.record(entry.pod, "Warning", "Failed", `pod actor failed: ${String(e)}`);
    if (this.entries.get(key) === entry) {
      this.entries.delete(key);
      this.actors.delete(key);
    }
    if (this.stopped) return;
    const t = setTimeout(() => {
      if (!this.stopped && !this.entries.has(key)) this.ensure(entry.pod, entry.objectGone);
    }, this.opts.restartDelayMs ?? 1000);
    t.unref?.();
  }

  /** The actor completed (containers stopped): flush its status, then delete the API object. */
  private async gone(key: string, entry: PodEntry): Promise<void> {
    this.metrics.gone(key);
    if (this.entries.get(key) === entry) {
      this.entries.delete(key);
      this.actors.delete(key);
      // Done here from now on, whatever version of the object comes next (the echo of the last
      // status, the mark of its finalizers); deleted() forgets it once it goes.
      if (!entry.objectGone && !this.stopped) this.terminated.add(key);
    }
    this.opts.onGone?.(entry.pod);
    await entry.writer.flush();
    entry.writer.close();
    if (this.stopped || entry.objectGone) return;
    await this.deleteTerminated(key, entry.pod, 0);
  }

  /**
   * The kubelet's last delete of a pod whose containers it stopped (grace period 0), asked again
   * with a growing delay (1 s … 30 s) while it fails for any other reason than the pod being gone
   * or replaced, as the kubelet's status manager keeps asking; deleted() ends it.
   */
  private async deleteTerminated(key: string, pod: Pod, attempt: number): Promise<void> {
    if (this.stopped || (attempt > 0 && !this.terminated.has(key))) return;
    const { name, namespace, uid } = pod.metadata;
    try {
      await this.opts.client.delete("pods", name, namespace, { gracePeriodSeconds: 0, preconditions: uid ? { uid } : undefined });
    } catch (e) {
      if (e instanceof ApiError && (e.reason === "NotFound" || e.reason === "Conflict")) {
        // Gone already, or another pod under that name: nothing left to do here.
        this.terminated.delete(key);
        return;
      }
      const delayMs = Math.min(30_000, 1000 * 2 ** attempt);
      this.opts.log("pod not deleted after termination; asking again", { pod: podRefString(pod), error: String(e), inMs: delayMs });
      const t = setTimeout(() => void this.deleteTerminated(key, pod, attempt + 1), delayMs);
      t.unref?.();
    }
  }
}

