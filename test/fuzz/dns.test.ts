/**
 * Fuzzing the cluster DNS server with structure-aware packets from fast-check: headers with
 * random flags and counts, names with bad label lengths, compression pointers (forward, self,
 * loops), random types and classes, truncation and trailing bytes, over UDP and over TCP with
 * lying length prefixes. Each packet either gets a well-formed answer or is dropped; the server
 * keeps answering valid queries correctly and promptly, and its answers never lie.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import dgram from "node:dgram";
import net from "node:net";
import dns2 from "dns2";
import { startDnsServer, type DnsServer } from "../../runtime/dns/server.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";

const { Packet } = dns2;

/** One label (or a pointer, or a bad length) in wire form. */
const label = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z0-9-]{1,20}$/).map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 63 }).map((b) => Buffer.concat([Buffer.from([b.length]), Buffer.from(b)])) },
  { weight: 1, arbitrary: fc.integer({ min: 64, max: 255 }).map((n) => Buffer.from([n])) }, // reserved/bad length
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x3fff }).map((off) => Buffer.from([0xc0 | (off >> 8), off & 0xff])) }, // pointer anywhere
  { weight: 1, arbitrary: fc.constant(Buffer.from([0xc0, 12])) }, // pointer to itself (a loop at the question)
);

const clusterNames = fc.constantFrom("web", "web.default", "web.default.svc", "web.default.svc.cluster.local", "_http._tcp.web.default.svc.cluster.local", "db.prod", "nope.default.svc.cluster.local", "example.com", "alias", "chain", "self", "loop-a", "outside");
const validName = clusterNames.map((n) => Buffer.concat([...n.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]));

const packet = fc
  .record({
    id: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(0x0100, 0x0000, 0x0120) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    qd: fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    an: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    ns: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
    ar: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }) }),
    name: fc.oneof({ weight: 3, arbitrary: validName }, { weight: 2, arbitrary: fc.array(label, { maxLength: 12 }).map((ls) => Buffer.concat([...ls, Buffer.from([0])])) }, { weight: 1, arbitrary: fc.array(label, { maxLength: 6 }).map((ls) => Buffer.concat(ls)) }),
    type: fc.oneof(fc.constantFrom(1, 28, 33, 255, 12, 5), fc.integer({ min: 0, max: 0xffff })),
    klass: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) }),
    tail: fc.oneof({ weight: 4, arbitrary: fc.constant(new Uint8Array()) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) }),
    cut: fc.option(fc.nat(), { nil: undefined, freq: 4 }),
  })
  .map((p) => {
    const h = Buffer.alloc(12);
    h.writeUInt16BE(p.id, 0);
    h.writeUInt16BE(p.flags, 2);
    h.writeUInt16BE(p.qd, 4);
    h.writeUInt16BE(p.an, 6);
    h.writeUInt16BE(p.ns, 8);
    h.writeUInt16BE(p.ar, 10);
    const q = Buffer.alloc(4);
    q.writeUInt16BE(p.type, 0);
    q.writeUInt16BE(p.klass, 2);
    const whole = Buffer.concat([h, p.name, q, Buffer.from(p.tail)]);
    return p.cut === undefined ? whole : whole.subarray(0, p.cut % (whole.length + 1));
  });

function query(name: string, type: number): Buffer {
  const p = new Packet();
  p.header.id = 4242;
  p.header.rd = 1;
  p.questions.push({ name, type, class: Packet.CLASS.IN } as never);
  return p.toBuffer();
}

// Once with dns2's full path for every packet, once with the answer cache in front of it.
describe.each([
  ["dns2 path only", false],
  ["with the answer cache", true],
] as const)("fuzz: cluster DNS (%s)", (_label, cached) => {
  const zone = new DnsZone();
  let server: DnsServer;
  let port: number;
  let sock: dgram.Socket;
  const replies: Buffer[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.20", ports: [{ name: "http", port: 80, protocol: "TCP" }] });
    zone.set({ namespace: "prod", name: "db", endpoints: [{ ip: "172.30.0.5", ports: [] }], ports: [] });
    // ExternalName aliases: of a service, a chain of two, itself, a loop, and a name outside.
    const alias = (name: string, externalName: string) => zone.set({ namespace: "default", name, ports: [], externalName });
    alias("alias", "web.default.svc.cluster.local");
    alias("chain", "alias.default.svc.cluster.local");
    alias("self", "self.default.svc.cluster.local");
    alias("loop-a", "loop-b.default.svc.cluster.local");
    alias("loop-b", "loop-a.default.svc.cluster.local");
    alias("outside", "db.example.com");
    server = await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: cached ? () => zone.version : undefined, onError: (e, kind) => kind === "socket" && errors.push(String(e)) });
    port = server.addresses[0].port;
    sock = dgram.createSocket("udp4");
    sock.on("message", (m) => replies.push(m));
    await new Promise<void>((r) => sock.bind(0, "127.0.0.1", () => r()));
  });
  afterAll(async () => {
    sock?.close();
    await server?.close();
  });

  const ask = (buf: Buffer, timeoutMs = 1000) =>
    new Promise<InstanceType<typeof Packet>>((resolve, reject) => {
      const s = dgram.createSocket("udp4");
      const t = setTimeout(() => {
        s.close();
        reject(new Error("no answer"));
      }, timeoutMs);
      s.on("message", (m) => {
        clearTimeout(t);
        s.close();
        resolve(Packet.parse(m));
      });
      s.send(buf, port, "127.0.0.1");
    });

  it("fuzz dns - 4000 crafted UDP packets: every reply parses and matches its query id, the server stays correct", async () => {
    const before = { ...server.stats };
    const sent = new Set<number>();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(packet, async (buf) => {
        if (buf.length >= 2) sent.add(buf.readUInt16BE(0));
        await new Promise<void>((r) => sock.send(buf, port, "127.0.0.1", () => r()));
        // Pace the flood so datagrams reach the parser rather than overflow the socket buffer.
        if (++n % 25 === 0) await new Promise((r) => setTimeout(r, 2));
      }),
      { numRuns: 4000, seed: 53 },
    );
    // Wait for the last replies, then check every one of them.
    const deadline = Date.now() + 2000;
    while (server.stats.received - before.received < 3500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    for (const m of replies) {
      const p = Packet.parse(m);
      expect(p.header.qr).toBe(1);
      expect(sent.has(p.header.id)).toBe(true);
    }
    const a = await ask(query("web.default.svc.cluster.local", Packet.TYPE.A));
    expect(a.answers.map((x) => (x as { address?: string }).address)).toEqual(["10.96.0.20"]);
    expect(server.stats.received - before.received).toBeGreaterThan(3500);
    expect(errors).toEqual([]);
    console.log("fuzz dns udp", JSON.stringify({ sent: 4000, received: server.stats.received - before.received, answered: server.stats.answered - before.answered, dropped: server.stats.dropped - before.dropped, servfail: server.stats.servfail - before.servfail }));
  });

  it("fuzz dns - 300 TCP streams with lying length prefixes and garbage do not stall other clients", async () => {
    const stream = fc.tuple(fc.array(fc.tuple(fc.integer({ min: 0, max: 0xffff }), packet), { minLength: 1, maxLength: 4 }), fc.boolean());
    const samples = fc.sample(stream, { numRuns: 300, seed: 54 });
    await Promise.all(
      samples.map(
        ([frames, lie]) =>
          new Promise<void>((resolve) => {
            const s = net.connect(port, "127.0.0.1");
            const t = setTimeout(() => s.destroy(), 1500);
            s.on("error", () => {});
            s.on("close", () => {
              clearTimeout(t);
              resolve();
            });
            s.on("connect", () => {
              for (const [len, body] of frames) {
                const prefix = Buffer.alloc(2);
                prefix.writeUInt16BE(lie ? len : body.length);
                s.write(Buffer.concat([prefix, body]));
              }
              s.end();
            });
          }),
      ),
    );
    const t0 = Date.now();
    const a = await ask(query("db.prod.svc.cluster.local", Packet.TYPE.A));
    expect(a.answers).toHaveLength(1);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("fuzz dns - random valid queries for cluster names are answered truthfully (never an address that is not in the zone)", async () => {
    const hitsBefore = server.stats.cacheHits;
    const known = new Set(["10.96.0.20", "172.30.0.5"]);
    await fc.assert(
      fc.asyncProperty(clusterNames, fc.constantFrom(1, 28, 33, 255, 16), async (name, type) => {
        const r = await ask(query(name, type));
        expect(r.header.id).toBe(4242);
        for (const ans of r.answers as { address?: string }[]) if (ans.address) expect(known.has(ans.address)).toBe(true);
      }),
      { numRuns: 300, seed: 55 },
    );
    // 300 queries over 65 distinct (name, type) pairs: the cached server replays most of them.
    if (cached) expect(server.stats.cacheHits - hitsBefore).toBeGreaterThan(200);
    else expect(server.stats.cacheHits).toBe(0);
  });
});
