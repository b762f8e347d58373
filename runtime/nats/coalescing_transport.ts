/**
 * The Node transport of the NATS client, with what the client sends in one turn of the event loop
 * leaving in one socket write; and `connect`, transport-node's own with this transport.
 *
 * The client flushes its outbound buffer at the end of each task (a microtask), so a busy process
 * (a watch cache applying a batch of changes, node agents answering them) made one `write` per
 * callback: about four commands per write in the 5,000-pod scheduling run, and on loopback every
 * write also runs nats-server's receive path and wakes it. Here the socket is corked at a turn's
 * first write and uncorked once the turn's I/O callbacks are done (`setImmediate`), so they leave
 * in one `writev`; a write waits at most until the end of that turn. Figures in
 * docs/benchmarks.md ("NATS writes coalesced per event-loop turn").
 *
 * The client makes every transport, reconnections' included, from one factory set for the whole
 * process, which `connect` here sets. Berth connects only through connectNats (connection.ts);
 * anything calling transport-node's own `connect` in the same process would put back the plain
 * transport for the connections made after it, which would work as before, uncoalesced.
 *
 * The read verbs' one-file bundle maps this module to runtime/nats/lite.ts, as it maps the NATS
 * packages (scripts/cjs_bundle.mjs).
 */
import { errors, hasWsProtocol, NatsConnectionImpl, setTransportFactory, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js";

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

  /**
   * The client's `close()` destroys the socket without flushing it, so what this turn wrote would
   * be dropped with the cork: it is sent first, as it was when every task wrote at once.
   */
  override close(err?: Error): Promise<void> {
    if (this.corked) {
      this.corked = false;
      this.socket?.uncork();
    }
    return super.close(err);
  }
}

/** transport-node's `connect` (which sets its transport for every connection it makes), with CoalescingTransport. */
export function connect(opts: ConnectionOptions): Promise<NatsConnection> {
  if (hasWsProtocol(opts)) {
    return Promise.reject(errors.InvalidArgumentError.format("servers", "node client doesn't support websockets, use the 'wsconnect' function instead"));
  }
  setTransportFactory({ factory: () => new CoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(opts);
}
