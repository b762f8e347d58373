/**
 * Least-privilege NATS identities against a real nats-server running the authorization block
 * from makeNatsAuth: what nats-server itself refuses (permission violations) and what the API
 * refuses on a node's subjects (403 naming the rule), and that a node can still do its job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Api } from "../../runtime/api/api.ts";
import { ApiError } from "../../model/errors.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import type { Pod, WatchEvent } from "../../model/types.ts";
import { makeNatsAuth, type Creds, type NatsAuth } from "../../runtime/nats/auth.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { waitFor } from "../helpers/nats.ts";

const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "sec" } },
  spec: { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] },
});

/** nats.js reports a refused publish as a PermissionViolationError, wrapped or not. */
function isPermissionViolation(e: unknown): boolean {
  const x = e as { name?: string; cause?: { name?: string } } | null;
  return x?.name === "PermissionViolationError" || x?.cause?.name === "PermissionViolationError";
}

/** Resolves with the error a request ends in (or fails the test if it succeeds). */
async function failure(p: Promise<unknown>): Promise<Error & { code?: number; reason?: string }> {
  try {
    await p;
  } catch (e) {
    return e as Error & { code?: number; reason?: string };
  }
  throw new Error("expected the call to fail, it succeeded");
}

describe("NATS identities and the node authorizer", () => {
  let dir: string;
  let auth: NatsAuth;
  let server: NatsServerHandle;
  let cp: NatsConnection;
  let ncA: NatsConnection;
  let ncB: NatsConnection;
  let ext: NatsConnection;
  let api: Api;
  let store: KvStore;
  let apiServer: NatsApiServer;
  let nodeA: NatsApiClient;
  let external: NatsApiClient;
  const conn = (c: Creds, inboxPrefix?: string) =>
    connect({ servers: server.url, user: c.user, pass: c.pass, inboxPrefix, maxReconnectAttempts: 0 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-sec-"));
    auth = makeNatsAuth({ nodeNames: ["node-a", "node-b"], dir: join(dir, "creds") });
    server = await startNatsServer({ authorization: auth.serverConfig });
    cp = await conn(auth.controlPlane);
    store = await KvStore.open(cp);
    api = await Api.open(store);
    apiServer = serveApiOverNats(cp, api, { maxWatchesPerNode: 3 });
    ncA = await conn(auth.node("node-a"), "_INBOX_node-a");
    ncB = await conn(auth.node("node-b"), "_INBOX_node-b");
    ext = await conn(auth.external);
    nodeA = new NatsApiClient(ncA, { node: "node-a", timeoutMs: 5_000 });
    external = new NatsApiClient(ext, { timeoutMs: 5_000 });
    for (const [name, node] of [["pa", "node-a"], ["pb", "node-b"], ["pu", undefined]] as const) {
      const p = await api.create("pods", pod(name));
      if (node) await api.update("pods", { ...p, spec: { ...p.spec, nodeName: node } });
    }
  });
  afterAll(async () => {
    await apiServer?.stop();
    for (const c of [ncA, ncB, ext, cp]) await c?.close().catch(() => {});
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("auth - credentials persist in a 0600 file and are reused; unknown clients cannot connect", async () => {
    const again = makeNatsAuth({ nodeNames: ["node-a", "node-b", "node-c"], dir: join(dir, "creds") });
    expect(again.node("node-a")).toEqual(auth.node("node-a"));
    expect(again.controlPlane).toEqual(auth.controlPlane);
    expect(again.node("node-c").pass).not.toBe(auth.node("node-a").pass);
    expect(statSync(join(dir, "creds", "nats-credentials.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(server.dir, "nats-server.conf")).mode & 0o777).toBe(0o600);
    expect(() => auth.node("node-z")).toThrow(/no NATS identity/);
    await expect(connect({ servers: server.url, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
    await expect(connect({ servers: server.url, user: auth.node("node-a").user, pass: auth.node("node-b").pass, maxReconnectAttempts: 0 })).rejects.toThrow(/Authorization/i);
  });

  it("node identity - publishing to another node's subjects is a permission violation", async () => {
    const e = await failure(ncA.request("berth.node.node-b.api.v1.pods.get", JSON.stringify({ name: "pb" }), { timeout: 3_000 }));
    expect(isPermissionViolation(e)).toBe(true);
    // The same through the client: node A pretending to be node B is a 403.
    const asB = new NatsApiClient(ncA, { node: "node-b", inboxPrefix: "_INBOX_node-a", timeoutMs: 3_000 });
    const e2 = await failure(asB.updateStatus("pods", { ...(await api.get("pods", "pb")), status: { phase: "Failed" } }));
    expect(e2).toBeInstanceOf(ApiError);
    expect(e2.code).toBe(403);
    expect((await api.get("pods", "pb")).status?.phase).toBe("Pending");
  });

  it("node identity - writing the KV bucket or calling the JetStream API directly is refused", async () => {
    const before = await api.get("pods", "pb");
    const e1 = await failure(ncA.request("$KV.berth-state.pods.default.pb", JSON.stringify({ ...before, status: { phase: "Failed" } }), { timeout: 3_000 }));
    expect(isPermissionViolation(e1)).toBe(true);
    const e2 = await failure(ncA.request("$JS.API.STREAM.INFO.KV_berth-state", "", { timeout: 3_000 }));
    expect(isPermissionViolation(e2)).toBe(true);
    const e3 = await failure(new Kvm(jetstream(ncA, { timeout: 3_000 })).open("berth-state").then((kv) => kv.put("pods.default.pb", "{}")));
    expect(String(e3)).toMatch(/Permission|permission|timeout|TimeoutError/);
    const after = await api.get("pods", "pb");
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it("node identity - the unrestricted API is out of reach: deleting a pod through it is a permission violation", async () => {
    const e = await failure(ncA.request("berth.api.v1.pods.delete", JSON.stringify({ name: "pb", gracePeriodSeconds: 0 }), { timeout: 3_000 }));
    expect(isPermissionViolation(e)).toBe(true);
    expect((await api.get("pods", "pb")).metadata.deletionTimestamp).toBeUndefined();
  });

  it("node identity - cannot read another node's replies, subjects or the shared inbox", async () => {
    for (const subject of ["_INBOX_node-a.>", "berth.node.node-a.>", "_INBOX.>", "berth.watch.>", "berth.api.v1.>", "berth.node.node-b.api.v1.>"]) {
      const sub = ncB.subscribe(subject);
      const err = await (async () => {
        try {
          for await (const _ of sub) return null;
        } catch (e) {
          return e as Error;
        }
        return sub.closed.then((e) => e ?? null);
      })();
      expect(isPermissionViolation(err), subject).toBe(true);
    }
  });

  it("node API - node A may not change the status of, delete, or read a pod bound to node B", async () => {
    const pb = await api.get("pods", "pb");
    const s = await failure(nodeA.updateStatus("pods", { ...pb, status: { phase: "Running" } }));
    expect(s.code).toBe(403);
    expect(s.message).toMatch(/rule pod\.status/);
    const p = await failure(nodeA.patch("pods", "pb", { status: { phase: "Running" } }, { subresource: "status" }));
    expect(p.code).toBe(403);
    await api.delete("pods", "pb"); // graceful: deletionTimestamp set
    const d = await failure(nodeA.delete("pods", "pb", "default", { gracePeriodSeconds: 0 }));
    expect(d.code).toBe(403);
    expect(d.message).toMatch(/rule pod\.delete/);
    const g = await failure(nodeA.get("pods", "pb"));
    expect(g.code).toBe(403);
    const l = await failure(nodeA.list("pods"));
    expect(l.code).toBe(403);
    expect(l.message).toMatch(/spec\.nodeName=node-a/);
    expect((await api.get("pods", "pb")).status?.phase).toBe("Pending");
  });

  it("node API - node A may not create pods or RCs, touch other Nodes, scale, or label its pods", async () => {
    expect((await failure(nodeA.create("pods", pod("sneaky")))).code).toBe(403);
    expect((await failure(nodeA.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-b" } }))).code).toBe(403);
    expect((await failure(nodeA.getScale("x"))).code).toBe(403);
    expect((await failure(nodeA.patch("pods", "pa", { metadata: { labels: { app: "other" } } }))).code).toBe(403);
    expect((await failure(nodeA.patch("pods", "pa", [{ op: "add", path: "/metadata/annotations", value: {} }], { type: "json" }))).code).toBe(403);
    expect((await failure(nodeA.list("replicationcontrollers"))).code).toBe(403);
    const pa = await api.get("pods", "pa");
    expect((await failure(nodeA.update("pods", { ...pa, metadata: { ...pa.metadata, labels: { x: "y" } } }))).code).toBe(403);
    const deleteWithoutRequest = await failure(nodeA.delete("pods", "pa", "default", { gracePeriodSeconds: 0 }));
    expect(deleteWithoutRequest.code).toBe(403);
    expect(deleteWithoutRequest.message).toMatch(/no deletionTimestamp/);
    await expect(api.get("pods", "pa")).resolves.toBeDefined();
  });

  it("node API - node A registers and updates its own Node, reports its own pod's status, annotates it, and finishes its deletion", async () => {
    const node = await nodeA.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-a" } });
    const ready = await nodeA.updateStatus("nodes", { ...node, status: { conditions: [{ type: "Ready", status: "True" }] } });
    expect(ready.status?.conditions?.[0]?.status).toBe("True");
    await nodeA.patch("nodes", "node-a", { metadata: { labels: { zone: "z1" } } });

    const pa = await nodeA.get("pods", "pa");
    const running = await nodeA.updateStatus("pods", { ...pa, status: { phase: "Running", podIP: "10.0.0.5" } });
    expect(running.status?.phase).toBe("Running");
    const annotated = await nodeA.patch("pods", "pa", { metadata: { annotations: { "berth.dev/host-ports": "{}" } } });
    expect(annotated.metadata.annotations?.["berth.dev/host-ports"]).toBe("{}");
    const listed = await nodeA.list("pods", { fieldSelector: "spec.nodeName=node-a" });
    expect(listed.items.map((p) => p.metadata.name)).toEqual(["pa"]);

    const ev = await nodeA.create("events", {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "pa.1", namespace: "default" },
      involvedObject: { kind: "Pod", name: "pa", namespace: "default" },
      reason: "Started",
      message: "started",
      type: "Normal",
      source: { component: "kubelet", host: "node-a" },
    });
    expect(ev.metadata.name).toBe("pa.1");
    const spoof = await failure(nodeA.create("events", { ...ev, metadata: { name: "pa.2", namespace: "default" }, source: { component: "kubelet", host: "node-b" } }));
    expect(spoof.code).toBe(403);

    await external.delete("pods", "pa"); // the user asks; node A finishes
    await nodeA.delete("pods", "pa", "default", { gracePeriodSeconds: 0 });
    await expect(api.get("pods", "pa")).rejects.toMatchObject({ code: 404 });
  });

  it("node API - node watches arrive on the node's own subject, are its own to stop, and are capped per node", async () => {
    const w = await nodeA.watch("pods", { fieldSelector: "spec.nodeName=node-a" });
    expect(apiServer.watchCountOf("node-a")).toBe(1);
    const created = await api.create("pods", pod("pw"));
    await api.update("pods", { ...created, spec: { ...created.spec, nodeName: "node-a" } });
    const seen: WatchEvent<Pod>[] = [];
    for await (const e of w) {
      seen.push(e as WatchEvent<Pod>);
      if ((e.object as Pod).metadata.name === "pw") break;
    }
    expect(seen.every((e) => e.object.spec.nodeName === "node-a")).toBe(true);
    const wrong = await failure(nodeA.watch("pods", { fieldSelector: "spec.nodeName=node-b" }));
    expect(wrong.code).toBe(403);
    const extra = [await nodeA.watch("services"), await nodeA.watch("endpoints"), await nodeA.watch("nodes")];
    const capped = await failure(nodeA.watch("namespaces"));
    expect(capped.code).toBe(429);
    // Node B cannot stop node A's watch, even knowing its id: the id is looked up among B's own.
    const nodeB = new NatsApiClient(ncB, { node: "node-b", timeoutMs: 3_000 });
    void nodeB;
    const reply = await ncB.request("berth.node.node-b.api.v1.watches.stop", JSON.stringify({ watchId: "anything-at-all" }), { timeout: 3_000 });
    expect(reply.json<{ code: number }>().code).toBe(404);
    for (const x of extra) x.stop();
    await waitFor(() => apiServer.watchCountOf("node-a") === 0, "node A's watches to be released");
  });

  it("external identity - the API only: no KV, no JetStream, no node subjects", async () => {
    const created = await external.create("pods", pod("ext-1"));
    expect(created.metadata.name).toBe("ext-1");
    for (const subject of ["$KV.berth-state.pods.default.ext-1", "$JS.API.INFO", "berth.node.node-a.api.v1.pods.get", "berth.node.node-a.exec"]) {
      const e = await failure(ext.request(subject, "{}", { timeout: 3_000 }));
      expect(isPermissionViolation(e), subject).toBe(true);
    }
    const cli = await conn(auth.cli);
    try {
      // The CLI may ask a node for exec/logs (no node answers here), but may not write KV.
      const e = await failure(cli.request("berth.node.node-a.exec", "{}", { timeout: 500 }));
      expect(isPermissionViolation(e)).toBe(false);
      expect(isPermissionViolation(await failure(cli.request("$KV.berth-state.x", "{}", { timeout: 3_000 })))).toBe(true);
    } finally {
      await cli.close();
    }
  });
});
