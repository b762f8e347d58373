import { describe, expect, it } from "vitest";
import { parseProxyMode } from "../../../runtime/service_proxy.ts";
import { nftPortsOf } from "../../../runtime/proxy/nft_dataplane.ts";
import type { Endpoints, Service } from "../../../model/types.ts";

describe("--proxy-mode", () => {
  it("accepts userspace (the default) and nftables, and names the flag on anything else", () => {
    expect(parseProxyMode(undefined)).toBe("userspace");
    expect(parseProxyMode("nftables")).toBe("nftables");
    expect(() => parseProxyMode("iptables")).toThrow(/--proxy-mode must be userspace or nftables, got "iptables"/);
  });
});

describe("nftPortsOf (Service + Endpoints → generator input)", () => {
  const svc = {
    metadata: { name: "web", namespace: "shop" },
    spec: { type: "NodePort", clusterIP: "10.96.0.7", sessionAffinity: "ClientIP", ports: [{ port: 80, targetPort: 8080, nodePort: 30007 }] },
  } as unknown as Service;
  const ep = {
    metadata: { name: "web", namespace: "shop", annotations: { "berth.dev/host-endpoints": JSON.stringify({ "10.213.0.9": { hostIP: "192.168.5.2", hostPorts: { "8080/TCP": 32100 } } }) } },
    subsets: [{ addresses: [{ ip: "10.213.0.4" }, { ip: "10.213.0.9" }], ports: [{ port: 8080, protocol: "TCP" }] }],
  } as unknown as Endpoints;

  it("keeps local pods at their IP, marks host-port endpoints remote, defaults the affinity timeout", () => {
    const local = (ip: string) => ip === "10.213.0.4";
    const [p] = nftPortsOf(svc, ep, (b) => (local(b.ip) ? { host: b.ip, port: b.port } : b.hostIP && b.hostPort ? { host: b.hostIP, port: b.hostPort } : undefined));
    expect(p).toEqual({
      namespace: "shop",
      name: "web",
      protocol: "tcp",
      clusterIP: "10.96.0.7",
      port: 80,
      nodePort: 30007,
      affinitySeconds: 10800,
      endpoints: [{ ip: "10.213.0.4", port: 8080 }, { ip: "192.168.5.2", port: 32100, remote: true }],
    });
  });

  it("headless services get no rules", () => {
    expect(nftPortsOf({ ...svc, spec: { ...svc.spec, clusterIP: "None" } }, ep, () => undefined)).toEqual([]);
  });
});
