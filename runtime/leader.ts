/**
 * Leader election for control-plane copies: a lease record in the JetStream KV state bucket,
 * written only by compare-and-swap on the key's revision (Kubernetes' Lease + client-go leader
 * election, on NATS).
 *
 *              acquire (CAS ok)                      renew (CAS ok, every renewMs)
 *   standby ─────────────────────▶ leading ◀──────────────────────────┐
 *      ▲                             │  └─────────────────────────────┘
 *      │   stepDown: CAS lost, lease held by another, or the renew deadline passed
 *      └─────────────────────────────┘      (the fence timer fires even while a KV call hangs)
 *
 * Time is never compared across machines. A standby copy measures a lease's age on its own
 * clock, from the moment it first *observed* the current revision of the record; the leader
 * measures its validity from the moment it *sent* its last successful renewal. Since a write is
 * observed only after it was sent, the leader's view always ends first: it stops acting at
 * `sent + renewDeadlineMs`, while no other copy can take over before `observed + ttlMs`, and
 * `renewDeadlineMs < ttlMs` leaves a margin for the control loops to stop. This is the fencing:
 * an ex-leader that cannot renew (partitioned, paused, its NATS server gone) has stopped its
 * control loops before anyone else starts theirs.
 *
 * Key: `_lease.<name>` in the `berth-state` bucket (beside `_meta.store`; object keys are
 * `<resource>.…`, so no object watch sees it, and the control plane's NATS identity may
 * already write there).
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { leaseKey, STATE_BUCKET } from "./subjects.ts";

/** The value stored under the lease key. */
export interface LeaseRecord {
  /** Identity of the holder; "" when released. */
  holder: string;
  /** Incremented by every acquisition (a fencing token, and for logs). */
  term: number;
  /** How long after its last observed renewal the lease counts as expired. */
  ttlMs: number;
  /** The holder's wall clock at renewal: informational only, never used to decide. */
  renewedAt: string;
}

/** What this copy last read of the lease key. */
export interface LeaseObservation {
  /** null: the key does not exist. */
  record: LeaseRecord | null;
  /** KV revision of the record (0 when absent). */
  revision: number;
  /** Local clock when this revision was first seen. */
  observedAt: number;
}

/** This copy's own state. */
export interface LeaderSelf {
  id: string;
  leading: boolean;
  /** While leading: local time after which it must no longer act (last renewal sent + renewDeadlineMs). */
  validUntil: number;
}

export type LeaseDecision =
  | { type: "acquire"; term: number; reason: string }
  | { type: "renew" }
  | { type: "standby"; holder: string; expiresInMs: number }
  | { type: "stepDown"; reason: string };

/**
 * The pure decision for one tick: what to do given the last observation of the lease, the
 * local clock and this copy's state. No I/O, no clock of its own.
 */
export function decideLease(obs: LeaseObservation, now: number, self: LeaderSelf): LeaseDecision {
  const rec = obs.record;
  if (self.leading) {
    if (now >= self.validUntil) return { type: "stepDown", reason: "renew deadline passed" };
    if (!rec || rec.holder !== self.id) return { type: "stepDown", reason: rec?.holder ? `lease taken by ${rec.holder}` : "lease released or lost" };
    return { type: "renew" };
  }
  if (!rec) return { type: "acquire", term: 1, reason: "no lease" };
  if (rec.holder === "") return { type: "acquire", term: rec.term + 1, reason: "lease released" };
  // Our own record while not leading (we stepped down on a deadline but nobody took over):
  // the CAS on the observed revision proves nobody else acted since.
  if (rec.holder === self.id) return { type: "acquire", term: rec.term + 1, reason: "lease still ours" };
  const age = now - obs.observedAt;
  if (age >= rec.ttlMs) return { type: "acquire", term: rec.term + 1, reason: `lease of ${rec.holder} expired (unchanged for ${age} ms)` };
  return { type: "standby", holder: rec.holder, expiresInMs: rec.ttlMs - age };
}

/** Updates an observation with a fresh read: `observedAt` moves only when the revision changes. */
export function observe(prev: LeaseObservation | undefined, record: LeaseRecord | null, revision: number, now: number): LeaseObservation {
  if (prev && prev.revision === revision) return prev;
  return { record, revision, observedAt: now };
}

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

/** JetStream's "wrong last sequence" (10071, and 10164 from newer servers): a lost CAS. */
function isCasLoss(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String(e));
}
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
 * Runs the election loop until `stop()`: one KV read per tick, then `decideLease`, then at most
 * one CAS write. Transitions (start/stop of the control loops) are serialized.
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
  const key = leaseKey(opts.name ?? "control-plane");
  const kv: KV = await new Kvm(jetstream(opts.nc)).open(opts.bucket ?? STATE_BUCKET);

  const self: LeaderSelf = { id: opts.id, leading: false, validUntil: 0 };
  let term = 0;
  let obs: LeaseObservation | undefined;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let fence: ReturnType<typeof setTimeout> | undefined;
  let transitions: Promise<void> = Promise.resolve();
  const leadingWaiters: (() => void)[] = [];

  const transition = (fn: () => Promise<void> | void, what: string) => {
    transitions = transitions.then(fn).catch((e) => log("leader transition failed", { step: what, error: String(e) }));
    return transitions;
  };

  const stepDown = (reason: string) => {
    if (!self.leading) return transitions;
    self.leading = false;
    self.validUntil = 0;
    if (fence) clearTimeout(fence);
    fence = undefined;
    log("leader: stepping down", { id: self.id, term, reason });
    return transition(() => opts.onStoppedLeading(reason), "stop");
  };

  const armFence = () => {
    if (fence) clearTimeout(fence);
    // Fires even if a renewal is stuck in a KV call that has not timed out yet.
    fence = setTimeout(() => void stepDown("renew deadline passed"), Math.max(0, self.validUntil - now()));
  };

  const write = (rec: LeaseRecord, revision: number): Promise<number> =>
    revision === 0 ? kv.create(key, enc.encode(JSON.stringify(rec))) : kv.update(key, enc.encode(JSON.stringify(rec)), revision);

  const tick = async () => {
    const entry = await kv.get(key);
    const live = entry && entry.operation === "PUT" && entry.value.length > 0;
    obs = observe(obs, live ? parseRecord(entry.value) : null, live ? entry.revision : entry?.revision ?? 0, now());
    const d = decideLease(obs, now(), self);
    if (d.type === "stepDown") {
      await stepDown(d.reason);
      return;
    }
    if (d.type === "standby") return;
    const sentAt = now();
    const nextTerm = d.type === "acquire" ? d.term : term;
    const rec: LeaseRecord = { holder: self.id, term: nextTerm, ttlMs, renewedAt: new Date().toISOString() };
    let rev: number;
    try {
      rev = await write(rec, obs.record === null && !entry ? 0 : obs.revision);
    } catch (e) {
      // A lost CAS (or a create that found a key) means someone else wrote: step down if we
      // led, and read again next tick. Any other error: keep the deadline running, retry.
      log("leader: lease write failed", { id: self.id, decision: d.type, error: String(e) });
      if (isCasLoss(e)) await stepDown("lease CAS lost");
      return;
    }
    obs = { record: rec, revision: rev, observedAt: sentAt };
    if (stopped) return;
    if (d.type === "renew") {
      if (!self.leading) return; // fenced while the write was in flight: stay stepped down
      self.validUntil = sentAt + renewDeadlineMs;
      armFence();
      return;
    }
    term = nextTerm;
    self.leading = true;
    self.validUntil = sentAt + renewDeadlineMs;
    armFence();
    log("leader: acquired lease", { id: self.id, term, reason: d.reason });
    // Not awaited: renewals must go on while the loops start (their informers list the whole
    // store, which can take longer than the renew deadline). A stepDown queues behind the start.
    const myTerm = term;
    void transition(async () => {
      try {
        await opts.onStartedLeading(myTerm);
      } catch (e) {
        log("leader: starting the control loops failed; giving the lease up", { id: self.id, term: myTerm, error: String(e) });
        if (self.leading && term === myTerm) void stepDown("start failed");
        return;
      }
      if (self.leading && term === myTerm) for (const w of leadingWaiters.splice(0)) w();
    }, "start");
  };

  let running: Promise<void> = Promise.resolve();
  const loop = async () => {
    if (stopped) return;
    running = tick().catch((e) => log("leader: lease read failed", { id: self.id, error: String(e) }));
    await running;
    if (!stopped) timer = setTimeout(() => void loop(), renewMs);
  };
  void loop();

  return {
    id: self.id,
    get leading() {
      return self.leading;
    },
    get term() {
      return term;
    },
    mayAct() {
      return self.leading && now() < self.validUntil;
    },
    waitLeading(timeoutMs = 30_000) {
      if (self.leading) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new LeaderElectionError(`${self.id} did not become leader within ${timeoutMs} ms`)), timeoutMs);
        leadingWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
    async stop() {
      if (stopped) return transitions;
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      const wasLeading = self.leading;
      const lastRevision = obs?.revision ?? 0;
      await stepDown("shutting down");
      await transitions;
      if (wasLeading && lastRevision) {
        // Hand over at once instead of making the others wait out the TTL. A CAS: if someone
        // already took the lease, this fails and changes nothing.
        const rec: LeaseRecord = { holder: "", term, ttlMs, renewedAt: new Date().toISOString() };
        await kv.update(key, enc.encode(JSON.stringify(rec)), lastRevision).catch(() => {});
      }
    },
  };
}
