import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  decideDeployment,
  fenceposts,
  POD_TEMPLATE_HASH,
  REVISION_ANNOTATION,
  revisionOf,
  scaledValue,
  templateHash,
  type DeploymentCommand,
} from "../../../actors/deployment_decide.ts";
import type { Deployment, Pod, ReplicaSet } from "../../../model/types.ts";

function deployment(replicas: number, image: string, strategy: Deployment["spec"]["strategy"] = {}): Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "d-uid", generation: 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image }] } },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" }, ...strategy },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
    },
  };
}

/**
 * A small world: ReplicaSets with pods, each pod ready or not. The RS controller and status
 * writer are separate steps, so the deployment controller sees lagging ReplicaSet status.
 */
interface SimRS {
  rs: ReplicaSet;
  /** Readiness of each live pod. */
  pods: boolean[];
}

class World {
  rses: SimRS[] = [];
  clock = Date.parse("2026-12-01T00:00:00Z");
  private seq = 0;
  constructor(public d: Deployment) {}

  view(): ReplicaSet[] {
    return this.rses.map((s) => s.rs);
  }

  apply(cmds: DeploymentCommand[]): void {
    for (const c of cmds) {
      switch (c.type) {
        case "createReplicaSet":
          if (this.rses.some((s) => s.rs.metadata.name === c.rs.metadata.name)) break;
          this.rses.push({
            rs: { ...c.rs, metadata: { ...c.rs.metadata, uid: `rs-${++this.seq}`, creationTimestamp: new Date(this.clock + this.seq).toISOString() }, status: { replicas: 0 } },
            pods: [],
          });
          break;
        case "scaleReplicaSet":
          this.find(c.rs).rs.spec.replicas = c.replicas;
          break;
        case "syncReplicaSet": {
          const s = this.find(c.rs);
          if (c.annotations) s.rs.metadata.annotations = { ...s.rs.metadata.annotations, ...c.annotations };
          if (c.minReadySeconds !== undefined) s.rs.spec.minReadySeconds = c.minReadySeconds;
          break;
        }
        case "setDeploymentRevision":
          this.d = { ...this.d, metadata: { ...this.d.metadata, annotations: { ...this.d.metadata.annotations, [REVISION_ANNOTATION]: c.revision } } };
          break;
        case "deleteReplicaSet":
          this.rses = this.rses.filter((s) => s.rs.metadata.name !== c.rs.metadata.name);
          break;
        case "updateStatus":
          this.d = { ...this.d, status: c.status };
          break;
      }
    }
  }

  private find(rs: ReplicaSet): SimRS {
    const s = this.rses.find((x) => x.rs.metadata.name === rs.metadata.name);
    if (!s) throw new Error(`no rs ${rs.metadata.name}`);
    return s;
  }

  /** The RS controller: create missing pods (not ready) or delete surplus, not-ready first. */
  rsConverge(i: number): void {
    const s = this.rses[i % this.rses.length];
    if (!s) return;
    const want = s.rs.spec.replicas ?? 1;
    while (s.pods.length < want) s.pods.push(false);
    while (s.pods.length > want) {
      const j = s.pods.indexOf(false);
      s.pods.splice(j >= 0 ? j : s.pods.length - 1, 1);
    }
  }

  /** The RS status writer (lags behind the pods until it runs). */
  rsStatus(i: number): void {
    const s = this.rses[i % this.rses.length];
    if (!s) return;
    const ready = s.pods.filter(Boolean).length;
    s.rs.status = { replicas: s.pods.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: 1 };
  }

  becomeReady(i: number): void {
    const all = this.rses.flatMap((s) => s.pods.map((r, j) => ({ s, j, r }))).filter((x) => !x.r);
    const p = all[i % Math.max(1, all.length)];
    if (p) p.s.pods[p.j] = true;
  }

  readyPods(): number {
    return this.rses.reduce((n, s) => n + s.pods.filter(Boolean).length, 0);
  }
  specTotal(): number {
    return this.rses.reduce((n, s) => n + (s.rs.spec.replicas ?? 1), 0);
  }

  decide(): void {
    this.clock += 1000;
    this.apply(decideDeployment({ deployment: this.d, replicaSets: this.view(), now: this.clock }));
  }

  /** Runs everything to a fixed point with every pod turning ready. */
  settle(): void {
    for (let k = 0; k < 200; k++) {
      const before = JSON.stringify([this.d, this.rses]);
      this.decide();
      this.rses.forEach((_, i) => this.rsConverge(i));
      this.rses.forEach((s) => s.pods.fill(true));
      this.rses.forEach((_, i) => this.rsStatus(i));
      if (JSON.stringify([this.d, this.rses]) === before) return;
    }
  }
}

const intOrPct = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 100 }).map((n) => `${n}%`));

describe("deployment decide - fenceposts", () => {
  it("deployment decide - percentages round surge up and unavailable down, and both zero allows one unavailable", () => {
    expect(scaledValue("25%", 10, true)).toBe(3);
    expect(scaledValue("25%", 10, false)).toBe(2);
    expect(fenceposts(deployment(10, "a"))).toEqual({ maxSurge: 3, maxUnavailable: 2 });
    expect(fenceposts(deployment(1, "a", { rollingUpdate: { maxSurge: "10%", maxUnavailable: "10%" } }))).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(fenceposts(deployment(3, "a", { rollingUpdate: { maxSurge: 0, maxUnavailable: "10%" } }))).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });

  it("deployment decide - the pod-template-hash ignores the hash label and changes with the template", () => {
    const t = deployment(1, "a").spec.template;
    const h = templateHash(t);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(templateHash({ ...t, metadata: { labels: { ...t.metadata!.labels, [POD_TEMPLATE_HASH]: h } } })).toBe(h);
    expect(templateHash(deployment(1, "b").spec.template)).not.toBe(h);
  });
});

describe("deployment decide - rolling update", () => {
  it("deployment decide - a rollout never drops below replicas - maxUnavailable ready pods nor exceeds replicas + maxSurge", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        intOrPct,
        intOrPct,
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat()), { minLength: 20, maxLength: 300 }),
        (replicas, maxSurge, maxUnavailable, steps) => {
          const w = new World(deployment(replicas, "v1", { type: "RollingUpdate", rollingUpdate: { maxSurge, maxUnavailable } }));
          w.settle();
          expect(w.readyPods()).toBe(replicas);
          const { maxSurge: surge, maxUnavailable: unavail } = fenceposts(w.d);
          // The rollout: a new image.
          w.d = { ...w.d, metadata: { ...w.d.metadata, generation: 2 }, spec: { ...w.d.spec, template: deployment(replicas, "v2").spec.template } };
          for (const [what, i] of steps) {
            if (what === 0) w.decide();
            else if (what === 1) w.rsConverge(i);
            else if (what === 2) w.rsStatus(i);
            else w.becomeReady(i);
            expect(w.readyPods()).toBeGreaterThanOrEqual(replicas - unavail);
            expect(w.specTotal()).toBeLessThanOrEqual(replicas + surge);
          }
          // And it finishes: all pods new and ready, the old ReplicaSet at zero.
          w.settle();
          const images = w.rses.filter((s) => (s.rs.spec.replicas ?? 0) > 0).map((s) => s.rs.spec.template!.spec.containers[0].image);
          expect(images).toEqual(["v2"]);
          expect(w.d.status?.updatedReplicas).toBe(replicas);
          expect(w.d.status?.availableReplicas).toBe(replicas);
          expect(w.d.status?.conditions?.find((c) => c.type === "Progressing")?.reason).toBe("NewReplicaSetAvailable");
        },
      ),
      { numRuns: 60 },
    );
  });

  it("deployment decide - a rollback makes the old ReplicaSet new again with the next revision", () => {
    const w = new World(deployment(2, "v1"));
    w.settle();
    const v1 = w.d.spec.template;
    w.d = { ...w.d, spec: { ...w.d.spec, template: deployment(2, "v2").spec.template } };
    w.settle();
    expect(w.d.metadata.annotations?.[REVISION_ANNOTATION]).toBe("2");
    w.d = { ...w.d, spec: { ...w.d.spec, template: v1 } };
    w.settle();
    expect(w.rses).toHaveLength(2);
    const live = w.rses.find((s) => s.rs.spec.replicas === 2)!;
    expect(live.rs.spec.template!.spec.containers[0].image).toBe("v1");
    expect(revisionOf(live.rs)).toBe(3);
    expect(w.d.metadata.annotations?.[REVISION_ANNOTATION]).toBe("3");
  });

  it("deployment decide - revisionHistoryLimit keeps that many old ReplicaSets", () => {
    const w = new World({ ...deployment(1, "v0"), spec: { ...deployment(1, "v0").spec, revisionHistoryLimit: 2 } });
    for (let v = 1; v <= 5; v++) {
      w.d = { ...w.d, spec: { ...w.d.spec, template: deployment(1, `v${v}`).spec.template } };
      w.settle();
    }
    expect(w.rses.map((s) => revisionOf(s.rs)).sort()).toEqual([3, 4, 5]);
  });

  it("deployment decide - the new ReplicaSet follows the deployment's annotations (change-cause) and minReadySeconds, not its revision", () => {
    const w = new World(deployment(2, "v1"));
    w.settle();
    w.d = { ...w.d, metadata: { ...w.d.metadata, annotations: { ...w.d.metadata.annotations, "kubernetes.io/change-cause": "to v1" } }, spec: { ...w.d.spec, minReadySeconds: 5 } };
    w.settle();
    w.d = { ...w.d, metadata: { ...w.d.metadata, annotations: { ...w.d.metadata.annotations, "kubernetes.io/change-cause": "to v2" } }, spec: { ...w.d.spec, template: deployment(2, "v2").spec.template } };
    w.settle();
    const [v1, v2] = w.rses.map((s) => s.rs);
    expect(v1.metadata.annotations).toEqual({ [REVISION_ANNOTATION]: "1", "kubernetes.io/change-cause": "to v1" });
    expect(v1.spec.minReadySeconds).toBe(5);
    expect(v2.metadata.annotations).toEqual({ [REVISION_ANNOTATION]: "2", "kubernetes.io/change-cause": "to v2" });
    expect(v2.spec.minReadySeconds).toBe(5);
    // Settled: nothing more to sync.
    expect(decideDeployment({ deployment: w.d, replicaSets: w.view(), now: w.clock }).filter((c) => c.type === "syncReplicaSet")).toEqual([]);
  });

  it("deployment decide - a paused deployment rolls nothing out, and resuming does", () => {
    const w = new World(deployment(2, "v1"));
    w.settle();
    w.d = { ...w.d, spec: { ...w.d.spec, paused: true, template: deployment(2, "v2").spec.template } };
    w.settle();
    expect(w.rses).toHaveLength(1);
    expect(w.d.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "Unknown", reason: "DeploymentPaused" });
    w.d = { ...w.d, spec: { ...w.d.spec, paused: false } };
    w.settle();
    expect(w.rses.find((s) => s.rs.spec.replicas === 2)!.rs.spec.template!.spec.containers[0].image).toBe("v2");
  });
});

describe("deployment decide - recreate and deadlines", () => {
  it("deployment decide - Recreate scales every old pod away before the new ReplicaSet grows", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat()), { maxLength: 200 }), (replicas, steps) => {
        const w = new World(deployment(replicas, "v1", { type: "Recreate", rollingUpdate: undefined }));
        w.settle();
        w.d = { ...w.d, spec: { ...w.d.spec, template: deployment(replicas, "v2").spec.template } };
        for (const [what, i] of steps) {
          if (what === 0) w.decide();
          else if (what === 1) w.rsConverge(i);
          else if (what === 2) w.rsStatus(i);
          else w.becomeReady(i);
          const oldPods = w.rses.filter((s) => s.rs.spec.template!.spec.containers[0].image === "v1").reduce((n, s) => n + s.pods.length, 0);
          const newPods = w.rses.filter((s) => s.rs.spec.template!.spec.containers[0].image === "v2").reduce((n, s) => n + s.pods.length, 0);
          expect(oldPods > 0 && newPods > 0).toBe(false);
        }
        w.settle();
        expect(w.d.status?.updatedReplicas).toBe(replicas);
      }),
      { numRuns: 60 },
    );
  });

  it("deployment decide - Recreate waits for old pods that are still terminating, which ReplicaSet status no longer counts", () => {
    const d = deployment(2, "v2", { type: "Recreate", rollingUpdate: undefined });
    const rsOf = (image: string, uid: string, revision: string): ReplicaSet => {
      const t = deployment(2, image).spec.template;
      const hash = templateHash(t);
      return {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `web-${hash}`,
          namespace: "default",
          uid,
          labels: { app: "web", [POD_TEMPLATE_HASH]: hash },
          annotations: { [REVISION_ANNOTATION]: revision },
          ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "d-uid", controller: true }],
        },
        spec: { replicas: 0, selector: { matchLabels: { app: "web", [POD_TEMPLATE_HASH]: hash } }, template: { ...t, metadata: { labels: { ...t.metadata?.labels, [POD_TEMPLATE_HASH]: hash } } } },
        status: { replicas: 0 },
      };
    };
    const old = rsOf("v1", "rs-old", "1");
    const fresh = rsOf("v2", "rs-new", "2");
    const terminating: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web-old-1", namespace: "default", deletionTimestamp: "2026-12-01T00:00:00Z", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: old.metadata.name, uid: "rs-old", controller: true }] },
      spec: { containers: [{ name: "c", image: "v1" }] },
      status: { phase: "Running" },
    };
    const dd = { ...d, metadata: { ...d.metadata, annotations: { [REVISION_ANNOTATION]: "2" } } };
    const grows = (pods: Pod[]) => decideDeployment({ deployment: dd, replicaSets: [old, fresh], pods, now: 0 }).some((c) => c.type === "scaleReplicaSet" && c.rs.metadata.uid === "rs-new" && c.replicas === 2);
    expect(grows([terminating])).toBe(false);
    // A finished old pod does not hold the rollout; none at all lets it go on.
    expect(grows([{ ...terminating, status: { phase: "Succeeded" } }])).toBe(true);
    expect(grows([])).toBe(true);
  });

  it("deployment decide - no progress within progressDeadlineSeconds sets Progressing=False ProgressDeadlineExceeded", () => {
    const w = new World({ ...deployment(2, "v1"), spec: { ...deployment(2, "v1").spec, progressDeadlineSeconds: 5 } });
    // Pods never become ready.
    for (let k = 0; k < 20; k++) {
      w.decide();
      w.rses.forEach((_, i) => w.rsConverge(i));
      w.rses.forEach((_, i) => w.rsStatus(i));
    }
    expect(w.d.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "False", reason: "ProgressDeadlineExceeded" });
    // Progress again clears it.
    w.settle();
    expect(w.d.status?.conditions?.find((c) => c.type === "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
  });
});
