/**
 * Pod priority facts shared by the API (admission, validation) and the scheduler: the two
 * system classes every cluster has, the bounds on a class's value, which class is the default,
 * and the priority of a pod. Pure; imports only types.
 */
import type { Pod, PreemptionPolicy, PriorityClass } from "./types.ts";

/** The highest value a user's PriorityClass may have (kube's HighestUserDefinablePriority). */
export const HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000;

/** The value of `system-cluster-critical` (kube's SystemCriticalPriority). */
export const SYSTEM_CRITICAL_PRIORITY = 2 * HIGHEST_USER_DEFINABLE_PRIORITY;

/** Names starting with this are reserved for the system classes. */
export const SYSTEM_PRIORITY_CLASS_PREFIX = "system-";

/** What admission resolves a pod without a class to when no class is the global default. */
export const DEFAULT_PREEMPTION_POLICY: PreemptionPolicy = "PreemptLowerPriority";

/**
 * The classes kube-apiserver creates at start (and recreates if deleted), with its words:
 * `kubectl get priorityclasses` lists them on every cluster.
 */
export const SYSTEM_PRIORITY_CLASSES: readonly PriorityClass[] = [
  {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: "system-node-critical" },
    value: SYSTEM_CRITICAL_PRIORITY + 1000,
    description: "Used for system critical pods that must not be moved from their current node.",
  },
  {
    apiVersion: "scheduling.k8s.io/v1",
    kind: "PriorityClass",
    metadata: { name: "system-cluster-critical" },
    value: SYSTEM_CRITICAL_PRIORITY,
    description: "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
  },
];

/** True for the name of one of the system classes. */
export function isSystemPriorityClass(name: string): boolean {
  return SYSTEM_PRIORITY_CLASSES.some((c) => c.metadata.name === name);
}

/**
 * The global default class among `classes`, or undefined. Two defaults can exist after a race
 * between API copies; then, as kube's admission does, the one of the lowest value is taken.
 */
export function defaultPriorityClass(classes: Iterable<PriorityClass>): PriorityClass | undefined {
  let found: PriorityClass | undefined;
  for (const c of classes) if (c.globalDefault && (found === undefined || c.value < found.value)) found = c;
  return found;
}

/**
 * A pod's scheduling priority: `spec.priority`, which admission sets on every pod it creates;
 * 0 for a pod stored before priorities were served. Higher goes first.
 */
export function podPriority(pod: Pod): number {
  return pod.spec.priority ?? 0;
}
