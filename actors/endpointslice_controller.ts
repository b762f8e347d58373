/**
 * The EndpointSlice controllers, as kube-controller-manager's endpointslice and
 * endpointslicemirroring controllers: every Service (but an ExternalName alias) has
 * discovery.k8s.io/v1 EndpointSlices — from its pods when it has a selector, mirrored from its
 * Endpoints when it has none (the `kubernetes` Service among them). The decisions are
 * endpointslice_decide.ts's; Berth's own proxies and DNS read Endpoints, the slices are for
 * everything else that reads the API (ingress controllers, service meshes, Prometheus, CoreDNS).
 *
 *   services informer (a Service changed) ──────────────────────────▶ that Service dirty
 *   pods informer (a pod its selector matches, before or after) ─────▶ its Services dirty ─┐
 *   endpoints informer (an Endpoints changed) ───────────────────────▶ its Service dirty   ├─▶ WAKE
 *   endpointslices informer (a slice of a Service changed or went) ──▶ its Service dirty   │
 *   nodes informer (a node's zone label changed) ────────────────────▶ every Service dirty ┘
 *   one pass: every dirty Service ─▶ desired groups ─▶ reconcileSlices (pure) ─▶ create, update,
 *             delete (compare-and-swap at the version read)
 *
 * Own writes are remembered until the informer shows them (kube's endpointSliceTracker): a pass
 * that runs before the informer has caught up works from what was written, never making a
 * second slice for the same endpoints. A Service that fails is dirty again and the pass fails at
 * its end (the loop backs off). Subjects: none directly.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import { objectKey } from "../model/names.ts";
import type { Observe } from "../model/observe.ts";
import { mapMatches } from "../model/selector.ts";
import type { EndpointSlice } from "../model/types.ts";
import {
  endpointsFromEndpoints,
  endpointsFromPods,
  MANAGED_BY_LABEL,
  MIRRORING_CONTROLLER,
  reconcileSlices,
  SKIP_MIRROR_LABEL,
  SLICE_CONTROLLER,
  sliceLabels,
  sliceManagerOf,
  ZONE_LABEL,
} from "./endpointslice_decide.ts";
import type { Informer } from "./informer_cache.ts";
import { sliceServiceKey } from "./slice_view.ts";
import { errorText, type WorkLoop, startWorkLoop } from "./work_loop.ts";

export interface EndpointSliceControllerDeps {
  client: ApiClient;
  services: Informer<"services">;
  pods: Informer<"pods">;
  endpoints: Informer<"endpoints">;
  endpointSlices: Informer<"endpointslices">;
  nodes: Informer<"nodes">;
  log?: Log;
  observe?: Observe;
  maxEndpointsPerSlice?: number;
}

export interface EndpointSliceController {
  loop: WorkLoop;
  stop(): void;
}

const version = (s: EndpointSlice) => Number(s.metadata.resourceVersion ?? 0);
const isManaged = (s: EndpointSlice) => s.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER || s.metadata.labels?.[MANAGED_BY_LABEL] === MIRRORING_CONTROLLER;

export function startEndpointSliceController(deps: EndpointSliceControllerDeps): EndpointSliceController {
  const log = deps.log ?? (() => {});
  const dirty = new Set<string>();
  /** Slices this controller wrote, by Service key then slice name: the copy written, or null when deleted. */
  const written = new Map<string, Map<string, EndpointSlice | null>>();
  /** Slice keys (`ns/name`) by Service key, from the informer. */
  const slicesByService = new Map<string, Set<string>>();


  /** The managed slices of a Service: the informer's, overlaid with this controller's newer writes. */
  function currentSlices(key: string): EndpointSlice[] {
    const out = new Map<string, EndpointSlice>();
    for (const k of slicesByService.get(key) ?? []) {
      const s = deps.endpointSlices.get(k);
      if (s && isManaged(s)) out.set(s.metadata.name, s);
    }
    const mine = written.get(key);
    if (mine) {
      for (const [name, w] of mine) {
        const seen = out.get(name);
        if (w === null) {
          // Deleted by this controller: gone, whatever the informer still shows.
          if (seen) out.delete(name);
          else mine.delete(name);
        } else if (!seen || version(seen) < version(w)) out.set(name, w);
        else mine.delete(name); // the informer has caught up
      }
      if (mine.size === 0) written.delete(key);
    }
    return [...out.values()];
  }

  const remember = (key: string, name: string, s: EndpointSlice | null) => {
    let m = written.get(key);
    if (!m) written.set(key, (m = new Map()));
    m.set(name, s);
  };

  const zoneOf = (node: string) => deps.nodes.get(`/${node}`)?.metadata.labels?.[ZONE_LABEL];

  async function syncService(key: string): Promise<void> {
    const [ns, name] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
    const svc = deps.services.get(key);
    const existing = currentSlices(key);
    const manager = svc ? sliceManagerOf(svc) : undefined;
    // Slices of the other controller (the Service gained or lost its selector), or of a Service
    // that is gone or an alias, are deleted; the garbage collector would too, later, for a gone one.
    const stale = existing.filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] !== manager);
    const mine = existing.filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === manager);
    let writes = { create: [] as EndpointSlice[], update: [] as EndpointSlice[], delete: [] as EndpointSlice[] };
    if (svc && manager === SLICE_CONTROLLER) {
      const groups = endpointsFromPods(svc, deps.pods.list().filter((p) => (p.metadata.namespace ?? "default") === ns), zoneOf);
      writes = reconcileSlices(svc, groups, mine, { manager, labels: sliceLabels(svc, manager), placeholder: true, maxPerSlice: deps.maxEndpointsPerSlice });
    } else if (svc && manager === MIRRORING_CONTROLLER) {
      const ep = deps.endpoints.get(key);
      const mirror = ep && ep.metadata.labels?.[SKIP_MIRROR_LABEL] !== "true";
      writes = reconcileSlices(svc, mirror ? endpointsFromEndpoints(ep) : [], mine, {
        manager,
        labels: sliceLabels(svc, manager, ep?.metadata.labels),
        placeholder: false,
        maxPerSlice: deps.maxEndpointsPerSlice,
      });
    } else {
      writes.delete.push(...mine);
    }
    writes.delete.push(...stale);
    for (const s of writes.delete) {
      try {
        await deps.client.delete("endpointslices", s.metadata.name, ns, s.metadata.uid ? { preconditions: { uid: s.metadata.uid } } : undefined);
      } catch (e) {
        if (!(e instanceof ApiError && (e.reason === "NotFound" || e.reason === "Conflict"))) throw e;
      }
      remember(key, s.metadata.name, null);
    }
    for (const s of writes.update) {
      try {
        remember(key, s.metadata.name, await deps.client.update("endpointslices", s));
      } catch (e) {
        // Someone else wrote it meanwhile: the informer brings their version and wakes this one.
        written.get(key)?.delete(s.metadata.name);
        throw e;
      }
    }
    for (const s of writes.create) {
      const { name: _none, ...metadata } = s.metadata;
      const made = await deps.client.create("endpointslices", { ...s, metadata }, ns);
      remember(key, made.metadata.name, made);
    }
    const n = writes.create.length + writes.update.length + writes.delete.length;
    if (n > 0) log("endpoint slices written", { service: `${ns}/${name}`, created: writes.create.length, updated: writes.update.length, deleted: writes.delete.length });
  }

  const loop = startWorkLoop("endpointslice", async () => {
    const keys = [...dirty];
    dirty.clear();
    let failed: unknown;
    for (const key of keys) {
      try {
        await syncService(key);
      } catch (err) {
        dirty.add(key);
        if (err instanceof ApiError && (err.reason === "Conflict" || err.reason === "NotFound" || err.reason === "AlreadyExists")) {
          // A race with another writer: looked at again after the loop's short back-off.
          failed ??= err;
          continue;
        }
        log("endpoint slice sync failed", { service: key, error: errorText(err) });
        failed ??= err;
      }
    }
    if (failed) throw failed;
    return {};
  }, log, deps.observe);

  const mark = (key: string | undefined) => {
    if (!key) return;
    dirty.add(key);
    loop.wake();
  };
  const indexSlice = (s: EndpointSlice, deleted: boolean) => {
    const key = sliceServiceKey(s);
    if (!key) return;
    let set = slicesByService.get(key);
    if (!set) slicesByService.set(key, (set = new Set()));
    if (deleted) set.delete(objectKey(s));
    else set.add(objectKey(s));
    if (set.size === 0) slicesByService.delete(key);
  };
  for (const s of deps.endpointSlices.list()) indexSlice(s, false);

  const unsubscribe = [
    deps.services.subscribe((ev) => mark(objectKey(ev.object))),
    deps.endpoints.subscribe((ev) => mark(objectKey(ev.object))),
    deps.endpointSlices.subscribe((ev) => {
      if (ev.old) indexSlice(ev.old, true);
      indexSlice(ev.object, ev.type === "DELETED");
      // A slice of a Service changed by someone else (or deleted) is put right; the echo of this
      // controller's own write costs a pass that finds nothing to do.
      if (isManaged(ev.object)) mark(sliceServiceKey(ev.object));
    }),
    deps.pods.subscribe((ev) => {
      const ns = ev.object.metadata.namespace ?? "default";
      let any = false;
      for (const svc of deps.services.list()) {
        if ((svc.metadata.namespace ?? "default") !== ns || sliceManagerOf(svc) !== SLICE_CONTROLLER) continue;
        if (mapMatches(svc.spec.selector, ev.object.metadata.labels) || (ev.old && mapMatches(svc.spec.selector, ev.old.metadata.labels))) {
          dirty.add(objectKey(svc));
          any = true;
        }
      }
      if (any) loop.wake();
    }),
    deps.nodes.subscribe((ev) => {
      if (ev.type === "MODIFIED" && ev.old?.metadata.labels?.[ZONE_LABEL] === ev.object.metadata.labels?.[ZONE_LABEL]) return;
      for (const svc of deps.services.list()) dirty.add(objectKey(svc));
      loop.wake();
    }),
  ];
  for (const svc of deps.services.list()) dirty.add(objectKey(svc));
  // Slices of Services that no longer exist (deleted while no controller ran).
  for (const key of slicesByService.keys()) dirty.add(key);
  loop.wake();

  return {
    loop,
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
