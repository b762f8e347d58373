/**
 * The Berth clusters running on this machine, so that several can run side by side: each
 * `berth up` takes a *slot*, and the slot gives it its own Docker bridge, pod subnet, DNS address
 * (the bridge's gateway) and ClusterIP range —
 *
 *   slot 0   berth0   pods 10.213.0.0/16   DNS 10.213.0.1:53   ClusterIPs 10.96.0.0/16  (the default)
 *   slot k   berthk   pods 10.(220+k).0.0/16                   ClusterIPs 10.(96+k).0.0/16   (k = 1…15)
 *
 * (10.214–10.218 are taken by the tests' and the chaos harness's own networks.)
 *
 * A registry directory (`$BERTH_CLUSTERS_DIR`, default `<tmpdir>/berth-clusters`) holds one file
 * per running cluster: its home, pid, slot and addresses. A cluster keeps the slot its home had
 * before when that is free; entries of processes that are gone are pruned. `berth list` reads it.
 * `--pod-cidr` / `--service-cidr` choose the ranges by hand instead.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const MAX_SLOT = 15;

export interface NetworkPlan {
  slot: number;
  /** The Docker bridge: name, pod subnet, gateway (where pods' DNS listens). */
  network: { name: string; subnet: string; gateway: string };
  /** The ClusterIP range. */
  serviceCidr: string;
}

export interface LocalCluster {
  home: string;
  pid: number;
  slot: number;
  network: string;
  podCidr: string;
  serviceCidr: string;
  runtime: string;
  natsUrl?: string;
  apiUrl?: string;
  startedAt: string;
}

export function registryDir(): string {
  return process.env.BERTH_CLUSTERS_DIR ?? join(tmpdir(), "berth-clusters");
}

/** The network plan of a slot. */
export function planForSlot(slot: number): NetworkPlan {
  if (!Number.isInteger(slot) || slot < 0 || slot > MAX_SLOT) throw new Error(`slot must be 0…${MAX_SLOT}, got ${slot}`);
  const b = slot === 0 ? 213 : 220 + slot;
  return {
    slot,
    network: { name: `berth${slot}`, subnet: `10.${b}.0.0/16`, gateway: `10.${b}.0.1` },
    serviceCidr: `10.${96 + slot}.0.0/16`,
  };
}

/** A plan from `--pod-cidr` / `--service-cidr` (an IPv4 CIDR each; the bridge's gateway is the first address). */
export function planFromCidrs(base: NetworkPlan, podCidr?: string, serviceCidr?: string): NetworkPlan {
  const check = (flag: string, c: string) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(c);
    if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 28 || Number(m[5]) < 8) {
      throw new Error(`${flag} must be an IPv4 CIDR with a prefix of 8 to 28 bits, e.g. 10.230.0.0/16; got ${JSON.stringify(c)}`);
    }
    return m;
  };
  let network = base.network;
  if (podCidr) {
    const m = check("--pod-cidr", podCidr);
    network = { name: `berth-${m.slice(1, 5).join("-")}-${m[5]}`, subnet: podCidr, gateway: `${m[1]}.${m[2]}.${m[3]}.${Number(m[4]) + 1}` };
  }
  if (serviceCidr) check("--service-cidr", serviceCidr);
  return { ...base, network, serviceCidr: serviceCidr ?? base.serviceCidr };
}

function entryPath(home: string): string {
  return join(registryDir(), `${createHash("sha256").update(resolve(home)).digest("hex").slice(0, 16)}.json`);
}

/**
 * True while `pid` runs (`berth up`, `berth down` and the cluster registry ask). A zombie (exited,
 * not yet reaped by its parent) counts as gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it runs, as another user.
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true; // no /proc (not Linux): trust the signal check
  }
}

/** The clusters whose process is alive (entries of dead ones are removed). */
export function listLocalClusters(): LocalCluster[] {
  const dir = registryDir();
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const out: LocalCluster[] = [];
  for (const f of files) {
    try {
      const c = JSON.parse(readFileSync(join(dir, f), "utf8")) as LocalCluster;
      if (processAlive(c.pid)) out.push(c);
      else rmSync(join(dir, f), { force: true });
    } catch {
      // a half-written or foreign file: not a cluster
    }
  }
  return out.sort((a, b) => a.slot - b.slot);
}

/** Runs `fn` holding the registry's lock (a directory: mkdir is atomic); a lock older than 10 s is stale. */
function withLock<T>(fn: () => T): T {
  const dir = registryDir();
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, ".lock");
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error(`the cluster registry ${dir} stays locked (remove ${lock} if no berth up is starting)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Takes a slot for `home`: the one it had before (`<home>/network.json`) when free, else the lowest
 * free one. Throws when all are taken or the home's own cluster is already registered as running.
 */
export function claimSlot(home: string): NetworkPlan {
  return withLock(() => {
    const running = listLocalClusters();
    const mine = running.find((c) => resolve(c.home) === resolve(home));
    if (mine && mine.pid !== process.pid) throw new Error(`a cluster for ${home} is already running (pid ${mine.pid})`);
    const taken = new Set(running.filter((c) => c !== mine).map((c) => c.slot));
    let previous: number | undefined;
    try {
      previous = (JSON.parse(readFileSync(join(home, "network.json"), "utf8")) as { slot?: number }).slot;
    } catch {
      previous = undefined;
    }
    let slot = previous !== undefined && previous <= MAX_SLOT && !taken.has(previous) ? previous : -1;
    if (slot < 0) for (let s = 0; s <= MAX_SLOT && slot < 0; s++) if (!taken.has(s)) slot = s;
    if (slot < 0) throw new Error(`all ${MAX_SLOT + 1} network slots are taken by running clusters (berth list); stop one or pass --pod-cidr and --service-cidr`);
    // Reserve it now, before the cluster has addresses, so a concurrent berth up cannot take it too.
    const plan = planForSlot(slot);
    writeFileSync(entryPath(home), JSON.stringify(entryOf(home, plan, "starting")));
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, "network.json"), JSON.stringify({ slot }) + "\n");
    return plan;
  });
}

function entryOf(home: string, plan: NetworkPlan, runtime: string, extra: Partial<LocalCluster> = {}): LocalCluster {
  return {
    home: resolve(home),
    pid: process.pid,
    slot: plan.slot,
    network: plan.network.name,
    podCidr: plan.network.subnet,
    serviceCidr: plan.serviceCidr,
    runtime,
    startedAt: new Date().toISOString(),
    ...extra,
  };
}

/** Records the running cluster's details (after start-up). */
export function registerCluster(home: string, plan: NetworkPlan, runtime: string, extra: Partial<LocalCluster>): void {
  mkdirSync(registryDir(), { recursive: true });
  writeFileSync(entryPath(home), JSON.stringify(entryOf(home, plan, runtime, extra)));
}

/** Removes this home's entry (on exit). */
export function unregisterCluster(home: string): void {
  rmSync(entryPath(home), { force: true });
}
