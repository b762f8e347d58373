/**
 * How the page names what it draws, and what selecting a card highlights: pure functions over
 * the views, shared by the cards (cards.tsx) and the picture (app.tsx).
 */
import { matchesLabels, selectorFromMap, selectorFromSpec, type LabelSelector } from "../../model/selector.ts";
import type { LabelSelectorSpec } from "../../model/types.ts";
import { controllerSelector, type BudgetView, type ControllerView, type JobView, type PodView, type ServiceView } from "../../runtime/ui/view.ts";

/** Short names of the kinds, for their badges. */
export const KIND_BADGE = {
  ReplicationController: "RC",
  ReplicaSet: "RS",
  Deployment: "Deploy",
  StatefulSet: "STS",
  DaemonSet: "DS",
  Job: "Job",
  CronJob: "CronJob",
  PodDisruptionBudget: "PDB",
} as const;

/** The kinds in words, for labels read aloud. */
export const KIND_WORDS = {
  ReplicationController: "replication controller",
  ReplicaSet: "replica set",
  Deployment: "deployment",
  StatefulSet: "stateful set",
  DaemonSet: "daemon set",
  Job: "job",
  CronJob: "cron job",
  PodDisruptionBudget: "disruption budget",
} as const;

/**
 * What is highlighted: the pods a selector (or one label) picks. A namespaced object's selector
 * picks pods of its own namespace only; a label picks in every namespace.
 */
export interface Focus {
  title: string;
  selector: LabelSelector;
  namespace?: string;
}

/** Does the highlight take this pod? */
export function focusPicks(f: Focus, p: Pick<PodView, "namespace" | "labels">): boolean {
  return (f.namespace === undefined || f.namespace === p.namespace) && matchesLabels(f.selector, p.labels);
}

export const labelFocus = (k: string, v: string): Focus => ({ title: `${k}=${v}`, selector: selectorFromMap({ [k]: v }) });

export const serviceFocus = (s: ServiceView): Focus => ({
  title: `service ${s.name}: ${fmtMap(s.selector)}`,
  selector: selectorFromMap(s.selector),
  namespace: s.namespace,
});

export const controllerFocus = (c: ControllerView): Focus => ({
  title: `${KIND_BADGE[c.kind].toLowerCase()} ${c.name}: ${fmtControllerSelector(c)}`,
  selector: controllerSelector(c),
  namespace: c.namespace,
});

/** A Job's or a budget's apps/v1-style selector; an absent one picks no pod. */
export const specFocus = (v: JobView | BudgetView): Focus => ({
  title: `${KIND_BADGE[v.kind].toLowerCase()} ${v.name}: ${fmtSpec(v.selector)}`,
  selector: selectorFromSpec(v.selector),
  namespace: v.namespace,
});

/** An equality selector as `k=v,k2=v2`; an empty one, which picks nothing, as "(none)". */
export const fmtMap = (sel: Record<string, string>): string => Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(",") || "(none)";

/**
 * An apps/v1 selector as kubectl writes one (`app=web,tier in (a,b),!canary`): absent picks no
 * pod, "(none)"; empty picks every pod of the namespace, "(every pod)".
 */
export function fmtSpec(spec: LabelSelectorSpec | undefined): string {
  if (!spec) return "(none)";
  const parts = [
    ...Object.entries(spec.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(spec.matchExpressions ?? []).map((e) =>
      e.operator === "Exists" ? e.key : e.operator === "DoesNotExist" ? `!${e.key}` : `${e.key} ${e.operator === "In" ? "in" : "notin"} (${(e.values ?? []).join(",")})`,
    ),
  ];
  return parts.join(",") || "(every pod)";
}

/** A controller's selector: an RC's equality map, the apps/v1 selector of the others. */
export const fmtControllerSelector = (c: ControllerView): string =>
  c.kind === "ReplicationController" ? fmtMap(c.selector) : fmtSpec({ matchLabels: c.selector, matchExpressions: c.expressions });

/** A budget's rule as kubectl's columns read: "min available 2", "max unavailable 25%". */
export function budgetRule(b: BudgetView): string {
  if (b.minAvailable !== undefined) return `min available ${b.minAvailable}`;
  if (b.maxUnavailable !== undefined) return `max unavailable ${b.maxUnavailable}`;
  return "no rule";
}

/** A Job's successes of its completions ("1/3"), or its successes alone for a work queue. */
export const jobCompletions = (j: JobView): string => (j.completions === undefined ? `${j.succeeded}` : `${j.succeeded}/${j.completions}`);

/** A timestamp as a time of day in the browser's zone ("" when it is not one). */
export function fmtClock(t: string): string {
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
}
