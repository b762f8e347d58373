/**
 * The ConfigMaps and Secrets a node's pods read (env, volumes, image pull secrets, the token
 * volume's `kube-root-ca.crt`), kept current by watches instead of read per pod: the kubelet's
 * Watch change-detection strategy (pkg/kubelet/util/manager/watch_based_manager.go).
 *
 * The first lookup of an object starts a list+watch of that one object (field selector
 * `metadata.name`, in its namespace) and waits for the list, a consistent read, so an object
 * created before the pod is seen; later lookups answer from the watch's copy without a round
 * trip (a GET per pod start was 5,000 store reads in a 5,000-pod run). A watch not asked
 * through for `idleMs` is stopped. While a watch cannot be trusted — its first list failed, or
 * it broke and has not relisted since — the object is read from the API directly, as before; a
 * watch that could not be started (the API caps a node's watches, 64 by default) is tried again
 * only after `WATCH_RETRY_MS`.
 *
 * Returned objects are shared with the watch's cache: callers read them, never change them.
 */
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Log } from "../../model/log.ts";
import type { ConfigMap, Secret } from "../../model/types.ts";
import { formatFieldSelector } from "../../model/selector.ts";
import { Informer } from "../../actors/informer_cache.ts";
import type { ConfigLookup } from "./env.ts";

export interface WatchedLookupOptions {
  /** A watch nobody asked through for this long is stopped (default 5 minutes). */
  idleMs?: number;
  /** How often idle watches are looked for (default 1 minute). */
  sweepMs?: number;
  log?: Log;
  now?: () => number;
}

export interface WatchedLookup {
  lookup: ConfigLookup;
  /** Objects with a watch open (tests, inspection). */
  readonly watched: number;
  stop(): Promise<void>;
}

/** A ConfigMap/Secret read straight from the API: null when it does not exist. */
export function apiLookup(client: ApiClient): ConfigLookup {
  return async (resource, namespace, name) => {
    try {
      return (await client.get(resource, name, namespace)) as ConfigMap | Secret;
    } catch (e) {
      if (e instanceof ApiError && e.reason === "NotFound") return null;
      throw e;
    }
  };
}

interface Entry {
  informer: Informer<"configmaps" | "secrets">;
  /** Settles true once the first list is in, false when it failed. */
  ready: Promise<boolean>;
  lastUsed: number;
}

/** After a watch could not be started (refused: a node's watches are capped), reads go direct this long before it is tried again. */
export const WATCH_RETRY_MS = 30_000;

export function watchedLookup(client: ApiClient, opts: WatchedLookupOptions = {}): WatchedLookup {
  const idleMs = opts.idleMs ?? 300_000;
  const now = opts.now ?? Date.now;
  const log: Log = opts.log ?? (() => {});
  const direct = apiLookup(client);
  const entries = new Map<string, Entry>();
  /** Objects whose watch failed to start, and when to try one again. */
  const unwatched = new Map<string, number>();
  let stopped = false;

  const drop = (key: string, e: Entry) => {
    if (entries.get(key) === e) entries.delete(key);
    void e.informer.stop();
  };

  const sweep = setInterval(() => {
    const t = now();
    for (const [key, e] of entries) if (t - e.lastUsed > idleMs) drop(key, e);
    for (const [key, at] of unwatched) if (at <= t) unwatched.delete(key);
  }, opts.sweepMs ?? 60_000);
  sweep.unref?.();

  const lookup: ConfigLookup = async (resource, namespace, name) => {
    if (stopped) return await direct(resource, namespace, name);
    const key = `${resource}/${namespace}/${name}`;
    let e = entries.get(key);
    if (!e && (unwatched.get(key) ?? 0) > now()) return await direct(resource, namespace, name);
    if (!e) {
      const informer = new Informer(client, resource, {
        namespace,
        fieldSelector: formatFieldSelector({ requirements: [{ field: "metadata.name", operator: "=", value: name }] }),
        log: (m, f) => log(m, { object: key, ...f }),
      });
      const entry: Entry = { informer, lastUsed: now(), ready: informer.start().then(() => {
        unwatched.delete(key);
        return true;
      }, (err) => {
        log("config object watch not started; reading it directly for a while", { object: key, error: String(err), retryInMs: WATCH_RETRY_MS });
        drop(key, entry);
        unwatched.set(key, now() + WATCH_RETRY_MS);
        return false;
      }) };
      entries.set(key, e = entry);
    }
    e.lastUsed = now();
    if (!(await e.ready) || e.informer.staleFor() > 0) return await direct(resource, namespace, name);
    return (e.informer.get(`${namespace}/${name}`) as ConfigMap | Secret | undefined) ?? null;
  };

  return {
    lookup,
    get watched() {
      return entries.size;
    },
    async stop() {
      stopped = true;
      clearInterval(sweep);
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((e) => e.informer.stop()));
    },
  };
}
