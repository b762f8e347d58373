/**
 * `?watch=true`: a chunked response of newline-delimited `{"type","object"}` events.
 *
 * A revision the store has compacted away (`GoneError`, at the start or mid-stream) becomes an
 * `ERROR` event carrying the 410 Status, after which the stream ends and clients relist — what
 * kube-apiserver does, and what client-go's reflector and client-node's informer expect. The
 * stream ends on `timeoutSeconds`, when the client goes away, or when the server closes.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiClient, Watch, WatchOptions } from "../../model/client.ts";
import { ApiError, toStatus } from "../../model/errors.ts";
import { toMetaTable, toTable } from "../api/table.ts";
import type { AnyObject, Resource, WatchEvent } from "../../model/types.ts";

export interface WatchRequest {
  resource: Resource;
  opts: WatchOptions;
  timeoutSeconds?: number;
  /** Who asks, for the per-identity watch cap. */
  identity?: string;
  /** Send each object as a one-row meta.k8s.io Table (kubectl get -w). */
  table?: { includeObject: "None" | "Metadata" | "Object" };
}

/** Caps on open REST watches; a watch beyond either is refused with 429 before it starts. */
export interface WatchCaps {
  /** All identities together. */
  total: number;
  /** One identity. */
  perIdentity: number;
  /** A watcher whose unsent output exceeds this many bytes is closed (it does not read). */
  maxBufferedBytes: number;
}

export const DEFAULT_WATCH_CAPS: WatchCaps = { total: 2_000, perIdentity: 1_000, maxBufferedBytes: 16 * 1024 * 1024 };

/**
 * Registry of open watch streams, so `close()` can end them promptly, and the place their caps
 * are enforced (as the NATS API caps its watches): each open watch holds one place until it ends.
 */
export class WatchRegistry {
  private readonly open = new Set<() => void>();
  private readonly perIdentity = new Map<string, number>();
  readonly caps: WatchCaps;
  constructor(caps: Partial<WatchCaps> = {}) {
    this.caps = { ...DEFAULT_WATCH_CAPS, ...caps };
  }
  /** Takes a place for `identity` (429 `TooManyRequests` when none is left); returns its release. */
  add(stop: () => void, identity = ""): () => void {
    const held = this.perIdentity.get(identity) ?? 0;
    if (this.open.size >= this.caps.total) {
      throw new ApiError("TooManyRequests", `too many open watches (${this.caps.total}); retry later`, { retryAfterSeconds: 1 });
    }
    if (held >= this.caps.perIdentity) {
      throw new ApiError("TooManyRequests", `too many open watches for ${identity || "this client"} (${this.caps.perIdentity}); retry later`, { retryAfterSeconds: 1 });
    }
    this.open.add(stop);
    this.perIdentity.set(identity, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.open.delete(stop);
      const n = (this.perIdentity.get(identity) ?? 1) - 1;
      if (n <= 0) this.perIdentity.delete(identity);
      else this.perIdentity.set(identity, n);
    };
  }
  stopAll(): void {
    for (const stop of [...this.open]) stop();
  }
  get size(): number {
    return this.open.size;
  }
}

/**
 * Serves one watch request until it ends. Throws (before anything is written) only a 429 when
 * the watch caps are reached; every later error goes on the stream.
 */
export async function serveWatch(
  api: ApiClient,
  w: WatchRequest,
  req: IncomingMessage,
  res: ServerResponse,
  registry: WatchRegistry,
): Promise<void> {
  let watch: Watch | undefined;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    if (ended) return;
    ended = true;
    if (timer) clearTimeout(timer);
    watch?.stop();
    unregister();
    if (!res.writableEnded) res.end();
  };
  const unregister = registry.add(() => finish(), w.identity);
  req.on("close", finish);
  res.on("close", finish);

  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private" });
  res.flushHeaders();

  // Writes made in one turn of the event loop (a watch's initial state arrives all at once) go
  // out as one chunk rather than one small write each.
  let corked = false;
  const write = (ev: WatchEvent | { type: "ERROR"; object: unknown }) => {
    if (ended) return;
    const line =
      w.table && ev.type !== "ERROR" && ev.type !== "BOOKMARK"
        ? JSON.stringify({ type: ev.type, object: tableFor(w.resource, ev.object as AnyObject, w.table.includeObject) }) + "\n"
        : eventLine(ev);
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(() => {
        corked = false;
        res.uncork();
      });
    }
    res.write(line);
    // A client that does not read is dropped (it relists when it comes back), rather than
    // buffered without bound: kube-apiserver closes such watchers too.
    if (res.writableLength > registry.caps.maxBufferedBytes) finish();
  };

  try {
    watch = await api.watch(w.resource, w.opts);
    if (ended) {
      watch.stop();
      return;
    }
    if (w.timeoutSeconds !== undefined && w.timeoutSeconds > 0) {
      timer = setTimeout(finish, w.timeoutSeconds * 1000);
    }
    let burst = 0;
    for await (const ev of watch) {
      if (ended) break;
      write(ev);
      // A watch's initial state (or a burst of changes) is a run of events that are all ready at
      // once; a thousand watches starting together would hold the event loop for seconds. Every
      // few events, let other requests in.
      if (++burst % YIELD_EVERY === 0) await watchPacer.turn();
    }
  } catch (e) {
    // The watch cannot go on (typically 410 Gone): tell the client in-band, as Kubernetes does.
    write({ type: "ERROR", object: toStatus(e) });
  } finally {
    finish();
  }
}

/** Events a watch writes before it lets other work run (see serveWatch). */
const YIELD_EVERY = 32;

/**
 * Takes turns fairly between many busy streams: `turn()` resolves in FIFO order, at most
 * `perTick` per turn of the event loop, so the poll phase (new requests, replies from the
 * store) runs between every few chunks. Yielding with a plain `setImmediate` is not enough:
 * a thousand watches replaying their initial state would all run in the same check phase, and
 * an ordinary request would wait for all of them (measured: over a second).
 */
export class Pacer {
  private readonly waiting: (() => void)[] = [];
  private head = 0;
  private scheduled = false;
  /** Turns handed out, and event-loop ticks used, for tests. */
  readonly stats = { turns: 0, ticks: 0 };
  constructor(private readonly perTick: number) {}

  turn(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.stats.ticks++;
      for (let i = 0; i < this.perTick && this.head < this.waiting.length; i++) {
        this.stats.turns++;
        this.waiting[this.head++]();
      }
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting.splice(0, this.head);
        this.head = 0;
      }
      if (this.head < this.waiting.length) this.schedule();
    });
  }
}

/** Shared by every REST watch of this process: 8 chunks of 32 events per event-loop turn. */
const watchPacer = new Pacer(8);

/**
 * The wire line of an event, serialized once per object and type: the objects of a shared list
 * and of the watch hub are the same instances for every watcher, so a thousand watches of the
 * same pods cost one JSON encoding each, not a thousand.
 */
const lines = new WeakMap<object, Map<string, string>>();
function eventLine(ev: WatchEvent | { type: "ERROR"; object: unknown }): string {
  const obj = ev.object;
  if (typeof obj !== "object" || obj === null) return JSON.stringify(ev) + "\n";
  let byType = lines.get(obj);
  if (!byType) lines.set(obj, (byType = new Map()));
  let line = byType.get(ev.type);
  if (line === undefined) byType.set(ev.type, (line = JSON.stringify(ev) + "\n"));
  return line;
}

function tableFor(resource: Resource, obj: AnyObject, includeObject: "None" | "Metadata" | "Object") {
  return toMetaTable(toTable(resource, [obj]), { resourceVersion: obj.metadata?.resourceVersion }, includeObject);
}
