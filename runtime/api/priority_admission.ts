/**
 * kube-apiserver's Priority admission plugin (plugin/pkg/admission/priority), with its words:
 *
 *   - a new pod's `priorityClassName` is resolved into `priority` and `preemptionPolicy` from the
 *     class (`pods "x" is forbidden: no PriorityClass with name foo was found` when there is none);
 *     a pod naming no class gets the global default class (its name too), else priority 0 and
 *     PreemptLowerPriority; a pod that sets either field itself to something else is refused;
 *   - an updated pod keeps the priority and preemption policy it was given when the update leaves
 *     them out (validation then refuses any change to them, as to the rest of the spec);
 *   - at most one PriorityClass is the global default: a second is refused;
 *   - the system classes may not be deleted.
 *
 * The decisions are pure functions of the pod and the classes; `PriorityAdmission` looks the
 * classes up as kube's informer lister would: in the watch cache (a class the cache has not seen
 * yet is read from the store, so one created just before its first pod is found). The default
 * class is read from the cache alone: one made default a moment ago may be missed, as in kube.
 */
import { ApiError } from "../../model/errors.ts";
import { DEFAULT_PREEMPTION_POLICY, defaultPriorityClass, isSystemPriorityClass } from "../../model/priority.ts";
import type { Pod, PodSpec, PriorityClass } from "../../model/types.ts";
import type { KvStore } from "../store/kv_store.ts";
import type { WatchCache } from "./watch_cache.ts";

/** The priority fields admission sets on a new pod's spec, or why the pod is refused. */
export type PodPriorityDecision =
  | { type: "admit"; fields: Pick<PodSpec, "priorityClassName" | "priority" | "preemptionPolicy"> }
  | { type: "forbid"; message: string };

/**
 * kube's admitPod on create. `named` is the class the spec names (undefined when it names none,
 * or names one that does not exist); `defaultClass` the global default, if any.
 */
export function decidePodPriority(spec: Pick<PodSpec, "priorityClassName" | "priority" | "preemptionPolicy">, named: PriorityClass | undefined, defaultClass: PriorityClass | undefined): PodPriorityDecision {
  let fields: Pick<PodSpec, "priorityClassName" | "priority" | "preemptionPolicy">;
  if (spec.priorityClassName) {
    if (!named) return { type: "forbid", message: `no PriorityClass with name ${spec.priorityClassName} was found` };
    fields = { priorityClassName: named.metadata.name, priority: named.value, preemptionPolicy: named.preemptionPolicy };
  } else if (defaultClass) {
    fields = { priorityClassName: defaultClass.metadata.name, priority: defaultClass.value, preemptionPolicy: defaultClass.preemptionPolicy };
  } else {
    fields = { priority: 0, preemptionPolicy: DEFAULT_PREEMPTION_POLICY };
  }
  if (spec.priority !== undefined && spec.priority !== fields.priority) {
    return { type: "forbid", message: `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${fields.priority} from the given PriorityClass name` };
  }
  if (fields.preemptionPolicy !== undefined && spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== fields.preemptionPolicy) {
    return { type: "forbid", message: `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${fields.preemptionPolicy} from the given PriorityClass name` };
  }
  // A class stored without a policy (never, after defaults) leaves the pod's as it was.
  if (fields.preemptionPolicy === undefined) fields = { ...fields, preemptionPolicy: spec.preemptionPolicy };
  return { type: "admit", fields };
}

/** kube's admitPod on update: what the update leaves out of priority and preemptionPolicy is kept. */
export function keepPodPriority(current: Pod, next: Pod): Pod {
  const keep = {
    ...(next.spec.priority === undefined && current.spec.priority !== undefined ? { priority: current.spec.priority } : {}),
    ...(next.spec.preemptionPolicy === undefined && current.spec.preemptionPolicy !== undefined ? { preemptionPolicy: current.spec.preemptionPolicy } : {}),
  };
  return Object.keys(keep).length ? { ...next, spec: { ...next.spec, ...keep } } : next;
}

/** Why `pc` may not be written (kube's validatePriorityClass), or undefined: a second global default. */
export function globalDefaultProblem(pc: PriorityClass, op: "create" | "update", classes: Iterable<PriorityClass>): string | undefined {
  if (!pc.globalDefault) return undefined;
  const current = defaultPriorityClass(classes);
  if (!current || (op === "update" && current.metadata.name === pc.metadata.name)) return undefined;
  return `PriorityClass ${current.metadata.name} is already marked as default. Only one default can exist`;
}

const forbidden = (resource: "pods" | "priorityclasses", name: string, message: string) =>
  resource === "pods"
    ? new ApiError("Forbidden", `pods "${name}" is forbidden: ${message}`, { name, kind: "pods" })
    : new ApiError("Forbidden", `priorityclasses.scheduling.k8s.io "${name}" is forbidden: ${message}`, { name, group: "scheduling.k8s.io", kind: "priorityclasses" });

/** The 403 for deleting a system class, or undefined for any other name. */
export function systemClassDeleteError(name: string): ApiError | undefined {
  return isSystemPriorityClass(name) ? forbidden("priorityclasses", name, "this is a system priority class and cannot be deleted") : undefined;
}

/** Priority admission over the Api's watch cache and store. */
export class PriorityAdmission {
  constructor(private readonly opts: { cache: WatchCache; store: KvStore }) {}

  /**
   * A new pod with its priority fields resolved, or a 403. `shownName` is the name the refusal
   * names (the generateName prefix of a pod that had no name, as kube-apiserver shows it).
   */
  async admitPod(pod: Pod, shownName: string): Promise<Pod> {
    const name = pod.spec.priorityClassName;
    const named = name ? await this.lookup(name) : undefined;
    const defaultClass = name ? undefined : defaultPriorityClass(await this.classes());
    const decision = decidePodPriority(pod.spec, named, defaultClass);
    if (decision.type === "forbid") throw forbidden("pods", shownName, decision.message);
    // The fields left undefined are left out, not `delete`d (that makes a slow dictionary of the spec).
    const { priorityClassName: _pc, priority: _p, preemptionPolicy: _pp, ...rest } = pod.spec;
    const { priorityClassName, priority, preemptionPolicy } = decision.fields;
    const spec = {
      ...rest,
      ...(priorityClassName !== undefined ? { priorityClassName } : {}),
      ...(priority !== undefined ? { priority } : {}),
      ...(preemptionPolicy !== undefined ? { preemptionPolicy } : {}),
    };
    return { ...pod, spec };
  }

  /** Refuses a second global default class (403). */
  async admitClass(pc: PriorityClass, op: "create" | "update"): Promise<void> {
    if (!pc.globalDefault) return;
    const problem = globalDefaultProblem(pc, op, await this.classes());
    if (problem) throw forbidden("priorityclasses", pc.metadata.name, problem);
  }

  private async lookup(name: string): Promise<PriorityClass | undefined> {
    await this.opts.cache.ready();
    const cached = this.opts.cache.newest("priorityclasses", `/${name}`) as PriorityClass | null;
    return cached ?? (await this.opts.store.tryGet("priorityclasses", undefined, name)) ?? undefined;
  }

  private async classes(): Promise<PriorityClass[]> {
    const cache = this.opts.cache;
    await cache.ready();
    return cache.page({ resource: "priorityclasses", revision: cache.revision }).items as PriorityClass[];
  }
}
