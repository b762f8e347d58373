/**
 * Leader election for control-plane copies: a lease record in the JetStream KV state bucket,
 * written only by compare-and-swap on the key's revision (Kubernetes' Lease + client-go leader
 * election, on NATS). The lease is an xstate actor (actors/leader_lease.ts: states, decisions and
 * the fence); this file gives it its I/O — the KV reads and writes, starting and stopping the
 * control loops — and publishes it like every other actor (kind `lease`, scope `control-plane`,
 * id `<lease name>/<copy id>`).
 *
 * This is the fencing: an ex-leader that cannot renew (partitioned, paused, its NATS server
 * gone) has stopped its control loops before anyone else starts theirs (see the machine).
 *
 * Key: `_lease.<name>` in the `berth-state` bucket (beside `_meta.store`; object keys are
 * `<resource>.…`, so no object watch sees it, and the control plane's NATS identity may
 * already write there).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { createActor, fromPromise, toPromise } from "xstate";
import { leaderLeaseMachine, type LeaseRead, type LeaseRecord, type LeaseWrite, type LeaseWritten } from "../actors/leader_lease.ts";
import { observeActor, type Observe } from "../model/observe.ts";
import { leaseKey, STATE_BUCKET } from "./subjects.ts";

export { decideLease, observe, type LeaderSelf, type LeaseDecision, type LeaseObservation, type LeaseRecord } from "../actors/leader_lease.ts";

export class LeaderElectionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LeaderElectionError";
  }
}

export interface LeaderElectionOptions {
  nc: NatsConnection;
  /** This copy's identity; must be unique per process (default: hostname-pid-random). */
  id: string;
  /** Lease name (the key is `_lease.<name>`). Default "control-plane". */
  name?: string;
  bucket?: string;
  /** Default 5 s. */
  ttlMs?: number;
  /** Default 1 s. */
  renewMs?: number;
  /** Default 60% of ttlMs: must be well below ttlMs (the gap is the time the loops get to stop). */
  renewDeadlineMs?: number;
  /** Called on becoming leader, with the term; the next transition waits for it to settle. */
  onStartedLeading(term: number): Promise<void> | void;
  /** Called on losing or giving up the lease; must stop every control loop. */
  onStoppedLeading(reason: string): Promise<void> | void;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Local clock (tests). */
  now?: () => number;
  /** Publishes the lease actor (kind `lease`) with the others. */
  observe?: Observe;
}

export interface LeaderElection {
  readonly id: string;
  readonly leading: boolean;
  readonly term: number;
  /**
   * True only while this copy leads and its renew deadline has not passed, checked on the local
   * clock at the moment of the call. Control loops check it before every write, so a process
   * that was paused (SIGSTOP, a long GC, a suspended VM) past its deadline cannot write on
   * waking, even before its fence timer has had a chance to run.
   */
  mayAct(): boolean;
  /** Resolves once this copy leads (for tests and tools). */
  waitLeading(timeoutMs?: number): Promise<void>;
  /** Stops the loops if leading and releases the lease so another copy takes over at once. */
  stop(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function parseRecord(data: Uint8Array): LeaseRecord | null {
  try {
    const v = JSON.parse(dec.decode(data)) as Partial<LeaseRecord>;
    if (typeof v.holder === "string" && typeof v.term === "number" && typeof v.ttlMs === "number") {
      return { holder: v.holder, term: v.term, ttlMs: v.ttlMs, renewedAt: String(v.renewedAt ?? "") };
    }
  } catch {
    // A malformed record is treated like a released one (below): it names no live holder.
  }
  return { holder: "", term: 0, ttlMs: 0, renewedAt: "" };
}

/**
 * Starts the lease actor: one KV read per tick, its decision, then at most one CAS write.
 * Starting and stopping the control loops are serialized.
 */
export async function startLeaderElection(opts: LeaderElectionOptions): Promise<LeaderElection> {
  const log = opts.log ?? (() => {});
  const now = opts.now ?? Date.now;
  const ttlMs = opts.ttlMs ?? 5_000;
  const renewMs = opts.renewMs ?? 1_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? Math.round(ttlMs * 0.6);
  if (!(renewMs < renewDeadlineMs && renewDeadlineMs < ttlMs)) {
    throw new LeaderElectionError(`need renewMs < renewDeadlineMs < ttlMs, got ${renewMs} / ${renewDeadlineMs} / ${ttlMs}`);
  }
  const name = opts.name ?? "control-plane";
  const key = leaseKey(name);
  const kv: KV = await new Kvm(jetstream(opts.nc)).open(opts.bucket ?? STATE_BUCKET);

  let transitions: Promise<void> = Promise.resolve();
  const leadingWaiters: (() => void)[] = [];
  const transition = (fn: () => Promise<void> | void, what: string) => {
    transitions = transitions.then(fn).catch((e) => log("leader transition failed", { step: what, error: String(e) }));
    return transitions;
  };

  const machine = leaderLeaseMachine.provide({
    actors: {
      readLease: fromPromise<LeaseRead, void>(async () => {
        const entry = await kv.get(key);
        const live = !!entry && entry.operation === "PUT" && entry.value.length > 0;
        return { record: live ? parseRecord(entry.value) : null, revision: live ? entry.revision : entry?.revision ?? 0, exists: !!entry, at: now() };
      }),
      writeLease: fromPromise<LeaseWritten, LeaseWrite>(async ({ input }) => {
        const sentAt = now();
        const record: LeaseRecord = { ...input.record, renewedAt: new Date().toISOString() };
        const data = enc.encode(JSON.stringify(record));
        const revision = input.create ? await kv.create(key, data) : await kv.update(key, data, input.revision);
        return { revision, record, sentAt, doneAt: now() };
      }),
      releaseLease: fromPromise<void, { release: boolean; term: number; revision: number; ttlMs: number }>(async ({ input }) => {
        await transitions;
        if (!input.release || !input.revision) return;
        // Hand over at once instead of making the others wait out the TTL. A CAS: if someone
        // already took the lease, this fails and changes nothing.
        const rec: LeaseRecord = { holder: "", term: input.term, ttlMs: input.ttlMs, renewedAt: new Date().toISOString() };
        await kv.update(key, enc.encode(JSON.stringify(rec)), input.revision).catch(() => {});
      }),
    },
    actions: {
      log: (_, p) => log(p.msg, p.fields),
      // Not awaited by the machine: renewals must go on while the loops start (their informers
      // list the whole store, which can take longer than the renew deadline). A stop queues behind.
      startLoops: (_, { term }) =>
        void transition(async () => {
          try {
            await opts.onStartedLeading(term);
          } catch (e) {
            log("leader: starting the control loops failed; giving the lease up", { id: opts.id, term, error: String(e) });
            actor.send({ type: "START_FAILED", term });
            return;
          }
          const c = actor.getSnapshot().context;
          if (c.leading && c.term === term) for (const w of leadingWaiters.splice(0)) w();
        }, "start"),
      stopLoops: (_, { reason }) => void transition(() => opts.onStoppedLeading(reason), "stop"),
    },
  });
  const actor = observeActor(opts.observe, "lease", `${name}/${opts.id}`, createActor(machine, {
    input: { id: opts.id, ttlMs, renewMs, renewDeadlineMs },
  }));
  actor.subscribe({ error: (e) => log("leader: lease actor failed", { id: opts.id, error: String(e) }) });
  actor.start();
  const ctx = () => actor.getSnapshot().context;

  let stopping: Promise<void> | undefined;
  return {
    id: opts.id,
    get leading() {
      return ctx().leading;
    },
    get term() {
      return ctx().term;
    },
    mayAct() {
      const c = ctx();
      return c.leading && now() < c.validUntil;
    },
    waitLeading(timeoutMs = 30_000) {
      if (ctx().leading) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new LeaderElectionError(`${opts.id} did not become leader within ${timeoutMs} ms`)), timeoutMs);
        leadingWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        actor.send({ type: "STOP" });
        await toPromise(actor).catch(() => {});
        await transitions;
      })();
      return stopping;
    },
  };
}
