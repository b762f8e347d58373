/**
 * What Berth's own actor machinery costs, apart from any I/O: CPU per pod actor taken from start
 * to running (its effects answer at once, as a runtime with nothing to do would), and CPU per
 * pass of a control loop woken after every pass (a pass that does nothing).
 *
 *   npx tsx bench/actors.ts [--pods 20000] [--passes 20000] [--rounds 3]
 *
 * Each round prints its figures; the first rounds include the JIT's warm-up, so compare the
 * last ones (docs/benchmarks.md, "The actors' own cost").
 */
import { createActor, fromPromise } from "xstate";
import { podMachine } from "../actors/pod.ts";
import type { ContainerRecord } from "../actors/pod_backoff.ts";
import { startWorkLoop } from "../actors/work_loop.ts";
import type { Pod } from "../model/types.ts";
import { numArg } from "./args.ts";

const PODS = numArg("pods", 20_000);
const PASSES = numArg("passes", 20_000);
const ROUNDS = numArg("rounds", 3);

const machine = podMachine.provide({
  actors: {
    ensureSandbox: fromPromise(async ({ input }: { input: { pod: Pod; records: ContainerRecord[] } }) => ({
      sandbox: { id: `s-${input.pod.metadata.name}`, ip: "10.0.0.1", hostPorts: {} },
      records: input.records,
      events: [{ type: "Normal" as const, reason: "Pulled", message: "present" }],
    })),
    syncContainers: fromPromise(async ({ input }: { input: { records: ContainerRecord[] } }) => ({
      records: input.records.map((r) => ({ ...r, id: `c-${r.name}`, state: { kind: "running" as const, startedAt: new Date().toISOString() }, ready: true })),
      events: [{ type: "Normal" as const, reason: "Started", message: "started" }],
    })),
  } as never,
  actions: { reportStatus: () => {}, recordEvents: () => {} },
});

function pod(i: number): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: `p${i}`, namespace: "default", uid: `u${i}` },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "berth/busybox" }] },
    status: { phase: "Pending" },
  };
}

async function podActors(n: number): Promise<number> {
  const c0 = process.cpuUsage();
  const actors: ReturnType<typeof createActor<typeof machine>>[] = [];
  let running = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) {
      const a = createActor(machine, { input: { pod: pod(i), node: "n1", hostIP: "10.0.0.1" } });
      let counted = false;
      a.subscribe((s) => {
        if (!counted && s.matches({ active: "running" })) {
          counted = true;
          if (++running === n) resolve();
        }
      });
      a.start();
      actors.push(a);
    }
  });
  const c = process.cpuUsage(c0);
  for (const a of actors) a.stop();
  return (c.user + c.system) / n;
}

async function loopPasses(n: number): Promise<number> {
  let passes = 0;
  let done = () => {};
  const finished = new Promise<void>((r) => (done = r));
  const loop = startWorkLoop("bench", async () => {
    if (++passes >= n) done();
  });
  const c0 = process.cpuUsage();
  // Woken after each pass has ended: every wake-up is a pass of its own (the machine's worst case).
  const tick = () => {
    if (passes < n) {
      loop.wake();
      setImmediate(tick);
    }
  };
  tick();
  await finished;
  const c = process.cpuUsage(c0);
  loop.stop();
  return (c.user + c.system) / passes;
}

console.log(`command: npx tsx bench/actors.ts --pods ${PODS} --passes ${PASSES} --rounds ${ROUNDS}`);
for (let r = 1; r <= ROUNDS; r++) {
  const perPod = await podActors(PODS);
  const perPass = await loopPasses(PASSES);
  console.log(`round ${r}: ${perPod.toFixed(0)} µs of CPU per pod actor to running; ${perPass.toFixed(1)} µs per control loop pass`);
}
process.exit(0);
