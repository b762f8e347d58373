/**
 * An informer: a local cache of one resource kept current by list-then-watch, shared by every
 * control loop that needs that resource (one pod informer for the whole control plane).
 *
 *   start ──list──▶ synced ──watch from list RV──▶ events applied to the cache, handlers called
 *                     ▲                                 │ GoneError / watch ended / error
 *                     └──────── relist (diffed against the cache, so handlers see the changes) ◀┘
 *
 * Handlers receive the cache's view after the change, plus the previous object, and must not
 * throw (a throwing handler is logged and the informer carries on: one bad subscriber must not
 * starve the others). Objects are keyed `namespace/name` (`/name` for cluster-scoped ones).
 */
import type { ApiClient, Watch } from "../model/client.ts";
import { GoneError } from "../model/errors.ts";
import type { Resource, ResourceTypes } from "../model/types.ts";
import { objectKey } from "../model/names.ts";

export { objectKey };

export type InformerEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface InformerEvent<T> {
  type: InformerEventType;
  object: T;
  /** The cached object before this change (MODIFIED and DELETED). */
  old?: T;
}

export type InformerHandler<T> = (ev: InformerEvent<T>) => void;

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Structured log sink. */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Delay before relisting after a failed list or watch. */
  retryDelayMs?: number;
}

/** A list+watch cache of one resource. */
export class Informer<R extends Resource> {
  readonly resource: R;
  #client: ApiClient;
  #opts: InformerOptions;
  #cache = new Map<string, ResourceTypes[R]>();
  #handlers = new Set<InformerHandler<ResourceTypes[R]>>();
  #watch: Watch<ResourceTypes[R]> | null = null;
  #stopped = false;
  #synced = false;
  #loop: Promise<void> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #wakeRetry: (() => void) | null = null;
  /** When the watch broke and no relist has worked since (ms since the epoch), else null. */
  #brokenSince: number | null = null;

  constructor(client: ApiClient, resource: R, opts: InformerOptions = {}) {
    this.#client = client;
    this.resource = resource;
    this.#opts = opts;
  }

  /** True once the first list has been loaded. */
  get synced(): boolean {
    return this.#synced;
  }

  /**
   * How long the cache has been out of touch with the API (its watch broke and every relist
   * since failed), in ms at `now`; 0 while it is current. Health checks read this.
   */
  staleFor(now = Date.now()): number {
    return this.#brokenSince === null ? 0 : now - this.#brokenSince;
  }

  /** Every cached object. */
  list(): ResourceTypes[R][] {
    return [...this.#cache.values()];
  }

  /** The cached object with this `namespace/name` key. */
  get(key: string): ResourceTypes[R] | undefined {
    return this.#cache.get(key);
  }

  get size(): number {
    return this.#cache.size;
  }

  /** Calls `handler` on every change from now on. Returns the unsubscribe function. */
  subscribe(handler: InformerHandler<ResourceTypes[R]>): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Lists, then keeps watching in the background. Resolves after the first list. */
  async start(): Promise<void> {
    if (this.#loop) return;
    const rv = await this.#relist();
    this.#synced = true;
    this.#loop = this.#run(rv);
  }

  /** Stops watching. The cache stays readable. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch?.stop();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#wakeRetry?.();
    await this.#loop;
  }

  #log(msg: string, fields?: Record<string, unknown>): void {
    this.#opts.log?.(msg, { informer: this.resource, ...fields });
  }

  #emit(ev: InformerEvent<ResourceTypes[R]>): void {
    for (const h of this.#handlers) {
      try {
        h(ev);
      } catch (err) {
        this.#log("informer handler threw", { error: String(err) });
      }
    }
  }

  /** Lists and replaces the cache, emitting the differences. Returns the list's revision. */
  async #relist(): Promise<string> {
    const list = await this.#client.list(this.resource, {
      namespace: this.#opts.namespace,
      labelSelector: this.#opts.labelSelector,
      fieldSelector: this.#opts.fieldSelector,
    });
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = objectKey(obj);
      seen.add(key);
      const old = this.#cache.get(key);
      this.#cache.set(key, obj);
      if (!old) this.#emit({ type: "ADDED", object: obj });
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#emit({ type: "MODIFIED", object: obj, old });
    }
    for (const [key, old] of [...this.#cache]) {
      if (seen.has(key)) continue;
      this.#cache.delete(key);
      this.#emit({ type: "DELETED", object: old, old });
    }
    return list.metadata.resourceVersion;
  }

  async #run(startRv: string): Promise<void> {
    let rv = startRv;
    while (!this.#stopped) {
      try {
        this.#watch = await this.#client.watch(this.resource, {
          namespace: this.#opts.namespace,
          labelSelector: this.#opts.labelSelector,
          fieldSelector: this.#opts.fieldSelector,
          resourceVersion: rv,
        });
        if (this.#stopped) { this.#watch.stop(); break; }
        for await (const ev of this.#watch) {
          if (ev.type === "BOOKMARK") {
            if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
            continue;
          }
          if (ev.type === "ERROR") throw new GoneError("watch reported an error event");
          const obj = ev.object;
          const key = objectKey(obj);
          const old = this.#cache.get(key);
          if (obj.metadata.resourceVersion) rv = obj.metadata.resourceVersion;
          if (ev.type === "DELETED") {
            this.#cache.delete(key);
            this.#emit({ type: "DELETED", object: obj, old });
          } else {
            this.#cache.set(key, obj);
            this.#emit({ type: old ? "MODIFIED" : "ADDED", object: obj, old });
          }
        }
        if (this.#stopped) break;
        // The watch ended without being asked to: the server went away or dropped it. Relist.
        this.#log("watch ended; relisting");
      } catch (err) {
        if (this.#stopped) break;
        this.#log(err instanceof GoneError ? "watch revision gone; relisting" : "watch failed; relisting", { error: String(err) });
      }
      this.#brokenSince ??= Date.now();
      // Relist until it works (errors here are transient: API restarting, NATS reconnecting).
      while (!this.#stopped) {
        await this.#sleep(this.#opts.retryDelayMs ?? 200);
        if (this.#stopped) break;
        try {
          rv = await this.#relist();
          this.#brokenSince = null;
          break;
        } catch (err) {
          this.#log("relist failed; retrying", { error: String(err) });
        }
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wakeRetry = resolve;
      this.#retryTimer = setTimeout(resolve, ms);
    });
  }
}
