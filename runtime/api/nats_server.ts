/**
 * The API over NATS request/reply, on two faces (see docs/nats-api.md and docs/security.md):
 *
 *   berth.api.v1.<resource>.<verb>              the whole API, for the CLI, the control plane
 *                                               and external clients;
 *   berth.node.<node>.api.v1.<resource>.<verb>  what node <node> may do (runtime/security/
 *                                               node_authorizer.ts), the node name taken from
 *                                               the subject, which only that node may publish to.
 *
 * Requests carry a JSON body and are answered with the resulting object or a Kubernetes
 * `Status`. Watches stream: the client subscribes to its watch subject, then asks
 * `…<resource>.watch` with that id; the server publishes `{type, object}` events there until the
 * client sends `…watches.stop`, or stops sending `…watches.keepalive` (every 10 s; a watch
 * unrenewed for 30 s is dropped). Watches belong to an owner, named by the subject the request
 * came on (which NATS permissions let only that owner publish to), and ids are looked up among
 * the owner's own, so nobody can read, renew or stop another's watch:
 *
 *   node <node>          berth.node.<node>.api.v1.…          → berth.node.<node>.watch.<id>
 *   identity <user>      berth.client.<user>.api.v1.…        → berth.client.<user>.watch.<id>
 *                        (this face serves watches only)
 *   anyone (no auth)     berth.api.v1.<resource>.watch        → berth.watch.<id>
 *
 * Replies go only to inbox subjects, and on a node's or identity's face only to its own inbox
 * (or the shared `_INBOX.`): a request naming `$JS.…`, `$KV.…` or another client's inbox as its
 * reply is not answered, since the server may publish there and would act for the requester.
 *
 * Limits: a bounded number of requests run at once and wait in a bounded queue (runtime/security/
 * limiter.ts; beyond it, 429 TooManyRequests); each request is answered within
 * `requestTimeoutMs` (504 Timeout otherwise); watches are capped overall and per node; a reply
 * larger than the server's max_payload is answered 413 (page with limit/continue) instead of
 * being lost. Malformed input never reaches the Api: a body that is not JSON, a subject that
 * names no resource or verb, or fields of the wrong type get a 400/404 Status; nothing is stored.
 */
import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { Api } from "./api.ts";
import type { Watch } from "../../model/client.ts";
import { ApiError, BadRequestError, ConflictError, toStatus } from "../../model/errors.ts";
import { retryOnConflict } from "../../model/conflict.ts";
import { RESOURCES, type AnyObject, type Resource } from "../../model/types.ts";
import { checkFieldValidation } from "./field_validation.ts";
import { inboxOwner, isInboxSubject, parseApiSubject, parseClientApiSubject, parseNodeApiSubject, REQUEST_TIMEOUT_HEADER, subjects, WATCH_SEQ_HEADER } from "../subjects.ts";
import { parseApiRequest, parseBody, type ApiRequest } from "../security/api_request.ts";
import { authorizeNodeRequest, type Verdict } from "../security/node_authorizer.ts";
import { Limiter, type LimiterOptions } from "../security/limiter.ts";
import { RateLimiter, rateLimitedError, type RateLimitOptions } from "../security/rate_limit.ts";
import { flowControlFor, type FlowControlOptions } from "../security/flow_control.ts";
import type { Metrics } from "../../model/metrics.ts";

/** How long a copy that does not hold a watch waits before saying so (see onWatchControl). */
const NOT_MINE_DELAY_MS = 750;

export interface NatsApiServerOptions extends LimiterOptions {
  /** Queue group shared by API replicas, so each request is answered once. */
  queue?: string;
  /** A watch not renewed for this long is dropped. */
  watchTtlMs?: number;
  /** Maximum open watches (all clients). */
  maxWatches?: number;
  /** Maximum open watches of one node (default 64). */
  maxWatchesPerNode?: number;
  /** Every request is answered within this time (default 30 s): its result, or 504 Timeout. */
  requestTimeoutMs?: number;
  /** Also serve the node-scoped subjects `berth.node.*.api.v1.>` (default true). */
  serveNodes?: boolean;
  /** Also serve the identity-scoped watch subjects `berth.client.*.api.v1.>` (default true). */
  serveClients?: boolean;
  /**
   * Per-identity token buckets (runtime/security/rate_limit.ts). Identities: `node:<name>` for
   * the node-scoped subjects, `nats` for the unrestricted API. Watch keep-alives and stops are
   * never throttled.
   */
  rateLimit?: RateLimitOptions;
  /** Priority levels and fair queuing (runtime/security/flow_control.ts), shared with the REST edge of the same Api. */
  flowControl?: FlowControlOptions;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /**
   * Where to count answered requests: `berth_nats_api_requests_total{face,resource,verb,code}`
   * (face `node`, `client` or `any`; code the HTTP status of the answer, 200 for a result). What
   * a density run reads to tell which requests fill a priority level.
   */
  metrics?: Metrics;
}

export interface NatsApiServer {
  /** Number of open watches. */
  readonly watchCount: number;
  /** Open watches of one node (or, without a name, of the unscoped API). */
  watchCountOf(node?: string): number;
  /** Open watches of one NATS identity (opened on `berth.client.<identity>.…`). */
  clientWatchCountOf(identity: string): number;
  /** Request queue counters (run, refused, expired, peaks). */
  readonly stats: Limiter["stats"];
  /** Rate limit counters (allowed, refused). */
  readonly rateStats: RateLimiter["stats"];
  /**
   * Resolves once the NATS server has this server's subscriptions (a flush: the server handles a
   * connection's messages in order). Until then a request from another connection may find no
   * responders; announce the API as serving only after it.
   */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

/** Who a watch belongs to: the face its request arrived on. */
type Owner = { type: "any" } | { type: "node"; node: string } | { type: "client"; identity: string };
const ANYONE: Owner = { type: "any" };

function ownerKey(o: Owner): string {
  return o.type === "any" ? "" : o.type === "node" ? `node:${o.node}` : `client:${o.identity}`;
}

/** The face a request subject belongs to, with its resource and verb; null for no API subject. */
function faceOf(subject: string): { owner: Owner; resource: string; verb: string } | null {
  const n = parseNodeApiSubject(subject);
  if (n) return { owner: { type: "node", node: n.node }, resource: n.resource, verb: n.verb };
  const c = parseClientApiSubject(subject);
  if (c) return { owner: { type: "client", identity: c.identity }, resource: c.resource, verb: c.verb };
  const a = parseApiSubject(subject);
  return a ? { owner: ANYONE, resource: a.resource, verb: a.verb } : null;
}

/**
 * May a request on `subject` be answered at `reply`? Only an inbox; on a node's or an identity's
 * face only its own inbox or the shared `_INBOX.` (nobody's, once every identity has its own).
 */
export function mayReplyTo(subject: string, reply: string): boolean {
  if (!isInboxSubject(reply)) return false;
  if (inboxOwner(reply) === undefined) return true;
  const face = faceOf(subject)?.owner ?? ANYONE;
  if (face.type === "node") return reply.startsWith(`${subjects.nodeInboxPrefix(face.node)}.`);
  if (face.type === "client") return reply.startsWith(`${subjects.inboxPrefix(face.identity)}.`);
  return true;
}

interface OpenWatch {
  watch: Watch;
  expires: number;
  owner: Owner;
  /** Events published so far (each carries its number in the WATCH_SEQ_HEADER). */
  sent: number;
}

export { WATCH_SEQ_HEADER };


/** Serves `api` on `nc` until `stop()`. */
export function serveApiOverNats(nc: NatsConnection, api: Api, opts: NatsApiServerOptions = {}): NatsApiServer {
  const ttl = opts.watchTtlMs ?? 30_000;
  const maxWatches = opts.maxWatches ?? 10_000;
  const maxWatchesPerNode = opts.maxWatchesPerNode ?? 64;
  const timeoutMs = opts.requestTimeoutMs ?? 30_000;
  const log = opts.log ?? (() => {});
  const limiter = new Limiter(opts);
  const flow = flowControlFor(api, opts.flowControl);
  /** Keyed by `<ownerKey>/<watchId>`: an id is looked up among its owner's watches only. */
  const rate = new RateLimiter(opts.rateLimit);
  const watches = new Map<string, OpenWatch>();
  const perOwner = new Map<string, number>();
  const enc = new TextEncoder();
  const answered = opts.metrics?.counter("berth_nats_api_requests_total", "Requests answered by the API over NATS, by face (node, client, any), resource, verb and the answer's HTTP status code.", ["face", "resource", "verb", "code"]);

  const respond = (m: Msg, body: unknown) => {
    if (answered) {
      const face = faceOf(m.subject);
      const code = body !== null && typeof body === "object" && (body as { status?: unknown }).status === "Failure" ? (body as { code?: number }).code ?? 500 : 200;
      answered.inc({ face: face?.owner.type ?? "unknown", resource: face?.resource ?? "", verb: face?.verb ?? "", code: String(code) });
    }
    if (!m.reply) return;
    if (!mayReplyTo(m.subject, m.reply)) {
      log("api: request not answered: its reply subject is not the requester's inbox", { subject: m.subject, reply: m.reply });
      return;
    }
    let data = enc.encode(JSON.stringify(body));
    const max = nc.info?.max_payload;
    if (max && data.length > max) {
      // A reply the server would refuse: say so instead of leaving the requester to time out.
      data = enc.encode(JSON.stringify(new ApiError(
        "RequestEntityTooLarge",
        `the response is too large for NATS (${data.length} bytes, max_payload ${max}); list with "limit" and "continue"`,
      ).toStatus()));
    }
    try {
      m.respond(data);
    } catch (e) {
      // The connection is closing; the requester will time out and retry.
      log("api: reply failed", { subject: m.subject, error: String(e) });
    }
  };

  const execute = async (req: ApiRequest, owner: Owner): Promise<unknown> => {
    switch (req.verb) {
      case "create":
        checkFieldValidation(RESOURCES[req.resource].kind, req.object, req.fieldValidation ?? "Ignore");
        return await api.create(req.resource, req.object, req.namespace, { dryRun: req.dryRun });
      case "get":
        return await api.get(req.resource, req.name, req.namespace);
      case "list":
        return await api.list(req.resource, req.opts);
      case "update":
        checkFieldValidation(RESOURCES[req.resource].kind, req.object, req.fieldValidation ?? "Ignore");
        return await api.update(req.resource, req.object, { dryRun: req.dryRun });
      case "updateStatus":
        return await api.updateStatus(req.resource, req.object, { dryRun: req.dryRun });
      case "patch":
        return await api.patch(req.resource, req.name, req.patch, { namespace: req.namespace, type: req.patchType, subresource: req.subresource, dryRun: req.dryRun });
      case "delete":
        return await api.delete(req.resource, req.name, req.namespace, req.opts);
      case "getScale":
        return await api.getScale(req.name, req.namespace, req.resource);
      case "updateScale":
        return await api.updateScale(req.name, req.replicas, req.namespace, req.resource, { dryRun: req.dryRun });
      case "bind":
        return await api.bind(req.name, req.namespace, req.node, { uid: req.uid, dryRun: req.dryRun });
      case "createToken":
        return await api.createToken(req.name, req.namespace, req.request);
      case "watch":
        return await startWatch(req, owner);
      case "watchKeepalive":
      case "watchStop":
        return watchControl(req.verb, req.watchId, owner);
    }
  };

  const forbid = (v: Verdict, req: ApiRequest): void => {
    if (v.type !== "deny") return;
    const kind = "resource" in req ? req.resource : "scale";
    throw new ApiError("Forbidden", v.message, { kind, causes: [{ reason: "NodeRestriction", message: v.message, field: v.rule }] });
  };

  /** A node's request: authorize, then execute (pinned to the object the decision was made on). */
  const executeForNode = async (node: string, req: ApiRequest): Promise<unknown> => {
    const d = authorizeNodeRequest(node, req);
    if (d.type === "deny" || d.type === "allow") {
      forbid(d, req);
      return await execute(req, { type: "node", node });
    }
    if (d.type === "needNodePods") {
      const pods = await api.list("pods", { fieldSelector: `spec.nodeName=${node}` });
      forbid(d.check(pods.items), req);
      return await execute(req, { type: "node", node });
    }
    if (d.type === "checkResult") {
      const result = (await execute(req, { type: "node", node })) as AnyObject;
      forbid(d.check(result), req);
      return result;
    }
    // The object may change after the check: a lost CAS decides again on the new version.
    let callerPinned = false;
    // The decision is made on the watch cache's copy when that is as good as a store read (the
    // write names that exact version, or the check reads only what one uid never changes) and it
    // allows; otherwise on the store's. A status write then costs one store round trip, not two.
    const named = namedVersion(req);
    let first = true;
    return retryOnConflict(async () => {
      const cached = first ? api.cachedCopy(d.resource, d.name, d.namespace, named !== undefined ? { resourceVersion: named } : { uid: d.uid }) : undefined;
      first = false;
      const current = cached && d.check(cached).type === "allow" ? cached : await api.get(d.resource, d.name, d.namespace);
      forbid(d.check(current), req);
      const p = pin(req, current);
      callerPinned = p.callerPinned;
      return await execute(p.pinned, { type: "node", node });
    }, { retryIf: () => !callerPinned });
  };

  const startWatch = async (req: Extract<ApiRequest, { verb: "watch" }>, owner: Owner) => {
    const ok = ownerKey(owner);
    const key = `${ok}/${req.watchId}`;
    if (watches.has(key)) throw new ApiError("AlreadyExists", `watch "${req.watchId}" already exists`);
    if (watches.size >= maxWatches) throw new ApiError("TooManyRequests", `too many open watches (${maxWatches})`);
    if (owner.type === "node" && (perOwner.get(ok) ?? 0) >= maxWatchesPerNode) {
      throw new ApiError("TooManyRequests", `node "${owner.node}" has too many open watches (${maxWatchesPerNode})`);
    }
    const w = await api.watch(req.resource, req.opts);
    const subject = owner.type === "node"
      ? subjects.nodeWatch(owner.node, req.watchId)
      : owner.type === "client"
      ? subjects.clientWatch(owner.identity, req.watchId)
      : subjects.watch(req.watchId);
    // Re-check after the await: another request may have taken the id or the last place meanwhile.
    if (watches.has(key)) {
      w.stop();
      throw new ApiError("AlreadyExists", `watch "${req.watchId}" already exists`);
    }
    const entry: OpenWatch = { watch: w, expires: Date.now() + ttl, owner, sent: 0 };
    const send = (payload: unknown) => {
      const h = headers();
      h.set(WATCH_SEQ_HEADER, String(++entry.sent));
      nc.publish(subject, enc.encode(JSON.stringify(payload)), { headers: h });
    };
    watches.set(key, entry);
    perOwner.set(ok, (perOwner.get(ok) ?? 0) + 1);
    (async () => {
      try {
        for await (const ev of w) send(ev);
        // Ended without being stopped (the store watch under it broke): say so now, or the
        // client would only learn it from its next keep-alive, up to 10 s later.
        if (watches.get(key) === entry) send({ type: "ERROR", object: new ApiError("ServiceUnavailable", "the watch ended on the server; watch again from the last resourceVersion").toStatus() });
      } catch (e) {
        try {
          send({ type: "ERROR", object: toStatus(e) });
        } catch {
          // The connection is closing: the client's keepalive fails and it watches again.
        }
      } finally {
        forget(key, entry);
      }
    })();
    return { kind: "WatchStarted", watchId: req.watchId, subject };
  };

  const forget = (key: string, entry: OpenWatch) => {
    if (watches.get(key) !== entry) return;
    watches.delete(key);
    const ok = ownerKey(entry.owner);
    const n = (perOwner.get(ok) ?? 1) - 1;
    if (n <= 0) perOwner.delete(ok);
    else perOwner.set(ok, n);
  };

  const watchControl = (verb: "watchKeepalive" | "watchStop", watchId: string, owner: Owner) => {
    const key = `${ownerKey(owner)}/${watchId}`;
    const w = watches.get(key);
    if (!w) throw new ApiError("NotFound", `watch "${watchId}" not found`);
    if (verb === "watchKeepalive") {
      w.expires = Date.now() + ttl;
      return { kind: "WatchRenewed", watchId, sent: w.sent };
    }
    w.watch.stop();
    forget(key, w);
    return { kind: "WatchStopped", watchId };
  };

  const handle = async (m: Msg): Promise<unknown> => {
    const face = faceOf(m.subject);
    if (!face) throw new ApiError("NotFound", `unknown API subject ${m.subject}`);
    const req = parseApiRequest(face.resource, face.verb, parseBody(m.data));
    switch (face.owner.type) {
      case "node":
        return await executeForNode(face.owner.node, req);
      case "client":
        if (req.verb !== "watch" && req.verb !== "watchKeepalive" && req.verb !== "watchStop") {
          throw new BadRequestError(`${m.subject}: the identity-scoped subjects serve watches only; send ${req.verb} to berth.api.v1.<resource>.<verb>`);
        }
        return await execute(req, face.owner);
      case "any":
        return await execute(req, ANYONE);
    }
  };

  const onMessage = (err: Error | null, m: Msg) => {
    if (err) {
      log("api: subscription error", { error: String(err) });
      return;
    }
    // A request whose answer could not be sent is not carried out either (see respond).
    if (m.reply && !mayReplyTo(m.subject, m.reply)) {
      log("api: request not answered: its reply subject is not the requester's inbox", { subject: m.subject, reply: m.reply });
      return;
    }
    const identity = parseNodeApiSubject(m.subject)?.node ?? "";
    // Keep-alives and stops keep existing watches alive: throttling them would turn a busy
    // client's watches into relists, which cost more than the keep-alives.
    if (isWatchControl(m.subject)) return submit(m, identity, () => {});
    const refused = rate.take(identity ? `node:${identity}` : "nats");
    if (refused) return respond(m, rateLimitedError(refused).toStatus());
    // A seat at the request's priority level first (node agents have their own level, and a
    // flooding client queues behind itself), then the server's overall bound.
    // A requester that says how long it waits is not answered after that: its request leaves the
    // queue in time for the answer to reach it (execution needs time too), or not at all.
    const waits = requesterWaitMs(m);
    const maxWaitMs = waits === undefined ? undefined : waits - Math.min(2_000, waits / 4);
    flow.acquire({ identity: identity ? `node:${identity}` : "nats", resource: faceOf(m.subject)?.resource, maxWaitMs }).then(
      (release) => submit(m, identity, release),
      (e) => respond(m, toStatus(e)),
    );
  };

  const submit = (m: Msg, identity: string, release: () => void) => {
    limiter.submit(
      identity,
      async () => {
        let answered = false;
        const timer = setTimeout(() => {
          answered = true;
          respond(m, new ApiError("Timeout", `the request was not completed within ${timeoutMs} ms`).toStatus());
        }, timeoutMs);
        try {
          const result = await handle(m);
          if (!answered) respond(m, result);
        } catch (e) {
          if (!(e instanceof ApiError)) log("api: internal error", { subject: m.subject, error: String(e) });
          if (!answered) respond(m, toStatus(e));
        } finally {
          answered = true;
          clearTimeout(timer);
          release();
        }
      },
      (why) => {
        release();
        const message = why === "identityFull"
          ? `too many requests in progress for ${identity ? `node "${identity}"` : "this client"}; retry later`
          : why === "queueFull"
          ? "the API server is overloaded; retry later"
          : "the request waited too long in the API server's queue; retry";
        respond(m, new ApiError(why === "waitedTooLong" ? "Timeout" : "TooManyRequests", message, why === "waitedTooLong" ? undefined : { retryAfterSeconds: 1 }).toStatus());
      },
    );
  };

  // Watch keep-alive and stop must reach the API copy that holds the watch, not whichever copy
  // the queue group picks. Every copy hears them (no queue); the holder answers at once, the
  // others answer NotFound after a pause — so with the holder gone the client still learns its
  // watch is lost, and with it alive its immediate answer is the one the client takes.
  const isWatchControl = (subject: string) => faceOf(subject)?.resource === "watches";
  const onQueued = (err: Error | null, m: Msg) => {
    if (!err && isWatchControl(m.subject)) return; // answered by onWatchControl
    onMessage(err, m);
  };
  const onWatchControl = (err: Error | null, m: Msg) => {
    if (err) return;
    let key: string;
    try {
      const face = faceOf(m.subject);
      if (!face) return;
      const req = parseApiRequest(face.resource, face.verb, parseBody(m.data));
      if (req.verb !== "watchKeepalive" && req.verb !== "watchStop") return;
      key = `${ownerKey(face.owner)}/${req.watchId}`;
    } catch (e) {
      respond(m, toStatus(e));
      return;
    }
    if (watches.has(key)) onMessage(null, m);
    else setTimeout(() => onMessage(null, m), NOT_MINE_DELAY_MS);
  };
  const queue = opts.queue ?? "berth-api";
  const subs: Subscription[] = [
    nc.subscribe(subjects.apiAll(), { queue, callback: onQueued }),
    nc.subscribe(subjects.watchControlAll(), { callback: onWatchControl }),
  ];
  if (opts.serveNodes !== false) {
    subs.push(nc.subscribe(subjects.nodeApiAll(), { queue, callback: onQueued }));
    subs.push(nc.subscribe(subjects.nodeWatchControlAll(), { callback: onWatchControl }));
  }
  if (opts.serveClients !== false) {
    subs.push(nc.subscribe(subjects.clientApiAll(), { queue, callback: onQueued }));
    subs.push(nc.subscribe(subjects.clientWatchControlAll(), { callback: onWatchControl }));
  }

  // Handled: a connection closed before the flush rejects it, and stop() is the caller's answer.
  const ready = nc.flush();
  ready.catch(() => {});

  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [key, w] of watches) {
      if (w.expires < now) {
        w.watch.stop();
        forget(key, w);
      }
    }
  }, Math.min(5_000, ttl));

  return {
    get watchCount() {
      return watches.size;
    },
    watchCountOf(node?: string) {
      return perOwner.get(ownerKey(node ? { type: "node", node } : ANYONE)) ?? 0;
    },
    clientWatchCountOf(identity: string) {
      return perOwner.get(ownerKey({ type: "client", identity })) ?? 0;
    },
    stats: limiter.stats,
    rateStats: rate.stats,
    ready,
    async stop() {
      clearInterval(reaper);
      for (const s of subs) s.unsubscribe();
      for (const w of watches.values()) w.watch.stop();
      watches.clear();
      perOwner.clear();
    },
  };
}

/** The resourceVersion a write names itself (its precondition), if any. */
function namedVersion(req: ApiRequest): string | undefined {
  let rv: unknown;
  if (req.verb === "update" || req.verb === "updateStatus") rv = (req.object as AnyObject | undefined)?.metadata?.resourceVersion;
  else if (req.verb === "patch") rv = (req.patch as { metadata?: { resourceVersion?: unknown } } | undefined)?.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}

/** How long the requester waits for the answer (its REQUEST_TIMEOUT_HEADER), if it said. */
function requesterWaitMs(m: Msg): number | undefined {
  const v = m.headers?.get(REQUEST_TIMEOUT_HEADER);
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The request made conditional on `current`'s revision (or uid, for deletes), so a node's write
 * lands only on the object version its authorization was decided on. A revision the caller
 * named itself is kept (and must be the checked one); such a request is not retried.
 */
function pin(req: ApiRequest, current: AnyObject): { pinned: ApiRequest; callerPinned: boolean } {
  const rv = current.metadata.resourceVersion;
  const resource = ("resource" in req ? req.resource : "pods") as Resource;
  const stale = () => new ConflictError(resource, current.metadata.name);
  switch (req.verb) {
    case "update":
    case "updateStatus": {
      const obj = req.object as AnyObject;
      if (!obj || typeof obj !== "object" || !obj.metadata || typeof obj.metadata !== "object") {
        throw new BadRequestError(`field "object" must be an object with metadata`);
      }
      const given = obj.metadata.resourceVersion;
      if (given && given !== rv) throw stale();
      return { pinned: { ...req, object: { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } } }, callerPinned: !!given };
    }
    case "patch": {
      if (!req.patch || typeof req.patch !== "object" || Array.isArray(req.patch)) {
        throw new BadRequestError(`field "patch" must be a JSON object for a ${req.patchType} patch`);
      }
      const p = req.patch as { metadata?: Record<string, unknown> };
      if (p.metadata !== undefined && (typeof p.metadata !== "object" || p.metadata === null || Array.isArray(p.metadata))) {
        throw new BadRequestError(`field "patch.metadata" must be an object`);
      }
      const given = p.metadata?.resourceVersion;
      if (given !== undefined && given !== rv) throw stale();
      return { pinned: { ...req, patch: { ...p, metadata: { ...p.metadata, resourceVersion: rv } } }, callerPinned: given !== undefined };
    }
    case "delete":
      // nodeName and deletionTimestamp never go back once set: the same uid is the same decision.
      return {
        pinned: { ...req, opts: { ...req.opts, preconditions: { ...req.opts.preconditions, uid: req.opts.preconditions?.uid ?? current.metadata.uid } } },
        callerPinned: false,
      };
    case "createToken": {
      // The token is bound to the pod that was checked: its uid, whether or not the request named one.
      const r = req.request as { spec?: { boundObjectRef?: Record<string, unknown> } };
      const spec = { ...r.spec, boundObjectRef: { ...r.spec?.boundObjectRef, uid: current.metadata.uid } };
      return { pinned: { ...req, request: { ...r, spec } }, callerPinned: false };
    }
    default:
      return { pinned: req, callerPinned: false };
  }
}
