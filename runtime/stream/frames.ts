/**
 * The framing of a byte stream session over NATS (exec, attach, port-forward), and its flow
 * control. Pure: no I/O.
 *
 * A session carries numbered channels in both directions (exec: 0 stdin, 1 stdout, 2 stderr;
 * port-forward: 0 the connection's bytes). Every NATS message is one frame, its first byte the
 * frame type:
 *
 *   DATA    [1][channel][bytes…]          bytes of one channel
 *   ACK     [2][u32 BE n]                 the receiver consumed n more bytes: n more credit
 *   CLOSE   [3][channel]                  the sender will send no more on that channel (half-close)
 *   RESIZE  [4][u16 BE width][u16 BE height]   a TTY's new size (requester → node)
 *   STATUS  [5][JSON metav1.Status]       the outcome (exit code, error); node → requester, last
 *   END     [6][reason, UTF-8]            tear the session down, both sides
 *   PING    [7]                           liveness; either side, every few seconds
 *
 * Flow control is credit based, per direction: a sender may have at most `window` bytes of DATA
 * not yet acknowledged; the receiver acknowledges bytes only once it has handed them on (written
 * to the WebSocket, the TCP socket, the exec's stdin), so a fast producer waits for a slow
 * consumer instead of piling bytes up in NATS or in memory. Acknowledgements are batched (every
 * quarter window), and chunks are at most half a window, so a blocked sender is always freed.
 */

export const FRAME = {
  DATA: 1,
  ACK: 2,
  CLOSE: 3,
  RESIZE: 4,
  STATUS: 5,
  END: 6,
  PING: 7,
} as const;

export type Frame =
  | { type: "data"; channel: number; data: Uint8Array }
  | { type: "ack"; bytes: number }
  | { type: "close"; channel: number }
  | { type: "resize"; width: number; height: number }
  | { type: "status"; status: Record<string, unknown> }
  | { type: "end"; reason: string }
  | { type: "ping" };

/** A frame that cannot be decoded (truncated, unknown type, bad JSON). */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

const te = new TextEncoder();
const td = new TextDecoder();

export function encodeFrame(f: Frame): Uint8Array {
  switch (f.type) {
    case "data": {
      const out = new Uint8Array(2 + f.data.length);
      out[0] = FRAME.DATA;
      out[1] = f.channel;
      out.set(f.data, 2);
      return out;
    }
    case "ack": {
      const out = new Uint8Array(5);
      out[0] = FRAME.ACK;
      new DataView(out.buffer).setUint32(1, f.bytes);
      return out;
    }
    case "close":
      return Uint8Array.of(FRAME.CLOSE, f.channel);
    case "resize": {
      const out = new Uint8Array(5);
      out[0] = FRAME.RESIZE;
      const dv = new DataView(out.buffer);
      dv.setUint16(1, clamp16(f.width));
      dv.setUint16(3, clamp16(f.height));
      return out;
    }
    case "status":
      return prefixed(FRAME.STATUS, te.encode(JSON.stringify(f.status)));
    case "end":
      return prefixed(FRAME.END, te.encode(f.reason));
    case "ping":
      return Uint8Array.of(FRAME.PING);
  }
}

export function decodeFrame(b: Uint8Array): Frame {
  if (b.length === 0) throw new FrameError("empty frame");
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  switch (b[0]) {
    case FRAME.DATA:
      if (b.length < 2) throw new FrameError("DATA frame without a channel");
      return { type: "data", channel: b[1], data: b.subarray(2) };
    case FRAME.ACK:
      if (b.length !== 5) throw new FrameError(`ACK frame of ${b.length} bytes (want 5)`);
      return { type: "ack", bytes: dv.getUint32(1) };
    case FRAME.CLOSE:
      if (b.length !== 2) throw new FrameError(`CLOSE frame of ${b.length} bytes (want 2)`);
      return { type: "close", channel: b[1] };
    case FRAME.RESIZE:
      if (b.length !== 5) throw new FrameError(`RESIZE frame of ${b.length} bytes (want 5)`);
      return { type: "resize", width: dv.getUint16(1), height: dv.getUint16(3) };
    case FRAME.STATUS: {
      let v: unknown;
      try {
        v = JSON.parse(td.decode(b.subarray(1)));
      } catch {
        throw new FrameError("STATUS frame is not JSON");
      }
      if (!v || typeof v !== "object" || Array.isArray(v)) throw new FrameError("STATUS frame is not a JSON object");
      return { type: "status", status: v as Record<string, unknown> };
    }
    case FRAME.END:
      return { type: "end", reason: td.decode(b.subarray(1)) };
    case FRAME.PING:
      return { type: "ping" };
    default:
      throw new FrameError(`unknown frame type ${b[0]}`);
  }
}

function prefixed(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = type;
  out.set(body, 1);
  return out;
}

function clamp16(n: number): number {
  return Math.max(0, Math.min(0xffff, Math.floor(n)));
}

/** Default window: bytes one direction may have in flight, unacknowledged. */
export const DEFAULT_WINDOW = 1024 * 1024;

/**
 * The sender's side of flow control: how many bytes may still go out. `take` before sending,
 * `grant` on each ACK. Pure bookkeeping; the session turns "no credit" into waiting.
 */
export class SendCredit {
  private inFlight = 0;
  constructor(readonly window: number = DEFAULT_WINDOW) {
    if (!(window >= 2)) throw new RangeError(`window must be at least 2 bytes, got ${window}`);
  }
  /** The largest chunk one DATA frame may carry (half the window, at most 64 KiB). */
  get maxChunk(): number {
    return Math.max(1, Math.min(64 * 1024, Math.floor(this.window / 2)));
  }
  /** Bytes that may be sent now. */
  available(): number {
    return this.window - this.inFlight;
  }
  /** Records `n` bytes sent; throws if they exceed the credit (a caller bug). */
  take(n: number): void {
    if (n > this.available()) throw new RangeError(`sending ${n} bytes with only ${this.available()} of credit`);
    this.inFlight += n;
  }
  /** Records an ACK of `n` bytes. More than was in flight is a protocol error of the peer. */
  grant(n: number): void {
    if (n > this.inFlight) throw new FrameError(`ACK of ${n} bytes with only ${this.inFlight} in flight`);
    this.inFlight -= n;
  }
  outstanding(): number {
    return this.inFlight;
  }
}

/**
 * The receiver's side: counts bytes handed on and says when to acknowledge them (once a quarter
 * of the window has accumulated), so acks are batched yet a blocked sender always gets one.
 */
export class AckBatcher {
  private pending = 0;
  private received = 0;
  constructor(readonly window: number = DEFAULT_WINDOW) {}
  /** Bytes arrived; throws when the peer overran the window (it ignored flow control). */
  arrived(n: number): void {
    this.received += n;
    if (this.received > this.window) throw new FrameError(`peer sent ${this.received} bytes unacknowledged, over the window of ${this.window}`);
  }
  /** Bytes handed on; returns the number to acknowledge now (0: not yet). */
  consumed(n: number): number {
    this.pending += n;
    if (this.pending < Math.max(1, Math.floor(this.window / 4))) return 0;
    const ack = this.pending;
    this.received -= ack;
    this.pending = 0;
    return ack;
  }
}

/**
 * The metav1.Status an exec ends with, as the kubelet writes it on the error channel: Success, or
 * `NonZeroExitCode` with an `ExitCode` cause kubectl turns into its own exit code.
 */
export function exitStatus(command: string[], exitCode: number): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: "Success" };
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** A failure Status with a message (the stream could not be carried on). */
export function failureStatus(message: string, reason = "InternalError", code = 500): Record<string, unknown> {
  return { metadata: {}, status: "Failure", message, reason, code };
}
