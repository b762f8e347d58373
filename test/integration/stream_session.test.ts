/**
 * Stream sessions over a real nats-server (runtime/stream/session.ts): a fast producer against a
 * slow consumer never has more than the window unacknowledged and every byte arrives in order;
 * ending from either side (or one side falling silent) tears down both and leaves no
 * subscription behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { nuid } from "@nats-io/nats-core";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { StreamSession } from "../../runtime/stream/session.ts";

let n: TestNats;
let other: NatsConnection;

beforeAll(async () => {
  n = await startTestNats();
  other = await connectNats({ servers: n.url, name: "stream-peer" });
});
afterAll(async () => {
  await other?.close();
  await n?.stop();
});

/** Two ends on two connections; both subscriptions are known to the server before it returns. */
async function pair(window: number, opts: { pingMs?: number; deadMs?: number } = {}) {
  const id = nuid.next();
  const a = new StreamSession(n.nc, { sendSubject: `t.${id}.up`, recvSubject: `t.${id}.down`, window, ...opts });
  const b = new StreamSession(other, { sendSubject: `t.${id}.down`, recvSubject: `t.${id}.up`, window, ...opts });
  await Promise.all([n.nc.flush(), other.flush()]);
  return { a, b };
}

const subs = (nc: NatsConnection) => (nc as unknown as { protocol: { subscriptions: { size(): number } } }).protocol.subscriptions.size();

describe("stream sessions over NATS", () => {
  it("frames that arrive before the receiver sets its handlers are kept and handed over in order (a quick exec's output and status)", async () => {
    const { a, b } = await pair(64 * 1024);
    // The node side of a quick command: output, its status and END, all before the requester
    // has its handlers (it is still awaiting the open request's reply).
    await a.send(1, new TextEncoder().encode("hello\n"));
    await a.status({ metadata: {}, status: "Success" });
    a.end("the process exited", true);
    await waitFor(async () => {
      await other.flush();
      return a.isEnded;
    }, "the sender to end", 5_000);
    await n.nc.flush();
    await other.flush();
    const seen: string[] = [];
    b.handlers = {
      onData: (ch, d) => void seen.push(`data ${ch} ${new TextDecoder().decode(d).trim()}`),
      onStatus: (st) => void seen.push(`status ${String(st.status)}`),
      onEnd: (reason) => void seen.push(`end ${reason}`),
    };
    expect(await b.done).toBe("the process exited");
    expect(seen).toEqual(["data 1 hello", "status Success", "end the process exited"]);
  });

  it("a fast producer and a slow consumer: in order, complete, never more than the window in flight", async () => {
    const window = 32 * 1024;
    const { a, b } = await pair(window);
    const data = randomBytes(1024 * 1024);
    const got: Buffer[] = [];
    let maxOutstanding = 0;
    b.handlers = {
      // The consumer hands on one chunk every few milliseconds.
      onData: (_ch, d) => new Promise<void>((r) => setTimeout(() => {
        got.push(Buffer.from(d));
        r();
      }, 2)),
    };
    const sampler = setInterval(() => (maxOutstanding = Math.max(maxOutstanding, a.outstanding())), 1);
    for (let off = 0; off < data.length; off += 10_000) {
      void a.send(1, data.subarray(off, off + 10_000));
      maxOutstanding = Math.max(maxOutstanding, a.outstanding());
    }
    await waitFor(() => got.reduce((s, x) => s + x.length, 0) === data.length, "every byte delivered", 60_000);
    clearInterval(sampler);
    expect(Buffer.concat(got).equals(data)).toBe(true);
    expect(maxOutstanding).toBeGreaterThan(0);
    expect(maxOutstanding).toBeLessThanOrEqual(window);
    a.end("done");
    await b.done;
  }, 90_000);

  it("END from either side ends both and unsubscribes both", async () => {
    const before = [subs(n.nc), subs(other)];
    const { a, b } = await pair(1024);
    expect([subs(n.nc), subs(other)]).toEqual([before[0] + 1, before[1] + 1]);
    let bReason = "";
    b.handlers = { onEnd: (r, byPeer) => (bReason = `${r}/${byPeer}`) };
    a.end("client went away");
    expect(await b.done).toBe("client went away");
    expect(bReason).toBe("client went away/true");
    expect([subs(n.nc), subs(other)]).toEqual(before);
  });

  it("a side that falls silent is given up on", async () => {
    const { a, b } = await pair(1024, { pingMs: 50, deadMs: 300 });
    // b's connection stops delivering: a hears nothing more.
    b.end("gone", false);
    expect(await a.done).toMatch(/gone|no word from the other side/);
  });

  it("a send after the end is refused, not queued forever", async () => {
    const { a, b } = await pair(1024);
    b.end("bye");
    await a.done;
    await expect(a.send(0, new Uint8Array(10))).rejects.toThrow(/has ended/);
  });
});
