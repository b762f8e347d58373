/**
 * The node agent's usage reporter: every `intervalMs` it reads each of its pods' app containers'
 * cumulative CPU and memory from the engine (`docker stats`, one shot, no second sample), turns
 * them into rates and working sets (model/usage.ts) and publishes one `UsageReport` on
 * `berth.node.<node>.usage`. On the hollow runtime the usage is synthetic: steady figures
 * derived from the pod's name, so `kubectl top` has something to show at scale.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { LABELS, type ContainerRuntime } from "../../model/container_runtime.ts";
import type { Log } from "../../model/log.ts";
import { cpuNanoCores, workingSetBytes, type CpuSample, type PodUsage, type UsageReport } from "../../model/usage.ts";
import type { DockerRuntime } from "../containers/docker.ts";
import { subjects } from "../subjects.ts";

export const DEFAULT_USAGE_INTERVAL_MS = 10_000;

/** One container's cumulative readings. */
export interface ContainerReading {
  cpuUsageNs: number;
  memoryUsage: number;
  inactiveFile?: number;
}

/** Reads one container's counters; the Docker engine's one-shot stats. */
export async function dockerReading(docker: DockerRuntime, id: string): Promise<ContainerReading> {
  const s = (await docker.docker.getContainer(id).stats({ stream: false, "one-shot": true } as { stream: false })) as unknown as {
    cpu_stats?: { cpu_usage?: { total_usage?: number } };
    memory_stats?: { usage?: number; stats?: Record<string, number> };
  };
  const st = s.memory_stats?.stats ?? {};
  return {
    cpuUsageNs: s.cpu_stats?.cpu_usage?.total_usage ?? 0,
    memoryUsage: s.memory_stats?.usage ?? 0,
    // cgroup v2 names it inactive_file, v1 total_inactive_file.
    inactiveFile: st.inactive_file ?? st.total_inactive_file,
  };
}

/** Steady synthetic usage for a hollow pod's container: 1-50 millicores, 4-64 MiB. */
export function syntheticUsage(key: string): { cpuNanoCores: number; memoryBytes: number } {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619) >>> 0;
  return { cpuNanoCores: (1 + (h % 50)) * 1_000_000, memoryBytes: (4 + ((h >>> 8) % 61)) * 1024 * 1024 };
}

export interface UsageReporter {
  /** Takes one sample and publishes a report when there is a previous sample to compare with (tests). */
  tick(): Promise<UsageReport | null>;
  stop(): void;
}

export function startUsageReporter(opts: {
  nc: NatsConnection;
  node: string;
  /** The node's (cluster-scoped) runtime, to list its containers. */
  runtime: ContainerRuntime;
  /** Reads a container's counters; absent: synthetic usage (hollow). */
  read?: (id: string) => Promise<ContainerReading>;
  /** Without `read`: the usage a container is scripted to report (the hollow runtime's annotations), over the steady synthetic figures. */
  scripted?: (id: string) => { cpuNanoCores?: number; memoryBytes?: number };
  intervalMs?: number;
  log?: Log;
  now?: () => number;
}): UsageReporter {
  const interval = opts.intervalMs ?? DEFAULT_USAGE_INTERVAL_MS;
  const now = opts.now ?? (() => performance.now());
  const log = opts.log ?? (() => {});
  let prev = new Map<string, CpuSample>();
  let prevAt: number | undefined;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const enc = new TextEncoder();

  async function tick(): Promise<UsageReport | null> {
    const at = now();
    const rows = (await opts.runtime.listContainers({ [LABELS.node]: opts.node, [LABELS.role]: "app" })).filter((r) => r.state === "running");
    const pods = new Map<string, PodUsage>();
    const cur = new Map<string, CpuSample>();
    await Promise.all(rows.map(async (r) => {
      const namespace = r.labels[LABELS.podNamespace];
      const name = r.labels[LABELS.podName];
      const container = r.labels[LABELS.container];
      if (!namespace || !name || !container) return;
      let cpu: number;
      let mem: number;
      if (opts.read) {
        let reading: ContainerReading;
        try {
          reading = await opts.read(r.id);
        } catch {
          return; // gone between list and stats: it is not running any more
        }
        const sample = { usageNs: reading.cpuUsageNs, atMs: at };
        cur.set(r.id, sample);
        const p = prev.get(r.id);
        cpu = p ? cpuNanoCores(p, sample) : 0;
        mem = workingSetBytes(reading.memoryUsage, reading.inactiveFile);
      } else {
        ({ cpuNanoCores: cpu, memoryBytes: mem } = { ...syntheticUsage(`${namespace}/${name}/${container}`), ...opts.scripted?.(r.id) });
      }
      const key = `${namespace}/${name}`;
      let pu = pods.get(key);
      if (!pu) pods.set(key, (pu = { namespace, name, containers: [] }));
      pu.containers.push({ name: container, cpuNanoCores: cpu, memoryBytes: mem });
    }));
    const first = prevAt === undefined && !!opts.read;
    const windowSeconds = prevAt === undefined ? interval / 1000 : Math.max(0.001, (at - prevAt) / 1000);
    prev = cur;
    prevAt = at;
    if (first) return null; // no rate yet: the next sample has one
    const list = [...pods.values()].sort((a, b) => (a.namespace + "/" + a.name).localeCompare(b.namespace + "/" + b.name));
    for (const p of list) p.containers.sort((a, b) => a.name.localeCompare(b.name));
    const report: UsageReport = {
      node: opts.node,
      timestamp: new Date().toISOString(),
      windowSeconds: Math.round(windowSeconds * 1000) / 1000,
      usage: {
        cpuNanoCores: list.reduce((s, p) => s + p.containers.reduce((t, c) => t + c.cpuNanoCores, 0), 0),
        memoryBytes: list.reduce((s, p) => s + p.containers.reduce((t, c) => t + c.memoryBytes, 0), 0),
      },
      pods: list,
    };
    opts.nc.publish(subjects.nodeUsage(opts.node), enc.encode(JSON.stringify(report)));
    return report;
  }

  const run = () => {
    if (stopped) return;
    running = tick().catch((e) => log("usage sample failed", { node: opts.node, error: String(e) }));
  };
  // A first sample soon after start, so the first report (one window later) has a rate.
  const first = setTimeout(run, Math.min(1_000, interval));
  const timer = setInterval(run, interval);
  (first as { unref?: () => void }).unref?.();
  (timer as { unref?: () => void }).unref?.();
  return {
    tick,
    stop() {
      stopped = true;
      clearTimeout(first);
      clearInterval(timer);
      void running;
    },
  };
}
