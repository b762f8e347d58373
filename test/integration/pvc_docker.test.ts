/**
 * PersistentVolumeClaims on a real Docker engine, through the control plane (scheduler, local
 * provisioner, pvc-protection) and a real node agent: the claim's Docker volume keeps a pod's
 * data for the next pod, goes with the claim, a claim made again under the same name starts
 * empty, and a finished pod keeps its claim (and so its volume) until it is deleted.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import Docker from "dockerode";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { cleanupNode, requireDocker, uniqueNodeName } from "../helpers/docker.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import type { DockerRuntime } from "../../runtime/containers/docker.ts";
import { claimVolumeName } from "../../model/container_runtime.ts";
import { ApiError } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";

const NS = "default";
let t: TestApi;
let rt: DockerRuntime;
let node: string;
let agent: NodeAgent;
let cp: ControlPlane;
const agentLogs: { msg: string; fields: Record<string, unknown> }[] = [];

const claimObject = (name: string) => ({
  apiVersion: "v1",
  kind: "PersistentVolumeClaim",
  metadata: { name },
  spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "100Mi" } } },
});
const podObject = (name: string, claim: string, cmd: string, restartPolicy?: "Never") => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    ...(restartPolicy ? { restartPolicy } : {}),
    volumes: [{ name: "data", persistentVolumeClaim: { claimName: claim } }],
    containers: [{ name: "c", image: "berth/busybox", command: ["sh", "-c", cmd], volumeMounts: [{ name: "data", mountPath: "/data" }] }],
  },
});

async function running(name: string): Promise<Pod> {
  return waitFor(async () => {
    const p = await t.api.get("pods", name, NS);
    return p.status?.phase === "Running" && p.status.containerStatuses?.[0]?.state.running ? p : undefined;
  }, `${name} Running`, 30_000);
}
async function gone(resource: "pods" | "persistentvolumeclaims", name: string): Promise<void> {
  await waitFor(async () => {
    try {
      await t.api.get(resource, name, NS);
      return false;
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") return true;
      throw e;
    }
  }, `${resource}/${name} gone`, 30_000);
}
const sh = async (p: Pod, cmd: string) => podExec(rt, p, "c", ["sh", "-c", cmd]);
async function dockerVolumeExists(name: string): Promise<boolean> {
  try {
    await new Docker().getVolume(name).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

beforeAll(async () => {
  rt = await requireDocker();
  t = await startTestApi();
  node = uniqueNodeName("pvc");
  agent = await startNodeAgent({ client: new NatsApiClient(t.nc, { node }), runtime: rt, name: node, heartbeatIntervalMs: 500, backoff: { baseMs: 300, maxMs: 2_000 }, log: (msg, fields) => agentLogs.push({ msg, fields: fields ?? {} }) });
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false });
}, 60_000);

afterAll(async () => {
  await cp?.stop();
  await agent?.stop();
  if (node) await cleanupNode(node);
  await t?.stop();
});

describe("PersistentVolumeClaims on Docker", () => {
  test("a pod's data outlives it for the next pod of the claim; the claim's deletion removes the volume, and a new claim of the name starts empty", async () => {
    const claim = await t.api.create("persistentvolumeclaims", claimObject("data"), NS);
    const volume = claimVolumeName(claim.metadata.uid!);
    await t.api.create("pods", podObject("writer", "data", "echo kept > /data/f; sleep 3600"), NS);
    const writer = await running("writer");
    expect(writer.spec.nodeName).toBe(node);
    await waitFor(async () => (await sh(writer, "cat /data/f")).stdout.trim() === "kept", "the writer's file");
    expect(await dockerVolumeExists(volume)).toBe(true);
    await waitFor(async () => (await t.api.get("persistentvolumeclaims", "data", NS)).status?.phase === "Bound", "the claim Bound");

    await t.api.delete("pods", "writer", NS);
    await gone("pods", "writer");
    expect(await dockerVolumeExists(volume)).toBe(true);
    await t.api.create("pods", podObject("reader", "data", "sleep 3600"), NS);
    const reader = await running("reader");
    expect((await sh(reader, "cat /data/f")).stdout.trim()).toBe("kept");

    await t.api.delete("persistentvolumeclaims", "data", NS);
    await t.api.delete("pods", "reader", NS);
    await gone("persistentvolumeclaims", "data");
    expect(await dockerVolumeExists(volume)).toBe(false);

    const again = await t.api.create("persistentvolumeclaims", claimObject("data"), NS);
    expect(claimVolumeName(again.metadata.uid!)).not.toBe(volume);
    await t.api.create("pods", podObject("fresh", "data", "sleep 3600"), NS);
    const fresh = await running("fresh");
    const ls = await sh(fresh, "ls -A /data; test ! -e /data/f");
    expect(ls.stdout.trim()).toBe("");
    expect(ls.exitCode).toBe(0);
  });

  test("a finished pod that still exists keeps its claim; deleting the pod lets the claim and its volume go, with no retry against its exited container", async () => {
    const claim = await t.api.create("persistentvolumeclaims", claimObject("held"), NS);
    const volume = claimVolumeName(claim.metadata.uid!);
    await t.api.create("pods", podObject("once", "held", "echo done > /data/f", "Never"), NS);
    await waitFor(async () => (await t.api.get("pods", "once", NS)).status?.phase === "Succeeded", "the pod Succeeded", 30_000);
    // As Kubernetes' pvc-protection: the finished pod still exists (and its exited container
    // still refers to the Docker volume), so the claim stays Terminating.
    await t.api.delete("persistentvolumeclaims", "held", NS);
    await waitFor(() => cp.informers.persistentvolumeclaims.get(`${NS}/held`)?.metadata.deletionTimestamp, "the control plane to see the deletion");
    const p0 = cp.pvcProtection.loop.actor.getSnapshot().context.passes;
    cp.pvcProtection.loop.wake();
    await waitFor(() => cp.pvcProtection.loop.actor.getSnapshot().context.passes > p0 && cp.pvcProtection.loop.actor.getSnapshot().value === "idle", "a pvc-protection pass");
    const waiting = await t.api.get("persistentvolumeclaims", "held", NS);
    expect(waiting.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection", "berth.dev/local-volume"]);
    expect(await dockerVolumeExists(volume)).toBe(true);
    // The kubelet removes the pod's containers before its last delete: the volume is free by then.
    await t.api.delete("pods", "once", NS);
    await gone("persistentvolumeclaims", "held");
    expect(await dockerVolumeExists(volume)).toBe(false);
    expect(agentLogs.filter((l) => l.msg.includes("not removed yet") && l.fields.volume === volume)).toEqual([]);
  });
});
