/**
 * The PersistentVolumeClaim lifecycle through the whole control plane, on hollow nodes that
 * reach the API only on their own node-scoped subjects (so every claim read and write a node
 * makes passes the node authorizer): WaitForFirstConsumer, the scheduler placing a claim with
 * its first pod and every later pod following it, the provisioner binding it, the API keeping a
 * claim on its node, pvc-protection keeping a claim in use (a finished pod's too, an unscheduled
 * pod's not), the node reclaiming its volume — also after its agent was away — and a claim
 * whose node is down waiting for it visibly, then going once the Node is deleted. Each test
 * makes its own objects; nodes a test stops are its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectInvalid, startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { WorkLoop } from "../../actors/work_loop.ts";
import { LOCAL_VOLUME_FINALIZER, type PersistentVolumeClaim, type Pod, PVC_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION } from "../../model/types.ts";
import { HOLLOW_ANNOTATIONS } from "../../runtime/containers/hollow.ts";

const NODES = ["pvc-node-a", "pvc-node-b", "pvc-node-c"];
const NS = "default";
let t: TestApi;
let cp: ControlPlane;
const agents = new Map<string, NodeAgent>();
const nodeLogs: string[] = [];
/** Claim writes the control plane makes, intercepted by a test when set. */
let onClaimUpdate: ((obj: PersistentVolumeClaim) => Promise<void>) | undefined;

function claimObject(name: string, o: { node?: string; modes?: string[] } = {}): unknown {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name, ...(o.node ? { annotations: { [SELECTED_NODE_ANNOTATION]: o.node } } : {}) },
    spec: { accessModes: o.modes ?? ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
  };
}

function podObject(name: string, claims: string[], o: { labels?: Record<string, string>; nodeName?: string; runForSeconds?: number } = {}): unknown {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: o.labels ?? { app: name }, ...(o.runForSeconds !== undefined ? { annotations: { [HOLLOW_ANNOTATIONS.runFor]: String(o.runForSeconds) } } : {}) },
    spec: {
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.runForSeconds !== undefined ? { restartPolicy: "Never" } : {}),
      terminationGracePeriodSeconds: 0,
      volumes: claims.map((c, i) => ({ name: `vol-${i}`, persistentVolumeClaim: { claimName: c } })),
      containers: [{ name: "c", image: "berth/busybox", command: ["sleep", "3600"], volumeMounts: claims.map((_, i) => ({ name: `vol-${i}`, mountPath: `/data${i}` })) }],
    },
  };
}

const getClaim = (name: string) => t.api.get("persistentvolumeclaims", name, NS);
const getPod = (name: string) => t.api.get("pods", name, NS);
const running = async (name: string): Promise<Pod | undefined> => {
  const p = await getPod(name);
  return p.status?.phase === "Running" ? p : undefined;
};
async function gone(resource: "pods" | "persistentvolumeclaims", name: string): Promise<boolean> {
  try {
    await t.api.get(resource, name, NS);
    return false;
  } catch (e) {
    if (e instanceof ApiError && e.reason === "NotFound") return true;
    throw e;
  }
}
async function eventsAbout(kind: string, name: string) {
  return (await t.api.list("events", { namespace: NS, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name}` })).items;
}
/** Resolves once `loop` has run a whole pass started after this call, and rests. */
async function settled(loop: WorkLoop): Promise<void> {
  const p0 = loop.actor.getSnapshot().context.passes;
  loop.wake();
  await waitFor(() => {
    const s = loop.actor.getSnapshot();
    return s.context.passes > p0 && s.value === "idle";
  }, `${loop.name} to settle`);
}
/** The hollow volumes of a claim uid on every node. */
async function volumesOf(uid: string): Promise<string[]> {
  const out: string[] = [];
  for (const a of agents.values()) for (const v of await a.runtime.listVolumes({ "berth.claim.uid": uid })) out.push(`${a.name}:${v.name}`);
  return out;
}

/** `client` with `update` of claims passed through `onClaimUpdate` first. */
function intercepting(client: ApiClient): ApiClient {
  return {
    create: (...a) => client.create(...a),
    get: (...a) => client.get(...a),
    list: (...a) => client.list(...a),
    update: async (resource, obj) => {
      if (resource === "persistentvolumeclaims" && onClaimUpdate) await onClaimUpdate(obj as PersistentVolumeClaim);
      return client.update(resource, obj);
    },
    updateStatus: (...a) => client.updateStatus(...a),
    patch: (...a) => client.patch(...a),
    delete: (...a) => client.delete(...a),
    watch: (...a) => client.watch(...a),
    getScale: (...a) => client.getScale(...a),
    updateScale: (...a) => client.updateScale(...a),
    bind: (...a) => client.bind(...a),
    createToken: (...a) => client.createToken(...a),
  };
}

/** Starts the agent of node `name` on `runtime` (a runtime given again: the same machine, back). */
async function startAgent(name: string, runtime = new HollowRuntime()): Promise<NodeAgent> {
  const agent = await startNodeAgent({
    // The node's own subjects: the node authorizer decides every request.
    client: new NatsApiClient(t.nc, { node: name }),
    runtime,
    name,
    heartbeatIntervalMs: 500,
    backoff: { baseMs: 300, maxMs: 2_000 },
    log: (m, f) => nodeLogs.push(`${m} ${JSON.stringify(f ?? {})}`),
  });
  agents.set(name, agent);
  return agent;
}

/** A node of the test's own, beside the three: stopped, its Node deleted and forgotten by the scheduler at the end. */
async function ownNode(name: string, fn: (runtime: HollowRuntime) => Promise<void>): Promise<void> {
  const runtime = new HollowRuntime();
  await startAgent(name, runtime);
  try {
    await fn(runtime);
  } finally {
    await agents.get(name)?.stop();
    agents.delete(name);
    await t.api.delete("nodes", name).catch(() => {});
    await waitFor(() => cp.informers.nodes.list().length === NODES.length, "the scheduler back to the three nodes");
  }
}

/** Marks a node whose agent is stopped NotReady, as the node lifecycle controller does once its heartbeats stop. */
async function markNotReady(name: string): Promise<void> {
  const n = await t.api.get("nodes", name);
  const conditions = (n.status?.conditions ?? []).map((c) => (c.type === "Ready" ? { ...c, status: "Unknown" as const, reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." } : c));
  await t.api.updateStatus("nodes", { ...n, status: { ...n.status, conditions } });
}

beforeAll(async () => {
  t = await startTestApi();
  for (const name of NODES) await startAgent(name);
  cp = await startControlPlane({ client: intercepting(t.remote), scheduledEvents: false, services: false });
  await waitFor(async () => (await t.api.list("nodes")).items.length === NODES.length, "three nodes registered");
}, 30_000);

afterEach(() => {
  // Every claim read and write a node made passed the node authorizer.
  const refused = nodeLogs.filter((l) => /Forbidden|may not/.test(l));
  nodeLogs.length = 0;
  expect(refused).toEqual([]);
});

afterAll(async () => {
  await cp?.stop();
  await Promise.all([...agents.values()].map((a) => a.stop()));
  await t?.stop();
});

describe("PersistentVolumeClaims on hollow nodes", () => {
  it("a claim waits for its first pod, is placed and Bound with it, and its next pod follows it to that node", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("data"), NS);
    const waiting = await waitFor(async () => (await eventsAbout("PersistentVolumeClaim", "data")).find((e) => e.reason === "WaitForFirstConsumer"), "the WaitForFirstConsumer event");
    expect(waiting).toMatchObject({ type: "Normal", message: "waiting for first consumer to be created before binding", source: { component: "persistentvolume-controller" } });
    const pending = await waitFor(async () => {
      const c = await getClaim("data");
      return c.metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER) ? c : undefined;
    }, "the pvc-protection finalizer");
    expect(pending.status?.phase ?? "Pending").toBe("Pending");
    expect(pending.metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBeUndefined();

    // Replicas of one app: spreading alone would put them on different nodes.
    await t.api.create("pods", podObject("data-0", ["data"], { labels: { app: "db" } }), NS);
    const first = await waitFor(() => running("data-0"), "the first pod Running");
    const node = first.spec.nodeName!;
    const bound = await waitFor(async () => {
      const c = await getClaim("data");
      return c.status?.phase === "Bound" ? c : undefined;
    }, "the claim Bound");
    expect(bound.metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe(node);
    expect(bound.spec.volumeName).toBe(`pvc-${bound.metadata.uid}`);
    expect(bound.metadata.finalizers).toEqual(expect.arrayContaining([PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER]));
    expect(bound.status).toMatchObject({ phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } });
    const provisioned = await waitFor(async () => (await eventsAbout("PersistentVolumeClaim", "data")).find((e) => e.reason === "ProvisioningSucceeded"), "ProvisioningSucceeded");
    expect(provisioned.message).toBe(`Successfully provisioned volume pvc-${bound.metadata.uid}`);
    // The volume is the node's own, named by the claim's uid.
    expect(await volumesOf(bound.metadata.uid!)).toEqual([`${node}:berth-pvc-${bound.metadata.uid}`]);

    await t.api.create("pods", podObject("data-1", ["data"], { labels: { app: "db" } }), NS);
    const second = await waitFor(() => running("data-1"), "the second pod Running");
    expect(second.spec.nodeName).toBe(node);

    // A larger request raises the capacity shown (a Docker volume has no size to grow).
    await t.api.update("persistentvolumeclaims", { ...bound, metadata: { ...bound.metadata, resourceVersion: undefined }, spec: { ...bound.spec, resources: { requests: { storage: "2Gi" } } } });
    await waitFor(async () => (await getClaim("data")).status?.capacity?.storage === "2Gi", "the capacity raised to 2Gi");
  });

  it("two pods created at once for a claim no pod has placed end on one node", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("shared"), NS);
    await Promise.all([t.api.create("pods", podObject("shared-0", ["shared"], { labels: { app: "pair" } }), NS), t.api.create("pods", podObject("shared-1", ["shared"], { labels: { app: "pair" } }), NS)]);
    const [a, b] = await Promise.all([waitFor(() => running("shared-0"), "shared-0 Running"), waitFor(() => running("shared-1"), "shared-1 Running")]);
    expect(a.spec.nodeName).toBe(b.spec.nodeName);
    expect((await getClaim("shared")).metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe(a.spec.nodeName);
  });

  it("a pod whose claim write is lost is not bound; it follows the claim's new node", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("contested"), NS);
    let chosen: string | undefined;
    let rival: string | undefined;
    onClaimUpdate = async (obj) => {
      const want = obj.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      if (obj.metadata.name !== "contested" || !want || chosen) return;
      // Another writer places the claim elsewhere first: the scheduler's write is then stale.
      chosen = want;
      rival = NODES.find((n) => n !== want)!;
      const current = await t.api.get("persistentvolumeclaims", "contested", NS);
      await t.api.update("persistentvolumeclaims", { ...current, metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [SELECTED_NODE_ANNOTATION]: rival } } });
    };
    try {
      await t.api.create("pods", podObject("contested-0", ["contested"]), NS);
      const p = await waitFor(async () => (await getPod("contested-0")).spec.nodeName, "the pod bound");
      expect(chosen).toBeDefined();
      expect(p).toBe(rival);
      expect(cp.scheduler.stats.conflicts).toBeGreaterThan(0);
    } finally {
      onClaimUpdate = undefined;
    }
  });

  it("a pod naming a missing claim is unschedulable with kube-scheduler's message, and is placed once the claim exists", async () => {
    await t.api.create("pods", podObject("lonely", ["missing"]), NS);
    const cond = await waitFor(async () => (await getPod("lonely")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"), "PodScheduled=False");
    expect(cond).toMatchObject({ reason: "Unschedulable", message: `0/${NODES.length} nodes are available: persistentvolumeclaim "missing" not found.` });
    const ev = await waitFor(async () => (await eventsAbout("Pod", "lonely")).find((e) => e.reason === "FailedScheduling"), "FailedScheduling");
    expect(ev.message).toBe(cond.message);
    await t.api.create("persistentvolumeclaims", claimObject("missing"), NS);
    await waitFor(() => running("lonely"), "the pod Running once its claim exists");
  });

  it("a pod bound by hand to a node whose claim is missing gets FailedMount and waits ContainerCreating, then starts", async () => {
    const node = NODES[0];
    await t.api.create("pods", podObject("by-hand", ["later"], { nodeName: node }), NS);
    const ev = await waitFor(async () => (await eventsAbout("Pod", "by-hand")).find((e) => e.reason === "FailedMount"), "FailedMount");
    expect(ev.type).toBe("Warning");
    expect(ev.message).toContain("Unable to attach or mount volumes: unmounted volumes=[vol-0]");
    expect(ev.message).toContain('persistentvolumeclaims "later" not found');
    const waitingPod = await waitFor(async () => {
      const p = await getPod("by-hand");
      return p.status?.containerStatuses?.[0]?.state.waiting?.reason === "ContainerCreating" && p.status.containerStatuses[0].state.waiting.message ? p : undefined;
    }, "the container waiting ContainerCreating");
    expect(waitingPod.status?.phase).toBe("Pending");
    // As in Kubernetes, a pod that bypasses the scheduler needs its claim placed: the user says where.
    await t.api.create("persistentvolumeclaims", claimObject("later", { node }), NS);
    await waitFor(() => running("by-hand"), "the pod Running once its claim exists on its node");
    await waitFor(async () => (await getClaim("later")).status?.phase === "Bound", "the hand-placed claim Bound");
  });

  it("a ReadWriteOncePod claim in use leaves a second pod unschedulable", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("solo", { modes: ["ReadWriteOncePod"] }), NS);
    await t.api.create("pods", podObject("solo-0", ["solo"]), NS);
    await waitFor(() => running("solo-0"), "solo-0 Running");
    await t.api.create("pods", podObject("solo-1", ["solo"]), NS);
    const cond = await waitFor(async () => (await getPod("solo-1")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"), "solo-1 unschedulable");
    expect(cond.message).toBe(`0/${NODES.length} nodes are available: ${NODES.length} node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.`);
  });

  it("the API keeps a placed claim on its node: its selected-node annotation is neither changed nor removed", async () => {
    const [node, other] = NODES;
    const placed = await t.api.create("persistentvolumeclaims", claimObject("pinned", { node }), NS);
    const moved = { ...placed, metadata: { ...placed.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: other } } };
    const err = await expectInvalid(t.api.update("persistentvolumeclaims", moved));
    expect(err.message).toContain(`metadata.annotations[${SELECTED_NODE_ANNOTATION}]: Forbidden: the claim's volume is on node "${node}"`);
    await expectInvalid(t.api.patch("persistentvolumeclaims", "pinned", { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: null } } }, { namespace: NS }));
    expect((await getClaim("pinned")).metadata.annotations?.[SELECTED_NODE_ANNOTATION]).toBe(node);
    // Other annotations stay free.
    await t.api.patch("persistentvolumeclaims", "pinned", { metadata: { annotations: { note: "x" } } }, { namespace: NS });
  });

  it("a claim deleted while scheduled pods use it stays Terminating until they are gone (an unscheduled one does not hold it); then its node removes the volume", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("inuse"), NS);
    await t.api.create("pods", podObject("inuse-0", ["inuse"], { labels: { app: "inuse" } }), NS);
    await t.api.create("pods", podObject("inuse-1", ["inuse"], { labels: { app: "inuse" } }), NS);
    await waitFor(() => running("inuse-0"), "inuse-0 Running");
    await waitFor(() => running("inuse-1"), "inuse-1 Running");
    const before = await getClaim("inuse");
    const uid = before.metadata.uid!;
    const node = before.metadata.annotations![SELECTED_NODE_ANNOTATION];
    expect(await volumesOf(uid)).toEqual([`${node}:berth-pvc-${uid}`]);

    await t.api.delete("persistentvolumeclaims", "inuse", NS);
    await waitFor(() => cp.informers.persistentvolumeclaims.get(`${NS}/inuse`)?.metadata.deletionTimestamp, "the control plane to see the deletion");
    await settled(cp.pvcProtection.loop);
    const terminating = await getClaim("inuse");
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect(terminating.metadata.finalizers).toContain(PVC_PROTECTION_FINALIZER);
    // A new pod may not be scheduled on a claim being deleted; unscheduled, it does not hold it.
    await t.api.create("pods", podObject("too-late", ["inuse"]), NS);
    const cond = await waitFor(async () => (await getPod("too-late")).status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False"), "too-late unschedulable");
    expect(cond.message).toBe(`0/${NODES.length} nodes are available: persistentvolumeclaim "inuse" is being deleted.`);
    await t.api.delete("pods", "inuse-0", NS);
    await waitFor(() => gone("pods", "inuse-0"), "inuse-0 gone");
    await settled(cp.pvcProtection.loop);
    expect((await getClaim("inuse")).metadata.finalizers).toContain(PVC_PROTECTION_FINALIZER);
    expect(await volumesOf(uid)).toHaveLength(1);

    await t.api.delete("pods", "inuse-1", NS);
    await waitFor(() => gone("persistentvolumeclaims", "inuse"), "the claim gone once no scheduled pod uses it", 15_000);
    expect(await volumesOf(uid)).toEqual([]);
    expect((await getPod("too-late")).spec.nodeName).toBeUndefined();
    // A new claim of the same name is another volume, empty; the waiting pod is placed with it.
    const again = await t.api.create("persistentvolumeclaims", claimObject("inuse"), NS);
    expect(again.metadata.uid).not.toBe(uid);
    await waitFor(() => running("too-late"), "too-late Running on the new claim");
    await waitFor(async () => (await volumesOf(again.metadata.uid!)).length === 1, "the new claim's volume");
  });

  it("a finished pod that still exists keeps its claim, as Kubernetes' pvc-protection does; deleting the pod lets it go", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("batch"), NS);
    await t.api.create("pods", podObject("batch-job", ["batch"], { runForSeconds: 0 }), NS);
    await waitFor(async () => (await getPod("batch-job")).status?.phase === "Succeeded", "the pod Succeeded");
    const uid = (await getClaim("batch")).metadata.uid!;
    await t.api.delete("persistentvolumeclaims", "batch", NS);
    await waitFor(() => cp.informers.persistentvolumeclaims.get(`${NS}/batch`)?.metadata.deletionTimestamp, "the control plane to see the deletion");
    await settled(cp.pvcProtection.loop);
    expect((await getClaim("batch")).metadata.finalizers).toContain(PVC_PROTECTION_FINALIZER);
    expect(await volumesOf(uid)).toHaveLength(1);
    await t.api.delete("pods", "batch-job", NS);
    await waitFor(() => gone("persistentvolumeclaims", "batch"), "the claim gone with its finished pod", 15_000);
    expect(await volumesOf(uid)).toEqual([]);
  });

  it("a claim deleted before any pod placed it goes at once: it has no volume", async () => {
    await t.api.create("persistentvolumeclaims", claimObject("unused"), NS);
    await waitFor(async () => (await getClaim("unused")).metadata.finalizers?.includes(PVC_PROTECTION_FINALIZER), "protected");
    await t.api.delete("persistentvolumeclaims", "unused", NS);
    await waitFor(() => gone("persistentvolumeclaims", "unused"), "the unused claim gone");
  });

  it("a claim released while its node's agent was away is reclaimed when the agent comes back", async () => {
    const node = "pvc-node-restart";
    await ownNode(node, async (runtime) => {
      await t.api.create("persistentvolumeclaims", claimObject("away", { node }), NS);
      await t.api.create("pods", podObject("away-0", ["away"], { nodeName: node }), NS);
      await waitFor(() => running("away-0"), "the pod Running");
      const uid = (await getClaim("away")).metadata.uid!;
      await waitFor(async () => (await volumesOf(uid)).length === 1, "the claim's volume on the node");

      await agents.get(node)!.stop();
      agents.delete(node);
      await t.api.delete("pods", "away-0", NS, { gracePeriodSeconds: 0 });
      await t.api.delete("persistentvolumeclaims", "away", NS);
      await waitFor(async () => {
        const f = (await getClaim("away")).metadata.finalizers;
        return f?.length === 1 && f[0] === LOCAL_VOLUME_FINALIZER;
      }, "protection let go; the volume finalizer waits for the node");
      expect((await runtime.listVolumes({ "berth.claim.uid": uid })).length).toBe(1);

      await startAgent(node, runtime);
      await waitFor(() => gone("persistentvolumeclaims", "away"), "the claim reclaimed by the agent back", 15_000);
      expect(await runtime.listVolumes({ "berth.claim.uid": uid })).toEqual([]);
    });
  });

  it("a claim whose node is down waits for it with one Warning naming the node, and goes once the Node object is deleted", async () => {
    const node = "pvc-node-down";
    await ownNode(node, async () => {
      await t.api.create("persistentvolumeclaims", claimObject("stranded", { node }), NS);
      await t.api.create("pods", podObject("stranded-0", ["stranded"], { nodeName: node }), NS);
      await waitFor(() => running("stranded-0"), "the pod Running");
      await waitFor(async () => (await getClaim("stranded")).metadata.finalizers?.includes(LOCAL_VOLUME_FINALIZER), "provisioned on the node");
      const uid = (await getClaim("stranded")).metadata.uid!;

      // The machine goes down: its agent stops and the node is found NotReady.
      await agents.get(node)!.stop();
      agents.delete(node);
      await markNotReady(node);
      await t.api.delete("pods", "stranded-0", NS, { gracePeriodSeconds: 0 });
      await t.api.delete("persistentvolumeclaims", "stranded", NS);
      const warning = await waitFor(async () => (await eventsAbout("PersistentVolumeClaim", "stranded")).find((e) => e.reason === "WaitingForNode"), "the WaitingForNode warning");
      expect(warning.type).toBe("Warning");
      expect(warning.message).toBe(
        `the volume pvc-${uid} is on node "${node}", which is not Ready: the claim goes once that node removes it. ` +
          `Bring the node back, or, if it is gone for good, delete the Node object "${node}" (the volume's data is then lost with the node)`,
      );
      // Said once, not at every pass.
      await settled(cp.localProvisioner.loop);
      await settled(cp.localProvisioner.loop);
      const said = (await eventsAbout("PersistentVolumeClaim", "stranded")).filter((e) => e.reason === "WaitingForNode");
      expect(said.map((e) => e.count ?? 1)).toEqual([1]);
      expect((await getClaim("stranded")).metadata.finalizers).toEqual([LOCAL_VOLUME_FINALIZER]);

      // The node is gone for good: deleting its Node lets the claim go, its data lost with it.
      await t.api.delete("nodes", node);
      await waitFor(() => gone("persistentvolumeclaims", "stranded"), "the stranded claim gone", 15_000);
      const ev = (await eventsAbout("PersistentVolumeClaim", "stranded")).find((e) => e.reason === "ClaimLost");
      expect(ev?.type).toBe("Warning");
      expect(ev?.message).toContain(`node "${node}" no longer exists`);
      expect(ev?.message).toContain("is lost with its node");
    });
  });
});
