import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { AllocationError, ClusterIpAllocator, ipToInt, NodePortAllocator } from "../../../actors/service_ip_allocator.ts";

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
