/**
 * Byte-stream helpers for the Docker API: the multiplexed stdout/stderr framing of logs and exec
 * (8-byte header: stream type, three zero bytes, big-endian payload length) and the
 * newline-delimited JSON of the events endpoint. Both arrive split at arbitrary chunk
 * boundaries, so both decoders keep a remainder between chunks.
 */
import type { LogChunk } from "../../model/container_runtime.ts";

/** Decodes Docker's multiplexed stream framing, chunk by chunk. */
export class FrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);

  /** Feeds a chunk; returns the complete frames it finished. */
  push(chunk: Uint8Array): LogChunk[] {
    this.buf = concat(this.buf, chunk);
    const out: LogChunk[] = [];
    while (this.buf.length >= 8) {
      const size = ((this.buf[4] << 24) >>> 0) + (this.buf[5] << 16) + (this.buf[6] << 8) + this.buf[7];
      if (this.buf.length < 8 + size) break;
      const stream = this.buf[0] === 2 ? "stderr" : "stdout";
      out.push({ stream, data: this.buf.slice(8, 8 + size) });
      this.buf = this.buf.slice(8 + size);
    }
    return out;
  }
}

/** Splits newline-delimited JSON arriving in arbitrary chunks; bad lines are dropped. */
export class NdjsonDecoder {
  private rest = "";
  private readonly td = new TextDecoder();

  push(chunk: Uint8Array | string): unknown[] {
    this.rest += typeof chunk === "string" ? chunk : this.td.decode(chunk, { stream: true });
    const lines = this.rest.split("\n");
    this.rest = lines.pop() ?? "";
    const out: unknown[] = [];
    for (const line of lines) {
      const t = line.trim();
      if (!t) continue;
      try {
        out.push(JSON.parse(t));
      } catch {
        // A line that is not JSON cannot be an event; the engine's framing guarantees whole lines.
      }
    }
    return out;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const r = new Uint8Array(a.length + b.length);
  r.set(a, 0);
  r.set(b, a.length);
  return r;
}

/**
 * A push-to-pull queue: producers `push`, consumers iterate. `end(err?)` finishes iteration
 * (throwing `err` to the consumer if given). `onClose` runs once when the consumer closes early.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private waiters: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  private done = false;
  private error: unknown;
  constructor(private readonly onClose: () => void = () => {}) {}

  push(item: T): void {
    if (this.done) return;
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  end(err?: unknown): void {
    if (this.done) return;
    this.done = true;
    this.error = err;
    for (const w of this.waiters.splice(0)) {
      if (err !== undefined) w.reject(err);
      else w.resolve({ value: undefined as never, done: true });
    }
  }

  close(): void {
    if (this.done) return;
    this.end();
    this.onClose();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.done) {
          if (this.error !== undefined) {
            const e = this.error;
            this.error = undefined;
            return Promise.reject(e);
          }
          return Promise.resolve({ value: undefined as never, done: true });
        }
        return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined as never, done: true });
      },
    };
  }
}
