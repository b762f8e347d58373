import { describe, expect, it } from "vitest";
import { AnswerCache, MAX_CACHED_QUERY_BYTES } from "../../../../runtime/dns/answer_cache.ts";
import { DnsZone } from "../../../../runtime/dns/zone.ts";

const query = (id: number, body: string) => Buffer.concat([Buffer.from([id >> 8, id & 0xff]), Buffer.from(`\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00${body}`, "latin1")]);

describe("AnswerCache", () => {
  it("replays a stored reply with the new query's id, in a fresh buffer", () => {
    let v = 0;
    const c = new AnswerCache(() => v);
    const q1 = query(0x0102, "web");
    const key = AnswerCache.keyOf(q1)!;
    expect(c.reply(key, q1)).toBeUndefined();
    const reply = Buffer.from([0x01, 0x02, 0x81, 0x80, 9, 9, 9]);
    c.store(key, reply, 0);
    reply[6] = 0; // the cache holds its own copy
    const q2 = query(0xabcd, "web");
    const out = c.reply(AnswerCache.keyOf(q2)!, q2)!;
    expect([...out]).toEqual([0xab, 0xcd, 0x81, 0x80, 9, 9, 9]);
    const again = c.reply(key, q1)!;
    expect(again).not.toBe(out);
    expect([...again.subarray(0, 2)]).toEqual([0x01, 0x02]);
    expect([...out.subarray(0, 2)]).toEqual([0xab, 0xcd]);
    expect(c.hits).toBe(2);
  });

  it("in place, hands out the stored buffer with the id written in; after `held` it moves on to a copy and leaves the held bytes alone", () => {
    const c = new AnswerCache(() => 0);
    const q1 = query(0x0102, "web");
    const key = AnswerCache.keyOf(q1)!;
    c.store(key, Buffer.from([0, 0, 0x81, 0x80, 9]), 0);
    const first = c.reply(key, q1, true)!;
    expect([...first]).toEqual([0x01, 0x02, 0x81, 0x80, 9]);
    const q2 = query(0x0304, "web");
    // Sent synchronously (not held): the same buffer serves the next hit.
    expect(c.reply(key, q2, true)).toBe(first);
    expect([...first.subarray(0, 2)]).toEqual([0x03, 0x04]);
    // A queued send keeps `first`: the next hit must not write into it.
    c.held(key, first);
    const q3 = query(0x0506, "web");
    const third = c.reply(key, q3, true)!;
    expect(third).not.toBe(first);
    expect([...third]).toEqual([0x05, 0x06, 0x81, 0x80, 9]);
    expect([...first]).toEqual([0x03, 0x04, 0x81, 0x80, 9]);
  });

  it("empties when the version moves, and refuses a reply computed against an older version", () => {
    let v = 1;
    const c = new AnswerCache(() => v);
    const q = query(1, "web");
    const key = AnswerCache.keyOf(q)!;
    c.store(key, Buffer.from([0, 1, 2]), 1);
    expect(c.reply(key, q)).toBeDefined();
    v = 2;
    expect(c.reply(key, q)).toBeUndefined();
    c.store(key, Buffer.from([0, 1, 3]), 1); // looked up before the change: stale
    expect(c.reply(key, q)).toBeUndefined();
  });

  it("peek gives the stored reply only while the version it was stored under holds", () => {
    let v = 1;
    const c = new AnswerCache(() => v);
    const key = AnswerCache.keyOf(query(1, "web"))!;
    expect(c.peek(key)).toBeUndefined();
    c.store(key, Buffer.from([0, 1, 2]), 1);
    expect([...c.peek(key)!]).toEqual([0, 1, 2]);
    v = 2;
    expect(c.peek(key)).toBeUndefined();
  });

  it("stays bounded and leaves out queries too short or too long to be real", () => {
    const c = new AnswerCache(() => 0, 3);
    for (let i = 0; i < 10; i++) c.store(`k${i}`, Buffer.from([0, 0]), 0);
    expect(c.size).toBeLessThanOrEqual(3);
    expect(AnswerCache.keyOf(Buffer.alloc(11))).toBeUndefined();
    expect(AnswerCache.keyOf(Buffer.alloc(MAX_CACHED_QUERY_BYTES + 1))).toBeUndefined();
  });
});

describe("DnsZone version", () => {
  it("moves on every change that can change an answer, not on an identical set", () => {
    const z = new DnsZone();
    const v0 = z.version;
    z.set({ namespace: "default", name: "web", clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }] });
    const v1 = z.version;
    expect(v1).not.toBe(v0);
    z.set({ namespace: "default", name: "web", clusterIP: "10.96.0.5", ports: [{ name: "http", port: 80 }] });
    expect(z.version).toBe(v1);
    z.set({ namespace: "default", name: "web", clusterIP: "10.96.0.5", ports: [{ name: "http", port: 8080 }] });
    const v2 = z.version;
    expect(v2).not.toBe(v1);
    z.delete("default", "nope");
    expect(z.version).toBe(v2);
    z.delete("default", "web");
    expect(z.version).not.toBe(v2);
  });
});
