/**
 * The real node agent confined to its own NATS identity: registered, heartbeating, running a
 * pod to Running, recording events and finishing a graceful deletion, all through
 * `berth.node.<node>.api.v1.*` on a nats-server that enforces the node's permissions — and
 * never once refused (every write it makes is one the node authorizer allows).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/transport-node";
import { Api } from "../../runtime/api/api.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { serveApiOverNats, type NatsApiServer } from "../../runtime/api/nats_server.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { makeNatsAuth, type NatsAuth } from "../../runtime/nats/auth.ts";
import { connectNats } from "../../runtime/nats/connection.ts";
import { execInPod, podLogProvider, podLogStream, serveNodeServices } from "../../runtime/kubelet/node_services.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { subjects } from "../../runtime/subjects.ts";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { waitFor } from "../helpers/nats.ts";

describe("node agent under its own NATS identity", () => {
  let server: NatsServerHandle;
  let cp: NatsConnection;
  let nodeConn: NatsConnection;
  let api: Api;
  let apiServer: NatsApiServer;
  let agent: NodeAgent;
  let auth: NatsAuth;
  const logs: string[] = [];

  beforeAll(async () => {
    auth = makeNatsAuth({ nodeNames: ["node-a"] });
    server = await startNatsServer({ authorization: auth.serverConfig });
    cp = await connectNats({ servers: server.url, ...auth.controlPlane });
    api = await Api.open(await KvStore.open(cp));
    apiServer = serveApiOverNats(cp, api);
    await apiServer.ready;
    const creds = auth.node("node-a");
    nodeConn = await connectNats({ servers: server.url, user: creds.user, pass: creds.pass });
    agent = await startNodeAgent({
      client: new NatsApiClient(nodeConn, { node: "node-a" }),
      runtime: new HollowRuntime(),
      name: "node-a",
      heartbeatIntervalMs: 300,
      resyncMs: 300,
      log: (msg, fields) => logs.push(`${msg} ${JSON.stringify(fields ?? {})}`),
    });
  });
  afterAll(async () => {
    await agent?.stop();
    await apiServer?.stop();
    await nodeConn?.close();
    await cp?.close();
    await server?.stop();
  });

  it("node agent - registers, runs a pod, records events and finishes its deletion without a single refusal", async () => {
    await waitFor(async () => (await api.get("nodes", "node-a").catch(() => undefined))?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"), "node-a Ready");
    await api.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "confined", namespace: "default" },
      spec: { nodeName: "node-a", terminationGracePeriodSeconds: 1, containers: [{ name: "c", image: "berth/busybox", ports: [{ containerPort: 80 }] }] },
    });
    await waitFor(async () => (await api.get("pods", "confined")).status?.phase === "Running", "pod Running", 15_000);
    await waitFor(async () => (await api.list("events", { namespace: "default" })).items.some((e) => (e as { source?: { host?: string } }).source?.host === "node-a"), "an event from node-a");
    await api.delete("pods", "confined");
    await waitFor(async () => !(await api.get("pods", "confined").catch(() => undefined)), "pod deleted by its node", 15_000);
    expect(logs.filter((l) => /Forbidden|403|Permission/i.test(l))).toEqual([]);
    // Its own pods, the services its pods' environment variables come from, the
    // PersistentVolumeClaims (their mounts, and the reclaim of its claims' volumes), and the one
    // ConfigMap its pod references (`kube-root-ca.crt`, for the token volume), watched by name.
    expect(apiServer.watchCountOf("node-a")).toBe(4);
  });

  it("node services - logs and exec work end to end for the CLI and the REST proxy, with no identity reading another's inbox", async () => {
    const services = serveNodeServices(nodeConn, { nodeName: "node-a", runtime: agent.runtime, client: new NatsApiClient(nodeConn, { node: "node-a" }) });
    const cliConn = await connectNats({ servers: server.url, ...auth.cli });
    try {
      expect(subjects.inboxPrefix("berth-cli")).toBe((cliConn as unknown as { options: { inboxPrefix?: string } }).options.inboxPrefix);
      await api.create("pods", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "talky", namespace: "default" },
        spec: { nodeName: "node-a", containers: [{ name: "c", image: "berth/busybox" }] },
      });
      await waitFor(async () => (await api.get("pods", "talky")).status?.phase === "Running", "pod Running", 15_000);
      const cli = new NatsApiClient(cliConn);
      let text = "";
      for await (const c of podLogStream(cliConn, cli, { pod: "talky" })) text += new TextDecoder().decode(c.data);
      expect(text).toContain("started c");
      const r = await execInPod(cliConn, cli, { pod: "talky", command: ["echo", "hi"] });
      expect(r).toMatchObject({ exitCode: 0, stdout: "hollow exec: echo hi\n" });
      // The REST API's log source runs on the control plane's connection.
      let rest = "";
      for await (const c of await podLogProvider(cp, api)({ namespace: "default", pod: "talky", container: "c", follow: false, signal: new AbortController().signal })) {
        rest += typeof c === "string" ? c : new TextDecoder().decode(c);
      }
      expect(rest).toContain("started c");
      // A bad stream id is a clear 400, not a crash.
      const bad = (await cliConn.request(subjects.node("node-a", "logs"), JSON.stringify({ pod: "talky", streamId: "x.y" }), { timeout: 5_000 })).json<{ code?: number; message?: string }>();
      expect(bad.code).toBe(400);
      expect(bad.message).toMatch(/streamId/);
    } finally {
      services.stop();
      await cliConn.close();
    }
  });
});
