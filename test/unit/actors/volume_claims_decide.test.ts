/**
 * The claim lifecycle's pure decisions: the local provisioner, pvc-protection, a node's
 * reclaim and mount checks, and the node authorizer's rule for the one claim write a node makes.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  boundStatus,
  claimInUse,
  claimMountProblem,
  claimsToReclaim,
  podClaimNames,
  protectionCommands,
  provisionerCommands,
  type ProvisionerCommand,
  waitingForNodeMessage,
  withoutFinalizer,
} from "../../../actors/volume_claims_decide.ts";
import { LOCAL_VOLUME_FINALIZER, type PersistentVolumeClaim, type Pod, PVC_PROTECTION_FINALIZER, SELECTED_NODE_ANNOTATION } from "../../../model/types.ts";
import { orphanClaimVolumes } from "../../../runtime/kubelet/claim_volumes.ts";
import type { VolumeInfo } from "../../../model/container_runtime.ts";
import { volumeReleaseVerdict } from "../../../runtime/security/node_authorizer.ts";
import { iso, pod, T0 } from "../../helpers/control_plane_fixtures.ts";

interface ClaimOpts {
  node?: string;
  deleting?: boolean;
  finalizers?: string[];
  bound?: boolean;
  storage?: string;
  capacity?: string;
  volumeName?: string;
  ns?: string;
}

function claim(name: string, o: ClaimOpts = {}): PersistentVolumeClaim {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name,
      namespace: o.ns ?? "default",
      uid: `uid-${name}`,
      resourceVersion: "3",
      finalizers: o.finalizers ?? [PVC_PROTECTION_FINALIZER],
      ...(o.node ? { annotations: { [SELECTED_NODE_ANNOTATION]: o.node } } : {}),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
    },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: o.storage ?? "1Gi" } }, ...(o.volumeName ? { volumeName: o.volumeName } : {}) },
    status: o.bound ? { phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: o.capacity ?? o.storage ?? "1Gi" } } : { phase: "Pending" },
  };
}

function user(name: string, claims: string[], o: Parameters<typeof pod>[1] = {}): Pod {
  const p = pod(name, o);
  return { ...p, spec: { ...p.spec, volumes: claims.map((c, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: c } })) } };
}

const types = (cmds: { type: string; claim: PersistentVolumeClaim }[]) => cmds.map((c) => `${c.type}:${c.claim.metadata.name}`);

describe("claims - the pods that use them", () => {
  it("names each claim of a pod once; a pod without volumes names none", () => {
    expect(podClaimNames(pod("p"))).toEqual([]);
    const p = user("p", ["a", "b", "a"]);
    expect(podClaimNames(p)).toEqual(["a", "b"]);
  });

  it("a claim is in use by any scheduled pod of its namespace naming it, whatever its phase (Kubernetes' podUsesPVC)", () => {
    const c = claim("data");
    expect(claimInUse(c, [user("p", ["data"], { node: "a" })])).toBe(true);
    expect(claimInUse(c, [user("p", ["data"], { node: "a", deleting: true })])).toBe(true);
    // A finished pod that still exists keeps it: its exited containers still refer to the volume.
    expect(claimInUse(c, [user("p", ["data"], { node: "a", phase: "Succeeded" })])).toBe(true);
    expect(claimInUse(c, [user("q", ["data"], { node: "a", phase: "Failed" })])).toBe(true);
    // An unscheduled pod does not: the kubelet refuses to start it on a claim being deleted.
    expect(claimInUse(c, [user("p", ["data"])])).toBe(false);
    expect(claimInUse(c, [user("p", ["data"], { ns: "other", node: "a" }), user("q", ["else"], { node: "a" })])).toBe(false);
  });
});

describe("pvc-protection - decisions", () => {
  it("protects a live claim without the finalizer; releases a deleted one only when no pod uses it", () => {
    const fresh = claim("fresh", { finalizers: [] });
    const used = claim("used", { deleting: true, finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] });
    const free = claim("free", { deleting: true, finalizers: ["example.com/x", PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] });
    const cmds = protectionCommands([fresh, used, free, claim("ok")], [user("p", ["used"], { node: "a", phase: "Succeeded" }), user("q", ["free"])]);
    expect(types(cmds)).toEqual(["protect:fresh", "release:free"]);
    expect(cmds[0].next.metadata.finalizers).toEqual([PVC_PROTECTION_FINALIZER]);
    // Other finalizers stay, in order: the volume finalizer is the node's to take off.
    expect(cmds[1].next.metadata.finalizers).toEqual(["example.com/x", LOCAL_VOLUME_FINALIZER]);
    // A deleted claim is never given the finalizer again.
    expect(protectionCommands([claim("gone", { deleting: true, finalizers: [] })], [])).toEqual([]);
  });
});

describe("local provisioner - decisions", () => {
  const run = (claims: PersistentVolumeClaim[], nodes = ["a"], waited: string[] = [], o: { ready?: string[]; waitingForNode?: string[] } = {}) =>
    provisionerCommands({ claims, nodes: new Set(nodes), ready: new Set(o.ready ?? nodes), waited: new Set(waited), waitingForNode: new Set(o.waitingForNode ?? []) });

  it("a Pending claim no pod placed gets WaitForFirstConsumer once", () => {
    expect(types(run([claim("idle")]))).toEqual(["waitForFirstConsumer:idle"]);
    expect(run([claim("idle")], ["a"], ["uid-idle"])).toEqual([]);
  });

  it("a placed claim is provisioned: volume name and finalizer first, then Bound with its modes and request", () => {
    const [cmd] = run([claim("data", { node: "a" })]) as Extract<ProvisionerCommand, { type: "provision" }>[];
    expect(cmd.type).toBe("provision");
    expect(cmd.next?.spec.volumeName).toBe("pvc-uid-data");
    expect(cmd.next?.metadata.finalizers).toEqual([PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER]);
    expect(boundStatus(cmd.next!)).toEqual({ phase: "Bound", accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } });
    // The spec written, the status not yet (a lost status write): only the status is written again.
    const half = claim("data", { node: "a", volumeName: "pvc-uid-data", finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] });
    expect(run([half])).toEqual([{ type: "provision", claim: half }]);
    // Bound and complete: nothing.
    expect(run([claim("data", { node: "a", bound: true, volumeName: "pvc-uid-data", finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] })])).toEqual([]);
  });

  it("a larger request raises the capacity of a Bound claim (a smaller one does not)", () => {
    const base = { node: "a", bound: true, volumeName: "pvc-uid-data", finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] };
    expect(run([claim("data", { ...base, storage: "2Gi", capacity: "1Gi" })])).toMatchObject([{ type: "resize", storage: "2Gi" }]);
    expect(run([claim("data", { ...base, storage: "1024Mi", capacity: "1Gi" })])).toEqual([]);
    expect(run([claim("data", { ...base, storage: "1Gi", capacity: "2Gi" })])).toEqual([]);
  });

  it("a deleted claim whose node is gone loses the volume finalizer, once protection let it go", () => {
    const gone = claim("data", { node: "lost", deleting: true, finalizers: [LOCAL_VOLUME_FINALIZER] });
    const cmds = run([gone], ["a"]);
    expect(cmds).toMatchObject([{ type: "nodeLost", node: "lost" }]);
    expect((cmds[0] as Extract<ProvisionerCommand, { type: "nodeLost" }>).next.metadata.finalizers).toEqual([]);
    // Its node still there: the node reclaims. Still protected: nothing yet.
    expect(run([gone], ["lost"])).toEqual([]);
    expect(run([claim("data", { node: "lost", deleting: true, finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] })], ["a"])).toEqual([]);
    // Deleted before any pod placed it: no event, nothing to reclaim.
    expect(run([claim("never", { deleting: true })])).toEqual([]);
  });

  it("a deleted claim whose node is there but not Ready is said to wait for it, once", () => {
    const waiting = claim("data", { node: "down", deleting: true, finalizers: [LOCAL_VOLUME_FINALIZER] });
    const cmds = run([waiting], ["a", "down"], [], { ready: ["a"] });
    expect(cmds).toEqual([{ type: "waitForNode", claim: waiting, node: "down" }]);
    expect(waitingForNodeMessage(waiting, "down")).toBe(
      'the volume pvc-uid-data is on node "down", which is not Ready: the claim goes once that node removes it. ' +
        'Bring the node back, or, if it is gone for good, delete the Node object "down" (the volume\'s data is then lost with the node)',
    );
    // Said already; its node Ready (it reclaims); still protected: nothing.
    expect(run([waiting], ["a", "down"], [], { ready: ["a"], waitingForNode: ["uid-data"] })).toEqual([]);
    expect(run([waiting], ["a", "down"])).toEqual([]);
    expect(run([claim("data", { node: "down", deleting: true, finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] })], ["a", "down"], [], { ready: ["a"] })).toEqual([]);
  });
});

describe("a node's claims - reclaim and mount", () => {
  it("reclaims only deleted claims of its own, released by protection and still holding the volume finalizer", () => {
    const mine = claim("mine", { node: "a", deleting: true, finalizers: [LOCAL_VOLUME_FINALIZER] });
    const claims = [
      mine,
      claim("other", { node: "b", deleting: true, finalizers: [LOCAL_VOLUME_FINALIZER] }),
      claim("held", { node: "a", deleting: true, finalizers: [PVC_PROTECTION_FINALIZER, LOCAL_VOLUME_FINALIZER] }),
      claim("live", { node: "a", finalizers: [LOCAL_VOLUME_FINALIZER] }),
      claim("unbound", { deleting: true, finalizers: [] }),
    ];
    expect(claimsToReclaim(claims, "a")).toEqual([mine]);
  });

  it("mounts a claim only when it exists, is on this node and — at a pod's first start — is not being deleted", () => {
    expect(claimMountProblem(undefined, "default", "data", "a", true)).toContain('persistentvolumeclaims "data" not found');
    expect(claimMountProblem(claim("data", { node: "a" }), "default", "data", "a", true)).toBeUndefined();
    expect(claimMountProblem(claim("data", { node: "b" }), "default", "data", "a", true)).toContain('its volume is on node "b"');
    expect(claimMountProblem(claim("data"), "default", "data", "a", true)).toContain("PVC is not bound");
    const deleting = claim("data", { node: "a", deleting: true });
    expect(claimMountProblem(deleting, "default", "data", "a", true)).toContain("can't start pod because PVC default/data is being deleted");
    // A pod that has run already keeps it (a container restarts with its volume).
    expect(claimMountProblem(deleting, "default", "data", "a", false)).toBeUndefined();
  });

  it("removes a claim volume of a gone claim only when seen so twice; never an unlabelled one", () => {
    const vols: VolumeInfo[] = [
      { name: "berth-pvc-live", labels: { "berth.claim.uid": "live" } },
      { name: "berth-pvc-gone", labels: { "berth.claim.uid": "gone" } },
      { name: "berth-pv-default-old", labels: { "berth.claim": "old" } },
    ];
    const live = new Set(["live"]);
    const first = orphanClaimVolumes(vols, live, new Set());
    expect(first.remove).toEqual([]);
    expect([...first.suspects]).toEqual(["berth-pvc-gone"]);
    expect(orphanClaimVolumes(vols, live, first.suspects).remove).toEqual(["berth-pvc-gone"]);
    // Its claim showed up meanwhile (the node's cache lagged a fresh read): kept, no longer suspect.
    const back = orphanClaimVolumes(vols, new Set(["live", "gone"]), first.suspects);
    expect(back).toEqual({ remove: [], suspects: new Set() });
  });

  it("property: with lagging views everywhere, a claim's volume is never removed while a pod that mounted it exists, and a cluster emptied of pods and claims ends with none", () => {
    const lag = fc.nat({ max: 4 });
    const node = fc.constantFrom("a" as const, "b" as const);
    const step: fc.Arbitrary<Step> = fc.oneof(
      { arbitrary: fc.record({ t: fc.constantFrom("claim" as const, "deleteClaim" as const, "pod" as const), c: fc.nat({ max: 1 }) }), weight: 3 },
      { arbitrary: fc.record({ t: fc.constant("schedule" as const), p: fc.nat({ max: 3 }), lag, node }), weight: 2 },
      { arbitrary: fc.record({ t: fc.constantFrom("start" as const, "finish" as const, "deletePod" as const), p: fc.nat({ max: 3 }) }), weight: 3 },
      { arbitrary: fc.record({ t: fc.constant("protect" as const), lag }), weight: 1 },
      { arbitrary: fc.record({ t: fc.constant("reclaim" as const), node, lag }), weight: 1 },
    );
    fc.assert(fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: "max" }), (steps) => {
      expect(simulateClaims(steps)).toEqual({ removedUnderPods: [], left: [] });
    }), { numRuns: 1000 });
  });

  it("the simulation is not vacuous: a finished pod that still exists, or a first start trusting a lagging cache, would lose a volume under a pod", () => {
    // A finished pod keeps its claim: its exited container still refers to the volume.
    const finished: Step[] = [
      { t: "claim", c: 0 }, { t: "pod", c: 0 }, { t: "schedule", p: 0, lag: 0, node: "a" }, { t: "start", p: 0 }, { t: "finish", p: 0 },
      { t: "deleteClaim", c: 0 }, { t: "protect", lag: 0 }, { t: "reclaim", node: "a", lag: 0 },
    ];
    expect(simulateClaims(finished).removedUnderPods).toEqual([]);
    // An unscheduled pod does not keep a claim being deleted; a scheduler whose cache lags places
    // it on the claim all the same, and only the kubelet's live read at its first start saves the
    // volume. With a cache three steps behind, the volume would go from under the started pod.
    const unscheduled: Step[] = [
      { t: "claim", c: 0 }, { t: "pod", c: 0 }, { t: "pod", c: 0 }, { t: "schedule", p: 0, lag: 0, node: "a" }, { t: "start", p: 0 },
      { t: "deletePod", p: 0 }, { t: "deleteClaim", c: 0 }, { t: "protect", lag: 0 }, { t: "schedule", p: 0, lag: 3, node: "a" },
      { t: "start", p: 0 }, { t: "reclaim", node: "a", lag: 0 },
    ];
    expect(simulateClaims(unscheduled)).toEqual({ removedUnderPods: [], left: [] });
    expect(simulateClaims(unscheduled, { kubeletLag: 3 }).removedUnderPods).toEqual(["p1 on u0"]);
  });
});

describe("node authorizer - volume.release", () => {
  const stored = claim("data", { node: "n1", deleting: true, finalizers: ["example.com/x", LOCAL_VOLUME_FINALIZER] });
  const released = { ...stored, metadata: { ...stored.metadata, finalizers: ["example.com/x"] } };

  it("lets the claim's node take the volume finalizer off a deleted claim, and nothing more", () => {
    expect(volumeReleaseVerdict("n1", stored, released).type).toBe("allow");
    const deny = (node: string, current: PersistentVolumeClaim, next: unknown) => {
      const v = volumeReleaseVerdict(node, current, next);
      return v.type === "deny" ? v.message : "allowed";
    };
    expect(deny("n2", stored, released)).toMatch(/whose volume is not on it.*rule volume\.release/);
    const live = claim("data", { node: "n1", finalizers: [LOCAL_VOLUME_FINALIZER] });
    expect(deny("n1", live, { ...live, metadata: { ...live.metadata, finalizers: [] } })).toContain("not being deleted");
    expect(deny("n1", stored, { ...released, metadata: { ...released.metadata, finalizers: [] } })).toContain("beyond taking its");
    expect(deny("n1", stored, { ...released, metadata: { ...released.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: "n2" } } })).toContain("beyond");
    expect(deny("n1", stored, { ...released, spec: { ...released.spec, resources: { requests: { storage: "9Gi" } } } })).toContain("beyond");
    expect(deny("n1", stored, stored)).toContain("beyond");
  });
});

type Step =
  | { t: "claim" | "deleteClaim" | "pod"; c: number }
  | { t: "schedule"; p: number; lag: number; node: "a" | "b" }
  | { t: "start" | "finish" | "deletePod"; p: number }
  | { t: "protect"; lag: number }
  | { t: "reclaim"; node: "a" | "b"; lag: number };

/**
 * A small world of claims, pods and Docker volumes, changed one step at a time by the scheduler,
 * the kubelet, pvc-protection and the nodes' reclaimers — each acting as its executor does
 * (compare-and-swap writes, pvc-protection's fresh pod list before a release, the kubelet's live
 * read at a first start, unless `kubeletLag` makes it trust a cache that many steps behind) on a
 * view that may lag the world by some steps. What it reports is not any one function's filter
 * but the storage itself: the volumes removed while a pod that mounted them still existed, and,
 * once every pod and claim is deleted and the loops run on a current view, the claims left.
 */
function simulateClaims(steps: readonly Step[], o: { kubeletLag?: number } = {}): { removedUnderPods: string[]; left: string[] } {
  let uids = 0;
  let podSeq = 0;
  const claims = new Map<string, PersistentVolumeClaim>();
  const pods = new Map<string, { pod: Pod; mounted?: string }>();
  const removedUnderPods: string[] = [];
  const history: { claims: Map<string, PersistentVolumeClaim>; pods: Pod[] }[] = [];
  const snapshot = () => history.push({ claims: new Map(claims), pods: [...pods.values()].map((x) => x.pod) });
  const view = (n: number) => history[Math.max(0, history.length - 1 - n)];
  const bump = (c: PersistentVolumeClaim, metadata: Partial<PersistentVolumeClaim["metadata"]>): PersistentVolumeClaim =>
    ({ ...c, metadata: { ...c.metadata, ...metadata, resourceVersion: String(Number(c.metadata.resourceVersion) + 1) } });
  /** An update at the version read, as the API does it; a deleted claim without finalizers goes. */
  const write = (next: PersistentVolumeClaim): boolean => {
    const cur = claims.get(next.metadata.name);
    if (!cur || cur.metadata.uid !== next.metadata.uid || cur.metadata.resourceVersion !== next.metadata.resourceVersion) return false;
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length) claims.delete(next.metadata.name);
    else claims.set(next.metadata.name, bump(next, {}));
    return true;
  };
  const podAt = (i: number) => [...pods.values()][i % Math.max(1, pods.size)];
  const reclaim = (node: string, seen: Iterable<PersistentVolumeClaim>) => {
    for (const c of claimsToReclaim(seen, node)) {
      // The node removes the volume first, then takes the finalizer off (compare-and-swap).
      for (const x of pods.values()) if (x.mounted === c.metadata.uid) removedUnderPods.push(`${x.pod.metadata.name} on ${c.metadata.uid}`);
      write(withoutFinalizer(c, LOCAL_VOLUME_FINALIZER));
    }
  };
  const protect = (seen: { claims: Map<string, PersistentVolumeClaim>; pods: Pod[] }) => {
    for (const cmd of protectionCommands([...seen.claims.values()], seen.pods)) {
      // The executor's consistent read before a release.
      if (cmd.type === "release" && claimInUse(cmd.claim, [...pods.values()].map((x) => x.pod))) continue;
      write(cmd.next);
    }
  };
  snapshot();
  for (const s of steps) {
    switch (s.t) {
      case "claim": {
        const name = `c${s.c}`;
        const made = claim(name);
        if (!claims.has(name)) claims.set(name, { ...made, metadata: { ...made.metadata, uid: `u${uids++}`, resourceVersion: "1" } });
        break;
      }
      case "deleteClaim": {
        const cur = claims.get(`c${s.c}`);
        if (!cur || cur.metadata.deletionTimestamp) break;
        if (!cur.metadata.finalizers?.length) claims.delete(cur.metadata.name);
        else claims.set(cur.metadata.name, bump(cur, { deletionTimestamp: iso(T0) }));
        break;
      }
      case "pod": {
        const name = `p${podSeq++}`;
        pods.set(name, { pod: user(name, [`c${s.c}`]) });
        break;
      }
      case "schedule": {
        const x = podAt(s.p);
        if (!x || x.pod.spec.nodeName) break;
        // kube-scheduler's PreFilter and Reserve, on its (lagging) claim cache.
        const seen = view(s.lag).claims.get(podClaimNames(x.pod)[0]);
        if (!seen || seen.metadata.deletionTimestamp) break;
        let at = seen.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
        if (!at) {
          at = s.node;
          // PreBind's annotation, with the provisioner's finalizer that follows it.
          if (!write({ ...seen, metadata: { ...seen.metadata, annotations: { [SELECTED_NODE_ANNOTATION]: at }, finalizers: [...(seen.metadata.finalizers ?? []), LOCAL_VOLUME_FINALIZER] } })) break;
        }
        x.pod = { ...x.pod, spec: { ...x.pod.spec, nodeName: at } };
        break;
      }
      case "start": {
        const x = podAt(s.p);
        if (!x?.pod.spec.nodeName || x.mounted || x.pod.status?.phase === "Succeeded") break;
        // The kubelet's first start: the claim read live.
        const name = podClaimNames(x.pod)[0];
        const live = o.kubeletLag ? view(o.kubeletLag).claims.get(name) : claims.get(name);
        if (claimMountProblem(live, "default", name, x.pod.spec.nodeName, true) === undefined) x.mounted = live!.metadata.uid;
        break;
      }
      case "finish": {
        const x = podAt(s.p);
        if (x?.mounted) x.pod = { ...x.pod, status: { ...x.pod.status, phase: "Succeeded" } };
        break;
      }
      case "deletePod": {
        const x = podAt(s.p);
        if (x) pods.delete(x.pod.metadata.name);
        break;
      }
      case "protect":
        protect(view(s.lag));
        break;
      case "reclaim":
        reclaim(s.node, view(s.lag).claims.values());
        break;
    }
    snapshot();
  }
  // Every pod and claim deleted, the loops run on a current view: nothing may be left.
  pods.clear();
  for (const c of [...claims.values()]) if (!c.metadata.deletionTimestamp) claims.set(c.metadata.name, bump(c, { deletionTimestamp: iso(T0) }));
  protect({ claims: new Map(claims), pods: [] });
  for (const n of ["a", "b"]) reclaim(n, [...claims.values()]);
  return { removedUnderPods, left: [...claims.keys()] };
}
