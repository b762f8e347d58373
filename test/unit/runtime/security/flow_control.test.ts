import { afterEach, describe, expect, it, vi } from "vitest";
import { classify, FlowControl } from "../../../../runtime/security/flow_control.ts";

describe("flow control", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("flow control - node heartbeats (Node, Lease) are node-high, other node requests system, requests naming a resource workload, the rest catch-all", () => {
    expect(classify({ identity: "node:n1", resource: "nodes" })).toBe("node-high");
    expect(classify({ identity: "node:n1", resource: "leases" })).toBe("node-high");
    expect(classify({ identity: "node:n1", resource: "pods" })).toBe("system");
    expect(classify({ identity: "node:n1", resource: "events" })).toBe("system");
    expect(classify({ identity: "rest:admin", resource: "nodes" })).toBe("workload");
    expect(classify({ identity: "rest:admin", resource: "pods" })).toBe("workload");
    expect(classify({ identity: "nats" })).toBe("catch-all");
  });

  it("flow control - a flooded workload level does not delay the system level", async () => {
    const fc = new FlowControl({ seats: 4, levels: { workload: { shares: 1 }, system: { shares: 1 }, "catch-all": { shares: 2 } } });
    const held = await fc.acquire({ identity: "rest:admin", resource: "pods" });
    const flood = Array.from({ length: 50 }, () => fc.acquire({ identity: "rest:admin", resource: "pods" }));
    expect(fc.figures().workload.queued).toBe(50);
    // The system level has its own seat: granted at once.
    const sys = await fc.acquire({ identity: "node:n1", resource: "nodes" });
    sys();
    held();
    for (const p of flood) (await p)();
    expect(fc.figures().workload).toMatchObject({ inFlight: 0, queued: 0, dispatched: 51, rejected: 0 });
  });

  it("flow control - flows in a level are served in turn: a new client waits behind one request of a flooding one, not all", async () => {
    const fc = new FlowControl({ seats: 1, levels: { workload: { shares: 1 }, system: { shares: 0 }, "catch-all": { shares: 0 } } });
    const order: string[] = [];
    const first = await fc.acquire({ identity: "flooder", resource: "pods" });
    const waits = Array.from({ length: 20 }, (_, i) => fc.acquire({ identity: "flooder", resource: "pods" }).then((r) => (order.push(`f${i}`), r())));
    const polite = fc.acquire({ identity: "polite", resource: "pods" }).then((r) => (order.push("polite"), r()));
    first();
    await Promise.all([...waits, polite]);
    expect(order.indexOf("polite")).toBeLessThanOrEqual(1);
  });

  it("flow control - a full flow queue is a 429 with retryAfterSeconds, counted as a rejection", async () => {
    const fc = new FlowControl({ seats: 1, levels: { workload: { shares: 1, maxQueuedPerFlow: 2 }, system: { shares: 0 }, "catch-all": { shares: 0 } } });
    const held = await fc.acquire({ identity: "a", resource: "pods" });
    const q = [fc.acquire({ identity: "a", resource: "pods" }).then((r) => r()), fc.acquire({ identity: "a", resource: "pods" }).then((r) => r())];
    const refused = await fc.acquire({ identity: "a", resource: "pods" }).catch((e) => e);
    expect(refused.code).toBe(429);
    expect(refused.toStatus().details.retryAfterSeconds).toBe(1);
    // Another flow still has room.
    const other = fc.acquire({ identity: "b", resource: "pods" }).then((r) => r());
    expect(fc.figures().workload).toMatchObject({ rejected: 1, queued: 3, flows: 2 });
    held();
    await Promise.all([...q, other]);
  });

  it("flow control - a node's heartbeat does not wait behind its own pod status writes", async () => {
    const fc = new FlowControl({ seats: 2 });
    const held = await fc.acquire({ identity: "node:n1", resource: "pods" });
    const backlog = Array.from({ length: 10 }, () => fc.acquire({ identity: "node:n1", resource: "pods" }));
    expect(fc.figures().system.queued).toBe(10);
    const heartbeat = await fc.acquire({ identity: "node:n1", resource: "nodes" });
    expect(fc.figures()["node-high"]).toMatchObject({ inFlight: 1, queued: 0 });
    heartbeat();
    held();
    for (const p of backlog) (await p)();
  });

  it("flow control - a request is not run after its requester stopped waiting, and its place goes to a live one", async () => {
    vi.useFakeTimers();
    const fc = new FlowControl({ seats: 1, levels: { workload: { shares: 1, maxQueuedPerFlow: 1 }, system: { shares: 0 }, "node-high": { shares: 0 }, "catch-all": { shares: 0 } } });
    const held = await fc.acquire({ identity: "a", resource: "pods" });
    const abandoned = fc.acquire({ identity: "a", resource: "pods", maxWaitMs: 100 }).then(() => "ran", (e) => e);
    vi.setSystemTime(Date.now() + 101);
    // The flow's queue is full, but of a request nobody waits for: it is dropped (429, not run).
    const live = fc.acquire({ identity: "a", resource: "pods", maxWaitMs: 10_000 });
    const refused = await abandoned;
    expect(refused.code).toBe(429);
    expect(fc.figures().workload).toMatchObject({ queued: 1, rejected: 0, timedOut: 1 });
    held();
    (await live)();
    expect(fc.figures().workload).toMatchObject({ inFlight: 0, queued: 0, dispatched: 2 });
  });
});
