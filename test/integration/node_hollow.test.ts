/**
 * The real node agent and pod actors on the hollow runtime against a real API: scale, and the
 * engine going away and coming back (NotReady with a reason, then Ready, pods converge).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.stop();
});

const readyOf = async (node: string) => (await t.api.get("nodes", node)).status?.conditions?.find((c) => c.type === "Ready");

describe("node agent on the hollow runtime", () => {
  test("runs 200 pods to Running and removes them all on deletion", async () => {
    const rt = new HollowRuntime();
    const agent = await startNodeAgent({ client: t.api, runtime: rt, name: "hollow-scale", heartbeatIntervalMs: 500 });
    try {
      const N = 200;
      await Promise.all(Array.from({ length: N }, (_, i) =>
        t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: `h-${i}`, namespace: "default", labels: { scale: "1" } }, spec: { nodeName: "hollow-scale", containers: [{ name: "c", image: "berth/busybox" }] } })
      ));
      await waitFor(async () => {
        const l = await t.api.list("pods", { namespace: "default", labelSelector: "scale=1" });
        return l.items.filter((p) => p.status?.phase === "Running").length === N;
      }, "all Running", 60_000, 200);
      expect(rt.size).toBe(2 * N);
      expect(agent.pods.size).toBe(N);
      const l = await t.api.list("pods", { namespace: "default", labelSelector: "scale=1" });
      await Promise.all(l.items.map((p) => t.api.delete("pods", p.metadata.name, "default")));
      await waitFor(async () => (await t.api.list("pods", { namespace: "default", labelSelector: "scale=1" })).items.length === 0, "all deleted", 60_000, 200);
      expect(rt.size).toBe(0);
    } finally {
      await agent.stop();
    }
  });

  test("a pod with a finalizer: the agent stops its containers and makes its last delete once; the pod goes when the finalizer is taken off", async () => {
    const rt = new HollowRuntime();
    const agent = await startNodeAgent({ client: t.api, runtime: rt, name: "hollow-fin", heartbeatIntervalMs: 500, resyncMs: 200 });
    const deletes: number[] = [];
    const del = t.api.delete.bind(t.api);
    const client = t.api as { delete: typeof t.api.delete };
    client.delete = (async (resource: string, name: string, ...rest: unknown[]) => {
      if (resource === "pods" && name === "fin") deletes.push((rest[1] as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds ?? -1);
      return await (del as (...a: unknown[]) => Promise<unknown>)(resource, name, ...rest);
    }) as typeof t.api.delete;
    try {
      const created = await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "fin", namespace: "default", finalizers: ["example.com/keep"] }, spec: { nodeName: "hollow-fin", terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "berth/busybox" }] } });
      await waitFor(async () => (await t.api.get("pods", "fin", "default")).status?.phase === "Running", "Running");
      await t.api.delete("pods", "fin", "default");
      // The agent stops the containers, then deletes with a zero grace period: the pod stays, marked.
      const done = await waitFor(async () => {
        const p = await t.api.get("pods", "fin", "default");
        return p.metadata.deletionGracePeriodSeconds === 0 && rt.size === 0 ? p : undefined;
      }, "containers stopped and the pod marked with a zero grace period", 15_000);
      expect(done.metadata.finalizers).toEqual(["example.com/keep"]);
      // Two heartbeats later (several pod resyncs) it has asked once, and left the pod as it was.
      const beat = async () => (await readyOf("hollow-fin"))?.lastHeartbeatTime;
      const first = await beat();
      await waitFor(async () => (await beat()) !== first, "a heartbeat");
      const second = await beat();
      await waitFor(async () => (await beat()) !== second, "another heartbeat");
      expect(deletes.filter((g) => g === 0)).toEqual([0]);
      expect((await t.api.get("pods", "fin", "default")).metadata.resourceVersion).toBe(done.metadata.resourceVersion);
      // Taken off: gone.
      await t.api.update("pods", { ...done, metadata: { ...done.metadata, finalizers: [] } });
      await waitFor(async () => !(await t.api.list("pods", { namespace: "default" })).items.some((p) => p.metadata.uid === created.metadata.uid), "gone");
    } finally {
      client.delete = del;
      await agent.stop();
    }
  });

  test("goes NotReady with a reason while the runtime is unreachable, then recovers and pods converge", async () => {
    const rt = new HollowRuntime();
    const agent = await startNodeAgent({ client: t.api, runtime: rt, name: "hollow-flaky", heartbeatIntervalMs: 200, resyncMs: 200 });
    try {
      await waitFor(async () => (await readyOf("hollow-flaky"))?.status === "True", "Ready");
      rt.available = false;
      rt.dropEventStreams();
      const down = await waitFor(async () => {
        const r = await readyOf("hollow-flaky");
        return r?.status === "False" ? r : undefined;
      }, "NotReady");
      expect(down.reason).toBe("ContainerRuntimeUnreachable");
      // A pod created while the runtime is down waits; nothing crashes.
      await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "during-outage", namespace: "default" }, spec: { nodeName: "hollow-flaky", containers: [{ name: "c", image: "berth/busybox" }] } });
      rt.available = true;
      await waitFor(async () => (await readyOf("hollow-flaky"))?.status === "True", "Ready again");
      await waitFor(async () => (await t.api.get("pods", "during-outage", "default")).status?.phase === "Running", "pod Running after recovery", 15_000);
      await t.api.delete("pods", "during-outage", "default");
    } finally {
      await agent.stop();
    }
  });
});
