/**
 * A whole `berth up` cluster on the machine's Docker engine, for end-to-end tests that drive it
 * through the berth CLI and kubectl.
 *
 * `berth up` names its node agents node-1..N; its containers carry a per-home cluster id
 * (`berth.cluster`), so two clusters no longer remove each other's containers — but its pod DNS
 * still listens on the shared berth0 gateway's port 53 and its ClusterIPs come from the default
 * range on `lo`, so two at once collide. Every test file that runs one holds a machine-wide
 * lock (a directory under the temp dir, owned by a pid; a dead owner's lock is taken over) for
 * the cluster's whole life.
 *
 * `stopBerthUpCluster` empties the cluster first (deletes every RC, Service and Pod, waits
 * until the pods and their containers are gone — node agents leave containers running on
 * stop, by design), then `berth down`, then removes whatever still carries its cluster id.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { berth, berthUp, tempHome, type RunningUp } from "./cli.ts";
import { requireDocker } from "./docker.ts";
import { waitFor } from "./nats.ts";
import { LABELS } from "../../model/container_runtime.ts";

const LOCK_DIR = join(tmpdir(), "berth-e2e-berth-up.lock");

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the machine-wide lock for a default-named `berth up` cluster on Docker; resolves with
 * its release function. Waits (polling) while another live process holds it.
 */
export async function lockBerthUpCluster(owner: string, timeoutMs = 600_000): Promise<() => void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, "owner"), `${process.pid} ${owner}\n`);
      return () => {
        try {
          if (readFileSync(join(LOCK_DIR, "owner"), "utf8").startsWith(`${process.pid} `)) rmSync(LOCK_DIR, { recursive: true, force: true });
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    let holder = "";
    try {
      holder = readFileSync(join(LOCK_DIR, "owner"), "utf8");
    } catch {
      // Being created or released right now: look again shortly.
    }
    const pid = Number(holder.split(" ")[0]);
    if (holder && !pidAlive(pid)) {
      rmSync(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`the berth up test cluster lock ${LOCK_DIR} is still held by ${holder.trim() || "?"} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export interface BerthUpCluster {
  home: string;
  up: RunningUp;
  nodes: string[];
  /** The id `berth up` stamps on its containers (`berth.cluster`), from `<home>/cluster-id`. */
  clusterId: string;
  /** Runs kubectl with the cluster's kubeconfig and a private HOME (its discovery cache). */
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number }): { code: number; stdout: string; stderr: string };
  /** Starts a long-running kubectl (`get -w`, `logs -f`); `stopBerthUpCluster` kills what is left. */
  spawnKubectl(args: string[]): ChildProcess;
  /** Starts a long-running berth CLI command (`get -w`, `logs -f`). */
  spawnBerth(args: string[]): ChildProcess;
  children: Set<ChildProcess>;
  release: () => void;
  /** Set by `stopBerthUpCluster` (which runs once). */
  stopped?: boolean;
}

/** Takes the lock, checks Docker, and runs `berth up --home <temp> ...args` until ready. */
export async function startBerthUpCluster(owner: string, args: string[], readyTimeoutMs = 120_000): Promise<BerthUpCluster> {
  await requireDocker();
  const release = await lockBerthUpCluster(owner);
  const home = tempHome(`berth-${owner}-`);
  let up: RunningUp;
  try {
    up = await berthUp("node", home, args, readyTimeoutMs);
  } catch (e) {
    release();
    throw e;
  }
  const info = JSON.parse(readFileSync(join(home, "cluster.json"), "utf8")) as { nodes: string[]; kubeconfig?: string };
  const kubeHome = join(home, "kubectl-home");
  mkdirSync(kubeHome, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: kubeHome, BERTH_HOME: home };
  delete env.KUBECONFIG;
  const kubeconfig = join(home, "kubeconfig");
  const children = new Set<ChildProcess>();
  const track = (c: ChildProcess) => {
    children.add(c);
    c.on("exit", () => children.delete(c));
    return c;
  };
  return {
    home,
    up,
    nodes: info.nodes,
    clusterId: readFileSync(join(home, "cluster-id"), "utf8").trim(),
    children,
    release,
    kubectl(kargs, o = {}) {
      const r = spawnSync("kubectl", ["--kubeconfig", kubeconfig, ...kargs], { env, input: o.stdin ?? "", encoding: "utf8", timeout: o.timeoutMs ?? 60_000 });
      if (r.error) throw new Error(`kubectl could not be run (is it on PATH?): ${r.error.message}`);
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    spawnKubectl(kargs) {
      return track(spawn("kubectl", ["--kubeconfig", kubeconfig, ...kargs], { env, stdio: ["ignore", "pipe", "pipe"] }));
    },
    spawnBerth(bargs) {
      return track(spawn(process.execPath, [join(new URL("../..", import.meta.url).pathname, "bin/berth.js"), ...bargs], { env, stdio: ["ignore", "pipe", "pipe"] }));
    },
  };
}

/** Collects a child's stdout into a string the caller can poll. */
export function collect(child: ChildProcess): { text(): string } {
  let out = "";
  child.stdout!.on("data", (d) => (out += String(d)));
  child.stderr!.on("data", (d) => (out += String(d)));
  return { text: () => out };
}

/** The containers of this cluster's nodes (all states): labelled with one of its nodes and its cluster id. */
export async function containersOf(c: Pick<BerthUpCluster, "nodes" | "clusterId">, docker: Docker = new Docker()): Promise<Docker.ContainerInfo[]> {
  const all = await Promise.all(
    c.nodes.map((n) => docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${n}`, `${LABELS.cluster}=${c.clusterId}`] } })),
  );
  return all.flat();
}

/**
 * Empties the cluster (every CronJob, Deployment, StatefulSet, DaemonSet, Job, ReplicaSet, RC, Service and Pod in every namespace), waits until the pods and
 * their containers are gone, runs `berth down`, removes leftovers labelled with its nodes and
 * the home, and releases the lock. Never throws before the lock is released. Runs once; resolves
 * with what `berth down` printed and the exit code of `berth up`.
 */
export async function stopBerthUpCluster(c: BerthUpCluster | undefined): Promise<{ down: string; exitCode: number | null } | undefined> {
  if (!c || c.stopped) return undefined;
  c.stopped = true;
  const problems: string[] = [];
  let downOut = "";
  let exitCode: number | null = null;
  try {
    for (const child of c.children) child.kill("SIGKILL");
    if (c.up.proc.exitCode === null) {
      for (const type of ["cronjobs", "deployments", "statefulsets", "daemonsets", "jobs", "replicasets", "replicationcontrollers", "services", "pods"]) {
        const listed = berth("node", c.home, ["get", type, "-A", "-o", "json"]);
        if (listed.code !== 0) {
          problems.push(`get ${type}: ${listed.stderr}`);
          continue;
        }
        const items = (JSON.parse(listed.stdout).items ?? []) as { metadata: { name: string; namespace: string } }[];
        for (const o of items) {
          if (type === "services" && o.metadata.name === "kubernetes") continue;
          berth("node", c.home, ["delete", type, o.metadata.name, "-n", o.metadata.namespace, "--ignore-not-found", "--grace-period", "1"]);
        }
      }
      await waitFor(() => berth("node", c.home, ["get", "pods", "-A", "-o", "name"]).stdout.trim() === "", "every pod object to be gone", 60_000, 250).catch((e) =>
        problems.push(String(e)),
      );
      await waitFor(async () => (await containersOf(c)).length === 0, "the node agents to remove every container", 60_000, 250).catch((e) =>
        problems.push(String(e)),
      );
      const down = berth("node", c.home, ["down"]);
      downOut = down.stdout;
      if (down.code !== 0) problems.push(`berth down: ${down.stderr}`);
    }
    exitCode = await c.up.stop();
    // Node names repeat across clusters (node-1...): remove only what carries this cluster's id.
    const docker = new Docker();
    for (const ct of await containersOf(c, docker)) await docker.getContainer(ct.Id).remove({ force: true }).catch(() => {});
    rmSync(c.home, { recursive: true, force: true });
  } finally {
    c.release();
  }
  if (problems.length) throw new Error(`cleanup of the berth up cluster:\n${problems.join("\n")}`);
  return { down: downOut, exitCode };
}
