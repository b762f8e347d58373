/**
 * A controller's history of its pod templates as ControllerRevisions (Kubernetes'
 * pkg/controller/history), shared by the StatefulSet and DaemonSet controllers:
 *
 *   - `adopt`: revisions no controller owns whose labels the owner's selector matches (left by an
 *     orphaning delete) are taken over, re-reading the owner first (ClaimControllerRevisions);
 *   - `sync`: the revision of the owner's current template exists and is the newest — made when
 *     missing (numbered one above the newest), renumbered when an older revision records the same
 *     template (a rollback, `kubectl rollout undo`), or reported as a collision when its name is
 *     taken by a revision of another template or owner;
 *   - `prune`: old revisions beyond `revisionHistoryLimit` that nothing is at are deleted, oldest
 *     first (truncateHistory).
 *
 * A revision's `data` is the strategic merge patch that puts the template back,
 * `{"spec":{"template":{…,"$patch":"replace"}}}`, which is what `kubectl rollout undo` applies.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { jsonEqual } from "../model/json_equal.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import { matchesLabels, selectorFromSpec } from "../model/selector.ts";
import type { ControllerRevision, KubeObject, LabelSelectorSpec, PodTemplateSpec } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";

/** What the history needs of its owner. */
export interface HistoryOwner extends KubeObject {
  spec: { selector: LabelSelectorSpec; template: PodTemplateSpec; revisionHistoryLimit?: number };
}

export interface ControllerHistory {
  /** The owner's revisions, from the informer. */
  revisionsOf(owner: HistoryOwner): ControllerRevision[];
  /** Adopts orphaned revisions the selector matches; true when it wrote (look again once they show). */
  adopt(owner: HistoryOwner): Promise<boolean>;
  /** Makes `name` (recording the owner's template) the newest revision; "collision" when the name is taken by another. */
  sync(owner: HistoryOwner, name: string, revisions: readonly ControllerRevision[]): Promise<"ok" | "collision">;
  /** Deletes old revisions beyond the limit that are not in `live`. */
  prune(owner: HistoryOwner, revisions: readonly ControllerRevision[], live: Iterable<string>): Promise<void>;
  /** Wakes a revision's owner whenever the revision changes or goes (history, a rollback); returns the unsubscribe. */
  wakeOwners(loops: { keyOf(uid: string): string | undefined; wake(key: string): void }): () => void;
}

/** What a revision records: the patch that puts the template back (Kubernetes' getPatch). */
export function templatePatch(template: PodTemplateSpec): { spec: { template: PodTemplateSpec & { $patch: "replace" } } } {
  return { spec: { template: { ...structuredClone(template), $patch: "replace" } } };
}

/** The template a revision records, when it is one of ours. */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec | undefined {
  const t = (rev.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec?.template;
  if (!t || typeof t !== "object" || !t.spec) return undefined;
  const { $patch: _directive, ...template } = t;
  return template;
}

/** A revision of `owner`'s template named `name`, numbered `revision`, labelled and annotated as Kubernetes' NewControllerRevision and newRevision do. */
export function newRevision(owner: HistoryOwner, name: string, revision: number): ControllerRevision {
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name,
      namespace: owner.metadata.namespace,
      labels: { ...(owner.spec.template.metadata?.labels ?? {}) },
      ...(owner.metadata.annotations ? { annotations: { ...owner.metadata.annotations } } : {}),
      ownerReferences: [{ apiVersion: "apps/v1", kind: owner.kind!, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    data: templatePatch(owner.spec.template),
    revision,
  };
}

/** Revisions to delete: beyond `revisionHistoryLimit` (default 10) of those not live, oldest first. */
export function revisionsToPrune(limit: number | undefined, revisions: readonly ControllerRevision[], live: Iterable<string>): ControllerRevision[] {
  const keep = new Set(live);
  const old = revisions.filter((r) => !keep.has(r.metadata.name)).sort((a, b) => a.revision - b.revision);
  return old.slice(0, Math.max(0, old.length - (limit ?? 10)));
}

const controlledBy = (r: ControllerRevision, uid: string | undefined) => r.metadata.ownerReferences?.some((o) => o.controller && o.uid === uid) ?? false;

export function controllerHistory(deps: { client: ApiClient; revisions: Informer<"controllerrevisions">; log: Log }, resource: "statefulsets" | "daemonsets"): ControllerHistory {
  const { client, log } = deps;
  const kind = resource === "statefulsets" ? "StatefulSet" : "DaemonSet";
  return {
    revisionsOf(owner) {
      return deps.revisions.list().filter((r) => r.metadata.namespace === owner.metadata.namespace && controlledBy(r, owner.metadata.uid));
    },

    async adopt(owner) {
      const sel = selectorFromSpec(owner.spec.selector);
      const orphaned = deps.revisions.list().filter((r) => r.metadata.namespace === owner.metadata.namespace && !r.metadata.ownerReferences?.some((o) => o.controller) && matchesLabels(sel, r.metadata.labels ?? {}));
      if (orphaned.length === 0) return false;
      const fresh = await client.get(resource, owner.metadata.name, owner.metadata.namespace);
      if (fresh.metadata.uid !== owner.metadata.uid || fresh.metadata.deletionTimestamp) return false;
      const ref = { apiVersion: "apps/v1", kind: owner.kind!, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
      for (const r of orphaned) {
        await client.update("controllerrevisions", { ...r, metadata: { ...r.metadata, ownerReferences: [...(r.metadata.ownerReferences ?? []), ref] } });
        log("adopted an orphaned revision", { owner: objectKey(owner), revision: r.metadata.name });
      }
      return true;
    },

    async sync(owner, name, revisions) {
      const newest = revisions.reduce((n, r) => Math.max(n, r.revision), 0);
      let have = revisions.find((r) => r.metadata.name === name);
      if (!have) {
        try {
          await client.create("controllerrevisions", newRevision(owner, name, newest + 1), owner.metadata.namespace);
          return "ok";
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
          have = await client.get("controllerrevisions", name, owner.metadata.namespace);
        }
      }
      if (!controlledBy(have, owner.metadata.uid) || !jsonEqual(have.data, templatePatch(owner.spec.template))) return "collision";
      if (have.revision < newest) {
        await client.update("controllerrevisions", { ...have, revision: newest + 1 });
        log("template back to an older revision; it is the newest again", { owner: objectKey(owner), revision: name, number: newest + 1 });
      }
      return "ok";
    },

    async prune(owner, revisions, live) {
      for (const r of revisionsToPrune(owner.spec.revisionHistoryLimit, revisions, live)) {
        await client.delete("controllerrevisions", r.metadata.name, r.metadata.namespace, { preconditions: { uid: r.metadata.uid } }).catch((err) => {
          if (!(err instanceof ApiError && (err.reason === "NotFound" || err.reason === "Conflict"))) throw err;
        });
      }
    },

    wakeOwners(loops) {
      return deps.revisions.subscribe((ev) => {
        const ref = ev.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === kind);
        const key = ref && loops.keyOf(ref.uid);
        if (key) loops.wake(key);
      });
    },
  };
}
