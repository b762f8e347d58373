/**
 * The replication controller actor: one per RC, a work loop (see work_loop.ts for its states)
 * whose pass is
 *
 *   read RC + its namespace's pods from the shared informers
 *     ──reconcile (pure, replication_controller_reconcile.ts)──▶ Command[]
 *     ──execute (exhaustive switch below)──▶ API calls, events, expectations
 *
 * Level-based: a wake-up says only "look again". Expectations are raised *before* creates or
 * deletes are issued and lowered as the watch shows them (or as calls fail), so a pass on a
 * stale view never repeats them. Creates go out in slow-start batches (1, 2, 4, ...) and stop at
 * the first failing batch; a failure becomes a `FailedCreate` event and, on the next pass, a
 * `ReplicaFailure` status condition.
 *
 * Subjects: none directly — all I/O goes through the injected `ApiClient`.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError, outcomeUnknown } from "../model/errors.ts";
import { generateName } from "../model/names.ts";
import type { OwnerReference, Pod } from "../model/types.ts";
import type { EventRecorder } from "./event_recorder.ts";
import type { ExpectationsStore } from "./expectations.ts";
import type { Informer } from "./informer_cache.ts";
import { type Command, type ReplicaOwner, claimPods, computeStatus, isActive, reconcile, statusChanged } from "./replication_controller_reconcile.ts";
import type { Log } from "../model/log.ts";
import { type WorkLoop, errorText, startWorkLoop } from "./work_loop.ts";
import type { Observe } from "../model/observe.ts";
import { objectKey } from "../model/names.ts";
import { adoptionWait, requeueAfter } from "./replication_controller_decide.ts";

export { ADOPT_DELAY_MS } from "./replication_controller_decide.ts";

/** The resources whose objects this actor runs: RCs (core/v1) and ReplicaSets (apps/v1). */
export type ReplicaResource = "replicationcontrollers" | "replicasets";

/** The informer of either kind, read through the fields the actor uses. */
export interface ReplicaOwnerInformer {
  readonly resource: ReplicaResource;
  list(): ReplicaOwner[];
  get(key: string): ReplicaOwner | undefined;
  subscribe(handler: (ev: { type: "ADDED" | "MODIFIED" | "DELETED"; object: ReplicaOwner; old?: ReplicaOwner }) => void): () => void;
}

/** An RC or ReplicaSet informer as a `ReplicaOwnerInformer`. */
export function replicaOwners(i: Informer<"replicationcontrollers"> | Informer<"replicasets">): ReplicaOwnerInformer {
  return i as unknown as ReplicaOwnerInformer;
}

export interface RcDeps {
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  client: ApiClient;
  rcs: ReplicaOwnerInformer;
  /** The pods this RC could own: those it controls and its namespace's orphans (shared informer). */
  podsFor(rc: ReplicaOwner): Pod[];
  expectations: ExpectationsStore;
  recorder: EventRecorder;
  log: Log;
  now: () => number;
  expectationsTtlMs?: number;
}

/** A transient reason to run the pass again soon (a CAS lost to a concurrent writer). */
export class RequeueError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RequeueError";
  }
}

/** The controller owner reference an RC (or ReplicaSet) puts on its pods. */
export function controllerRef(rc: ReplicaOwner): OwnerReference {
  return { apiVersion: rc.apiVersion, kind: rc.kind, name: rc.metadata.name, uid: rc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * The pod an RC creates from its template. Given a name, the pod has it (the RC chooses names so
 * it can repeat a create safely, see `createPod`); otherwise the API fills one from `generateName`.
 */
export function podFromTemplate(rc: ReplicaOwner, name?: string): unknown {
  const t = rc.spec.template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      ...(name ? { name } : {}),
      generateName: `${rc.metadata.name}-`,
      namespace: rc.metadata.namespace,
      labels: { ...(t?.metadata?.labels ?? {}) },
      ...(t?.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(rc)],
    },
    spec: structuredClone(t?.spec ?? { containers: [] }),
  };
}

/** How often a create whose outcome is unknown is repeated (same name), and the back-off step. */
export const CREATE_ATTEMPTS = 4;
export const CREATE_RETRY_MS = 500;
/** How many fresh names a create tries when the chosen one is already taken. */
export const NAME_COLLISION_TRIES = 3;

type CreateOutcome =
  | { type: "created"; pod: Pod }
  | { type: "failed"; error: unknown }
  | { type: "unknown"; error: unknown; name: string };

const isCasLoss = (err: unknown) => err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound");

/** Starts the actor for the RC with key `namespace/name`. */
export function startReplicationController(key: string, deps: RcDeps): WorkLoop {
  let createError: string | undefined;
  let stopped = false;
  /** Orphans this RC would adopt, and when it first saw each one orphaned. */
  let orphanSince = new Map<string, number>();

  async function setOwner(pod: Pod, refs: OwnerReference[]): Promise<void> {
    const metadata: Pod["metadata"] = { ...pod.metadata, ownerReferences: refs };
    if (refs.length === 0) delete metadata.ownerReferences;
    await deps.client.update("pods", { ...pod, metadata });
  }

  /** Kubernetes re-reads the controller before adopting, so a controller being deleted never adopts. */
  async function canAdopt(rc: ReplicaOwner): Promise<boolean> {
    try {
      const fresh = await deps.client.get(deps.rcs.resource, rc.metadata.name, rc.metadata.namespace);
      return fresh.metadata.uid === rc.metadata.uid && !fresh.metadata.deletionTimestamp;
    } catch (err) {
      if (err instanceof ApiError && err.reason === "NotFound") return false;
      throw err;
    }
  }

  /**
   * One pod create that is safe to repeat. The RC names the pod itself (generateName resolved
   * here, not by the API), so when a create fails without a definite answer — the store timed
   * out while JetStream elected a new stream leader, and may commit the write a moment later —
   * it can ask again under the same name: a create is a compare-and-swap on a key that must not
   * exist, so at most one of the tries lands, and AlreadyExists on a pod this RC controls means
   * an earlier try did. Kubernetes lowers the expectation on any error and deletes the surplus
   * once it shows up; Berth does not make the surplus.
   */
  async function createPod(rc: ReplicaOwner): Promise<CreateOutcome> {
    let pod = podFromTemplate(rc, generateName(`${rc.metadata.name}-`));
    let name = (pod as Pod).metadata.name;
    let unknown: unknown = null;
    let collisions = 0;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, CREATE_RETRY_MS * attempt));
      // A stopped actor (its RC deleted, or the control plane lost its lease) retries nothing.
      if (stopped) return unknown ? { type: "unknown", error: unknown, name } : { type: "failed", error: new Error("the controller stopped") };
      try {
        return { type: "created", pod: await deps.client.create("pods", pod, rc.metadata.namespace) };
      } catch (err) {
        if (unknown && err instanceof ApiError && err.reason === "AlreadyExists") {
          let existing: Pod | undefined;
          try {
            existing = await deps.client.get("pods", name, rc.metadata.namespace);
          } catch (readErr) {
            // Gone again (deleted meanwhile): no pod of ours under that name now. Unreadable:
            // an earlier try may still be the pod there, so the outcome stays unknown.
            if (readErr instanceof ApiError && readErr.reason === "NotFound") return { type: "failed", error: err };
            return { type: "unknown", error: unknown, name };
          }
          if (existing.metadata.ownerReferences?.some((r) => r.controller && r.uid === rc.metadata.uid)) return { type: "created", pod: existing };
          return { type: "failed", error: err };
        }
        if (!unknown && err instanceof ApiError && err.reason === "AlreadyExists" && ++collisions < NAME_COLLISION_TRIES) {
          // A fresh name already taken by another pod (five random characters do collide among
          // thousands of pods): pick another at once, as the API server's generateName retry does.
          pod = podFromTemplate(rc, generateName(`${rc.metadata.name}-`));
          name = (pod as Pod).metadata.name;
          attempt--;
          continue;
        }
        if (!outcomeUnknown(err)) return unknown ? { type: "unknown", error: unknown, name } : { type: "failed", error: err };
        unknown = err;
      }
    }
    return { type: "unknown", error: unknown, name };
  }

  async function createPods(rc: ReplicaOwner, count: number, batches: number[]): Promise<void> {
    deps.expectations.expect(key, count, [], deps.now());
    let issued = 0;
    let firstError: unknown = null;
    for (const size of batches) {
      const results = await Promise.all(Array.from({ length: size }, () => createPod(rc)));
      issued += size;
      for (const r of results) {
        if (r.type === "created") {
          deps.recorder.record(rc, "Normal", "SuccessfulCreate", `Created pod: ${r.pod.metadata.name}`);
        } else if (r.type === "failed") {
          // A definite refusal: its watch event will never come.
          deps.expectations.creationObserved(key);
          firstError ??= r.error;
          deps.recorder.record(rc, "Warning", "FailedCreate", `Error creating: ${errorText(r.error)}`);
        } else {
          // It may yet appear: the expectation stays until the watch shows the pod or its TTL
          // passes, so this RC does not create a replacement for a pod that exists.
          firstError ??= r.error;
          deps.log("pod create outcome unknown; waiting for the watch before creating again", { rc: key, pod: r.name, error: errorText(r.error) });
          deps.recorder.record(rc, "Warning", "FailedCreate", `Error creating: ${errorText(r.error)} (pod ${r.name} may still appear)`);
        }
      }
      if (firstError) break;
    }
    // Batches never sent will never be observed either.
    for (let i = issued; i < count; i++) deps.expectations.creationObserved(key);
    createError = firstError ? (firstError instanceof Error ? firstError.message : String(firstError)) : undefined;
    if (firstError) throw new RequeueError(`creating pods for ${key} failed`, { cause: firstError });
  }

  async function deletePods(rc: ReplicaOwner, pods: Pod[]): Promise<void> {
    deps.expectations.expect(key, 0, pods.map(objectKey), deps.now());
    let firstError: unknown = null;
    await Promise.all(pods.map(async (pod) => {
      try {
        await deps.client.delete("pods", pod.metadata.name, pod.metadata.namespace, { preconditions: { uid: pod.metadata.uid } });
        deps.recorder.record(rc, "Normal", "SuccessfulDelete", `Deleted pod: ${pod.metadata.name}`);
      } catch (err) {
        deps.expectations.deletionObserved(key, objectKey(pod));
        if (err instanceof ApiError && err.reason === "NotFound") return;
        firstError ??= err;
        deps.recorder.record(rc, "Warning", "FailedDelete", `Error deleting: ${errorText(err)}`);
      }
    }));
    if (firstError) throw new RequeueError(`deleting pods for ${key} failed`, { cause: firstError });
  }

  async function execute(rc: ReplicaOwner, cmd: Command): Promise<void> {
    switch (cmd.type) {
      case "adopt":
        if (!(await canAdopt(rc))) return;
        await setOwner(cmd.pod, [...(cmd.pod.metadata.ownerReferences ?? []), controllerRef(rc)]);
        return;
      case "release":
        await setOwner(cmd.pod, (cmd.pod.metadata.ownerReferences ?? []).filter((o) => o.uid !== rc.metadata.uid));
        return;
      case "createPods":
        await createPods(rc, cmd.count, cmd.batches);
        return;
      case "deletePods":
        await deletePods(rc, cmd.pods);
        return;
      case "updateStatus":
        await deps.client.updateStatus(deps.rcs.resource, { ...rc, status: cmd.status });
        return;
      default: {
        const never: never = cmd;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
  }

  async function pass(): Promise<{ requeueAfterMs?: number }> {
    const rc = deps.rcs.get(key);
    if (!rc) return {};
    const now = deps.now();
    const commands = reconcile({
      rc,
      pods: deps.podsFor(rc),
      expectations: deps.expectations.get(key),
      now,
      expectationsTtlMs: deps.expectationsTtlMs,
      createError,
    });
    let casLost = false;
    const adoption = adoptionWait(commands.flatMap((c) => (c.type === "adopt" ? [objectKey(c.pod)] : [])), orphanSince, now);
    orphanSince = adoption.orphanSince;
    let createFailure: unknown;
    for (const cmd of commands) {
      // While an adoption waits, the counts include pods not yet ours: change nothing but status.
      if (adoption.waitMs > 0 && cmd.type !== "updateStatus" && cmd.type !== "release") continue;
      try {
        await execute(rc, cmd);
      } catch (err) {
        // Losing a CAS means someone else changed the object: look again with fresh data.
        if (isCasLoss(err)) casLost = true;
        else if (cmd.type === "createPods") {
          // The status planned before the creates does not know they failed: report it below.
          createFailure = err;
          break;
        } else throw err;
      }
    }
    if (createFailure) {
      // As Kubernetes does after manageReplicas fails: write the status with the ReplicaFailure
      // condition now, then back off (the work loop's error path) before trying again.
      const active = claimPods(rc, deps.podsFor(rc)).owned.filter(isActive);
      const status = computeStatus({ rc, pods: [], now: deps.now(), createError }, active);
      if (statusChanged(rc.status, status)) {
        await execute(rc, { type: "updateStatus", status }).catch((err) => {
          if (!isCasLoss(err)) throw err;
        });
      }
      throw createFailure;
    }
    if (!commands.some((c) => c.type === "createPods")) createError = undefined;
    return {
      requeueAfterMs: requeueAfter({
        casLost,
        adoptWaitMs: adoption.waitMs,
        expectationsSatisfied: deps.expectations.satisfied(key, deps.now(), deps.expectationsTtlMs),
        expectationsTtlMs: deps.expectationsTtlMs,
        minReadySeconds: rc.spec.minReadySeconds,
        status: rc.status,
      }),
    };
  }

  const loop = startWorkLoop(`${deps.rcs.resource === "replicasets" ? "rs" : "rc"}/${key}`, pass, deps.log, deps.observe);
  return {
    name: loop.name,
    actor: loop.actor,
    wake: () => loop.wake(),
    stop() {
      stopped = true;
      loop.stop();
    },
  };
}
