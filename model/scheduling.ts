/**
 * Which nodes a pod may go to, beyond resources: taints and tolerations, and node affinity. Pure
 * functions, shared by the scheduler (actors/scheduler_decide.ts), the DaemonSet controller and
 * the taint eviction loop, so that they agree on what a pod tolerates and where it fits.
 *
 * As Kubernetes (`k8s.io/api/core/v1` helpers and the scheduler's TaintToleration and
 * NodeAffinity plugins):
 *   - a toleration matches a taint when the keys are equal (an empty key with `Exists` matches
 *     every key), the effects are equal (an empty effect matches every effect), and under
 *     `Equal` (the default) the values are equal, under `Exists` any value;
 *   - `nodeSelectorTerms` are ORed, the requirements inside one term ANDed; a term with no
 *     requirement matches nothing; `Gt`/`Lt` compare a label read as an integer;
 *   - `matchFields` knows one field, `metadata.name`.
 * A node's conditions are taints too, as Kubernetes' node lifecycle controller writes them
 * (`node.kubernetes.io/not-ready`, `unreachable`, `unschedulable`, all `NoSchedule`):
 * `effectiveTaints` derives them, so a pod that tolerates one may be placed where others may not
 * (a DaemonSet's pods tolerate `unschedulable`, so daemons run on cordoned nodes).
 */
import type { Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec, Taint, TaintEffect, Toleration } from "./types.ts";

export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";

/** True when `toleration` tolerates `taint`. */
export function tolerates(toleration: Toleration, taint: Pick<Taint, "key" | "value" | "effect">): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  const key = toleration.key ?? "";
  if (key !== "" && key !== taint.key) return false;
  if (toleration.operator === "Exists") return true;
  // `Equal` (the default); an empty key is only valid with Exists, so it tolerates nothing here.
  return key !== "" && (toleration.value ?? "") === (taint.value ?? "");
}

/** The first of `taints` with one of `effects` that no toleration tolerates, or undefined. */
export function untoleratedTaint(
  tolerations: readonly Toleration[] | undefined,
  taints: readonly Taint[],
  effects: readonly TaintEffect[] = ["NoSchedule", "NoExecute"],
): Taint | undefined {
  return taints.find((t) => effects.includes(t.effect) && !(tolerations ?? []).some((tol) => tolerates(tol, t)));
}

/** How kube-scheduler names a taint in its "untolerated taint" message: `{key: value}`. */
export function describeTaint(t: Taint): string {
  return `{${t.key}: ${t.value ?? ""}}`;
}

/**
 * The node's taints with those its state implies, as Kubernetes' node lifecycle controller adds
 * them: `not-ready` (Ready False) or `unreachable` (Ready Unknown, or no Ready condition yet) with
 * `NoSchedule`, and `unschedulable:NoSchedule` for a cordoned node.
 */
export function effectiveTaints(node: Node): Taint[] {
  const out = [...(node.spec?.taints ?? [])];
  const ready = node.status?.conditions?.find((c) => c.type === "Ready");
  if (ready?.status === "False") out.push({ key: TAINT_NOT_READY, effect: "NoSchedule" });
  else if (ready?.status !== "True") out.push({ key: TAINT_UNREACHABLE, effect: "NoSchedule" });
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
  return out;
}

function requirementMatches(r: NodeSelectorRequirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    case "Gt":
    case "Lt": {
      if (value === undefined || !/^-?\d+$/.test(value) || values.length !== 1) return false;
      const have = Number(value);
      const want = Number(values[0]);
      return r.operator === "Gt" ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** True when the node matches every requirement of the term (and the term has at least one). */
export function termMatches(term: NodeSelectorTerm, name: string, labels: Readonly<Record<string, string>>): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  for (const r of exprs) if (!requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) return false;
  for (const r of fields) if (!requirementMatches(r, r.key === "metadata.name" ? name : undefined)) return false;
  return true;
}

/**
 * True when the pod's `nodeSelector` and required node affinity both admit the node (the
 * scheduler's NodeAffinity filter; the DaemonSet controller asks the same question).
 */
export function nodeAffinityAdmits(spec: Pick<PodSpec, "nodeSelector" | "affinity">, name: string, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  return required.nodeSelectorTerms.some((t) => termMatches(t, name, labels));
}

/** The sum of the weights of the preferred terms the node matches (higher is better). */
export function preferredAffinityScore(spec: Pick<PodSpec, "affinity">, name: string, labels: Readonly<Record<string, string>>): number {
  let score = 0;
  for (const p of spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    if (termMatches(p.preference, name, labels)) score += p.weight;
  }
  return score;
}

/** How many of the node's `PreferNoSchedule` taints the pod does not tolerate (fewer is better). */
export function intolerablePreferNoSchedule(tolerations: readonly Toleration[] | undefined, taints: readonly Taint[]): number {
  let n = 0;
  for (const t of taints) if (t.effect === "PreferNoSchedule" && !(tolerations ?? []).some((tol) => tolerates(tol, t))) n++;
  return n;
}
