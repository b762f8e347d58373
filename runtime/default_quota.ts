/**
 * The ResourceQuota `berth up` puts in the `default` namespace, so that one object (an RC with
 * `replicas: 1e9`) cannot fill the machine with containers. The limits are generous for one
 * machine and are an ordinary object: `kubectl edit quota default-quota`, `berth apply` a
 * changed copy, or delete it. It is created once per cluster — an annotation on the namespace
 * records that it was, so a quota the user deleted does not come back on the next `berth up`.
 * Kubernetes itself creates no quota; this is Berth's single-machine default (docs/controllers.md).
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { ResourceQuota } from "../model/types.ts";

export const DEFAULT_QUOTA_NAME = "default-quota";
/** Set on the `default` namespace once the default quota has been created. */
export const DEFAULT_QUOTA_ANNOTATION = "berth.dev/default-quota-created";

/** The default limits (object counts only, so pods without resource requests still work). */
export const DEFAULT_QUOTA_HARD: Record<string, string> = {
  pods: "1000",
  replicationcontrollers: "200",
  services: "200",
  resourcequotas: "20",
};

export function defaultQuota(): ResourceQuota {
  return {
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: DEFAULT_QUOTA_NAME, namespace: "default", labels: { "app.kubernetes.io/managed-by": "berth" } },
    spec: { hard: { ...DEFAULT_QUOTA_HARD } },
  };
}

/**
 * Creates the default quota unless it was created before (then whatever the user made of it
 * stays). Returns "created", "exists" or "skipped" (created once already, since deleted).
 */
export async function ensureDefaultQuota(client: ApiClient): Promise<"created" | "exists" | "skipped"> {
  const ns = await client.get("namespaces", "default");
  const done = ns.metadata.annotations?.[DEFAULT_QUOTA_ANNOTATION];
  let result: "created" | "exists" | "skipped" = done ? "skipped" : "created";
  if (!done) {
    try {
      await client.create("resourcequotas", defaultQuota(), "default");
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
      result = "exists";
    }
    await client.patch("namespaces", "default", { metadata: { annotations: { [DEFAULT_QUOTA_ANNOTATION]: new Date().toISOString() } } });
  } else if (await client.get("resourcequotas", DEFAULT_QUOTA_NAME, "default").then(() => true, () => false)) {
    result = "exists";
  }
  return result;
}
