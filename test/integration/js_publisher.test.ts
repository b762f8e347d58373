/**
 * The store's JetStream write path (runtime/store/js_publisher.ts) against a real nats-server:
 * the outcomes `js.publish` gives (the ack's sequence, the stream's errors, no stream, timeout,
 * closed connection), through one reply subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "@nats-io/nats-core";
import { jetstreamManager, JetStreamApiError } from "@nats-io/jetstream";
import { JsPublisher } from "../../runtime/store/js_publisher.ts";
import { connectNats } from "../../runtime/nats/connection.ts";
import { startNatsServer } from "../../runtime/nats/server.ts";
import { startTestNats, type TestNats } from "../helpers/nats.ts";

async function waitForCount(count: () => number, n: number): Promise<void> {
  for (let i = 0; i < 200 && count() < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(count()).toBe(n);
}

function expecting(seq: number) {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", String(seq));
  return h;
}

describe("JsPublisher", () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
    const jsm = await jetstreamManager(nats.nc);
    await jsm.streams.add({ name: "PUBTEST", subjects: ["pubtest.>"], max_msgs_per_subject: 2 });
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("resolves with the stream sequence, and many writes in flight share one subscription", async () => {
    const pub = new JsPublisher(nats.nc);
    const first = await pub.publish("pubtest.a", "one");
    expect(first).toBeGreaterThan(0);
    const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publish(`pubtest.many.${i}`, `v${i}`)));
    expect(new Set(seqs).size).toBe(200);
    expect(Math.min(...seqs)).toBeGreaterThan(first);
    // Each write got its own ack: the sequence it was told holds its message.
    const jsm = await jetstreamManager(nats.nc);
    for (const i of [0, 1, 57, 120, 199]) {
      const m = await jsm.streams.getMessage("PUBTEST", { seq: seqs[i] });
      expect(m?.subject).toBe(`pubtest.many.${i}`);
    }
    expect(pub.inFlight).toBe(0);
    // One reply subscription for all of a publisher's writes.
    const subscriptions = () => (nats.nc as unknown as { protocol: { subscriptions: { size(): number } } }).protocol.subscriptions.size();
    const before = subscriptions();
    const pub2 = new JsPublisher(nats.nc);
    await Promise.all(Array.from({ length: 50 }, (_, i) => pub2.publish(`pubtest.more.${i}`, "x")));
    expect(subscriptions()).toBe(before + 1);
    pub.close();
    pub2.close();
  });

  it("a compare-and-swap that lost is the stream's JetStreamApiError (wrong last sequence)", async () => {
    const pub = new JsPublisher(nats.nc);
    const seq = await pub.publish("pubtest.cas", "v1", expecting(0));
    await expect(pub.publish("pubtest.cas", "again", expecting(0))).rejects.toSatisfy((e: unknown) => e instanceof JetStreamApiError && e.code === 10071);
    const next = await pub.publish("pubtest.cas", "v2", expecting(seq));
    expect(next).toBeGreaterThan(seq);
    await expect(pub.publish("pubtest.cas", "stale", expecting(seq))).rejects.toBeInstanceOf(JetStreamApiError);
    pub.close();
  });

  it("no stream on the subject: 'jetstream is not enabled', at once (no responders), not a timeout", async () => {
    const pub = new JsPublisher(nats.nc, 10_000);
    const t0 = performance.now();
    await expect(pub.publish("nostream.x", "v")).rejects.toThrow(/jetstream is not enabled/);
    expect(performance.now() - t0).toBeLessThan(5_000);
    pub.close();
  });

  it("an answer that never comes is nats-core's TimeoutError after the timeout; a late answer is ignored", async () => {
    // A plain subscriber takes the message and holds its reply subject.
    const replies: string[] = [];
    const sub = nats.nc.subscribe("silent.x", { callback: (_e, m) => void (m.reply && replies.push(m.reply)) });
    await nats.nc.flush();
    const pub = new JsPublisher(nats.nc, 300);
    const t0 = performance.now();
    await expect(pub.publish("silent.x", "v")).rejects.toMatchObject({ name: "TimeoutError" });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(pub.inFlight).toBe(0);
    expect(replies).toHaveLength(1);
    // A second write waits; the first one's late ack must not settle it.
    let settled = false;
    const second = pub.publish("silent.x", "w").finally(() => (settled = true));
    const outcome = second.catch((e: unknown) => e);
    await waitForCount(() => replies.length, 2);
    nats.nc.publish(replies[0], JSON.stringify({ stream: "PUBTEST", seq: 1 }));
    await nats.nc.flush();
    await nats.nc.flush();
    expect(settled).toBe(false);
    expect(pub.inFlight).toBe(1);
    expect(await outcome).toMatchObject({ name: "TimeoutError" });
    // The publisher keeps working.
    expect(await pub.publish("pubtest.after-timeout", "v")).toBeGreaterThan(0);
    sub.unsubscribe();
    pub.close();
  });

  it("an answer that is not an ack is refused, not taken for a sequence", async () => {
    const sub = nats.nc.subscribe("liar.x", { callback: (_e, m) => void m.respond("not json") });
    const sub2 = nats.nc.subscribe("liar.y", { callback: (_e, m) => void m.respond(JSON.stringify({ stream: "", seq: 3 })) });
    await nats.nc.flush();
    const pub = new JsPublisher(nats.nc);
    await expect(pub.publish("liar.x", "v")).rejects.toThrow(/invalid ack response/);
    await expect(pub.publish("liar.y", "v")).rejects.toThrow(/invalid ack response/);
    sub.unsubscribe();
    sub2.unsubscribe();
    pub.close();
  });

  it("while the connection drains, a write is refused unsent (DrainingConnectionError), not stored with its ack lost", async () => {
    const nc = await connectNats({ servers: nats.url, name: "js-publisher-drain" });
    const pub = new JsPublisher(nc);
    await pub.publish("pubtest.drain.before", "v"); // the reply subscription exists
    const jsm = await jetstreamManager(nats.nc);
    const before = (await jsm.streams.info("PUBTEST")).state.messages;
    const draining = nc.drain();
    await expect(pub.publish("pubtest.drain.during", "v")).rejects.toMatchObject({ name: "DrainingConnectionError" });
    await draining;
    expect((await jsm.streams.info("PUBTEST")).state.messages).toBe(before);
  });

  it("a publish the server refuses (permissions) fails at once with its PermissionViolationError, not after the timeout", async () => {
    const server = await startNatsServer({
      authorization: `authorization { users = [ { user: "w", password: "w", permissions: { publish: { deny: ["denied.>"] } } } ] }`,
    }).catch((e) => {
      throw new Error(`nats-server with users: ${String(e)}`);
    });
    try {
      const nc = await connectNats({ servers: server.url, user: "w", pass: "w", name: "js-publisher-denied" });
      const pub = new JsPublisher(nc, 10_000);
      const t0 = performance.now();
      await expect(pub.publish("denied.x", "v")).rejects.toMatchObject({ name: "PermissionViolationError" });
      expect(performance.now() - t0).toBeLessThan(5_000);
      expect(pub.inFlight).toBe(0);
      await nc.close();
    } finally {
      await server.stop();
    }
  });

  it("writes in flight when the connection closes fail with ClosedConnectionError, and so do later ones", async () => {
    const nc = await connectNats({ servers: nats.url, name: "js-publisher-close" });
    const held = nc.subscribe("held.x", { callback: () => {} });
    await nc.flush();
    const pub = new JsPublisher(nc, 30_000);
    const waiting = pub.publish("held.x", "v");
    const caught = waiting.catch((e: unknown) => e);
    await nc.close();
    const e = await caught;
    expect(e).toMatchObject({ name: "ClosedConnectionError" });
    await expect(pub.publish("pubtest.closed", "v")).rejects.toMatchObject({ name: "ClosedConnectionError" });
    expect(pub.inFlight).toBe(0);
    held.unsubscribe();
  });
});
