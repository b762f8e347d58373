/**
 * The API's watch cache, as kube-apiserver's: every object of every resource held in memory,
 * fed by ONE store watch of the whole bucket, so that lists and watches are served without
 * creating a JetStream consumer each.
 *
 *   load      listAll() once (one consumer, read to the end) → state at revision R0
 *   follow    watchBucket(R0) → every change applied in revision order; the hub fans it out
 *   reload    the store watch ended (server lost, stalled): load again; watches end, clients resume
 *
 * Snapshots: each key keeps its versions written within the last `window` changes, so a list
 * can be read as of any revision from `windowStart` on — that is what makes `limit`/`continue`
 * paging stable under concurrent writes (every page is read at the first page's revision). A
 * revision older than the window is Expired (410), as kube-apiserver answers when etcd has
 * compacted the revision a continue token names.
 *
 * Consistent reads (resourceVersion ""): the caller asks the store for its newest revision and
 * waits until the cache has applied it. A purged message at the stream's tail is never
 * delivered, so if the cache has not caught up after a short wait it writes a progress marker
 * (one, shared by all waiters) and waits for that instead — etcd's progress notification.
 *
 * Indexes: namespace is a key prefix (keys are sorted); `spec.nodeName` and owner UID map to
 * the keys whose retained versions carry them (a superset, each candidate is checked at the
 * list's revision).
 */
import type { AnyObject, Resource } from "../../model/types.ts";
import { objectKey } from "../../model/names.ts";
import { ApiError } from "../../model/errors.ts";
import { type BucketEvent, type BucketWatch, type KvStore, UnreadableObjectError, unreadableReason } from "../store/kv_store.ts";
import { storeKey } from "../subjects.ts";
import { WatchHub } from "./watch_hub.ts";

interface Version {
  rev: number;
  obj: AnyObject | null;
}

/** Index name → value → keys. */
type Index = Map<string, Set<string>>;

const INDEXES: Record<string, (o: AnyObject) => string[]> = {
  nodeName: (o) => {
    const n = (o as { spec?: { nodeName?: unknown } }).spec?.nodeName;
    return typeof n === "string" && n ? [n] : [];
  },
  owner: (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid),
};

/** One resource's objects: its keys in order and each key's retained versions (oldest first). */
export class ResourceState {
  /** Every key, sorted, as of the last `sortedKeys()` (it may still hold keys forgotten since). */
  private keys: string[] = [];
  /**
   * Keys added since the last `sortedKeys()`, merged in on the next: inserting each into the
   * sorted array moved half of it per write (23 µs a key at 50,000 keys), and most writes are
   * never followed by a list of their resource.
   */
  private added: string[] = [];
  /** Some key of `keys` was forgotten since the last merge. */
  private stale = false;
  readonly versions = new Map<string, Version[]>();
  readonly indexes = new Map<string, Index>(Object.keys(INDEXES).map((n) => [n, new Map()]));

  /** Every key with retained versions, in code-unit order. */
  sortedKeys(): string[] {
    if (this.added.length === 0 && !this.stale) return this.keys;
    const live = (k: string) => this.versions.has(k);
    const base = this.stale ? this.keys.filter(live) : this.keys;
    const add = this.added.filter(live).sort(byCodeUnit);
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < base.length || j < add.length) {
      // A key forgotten and added again is in both lists, and twice in `added` if added twice.
      const k = j >= add.length || (i < base.length && base[i] <= add[j]) ? base[i++] : add[j++];
      if (out.length === 0 || out[out.length - 1] !== k) out.push(k);
    }
    this.keys = out;
    this.added = [];
    this.stale = false;
    return out;
  }

  apply(key: string, rev: number, obj: AnyObject | null): void {
    let vs = this.versions.get(key);
    if (!vs) {
      vs = [];
      this.versions.set(key, vs);
      this.added.push(key);
    }
    vs.push({ rev, obj });
    if (obj) {
      for (const [name, values] of Object.entries(INDEXES)) {
        const index = this.indexes.get(name)!;
        for (const v of values(obj)) {
          let set = index.get(v);
          if (!set) index.set(v, (set = new Set()));
          set.add(key);
        }
      }
    }
  }

  /** Drops the versions no revision ≥ `windowStart` needs; a key gone before it is forgotten. */
  trim(key: string, windowStart: number): void {
    const vs = this.versions.get(key);
    if (!vs) return;
    // The newest version at or before the window's start is what a read at windowStart sees;
    // everything older is needed by no one. If that version is a deletion, absence says the same.
    let base = -1;
    for (let i = vs.length - 1; i >= 0; i--) {
      if (vs[i].rev <= windowStart) {
        base = i;
        break;
      }
    }
    if (base < 0) return;
    const cut = vs[base].obj === null ? base + 1 : base;
    if (cut === 0) return;
    const dropped = vs.splice(0, cut);
    if (vs.length === 0) {
      this.versions.delete(key);
      this.stale = true;
    }
    // Index entries of dropped versions that no retained version carries any more.
    const still = this.versions.get(key) ?? [];
    for (const [name, values] of Object.entries(INDEXES)) {
      const index = this.indexes.get(name)!;
      const kept = new Set(still.flatMap((v) => (v.obj ? values(v.obj) : [])));
      for (const v of dropped) {
        if (!v.obj) continue;
        for (const value of values(v.obj)) {
          if (kept.has(value)) continue;
          const set = index.get(value);
          set?.delete(key);
          if (set && set.size === 0) index.delete(value);
        }
      }
    }
  }

  /** The key's object as of revision `rev` (null: absent then). */
  at(key: string, rev: number): AnyObject | null {
    const vs = this.versions.get(key);
    if (!vs) return null;
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i].rev <= rev) return vs[i].obj;
    return null;
  }
}

/** What to read: one resource, optionally one namespace, after a key, as of a revision. */
export interface CacheQuery {
  resource: string;
  namespace?: string;
  /** Only objects whose `spec.nodeName` is this (served from the index). */
  nodeName?: string;
  /** Only objects owned by this UID (served from the index). */
  ownerUid?: string;
  /** Keys after this one (a continue token's start). */
  after?: string;
  revision: number;
  match?: (o: AnyObject) => boolean;
  limit?: number;
}

export interface CachePage {
  items: AnyObject[];
  /** Another matching object follows the last item. */
  more: boolean;
}

export interface WatchCacheOptions {
  /** Changes kept for snapshots and resuming watches (default 10,000). */
  window?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** How long a consistent read waits for the cache to catch up before a 504 (default 10 s). */
  syncTimeoutMs?: number;
}

export class WatchCache {
  readonly hub: WatchHub;
  /** The newest revision applied. */
  revision = 0;
  /** The oldest revision a snapshot can be read at. */
  windowStart = 0;
  /** Figures for tests and metrics. */
  readonly stats = { loads: 0, events: 0, progressWrites: 0, consistentWaits: 0 };
  private readonly resources = new Map<string, ResourceState>();
  /** Applied changes in revision order (for trimming), oldest at `head`. */
  private history: { rev: number; resource: string; key: string }[] = [];
  private head = 0;
  private waiters: { rev: number; resolve: () => void }[] = [];
  private readonly window: number;
  private readonly syncTimeoutMs: number;
  private watch: BucketWatch | undefined;
  private closed = false;
  private progress: Promise<number> | undefined;
  private readyPromise: Promise<void>;

  constructor(private readonly store: KvStore, private readonly opts: WatchCacheOptions = {}) {
    this.window = opts.window ?? 10_000;
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 10_000;
    this.hub = new WatchHub(this.window);
    this.readyPromise = this.load();
    // A failed first load is retried by the next `ready()`; nothing is lost meanwhile.
    this.readyPromise.catch(() => {});
  }

  /** Resolves once the cache holds the store's state (loading again after a failure). */
  async ready(): Promise<void> {
    try {
      await this.readyPromise;
    } catch {
      if (this.closed) throw new ApiError("ServiceUnavailable", "the API is closing");
      this.readyPromise = this.load();
      await this.readyPromise;
    }
  }

  /**
   * Waits until the cache holds every write the store had finished when this was called (a
   * consistent read), and returns the revision to read at.
   */
  async sync(): Promise<number> {
    await this.ready();
    const target = await this.store.lastRevision();
    if (this.revision >= target) return this.revision;
    this.stats.consistentWaits++;
    const deadline = Date.now() + this.syncTimeoutMs;
    if (await this.reach(target, 50)) return this.revision;
    // The tail may be a purged message that never arrives: write a marker after it and wait for that.
    const marker = await this.progressMark();
    if (await this.reach(Math.max(target, marker), deadline - Date.now())) return this.revision;
    throw new ApiError("Timeout", `the watch cache did not reach revision ${target} within ${this.syncTimeoutMs} ms (at ${this.revision})`);
  }

  /** Waits (up to `ms`) until the cache has applied `rev`; false on timeout. */
  reach(rev: number, ms: number): Promise<boolean> {
    if (this.revision >= rev) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const w = {
        rev,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(this.revision >= rev);
      }, Math.max(0, ms));
      this.waiters.push(w);
    });
  }

  /**
   * The newest cached version of one object (`key` as objectKey), or null: absent, deleted, or
   * not seen yet. No waiting, so it may lag the store: callers use it only where a stale answer
   * is harmless (a compare-and-swap refuses it, or a miss falls back to the store).
   */
  newest(resource: string, key: string): AnyObject | null {
    const vs = this.resources.get(resource)?.versions.get(key);
    return vs ? vs[vs.length - 1].obj : null;
  }

  /** Reads a page of one resource as of `q.revision` (≥ windowStart; the caller checks). */
  page(q: CacheQuery): CachePage {
    const st = this.resources.get(q.resource);
    const items: AnyObject[] = [];
    if (!st) return { items, more: false };
    const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
    const prefix = q.namespace !== undefined ? `${q.namespace}/` : "";
    // The indexes are supersets (every retained version's values): each candidate is checked
    // as of the revision read.
    const take = (key: string): boolean => {
      const o = st.at(key, q.revision);
      if (!o) return false;
      // A value this server cannot decrypt fails the list, as in kube-apiserver, before any
      // selector could hide it: an answer without it would look complete.
      const unreadable = unreadableReason(o);
      if (unreadable !== undefined) throw new UnreadableObjectError(storeKey(q.resource as Resource, o.metadata.namespace, o.metadata.name), unreadable);
      if (q.match && !q.match(o)) return false;
      if (q.nodeName !== undefined && !INDEXES.nodeName(o).includes(q.nodeName)) return false;
      if (q.ownerUid !== undefined && !INDEXES.owner(o).includes(q.ownerUid)) return false;
      return true;
    };
    let candidates: Iterable<string>;
    const indexed = q.nodeName !== undefined ? st.indexes.get("nodeName")!.get(q.nodeName) : q.ownerUid !== undefined ? st.indexes.get("owner")!.get(q.ownerUid) : undefined;
    if (q.nodeName !== undefined || q.ownerUid !== undefined) {
      const keys = [...(indexed ?? [])].filter((k) => k.startsWith(prefix) && (q.after === undefined || k > q.after)).sort(byCodeUnit);
      candidates = keys;
    } else {
      candidates = this.range(st.sortedKeys(), prefix, q.after);
    }
    for (const key of candidates) {
      if (!take(key)) continue;
      if (items.length >= limit) return { items, more: true };
      items.push(st.at(key, q.revision)!);
    }
    return { items, more: false };
  }

  /** Keys under `prefix` after `after`, in order (a view of the sorted array while reading). */
  private *range(keys: string[], prefix: string, after: string | undefined): Generator<string> {
    let i = after !== undefined && after >= prefix ? upperBound(keys, after) : lowerBound(keys, prefix);
    // This generator runs to completion synchronously inside `page`: no event is applied meanwhile.
    for (; i < keys.length; i++) {
      const k = keys[i];
      if (!k.startsWith(prefix)) return;
      yield k;
    }
  }

  /** Number of live objects per resource (for figures). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [r, st] of this.resources) {
      let n = 0;
      for (const vs of st.versions.values()) if (vs[vs.length - 1].obj) n++;
      out[r] = n;
    }
    return out;
  }

  close(): void {
    this.closed = true;
    this.watch?.stop();
    this.hub.close();
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  // -------------------------------------------------------------------------------------------

  private async load(): Promise<void> {
    if (this.closed) throw new ApiError("ServiceUnavailable", "the API is closing");
    this.stats.loads++;
    const { entries, revision } = await this.store.listAll();
    const watch = await this.store.watchBucket(revision);
    if (this.closed) {
      watch.stop();
      throw new ApiError("ServiceUnavailable", "the API is closing");
    }
    this.resources.clear();
    this.history = [];
    this.head = 0;
    for (const e of entries) this.state(e.resource).apply(objectKey(e.object), e.revision, freeze(e.object));
    this.revision = revision;
    this.windowStart = revision;
    this.hub.reset(revision);
    this.watch = watch;
    this.notify();
    void this.follow(watch);
  }

  private async follow(watch: BucketWatch): Promise<void> {
    let failure: unknown;
    try {
      for await (const ev of watch) this.apply(ev);
    } catch (e) {
      failure = e;
    }
    if (this.closed || this.watch !== watch) return;
    this.opts.log?.("watch cache: store watch ended, loading again", { revision: this.revision, error: failure === undefined ? undefined : String(failure) });
    // Watches end (their clients resume from their last revision); lists wait for the reload.
    this.readyPromise = this.reload();
    this.readyPromise.catch(() => {});
  }

  private async reload(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.load();
      } catch (e) {
        if (this.closed) throw e;
        await new Promise((r) => setTimeout(r, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
  }

  private apply(ev: BucketEvent): void {
    if (ev.revision <= this.revision) return;
    if (ev.resource && ev.object && ev.type) {
      const object = freeze(ev.object);
      const key = objectKey(object);
      const st = this.state(ev.resource);
      const type = ev.type === "MODIFIED" && !st.at(key, this.revision) ? "ADDED" : ev.type;
      const before = st.at(key, this.revision);
      st.apply(key, ev.revision, type === "DELETED" ? null : object);
      this.history.push({ rev: ev.revision, resource: ev.resource, key });
      this.stats.events++;
      this.revision = ev.revision;
      const unreadable = unreadableReason(ev.object);
      if (unreadable === undefined) {
        this.hub.deliver(ev.resource, { type, object, revision: ev.revision, createdRevision: ev.createdRevision });
      } else {
        // A stand-in is no object to hand a watcher: a change is not shown (watchers keep the
        // version they have), a deletion is, with the last readable version.
        this.opts.log?.("watch cache: a stored value cannot be decrypted; lists of its resource fail until it is readable", { resource: ev.resource, key, error: unreadable });
        if (type === "DELETED" && before && unreadableReason(before) === undefined) {
          this.hub.deliver(ev.resource, { type, object: withRv(before, ev.revision), revision: ev.revision, createdRevision: ev.createdRevision });
        }
      }
      this.trim();
    } else {
      this.revision = ev.revision;
    }
    this.notify();
  }

  /** Keeps `window` changes: older versions go, and the window starts at the newest dropped change. */
  private trim(): void {
    while (this.history.length - this.head > this.window) {
      const h = this.history[this.head++];
      this.windowStart = h.rev;
      this.resources.get(h.resource)?.trim(h.key, this.windowStart);
    }
    if (this.head > 4096 && this.head * 2 > this.history.length) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const rest: typeof this.waiters = [];
    for (const w of this.waiters) (w.rev <= this.revision ? w.resolve() : rest.push(w));
    this.waiters = rest;
  }

  private progressMark(): Promise<number> {
    if (!this.progress) {
      this.stats.progressWrites++;
      this.progress = this.store.markProgress().finally(() => (this.progress = undefined));
    }
    return this.progress;
  }

  private state(resource: string): ResourceState {
    let st = this.resources.get(resource);
    if (!st) this.resources.set(resource, (st = new ResourceState()));
    return st;
  }
}

/** Cached objects are shared by every reader: frozen, so that no reader can change another's. */
function withRv(o: AnyObject, rev: number): AnyObject {
  return freeze({ ...o, metadata: { ...o.metadata, resourceVersion: String(rev) } });
}

function freeze<T>(o: T): T {
  if (o && typeof o === "object" && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) freeze(v);
  }
  return o;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function upperBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
