/**
 * What a container needs before it is created, beyond its image — its projected volumes written
 * and its environment resolved — and its lifecycle hooks. Used by pod_effects.ts:
 *
 *   prepare   ConfigMaps/Secrets fetched → volumes written, the ServiceAccount token volume too
 *             (missing: FailedMount, the container stays ContainerCreating) → env built (missing:
 *             CreateContainerConfigError) → the token volume's mount, unless the container has
 *             its own mount at that path
 *   postStart run after the container started; a failure is FailedPostStartHook and the
 *             container is killed (restarted per policy), as the kubelet does
 *   preStop   run before SIGTERM whenever a running container is stopped — the pod deleted,
 *             a failed liveness probe, a changed container — within the grace period;
 *             a failure is FailedPreStopHook and stopping carries on
 */
import type { ContainerRuntime, MountSpec } from "../../model/container_runtime.ts";
import type { Container, LifecycleHandler, Pod, Secret } from "../../model/types.ts";
import type { PodEvent } from "../../actors/pod.ts";
import { buildEnv, type ConfigLookup, type DownwardFields, fetchConfigObjects } from "./env.ts";
import type { ProjectedVolumes } from "./volumes_projected.ts";
import { httpGetStatus } from "./probes.ts";
import { tokenMount } from "./service_account_token.ts";

export type PrepareResult =
  /** `mounts`: what the node adds to the container's own (the ServiceAccount token volume). */
  | { type: "ok"; env: Record<string, string>; mounts: MountSpec[] }
  /** The container cannot be created yet; retried. `reason` is its waiting reason. */
  | { type: "error"; reason: "CreateContainerConfigError" | "ContainerCreating"; message: string; event: PodEvent };

export interface ContainerConfig {
  prepare(pod: Pod, c: Container, fields: DownwardFields, serviceEnv: Record<string, string>): Promise<PrepareResult>;
  /** Removes what `prepare` made for a pod (volume directories, tmpfs mounts). */
  cleanup(podUid: string): Promise<void>;
  /** The host directory of a projected volume, for the container's bind mount. */
  volumeDir(pod: Pod, volume: string): string | undefined;
  /** A fresh node file for attempt `attempt` of container `c` to write its termination message to. */
  terminationLog(pod: Pod, c: Container, attempt: number): Promise<string | undefined>;
}

/** The node's implementation over an API lookup and its projected volumes. */
export function containerConfig(lookup: ConfigLookup, volumes: ProjectedVolumes): ContainerConfig {
  return {
    async prepare(pod, c, fields, serviceEnv) {
      const objs = await fetchConfigObjects(pod, lookup);
      const mount = await volumes.ensure(pod, fields, objs);
      if (mount) return { type: "error", reason: "ContainerCreating", message: mount, event: { type: "Warning", reason: "FailedMount", message: mount } };
      const env = buildEnv(pod, c, fields, serviceEnv, objs);
      if (env.type === "error") {
        return { type: "error", reason: "CreateContainerConfigError", message: env.message, event: { type: "Warning", reason: "Failed", message: `Error: ${env.message}` } };
      }
      const dir = volumes.tokenDir(pod);
      const token = dir ? tokenMount(c, dir) : undefined;
      return { type: "ok", env: env.env, mounts: token ? [token] : [] };
    },
    cleanup: (uid) => volumes.cleanup(uid),
    terminationLog: (pod, c, attempt) => volumes.terminationLog(pod.metadata.uid ?? pod.metadata.name, c.name, attempt),
    volumeDir(pod, name) {
      const v = (pod.spec.volumes ?? []).find((x) => x.name === name);
      return v ? volumes.dir(pod, v) : undefined;
    },
  };
}

/**
 * The Secrets a pod names in `imagePullSecrets` that exist (missing ones are skipped, as the
 * kubelet does, with a warning left to the caller). For registry credentials.
 */
export async function fetchImagePullSecrets(lookup: ConfigLookup, pod: Pod): Promise<Secret[]> {
  const ns = pod.metadata.namespace ?? "default";
  const out = await Promise.all((pod.spec.imagePullSecrets ?? []).map((s) => lookup("secrets", ns, s.name)));
  return out.filter((s): s is Secret => s !== null);
}

/** The port a hook names: a number, or the name of one of the container's ports. */
function hookPort(c: Container, port: number | string): number | undefined {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  return c.ports?.find((p) => p.name === port)?.containerPort;
}

/** Runs one hook; resolves an error message on failure, undefined on success. */
export async function runHook(rt: ContainerRuntime, id: string, c: Container, h: LifecycleHandler, podIP: string, timeoutMs: number): Promise<string | undefined> {
  try {
    if (h.exec) {
      const r = await rt.exec(id, h.exec.command, { timeoutMs });
      return r.exitCode === 0 ? undefined : `command '${h.exec.command.join(" ")}' exited with ${r.exitCode}: ${r.stderr || r.stdout}`;
    }
    if (h.httpGet) {
      const port = hookPort(c, h.httpGet.port);
      if (port === undefined) return `unknown port ${JSON.stringify(h.httpGet.port)}`;
      const headers = Object.fromEntries((h.httpGet.httpHeaders ?? []).map((x) => [x.name, x.value]));
      const code = await httpGetStatus(h.httpGet.scheme ?? "HTTP", h.httpGet.host ?? podIP, port, h.httpGet.path ?? "/", timeoutMs, headers);
      return code >= 200 && code < 400 ? undefined : `HTTP lifecycle hook (${h.httpGet.path ?? "/"}) for Container "${c.name}" failed with status ${code}`;
    }
    return undefined;
  } catch (e) {
    return (e as Error).message ?? String(e);
  }
}

function hookWhat(h: LifecycleHandler): string {
  return h.exec ? `Exec lifecycle hook (${JSON.stringify(h.exec.command)})` : `HTTP lifecycle hook (${h.httpGet?.path ?? "/"})`;
}

/** The event for a failed hook, in the kubelet's words. */
export function hookFailedEvent(which: "postStart" | "preStop", pod: Pod, c: Container, h: LifecycleHandler, error: string): PodEvent {
  const podName = `${pod.metadata.name}_${pod.metadata.namespace ?? "default"}(${pod.metadata.uid ?? ""})`;
  return {
    type: "Warning",
    reason: which === "postStart" ? "FailedPostStartHook" : "FailedPreStopHook",
    message: `${hookWhat(h)} for Container "${c.name}" in Pod "${podName}" failed - error: ${error}`,
  };
}
