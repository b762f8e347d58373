/**
 * The node's ConfigMap/Secret/downward API plumbing, built once by the agent: the API lookup
 * (a 404 is "not found", anything else is retried by the caller), the projected volumes on this
 * machine, and the loop that keeps them in step with their objects — every `periodMs` each
 * running pod's projected volumes are re-read and, when a value changed, swapped in place
 * (the kubelet's `..data` swap; a container sees the new files without restarting).
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import type { ConfigMap, Pod, Secret } from "../../model/types.ts";
import { type ConfigLookup } from "./env.ts";
import { containerConfig } from "./container_config.ts";
import { projectedKind, ProjectedVolumes } from "./volumes_projected.ts";

/** A ConfigMap/Secret lookup through the API: null when it does not exist. */
export function apiLookup(client: ApiClient): ConfigLookup {
  return async (resource, namespace, name) => {
    try {
      return (await client.get(resource, name, namespace)) as ConfigMap | Secret;
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") return null;
      throw e;
    }
  };
}

export function projectedVolumes(client: ApiClient, node: string, opts: { podsDir?: string; clusterId?: string; log?: Log }) {
  const lookup = apiLookup(client);
  const volumes = new ProjectedVolumes({
    podsDir: opts.podsDir ?? join(tmpdir(), "berth-kubelet", opts.clusterId ?? "_", node, "pods"),
    lookup,
    log: (m, f) => opts.log?.(m, { node, component: "volumes", ...f }),
  });
  return { lookup, volumes, config: containerConfig(lookup, volumes) };
}

/** Re-reads the projected volumes of running pods every `periodMs`; one pass at a time. */
export function startVolumeRefresh(volumes: ProjectedVolumes, pods: () => Pod[], wants: (uid: string) => boolean, periodMs: number, log: Log): { stop(): void } {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      for (const pod of pods()) {
        const uid = pod.metadata.uid ?? pod.metadata.name;
        const phase = pod.status?.phase;
        if (!wants(uid) || pod.metadata.deletionTimestamp || phase === "Succeeded" || phase === "Failed") continue;
        // Only pods whose volumes were set up once (a started container) are refreshed here.
        if (!pod.status?.podIP || !(pod.spec.volumes ?? []).some((v) => projectedKind(v))) continue;
        const fields = { podIP: pod.status.podIP, hostIP: pod.status.hostIP ?? "", nodeName: pod.spec.nodeName ?? "" };
        const failed = await volumes.ensure(pod, fields).catch((e) => String(e));
        if (failed) log("projected volume not refreshed", { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: failed });
      }
    } finally {
      busy = false;
    }
  }, periodMs);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
