/**
 * The API as every part of Berth sees it: actors, the CLI, the REST server and the programmatic
 * `Cluster` all talk to an `ApiClient`. Two implementations exist, with identical behaviour:
 *
 *   - `Api` (runtime/api/api.ts) — in-process: validation, defaults and admission over the store;
 *   - `NatsApiClient` (runtime/api/nats_client.ts) — the same calls as NATS request/reply on
 *     `berth.api.v1.<resource>.<verb>`, answered by `serveApiOverNats` around an `Api`.
 *
 * Errors are `ApiError`s (model/errors.ts) in both.
 */
import type { AnyObject, ObjectList, Pod, Resource, ResourceTypes, Scale, ScalableResource, TokenRequest, WatchEvent } from "./types.ts";

export interface ListOptions {
  /** Absent: all namespaces (for namespaced resources). */
  namespace?: string;
  /** Kubernetes label selector string, e.g. `app=web,tier in (a,b),!canary`. */
  labelSelector?: string;
  /** Kubernetes field selector string, e.g. `metadata.name=x,spec.nodeName=node-1`. */
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  /**
   * Lists: absent or "" is a consistent read (every write finished before the list is in it);
   * "0" any recent state; a revision N: state at least as new as N (or exactly N with
   * `resourceVersionMatch: "Exact"`). Watches: see WatchOptions.
   */
  resourceVersion?: string;
  resourceVersionMatch?: "NotOlderThan" | "Exact";
}

export interface WatchOptions extends ListOptions {
  /**
   * Start after this revision. Absent or "0": the current objects are sent first as ADDED
   * events, then changes. A revision the store has compacted away fails with `GoneError`.
   */
  resourceVersion?: string;
}

/** A running watch: iterate its events; `stop()` ends the iteration. */
export interface Watch<T extends AnyObject = AnyObject> extends AsyncIterable<WatchEvent<T>> {
  stop(): void;
}

export interface DeleteOptions {
  /** Pods only: 0 deletes at once; otherwise deletionTimestamp is set and the kubelet finishes. */
  gracePeriodSeconds?: number;
  /** Background (default for RCs: owned pods are deleted by the garbage collector) or Orphan. */
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  preconditions?: { uid?: string; resourceVersion?: string };
  /**
   * Kubernetes' unsafe deletion of a corrupt object: when the stored value cannot be read (an
   * encrypted Secret no configured key opens), delete it without reading it — finalizers,
   * owners and preconditions are not consulted. Ignored for an object that can be read.
   */
  ignoreStoreReadErrorWithClusterBreakingPotential?: boolean;
  /**
   * Kubernetes' `dryRun: ["All"]`: everything a deletion decides is decided (preconditions,
   * finalizers, a pod's grace period, a namespace's refusal) and the object is answered as the
   * deletion would leave it, but nothing is written. Not with the unsafe deletion above.
   */
  dryRun?: boolean;
}

/**
 * Options of a create, update, status update, patch or scale (Kubernetes' CreateOptions,
 * UpdateOptions and PatchOptions).
 */
export interface WriteOptions {
  /**
   * Kubernetes' `dryRun=All`: the request is validated, defaulted and admitted (quota included)
   * as if it were real, and answered with the object as it would be stored; nothing is stored
   * and nothing is charged. A dry-run create answers without a resourceVersion; an update with
   * the stored object's.
   */
  dryRun?: boolean;
}

export type PatchType = "merge" | "json" | "strategic";

/** Where a patch goes and how it reads: merge (the default), JSON or strategic. */
export interface PatchOptions extends WriteOptions {
  namespace?: string;
  type?: PatchType;
  subresource?: "status";
}

export interface ApiClient {
  create<R extends Resource>(resource: R, obj: unknown, namespace?: string, opts?: WriteOptions): Promise<ResourceTypes[R]>;
  get<R extends Resource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]>;
  list<R extends Resource>(resource: R, opts?: ListOptions): Promise<ObjectList<ResourceTypes[R]>>;
  /** Replaces spec and metadata; status is kept as stored. CAS when metadata.resourceVersion is set. */
  update<R extends Resource>(resource: R, obj: unknown, opts?: WriteOptions): Promise<ResourceTypes[R]>;
  /** Replaces status only; spec and metadata are kept as stored. CAS when resourceVersion is set. */
  updateStatus<R extends Resource>(resource: R, obj: unknown, opts?: WriteOptions): Promise<ResourceTypes[R]>;
  patch<R extends Resource>(
    resource: R,
    name: string,
    patch: unknown,
    opts?: PatchOptions,
  ): Promise<ResourceTypes[R]>;
  /** Returns the object as deleted (or, for a graceful pod deletion, as marked). */
  delete<R extends Resource>(resource: R, name: string, namespace?: string, opts?: DeleteOptions): Promise<ResourceTypes[R]>;
  watch<R extends Resource>(resource: R, opts?: WatchOptions): Promise<Watch<ResourceTypes[R]>>;
  /** The Scale of an RC (the default), Deployment or ReplicaSet. */
  getScale(name: string, namespace?: string, resource?: ScalableResource): Promise<Scale>;
  updateScale(name: string, replicas: number, namespace?: string, resource?: ScalableResource, opts?: WriteOptions): Promise<Scale>;
  /**
   * Binds a pod to a node, as a `Binding` (`pods/{name}/binding`, kube-scheduler's call): sets
   * `spec.nodeName` and the PodScheduled condition. Only the binding is checked, not the whole
   * pod. Conflict when the pod is bound already, is being deleted, or is not the `uid` given.
   */
  bind(name: string, namespace: string | undefined, node: string, opts?: { uid?: string; dryRun?: boolean }): Promise<Pod>;
  /**
   * A token for ServiceAccount `name` (kube's TokenRequest, `serviceaccounts/{name}/token`):
   * `request` is a TokenRequest body, validated as kube-apiserver does. Nothing is stored. 404
   * when the API has no signing key. On a node's NATS face, only for a pod bound to that node
   * (as kube's Node authorizer allows the kubelet).
   */
  createToken(name: string, namespace: string, request: unknown): Promise<TokenRequest>;
}

/** What a `kubectl logs` asks of the node that runs the pod (REST `pods/log`, the live page). */
export interface LogRequest {
  namespace: string;
  pod: string;
  container: string;
  follow: boolean;
  tailLines?: number;
  timestamps?: boolean;
  previous?: boolean;
  /** Aborted when the HTTP client goes away or the server closes. */
  signal: AbortSignal;
}

/**
 * Supplies a container's log as a byte stream. Provided by whoever knows where pods run (the
 * cluster); the HTTP layer has already checked that the pod and container exist.
 */
export type LogProvider = (req: LogRequest) => Promise<AsyncIterable<Uint8Array | string>> | AsyncIterable<Uint8Array | string>;
