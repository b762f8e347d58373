/**
 * Status conditions, set as Kubernetes sets them (apimeta.SetStatusCondition, and the
 * autoscaler's own setCondition, which behaves the same): a condition's lastTransitionTime
 * records when its status last changed, so it moves only when the status does; its reason,
 * message and the rest are always the newest.
 *
 * Controllers whose conditions carry more (a Deployment's lastUpdateTime, a Job's
 * lastProbeTime kept while the reason holds) have their own rules beside their decisions.
 */
import type { Condition } from "./types.ts";

/**
 * `conditions` with `next` in place of the condition of its type, or appended when there is
 * none; the input is left as it was. The result's lastTransitionTime is `now` when the status
 * changes (or the type is new), and the old condition's while the status holds (`now` if the
 * old one had none); a lastTransitionTime given in `next` is not used.
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: Condition, now: string): Condition[] {
  const out = [...(conditions ?? [])];
  const i = out.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? out[i] : undefined;
  const set: Condition = { ...next, lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime ?? now : now };
  if (i >= 0) out[i] = set;
  else out.push(set);
  return out;
}
