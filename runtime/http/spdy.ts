/**
 * Just enough SPDY/3.1 for kubectl's `port-forward`: kubectl ≥ 1.31 tunnels SPDY through a
 * WebSocket (subprotocol `SPDY/3.1+portforward.k8s.io`) and falls back to a plain SPDY upgrade;
 * both carry the same frames, which this file parses and writes.
 *
 * Frames (SPDY draft 3): control frames `[1|version 15][type 16][flags 8][length 24][payload]`
 * (SYN_STREAM 1, SYN_REPLY 2, RST_STREAM 3, SETTINGS 4, PING 6, GOAWAY 7, HEADERS 8,
 * WINDOW_UPDATE 9) and data frames `[0|stream id 31][flags 8][length 24][data]`; FLAG_FIN (1)
 * half-closes a stream. Header blocks are one zlib stream per direction with SPDY's preset
 * dictionary. Incoming blocks are inflated by re-inflating the whole stream so far with a sync
 * flush (a port-forward opens two streams per connection, so this stays small); outgoing blocks
 * are written as stored (uncompressed) deflate blocks, which any zlib reader accepts.
 *
 * kubectl's client (moby/spdystream) does no SPDY flow control, so WINDOW_UPDATE is ignored and
 * none is sent; back-pressure comes from pausing the transport instead (streaming.ts).
 */
import { constants, inflateSync } from "node:zlib";

const DICT_HEADERS = [
  "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding", "accept-language",
  "accept-ranges", "age", "allow", "authorization", "cache-control", "connection", "content-base", "content-encoding",
  "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "date", "etag",
  "expect", "expires", "from", "host", "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
  "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer",
  "retry-after", "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
  "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie",
  "keep-alive", "origin",
];
const DICT_TAIL =
  "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
  "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
  "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
  "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
  "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
  "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

/** SPDY/3's preset zlib dictionary for header blocks (1,423 bytes). */
export const SPDY_DICTIONARY: Buffer = (() => {
  const parts: Buffer[] = [];
  for (const h of DICT_HEADERS) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(h.length);
    parts.push(len, Buffer.from(h, "latin1"));
  }
  parts.push(Buffer.from(DICT_TAIL, "latin1"));
  return Buffer.concat(parts);
})();

export const SPDY_TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
export const FLAG_FIN = 1;
/** RST_STREAM status codes used here. */
export const RST = { PROTOCOL_ERROR: 1, INVALID_STREAM: 2, REFUSED_STREAM: 3, CANCEL: 5, INTERNAL_ERROR: 6 } as const;

export class SpdyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpdyError";
  }
}

export interface SpdyHandlers {
  onSynStream(streamId: number, headers: Map<string, string>, fin: boolean): void;
  onData(streamId: number, data: Uint8Array, fin: boolean): void;
  onRst(streamId: number, status: number): void;
  onGoAway(): void;
}

/** One SPDY connection's framing: `push` bytes in, handlers out; writers produce frames. */
export class SpdyFramer {
  private buf: Buffer = Buffer.alloc(0);
  private compressedIn: Buffer[] = [];
  private inflatedLen = 0;
  private headerOutStarted = false;

  constructor(private readonly write: (frame: Uint8Array) => void, private readonly h: SpdyHandlers) {}

  /** Feeds transport bytes; throws `SpdyError` on a malformed frame. */
  push(chunk: Uint8Array): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : Buffer.from(chunk);
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) break;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.frame(frame);
    }
  }

  private frame(f: Buffer): void {
    const flags = f[4];
    const payload = f.subarray(8);
    if ((f[0] & 0x80) === 0) {
      this.h.onData(f.readUInt32BE(0) & 0x7fffffff, payload, (flags & FLAG_FIN) !== 0);
      return;
    }
    const version = f.readUInt16BE(0) & 0x7fff;
    if (version !== 3) throw new SpdyError(`SPDY version ${version} is not supported (only 3)`);
    const type = f.readUInt16BE(2);
    switch (type) {
      case SPDY_TYPE.SYN_STREAM: {
        if (payload.length < 10) throw new SpdyError("short SYN_STREAM");
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        this.h.onSynStream(id, this.headerBlock(payload.subarray(10)), (flags & FLAG_FIN) !== 0);
        return;
      }
      case SPDY_TYPE.HEADERS:
      case SPDY_TYPE.SYN_REPLY:
        // Not sent by a port-forward client; the block is still inflated to keep the zlib stream in step.
        if (payload.length >= 4) this.headerBlock(payload.subarray(4));
        return;
      case SPDY_TYPE.RST_STREAM:
        if (payload.length < 8) throw new SpdyError("short RST_STREAM");
        this.h.onRst(payload.readUInt32BE(0) & 0x7fffffff, payload.readUInt32BE(4));
        return;
      case SPDY_TYPE.PING:
        // Echoed as is (SPDY: the receiver of a PING answers with the same id).
        this.write(Uint8Array.from(f));
        return;
      case SPDY_TYPE.GOAWAY:
        this.h.onGoAway();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE and unknown control frames: nothing to do.
    }
  }

  private headerBlock(compressed: Buffer): Map<string, string> {
    this.compressedIn.push(Buffer.from(compressed));
    let all: Buffer;
    try {
      all = inflateSync(Buffer.concat(this.compressedIn), { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      throw new SpdyError(`cannot inflate a header block: ${(e as Error).message}`);
    }
    const block = all.subarray(this.inflatedLen);
    this.inflatedLen = all.length;
    return parseHeaderBlock(block);
  }

  /** SYN_REPLY with no headers. */
  synReply(streamId: number, fin = false): void {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(streamId & 0x7fffffff);
    this.write(control(SPDY_TYPE.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([body, this.storedHeaderBlock(encodeHeaderBlock(new Map()))])));
  }

  data(streamId: number, data: Uint8Array, fin = false): void {
    const max = 0xffffff;
    let off = 0;
    do {
      const part = data.subarray(off, off + max);
      off += part.length;
      const head = Buffer.alloc(8);
      head.writeUInt32BE(streamId & 0x7fffffff, 0);
      head.writeUInt32BE(part.length, 4);
      head[4] = fin && off >= data.length ? FLAG_FIN : 0;
      this.write(Buffer.concat([head, part]));
    } while (off < data.length);
  }

  rst(streamId: number, status: number): void {
    const body = Buffer.alloc(8);
    body.writeUInt32BE(streamId & 0x7fffffff, 0);
    body.writeUInt32BE(status, 4);
    this.write(control(SPDY_TYPE.RST_STREAM, 0, body));
  }

  /** A header block as stored deflate blocks continuing this direction's zlib stream. */
  private storedHeaderBlock(raw: Buffer): Buffer {
    const parts: Buffer[] = [];
    if (!this.headerOutStarted) {
      parts.push(Buffer.from([0x78, 0x01])); // zlib header: deflate, no preset dictionary
      this.headerOutStarted = true;
    }
    for (let off = 0; off < raw.length || off === 0; off += 0xffff) {
      const part = raw.subarray(off, off + 0xffff);
      const h = Buffer.alloc(5);
      h[0] = 0; // BFINAL=0, BTYPE=00 (stored), padded to the byte
      h.writeUInt16LE(part.length, 1);
      h.writeUInt16LE(~part.length & 0xffff, 3);
      parts.push(h, part);
      if (raw.length === 0) break;
    }
    // An empty stored block, as zlib's sync flush ends with: Go's inflater hands over what it
    // has when it meets one, instead of reading on past the frame for the next block.
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | 3, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

/** SPDY/3 name/value block: u32 count, then u32-length-prefixed names and values. */
export function parseHeaderBlock(b: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  if (b.length < 4) throw new SpdyError("short header block");
  const n = b.readUInt32BE(0);
  let off = 4;
  const take = () => {
    if (off + 4 > b.length) throw new SpdyError("truncated header block");
    const len = b.readUInt32BE(off);
    off += 4;
    if (off + len > b.length) throw new SpdyError("truncated header block");
    const s = b.subarray(off, off + len).toString("latin1");
    off += len;
    return s;
  };
  for (let i = 0; i < n; i++) {
    const name = take();
    out.set(name.toLowerCase(), take());
  }
  return out;
}

export function encodeHeaderBlock(h: Map<string, string>): Buffer {
  const parts: Buffer[] = [];
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  parts.push(u32(h.size));
  for (const [k, v] of h) parts.push(u32(Buffer.byteLength(k, "latin1")), Buffer.from(k, "latin1"), u32(Buffer.byteLength(v, "latin1")), Buffer.from(v, "latin1"));
  return Buffer.concat(parts);
}
