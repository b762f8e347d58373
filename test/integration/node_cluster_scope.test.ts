/**
 * Two clusters on one Docker engine with the same node name: each node agent adopts, collects and
 * watches only containers with its own cluster id (`berth.cluster`) and node name, so neither
 * garbage-collects the other's pods; an agent without a cluster id touches only objects without
 * the label. Each cluster has its own API (its own nats-server), as two `berth up` homes would.
 */
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { LABELS } from "../../model/container_runtime.ts";
import { type NodeAgent, startNodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";
import { cleanupNode, requireDocker, uniqueNodeName } from "../helpers/docker.ts";
import { getPod, pod, waitGone, waitRunning } from "../helpers/pod_fixture.ts";

const docker = new Docker();
const NODE = uniqueNodeName("cl");
const A = `ca-${process.pid}`;
const B = `cb-${process.pid}`;
let apiA: TestApi;
let apiB: TestApi;
let apiC: TestApi;
const agents: NodeAgent[] = [];

beforeAll(async () => {
  [apiA, apiB, apiC] = await Promise.all([startTestApi(), startTestApi(), startTestApi()]);
});
afterAll(async () => {
  try {
    for (const a of agents) await a.stop();
    await cleanupNode(NODE);
  } finally {
    await Promise.all([apiA, apiB, apiC].map((t) => t?.stop()));
  }
});

async function agent(t: TestApi, clusterId?: string): Promise<NodeAgent> {
  const a = await startNodeAgent({ client: t.api, runtime: await requireDocker(), name: NODE, clusterId, heartbeatIntervalMs: 1000, gcIntervalMs: 300, backoff: { baseMs: 300, maxMs: 3000 } });
  agents.push(a);
  return a;
}

async function containersOf(labels: Record<string, string>) {
  return (await docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) } }))
    .map((c) => ({ id: c.Id, state: c.State, labels: c.Labels })).sort((x, y) => x.id.localeCompare(y.id));
}

const IDLE = ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1 & wait; done"];

describe("cluster identity on a shared engine", () => {
  test("agents of two clusters with the same node name leave each other's containers alone", async () => {
    const a = await agent(apiA, A);
    let b = await agent(apiB, B);
    // The same pod name in both clusters, bound to the same node name.
    await apiA.api.create("pods", pod("web", NODE, { containers: [{ name: "c", image: "berth/busybox", command: IDLE }] }));
    await apiB.api.create("pods", pod("web", NODE, { containers: [{ name: "c", image: "berth/busybox", command: IDLE }] }));
    const podA = await waitRunning(apiA.api, "web");
    const podB = await waitRunning(apiB.api, "web");
    const ofA = await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: A });
    const ofB = await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: B });
    expect(ofA.map((c) => c.labels[LABELS.podUid])).toEqual([podA.metadata.uid, podA.metadata.uid]);
    expect(ofB.map((c) => c.labels[LABELS.podUid])).toEqual([podB.metadata.uid, podB.metadata.uid]);

    // A container of this node name without any cluster label: another (id-less) cluster's.
    const foreign = await docker.createContainer({ Image: INFRA_IMAGE, Cmd: IDLE, HostConfig: { NetworkMode: "none" }, Labels: { [LABELS.node]: NODE, [LABELS.podUid]: "no-such-pod", [LABELS.role]: "app", [LABELS.container]: "x" } });
    await foreign.start();

    // B restarts: its start-up garbage collection and re-adoption run before startNodeAgent returns.
    await b.stop();
    b = await agent(apiB, B);
    await waitFor(() => [...b.pods.values()][0]?.getSnapshot().matches({ active: "running" }), "B's pod actor running again");
    // A has collected garbage several times meanwhile (every 300 ms) — wait for two more periods' worth of heartbeats.
    const beat = (await apiA.api.get("nodes", NODE)).status?.conditions?.[0].lastHeartbeatTime;
    await waitFor(async () => (await apiA.api.get("nodes", NODE)).status?.conditions?.[0].lastHeartbeatTime !== beat, "a later heartbeat of A", 5000);
    expect(await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: A })).toEqual(ofA);
    expect((await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: B })).map((c) => c.id)).toEqual(ofB.map((c) => c.id));
    expect((await docker.getContainer(foreign.id).inspect()).State.Running).toBe(true);

    // Deleting A's pod removes A's containers only.
    await apiA.api.delete("pods", "web", "default");
    await waitGone(apiA.api, "web");
    expect(await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: A })).toEqual([]);
    expect((await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: B })).map((c) => c.id)).toEqual(ofB.map((c) => c.id));
    expect((await getPod(apiB.api, "web")).status?.phase).toBe("Running");

    // An agent with no cluster id collects the id-less orphan, and nothing labelled with a cluster.
    await agent(apiC);
    await waitFor(async () => !(await docker.listContainers({ all: true, filters: { id: [foreign.id] } })).length, "the id-less orphan removed by the id-less agent");
    expect((await containersOf({ [LABELS.node]: NODE, [LABELS.cluster]: B })).map((c) => c.id)).toEqual(ofB.map((c) => c.id));
    expect(a.pods.size).toBe(0);
  });
});
