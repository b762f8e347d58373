/**
 * `ApiClient` over NATS request/reply: what node agents, the CLI and any remote part of Berth
 * use. Behaves exactly like the in-process `Api` (errors arrive as the same `ApiError`s).
 */
import { createInbox, headers, nuid, type NatsConnection, type Msg } from "@nats-io/nats-core";
import type { ApiClient, DeleteOptions, ListOptions, PatchOptions, Watch, WatchOptions, WriteOptions } from "../../model/client.ts";
import { ApiError, fromStatus, isStatus } from "../../model/errors.ts";
import type { AnyObject, ObjectList, Pod, Resource, ResourceTypes, Scale, ScalableResource, TokenRequest, WatchEvent } from "../../model/types.ts";
import { ClientThrottle, type ThrottleConfig } from "./client_throttle.ts";
import { DEFAULT_INBOX_PREFIX, isToken, REQUEST_TIMEOUT_HEADER, subjects, type Verb, WATCH_SEQ_HEADER } from "../subjects.ts";

/** How long after a keep-alive answer events it counted may still arrive before they count as lost. */
export const WATCH_GAP_GRACE_MS = 1_000;

export interface NatsApiClientOptions {
  /** Request timeout. */
  timeoutMs?: number;
  /** How often an open watch is renewed. */
  keepaliveMs?: number;
  /**
   * Act as node `node`: requests go to `berth.node.<node>.api.v1.…` (what a node's NATS
   * identity may publish to) and are authorized as that node; watches arrive on
   * `berth.node.<node>.watch.<id>`. Node agents are constructed with it.
   */
  node?: string;
  /**
   * Reply inbox prefix. Default for a node: `_INBOX_berth-node-<node>`, the only inbox its
   * identity may read. When the connection was opened with the same `inboxPrefix` the shared
   * reply subscription is used; otherwise each request gets its own reply subscription.
   */
  inboxPrefix?: string;
  /**
   * The NATS identity (user name) this client's watches belong to: they are opened on
   * `berth.client.<identity>.api.v1.<resource>.watch` and stream to
   * `berth.client.<identity>.watch.<id>`, which only that identity may read, renew or stop.
   * Default: the connection's user. Without one (a server without identities) watches use the
   * unscoped `berth.api.v1.<resource>.watch` and `berth.watch.<id>`. Ignored with `node`.
   */
  identity?: string;
  /**
   * How many times a request refused by the server's rate limit (429 with
   * `details.retryAfterSeconds`) is sent again after waiting that long, as client-go does with
   * `Retry-After`. A 429 means the request was not run, so any verb may be retried. Default 3;
   * 0 reports the first 429. Each further retry waits twice as long, with random jitter, so
   * many clients refused at once do not come back at once.
   */
  rateLimitRetries?: number;
  /**
   * This client's own request rate (runtime/api/client_throttle.ts), as client-go's QPS/burst:
   * requests beyond it wait here instead of queuing in the server, and a 429 pauses every
   * throttled request of this client for its Retry-After. Heartbeats (Node, Lease) and watch
   * keep-alives are never throttled, as the kubelet's heartbeat client is not. Default: none;
   * node agents use the kubelet's 50/s, burst 100.
   */
  throttle?: ThrottleConfig;
}

/** Requests the throttle never holds: a node's heartbeat and the renewal of its watches. */
const UNTHROTTLED = new Set<string>(["nodes", "leases", "watches"]);

/** The longest wait for one rate-limit retry, whatever the server says. */
const MAX_RETRY_AFTER_MS = 10_000;

const LIST_PAGE = 500;

/**
 * The wait before retry `attempt` (0-based) of a request refused with Retry-After `seconds`:
 * at least what the server asked, doubled per attempt, plus up to half again at random;
 * never above MAX_RETRY_AFTER_MS.
 */
export function retryDelayMs(seconds: number, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RETRY_AFTER_MS, seconds * 1000 * 2 ** attempt);
  return Math.min(MAX_RETRY_AFTER_MS, base * (1 + random() / 2));
}

/** `dryRun` as the request carries it: only when true. */
const dry = (opts: { dryRun?: boolean }) => (opts.dryRun ? { dryRun: true } : {});

export class NatsApiClient implements ApiClient {
  private readonly timeoutMs: number;
  private readonly keepaliveMs: number;
  private readonly node?: string;
  private readonly inboxPrefix?: string;
  private readonly identity?: string;
  private readonly rateLimitRetries: number;
  /** This client's request rate (see NatsApiClientOptions.throttle). */
  readonly throttle: ClientThrottle;
  /** True when requests need their own reply subject (the connection's inbox is not ours). */
  private readonly ownInbox: boolean;
  constructor(readonly nc: NatsConnection, opts: NatsApiClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.keepaliveMs = opts.keepaliveMs ?? 10_000;
    this.node = opts.node;
    const user = (nc as { options?: { user?: string } }).options?.user;
    this.identity = opts.node ? undefined : opts.identity ?? (user !== undefined && isToken(user) ? user : undefined);
    this.rateLimitRetries = opts.rateLimitRetries ?? 3;
    this.throttle = new ClientThrottle(opts.throttle ?? { qps: 0, burst: 0 });
    this.inboxPrefix = opts.inboxPrefix ?? (opts.node ? subjects.nodeInboxPrefix(opts.node) : undefined);
    const connPrefix = (nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix ?? DEFAULT_INBOX_PREFIX;
    this.ownInbox = this.inboxPrefix !== undefined && this.inboxPrefix !== connPrefix;
  }

  private subject(resource: Resource | "scale" | "watches", verb: Verb | "stop" | "keepalive"): string {
    return this.node ? subjects.nodeApi(this.node, resource, verb) : subjects.api(resource, verb);
  }

  private async call<T>(subject: string, body: unknown, resource?: string): Promise<T> {
    const throttled = this.throttle.enabled && !(resource !== undefined && UNTHROTTLED.has(resource));
    for (let attempt = 0; ; attempt++) {
      if (throttled) await this.throttle.wait();
      try {
        return await this.callOnce<T>(subject, body);
      } catch (e) {
        const wait = (e as ApiError).details?.retryAfterSeconds;
        if (!(e instanceof ApiError && e.code === 429 && wait !== undefined)) throw e;
        const ms = retryDelayMs(wait, attempt);
        // The whole client pauses, not only this request: what it would send next would be
        // refused as well (and a refused request is work for the server too).
        if (throttled) this.throttle.backOff(ms);
        if (attempt >= this.rateLimitRetries) throw e;
        if (!throttled) await new Promise((r) => setTimeout(r, ms));
      }
    }
  }

  private async callOnce<T>(subject: string, body: unknown): Promise<T> {
    let reply: Msg;
    // The server drops the request from its queues once we would no longer read the answer.
    const h = headers();
    h.set(REQUEST_TIMEOUT_HEADER, String(this.timeoutMs));
    try {
      reply = await this.nc.request(
        subject,
        JSON.stringify(body),
        this.ownInbox ? { timeout: this.timeoutMs, headers: h, noMux: true, reply: createInbox(this.inboxPrefix) } : { timeout: this.timeoutMs, headers: h },
      );
    } catch (e) {
      const name = (e as Error).name;
      const cause = (e as { cause?: { name?: string } }).cause?.name;
      if (name === "PermissionViolationError" || cause === "PermissionViolationError") {
        throw new ApiError("Forbidden", `this NATS identity may not publish to ${subject}`, undefined, { cause: e });
      }
      if (/max_payload/i.test((e as Error).message)) {
        throw new ApiError("RequestEntityTooLarge", `the request to ${subject} is larger than the NATS server's max_payload`, undefined, { cause: e });
      }
      if (name === "NoRespondersError") throw new ApiError("ServiceUnavailable", `no Berth API server is answering on ${subject}`, undefined, { cause: e });
      if (name === "TimeoutError") throw new ApiError("Timeout", `the Berth API did not answer ${subject} within ${this.timeoutMs} ms`, undefined, { cause: e });
      throw new ApiError("ServiceUnavailable", `NATS request ${subject} failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    const v = reply.json<unknown>();
    if (isStatus(v) && v.status === "Failure") throw fromStatus(v);
    return v as T;
  }

  create<R extends Resource>(resource: R, object: unknown, namespace?: string, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "create"), { object, namespace, ...dry(opts) }, resource);
  }
  get<R extends Resource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "get"), { name, namespace }, resource);
  }
  async list<R extends Resource>(resource: R, opts: ListOptions = {}): Promise<ObjectList<ResourceTypes[R]>> {
    try {
      return await this.call(this.subject(resource, "list"), opts, resource);
    } catch (e) {
      // Too big for one NATS message: fetch it in pages. The first page's resourceVersion is
      // reported, so a watch from it replays anything that changed while paging.
      if (!(e instanceof ApiError && e.reason === "RequestEntityTooLarge") || opts.limit !== undefined || opts.continue) throw e;
      let first: ObjectList<ResourceTypes[R]> | undefined;
      let cont: string | undefined;
      const items: ResourceTypes[R][] = [];
      let size = LIST_PAGE;
      for (;;) {
        let page: ObjectList<ResourceTypes[R]>;
        try {
          page = await this.call(this.subject(resource, "list"), { ...opts, limit: size, continue: cont }, resource);
        } catch (err) {
          // Still too big: smaller pages (objects are at most 1.5 MiB, max_payload is larger).
          if (err instanceof ApiError && err.reason === "RequestEntityTooLarge" && size > 1) {
            size = Math.max(1, Math.floor(size / 2));
            continue;
          }
          throw err;
        }
        first ??= page;
        items.push(...page.items);
        cont = page.metadata.continue;
        if (!cont) break;
      }
      return { ...first!, metadata: { resourceVersion: first!.metadata.resourceVersion }, items };
    }
  }
  update<R extends Resource>(resource: R, object: unknown, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "update"), { object, ...dry(opts) }, resource);
  }
  updateStatus<R extends Resource>(resource: R, object: unknown, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "updateStatus"), { object, ...dry(opts) }, resource);
  }
  patch<R extends Resource>(
    resource: R,
    name: string,
    patch: unknown,
    opts: PatchOptions = {},
  ): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "patch"), {
      name,
      patch,
      namespace: opts.namespace,
      patchType: opts.type,
      subresource: opts.subresource,
      ...dry(opts),
    }, resource);
  }
  delete<R extends Resource>(resource: R, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<ResourceTypes[R]> {
    return this.call(this.subject(resource, "delete"), { name, namespace, ...opts }, resource);
  }
  getScale(name: string, namespace?: string, resource?: ScalableResource): Promise<Scale> {
    return this.call(this.subject("scale", "get"), { name, namespace, ...(resource ? { resource } : {}) });
  }
  updateScale(name: string, replicas: number, namespace?: string, resource?: ScalableResource, opts: WriteOptions = {}): Promise<Scale> {
    return this.call(this.subject("scale", "update"), { name, namespace, replicas, ...(resource ? { resource } : {}), ...dry(opts) });
  }
  bind(name: string, namespace: string | undefined, node: string, opts: { uid?: string; dryRun?: boolean } = {}): Promise<Pod> {
    return this.call(this.subject("pods", "bind"), { name, namespace, node, ...(opts.uid ? { uid: opts.uid } : {}), ...dry(opts) }, "pods");
  }

  createToken(name: string, namespace: string, request: unknown): Promise<TokenRequest> {
    return this.call(this.subject("serviceaccounts", "createToken"), { name, namespace, request }, "serviceaccounts");
  }

  async watch<R extends Resource>(resource: R, opts: WatchOptions = {}): Promise<Watch<ResourceTypes[R]>> {
    const watchId = nuid.next();
    // Subscribe before asking, so no event published after the server's reply can be missed.
    const { node, identity } = this;
    const sub = this.nc.subscribe(node ? subjects.nodeWatch(node, watchId) : identity ? subjects.clientWatch(identity, watchId) : subjects.watch(watchId));
    const control = (verb: "keepalive" | "stop") =>
      node ? subjects.nodeWatchControl(node, verb) : identity ? subjects.clientApi(identity, "watches", verb) : subjects.watchControl(verb);
    try {
      await this.call(identity ? subjects.clientApi(identity, resource, "watch") : this.subject(resource, "watch"), { ...opts, watchId }, resource);
    } catch (e) {
      sub.unsubscribe();
      throw e;
    }
    let stopped = false;
    /** Events received, and why the stream is known to have lost some (see WATCH_SEQ_HEADER). */
    let received = 0;
    let lost: string | undefined;
    const interrupt = (why: string) => {
      lost ??= why;
      sub.unsubscribe(); // ends the iteration below, which then throws
    };
    const keepalive = setInterval(() => {
      this.call<{ sent?: number }>(control("keepalive"), { watchId }, "watches").then((r) => {
        // Events sent before this answer arrive before it (one publisher, one subscriber); a
        // short grace covers a reordering, then missing ones count as lost.
        const sent = r?.sent;
        if (typeof sent === "number" && sent > received) {
          setTimeout(() => {
            if (!stopped && received < sent) interrupt(`the server sent ${sent} events, ${received} arrived`);
          }, WATCH_GAP_GRACE_MS);
        }
      }, (e) => {
        // The server forgot the watch (restart or expiry): end the iteration so the caller
        // relists and watches again, as an informer does after any watch ends. A busy or slow
        // server (429, timeout) is not a lost watch: the next renewal comes well within the TTL.
        if (e instanceof ApiError && e.reason === "NotFound") stop();
      });
    }, this.keepaliveMs);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(keepalive);
      sub.unsubscribe();
      this.call(control("stop"), { watchId }, "watches").catch(() => {
        // Already gone on the server side; nothing to release.
      });
    };
    return {
      stop,
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<ResourceTypes[R]>> {
        try {
          for await (const m of sub) {
            const seq = Number(m.headers?.get(WATCH_SEQ_HEADER) ?? NaN);
            if (Number.isInteger(seq) && seq !== received + 1) {
              interrupt(`event ${received + 1} never arrived (next was ${seq})`);
              break;
            }
            received++;
            const ev = m.json<WatchEvent<ResourceTypes[R]>>();
            if (ev.type === "ERROR") {
              const status = ev.object as unknown;
              throw isStatus(status) ? fromStatus(status) : new ApiError("InternalError", "watch failed");
            }
            yield ev;
          }
          if (lost) throw new ApiError("ServiceUnavailable", `watch ${watchId} lost events in transit (${lost}); watch again from the last resourceVersion`);
        } finally {
          stop();
        }
      },
    };
  }
}

export type { AnyObject };
