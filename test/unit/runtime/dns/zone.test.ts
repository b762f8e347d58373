import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { type DnsAnswer, type DnsEndpoint, DnsZone, dnsEndpointsOf } from "../../../../runtime/dns/zone.ts";
import type { Endpoints } from "../../../../model/types.ts";

const addressesOf = (r: DnsAnswer[] | "NXDOMAIN") => (r === "NXDOMAIN" ? r : r.map((a) => (a.type === "A" ? a.address : a.type)));

describe("DnsZone", () => {
  it("answers a service's ClusterIP until it is deleted, then NXDOMAIN", () => {
    const z = new DnsZone();
    z.set({ namespace: "default", name: "web", clusterIP: "10.96.0.5", ports: [] });
    expect(z.lookup("WEB.default.svc.cluster.local.", "A")).toEqual([
      { type: "A", name: "web.default.svc.cluster.local", ttl: 5, address: "10.96.0.5" },
    ]);
    expect(z.lookup("default.svc.cluster.local", "A")).toEqual([]);
    z.delete("default", "web");
    expect(z.lookup("web.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.size).toBe(0);
  });

  it("follows headless readiness: NXDOMAIN with no ready pod, one A per ready pod otherwise", () => {
    const z = new DnsZone("example.internal");
    z.set({ namespace: "ns", name: "db", endpoints: [], ports: [{ name: "pg", port: 5432 }] });
    expect(z.lookup("db.ns.svc.example.internal", "A")).toBe("NXDOMAIN");
    expect(z.lookup("_pg._tcp.db.ns.svc.example.internal", "SRV")).toBe("NXDOMAIN");
    const pg = [{ name: "pg", protocol: "TCP", port: 5432 }];
    z.set({ namespace: "ns", name: "db", endpoints: [{ ip: "10.0.0.2", ports: pg }, { ip: "10.0.0.1", ports: pg }], ports: [{ name: "pg", port: 5432 }] });
    expect(addressesOf(z.lookup("db.ns.svc.example.internal", "A"))).toEqual(["10.0.0.2", "10.0.0.1"]);
    expect(z.lookup("_pg._udp.db.ns.svc.example.internal", "SRV")).toBe("NXDOMAIN");
    expect(z.lookup("db.ns.svc.cluster.local", "A")).toBe("NXDOMAIN");
  });

  it("gives a headless service one SRV record per ready endpoint, named by its dashed IP, on the endpoint's port", () => {
    const z = new DnsZone();
    // The service port (5432) is not what SRV answers for a headless service: the pods listen on 6432.
    const pg = [{ name: "pg", protocol: "TCP", port: 6432 }];
    z.set({ namespace: "ns", name: "db", endpoints: [{ ip: "10.0.0.1", ports: pg }, { ip: "10.0.0.2", ports: pg }], ports: [{ name: "pg", protocol: "TCP", port: 5432 }] });
    expect(z.lookup("_pg._tcp.db.ns.svc.cluster.local", "SRV")).toEqual([
      { type: "SRV", name: "_pg._tcp.db.ns.svc.cluster.local", ttl: 5, priority: 0, weight: 50, port: 6432, target: "10-0-0-1.db.ns.svc.cluster.local" },
      { type: "SRV", name: "_pg._tcp.db.ns.svc.cluster.local", ttl: 5, priority: 0, weight: 50, port: 6432, target: "10-0-0-2.db.ns.svc.cluster.local" },
    ]);
    // Each target resolves to its own endpoint.
    expect(addressesOf(z.lookup("10-0-0-2.db.ns.svc.cluster.local", "A"))).toEqual(["10.0.0.2"]);
    expect(z.lookup("10-0-0-2.db.ns.svc.cluster.local", "AAAA")).toEqual([]);
    expect(z.lookup("_pg._tcp.db.ns.svc.cluster.local", "A")).toEqual([]);
    expect(z.lookup("10-0-0-3.db.ns.svc.cluster.local", "A")).toBe("NXDOMAIN");
  });

  it("names an endpoint with a hostname by it, and only by it", () => {
    const z = new DnsZone();
    const http = [{ name: "http", protocol: "TCP", port: 8080 }];
    z.set({
      namespace: "default",
      name: "web",
      endpoints: [{ ip: "10.213.0.7", hostname: "web-0", ports: http }, { ip: "10.213.0.9", ports: http }],
      ports: [{ name: "http", protocol: "TCP", port: 80 }],
    });
    expect(z.lookup("Web-0.web.default.svc.cluster.local", "A")).toEqual([
      { type: "A", name: "web-0.web.default.svc.cluster.local", ttl: 5, address: "10.213.0.7" },
    ]);
    // As CoreDNS: an address with a hostname is not also reachable by its dashed IP.
    expect(z.lookup("10-213-0-7.web.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(addressesOf(z.lookup("10-213-0-9.web.default.svc.cluster.local", "A"))).toEqual(["10.213.0.9"]);
    expect((z.lookup("_http._tcp.web.default.svc.cluster.local", "SRV") as { target: string }[]).map((r) => r.target)).toEqual([
      "web-0.web.default.svc.cluster.local",
      "10-213-0-9.web.default.svc.cluster.local",
    ]);
    // Names under a service that does not exist, or another namespace, or too deep: NXDOMAIN.
    expect(z.lookup("web-0.nope.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("web-0.web.prod.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("x.web-0.web.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
  });

  it("serves endpoint names under headless services only", () => {
    const z = new DnsZone();
    const http = [{ name: "http", protocol: "TCP", port: 8080 }];
    z.set({ namespace: "default", name: "api", clusterIP: "10.96.0.9", endpoints: [{ ip: "10.213.0.7", hostname: "api-0", ports: http }], ports: [{ name: "http", port: 80 }] });
    z.set({ namespace: "default", name: "legacy", externalName: "db.example.com", ports: [] });
    expect(z.lookup("api-0.api.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("10-213-0-7.api.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("_http._tcp.api.default.svc.cluster.local", "SRV")).toEqual([
      { type: "SRV", name: "_http._tcp.api.default.svc.cluster.local", ttl: 5, priority: 0, weight: 100, port: 80, target: "api.default.svc.cluster.local" },
    ]);
    expect(addressesOf(z.lookup("api.default.svc.cluster.local", "A"))).toEqual(["10.96.0.9"]);
    expect(z.lookup("x.legacy.default.svc.cluster.local", "A")).toBe("NXDOMAIN");
  });

  it("answers one name for two pods with the same hostname, with both addresses and one SRV record", () => {
    const z = new DnsZone();
    const p = [{ name: "p", protocol: "TCP", port: 1 }];
    z.set({ namespace: "ns", name: "s", endpoints: [{ ip: "10.0.0.1", hostname: "h", ports: p }, { ip: "10.0.0.2", hostname: "h", ports: p }], ports: [] });
    expect(addressesOf(z.lookup("h.s.ns.svc.cluster.local", "A"))).toEqual(["10.0.0.1", "10.0.0.2"]);
    expect(z.lookup("_p._tcp.s.ns.svc.cluster.local", "SRV")).toEqual([
      { type: "SRV", name: "_p._tcp.s.ns.svc.cluster.local", ttl: 5, priority: 0, weight: 50, port: 1, target: "h.s.ns.svc.cluster.local" },
    ]);
  });

  it("answers a pod's dashed IPv4 address under <ns>.pod (CoreDNS's pods insecure)", () => {
    const z = new DnsZone();
    expect(z.lookup("10-213-0-5.default.pod.cluster.local", "A")).toEqual([
      { type: "A", name: "10-213-0-5.default.pod.cluster.local", ttl: 5, address: "10.213.0.5" },
    ]);
    expect(z.lookup("10-213-0-5.any-ns.pod.cluster.local.", "ANY")).toHaveLength(1);
    expect(z.lookup("10-213-0-5.default.pod.cluster.local", "AAAA")).toEqual([]);
    expect(z.lookup("pod.cluster.local", "A")).toEqual([]);
    expect(z.lookup("default.pod.cluster.local", "A")).toEqual([]);
    for (const bad of ["256-0-0-1", "01-0-0-1", "a-b-c-d", "1-2-3", "1-2-3-4-5", "1--2-3", "-1-2-3"]) {
      expect(z.lookup(`${bad}.default.pod.cluster.local`, "A"), bad).toBe("NXDOMAIN");
    }
    expect(z.lookup("x.10-213-0-5.default.pod.cluster.local", "A")).toBe("NXDOMAIN");
    expect(z.lookup("10-213-0-5.default.pod.example.org", "A")).toBe("NXDOMAIN");
  });

  it("moves its version when an endpoint's name or port changes, not when the same endpoints come again", () => {
    const z = new DnsZone();
    const eps = (): DnsEndpoint[] => [{ ip: "10.0.0.1", hostname: "a", ports: [{ name: "p", protocol: "TCP", port: 1 }] }];
    z.set({ namespace: "ns", name: "s", endpoints: eps(), ports: [] });
    let v = z.version;
    z.set({ namespace: "ns", name: "s", endpoints: eps(), ports: [] });
    expect(z.version).toBe(v);
    z.set({ namespace: "ns", name: "s", endpoints: [{ ...eps()[0], hostname: "b" }], ports: [] });
    expect(z.version).toBeGreaterThan(v);
    expect(z.lookup("a.s.ns.svc.cluster.local", "A")).toBe("NXDOMAIN");
    expect(addressesOf(z.lookup("b.s.ns.svc.cluster.local", "A"))).toEqual(["10.0.0.1"]);
    v = z.version;
    const changed = [{ ...eps()[0], hostname: "b", ports: [{ name: "p", protocol: "TCP", port: 2 }] }];
    z.set({ namespace: "ns", name: "s", endpoints: changed, ports: [] });
    expect(z.version).toBeGreaterThan(v);
    // The zone keeps its own copy: the caller's objects changing later changes nothing.
    v = z.version;
    changed[0].ports[0].port = 3;
    changed[0].hostname = "c";
    expect(z.version).toBe(v);
    expect((z.lookup("_p._tcp.s.ns.svc.cluster.local", "SRV") as { port: number }[])[0].port).toBe(2);
    // Pod names are computed from the name alone: looking them up never moves the version.
    z.lookup("10-0-0-1.ns.pod.cluster.local", "A");
    expect(z.version).toBe(v);
  });

  it("answers an ExternalName service with a CNAME whatever the type, and no SRV", () => {
    const z = new DnsZone();
    z.set({ namespace: "ns", name: "legacy", ports: [{ name: "pg", port: 5432 }], externalName: "db.example.com" });
    for (const t of ["A", "AAAA", "CNAME", "ANY", "TXT"]) {
      expect(z.lookup("legacy.ns.svc.cluster.local", t), t).toEqual([{ type: "CNAME", name: "legacy.ns.svc.cluster.local", ttl: 5, target: "db.example.com" }]);
    }
    expect(z.lookup("_pg._tcp.legacy.ns.svc.cluster.local", "SRV")).toBe("NXDOMAIN");
    // A changed alias is a change (the server's cache of replies must drop the old one).
    const v = z.version;
    z.set({ namespace: "ns", name: "legacy", ports: [{ name: "pg", port: 5432 }], externalName: "db2.example.com" });
    expect(z.version).toBeGreaterThan(v);
  });

  it("property: every SRV target of a headless service resolves to exactly the ready endpoints of that name", () => {
    const ipArb = fc.integer({ min: 1, max: 6 }).map((n) => `10.0.0.${n}`);
    const endpointArb = fc.record({
      ip: ipArb,
      hostname: fc.option(fc.constantFrom("h0", "h1", "h2"), { nil: undefined }),
      ports: fc.subarray([{ name: "http", protocol: "TCP", port: 80 }, { name: "dns", protocol: "UDP", port: 53 }]),
    });
    fc.assert(
      fc.property(fc.array(endpointArb, { maxLength: 8 }), (raw) => {
        const endpoints = raw.map((e) => (e.hostname ? e : { ip: e.ip, ports: e.ports }));
        const z = new DnsZone();
        z.set({ namespace: "ns", name: "s", endpoints, ports: [] });
        const label = (e: DnsEndpoint) => e.hostname ?? e.ip.replaceAll(".", "-");
        const srv = z.lookup("_http._tcp.s.ns.svc.cluster.local", "SRV");
        const withHttp = endpoints.filter((e) => e.ports.some((p) => p.name === "http"));
        if (withHttp.length === 0) {
          expect(srv).toBe("NXDOMAIN");
          return;
        }
        if (srv === "NXDOMAIN") throw new Error("expected SRV records");
        const targets = srv.map((r) => (r.type === "SRV" ? r.target : ""));
        expect(new Set(targets).size).toBe(targets.length);
        expect(new Set(targets)).toEqual(new Set(withHttp.map((e) => `${label(e)}.s.ns.svc.cluster.local`)));
        for (const t of targets) {
          const want = [...new Set(endpoints.filter((e) => `${label(e)}.s.ns.svc.cluster.local` === t).map((e) => e.ip))].sort();
          expect((addressesOf(z.lookup(t, "A")) as string[]).sort()).toEqual(want);
        }
        expect((addressesOf(z.lookup("s.ns.svc.cluster.local", "A")) as string[]).sort()).toEqual([...new Set(endpoints.map((e) => e.ip))].sort());
      }),
    );
  });
});

describe("dnsEndpointsOf", () => {
  it("takes the ready addresses of every subset with their hostname and ports, sorted by IP", () => {
    const ep: Endpoints = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "web", namespace: "default" },
      subsets: [
        {
          addresses: [{ ip: "10.0.0.9", hostname: "web-1" }],
          notReadyAddresses: [{ ip: "10.0.0.5", hostname: "web-2" }],
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        },
        { addresses: [{ ip: "10.0.0.3" }], ports: [{ port: 80 }] },
        { addresses: [{ ip: "10.0.0.4", hostname: "web-0" }] },
      ],
    };
    expect(dnsEndpointsOf(ep)).toEqual([
      { ip: "10.0.0.3", ports: [{ protocol: "TCP", port: 80 }] },
      { ip: "10.0.0.4", hostname: "web-0", ports: [] },
      { ip: "10.0.0.9", hostname: "web-1", ports: [{ name: "http", protocol: "TCP", port: 8080 }] },
    ]);
    expect(dnsEndpointsOf({ ...ep, subsets: undefined })).toEqual([]);
  });
});
