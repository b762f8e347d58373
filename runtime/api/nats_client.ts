/**
 * `ApiClient` over NATS request/reply: what node agents, the CLI and any remote part of Berth
 * use. Behaves exactly like the in-process `Api` (errors arrive as the same `ApiError`s).
 */
import { nuid, type NatsConnection } from "@nats-io/nats-core";
import type { ApiClient, DeleteOptions, ListOptions, PatchType, Watch, WatchOptions } from "./client.ts";
import { ApiError, fromStatus, isStatus } from "./errors.ts";
import type { AnyObject, ObjectList, Resource, ResourceTypes, Scale, WatchEvent } from "./types.ts";
import { subjects } from "../subjects.ts";

export interface NatsApiClientOptions {
  /** Request timeout. */
  timeoutMs?: number;
  /** How often an open watch is renewed. */
  keepaliveMs?: number;
}

export class NatsApiClient implements ApiClient {
  private readonly timeoutMs: number;
  private readonly keepaliveMs: number;
  constructor(readonly nc: NatsConnection, opts: NatsApiClientOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.keepaliveMs = opts.keepaliveMs ?? 10_000;
  }

  private async call<T>(subject: string, body: unknown): Promise<T> {
    let reply;
    try {
      reply = await this.nc.request(subject, JSON.stringify(body), { timeout: this.timeoutMs });
    } catch (e) {
      const name = (e as Error).name;
      if (name === "NoRespondersError") throw new ApiError("ServiceUnavailable", `no Berth API server is answering on ${subject}`, undefined, { cause: e });
      if (name === "TimeoutError") throw new ApiError("Timeout", `the Berth API did not answer ${subject} within ${this.timeoutMs} ms`, undefined, { cause: e });
      throw new ApiError("ServiceUnavailable", `NATS request ${subject} failed: ${(e as Error).message}`, undefined, { cause: e });
    }
    const v = reply.json<unknown>();
    if (isStatus(v) && v.status === "Failure") throw fromStatus(v);
    return v as T;
  }

  create<R extends Resource>(resource: R, object: unknown, namespace?: string): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "create"), { object, namespace });
  }
  get<R extends Resource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "get"), { name, namespace });
  }
  list<R extends Resource>(resource: R, opts: ListOptions = {}): Promise<ObjectList<ResourceTypes[R]>> {
    return this.call(subjects.api(resource, "list"), opts);
  }
  update<R extends Resource>(resource: R, object: unknown): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "update"), { object });
  }
  updateStatus<R extends Resource>(resource: R, object: unknown): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "updateStatus"), { object });
  }
  patch<R extends Resource>(
    resource: R,
    name: string,
    patch: unknown,
    opts: { namespace?: string; type?: PatchType; subresource?: "status" } = {},
  ): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "patch"), {
      name,
      patch,
      namespace: opts.namespace,
      patchType: opts.type,
      subresource: opts.subresource,
    });
  }
  delete<R extends Resource>(resource: R, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<ResourceTypes[R]> {
    return this.call(subjects.api(resource, "delete"), { name, namespace, ...opts });
  }
  getScale(name: string, namespace?: string): Promise<Scale> {
    return this.call(subjects.api("scale", "get"), { name, namespace });
  }
  updateScale(name: string, replicas: number, namespace?: string): Promise<Scale> {
    return this.call(subjects.api("scale", "update"), { name, namespace, replicas });
  }

  async watch<R extends Resource>(resource: R, opts: WatchOptions = {}): Promise<Watch<ResourceTypes[R]>> {
    const watchId = nuid.next();
    // Subscribe before asking, so no event published after the server's reply can be missed.
    const sub = this.nc.subscribe(subjects.watch(watchId));
    try {
      await this.call(subjects.api(resource, "watch"), { ...opts, watchId });
    } catch (e) {
      sub.unsubscribe();
      throw e;
    }
    let stopped = false;
    const keepalive = setInterval(() => {
      this.call(subjects.watchControl("keepalive"), { watchId }).catch(() => {
        // The server forgot the watch (restart or expiry): end the iteration so the caller
        // relists and watches again, as an informer does after any watch ends.
        stop();
      });
    }, this.keepaliveMs);
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(keepalive);
      sub.unsubscribe();
      this.call(subjects.watchControl("stop"), { watchId }).catch(() => {
        // Already gone on the server side; nothing to release.
      });
    };
    return {
      stop,
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<ResourceTypes[R]>> {
        try {
          for await (const m of sub) {
            const ev = m.json<WatchEvent<ResourceTypes[R]>>();
            if (ev.type === "ERROR") {
              const status = ev.object as unknown;
              throw isStatus(status) ? fromStatus(status) : new ApiError("InternalError", "watch failed");
            }
            yield ev;
          }
        } finally {
          stop();
        }
      },
    };
  }
}

export type { AnyObject };
