/**
 * The DNS server with a worker process reading the same UDP socket (runtime/dns/dns_workers.ts):
 * the worker answers repeated questions from the replies the owner cached, with each query's own
 * id; zone changes reach it; malformed datagrams it passes on are dropped by the owner without
 * harm; close leaves no process behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import dns2 from "dns2";
import { startDnsServer, type DnsServer } from "../../runtime/dns/server.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";
import { waitFor } from "../helpers/nats.ts";

const { Packet } = dns2;
type DnsPacket = InstanceType<typeof Packet>;

function encodeQuery(name: string, id: number): Buffer {
  const p = new Packet();
  p.header.id = id;
  p.header.rd = 1;
  p.questions.push({ name, type: Packet.TYPE.A, class: Packet.CLASS.IN } as never);
  return p.toBuffer();
}

/** One client socket; `ask` sends a query and resolves with the reply carrying its id. */
function client() {
  const sock = dgram.createSocket("udp4");
  const waiting = new Map<number, (p: DnsPacket) => void>();
  sock.on("message", (m) => {
    const p = Packet.parse(m);
    waiting.get(p.header.id)?.(p);
    waiting.delete(p.header.id);
  });
  let next = 1;
  return {
    ask(port: number, name: string): Promise<DnsPacket> {
      const id = next++ & 0xffff;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`no answer to ${name} (id ${id}) within 2 s`));
        }, 2000);
        waiting.set(id, (p) => {
          clearTimeout(t);
          resolve(p);
        });
        sock.send(encodeQuery(name, id), port, "127.0.0.1");
      });
    },
    raw(port: number, bytes: Buffer) {
      sock.send(bytes, port, "127.0.0.1");
    },
    close: () => sock.close(),
  };
}

const address = (p: DnsPacket) => (p.answers[0] as { address?: string } | undefined)?.address;

describe("cluster DNS with a worker process", () => {
  const zone = new DnsZone();
  let server: DnsServer;
  let port: number;
  const c = client();

  beforeAll(async () => {
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.10", ports: [] });
    server = await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version, workers: 1 });
    port = server.addresses[0].port;
  });
  afterAll(async () => {
    c.close();
    await server?.close();
  });

  it("the worker answers repeated questions, each reply with its query's id and the question as asked", async () => {
    expect(server.workerPids).toHaveLength(1);
    // Both processes read the socket: keep asking until the worker has reported answers.
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => c.ask(port, "web.default.svc.cluster.local")));
      for (const r of replies) expect(address(r)).toBe("10.96.0.10");
      return server.stats.workerHits > 0;
    }, "answers from the worker", 15_000);
    const upper = await Promise.all(Array.from({ length: 20 }, () => c.ask(port, "WEB.Default.svc.cluster.local")));
    for (const r of upper) {
      expect(r.questions[0].name).toBe("WEB.Default.svc.cluster.local");
      expect(address(r)).toBe("10.96.0.10");
    }
  });

  it("after a zone change every process answers the new record", async () => {
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.99", ports: [] });
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => c.ask(port, "web.default.svc.cluster.local")));
      return replies.every((r) => address(r) === "10.96.0.99");
    }, "the new address from every answer");
    // And it stays so: no process holds on to the old reply.
    const hitsBefore = server.stats.workerHits;
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => c.ask(port, "web.default.svc.cluster.local")));
      for (const r of replies) expect(address(r)).toBe("10.96.0.99");
      return server.stats.workerHits > hitsBefore;
    }, "more answers from the worker", 15_000);
    zone.delete("default", "web");
    await waitFor(async () => {
      const replies = await Promise.all(Array.from({ length: 20 }, () => c.ask(port, "web.default.svc.cluster.local")));
      return replies.every((r) => r.header.rcode === Packet.RCODE.NXDOMAIN);
    }, "NXDOMAIN from every answer");
  });

  it("drops malformed datagrams read by either process, and keeps answering", async () => {
    const dropped = server.stats.dropped;
    const garbage = [Buffer.from([1, 2, 3]), Buffer.alloc(40, 0xff), Buffer.from("not a dns message at all")];
    for (let i = 0; i < 60; i++) c.raw(port, garbage[i % garbage.length]);
    await waitFor(() => server.stats.dropped - dropped >= 40, "the malformed datagrams counted as dropped");
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.11", ports: [] });
    await waitFor(async () => address(await c.ask(port, "web.default.svc.cluster.local")) === "10.96.0.11", "an answer after the garbage");
  });

  it("close stops the worker process", async () => {
    const [pid] = server.workerPids;
    await server.close();
    await waitFor(() => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    }, "the worker process gone");
  });
});
