/** The cluster DNS server's CoreDNS-named metrics, over real UDP on loopback; promtool accepts them. */
import dgram from "node:dgram";
import { execFileSync } from "node:child_process";
import dns2 from "dns2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDnsServer, type DnsServer } from "../../runtime/dns/server.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";
import { ComponentMetrics } from "../../runtime/metrics/registry.ts";

const { Packet } = dns2;

function udpQuery(port: number, name: string, type: keyof typeof Packet.TYPE = "A"): Promise<InstanceType<typeof Packet>> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer for ${name}`));
    }, 2000);
    sock.on("message", (msg) => {
      clearTimeout(t);
      sock.close();
      resolve(Packet.parse(msg));
    });
    const p = new Packet();
    p.header.id = Math.floor(Math.random() * 65535);
    p.header.rd = 1;
    p.questions.push({ name, type: Packet.TYPE[type], class: Packet.CLASS.IN } as never);
    sock.send(p.toBuffer(), port, "127.0.0.1");
  });
}

describe("cluster DNS metrics", () => {
  const zone = new DnsZone();
  const metrics = new ComponentMetrics("proxy");
  let server: DnsServer;
  beforeAll(async () => {
    zone.set({ namespace: "default", name: "web", clusterIP: "10.96.0.10", ports: [{ name: "http", port: 80, protocol: "TCP" }] });
    server = await startDnsServer({ addresses: [{ host: "127.0.0.1", port: 0 }], lookup: (n, t) => zone.lookup(n, t), version: () => zone.version, metrics });
  });
  afterAll(() => server?.close());

  it("requests by type, responses by rcode, durations, and cache hits", async () => {
    const port = server.addresses[0].port;
    expect((await udpQuery(port, "web.default.svc.cluster.local")).header.rcode).toBe(0);
    expect((await udpQuery(port, "web.default.svc.cluster.local")).header.rcode).toBe(0); // from the cache
    expect((await udpQuery(port, "nope.default.svc.cluster.local")).header.rcode).toBe(3);
    expect((await udpQuery(port, "_http._tcp.web.default.svc.cluster.local", "SRV")).header.rcode).toBe(0);
    const text = await metrics.text();
    expect(text).toMatch(/^coredns_dns_requests_total\{type="A"\} 2$/m);
    expect(text).toMatch(/^coredns_dns_requests_total\{type="SRV"\} 1$/m);
    expect(text).toMatch(/^coredns_dns_responses_total\{rcode="NXDOMAIN"\} 1$/m);
    expect(text).toMatch(/^coredns_cache_hits_total 1$/m);
    expect(text).toMatch(/^coredns_dns_request_duration_seconds_count\{type="A"\} 2$/m);
    execFileSync("promtool", ["check", "metrics"], { input: text });
  });
});
