/**
 * The control plane's answers to "nothing bounds what one object can ask for", against a real
 * API (nats-server + JetStream KV + Api): an RC asking for 1e9 replicas stops at its namespace's
 * quota with `exceeded quota` events and a ReplicaFailure condition; the quota controller gives
 * usage back when pods go and corrects a wrong status; expired Events are deleted; compaction
 * purges delete markers a few at a time.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ApiClient } from "../../model/client.ts";
import { rcObject } from "../helpers/control_plane_standin.ts";

let t: TestApi;
let cp: ControlPlane;
let api: ApiClient;
const TTL_MS = 3_000;

beforeAll(async () => {
  t = await startTestApi();
  api = t.api;
  // No nodes: pods stay unbound, so deleting them is immediate and nothing runs.
  cp = await startControlPlane({ client: api, scheduledEvents: false, eventTtlMs: TTL_MS, quotaResyncMs: 60_000 });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await t?.stop();
});

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
const quota = (name: string, hard: Record<string, string>) => ({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name }, spec: { hard } });

describe("quota in the control plane", () => {
  it("quota - an RC asking for 1e9 replicas creates exactly what the quota allows, and says why it stops", async () => {
    await api.create("namespaces", ns("bomb"));
    await api.create("resourcequotas", quota("default-quota", { pods: "20" }), "bomb");
    await api.create("replicationcontrollers", { ...(rcObject("bomb", 1e9) as object), metadata: { name: "bomb", namespace: "bomb" } }, "bomb");
    const rc = await waitFor(async () => {
      const r = await api.get("replicationcontrollers", "bomb", "bomb");
      return r.status?.conditions?.some((c) => c.type === "ReplicaFailure" && c.status === "True") ? r : null;
    }, "a ReplicaFailure condition", 20_000);
    expect(rc.status?.conditions?.find((c) => c.type === "ReplicaFailure")?.message).toMatch(/exceeded quota: default-quota, requested: pods=1, used: pods=20, limited: pods=20/);
    await waitFor(async () => (await api.list("events", { namespace: "bomb" })).items.some((e) => e.reason === "FailedCreate" && /exceeded quota/.test(e.message ?? "")), "a FailedCreate event");
    const pods = (await api.list("pods", { namespace: "bomb" })).items;
    expect(pods.length).toBe(20);
    expect((await api.get("resourcequotas", "default-quota", "bomb")).status?.used).toEqual({ pods: "20" });
    // Refusals back off: a handful of FailedCreate events, not one per millisecond.
    const failed = (await api.list("events", { namespace: "bomb" })).items.filter((e) => e.reason === "FailedCreate").length;
    expect(failed).toBeLessThan(30);
  });

  it("quota - scaling down gives the quota back (replenishment), and a wrong status is corrected", async () => {
    await api.updateScale("bomb", 0, "bomb");
    await waitFor(async () => (await api.list("pods", { namespace: "bomb" })).items.length === 0, "the pods to go", 20_000);
    await waitFor(async () => (await api.get("resourcequotas", "default-quota", "bomb")).status?.used?.pods === "0", "used pods back to 0", 10_000);
    // A status someone broke is recounted on the next pass (woken here by a pod finishing).
    const q = await api.get("resourcequotas", "default-quota", "bomb");
    await api.updateStatus("resourcequotas", { ...q, status: { hard: { pods: "20" }, used: { pods: "17" } } });
    await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "one" }, spec: { containers: [{ name: "c", image: "i" }] } }, "bomb");
    await api.delete("pods", "one", "bomb");
    await waitFor(async () => (await api.get("resourcequotas", "default-quota", "bomb")).status?.used?.pods === "0", "the recount", 10_000);
  });
});

describe("event TTL", () => {
  it("events - an Event older than the TTL is deleted; a recent one stays", async () => {
    const old = new Date(Date.now() - 2 * TTL_MS).toISOString();
    const event = (name: string, at?: string) => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name },
      involvedObject: { kind: "Pod", name: "x", namespace: "default" },
      reason: "Test",
      message: "m",
      ...(at ? { firstTimestamp: at, lastTimestamp: at } : {}),
    });
    await api.create("events", event("ancient", old));
    await api.create("events", event("fresh"));
    await waitFor(async () => !(await api.list("events", { namespace: "default" })).items.some((e) => e.metadata.name === "ancient"), "the old event to be deleted", 10_000);
    expect((await api.list("events", { namespace: "default" })).items.some((e) => e.metadata.name === "fresh")).toBe(true);
    expect(cp.eventSweeper.deleted).toBeGreaterThanOrEqual(1);
  });
});

describe("store compaction", () => {
  it("store - compaction purges delete markers, at most 16 purge requests at a time, and keeps live objects", async () => {
    const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "i" }] } });
    await api.create("namespaces", ns("tomb"));
    const N = 200;
    for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => api.create("pods", pod(`t-${i + j}`), "tomb")));
    for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: 20 }, (_, j) => api.delete("pods", `t-${i + j}`, "tomb")));
    // A name deleted and used again: its live object must survive the purge.
    await api.create("pods", pod("t-0"), "tomb");
    // Count the purge requests in flight.
    let inFlight = 0;
    let peak = 0;
    let requests = 0;
    const store = t.store as unknown as { purgeKey: (...a: unknown[]) => Promise<boolean> };
    const real = store.purgeKey.bind(t.store);
    const spy = vi.spyOn(store, "purgeKey").mockImplementation(async (...a: unknown[]) => {
      requests++;
      peak = Math.max(peak, ++inFlight);
      try {
        return await real(...a);
      } finally {
        inFlight--;
      }
    });
    try {
      await t.store.compact(0);
      expect(requests).toBeGreaterThanOrEqual(N - 1);
      expect(peak).toBeLessThanOrEqual(16);
      expect(t.store.lastPurged).toBeGreaterThanOrEqual(N - 1);
      expect((await api.get("pods", "t-0", "tomb")).metadata.name).toBe("t-0");
      expect((await api.list("pods", { namespace: "tomb" })).items.map((p) => p.metadata.name)).toEqual(["t-0"]);
    } finally {
      spy.mockRestore();
    }
  });
});
