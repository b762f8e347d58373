/**
 * The fault schedule: Jepsen's "generator", decided purely from a seed. Same seed and options →
 * the same list of faults, at the same offsets, with the same durations and target choices.
 *
 * Targets are *symbolic* where the real object is only known at run time: a pod is chosen as
 * "the k-th pod of the workload in name order at injection time" (`pod:k`), since pod names
 * carry random suffixes; nodes, the NATS server and Docker daemons have stable names.
 */
import { Rng } from "./prng.ts";

/** Every fault the harness can inject. */
export const FAULT_KINDS = [
  "container-kill",
  "container-pause",
  "node-agent-kill",
  "node-partition",
  "nats-restart",
  "nats-pause",
  "docker-stop",
  "endpoint-toxic",
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a kind of fault is aimed at. */
export const FAULT_TARGET: Record<FaultKind, "pod" | "node" | "nats" | "docker"> = {
  "container-kill": "pod",
  "container-pause": "pod",
  "node-agent-kill": "node",
  "node-partition": "node",
  "nats-restart": "nats",
  "nats-pause": "nats",
  "docker-stop": "docker",
  "endpoint-toxic": "pod",
};

/** Faults that only exist at an instant: the injection is the whole fault (nothing to heal). */
export const INSTANT_FAULTS: ReadonlySet<FaultKind> = new Set(["container-kill"]);

/** One kind of fault the generator may choose, with its weight and duration range (ms). */
export interface FaultChoice {
  kind: FaultKind;
  weight: number;
  durationMs: [number, number];
  /** Kind-specific parameters passed through to the nemesis (e.g. partition mode). */
  params?: Record<string, unknown>;
  /** Candidate parameter sets, one picked per fault (e.g. several partition modes). */
  variants?: Record<string, unknown>[];
}

export interface ScheduleOptions {
  seed: number;
  /** Length of the fault phase (ms); no fault starts after it, and every fault ends by it. */
  durationMs: number;
  /** Quiet time before the first fault (ms). */
  warmupMs?: number;
  /** Gap between one fault's end (or start, when concurrency > 1) and the next start (ms). */
  gapMs: [number, number];
  /** At most this many faults at once (default 1). */
  maxConcurrent?: number;
  choices: FaultChoice[];
  /** Named targets available per target type; pods are symbolic (`pod:<index>`). */
  nodes: string[];
  dockerDaemons?: string[];
  /** How many pod indices to choose among (the workload's replica total). */
  podSlots?: number;
}

/** One fault to inject. Times are ms from the start of the fault phase. */
export interface ScheduledFault {
  id: string;
  kind: FaultKind;
  at: number;
  durationMs: number;
  target: string;
  params: Record<string, unknown>;
}

export class ScheduleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScheduleError";
  }
}

function targetsFor(kind: FaultKind, o: ScheduleOptions): string[] {
  switch (FAULT_TARGET[kind]) {
    case "pod":
      return Array.from({ length: Math.max(1, o.podSlots ?? 1) }, (_, i) => `pod:${i}`);
    case "node":
      return o.nodes;
    case "nats":
      return ["nats"];
    case "docker":
      return o.dockerDaemons ?? [];
  }
}

/** Generates the schedule. Pure: no clock, no global randomness. */
export function generateSchedule(o: ScheduleOptions): ScheduledFault[] {
  const usable = o.choices.filter((c) => c.weight > 0 && targetsFor(c.kind, o).length > 0);
  if (!usable.length) return [];
  for (const c of usable) {
    if (!(c.durationMs[0] >= 0 && c.durationMs[1] >= c.durationMs[0])) throw new ScheduleError(`bad duration range for ${c.kind}: ${c.durationMs}`);
  }
  if (!(o.gapMs[0] >= 0 && o.gapMs[1] >= o.gapMs[0])) throw new ScheduleError(`bad gap range: ${o.gapMs}`);
  const rng = new Rng(o.seed).fork("schedule");
  const maxConcurrent = Math.max(1, o.maxConcurrent ?? 1);
  const out: ScheduledFault[] = [];
  const ends: number[] = []; // end times of faults still active at `t`
  let t = o.warmupMs ?? 0;
  for (let n = 0; n < 10_000; n++) {
    t += rng.int(o.gapMs[0], o.gapMs[1]);
    // Respect the concurrency bound: wait for the earliest end when full.
    ends.sort((a, b) => a - b);
    while (ends.length && ends[0] <= t) ends.shift();
    if (ends.length >= maxConcurrent) {
      t = ends.shift()! + rng.int(o.gapMs[0], o.gapMs[1]);
      while (ends.length && ends[0] <= t) ends.shift();
    }
    if (t >= o.durationMs) break;
    const choice = rng.weighted(usable, (c) => c.weight);
    const busy = new Set(out.filter((f) => f.at + f.durationMs > t).map((f) => `${FAULT_TARGET[f.kind]}/${f.target}`));
    const candidates = targetsFor(choice.kind, o).filter((x) => !busy.has(`${FAULT_TARGET[choice.kind]}/${x}`));
    const instant = INSTANT_FAULTS.has(choice.kind);
    let duration = instant ? 0 : rng.int(choice.durationMs[0], choice.durationMs[1]);
    const variant = choice.variants?.length ? rng.pick(choice.variants) : {};
    const target = candidates.length ? rng.pick(candidates) : undefined;
    if (!target) continue; // every target of this kind is already faulted: draw again later
    duration = Math.min(duration, o.durationMs - t);
    out.push({ id: `f${out.length + 1}`, kind: choice.kind, at: t, durationMs: duration, target, params: { ...choice.params, ...variant } });
    ends.push(t + duration);
    if (maxConcurrent === 1) t += duration;
  }
  return out;
}

/** Parses `500ms`, `2s`, `1.5m`, or a bare number of milliseconds. */
export function parseDuration(v: string | number): number {
  if (typeof v === "number") {
    if (!(v >= 0)) throw new ScheduleError(`bad duration ${v}`);
    return v;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) throw new ScheduleError(`bad duration ${JSON.stringify(v)} (use e.g. 500ms, 2s, 1m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? "ms";
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

/** Formats milliseconds for humans: 850ms, 2.5s, 3m10s. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}
