/**
 * The rules of scheduling.k8s.io/v1 PriorityClass and of a pod's preemption policy, in the paths
 * and words of kube-apiserver (pkg/apis/scheduling/validation: ValidatePriorityClass,
 * ValidatePriorityClassUpdate; pkg/apis/core/validation: ValidatePreemptionPolicy), on the raw
 * input (read defensively: the schema pass reports wrong types):
 *
 *   - a name starting `system-` is one of the two system classes, with exactly their value and
 *     globalDefault ("priority class names with 'system-' prefix are reserved for system use
 *     only"); any other class's value is at most 1,000,000,000;
 *   - preemptionPolicy, when given, is PreemptLowerPriority or Never;
 *   - on update, value and preemptionPolicy never change.
 *
 * That at most one class is the global default is admission's rule (priority_admission.ts): it
 * needs the other classes. Pure; no I/O.
 */
import { HIGHEST_USER_DEFINABLE_PRIORITY, SYSTEM_PRIORITY_CLASSES, SYSTEM_PRIORITY_CLASS_PREFIX } from "../../model/priority.ts";
import type { PriorityClass, StatusCause } from "../../model/types.ts";
import { CAUSE, render, type Obj, obj } from "./validation_util.ts";



const cause = (reason: string, field: string, value: unknown, detail?: string): StatusCause => ({ reason, field, message: render(reason, value, detail) });

/** ValidatePreemptionPolicy of a PriorityClass's or a pod spec's `preemptionPolicy` at `at`. */
export function preemptionPolicyProblems(value: unknown, at: string): StatusCause[] {
  if (typeof value !== "string") return [];
  if (value === "PreemptLowerPriority" || value === "Never") return [];
  if (value === "") return [cause(CAUSE.required, at, undefined)];
  return [cause(CAUSE.notSupported, at, value, 'supported values: "PreemptLowerPriority", "Never"')];
}

/** Why a `system-` name with this value and globalDefault is not a system class (kube's IsKnownSystemPriorityClass), or undefined. */
function systemClassProblem(name: string, value: number, globalDefault: boolean): string | undefined {
  const known = SYSTEM_PRIORITY_CLASSES.find((c) => c.metadata.name === name);
  if (!known) return `${name} is not a known system priority class`;
  if (known.value !== value) return `value of ${name} PriorityClass must be ${known.value}`;
  if (Boolean(known.globalDefault) !== globalDefault) return `globalDefault of ${name} PriorityClass must be ${Boolean(known.globalDefault)}`;
  return undefined;
}

/** Every problem of a PriorityClass (validate() runs this for `priorityclasses`). */
export function priorityClassProblems(raw: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const name = obj(raw.metadata)?.name;
  const value = typeof raw.value === "number" ? raw.value : 0;
  if (typeof name === "string" && name.startsWith(SYSTEM_PRIORITY_CLASS_PREFIX)) {
    const why = systemClassProblem(name, value, raw.globalDefault === true);
    if (why) out.push(cause(CAUSE.forbidden, "metadata.name", name, `priority class names with '${SYSTEM_PRIORITY_CLASS_PREFIX}' prefix are reserved for system use only. error: ${why}`));
  } else if (value > HIGHEST_USER_DEFINABLE_PRIORITY) {
    out.push(cause(CAUSE.forbidden, "value", value, `maximum allowed value of a user defined priority is ${HIGHEST_USER_DEFINABLE_PRIORITY}`));
  }
  out.push(...preemptionPolicyProblems(raw.preemptionPolicy, "preemptionPolicy"));
  return out;
}

/** ValidatePriorityClassUpdate's own rules: value and preemptionPolicy never change (both as stored, defaults applied). */
export function priorityClassUpdateProblems(current: PriorityClass, next: PriorityClass): StatusCause[] {
  const out: StatusCause[] = [];
  if (current.value !== next.value) out.push(cause(CAUSE.forbidden, "value", next.value, "may not be changed in an update."));
  if (current.preemptionPolicy !== next.preemptionPolicy) out.push(cause(CAUSE.invalid, "preemptionPolicy", next.preemptionPolicy ?? null, "field is immutable"));
  return out;
}
