/**
 * A tiny HTTPS/HTTP client for the REST API tests: node:https with the test CA, so the
 * certificate is verified exactly as kubectl would, and raw bodies can be sent (garbage, huge).
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ClientOptions {
  baseUrl: string;
  ca?: string;
  token?: string;
}

export function call(
  c: ClientOptions,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; contentType?: string; accept?: string; token?: string | null } = {},
): Promise<RawResponse> {
  const url = new URL(path, c.baseUrl);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? c.token : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.accept) headers.accept = opts.accept;
  let payload: string | Buffer | undefined;
  if (opts.raw !== undefined) payload = opts.raw;
  else if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) {
    headers["content-type"] = opts.contentType ?? "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  else if (opts.contentType) headers["content-type"] = opts.contentType;
  const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method, headers, ca: c.ca });
  return new Promise((resolve, reject) => {
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (payload !== undefined) req.end(payload);
    else req.end();
  });
}

/**
 * Opens a streaming GET (a watch) and collects newline-delimited JSON events until `until`
 * returns true for the list so far or the deadline passes; then closes the connection.
 */
export function stream(
  c: ClientOptions,
  path: string,
  until: (events: any[]) => boolean, // eslint-disable-line @typescript-eslint/no-explicit-any
  opts: { accept?: string; timeoutMs?: number; onOpen?: () => void } = {},
): Promise<{ events: any[]; status: number; ended: boolean }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const url = new URL(path, c.baseUrl);
  const headers: Record<string, string> = { authorization: `Bearer ${c.token}` };
  if (opts.accept) headers.accept = opts.accept;
  const req = (url.protocol === "https:" ? httpsRequest : httpRequest)(url, { method: "GET", headers, ca: c.ca });
  return new Promise((resolve, reject) => {
    const events: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    let buf = "";
    let status = 0;
    let done = false;
    const finish = (ended: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ events, status, ended });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 5000);
    req.on("response", (res) => {
      status = res.statusCode ?? 0;
      opts.onOpen?.();
      res.on("data", (d: Buffer) => {
        buf += d.toString("utf8");
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) events.push(JSON.parse(line));
        }
        if (until(events)) finish(false);
      });
      res.on("end", () => finish(true));
    });
    req.on("error", (e) => (done ? undefined : reject(e)));
    req.end();
  });
}
