/**
 * Every API verb through a plain NATS client (raw request/reply with JSON, no Berth client
 * code), plus the same API through NatsApiClient, plus garbage on the API subjects.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { serveApiOverNats } from "../../runtime/api/nats_server.ts";
import { ConflictError, GoneError, InvalidError, NotFoundError } from "../../model/errors.ts";
import type { Pod, Status, WatchEvent } from "../../model/types.ts";

const podManifest = (name: string, labels: Record<string, string> = { app: "web" }) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] },
});

describe("NATS API", () => {
  let t: TestApi;
  let plain: NatsConnection;
  const ask = async (subject: string, body: unknown): Promise<any> => {
    const m = await plain.request(subject, typeof body === "string" ? body : JSON.stringify(body), { timeout: 5000 });
    return m.json();
  };
  beforeAll(async () => {
    t = await startTestApi();
    plain = await connect({ servers: t.natsUrl });
  });
  afterAll(async () => {
    await plain?.close();
    await t?.stop();
  });

  it("nats api - create, get, list, update, updateStatus, patch and delete with a plain NATS client", async () => {
    const created = await ask("berth.api.v1.pods.create", { object: podManifest("plain-1") });
    expect(created.kind).toBe("Pod");
    expect(created.metadata.namespace).toBe("default");
    expect(created.metadata.uid).toMatch(/[0-9a-f-]{36}/);
    expect(created.metadata.generation).toBe(1);
    expect(created.spec.restartPolicy).toBe("Always");
    expect(created.status.phase).toBe("Pending");

    const got = await ask("berth.api.v1.pods.get", { name: "plain-1" });
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);

    const list = await ask("berth.api.v1.pods.list", { namespace: "default", labelSelector: "app=web" });
    expect(list.kind).toBe("PodList");
    expect(list.items.map((p: Pod) => p.metadata.name)).toContain("plain-1");

    const relabeled = { ...got, metadata: { ...got.metadata, labels: { app: "web", tier: "front" } } };
    const updated = await ask("berth.api.v1.pods.update", { object: relabeled });
    expect(updated.metadata.labels.tier).toBe("front");
    expect(updated.metadata.generation).toBe(1); // metadata-only change

    const stale = await ask("berth.api.v1.pods.update", { object: relabeled });
    expect(stale.kind).toBe("Status");
    expect(stale.code).toBe(409);
    expect(stale.reason).toBe("Conflict");

    const withStatus = { ...updated, status: { phase: "Running", podIP: "10.213.0.9" } };
    const st = await ask("berth.api.v1.pods.updateStatus", { object: withStatus });
    expect(st.status.phase).toBe("Running");
    expect(st.metadata.labels.tier).toBe("front");

    const patched = await ask("berth.api.v1.pods.patch", { name: "plain-1", patch: { metadata: { annotations: { a: "b" } } } });
    expect(patched.metadata.annotations).toEqual({ a: "b" });
    expect(patched.status.phase).toBe("Running"); // a plain patch does not touch status

    const deleted = await ask("berth.api.v1.pods.delete", { name: "plain-1" });
    expect(deleted.metadata.name).toBe("plain-1");
    const gone = await ask("berth.api.v1.pods.get", { name: "plain-1" });
    expect(gone.code).toBe(404);
  });

  it("nats api - a watch streams ADDED, MODIFIED and DELETED to the subject the client chose", async () => {
    const watchId = "plainwatch1";
    const sub = plain.subscribe(`berth.watch.${watchId}`);
    const started = await ask("berth.api.v1.services.watch", { namespace: "default", watchId });
    expect(started.subject).toBe(`berth.watch.${watchId}`);
    const events: WatchEvent[] = [];
    const reading = (async () => {
      for await (const m of sub) {
        events.push(m.json());
        if (events.length === 3) break;
      }
    })();
    const svc = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    };
    await ask("berth.api.v1.services.create", { object: svc });
    await ask("berth.api.v1.services.patch", { name: "web", patch: { metadata: { labels: { x: "1" } } } });
    await ask("berth.api.v1.services.delete", { name: "web" });
    await reading;
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(events[0].object.metadata.name).toBe("web");
    const stopped = await ask("berth.api.v1.watches.stop", { watchId });
    expect(stopped.kind).toBe("WatchStopped");
    expect(t.server.watchCount).toBe(0);
  });

  it("nats api - scale get and update go through the RC", async () => {
    const rc = {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "scaled" },
      spec: { replicas: 2, selector: { app: "s", tier: "t" }, template: { metadata: { labels: { app: "s", tier: "t" } }, spec: podManifest("x").spec } },
    };
    await ask("berth.api.v1.replicationcontrollers.create", { object: rc });
    const scale = await ask("berth.api.v1.scale.get", { name: "scaled" });
    expect(scale).toMatchObject({ kind: "Scale", apiVersion: "autoscaling/v1", spec: { replicas: 2 } });
    const up = await ask("berth.api.v1.scale.update", { name: "scaled", replicas: 5 });
    expect(up.spec.replicas).toBe(5);
    const bad = await ask("berth.api.v1.scale.update", { name: "scaled", replicas: -1 });
    expect(bad.code).toBe(422);
    const after = await t.api.get("replicationcontrollers", "scaled");
    expect(after.spec.replicas).toBe(5);
    expect(after.metadata.generation).toBe(2);
    // The same spec with its maps' keys in another order (a Go client's encoding of what a YAML
    // apply wrote) is no spec change: the generation stays.
    const reordered = { ...after.spec, selector: { tier: "t", app: "s" }, template: { ...after.spec.template, metadata: { labels: { tier: "t", app: "s" } } } };
    const same = await ask("berth.api.v1.replicationcontrollers.update", { object: { ...after, metadata: { ...after.metadata, labels: { relabeled: "yes" } }, spec: reordered } });
    expect(same.metadata.labels).toEqual({ relabeled: "yes" });
    expect(same.metadata.generation).toBe(2);
  });

  it("nats api - garbage on API subjects gets a clear Status and stores nothing", async () => {
    const before = (await t.store.list("pods")).items.length;
    const cases: [string, unknown, number, RegExp][] = [
      ["berth.api.v1.pods.create", "{not json", 400, /not valid JSON/],
      ["berth.api.v1.pods.create", "[1,2]", 400, /must be a JSON object/],
      ["berth.api.v1.pods.create", {}, 400, /"object" is required/],
      ["berth.api.v1.pods.create", { object: "a string" }, 400, /./],
      ["berth.api.v1.pods.create", { object: { apiVersion: "v1", kind: "Pod", metadata: { name: "Bad_Name" }, spec: { containers: [] } } }, 422, /metadata\.name/],
      ["berth.api.v1.pods.create", { object: { ...podManifest("wrongtype"), spec: { containers: [{ name: "c", image: 42 }] } } }, 422, /spec\.containers\[0\]\.image/],
      ["berth.api.v1.pods.get", { name: 7 }, 400, /"name" must be a string/],
      ["berth.api.v1.pods.frobnicate", {}, 404, /unknown verb/],
      ["berth.api.v1.persistentvolumes.create", {}, 404, /unknown resource/],
      ["berth.api.v1.pods.list", { labelSelector: "a in (" }, 400, /./],
      ["berth.api.v1.pods.delete", { name: "x", gracePeriodSeconds: "soon" }, 400, /gracePeriodSeconds/],
      ["berth.api.v1.pods.watch", { watchId: "bad id!" }, 400, /watchId/],
      ["berth.api.v1.pods.create", { object: { ...podManifest("huge"), metadata: { name: "huge", annotations: { big: "x".repeat(2_000_000) } } } }, 413, /too large|exceeds|limit/i],
    ];
    for (const [subject, body, code, message] of cases) {
      const reply = (await ask(subject, body)) as Status;
      expect(reply.kind, `${subject} ${JSON.stringify(body).slice(0, 80)}`).toBe("Status");
      expect(reply.code, `${subject} ${JSON.stringify(body).slice(0, 80)}: ${reply.message}`).toBe(code);
      expect(reply.message).toMatch(message);
    }
    expect((await t.store.list("pods")).items.length).toBe(before);
    // The server still answers.
    const ok = await ask("berth.api.v1.namespaces.get", { name: "default" });
    expect(ok.kind).toBe("Namespace");
  });

  it("nats api client - same errors as the in-process Api, and a watch that resumes from a list", async () => {
    const c = t.remote;
    await expect(c.get("pods", "nope")).rejects.toBeInstanceOf(Error);
    const err = await c.get("pods", "nope").catch((e) => e);
    expect(err.code).toBe(404);
    const invalid = await c.create("pods", { ...podManifest("x"), spec: {} }).catch((e) => e);
    expect(invalid.code).toBe(422);
    expect(invalid.details.causes.some((cause: { field?: string }) => cause.field === "spec.containers")).toBe(true);

    const listed = await c.list("pods", { namespace: "default" });
    const w = await c.watch("pods", { namespace: "default", resourceVersion: listed.metadata.resourceVersion });
    await c.create("pods", podManifest("remote-1"));
    const first = await (async () => {
      for await (const e of w) return e;
    })();
    expect(first).toMatchObject({ type: "ADDED", object: { metadata: { name: "remote-1" } } });
    w.stop();
    await waitFor(() => t.server.watchCount === 0, "the server to drop the stopped watch");
  });

  it("nats api - a pod can be bound once and have its image changed, nothing else in its spec", async () => {
    const c = t.remote;
    // Keys in an order different from the defaults' own: the check must compare content, not text.
    await c.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "bind-1" },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "berth/busybox", imagePullPolicy: "Never", command: ["sleep", "1"] }] },
    });
    const p = await c.get("pods", "bind-1");
    const bound = await c.update("pods", { ...p, spec: { ...p.spec, nodeName: "node-a" } });
    expect(bound.spec.nodeName).toBe("node-a");
    const rebind = await c.update("pods", { ...bound, spec: { ...bound.spec, nodeName: "node-b" } }).catch((e) => e);
    expect(rebind.code).toBe(422);
    const cmd = await c.update("pods", { ...bound, spec: { ...bound.spec, containers: [{ ...bound.spec.containers[0], command: ["true"] }] } }).catch((e) => e);
    expect(cmd.code).toBe(422);
    expect(cmd.message).toMatch(/may not change fields/);
    const image = await c.update("pods", { ...bound, spec: { ...bound.spec, containers: [{ ...bound.spec.containers[0], image: "berth/busybox:v2" }] } });
    expect(image.spec.containers[0].image).toBe("berth/busybox:v2");
  });

  it("nats api - a request from another connection right after `ready` is answered (the server has the subscriptions)", async () => {
    // Without waiting for `ready`, most of these found no responders: the subscriptions were
    // still on their way to the NATS server when the other connection's request arrived.
    await t.server.stop();
    try {
      for (let i = 0; i < 10; i++) {
        const copy = serveApiOverNats(t.nc, t.impl);
        await copy.ready;
        expect((await ask("berth.api.v1.namespaces.get", { name: "default" })).metadata.name).toBe("default");
        await copy.stop();
        await t.nc.flush(); // its unsubscriptions reached the server too
      }
    } finally {
      t.server = serveApiOverNats(t.nc, t.impl);
      await t.server.ready;
    }
  });

  it("nats api - with two API copies, keep-alive and stop reach the copy holding the watch", async () => {
    const second = serveApiOverNats(t.nc, t.impl);
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const watchId = `twocopies${i}`;
        ids.push(watchId);
        const sub = plain.subscribe(`berth.watch.${watchId}`);
        sub.unsubscribe();
        expect((await ask("berth.api.v1.pods.watch", { watchId })).kind).toBe("WatchStarted");
      }
      // Whichever copy the queue group picked for each watch, every renewal is answered by it.
      for (let round = 0; round < 3; round++) {
        for (const watchId of ids) expect((await ask("berth.api.v1.watches.keepalive", { watchId })).kind).toBe("WatchRenewed");
      }
      for (const watchId of ids) expect((await ask("berth.api.v1.watches.stop", { watchId })).kind).toBe("WatchStopped");
      // A watch nobody holds is reported lost, so the client relists.
      const lost = await ask("berth.api.v1.watches.keepalive", { watchId: ids[0] });
      expect(lost.code).toBe(404);
      expect(t.server.watchCount + second.watchCount).toBe(0);
    } finally {
      await second.stop();
    }
  });

  it("nats api - stale update is a ConflictError, compacted watch is Gone, bad namespace is NotFound", async () => {
    const c = t.remote;
    const p = await c.create("pods", podManifest("cas-1"));
    await c.patch("pods", "cas-1", { metadata: { labels: { v: "2" } } });
    const e1 = await c.update("pods", p).catch((e) => e);
    expect(e1.reason).toBe("Conflict");
    await c.delete("pods", "cas-1");
    await t.store.compact();
    const e2 = await c.watch("pods", { resourceVersion: p.metadata.resourceVersion }).catch((e) => e);
    expect(e2.code).toBe(410);
    const e3 = await c.create("pods", podManifest("in-missing-ns"), "no-such-ns").catch((e) => e);
    expect(e3.code).toBe(404);
    expect(e3.message).toMatch(/namespaces "no-such-ns" not found/);
    void ConflictError; void GoneError; void InvalidError; void NotFoundError;
  });
});
