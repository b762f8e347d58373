/**
 * The small NATS client of `berth get` / `berth describe` (runtime/nats/lite.ts, bundled in
 * place of nats-core in dist/cli/main.cjs) against a real nats-server with Berth's identities:
 * the API client on top of it answers as on the full client, headers travel both ways, replies
 * larger than one socket read are reassembled, and every failure the API client maps arrives
 * under nats-core's error name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as fullConnect, headers as fullHeaders, type NatsConnection } from "@nats-io/transport-node";
import { Api } from "../../runtime/api/api.ts";
import { ApiError } from "../../model/errors.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import type { Pod, WatchEvent } from "../../model/types.ts";
import { makeNatsAuth, type NatsAuth } from "../../runtime/nats/auth.ts";
import { connect, createInbox, headers, type LiteConnection } from "../../runtime/nats/lite.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { REQUEST_TIMEOUT_HEADER, subjects } from "../../runtime/subjects.ts";

const pod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels: { app: "lite" } },
  spec: { containers: [{ name: "main", image: "berth/busybox", command: ["sleep", "3600"] }] },
});

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected the call to fail, it succeeded");
}

describe("the read verbs' small NATS client", () => {
  let dir: string;
  let auth: NatsAuth;
  let server: NatsServerHandle;
  let cp: NatsConnection;
  let api: Api;
  let apiServer: NatsApiServer;
  let lite: LiteConnection;
  let client: NatsApiClient;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "berth-lite-"));
    auth = makeNatsAuth({ nodeNames: ["node-a"], dir: join(dir, "creds") });
    server = await startNatsServer({ authorization: auth.serverConfig });
    cp = await fullConnect({ servers: server.url, user: auth.controlPlane.user, pass: auth.controlPlane.pass, inboxPrefix: subjects.inboxPrefix(auth.controlPlane.user), maxReconnectAttempts: 0 });
    api = await Api.open(await KvStore.open(cp));
    apiServer = serveApiOverNats(cp, api);
    await apiServer.ready;
    // As runtime/cli/connect.ts connects the CLI (connectNats sets the identity's inbox prefix).
    lite = await connect({ servers: server.url, user: auth.cli.user, pass: auth.cli.pass, inboxPrefix: subjects.inboxPrefix(auth.cli.user), name: "berth-cli" });
    client = new NatsApiClient(lite as unknown as NatsConnection, { timeoutMs: 5_000 });
    expect(lite.wireKind).toBe("handle");
  });
  afterAll(async () => {
    await lite?.close();
    await apiServer?.stop();
    api?.close();
    await cp?.close().catch(() => {});
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("lite nats - the API client over it creates, gets, lists and reports NotFound as over the full client", async () => {
    await api.create("pods", pod("lite-1"));
    expect((await client.get("pods", "lite-1")).metadata.name).toBe("lite-1");
    const list = await client.list("pods", { namespace: "default", labelSelector: "app=lite" });
    expect(list.items.map((p) => p.metadata.name)).toEqual(["lite-1"]);
    const e = await failure(client.get("pods", "absent"));
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).reason).toBe("NotFound");
    // Many requests in flight on one connection each get their own answer.
    const names = await Promise.all(Array.from({ length: 30 }, () => client.get("pods", "lite-1").then((p) => p.metadata.name)));
    expect(new Set(names)).toEqual(new Set(["lite-1"]));
  });

  it("lite nats - a watch streams events in order with their sequence headers and ends at stop()", async () => {
    const w = await client.watch("pods", { namespace: "default", labelSelector: "app=watched" });
    const seen: WatchEvent<Pod>[] = [];
    const done = (async () => {
      for await (const ev of w) {
        seen.push(ev);
        if (seen.length === 3) w.stop();
      }
    })();
    for (const n of ["w-1", "w-2", "w-3"]) await api.create("pods", { ...pod(n), metadata: { name: n, labels: { app: "watched" } } });
    await done;
    expect(seen.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", "w-1"], ["ADDED", "w-2"], ["ADDED", "w-3"]]);
  });

  // Both connections under the client: one libuv handle (an IP address under Node) and net.Socket
  // (a host name, Deno).
  it.each(["handle", "net"] as const)("lite nats over %s - headers travel both ways, its own and nats-core's; a reply larger than one socket read arrives whole", async (wire) => {
    const open = await startNatsServer();
    const responder = await fullConnect({ servers: open.url });
    const c = await connect({ servers: open.url, ...(wire === "net" ? { wire: "net" as const } : {}) });
    try {
      expect(c.wireKind).toBe(wire);
      const big = "x".repeat(3 * 1024 * 1024);
      responder.subscribe("echo", {
        callback: (_e, m) => {
          const h = fullHeaders();
          h.set("Seen-Timeout", m.headers?.get(REQUEST_TIMEOUT_HEADER) ?? "");
          m.respond(JSON.stringify({ big, got: m.string() }), { headers: h });
        },
      });
      responder.subscribe("silent", { callback: () => {} });
      await responder.flush();
      for (const h of [headers(), fullHeaders()]) {
        h.set(REQUEST_TIMEOUT_HEADER, "1234");
        const reply = await c.request("echo", "ping", { timeout: 5_000, headers: h as ReturnType<typeof headers> });
        expect(reply.headers?.get("Seen-Timeout")).toBe("1234");
        expect(reply.json<{ big: string; got: string }>()).toEqual({ big, got: "ping" });
      }
      // The same through a reply subject of its own (the API client's noMux path).
      const own = await c.request("echo", "own", { timeout: 5_000, noMux: true, reply: createInbox() });
      expect(own.json<{ got: string }>().got).toBe("own");
      expect((await failure(c.request("nobody", "{}", { timeout: 3_000 }))).name).toBe("NoRespondersError");
      expect((await failure(c.request("silent", "{}", { timeout: 200 }))).name).toBe("TimeoutError");
      expect((await failure(c.request("echo", "y".repeat(5 * 1024 * 1024), { timeout: 3_000 }))).message).toMatch(/max_payload/);
      // The connection survives all of the above.
      expect((await c.request("echo", "still", { timeout: 5_000 })).json<{ got: string }>().got).toBe("still");
    } finally {
      await c.close();
      await responder.close();
      await open.stop();
    }
  });

  it("lite nats - refusals arrive under nats-core's names, which the API client maps: permission, wrong password, refused", async () => {
    expect((await failure(lite.request("$KV.berth-state.x", "{}", { timeout: 3_000 }))).name).toBe("PermissionViolationError");
    // Acting as a node is not the CLI's to do: the API client reports it as Forbidden.
    const denied = await failure(new NatsApiClient(lite as unknown as NatsConnection, { node: "node-a", timeoutMs: 3_000 }).get("pods", "lite-1"));
    expect((denied as ApiError).reason).toBe("Forbidden");
    // A refused subscription ends its iteration with the refusal.
    const refused = lite.subscribe("_INBOX.>");
    expect((await failure((async () => { for await (const _ of refused) { /* none */ } })())).name).toBe("PermissionViolationError");
    // The connection survives them.
    expect((await client.get("pods", "lite-1")).metadata.name).toBe("lite-1");
    expect((await failure(connect({ servers: server.url, user: auth.cli.user, pass: "wrong" }))).message).toMatch(/Authorization Violation/);
    expect((await failure(connect({ servers: "nats://127.0.0.1:1" }))).message).toBe("connection refused");
    expect((await failure(connect({ servers: "tls://127.0.0.1:1" }))).message).toMatch(/only nats:\/\//);
  });

  it("lite nats - a server that goes away (reached by host name) fails what is pending and ends subscriptions with an error", async () => {
    const other = await startNatsServer();
    const c = await connect({ servers: other.url.replace("127.0.0.1", "localhost") });
    expect(c.wireKind).toBe("net");
    const sub = c.subscribe("anything");
    const ended = failure((async () => { for await (const _ of sub) { /* none */ } })());
    const responder = await fullConnect({ servers: other.url, maxReconnectAttempts: 0 });
    // Takes the request and never answers it.
    const received = new Promise<void>((resolve) => responder.subscribe("silent", { callback: () => resolve() }));
    await responder.flush();
    const pending = failure(c.request("silent", "{}", { timeout: 30_000 }));
    await received;
    await other.stop();
    await responder.close().catch(() => {});
    expect((await ended).name).toBe("ConnectionError");
    expect(["ConnectionError", "ClosedConnectionError"]).toContain((await pending).name);
    await c.close();
  });
});
