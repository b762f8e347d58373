/**
 * Pure computation of a pod's status from what the pod actor knows: phase, conditions,
 * containerStatuses (state, lastState, restartCount, ready), podIP/hostIP. Transition times of
 * conditions are carried over from the previous status while a condition keeps its value.
 *
 * The kubelet owns five condition types (`KUBELET_CONDITIONS`); any other a pod's status holds
 * was set by someone else (a readiness gate's controller, `DisruptionTarget`) and is kept as the
 * API has it. A pod with `readinessGates` is Ready only when its containers are and every gate's
 * condition is True (kube's GeneratePodReadyCondition, with its reason and messages).
 */
import type { Condition, ContainerState, ContainerStatus, Pod, PodPhase, PodStatus } from "../model/types.ts";
import type { ContainerRecord } from "./pod_backoff.ts";
import { shouldRestart } from "./pod_backoff.ts";
import { initStep } from "./pod_init.ts";

export interface PodStatusInput {
  pod: Pod;
  records: ContainerRecord[];
  podIP?: string;
  hostIP: string;
  startTime?: string;
  /** True once a sandbox exists. */
  sandboxReady: boolean;
  /** The pod is being terminated. */
  terminating: boolean;
  /**
   * The pod has failed for a reason of the node's, not its containers' (the kubelet's
   * `DeadlineExceeded` after activeDeadlineSeconds): phase Failed with this reason and message.
   */
  failure?: { reason: string; message: string };
  previous?: PodStatus;
  now: string;
}

function containerState(r: ContainerRecord): ContainerState {
  switch (r.state.kind) {
    case "waiting": return { waiting: { reason: r.state.reason, ...(r.state.message ? { message: r.state.message } : {}) } };
    case "running": return { running: { ...(r.state.startedAt ? { startedAt: r.state.startedAt } : {}) } };
    case "terminated": return { terminated: r.state.terminated };
  }
}

export function containerStatuses(pod: Pod, records: ContainerRecord[], containers = pod.spec.containers): ContainerStatus[] {
  // App containers wait for the init containers: "PodInitializing", as the kubelet reports.
  const isInit = containers !== pod.spec.containers;
  const initializing = !isInit && initStep(pod, records).type !== "done";
  return containers.map((c) => {
    const r = records.find((x) => x.name === c.name);
    // The kubelet's default waiting reason: PodInitializing for init containers (and for app
    // containers while the init containers run), ContainerCreating otherwise.
    const fresh = !r || (!r.started && !r.id && r.state.kind === "waiting" && r.state.reason === "ContainerCreating");
    if (!r || (initializing && !r.started && !r.id) || (isInit && fresh)) {
      return { name: c.name, state: { waiting: { reason: initializing || isInit ? "PodInitializing" : "ContainerCreating" } }, ready: false, restartCount: 0, image: c.image, started: false };
    }
    return {
      name: c.name,
      state: containerState(r),
      lastState: r.lastTerminated ? { terminated: r.lastTerminated } : {},
      ready: r.ready && r.state.kind === "running",
      restartCount: r.restartCount,
      // The image the container runs, which lags the spec while an image update is applied.
      image: r.image ?? c.image,
      imageID: r.imageID ?? "",
      ...(r.id ? { containerID: `${r.id.length === 64 ? "docker" : "hollow"}://${r.id}` } : {}),
      // As the kubelet: a container with a startup probe counts as started once it has passed.
      started: r.state.kind === "running" && (c.startupProbe === undefined || r.startupPassedId === r.id),
    };
  });
}

/** Kubernetes' phase rules, for the containers' current states and the restart policy. */
export function podPhase(pod: Pod, records: ContainerRecord[]): PodPhase {
  const policy = pod.spec.restartPolicy ?? "Always";
  const init = initStep(pod, records);
  if (init.type === "failed") return "Failed";
  if (init.type === "run") return "Pending";
  const byName = pod.spec.containers.map((c) => records.find((r) => r.name === c.name));
  if (byName.some((r) => !r)) return "Pending";
  const rs = byName as ContainerRecord[];
  const finished = rs.filter((r) => r.state.kind === "terminated" && !shouldRestart(policy, r.state.terminated.exitCode));
  if (finished.length === rs.length) {
    return rs.every((r) => r.state.kind === "terminated" && r.state.terminated.exitCode === 0) ? "Succeeded" : "Failed";
  }
  // Running: every container has been started at least once, at least one is running or restarting.
  if (rs.every((r) => r.started || r.state.kind === "terminated")) return "Running";
  return "Pending";
}

function condition(type: string, ok: boolean, now: string, prev?: Condition[], reason?: string, message?: string): Condition {
  const status = ok ? "True" : "False";
  const old = prev?.find((c) => c.type === type);
  return {
    type,
    status,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
    ...(reason && !ok ? { reason } : {}),
    ...(message && !ok ? { message } : {}),
  };
}

/** The condition types the kubelet writes (kubetypes.PodConditionsByKubelet); others belong to someone else. */
export const KUBELET_CONDITIONS: ReadonlySet<string> = new Set(["PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"]);

/** The conditions of a status that the kubelet does not own. */
export function foreignConditions(status: PodStatus | undefined): Condition[] {
  return (status?.conditions ?? []).filter((c) => !KUBELET_CONDITIONS.has(c.type));
}

/**
 * `next` (what the kubelet computed) with the conditions it does not own taken from `current`
 * (what the API holds now), as the kubelet's status manager merges before it writes: a readiness
 * gate's condition set meanwhile by its controller is not written away.
 */
export function withForeignConditions(next: PodStatus, current: PodStatus | undefined): PodStatus {
  const theirs = foreignConditions(current);
  const mine = (next.conditions ?? []).filter((c) => KUBELET_CONDITIONS.has(c.type));
  if (theirs.length === 0 && mine.length === (next.conditions ?? []).length) return next;
  return { ...next, conditions: [...mine, ...theirs] };
}

/** Why the pod's readiness gates keep it from Ready (kube's messages), or undefined when every gate's condition is True. */
export function readinessGatesNotReady(pod: Pod, conditions: readonly Condition[]): string | undefined {
  const out: string[] = [];
  for (const g of pod.spec.readinessGates ?? []) {
    const c = conditions.find((x) => x.type === g.conditionType);
    if (!c) out.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== "True") out.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  return out.length ? out.join(", ") : undefined;
}

/** True when the conditions the pod's readiness gates name differ between two statuses. */
export function gateConditionsChanged(pod: Pod, a: PodStatus | undefined, b: PodStatus | undefined): boolean {
  for (const g of pod.spec.readinessGates ?? []) {
    const x = a?.conditions?.find((c) => c.type === g.conditionType);
    const y = b?.conditions?.find((c) => c.type === g.conditionType);
    if (x?.status !== y?.status) return true;
  }
  return false;
}

export function computePodStatus(input: PodStatusInput): PodStatus {
  const { pod, records, previous, now } = input;
  const statuses = containerStatuses(pod, records);
  const phase = input.failure ? "Failed" : podPhase(pod, records);
  const allReady = statuses.length > 0 && statuses.every((s) => s.ready);
  const notReadyReason = phase === "Succeeded" || phase === "Failed" ? "PodCompleted" : "ContainersNotReady";
  const initialized = initStep(pod, records).type === "done";
  // Set by others on the API's copy of the pod: kept, and the readiness gates read from them.
  const foreign = foreignConditions(pod.status);
  const gates = allReady && pod.spec.readinessGates?.length ? readinessGatesNotReady(pod, foreign) : undefined;
  const conditions: Condition[] = [
    condition("Initialized", initialized, now, previous?.conditions, "ContainersNotInitialized"),
    condition("Ready", allReady && !gates && !input.terminating, now, previous?.conditions, gates ? "ReadinessGatesNotReady" : notReadyReason, gates),
    condition("ContainersReady", allReady, now, previous?.conditions, notReadyReason),
    condition("PodScheduled", true, now, previous?.conditions),
    ...foreign,
  ];
  const status: PodStatus = {
    phase,
    ...(input.failure ? { reason: input.failure.reason, message: input.failure.message } : {}),
    conditions,
    hostIP: input.hostIP,
    ...(input.podIP ? { podIP: input.podIP, podIPs: [{ ip: input.podIP }] } : {}),
    ...(input.startTime ? { startTime: input.startTime } : {}),
    containerStatuses: statuses,
    ...(pod.spec.initContainers?.length ? { initContainerStatuses: containerStatuses(pod, records, pod.spec.initContainers) } : {}),
  };
  return status;
}

/** True when two statuses differ in anything but timestamps-only noise (used to skip writes). */
export function statusChanged(a: PodStatus | undefined, b: PodStatus): boolean {
  return JSON.stringify(a ?? {}) !== JSON.stringify(b);
}
