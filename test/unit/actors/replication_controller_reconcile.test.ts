import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  BURST_REPLICAS,
  comparePodsForDeletion,
  reconcile,
  slowStartBatches,
  type Command,
} from "../../../actors/replication_controller_reconcile.ts";
import { creationObserved, deletionObserved, expect as expectOf, type Expectation } from "../../../actors/expectations.ts";
import type { Pod, ReplicationController } from "../../../model/types.ts";
import { T0, iso, pod, rc } from "../../helpers/control_plane_fixtures.ts";

const ofType = <T extends Command["type"]>(cmds: Command[], t: T) => cmds.filter((c): c is Extract<Command, { type: T }> => c.type === t);
const owned = (name: string, o: Parameters<typeof pod>[1] = {}) => pod(name, { labels: { app: "web" }, owner: "web", node: "n1", ready: true, ...o });

describe("replication controller reconcile", () => {
  it("creates the missing replicas in slow-start batches", () => {
    const cmds = reconcile({ rc: rc("web", 10), pods: [owned("a")], now: T0 });
    expect(ofType(cmds, "createPods")).toEqual([{ type: "createPods", count: 9, batches: [1, 2, 4, 2] }]);
  });

  it("caps one reconcile at the burst size", () => {
    const cmds = reconcile({ rc: rc("web", 2000), pods: [], now: T0 });
    expect(ofType(cmds, "createPods")[0].count).toBe(BURST_REPLICAS);
    expect(slowStartBatches(BURST_REPLICAS).reduce((a, b) => a + b, 0)).toBe(BURST_REPLICAS);
  });

  it("does not count terminated or deleting pods", () => {
    const pods = [owned("a"), owned("b", { phase: "Failed" }), owned("c", { deleting: true }), owned("d", { phase: "Succeeded" })];
    expect(ofType(reconcile({ rc: rc("web", 2), pods, now: T0 }), "createPods")[0].count).toBe(1);
  });

  it("deletes the surplus in Kubernetes' ranking order", () => {
    const pods = [
      owned("old-ready", { readySince: T0 - 100_000, created: T0 - 200_000 }),
      owned("young-ready", { readySince: T0 - 1_000, created: T0 - 200_000 }),
      owned("not-ready", { ready: false }),
      owned("running-unknown", { phase: "Unknown" }),
      owned("pending", { phase: "Pending" }),
      owned("unscheduled", { node: undefined, phase: "Pending" }),
      owned("restarty", { readySince: T0 - 100_000, created: T0 - 200_000, restarts: 3 }),
    ];
    const order = [...pods].sort(comparePodsForDeletion).map((p) => p.metadata.name);
    expect(order).toEqual(["unscheduled", "pending", "running-unknown", "not-ready", "young-ready", "restarty", "old-ready"]);
    const del = ofType(reconcile({ rc: rc("web", 4), pods, now: T0 }), "deletePods")[0];
    expect(del.pods.map((p) => p.metadata.name)).toEqual(["unscheduled", "pending", "running-unknown"]);
  });

  it("deletes newer pods first when otherwise equal", () => {
    const pods = [owned("older", { created: T0 - 10, ready: false }), owned("newer", { created: T0, ready: false })];
    expect(ofType(reconcile({ rc: rc("web", 1), pods, now: T0 }), "deletePods")[0].pods[0].metadata.name).toBe("newer");
  });

  it("adopts matching orphans and counts them", () => {
    const orphan = pod("orphan", { labels: { app: "web" } });
    const cmds = reconcile({ rc: rc("web", 1), pods: [orphan], now: T0 });
    expect(ofType(cmds, "adopt").map((c) => c.pod.metadata.name)).toEqual(["orphan"]);
    expect(ofType(cmds, "createPods")).toEqual([]);
  });

  it("does not adopt pods being deleted, nor while the RC itself is being deleted", () => {
    expect(ofType(reconcile({ rc: rc("web", 1), pods: [pod("o", { labels: { app: "web" }, deleting: true })], now: T0 }), "adopt")).toEqual([]);
    const cmds = reconcile({ rc: rc("web", 1, { deleting: true }), pods: [pod("o", { labels: { app: "web" } })], now: T0 });
    expect(ofType(cmds, "adopt")).toEqual([]);
    expect(ofType(cmds, "createPods")).toEqual([]);
  });

  it("releases an owned pod whose labels stop matching and replaces it", () => {
    const relabelled = owned("a", { labels: { app: "debug" } });
    const cmds = reconcile({ rc: rc("web", 1), pods: [relabelled], now: T0 });
    expect(ofType(cmds, "release").map((c) => c.pod.metadata.name)).toEqual(["a"]);
    expect(ofType(cmds, "createPods")[0].count).toBe(1);
  });

  it("never touches pods controlled by another controller or in another namespace", () => {
    const pods = [pod("x", { labels: { app: "web" }, owner: "other" }), pod("y", { labels: { app: "web" }, ns: "prod" })];
    const cmds = reconcile({ rc: rc("web", 1), pods, now: T0 });
    expect(cmds.filter((c) => c.type === "adopt" || c.type === "release" || c.type === "deletePods")).toEqual([]);
    expect(ofType(cmds, "createPods")[0].count).toBe(1);
  });

  it("an empty selector matches nothing", () => {
    const r = rc("web", 1, { selector: {} });
    const cmds = reconcile({ rc: r, pods: [pod("o", { labels: { app: "web" } })], now: T0 });
    expect(ofType(cmds, "adopt")).toEqual([]);
  });

  it("waits while creations are in flight, and acts again once the expectation expires", () => {
    const e: Expectation = expectOf(2, [], T0);
    expect(ofType(reconcile({ rc: rc("web", 3), pods: [owned("a")], expectations: e, now: T0 + 1000 }), "createPods")).toEqual([]);
    expect(ofType(reconcile({ rc: rc("web", 3), pods: [owned("a")], expectations: e, now: T0 + 10 * 60_000 }), "createPods")[0].count).toBe(2);
  });

  it("reports replicas, ready, available (minReadySeconds) and observedGeneration", () => {
    const pods = [owned("a", { readySince: T0 - 60_000 }), owned("b", { readySince: T0 - 1_000 }), owned("c", { ready: false })];
    const cmds = reconcile({ rc: rc("web", 3, { minReadySeconds: 10, generation: 4 }), pods, now: T0 });
    expect(ofType(cmds, "updateStatus")[0].status).toEqual({
      replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 4,
    });
  });

  it("sets a ReplicaFailure condition while creates fail, and clears it after", () => {
    const failing = reconcile({ rc: rc("web", 1), pods: [], now: T0, createError: "quota exceeded" });
    const status = ofType(failing, "updateStatus")[0].status;
    expect(status.conditions).toEqual([expect.objectContaining({ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: "quota exceeded" })]);
    const ok = reconcile({ rc: rc("web", 0, { status }), pods: [], now: T0 });
    expect(ofType(ok, "updateStatus")[0].status.conditions).toBeUndefined();
  });

  it("does nothing at all once converged", () => {
    const pods = [owned("a"), owned("b")];
    const status = { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 };
    expect(reconcile({ rc: rc("web", 2, { status }), pods, now: T0 })).toEqual([]);
  });

  // ---------------------------------------------------------------------------------------------
  // Properties.

  const arbPod = fc.record({
    app: fc.constantFrom("web", "web", "other"),
    owner: fc.constantFrom<string | undefined>("web", "web", undefined, "rival"),
    node: fc.constantFrom<string | undefined>("n1", "n2", undefined),
    phase: fc.constantFrom<Pod["status"] extends infer S ? S extends { phase?: infer P } ? P : never : never>("Pending", "Running", "Running", "Unknown", "Failed"),
    ready: fc.boolean(),
    readyAgo: fc.integer({ min: 0, max: 100 }),
    restarts: fc.integer({ min: 0, max: 3 }),
    createdAgo: fc.integer({ min: 0, max: 100 }),
    deleting: fc.integer({ min: 0, max: 9 }).map((i) => i === 0),
  });
  const arbPods = fc.array(arbPod, { maxLength: 30 }).map((ps) =>
    ps.map((p, i) => pod(`p${i}`, {
      labels: { app: p.app }, owner: p.owner, node: p.node, phase: p.phase, ready: p.ready,
      readySince: T0 - p.readyAgo * 1000, restarts: p.restarts, created: T0 - p.createdAgo * 1000, deleting: p.deleting,
    })));

  it("property: the surplus deleted always ranks before every pod kept", () => {
    fc.assert(
      fc.property(arbPods, fc.integer({ min: 0, max: 10 }), (pods, replicas) => {
        const cmds = reconcile({ rc: rc("web", replicas), pods, now: T0 });
        const del = ofType(cmds, "deletePods")[0];
        if (!del) return;
        const deleted = new Set(del.pods.map((p) => p.metadata.name));
        const kept = pods.filter((p) => !deleted.has(p.metadata.name) && [undefined, "uid-web"].includes(p.metadata.ownerReferences?.[0]?.uid) &&
          p.metadata.labels?.app === "web" && !p.metadata.deletionTimestamp && p.status?.phase !== "Failed");
        for (const d of del.pods) for (const k of kept) expect(comparePodsForDeletion(d, k)).toBeLessThan(0);
        expect(kept.length).toBe(replicas);
      }),
      { numRuns: 300 },
    );
  });

  it("property: the deletion ranking is a total order", () => {
    fc.assert(
      fc.property(arbPods, (pods) => {
        for (const a of pods) for (const b of pods) {
          expect(Math.sign(comparePodsForDeletion(a, b)) + Math.sign(comparePodsForDeletion(b, a))).toBe(0);
          if (a !== b) expect(comparePodsForDeletion(a, b)).not.toBe(0);
        }
      }),
      { numRuns: 100 },
    );
  });

  /** A little world: the true pods, the controller's lagging view of them, and its expectations. */
  function applyCommands(world: Pod[], r: ReplicationController, cmds: Command[], seq: { n: number }, fail: (i: number) => boolean) {
    let failed = 0;
    for (const c of cmds) {
      switch (c.type) {
        case "createPods":
          for (let i = 0; i < c.count; i++) {
            if (fail(seq.n)) { failed++; seq.n++; continue; }
            world.push(pod(`new-${seq.n++}`, { labels: { app: "web" }, owner: "web", node: "n1", ready: true, created: T0 + seq.n }));
          }
          break;
        case "deletePods":
          for (const p of c.pods) {
            const i = world.findIndex((w) => w.metadata.name === p.metadata.name);
            if (i >= 0) world.splice(i, 1);
          }
          break;
        case "adopt":
        case "release": {
          const i = world.findIndex((w) => w.metadata.name === c.pod.metadata.name);
          if (i < 0) break;
          const refs = c.type === "adopt" ? [{ apiVersion: "v1", kind: "ReplicationController", name: "web", uid: "uid-web", controller: true }] : [];
          world[i] = { ...world[i], metadata: { ...world[i].metadata, ownerReferences: refs } };
          break;
        }
        case "updateStatus":
          r.status = c.status;
          break;
      }
    }
    return failed;
  }

  it("property: a lagging view never makes the controller create more than it needs", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.array(fc.oneof(fc.constant({ t: "reconcile" as const }), fc.record({ t: fc.constant("deliver" as const), k: fc.integer({ min: 0, max: 10 }) })), { maxLength: 60 }),
        fc.func(fc.boolean()),
        (replicas, steps, failFn) => {
          const r = rc("web", replicas);
          const world: Pod[] = [];
          let delivered = 0; // the view holds world[0..delivered)
          let exp: Expectation | undefined;
          const seq = { n: 0 };
          for (const s of steps) {
            if (s.t === "deliver") {
              const upto = Math.min(world.length, delivered + s.k);
              for (; delivered < upto; delivered++) if (exp) exp = creationObserved(exp);
            } else {
              const cmds = reconcile({ rc: r, pods: world.slice(0, delivered), expectations: exp, now: T0 });
              const create = ofType(cmds, "createPods")[0];
              if (create) exp = expectOf(create.count, [], T0);
              const failed = applyCommands(world, r, cmds.filter((c) => c.type === "createPods"), seq, (i) => failFn(i) && i % 3 === 0);
              for (let i = 0; i < failed; i++) exp = creationObserved(exp!);
            }
            expect(world.length).toBeLessThanOrEqual(replicas);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: a lagging view never makes the controller delete more than the surplus", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 20 }), fc.array(fc.boolean(), { maxLength: 30 }), (replicas, start, steps) => {
        const r = rc("web", replicas);
        const world: Pod[] = Array.from({ length: start }, (_, i) => owned(`p${i}`, { created: T0 - i }));
        let view = [...world];
        let exp: Expectation | undefined;
        for (const deliver of steps) {
          if (deliver) {
            const gone = view.filter((v) => !world.some((w) => w.metadata.name === v.metadata.name));
            for (const g of gone) if (exp) exp = deletionObserved(exp, `default/${g.metadata.name}`);
            view = [...world];
          } else {
            const cmds = reconcile({ rc: r, pods: view, expectations: exp, now: T0 });
            const del = ofType(cmds, "deletePods")[0];
            if (del) exp = expectOf(0, del.pods.map((p) => `default/${p.metadata.name}`), T0);
            applyCommands(world, r, cmds.filter((c) => c.type === "deletePods"), { n: 0 }, () => false);
          }
          expect(world.length).toBeGreaterThanOrEqual(Math.min(start, replicas));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("property: from any starting pods the controller converges, then issues nothing", () => {
    fc.assert(
      fc.property(arbPods, fc.integer({ min: 0, max: 12 }), (pods, replicas) => {
        const r = rc("web", replicas);
        const world = [...pods];
        const seq = { n: 0 };
        let cmds: Command[] = [];
        for (let round = 0; round < 10; round++) {
          cmds = reconcile({ rc: r, pods: world, now: T0 });
          if (cmds.length === 0) break;
          applyCommands(world, r, cmds, seq, () => false);
        }
        expect(cmds).toEqual([]);
        const active = world.filter((p) => p.metadata.ownerReferences?.some((o) => o.uid === "uid-web") && p.metadata.labels?.app === "web" &&
          !p.metadata.deletionTimestamp && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded");
        expect(active.length).toBe(replicas);
        expect(r.status?.replicas).toBe(replicas);
        expect(iso(T0)).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  });
});
