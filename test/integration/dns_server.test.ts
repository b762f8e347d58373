import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import net from "node:net";
import dns2 from "dns2";
import { startDnsServer, type DnsServer } from "../../runtime/dns/server.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";

const { Packet } = dns2;
type DnsPacket = InstanceType<typeof Packet>;

function encodeQuery(name: string, type: keyof typeof Packet.TYPE, id = Math.floor(Math.random() * 65535)): Buffer {
  const p = new Packet();
  p.header.id = id;
  p.header.rd = 1;
  p.questions.push({ name, type: Packet.TYPE[type], class: Packet.CLASS.IN } as never);
  return p.toBuffer();
}

/** One UDP query; rejects after `timeoutMs` without an answer. */
function udpQuery(port: number, name: string, type: keyof typeof Packet.TYPE = "A", timeoutMs = 2000): Promise<DnsPacket> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer for ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("message", (msg) => {
      clearTimeout(t);
      sock.close();
      resolve(Packet.parse(msg));
    });
    sock.send(encodeQuery(name, type), port, "127.0.0.1");
  });
}

function tcpQuery(port: number, name: string, type: keyof typeof Packet.TYPE = "A"): Promise<DnsPacket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const q = encodeQuery(name, type);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    s.write(Buffer.concat([len, q]));
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error("no TCP answer"));
    }, 2000);
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(t);
        s.end();
        resolve(Packet.parse(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    s.on("error", reject);
  });
}

const addresses = (p: DnsPacket) => p.answers.filter((a) => a.type === Packet.TYPE.A).map((a) => a.address).sort();

// Both UDP paths: the raw libuv handle Node runs by default, and node:dgram (Deno's path).
describe.each(["auto", "dgram"] as const)("cluster DNS server (dns2 on loopback), UDP path %s", (udp) => {
  const zone = new DnsZone();
  let server: DnsServer;
  let port: number;
  let throwOn: string | undefined;

  beforeAll(async () => {
    zone.set({ namespace: "default", name: "backend-service", clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "TCP" }] });
    const pg = [{ name: "pg", protocol: "TCP", port: 6432 }];
    zone.set({ namespace: "prod", name: "db", endpoints: [{ ip: "172.30.0.4", ports: pg }, { ip: "172.30.0.5", hostname: "db-1", ports: pg }], ports: [{ name: "pg", port: 5432 }] });
    zone.set({ namespace: "default", name: "empty-headless", endpoints: [], ports: [] });
    zone.set({ namespace: "default", name: "legacy", ports: [], externalName: "db.example.com" });
    zone.set({ namespace: "default", name: "alias", ports: [], externalName: "backend-service.default.svc.cluster.local" });
    zone.set({ namespace: "default", name: "alias2", ports: [], externalName: "alias.default.svc.cluster.local" });
    zone.set({ namespace: "default", name: "self", ports: [], externalName: "self.default.svc.cluster.local" });
    zone.set({ namespace: "default", name: "loop-a", ports: [], externalName: "loop-b.default.svc.cluster.local" });
    zone.set({ namespace: "default", name: "loop-b", ports: [], externalName: "loop-a.default.svc.cluster.local" });
    server = await startDnsServer({
      addresses: [{ host: "127.0.0.1", port: 0 }],
      udp,
      lookup: (name, type) => {
        if (throwOn && name.startsWith(throwOn)) throw new Error("boom");
        return zone.lookup(name, type);
      },
    });
    port = server.addresses[0].port;
  });
  afterAll(() => server?.close());

  it("answers A for name, name.ns, name.ns.svc and the full name over UDP", async () => {
    for (const n of ["backend-service", "backend-service.default", "backend-service.default.svc", "backend-service.default.svc.cluster.local"]) {
      const r = await udpQuery(port, n);
      expect(r.header.rcode, n).toBe(0);
      expect(r.header.aa).toBe(1);
      expect(addresses(r), n).toEqual(["10.96.0.10"]);
      expect(r.answers[0].name).toBe(n);
    }
  });

  it("answers an ExternalName service with its CNAME; an alias of a cluster name brings that name's address too", async () => {
    const r = await udpQuery(port, "legacy.default.svc.cluster.local");
    expect(r.header.rcode).toBe(0);
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]).toMatchObject({ name: "legacy.default.svc.cluster.local", type: Packet.TYPE.CNAME, domain: "db.example.com" });
    const a = await udpQuery(port, "alias");
    expect(a.answers.map((x) => x.type)).toEqual([Packet.TYPE.CNAME, Packet.TYPE.A]);
    expect(a.answers[0]).toMatchObject({ name: "alias", domain: "backend-service.default.svc.cluster.local" });
    expect(addresses(a)).toEqual(["10.96.0.10"]);
    // A chain of aliases is followed to the address; an alias of itself is no record; a loop
    // gives each name once and stops.
    const chain = await udpQuery(port, "alias2.default.svc.cluster.local");
    expect(chain.answers.map((x) => x.type)).toEqual([Packet.TYPE.CNAME, Packet.TYPE.CNAME, Packet.TYPE.A]);
    expect(addresses(chain)).toEqual(["10.96.0.10"]);
    const self = await udpQuery(port, "self.default.svc.cluster.local");
    expect([self.header.rcode, self.answers.length]).toEqual([0, 0]);
    const loop = await udpQuery(port, "loop-a.default.svc.cluster.local");
    expect(loop.header.rcode).toBe(0);
    expect(loop.answers.map((x) => (x as { domain?: string }).domain)).toEqual(["loop-b.default.svc.cluster.local", "loop-a.default.svc.cluster.local"]);
    // Asked for the CNAME itself: only it.
    expect((await udpQuery(port, "alias.default.svc.cluster.local", "CNAME")).answers.map((x) => x.type)).toEqual([Packet.TYPE.CNAME]);
  });

  it("answers the same over TCP", async () => {
    const r = await tcpQuery(port, "backend-service.default.svc.cluster.local");
    expect(addresses(r)).toEqual(["10.96.0.10"]);
  });

  it("answers one A per ready pod for a headless service and NXDOMAIN when none is ready", async () => {
    expect(addresses(await udpQuery(port, "db.prod.svc.cluster.local"))).toEqual(["172.30.0.4", "172.30.0.5"]);
    expect((await udpQuery(port, "empty-headless.default.svc.cluster.local")).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
  });

  it("answers SRV for named ports with the target's address as additional", async () => {
    const r = await udpQuery(port, "_http._tcp.backend-service.default.svc.cluster.local", "SRV");
    expect(r.header.rcode).toBe(0);
    expect(r.answers).toHaveLength(1);
    expect(r.answers[0]).toMatchObject({ port: 80, target: "backend-service.default.svc.cluster.local" });
    expect(addresses({ answers: r.additionals } as DnsPacket)).toEqual(["10.96.0.10"]);
    expect((await udpQuery(port, "_nope._tcp.backend-service.default.svc.cluster.local", "SRV")).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
  });

  it("answers SRV of a headless service per endpoint, each target's own address as additional", async () => {
    const r = await udpQuery(port, "_pg._tcp.db.prod.svc.cluster.local", "SRV");
    expect(r.header.rcode).toBe(0);
    expect(r.answers.map((a) => [a.target, a.port, a.weight])).toEqual([
      ["172-30-0-4.db.prod.svc.cluster.local", 6432, 50],
      ["db-1.db.prod.svc.cluster.local", 6432, 50],
    ]);
    const glue = r.additionals.filter((a) => a.type === Packet.TYPE.A).map((a) => [a.name, a.address]).sort();
    expect(glue).toEqual([["172-30-0-4.db.prod.svc.cluster.local", "172.30.0.4"], ["db-1.db.prod.svc.cluster.local", "172.30.0.5"]]);
    expect(addresses(await udpQuery(port, "db-1.db.prod.svc.cluster.local"))).toEqual(["172.30.0.5"]);
    expect((await udpQuery(port, "db-2.db.prod.svc.cluster.local")).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
  });

  it("gives NXDOMAIN for unknown cluster names, NODATA for AAAA of a known one, REFUSED outside the cluster", async () => {
    expect((await udpQuery(port, "nope.default.svc.cluster.local")).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
    expect((await udpQuery(port, "nope")).header.rcode).toBe(Packet.RCODE.NXDOMAIN);
    const aaaa = await udpQuery(port, "backend-service.default.svc.cluster.local", "AAAA");
    expect(aaaa.header.rcode).toBe(0);
    expect(aaaa.answers).toHaveLength(0);
    expect((await udpQuery(port, "example.com")).header.rcode).toBe(Packet.RCODE.REFUSED);
    expect((await udpQuery(port, "www.example.org")).header.rcode).toBe(Packet.RCODE.REFUSED);
  });

  it("answers SERVFAIL when the lookup throws", async () => {
    throwOn = "backend-service";
    try {
      expect((await udpQuery(port, "backend-service")).header.rcode).toBe(Packet.RCODE.SERVFAIL);
    } finally {
      throwOn = undefined;
    }
    expect(addresses(await udpQuery(port, "backend-service"))).toEqual(["10.96.0.10"]);
  });

  it("drops responses and multi-question packets without answering", async () => {
    const p = new Packet();
    p.header.qr = 1;
    p.questions.push({ name: "backend-service", type: 1, class: 1 } as never);
    await expect(rawUdp(port, p.toBuffer(), 300)).rejects.toThrow(/no answer/);
    const two = new Packet();
    two.questions.push({ name: "backend-service", type: 1, class: 1 } as never, { name: "db.prod", type: 1, class: 1 } as never);
    await expect(rawUdp(port, two.toBuffer(), 300)).rejects.toThrow(/no answer/);
  });

  it("survives thousands of random datagrams and still answers correctly, promptly", async () => {
    const before = { ...server.stats };
    const sock = dgram.createSocket("udp4");
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) >>> 0) / 0x7fffffff;
    const valid = encodeQuery("backend-service", "A");
    const N = 5000;
    for (let i = 0; i < N; i++) {
      let buf: Buffer;
      if (i % 3 === 0) {
        // A valid query with random bytes overwritten: exercises the parser's deeper paths.
        buf = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      } else {
        buf = Buffer.alloc(Math.floor(rnd() * 600));
        for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256);
      }
      await new Promise<void>((r) => sock.send(buf, port, "127.0.0.1", () => r()));
      // Pace the flood so the datagrams reach the parser instead of overflowing the socket buffer.
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 1));
    }
    sock.close();
    // Like dig: a few tries, each with its own timeout. The socket buffer may still hold flood.
    const t0 = Date.now();
    let r: DnsPacket | undefined;
    for (let attempt = 0; attempt < 3 && !r; attempt++) {
      r = await udpQuery(port, "backend-service.default.svc.cluster.local", "A", 500).catch(() => undefined);
    }
    expect(r, "an answer after the fuzz").toBeDefined();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(addresses(r!)).toEqual(["10.96.0.10"]);
    expect(server.stats.received - before.received).toBeGreaterThan(3000);
    expect(server.stats.dropped).toBeGreaterThan(before.dropped);
    expect((await tcpQuery(port, "db.prod")).answers).toHaveLength(2);
  });

  it("drops a garbage TCP stream without stalling other clients", async () => {
    const s = net.connect(port, "127.0.0.1");
    const closed = new Promise((r) => s.once("close", r));
    s.on("error", () => {});
    await new Promise((r) => s.once("connect", r));
    s.write(Buffer.from([0x00, 0x05, 1, 2, 3, 4, 5, 0xff, 0xff]));
    expect(addresses(await tcpQuery(port, "backend-service"))).toEqual(["10.96.0.10"]);
    await closed;
  });
});

function rawUdp(port: number, buf: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      reject(new Error("no answer"));
    }, timeoutMs);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      resolve(m);
    });
    sock.send(buf, port, "127.0.0.1");
  });
}
