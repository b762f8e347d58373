/**
 * A small NATS client for one short command: what `berth get` and `berth describe` need of
 * `@nats-io/nats-core` and `@nats-io/transport-node`, and nothing else — connect with a user and
 * password or a token, request/reply with headers, subscribe, close. The read verbs' one-file
 * bundle (dist/cli/main.cjs, scripts/cjs_bundle.mjs) is built with this module in place of those
 * two packages, so `NatsApiClient` and `connectNats` run on it unchanged. The full client is
 * 310 KB of JavaScript that every `berth get` used to read and restore before sending a single
 * request; this one is a few hundred lines (docs/benchmarks.md, "CLI start-up").
 *
 * What it leaves out, on purpose: reconnecting (a lost connection ends the command with an
 * error, as the CLI's three reconnect attempts to a cluster that went away also do), TLS, NKeys
 * and JWTs (a Berth cluster's NATS is plain TCP with user/password identities), JetStream,
 * queue groups, flow control and the client's own pings (the server's pings are answered).
 *
 *   connecting ──INFO──▶ CONNECT+PING sent ──PONG──▶ open ──close() / socket end──▶ closed
 *        └──── -ERR / socket error / timeout ───────────▶ connect() rejects
 *
 * Errors carry the names nats-core gives them (`TimeoutError`, `NoRespondersError`,
 * `PermissionViolationError`), which is what `NatsApiClient` looks at.
 */
import { dial, type Wire } from "./lite_wire.ts";

/** The subset of nats-core's message headers the API client uses. */
export interface LiteHeaders {
  set(key: string, value: string): void;
  get(key: string): string;
  has(key: string): boolean;
  keys(): string[];
  /** The status code of a status message (`NATS/1.0 503`), 0 for none. */
  readonly code: number;
}

class Headers implements LiteHeaders {
  readonly map = new Map<string, string>();
  constructor(readonly code = 0, readonly description = "") {}
  set(key: string, value: string): void {
    if (/[\r\n:]/.test(key) || /[\r\n]/.test(value)) throw new Error(`invalid NATS header ${JSON.stringify(key)}`);
    this.map.set(key, value);
  }
  get(key: string): string {
    return this.map.get(key) ?? "";
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  keys(): string[] {
    return [...this.map.keys()];
  }
  static decode(text: string): Headers {
    const lines = text.split("\r\n");
    const m = /^NATS\/1\.0(?: (\d{3})(?: (.*))?)?$/.exec(lines[0]);
    const h = new Headers(m?.[1] ? Number(m[1]) : 0, m?.[2] ?? "");
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) h.map.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    return h;
  }
}

/** nats-core's `headers()`: an empty set of message headers. */
export function headers(): LiteHeaders {
  return new Headers();
}

/**
 * nats-core's `nuid`: unique tokens for inboxes and watch ids (22 characters of [A-Za-z0-9]).
 * Unique, not secret: every reply subject under an identity's inbox prefix is readable by that
 * identity anyway (runtime/nats/auth.ts), so `Math.random` does, without loading node:crypto.
 */
export const nuid = {
  next(): string {
    const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let s = "";
    for (let i = 0; i < 22; i++) s += alphabet[Math.floor(Math.random() * 62)];
    return s;
  },
};

/** nats-core's `createInbox`: a fresh reply subject under `prefix` (default `_INBOX`). */
export function createInbox(prefix = "_INBOX"): string {
  return `${prefix}.${nuid.next()}`;
}

/** A received message, as nats-core's `Msg` offers it to the API client. */
export class LiteMsg {
  constructor(readonly subject: string, readonly reply: string, readonly data: Uint8Array, readonly headers?: LiteHeaders) {}
  string(): string {
    return Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength).toString("utf8");
  }
  json<T>(): T {
    return JSON.parse(this.string()) as T;
  }
}

function named(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** A subscription: an async iterable of its messages until `unsubscribe()` or the connection ends. */
export class LiteSubscription implements AsyncIterable<LiteMsg> {
  private readonly queue: LiteMsg[] = [];
  private wake: (() => void) | null = null;
  private done = false;
  private error: Error | null = null;
  constructor(private readonly conn: LiteConnection, readonly sid: number, readonly subject: string) {}
  /** @internal */
  push(m: LiteMsg): void {
    if (this.done) return;
    this.queue.push(m);
    this.wake?.();
  }
  /** @internal Ends the iteration, with `error` thrown to the reader when given. */
  end(error?: Error): void {
    if (this.done) return;
    this.done = true;
    this.error = error ?? null;
    this.wake?.();
  }
  unsubscribe(): void {
    if (this.done) return;
    this.end();
    this.conn.unsub(this.sid);
  }
  isClosed(): boolean {
    return this.done;
  }
  async *[Symbol.asyncIterator](): AsyncIterator<LiteMsg> {
    for (;;) {
      const m = this.queue.shift();
      if (m) {
        yield m;
        continue;
      }
      if (this.done) {
        if (this.error) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = null;
    }
  }
}

interface Pending {
  resolve(m: LiteMsg): void;
  reject(e: Error): void;
  subject: string;
  timer: NodeJS.Timeout;
}

/** The options of nats-core's `connect` this client reads; the others are accepted and ignored. */
export interface LiteConnectOptions {
  servers?: string | string[];
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  inboxPrefix?: string;
  /** Connect timeout (ms), default 5,000. */
  timeout?: number;
  [other: string]: unknown;
}

interface ServerInfo {
  max_payload?: number;
  headers?: boolean;
  tls_required?: boolean;
  auth_required?: boolean;
}

const CRLF = Buffer.from("\r\n");

/** The header block of a message: these headers, or nats-core's (the same `keys` and `get`). */
function encodeHeaders(h: Pick<LiteHeaders, "keys" | "get"> | undefined): string {
  const keys = h?.keys() ?? [];
  if (keys.length === 0) return "";
  let s = "NATS/1.0\r\n";
  for (const k of keys) s += `${k}: ${h!.get(k)}\r\n`;
  return `${s}\r\n`;
}

export class LiteConnection {
  readonly options: { user?: string; inboxPrefix: string };
  private info: ServerInfo = {};
  private buf: Buffer = Buffer.alloc(0);
  /** While a payload is incomplete: its chunks so far, their size, and the size needed. */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private need = 0;
  private nextSid = 1;
  private readonly subs = new Map<number, LiteSubscription>();
  private readonly pending = new Map<string, Pending>();
  private muxSid = 0;
  private readonly muxPrefix: string;
  private nextToken = 0;
  private closed = false;
  private connectDone: ((e?: Error) => void) | null = null;
  private readonly closedPromise: Promise<void>;

  private readonly wire: Wire;

  /** @internal Use `connect()`. */
  constructor(host: string, port: number, private readonly opts: LiteConnectOptions, force?: "net") {
    const inboxPrefix = opts.inboxPrefix ?? "_INBOX";
    this.options = { user: opts.user, inboxPrefix };
    this.muxPrefix = `${inboxPrefix}.${nuid.next()}`;
    let closed!: () => void;
    this.closedPromise = new Promise((resolve) => (closed = resolve));
    this.wire = dial(host, port, {
      onConnect: () => {},
      onData: (d) => this.onData(d),
      onClose: (e) => {
        const code = (e as NodeJS.ErrnoException | undefined)?.code;
        this.fail(named("ConnectionError", code === "ECONNREFUSED" ? "connection refused" : e?.message ?? "the NATS connection closed"));
        closed();
      },
    }, { force });
  }

  /** The connection underneath: a libuv handle or a `net.Socket` (lite_wire.ts). */
  get wireKind(): "handle" | "net" {
    return this.wire.kind;
  }

  /** @internal Resolves once the server has accepted CONNECT (its PONG), rejects on -ERR. */
  handshake(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(named("TimeoutError", `no answer from the NATS server within ${timeoutMs} ms`)), timeoutMs);
      const done = (e?: Error) => {
        clearTimeout(timer);
        this.connectDone = null;
        if (e) {
          this.wire.destroy();
          reject(e);
        } else resolve();
      };
      this.connectDone = done;
    });
  }

  private write(s: string | Buffer): void {
    if (!this.closed) this.wire.write(s);
  }

  private onData(d: Buffer): void {
    if (this.need > 0) {
      // A message's payload is still arriving: keep the chunks, join them once it is all here.
      this.chunks.push(d);
      this.chunkBytes += d.length;
      if (this.chunkBytes < this.need) return;
      this.buf = Buffer.concat(this.chunks, this.chunkBytes);
      this.chunks = [];
      this.chunkBytes = this.need = 0;
    } else {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    }
    let at = 0;
    for (;;) {
      const eol = this.buf.indexOf(CRLF, at);
      if (eol < 0) break;
      const line = this.buf.toString("latin1", at, eol);
      if (line.startsWith("MSG ") || line.startsWith("HMSG ")) {
        const parts = line.split(" ");
        const withHeaders = parts[0] === "HMSG";
        const total = Number(parts[parts.length - 1]);
        const start = eol + 2;
        if (this.buf.length < start + total + 2) {
          // The payload is still on its way: wait for all of it before parsing again.
          this.need = start + total + 2 - at;
          break;
        }
        const hlen = withHeaders ? Number(parts[parts.length - 2]) : 0;
        const reply = parts.length === (withHeaders ? 6 : 5) ? parts[3] : "";
        const h = withHeaders ? Headers.decode(this.buf.toString("utf8", start, start + hlen)) : undefined;
        // A copy: the buffer it came from is reused for what follows.
        const data = Buffer.from(this.buf.subarray(start + hlen, start + total));
        at = start + total + 2;
        this.deliver(Number(parts[2]), new LiteMsg(parts[1], reply, data, h));
        continue;
      }
      at = eol + 2;
      this.control(line);
    }
    this.buf = at >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(at);
    if (this.need > 0) {
      this.chunks = [this.buf];
      this.chunkBytes = this.buf.length;
      this.buf = Buffer.alloc(0);
    }
  }

  private control(line: string): void {
    if (line === "PING") this.write("PONG\r\n");
    else if (line === "PONG") this.connectDone?.();
    else if (line.startsWith("INFO ")) {
      const first = this.connectDone !== null && Object.keys(this.info).length === 0;
      this.info = JSON.parse(line.slice(5)) as ServerInfo;
      if (first) this.sendConnect();
    } else if (line.startsWith("-ERR")) this.serverError(line.slice(4).trim().replace(/^'|'$/g, ""));
  }

  private sendConnect(): void {
    if (this.info.tls_required) {
      this.connectDone?.(named("ConnectionError", "the NATS server requires TLS, which `berth get`/`describe`'s small client does not speak"));
      return;
    }
    const o = this.opts;
    const connect = {
      verbose: false,
      pedantic: false,
      protocol: 1,
      headers: true,
      no_responders: true,
      lang: "berth-lite",
      version: "1",
      ...(o.name ? { name: o.name } : {}),
      ...(o.user !== undefined ? { user: o.user, pass: o.pass ?? "" } : {}),
      ...(o.token !== undefined ? { auth_token: o.token } : {}),
    };
    this.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
  }

  private serverError(message: string): void {
    if (this.connectDone) {
      this.connectDone(named(/authorization/i.test(message) ? "AuthorizationError" : "ConnectionError", message));
      return;
    }
    const perm = /^Permissions Violation for (Publish|Subscription) to "?([^"\s]+)"?/i.exec(message);
    if (perm) {
      const e = named("PermissionViolationError", message);
      if (perm[1].toLowerCase() === "publish") {
        for (const [token, p] of this.pending) {
          if (p.subject === perm[2]) this.settle(token)?.reject(e);
        }
      } else {
        for (const s of this.subs.values()) if (s.subject === perm[2]) s.end(e);
      }
      return;
    }
    // Any other -ERR closes the connection on the server's side; the socket's close fails the rest.
    this.fail(named("ConnectionError", message));
  }

  private deliver(sid: number, m: LiteMsg): void {
    if (sid === this.muxSid) {
      const token = m.subject.slice(this.muxPrefix.length + 1);
      const p = this.settle(token);
      if (!p) return;
      if (m.headers?.code === 503 && m.data.length === 0) p.reject(named("NoRespondersError", `no responders: ${p.subject}`));
      else p.resolve(m);
      return;
    }
    this.subs.get(sid)?.push(m);
  }

  private settle(token: string): Pending | undefined {
    const p = this.pending.get(token);
    if (!p) return undefined;
    this.pending.delete(token);
    clearTimeout(p.timer);
    return p;
  }

  private fail(e: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.connectDone?.(e);
    for (const token of [...this.pending.keys()]) this.settle(token)!.reject(e);
    for (const s of this.subs.values()) s.end(e);
    this.subs.clear();
    this.wire.destroy();
  }

  private publishFrame(subject: string, reply: string, payload: string | Uint8Array, h?: LiteHeaders): void {
    const body = typeof payload === "string" ? Buffer.from(payload) : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const hdr = encodeHeaders(h);
    const size = Buffer.byteLength(hdr) + body.length;
    if (this.info.max_payload !== undefined && size > this.info.max_payload) {
      throw named("InvalidArgumentError", `message size (${size}) exceeds the server's max_payload (${this.info.max_payload})`);
    }
    const r = reply ? ` ${reply}` : "";
    const head = hdr ? `HPUB ${subject}${r} ${Buffer.byteLength(hdr)} ${size}\r\n${hdr}` : `PUB ${subject}${r} ${size}\r\n`;
    this.write(Buffer.concat([Buffer.from(head), body, CRLF]));
  }

  /** Publishes one message. */
  publish(subject: string, payload: string | Uint8Array = "", opts: { reply?: string; headers?: LiteHeaders } = {}): void {
    if (this.closed) throw named("ClosedConnectionError", "the NATS connection is closed");
    this.publishFrame(subject, opts.reply ?? "", payload, opts.headers);
  }

  /** Sends a request and resolves with the first reply; `noMux` + `reply` listen on that subject alone. */
  request(subject: string, payload: string | Uint8Array = "", opts: { timeout?: number; headers?: LiteHeaders; noMux?: boolean; reply?: string } = {}): Promise<LiteMsg> {
    if (this.closed) return Promise.reject(named("ClosedConnectionError", "the NATS connection is closed"));
    const timeout = opts.timeout ?? 10_000;
    if (opts.noMux) return this.requestOwnInbox(subject, payload, timeout, opts.reply ?? createInbox(this.options.inboxPrefix), opts.headers);
    if (this.muxSid === 0) {
      this.muxSid = this.nextSid++;
      this.write(`SUB ${this.muxPrefix}.* ${this.muxSid}\r\n`);
    }
    const token = String(this.nextToken++);
    return new Promise<LiteMsg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(named("TimeoutError", `timeout: no reply to ${subject} within ${timeout} ms`));
      }, timeout);
      this.pending.set(token, { resolve, reject, subject, timer });
      try {
        this.publishFrame(subject, `${this.muxPrefix}.${token}`, payload, opts.headers);
      } catch (e) {
        this.settle(token);
        reject(e as Error);
      }
    });
  }

  private async requestOwnInbox(subject: string, payload: string | Uint8Array, timeout: number, reply: string, h?: LiteHeaders): Promise<LiteMsg> {
    const sub = this.subscribe(reply);
    const timer = setTimeout(() => sub.end(named("TimeoutError", `timeout: no reply to ${subject} within ${timeout} ms`)), timeout);
    try {
      this.publishFrame(subject, reply, payload, h);
      for await (const m of sub) {
        if (m.headers?.code === 503 && m.data.length === 0) throw named("NoRespondersError", `no responders: ${subject}`);
        return m;
      }
      throw named("ClosedConnectionError", "the NATS connection is closed");
    } finally {
      clearTimeout(timer);
      sub.unsubscribe();
    }
  }

  /** Subscribes to `subject` (wildcards allowed). */
  subscribe(subject: string): LiteSubscription {
    const sid = this.nextSid++;
    const sub = new LiteSubscription(this, sid, subject);
    if (this.closed) {
      sub.end(named("ClosedConnectionError", "the NATS connection is closed"));
      return sub;
    }
    this.subs.set(sid, sub);
    this.write(`SUB ${subject} ${sid}\r\n`);
    return sub;
  }

  /** @internal */
  unsub(sid: number): void {
    if (this.subs.delete(sid)) this.write(`UNSUB ${sid}\r\n`);
  }

  isClosed(): boolean {
    return this.closed;
  }

  /** Ends the connection: subscriptions end, pending requests fail. */
  async close(): Promise<void> {
    if (!this.closed) {
      for (const s of this.subs.values()) s.end();
      this.subs.clear();
      this.closed = true;
      for (const token of [...this.pending.keys()]) this.settle(token)!.reject(named("ClosedConnectionError", "the NATS connection is closed"));
      this.wire.end();
    }
    await this.closedPromise;
  }
}

/** The first server of `servers` as host and port (`nats://host:port`, `host:port`, default port 4222). */
export function serverAddress(servers: string | string[] | undefined): { host: string; port: number } {
  const first = (Array.isArray(servers) ? servers[0] : servers) ?? "nats://127.0.0.1:4222";
  const url = new URL(first.includes("://") ? first : `nats://${first}`);
  if (url.protocol !== "nats:") throw named("InvalidArgumentError", `${first}: only nats:// servers are supported by \`berth get\`/\`describe\``);
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : 4222 };
}

/** nats-core's `connect`, for what the read verbs need (see the module's comment). */
export async function connect(opts: LiteConnectOptions & { wire?: "net" } = {}): Promise<LiteConnection> {
  const { host, port } = serverAddress(opts.servers);
  const conn = new LiteConnection(host, port, opts, opts.wire);
  await conn.handshake(opts.timeout ?? 5_000);
  return conn;
}
