import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  claimOwners, decideStatefulSet, parseOrdinal, statefulClaims, statefulPod, updateRevision, type StatefulCommand,
} from "../../../actors/statefulset_decide.ts";
import { newRevision, revisionsToPrune, revisionTemplate } from "../../../actors/controller_history.ts";
import type { ControllerRevision, PersistentVolumeClaim, Pod, StatefulSet } from "../../../model/types.ts";
import { iso, T0 } from "../../helpers/control_plane_fixtures.ts";

function sts(o: Partial<StatefulSet["spec"]> & { image?: string; status?: StatefulSet["status"]; deleting?: boolean } = {}): StatefulSet {
  const { image, status, deleting, ...spec } = o;
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default", uid: "sts-uid", generation: 2, ...(deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: {
      replicas: 3,
      serviceName: "nginx",
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: image ?? "berth/busybox:1" }] } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

type PodState = { phase?: "Running" | "Pending" | "Failed" | "Succeeded"; ready?: boolean; deleting?: boolean; revisionOf?: StatefulSet; readySince?: number };
/** Pod `ordinal` of `set` as the API would hold it, in the given state (Running and Ready by default). */
function spod(set: StatefulSet, ordinal: number, o: PodState = {}): Pod {
  const p = statefulPod(set, ordinal, updateRevision(o.revisionOf ?? set));
  const phase = o.phase ?? "Running";
  return {
    ...p,
    metadata: { ...p.metadata, uid: `uid-${p.metadata.name}`, creationTimestamp: iso(T0), ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    status: { phase, conditions: [{ type: "Ready", status: (o.ready ?? phase === "Running") ? "True" : "False", lastTransitionTime: iso(o.readySince ?? T0) }] },
  };
}

const NOW = T0 + 60_000;
const noClaims = () => undefined;
const summary = (cmds: StatefulCommand[]) => cmds.map((c) => {
  if (c.type === "createPod") return `create ${c.pod.metadata.name}`;
  if (c.type === "deletePod") return `delete ${c.pod.metadata.name} (${c.reason})`;
  if (c.type === "createClaims") return `claims ${c.claims.map((x) => x.metadata.name).join(",")}`;
  return `owners ${c.claim.metadata.name}`;
});

describe("the StatefulSet decision", () => {
  it("names pods <set>-<ordinal>, with hostname, subdomain, identity labels, the revision and the claims' volumes", () => {
    const set = sts({ volumeClaimTemplates: [{ metadata: { name: "data", labels: { tier: "db" } }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] });
    const p = statefulPod(set, 2, "web-abc");
    expect(p.metadata.name).toBe("web-2");
    expect(p.spec.hostname).toBe("web-2");
    expect(p.spec.subdomain).toBe("nginx");
    expect(p.metadata.labels).toMatchObject({ app: "web", "statefulset.kubernetes.io/pod-name": "web-2", "apps.kubernetes.io/pod-index": "2", "controller-revision-hash": "web-abc" });
    expect(p.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "sts-uid", controller: true, blockOwnerDeletion: true }]);
    expect(p.spec.volumes).toEqual([{ name: "data", persistentVolumeClaim: { claimName: "data-web-2" } }]);
    const [claim] = statefulClaims(set, 2);
    expect(claim.metadata).toMatchObject({ name: "data-web-2", namespace: "default", labels: { tier: "db", app: "web" } });
    expect(claim.metadata.ownerReferences).toBeUndefined();
  });

  it("parses ordinals only from names that end in one", () => {
    expect(parseOrdinal("web-0")).toEqual(["web", 0]);
    expect(parseOrdinal("my-db-12")).toEqual(["my-db", 12]);
    expect(parseOrdinal("web-01")).toBeUndefined();
    expect(parseOrdinal("web")).toBeUndefined();
    expect(parseOrdinal("web-x")).toBeUndefined();
  });

  it("OrderedReady creates one pod at a time, each only when the ones below are Running and Ready", () => {
    const set = sts();
    expect(summary(decideStatefulSet({ set, pods: [], claim: noClaims, now: NOW }).commands)).toEqual(["create web-0"]);
    const pending = decideStatefulSet({ set, pods: [spod(set, 0, { phase: "Pending" })], claim: noClaims, now: NOW });
    expect(pending.commands).toEqual([]);
    expect(pending.waiting).toContain("web-0 to be Running and Ready");
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0)], claim: noClaims, now: NOW }).commands)).toEqual(["create web-1"]);
    // A gap is filled first: web-1 is missing, web-2 exists.
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0), spod(set, 2)], claim: noClaims, now: NOW }).commands)).toEqual(["create web-1"]);
  });

  it("waits for minReadySeconds before the next pod, and says when to look again", () => {
    const set = sts({ minReadySeconds: 30 });
    const d = decideStatefulSet({ set, pods: [spod(set, 0, { readySince: NOW - 10_000 })], claim: noClaims, now: NOW });
    expect(d.commands).toEqual([]);
    expect(d.requeueAfterMs).toBe(20_000);
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0, { readySince: NOW - 30_000 })], claim: noClaims, now: NOW }).commands)).toEqual(["create web-1"]);
  });

  it("Parallel creates every missing pod at once, and scales down without waiting", () => {
    const set = sts({ podManagementPolicy: "Parallel", replicas: 3 });
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 1, { phase: "Pending" })], claim: noClaims, now: NOW }).commands)).toEqual(["create web-0", "create web-2"]);
    const down = sts({ podManagementPolicy: "Parallel", replicas: 1 });
    expect(summary(decideStatefulSet({ set: down, pods: [0, 1, 2].map((i) => spod(down, i, { phase: "Pending" })), claim: noClaims, now: NOW }).commands)).toEqual(["delete web-2 (condemned)", "delete web-1 (condemned)"]);
  });

  it("scales down from the highest ordinal, one at a time, not while another pod is unhealthy", () => {
    const set = sts({ replicas: 1 });
    const all = [0, 1, 2].map((i) => spod(set, i));
    expect(summary(decideStatefulSet({ set, pods: all, claim: noClaims, now: NOW }).commands)).toEqual(["delete web-2 (condemned)"]);
    const terminating = [spod(set, 0), spod(set, 1), spod(set, 2, { deleting: true })];
    expect(decideStatefulSet({ set, pods: terminating, claim: noClaims, now: NOW }).commands).toEqual([]);
    // web-1 is the first unhealthy pod: it may go (it is condemned), web-2 first though.
    const sick = [spod(set, 0), spod(set, 1, { ready: false }), spod(set, 2)];
    expect(summary(decideStatefulSet({ set, pods: sick, claim: noClaims, now: NOW }).commands)).toEqual(["delete web-2 (condemned)"]);
    // web-2 is unhealthy but web-1 (lower) is the first unhealthy: web-2 waits.
    const blocked = [spod(set, 0), spod(set, 1, { ready: false }), spod(set, 2, { ready: false })];
    expect(summary(decideStatefulSet({ set, pods: blocked, claim: noClaims, now: NOW }).commands)).toEqual([]);
    // A replica that is not ready holds scale-down in OrderedReady.
    expect(decideStatefulSet({ set, pods: [spod(set, 0, { ready: false }), spod(set, 1)], claim: noClaims, now: NOW }).commands).toEqual([]);
  });

  it("deletes a failed pod (made again under its name later)", () => {
    const set = sts({ replicas: 2 });
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0, { phase: "Failed" }), spod(set, 1)], claim: noClaims, now: NOW }).commands)).toEqual(["delete web-0 (failed)"]);
  });

  it("makes the pod's claims first, waits while one is being deleted, and makes a pending pod's missing claim again", () => {
    const set = sts({ replicas: 1, volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] });
    expect(summary(decideStatefulSet({ set, pods: [], claim: noClaims, now: NOW }).commands)).toEqual(["claims data-web-0", "create web-0"]);
    const existing = { ...statefulClaims(set, 0)[0], metadata: { ...statefulClaims(set, 0)[0].metadata, uid: "c0" } };
    expect(summary(decideStatefulSet({ set, pods: [], claim: (n) => (n === "data-web-0" ? existing : undefined), now: NOW }).commands)).toEqual(["create web-0"]);
    const going = { ...existing, metadata: { ...existing.metadata, deletionTimestamp: iso(T0) } };
    const d = decideStatefulSet({ set, pods: [], claim: () => going, now: NOW });
    expect(d.commands).toEqual([]);
    expect(d.waiting).toContain("being deleted");
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0, { phase: "Pending" })], claim: noClaims, now: NOW }).commands)).toEqual(["claims data-web-0"]);
  });

  it("rolls from the highest ordinal down to the partition, one pod at a time, waiting for each", () => {
    const old = sts({ image: "berth/busybox:1" });
    const set = sts({ image: "berth/busybox:2", status: { currentRevision: updateRevision(old) } });
    const olds = [0, 1, 2].map((i) => spod(set, i, { revisionOf: old }));
    const d1 = decideStatefulSet({ set, pods: olds, claim: noClaims, now: NOW });
    expect(summary(d1.commands)).toEqual(["delete web-2 (update)"]);
    expect(d1.status).toMatchObject({ currentRevision: updateRevision(old), updateRevision: updateRevision(set), currentReplicas: 3, updatedReplicas: 0 });
    // web-2 came back at the new revision but is not ready: wait.
    const mid = [olds[0], olds[1], spod(set, 2, { phase: "Pending" })];
    expect(decideStatefulSet({ set, pods: mid, claim: noClaims, now: NOW }).commands).toEqual([]);
    const next = [olds[0], olds[1], spod(set, 2)];
    expect(summary(decideStatefulSet({ set, pods: next, claim: noClaims, now: NOW }).commands)).toEqual(["delete web-1 (update)"]);
    // With partition 2, web-0 and web-1 stay at the old revision; the rollout is then partitioned.
    const partitioned = sts({ image: "berth/busybox:2", updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } }, status: { currentRevision: updateRevision(old) } });
    expect(decideStatefulSet({ set: partitioned, pods: [olds[0], olds[1], spod(partitioned, 2)], claim: noClaims, now: NOW }).commands).toEqual([]);
    // All updated and ready: the update revision becomes the current one.
    const done = decideStatefulSet({ set, pods: [0, 1, 2].map((i) => spod(set, i)), claim: noClaims, now: NOW });
    expect(done.status).toMatchObject({ currentRevision: updateRevision(set), currentReplicas: 3, updatedReplicas: 3, readyReplicas: 3, replicas: 3, observedGeneration: 2 });
  });

  it("makes a pod below the partition from the current revision's template, and one above from the update's", () => {
    const old = sts({ image: "berth/busybox:1" });
    const set = sts({ image: "berth/busybox:2", updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } }, status: { currentRevision: updateRevision(old) } });
    const below = decideStatefulSet({ set, pods: [spod(set, 1, { revisionOf: old }), spod(set, 2)], claim: noClaims, now: NOW, currentTemplate: old.spec.template });
    const made = below.commands.find((c) => c.type === "createPod") as Extract<StatefulCommand, { type: "createPod" }>;
    expect(made.pod.metadata.name).toBe("web-0");
    expect(made.pod.spec.containers[0].image).toBe("berth/busybox:1");
    expect(made.pod.metadata.labels?.["controller-revision-hash"]).toBe(updateRevision(old));
    const above = decideStatefulSet({ set, pods: [spod(set, 0, { revisionOf: old }), spod(set, 1, { revisionOf: old })], claim: noClaims, now: NOW, currentTemplate: old.spec.template });
    const made2 = above.commands.find((c) => c.type === "createPod") as Extract<StatefulCommand, { type: "createPod" }>;
    expect([made2.pod.metadata.name, made2.pod.spec.containers[0].image]).toEqual(["web-2", "berth/busybox:2"]);
    // Without a partition the update revision is used, as Kubernetes does.
    const plain = sts({ image: "berth/busybox:2", status: { currentRevision: updateRevision(old) } });
    const made3 = decideStatefulSet({ set: plain, pods: [], claim: noClaims, now: NOW, currentTemplate: old.spec.template }).commands[0] as Extract<StatefulCommand, { type: "createPod" }>;
    expect(made3.pod.spec.containers[0].image).toBe("berth/busybox:2");
  });

  it("records a template as a revision kubectl can apply back, and keeps revisionHistoryLimit old ones besides the live", () => {
    const set = { ...sts({ revisionHistoryLimit: 2 }), metadata: { ...sts().metadata, annotations: { "kubernetes.io/change-cause": "v1" } } };
    const rev = newRevision(set, updateRevision(set), 3);
    expect(rev.metadata).toMatchObject({ name: updateRevision(set), labels: { app: "web" }, annotations: { "kubernetes.io/change-cause": "v1" } });
    expect(rev.metadata.ownerReferences?.[0]).toMatchObject({ kind: "StatefulSet", uid: "sts-uid", controller: true });
    expect(rev.revision).toBe(3);
    expect((rev.data as { spec: { template: { $patch: string } } }).spec.template.$patch).toBe("replace");
    expect(revisionTemplate(rev)).toEqual(set.spec.template);
    // A changed collision count changes the name, not the template.
    const collided = { ...set, status: { collisionCount: 1 } };
    expect(updateRevision(collided)).not.toBe(updateRevision(set));
    expect(revisionTemplate(newRevision(collided, updateRevision(collided), 1))).toEqual(set.spec.template);

    const revs: ControllerRevision[] = [1, 2, 3, 4, 5, 6].map((n) => ({ apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: `web-r${n}`, namespace: "default" }, revision: n }));
    // Live: r6 (update), r5 (current), r2 (a pod's). Of r1, r3, r4 two stay: r1 goes.
    expect(revisionsToPrune(2, revs, ["web-r6", "web-r5", "web-r2"]).map((r) => r.metadata.name)).toEqual(["web-r1"]);
    expect(revisionsToPrune(0, revs, ["web-r6", "web-r5", "web-r2"]).map((r) => r.metadata.name)).toEqual(["web-r1", "web-r3", "web-r4"]);
    expect(revisionsToPrune(undefined, revs, []).map((r) => r.metadata.name)).toEqual([]);
  });

  it("waits while a missing pod's claim is still owned by the pod that was there (whenScaled: Delete), rather than use a claim about to be collected", () => {
    const tmpl = [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce" as const], resources: { requests: { storage: "1Gi" } } } }];
    const set = sts({ replicas: 2, volumeClaimTemplates: tmpl, persistentVolumeClaimRetentionPolicy: { whenScaled: "Delete" } });
    const claim = (i: number, owners?: PersistentVolumeClaim["metadata"]["ownerReferences"]) => ({ ...statefulClaims(set, i)[0], metadata: { ...statefulClaims(set, i)[0].metadata, uid: `c${i}`, ...(owners ? { ownerReferences: owners } : {}) } });
    const stale = claim(1, [{ apiVersion: "v1", kind: "Pod", name: "web-1", uid: "old-web-1" }]);
    const claims = new Map([["data-web-0", claim(0)], ["data-web-1", stale]]);
    const d = decideStatefulSet({ set, pods: [spod(set, 0)], claim: (n) => claims.get(n), now: NOW });
    expect(d.commands.filter((c) => c.type === "createPod")).toEqual([]);
    expect(d.waiting).toContain("web-1");
    // Once collected, the pod and a fresh claim are made.
    claims.delete("data-web-1");
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0)], claim: (n) => claims.get(n), now: NOW }).commands)).toEqual(["claims data-web-1", "create web-1"]);
  });

  it("leaves the claims of a set being deleted alone, and claims another controller owns", () => {
    const tmpl = [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce" as const], resources: { requests: { storage: "1Gi" } } } }];
    const deleting = sts({ replicas: 1, deleting: true, volumeClaimTemplates: tmpl, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } });
    const c = { ...statefulClaims(deleting, 0)[0], metadata: { ...statefulClaims(deleting, 0)[0].metadata, uid: "c0" } };
    expect(decideStatefulSet({ set: deleting, pods: [spod(deleting, 0)], claim: () => c, now: NOW }).commands).toEqual([]);
    const live = sts({ replicas: 1, volumeClaimTemplates: tmpl, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } });
    const foreign = { ...c, metadata: { ...c.metadata, ownerReferences: [{ apiVersion: "v1", kind: "Other", name: "x", uid: "x", controller: true }] } };
    expect(decideStatefulSet({ set: live, pods: [spod(live, 0)], claim: () => foreign, now: NOW }).commands).toEqual([]);
    expect(summary(decideStatefulSet({ set: live, pods: [spod(live, 0)], claim: () => c, now: NOW }).commands)).toEqual(["owners data-web-0"]);
  });

  it("counts a rollout complete only when spec.replicas pods are updated and ready, terminating ones not counted as updated", () => {
    const old = sts({ image: "berth/busybox:1" });
    const set = sts({ image: "berth/busybox:2", status: { currentRevision: updateRevision(old) } });
    const missing = decideStatefulSet({ set, pods: [spod(set, 1), spod(set, 2)], claim: noClaims, now: NOW });
    expect(missing.status.currentRevision).toBe(updateRevision(old));
    const terminating = decideStatefulSet({ set, pods: [spod(set, 0), spod(set, 1), spod(set, 2, { deleting: true })], claim: noClaims, now: NOW });
    expect(terminating.status).toMatchObject({ replicas: 3, updatedReplicas: 2, currentRevision: updateRevision(old) });
  });

  it("scales down only pods available for minReadySeconds (OrderedReady)", () => {
    const set = sts({ replicas: 1, minReadySeconds: 600 });
    const d = decideStatefulSet({ set, pods: [spod(set, 0, { readySince: NOW - 700_000 }), spod(set, 1, { readySince: NOW - 10_000 })], claim: noClaims, now: NOW });
    expect(d.commands).toEqual([]);
    expect(d.requeueAfterMs).toBe(590_000);
    expect(summary(decideStatefulSet({ set, pods: [spod(set, 0, { readySince: NOW - 700_000 }), spod(set, 1, { readySince: NOW - 600_000 })], claim: noClaims, now: NOW }).commands)).toEqual(["delete web-1 (condemned)"]);
  });

  it("OnDelete never deletes for an update", () => {
    const old = sts({ image: "berth/busybox:1" });
    const set = sts({ image: "berth/busybox:2", updateStrategy: { type: "OnDelete" }, status: { currentRevision: updateRevision(old) } });
    const d = decideStatefulSet({ set, pods: [0, 1, 2].map((i) => spod(set, i, { revisionOf: old })), claim: noClaims, now: NOW });
    expect(d.commands).toEqual([]);
    expect(d.status).toMatchObject({ currentRevision: updateRevision(old), updatedReplicas: 0 });
  });

  it("does nothing but report for a set being deleted", () => {
    const set = sts({ deleting: true });
    const d = decideStatefulSet({ set, pods: [spod(set, 0)], claim: noClaims, now: NOW });
    expect(d.commands).toEqual([]);
    expect(d.status.replicas).toBe(1);
  });

  it("gives claims owner references by the retention policy, and takes them away when it changes", () => {
    const tmpl = [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce" as const], resources: { requests: { storage: "1Gi" } } } }];
    const set = sts({ replicas: 1, volumeClaimTemplates: tmpl, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" } });
    const claimsOf = (i: number, owners?: PersistentVolumeClaim["metadata"]["ownerReferences"]) => ({ ...statefulClaims(set, i)[0], metadata: { ...statefulClaims(set, i)[0].metadata, uid: `c${i}`, ...(owners ? { ownerReferences: owners } : {}) } });
    const pods = [spod(set, 0), spod(set, 1)];
    const claims = new Map([["data-web-0", claimsOf(0)], ["data-web-1", claimsOf(1)]]);
    const d = decideStatefulSet({ set, pods, claim: (n) => claims.get(n), now: NOW });
    const owners = d.commands.filter((c): c is Extract<StatefulCommand, { type: "updateClaimOwners" }> => c.type === "updateClaimOwners");
    expect(owners.map((c) => [c.claim.metadata.name, c.ownerReferences.map((r) => `${r.kind}/${r.name}`)])).toEqual([
      ["data-web-0", ["StatefulSet/web"]],
      ["data-web-1", ["Pod/web-1"]],
    ]);
    // Back to Retain: the references go, others stay.
    const retain = sts({ replicas: 2, volumeClaimTemplates: tmpl });
    const foreign = { apiVersion: "v1", kind: "ConfigMap", name: "x", uid: "cm" };
    const c = claimsOf(0, [foreign, { apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: "sts-uid" }]);
    expect(claimOwners(retain, c, pods[0], false)).toEqual([foreign]);
  });

  it("property: whatever the pods, OrderedReady acts on at most one pod, never touches a terminating one, and never creates an existing name", () => {
    const state = fc.record({
      phase: fc.constantFrom("Running", "Pending", "Failed", "Succeeded") as fc.Arbitrary<PodState["phase"]>,
      ready: fc.boolean(),
      deleting: fc.boolean(),
      old: fc.boolean(),
    });
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.array(fc.option(state, { nil: undefined }), { maxLength: 7 }), (replicas, states) => {
      const old = sts({ image: "berth/busybox:1" });
      const set = sts({ replicas, image: "berth/busybox:2", status: { currentRevision: updateRevision(old) } });
      const pods = states.flatMap((s, i) => (s ? [spod(set, i, { phase: s.phase, ready: s.ready, deleting: s.deleting, revisionOf: s.old ? old : set })] : []));
      const d = decideStatefulSet({ set, pods, claim: noClaims, now: NOW });
      const acts = d.commands.filter((c) => c.type === "createPod" || c.type === "deletePod");
      expect(acts.length).toBeLessThanOrEqual(1);
      const names = new Set(pods.map((p) => p.metadata.name));
      for (const c of acts) {
        if (c.type === "createPod") expect(names.has(c.pod.metadata.name)).toBe(false);
        if (c.type === "deletePod") expect(c.pod.metadata.deletionTimestamp).toBeUndefined();
      }
      expect(d.status.replicas).toBe(pods.length);
    }));
  });
});
