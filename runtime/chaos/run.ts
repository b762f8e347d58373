/**
 * One chaos run, start to finish:
 *
 *   start cluster ─▶ apply workload ─▶ wait until it is up ─▶ clients + writer start
 *     ─▶ warm-up ─▶ faults on the seeded schedule (each healed after its duration)
 *     ─▶ "healed" ─▶ wait for convergence (bounded) ─▶ final state ─▶ checkers ─▶ report
 *
 * The cluster is always stopped, and every fault healed, even when a step fails.
 */
import type { Pod } from "../../model/types.ts";
import {
  checkAvailability,
  checkConvergence,
  checkFaultsHealed,
  checkNoDuplicatePods,
  checkNoLostWrites,
  checkNoOrphans,
  checkSeedStory,
  type CheckResult,
  type FinalState,
} from "./checkers.ts";
import { ChaosCluster, type Log } from "./cluster.ts";
import { History } from "./history.ts";
import { stateText, watchActors } from "../inspect/actor_client.ts";
import { inject, NoTargetError, type ActiveFault } from "./nemesis.ts";
import { Observer } from "./observe.ts";
import { buildReport, type ChaosReport, writeReport } from "./report.ts";
import type { Scenario } from "./scenario.ts";
import { generateSchedule, type ScheduledFault } from "./schedule.ts";
import { Workload } from "./workload.ts";

export interface RunOptions {
  seed: number;
  /** Overrides the scenario's fault-phase duration (ms). */
  durationMs?: number;
  /** Where to write the report (history.json, report.json, summary.txt, timeline.svg). */
  reportDir?: string;
  log?: Log;
  /** Progress lines for people (the CLI prints them). */
  progress?: (line: string) => void;
  /** Aborts the run: faults are healed and the cluster stopped, then the run rejects. */
  signal?: AbortSignal;
  /** Record every actor's transitions (from NATS, coalesced per tick) into the history as `actor` entries. */
  recordActors?: boolean;
  /** Overrides the scenario's `cluster.proxyMode` (userspace TCP proxies or nftables rules). */
  proxyMode?: "userspace" | "nftables";
}

export interface RunResult {
  report: ChaosReport;
  history: History;
  files?: string[];
}

/** Sleeps, or rejects as soon as the run is aborted. */
function sleepFor(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ChaosAbortedError());
    const onAbort = () => {
      clearTimeout(t);
      reject(new ChaosAbortedError());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class ChaosAbortedError extends Error {
  constructor() {
    super("chaos run aborted");
    this.name = "ChaosAbortedError";
  }
}

/** The schedule a scenario gets for a seed (its script, if it has one). Pure. */
export function scheduleFor(s: Scenario, seed: number, durationMs = s.durationMs): ScheduledFault[] {
  if (s.script) return s.script.filter((f) => f.at < durationMs);
  const podSlots = s.objects.reduce<number>((n, o) => n + (((o as { kind?: string }).kind === "ReplicationController") ? Number((o as { spec?: { replicas?: number } }).spec?.replicas ?? 1) : 0), 0);
  return generateSchedule({
    seed,
    durationMs,
    gapMs: s.gapMs,
    maxConcurrent: s.maxConcurrent,
    choices: s.choices,
    nodes: Array.from({ length: s.cluster.nodes }, (_, i) => `node-${i + 1}`),
    dockerDaemons: Array.from({ length: s.cluster.runtime === "docker" ? s.cluster.privateDockerNodes : 0 }, (_, i) => `node-${s.cluster.nodes - i}`).reverse(),
    podSlots: Math.max(1, podSlots),
  });
}

function rcKeys(objects: unknown[]): string[] {
  return objects
    .filter((o) => (o as { kind?: string }).kind === "ReplicationController")
    .map((o) => {
      const m = (o as { metadata: { name: string; namespace?: string } }).metadata;
      return `${m.namespace ?? "default"}/${m.name}`;
    });
}

/** Runs a scenario with a seed and returns (and optionally writes) its report. */
export async function runScenario(s: Scenario, opts: RunOptions): Promise<RunResult> {
  const progress = opts.progress ?? (() => {});
  const sleep = (ms: number) => sleepFor(ms, opts.signal);
  const durationMs = opts.durationMs ?? s.durationMs;
  const schedule = scheduleFor(s, opts.seed, durationMs);
  progress(`scenario ${s.name}, seed ${opts.seed}: ${schedule.length} faults over ${(durationMs / 1000).toFixed(0)} s on ${s.cluster.nodes} ${s.cluster.runtime} nodes`);
  const history = new History(opts.seed, s.name);
  const cc = await ChaosCluster.start({
    nodes: s.cluster.nodes,
    runtime: s.cluster.runtime,
    privateDockerNodes: s.cluster.privateDockerNodes,
    nodeGracePeriodMs: s.cluster.nodeGracePeriodMs,
    podEvictionTimeoutMs: s.cluster.podEvictionTimeoutMs,
    heartbeatIntervalMs: s.cluster.heartbeatIntervalMs,
    proxyMode: opts.proxyMode ?? s.cluster.proxyMode,
    endpointToxics: s.choices.some((c) => c.kind === "endpoint-toxic" && c.weight > 0) || !!s.script?.some((f) => f.kind === "endpoint-toxic"),
    log: opts.log,
    observeActors: opts.recordActors,
  });
  const actorWatch = opts.recordActors
    ? watchActors(cc.cluster.nc, {}, (r) => history.add({ type: "actor", t: history.now(), kind: r.kind, scope: r.scope, id: r.id, state: stateText(r.state), status: r.status, transitions: r.transitions }))
    : undefined;
  const observer = new Observer(cc, history);
  const workload = new Workload(cc, history);
  const active = new Set<ActiveFault>();
  try {
    await cc.waitReady();
    history.mark("cluster-ready");
    for (const k of rcKeys(s.objects)) observer.rcs.add(k);
    for (const c of s.clients) observer.services.add(c.service.includes("/") ? c.service : `default/${c.service}`);
    observer.start();
    await workload.apply(s.objects);
    await waitConverged(observer, s.healTimeoutMs, 500, opts.signal);
    history.mark("workload-ready");
    progress(`workload up (${[...observer.rcs].join(", ") || "no RCs"}) at ${(history.now() / 1000).toFixed(1)} s`);
    for (const c of s.clients) await workload.startClient(c);
    if (s.writer) await workload.startWriter(s.writer);
    await sleep(s.warmupMs);

    const t0 = history.now();
    history.mark("faults");
    const pods = async (): Promise<Pod[]> => {
      const list = (await cc.api.list("pods")).items;
      const rcUids = new Set((await cc.api.list("replicationcontrollers")).items.filter((r) => observer.rcs.has(`${r.metadata.namespace}/${r.metadata.name}`)).map((r) => r.metadata.uid));
      return list
        .filter((p) => p.status?.phase === "Running" && !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((o) => rcUids.has(o.uid)))
        .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    };
    const runFault = async (f: ScheduledFault) => {
      await sleep(t0 + f.at - history.now());
      let a: ActiveFault | undefined;
      const injectedAt = history.now(); // the fault begins as the injection does (a kill may take a while to finish)
      try {
        a = await inject(f, { cluster: cc, pods });
        active.add(a);
        history.add({ type: "fault", phase: "start", id: f.id, kind: f.kind, target: f.target, resolved: a.resolved, t: injectedAt, effective: history.now() });
        progress(`  +${((injectedAt - t0) / 1000).toFixed(1)}s ${f.id} ${f.kind} ${a.resolved}${f.durationMs ? ` for ${(f.durationMs / 1000).toFixed(1)} s` : ""}`);
      } catch (e) {
        const why = e instanceof NoTargetError ? { skipped: e.message } : { error: String(e) };
        history.add({ type: "fault", phase: "start", id: f.id, kind: f.kind, target: f.target, t: injectedAt, ...why });
        history.add({ type: "fault", phase: "stop", id: f.id, kind: f.kind, target: f.target, t: history.now() });
        progress(`  ${f.id} ${f.kind} ${e instanceof NoTargetError ? "skipped" : "could not be injected"}: ${(e as Error).message}`);
        return;
      }
      await sleep(t0 + f.at + f.durationMs - history.now());
      let error: string | undefined;
      try {
        await a.heal();
      } catch (e) {
        error = String(e);
      }
      active.delete(a);
      history.add({ type: "fault", phase: "stop", id: f.id, kind: f.kind, target: f.target, resolved: a.resolved, t: history.now(), ...(error ? { error } : {}) });
    };
    await Promise.all([...schedule.map(runFault), sleep(durationMs)]);
    history.mark("healed");
    progress(`faults over and healed at ${(history.now() / 1000).toFixed(1)} s; waiting for convergence (bound ${(s.checkers.convergenceBoundMs / 1000).toFixed(0)} s)`);
    await waitConverged(observer, s.checkers.convergenceBoundMs, s.settleMs, opts.signal).catch((e) => {
      if (e instanceof ChaosAbortedError) throw e;
    });
    await workload.stop();
    // The no-orphans check needs the nodes' garbage collection to have run after convergence.
    await waitNoOrphans(observer, workload, 15_000);
    const final = await observer.final(workload.tracked);
    await observer.stop();
    const results = check(s, history, final);
    const report = buildReport(history, schedule, results, final);
    const files = opts.reportDir ? writeReport(opts.reportDir, history, report).files : undefined;
    return { report, history, files };
  } finally {
    actorWatch?.stop();
    await workload.stop().catch(() => {});
    await observer.stop().catch(() => {});
    for (const a of active) await a.heal().catch(() => {});
    await cc.stop();
  }
}

function converged(o: Observer): boolean {
  const s = o.last;
  if (!s) return false;
  return [...o.rcs].every((k) => {
    const r = s.rcs[k];
    return r && r.active === r.desired && r.ready === r.desired && (r.running === undefined || r.running === r.desired);
  });
}

/** Waits until every RC has been converged for `settleMs` in a row; throws after `timeoutMs`. */
async function waitConverged(o: Observer, timeoutMs: number, settleMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let since: number | undefined;
  for (;;) {
    if (converged(o)) {
      since ??= Date.now();
      if (Date.now() - since >= settleMs) return;
    } else since = undefined;
    if (Date.now() > deadline) throw new Error(`not converged after ${timeoutMs} ms`);
    await sleepFor(100, signal);
  }
}

/** Gives node garbage collection a bounded chance to remove what no pod wants before the final look. */
async function waitNoOrphans(o: Observer, w: Workload, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = await o.final(w.tracked).catch(() => undefined);
    if (f && checkNoOrphans(f).ok) return;
    if (Date.now() > deadline) return;
    await sleepFor(500);
  }
}

/** Runs the scenario's checkers. */
export function check(s: Scenario, h: History, final: FinalState): CheckResult[] {
  const out: CheckResult[] = [];
  for (const name of s.checkers.names) {
    switch (name) {
      case "faults-healed":
        out.push(checkFaultsHealed(h.entries));
        break;
      case "convergence":
        out.push(checkConvergence(h.entries, final, s.checkers.convergenceBoundMs));
        break;
      case "no-lost-writes":
        out.push(checkNoLostWrites(h.entries, final));
        break;
      case "no-orphans":
        out.push(checkNoOrphans(final));
        break;
      case "no-duplicate-pods":
        out.push(checkNoDuplicatePods(h.entries, final));
        break;
      case "availability":
        out.push(checkAvailability(h.entries, s.checkers.availability));
        break;
      case "seed-story":
        out.push(checkSeedStory(h.entries, final, s.checkers.seedStoryRc ?? [...new Set(rcKeys(s.objects))][0] ?? ""));
        break;
    }
  }
  return out;
}
