import { describe, expect, it } from "vitest";
import { DnsZone } from "../../../../runtime/dns/zone.ts";

describe("DnsZone", () => {
  it("answers a service's ClusterIP until it is deleted, then NXDOMAIN", () => {
    const z = new DnsZone();
    z.set({ namespace: "default", name: "web", clusterIP: "10.96.0.5", readyIPs: [], ports: [] });
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
    z.set({ namespace: "ns", name: "db", readyIPs: [], ports: [{ name: "pg", port: 5432 }] });
    expect(z.lookup("db.ns.svc.example.internal", "A")).toBe("NXDOMAIN");
    z.set({ namespace: "ns", name: "db", readyIPs: ["10.0.0.2", "10.0.0.1"], ports: [{ name: "pg", port: 5432 }] });
    expect((z.lookup("db.ns.svc.example.internal", "A") as { address: string }[]).map((a) => a.address)).toEqual(["10.0.0.2", "10.0.0.1"]);
    expect(z.lookup("_pg._tcp.db.ns.svc.example.internal", "SRV")).toEqual([
      { type: "SRV", name: "_pg._tcp.db.ns.svc.example.internal", ttl: 5, priority: 0, weight: 100, port: 5432, target: "db.ns.svc.example.internal" },
    ]);
    expect(z.lookup("_pg._udp.db.ns.svc.example.internal", "SRV")).toBe("NXDOMAIN");
    expect(z.lookup("db.ns.svc.cluster.local", "A")).toBe("NXDOMAIN");
  });

  it("answers an ExternalName service with a CNAME whatever the type, and no SRV", () => {
    const z = new DnsZone();
    z.set({ namespace: "ns", name: "legacy", readyIPs: [], ports: [{ name: "pg", port: 5432 }], externalName: "db.example.com" });
    for (const t of ["A", "AAAA", "CNAME", "ANY", "TXT"]) {
      expect(z.lookup("legacy.ns.svc.cluster.local", t), t).toEqual([{ type: "CNAME", name: "legacy.ns.svc.cluster.local", ttl: 5, target: "db.example.com" }]);
    }
    expect(z.lookup("_pg._tcp.legacy.ns.svc.cluster.local", "SRV")).toBe("NXDOMAIN");
    // A changed alias is a change (the server's cache of replies must drop the old one).
    const v = z.version;
    z.set({ namespace: "ns", name: "legacy", readyIPs: [], ports: [{ name: "pg", port: 5432 }], externalName: "db2.example.com" });
    expect(z.version).toBeGreaterThan(v);
  });
});
