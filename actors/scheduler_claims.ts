/**
 * What a pod's PersistentVolumeClaims ask of the scheduler, as kube-scheduler's VolumeBinding
 * and VolumeRestrictions plugins decide it for local volumes in `WaitForFirstConsumer` mode.
 * Pure; one `ClaimBatch` per scheduling pass (scheduler_decide.ts `scheduleBatch`).
 *
 *   PreFilter (once per pod)   every claim exists in the pod's namespace and is not being
 *                              deleted, else the pod is unschedulable on every node with
 *                              `persistentvolumeclaim "X" not found` / `... is being deleted`
 *   Filter (per node)          a ReadWriteOncePod claim another pod uses: no node fits
 *                              (`node has pod using PersistentVolumeClaim with the same name
 *                              and ReadWriteOncePod access mode`); a claim placed on a node
 *                              (its `volume.kubernetes.io/selected-node`, or chosen earlier in
 *                              this pass) admits only that node (`node(s) had volume node
 *                              affinity conflict`)
 *   Reserve                    the claims not placed yet go with the pod's node: the scheduler
 *                              writes the annotation on each (compare-and-swap) before binding
 *
 * Pods that name no claim never reach this file: scheduling them costs nothing more. Of the
 * claim informer's events only those `claimEventMatters` wake the scheduler (a claim made, gone,
 * placed or marked deleted), and only while a pending pod names a claim.
 */
import type { PersistentVolumeClaim, Pod } from "../model/types.ts";
import type { InformerEvent } from "./informer_cache.ts";
import { claimKey, podClaimNames, podTerminated, selectedNode } from "./volume_claims_decide.ts";

/** The claim stored under `namespace/name`, as the scheduler sees it. */
export type ClaimLookup = (key: string) => PersistentVolumeClaim | undefined;

export const REASON_VOLUME_NODE_CONFLICT = "node(s) had volume node affinity conflict";
export const REASON_READ_WRITE_ONCE_POD = "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode";

/** A pod's claims after PreFilter: what they require of a node, and which still need placing. */
export interface ClaimConstraint {
  /** The node every placed claim is on (undefined: none is placed). */
  node?: string;
  /** Two claims are on different nodes: no node fits. */
  conflict: boolean;
  /** A ReadWriteOncePod claim is in use by another pod: no node fits. */
  readWriteOncePod: boolean;
  /** Claims without a node yet (to be placed with the pod). */
  unplaced: PersistentVolumeClaim[];
  /** The `namespace/name` keys of all the pod's claims. */
  keys: readonly string[];
}

/** PreFilter's verdict on a pod: unschedulable everywhere, or constraints on the nodes. */
export type ClaimFilter = { unschedulable: string } | ClaimConstraint;

/** A pod on a node that has not finished: it holds its claims there. */
function holdsVolume(pod: Pod): boolean {
  return !!pod.spec.nodeName && !podTerminated(pod);
}

/** One pass's view of claims: the lookup, and the placements made so far in the pass. */
export class ClaimBatch {
  /** Claim key → node chosen for it in this pass (not yet written). */
  readonly placed = new Map<string, string>();
  /** Claim key → pods placed in this pass that use it. */
  readonly #placedUsers = new Map<string, number>();
  /** Claim key → pods on nodes (bound or assumed, not finished) that use it; counted the first time a ReadWriteOncePod claim asks. */
  #boundUsers: Map<string, number> | undefined;

  constructor(private readonly lookup: ClaimLookup, private readonly boundPods: readonly Pod[]) {}

  /** How many pods on nodes, or placed in this pass, use the claim with this key. */
  users(key: string): number {
    if (!this.#boundUsers) {
      this.#boundUsers = new Map();
      for (const p of this.boundPods) {
        if (!holdsVolume(p)) continue;
        for (const name of podClaimNames(p)) {
          const k = claimKey(p.metadata.namespace, name);
          this.#boundUsers.set(k, (this.#boundUsers.get(k) ?? 0) + 1);
        }
      }
    }
    return (this.#boundUsers.get(key) ?? 0) + (this.#placedUsers.get(key) ?? 0);
  }

  /** PreFilter for a pod naming `names` (non-empty). */
  filter(pod: Pod, names: readonly string[]): ClaimFilter {
    const ns = pod.metadata.namespace;
    const keys: string[] = [];
    const unplaced: PersistentVolumeClaim[] = [];
    let node: string | undefined;
    let conflict = false;
    let readWriteOncePod = false;
    for (const name of names) {
      const key = claimKey(ns, name);
      const claim = this.lookup(key);
      if (!claim) return { unschedulable: `persistentvolumeclaim "${name}" not found` };
      if (claim.metadata.deletionTimestamp) return { unschedulable: `persistentvolumeclaim "${name}" is being deleted` };
      keys.push(key);
      const annotated = selectedNode(claim);
      if (annotated === undefined) unplaced.push(claim);
      const at = annotated ?? this.placed.get(key);
      if (at !== undefined) {
        if (node === undefined) node = at;
        else if (node !== at) conflict = true;
      }
      if (claim.spec.accessModes?.includes("ReadWriteOncePod") && this.users(key) > 0) readWriteOncePod = true;
    }
    return { node, conflict, readWriteOncePod, unplaced, keys };
  }

  /** Reserve: the pod goes to `node`; its unplaced claims go with it. Returns the claims to annotate. */
  reserve(c: ClaimConstraint, node: string): PersistentVolumeClaim[] {
    for (const claim of c.unplaced) {
      const key = claimKey(claim.metadata.namespace, claim.metadata.name);
      if (!this.placed.has(key)) this.placed.set(key, node);
    }
    for (const k of c.keys) this.#placedUsers.set(k, (this.#placedUsers.get(k) ?? 0) + 1);
    return c.unplaced;
  }
}

/** True for a claim event that can change where (or whether) a pod naming the claim is scheduled. */
export function claimEventMatters(ev: InformerEvent<PersistentVolumeClaim>): boolean {
  if (ev.type !== "MODIFIED" || !ev.old) return true;
  return selectedNode(ev.old) !== selectedNode(ev.object) || !ev.old.metadata.deletionTimestamp !== !ev.object.metadata.deletionTimestamp ||
    ev.old.metadata.uid !== ev.object.metadata.uid;
}
