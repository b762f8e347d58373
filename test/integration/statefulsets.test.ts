/**
 * apps/v1 StatefulSets through the whole control plane: the StatefulSet controller (ordered
 * creation and removal, claims per pod, rolling updates with a partition, failed pods made
 * again, adoption), the scheduler and the garbage collector (the claims' retention policy), with
 * real node agents on the hollow runtime and a real nats-server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { isPodReady } from "../../model/pod.ts";
import { updateRevision } from "../../actors/statefulset_decide.ts";
import type { ControllerRevision, PersistentVolumeClaim, Pod, StatefulSet } from "../../model/types.ts";

let t: TestApi;
let cp: ControlPlane;
const agents: NodeAgent[] = [];
const NS = "default";

function stsObject(name: string, spec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name },
    spec: {
      serviceName: name,
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"], volumeMounts: [{ name: "data", mountPath: "/data" }] }] } },
      volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      ...spec,
    },
  };
}

const podsOf = async (name: string): Promise<Pod[]> => (await t.api.list("pods", { namespace: NS, labelSelector: `app=${name}` })).items;
const claimsOf = async (name: string): Promise<PersistentVolumeClaim[]> => (await t.api.list("persistentvolumeclaims", { namespace: NS, labelSelector: `app=${name}` })).items;
const getSts = (name: string) => t.api.get("statefulsets", name, NS);
/** The set's revisions, `name → revision number`. */
async function revisionsOf(set: StatefulSet): Promise<Map<string, ControllerRevision>> {
  const all = (await t.api.list("controllerrevisions", { namespace: NS })).items;
  return new Map(all.filter((r) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === set.metadata.uid)).map((r) => [r.metadata.name, r]));
}
const live = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
const names = (objs: { metadata: { name: string } }[]) => objs.map((o) => o.metadata.name).sort();
/** The set's live pods, when they are exactly `want` and all Ready. */
async function readyPods(name: string, want: string[]): Promise<Pod[] | undefined> {
  const pods = live(await podsOf(name));
  return JSON.stringify(names(pods)) === JSON.stringify([...want].sort()) && pods.every(isPodReady) ? pods : undefined;
}

/** Records, from a watch, the order pods were added and removed, and the Ready pods at each add. */
async function recordPods(name: string) {
  const watch = await t.api.watch("pods", { namespace: NS, labelSelector: `app=${name}`, resourceVersion: (await t.api.list("pods", { namespace: NS, limit: 1 })).metadata.resourceVersion });
  const state = new Map<string, Pod>((await podsOf(name)).map((p) => [p.metadata.name, p]));
  const added: { pod: string; readyThen: string[] }[] = [];
  const gone: string[] = [];
  const watching = (async () => {
    for await (const ev of watch) {
      const n = ev.object.metadata.name;
      if (ev.type === "ADDED") added.push({ pod: n, readyThen: [...state.values()].filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort() });
      if (ev.type === "DELETED") state.delete(n);
      else state.set(n, ev.object);
      if ((ev.type === "DELETED" || ev.object.metadata.deletionTimestamp) && !gone.includes(n)) gone.push(n);
    }
  })();
  return { added, gone, async stop() { watch.stop(); await watching; } };
}

beforeAll(async () => {
  t = await startTestApi();
  for (const name of ["sts-node-a", "sts-node-b"]) agents.push(await startNodeAgent({ client: t.api, runtime: new HollowRuntime(), name, heartbeatIntervalMs: 500 }));
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

describe("StatefulSets", () => {
  it("make pods one at a time in ordinal order, each with its claim, hostname and subdomain; scale down from the top, keeping the claims", async () => {
    const rec = await recordPods("web");
    await t.api.create("statefulsets", stsObject("web"), NS);
    const pods = await waitFor(() => readyPods("web", ["web-0", "web-1", "web-2"]), "web-0..2 Ready", 20_000);
    // OrderedReady: each pod was added only when every lower ordinal was Ready.
    expect(rec.added.map((a) => a.pod)).toEqual(["web-0", "web-1", "web-2"]);
    expect(rec.added.map((a) => a.readyThen)).toEqual([[], ["web-0"], ["web-0", "web-1"]]);
    for (const p of pods) {
      expect(p.spec.hostname).toBe(p.metadata.name);
      expect(p.spec.subdomain).toBe("web");
      expect(p.spec.volumes).toContainEqual({ name: "data", persistentVolumeClaim: { claimName: `data-${p.metadata.name}` } });
      expect(p.metadata.labels?.["statefulset.kubernetes.io/pod-name"]).toBe(p.metadata.name);
    }
    const claims = await claimsOf("web");
    expect(names(claims)).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
    const set = await waitFor(async () => {
      const s = await getSts("web");
      return s.status?.readyReplicas === 3 && s.status.currentRevision === s.status.updateRevision ? s : undefined;
    }, "the status to count three ready pods");
    expect(set.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, observedGeneration: 1, updateRevision: updateRevision(set) });

    await t.api.patch("statefulsets", "web", { spec: { replicas: 1 } }, { namespace: NS, type: "merge" });
    await waitFor(async () => (await podsOf("web")).length === 1, "web-1 and web-2 gone", 20_000);
    await rec.stop();
    expect(rec.gone).toEqual(["web-2", "web-1"]);
    // Retain (the default): the claims stay, and scaling up again uses them.
    const kept = await claimsOf("web");
    expect(names(kept)).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
    await t.api.patch("statefulsets", "web", { spec: { replicas: 3 } }, { namespace: NS, type: "merge" });
    await waitFor(() => readyPods("web", ["web-0", "web-1", "web-2"]), "back to three", 20_000);
    expect((await claimsOf("web")).map((c) => c.metadata.uid).sort()).toEqual(kept.map((c) => c.metadata.uid).sort());
  });

  it("make a deleted pod again under its name, with the same claim", async () => {
    const before = (await podsOf("web")).find((p) => p.metadata.name === "web-1")!;
    await t.api.delete("pods", "web-1", NS, { gracePeriodSeconds: 0 });
    const after = await waitFor(async () => (await podsOf("web")).find((p) => p.metadata.name === "web-1" && p.metadata.uid !== before.metadata.uid && isPodReady(p)), "web-1 made again", 20_000);
    expect(after.spec.volumes).toEqual(before.spec.volumes);
  });

  it("roll a new template from the highest ordinal down, stopping at the partition", async () => {
    const set0 = await getSts("web");
    await t.api.patch("statefulsets", "web", { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } }, template: { metadata: { annotations: { rev: "2" } } } } }, { namespace: NS, type: "merge" });
    const set1 = await getSts("web");
    const rev1 = updateRevision(set1);
    const rec = await recordPods("web");
    await waitFor(async () => {
      const s = await getSts("web");
      return s.status?.updatedReplicas === 2 && s.status.readyReplicas === 3 ? s : undefined;
    }, "web-2 and web-1 on the new revision", 20_000);
    const byName = new Map((await podsOf("web")).map((p) => [p.metadata.name, p.metadata.labels?.["controller-revision-hash"]]));
    expect(byName.get("web-0")).toBe(updateRevision(set0));
    expect(byName.get("web-1")).toBe(rev1);
    expect(byName.get("web-2")).toBe(rev1);
    // Partitioned: the current revision stays the old one.
    expect((await getSts("web")).status?.currentRevision).toBe(updateRevision(set0));
    // Each template is a ControllerRevision, numbered in order.
    const revs = await revisionsOf(set1);
    expect([...revs.values()].map((r) => [r.metadata.name, r.revision]).sort()).toEqual([[updateRevision(set0), 1], [rev1, 2]].sort());
    // web-0, below the partition, made again, comes back at the current revision, with its template.
    const web0 = (await podsOf("web")).find((p) => p.metadata.name === "web-0")!;
    await t.api.delete("pods", "web-0", NS, { gracePeriodSeconds: 0 });
    const again = await waitFor(async () => (await podsOf("web")).find((p) => p.metadata.name === "web-0" && p.metadata.uid !== web0.metadata.uid && isPodReady(p)), "web-0 made again", 20_000);
    expect(again.metadata.labels?.["controller-revision-hash"]).toBe(updateRevision(set0));
    expect(again.metadata.annotations?.rev).toBeUndefined();

    // Partition 0: web-0 follows, and the rollout completes.
    await t.api.patch("statefulsets", "web", { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } } } }, { namespace: NS, type: "merge" });
    const done = await waitFor(async () => {
      const s = await getSts("web");
      return s.status?.currentRevision === rev1 && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3 ? s : undefined;
    }, "the rollout complete", 20_000);
    expect(done.status?.observedGeneration).toBe(done.metadata.generation);
    await rec.stop();
    expect(rec.gone).toEqual(["web-2", "web-1", "web-0"]);

    // A rollback, as `kubectl rollout undo` does it: the old revision's data as a strategic merge
    // patch. The old revision becomes the newest (3), and the pods roll back to it.
    const old = (await revisionsOf(set1)).get(updateRevision(set0))!;
    await t.api.patch("statefulsets", "web", old.data, { namespace: NS, type: "strategic" });
    const back = await waitFor(async () => {
      const s = await getSts("web");
      return s.status?.currentRevision === updateRevision(set0) && s.status.updatedReplicas === 3 && s.status.readyReplicas === 3 ? s : undefined;
    }, "rolled back", 20_000);
    expect(back.spec.template.metadata?.annotations?.rev).toBeUndefined();
    const after = await waitFor(async () => {
      const r = await revisionsOf(set1);
      return r.get(updateRevision(set0))?.revision === 3 ? r : undefined;
    }, "the old revision numbered 3");
    expect(after.get(rev1)?.revision).toBe(2);
  });

  it("keep no more old revisions than revisionHistoryLimit, never a live one", async () => {
    const created = await t.api.create("statefulsets", stsObject("hist", { replicas: 1, revisionHistoryLimit: 1, volumeClaimTemplates: [], template: { metadata: { labels: { app: "hist" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }] } } }), NS) as StatefulSet;
    let last = created;
    for (const rev of ["2", "3", "4"]) {
      last = await t.api.patch("statefulsets", "hist", { spec: { template: { metadata: { annotations: { rev } } } } }, { namespace: NS, type: "merge" }) as StatefulSet;
      await waitFor(async () => (await getSts("hist")).status?.currentRevision === updateRevision(last) && (await readyPods("hist", ["hist-0"])), `revision ${rev} rolled out`, 20_000);
    }
    // Live: the fourth; of the three older ones, one (the newest, 3) stays.
    const revs = await waitFor(async () => {
      const r = await revisionsOf(created);
      return r.size === 2 ? r : undefined;
    }, "the history pruned to one old revision");
    expect([...revs.values()].map((r) => r.revision).sort()).toEqual([3, 4]);
    expect(revs.has(updateRevision(last))).toBe(true);
    await t.api.delete("statefulsets", "hist", NS);
    await waitFor(async () => (await revisionsOf(created)).size === 0, "the revisions collected with the set");
  });

  it("deleted with propagationPolicy Orphan and made again, adopt the pods they left", async () => {
    const before = (await podsOf("web")).map((p) => p.metadata.uid).sort();
    const old = await getSts("web");
    const oldRevisions = [...(await revisionsOf(old)).keys()].sort();
    await t.api.delete("statefulsets", "web", NS, { propagationPolicy: "Orphan" });
    await waitFor(async () => (await podsOf("web")).every((p) => !p.metadata.ownerReferences?.length), "the pods orphaned");
    // The same set made again: it adopts the pods and the revisions, and nothing is replaced.
    const again = await t.api.create("statefulsets", stsObject("web"), NS) as StatefulSet;
    await waitFor(async () => (await podsOf("web")).every((p) => p.metadata.ownerReferences?.[0]?.uid === again.metadata.uid), "the new set to adopt them");
    await waitFor(async () => [...(await revisionsOf(again)).keys()].sort().join() === oldRevisions.join(), "the new set to adopt the revisions");
    await waitFor(async () => {
      const s = await getSts("web");
      return s.status?.readyReplicas === 3 && s.status.updatedReplicas === 3 && s.status.currentRevision === updateRevision(again);
    }, "the status to count them, on the set's revision");
    expect((await podsOf("web")).map((p) => p.metadata.uid).sort()).toEqual(before);
    expect(before).toHaveLength(3);
    await t.api.delete("statefulsets", "web", NS);
    await waitFor(async () => (await podsOf("web")).length === 0, "the pods collected", 20_000);
    // Retain: the claims outlive the set.
    expect(names(await claimsOf("web"))).toEqual(["data-web-0", "data-web-1", "data-web-2"]);
  });

  it("deleted with propagationPolicy Orphan, leave their claims without the set's reference, even with whenDeleted: Delete", async () => {
    await t.api.create("statefulsets", stsObject("keep", { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } }), NS);
    const set = await getSts("keep");
    await waitFor(async () => (await claimsOf("keep")).some((c) => c.metadata.ownerReferences?.some((r) => r.uid === set.metadata.uid)), "the claim owned by the set", 20_000);
    await t.api.delete("statefulsets", "keep", NS, { propagationPolicy: "Orphan" });
    await waitFor(async () => {
      try { await getSts("keep"); return false; } catch { return true; }
    }, "the set gone");
    await waitFor(async () => (await podsOf("keep")).every((p) => !p.metadata.ownerReferences?.length), "the pod orphaned");
    const claims = await claimsOf("keep");
    expect(names(claims)).toEqual(["data-keep-0"]);
    expect(claims[0].metadata.ownerReferences ?? []).toEqual([]);
    await t.api.delete("pods", "keep-0", NS, { gracePeriodSeconds: 0 });
  });

  it("do not adopt a pod of another controller that holds one of their names: a Warning says so, with back-off", async () => {
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "taken-0", labels: { app: "someone-else" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }] } }, NS);
    await t.api.create("statefulsets", stsObject("taken", { replicas: 1, volumeClaimTemplates: [], template: { metadata: { labels: { app: "taken" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } } }), NS);
    const ev = await waitFor(async () => (await t.api.list("events", { namespace: NS, fieldSelector: "involvedObject.name=taken,reason=FailedCreate" })).items[0], "a FailedCreate event", 20_000);
    expect(ev.message).toContain("a pod named taken-0 already exists and is not owned by this StatefulSet");
    expect((await t.api.get("pods", "taken-0", NS)).metadata.labels).toEqual({ app: "someone-else" });
    await t.api.delete("statefulsets", "taken", NS);
    await t.api.delete("pods", "taken-0", NS, { gracePeriodSeconds: 0 });
  });

  it("with retention policy Delete, remove a scaled-away pod's claim with it, and every claim with the set", async () => {
    await t.api.create("statefulsets", stsObject("db", { replicas: 2, podManagementPolicy: "Parallel", persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" } }), NS);
    await waitFor(() => readyPods("db", ["db-0", "db-1"]), "db-0 and db-1 Ready", 20_000);
    const set = await getSts("db");
    await waitFor(async () => (await claimsOf("db")).every((c) => c.metadata.ownerReferences?.some((r) => r.kind === "StatefulSet" && r.uid === set.metadata.uid)), "the claims owned by the set");
    await t.api.patch("statefulsets", "db", { spec: { replicas: 1 } }, { namespace: NS, type: "merge" });
    await waitFor(async () => names(await claimsOf("db")).join() === "data-db-0", "data-db-1 removed with db-1", 20_000);
    await t.api.delete("statefulsets", "db", NS);
    await waitFor(async () => (await claimsOf("db")).length === 0 && (await podsOf("db")).length === 0, "the set's pods and claims collected", 20_000);
  });
});
