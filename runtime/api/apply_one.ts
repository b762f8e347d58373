/**
 * `berth apply` / `Cluster.apply` for one object over any ApiClient: get, then create or the
 * three-way merge of runtime/api/apply.ts, retried on a write conflict.
 */
import type { ApiClient, WriteOptions } from "../../model/client.ts";
import { retryOnConflict } from "../../model/conflict.ts";
import { ApiError } from "../../model/errors.ts";
import type { AnyObject, Resource } from "../../model/types.ts";
import { LAST_APPLIED_ANNOTATION, lastAppliedOf, lastAppliedOn, sameObject, threeWayMerge } from "./apply.ts";

/** One result of `Cluster.apply`. */
export interface Applied {
  resource: Resource;
  name: string;
  namespace?: string;
  action: "created" | "configured" | "unchanged";
  object: AnyObject;
}

/**
 * kubectl-apply-like create-or-update of one object: client-side apply, a three-way merge of the
 * last applied configuration (the `kubectl.kubernetes.io/last-applied-configuration` annotation),
 * the manifest and the stored object (runtime/api/apply.ts). Fields the server set (a Service's
 * ClusterIP and node ports, defaults) survive; a manifest that changes nothing is `unchanged`
 * and writes nothing; `kubectl apply` and `berth apply` read each other's annotation. With
 * `dryRun`, the create or update is the server's dry run: the answer is what would be stored.
 */
export async function applyOne(api: ApiClient, resource: Resource, object: Record<string, unknown>, opts: WriteOptions = {}): Promise<Applied> {
  const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
  const name = meta.name!;
  const namespace = meta.namespace;
  const desired = object as Record<string, never>;
  let current: AnyObject | undefined;
  try {
    current = await api.get(resource, name, namespace);
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 404)) throw e;
  }
  if (!current) {
    const annotations = { ...(object.metadata as { annotations?: Record<string, string> } | undefined)?.annotations, [LAST_APPLIED_ANNOTATION]: lastAppliedOf(desired) };
    const created = await api.create(resource, { ...object, metadata: { ...(object.metadata as object), annotations } }, namespace, opts);
    return { resource, name, namespace: created.metadata.namespace, action: "created", object: created };
  }
  return retryOnConflict(async (attempt) => {
    if (attempt > 0) current = await api.get(resource, name, namespace);
    const cur = current as unknown as Record<string, never>;
    const next = threeWayMerge(lastAppliedOn(cur), desired, cur);
    if (sameObject(next, cur)) return { resource, name, namespace: current!.metadata.namespace, action: "unchanged" as const, object: current! };
    if ("status" in cur) (next as Record<string, unknown>).status = cur.status;
    const updated = await api.update(resource, next as unknown as AnyObject, opts);
    return { resource, name, namespace: updated.metadata.namespace, action: "configured" as const, object: updated };
  }, { retries: 5 });
}
