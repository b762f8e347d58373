/**
 * Pod startup latency on real Docker: time from `create` of a pod (already bound to the node)
 * to the API showing it Running with every container running, over N pods, with C pods in
 * flight at once. The floor, measured in the same run and interleaved with the pods: a bare
 * `docker run --rm berth/busybox true` with Debian's client (/usr/bin/docker).
 *
 * A pod here is the infra container + one app container, so Berth does two container
 * create/starts (plus a network join, a status write through NATS KV and a watch round trip)
 * where `docker run` does one create/start/wait/remove.
 *
 *   npx tsx bench/pod-startup.ts [--pods 60] [--concurrency 1] [--floor-runs 20]
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import Docker from "dockerode";
import { Api } from "../runtime/api/api.ts";
import type { Pod } from "../model/types.ts";
import { DockerRuntime } from "../runtime/containers/docker.ts";
import { LABELS } from "../model/container_runtime.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { startNodeAgent } from "../runtime/kubelet/agent.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { numArg } from "./args.ts";

const PODS = numArg("pods", 60);
const CONCURRENCY = numArg("concurrency", 1);
const FLOOR_RUNS = numArg("floor-runs", 20);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p95: pct(s, 95), p99: pct(s, 99), max: s[s.length - 1] };
}
const ms = (x: number) => `${x.toFixed(0)} ms`;

function dockerRunOnce(): number {
  const t0 = performance.now();
  execFileSync("/usr/bin/docker", ["run", "--rm", "berth/busybox", "true"], { stdio: "ignore" });
  return performance.now() - t0;
}

async function main() {
  const rt = new DockerRuntime();
  await rt.ping();
  const nats = await startNatsServer();
  const nc = await connectNats({ servers: nats.url, name: "bench-pod-startup" });
  const store = await KvStore.open(nc);
  const api = await Api.open(store);
  const node = `bench-${process.pid}`;
  const agent = await startNodeAgent({ client: api, runtime: rt, name: node, heartbeatIntervalMs: 5000 });
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const watch = await api.watch("pods", { namespace: "default" });
  void (async () => {
    for await (const ev of watch) {
      const p = ev.object as Pod;
      const name = p.metadata.name;
      if (running.has(name) || !created.has(name)) continue;
      if (p.status?.phase === "Running" && (p.status.containerStatuses ?? []).every((c) => c.state.running)) {
        running.set(name, performance.now());
        waiters.get(name)?.();
      }
    }
  })();

  const floor: number[] = [];
  dockerRunOnce(); // warm the client and the engine's image cache once, for both sides
  const floorEvery = Math.max(1, Math.floor(PODS / FLOOR_RUNS));
  let next = 0;
  const startOne = async (i: number) => {
    const name = `bench-${i}`;
    const done = new Promise<void>((r) => waiters.set(name, r));
    created.set(name, performance.now());
    await api.create("pods", {
      apiVersion: "v1", kind: "Pod",
      metadata: { name, namespace: "default" },
      spec: { nodeName: node, terminationGracePeriodSeconds: 0, containers: [{ name: "c", image: "berth/busybox", command: ["sleep", "3600"] }] },
    });
    await done;
  };
  const worker = async () => {
    while (next < PODS) {
      const i = next++;
      if (CONCURRENCY === 1 && i % floorEvery === 0 && floor.length < FLOOR_RUNS) floor.push(dockerRunOnce());
      await startOne(i);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const wall = performance.now() - t0;
  while (floor.length < FLOOR_RUNS) floor.push(dockerRunOnce());

  const lat = [...running.entries()].map(([n, t]) => t - created.get(n)!);
  const pods = summary(lat);
  const bare = summary(floor);
  console.log(`command: npx tsx bench/pod-startup.ts --pods ${PODS} --concurrency ${CONCURRENCY} --floor-runs ${FLOOR_RUNS}`);
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, Node ${process.version}, ${await rt.version()}`);
  console.log(`pod create→Running (n=${pods.n}, ${CONCURRENCY} in flight): p50 ${ms(pods.p50)}  p95 ${ms(pods.p95)}  p99 ${ms(pods.p99)}  max ${ms(pods.max)}  (${(PODS / (wall / 1000)).toFixed(1)} pods/s)`);
  console.log(`floor: docker run --rm berth/busybox true (n=${bare.n}): p50 ${ms(bare.p50)}  p95 ${ms(bare.p95)}  p99 ${ms(bare.p99)}  max ${ms(bare.max)}`);
  console.log(`pod p99 / docker-run p50 = ${(pods.p99 / bare.p50).toFixed(2)}×; pod p99 / docker-run p99 = ${(pods.p99 / bare.p99).toFixed(2)}× (target ≤ 3×)`);

  watch.stop();
  await agent.shutdown({ removePods: true });
  const docker = new Docker();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  api.close();
  await nc.close();
  await nats.stop();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
