import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { allocateFor, AllocationError, ClusterIpAllocator, ipToInt, NodePortAllocator, releaseAllocation } from "../../../actors/service_ip_allocator.ts";

describe("ClusterIpAllocator", () => {
  it("hands out addresses of the default range, skipping network, .1 and broadcast", () => {
    const a = new ClusterIpAllocator();
    expect(a.allocate()).toBe("10.96.0.2");
    expect(a.contains("10.96.0.0")).toBe(false);
    expect(a.contains("10.96.0.1")).toBe(false);
    expect(a.contains("10.96.255.255")).toBe(false);
    expect(a.contains("10.96.255.254")).toBe(true);
    expect(a.contains("10.97.0.5")).toBe(false);
  });

  it("never hands out an address that was marked used when rebuilt from stored services", () => {
    const a = new ClusterIpAllocator("10.96.0.0/29"); // .2 .. .6 allocatable
    expect(a.markUsed("10.96.0.3")).toBe(true);
    expect(a.markUsed("10.96.0.3")).toBe(false);
    const got = [a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    expect(got.sort()).toEqual(["10.96.0.2", "10.96.0.4", "10.96.0.5", "10.96.0.6"]);
    expect(() => a.allocate()).toThrow(AllocationError);
    a.release("10.96.0.5");
    expect(a.allocate()).toBe("10.96.0.5");
  });

  it("property: under any sequence of allocate/release, no address is held twice and all stay in range", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant("alloc" as const), fc.nat(20)), { maxLength: 200 }), (ops) => {
        const a = new ClusterIpAllocator("10.96.0.0/27");
        const held: string[] = [];
        for (const op of ops) {
          if (op === "alloc") {
            try {
              const ip = a.allocate();
              expect(held).not.toContain(ip);
              expect(a.contains(ip)).toBe(true);
              held.push(ip);
            } catch (e) {
              expect(e).toBeInstanceOf(AllocationError);
              expect(held.length).toBe(32 - 3);
            }
          } else if (held.length) {
            const [ip] = held.splice(op % held.length, 1);
            a.release(ip);
          }
        }
        expect(a.free).toBe(32 - 3 - held.length);
      }),
    );
  });

  it("rejects malformed CIDRs and addresses", () => {
    expect(() => new ClusterIpAllocator("10.96.0.0")).toThrow(AllocationError);
    expect(() => ipToInt("10.96.0.256")).toThrow(AllocationError);
  });
});

describe("NodePortAllocator", () => {
  it("allocates within 30000-32767 and never twice", () => {
    const a = new NodePortAllocator();
    a.markUsed(30000);
    const p = a.allocate();
    expect(p).toBe(30001);
    expect(a.markUsed(p)).toBe(false);
    expect(a.markUsed(29999)).toBe(false);
  });

  it("property: ports held are unique and exhaustion throws", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat(9)), { maxLength: 100 }), (ops) => {
        const a = new NodePortAllocator(31000, 31009);
        const held = new Set<number>();
        for (const op of ops) {
          if (op === -1) {
            if (held.size === 10) expect(() => a.allocate()).toThrow(AllocationError);
            else {
              const p = a.allocate();
              expect(held.has(p)).toBe(false);
              held.add(p);
            }
          } else if (held.has(31000 + op)) {
            held.delete(31000 + op);
            a.release(31000 + op);
          }
        }
      }),
    );
  });
});

describe("allocateFor (the service controller's allocation decision)", () => {
  const svc = (spec: Record<string, unknown>) => ({ spec: { ports: [{ port: 80 }], ...spec } as { clusterIP?: string; clusterIPs?: string[]; type?: string; ports?: { port?: number; nodePort?: number }[] } });

  it("gives a ClusterIP to a service without one, nothing to a headless or already allocated one", () => {
    const ips = new ClusterIpAllocator("10.96.0.0/29");
    const ports = new NodePortAllocator(30000, 30001);
    const a = allocateFor(svc({}), ips, ports)!;
    expect(a.clusterIP).toBe("10.96.0.2");
    expect(a.next.spec.clusterIP).toBe("10.96.0.2");
    expect(a.next.spec.clusterIPs).toEqual(["10.96.0.2"]);
    expect(a.nodePorts).toEqual([]);
    expect(allocateFor(svc({ clusterIP: "None" }), ips, ports)).toBeUndefined();
    expect(allocateFor(svc({ clusterIP: "10.96.0.2" }), ips, ports)).toBeUndefined();
    // An ExternalName service is a DNS alias: no address.
    expect(allocateFor(svc({ type: "ExternalName" }), ips, ports)).toBeUndefined();
  });

  it("gives node ports to NodePort and LoadBalancer ports that lack one, keeping those set", () => {
    const ips = new ClusterIpAllocator("10.96.0.0/29");
    const ports = new NodePortAllocator(30000, 30010);
    const a = allocateFor(svc({ clusterIP: "10.96.0.3", type: "NodePort", ports: [{ port: 80, nodePort: 30005 }, { port: 81 }] }), ips, ports)!;
    expect(a.clusterIP).toBeUndefined();
    expect(a.nodePorts).toEqual([30000]);
    expect(a.next.spec.ports!.map((p) => p.nodePort)).toEqual([30005, 30000]);
    expect(allocateFor(svc({ clusterIP: "10.96.0.3", type: "ClusterIP" }), ips, ports)).toBeUndefined();
  });

  it("holds nothing when the ranges run out half way, and does not touch the input", () => {
    const ips = new ClusterIpAllocator("10.96.0.0/29");
    const ports = new NodePortAllocator(30000, 30000);
    const input = svc({ type: "LoadBalancer", ports: [{ port: 80 }, { port: 81 }] });
    const before = JSON.stringify(input);
    expect(() => allocateFor(input, ips, ports)).toThrow(AllocationError);
    expect(JSON.stringify(input)).toBe(before);
    expect(ips.isUsed("10.96.0.2")).toBe(false);
    expect(ports.isUsed(30000)).toBe(false);
  });

  it("property: what was allocated and then released can all be allocated again", () => {
    fc.assert(
      fc.property(fc.array(fc.record({ type: fc.constantFrom("ClusterIP", "NodePort", "LoadBalancer"), ports: fc.integer({ min: 1, max: 3 }) }), { maxLength: 6 }), (specs) => {
        const ips = new ClusterIpAllocator("10.96.0.0/28");
        const ports = new NodePortAllocator(30000, 30020);
        const taken = specs.map((s) => allocateFor(svc({ type: s.type, ports: Array.from({ length: s.ports }, (_, i) => ({ port: 80 + i })) }), ips, ports)!);
        const allIps = taken.map((t) => t.clusterIP);
        expect(new Set(allIps).size).toBe(allIps.length);
        const allPorts = taken.flatMap((t) => t.nodePorts);
        expect(new Set(allPorts).size).toBe(allPorts.length);
        for (const t of taken) releaseAllocation(t, ips, ports);
        for (const ip of allIps) expect(ips.isUsed(ip!)).toBe(false);
        for (const p of allPorts) expect(ports.isUsed(p)).toBe(false);
      }),
    );
  });
});
