/**
 * Init containers, as pure decisions: they run one at a time, in order, each to completion
 * (exit 0) before the next starts, and all of them before any app container.
 *
 *   init[0] ──exit 0──▶ init[1] ──exit 0──▶ … ──▶ app containers
 *     │ exit ≠ 0
 *     ├─ restartPolicy Never  ──▶ the pod fails (phase Failed)
 *     └─ Always / OnFailure   ──▶ the same init container again, with back-off (OnFailure rules)
 *
 * An init container that succeeded is never restarted (unless the sandbox is re-created, when
 * Kubernetes runs them all again — `planContainer` sees that as a sandbox change).
 */
import type { Pod, RestartPolicy } from "../model/types.ts";
import type { ContainerRecord } from "./pod_backoff.ts";

export type InitStep =
  /** Every init container has exited 0: app containers may run. */
  | { type: "done" }
  /** This init container must run (start, keep running, or wait out its back-off). */
  | { type: "run"; name: string; index: number }
  /** An init container failed and the pod's restart policy is Never. */
  | { type: "failed"; name: string };

/** The restart policy init containers follow: Never stays Never, anything else is OnFailure. */
export function initRestartPolicy(pod: Pod): RestartPolicy {
  return pod.spec.restartPolicy === "Never" ? "Never" : "OnFailure";
}

/** Where the pod's initialization stands, from the records of its init containers. */
export function initStep(pod: Pod, records: ContainerRecord[]): InitStep {
  const inits = pod.spec.initContainers ?? [];
  for (let index = 0; index < inits.length; index++) {
    const name = inits[index].name;
    const r = records.find((x) => x.name === name);
    if (r?.state.kind === "terminated" && r.state.terminated.exitCode === 0) continue;
    if (r?.state.kind === "terminated" && initRestartPolicy(pod) === "Never") return { type: "failed", name };
    return { type: "run", name, index };
  }
  return { type: "done" };
}

/** Records for a new pod actor: init containers first, then app containers. */
export function containerNames(pod: Pod): string[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
}
