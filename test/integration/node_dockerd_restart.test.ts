/**
 * The Docker daemon stopped and restarted under running pods (issue 3, "Bad input and faults"),
 * on a private dockerd (runtime/chaos/dockerd.ts, the chaos harness's own) so the shared engine is never touched.
 *
 * What Kubernetes does, and what is asserted here: while the runtime is down the node reports
 * Ready=False with a reason and nothing crashes (no unhandled rejection, the pod actors stay the
 * same live actors). The daemon stops the containers on its way down (no live-restore), so when it
 * is back every pod sandbox is dead: the pod actor sees the sandbox changed, recreates it and
 * restarts the app containers in it — the *same pod* (same uid, not recreated), Running again, each
 * container with `restartCount` ≥ 1 and a `lastState.terminated`, new container IDs, one sandbox.
 * A pod created during the outage starts once the engine answers; a pod deleted during the outage
 * has its containers removed and its object deleted once the engine answers.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { Pod } from "../../model/types.ts";
import { DockerRuntime } from "../../runtime/containers/docker.ts";
import { LABELS } from "../../model/container_runtime.ts";
import { type NodeAgent, startNodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";
import Docker from "dockerode";
import { PrivateDockerd } from "../../runtime/chaos/dockerd.ts";
import { INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { containerStatus, getPod, pod, waitGone, waitRunning } from "../helpers/pod_fixture.ts";

// Distinct from the shared engine's berth0 (10.213.0.0/16), the services e2e (10.214.x.0/24) and
// the chaos harness (10.216.x.0/24): the bridge this daemon creates lives in the host's routing table.
const octet = 2 * Math.floor(Math.random() * 120) + 2;
const NETWORK = { name: `berth-dr-${process.pid}`, subnet: `10.217.${octet}.0/24`, gateway: `10.217.${octet}.1` };
const NODE = `dr-${process.pid}`;
/** Exits at once on SIGTERM, so the daemon's shutdown does not wait 10 s per container. */
const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"];

let dockerd: PrivateDockerd;
let t: TestApi;
let agent: NodeAgent | undefined;
let rt: DockerRuntime;
const rejections: unknown[] = [];
const onRejection = (e: unknown) => rejections.push(e);
const logs: string[] = [];
/** The host's docker0 (the shared engine's default bridge): a private daemon must leave it alone. */
const docker0 = () => (existsSync("/sys/class/net/docker0/ifindex") ? readFileSync("/sys/class/net/docker0/ifindex", "utf8").trim() : undefined);
let docker0Before: string | undefined;

beforeAll(async () => {
  process.on("unhandledRejection", onRejection);
  docker0Before = docker0();
  // Its default bridge (unused by Berth) is a 10.218.x.0/24 of its own; the Berth network 10.217.x.0/24.
  dockerd = await PrivateDockerd.start({ id: `dr${process.pid}` });
  await dockerd.importImageFrom(new Docker(), INFRA_IMAGE);
  t = await startTestApi();
  rt = new DockerRuntime({ socketPath: dockerd.socketPath, network: NETWORK });
}, 120_000);

afterAll(async () => {
  process.off("unhandledRejection", onRejection);
  try {
    await agent?.stop();
  } finally {
    try {
      await dockerd?.stop();
    } finally {
      await t?.stop();
    }
  }
}, 120_000);

const readyCondition = async () => (await t.api.get("nodes", NODE)).status?.conditions?.find((c) => c.type === "Ready");

function mkPod(name: string, containers = ["c"]): Pod {
  return pod(name, NODE, { containers: containers.map((c) => ({ name: c, image: "berth/busybox", command: IDLE })) });
}

describe("node agent when its Docker daemon is stopped and restarted", () => {
  test("goes NotReady with a reason, survives, and converges once the daemon is back", async () => {
    agent = await startNodeAgent({
      client: t.api,
      runtime: rt,
      name: NODE,
      heartbeatIntervalMs: 300,
      resyncMs: 1000,
      backoff: { baseMs: 300, maxMs: 3000 },
      log: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    });
    await waitFor(async () => (await readyCondition())?.status === "True", "node Ready");
    await t.api.create("pods", mkPod("pair", ["a", "b"]));
    await t.api.create("pods", mkPod("doomed"));
    const before = await waitRunning(t.api, "pair", 30_000);
    await waitRunning(t.api, "doomed", 30_000);
    const oldIds = (await rt.listContainers({ [LABELS.podUid]: before.metadata.uid! })).map((c) => c.id);
    expect(oldIds).toHaveLength(3);
    expect(before.status?.podIP?.startsWith(`10.217.${octet}.`)).toBe(true);
    const actorsBefore = new Map(agent.pods);

    // ---- the daemon goes away -----------------------------------------------------------
    await dockerd.down();
    const down = await waitFor(async () => {
      const r = await readyCondition();
      return r?.status === "False" ? r : undefined;
    }, "node NotReady", 15_000);
    expect(down.reason).toBe("ContainerRuntimeUnreachable");
    expect(down.message).toMatch(/docker/);
    // Work arriving during the outage: a new pod waits, a deletion waits.
    await t.api.create("pods", mkPod("newcomer"));
    await t.api.delete("pods", "doomed", "default");
    // Every pod actor has run into the dead engine (and retries) before the daemon comes back.
    await waitFor(() => agent!.pods.size === 3 && [...agent!.pods.values()].every((a) => a.getSnapshot().context.lastError), "every pod actor failed a step against the dead engine", 15_000);
    for (const [uid, actor] of actorsBefore) {
      expect(agent.pods.get(uid)).toBe(actor); // the same actor, never replaced
      expect(actor.getSnapshot().status).toBe("active");
    }
    expect((await getPod(t.api, "newcomer")).status?.phase ?? "Pending").toBe("Pending");

    // ---- the daemon is back, same data root -----------------------------------------------
    await dockerd.up();
    await waitFor(async () => (await readyCondition())?.status === "True", "node Ready again", 20_000);
    const after = await waitFor(async () => {
      const p = await getPod(t.api, "pair");
      const ok = p.status?.phase === "Running" && ["a", "b"].every((c) => {
        const s = containerStatus(p, c);
        return s?.state.running && s.restartCount >= 1 && s.ready;
      });
      return ok ? p : undefined;
    }, "pair Running again with restarted containers", 30_000);
    expect(after.metadata.uid).toBe(before.metadata.uid); // the same pod, not a recreated one
    for (const c of ["a", "b"]) {
      const s = containerStatus(after, c)!;
      expect(s.lastState?.terminated).toBeDefined();
      expect(s.containerID).not.toBe(containerStatus(before, c)?.containerID);
    }
    expect(after.status?.podIP?.startsWith(`10.217.${octet}.`)).toBe(true);
    const now = await rt.listContainers({ [LABELS.podUid]: before.metadata.uid! });
    expect(now.filter((c) => c.labels[LABELS.role] === "infra")).toHaveLength(1);
    expect(now).toHaveLength(3);
    expect(now.every((c) => c.state === "running")).toBe(true);
    expect(now.some((c) => oldIds.includes(c.id))).toBe(false);

    await waitRunning(t.api, "newcomer", 30_000);
    await waitGone(t.api, "doomed", 30_000);
    const doomedLeft = (await rt.listContainers({ [LABELS.node]: NODE, [LABELS.podName]: "doomed" }));
    expect(doomedLeft).toHaveLength(0);

    const events = (await t.api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "pair");
    expect(events.map((e) => e.reason)).toContain("SandboxChanged");
    expect(rejections).toEqual([]);
    expect(docker0()).toBe(docker0Before);
    expect(logs.filter((l) => l.includes("pod actor failed"))).toEqual([]);
  }, 180_000);
});
