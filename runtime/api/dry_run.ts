/**
 * Kubernetes' server-side dry run (`dryRun=All`) at the one place where a request becomes a
 * write: the store. As kube-apiserver's `DryRunnableStorage`, a dry-run request goes through
 * everything a real one does (validation, defaults, admission, quota, the decisions of a delete)
 * and only the store's writes are replaced by `DryRunWrites`, which checks what the write would
 * check (the key free for a create, the revision for a compare-and-swap) and answers with the
 * object as it would be stored, writing nothing.
 */
import { AlreadyExistsError, ApiError, ConflictError, NotFoundError } from "../../model/errors.ts";
import type { AnyObject, Resource, ResourceTypes } from "../../model/types.ts";
import type { KvStore } from "../store/kv_store.ts";

/** The store's writes, as the Api makes them. */
export type StoreWrites = Pick<KvStore, "create" | "update" | "delete" | "deleteUnreadable">;

/** kube-apiserver's 422 for a dry run asking for the unsafe deletion of a corrupt object. */
export function dryRunUnsafeDeleteError(): ApiError {
  const message = "Invalid value: true: cannot be set together with .dryRun";
  return new ApiError("Invalid", `DeleteOptions.meta.k8s.io "" is invalid: ignoreStoreReadErrorWithClusterBreakingPotential: ${message}`, {
    kind: "DeleteOptions",
    group: "meta.k8s.io",
    causes: [{ reason: "FieldValueInvalid", message, field: "ignoreStoreReadErrorWithClusterBreakingPotential" }],
  });
}

export class DryRunWrites implements StoreWrites {
  constructor(private readonly store: KvStore) {}

  /** AlreadyExists when the name is taken; otherwise the object, with no resourceVersion (it was never stored). */
  async create<R extends Resource>(resource: R, obj: ResourceTypes[R]): Promise<ResourceTypes[R]> {
    if (await this.store.tryGet(resource, obj.metadata.namespace, obj.metadata.name)) throw new AlreadyExistsError(resource, obj.metadata.name);
    return obj;
  }

  /** NotFound or Conflict as the compare-and-swap would answer; otherwise `obj` at the stored revision. */
  async update<R extends Resource>(resource: R, obj: ResourceTypes[R], expectedRevision?: number): Promise<ResourceTypes[R]> {
    const stored = await this.current(resource, obj.metadata.namespace, obj.metadata.name, expectedRevision);
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: stored.metadata.resourceVersion } };
  }

  /**
   * NotFound or Conflict as the delete would answer; otherwise the object as the deletion leaves
   * it: `last`, else the `current` the caller decided on (an owner marked by an orphaning delete
   * in the same dry run), else as stored — at the stored revision.
   */
  async delete<R extends Resource>(resource: R, namespace: string | undefined, name: string, expectedRevision?: number, current?: AnyObject, last?: AnyObject): Promise<ResourceTypes[R]> {
    const stored = await this.current(resource, namespace, name, expectedRevision);
    const out = last ?? current ?? stored;
    return { ...out, metadata: { ...out.metadata, resourceVersion: stored.metadata.resourceVersion } } as ResourceTypes[R];
  }

  deleteUnreadable<R extends Resource>(): Promise<ResourceTypes[R]> {
    return Promise.reject(dryRunUnsafeDeleteError());
  }

  private async current<R extends Resource>(resource: R, namespace: string | undefined, name: string, expectedRevision: number | undefined): Promise<ResourceTypes[R]> {
    const stored = await this.store.tryGet(resource, namespace, name);
    if (!stored) throw new NotFoundError(resource, name);
    if (expectedRevision !== undefined && stored.metadata.resourceVersion !== String(expectedRevision)) throw new ConflictError(resource, name);
    return stored;
  }
}
