/**
 * The live page's feed: the cluster's drawn kinds, listed once, then watched, slimmed
 * (view.ts) and coalesced, for one page.
 *
 *   list every kind ──▶ snapshot ──▶ watch each kind from its list's revision
 *        changes land in `pending`, keyed by kind and object: a pod that changes five times
 *        between two flushes is sent once, as it is now
 *   every `flushMs` ──▶ one `changes` message with everything pending (skipped while the
 *        socket is backed up: the backlog keeps coalescing instead of queueing)
 *   a watch that ends or fails (410 Gone: compacted away) ──▶ relist that kind, send `relist`,
 *        watch again from the new revision
 *
 * Why server-side: the page needs thirteen kinds (VIEW_KINDS); that many REST watches would hold
 * all six of a browser's HTTP/1.1 connections to the API (no room left for actions or a log
 * tail), and each would carry whole objects. One stream of slim, coalesced batches is what keeps a 5,000-pod
 * cluster smooth.
 */
import type { ApiClient, Watch } from "../../model/client.ts";
import type { AnyObject } from "../../model/types.ts";
import { toView, viewKey, VIEW_KINDS, type EventView, type FeedMessage, type ViewChange, type ViewKind, type ViewTypes } from "./view.ts";

export interface FeedOptions {
  api: ApiClient;
  /** Sends one message; called only when `canSend()` is true (except the snapshot). */
  send(msg: FeedMessage): void;
  /** False while the transport is backed up. */
  canSend(): boolean;
  /** Ends the feed. */
  signal: AbortSignal;
  /** Coalescing window in ms (default 100). */
  flushMs?: number;
  /** How many of the newest events the snapshot carries (default 100). */
  events?: number;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/** Runs a feed until the signal aborts. Resolves when it has stopped. */
export async function runFeed(opts: FeedOptions): Promise<void> {
  const { api, signal } = opts;
  const pending = new Map<string, ViewChange>();
  const watches = new Set<Watch>();
  const stopAll = () => {
    for (const w of watches) w.stop();
  };
  signal.addEventListener("abort", stopAll, { once: true });

  const listKind = async <K extends ViewKind>(kind: K): Promise<{ items: ViewTypes[K][]; rv: string }> => {
    const list = await api.list(kind);
    let items = list.items.map((o) => toView(kind, o) as ViewTypes[K]);
    if (kind === "events") items = newestEvents(items as EventView[], opts.events ?? 100) as ViewTypes[K][];
    return { items, rv: list.metadata.resourceVersion };
  };

  // Events are the one kind that grows with history (five or so per pod started): the picture
  // is sent without them, and they follow as a relist once listed, so a big cluster's pods are
  // drawn without waiting for its event history.
  const revisions = {} as Record<ViewKind, string>;
  const snapshot = { events: [] } as unknown as { [K in ViewKind]: ViewTypes[K][] };
  const eventsListed = listKind("events");
  eventsListed.catch(() => {}); // awaited below; a rejection before then is not unhandled
  await Promise.all(
    VIEW_KINDS.filter((k) => k !== "events").map(async (kind) => {
      const { items, rv } = await listKind(kind);
      (snapshot as Record<ViewKind, unknown[]>)[kind] = items;
      revisions[kind] = rv;
    }),
  );
  if (signal.aborted) return;
  opts.send({ type: "snapshot", items: snapshot });

  const watchKind = async (kind: ViewKind) => {
    let listed = true;
    if (kind === "events") {
      try {
        const { items, rv } = await eventsListed;
        revisions.events = rv;
        if (!signal.aborted) opts.send({ type: "relist", kind, items });
      } catch (e) {
        opts.log?.("ui feed: list failed; retrying", { kind, error: String(e) });
        listed = false;
      }
    }
    let rv = revisions[kind];
    while (!signal.aborted) {
      let w: Watch | undefined;
      try {
        if (!listed) throw new Error("not listed yet");
        w = await api.watch(kind, { resourceVersion: rv });
        watches.add(w);
        if (signal.aborted) w.stop();
        for await (const ev of w) {
          const obj = ev.object as AnyObject;
          if (ev.type === "BOOKMARK" || ev.type === "ERROR" || !obj?.metadata) continue;
          rv = obj.metadata.resourceVersion ?? rv;
          const key = viewKey(obj.metadata.namespace, obj.metadata.name);
          pending.set(`${kind}\0${key}`, ev.type === "DELETED" ? { kind, op: "del", key } : { kind, op: "put", key, obj: toView(kind, obj) });
        }
      } catch (e) {
        if (signal.aborted) break;
        opts.log?.("ui feed: watch failed; relisting", { kind, error: String(e) });
      } finally {
        if (w) {
          w.stop();
          watches.delete(w);
        }
      }
      if (signal.aborted) break;
      // The watch ended (compacted revision, server-side timeout, store restart): start over
      // from a fresh list, and drop what is pending for this kind — the list supersedes it.
      try {
        const { items, rv: fresh } = await listKind(kind);
        rv = fresh;
        listed = true;
        for (const k of [...pending.keys()]) if (k.startsWith(`${kind}\0`)) pending.delete(k);
        if (!signal.aborted) opts.send({ type: "relist", kind, items });
      } catch (e) {
        opts.log?.("ui feed: relist failed; retrying", { kind, error: String(e) });
        await abortableDelay(1000, signal);
      }
    }
  };

  const flushMs = opts.flushMs ?? 100;
  const timer = setInterval(() => {
    if (pending.size === 0 || !opts.canSend()) return;
    const changes = [...pending.values()];
    pending.clear();
    opts.send({ type: "changes", changes });
  }, flushMs);
  try {
    await Promise.all(VIEW_KINDS.map(watchKind));
  } finally {
    clearInterval(timer);
    stopAll();
  }
}

/** The newest `n` events, oldest first. */
export function newestEvents(events: EventView[], n: number): EventView[] {
  return [...events].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)).slice(-n);
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
