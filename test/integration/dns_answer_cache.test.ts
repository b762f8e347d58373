/**
 * The DNS server's answer cache (runtime/dns/answer_cache.ts) on loopback: replies replayed from
 * it carry each query's own id, it empties when the zone changes, and it keeps UDP truncation,
 * EDNS and TCP exactly as the full dns2 path answers them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import net from "node:net";
import dns2 from "dns2";
import { startDnsServer, type DnsServer } from "../../runtime/dns/server.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";

const { Packet } = dns2;
type DnsPacket = InstanceType<typeof Packet>;

function encodeQuery(name: string, type: number, opts: { id?: number; edns?: number } = {}): Buffer {
  const p = new Packet();
  p.header.id = opts.id ?? 4321;
  p.header.rd = 1;
  p.questions.push({ name, type, class: Packet.CLASS.IN } as never);
  if (opts.edns) p.additionals.push(Packet.Resource.EDNS([], { udpPayloadSize: opts.edns }) as never);
  return p.toBuffer();
}

function udpRaw(port: number, query: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      reject(new Error("no UDP answer within 2 s"));
    }, 2000);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      resolve(m);
    });
    sock.send(query, port, "127.0.0.1");
  });
}

const udp = async (port: number, query: Buffer): Promise<DnsPacket> => Packet.parse(await udpRaw(port, query));

function tcp(port: number, query: Buffer): Promise<DnsPacket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const len = Buffer.alloc(2);
    len.writeUInt16BE(query.length);
    s.write(Buffer.concat([len, query]));
    let buf = Buffer.alloc(0);
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        s.end();
        resolve(Packet.parse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on("error", reject);
  });
}

const addresses = (p: DnsPacket) => p.answers.filter((a) => a.type === Packet.TYPE.A).map((a) => (a as { address: string }).address).sort();
const optOf = (p: DnsPacket) => p.additionals.find((r) => r.type === Packet.TYPE.EDNS);
/** 40 pod IPs: 40 A records (16 bytes each with name compression) do not fit 512 bytes. */
const manyIps = Array.from({ length: 40 }, (_, i) => `172.30.1.${i + 1}`);

describe("cluster DNS answer cache", () => {
  const zone = new DnsZone();
  let server: DnsServer;
  let port: number;

  beforeAll(async () => {
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.10", ports: [] });
    zone.set({ namespace: "default", name: "big", endpoints: manyIps.map((ip) => ({ ip, ports: [] })), ports: [] });
    server = await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version });
    port = server.addresses[0].port;
  });
  afterAll(() => server?.close());

  it("replays a repeated query from the cache with that query's own id", async () => {
    const first = await udp(port, encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A, { id: 1 }));
    const hits = server.stats.cacheHits;
    const second = await udp(port, encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A, { id: 2 }));
    expect(server.stats.cacheHits).toBe(hits + 1);
    expect(first.header.id).toBe(1);
    expect(second.header.id).toBe(2);
    expect(addresses(second)).toEqual(["10.96.0.10"]);
    expect(second.header.aa).toBe(1);
  });

  it("keeps the question as it was asked: names differing in case are cached apart", async () => {
    const upper = await udp(port, encodeQuery("WEB.default.svc.cluster.local", Packet.TYPE.A));
    const again = await udp(port, encodeQuery("WEB.default.svc.cluster.local", Packet.TYPE.A));
    const lower = await udp(port, encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A));
    expect(upper.questions[0].name).toBe("WEB.default.svc.cluster.local");
    expect(again.answers[0].name).toBe("WEB.default.svc.cluster.local");
    expect(lower.answers[0].name).toBe("web.default.svc.cluster.local");
  });

  it("answers the new record at once when the zone changes, and NXDOMAIN once it is removed", async () => {
    const q = encodeQuery("moving.default.svc.cluster.local", Packet.TYPE.A);
    expect((await udp(port, q)).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
    expect((await udp(port, q)).header.rcode).toBe(Packet.RCODE.NXDOMAIN); // from the cache
    zone.set({ namespace: "default", name: "moving", clusterIP: "10.96.0.30", ports: [] });
    expect(addresses(await udp(port, q))).toEqual(["10.96.0.30"]);
    expect(addresses(await udp(port, q))).toEqual(["10.96.0.30"]);
    zone.set({ namespace: "default", name: "moving", clusterIP: "10.96.0.31", ports: [] });
    expect(addresses(await udp(port, q))).toEqual(["10.96.0.31"]);
    zone.delete("default", "moving");
    expect((await udp(port, q)).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
  });

  it("setting an unchanged record keeps the cache", async () => {
    const q = encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A);
    await udp(port, q);
    const v = zone.version;
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.10", ports: [] });
    expect(zone.version).toBe(v);
    const hits = server.stats.cacheHits;
    await udp(port, q);
    expect(server.stats.cacheHits).toBe(hits + 1);
  });

  it("truncates an oversized UDP reply (TC=1, question only), also when replayed from the cache", async () => {
    for (let i = 0; i < 2; i++) {
      const raw = await udpRaw(port, encodeQuery("big.default.svc.cluster.local", Packet.TYPE.A));
      expect(raw.length).toBeLessThanOrEqual(512);
      const r = Packet.parse(raw);
      expect(r.header.tc).toBe(1);
      expect(r.answers).toHaveLength(0);
      expect(r.questions[0].name).toBe("big.default.svc.cluster.local");
    }
  });

  it("sends the whole oversized answer over TCP", async () => {
    const r = await tcp(port, encodeQuery("big.default.svc.cluster.local", Packet.TYPE.A));
    expect(r.header.tc).toBe(0);
    expect(addresses(r)).toEqual([...manyIps].sort());
  });

  it("with EDNS(0) fits the answer in the offered size and echoes an OPT record; without, no OPT", async () => {
    for (let i = 0; i < 2; i++) {
      const raw = await udpRaw(port, encodeQuery("big.default.svc.cluster.local", Packet.TYPE.A, { edns: 4096 }));
      expect(raw.length).toBeGreaterThan(512);
      const r = Packet.parse(raw);
      expect(r.header.tc).toBe(0);
      expect(addresses(r)).toEqual([...manyIps].sort());
      expect(optOf(r)).toBeDefined();
    }
    expect(optOf(await udp(port, encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A)))).toBeUndefined();
    expect(optOf(await udp(port, encodeQuery("web.default.svc.cluster.local", Packet.TYPE.A, { edns: 1232 })))).toBeDefined();
  });

  it("with a small EDNS size still truncates, keeping the OPT record", async () => {
    const r = await udp(port, encodeQuery("big.default.svc.cluster.local", Packet.TYPE.A, { edns: 512 }));
    expect(r.header.tc).toBe(1);
    expect(r.answers).toHaveLength(0);
    expect(optOf(r)).toBeDefined();
  });

  it("never caches a SERVFAIL: a lookup that recovers answers again", async () => {
    let fail = true;
    const z2 = new DnsZone();
    z2.set({ namespace: "default", name: "flaky", clusterIP: "10.96.0.40", ports: [] });
    const s2 = await startDnsServer({
      addresses: [{ host: "127.0.0.1", port: 0 }],
      lookup: (n, t) => {
        if (fail) throw new Error("boom");
        return z2.lookup(n, t);
      },
      version: () => z2.version,
    });
    try {
      const q = encodeQuery("flaky.default.svc.cluster.local", Packet.TYPE.A);
      expect((await udp(s2.addresses[0].port, q)).header.rcode).toBe(Packet.RCODE.SERVFAIL);
      fail = false;
      expect(addresses(await udp(s2.addresses[0].port, q))).toEqual(["10.96.0.40"]);
    } finally {
      await s2.close();
    }
  });
});
