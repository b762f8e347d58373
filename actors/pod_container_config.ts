/**
 * The record of a container that could not be created because its configuration is not there
 * yet: a ConfigMap/Secret (or key) it needs is missing — waiting `CreateContainerConfigError` —
 * or a volume could not be set up — waiting `ContainerCreating` (the kubelet's FailedMount).
 * Not a crash: no restart is counted; the pod actor tries again after `retryMs`, so the
 * container starts soon after the object appears.
 */
import type { ContainerRecord } from "./pod_backoff.ts";

/** Retry delay for a missing ConfigMap/Secret: short, as the kubelet re-syncs such pods. */
export function configRetryMs(backoffBaseMs: number): number {
  return Math.min(backoffBaseMs, 2_000);
}

export function recordAfterConfigError(
  rec: ContainerRecord,
  reason: "CreateContainerConfigError" | "ContainerCreating",
  message: string,
  now: number,
  retryMs: number,
): ContainerRecord {
  return { ...rec, id: undefined, ready: false, backoffUntil: now + retryMs, state: { kind: "waiting", reason, message } };
}
