/**
 * The recorded history of a chaos run (Jepsen's history): every client operation with its
 * start, end, outcome and latency; every fault's start and stop; periodic samples of the
 * cluster (replica counts per RC, node readiness, ready endpoints, running copies). Checkers
 * read only this plus the final state, so a saved history can be re-checked later.
 *
 * Times are milliseconds since the run's origin (`t0`, an epoch ms kept in the history).
 */

/** A request against a service (the client loop). */
export interface RequestOp {
  type: "request";
  /** Which client loop (service) issued it. */
  client: string;
  start: number;
  end: number;
  ok: boolean;
  /** Which backend answered (the body), or the error. */
  detail?: string;
}

/**
 * A write to the API. `ok: true` means acknowledged; `ok: false` with `indeterminate` means the
 * outcome is unknown (timeout: it may or may not have been applied), like Jepsen's `:info`.
 */
export interface WriteOp {
  type: "write";
  op: "create" | "update" | "delete" | "scale";
  resource: string;
  namespace?: string;
  name: string;
  start: number;
  end: number;
  ok: boolean;
  indeterminate?: boolean;
  /** uid of the object written (for creates and updates). */
  uid?: string;
  /** The value written (e.g. an annotation counter, or replicas). */
  value?: number;
  error?: string;
}

export interface FaultEvent {
  type: "fault";
  phase: "start" | "stop";
  id: string;
  kind: string;
  target: string;
  /** What the target resolved to (a pod name for `pod:k`, a container id...). */
  resolved?: string;
  t: number;
  error?: string;
  /** The fault was not injected because it had no eligible target at that moment. */
  skipped?: string;
  /** On a start: when the injection had finished (a kill takes a moment to take effect). */
  effective?: number;
}

/** Per RC: desired replicas, active pods (not terminating, not lost), ready pods, running copies. */
export interface RcSample {
  desired: number;
  active: number;
  ready: number;
  /** Pods whose app containers are running somewhere, whatever the API thinks (undefined if not observable). */
  running?: number;
}

export interface Sample {
  type: "sample";
  t: number;
  rcs: Record<string, RcSample>;
  /** Node name → Ready condition status ("True", "False", "Unknown"). */
  nodes: Record<string, string>;
  /** Service `ns/name` → ready endpoint addresses. */
  endpoints: Record<string, number>;
  /** Pod uids seen with more than one running copy of one container at this instant. */
  duplicates?: string[];
}

/** A named moment (heal started, workload applied, scaled...). */
export interface Mark {
  type: "mark";
  t: number;
  label: string;
}

/** An actor's state as published on NATS (recorded with `recordActors`; coalesced per tick). */
export interface ActorTransition {
  type: "actor";
  t: number;
  kind: string;
  scope: string;
  id: string;
  state: string;
  status: string;
  transitions: number;
}

export type HistoryEntry = RequestOp | WriteOp | FaultEvent | Sample | Mark | ActorTransition;

export interface HistoryJson {
  t0: number;
  seed: number;
  scenario: string;
  entries: HistoryEntry[];
}

/** An append-only history. */
export class History {
  readonly entries: HistoryEntry[] = [];

  constructor(readonly seed: number, readonly scenario: string, readonly t0 = Date.now()) {}

  /** Milliseconds since the origin. */
  now(): number {
    return Date.now() - this.t0;
  }

  add(e: HistoryEntry): void {
    this.entries.push(e);
  }

  mark(label: string): number {
    const t = this.now();
    this.add({ type: "mark", t, label });
    return t;
  }

  toJSON(): HistoryJson {
    return { t0: this.t0, seed: this.seed, scenario: this.scenario, entries: this.entries };
  }

  static fromJSON(j: HistoryJson): History {
    const h = new History(j.seed, j.scenario, j.t0);
    h.entries.push(...j.entries);
    return h;
  }
}

/** Entries of one type, in order. */
export function entriesOf<T extends HistoryEntry["type"]>(entries: readonly HistoryEntry[], type: T): Extract<HistoryEntry, { type: T }>[] {
  return entries.filter((e): e is Extract<HistoryEntry, { type: T }> => e.type === type);
}

/** A fault's active window, from its start to its stop (or the end of the history). */
export interface FaultWindow {
  id: string;
  kind: string;
  target: string;
  resolved?: string;
  start: number;
  /** When the injection had finished; connections made before it may still have met the fault. */
  effective: number;
  end: number;
}

/** Pairs fault starts with their stops. An instant fault (no stop) lasts zero ms. */
export function faultWindows(entries: readonly HistoryEntry[]): FaultWindow[] {
  const out = new Map<string, FaultWindow>();
  let last = 0;
  for (const e of entries) {
    const t = "t" in e ? e.t : e.end;
    if (t > last) last = t;
    if (e.type !== "fault" || e.skipped) continue;
    if (e.phase === "start") out.set(e.id, { id: e.id, kind: e.kind, target: e.target, resolved: e.resolved, start: e.t, effective: e.effective ?? e.t, end: Number.NaN });
    else {
      const w = out.get(e.id);
      if (w) w.end = e.t;
    }
  }
  return [...out.values()].map((w) => (Number.isNaN(w.end) ? { ...w, end: w.start } : w));
}

/** The time of the first mark with this label, if any. */
export function markTime(entries: readonly HistoryEntry[], label: string): number | undefined {
  return entriesOf(entries, "mark").find((m) => m.label === label)?.t;
}
