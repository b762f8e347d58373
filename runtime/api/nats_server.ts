/**
 * The API over NATS request/reply: `berth.api.v1.<resource>.<verb>` with a JSON body, answered
 * with the resulting object or a Kubernetes `Status` (see docs/nats-api.md for every verb).
 *
 * Watches stream: the client subscribes to `berth.watch.<watchId>` (an id it chose), then asks
 * `berth.api.v1.<resource>.watch` with that id; the server publishes `{type, object}` events
 * there until the client sends `berth.api.v1.watches.stop`, or stops sending
 * `berth.api.v1.watches.keepalive` (every 10 s; a watch unrenewed for 30 s is dropped).
 *
 * Malformed input never reaches the Api: a body that is not JSON, a subject that names no
 * resource or verb, or fields of the wrong type get a 400/404 Status; nothing is stored.
 */
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { Api } from "./api.ts";
import type { Watch } from "./client.ts";
import { ApiError, BadRequestError, toStatus } from "./errors.ts";
import { RESOURCES, type Resource } from "./types.ts";
import { parseApiSubject, subjects, VERBS, type Verb } from "../subjects.ts";

export interface NatsApiServerOptions {
  /** Queue group shared by API replicas, so each request is answered once. */
  queue?: string;
  /** A watch not renewed for this long is dropped. */
  watchTtlMs?: number;
  /** Maximum open watches (all clients). */
  maxWatches?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface NatsApiServer {
  /** Number of open watches. */
  readonly watchCount: number;
  stop(): Promise<void>;
}

interface OpenWatch {
  watch: Watch;
  expires: number;
}

const WATCH_ID = /^[A-Za-z0-9_-]{6,64}$/;

/** Serves `api` on `nc` until `stop()`. */
export function serveApiOverNats(nc: NatsConnection, api: Api, opts: NatsApiServerOptions = {}): NatsApiServer {
  const ttl = opts.watchTtlMs ?? 30_000;
  const maxWatches = opts.maxWatches ?? 10_000;
  const log = opts.log ?? (() => {});
  const watches = new Map<string, OpenWatch>();
  const enc = new TextEncoder();

  const respond = (m: Msg, body: unknown) => {
    if (!m.reply) return;
    try {
      m.respond(enc.encode(JSON.stringify(body)));
    } catch (e) {
      // The connection is closing; the requester will time out and retry.
      log("api: reply failed", { subject: m.subject, error: String(e) });
    }
  };

  const handle = async (m: Msg): Promise<unknown> => {
    const parsed = parseApiSubject(m.subject);
    if (!parsed) throw new ApiError("NotFound", `unknown API subject ${m.subject}`);
    const body = parseBody(m);
    const { resource, verb } = parsed;
    if (resource === "watches") return watchControl(verb, body);
    if (resource === "scale") {
      const name = str(body, "name", true)!;
      const namespace = str(body, "namespace");
      if (verb === "get") return await api.getScale(name, namespace);
      if (verb === "update") {
        const replicas = body.replicas;
        if (typeof replicas !== "number") throw new BadRequestError(`field "replicas" must be a number, got ${typeof replicas}`);
        return await api.updateScale(name, replicas, namespace);
      }
      throw new ApiError("NotFound", `unknown verb "${verb}" for scale (get, update)`);
    }
    if (!(resource in RESOURCES)) {
      throw new ApiError("NotFound", `unknown resource "${resource}" (Berth serves: ${Object.keys(RESOURCES).join(", ")})`);
    }
    if (!(VERBS as readonly string[]).includes(verb)) {
      throw new ApiError("NotFound", `unknown verb "${verb}" (verbs: ${VERBS.join(", ")})`);
    }
    const r = resource as Resource;
    switch (verb as Verb) {
      case "create":
        return await api.create(r, required(body, "object"), str(body, "namespace"));
      case "get":
        return await api.get(r, str(body, "name", true)!, str(body, "namespace"));
      case "list":
        return await api.list(r, listOpts(body));
      case "update":
        return await api.update(r, required(body, "object"));
      case "updateStatus":
        return await api.updateStatus(r, required(body, "object"));
      case "patch": {
        const type = str(body, "patchType") ?? "merge";
        if (type !== "merge" && type !== "json" && type !== "strategic") {
          throw new BadRequestError(`field "patchType" must be merge, json or strategic, got ${JSON.stringify(type)}`);
        }
        const sub = str(body, "subresource");
        if (sub !== undefined && sub !== "status") throw new BadRequestError(`field "subresource" must be "status" if given`);
        return await api.patch(r, str(body, "name", true)!, required(body, "patch"), {
          namespace: str(body, "namespace"),
          type,
          subresource: sub as "status" | undefined,
        });
      }
      case "delete": {
        const grace = body.gracePeriodSeconds;
        if (grace !== undefined && (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0)) {
          throw new BadRequestError(`field "gracePeriodSeconds" must be a non-negative integer`);
        }
        const policy = str(body, "propagationPolicy");
        if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy)) {
          throw new BadRequestError(`field "propagationPolicy" must be Background, Foreground or Orphan`);
        }
        const pre = body.preconditions;
        if (pre !== undefined && (typeof pre !== "object" || pre === null || Array.isArray(pre))) {
          throw new BadRequestError(`field "preconditions" must be an object`);
        }
        return await api.delete(r, str(body, "name", true)!, str(body, "namespace"), {
          gracePeriodSeconds: grace as number | undefined,
          propagationPolicy: policy as "Background" | "Foreground" | "Orphan" | undefined,
          preconditions: pre as { uid?: string; resourceVersion?: string } | undefined,
        });
      }
      case "watch":
        return await startWatch(r, body);
    }
  };

  const startWatch = async (resource: Resource, body: Record<string, unknown>) => {
    const watchId = str(body, "watchId", true)!;
    if (!WATCH_ID.test(watchId)) throw new BadRequestError(`field "watchId" must be 6-64 characters of [A-Za-z0-9_-]`);
    if (watches.has(watchId)) throw new ApiError("AlreadyExists", `watch "${watchId}" already exists`);
    if (watches.size >= maxWatches) throw new ApiError("TooManyRequests", `too many open watches (${maxWatches})`);
    const w = await api.watch(resource, { ...listOpts(body), resourceVersion: str(body, "resourceVersion") });
    const subject = subjects.watch(watchId);
    watches.set(watchId, { watch: w, expires: Date.now() + ttl });
    (async () => {
      try {
        for await (const ev of w) nc.publish(subject, enc.encode(JSON.stringify(ev)));
      } catch (e) {
        nc.publish(subject, enc.encode(JSON.stringify({ type: "ERROR", object: toStatus(e) })));
      } finally {
        watches.delete(watchId);
      }
    })();
    return { kind: "WatchStarted", watchId, subject };
  };

  const watchControl = (verb: string, body: Record<string, unknown>) => {
    const watchId = str(body, "watchId", true)!;
    const w = watches.get(watchId);
    if (!w) throw new ApiError("NotFound", `watch "${watchId}" not found`);
    if (verb === "keepalive") {
      w.expires = Date.now() + ttl;
      return { kind: "WatchRenewed", watchId };
    }
    if (verb === "stop") {
      w.watch.stop();
      watches.delete(watchId);
      return { kind: "WatchStopped", watchId };
    }
    throw new ApiError("NotFound", `unknown verb "${verb}" for watches (keepalive, stop)`);
  };

  const sub: Subscription = nc.subscribe(subjects.apiAll(), {
    queue: opts.queue ?? "berth-api",
    callback: (err, m) => {
      if (err) {
        log("api: subscription error", { error: String(err) });
        return;
      }
      handle(m).then(
        (result) => respond(m, result),
        (e) => {
          if (!(e instanceof ApiError)) log("api: internal error", { subject: m.subject, error: String(e) });
          respond(m, toStatus(e));
        },
      );
    },
  });

  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [id, w] of watches) {
      if (w.expires < now) {
        w.watch.stop();
        watches.delete(id);
      }
    }
  }, Math.min(5_000, ttl));

  return {
    get watchCount() {
      return watches.size;
    },
    async stop() {
      clearInterval(reaper);
      sub.unsubscribe();
      for (const w of watches.values()) w.watch.stop();
      watches.clear();
    },
  };
}

function parseBody(m: Msg): Record<string, unknown> {
  if (m.data.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(m.data));
  } catch (e) {
    throw new BadRequestError(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new BadRequestError(`request body must be a JSON object, got ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`);
  }
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, field: string, needed = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (needed) throw new BadRequestError(`field "${field}" is required`);
    return undefined;
  }
  if (typeof v !== "string") throw new BadRequestError(`field "${field}" must be a string, got ${typeof v}`);
  if (needed && v === "") throw new BadRequestError(`field "${field}" must not be empty`);
  return v;
}

function required(body: Record<string, unknown>, field: string): unknown {
  if (body[field] === undefined) throw new BadRequestError(`field "${field}" is required`);
  return body[field];
}

function listOpts(body: Record<string, unknown>) {
  const limit = body.limit;
  if (limit !== undefined && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0)) {
    throw new BadRequestError(`field "limit" must be a non-negative integer`);
  }
  return {
    namespace: str(body, "namespace"),
    labelSelector: str(body, "labelSelector"),
    fieldSelector: str(body, "fieldSelector"),
    limit: limit as number | undefined,
    continue: str(body, "continue"),
  };
}
