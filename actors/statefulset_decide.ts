/**
 * The StatefulSet controller's decision, as a pure function (Kubernetes' stateful_set_control.go):
 *
 *   - pod `<set>-<ordinal>` for each ordinal in [start, start + replicas), with hostname = its
 *     name and subdomain = `serviceName` (so the governing headless service gives it a DNS name),
 *     and one claim `<template>-<set>-<ordinal>` per `volumeClaimTemplates` entry, made before the
 *     pod and never by the pod's deletion removed (unless the retention policy says so);
 *   - `OrderedReady` (the default): one pod at a time — ordinal n is created only when every
 *     lower one is Running and Ready (and available for `minReadySeconds`); scaling down removes
 *     the highest ordinal first, one at a time, and not while another pod is unhealthy;
 *     `Parallel`: creates and deletes without waiting;
 *   - a Failed or Succeeded pod is deleted, and made again under its name on a later pass;
 *   - `RollingUpdate`: from the highest ordinal down to `partition`, a pod of an older revision is
 *     deleted (one at a time, waiting for each to come back Running and Ready), and made again at
 *     the update revision; ordinals below the partition stay; `OnDelete`: only pods the user
 *     deletes come back at the update revision;
 *   - `persistentVolumeClaimRetentionPolicy`: `whenDeleted: Delete` gives each claim an owner
 *     reference to the set (the garbage collector removes it with the set), `whenScaled: Delete`
 *     gives the claim of a pod scaled away an owner reference to that pod (removed with it).
 *
 * The revision of a template is `<set>-<hash>` (the `controller-revision-hash` label), kept as a
 * ControllerRevision (the controller makes them; `revisionsToPrune` bounds their history): a pod
 * below the partition that must be made again is made from the current revision's template.
 */
import { isPodReady, podReadySince } from "../model/pod.ts";
import {
  CONTROLLER_REVISION_HASH_LABEL, type OwnerReference, type PodTemplateSpec, type PersistentVolumeClaim, type Pod, POD_INDEX_LABEL,
  STATEFULSET_POD_NAME_LABEL, type StatefulSet, type StatefulSetStatus,
} from "../model/types.ts";
import { templateHash } from "./daemonset_decide.ts";

/** The set's pods and claims are named `<set>-<ordinal>` and `<template>-<set>-<ordinal>`. */
const ORDINAL = /^(.*)-(0|[1-9][0-9]*)$/;

/** `[parent, ordinal]` of a pod name, or undefined when it does not end in an ordinal. */
export function parseOrdinal(name: string): [string, number] | undefined {
  const m = ORDINAL.exec(name);
  if (!m) return undefined;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? [m[1], n] : undefined;
}

/**
 * The name of the revision of the set's template: `<set>-<hash>`, as the `controller-revision-hash`
 * label; `status.collisionCount` goes into the hash, so a name taken by another revision is left
 * behind by counting a collision (as Kubernetes' ControllerRevision names).
 */
export function updateRevision(set: StatefulSet): string {
  const collisions = set.status?.collisionCount ?? 0;
  const hash = collisions ? templateHash({ spec: { template: { ...set.spec.template, metadata: { ...set.spec.template.metadata, annotations: { ...set.spec.template.metadata?.annotations, "berth.dev/collision-count": String(collisions) } } } } }) : templateHash(set);
  return `${set.metadata.name}-${hash}`;
}

export const podName = (set: StatefulSet, ordinal: number) => `${set.metadata.name}-${ordinal}`;
export const claimName = (template: string, set: StatefulSet, ordinal: number) => `${template}-${set.metadata.name}-${ordinal}`;

const setRef = (set: StatefulSet, controller: boolean): OwnerReference => ({
  apiVersion: "apps/v1", kind: "StatefulSet", name: set.metadata.name, uid: set.metadata.uid!,
  ...(controller ? { controller: true, blockOwnerDeletion: true } : {}),
});

/** The pod for `ordinal` at `revision` (as Kubernetes' newVersionedStatefulSetPod). */
export function statefulPod(set: StatefulSet, ordinal: number, revision: string): Pod {
  const t = set.spec.template;
  const name = podName(set, ordinal);
  const spec = structuredClone(t.spec);
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = set.spec.volumeClaimTemplates ?? [];
  if (claims.length) {
    const fromClaims = claims.map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: claimName(c.metadata.name, set, ordinal) } }));
    spec.volumes = [...fromClaims, ...(spec.volumes ?? []).filter((v) => !claims.some((c) => c.metadata.name === v.name))];
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: {
        ...(t.metadata?.labels ?? {}),
        [STATEFULSET_POD_NAME_LABEL]: name,
        [POD_INDEX_LABEL]: String(ordinal),
        [CONTROLLER_REVISION_HASH_LABEL]: revision,
      },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [setRef(set, true)],
    },
    spec,
  };
}

/**
 * The owner references a claim should carry for the retention policy (Kubernetes'
 * claimOwnerMatchesSetAndPod): to its pod alone when the pod's ordinal is scaled away and
 * `whenScaled: Delete`; else to the set when `whenDeleted: Delete`. References to anything else
 * are kept.
 */
export function claimOwners(set: StatefulSet, claim: PersistentVolumeClaim, pod: Pod | undefined, condemned: boolean): OwnerReference[] {
  const policy = set.spec.persistentVolumeClaimRetentionPolicy ?? {};
  const others = (claim.metadata.ownerReferences ?? []).filter((r) => !(r.kind === "StatefulSet" && r.uid === set.metadata.uid) && !(r.kind === "Pod" && r.uid === pod?.metadata.uid));
  const out = [...others];
  // A claim scaled away with `whenScaled: Delete` belongs to its pod alone (not to the set too,
  // or it would outlive the pod), as Kubernetes' updateClaimOwnerRefForSetAndPod.
  if (condemned && policy.whenScaled === "Delete" && pod?.metadata.uid) out.push({ apiVersion: "v1", kind: "Pod", name: pod.metadata.name, uid: pod.metadata.uid });
  else if (policy.whenDeleted === "Delete") out.push(setRef(set, false));
  return out;
}

const sameOwners = (a: readonly OwnerReference[] = [], b: readonly OwnerReference[] = []) =>
  a.length === b.length && a.every((r) => b.some((s) => s.uid === r.uid && s.kind === r.kind && !!s.controller === !!r.controller));

/** The claims for `ordinal` (as Kubernetes' getPersistentVolumeClaims): the template's labels with the selector's, in the set's namespace. */
export function statefulClaims(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (set.spec.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: {
      name: claimName(t.metadata.name, set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...(set.spec.selector.matchLabels ?? {}) },
      ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
    },
    spec: structuredClone(t.spec),
  }));
}

export type StatefulCommand =
  | { type: "createClaims"; claims: PersistentVolumeClaim[]; pod: string }
  | { type: "createPod"; pod: Pod }
  | { type: "deletePod"; pod: Pod; reason: "failed" | "condemned" | "update" }
  | { type: "updateClaimOwners"; claim: PersistentVolumeClaim; ownerReferences: OwnerReference[] };

export interface StatefulDecision {
  /** In order; the controller stops at the first that fails. */
  commands: StatefulCommand[];
  /** Why the pass stopped short, for the log (OrderedReady waits). */
  waiting?: string;
  status: StatefulSetStatus;
  /** When a pod's `minReadySeconds` will have passed: look again then. */
  requeueAfterMs?: number;
}

export interface StatefulInput {
  set: StatefulSet;
  /** The current revision's template (`status.currentRevision`'s), for pods made below the partition. */
  currentTemplate?: PodTemplateSpec;
  /** The pods the set controls. */
  pods: readonly Pod[];
  /** The namespace's claims, by name. */
  claim(name: string): PersistentVolumeClaim | undefined;
  now: number;
}

const isTerminating = (p: Pod) => !!p.metadata.deletionTimestamp;
const isFinished = (p: Pod) => p.status?.phase === "Failed" || p.status?.phase === "Succeeded";
const runningAndReady = (p: Pod) => p.status?.phase === "Running" && isPodReady(p);
const revisionOf = (p: Pod) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL];

export function decideStatefulSet(input: StatefulInput): StatefulDecision {
  const { set, now } = input;
  const replicaCount = set.spec.replicas ?? 1;
  const start = set.spec.ordinals?.start ?? 0;
  const monotonic = (set.spec.podManagementPolicy ?? "OrderedReady") === "OrderedReady";
  const update = updateRevision(set);
  const current = set.status?.currentRevision ?? update;
  const minReadyMs = (set.spec.minReadySeconds ?? 0) * 1000;
  let requeueAfterMs: number | undefined;
  const available = (p: Pod) => {
    if (!runningAndReady(p)) return false;
    if (minReadyMs === 0) return true;
    const wait = podReadySince(p) + minReadyMs - now;
    if (wait <= 0) return true;
    requeueAfterMs = requeueAfterMs === undefined ? wait : Math.min(requeueAfterMs, wait);
    return false;
  };

  // Replicas by index (ordinal − start), and the condemned: members beyond the range.
  const replicas: (Pod | undefined)[] = new Array(replicaCount).fill(undefined);
  const condemned: Pod[] = [];
  for (const p of input.pods) {
    const parsed = parseOrdinal(p.metadata.name);
    if (!parsed || parsed[0] !== set.metadata.name) continue;
    const i = parsed[1] - start;
    if (i >= 0 && i < replicaCount) replicas[i] = p;
    else condemned.push(p);
  }
  condemned.sort((a, b) => parseOrdinal(b.metadata.name)![1] - parseOrdinal(a.metadata.name)![1]);

  // Status from the pods as they are (as updateStatefulSet counts them).
  const members = [...replicas.filter((p): p is Pod => !!p), ...condemned];
  const status: StatefulSetStatus = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: members.length,
    readyReplicas: members.filter(runningAndReady).length,
    availableReplicas: members.filter(available).length,
    // Terminating pods count as replicas, not as current or updated ones (computeReplicaStatus).
    currentReplicas: members.filter((p) => !isTerminating(p) && revisionOf(p) === current).length,
    updatedReplicas: members.filter((p) => !isTerminating(p) && revisionOf(p) === update).length,
    currentRevision: current,
    updateRevision: update,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  const rolling = (set.spec.updateStrategy?.type ?? "RollingUpdate") === "RollingUpdate";
  const partition = set.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (rolling && status.replicas === replicaCount && status.updatedReplicas === replicaCount && status.readyReplicas === replicaCount) {
    // The rollout is complete: the update revision becomes the current one.
    status.currentRevision = update;
    status.currentReplicas = status.updatedReplicas;
  }

  const commands: StatefulCommand[] = [];
  const done = (waiting?: string): StatefulDecision => ({
    commands,
    ...(waiting ? { waiting } : {}),
    status,
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  });

  // A set being deleted only reports (the garbage collector removes its pods; an orphaning delete
  // has taken its references off the claims, and they must stay off).
  if (set.metadata.deletionTimestamp) return done();

  // Claims' owner references follow the retention policy, for every pod that exists; a claim
  // another controller owns is left alone (Kubernetes' hasUnexpectedController).
  const fixOwners = (p: Pod, isCondemned: boolean) => {
    const ordinal = parseOrdinal(p.metadata.name)![1];
    for (const want of statefulClaims(set, ordinal)) {
      const claim = input.claim(want.metadata.name);
      if (!claim || claim.metadata.deletionTimestamp) continue;
      if (claim.metadata.ownerReferences?.some((r) => r.controller && r.uid !== set.metadata.uid && r.uid !== p.metadata.uid)) continue;
      const owners = claimOwners(set, claim, p, isCondemned);
      if (!sameOwners(claim.metadata.ownerReferences, owners)) commands.push({ type: "updateClaimOwners", claim, ownerReferences: owners });
    }
  };
  for (const p of replicas) if (p) fixOwners(p, false);
  for (const p of condemned) fixOwners(p, true);

  /**
   * Claims of `ordinal` that do not exist yet; undefined when one is being deleted, or (for a pod
   * not there) still owned by the pod that was there — a claim scaled away with `whenScaled:
   * Delete`, about to be collected (Kubernetes' PodClaimIsStale): wait for it to go.
   */
  const missingClaims = (ordinal: number, podThere: boolean): PersistentVolumeClaim[] | undefined => {
    const out: PersistentVolumeClaim[] = [];
    const name = podName(set, ordinal);
    for (const want of statefulClaims(set, ordinal)) {
      const have = input.claim(want.metadata.name);
      if (have?.metadata.deletionTimestamp) return undefined;
      if (!podThere && have?.metadata.ownerReferences?.some((r) => r.kind === "Pod" && r.name === name)) return undefined;
      if (!have) out.push(want);
    }
    return out;
  };

  // The replicas, lowest ordinal first.
  for (let i = 0; i < replicaCount; i++) {
    const ordinal = i + start;
    const pod = replicas[i];
    if (pod && isFinished(pod) && !isTerminating(pod)) {
      commands.push({ type: "deletePod", pod, reason: "failed" });
      if (monotonic) return done(`recreating failed pod ${pod.metadata.name}`);
      continue;
    }
    if (!pod) {
      const claims = missingClaims(ordinal, false);
      if (!claims) {
        if (monotonic) return done(`a claim of pod ${podName(set, ordinal)} is being deleted`);
        continue;
      }
      if (claims.length) commands.push({ type: "createClaims", claims, pod: podName(set, ordinal) });
      // Below the partition a pod is made at the current revision (newVersionedStatefulSetPod).
      const atCurrent = rolling && current !== update && input.currentTemplate && ordinal < start + partition;
      commands.push({ type: "createPod", pod: atCurrent ? statefulPod({ ...set, spec: { ...set.spec, template: input.currentTemplate! } }, ordinal, current) : statefulPod(set, ordinal, update) });
      if (monotonic) return done(`waiting for pod ${podName(set, ordinal)} to be created`);
      continue;
    }
    // A pod made before its claims (or whose claim was deleted): make them again.
    if (pod.status?.phase === "Pending" || !pod.status?.phase) {
      const claims = missingClaims(ordinal, true);
      if (claims?.length) commands.push({ type: "createClaims", claims, pod: pod.metadata.name });
    }
    if (!monotonic) continue;
    if (isTerminating(pod)) return done(`waiting for pod ${pod.metadata.name} to terminate`);
    if (!runningAndReady(pod)) return done(`waiting for pod ${pod.metadata.name} to be Running and Ready`);
    if (!available(pod)) return done(`waiting for pod ${pod.metadata.name} to be available`);
  }

  // Scale down: the highest ordinal first.
  const firstUnhealthy = [...replicas, ...condemned.slice().reverse()].find((p) => p && (!runningAndReady(p) || isTerminating(p)));
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return done(`waiting for pod ${pod.metadata.name} to terminate`);
      continue;
    }
    if (monotonic && !runningAndReady(pod) && pod !== firstUnhealthy) return done(`waiting for pod ${firstUnhealthy?.metadata.name} to be Running and Ready`);
    if (monotonic && !available(pod) && pod !== firstUnhealthy) return done(`waiting for pod ${pod.metadata.name} to be available`);
    commands.push({ type: "deletePod", pod, reason: "condemned" });
    if (monotonic) return done(`waiting for pod ${pod.metadata.name} to terminate`);
  }

  // The rolling update, from the highest ordinal down to the partition, one pod at a time.
  if (!rolling) return done();
  for (let i = replicaCount - 1; i >= partition; i--) {
    const pod = replicas[i];
    if (!pod) return done();
    if (revisionOf(pod) !== update && !isTerminating(pod)) {
      commands.push({ type: "deletePod", pod, reason: "update" });
      return done(`waiting for pod ${pod.metadata.name} to be updated`);
    }
    if (!runningAndReady(pod) || isTerminating(pod)) return done(`waiting for pod ${pod.metadata.name} to be Running and Ready`);
  }
  return done();
}
