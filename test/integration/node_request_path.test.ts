/**
 * A node agent's requests at scale (issue 16, density): a pod status write naming the version the
 * API's watch cache holds is authorized on the cached copy (one store round trip: the
 * compare-and-swap), an event about a pod is authorized on the cached pod of the same uid, and
 * neither lets a node write what it may not; the node agent's own request rate (client-go's
 * QPS/burst) holds its pod writes but never its heartbeat, and a 429 pauses the whole agent.
 * Real nats-server, real Api on JetStream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, storeReads, waitFor, type TestApi } from "../helpers/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats } from "../../runtime/api/nats_server.ts";
import { ApiError } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";

const pod = (name: string, nodeName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "berth/busybox" }] },
});

describe("node request path", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
    const now = new Date().toISOString();
    for (const name of ["np-a", "np-b"]) {
      await t.api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name }, spec: {}, status: { conditions: [{ type: "Ready", status: "True", lastHeartbeatTime: now }] } });
    }
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cachedRv = (name: string) => t.impl.cache.newest("pods", `default/${name}`)?.metadata.resourceVersion;

  it("node request path - a status write at the cached version and an event about the pod read nothing from the store", async () => {
    const p = await t.api.create("pods", pod("np-1", "np-a")) as Pod;
    await waitFor(() => cachedRv("np-1") === p.metadata.resourceVersion, "the cache has the pod");
    const node = new NatsApiClient(t.nc, { node: "np-a" });
    let written!: Pod;
    expect(await storeReads(t.store, async () => (written = await node.updateStatus("pods", { ...p, status: { phase: "Running" } })))).toBe(0);
    expect((await t.store.get("pods", "default", "np-1")).status?.phase).toBe("Running");
    expect(written.metadata.resourceVersion).not.toBe(p.metadata.resourceVersion);
    const ev = {
      apiVersion: "v1", kind: "Event", metadata: { name: "np-1.ev", namespace: "default" },
      involvedObject: { apiVersion: "v1", kind: "Pod", name: "np-1", namespace: "default", uid: p.metadata.uid },
      reason: "Started", message: "started", type: "Normal", source: { component: "kubelet", host: "np-a" },
    };
    expect(await storeReads(t.store, () => node.create("events", ev, "default"))).toBe(0);
  });

  it("node request path - the cached copy never lets a node write another node's pod, nor a pod's event for another uid", async () => {
    const p = await t.api.create("pods", pod("np-2", "np-b")) as Pod;
    await waitFor(() => cachedRv("np-2") === p.metadata.resourceVersion, "the cache has the pod");
    const node = new NatsApiClient(t.nc, { node: "np-a" });
    const err = await node.updateStatus("pods", { ...p, status: { phase: "Running" } }).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("Forbidden");
    const ev = (uid: string) => ({
      apiVersion: "v1", kind: "Event", metadata: { name: `np-2.${uid}`, namespace: "default" },
      involvedObject: { apiVersion: "v1", kind: "Pod", name: "np-2", namespace: "default", uid },
      reason: "Started", message: "started", type: "Normal", source: { component: "kubelet", host: "np-a" },
    });
    expect(((await node.create("events", ev(p.metadata.uid!), "default").catch((e) => e)) as ApiError).reason).toBe("Forbidden");
    // A pod of the same name bound to np-a, recreated: the cache still holds the old uid for a moment or not —
    // either way an event naming the old uid is refused and one naming the new uid allowed.
    await t.api.delete("pods", "np-2", "default", { gracePeriodSeconds: 0 });
    const q = await t.api.create("pods", pod("np-2", "np-a")) as Pod;
    expect(((await node.create("events", ev(p.metadata.uid!), "default").catch((e) => e)) as ApiError).reason).toBe("Forbidden");
    await node.create("events", ev(q.metadata.uid!), "default");
  });

  it("node request path - a status write against a cache behind the store is a conflict, not a lost write", async () => {
    const p = await t.api.create("pods", pod("np-3", "np-a")) as Pod;
    await waitFor(() => cachedRv("np-3") === p.metadata.resourceVersion, "the cache has the pod");
    const other = await t.api.updateStatus("pods", { ...p, status: { phase: "Pending", message: "written by someone else" } });
    const node = new NatsApiClient(t.nc, { node: "np-a" });
    const err = await node.updateStatus("pods", { ...p, status: { phase: "Running" } }).catch((e) => e);
    expect((err as ApiError).reason).toBe("Conflict");
    expect((await t.store.get("pods", "default", "np-3")).metadata.resourceVersion).toBe(other.metadata.resourceVersion);
  });

  it("node request path - the agent's throttle holds pod requests but not heartbeats, and a 429 pauses the agent", async () => {
    const node = new NatsApiClient(t.nc, { node: "np-a", throttle: { qps: 20, burst: 1 } });
    // Sent at once: each takes its token in the same instant.
    await Promise.all(Array.from({ length: 4 }, () => node.get("nodes", "np-a")));
    expect(node.throttle.figures.waited).toBe(0);
    await Promise.all(Array.from({ length: 4 }, () => node.get("namespaces", "default")));
    // Heartbeats (Node, Lease) pass untouched; of four reads beyond a burst of one, three waited.
    expect(node.throttle.figures.waited).toBe(3);

    // A server whose node rate limit refuses all but the first request of a burst: the refusal
    // pauses the agent (one back-off), and the retry after it is served.
    const strict = serveApiOverNats(t.nc, t.impl, { queue: "strict", rateLimit: { node: { ratePerSecond: 1, burst: 1 } } });
    await t.server.stop();
    try {
      const slow = new NatsApiClient(t.nc, { node: "np-b", throttle: { qps: 100, burst: 100 } });
      await Promise.all([slow.get("namespaces", "default"), slow.get("namespaces", "default")]);
      expect(slow.throttle.figures.backOffs).toBeGreaterThanOrEqual(1);
    } finally {
      await strict.stop();
      t.server = serveApiOverNats(t.nc, t.impl);
    }
  });
});
