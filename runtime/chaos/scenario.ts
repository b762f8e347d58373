/**
 * Scenario files (`chaos/*.yaml`): the cluster's shape, the workload, which faults with which
 * weights and durations (or an explicit script), how long, and which invariants to check.
 * Validated at the edge with zod; errors name the field path.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { parseManifests } from "../api/manifest.ts";
import { FAULT_KINDS, type FaultChoice, parseDuration, type ScheduledFault } from "./schedule.ts";
import type { ClientSpec, WriterSpec } from "./workload.ts";
import type { AvailabilityOptions, CheckerName } from "./checkers.ts";

export class ScenarioError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ScenarioError";
  }
}

const duration = z.union([z.string(), z.number().nonnegative()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});
const range = z.union([duration.transform((d) => [d, d] as [number, number]), z.tuple([duration, duration])]);
const kind = z.enum(FAULT_KINDS);

const schema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"),
  description: z.string().optional(),
  cluster: z.object({
    nodes: z.number().int().min(1).max(20).default(2),
    runtime: z.enum(["docker", "hollow"]).default("docker"),
    privateDockerNodes: z.number().int().min(0).default(0),
    nodeGracePeriod: duration.default(3000),
    podEvictionTimeout: duration.default(4000),
    heartbeatInterval: duration.default(1000),
    /** The service data path the availability checker goes through (docs/services.md). */
    proxyMode: z.enum(["userspace", "nftables"]).default("userspace"),
  }).strict().default({ nodes: 2, runtime: "docker", privateDockerNodes: 0, nodeGracePeriod: 3000, podEvictionTimeout: 4000, heartbeatInterval: 1000, proxyMode: "userspace" }),
  workload: z.object({
    manifests: z.array(z.string()).default([]),
    objects: z.array(z.record(z.string(), z.unknown())).default([]),
    clients: z.array(z.object({
      service: z.string(),
      port: z.number().int().min(1).max(65535).default(80),
      interval: duration.default(50),
      timeout: duration.default(1000),
      path: z.string().optional(),
    }).strict()).default([]),
    writer: z.object({ interval: duration.default(200), objects: z.number().int().min(1).max(100).default(4) }).strict().optional(),
  }).strict(),
  duration: duration.default(30_000),
  warmup: duration.default(2_000),
  faults: z.object({
    gap: range.default([2000, 5000]),
    maxConcurrent: z.number().int().min(1).default(1),
    kinds: z.array(z.object({
      kind,
      weight: z.number().nonnegative().default(1),
      duration: range.default([2000, 5000]),
      params: z.record(z.string(), z.unknown()).optional(),
      variants: z.array(z.record(z.string(), z.unknown())).optional(),
    }).strict()).default([]),
    script: z.array(z.object({
      at: duration,
      kind,
      target: z.string(),
      duration: duration.default(0),
      params: z.record(z.string(), z.unknown()).default({}),
    }).strict()).optional(),
  }).strict().default({ gap: [2000, 5000], maxConcurrent: 1, kinds: [] }),
  heal: z.object({ timeout: duration.default(90_000), settle: duration.default(3_000) }).strict().default({ timeout: 90_000, settle: 3_000 }),
  checkers: z.object({
    "faults-healed": z.object({}).strict().optional(),
    convergence: z.object({ bound: duration.optional() }).strict().optional(),
    "no-lost-writes": z.object({}).strict().optional(),
    "no-orphans": z.object({}).strict().optional(),
    "no-duplicate-pods": z.object({}).strict().optional(),
    availability: z.object({ maxFailedRatio: z.number().min(0).max(1).default(0), excludeKinds: z.array(kind).default([]) }).strict().optional(),
    "seed-story": z.object({ rc: z.string() }).strict().optional(),
  }).strict().optional(),
}).strict();

/** A scenario ready to run. */
export interface Scenario {
  name: string;
  description?: string;
  source?: string;
  cluster: { nodes: number; runtime: "docker" | "hollow"; privateDockerNodes: number; nodeGracePeriodMs: number; podEvictionTimeoutMs: number; heartbeatIntervalMs: number; proxyMode: "userspace" | "nftables" };
  objects: unknown[];
  clients: ClientSpec[];
  writer?: WriterSpec;
  durationMs: number;
  warmupMs: number;
  gapMs: [number, number];
  maxConcurrent: number;
  choices: FaultChoice[];
  script?: ScheduledFault[];
  healTimeoutMs: number;
  settleMs: number;
  checkers: {
    names: CheckerName[];
    convergenceBoundMs: number;
    availability: AvailabilityOptions;
    seedStoryRc?: string;
  };
}

function formatIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
}

/** Validates a parsed YAML document; `baseDir` resolves manifest paths. */
export function scenarioFromObject(doc: unknown, baseDir = process.cwd(), source?: string): Scenario {
  const r = schema.safeParse(doc);
  if (!r.success) throw new ScenarioError(`invalid scenario${source ? ` ${source}` : ""}: ${formatIssues(r.error)}`);
  const s = r.data;
  const objects: unknown[] = [];
  for (const m of s.workload.manifests) {
    const path = resolve(baseDir, m);
    if (!existsSync(path)) throw new ScenarioError(`scenario ${s.name}: manifest ${m} not found (looked at ${path})`);
    for (const d of parseManifests(readFileSync(path, "utf8"), m)) objects.push(d.object);
  }
  objects.push(...s.workload.objects);
  const defaultCheckers: CheckerName[] = ["faults-healed", "convergence", "no-lost-writes", "no-orphans", "no-duplicate-pods", ...(s.workload.clients.length ? (["availability"] as const) : [])];
  const names = s.checkers ? (Object.keys(s.checkers) as CheckerName[]) : defaultCheckers;
  if (names.includes("availability") && !s.workload.clients.length) throw new ScenarioError(`scenario ${s.name}: the availability checker needs a workload client`);
  for (const k of s.faults.kinds) if (k.duration[0] > k.duration[1]) throw new ScenarioError(`scenario ${s.name}: faults.kinds ${k.kind}: duration range is inverted`);
  return {
    name: s.name,
    description: s.description,
    source,
    cluster: {
      nodes: s.cluster.nodes,
      runtime: s.cluster.runtime,
      privateDockerNodes: s.cluster.privateDockerNodes,
      nodeGracePeriodMs: s.cluster.nodeGracePeriod,
      podEvictionTimeoutMs: s.cluster.podEvictionTimeout,
      heartbeatIntervalMs: s.cluster.heartbeatInterval,
      proxyMode: s.cluster.proxyMode,
    },
    objects,
    clients: s.workload.clients.map((c) => ({ service: c.service, port: c.port, intervalMs: c.interval, timeoutMs: c.timeout, path: c.path })),
    writer: s.workload.writer ? { intervalMs: s.workload.writer.interval, objects: s.workload.writer.objects } : undefined,
    durationMs: s.duration,
    warmupMs: s.warmup,
    gapMs: s.faults.gap,
    maxConcurrent: s.faults.maxConcurrent,
    choices: s.faults.kinds.map((k) => ({ kind: k.kind, weight: k.weight, durationMs: k.duration, params: k.params, variants: k.variants })),
    script: s.faults.script?.map((f, i) => ({ id: `s${i + 1}`, kind: f.kind, at: f.at, durationMs: f.duration, target: f.target, params: f.params })),
    healTimeoutMs: s.heal.timeout,
    settleMs: s.heal.settle,
    checkers: {
      names,
      convergenceBoundMs: s.checkers?.convergence?.bound ?? s.heal.timeout,
      availability: s.checkers?.availability ?? {},
      seedStoryRc: s.checkers?.["seed-story"]?.rc,
    },
  };
}

/** Reads and validates a scenario file (YAML). */
export function loadScenario(path: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ScenarioError(`cannot read scenario ${path}: ${(e as Error).message}`, { cause: e });
  }
  return scenarioFromObject(doc, dirname(resolve(path)), path);
}

/** The scenario files in a directory (default `chaos/` under the working directory). */
export function listScenarios(dir = "chaos"): { name: string; path: string; description?: string; runtime?: string; error?: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      try {
        const s = loadScenario(path);
        return { name: s.name, path, description: s.description, runtime: s.cluster.runtime };
      } catch (e) {
        return { name: basename(f).replace(/\.ya?ml$/, ""), path, error: (e as Error).message };
      }
    });
}

/** Finds a scenario by name or path. */
export function resolveScenario(nameOrPath: string, dir = "chaos"): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  for (const ext of [".yaml", ".yml"]) {
    const p = join(dir, nameOrPath + ext);
    if (existsSync(p)) return p;
  }
  throw new ScenarioError(`no scenario ${nameOrPath} (not a file, and not in ${dir}/): see \`berth chaos list\``);
}
