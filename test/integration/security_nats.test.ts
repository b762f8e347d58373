/**
 * Least-privilege NATS identities against a real nats-server running the authorization block
 * from makeNatsAuth: what nats-server itself refuses (permission violations) and what the API
 * refuses on a node's subjects (403 naming the rule), and that a node can still do its job.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
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
import { subjects } from "../../runtime/subjects.ts";
import { waitFor } from "../helpers/nats.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";

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

/** Subscribes and resolves with the error the subscription ends in (a refusal), or null. */
async function subscribeError(nc: NatsConnection, subject: string): Promise<Error | null> {
  const sub = nc.subscribe(subject);
  // nats-server answers a refused SUB with -ERR before the PONG of this flush, and nats.js closes
  // the subscription as it reads it: still open after the flush means accepted.
  await nc.flush();
  if (!sub.isClosed()) {
    sub.unsubscribe();
    return null;
  }
  return (await sub.closed) ?? null;
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
  let tokens: ServiceAccountTokens;
  const serverLog: string[] = [];
  /** Connects as identity `c`, with its private inbox prefix as connectNats does. */
  const conn = (c: Creds) =>
    connect({ servers: server.url, user: c.user, pass: c.pass, inboxPrefix: subjects.inboxPrefix(c.user), maxReconnectAttempts: 0 });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-sec-"));
    auth = makeNatsAuth({ nodeNames: ["node-a", "node-b"], dir: join(dir, "creds") });
    server = await startNatsServer({ authorization: auth.serverConfig });
    cp = await conn(auth.controlPlane);
    store = await KvStore.open(cp);
    tokens = await ephemeralServiceAccountTokens();
    api = await Api.open(store, { tokens });
    apiServer = serveApiOverNats(cp, api, { maxWatchesPerNode: 3, log: (msg, fields) => serverLog.push(`${msg} ${JSON.stringify(fields ?? {})}`) });
    await apiServer.ready;
    ncA = await conn(auth.node("node-a"));
    ncB = await conn(auth.node("node-b"));
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
    const asB = new NatsApiClient(ncA, { node: "node-b", inboxPrefix: subjects.nodeInboxPrefix("node-a"), timeoutMs: 3_000 });
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
    for (const subject of [`${subjects.nodeInboxPrefix("node-a")}.>`, "berth.node.node-a.>", "_INBOX.>", "berth.watch.>", "berth.api.v1.>", "berth.node.node-b.api.v1.>"]) {
      expect(isPermissionViolation(await subscribeError(ncB, subject)), subject).toBe(true);
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

  it("node identity - may answer a request once but never publish into a requester's inbox (no forged replies)", async () => {
    // The control plane asks node A for a log, as the REST log proxy does: node A sees its inbox.
    const asked = new Promise<Msg>((resolve) => {
      const sub = ncA.subscribe(subjects.node("node-a", "logs"), { callback: (_e, m) => (sub.unsubscribe(), resolve(m)) });
    });
    await ncA.flush();
    const pending = cp.request(subjects.node("node-a", "logs"), "{}", { timeout: 5_000 });
    const m = await asked;
    expect(m.reply).toMatch(/^_INBOX_berth-control-plane\./);
    // A second "reply" to a sibling token of the same inbox (another request in flight on the
    // control plane's connection, e.g. a store read), the shared inbox, or the CLI's inbox: refused.
    for (const target of [m.reply!.replace(/[^.]+$/, "forged"), "_INBOX.x.y", `${subjects.inboxPrefix("berth-cli")}.x.y`]) {
      expect(isPermissionViolation(await failure(ncA.request(target, "{}", { timeout: 3_000 }))), target).toBe(true);
    }
    // Its one answer to the request it was sent still arrives (allow_responses).
    m.respond(JSON.stringify({ ok: true }));
    expect((await pending).json()).toEqual({ ok: true });
  });

  it("external and CLI identities - read only their own inbox and their own watches", async () => {
    const cli = await conn(auth.cli);
    try {
      for (const [nc, own, other] of [[ext, "berth-external", "berth-cli"], [cli, "berth-cli", "berth-external"]] as const) {
        for (const subject of ["_INBOX.>", "berth.watch.>", ">", subjects.inboxOf(other), subjects.clientWatchOf(other), subjects.inboxOf("berth-control-plane"), `${subjects.nodeInboxPrefix("node-a")}.>`]) {
          expect(isPermissionViolation(await subscribeError(nc, subject)), `${own} subscribing to ${subject}`).toBe(true);
        }
        // Requests still work: their replies come back on the identity's own inbox.
        const c = new NatsApiClient(nc, { timeoutMs: 5_000 });
        expect((await c.get("pods", "pu")).metadata.name).toBe("pu");
      }
      // Log streams are for those who may ask nodes for logs: the CLI, not external clients.
      expect(await subscribeError(cli, "berth.node.node-a.logstream.x")).toBeNull();
      expect(isPermissionViolation(await subscribeError(ext, "berth.node.node-a.logstream.x"))).toBe(true);
    } finally {
      await cli.close();
    }
  });

  it("watches - one identity cannot read, renew or stop another's watch, even knowing its id", async () => {
    const cli = await conn(auth.cli);
    try {
      const watchId = "external-watch-0001";
      const events = ext.subscribe(subjects.clientWatch("berth-external", watchId));
      const started = (await ext.request(subjects.clientApi("berth-external", "pods", "watch"), JSON.stringify({ watchId }), { timeout: 5_000 })).json<{ subject?: string }>();
      expect(started.subject).toBe(subjects.clientWatch("berth-external", watchId));
      expect(apiServer.clientWatchCountOf("berth-external")).toBe(1);
      // Through the other identity's subjects, or the unscoped ones: refused by nats-server.
      for (const subject of [subjects.clientApi("berth-external", "watches", "stop"), subjects.clientApi("berth-external", "watches", "keepalive"), subjects.watchControl("stop"), subjects.watchControl("keepalive")]) {
        expect(isPermissionViolation(await failure(cli.request(subject, JSON.stringify({ watchId }), { timeout: 3_000 }))), subject).toBe(true);
      }
      expect(isPermissionViolation(await subscribeError(cli, subjects.clientWatch("berth-external", watchId)))).toBe(true);
      // Through its own: the id is looked up among its own watches only.
      for (const verb of ["stop", "keepalive"] as const) {
        const r = (await cli.request(subjects.clientApi("berth-cli", "watches", verb), JSON.stringify({ watchId }), { timeout: 3_000 })).json<{ code?: number }>();
        expect(r.code, verb).toBe(404);
      }
      // An unscoped watch is refused to identities (its events would go where anyone could read).
      expect(isPermissionViolation(await failure(cli.request(subjects.api("pods", "watch"), JSON.stringify({ watchId: "cli-unscoped-1" }), { timeout: 3_000 })))).toBe(true);
      // The owner's watch is untouched: still open, still delivering, renewable and stoppable by it.
      expect(apiServer.clientWatchCountOf("berth-external")).toBe(1);
      await api.create("pods", pod("after-attempts"));
      for await (const m of events) {
        if (m.json<WatchEvent<Pod>>().object.metadata.name === "after-attempts") break;
      }
      const renewed = (await ext.request(subjects.clientApi("berth-external", "watches", "keepalive"), JSON.stringify({ watchId }), { timeout: 3_000 })).json<{ kind?: string }>();
      expect(renewed.kind).toBe("WatchRenewed");
      await ext.request(subjects.clientApi("berth-external", "watches", "stop"), JSON.stringify({ watchId }), { timeout: 3_000 });
      expect(apiServer.clientWatchCountOf("berth-external")).toBe(0);
      // NatsApiClient picks the identity's subjects by itself.
      const w = await external.watch("pods");
      expect(apiServer.clientWatchCountOf("berth-external")).toBe(1);
      w.stop();
      await waitFor(() => apiServer.clientWatchCountOf("berth-external") === 0, "the client's watch to be stopped");
    } finally {
      await cli.close();
    }
  });

  it("API server - answers only to inboxes: a request naming a KV subject as its reply writes nothing", async () => {
    const key = "pods.default.reflected";
    ext.publish(subjects.api("namespaces", "list"), "{}", { reply: `$KV.berth-state.${key}` });
    // Nor is such a request carried out: it could not be answered.
    ext.publish(subjects.api("pods", "create"), JSON.stringify({ object: pod("reflected-create") }), { reply: "$KV.berth-state.pods.default.reflected2" });
    await waitFor(() => serverLog.filter((l) => l.includes("request not answered")).length >= 2, "the API server to refuse both reflected replies");
    const kv = await new Kvm(jetstream(cp)).open("berth-state");
    expect(await kv.get(key)).toBeNull();
    expect(await kv.get("pods.default.reflected2")).toBeNull();
    await expect(api.get("pods", "reflected-create")).rejects.toMatchObject({ code: 404 });
    expect(serverLog.some((l) => l.includes("$KV.berth-state.pods.default.reflected"))).toBe(true);
  });

  it("node API - NodeRestriction: a node may not set node-role or node-restriction labels, nor change its taints", async () => {
    await api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-b", labels: { "node-role.kubernetes.io/worker": "" } } }).catch(() => {});
    const nodeB = new NatsApiClient(ncB, { node: "node-b", timeoutMs: 5_000 });
    const attempts: [string, () => Promise<unknown>][] = [
      ["merge patch node-role", () => nodeB.patch("nodes", "node-b", { metadata: { labels: { "node-role.kubernetes.io/control-plane": "" } } })],
      ["merge patch node-restriction", () => nodeB.patch("nodes", "node-b", { metadata: { labels: { "node-restriction.kubernetes.io/trusted": "yes" } } })],
      ["remove an admin's label", () => nodeB.patch("nodes", "node-b", { metadata: { labels: { "node-role.kubernetes.io/worker": null } } })],
      ["json patch of labels", () => nodeB.patch("nodes", "node-b", [{ op: "add", path: "/metadata/labels/node-role.kubernetes.io~1x", value: "" }], { type: "json" })],
      ["update with a new label", async () => {
        const cur = await nodeB.get("nodes", "node-b");
        return nodeB.update("nodes", { ...cur, metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, "example.k8s.io/x": "1" } } });
      }],
      ["taints", () => nodeB.patch("nodes", "node-b", { spec: { taints: [{ key: "x", effect: "NoSchedule" }] } })],
    ];
    for (const [what, attempt] of attempts) {
      const e = await failure(attempt());
      expect(e.code, what).toBe(403);
      expect(e.message, what).toMatch(/rule node\.(labels|taints)/);
    }
    expect((await failure(nodeB.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-b", labels: { "node-role.kubernetes.io/master": "" } } }))).message).toMatch(/node-role\.kubernetes\.io\/master/);
    // The kubelet's own labels, and anyone's outside kubernetes.io/k8s.io, are its to set.
    const ok = await nodeB.patch("nodes", "node-b", { metadata: { labels: { "kubernetes.io/hostname": "node-b", "node.kubernetes.io/pool": "a", "example.com/disk": "ssd" } } });
    expect(ok.metadata.labels?.["example.com/disk"]).toBe("ssd");
    expect((await api.get("nodes", "node-b")).metadata.labels).toEqual({ "node-role.kubernetes.io/worker": "", "kubernetes.io/hostname": "node-b", "node.kubernetes.io/pool": "a", "example.com/disk": "ssd" });
  });

  it("node API - events only from itself, about its own Node or its own pods", async () => {
    const pa2 = await api.create("pods", pod("pa2"));
    await api.update("pods", { ...pa2, spec: { ...pa2.spec, nodeName: "node-a" } });
    const pb2 = await api.create("pods", pod("pb2"));
    await api.update("pods", { ...pb2, spec: { ...pb2.spec, nodeName: "node-b" } });
    const ev = (name: string, involvedObject: Record<string, unknown>, source: Record<string, unknown> = { component: "kubelet", host: "node-a" }) => ({
      apiVersion: "v1", kind: "Event", metadata: { name, namespace: "default" }, involvedObject, reason: "Test", message: "m", type: "Normal", source,
    });
    const refused: [string, unknown][] = [
      ["about node B's pod", ev("e1", { kind: "Pod", name: "pb2", namespace: "default" })],
      ["about node B", ev("e2", { kind: "Node", name: "node-b" })],
      ["about a service", ev("e3", { kind: "Service", name: "kubernetes", namespace: "default" })],
      ["without a source", ev("e4", { kind: "Pod", name: "pa2", namespace: "default" }, {})],
      ["from node B", ev("e5", { kind: "Pod", name: "pa2", namespace: "default" }, { host: "node-b" })],
      ["about another pod of that name", ev("e6", { kind: "Pod", name: "pa2", namespace: "default", uid: "not-its-uid" })],
    ];
    for (const [what, e] of refused) {
      const err = await failure(nodeA.create("events", e));
      expect(err.code, what).toBe(403);
      expect(err.message, what).toMatch(/rule events/);
    }
    const own = await nodeA.create("events", ev("e7", { kind: "Pod", name: "pa2", namespace: "default", uid: (await api.get("pods", "pa2")).metadata.uid }));
    await nodeA.create("events", ev("e8", { kind: "Node", name: "node-a" }));
    // An event it reported cannot be pointed at something else afterwards.
    expect((await failure(nodeA.update("events", { ...own, involvedObject: { kind: "Pod", name: "pb2", namespace: "default" } }))).code).toBe(403);
    expect((await failure(nodeA.patch("events", "e7", { involvedObject: { name: "pb2" } }))).code).toBe(403);
    await nodeA.update("events", { ...own, count: 2 });
    expect((await api.list("events", { namespace: "default" })).items.map((e) => e.metadata.name).filter((n) => /^e\d$/.test(n)).sort()).toEqual(["e7", "e8"]);
  });

  it("node API - ServiceAccount tokens only bound to its own pods, for the account each runs as; reads only those accounts and their CA ConfigMap", async () => {
    await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "app" } });
    await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "other" } });
    await api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt" }, data: { "ca.crt": "CA" } });
    const placed = async (name: string, node: string) => {
      const p = await api.create("pods", { ...pod(name), spec: { ...pod(name).spec, serviceAccountName: "app" } });
      return await api.update("pods", { ...p, spec: { ...p.spec, nodeName: node } });
    };
    const ta = await placed("ta", "node-a");
    const tb = await placed("tb", "node-b");
    const request = (podName: string) => ({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: podName } } });

    const t = await nodeA.createToken("app", "default", request("ta"));
    expect(t).toMatchObject({ kind: "TokenRequest", metadata: { name: "app", namespace: "default" }, spec: { expirationSeconds: 3607 } });
    // Bound to the very pod that was checked: its uid, though the request named none.
    expect(await tokens.verify(t.status.token)).toMatchObject({ namespace: "default", serviceAccount: { name: "app" }, bound: { kind: "Pod", name: "ta", uid: ta.metadata.uid } });

    const other = await failure(nodeA.createToken("app", "default", request("tb")));
    expect([other.code, other.message]).toEqual([403, expect.stringMatching(/bound to pod "tb", which is not bound to it \(rule token\)/)]);
    expect((await failure(nodeA.createToken("other", "default", request("ta")))).message).toMatch(/serviceaccount "other", which pod "ta" does not run as/);
    expect((await failure(nodeA.createToken("app", "default", { spec: {} }))).message).toMatch(/not bound to a pod \(rule token\)/);
    expect(tb.spec.nodeName).toBe("node-b");
    // An audience only if the pod's volumes name it (kube's ServiceAccountNodeAudienceRestriction).
    const forAudience = (podName: string, aud: string) => ({ ...request(podName), spec: { ...request(podName).spec, audiences: [aud] } });
    expect((await failure(nodeA.createToken("app", "default", forAudience("ta", "vault")))).message).toMatch(/audience "vault", which no volume of pod "ta" names \(rule token\.audience\)/);
    const p = await api.create("pods", { ...pod("tv"), spec: { ...pod("tv").spec, serviceAccountName: "app", volumes: [{ name: "v", projected: { sources: [{ serviceAccountToken: { audience: "vault", path: "token" } }] } }] } });
    await api.update("pods", { ...p, spec: { ...p.spec, nodeName: "node-a" } });
    expect(await tokens.verify((await nodeA.createToken("app", "default", forAudience("tv", "vault"))).status.token, { audiences: ["vault"] })).toMatchObject({ audiences: ["vault"] });

    expect((await nodeA.get("serviceaccounts", "app")).metadata.name).toBe("app");
    expect((await failure(nodeA.get("serviceaccounts", "other"))).message).toMatch(/rule serviceaccount\.read/);
    expect((await nodeA.get("configmaps", "kube-root-ca.crt")).data).toEqual({ "ca.crt": "CA" });
  });
});
