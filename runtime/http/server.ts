/**
 * The API server's REST face: Kubernetes-shaped HTTP(S) in front of an `ApiClient`, so kubectl
 * and @kubernetes/client-node work against Berth.
 *
 * Built on `node:http`/`node:https` rather than a framework: the routing is a fixed set of
 * Kubernetes paths (routes.ts), watches need raw control over chunked responses, and Deno serves
 * `node:http` as is — a framework would add a dependency and a layer without removing code.
 *
 * Request pipeline: route → auth (bearer token, health endpoints exempt) → handler → JSON reply,
 * with every failure answered as a Kubernetes `Status` (`toStatus`).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, toStatus } from "../../model/errors.ts";
import { openApiV2, openApiV3Index, openApiV3CoreV1 } from "../api/openapi.ts";
import { tokenMatches } from "../tls.ts";
import { checkObjectContentType, DEFAULT_MAX_BODY_BYTES, mediaType, parseAccept, parseBody, patchTypeOf, readRaw } from "./body.ts";
import { apiGroupList, apiResourceList, apiVersions, versionInfo } from "./discovery.ts";
import { handleResource, type LogProvider, type Reply } from "./handlers.ts";
import { parseRoute, type Route } from "./routes.ts";
import { WatchRegistry } from "./watch.ts";
import { createDashboard } from "../ui/dashboard.ts";

export type { LogProvider, LogRequest } from "./handlers.ts";

export interface HttpApiOptions {
  api: ApiClient;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** The bearer token every non-health request must carry. */
  token: string;
  /** PEM certificate and key; `false` serves plain HTTP (`--insecure-http`). */
  tls: { cert: string; key: string } | false;
  /** Streams container logs for `pods/{name}/log`; without it that endpoint answers 503. */
  logs?: LogProvider;
  /** Request body limit in bytes; default 3 MiB, as kube-apiserver. */
  maxBodyBytes?: number;
  /**
   * Longest life of a watch, in seconds. Default: random between 30 and 60 minutes per watch, as
   * kube-apiserver spreads reconnects; clients resume from their last resourceVersion.
   */
  watchTimeoutSeconds?: number;
  /** Reported in /version. */
  version?: string;
  /** Structured log sink for unexpected failures (500s, broken streams). Default: console.error. */
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface HttpApi {
  url: string;
  port: number;
  /** Stops accepting connections, ends open watches and log streams, and waits for the server. */
  close(): Promise<void>;
}

const HEALTH = new Set(["healthz", "livez", "readyz"]);

/** Starts the REST API and resolves once it listens. */
export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const host = opts.host ?? "127.0.0.1";
  const watches = new WatchRegistry();
  const closing = new AbortController();
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? ((msg, fields) => console.error(JSON.stringify({ level: "error", component: "http-api", msg, ...fields })));
  let address = `${host}:0`;
  // The live page (runtime/ui/): its own session-cookie sign-in, the same ApiClient behind it.
  const ui = createDashboard({ api: opts.api, token: opts.token, secure: !!opts.tls, logs: opts.logs, closing: closing.signal, log });

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    serve(req, res).catch((e) => {
      log("request failed after the response started", { method: req.method, url: req.url, error: String(e) });
      if (!res.writableEnded) res.destroy();
    });
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://berth.invalid");
    } catch {
      return sendStatus(res, new ApiError("BadRequest", "malformed request URL"));
    }
    if (url.pathname === "/ui" || url.pathname.startsWith("/ui/")) return ui.handle(req, res, url);
    const route = parseRoute(url.pathname);
    try {
      if (!(route.type === "static" && HEALTH.has(route.path)) && !authorized(req, opts.token)) {
        throw new ApiError("Unauthorized", "Unauthorized");
      }
      const warnings: string[] = [];
      const reply = await dispatch(req, res, method, route, url, warnings);
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

  async function dispatch(req: IncomingMessage, res: ServerResponse, method: string, route: Route, url: URL, warnings: string[]): Promise<Reply> {
    if (route.type === "notFound") throw new ApiError("NotFound", "the server could not find the requested resource");
    const accept = parseAccept(req.headers.accept);
    if (route.type === "static") {
      if (method !== "GET") throw new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} /${route.path}`);
      switch (route.path) {
        case "healthz":
        case "livez":
        case "readyz":
          res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
          res.end("ok");
          return undefined;
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
    let bodyPromise: Promise<unknown> | undefined;
    const readBody = () => {
      bodyPromise ??= (async () => {
        const format = method === "PATCH" ? "json" : checkObjectContentType(req.headers["content-type"]);
        if (method === "PATCH") patchTypeOf(req.headers["content-type"]);
        return parseBody(await readRaw(req, maxBody), format);
      })();
      return bodyPromise;
    };
    // Content type first, so a wrong one is a 415 even before the body is read.
    if (method === "POST" || method === "PUT") checkObjectContentType(req.headers["content-type"]);
    if (method === "PATCH") patchTypeOf(req.headers["content-type"]);
    return handleResource({
      api: opts.api,
      method,
      route,
      query: url.searchParams,
      accept,
      body: readBody,
      patchType: () => patchTypeOf(req.headers["content-type"]),
      req,
      res,
      watches,
      logs: opts.logs,
      closing: closing.signal,
      warnings,
      maxWatchSeconds: opts.watchTimeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800),
    });
  }

  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createHttpServer(handler);
  // Slow or stuck clients must not pin sockets forever; watches are long but keep writing.
  server.headersTimeout = 30_000;
  server.requestTimeout = 0;
  server.keepAliveTimeout = 30_000;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
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
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        watches.stopAll();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** 406: NotAcceptable is not among the reasons errors.ts knows, so the Status is built here. */
function notAcceptable(message: string): Reply {
  return {
    status: 406,
    body: { apiVersion: "v1", kind: "Status", metadata: {}, status: "Failure", message, reason: "NotAcceptable", code: 406 },
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  const h = req.headers.authorization;
  if (!h) return false;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m !== null && tokenMatches(m[1], token);
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
  if (status.code === 413 || status.code === 400) headers["Connection"] = "close";
  sendJson(res, status.code, status, headers);
}

export { mediaType };
