/**
 * The eviction subresource's flow against a scripted client: the budget's compare-and-swap lost
 * to another eviction is decided again (and spends once), a Pending or unhealthy pod is deleted at
 * the version read and decided again when it changed, a caller's own precondition is answered as
 * it is, and the "still being processed" 429 carries Retry-After.
 */
import { describe, expect, it } from "vitest";
import { evict } from "../../../../runtime/http/eviction.ts";
import { ApiError, ConflictError } from "../../../../model/errors.ts";
import type { ApiClient, DeleteOptions } from "../../../../model/client.ts";
import type { Pod, PodDisruptionBudget } from "../../../../model/types.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");

function pod(o: { phase?: "Pending" | "Running"; ready?: boolean; rv?: string } = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "web-1", namespace: "default", uid: "pod-uid", resourceVersion: o.rv ?? "10", labels: { app: "web" } },
    spec: { containers: [{ name: "c", image: "i" }] },
    status: { phase: o.phase ?? "Running", conditions: [{ type: "Ready", status: (o.ready ?? true) ? "True" : "False" }] },
  };
}

function budget(allowed: number, o: { rv?: string; generation?: number; observed?: number } = {}): PodDisruptionBudget {
  return {
    apiVersion: "policy/v1", kind: "PodDisruptionBudget",
    metadata: { name: "web", namespace: "default", uid: "pdb-uid", resourceVersion: o.rv ?? "5", generation: o.generation ?? 1 },
    spec: { minAvailable: 2, selector: { matchLabels: { app: "web" } } },
    status: { observedGeneration: o.observed ?? 1, disruptionsAllowed: allowed, currentHealthy: 2 + allowed, desiredHealthy: 2, expectedPods: 2 + allowed },
  };
}

/** A client whose reads follow the scripts (one item per call, the last repeated) and which records writes. */
function fakeClient(script: { pods: Pod[]; budgets: PodDisruptionBudget[][]; statusWrites?: (Error | undefined)[]; deletes?: (Error | undefined)[] }) {
  const calls = { statusWrites: [] as PodDisruptionBudget[], deletes: [] as (DeleteOptions | undefined)[] };
  const next = <T>(list: T[], i: number): T => list[Math.min(i, list.length - 1)];
  let gets = 0, lists = 0;
  const api = {
    async get() { return next(script.pods, gets++); },
    async list() { return { apiVersion: "policy/v1", kind: "PodDisruptionBudgetList", metadata: { resourceVersion: "1" }, items: next(script.budgets, lists++) }; },
    async updateStatus(_r: string, obj: PodDisruptionBudget) {
      const fail = script.statusWrites?.[calls.statusWrites.length];
      calls.statusWrites.push(obj);
      if (fail) throw fail;
      return obj;
    },
    async delete(_r: string, _n: string, _ns: string, opts?: DeleteOptions) {
      const fail = script.deletes?.[calls.deletes.length];
      calls.deletes.push(opts);
      if (fail) throw fail;
      return script.pods[0];
    },
  } as unknown as ApiClient;
  return { api, calls };
}

const body = { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "web-1" } };
const opts = (raw: unknown) => (raw ?? {}) as DeleteOptions;
const conflict = () => new ConflictError("poddisruptionbudgets", "web");

describe("eviction subresource", () => {
  it("a budget write lost to another eviction is decided again on fresh reads, and spends once", async () => {
    // The other eviction took the one disruption: the second decision refuses with 429.
    const { api, calls } = fakeClient({ pods: [pod()], budgets: [[budget(1)], [budget(0, { rv: "6" })]], statusWrites: [conflict()] });
    const err = await evict(api, "web-1", "default", body, opts, () => NOW).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("TooManyRequests");
    expect(calls.statusWrites).toHaveLength(1);
    expect(calls.deletes).toHaveLength(0);

    // Room again on the second read: spent once more (the first write never landed), deleted once.
    const again = fakeClient({ pods: [pod()], budgets: [[budget(2)], [budget(1, { rv: "6" })]], statusWrites: [conflict()] });
    await evict(again.api, "web-1", "default", body, opts, () => NOW);
    expect(again.calls.statusWrites.map((b) => [b.metadata.resourceVersion, b.status!.disruptionsAllowed])).toEqual([["5", 1], ["6", 0]]);
    expect(again.calls.deletes).toEqual([{}]);
  });

  it("the spend's delete is never tried again: its conflict goes to the caller", async () => {
    const { api, calls } = fakeClient({ pods: [pod()], budgets: [[budget(1)]], deletes: [conflict()] });
    await expect(evict(api, "web-1", "default", body, opts, () => NOW)).rejects.toMatchObject({ reason: "Conflict" });
    expect(calls.statusWrites).toHaveLength(1);
    expect(calls.deletes).toHaveLength(1);
  });

  it("a Pending pod is deleted at the version read; when it got Running meanwhile, the budget decides", async () => {
    const { api, calls } = fakeClient({ pods: [pod({ phase: "Pending" }), pod({ rv: "11" })], budgets: [[budget(0)]], deletes: [conflict()] });
    const err = await evict(api, "web-1", "default", body, opts, () => NOW).catch((e) => e);
    expect(calls.deletes[0]).toEqual({ preconditions: { uid: "pod-uid", resourceVersion: "10" } });
    expect((err as ApiError).reason).toBe("TooManyRequests");
    expect(calls.deletes).toHaveLength(1);
  });

  it("an unhealthy pod let go by a healthy budget is deleted at the version read", async () => {
    const { api, calls } = fakeClient({ pods: [pod({ ready: false })], budgets: [[budget(0)]] });
    await evict(api, "web-1", "default", body, opts, () => NOW);
    expect(calls.statusWrites).toHaveLength(0);
    expect(calls.deletes).toEqual([{ preconditions: { uid: "pod-uid", resourceVersion: "10" } }]);
  });

  it("a caller's own resourceVersion precondition is the caller's: its conflict is answered as it is", async () => {
    const { api, calls } = fakeClient({ pods: [pod({ phase: "Pending" })], budgets: [[]], deletes: [conflict()] });
    const withPre = { ...body, deleteOptions: { preconditions: { resourceVersion: "9" } } };
    await expect(evict(api, "web-1", "default", withPre, (raw) => raw as DeleteOptions, () => NOW)).rejects.toMatchObject({ reason: "Conflict" });
    expect(calls.deletes).toEqual([{ preconditions: { uid: "pod-uid", resourceVersion: "9" } }]);
  });

  it("a budget the controller has not seen yet: 429 with Retry-After 10 and kube-apiserver's cause", async () => {
    const { api } = fakeClient({ pods: [pod()], budgets: [[budget(1, { generation: 2, observed: 1 })]] });
    const err = (await evict(api, "web-1", "default", body, opts, () => NOW).catch((e) => e)) as ApiError;
    expect(err.toStatus()).toMatchObject({
      code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { retryAfterSeconds: 10, causes: [{ reason: "DisruptionBudget", message: "The disruption budget web is still being processed by the server." }] },
    });
  });
});
