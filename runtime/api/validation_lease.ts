/**
 * The rules of coordination.k8s.io/v1 Lease, in the order, paths and words of kube-apiserver's
 * ValidateLeaseSpec (pkg/apis/coordination/validation), on the raw input:
 *
 *   - leaseDurationSeconds, when given, is greater than 0; leaseTransitions at least 0;
 *   - strategy, when given, is `OldestEmulationVersion` or a qualified `prefix/name`;
 *   - preferredHolder only with a strategy.
 *
 * The same rules hold on create and update (a Lease has no immutable field). Pure; no I/O.
 */
import { labelKeyProblem } from "../../model/selector.ts";
import type { StatusCause } from "../../model/types.ts";
import { CAUSE, render, type Obj, obj } from "./validation_util.ts";



const cause = (reason: string, field: string, value: unknown, detail?: string): StatusCause => ({ reason, field, message: render(reason, value, detail) });

/** The one strategy Kubernetes defines. */
const STRATEGIES = ["OldestEmulationVersion"];

/** Every problem of a Lease (validate() runs this for `leases`). */
export function leaseProblems(raw: Obj): StatusCause[] {
  const spec = obj(raw.spec);
  if (!spec) return [];
  const out: StatusCause[] = [];
  const { leaseDurationSeconds: duration, leaseTransitions: transitions, strategy, preferredHolder } = spec;
  if (typeof duration === "number" && duration <= 0) out.push(cause(CAUSE.invalid, "spec.leaseDurationSeconds", duration, "must be greater than 0"));
  if (typeof transitions === "number" && transitions < 0) out.push(cause(CAUSE.invalid, "spec.leaseTransitions", transitions, "must be greater than or equal to 0"));
  if (typeof strategy === "string") out.push(...strategyProblems(strategy, "spec.strategy"));
  if (typeof preferredHolder === "string" && preferredHolder !== "" && (typeof strategy !== "string" || strategy === "")) {
    out.push(cause(CAUSE.forbidden, "spec.preferredHolder", undefined, "may only be specified if `strategy` is defined"));
  }
  return out;
}

/** ValidateCoordinatedLeaseStrategy: a strategy Kubernetes defines, or a qualified name of someone else's. */
function strategyProblems(strategy: string, at: string): StatusCause[] {
  if (!strategy.includes("/")) {
    return STRATEGIES.includes(strategy) ? [] : [cause(CAUSE.notSupported, at, strategy, `supported values: ${STRATEGIES.map((s) => `"${s}"`).join(", ")}`)];
  }
  const bad = labelKeyProblem(strategy);
  return bad ? [cause(CAUSE.invalid, at, strategy, bad)] : [];
}
