/**
 * The API server's REST face: Kubernetes-shaped HTTP(S) in front of an `ApiClient`, so kubectl
 * and @kubernetes/client-node work against Berth.
 *
 * Built on `node:http`/`node:https` rather than a framework: the routing is a fixed set of
 * Kubernetes paths (routes.ts), watches need raw control over chunked responses, and Deno serves
 * `node:http` as is — a framework would add a dependency and a layer without removing code.
 *
 * Request pipeline: route → authentication (the cluster token or a ServiceAccount token; health
 * endpoints exempt) → impersonation → RBAC (runtime/auth/rest_auth.ts) → handler → JSON reply,
 * with every failure answered as a Kubernetes `Status` (`toStatus`).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, toStatus } from "../../model/errors.ts";
import { openApiV2, openApiV3Index, openApiV3CoreV1, openApiV3Group } from "../api/openapi.ts";
import { RestAuth } from "../auth/rest_auth.ts";
import { requestAttributes } from "../auth/attributes.ts";
import { rbacCheckedClient } from "../auth/rbac_writes.ts";
import type { ServiceAccountTokens } from "../auth/sa_tokens.ts";
import { SYSTEM_MASTERS, type UserInfo } from "../../model/rbac.ts";
import { checkObjectContentType, DEFAULT_MAX_BODY_BYTES, mediaType, parseAccept, parseBody, patchTypeOf, readRaw } from "./body.ts";
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from "./discovery.ts";
import { decodeProtobufBody, PROTOBUF_MEDIA_TYPE } from "./protobuf.ts";
import { handleResource, type HandlerContext, type LogProvider, type Reply } from "./handlers.ts";
import { handleAutoscalingV1 } from "./hpa_v1.ts";
import { checksFor, HealthRunner, PING, renderHealth, renderSingleCheck, type HealthCheck } from "./health.ts";
import { parseRoute, type HealthEndpoint, type Route } from "./routes.ts";
import { WatchRegistry, type WatchCaps } from "./watch.ts";
import { RateLimiter, rateLimitedError, type RateLimitOptions } from "../security/rate_limit.ts";
import { flowControlFor, type FlowControlOptions } from "../security/flow_control.ts";
import { createDashboard } from "../ui/dashboard.ts";
import type { StreamProvider } from "../stream/open.ts";
import { answerOnSocket, serveStreamUpgrade } from "./streaming.ts";
import { flowControlMetrics, requestMetrics } from "../metrics/apiserver.ts";
import type { UsageSource } from "../metrics/usage_store.ts";
import { serveMetricsApi } from "./metrics_api.ts";
import { serveReview, type Reviewer } from "./access_review.ts";
import type { ComponentMetrics } from "../metrics/registry.ts";

export type { LogProvider, LogRequest } from "./handlers.ts";
export type { HealthCheck } from "./health.ts";

/** Default connection caps; see `HttpApiOptions.maxConnections`. */
export const DEFAULT_MAX_CONNECTIONS = 4096;
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 512;
export const DEFAULT_HEADERS_TIMEOUT_MS = 30_000;

export interface HttpApiOptions {
  api: ApiClient;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The cluster token: its holder is in system:masters and may do everything. */
  token: string;
  /** Issues and checks ServiceAccount tokens; without it only the cluster token is accepted. */
  tokens?: ServiceAccountTokens;
  /** PEM certificate and key; `false` serves plain HTTP (`--insecure-http`). */
  tls: { cert: string; key: string } | false;
  /** Streams container logs for `pods/{name}/log`; without it that endpoint answers 503. */
  logs?: LogProvider;
  /** Opens exec/attach/portforward sessions with the nodes; without it those answer 503. */
  streams?: StreamProvider;
  /** Request body limit in bytes; default 3 MiB, as kube-apiserver. */
  maxBodyBytes?: number;
  /**
   * Longest life of a watch, in seconds. Default: random between 30 and 60 minutes per watch, as
   * kube-apiserver spreads reconnects; clients resume from their last resourceVersion.
   */
  watchTimeoutSeconds?: number;
  /** Per-identity token buckets (runtime/security/rate_limit.ts); the REST identity is the request's user name. */
  rateLimit?: RateLimitOptions;
  /** Priority levels and fair queuing (runtime/security/flow_control.ts), shared with the NATS edge of the same Api. */
  flowControl?: FlowControlOptions;
  /**
   * Caps on open watches: all together (default 2,000) and per identity (default 1,000), beyond
   * which a watch is refused with 429; and the unsent output after which a watcher that does not
   * read is closed (default 16 MiB).
   */
  watchCaps?: Partial<WatchCaps>;
  /** Reported in /version. */
  version?: string;
  /** Structured log sink for unexpected failures (500s, broken streams). Default: console.error. */
  log?: (msg: string, fields: Record<string, unknown>) => void;
  /**
   * Checks behind `/healthz`, `/livez`, `/readyz`, after the two every server runs: `ping`, and
   * `store`, a read of the `default` namespace through `api` (any answer from the store, even
   * 404, counts as healthy). Callers add readiness-only checks such as informer sync or
   * leadership (`readinessOnly: true` keeps them out of `/livez`).
   */
  healthChecks?: HealthCheck[];
  /** Time one health check may take before it counts as failed; default 2 s. */
  healthTimeoutMs?: number;
  /**
   * Open connections in total (default 4,096) and from one client address (default 512). Beyond
   * them a new connection is closed at once, before TLS: file descriptors are shared with NATS
   * and DNS, and one client must not take them all.
   */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /**
   * Time a client has to finish the TLS handshake, and then to send a request's headers
   * (default 30 s each, as before). Enforced to within about a second.
   */
  headersTimeoutMs?: number;
  /** The API server's metrics, served on `/metrics` (behind the bearer token) and fed by every request. */
  metrics?: ComponentMetrics;
  /** Node and pod usage for `metrics.k8s.io` (kubectl top); without it that group lists nothing. */
  usage?: UsageSource;
}

export interface HttpApi {
  url: string;
  port: number;
  /** Stops accepting connections, ends open watches and log streams, and waits for the server. */
  close(): Promise<void>;
  /** Connections open now (for tests and diagnostics). */
  connections(): number;
}

/** Starts the REST API and resolves once it listens. */
export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const host = opts.host ?? "127.0.0.1";
  const watches = new WatchRegistry(opts.watchCaps);
  const rate = new RateLimiter(opts.rateLimit);
  const flow = flowControlFor(opts.api, opts.flowControl);
  const closing = new AbortController();
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? ((msg, fields) => console.error(JSON.stringify({ level: "error", component: "http-api", msg, ...fields })));
  let address = `${host}:0`;
  const healthChecks: HealthCheck[] = [PING, storeCheck(opts.api), ...(opts.healthChecks ?? [])];
  const health = new HealthRunner(opts.healthTimeoutMs);
  const reqMetrics = opts.metrics ? requestMetrics(opts.metrics) : undefined;
  if (opts.metrics) flowControlMetrics(opts.metrics, () => flow.figures());
  // The live page (runtime/ui/): its own session-cookie sign-in, the same ApiClient behind it.
  const auth = new RestAuth({ api: opts.api, token: opts.token, tokens: opts.tokens, log: (m, f) => log(m, f ?? {}) });
  const ui = createDashboard({ api: opts.api, token: opts.token, secure: !!opts.tls, logs: opts.logs, closing: closing.signal, log });

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    serve(req, res).catch((e) => {
      log("request failed after the response started", { method: req.method, url: req.url, error: String(e) });
      if (!res.writableEnded) res.destroy();
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    // Routed on the path exactly as sent (see routes.ts `pathSegments`): never through `new URL`,
    // which resolves `..` and `%2e%2e` and so turns `pods/%2e%2e` into the namespace itself.
    // An absolute-form target (`GET https://host/api/v1/pods`, RFC 9112 §3.2.2) names its path after the authority.
    const target = (req.url ?? "/").replace(/^https?:\/\/[^/?]*/i, "") || "/";
    const q = target.indexOf("?");
    const route = parseRoute(q < 0 ? target : target.slice(0, q));
    const query = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
    const measured = reqMetrics?.begin(method, route, q < 0 ? target : target.slice(0, q), query);
    if (measured) res.once("close", () => measured(res.statusCode));
    try {
      // The live page, recognised on the raw path; a dot segment there is refused as anywhere
      // (`new URL` below would resolve it, and a page path must never leave /ui).
      const path = q < 0 ? target : target.slice(0, q);
      if (path === "/ui" || path.startsWith("/ui/")) {
        if (path.split("/").some((seg) => /^(\.|%2e){1,2}$/i.test(seg))) throw new ApiError("BadRequest", "invalid request path: a dot segment");
        return await ui.handle(req, res, new URL(target, "http://berth.invalid"));
      }
      if (route.type === "badPath") throw new ApiError("BadRequest", `invalid request path: ${route.message}`);
      if (route.type === "health") return await serveHealth(res, method, route.endpoint, route.check, query);
      const user = await auth.impersonate(req, await auth.authenticate(req));
      await auth.check(user, requestAttributes(method, route, query, path));
      if (opts.metrics && route.type === "notFound" && path === "/metrics") return await serveMetrics(res, method, opts.metrics);
      let release = () => {};
      if (route.type === "resource") {
        const refused = rate.take(user.username);
        if (refused) {
          reqMetrics?.rejected("rate-limit");
          throw rateLimitedError(refused);
        }
        // A seat at the request's priority level (flow_control.ts). A watch holds it only to be
        // admitted: its stream runs for minutes and costs a seat nothing.
        release = await flow.acquire({ identity: `rest:${user.username}`, resource: route.resource });
        if (route.watchPrefix || ["true", "1"].includes(query.get("watch") ?? "")) release();
      }
      const warnings: string[] = [];
      let reply: Reply;
      try {
        reply = await dispatch(req, res, method, route, query, warnings, user);
      } finally {
        release();
      }
      if (reply) {
        const headers: Record<string, string | string[]> = { ...reply.headers };
        // RFC 7234 warn-code 299, as kube-apiserver sends them; kubectl prints "Warning: ...".
        if (warnings.length) headers["Warning"] = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
        sendJson(res, reply.status, reply.body, headers);
      }
    } catch (e) {
      if (res.headersSent) throw e;
      if (!(e instanceof ApiError)) log("internal error", { method, url: req.url, error: e instanceof Error ? e.stack : String(e) });
      sendStatus(res, e);
    }
  }

  async function serveHealth(res: ServerResponse, method: string, endpoint: HealthEndpoint, check: string | undefined, query: URLSearchParams): Promise<void> {
    if (method !== "GET" && method !== "HEAD") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /${endpoint}`);
    const checks = checksFor(endpoint, healthChecks);
    const selected = check === undefined ? checks : checks.filter((c) => c.name === check);
    if (selected.length === 0) throw new ApiError("NotFound", "the server could not find the requested resource");
    const results = await health.run(selected);
    for (const r of results) if (!r.ok) log("health check failed", { endpoint, check: r.name, reason: r.reason });
    const { status, text } = check === undefined ? renderHealth(endpoint, results, query.has("verbose")) : renderSingleCheck(results[0]);
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache, private" });
    res.end(method === "HEAD" ? undefined : text);
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, method: string, route: Route, query: URLSearchParams, warnings: string[], user: UserInfo): Promise<Reply> {
    if (route.type === "notFound") throw new ApiError("NotFound", "the server could not find the requested resource");
    if (route.type === "openapiGroup") {
      if (method !== "GET") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /openapi/v3/apis/${route.groupVersion}`);
      const body = openApiV3Group(route.groupVersion);
      if (!body) throw new ApiError("NotFound", "the server could not find the requested resource");
      return { status: 200, body, headers: { "Cache-Control": "no-cache, private" } };
    }
    if (route.type === "group") {
      if (method !== "GET") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /apis/${route.group}`);
      const body = route.version === undefined ? apiGroup(route.group) : apiResourceList(`${route.group}/${route.version}`);
      if (!body) throw new ApiError("NotFound", "the server could not find the requested resource");
      return { status: 200, body };
    }
    if (route.type === "metricsApi") {
      if (method !== "GET") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method}`);
      const labels = query.get("labelSelector") && route.doc === "pods" ? await podLabelsOf(opts.api, route.namespace) : undefined;
      return { status: 200, body: serveMetricsApi(route, opts.usage?.reports() ?? [], query, labels) };
    }
    if (route.type === "review") {
      // kubectl auth's self reviews: create-only, nothing stored (access_review.ts).
      const reviewer: Reviewer = {
        user,
        decide: (a) => auth.authorize(user, a),
        rules: (ns) => auth.rules(user, ns),
        decideFor: (subject, a) => auth.authorize(subject, a),
        reviewToken: (token, audiences) => auth.reviewToken(token, audiences),
      };
      if (method !== "POST") return await serveReview(route, method, undefined, reviewer);
      const raw = await readRaw(req, maxBody);
      const body = mediaType(req.headers["content-type"]) === PROTOBUF_MEDIA_TYPE ? decodeProtobufBody(raw) : parseBody(raw, checkObjectContentType(req.headers["content-type"]));
      return await serveReview(route, method, body, reviewer);
    }
    if (route.type !== "static" && route.type !== "resource") throw new ApiError("BadRequest", "invalid request path");
    const accept = parseAccept(req.headers.accept);
    if (route.type === "static") {
      if (method !== "GET") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /${route.path}`);
      switch (route.path) {
        case "version":
          return { status: 200, body: versionInfo(opts.version ?? "0.1.0") };
        case "api":
          return { status: 200, body: apiVersions(address) };
        case "api/v1":
          return { status: 200, body: apiResourceList() };
        case "apis":
          return { status: 200, body: apiGroupList() };
        case "openapi/v3":
          return { status: 200, body: openApiV3Index() };
        case "openapi/v3/api/v1":
          return { status: 200, body: openApiV3CoreV1(), headers: { "Cache-Control": "no-cache, private" } };
        case "openapi/v2":
          // client-go asks for protobuf only; it then falls back to other sources. JSON is served on request.
          if (!accept.jsonAcceptable) return notAcceptable("only application/json is served for /openapi/v2");
          return { status: 200, body: openApiV2() };
      }
    }
    // kubectl's typed clients (drain, create deployment) send their bodies as protobuf; the few
    // kinds they send are decoded (protobuf.ts), any other is a 415 that names its kind.
    const protobuf = mediaType(req.headers["content-type"]) === PROTOBUF_MEDIA_TYPE &&
      (method === "DELETE" || method === "POST" || method === "PUT");
    let bodyPromise: Promise<unknown> | undefined;
    const readBody = () => {
      bodyPromise ??= (async () => {
        if (protobuf) return decodeProtobufBody(await readRaw(req, maxBody));
        const format = method === "PATCH" ? "json" : checkObjectContentType(req.headers["content-type"]);
        if (method === "PATCH") patchTypeOf(req.headers["content-type"]);
        return parseBody(await readRaw(req, maxBody), format);
      })();
      return bodyPromise;
    };
    // Content type first, so a wrong one is a 415 even before the body is read.
    if ((method === "POST" || method === "PUT") && !protobuf) checkObjectContentType(req.headers["content-type"]);
    if (method === "PATCH") patchTypeOf(req.headers["content-type"]);
    const ctx: HandlerContext = {
      // Writes of roles and bindings by anyone but system:masters pass the escalation check.
      api: user.groups.includes(SYSTEM_MASTERS) ? opts.api : rbacCheckedClient(opts.api, auth, user),
      method,
      route,
      query,
      accept,
      body: readBody,
      patchType: () => patchTypeOf(req.headers["content-type"]),
      req,
      res,
      watches,
      identity: user.username,
      logs: opts.logs,
      closing: closing.signal,
      warnings,
      maxWatchSeconds: opts.watchTimeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800),
    };
    // TokenRequest (kubectl create token): a token for the account, nothing stored (token_request.ts).
    if (route.subresource === "token" && route.resource === "serviceaccounts") {
      if (method !== "POST") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method}`);
      return { status: 201, body: await opts.api.createToken(route.name!, route.namespace!, await readBody()) };
    }
    // An older version of a resource (routes.ts OLDER_VERSIONS) is converted at the edge.
    return route.olderVersion ? handleAutoscalingV1(ctx) : handleResource(ctx);
  }

  const headersTimeout = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  // Node checks headersTimeout only every connectionsCheckingInterval (30 s by default), so a
  // 30 s limit held for up to 60 s; a TLS client that never finished its handshake was held for
  // tls's own handshakeTimeout (120 s). Both are now bounded by headersTimeout, give or take 1 s.
  const timeouts = { connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))) };
  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key, handshakeTimeout: headersTimeout, ...timeouts }, handler)
    : createHttpServer(timeouts, handler);
  // exec, attach and portforward arrive as upgrades (WebSocket, SPDY): streaming.ts.
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrade(req, socket, head).catch((e) => {
      if (!(e instanceof ApiError)) log("stream upgrade failed", { url: req.url, error: e instanceof Error ? e.stack : String(e) });
      answerOnSocket(socket, e);
    });
  });
  /** Upgraded sockets leave the HTTP server's bookkeeping; close() ends them from here. */
  const upgraded = new Set<Socket>();
  async function upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    const target = (req.url ?? "/").replace(/^https?:\/\/[^/?]*/i, "") || "/";
    const q = target.indexOf("?");
    const route = parseRoute(q < 0 ? target : target.slice(0, q));
    if (route.type === "badPath") throw new ApiError("BadRequest", `invalid request path: ${route.message}`);
    const user = await auth.impersonate(req, await auth.authenticate(req));
    await auth.check(user, requestAttributes(req.method ?? "GET", route, new URLSearchParams(), q < 0 ? target : target.slice(0, q), true));
    const sub = route.type === "resource" ? route.subresource : undefined;
    if (route.type !== "resource" || route.resource !== "pods" || !route.namespace || (sub !== "exec" && sub !== "attach" && sub !== "portforward")) {
      throw new ApiError("NotFound", "the server could not find the requested resource (upgrades are served for pods/exec, pods/attach and pods/portforward)");
    }
    const refused = rate.take(user.username);
    if (refused) throw rateLimitedError(refused);
    await serveStreamUpgrade({ req, socket, head, namespace: route.namespace, pod: route.name!, sub, query: new URLSearchParams(q < 0 ? "" : target.slice(q + 1)), provider: opts.streams, log });
  }
  // Slow or stuck clients must not pin sockets forever; watches are long but keep writing.
  server.headersTimeout = headersTimeout;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    // As Node's default: one error response if nothing was sent yet, then the socket is
    // destroyed, not ended — an ended socket waits for the peer, who may never close it.
    if (socket.writable && !(socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent) {
      const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout"
        : err.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large"
        : "400 Bad Request";
      socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
  });
  const connections = limitConnections(server, {
    total: opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    perAddress: opts.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = host.includes(":") ? `[${host}]` : host;
  address = `${hostForUrl}:${port}`;
  const url = `${opts.tls ? "https" : "http"}://${address}`;

  return {
    url,
    port,
    connections: () => connections.open(),
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        watches.stopAll();
        const stopped = auth.close();
        server.close(() => void stopped.then(() => resolve(), () => resolve()));
        server.closeAllConnections();
        for (const s of upgraded) s.destroy();
      }),
  };
}

/**
 * Caps open connections in total and per client address. A connection over a cap is destroyed
 * as it arrives (before any TLS work); counts drop when sockets close.
 */
function limitConnections(server: Server, caps: { total: number; perAddress: number }): { open(): number } {
  const perAddress = new Map<string, number>();
  let open = 0;
  // Runs before the TLS layer wraps the socket (it listens on the same event).
  server.prependListener("connection", (socket: Socket) => {
    const addr = socket.remoteAddress ?? "";
    const n = perAddress.get(addr) ?? 0;
    if (open >= caps.total || n >= caps.perAddress) {
      socket.destroy();
      return;
    }
    open++;
    perAddress.set(addr, n + 1);
    socket.once("close", () => {
      open--;
      const left = (perAddress.get(addr) ?? 1) - 1;
      if (left <= 0) perAddress.delete(addr);
      else perAddress.set(addr, left);
    });
  });
  return { open: () => open };
}

/**
 * The default `store` health check: one read through the API. Any answer from the store —
 * including 404 for a missing `default` namespace — means it works; 5xx, 429 and timeouts fail.
 */
function storeCheck(api: ApiClient): HealthCheck {
  return {
    name: "store",
    async check() {
      try {
        await api.get("namespaces", "default");
      } catch (e) {
        if (e instanceof ApiError && e.code < 500 && e.code !== 429) return;
        throw e;
      }
    },
  };
}

/** 406: NotAcceptable is not among the reasons errors.ts knows, so the Status is built here. */
/** Pod labels by namespace/name, for a label selector on pod metrics. */
async function podLabelsOf(api: ApiClient, namespace: string | undefined) {
  const pods = await api.list("pods", namespace ? { namespace } : {});
  const m = new Map(pods.items.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p.metadata.labels ?? {}]));
  return (ns: string, name: string) => m.get(`${ns}/${name}`);
}

async function serveMetrics(res: ServerResponse, method: string, metrics: ComponentMetrics): Promise<void> {
  if (method !== "GET" && method !== "HEAD") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /metrics`);
  const text = await metrics.text();
  res.writeHead(200, { "Content-Type": metrics.contentType, "Cache-Control": "no-cache, private" });
  res.end(method === "HEAD" ? undefined : text);
}

function notAcceptable(message: string): Reply {
  return {
    status: 406,
    body: { apiVersion: "v1", kind: "Status", metadata: {}, status: "Failure", message, reason: "NotAcceptable", code: 406 },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function sendStatus(res: ServerResponse, e: unknown): void {
  const status = toStatus(e);
  const headers: Record<string, string> = {};
  if (status.code === 401) headers["WWW-Authenticate"] = 'Bearer realm="berth"';
  if (status.details?.retryAfterSeconds !== undefined) headers["Retry-After"] = String(status.details.retryAfterSeconds);
  if (status.code === 413 || status.code === 400) headers["Connection"] = "close";
  sendJson(res, status.code, status, headers);
}

export { mediaType };
