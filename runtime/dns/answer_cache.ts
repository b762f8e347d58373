/**
 * A cache of encoded DNS replies, keyed by the query's bytes after its 2-byte id.
 *
 * Why it is exact: the server's reply to a query depends only on the query's bytes (header flags,
 * the question as written, any EDNS OPT record) and on the zone's answers — and the only part of
 * the reply taken from the query verbatim that differs between otherwise identical queries is the
 * id. So a reply built once by the full path (dns2 decode → lookup → dns2 encode, truncation
 * applied) can be replayed for the same bytes with the new id copied in, for as long as the
 * zone's `version` has not moved. A version change empties the cache.
 *
 * Only what the full path answered is stored: a dropped packet is never cached, so malformed
 * input always goes through dns2's validation; SERVFAIL is not cached (a failing lookup may
 * recover without the zone changing). The cache is bounded: when full it starts again empty,
 * which keeps random-name floods from growing it and costs them nothing they did not cost before.
 */

/** Queries longer than this are not cached (no real resolver sends them; they go the full path). */
export const MAX_CACHED_QUERY_BYTES = 512;

export class AnswerCache {
  private readonly entries = new Map<string, Buffer>();
  private seenVersion: number;
  hits = 0;
  misses = 0;

  /**
   * `version` changes whenever any answer may change (the zone's counter); `maxEntries` bounds
   * memory.
   */
  constructor(
    private readonly version: () => number,
    private readonly maxEntries = 10_000,
  ) {
    this.seenVersion = version();
  }

  /** The cache key of a query, or undefined when such a query is not cached. */
  static keyOf(query: Buffer): string | undefined {
    if (query.length < 12 || query.length > MAX_CACHED_QUERY_BYTES) return undefined;
    return query.toString("latin1", 2);
  }

  /**
   * The reply for `query` (same key), with the query's id written in; undefined on a miss. A
   * fresh buffer the caller may hand to any socket, or with `inPlace` the stored buffer itself,
   * its id overwritten: for a send that copies it out at once (a synchronous raw send). A send
   * that keeps it instead (queued) must be followed by `held`, so the next hit does not write
   * into bytes still waiting to go out.
   */
  reply(key: string, query: Buffer, inPlace = false): Buffer | undefined {
    const v = this.version();
    if (v !== this.seenVersion) {
      this.entries.clear();
      this.seenVersion = v;
    }
    const cached = this.entries.get(key);
    if (!cached) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (inPlace) {
      cached[0] = query[0];
      cached[1] = query[1];
      return cached;
    }
    const out = Buffer.allocUnsafe(cached.length);
    cached.copy(out);
    out[0] = query[0];
    out[1] = query[1];
    return out;
  }

  /**
   * Stores the reply the full path built for a query with this key. `versionAtLookup` is the
   * version read before the lookup, so a reply computed against an older zone is not stored.
   */
  store(key: string, reply: Buffer, versionAtLookup: number): void {
    if (versionAtLookup !== this.version()) return;
    if (versionAtLookup !== this.seenVersion) {
      this.entries.clear();
      this.seenVersion = versionAtLookup;
    }
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, Buffer.from(reply));
  }

  /** `buf`, given out by `reply(…, true)`, is still held by a queued send: store a copy instead. */
  held(key: string, buf: Buffer): void {
    if (this.entries.get(key) === buf) this.entries.set(key, Buffer.from(buf));
  }

  /** The stored reply for `key` as built (its id is the first asker's), if current; no copy. */
  peek(key: string): Buffer | undefined {
    if (this.version() !== this.seenVersion) return undefined;
    return this.entries.get(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
