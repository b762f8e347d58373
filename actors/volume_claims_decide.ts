/**
 * The PersistentVolumeClaim lifecycle's decisions, as pure functions over plain objects: what
 * the local provisioner (actors/local_provisioner.ts), the pvc-protection controller
 * (actors/pvc_protection.ts) and a node's volume reclaimer (runtime/kubelet/claim_volumes.ts)
 * do next. Berth provisions claims as k3s' local-path provisioner does, in
 * `WaitForFirstConsumer` mode (model/types.ts, PersistentVolumeClaim):
 *
 *   created ──(protection: + kubernetes.io/pvc-protection)──▶ Pending, event WaitForFirstConsumer
 *     │ the scheduler places its first pod: annotation volume.kubernetes.io/selected-node=<node>
 *     ▼
 *   provisioner: spec.volumeName pvc-<uid>, + berth.dev/local-volume ──▶ status Bound, capacity,
 *                event ProvisioningSucceeded (each write a compare-and-swap)
 *     │ deleted (deletionTimestamp)
 *     ▼
 *   protection: kubernetes.io/pvc-protection off once no scheduled pod names it (any phase)
 *     ▼
 *   its node: Docker volume removed, then berth.dev/local-volume off ──▶ gone
 *   (its node not Ready: one Warning WaitingForNode, and the claim waits for it;
 *    its node no longer a Node: the provisioner takes the finalizer off, Warning ClaimLost)
 *
 * A claim deleted before any pod placed it never had a volume nor the volume finalizer, so it
 * goes as soon as protection lets it. No clock, randomness or I/O here.
 */
import {
  LOCAL_VOLUME_FINALIZER,
  type PersistentVolumeClaim,
  type Pod,
  PVC_PROTECTION_FINALIZER,
  SELECTED_NODE_ANNOTATION,
} from "../model/types.ts";
import { parseBytes } from "../model/quantity.ts";

const NO_CLAIMS: readonly string[] = Object.freeze([]);

/** The claims a pod's volumes name (`persistentVolumeClaim.claimName`), each once, in order. */
export function podClaimNames(pod: Pod): readonly string[] {
  const volumes = pod.spec.volumes;
  if (!volumes) return NO_CLAIMS;
  let out: string[] | undefined;
  for (const v of volumes) {
    const name = v.persistentVolumeClaim?.claimName;
    if (name !== undefined && !out?.includes(name)) (out ??= []).push(name);
  }
  return out ?? NO_CLAIMS;
}

/** The `namespace/name` key of a claim a pod names (the informers' key). */
export function claimKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? "default"}/${name}`;
}

/** The node a claim's volume is on (or will be: the scheduler chose it), if any. */
export function selectedNode(claim: PersistentVolumeClaim): string | undefined {
  return claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION] || undefined;
}

/** `spec.volumeName` of a provisioned claim, as dynamic provisioning names the volume. */
export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata.uid ?? ""}`;
}

/** True for a pod that has finished for good (Succeeded/Failed): it starts no container again. */
export function podTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed";
}

/**
 * True when a scheduled pod of the claim's namespace names it, whatever its phase and whether
 * or not it is being deleted — Kubernetes' pvc-protection `podUsesPVC`: a finished pod that
 * still exists keeps its claim (its exited containers still refer to the volume), and an
 * unscheduled pod does not (the kubelet only sees a pod once it is scheduled, and refuses to
 * start one whose claim is being deleted: `claimMountProblem`, read live at a first start).
 */
export function claimInUse(claim: PersistentVolumeClaim, pods: Iterable<Pod>): boolean {
  const ns = claim.metadata.namespace ?? "default";
  for (const pod of pods) {
    if (!pod.spec.nodeName || (pod.metadata.namespace ?? "default") !== ns) continue;
    if (podClaimNames(pod).includes(claim.metadata.name)) return true;
  }
  return false;
}

function hasFinalizer(claim: PersistentVolumeClaim, f: string): boolean {
  return claim.metadata.finalizers?.includes(f) ?? false;
}

/** The claim with finalizer `f` taken off (other finalizers kept, in order). */
export function withoutFinalizer(claim: PersistentVolumeClaim, f: string): PersistentVolumeClaim {
  return { ...claim, metadata: { ...claim.metadata, finalizers: (claim.metadata.finalizers ?? []).filter((x) => x !== f) } };
}

function withFinalizer(claim: PersistentVolumeClaim, f: string): PersistentVolumeClaim {
  return hasFinalizer(claim, f) ? claim : { ...claim, metadata: { ...claim.metadata, finalizers: [...(claim.metadata.finalizers ?? []), f] } };
}

// ---------------------------------------------------------------------------------------------
// pvc-protection (kube-controller-manager's pvc-protection-controller)

export type ProtectionCommand =
  /** A live claim without the protection finalizer gets it (update, compare-and-swap). */
  | { type: "protect"; claim: PersistentVolumeClaim; next: PersistentVolumeClaim }
  /**
   * A deleted claim no pod uses any more loses it — after the executor checks again, with
   * `claimInUse`, against the claim's namespace's pods listed afresh (one list per namespace
   * per pass).
   */
  | { type: "release"; claim: PersistentVolumeClaim; next: PersistentVolumeClaim };

/** What the pvc-protection controller does to each claim, given the pods it knows of. */
export function protectionCommands(claims: readonly PersistentVolumeClaim[], pods: readonly Pod[]): ProtectionCommand[] {
  const out: ProtectionCommand[] = [];
  let podsWithClaims: Pod[] | undefined;
  for (const claim of claims) {
    const protectedClaim = hasFinalizer(claim, PVC_PROTECTION_FINALIZER);
    if (!claim.metadata.deletionTimestamp) {
      if (!protectedClaim) out.push({ type: "protect", claim, next: withFinalizer(claim, PVC_PROTECTION_FINALIZER) });
      continue;
    }
    if (!protectedClaim) continue;
    // Only scheduled pods that name a claim at all are looked at, and only when some claim is being deleted.
    podsWithClaims ??= pods.filter((p) => p.spec.nodeName && podClaimNames(p).length > 0);
    if (!claimInUse(claim, podsWithClaims)) out.push({ type: "release", claim, next: withoutFinalizer(claim, PVC_PROTECTION_FINALIZER) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The local provisioner (Kubernetes' PV controller and a local-path provisioner, as one)

export const WAIT_FOR_FIRST_CONSUMER_MESSAGE = "waiting for first consumer to be created before binding";

export type ProvisionerCommand =
  /**
   * A placed claim not yet Bound: `spec` (volumeName, the volume finalizer) written first when
   * `next` differs from the claim, then the Bound status; event ProvisioningSucceeded.
   */
  | { type: "provision"; claim: PersistentVolumeClaim; next?: PersistentVolumeClaim }
  /** A Bound claim whose request grew: `status.capacity` raised to it. */
  | { type: "resize"; claim: PersistentVolumeClaim; storage: string }
  /** A Pending claim no pod has placed yet: one Normal event WaitForFirstConsumer. */
  | { type: "waitForFirstConsumer"; claim: PersistentVolumeClaim }
  /** A deleted claim whose node is no Node any more: the volume finalizer goes without the volume (Warning ClaimLost). */
  | { type: "nodeLost"; claim: PersistentVolumeClaim; node: string; next: PersistentVolumeClaim }
  /**
   * A deleted claim, let go by protection, whose node exists but is not Ready: only that node
   * can remove the volume, so the claim (and its name) waits for it. One Warning event
   * WaitingForNode per claim says so, and how to end the wait.
   */
  | { type: "waitForNode"; claim: PersistentVolumeClaim; node: string };

export interface ProvisionerInput {
  claims: readonly PersistentVolumeClaim[];
  /** The names of the Node objects that exist. */
  nodes: ReadonlySet<string>;
  /** The names of the nodes whose Ready condition is True. */
  ready: ReadonlySet<string>;
  /** Uids of claims whose WaitForFirstConsumer event was recorded already. */
  waited: ReadonlySet<string>;
  /** Uids of claims whose WaitingForNode event was recorded already. */
  waitingForNode: ReadonlySet<string>;
}

/** The message of the Warning WaitingForNode: what the claim waits for, and how to end the wait. */
export function waitingForNodeMessage(claim: PersistentVolumeClaim, node: string): string {
  return `the volume ${provisionedVolumeName(claim)} is on node "${node}", which is not Ready: the claim goes once that node removes it. ` +
    `Bring the node back, or, if it is gone for good, delete the Node object "${node}" (the volume's data is then lost with the node)`;
}

/** A deleted claim protection let go that still needs its node to remove its volume. */
export function awaitingReclaim(claim: PersistentVolumeClaim): boolean {
  return !!claim.metadata.deletionTimestamp && selectedNode(claim) !== undefined && hasFinalizer(claim, LOCAL_VOLUME_FINALIZER) && !hasFinalizer(claim, PVC_PROTECTION_FINALIZER);
}

/** `claim` as provisioned: `spec.volumeName` set and the volume finalizer on (unchanged object if both are). */
export function provisionedSpec(claim: PersistentVolumeClaim): PersistentVolumeClaim {
  const volumeName = provisionedVolumeName(claim);
  const c = claim.spec.volumeName === volumeName ? claim : { ...claim, spec: { ...claim.spec, volumeName } };
  return withFinalizer(c, LOCAL_VOLUME_FINALIZER);
}

/** The claim's status once Bound: the access modes it asked for and the storage it requested. */
export function boundStatus(claim: PersistentVolumeClaim): NonNullable<PersistentVolumeClaim["status"]> {
  const storage = claim.spec.resources?.requests?.storage;
  return {
    ...claim.status,
    phase: "Bound",
    accessModes: claim.spec.accessModes ?? [],
    capacity: { ...claim.status?.capacity, ...(storage !== undefined ? { storage } : {}) },
  };
}

function bytesOf(q: string | undefined): number | undefined {
  if (q === undefined) return undefined;
  try {
    return parseBytes(q);
  } catch {
    return undefined; // the API validates requests; an unreadable one is left alone
  }
}

/** What the provisioner does to each claim. */
export function provisionerCommands(input: ProvisionerInput): ProvisionerCommand[] {
  const out: ProvisionerCommand[] = [];
  for (const claim of input.claims) {
    const node = selectedNode(claim);
    if (claim.metadata.deletionTimestamp) {
      // The node that has the volume removes it (runtime/kubelet/claim_volumes.ts); a node gone
      // for good never will, so its finalizer is taken off here, once protection is. A node that
      // is there but not Ready may come back with the volume: the claim waits, visibly.
      if (node !== undefined && awaitingReclaim(claim)) {
        if (!input.nodes.has(node)) out.push({ type: "nodeLost", claim, node, next: withoutFinalizer(claim, LOCAL_VOLUME_FINALIZER) });
        else if (!input.ready.has(node) && !input.waitingForNode.has(claim.metadata.uid ?? "")) out.push({ type: "waitForNode", claim, node });
      }
      continue;
    }
    if (node === undefined) {
      if (claim.status?.phase !== "Bound" && !input.waited.has(claim.metadata.uid ?? "")) out.push({ type: "waitForFirstConsumer", claim });
      continue;
    }
    const next = provisionedSpec(claim);
    if (next !== claim || claim.status?.phase !== "Bound") {
      out.push({ type: "provision", claim, ...(next !== claim ? { next } : {}) });
      continue;
    }
    // Expansion: Docker volumes have no size, so a larger request only raises the capacity shown.
    const requested = claim.spec.resources?.requests?.storage;
    const want = bytesOf(requested);
    const have = bytesOf(claim.status?.capacity?.storage);
    if (requested !== undefined && want !== undefined && (have === undefined || want > have)) out.push({ type: "resize", claim, storage: requested });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// A node's side: reclaim (policy Delete) and mounting

/**
 * The claims node `node` must reclaim now: deleted, released by pvc-protection, still holding
 * the volume finalizer, and placed on `node`. Each: remove the volume, then the finalizer.
 */
export function claimsToReclaim(claims: Iterable<PersistentVolumeClaim>, node: string): PersistentVolumeClaim[] {
  const out: PersistentVolumeClaim[] = [];
  for (const c of claims) if (selectedNode(c) === node && awaitingReclaim(c)) out.push(c);
  return out;
}

/**
 * Why node `node` may not mount claim `name` of `namespace` for a pod, or undefined when it
 * may: the claim exists, its volume is on this node, and — for a pod starting for the first
 * time — it is not being deleted (as the kubelet refuses to start a pod on a claim being
 * deleted, while one already running keeps it). For a first start `claim` must be read live,
 * not from a cache, as the kubelet's getPVCExtractPV does: pvc-protection lets go of a claim no
 * scheduled pod names, counting on exactly this refusal. A claim not placed yet (a pod bound
 * with `spec.nodeName` bypasses the scheduler) is not mounted, as in Kubernetes, where such a
 * claim stays Pending; set the annotation to place it. The words are the kubelet's.
 */
export function claimMountProblem(claim: PersistentVolumeClaim | undefined, namespace: string, name: string, node: string, firstStart: boolean): string | undefined {
  if (!claim) return `error processing PVC ${namespace}/${name}: failed to fetch PVC from API server: persistentvolumeclaims "${name}" not found`;
  if (claim.metadata.deletionTimestamp && firstStart) return `error processing PVC ${namespace}/${name}: can't start pod because PVC ${namespace}/${name} is being deleted`;
  const at = selectedNode(claim);
  if (at === undefined) return `error processing PVC ${namespace}/${name}: PVC is not bound (no pod has been scheduled with it, and no ${SELECTED_NODE_ANNOTATION} annotation names a node)`;
  if (at !== node) return `error processing PVC ${namespace}/${name}: its volume is on node "${at}", not on this node`;
  return undefined;
}

/** The kubelet's FailedMount message for the pod volumes it could not mount and the first reason. */
export function failedMountMessage(volumes: readonly string[], problem: string): string {
  const list = volumes.join(" ");
  return `Unable to attach or mount volumes: unmounted volumes=[${list}], unattached volumes=[${list}], failed to process volumes=[${list}]: ${problem}`;
}
