/**
 * The stream session framing and its credit-based flow control (runtime/stream/frames.ts), and
 * the SPDY pieces kubectl's port-forward depends on (runtime/http/spdy.ts).
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { constants, deflateSync, inflateSync } from "node:zlib";
import { AckBatcher, decodeFrame, encodeFrame, exitStatus, FrameError, SendCredit, type Frame } from "../../../../runtime/stream/frames.ts";
import { encodeHeaderBlock, parseHeaderBlock, SPDY_DICTIONARY, SpdyFramer } from "../../../../runtime/http/spdy.ts";

describe("stream frames", () => {
  it("every frame survives encode → decode", () => {
    const frame = fc.oneof(
      fc.record({ type: fc.constant("data" as const), channel: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 64 }) }),
      fc.record({ type: fc.constant("ack" as const), bytes: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({ type: fc.constant("close" as const), channel: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ type: fc.constant("resize" as const), width: fc.integer({ min: 0, max: 0xffff }), height: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ type: fc.constant("status" as const), status: fc.dictionary(fc.string(), fc.string()) }),
      fc.record({ type: fc.constant("end" as const), reason: fc.string() }),
      fc.constant({ type: "ping" as const }),
    );
    fc.assert(fc.property(frame, (f) => {
      const back = decodeFrame(encodeFrame(f as Frame));
      if (f.type === "data") expect(back).toEqual({ ...f, data: expect.any(Uint8Array) });
      else expect(back).toEqual(f);
      if (f.type === "data" && back.type === "data") expect([...back.data]).toEqual([...f.data]);
    }));
  });

  it("refuses truncated, unknown and non-JSON frames with a FrameError", () => {
    expect(() => decodeFrame(new Uint8Array(0))).toThrow(FrameError);
    expect(() => decodeFrame(Uint8Array.of(2, 0, 0))).toThrow(/ACK frame of 3 bytes/);
    expect(() => decodeFrame(Uint8Array.of(99))).toThrow(/unknown frame type 99/);
    expect(() => decodeFrame(Uint8Array.of(5, 0x7b))).toThrow(/not JSON/);
  });

  it("an exit code becomes kubectl's NonZeroExitCode Status with an ExitCode cause", () => {
    expect(exitStatus(["ls"], 0)).toEqual({ metadata: {}, status: "Success" });
    expect(exitStatus(["sh", "-c", "exit 3"], 3)).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });
});

describe("flow control", () => {
  it("a sender never has more than the window in flight, and a blocked sender is always freed", () => {
    // Simulates producer, wire and a consumer that hands on bytes at its own pace.
    fc.assert(fc.property(
      fc.integer({ min: 4, max: 4096 }),
      fc.array(fc.integer({ min: 1, max: 3_000 }), { minLength: 1, maxLength: 12 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 200 }),
      (window, writes, schedule) => {
        const credit = new SendCredit(window);
        const acks = new AckBatcher(window);
        const wire: number[] = [];
        const toAck: number[] = [];
        let pending = writes.reduce((a, b) => a + b, 0);
        const total = pending;
        let delivered = 0;
        const produce = (): boolean => {
          if (pending === 0 || credit.available() === 0) return false;
          const n = Math.min(credit.available(), credit.maxChunk, pending);
          credit.take(n);
          pending -= n;
          wire.push(n);
          acks.arrived(n);
          expect(credit.outstanding()).toBeLessThanOrEqual(window);
          return true;
        };
        const consume = (): boolean => {
          if (wire.length) {
            const n = wire.shift()!;
            delivered += n;
            const a = acks.consumed(n);
            if (a) toAck.push(a);
            return true;
          }
          if (toAck.length) {
            credit.grant(toAck.shift()!);
            return true;
          }
          return false;
        };
        for (let step = 0; delivered < total; step++) {
          const consumerFirst = schedule[step % schedule.length];
          const acted = consumerFirst ? consume() || produce() : produce() || consume();
          // Neither side can move while bytes remain: flow control deadlocked.
          if (!acted) throw new Error(`deadlock with ${pending} bytes unsent and ${credit.outstanding()} in flight`);
        }
        expect(delivered).toBe(total);
      },
    ), { numRuns: 60 });
  });

  it("a peer that ignores the window is a protocol error", () => {
    const acks = new AckBatcher(100);
    acks.arrived(100);
    expect(() => acks.arrived(1)).toThrow(/over the window of 100/);
    const credit = new SendCredit(100);
    expect(() => credit.grant(1)).toThrow(/ACK of 1 bytes with only 0 in flight/);
    expect(() => credit.take(101)).toThrow(RangeError);
  });
});

describe("SPDY framing for kubectl port-forward", () => {
  it("the header dictionary is SPDY/3's, 1,423 bytes", () => {
    expect(SPDY_DICTIONARY.length).toBe(1423);
    expect(SPDY_DICTIONARY.subarray(0, 11).toString("latin1")).toBe("\0\0\0\x07options");
    expect(SPDY_DICTIONARY.subarray(-6).toString("latin1")).toBe("enq=0.");
  });

  it("reads a SYN_STREAM whose headers are compressed with the dictionary, as kubectl sends it, and answers a PING", () => {
    const headers = new Map([["streamtype", "data"], ["port", "8080"], ["requestid", "0"]]);
    const block = deflateSync(encodeHeaderBlock(headers), { dictionary: SPDY_DICTIONARY, finishFlush: constants.Z_SYNC_FLUSH });
    const payload = Buffer.concat([Buffer.from([0, 0, 0, 3, 0, 0, 0, 0, 0, 0]), block]);
    const syn = Buffer.concat([Buffer.from([0x80, 3, 0, 1, 0, 0, 0, 0]), payload]);
    syn.writeUIntBE(payload.length, 5, 3);
    const ping = Buffer.from([0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 7]);
    const seen: [number, Map<string, string>][] = [];
    const written: Uint8Array[] = [];
    const framer = new SpdyFramer((b) => written.push(b), { onSynStream: (id, h) => seen.push([id, h]), onData: () => {}, onRst: () => {}, onGoAway: () => {} });
    const all = Buffer.concat([syn, ping]);
    // Split at every byte boundary pattern: frames arrive in arbitrary pieces.
    for (let i = 0; i < all.length; i += 5) framer.push(all.subarray(i, i + 5));
    expect(seen).toEqual([[3, headers]]);
    expect(Buffer.from(written[0]).equals(ping)).toBe(true);
  });

  it("writes SYN_REPLY header blocks any zlib reader inflates, one stream across frames", () => {
    const written: Buffer[] = [];
    const framer = new SpdyFramer((b) => written.push(Buffer.from(b)), { onSynStream: () => {}, onData: () => {}, onRst: () => {}, onGoAway: () => {} });
    framer.synReply(1);
    framer.synReply(3);
    const blocks = written.map((f) => f.subarray(12));
    const inflated = inflateSync(Buffer.concat(blocks), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(parseHeaderBlock(inflated.subarray(0, 4)).size).toBe(0);
    expect(inflated.length).toBe(8);
  });
});
