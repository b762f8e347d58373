/**
 * A userspace TCP load balancer for one service port (kube-proxy's userspace mode, done with
 * Node streams). Each listen address (ClusterIP:port, and node address:nodePort for NodePort
 * services) accepts connections and forwards them to one ready endpoint:
 *
 *   accept (paused) ──▶ dial candidate 1 ──fail/timeout──▶ dial candidate 2 ... ──▶ give up: reset
 *                            │ connected
 *                            ▼
 *                   copy both ways with backpressure, half-close passed through,
 *                   an error or full close on either side destroys both   (forward.ts)
 *
 * `setEndpoints` only changes where new connections go: connections already forwarded to a
 * removed endpoint finish on their own.
 *
 * Two implementations of a connection, one contract: raw_forward.ts drives libuv's TCP handles
 * directly (accepted connections never become `net.Socket`s; the fast path, used whenever the
 * bindings exist and every endpoint is an IP literal), forward.ts uses sockets (Deno, or
 * endpoints given by name).
 */
import net from "node:net";
import { Balancer, type ProxyTarget } from "./balancer.ts";
import { Forward, type ForwardHost } from "./forward.ts";
import { RawForward, rawAvailable, type RawForwardHost } from "./raw_forward.ts";
import { type StatsDelta, WorkerPool } from "./worker_pool.ts";

export type { ProxyTarget } from "./balancer.ts";

/** Dial timeouts per attempt, growing, as kube-proxy's userspace proxier. */
export const DEFAULT_DIAL_TIMEOUTS_MS = [250, 500, 1000, 2000] as const;

export interface TcpProxyOptions {
  /** Where to accept connections; port 0 picks a free one. */
  listen: { host: string; port: number }[];
  /** For logs. */
  name?: string;
  /** ClientIP session affinity with this idle timeout; absent or 0 disables it. */
  affinityTimeoutSeconds?: number;
  dialTimeoutsMs?: readonly number[];
  /**
   * Worker processes that accept on the same listeners and forward too (worker_pool.ts): more
   * event loops for connection churn. 0 (the default) serves on this thread only, as does a proxy
   * with ClientIP affinity, and any proxy where workers cannot run (Deno). With workers, endpoint
   * updates reach them within an IPC message and their counters join `stats` within 200 ms.
   */
  workers?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** A listener could not be opened (address not assigned, port taken, ...). */
export class ProxyListenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProxyListenError";
  }
}

export interface ProxyStats {
  accepted: number;
  active: number;
  forwarded: number;
  dialFailures: number;
  /** Connections closed because no endpoint could be reached. */
  rejected: number;
  /** Connections forwarded per endpoint key. */
  perEndpoint: Record<string, number>;
  /** Bytes read from and written to clients, counted as each connection closes. */
  bytesIn: number;
  bytesOut: number;
}

/** A listening socket's libuv handle, whose accept callback the fast path takes over. */
type ListenHandle = { onconnection: (err: number, client: unknown) => void };

export class TcpProxy implements ForwardHost, RawForwardHost {
  readonly name: string;
  readonly stats: ProxyStats = { accepted: 0, active: 0, forwarded: 0, dialFailures: 0, rejected: 0, perEndpoint: {}, bytesIn: 0, bytesOut: 0 };
  private readonly balancer: Balancer;
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  /** Connections on the handle path (raw_forward.ts). */
  private readonly raws = new Set<RawForward>();
  /** Every endpoint host is an IP literal, so the handle path can dial it without a lookup. */
  private rawOk = true;
  /** @internal Per-attempt dial timeouts (read by forward.ts). */
  readonly dialTimeouts: readonly number[];
  private readonly log: NonNullable<TcpProxyOptions["log"]>;
  private bound: { host: string; port: number }[] = [];
  private sweepTimer?: NodeJS.Timeout;
  /** @internal True once `stop` was called (read by forward.ts). */
  stopped = false;
  private pool?: WorkerPool;
  private poolId = 0;
  private readonly workerActive = new Map<number, number>();

  constructor(private readonly opts: TcpProxyOptions) {
    this.name = opts.name ?? "proxy";
    this.balancer = new Balancer((opts.affinityTimeoutSeconds ?? 0) * 1000);
    this.dialTimeouts = opts.dialTimeoutsMs ?? DEFAULT_DIAL_TIMEOUTS_MS;
    this.log = opts.log ?? (() => {});
  }

  /** The listen addresses with their actual ports (after `start`). */
  get addresses(): { host: string; port: number }[] {
    return this.bound;
  }

  /** Opens every listener; on any failure closes those opened and throws `ProxyListenError`. */
  async start(): Promise<{ host: string; port: number }[]> {
    try {
      for (const l of this.opts.listen) {
        const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (c) => this.accept(c));
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen({ host: l.host, port: l.port, exclusive: true }, () => {
            server.off("error", reject);
            resolve();
          });
        }).catch((e: unknown) => {
          throw new ProxyListenError(`${this.name}: cannot listen on ${l.host}:${l.port}: ${(e as Error).message}`, { cause: e });
        });
        server.on("error", (e) => this.log("proxy listener error", { proxy: this.name, error: e.message }));
        this.takeAccepts(server);
        this.servers.push(server);
        this.bound.push({ host: l.host, port: (server.address() as net.AddressInfo).port });
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.sweepTimer = setInterval(() => this.balancer.sweep(Date.now()), 60_000);
    this.sweepTimer.unref();
    this.attachWorkers();
    return this.bound;
  }

  /** Replaces the endpoints new connections go to. `key` defaults to `host:port`. */
  setEndpoints(targets: (Omit<ProxyTarget, "key"> & { key?: string })[]): void {
    this.balancer.setTargets(targets.map((t) => ({ host: t.host, port: t.port, key: t.key ?? `${t.host}:${t.port}` })));
    this.rawOk = targets.every((t) => net.isIP(t.host) !== 0);
    this.pool?.update(this.poolId, [...this.balancer.list()]);
  }

  /** Changes ClientIP affinity (0 disables). Affinity keeps the connections on this thread. */
  setAffinity(timeoutSeconds: number): void {
    this.balancer.setAffinity(timeoutSeconds * 1000);
    this.opts.affinityTimeoutSeconds = timeoutSeconds;
    if (timeoutSeconds > 0) this.detachWorkers();
    else if (this.servers.length > 0 && !this.stopped) this.attachWorkers();
  }

  /** Serves an already listening server (a worker process's copy of a listener). @internal */
  adopt(server: net.Server): void {
    const s = server as net.Server & { allowHalfOpen: boolean; pauseOnConnect: boolean; noDelay: boolean };
    // Set before the first connection: the handle was handed over in this same tick.
    s.allowHalfOpen = true;
    s.pauseOnConnect = true;
    s.noDelay = true;
    server.on("connection", (c: net.Socket) => this.accept(c));
    server.on("error", (e) => this.log("proxy listener error", { proxy: this.name, error: e.message }));
    this.takeAccepts(server);
    this.servers.push(server);
  }

  /** Process ids of the workers serving this proxy (empty when it serves on this thread only). */
  get workerPids(): number[] {
    return this.pool?.pids ?? [];
  }

  private attachWorkers(): void {
    const n = this.opts.workers ?? 0;
    if (n <= 0 || this.pool || (this.opts.affinityTimeoutSeconds ?? 0) > 0) return;
    this.pool = WorkerPool.shared(n, this.log);
    if (!this.pool) return;
    this.poolId = WorkerPool.newId();
    this.pool.attach(this.poolId, this, this.servers, { name: this.name, dialTimeoutsMs: this.dialTimeouts, targets: [...this.balancer.list()] });
  }

  private detachWorkers(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    return pool ? pool.detach(this.poolId) : Promise.resolve();
  }

  /** @internal Counters reported by a worker process. */
  workerStats(worker: number, d: StatsDelta): void {
    const st = this.stats;
    st.accepted += d.accepted;
    st.forwarded += d.forwarded;
    st.dialFailures += d.dialFailures;
    st.rejected += d.rejected;
    st.bytesIn += d.bytesIn ?? 0;
    st.bytesOut += d.bytesOut ?? 0;
    for (const [k, v] of Object.entries(d.perEndpoint)) st.perEndpoint[k] = (st.perEndpoint[k] ?? 0) + v;
    st.active += d.active - (this.workerActive.get(worker) ?? 0);
    this.workerActive.set(worker, d.active);
  }

  get endpoints(): readonly ProxyTarget[] {
    return this.balancer.list();
  }

  /** Closes the listeners and every forwarded connection (idempotent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const closing = this.servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r())));
    closing.push(this.detachWorkers());
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    for (const f of [...this.raws]) f.destroy();
    await Promise.all(closing);
  }

  /** @internal Counts a socket as open, so `stop` can close it. */
  track(s: net.Socket): void {
    this.sockets.add(s);
    s.once("close", () => this.sockets.delete(s));
  }

  /** @internal A connection on the handle path started. */
  hold(f: RawForward): void {
    this.raws.add(f);
  }

  /** @internal A connection on the handle path closed. */
  release(f: RawForward): void {
    if (!this.raws.delete(f)) return;
    this.stats.active--;
    this.stats.bytesIn += f.bytesIn;
    this.stats.bytesOut += f.bytesOut;
  }

  /**
   * The fast path: accepted connections arrive as bare handles (no `net.Socket`) and are served by
   * raw_forward.ts; a proxy whose endpoints are not all IP literals wraps them in a socket for
   * forward.ts instead. Without the bindings the server's own accept path stays.
   */
  private takeAccepts(server: net.Server): void {
    const h = (server as unknown as { _handle?: ListenHandle })._handle;
    if (!rawAvailable || !h || typeof h.onconnection !== "function") return;
    h.onconnection = (err, handle) => {
      if (err) {
        this.log("proxy accept failed", { proxy: this.name, errno: err });
        return;
      }
      if (!this.rawOk) {
        const socket = new net.Socket({ handle: handle as never, allowHalfOpen: true, pauseOnCreate: true, readable: true, writable: true } as net.SocketConstructorOpts);
        socket.setNoDelay(true);
        this.accept(socket);
        return;
      }
      const c = handle as { close(): void; getpeername(out: { address?: string }): number };
      if (this.stopped) {
        c.close();
        return;
      }
      this.stats.accepted++;
      this.stats.active++;
      let clientIp = "";
      if ((this.opts.affinityTimeoutSeconds ?? 0) > 0) {
        const out: { address?: string } = {};
        c.getpeername(out);
        clientIp = out.address ?? "";
      }
      new RawForward(this, c, clientIp, this.balancer.candidates(clientIp, Date.now()));
    };
  }

  /** @internal A dial failed: forget the client's pin to that endpoint. */
  dialFailed(clientIp: string, target: ProxyTarget, err: Error, attempt: number): void {
    this.stats.dialFailures++;
    this.balancer.failed(clientIp, target);
    this.log("dial failed", { proxy: this.name, endpoint: target.key, error: err.message, attempt });
  }

  /** @internal A connection reached `target`. */
  forwarded(clientIp: string, target: ProxyTarget): void {
    this.balancer.succeeded(clientIp, target, Date.now());
    this.stats.forwarded++;
    this.stats.perEndpoint[target.key] = (this.stats.perEndpoint[target.key] ?? 0) + 1;
  }

  /** @internal No endpoint could be reached after `tried` attempts. */
  rejected(clientIp: string, tried: number): void {
    this.stats.rejected++;
    this.log("no endpoint reachable", { proxy: this.name, client: clientIp, tried });
  }

  private readonly onClientClose = ((stats: ProxyStats) =>
    function (this: net.Socket): void {
      stats.active--;
      stats.bytesIn += this.bytesRead;
      stats.bytesOut += this.bytesWritten;
    })(this.stats);

  private accept(client: net.Socket): void {
    if (this.stopped) {
      client.destroy();
      return;
    }
    this.stats.accepted++;
    this.stats.active++;
    this.track(client);
    client.once("close", this.onClientClose);
    const clientIp = client.remoteAddress ?? "";
    // As kube-proxy: a fixed number of tries, cycling over the candidates, each with a longer timeout.
    new Forward(this, client, clientIp, this.balancer.candidates(clientIp, Date.now()));
  }
}
