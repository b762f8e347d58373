/**
 * Deployments, ReplicaSets and garbage-collection propagation against a real API on NATS: the
 * control plane talks to the API over NATS request/reply (`remote`), nodes are played by the
 * API-level kubelet stand-in (pods report Ready shortly after being bound).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ApiClient } from "../../model/client.ts";
import type { Deployment, Pod, ReplicaSet } from "../../model/types.ts";
import { every, heartbeats, kubeletStandIn, nodeObject } from "../helpers/control_plane_standin.ts";
import { REVISION_ANNOTATION } from "../../actors/deployment_decide.ts";

let t: TestApi;
let cp: ControlPlane;
let api: ApiClient;
let timers: ReturnType<typeof setInterval>[] = [];
const alive = new Set(["node-a", "node-b"]);

const template = (labels: Record<string, string>, image = "berth/busybox:latest") => ({
  metadata: { labels },
  spec: { containers: [{ name: "c", image, command: ["sleep", "3600"] }] },
});

function deploymentObject(name: string, replicas: number, image = "berth/busybox:latest"): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: template({ app: name }, image), strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } },
  };
}

const livePods = async (selector: string) =>
  (await api.list("pods", { namespace: "default", labelSelector: selector })).items.filter((p: Pod) => !p.metadata.deletionTimestamp);
const readyPods = async (selector: string) =>
  (await livePods(selector)).filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
const gone = async (resource: "deployments" | "replicasets", name: string) => {
  try {
    await api.get(resource, name, "default");
    return false;
  } catch {
    return true;
  }
};

beforeAll(async () => {
  t = await startTestApi();
  api = t.api;
  for (const n of alive) await api.create("nodes", nodeObject(n));
  timers = [every(100, () => kubeletStandIn(api, alive)), every(250, () => heartbeats(api, alive))];
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false });
}, 30_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  await cp?.stop();
  await t?.stop();
});

describe("replica sets", () => {
  it("replica set - keeps replicas of pods matched by a set-based selector and adopts a matching orphan", async () => {
    await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "stray", labels: { tier: "cache", track: "a" } }, spec: template({}).spec });
    await api.create("replicasets", {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "cache" },
      spec: {
        replicas: 3,
        selector: { matchLabels: { tier: "cache" }, matchExpressions: [{ key: "track", operator: "In", values: ["a", "b"] }] },
        template: template({ tier: "cache", track: "b" }),
      },
    });
    await waitFor(async () => (await readyPods("tier=cache")).length === 3, "3 ready cache pods");
    const rs = await api.get("replicasets", "cache", "default");
    const stray = await api.get("pods", "stray", "default");
    expect(stray.metadata.ownerReferences?.[0]).toMatchObject({ kind: "ReplicaSet", apiVersion: "apps/v1", uid: rs.metadata.uid, controller: true });
    await waitFor(async () => (await api.get("replicasets", "cache", "default")).status?.readyReplicas === 3, "status readyReplicas 3");
  }, 30_000);
});

describe("deployments", () => {
  it("deployment - rolls out a new image one surge pod at a time, never below replicas ready, and rolls back", async () => {
    await api.create("deployments", deploymentObject("web", 3));
    await waitFor(async () => (await readyPods("app=web")).length === 3, "3 ready web pods");
    await waitFor(async () => (await api.get("deployments", "web", "default")).status?.availableReplicas === 3, "deployment available 3");
    let minReady = Infinity;
    let maxLive = 0;
    const sampler = every(20, async () => {
      minReady = Math.min(minReady, (await readyPods("app=web")).length);
      maxLive = Math.max(maxLive, (await livePods("app=web")).length);
    });
    await api.patch("deployments", "web", { spec: { template: { spec: { containers: [{ name: "c", image: "berth/busybox:v2" }] } } } }, { namespace: "default", type: "strategic" });
    const done = async () => {
      const d = await api.get("deployments", "web", "default");
      const s = d.status ?? {};
      return s.observedGeneration === d.metadata.generation && s.updatedReplicas === 3 && s.replicas === 3 && s.availableReplicas === 3;
    };
    await waitFor(done, "rollout of v2 complete", 30_000);
    clearInterval(sampler);
    expect(minReady).toBeGreaterThanOrEqual(3);
    expect(maxLive).toBeLessThanOrEqual(4);
    const images = (await livePods("app=web")).map((p) => p.spec.containers[0].image);
    expect(images).toEqual(["berth/busybox:v2", "berth/busybox:v2", "berth/busybox:v2"]);
    const d = await api.get("deployments", "web", "default");
    expect(d.metadata.annotations?.[REVISION_ANNOTATION]).toBe("2");
    expect(d.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });

    // Rollback, as kubectl rollout undo does it: the old ReplicaSet's template goes back in.
    const rses = (await api.list("replicasets", { namespace: "default", labelSelector: "app=web" })).items as ReplicaSet[];
    const v1 = rses.find((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION] === "1")!;
    const tpl = structuredClone(v1.spec.template!);
    delete tpl.metadata!.labels!["pod-template-hash"];
    await api.patch("deployments", "web", [{ op: "replace", path: "/spec/template", value: tpl }], { namespace: "default", type: "json" });
    await waitFor(async () => (await done()) && (await livePods("app=web")).every((p) => p.spec.containers[0].image === "berth/busybox:latest"), "rolled back", 30_000);
    const back = await api.get("replicasets", v1.metadata.name, "default");
    expect(back.metadata.annotations?.[REVISION_ANNOTATION]).toBe("3");
  }, 90_000);
});

describe("deployment minReadySeconds", () => {
  it("deployment - with minReadySeconds an old pod goes only once a new pod has been Ready that long, and available lags ready", async () => {
    const d = deploymentObject("slow", 2) as { spec: Record<string, unknown> };
    d.spec.minReadySeconds = 2;
    await api.create("deployments", d);
    let laggedAvailable = false;
    const newReadyAt = new Map<string, number>();
    let oldGoneAt = Infinity;
    let oldNames: string[] = [];
    const sampler = every(20, async () => {
      const dep = await api.get("deployments", "slow", "default");
      if ((dep.status?.readyReplicas ?? 0) > (dep.status?.availableReplicas ?? 0)) laggedAvailable = true;
      const live = await livePods("app=slow");
      for (const p of live) {
        const ready = p.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True");
        if (p.spec.containers[0].image === "berth/busybox:v2" && ready?.lastTransitionTime) newReadyAt.set(p.metadata.name, Date.parse(ready.lastTransitionTime));
      }
      if (oldNames.length && oldGoneAt === Infinity && oldNames.some((n) => !live.some((p) => p.metadata.name === n))) oldGoneAt = Date.now();
    });
    try {
      await waitFor(async () => (await api.get("deployments", "slow", "default")).status?.availableReplicas === 2, "deployment slow available 2", 20_000);
      expect(laggedAvailable).toBe(true);
      oldNames = (await livePods("app=slow")).map((p) => p.metadata.name);
      expect(oldNames).toHaveLength(2);
      await api.patch("deployments", "slow", { spec: { template: { spec: { containers: [{ name: "c", image: "berth/busybox:v2" }] } } } }, { namespace: "default", type: "strategic" });
      await waitFor(() => oldGoneAt < Infinity, "the first old pod to go", 20_000);
      // maxUnavailable 0: the first old pod may go only once a new pod has been Ready 2 s.
      expect(newReadyAt.size).toBeGreaterThan(0);
      expect(oldGoneAt - Math.min(...newReadyAt.values())).toBeGreaterThanOrEqual(2_000);
      const rs = (await api.list("replicasets", { namespace: "default", labelSelector: "app=slow" })).items as ReplicaSet[];
      expect(rs.map((x) => x.spec.minReadySeconds)).toEqual([2, 2]);
    } finally {
      clearInterval(sampler);
    }
    await api.delete("deployments", "slow", "default");
  }, 60_000);
});

describe("deployment Recreate", () => {
  it("deployment - Recreate: every old pod is gone before a new one exists", async () => {
    const d = deploymentObject("again", 3) as { spec: Record<string, unknown> };
    d.spec.strategy = { type: "Recreate" };
    await api.create("deployments", d);
    await waitFor(async () => (await readyPods("app=again")).length === 3, "3 ready again pods");
    // Every change of the pods is seen (a watch from the list's version), so no mixed moment can
    // fall between two samples however fast the rollout is.
    const start = await api.list("pods", { namespace: "default", labelSelector: "app=again" });
    const live = new Map(start.items.map((p: Pod) => [p.metadata.name, p.spec.containers[0].image]));
    const w = await api.watch("pods", { namespace: "default", labelSelector: "app=again", resourceVersion: start.metadata.resourceVersion });
    let mixed = false;
    let events = 0;
    const watching = (async () => {
      for await (const ev of w) {
        const p = ev.object as Pod;
        if (ev.type === "DELETED") live.delete(p.metadata.name);
        else live.set(p.metadata.name, p.spec.containers[0].image);
        events++;
        if (new Set(live.values()).size > 1) mixed = true;
      }
    })();
    try {
      await api.patch("deployments", "again", { spec: { template: { spec: { containers: [{ name: "c", image: "berth/busybox:v2" }] } } } }, { namespace: "default", type: "strategic" });
      await waitFor(async () => {
        const ready = await readyPods("app=again");
        return ready.length === 3 && ready.every((p) => p.spec.containers[0].image === "berth/busybox:v2");
      }, "3 ready v2 pods", 30_000);
      // The watch has seen the three old pods go and the three new ones come.
      await waitFor(() => [...live.values()].filter((i) => i === "berth/busybox:v2").length === 3 && live.size === 3, "the watch caught up");
    } finally {
      w.stop();
      await watching;
    }
    expect(events).toBeGreaterThanOrEqual(6);
    expect(mixed).toBe(false);
    await api.delete("deployments", "again", "default");
  }, 60_000);
});

describe("deployment progress", () => {
  it("deployment - no progress within progressDeadlineSeconds: Progressing=False ProgressDeadlineExceeded", async () => {
    const stuck = deploymentObject("stuck", 1) as { spec: Record<string, unknown> & { template: { spec: Record<string, unknown> } } };
    stuck.spec.progressDeadlineSeconds = 1;
    stuck.spec.template.spec.nodeSelector = { disk: "none-has-this" };
    await api.create("deployments", stuck);
    await waitFor(async () => {
      const c = (await api.get("deployments", "stuck", "default")).status?.conditions?.find((x) => x.type === "Progressing");
      return c?.status === "False" && c.reason === "ProgressDeadlineExceeded";
    }, "ProgressDeadlineExceeded", 15_000);
    await api.delete("deployments", "stuck", "default");
  }, 30_000);
});

describe("garbage collection", () => {
  async function settled(name: string): Promise<{ d: Deployment; rs: ReplicaSet }> {
    await api.create("deployments", deploymentObject(name, 2));
    await waitFor(async () => (await readyPods(`app=${name}`)).length === 2, `2 ready ${name} pods`);
    const d = await api.get("deployments", name, "default");
    const rs = (await api.list("replicasets", { namespace: "default", labelSelector: `app=${name}` })).items[0];
    return { d, rs };
  }

  it("garbage collection - Background deletes the deployment at once, then its ReplicaSet and pods", async () => {
    const { rs } = await settled("bg");
    await api.delete("deployments", "bg", "default", { propagationPolicy: "Background" });
    expect(await gone("deployments", "bg")).toBe(true);
    await waitFor(async () => (await gone("replicasets", rs.metadata.name)) && (await livePods("app=bg")).length === 0, "rs and pods collected", 20_000);
  }, 40_000);

  it("garbage collection - Foreground keeps the deployment, marked, until its ReplicaSet and pods are gone", async () => {
    const { rs } = await settled("fg");
    const marked = await api.delete("deployments", "fg", "default", { propagationPolicy: "Foreground" });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(marked.metadata.finalizers).toContain("foregroundDeletion");
    // The owner outlives its dependents.
    let sawOwnerWithoutDependents = false;
    await waitFor(async () => {
      const ownerGone = await gone("deployments", "fg");
      const rsGone = await gone("replicasets", rs.metadata.name);
      const pods = (await api.list("pods", { namespace: "default", labelSelector: "app=fg" })).items.length;
      if (!ownerGone && rsGone && pods === 0) sawOwnerWithoutDependents = true;
      if (ownerGone) expect(rsGone && pods === 0).toBe(true);
      return ownerGone;
    }, "deployment deleted after its dependents", 30_000);
    expect(sawOwnerWithoutDependents || (await gone("replicasets", rs.metadata.name))).toBe(true);
  }, 50_000);

  it("garbage collection - Orphan deletes the deployment and leaves its ReplicaSet running, without the owner reference", async () => {
    const { rs } = await settled("orph");
    await api.delete("deployments", "orph", "default", { propagationPolicy: "Orphan" });
    expect(await gone("deployments", "orph")).toBe(true);
    const left = await api.get("replicasets", rs.metadata.name, "default");
    expect(left.metadata.ownerReferences ?? []).toEqual([]);
    // Still there after a collector pass, and still keeping its pods.
    await cp.garbageCollector.loop.wake();
    await new Promise((r) => setImmediate(r));
    await waitFor(async () => (await readyPods("app=orph")).length === 2, "orphaned rs keeps 2 pods");
    expect(await gone("replicasets", rs.metadata.name)).toBe(false);
  }, 40_000);
});
