/**
 * The NATS connection and JetStream handles. With coalescing_transport.ts, the only modules that
 * import the Node transport, so a Deno build could swap it for `@nats-io/transport-deno` there.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "./coalescing_transport.ts";
import { isToken, subjects } from "../subjects.ts";

export type { NatsConnection };

export interface ConnectOptions {
  servers: string | string[];
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /**
   * Prefix of reply subjects. Default with a `user`: `_INBOX_<user>`, the only inbox a Berth
   * identity may read (runtime/nats/auth.ts), so no other client can read its replies.
   */
  inboxPrefix?: string;
  /** Default: reconnect forever (watches survive a server restart). */
  maxReconnectAttempts?: number;
  timeoutMs?: number;
}

/** Connects with unlimited reconnects by default, so watches survive a server restart. */
export async function connectNats(opts: ConnectOptions): Promise<NatsConnection> {
  const inboxPrefix = opts.inboxPrefix ?? (opts.user !== undefined && isToken(opts.user) ? subjects.inboxPrefix(opts.user) : undefined);
  return await connect({
    servers: opts.servers,
    name: opts.name,
    user: opts.user,
    pass: opts.pass,
    token: opts.token,
    ...(inboxPrefix ? { inboxPrefix } : {}),
    maxReconnectAttempts: opts.maxReconnectAttempts ?? -1,
    reconnectTimeWait: 250,
    timeout: opts.timeoutMs ?? 5_000,
    pingInterval: 10_000,
    // Without this the client builds an Error (a stack trace) for every request and every
    // timeout, in case one fails: 12% of all CPU in the 5,000-pod scheduling profile
    // (docs/benchmarks.md). Failed requests still say what failed.
    noAsyncTraces: true,
  });
}
