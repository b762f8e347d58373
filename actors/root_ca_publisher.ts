/**
 * The root CA publisher (kube-controller-manager's root-ca-cert-publisher): every namespace that
 * is not being deleted has a ConfigMap `kube-root-ca.crt` whose `ca.crt` is the cluster CA, so
 * that a pod's token volume can give its clients the certificate to trust the API server with.
 * A copy that was deleted, or whose data was changed, is put back.
 *
 *   namespaces informer (added) ──────────────────────────────┐
 *   configmaps informer (kube-root-ca.crt changed or deleted) ─┴─▶ wake ─▶ work loop (work_loop.ts)
 *   one pass: rootCaCommands (pure) ─▶ create or update each; AlreadyExists, NotFound, Conflict
 *             and a namespace being deleted are no failure (the next pass sees the new state)
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import type { Observe } from "../model/observe.ts";
import { ROOT_CA_CONFIGMAP } from "../model/pod_references.ts";
import type { ConfigMap, Namespace } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

/** kube's words on the ConfigMap. */
export const ROOT_CA_DESCRIPTION =
  "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

export type RootCaCommand =
  | { type: "create"; namespace: string; configMap: ConfigMap }
  | { type: "update"; namespace: string; configMap: ConfigMap };

function desired(namespace: string, caPem: string, current?: ConfigMap): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      ...(current?.metadata ?? {}),
      name: ROOT_CA_CONFIGMAP,
      namespace,
      annotations: { ...(current?.metadata.annotations ?? {}), "kubernetes.io/description": ROOT_CA_DESCRIPTION },
    },
    data: { "ca.crt": caPem },
  };
}

/** What to write so that every live namespace holds the CA (pure). `configMaps`: the `kube-root-ca.crt` ones. */
export function rootCaCommands(namespaces: readonly Namespace[], configMaps: readonly ConfigMap[], caPem: string): RootCaCommand[] {
  const byNs = new Map(configMaps.filter((c) => c.metadata.name === ROOT_CA_CONFIGMAP).map((c) => [c.metadata.namespace ?? "default", c]));
  const out: RootCaCommand[] = [];
  for (const ns of [...namespaces].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))) {
    if (ns.metadata.deletionTimestamp || ns.status?.phase === "Terminating") continue;
    const name = ns.metadata.name;
    const current = byNs.get(name);
    if (!current) out.push({ type: "create", namespace: name, configMap: desired(name, caPem) });
    else if (current.data?.["ca.crt"] !== caPem || Object.keys(current.data ?? {}).length !== 1 || current.binaryData) {
      const next = desired(name, caPem, current);
      delete (next as { binaryData?: unknown }).binaryData;
      out.push({ type: "update", namespace: name, configMap: next });
    }
  }
  return out;
}

export interface RootCaPublisherDeps {
  client: ApiClient;
  namespaces: Informer<"namespaces">;
  /** ConfigMaps named kube-root-ca.crt (a field-selected informer). */
  configMaps: Informer<"configmaps">;
  /** The cluster CA certificate (PEM). */
  caPem: string;
  log?: Log;
  observe?: Observe;
  /** Time between full passes when nothing wakes the loop. Default 5 min. */
  resyncMs?: number;
}

export interface RootCaPublisher {
  loop: WorkLoop;
  stop(): void;
}

/** Writes that lost a race the next pass resolves: made meanwhile, gone meanwhile, changed meanwhile, or a namespace being deleted. */
function benign(e: unknown): boolean {
  return e instanceof ApiError && (e.reason === "AlreadyExists" || e.reason === "NotFound" || e.reason === "Conflict" || (e.reason === "Forbidden" && /because it is being terminated/.test(e.message)));
}

export function startRootCaPublisher(deps: RootCaPublisherDeps): RootCaPublisher {
  const log = deps.log ?? (() => {});
  async function pass(): Promise<{ requeueAfterMs: number }> {
    let failed: unknown;
    for (const cmd of rootCaCommands(deps.namespaces.list(), deps.configMaps.list(), deps.caPem)) {
      try {
        if (cmd.type === "create") await deps.client.create("configmaps", cmd.configMap, cmd.namespace);
        else await deps.client.update("configmaps", cmd.configMap);
      } catch (e) {
        if (benign(e)) continue;
        failed ??= new Error(`the root CA ConfigMap of namespace ${cmd.namespace} was not written: ${String(e)}`);
      }
    }
    if (failed) throw failed;
    return { requeueAfterMs: deps.resyncMs ?? 300_000 };
  }
  const loop = startWorkLoop("root-ca-cert-publisher", pass, log, deps.observe);
  const unsubscribe = [
    deps.namespaces.subscribe((ev) => {
      if (ev.type !== "DELETED") loop.wake();
    }),
    deps.configMaps.subscribe(() => loop.wake()),
  ];
  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
