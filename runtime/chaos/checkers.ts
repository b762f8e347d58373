/**
 * Checkers: pure functions over a recorded history and the final cluster state (Jepsen's
 * checkers). Each returns pass/fail with evidence a person can follow.
 */
import { entriesOf, faultWindows, markTime, type HistoryEntry, type RcSample, type Sample } from "./history.ts";

/** What the harness observed once everything was healed and the run ended. */
export interface FinalState {
  t: number;
  /** `ns/name` → counts, as in samples. */
  rcs: Record<string, RcSample>;
  /** Workload objects that exist at the end: `resource/ns/name` → uid and tracked value. */
  objects: Record<string, { uid: string; value?: number }>;
  /** Pods in the API: uid → where it is bound. */
  pods: Record<string, { namespace: string; name: string; node?: string }>;
  /** Services in the API, `ns/name`. */
  services: string[];
  /** Berth-labelled containers on the engines of this cluster's nodes. */
  containers: { id: string; node: string; podUid: string; pod: string; container: string; role: string; running: boolean }[];
  /** Berth-labelled emptyDir volumes of this cluster's nodes. */
  volumes: { name: string; node: string; podUid: string }[];
  /** Service proxy listeners: `ns/name` of the service each serves. */
  listeners: string[];
  /** One line per workload pod that is not Ready at the end (phase, reason, restarts), for evidence. */
  unready?: string[];
}

export interface CheckResult {
  name: string;
  ok: boolean;
  summary: string;
  evidence: string[];
  figures?: Record<string, number>;
}

export const CHECKER_NAMES = ["faults-healed", "convergence", "no-lost-writes", "no-orphans", "no-duplicate-pods", "availability", "seed-story"] as const;
export type CheckerName = (typeof CHECKER_NAMES)[number];

const fmt = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** Every injected fault was stopped (healed) without error. */
export function checkFaultsHealed(entries: readonly HistoryEntry[]): CheckResult {
  const faults = entriesOf(entries, "fault");
  const skipped = faults.filter((f) => f.phase === "start" && f.skipped);
  const started = faults.filter((f) => f.phase === "start" && !f.skipped);
  const stopped = new Map(faults.filter((f) => f.phase === "stop").map((f) => [f.id, f]));
  const evidence: string[] = [];
  for (const s of started) {
    const stop = stopped.get(s.id);
    if (!stop) evidence.push(`${s.id} ${s.kind} on ${s.resolved ?? s.target} was never healed`);
    else if (stop.error) evidence.push(`${s.id} ${s.kind} on ${s.resolved ?? s.target}: heal failed: ${stop.error}`);
    if (s.error) evidence.push(`${s.id} ${s.kind} on ${s.target}: injection failed: ${s.error}`);
  }
  return {
    name: "faults-healed",
    ok: evidence.length === 0,
    summary: `${started.length} faults injected, ${started.length - evidence.length} injected and healed cleanly` +
      (skipped.length ? `; ${skipped.length} skipped (no eligible target at the time)` : ""),
    evidence: [...evidence, ...skipped.map((s) => `${s.id} ${s.kind} on ${s.target} skipped: ${s.skipped}`)],
    figures: { faults: started.length, skipped: skipped.length },
  };
}

function converged(r: RcSample): boolean {
  return r.active === r.desired && r.ready === r.desired && (r.running === undefined || r.running === r.desired);
}

function describeRcs(rcs: Record<string, RcSample>): string {
  return Object.entries(rcs)
    .map(([k, r]) => `${k}: desired ${r.desired}, active ${r.active}, ready ${r.ready}${r.running === undefined ? "" : `, running ${r.running}`}`)
    .join("; ");
}

/**
 * After the last fault is healed, every RC has exactly `replicas` active and Ready pods (and
 * running copies, where observable) within `boundMs`, and stays so until the end.
 */
export function checkConvergence(entries: readonly HistoryEntry[], final: FinalState, boundMs: number): CheckResult {
  // Measured from the last heal (the moment the cluster was whole again), else the `healed` mark.
  const stops = entriesOf(entries, "fault").filter((f) => f.phase === "stop").map((f) => f.t);
  const healed = stops.length ? Math.max(...stops) : markTime(entries, "healed") ?? 0;
  const samples = entriesOf(entries, "sample").filter((s) => s.t >= healed);
  const finalOk = Object.values(final.rcs).every(converged);
  if (!finalOk) {
    return { name: "convergence", ok: false, summary: `not converged at the end (${fmt(final.t - healed)} after healing)`, evidence: [describeRcs(final.rcs), ...(final.unready ?? [])] };
  }
  // The earliest sample from which every later sample is converged.
  let since = final.t;
  for (let i = samples.length - 1; i >= 0; i--) {
    if (!Object.values(samples[i].rcs).every(converged)) break;
    since = samples[i].t;
  }
  const took = Math.max(0, since - healed);
  const ok = took <= boundMs;
  return {
    name: "convergence",
    ok,
    summary: `converged ${fmt(took)} after the last heal (bound ${fmt(boundMs)})`,
    evidence: ok ? [] : [`still diverged at ${fmt(since - 1)}: ${describeRcs(samples.findLast((s) => s.t < since)?.rcs ?? {})}`],
    figures: { convergenceMs: took },
  };
}

/**
 * Every object the workload created and the API acknowledged still exists (unless the workload
 * deleted it), with the same uid, and holds the last acknowledged value (or a later value whose
 * write was indeterminate).
 */
export function checkNoLostWrites(entries: readonly HistoryEntry[], final: FinalState): CheckResult {
  interface Expect { exists: boolean; uid?: string; value?: number; maybe: Set<number>; maybeExists: boolean }
  const expect = new Map<string, Expect>();
  let acked = 0;
  let indeterminate = 0;
  for (const w of entriesOf(entries, "write")) {
    const key = `${w.resource}/${w.namespace ?? ""}/${w.name}`;
    const e = expect.get(key) ?? { exists: false, maybe: new Set<number>(), maybeExists: false };
    expect.set(key, e);
    if (w.ok) acked++;
    if (!w.ok && !w.indeterminate) continue; // a definite failure changed nothing
    if (w.indeterminate) {
      indeterminate++;
      if (w.value !== undefined) e.maybe.add(w.value);
      if (w.op === "create" || w.op === "delete") e.maybeExists = true;
      continue;
    }
    if (w.op === "create") {
      Object.assign(e, { exists: true, uid: w.uid, value: w.value, maybe: new Set<number>(), maybeExists: false });
    } else if (w.op === "delete") {
      Object.assign(e, { exists: false, uid: undefined, value: undefined, maybe: new Set<number>(), maybeExists: false });
    } else if (w.value !== undefined) {
      e.value = w.value;
      e.maybe = new Set();
    }
  }
  const evidence: string[] = [];
  for (const [key, e] of expect) {
    const got = final.objects[key];
    if (e.exists && !got && !e.maybeExists) evidence.push(`${key}: acknowledged (uid ${e.uid}) but missing at the end`);
    else if (e.exists && got && e.uid && got.uid !== e.uid && !e.maybeExists) evidence.push(`${key}: acknowledged uid ${e.uid}, found ${got.uid}`);
    else if (e.exists && got && e.value !== undefined && got.value !== e.value && !(got.value !== undefined && e.maybe.has(got.value))) {
      evidence.push(`${key}: last acknowledged value ${e.value}, found ${got.value}`);
    } else if (!e.exists && got && !e.maybeExists) evidence.push(`${key}: acknowledged delete, but it still exists (uid ${got.uid})`);
  }
  return {
    name: "no-lost-writes",
    ok: evidence.length === 0,
    summary: `${acked} acknowledged writes over ${expect.size} objects (${indeterminate} indeterminate); ${evidence.length} lost`,
    evidence,
    figures: { acknowledged: acked, indeterminate, lost: evidence.length },
  };
}

/** No Berth-labelled container, emptyDir volume or proxy listener without an owning object. */
export function checkNoOrphans(final: FinalState): CheckResult {
  const evidence: string[] = [];
  for (const c of final.containers) {
    const pod = final.pods[c.podUid];
    if (!pod) evidence.push(`container ${c.id.slice(0, 12)} (${c.role} ${c.container} of ${c.pod}, node ${c.node}) has no pod object`);
    else if (pod.node && pod.node !== c.node) evidence.push(`container ${c.id.slice(0, 12)} of ${c.pod} runs on ${c.node} but the pod is bound to ${pod.node}`);
  }
  for (const v of final.volumes) if (!final.pods[v.podUid]) evidence.push(`volume ${v.name} (node ${v.node}) has no pod object`);
  const services = new Set(final.services);
  for (const l of final.listeners) if (!services.has(l)) evidence.push(`a proxy listener for ${l} remains but the service is gone`);
  return {
    name: "no-orphans",
    ok: evidence.length === 0,
    summary: `${final.containers.length} labelled containers, ${final.volumes.length} volumes, ${final.listeners.length} listeners checked; ${evidence.length} orphans`,
    evidence,
    figures: { orphans: evidence.length },
  };
}

/** Never two running copies of the same pod container, at any sample or at the end. */
export function checkNoDuplicatePods(entries: readonly HistoryEntry[], final: FinalState): CheckResult {
  const evidence: string[] = [];
  const samples = entriesOf(entries, "sample");
  for (const s of samples) for (const d of s.duplicates ?? []) evidence.push(`at ${fmt(s.t)}: pod ${d} ran twice`);
  const running = new Map<string, string[]>();
  for (const c of final.containers) {
    if (!c.running || c.role !== "app") continue;
    const k = `${c.podUid}/${c.container}`;
    running.set(k, [...(running.get(k) ?? []), `${c.node}:${c.id.slice(0, 12)}`]);
  }
  for (const [k, where] of running) if (where.length > 1) evidence.push(`at the end: ${k} runs ${where.length} times (${where.join(", ")})`);
  return {
    name: "no-duplicate-pods",
    ok: evidence.length === 0,
    summary: evidence.length ? `${evidence.length} duplicate sightings` : `no pod ran twice over ${samples.length} samples`,
    evidence: evidence.slice(0, 20),
  };
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export interface AvailabilityOptions {
  /** Failed / counted requests allowed (default 0). */
  maxFailedRatio?: number;
  /** Requests overlapping a fault of these kinds are reported but not counted (the fault's point is to fail them). */
  excludeKinds?: string[];
}

/**
 * Service availability: requests that failed while at least one endpoint of their service was
 * ready (by the latest sample before the request), out of all such requests; latency percentiles.
 */
export function checkAvailability(entries: readonly HistoryEntry[], opts: AvailabilityOptions = {}): CheckResult {
  const requests = entriesOf(entries, "request");
  const samples = entriesOf(entries, "sample");
  const windows = faultWindows(entries);
  const excluded = windows.filter((w) => opts.excludeKinds?.includes(w.kind));
  let si = -1;
  let counted = 0, failed = 0, skippedNoEndpoint = 0, skippedFault = 0, failedNoEndpoint = 0, cut = 0;
  const examples: string[] = [];
  const latencies: number[] = [];
  const sorted = [...requests].sort((a, b) => a.start - b.start);
  for (const r of sorted) {
    while (si + 1 < samples.length && samples[si + 1].t <= r.start) si++;
    const s: Sample | undefined = samples[si];
    const ready = s ? Object.entries(s.endpoints).find(([k]) => k === r.client)?.[1] ?? 0 : 0;
    if (r.ok) latencies.push(r.end - r.start);
    if (excluded.some((w) => r.end >= w.start && r.start <= w.end)) {
      skippedFault++;
      continue;
    }
    // Already connected when a fault began (e.g. to the container just killed) — including
    // while the injection was still under way (a kill takes a moment to take effect, and a
    // connection accepted just before the process died is reset): not a new connection to a
    // failed endpoint, which is what the invariant is about; reported, not counted.
    if (!r.ok && windows.some((w) => r.start < w.effective && r.end >= w.start)) {
      cut++;
      continue;
    }
    if (ready < 1) {
      skippedNoEndpoint++;
      if (!r.ok) failedNoEndpoint++;
      continue;
    }
    counted++;
    if (!r.ok) {
      failed++;
      if (examples.length < 10) examples.push(`at ${fmt(r.start)} (${ready} ready): ${r.detail ?? "failed"}`);
    }
  }
  latencies.sort((a, b) => a - b);
  const ratio = counted ? failed / counted : 0;
  const ok = ratio <= (opts.maxFailedRatio ?? 0);
  const p = (q: number) => Math.round(percentile(latencies, q) * 10) / 10;
  return {
    name: "availability",
    ok,
    summary: `${failed}/${counted} requests failed while an endpoint was ready` +
      ` (${skippedNoEndpoint} with none ready, ${failedNoEndpoint} of them failed; ${skippedFault} during excluded faults;` +
      ` ${cut} failed that were already in flight when a fault began);` +
      ` latency p50 ${p(50)}ms p90 ${p(90)}ms p99 ${p(99)}ms max ${p(100)}ms`,
    evidence: examples,
    figures: { requests: requests.length, counted, failed, p50: p(50), p90: p(90), p99: p(99), max: p(100) },
  };
}

/**
 * The seed story for one RC of N replicas: running copies go N → N+1 → N. A node is lost, its
 * pods are replaced elsewhere while the old copies keep running (N+1), and when the node is back
 * the surplus is terminated (N). Uses running copies where observed, else active pods.
 */
export function checkSeedStory(entries: readonly HistoryEntry[], final: FinalState, rc: string): CheckResult {
  const samples = entriesOf(entries, "sample").filter((s) => s.rcs[rc]);
  const count = (r: RcSample) => r.running ?? r.active;
  const seq: { n: number; t: number }[] = [];
  for (const s of samples) {
    const n = count(s.rcs[rc]);
    if (!seq.length || seq[seq.length - 1].n !== n) seq.push({ n, t: s.t });
  }
  const desired = final.rcs[rc]?.desired ?? samples[0]?.rcs[rc].desired ?? 0;
  const endN = final.rcs[rc] ? count(final.rcs[rc]) : undefined;
  const firstN = seq.findIndex((x) => x.n === desired);
  const over = firstN >= 0 ? seq.findIndex((x, i) => i > firstN && x.n === desired + 1) : -1;
  const back = over >= 0 ? seq.findIndex((x, i) => i > over && x.n === desired) : -1;
  const ok = firstN >= 0 && over >= 0 && back >= 0 && endN === desired;
  const story = seq.map((x) => `${x.n}@${fmt(x.t)}`).join(" → ");
  return {
    name: "seed-story",
    ok,
    summary: ok
      ? `${rc}: ${desired} → ${desired + 1} at ${fmt(seq[over].t)} → ${desired} at ${fmt(seq[back].t)}`
      : `${rc}: expected ${desired} → ${desired + 1} → ${desired}, saw ${story || "no samples"}`,
    evidence: [`running copies over time: ${story}`],
    figures: ok ? { overAt: seq[over].t, backAt: seq[back].t } : {},
  };
}
