/**
 * The live page, served by the API server under /ui/ (docs/dashboard.md).
 *
 *   GET  /ui/                  the page (signed in) or the login form
 *   GET  /ui/login?code=C      spends a one-time code: session cookie, 303 to /ui/
 *   POST /ui/login             the cluster token from the form: session cookie, 303 to /ui/
 *   POST /ui/logout            ends the session
 *   POST /ui/login-codes       (bearer token, as the REST API) a one-time code for `berth dashboard`
 *   GET  /ui/assets/*          the bundle, its stylesheet and icon (public: they hold no data)
 *   GET  /ui/api/feed          (session) Server-Sent Events: snapshot, then coalesced changes
 *   POST /ui/api/actions       (session + CSRF) scale an RC/Deployment/RS/StatefulSet, delete a pod, cordon/uncordon a node
 *   GET  /ui/api/logs          (session) a container's log tail, followed, as text
 *
 * A session stands for the cluster token's holder (sessions.ts), and every action goes through
 * the same `ApiClient` the REST handlers use, so the page can do what the token can — no more.
 * Actions also need the session's CSRF token in `X-Berth-CSRF`, a JSON body, and (when the
 * browser names one) this origin; the cookie is SameSite=Strict besides.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiClient } from "../../model/client.ts";
import { ApiError, BadRequestError, toStatus } from "../../model/errors.ts";
import { RESOURCES } from "../../model/types.ts";
import { tokenMatches } from "../tls.ts";
import type { LogProvider } from "../../model/client.ts";
import { runFeed } from "./feed.ts";
import { appPage, loginPage, SECURITY_HEADERS } from "./pages.ts";
import { clearedCookie, csrfMatches, sessionCookie, sessionIdFrom, SessionStore, type Session } from "./sessions.ts";
import { parseAction, type UiAction } from "./actions.ts";

export interface DashboardOptions {
  api: ApiClient;
  /** The cluster's bearer token. */
  token: string;
  /** Served over TLS: the cookie gets `Secure`. */
  secure: boolean;
  logs?: LogProvider;
  /** Ends open feeds and log tails when the server closes. */
  closing: AbortSignal;
  sessions?: SessionStore;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

export interface Dashboard {
  /** Serves one request whose path is /ui or under /ui/. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

const ASSETS: Record<string, string> = {
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};
const ASSET_DIR = new URL("../../ui/dist/", import.meta.url);
const assetCache = new Map<string, Buffer>();

function asset(name: string): Buffer {
  let b = assetCache.get(name);
  if (!b) {
    b = readFileSync(new URL(name, ASSET_DIR));
    assetCache.set(name, b);
  }
  return b;
}

export function createDashboard(opts: DashboardOptions): Dashboard {
  const sessions = opts.sessions ?? new SessionStore();
  const log = opts.log ?? (() => {});

  const sessionOf = (req: IncomingMessage): Session | undefined => sessions.get(sessionIdFrom(req.headers.cookie));

  function signIn(res: ServerResponse, s: Session): void {
    res.writeHead(303, { ...SECURITY_HEADERS, Location: "/ui/", "Set-Cookie": sessionCookie(s, opts.secure), "Cache-Control": "no-store" });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    const path = url.pathname;
    try {
      if (path === "/ui") return redirect(res, "/ui/");
      if (path === "/ui/") {
        if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method, path);
        const s = sessionOf(req);
        return html(res, s ? 200 : 401, s ? appPage(s.csrf) : loginPage());
      }
      if (path.startsWith("/ui/assets/")) {
        const name = path.slice("/ui/assets/".length);
        const type = ASSETS[name];
        if (!type) throw new ApiError("NotFound", "no such asset");
        if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(method, path);
        const body = asset(name);
        res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": body.length, "Cache-Control": "no-cache" });
        res.end(method === "HEAD" ? undefined : body);
        return;
      }
      if (path === "/ui/login") {
        if (method === "GET") {
          const s = sessions.redeemCode(url.searchParams.get("code") ?? "");
          if (!s) return html(res, 401, loginPage("That sign-in link has expired or was already used. Run `berth dashboard` for a new one, or sign in with the cluster token."));
          return signIn(res, s);
        }
        if (method === "POST") {
          if (!sameOrigin(req, opts.secure)) throw new ApiError("Forbidden", "cross-origin sign-in refused");
          const form = new URLSearchParams(await readText(req, 8192));
          if (!tokenMatches(form.get("token") ?? "", opts.token)) return html(res, 401, loginPage("That token was refused."));
          return signIn(res, sessions.createSession());
        }
        throw methodNotAllowed(method, path);
      }
      if (path === "/ui/logout") {
        if (method !== "POST") throw methodNotAllowed(method, path);
        const s = sessionOf(req);
        if (!s || !csrfMatches(header(req, "x-berth-csrf"), s) || !sameOrigin(req, opts.secure)) throw new ApiError("Forbidden", "CSRF check failed");
        sessions.end(s.id);
        res.writeHead(204, { ...SECURITY_HEADERS, "Set-Cookie": clearedCookie(opts.secure) });
        res.end();
        return;
      }
      if (path === "/ui/login-codes") {
        if (method !== "POST") throw methodNotAllowed(method, path);
        if (!bearerMatches(req, opts.token)) throw new ApiError("Unauthorized", "Unauthorized");
        const { code, expiresAt } = sessions.issueCode();
        return json(res, 201, { path: `/ui/login?code=${encodeURIComponent(code)}`, expiresAt: new Date(expiresAt).toISOString() });
      }
      if (path.startsWith("/ui/api/")) {
        const s = sessionOf(req);
        if (!s) throw new ApiError("Unauthorized", "sign in first (berth dashboard prints a link)");
        switch (path) {
          case "/ui/api/feed":
            if (method !== "GET") throw methodNotAllowed(method, path);
            return await serveFeed(req, res);
          case "/ui/api/logs":
            if (method !== "GET") throw methodNotAllowed(method, path);
            return await serveLogs(req, res, url);
          case "/ui/api/actions": {
            if (method !== "POST") throw methodNotAllowed(method, path);
            if (!csrfMatches(header(req, "x-berth-csrf"), s) || !sameOrigin(req, opts.secure)) throw new ApiError("Forbidden", "CSRF check failed");
            if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new ApiError("UnsupportedMediaType", "actions are JSON");
            const action = parseAction(parseJson(await readText(req, 16_384)));
            return json(res, 200, await perform(opts.api, action));
          }
        }
      }
      throw new ApiError("NotFound", "the server could not find the requested resource");
    } catch (e) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!(e instanceof ApiError)) log("ui: internal error", { method, path, error: e instanceof Error ? e.stack : String(e) });
      const status = toStatus(e);
      json(res, status.code, status);
    }
  }

  async function serveFeed(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stop = new AbortController();
    const end = () => stop.abort();
    req.on("close", end);
    res.on("close", end);
    opts.closing.addEventListener("abort", end, { once: true });
    res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store", "X-Accel-Buffering": "no" });
    res.flushHeaders();
    // A comment line every 15 s keeps idle proxies and the browser from giving up on the stream.
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    try {
      await runFeed({
        api: opts.api,
        signal: stop.signal,
        canSend: () => !res.writableNeedDrain,
        send: (msg) => void res.write(`data: ${JSON.stringify(msg)}\n\n`),
        log,
      });
    } catch (e) {
      log("ui: feed failed", { error: String(e) });
    } finally {
      clearInterval(ping);
      opts.closing.removeEventListener("abort", end);
      if (!res.writableEnded) res.end();
    }
  }

  async function serveLogs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!opts.logs) throw new ApiError("ServiceUnavailable", "this server has no log source");
    const namespace = url.searchParams.get("namespace") || "default";
    const name = url.searchParams.get("pod") ?? "";
    const pod = await opts.api.get("pods", name, namespace);
    const container = url.searchParams.get("container") || pod.spec.containers[0]?.name;
    if (!container || !pod.spec.containers.some((c) => c.name === container)) throw new BadRequestError(`container ${JSON.stringify(container)} is not in pod ${name}`);
    const stop = new AbortController();
    const end = () => stop.abort();
    req.on("close", end);
    res.on("close", end);
    opts.closing.addEventListener("abort", end, { once: true });
    try {
      const stream = await opts.logs({ namespace, pod: name, container, follow: true, tailLines: 200, signal: stop.signal });
      res.writeHead(200, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store" });
      res.flushHeaders();
      for await (const chunk of stream) {
        if (stop.signal.aborted) break;
        res.write(chunk);
      }
    } finally {
      opts.closing.removeEventListener("abort", end);
      stop.abort();
      if (!res.writableEnded) res.end();
    }
  }

  return { handle };
}

/** Performs one page action through the API, as the token's holder. */
export async function perform(api: ApiClient, a: UiAction): Promise<{ ok: true; message: string }> {
  switch (a.action) {
    case "scale":
      await api.updateScale(a.name, a.replicas, a.namespace, a.resource);
      return { ok: true, message: `${RESOURCES[a.resource].singular}/${a.name} scaled to ${a.replicas}` };
    case "deletePod":
      await api.delete("pods", a.name, a.namespace);
      return { ok: true, message: `pod/${a.name} deleted` };
    case "cordon":
    case "uncordon":
      await api.patch("nodes", a.name, { spec: { unschedulable: a.action === "cordon" ? true : null } }, { type: "merge" });
      return { ok: true, message: `node/${a.name} ${a.action}ed` };
  }
}

function methodNotAllowed(method: string, path: string): ApiError {
  return new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} ${path}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bearerMatches(req: IncomingMessage, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec((req.headers.authorization ?? "").trim());
  return m !== null && tokenMatches(m[1], token);
}

/**
 * True unless the browser says the request comes from another site: `Origin`, when sent, must be
 * this server's own, and `Sec-Fetch-Site`, when sent, must be same-origin (or none: typed in).
 */
export function sameOrigin(req: IncomingMessage, secure: boolean): boolean {
  const site = header(req, "sec-fetch-site");
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  const origin = header(req, "origin");
  if (origin === undefined) return true;
  return origin === `${secure ? "https" : "http"}://${req.headers.host ?? ""}`;
}

function readText(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new ApiError("RequestEntityTooLarge", "request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("request body is not valid JSON");
  }
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(301, { ...SECURITY_HEADERS, Location: location });
  res.end();
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(body), "Cache-Control": "no-store" });
  res.end(body);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store" });
  res.end(text);
}
