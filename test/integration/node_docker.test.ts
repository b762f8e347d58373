/**
 * The node agent on real Docker: registration and heartbeat, re-adoption after an agent
 * restart, removal of orphaned labelled containers, and never touching what is not its own.
 */
import Docker from "dockerode";
import { describe, expect, test } from "vitest";
import { INFRA_IMAGE } from "../../runtime/containers/docker.ts";
import { uniqueNodeName } from "../helpers/docker.ts";
import { containerStatus, getPod, pod, usePodEnv, waitFor, waitRunning } from "../helpers/pod_fixture.ts";

const docker = new Docker();
const env = usePodEnv();

async function startedAt(id: string): Promise<string> {
  return (await docker.getContainer(id).inspect()).State.StartedAt;
}

describe("node agent on Docker", () => {
  test("registers its Node with capacity, addresses and hostname label, and reports Ready", async () => {
    const n = await waitFor(async () => {
      const n = await env.api.get("nodes", env.node);
      return n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? n : undefined;
    }, "node Ready");
    expect(n.metadata.labels?.["kubernetes.io/hostname"]).toBe(env.node);
    expect(Number(n.status?.capacity?.cpu)).toBeGreaterThan(0);
    expect(n.status?.capacity?.memory).toMatch(/^\d+Ki$/);
    expect(n.status?.addresses).toContainEqual({ type: "InternalIP", address: "127.0.0.1" });
    expect(n.status?.nodeInfo?.containerRuntimeVersion).toMatch(/^docker:\/\//);
    const beat1 = n.status?.conditions?.[0].lastHeartbeatTime;
    await waitFor(async () => (await env.api.get("nodes", env.node)).status?.conditions?.[0].lastHeartbeatTime !== beat1, "a later heartbeat");
  });

  test("an agent killed and restarted re-adopts its containers: same IDs, not restarted", async () => {
    await env.api.create("pods", pod("stay", env.node, {
      containers: [
        { name: "a", image: "berth/busybox", command: ["sleep", "3600"] },
        { name: "b", image: "berth/busybox", command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"], ports: [{ containerPort: 8080 }] },
      ],
    }));
    const before = await waitRunning(env.api, "stay");
    const ids = (await env.rt.listContainers({ "berth.pod.uid": before.metadata.uid! })).map((c) => c.id).sort();
    expect(ids).toHaveLength(3);
    const started = await Promise.all(ids.map(startedAt));
    await env.agent.stop();
    const again = await env.startAgent();
    // The new agent's pod actor has synced (it reached a resting state) before we compare.
    await waitFor(() => {
      const a = [...again.pods.values()][0];
      return a && (a.getSnapshot().matches({ active: "running" }));
    }, "new pod actor running");
    const idsAfter = (await env.rt.listContainers({ "berth.pod.uid": before.metadata.uid! })).map((c) => c.id).sort();
    expect(idsAfter).toEqual(ids);
    expect(await Promise.all(idsAfter.map(startedAt))).toEqual(started);
    const p = await getPod(env.api, "stay");
    expect(containerStatus(p, "a")?.restartCount).toBe(0);
    expect(containerStatus(p, "b")?.containerID).toBe(containerStatus(before, "b")?.containerID);
  });

  test("removes orphaned labelled containers and leaves unlabelled and other nodes' containers alone", async () => {
    await env.agent.stop();
    const other = uniqueNodeName("other");
    const mk = (labels: Record<string, string>) =>
      docker.createContainer({ Image: INFRA_IMAGE, Cmd: ["sleep", "3600"], Labels: labels, HostConfig: { NetworkMode: "none" } }).then(async (c) => {
        await c.start();
        return c.id;
      });
    const orphan = await mk({ "berth.node": env.node, "berth.pod.uid": "no-such-pod", "berth.role": "app", "berth.container": "x" });
    const foreign = await mk({ "berth.node": other, "berth.pod.uid": "no-such-pod", "berth.role": "app", "berth.container": "x" });
    const unlabelled = await mk({ "test.berth.unlabelled": "1" });
    try {
      await env.startAgent();
      await waitFor(async () => !(await docker.listContainers({ all: true, filters: { id: [orphan] } })).length, "orphan removed");
      expect((await docker.getContainer(foreign).inspect()).State.Running).toBe(true);
      expect((await docker.getContainer(unlabelled).inspect()).State.Running).toBe(true);
    } finally {
      await docker.getContainer(foreign).remove({ force: true }).catch(() => {});
      await docker.getContainer(unlabelled).remove({ force: true }).catch(() => {});
    }
  });

  test("the infra container dying recreates the whole sandbox and restarts the app containers", async () => {
    await env.api.create("pods", pod("phoenix", env.node, { containers: [{ name: "c", image: "berth/busybox", command: ["sleep", "3600"] }] }));
    const before = await waitRunning(env.api, "phoenix");
    const infra = (await env.rt.listContainers({ "berth.pod.uid": before.metadata.uid!, "berth.role": "infra" }))[0];
    await docker.getContainer(infra.id).kill();
    const after = await waitFor(async () => {
      const p = await getPod(env.api, "phoenix");
      const s = containerStatus(p, "c");
      return s?.state.running && s.restartCount >= 1 ? p : undefined;
    }, "app restarted in a new sandbox", 20_000);
    const infras = await env.rt.listContainers({ "berth.pod.uid": before.metadata.uid!, "berth.role": "infra" });
    expect(infras).toHaveLength(1);
    expect(infras[0].id).not.toBe(infra.id);
    expect(after.status?.podIP).toMatch(/^10\.213\./);
  });
});
