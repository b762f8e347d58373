/**
 * More event loops for the DNS server's UDP sockets: worker processes that read the same sockets
 * (each raw UDP handle is handed over, so the kernel's one socket is read by every process) and
 * answer repeated questions from their copy of the answer cache.
 *
 *   owner (startDnsServer)                            worker × n
 *   ──────────────────────                            ──────────
 *   bind UDP ──── send(sock i, raw handle) ──────────▶ read it too
 *                                                      datagram: cache hit ──▶ reply (own id)
 *   full path ◀── q (a miss: the datagram + sender) ── cache miss
 *   reply, store ─ entry (key, reply, version) ──────▶ cache it
 *   zone version moved (checked every 20 ms) ─ flush ▶ empty the cache
 *   stats += ◀─── hits every 200 ms ───────────────── counters
 *   close ─────── close ─────────────────────────────▶ close handles ──▶ closed, exit
 *
 * The owner stays the only one that looks names up: workers hold nothing but encoded replies it
 * built. After a zone change a worker may still answer the previous reply until the flush
 * arrives (the 20 ms check plus one IPC message); the owner's own answers change at once, and
 * record TTLs are seconds. Off by default (`DnsServerOptions.workers`); only with the raw
 * handles (not under Deno) and with a cache (`version` given).
 */
import { fork, type ChildProcess } from "node:child_process";
import type { UdpHandle } from "./raw_udp.ts";

export type ToDnsWorker =
  | { t: "sock"; i: number; v: number }
  | { t: "entry"; k: string; r: string; v: number }
  | { t: "flush"; v: number }
  | { t: "close" };

export type FromDnsWorker = { t: "ready" } | { t: "q"; i: number; m: string; p: number; a: string } | { t: "stats"; hits: number } | { t: "closed" };

type Log = (err: Error) => void;

const FLUSH_CHECK_MS = 20;
const CLOSE_WAIT_MS = 3000;

export interface DnsWorkerHooks {
  /** A worker's cache miss: answer it on socket `i` through the full path. */
  miss(i: number, msg: Buffer, port: number, address: string): void;
  /** Cache hits served by workers since the last report. */
  hits(n: number): void;
  version(): number;
  log: Log;
}

export class DnsWorkers {
  private readonly children: { child: ChildProcess; ready: boolean; alive: boolean }[] = [];
  private readonly timer: NodeJS.Timeout;
  private sentVersion: number;

  constructor(
    n: number,
    private readonly handles: UdpHandle[],
    private readonly hooks: DnsWorkerHooks,
  ) {
    this.sentVersion = hooks.version();
    for (let i = 0; i < n; i++) this.spawn();
    this.timer = setInterval(() => this.checkVersion(), FLUSH_CHECK_MS);
    this.timer.unref();
  }

  get pids(): number[] {
    return this.children.filter((c) => c.alive).map((c) => c.child.pid!);
  }

  private spawn(): void {
    const child = fork(new URL("./dns_worker_entry.mjs", import.meta.url), [], {
      execArgv: [],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "json",
    });
    const w = { child, ready: false, alive: true };
    this.children.push(w);
    child.unref();
    (child as unknown as { channel?: { unref(): void } }).channel?.unref();
    child.on("error", (e) => this.hooks.log(e));
    child.on("exit", () => {
      w.alive = false;
    });
    child.on("message", (m: FromDnsWorker) => {
      if (m.t === "ready") {
        w.ready = true;
        const v = this.hooks.version();
        this.handles.forEach((h, i) => this.send(w, { t: "sock", i, v }, h));
      } else if (m.t === "q") this.hooks.miss(m.i, Buffer.from(m.m, "base64"), m.p, m.a);
      else if (m.t === "stats") this.hooks.hits(m.hits);
    });
  }

  private send(w: { child: ChildProcess; ready: boolean; alive: boolean }, m: ToDnsWorker, handle?: UdpHandle): void {
    if (!w.alive || !w.ready || !w.child.connected) return;
    w.child.send(m, handle, (err) => err && this.hooks.log(err));
  }

  private broadcast(m: ToDnsWorker): void {
    for (const w of this.children) this.send(w, m);
  }

  private checkVersion(): void {
    const v = this.hooks.version();
    if (v === this.sentVersion) return;
    this.sentVersion = v;
    this.broadcast({ t: "flush", v });
  }

  /** The owner cached a reply: the workers cache it too (if still current). */
  entry(key: string, reply: Buffer, version: number): void {
    this.checkVersion();
    if (version !== this.sentVersion) return;
    this.broadcast({ t: "entry", k: key, r: reply.toString("base64"), v: version });
  }

  /** Makes every worker close its copies of the sockets; resolves once they did (or exited). */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(
      this.children.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (!w.alive || !w.child.connected) return resolve();
            const t = setTimeout(done, CLOSE_WAIT_MS);
            function done() {
              clearTimeout(t);
              resolve();
            }
            w.child.on("message", (m: FromDnsWorker) => m.t === "closed" && done());
            w.child.once("exit", done);
            w.child.send({ t: "close" } satisfies ToDnsWorker, (err) => err && done());
          }),
      ),
    );
    for (const w of this.children) if (w.child.connected) w.child.disconnect();
  }
}
