/**
 * ResourceQuota on a real nats-server: admission refuses what would exceed a quota with
 * Kubernetes' 403, concurrent creates (through two API copies) never overshoot, charges for
 * objects that were not stored are given back, and status.used tracks usage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "../../runtime/api/api.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { ApiError } from "../../model/errors.ts";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";

const pod = (name: string, resources?: Record<string, Record<string, string>>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { containers: [{ name: "main", image: "berth/busybox", ...(resources ? { resources } : {}) }] },
});
const quota = (name: string, hard: Record<string, string>) => ({ apiVersion: "v1", kind: "ResourceQuota", metadata: { name }, spec: { hard } });
const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

describe("ResourceQuota admission", () => {
  let nats: TestNats;
  let store: KvStore;
  let api: Api;
  let api2: Api;
  let copies: Api[];

  beforeAll(async () => {
    nats = await startTestNats();
    store = await KvStore.open(nats.nc);
    api = await Api.open(store);
    // A second API copy over the same store, as with several control-plane machines.
    api2 = await Api.open(await KvStore.open(nats.nc));
    copies = [api, api2, await Api.open(await KvStore.open(nats.nc)), await Api.open(await KvStore.open(nats.nc))];
  });
  afterAll(async () => {
    for (const c of copies ?? []) c.close();
    await nats?.stop();
  });

  it("quota - a create over the quota is a 403 'exceeded quota' Status in Kubernetes' words, and nothing is stored", async () => {
    await api.create("namespaces", ns("q1"));
    await api.create("pods", pod("before"), "q1");
    const q = await api.create("resourcequotas", quota("default-quota", { pods: "2" }), "q1");
    // Usage is counted when the quota is created, so it is enforced from the start.
    expect(q.status).toEqual({ hard: { pods: "2" }, used: { pods: "1" } });
    await api.create("pods", pod("second"), "q1");
    const err = await api.create("pods", pod("third"), "q1").catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err.toStatus()).toMatchObject({
      kind: "Status",
      code: 403,
      reason: "Forbidden",
      message: 'pods "third" is forbidden: exceeded quota: default-quota, requested: pods=1, used: pods=2, limited: pods=2',
      details: { name: "third", kind: "pods" },
    });
    expect(await store.tryGet("pods", "q1", "third")).toBeNull();
    expect((await api.get("resourcequotas", "default-quota", "q1")).status?.used).toEqual({ pods: "2" });
    // Other kinds are not limited by a pods quota.
    await api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80 }] } }, "q1");
  });

  it("quota - concurrent creates through four API copies never exceed the quota", async () => {
    await api.create("namespaces", ns("q2"));
    await api.create("resourcequotas", quota("q", { pods: "25", "count/services": "3" }), "q2");
    // The other copies learn of the quota from their watches: each charges it once it does.
    for (const [i, c] of copies.entries()) {
      if (i === 0) continue;
      await waitFor(async () => {
        await c.create("pods", pod(`probe-${i}`), "q2");
        return (await api.get("resourcequotas", "q", "q2")).status?.used?.pods === String(i);
      }, `API copy ${i} to charge the quota`);
    }
    // In waves, so that batches of different copies overlap.
    const results: PromiseSettledResult<unknown>[] = [];
    for (let wave = 0; wave < 8; wave++) {
      results.push(...await Promise.allSettled(Array.from({ length: 16 }, (_, i) => copies[i % copies.length].create("pods", pod(`p-${wave}-${i}`), "q2"))));
    }
    const ok = results.filter((r) => r.status === "fulfilled").length;
    const refused = results.filter((r) => r.status === "rejected");
    expect(ok).toBe(25 - (copies.length - 1));
    expect(refused.every((r) => (r as PromiseRejectedResult).reason?.code === 403)).toBe(true);
    expect((await api.list("pods", { namespace: "q2" })).items.length).toBe(25);
    expect((await api.get("resourcequotas", "q", "q2")).status?.used).toEqual({ "count/services": "0", pods: "25" });
  });

  it("quota - a create that fails after the charge (name taken) gives the charge back", async () => {
    await api.create("namespaces", ns("q3"));
    await api.create("resourcequotas", quota("q", { pods: "5" }), "q3");
    await api.create("pods", pod("same"), "q3");
    await expect(api.create("pods", pod("same"), "q3")).rejects.toMatchObject({ code: 409 });
    await waitFor(async () => (await api.get("resourcequotas", "q", "q3")).status?.used?.pods === "1", "the refund of the failed create");
  });

  it("quota - a compute quota refuses pods that do not state the resource, and charges those that do", async () => {
    await api.create("namespaces", ns("q4"));
    await api.create("resourcequotas", quota("compute", { "limits.cpu": "1", "requests.memory": "1Gi" }), "q4");
    await expect(api.create("pods", pod("bare"), "q4")).rejects.toMatchObject({
      code: 403,
      message: 'pods "bare" is forbidden: failed quota: compute: must specify limits.cpu for: main; requests.memory for: main',
    });
    await api.create("pods", pod("ok", { limits: { cpu: "600m", memory: "512Mi" } }), "q4");
    await expect(api.create("pods", pod("big", { limits: { cpu: "600m", memory: "512Mi" } }), "q4")).rejects.toMatchObject({
      code: 403,
      message: 'pods "big" is forbidden: exceeded quota: compute, requested: limits.cpu=600m, used: limits.cpu=600m, limited: limits.cpu=1',
    });
    expect((await api.get("resourcequotas", "compute", "q4")).status?.used).toEqual({ "limits.cpu": "600m", "requests.memory": "512Mi" });
  });

  it("quota - invalid quotas are refused with a clear 422", async () => {
    await expect(api.create("resourcequotas", quota("bad", { gpus: "1" }))).rejects.toMatchObject({ code: 422, message: expect.stringContaining('unsupported quota resource name "gpus"') });
    await expect(api.create("resourcequotas", quota("bad", { pods: "-1" }))).rejects.toMatchObject({ code: 422 });
    await expect(api.create("resourcequotas", quota("bad", { pods: "lots" }))).rejects.toMatchObject({ code: 422 });
  });
});
