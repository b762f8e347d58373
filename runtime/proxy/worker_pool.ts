/**
 * More event loops for the TCP proxies: a few worker processes that accept on the same listening
 * sockets as this process and forward connections themselves.
 *
 *   this process (owner)                          worker process × n
 *   ─────────────────────                         ──────────────────
 *   TcpProxy.start: listen ── send(listen, server handle) ──▶ adopt the (duplicated) listener
 *   setEndpoints ─────────── send(endpoints) ───────────────▶ setEndpoints
 *   stats += deltas ◀──────── send(stats) every 200 ms ───── counters
 *   TcpProxy.stop ────────── send(close) ──▶ close listener, destroy connections ──▶ (closed)
 *   last proxy detached ──── disconnect ────────────────────▶ exit
 *
 * Why processes and not worker threads: on Node 20 a listening socket cannot be shared between
 * threads safely. There is no SO_REUSEPORT (`reusePort` arrives in Node 22.12/23.1) and no way to
 * duplicate a descriptor, so threads would wrap one descriptor number in several handles, and
 * every handle closes it: the second close hits a number the process may already have reused
 * for something else. Handing a handle to a child process over IPC duplicates it (SCM_RIGHTS),
 * so each process owns and closes its own descriptor — how Node's `cluster` shares listeners.
 *
 * This process stays the single owner of endpoint state: workers only ever receive it. Updates
 * reach them asynchronously (one IPC message, well under a millisecond on an idle machine), so a
 * worker can still dial an endpoint just removed; a refused dial moves on to the next candidate as
 * always. Stats from workers arrive every 200 ms. ClientIP affinity needs one table of pins, so a
 * proxy with affinity on is served by this process only.
 *
 * Unavailable under Deno (no handle passing): `WorkerPool.shared` returns undefined and the
 * proxies serve on one loop. Workers are unref'd: they never keep this process alive, and they
 * exit when it does (their IPC channel closes).
 */
import { fork, type ChildProcess } from "node:child_process";
import type net from "node:net";
import type { ProxyTarget } from "./balancer.ts";

/** Messages to a worker. */
export type ToWorker =
  | { t: "listen"; id: number; name: string; dialTimeoutsMs: readonly number[]; targets: ProxyTarget[] }
  | { t: "endpoints"; id: number; targets: ProxyTarget[] }
  | { t: "close"; id: number };

/** Counter increments since the last report, and the current number of active connections. */
export interface StatsDelta {
  accepted: number;
  forwarded: number;
  dialFailures: number;
  rejected: number;
  perEndpoint: Record<string, number>;
  active: number;
  bytesIn: number;
  bytesOut: number;
}

/** Messages from a worker. */
export type FromWorker = { t: "ready" } | { t: "stats"; id: number; d: StatsDelta } | { t: "closed"; id: number };

/** What the pool needs from an attached proxy. */
export interface PoolClient {
  /** Adds a worker's counters (its `active` is the absolute count in that worker). */
  workerStats(worker: number, d: StatsDelta): void;
}

type Log = (msg: string, fields?: Record<string, unknown>) => void;

interface Worker {
  index: number;
  child: ChildProcess;
  alive: boolean;
  /**
   * Until the worker has loaded its code, messages wait here: a listener handed over earlier
   * would accept connections nobody in the worker serves yet.
   */
  ready: boolean;
  queue: [ToWorker, net.Server | undefined][];
}

const CLOSE_WAIT_MS = 3000;

export class WorkerPool {
  private static instance?: WorkerPool;
  private static nextId = 1;
  private readonly workers: Worker[] = [];
  private readonly clients = new Map<number, PoolClient>();
  private readonly closeWaiters = new Map<number, Set<() => void>>();

  /**
   * The process-wide pool, started on first use with `size` workers (the first caller's size
   * holds until the pool stops with its last proxy); undefined where workers cannot run (Deno, or
   * forking failed — logged), so the caller serves on one loop.
   */
  static shared(size: number, log: Log): WorkerPool | undefined {
    if (size <= 0 || "Deno" in globalThis) return undefined;
    if (!WorkerPool.instance) {
      try {
        WorkerPool.instance = new WorkerPool(size, log);
      } catch (e) {
        log("proxy workers unavailable, serving on one event loop", { error: String(e) });
        return undefined;
      }
    }
    return WorkerPool.instance;
  }

  /** A fresh id for one proxy's registration. */
  static newId(): number {
    return WorkerPool.nextId++;
  }

  private constructor(
    size: number,
    private readonly log: Log,
  ) {
    for (let i = 0; i < size; i++) this.workers.push(this.spawn(i));
  }

  get size(): number {
    return this.workers.filter((w) => w.alive).length;
  }

  /** Child process ids (for tests and the benchmark's CPU accounting). */
  get pids(): number[] {
    return this.workers.filter((w) => w.alive).map((w) => w.child.pid!);
  }

  private spawn(index: number): Worker {
    // Plain JS entry: it registers tsx itself, whatever loader (or none) this process runs with.
    const child = fork(new URL("./worker_entry.mjs", import.meta.url), [], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "json",
    });
    const w: Worker = { index, child, alive: true, ready: false, queue: [] };
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    child.on("message", (m: FromWorker) => this.onMessage(w, m));
    child.on("error", (e) => this.log("proxy worker error", { worker: index, error: e.message }));
    child.on("exit", (code, signal) => {
      w.alive = false;
      if (this.clients.size > 0) this.log("proxy worker exited", { worker: index, code, signal });
      // Nobody waits for a dead worker's acknowledgement.
      for (const waiters of this.closeWaiters.values()) for (const done of waiters) done();
    });
    return w;
  }

  private onMessage(w: Worker, m: FromWorker): void {
    if (m.t === "ready") {
      w.ready = true;
      for (const [msg, handle] of w.queue.splice(0)) {
        // A proxy stopped meanwhile: its (closed) listener is not handed over.
        if (msg.t === "listen" && !this.clients.has(msg.id)) continue;
        this.send(w, msg, handle);
      }
    } else if (m.t === "stats") this.clients.get(m.id)?.workerStats(w.index, m.d);
    else if (m.t === "closed") {
      const waiters = this.closeWaiters.get(m.id);
      for (const done of waiters ?? []) done();
    }
  }

  private send(w: Worker, m: ToWorker, handle?: net.Server): void {
    if (!w.alive || !w.child.connected) return;
    if (!w.ready) {
      w.queue.push([m, handle]);
      return;
    }
    // A worker that went away between the check and the send: its exit handler reports it.
    w.child.send(m, handle, (err) => err && this.log("proxy worker unreachable", { worker: w.index, error: err.message }));
  }

  /** Hands a proxy's listeners and endpoints to every worker. */
  attach(id: number, client: PoolClient, servers: net.Server[], init: { name: string; dialTimeoutsMs: readonly number[]; targets: ProxyTarget[] }): void {
    this.clients.set(id, client);
    for (const w of this.workers) {
      for (const server of servers) this.send(w, { t: "listen", id, ...init }, server);
      if (servers.length === 0) this.send(w, { t: "listen", id, ...init });
    }
  }

  update(id: number, targets: ProxyTarget[]): void {
    if (!this.clients.has(id)) return;
    for (const w of this.workers) this.send(w, { t: "endpoints", id, targets });
  }

  /**
   * Makes every worker close the proxy's listeners and connections; resolves once each live
   * worker confirmed (or after a few seconds). The last detach stops the workers.
   */
  async detach(id: number): Promise<void> {
    if (!this.clients.has(id) || this.closeWaiters.has(id)) return;
    const live = this.workers.filter((w) => w.alive && w.child.connected);
    await new Promise<void>((resolve) => {
      let pending = live.length;
      const waiters = new Set<() => void>();
      this.closeWaiters.set(id, waiters);
      const timer = setTimeout(finish, CLOSE_WAIT_MS);
      function finish() {
        clearTimeout(timer);
        resolve();
      }
      const done = () => {
        if (--pending <= 0) finish();
      };
      if (pending === 0) finish();
      waiters.add(done);
      for (const w of live) this.send(w, { t: "close", id });
    });
    this.closeWaiters.delete(id);
    // Kept registered until now, so the workers' last counters still arrive.
    this.clients.delete(id);
    if (this.clients.size === 0) this.shutdown();
  }

  /** Stops every worker (they exit when their IPC channel closes). */
  private shutdown(): void {
    if (WorkerPool.instance === this) WorkerPool.instance = undefined;
    for (const w of this.workers) if (w.child.connected) w.child.disconnect();
  }
}
