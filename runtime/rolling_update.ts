/**
 * `kubectl rolling-update` for replication controllers, and `scale`.
 *
 *   old RC (N) ──annotate next-controller-id──▶ new RC (0, desired-replicas=N)
 *   repeat: new +1 ─▶ wait until new has that many available pods ─▶ old −1 ─▶ wait
 *   (one pod replaced at a time: at most one surge pod, never fewer than N available)
 *   until old = 0 and new = N; delete old; with `image` (no new manifest) the new RC is then
 *   renamed to the old name (delete it orphaning its pods, recreate under the old name, which
 *   adopts them), as kubectl does.
 *
 * Every step is written to the API before it is waited on, so an interrupted update resumes:
 * the old RC's `berth.dev/next-controller-id` names the new RC, and the new RC's
 * `berth.dev/desired-replicas` the target. `rollback` runs the same loop the other way (the old
 * RC back to its original size, the new one down to zero, then deleted).
 *
 * Ownership (controller `ownerReferences`) keeps the two RCs apart even though the new
 * selector is a superset of the old one, so kubectl's relabelling of old pods is not needed.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { ReplicationController, Scale } from "../model/types.ts";

export const NEXT_CONTROLLER_ANNOTATION = "berth.dev/next-controller-id";
export const DESIRED_REPLICAS_ANNOTATION = "berth.dev/desired-replicas";
export const ORIGINAL_REPLICAS_ANNOTATION = "berth.dev/original-replicas";
/** On the new RC of an `--image` update: the name it takes back once the old RC is gone. */
export const RENAME_TO_ANNOTATION = "berth.dev/rename-to";
/** The label that tells the pods of two revisions apart (kubectl's `deployment` key). */
export const REVISION_LABEL = "berth.dev/revision";

export class RollingUpdateError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RollingUpdateError";
  }
}

export interface RollingUpdateProgress {
  step: "scale-up" | "scale-down" | "cleanup" | "done";
  oldName: string;
  newName: string;
  oldReplicas: number;
  newReplicas: number;
  desired: number;
}

export interface RollingUpdateOptions {
  oldName: string;
  namespace?: string;
  /** The new RC manifest (kubectl `-f`); must have a different name and selector. */
  newRc?: unknown;
  /** Or: the image to roll to (kubectl `--image`); every container gets it. */
  image?: string;
  /** Undo an interrupted or finished-with-old-still-present update. */
  rollback?: boolean;
  /** Pause after each step (kubectl `--update-period`, default there 1 min; here 0). */
  updatePeriodMs?: number;
  /** How long one step may wait for pods to become available (kubectl `--timeout`, 5 min). */
  timeoutMs?: number;
  /** Poll interval while waiting. */
  pollMs?: number;
  onProgress?: (p: RollingUpdateProgress) => void;
}

export interface RollingUpdateResult {
  /** The RC that now runs the pods (the old name when the new RC was renamed back). */
  name: string;
  replicas: number;
}

/** Scales an RC through the `/scale` subresource (what `berth scale rc NAME --replicas N` does). */
export async function scaleRc(client: ApiClient, name: string, replicas: number, namespace = "default"): Promise<Scale> {
  return await client.updateScale(name, replicas, namespace);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function shortHash(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36).slice(0, 6);
}

async function getOrNull(client: ApiClient, name: string, ns: string): Promise<ReplicationController | null> {
  try {
    return await client.get("replicationcontrollers", name, ns);
  } catch (err) {
    if (err instanceof ApiError && err.reason === "NotFound") return null;
    throw err;
  }
}

async function annotate(client: ApiClient, name: string, ns: string, annotations: Record<string, string | null>): Promise<ReplicationController> {
  return await client.patch("replicationcontrollers", name, { metadata: { annotations } }, { namespace: ns, type: "merge" });
}

/** Waits until the RC reports `want` replicas, all available when growing. */
async function waitForRc(client: ApiClient, name: string, ns: string, want: number, opts: RollingUpdateOptions): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * 60_000);
  for (;;) {
    const rc = await client.get("replicationcontrollers", name, ns);
    const st = rc.status;
    const observed = (st?.observedGeneration ?? 0) >= (rc.metadata.generation ?? 0);
    if (observed && st?.replicas === want && (st.availableReplicas ?? 0) >= want) return;
    if (Date.now() > deadline) {
      throw new RollingUpdateError(
        `timed out waiting for ${name} to have ${want} available replicas (has ${st?.replicas ?? 0}, ${st?.availableReplicas ?? 0} available)`,
      );
    }
    await sleep(opts.pollMs ?? 100);
  }
}

/** Builds the new RC for an `--image` update: the old one with a new name, image and revision label. */
function rcForImage(old: ReplicationController, image: string): unknown {
  const rev = shortHash(`${image}|${JSON.stringify(old.spec.template?.spec ?? {})}`);
  const selector = { ...(old.spec.selector ?? old.spec.template?.metadata?.labels ?? {}), [REVISION_LABEL]: rev };
  const template = structuredClone(old.spec.template!);
  template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), [REVISION_LABEL]: rev } };
  template.spec.containers = template.spec.containers.map((c) => ({ ...c, image }));
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: `${old.metadata.name}-${rev}`, namespace: old.metadata.namespace, labels: old.metadata.labels },
    spec: { replicas: 0, minReadySeconds: old.spec.minReadySeconds, selector, template },
  };
}

/**
 * Moves replicas from `from` to `to` one pod at a time: `to` grows by one (while the two together
 * hold no more than `desired`, so one surge pod at most), waits for it to be available, then
 * `from` shrinks by one; until `to` has `desired` and `from` none.
 */
async function shift(client: ApiClient, ns: string, fromName: string, toName: string, desired: number, opts: RollingUpdateOptions, report: (p: RollingUpdateProgress) => void): Promise<void> {
  for (;;) {
    const from = await client.get("replicationcontrollers", fromName, ns);
    const to = await client.get("replicationcontrollers", toName, ns);
    const fromN = from.spec.replicas ?? 0;
    const toN = to.spec.replicas ?? 0;
    if (toN < desired && (toN + fromN <= desired || fromN === 0)) {
      await scaleRc(client, toName, toN + 1, ns);
      report({ step: "scale-up", oldName: fromName, newName: toName, oldReplicas: fromN, newReplicas: toN + 1, desired });
      await waitForRc(client, toName, ns, toN + 1, opts);
    } else if (fromN > 0) {
      // Never drop below `desired` available: `to` is complete here, only then does `from` shrink.
      await scaleRc(client, fromName, fromN - 1, ns);
      report({ step: "scale-down", oldName: fromName, newName: toName, oldReplicas: fromN - 1, newReplicas: toN, desired });
      await waitForRc(client, fromName, ns, fromN - 1, { ...opts, timeoutMs: opts.timeoutMs }).catch(async (err) => {
        // Shrinking needs no availability; only the count matters.
        const rc = await client.get("replicationcontrollers", fromName, ns);
        if (rc.status?.replicas !== fromN - 1) throw err;
      });
    } else {
      return;
    }
    if (opts.updatePeriodMs) await sleep(opts.updatePeriodMs);
  }
}

/** Runs (or resumes, or rolls back) a rolling update. */
export async function rollingUpdate(client: ApiClient, opts: RollingUpdateOptions): Promise<RollingUpdateResult> {
  const ns = opts.namespace ?? "default";
  const report = opts.onProgress ?? (() => {});
  const old = await client.get("replicationcontrollers", opts.oldName, ns);
  const pending = old.metadata.annotations?.[NEXT_CONTROLLER_ANNOTATION];

  if (opts.rollback) {
    if (!pending) throw new RollingUpdateError(`${opts.oldName} has no rolling update in progress to roll back`);
    const original = Number(old.metadata.annotations?.[ORIGINAL_REPLICAS_ANNOTATION] ?? old.spec.replicas ?? 0);
    if (await getOrNull(client, pending, ns)) {
      await shift(client, ns, pending, opts.oldName, original, opts, report);
      report({ step: "cleanup", oldName: opts.oldName, newName: pending, oldReplicas: original, newReplicas: 0, desired: original });
      await client.delete("replicationcontrollers", pending, ns);
    }
    await annotate(client, opts.oldName, ns, { [NEXT_CONTROLLER_ANNOTATION]: null, [ORIGINAL_REPLICAS_ANNOTATION]: null });
    report({ step: "done", oldName: opts.oldName, newName: pending, oldReplicas: original, newReplicas: 0, desired: original });
    return { name: opts.oldName, replicas: original };
  }

  // Decide (or recover) the new RC.
  let newName: string;
  let desired: number;
  let rename: boolean;
  const resumed = pending ? await getOrNull(client, pending, ns) : null;
  if (resumed) {
    newName = resumed.metadata.name;
    desired = Number(resumed.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] ?? old.spec.replicas ?? 0);
    rename = resumed.metadata.annotations?.[RENAME_TO_ANNOTATION] === opts.oldName;
  } else {
    if (!opts.newRc && !opts.image) throw new RollingUpdateError("a new RC manifest or an image is required");
    const next = (opts.newRc ? structuredClone(opts.newRc) : rcForImage(old, opts.image!)) as ReplicationController;
    if (!next?.metadata?.name) throw new RollingUpdateError("the new RC needs a name");
    if (next.metadata.name === opts.oldName) throw new RollingUpdateError(`the new RC must have a different name than ${opts.oldName}`);
    const oldSel = JSON.stringify(old.spec.selector ?? {});
    const newSel = JSON.stringify(next.spec?.selector ?? next.spec?.template?.metadata?.labels ?? {});
    if (oldSel === newSel) throw new RollingUpdateError("the new RC's selector must differ from the old one's, or the two would fight over pods");
    rename = !opts.newRc;
    desired = (opts.newRc ? next.spec?.replicas : undefined) ?? old.spec.replicas ?? 1;
    newName = next.metadata.name;
    // Resume state first, then the new RC (at zero): an interruption between the two resumes cleanly.
    await annotate(client, opts.oldName, ns, {
      [NEXT_CONTROLLER_ANNOTATION]: newName,
      [ORIGINAL_REPLICAS_ANNOTATION]: String(old.spec.replicas ?? 0),
    });
    await client.create("replicationcontrollers", {
      ...next,
      metadata: { ...next.metadata, namespace: ns, annotations: {
        ...(next.metadata.annotations ?? {}),
        [DESIRED_REPLICAS_ANNOTATION]: String(desired),
        ...(rename ? { [RENAME_TO_ANNOTATION]: opts.oldName } : {}),
      } },
      spec: { ...next.spec, replicas: 0 },
    }, ns);
  }

  await shift(client, ns, opts.oldName, newName, desired, opts, report);
  report({ step: "cleanup", oldName: opts.oldName, newName, oldReplicas: 0, newReplicas: desired, desired });
  await client.delete("replicationcontrollers", opts.oldName, ns);

  if (!rename) {
    await annotate(client, newName, ns, { [DESIRED_REPLICAS_ANNOTATION]: null });
    report({ step: "done", oldName: opts.oldName, newName, oldReplicas: 0, newReplicas: desired, desired });
    return { name: newName, replicas: desired };
  }
  // Rename back to the old name: orphan the pods, recreate under the old name, which adopts them.
  const current = await client.get("replicationcontrollers", newName, ns);
  await client.delete("replicationcontrollers", newName, ns, { propagationPolicy: "Orphan" });
  const annotations = { ...(current.metadata.annotations ?? {}) };
  delete annotations[DESIRED_REPLICAS_ANNOTATION];
  delete annotations[RENAME_TO_ANNOTATION];
  await client.create("replicationcontrollers", {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: opts.oldName, namespace: ns, labels: current.metadata.labels, annotations },
    spec: current.spec,
  }, ns);
  await waitForRc(client, opts.oldName, ns, desired, opts);
  report({ step: "done", oldName: opts.oldName, newName: opts.oldName, oldReplicas: 0, newReplicas: desired, desired });
  return { name: opts.oldName, replicas: desired };
}
