/**
 * The control plane against a real API (nats-server + JetStream KV store + Api). Nodes are
 * registered as plain Node objects and `kubeletStandIn` plays the node's part at the API level
 * only: it refreshes heartbeats, reports bound pods Running and Ready, and finishes graceful
 * deletions — nothing runs. Behaviour with the real node agent lives in rc_*.test.ts.
 */
import { isActive } from "../../actors/replication_controller_reconcile.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ApiClient } from "../../model/client.ts";
import type { Node, Pod } from "../../model/types.ts";
import { ApiError } from "../../model/errors.ts";
import { every, heartbeats, kubeletStandIn, nodeObject, rcObject } from "../helpers/control_plane_standin.ts";

let t: TestApi;
let cp: ControlPlane;
let api: ApiClient;
let timers: ReturnType<typeof setInterval>[] = [];
const alive = new Set(["node-a", "node-b", "node-c"]);

const podsOf = async (selector: string) => (await api.list("pods", { namespace: "default", labelSelector: selector })).items;
/** What the RC counts: not terminated, not being deleted, not given up with a lost node. */
const active = (pods: Pod[]) => pods.filter(isActive);

beforeAll(async () => {
  t = await startTestApi();
  api = t.api;
  for (const n of alive) await api.create("nodes", nodeObject(n));
  timers = [every(200, () => kubeletStandIn(api, alive)), every(250, () => heartbeats(api, alive))];
  const log = process.env.BERTH_TEST_LOG ? (m: string, f?: Record<string, unknown>) => console.log(m, f ?? {}) : undefined;
  cp = await startControlPlane({ client: api, nodeGracePeriodMs: 2500, podEvictionTimeoutMs: 2500, scheduledEvents: false, log });
}, 30_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  await cp?.stop();
  await t?.stop();
});

describe("control plane", () => {
  it("replication controller - an RC of 3 creates 3 pods, spread over 3 nodes, and reports status", async () => {
    await api.create("replicationcontrollers", rcObject("web", 3));
    const pods = await waitFor(async () => {
      const ps = await podsOf("app=web");
      return ps.length === 3 && ps.every((p) => p.spec.nodeName) ? ps : null;
    }, "3 bound web pods");
    expect(new Set(pods.map((p) => p.spec.nodeName)).size).toBe(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "ReplicationController", name: "web", controller: true })]);
    }
    await waitFor(async () => (await api.get("replicationcontrollers", "web")).status?.replicas === 3, "status.replicas = 3");
    const rc = await api.get("replicationcontrollers", "web");
    expect(rc.status?.observedGeneration).toBe(rc.metadata.generation);
    const events = (await api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "web");
    expect(events.filter((e) => e.reason === "SuccessfulCreate")).toHaveLength(3);
  });

  it("replication controller - a pod deleted by hand is replaced", async () => {
    const [victim] = await podsOf("app=web");
    await api.delete("pods", victim.metadata.name, "default", { gracePeriodSeconds: 0 });
    await waitFor(async () => {
      const ps = active(await podsOf("app=web"));
      return ps.length === 3 && !ps.some((p) => p.metadata.name === victim.metadata.name);
    }, "a replacement pod");
  });

  it("replication controller - scales 3 → 5 → 1 → 0 → 3 through the scale subresource", async () => {
    for (const n of [5, 1, 0, 3]) {
      await api.updateScale("web", n, "default");
      await waitFor(async () => active(await podsOf("app=web")).length === n && (await podsOf("app=web")).length === n, `${n} web pods`, 15_000);
      await waitFor(async () => (await api.get("replicationcontrollers", "web")).status?.replicas === n, `status.replicas = ${n}`);
    }
  });

  it("replication controller - never creates more than asked while the view lags (scale up by 50 at once)", async () => {
    await api.create("replicationcontrollers", rcObject("burst", 50));
    await waitFor(async () => (await podsOf("app=burst")).length === 50, "50 burst pods", 20_000);
    // Give the controller every chance to overshoot, then check it did not.
    await waitFor(async () => (await api.get("replicationcontrollers", "burst")).status?.replicas === 50, "status 50");
    expect((await podsOf("app=burst")).length).toBe(50);
    await api.delete("replicationcontrollers", "burst", "default");
    await waitFor(async () => (await podsOf("app=burst")).length === 0, "burst pods collected", 20_000);
  });

  it("replication controller - releases a pod whose labels stop matching, and adopts an orphan that matches", async () => {
    const [pod] = await podsOf("app=web");
    await api.patch("pods", pod.metadata.name, { metadata: { labels: { app: "debug" } } }, { namespace: "default" });
    const released = await waitFor(async () => {
      const p = await api.get("pods", pod.metadata.name, "default");
      return !p.metadata.ownerReferences?.length ? p : null;
    }, "the relabelled pod released");
    expect(released.metadata.deletionTimestamp).toBeUndefined();
    await waitFor(async () => active(await podsOf("app=web")).length === 3, "a replacement for the released pod");

    // Relabel it back: the RC adopts it and, now one too many, deletes one pod.
    await api.patch("pods", pod.metadata.name, { metadata: { labels: { app: "web" } } }, { namespace: "default" });
    await waitFor(async () => {
      const p = await api.get("pods", pod.metadata.name, "default").catch(() => null);
      const ps = active(await podsOf("app=web"));
      return ps.length === 3 && (!p || p.metadata.ownerReferences?.[0]?.name === "web");
    }, "adoption and back to 3");
  });

  it("replication controller - two RCs with overlapping selectors each keep their own pods", async () => {
    await api.create("replicationcontrollers", rcObject("left", 2, { tier: "x", side: "left" }));
    await waitFor(async () => (await podsOf("side=left")).length === 2, "left pods");
    // `wide` selects tier=x, which the left pods also carry; they are owned, so it must not take them.
    await api.create("replicationcontrollers", rcObject("wide", 3, { tier: "x" }));
    await waitFor(async () => (await podsOf("tier=x")).filter((p) => p.metadata.ownerReferences?.[0]?.name === "wide").length === 3, "wide pods");
    const owners = async () => (await podsOf("tier=x")).map((p) => p.metadata.ownerReferences?.[0]?.name).sort().join(",");
    await waitFor(async () => (await owners()) === "left,left,wide,wide,wide", "2 left + 3 wide pods");
    for (const name of ["left", "wide"]) await api.delete("replicationcontrollers", name, "default");
    await waitFor(async () => (await podsOf("tier=x")).length === 0, "overlap pods collected", 15_000);
  });

  it("replication controller - deleting with propagationPolicy Orphan leaves the pods running, unowned", async () => {
    await api.create("replicationcontrollers", rcObject("keep", 2));
    await waitFor(async () => (await podsOf("app=keep")).length === 2, "keep pods");
    await api.delete("replicationcontrollers", "keep", "default", { propagationPolicy: "Orphan" });
    // The collector runs on RC deletion; give it a pass, then the pods must still be there.
    await waitFor(async () => cp.garbageCollector.loop.actor.getSnapshot().context.passes > 0, "a gc pass");
    const before = cp.garbageCollector.loop.actor.getSnapshot().context.passes;
    cp.garbageCollector.loop.wake();
    await waitFor(async () => cp.garbageCollector.loop.actor.getSnapshot().context.passes > before, "another gc pass");
    const pods = await podsOf("app=keep");
    expect(pods).toHaveLength(2);
    for (const p of pods) expect(p.metadata.ownerReferences ?? []).toEqual([]);
  });

  it("replication controller - an RC whose selector does not match its template is rejected with 422", async () => {
    const bad = rcObject("bad", 1) as { spec: { selector: Record<string, string> } };
    bad.spec.selector = { app: "other" };
    const err = await api.create("replicationcontrollers", bad).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe(422);
    const neg = await api.create("replicationcontrollers", rcObject("neg", -1)).catch((e) => e);
    expect((neg as ApiError).code).toBe(422);
  });

  it("scheduler - a pod too big for every node waits, Unschedulable, until a node grows", async () => {
    await api.create("pods", {
      apiVersion: "v1", kind: "Pod", metadata: { name: "big" },
      spec: { containers: [{ name: "c", image: "berth/busybox:latest", resources: { requests: { cpu: "6" } } }] },
    }, "default");
    const p = await waitFor(async () => {
      const x = await api.get("pods", "big", "default");
      return x.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False") ? x : null;
    }, "PodScheduled=False");
    expect(p.status?.conditions?.find((c) => c.type === "PodScheduled")?.message).toContain("Insufficient cpu");
    const events = await waitFor(async () => (await api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "big" && e.reason === "FailedScheduling").length, "FailedScheduling event");
    expect(events).toBeGreaterThan(0);
    // A patch, not a read and an update: the stand-in's heartbeats write the node's status every 250 ms.
    await api.patch("nodes", "node-a", { status: { allocatable: { cpu: "8" } } }, { subresource: "status" });
    expect(await waitFor(async () => (await api.get("pods", "big", "default")).spec.nodeName, "big bound")).toBe("node-a");
    await api.delete("pods", "big", "default", { gracePeriodSeconds: 0 });
  });

  it("scheduler - a pod with a nodeSelector waits, Unschedulable, until a node carries the label", async () => {
    await api.create("pods", {
      apiVersion: "v1", kind: "Pod", metadata: { name: "picky" },
      spec: { nodeSelector: { disk: "ssd" }, containers: [{ name: "c", image: "berth/busybox:latest" }] },
    }, "default");
    const p = await waitFor(async () => {
      const x = await api.get("pods", "picky", "default");
      return x.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False") ? x : null;
    }, "PodScheduled=False");
    expect(p.status?.conditions?.find((c) => c.type === "PodScheduled")?.reason).toBe("Unschedulable");
    await api.patch("nodes", "node-b", { metadata: { labels: { disk: "ssd" } } });
    const bound = await waitFor(async () => (await api.get("pods", "picky", "default")).spec.nodeName, "picky bound");
    expect(bound).toBe("node-b");
    await api.delete("pods", "picky", "default", { gracePeriodSeconds: 0 });
  });

  it("node lifecycle - a silent node goes Ready=Unknown, its pods are marked lost, then given up and replaced elsewhere", async () => {
    const onC = (await podsOf("app=web")).filter((p) => p.spec.nodeName === "node-c" && !p.metadata.deletionTimestamp);
    expect(onC.length).toBeGreaterThan(0);
    alive.delete("node-c");
    await waitFor(async () => {
      const n: Node = await api.get("nodes", "node-c");
      return n.status?.conditions?.find((c) => c.type === "Ready")?.status === "Unknown";
    }, "node-c Ready=Unknown", 10_000);
    const lost = await waitFor(async () => {
      const p = await api.get("pods", onC[0].metadata.name, "default");
      return p.status?.phase === "Unknown" || p.metadata.deletionTimestamp ? p : null;
    }, "pod marked lost");
    expect(lost.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "False").toBe("False");
    // Given up for replacement, not deleted: if the node returns, the RC removes the surplus.
    const givenUp = await waitFor(async () => {
      const p = await api.get("pods", onC[0].metadata.name, "default");
      return p.status?.conditions?.some((c) => c.type === "DisruptionTarget" && c.status === "True") ? p : null;
    }, "pod given up for replacement", 10_000);
    expect(givenUp.metadata.deletionTimestamp).toBeUndefined();
    await waitFor(async () => {
      const ps = active(await podsOf("app=web"));
      return ps.length === 3 && ps.every((p) => p.spec.nodeName !== "node-c");
    }, "3 active web pods, none on node-c", 10_000);
    alive.add("node-c");
  });

  it("garbage collector - pods bound to a deleted node are removed", async () => {
    const onC = (await podsOf("app=web")).filter((p) => p.spec.nodeName === "node-c");
    expect(onC.length).toBeGreaterThan(0);
    alive.delete("node-c");
    await api.delete("nodes", "node-c");
    await waitFor(async () => (await podsOf("app=web")).every((p) => p.spec.nodeName !== "node-c"), "pods of node-c removed", 15_000);
  });
});
