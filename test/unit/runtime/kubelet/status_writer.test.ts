import { describe, expect, it } from "vitest";
import type { ApiClient } from "../../../../model/client.ts";
import { ApiError } from "../../../../model/errors.ts";
import type { Pod, PodStatus } from "../../../../model/types.ts";
import { PodStatusWriter } from "../../../../runtime/kubelet/status_writer.ts";

const stored: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", uid: "u" }, spec: { containers: [] }, status: { phase: "Pending" } };

/** A client whose status writes fail with `errors` in turn, then succeed. */
function client(errors: ApiError[]) {
  const writes: PodStatus[] = [];
  let pod = stored;
  let gets = 0;
  const api = {
    async get() {
      gets++;
      return pod;
    },
    async updateStatus(_r: string, p: Pod) {
      writes.push(p.status!);
      const e = errors.shift();
      if (e) throw e;
      pod = p;
      return p;
    },
  } as unknown as ApiClient;
  return { api, writes, current: () => pod, set: (p: Pod) => (pod = p), gets: () => gets };
}

describe("pod status writer", () => {
  it("writes a status refused by a busy API server again (429, timeout, 503) until it is stored", async () => {
    const c = client([
      new ApiError("TooManyRequests", "the API server is overloaded; retry later"),
      new ApiError("Timeout", "no answer"),
      new ApiError("ServiceUnavailable", "store unavailable"),
    ]);
    const w = new PodStatusWriter(c.api, "default", "p", "u");
    await w.write({ phase: "Running" }, {});
    await w.flush();
    expect(c.writes).toHaveLength(4);
    expect(c.current().status).toEqual({ phase: "Running" });
  });

  it("does not retry a definite refusal, and close() ends a pending retry", async () => {
    const c = client([new ApiError("Invalid", "bad status")]);
    const w = new PodStatusWriter(c.api, "default", "p", "u");
    await w.write({ phase: "Running" }, {});
    expect(c.writes).toHaveLength(1);
    expect(c.current().status).toEqual({ phase: "Pending" });

    const busy = client(Array.from({ length: 100 }, () => new ApiError("TooManyRequests", "busy")));
    const w2 = new PodStatusWriter(busy.api, "default", "p", "u");
    const done = w2.write({ phase: "Running" }, {});
    w2.close();
    await done;
    expect(busy.writes.length).toBeLessThanOrEqual(2);
  });

  it("starts the first compare-and-swap from the pod the node has seen (no read); a stale one costs a conflict and a read", async () => {
    const c = client([]);
    const w = new PodStatusWriter(c.api, "default", "p", "u", () => {}, () => stored);
    await w.write({ phase: "Running" }, {});
    expect(c.gets()).toBe(0);
    expect(c.current().status).toEqual({ phase: "Running" });

    // The node's copy is older than the stored pod: the API refuses the CAS, the writer reads and writes again.
    const rv = (p: Pod, v: string): Pod => ({ ...p, metadata: { ...p.metadata, resourceVersion: v } });
    const seen = rv(stored, "1");
    const d = client([]);
    d.set(rv(stored, "2"));
    const api = {
      ...d.api,
      get: d.api.get,
      async updateStatus(r: string, p: Pod) {
        if (p.metadata.resourceVersion !== d.current().metadata.resourceVersion) throw new ApiError("Conflict", "the object has been modified");
        return { ...(await d.api.updateStatus(r as "pods", p)), metadata: { ...p.metadata, resourceVersion: "3" } };
      },
    } as unknown as ApiClient;
    const w2 = new PodStatusWriter(api, "default", "p", "u", () => {}, () => seen);
    await w2.write({ phase: "Running" }, {});
    expect(d.gets()).toBe(1);
    expect(d.current().status).toEqual({ phase: "Running" });
  });

  it("an unchanged status (a resync's report) costs no request: it is compared with the node's newest copy, not read", async () => {
    const rv = (p: Pod, v: string, status: PodStatus): Pod => ({ ...p, status, metadata: { ...p.metadata, resourceVersion: v } });
    const c = client([]);
    c.set(rv(stored, "5", { phase: "Running" }));
    const w = new PodStatusWriter(c.api, "default", "p", "u", () => {}, () => c.current());
    for (let i = 0; i < 10; i++) await w.write({ phase: "Running" }, {});
    expect(c.gets()).toBe(0);
    expect(c.writes).toEqual([]);
  });

  it("a status someone else changed is written again once the node's informer has their version", async () => {
    const rv = (p: Pod, v: string, status: PodStatus): Pod => ({ ...p, status, metadata: { ...p.metadata, resourceVersion: v } });
    const c = client([]);
    c.set(rv(stored, "5", { phase: "Pending" }));
    let informer = c.current();
    const api = {
      ...c.api,
      async updateStatus(r: string, p: Pod) {
        if (p.metadata.resourceVersion !== c.current().metadata.resourceVersion) throw new ApiError("Conflict", "the object has been modified");
        await c.api.updateStatus(r as "pods", p);
        const next = rv(p, String(Number(p.metadata.resourceVersion) + 1), p.status!);
        c.set(next);
        return next;
      },
    } as unknown as ApiClient;
    const w = new PodStatusWriter(api, "default", "p", "u", () => {}, () => informer);
    await w.write({ phase: "Running" }, {});
    expect(c.current().status).toEqual({ phase: "Running" });
    // Another writer marks the pod not running; the informer delivers it; the next report (the
    // same status as the writer last wrote) is compared with that and written again.
    c.set(rv(stored, "9", { phase: "Unknown" }));
    informer = c.current();
    await w.write({ phase: "Running" }, {});
    expect(c.current().status).toEqual({ phase: "Running" });
    expect(c.gets()).toBe(0);
  });
});
