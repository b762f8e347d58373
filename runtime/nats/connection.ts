/**
 * The NATS connection and JetStream handles. The only module that imports the Node transport,
 * so a Deno build could swap it for `@nats-io/transport-deno` in one place.
 */
import { NatsConnectionImpl, setTransportFactory, type NatsConnection } from "@nats-io/transport-node";
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js";
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

/**
 * The Node transport, with what the client sends in one turn of the event loop leaving in one
 * socket write. The client flushes its outbound buffer at the end of each task (a microtask), so
 * a busy process (a watch cache applying a batch of changes, the node agents answering them)
 * made one `write` per callback: four commands per write on average in the 5,000-pod scheduling
 * run, and every write on loopback also runs nats-server's receive path and wakes it. Here the
 * socket is corked at the turn's first write and uncorked once the turn's I/O callbacks are done
 * (`setImmediate`), so they leave in one `writev`. A write waits at most until the end of that
 * turn. Measured in docs/benchmarks.md.
 */
export class CoalescingTransport extends NodeTransport {
  private corked = false;

  override send(frame: Uint8Array): void {
    const socket = this.socket;
    if (socket && !this.corked && !this.isClosed) {
      this.corked = true;
      socket.cork();
      setImmediate(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    super.send(frame);
  }
}

/** transport-node's `connect`, with the coalescing transport. */
function connect(opts: Parameters<typeof NatsConnectionImpl.connect>[0]): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(opts);
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
