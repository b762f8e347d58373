import { describe, expect, it } from "vitest";
import {
  DISRUPTION_DELETION_TIMEOUT_MS, EVICTION_REFUSED, evictionVerdict, scaledValue, syncBudget, type ScaleOf,
} from "../../../actors/disruption_decide.ts";
import type { OwnerReference, Pod, PodDisruptionBudget } from "../../../model/types.ts";
import { iso, T0 } from "../../helpers/control_plane_fixtures.ts";
import { validateStatus } from "../../../runtime/api/validation.ts";

const NOW = T0 + 60_000;

function pdb(spec: Partial<PodDisruptionBudget["spec"]> = {}, o: { status?: PodDisruptionBudget["status"]; generation?: number; namespace?: string } = {}): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: o.namespace ?? "default", uid: "pdb-uid", generation: o.generation ?? 1, resourceVersion: "7" },
    spec: { selector: { matchLabels: { app: "web" } }, ...spec },
    ...(o.status ? { status: o.status } : {}),
  };
}

type PodState = { ready?: boolean; phase?: "Running" | "Pending" | "Succeeded" | "Failed"; deleting?: boolean; owner?: Partial<OwnerReference> | null; labels?: Record<string, string>; namespace?: string };
function pod(name: string, o: PodState = {}): Pod {
  const owner: OwnerReference | undefined = o.owner === null ? undefined : { apiVersion: "v1", kind: "ReplicationController", name: "web", uid: "rc-uid", controller: true, ...o.owner };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name, namespace: o.namespace ?? "default", uid: `uid-${name}`, labels: o.labels ?? { app: "web" },
      ...(owner ? { ownerReferences: [owner] } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { containers: [{ name: "c", image: "berth/busybox:1" }] },
    status: { phase: o.phase ?? "Running", conditions: [{ type: "Ready", status: (o.ready ?? true) ? "True" : "False" }] },
  };
}

/** Controllers by uid: an RC of `replicas`, or a ReplicaSet of a Deployment. */
function scales(map: Record<string, { uid?: string; replicas: number }>): ScaleOf {
  return (ref) => {
    const s = map[ref.uid];
    return s && { uid: s.uid ?? ref.uid, replicas: s.replicas };
  };
}
const rc3 = scales({ "rc-uid": { replicas: 3 } });

describe("PodDisruptionBudget status (syncBudget)", () => {
  it("minAvailable as a count: expected is the pods picked, allowed is healthy − desired", () => {
    const r = syncBudget(pdb({ minAvailable: 2 }), [pod("a"), pod("b"), pod("c"), pod("x", { labels: { app: "other" } })], rc3, NOW);
    expect(r.status).toMatchObject({ observedGeneration: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 1 });
    expect(r.status!.conditions).toEqual([{ type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: 1, lastTransitionTime: iso(NOW) }]);
    expect(r.events).toEqual([]);
  });

  it("pods not Ready, being deleted or in another namespace are not healthy; allowed never goes below 0", () => {
    const pods = [pod("a"), pod("b", { ready: false }), pod("c", { deleting: true }), pod("d", { namespace: "other" })];
    const r = syncBudget(pdb({ minAvailable: 2 }), pods, rc3, NOW);
    expect(r.status).toMatchObject({ currentHealthy: 1, desiredHealthy: 2, expectedPods: 3, disruptionsAllowed: 0 });
    expect(r.status!.conditions![0]).toMatchObject({ status: "False", reason: "InsufficientPods" });
  });

  it("maxUnavailable counts against the controllers' scale, each controller once", () => {
    const both = scales({ "rc-uid": { replicas: 3 }, "rs-uid": { uid: "deploy-uid", replicas: 4 }, "rs2-uid": { uid: "deploy-uid", replicas: 4 } });
    const pods = [pod("a"), pod("b"), pod("c", { owner: { kind: "ReplicaSet", uid: "rs-uid" } }), pod("d", { owner: { kind: "ReplicaSet", uid: "rs2-uid" } })];
    const r = syncBudget(pdb({ maxUnavailable: 1 }), pods, both, NOW);
    // RC 3 + Deployment 4 (its two ReplicaSets count once): desired 7 − 1.
    expect(r.status).toMatchObject({ expectedPods: 7, desiredHealthy: 6, currentHealthy: 4, disruptionsAllowed: 0 });
  });

  it("percentages round up against the controllers' scale", () => {
    expect(scaledValue("50%", 3)).toBe(2);
    expect(scaledValue("34%", 3)).toBe(2);
    expect(scaledValue("0%", 3)).toBe(0);
    expect(scaledValue(4, 3)).toBe(4);
    const r = syncBudget(pdb({ minAvailable: "50%" }), [pod("a"), pod("b"), pod("c")], rc3, NOW);
    expect(r.status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    const u = syncBudget(pdb({ maxUnavailable: "34%" }), [pod("a"), pod("b"), pod("c")], rc3, NOW);
    expect(u.status).toMatchObject({ expectedPods: 3, desiredHealthy: 1, disruptionsAllowed: 2 });
  });

  it("a controller kind without a scale: the finder's error is the condition's message", () => {
    const noScale: ScaleOf = (ref) => {
      if (ref.kind === "DaemonSet") throw new Error("daemonsets.apps does not implement the scale subresource");
      return undefined;
    };
    const r = syncBudget(pdb({ maxUnavailable: 1 }), [pod("a", { owner: { kind: "DaemonSet", uid: "ds-uid" } })], noScale, NOW);
    expect(r.status!.conditions![0]).toMatchObject({ reason: "SyncFailed", message: "daemonsets.apps does not implement the scale subresource" });
  });

  it("pods with no controller are left out of the scale, with an UnmanagedPods warning", () => {
    const r = syncBudget(pdb({ maxUnavailable: 1 }), [pod("a"), pod("bare", { owner: null })], rc3, NOW);
    expect(r.status).toMatchObject({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    expect(r.events.map((e) => e.reason)).toEqual(["UnmanagedPods"]);
    expect(r.events[0].message).toContain('please set ".spec.minAvailable" field of the PDB to an integer value');
  });

  it("a controller with no scale fails the budget: no disruption, SyncFailed, observedGeneration kept", () => {
    const old = { observedGeneration: 1, disruptionsAllowed: 2, currentHealthy: 3, desiredHealthy: 1, expectedPods: 3 };
    const r = syncBudget(pdb({ minAvailable: "50%" }, { generation: 2, status: old }), [pod("a", { owner: { kind: "DaemonSet", uid: "ds-uid" } })], rc3, NOW);
    expect(r.status).toMatchObject({ ...old, disruptionsAllowed: 0 });
    expect(r.status!.conditions![0]).toMatchObject({ type: "DisruptionAllowed", status: "False", reason: "SyncFailed", message: 'found no controllers for pod "a"' });
    expect(r.events[0]).toMatchObject({ type: "Warning", reason: "CalculateExpectedPodCountFailed" });
  });

  it("no pods: a NoPods event, and no disruption allowed while nothing is expected", () => {
    const r = syncBudget(pdb({ minAvailable: 0 }), [], rc3, NOW);
    expect(r.events).toEqual([{ type: "Normal", reason: "NoPods", message: "No matching pods found" }]);
    expect(r.status).toMatchObject({ expectedPods: 0, disruptionsAllowed: 0 });
  });

  it("an absent selector picks no pod; an empty one picks every pod of the namespace", () => {
    expect(syncBudget(pdb({ minAvailable: 1, selector: undefined }), [pod("a")], rc3, NOW).status).toMatchObject({ expectedPods: 0 });
    expect(syncBudget(pdb({ minAvailable: 1, selector: {} }), [pod("a"), pod("b", { labels: {} })], rc3, NOW).status).toMatchObject({ expectedPods: 2, disruptionsAllowed: 1 });
  });

  it("disruptedPods: an evicted pod not yet deleted is not healthy for 2 minutes, then counts again with a NotDeleted", () => {
    const evictedAt = NOW - 30_000;
    const status = { observedGeneration: 1, disruptedPods: { a: iso(evictedAt), gone: iso(evictedAt), c: iso(NOW - DISRUPTION_DELETION_TIMEOUT_MS - 1) }, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2, expectedPods: 3 };
    const r = syncBudget(pdb({ minAvailable: 1 }, { status }), [pod("a"), pod("b"), pod("c")], rc3, NOW);
    // a: still within its 2 minutes (kept, not healthy); gone: no such pod (dropped); c: ran out (dropped, healthy again).
    expect(r.status).toMatchObject({ disruptedPods: { a: iso(evictedAt) }, currentHealthy: 2, disruptionsAllowed: 1 });
    expect(r.notDeleted).toEqual(["c"]);
    expect(r.recheckAfterMs).toBe(evictedAt + DISRUPTION_DELETION_TIMEOUT_MS - NOW + 1);
  });

  it("writes nothing when the stored status is already the one computed (as the API stores it, in its schema's key order)", () => {
    const first = syncBudget(pdb({ minAvailable: 1 }), [pod("a"), pod("b")], rc3, NOW);
    const stored = validateStatus("poddisruptionbudgets", { ...pdb({ minAvailable: 1 }), status: first.status }).status;
    const again = syncBudget(pdb({ minAvailable: 1 }, { status: stored }), [pod("a"), pod("b")], rc3, NOW + 5_000);
    expect(again.status).toBeUndefined();
    // A new generation is observed even when the numbers stay.
    expect(syncBudget(pdb({ minAvailable: 1 }, { status: first.status, generation: 2 }), [pod("a"), pod("b")], rc3, NOW).status).toMatchObject({ observedGeneration: 2 });
  });

  it("keeps the condition's lastTransitionTime while its status stays", () => {
    const first = syncBudget(pdb({ minAvailable: 1 }), [pod("a"), pod("b"), pod("c")], rc3, NOW).status!;
    const fewer = syncBudget(pdb({ minAvailable: 1 }, { status: first }), [pod("a"), pod("b")], rc3, NOW + 1_000).status!;
    expect(fewer.conditions![0].lastTransitionTime).toBe(iso(NOW));
    const none = syncBudget(pdb({ minAvailable: 1 }, { status: fewer }), [pod("a")], rc3, NOW + 2_000).status!;
    expect(none.conditions![0]).toMatchObject({ status: "False", lastTransitionTime: iso(NOW + 2_000) });
  });
});

describe("eviction against budgets (evictionVerdict)", () => {
  const healthy = (o: Partial<NonNullable<PodDisruptionBudget["status"]>> = {}) => ({ observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, ...o });

  it("a pod that is not running, or going already, is deleted without a look at budgets", () => {
    const budget = pdb({ minAvailable: 3 }, { status: healthy({ disruptionsAllowed: 0 }) });
    for (const p of [pod("a", { phase: "Pending" }), pod("a", { phase: "Succeeded" }), pod("a", { phase: "Failed" }), pod("a", { deleting: true })]) {
      expect(evictionVerdict(p, [budget], NOW)).toEqual({ type: "delete", why: "pod-not-running" });
    }
  });

  it("no budget picks it: deleted; two budgets: refused with 500", () => {
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1, selector: { matchLabels: { app: "other" } } })], NOW)).toEqual({ type: "delete", why: "no-budget" });
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1 }, { namespace: "elsewhere" })], NOW)).toEqual({ type: "delete", why: "no-budget" });
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1 }), pdb({ maxUnavailable: 1 })], NOW)).toMatchObject({ type: "refuse", code: 500, message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." });
  });

  it("room in the budget: one disruption fewer and the pod in disruptedPods; the condition turns False at 0", () => {
    const v = evictionVerdict(pod("a"), [pdb({ minAvailable: 2 }, { status: healthy() })], NOW);
    expect(v.type).toBe("spend");
    if (v.type !== "spend") return;
    expect(v.status).toMatchObject({ disruptionsAllowed: 0, disruptedPods: { a: iso(NOW) } });
    expect(v.status.conditions![0]).toMatchObject({ type: "DisruptionAllowed", status: "False", reason: "InsufficientPods" });
    const two = evictionVerdict(pod("a"), [pdb({ minAvailable: 1 }, { status: healthy({ disruptionsAllowed: 2 }) })], NOW);
    expect(two).toMatchObject({ type: "spend", status: { disruptionsAllowed: 1 } });
    expect((two as { status: { conditions?: unknown } }).status.conditions).toBeUndefined();
  });

  it("no room: 429 with the budget's numbers; a generation not yet observed: 429 still being processed", () => {
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 3 }, { status: healthy({ disruptionsAllowed: 0, desiredHealthy: 3 }) })], NOW)).toEqual({
      type: "refuse", code: 429, message: EVICTION_REFUSED, cause: "The disruption budget web needs 3 healthy pods and has 3 currently",
    });
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1 }, { status: healthy(), generation: 2 })], NOW)).toMatchObject({
      type: "refuse", code: 429, cause: "The disruption budget web is still being processed by the server.", retryAfterSeconds: 10,
    });
    // A budget the controller has not written at all yet.
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1 })], NOW)).toMatchObject({ type: "refuse", code: 429 });
  });

  it("an unhealthy pod: let go without spending when the budget is healthy (IfHealthyBudget) or always (AlwaysAllow)", () => {
    const sick = pod("a", { ready: false });
    expect(evictionVerdict(sick, [pdb({ minAvailable: 2 }, { status: healthy({ disruptionsAllowed: 0, currentHealthy: 2 }) })], NOW)).toEqual({ type: "delete", why: "unhealthy-pod" });
    // The budget itself short: the unhealthy pod goes through it (and there is no room).
    expect(evictionVerdict(sick, [pdb({ minAvailable: 3 }, { status: healthy({ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 3 }) })], NOW)).toMatchObject({ type: "refuse", code: 429 });
    expect(evictionVerdict(sick, [pdb({ minAvailable: 3, unhealthyPodEvictionPolicy: "AlwaysAllow" }, { status: healthy({ disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 3 }) })], NOW)).toEqual({ type: "delete", why: "unhealthy-pod" });
  });

  it("refuses when the controller has not confirmed too many evictions", () => {
    const many = Object.fromEntries(Array.from({ length: 2001 }, (_, i) => [`p${i}`, iso(NOW)]));
    expect(evictionVerdict(pod("a"), [pdb({ minAvailable: 1 }, { status: healthy({ disruptedPods: many }) })], NOW)).toMatchObject({ type: "refuse", code: 403 });
  });
});
