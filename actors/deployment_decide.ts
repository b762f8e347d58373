/**
 * The Deployment controller's decisions, pure, following Kubernetes' deployment controller
 * (pkg/controller/deployment): which ReplicaSet is the new one, how far to scale it up and the
 * old ones down, revisions, history clean-up, and the status kubectl's rollout viewer reads.
 *
 *   deployment + the ReplicaSets it controls + now
 *     ──decideDeployment──▶ DeploymentCommand[] (create RS | scale RS | sync RS annotations and
 *                           minReadySeconds | set deployment revision | delete RS | update status)
 *
 * One step per call, as Kubernetes' sync: a pass that creates or scales up the new ReplicaSet
 * does not also scale down old ones; the next pass (woken by the ReplicaSets' status) does.
 * Replica counts in commands are absolute, so a pass on a lagging view repeats, never compounds.
 * Availability is read from ReplicaSet status, capped by each one's `spec.replicas` so a status
 * that has not yet caught up with a scale-down never lets the controller take more pods away.
 */
import type { Condition, Deployment, DeploymentStatus, OwnerReference, Pod, PodTemplateSpec, ReplicaSet } from "../model/types.ts";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const POD_TEMPLATE_HASH = "pod-template-hash";
/** Annotations of a Deployment not copied to its ReplicaSets (as Kubernetes' `skipCopyAnnotation`). */
const SKIP_COPY = new Set([REVISION_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration", "deployment.kubernetes.io/revision-history"]);

export type DeploymentCommand =
  | { type: "createReplicaSet"; rs: ReplicaSet }
  | { type: "scaleReplicaSet"; rs: ReplicaSet; replicas: number }
  /**
   * Brings the new ReplicaSet in step with its deployment, as Kubernetes' getNewReplicaSet: the
   * deployment's annotations (a `kubernetes.io/change-cause` shown by `kubectl rollout history`),
   * a rollback's next revision, and `minReadySeconds`. Only what differs is set.
   */
  | { type: "syncReplicaSet"; rs: ReplicaSet; annotations?: Record<string, string>; minReadySeconds?: number }
  | { type: "setDeploymentRevision"; revision: string }
  | { type: "deleteReplicaSet"; rs: ReplicaSet }
  | { type: "updateStatus"; status: DeploymentStatus };

export interface DeploymentInput {
  deployment: Deployment;
  /** ReplicaSets of the deployment's namespace; those it does not control are ignored. */
  replicaSets: readonly ReplicaSet[];
  /**
   * Pods controlled by the deployment's ReplicaSets (others are ignored). Recreate waits until no
   * pod of an old ReplicaSet is running, terminating ones included, as Kubernetes' oldPodsRunning:
   * a ReplicaSet's status stops counting a pod as soon as its deletion starts.
   */
  pods?: readonly Pod[];
  now: number;
}

/** An int-or-percent of `total`: percentages rounded up (surge) or down (unavailable), as Kubernetes. */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === "number") return v;
  const pct = Number(v.replace(/%$/, ""));
  const x = (pct * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** `maxSurge` and `maxUnavailable` as numbers (Kubernetes' ResolveFenceposts; Recreate: 0 and 0). */
export function fenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  if (d.spec.strategy?.type === "Recreate") return { maxSurge: 0, maxUnavailable: 0 };
  const replicas = d.spec.replicas ?? 1;
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge ?? "25%", replicas, true);
  let maxUnavailable = scaledValue(ru.maxUnavailable ?? "25%", replicas, false);
  // Both zero would never make progress: Kubernetes then allows one unavailable.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** A template without the pod-template-hash label, canonically encoded (Kubernetes' EqualIgnoreHash). */
function templateKey(t: PodTemplateSpec | undefined): string {
  if (!t) return "";
  const labels = { ...(t.metadata?.labels ?? {}) };
  delete labels[POD_TEMPLATE_HASH];
  return canonical({ ...t, metadata: { ...t.metadata, labels } });
}

const SAFE = "bcdfghjklmnpqrstvwxz2456789";

/** The pod-template-hash of a template: FNV-1a (32-bit) encoded with Kubernetes' safe alphabet. */
export function templateHash(t: PodTemplateSpec, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = templateKey(t) + (collisionCount ? `#${collisionCount}` : "");
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join("");
}

/** The revision of a ReplicaSet (0 when absent or not a number). */
export function revisionOf(o: { metadata: { annotations?: Record<string, string> } }): number {
  const n = Number(o.metadata.annotations?.[REVISION_ANNOTATION] ?? "0");
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** The ReplicaSets a deployment controls (by controller owner reference), oldest first. */
export function ownedReplicaSets(d: Deployment, all: readonly ReplicaSet[]): ReplicaSet[] {
  const ns = d.metadata.namespace ?? "default";
  return all
    .filter((rs) => (rs.metadata.namespace ?? "default") === ns && rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid))
    .sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || a.metadata.name.localeCompare(b.metadata.name));
}

/** The new ReplicaSet (template equal to the deployment's, ignoring the hash label) and the old ones. */
export function splitReplicaSets(d: Deployment, owned: readonly ReplicaSet[]): { newRS?: ReplicaSet; olds: ReplicaSet[] } {
  const key = templateKey(d.spec.template);
  const newRS = owned.find((rs) => templateKey(rs.spec.template) === key);
  return { newRS, olds: owned.filter((rs) => rs !== newRS) };
}

const specReplicas = (rs: ReplicaSet) => rs.spec.replicas ?? 1;
/** Available pods of a ReplicaSet as the controller may count them: never more than it is scaled to. */
const available = (rs: ReplicaSet) => Math.min(rs.status?.availableReplicas ?? 0, specReplicas(rs));
const sum = (xs: readonly ReplicaSet[], f: (rs: ReplicaSet) => number) => xs.reduce((n, rs) => n + f(rs), 0);

/** The deployment's annotations its ReplicaSets carry (Kubernetes' copyDeploymentAnnotationsToReplicaSet). */
function copiedAnnotations(d: Deployment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY.has(k)) out[k] = v;
  return out;
}

/** The ReplicaSet a deployment creates for its current template, with the given revision and size. */
export function newReplicaSetFor(d: Deployment, revision: number, replicas: number): ReplicaSet {
  const hash = templateHash(d.spec.template, d.status?.collisionCount ?? 0);
  const t = d.spec.template;
  const labels = { ...(t.metadata?.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
  const annotations: Record<string, string> = { ...copiedAnnotations(d), [REVISION_ANNOTATION]: String(revision) };
  const owner: OwnerReference = { apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true };
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels, annotations, ownerReferences: [owner] },
    spec: {
      replicas,
      ...(d.spec.minReadySeconds !== undefined ? { minReadySeconds: d.spec.minReadySeconds } : {}),
      selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash } },
      template: { ...t, metadata: { ...t.metadata, labels } },
    },
  };
}

/**
 * How many replicas the new ReplicaSet should have now in a rolling update (Kubernetes'
 * NewRSNewReplicas): up to `replicas + maxSurge` pods in all, never more than `replicas` new.
 */
export function newReplicaSetReplicas(d: Deployment, all: readonly ReplicaSet[], newCurrent: number): number {
  const replicas = d.spec.replicas ?? 1;
  if (d.spec.strategy?.type === "Recreate") return replicas;
  const { maxSurge } = fenceposts(d);
  const current = sum(all, specReplicas);
  const maxTotal = replicas + maxSurge;
  if (current >= maxTotal) return newCurrent;
  return newCurrent + Math.max(0, Math.min(maxTotal - current, replicas - newCurrent));
}

/**
 * How far to scale old ReplicaSets down in a rolling update (Kubernetes' reconcileOldReplicaSets):
 * first old pods that are not available, then available ones while at least
 * `replicas - maxUnavailable` stay available. Returns the new size of each old RS that changes.
 */
export function scaleDownOld(d: Deployment, newRS: ReplicaSet | undefined, olds: readonly ReplicaSet[]): Map<ReplicaSet, number> {
  const out = new Map<ReplicaSet, number>();
  const replicas = d.spec.replicas ?? 1;
  const { maxUnavailable } = fenceposts(d);
  const minAvailable = replicas - maxUnavailable;
  const all = newRS ? [...olds, newRS] : [...olds];
  const allPods = sum(all, specReplicas);
  const newUnavailable = newRS ? specReplicas(newRS) - available(newRS) : 0;
  let budget = allPods - minAvailable - newUnavailable;
  if (budget <= 0 || sum(olds, specReplicas) === 0) return out;
  const size = new Map(olds.map((rs) => [rs, specReplicas(rs)] as const));
  // 1. Unhealthy old pods go first: they cost no availability.
  for (const rs of olds) {
    if (budget <= 0) break;
    const unhealthy = size.get(rs)! - available(rs);
    if (unhealthy <= 0) continue;
    const n = Math.min(unhealthy, budget);
    size.set(rs, size.get(rs)! - n);
    budget -= n;
  }
  // 2. Available old pods, oldest ReplicaSet first, while enough stay available.
  const availableNow = sum(all, (rs) => (size.has(rs) ? Math.min(available(rs), size.get(rs)!) : available(rs)));
  let down = Math.min(availableNow - minAvailable, budget);
  for (const rs of olds) {
    if (down <= 0) break;
    const n = Math.min(size.get(rs)!, down);
    size.set(rs, size.get(rs)! - n);
    down -= n;
  }
  for (const rs of olds) if (size.get(rs)! !== specReplicas(rs)) out.set(rs, size.get(rs)!);
  return out;
}

function setCondition(conds: Condition[], c: Condition, now: string): Condition[] {
  const prev = conds.find((x) => x.type === c.type);
  const same = prev && prev.status === c.status && prev.reason === c.reason;
  const next: Condition = {
    ...c,
    lastUpdateTime: c.lastUpdateTime ?? now,
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime ?? now : now,
  };
  if (same && prev.message === c.message && c.lastUpdateTime === undefined) return conds;
  return [...conds.filter((x) => x.type !== c.type), next].sort((a, b) => a.type.localeCompare(b.type));
}

/** The status a deployment reports for its ReplicaSets (Kubernetes' calculateStatus + progress). */
export function deploymentStatus(d: Deployment, newRS: ReplicaSet | undefined, all: readonly ReplicaSet[], now: number, createdNew = false): DeploymentStatus {
  const replicas = d.spec.replicas ?? 1;
  const prev = d.status ?? {};
  const nowIso = new Date(now).toISOString();
  const avail = sum(all, (rs) => rs.status?.availableReplicas ?? 0);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: sum(all, (rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum(all, (rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: avail,
    unavailableReplicas: Math.max(0, replicas - avail),
    ...(prev.collisionCount !== undefined ? { collisionCount: prev.collisionCount } : {}),
  };
  let conds = prev.conditions ?? [];
  const { maxUnavailable } = fenceposts(d);
  conds = avail >= replicas - maxUnavailable
    ? setCondition(conds, { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }, nowIso)
    : setCondition(conds, { type: "Available", status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." }, nowIso);
  const rsName = newRS?.metadata.name ?? `${d.metadata.name}`;
  const complete = status.updatedReplicas === replicas && status.replicas === replicas && avail === replicas;
  const progressing = conds.find((c) => c.type === "Progressing");
  const progressed =
    (status.updatedReplicas ?? 0) > (prev.updatedReplicas ?? 0) ||
    (status.readyReplicas ?? 0) > (prev.readyReplicas ?? 0) ||
    avail > (prev.availableReplicas ?? 0) ||
    (status.replicas ?? 0) - (status.updatedReplicas ?? 0) < (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0);
  if (d.spec.paused) {
    conds = setCondition(conds, { type: "Progressing", status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" }, nowIso);
  } else if (createdNew) {
    conds = setCondition(conds, { type: "Progressing", status: "True", reason: "NewReplicaSetCreated", message: `Created new replica set "${rsName}"`, lastUpdateTime: nowIso }, nowIso);
  } else if (complete) {
    if (progressing?.reason !== "NewReplicaSetAvailable") {
      conds = setCondition(conds, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.`, lastUpdateTime: nowIso }, nowIso);
    }
  } else if (progressed || !progressing || progressing.reason === "DeploymentResumed" || progressing.reason === "DeploymentPaused" || progressing.reason === "NewReplicaSetAvailable") {
    conds = setCondition(conds, { type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${rsName}" is progressing.`, lastUpdateTime: nowIso }, nowIso);
  } else if (progressing.status === "True" && timedOut(d, progressing, now)) {
    conds = setCondition(conds, { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.` }, nowIso);
  }
  if (conds.length) status.conditions = conds;
  return status;
}

function timedOut(d: Deployment, progressing: Condition, now: number): boolean {
  const deadline = d.spec.progressDeadlineSeconds;
  if (deadline === undefined) return false;
  const since = Date.parse(progressing.lastUpdateTime ?? progressing.lastTransitionTime ?? "");
  return Number.isFinite(since) && now - since > deadline * 1000;
}

/** When the deployment should be looked at again without a wake-up (the progress deadline), in ms. */
export function requeueAfterMs(d: Deployment, status: DeploymentStatus, now: number): number | undefined {
  const p = status.conditions?.find((c) => c.type === "Progressing");
  if (!p || p.status !== "True" || p.reason === "NewReplicaSetAvailable" || d.spec.progressDeadlineSeconds === undefined) return undefined;
  const since = Date.parse(p.lastUpdateTime ?? "");
  if (!Number.isFinite(since)) return undefined;
  return Math.max(100, since + d.spec.progressDeadlineSeconds * 1000 - now + 100);
}

function statusDiffers(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonical(a ?? {}) !== canonical(b);
}

/** Whether a pod of one of `olds` still runs: not Failed or Succeeded, terminating or not. */
export function oldPodsRunning(olds: readonly ReplicaSet[], pods: readonly Pod[]): boolean {
  const uids = new Set(olds.map((rs) => rs.metadata.uid));
  return pods.some((p) => {
    const owner = p.metadata.ownerReferences?.find((o) => o.controller);
    return owner !== undefined && uids.has(owner.uid) && p.status?.phase !== "Failed" && p.status?.phase !== "Succeeded";
  });
}

/** Decides what a deployment needs now. Pure: same input, same commands. */
export function decideDeployment(input: DeploymentInput): DeploymentCommand[] {
  const { deployment: d, now } = input;
  const owned = ownedReplicaSets(d, input.replicaSets).filter((rs) => !rs.metadata.deletionTimestamp);
  const { newRS, olds } = splitReplicaSets(d, owned);
  const replicas = d.spec.replicas ?? 1;
  const cmds: DeploymentCommand[] = [];
  const finish = (createdNew = false) => {
    const status = deploymentStatus(d, newRS, owned, now, createdNew);
    if (statusDiffers(d.status, status)) cmds.push({ type: "updateStatus", status });
    return cmds;
  };
  if (d.metadata.deletionTimestamp) return finish();
  const maxOld = Math.max(0, ...olds.map(revisionOf));

  if (d.spec.paused) {
    // A paused deployment rolls nothing out; it only follows `replicas` once no old pods remain.
    if (newRS && sum(olds, specReplicas) === 0 && specReplicas(newRS) !== replicas) cmds.push({ type: "scaleReplicaSet", rs: newRS, replicas });
    return finish();
  }

  if (!newRS) {
    const recreateWaits = d.spec.strategy?.type === "Recreate" && sum(olds, specReplicas) + sum(olds, (rs) => rs.status?.replicas ?? 0) > 0;
    const size = recreateWaits ? 0 : newReplicaSetReplicas(d, olds, 0);
    const rs = newReplicaSetFor(d, maxOld + 1, size);
    cmds.push({ type: "createReplicaSet", rs });
    cmds.push({ type: "setDeploymentRevision", revision: String(maxOld + 1) });
    return finish(true);
  }

  // A rollback makes an old ReplicaSet new again: it takes the next revision.
  let revision = revisionOf(newRS);
  const annotations: Record<string, string> = {};
  if (revision <= maxOld) {
    revision = maxOld + 1;
    annotations[REVISION_ANNOTATION] = String(revision);
  }
  for (const [k, v] of Object.entries(copiedAnnotations(d))) if (newRS.metadata.annotations?.[k] !== v) annotations[k] = v;
  const minReady = (d.spec.minReadySeconds ?? 0) !== (newRS.spec.minReadySeconds ?? 0) ? d.spec.minReadySeconds ?? 0 : undefined;
  if (Object.keys(annotations).length || minReady !== undefined) {
    cmds.push({
      type: "syncReplicaSet",
      rs: newRS,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(minReady !== undefined ? { minReadySeconds: minReady } : {}),
    });
  }
  if (d.metadata.annotations?.[REVISION_ANNOTATION] !== String(revision)) cmds.push({ type: "setDeploymentRevision", revision: String(revision) });

  if (d.spec.strategy?.type === "Recreate") {
    const oldScaled = olds.filter((rs) => specReplicas(rs) > 0);
    if (oldScaled.length) {
      for (const rs of oldScaled) cmds.push({ type: "scaleReplicaSet", rs, replicas: 0 });
      return finish();
    }
    // Every old pod must be gone (or finished) before the new ones start.
    if (sum(olds, (rs) => rs.status?.replicas ?? 0) > 0 || oldPodsRunning(olds, input.pods ?? [])) return finish();
    if (specReplicas(newRS) !== replicas) cmds.push({ type: "scaleReplicaSet", rs: newRS, replicas });
  } else {
    const current = specReplicas(newRS);
    const target = current > replicas ? replicas : newReplicaSetReplicas(d, owned, current);
    if (target !== current) {
      cmds.push({ type: "scaleReplicaSet", rs: newRS, replicas: target });
      if (target > current) return finish();
    }
    for (const [rs, size] of scaleDownOld(d, { ...newRS, spec: { ...newRS.spec, replicas: target } }, olds)) {
      cmds.push({ type: "scaleReplicaSet", rs, replicas: size });
    }
  }

  // History: old ReplicaSets at zero beyond revisionHistoryLimit go, oldest revision first.
  const limit = d.spec.revisionHistoryLimit ?? 10;
  const scaled = new Set(cmds.flatMap((c) => (c.type === "scaleReplicaSet" ? [c.rs] : [])));
  const idle = olds.filter((rs) => !scaled.has(rs) && specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
  for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) cmds.push({ type: "deleteReplicaSet", rs });
  return finish();
}
