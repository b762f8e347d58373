/**
 * The node's ConfigMap/Secret/downward API/ServiceAccount token plumbing, built once by the
 * agent: the lookup of the objects pods reference (watched once asked for: config_watch.ts; a
 * missing object is null, a failed read is retried by the caller), the pods'
 * tokens (service_account_token.ts), the projected volumes on this machine, and the loop that
 * keeps them in step with their objects — every `periodMs` each running pod's projected volumes
 * are re-read and, when a value changed, swapped in place (the kubelet's `..data` swap; a
 * container sees the new files without restarting). A pod's token is renewed by that loop once
 * it is due (80 % of its life, or 24 h), and its `ca.crt` follows the `kube-root-ca.crt`
 * ConfigMap. Within one pass each object is read once, however many pods name it.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApiClient } from "../../model/client.ts";
import type { Log } from "../../model/log.ts";
import type { ConfigMap, Pod, Secret } from "../../model/types.ts";
import { watchedLookup } from "./config_watch.ts";
import { type ConfigLookup, fetchConfigObjects } from "./env.ts";
import { containerConfig } from "./container_config.ts";
import { projectedKind, ProjectedVolumes } from "./volumes_projected.ts";
import { PodTokens } from "./service_account_token.ts";

/** `lookup` answering each object once: the same promise for every later ask (one refresh pass). */
export function memoLookup(lookup: ConfigLookup): ConfigLookup {
  const seen = new Map<string, Promise<ConfigMap | Secret | null>>();
  return (resource, namespace, name) => {
    const key = `${resource}/${namespace}/${name}`;
    let p = seen.get(key);
    if (!p) {
      p = lookup(resource, namespace, name);
      seen.set(key, p);
    }
    return p;
  };
}

export interface ProjectedVolumesConfig {
  podsDir?: string;
  clusterId?: string;
  /** Mount a ServiceAccount token into pods (default true). */
  serviceAccountTokens?: boolean;
  /** Secret and token volumes on tmpfs (default: when running as root). */
  tmpfs?: boolean;
  /** Write the token volumes' files (default true; see ProjectedVolumesOptions.tokenFiles). */
  tokenFiles?: boolean;
  log?: Log;
}

export function projectedVolumes(client: ApiClient, node: string, opts: ProjectedVolumesConfig) {
  const log: Log = (m, f) => opts.log?.(m, { node, component: "volumes", ...f });
  // The objects pods reference, each watched once asked for (not read per pod): config_watch.ts.
  const watches = watchedLookup(client, { log });
  const lookup = watches.lookup;
  const volumes = new ProjectedVolumes({
    podsDir: opts.podsDir ?? join(tmpdir(), "berth-kubelet", opts.clusterId ?? "_", node, "pods"),
    lookup,
    tmpfs: opts.tmpfs,
    tokenFiles: opts.tokenFiles,
    ...(opts.serviceAccountTokens === false ? {} : { tokens: new PodTokens({ client, log }) }),
    log,
  });
  return { lookup, volumes, config: containerConfig(lookup, volumes), stop: () => watches.stop() };
}

/**
 * The pod as far as its volumes go: its references (model/pod_references.ts) are then what its
 * volumes read — the ConfigMaps and Secrets they project and the CA of its token volume — not
 * what its containers' env reads (fixed once a container is made, so not re-read here).
 */
function volumesOnly(pod: Pod): Pod {
  return { ...pod, spec: { ...pod.spec, containers: [], initContainers: [], imagePullSecrets: [] } };
}

/**
 * Re-reads the projected volumes (and token volumes) of running pods every `periodMs`; one pass
 * at a time.
 */
export function startVolumeRefresh(volumes: ProjectedVolumes, lookup: ConfigLookup, pods: () => Pod[], wants: (uid: string) => boolean, periodMs: number, log: Log): { stop(): void } {
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const pass = memoLookup(lookup);
      for (const pod of pods()) {
        const uid = pod.metadata.uid ?? pod.metadata.name;
        const phase = pod.status?.phase;
        if (!wants(uid) || pod.metadata.deletionTimestamp || phase === "Succeeded" || phase === "Failed") continue;
        // Only pods whose volumes were set up once (a started container) are refreshed here.
        if (!pod.status?.podIP || !((pod.spec.volumes ?? []).some((v) => projectedKind(v)) || volumes.hasTokenVolume(uid))) continue;
        const fields = { podIP: pod.status.podIP, hostIP: pod.status.hostIP ?? "", nodeName: pod.spec.nodeName ?? "" };
        const failed = await fetchConfigObjects(volumesOnly(pod), pass).then((objs) => volumes.ensure(pod, fields, objs)).catch((e) => String(e));
        if (failed) log("projected volume not refreshed", { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: failed });
      }
    } finally {
      busy = false;
    }
  }, periodMs);
  timer.unref?.();
  return { stop: () => clearInterval(timer) };
}
