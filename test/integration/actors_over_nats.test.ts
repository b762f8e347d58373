/**
 * Actors observable over NATS, against a real nats-server with Berth's identities: transitions
 * published (coalesced) on berth.actors.<kind>.<scope>.<id…>, a snapshot of every live actor on
 * request, filters, and a node confined to its own scope by nats-server's permissions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkLoop } from "../../actors/work_loop.ts";
import { ActorPublisher } from "../../runtime/inspect/actor_publisher.ts";
import { listActors, watchActors, type ActorRecord } from "../../runtime/inspect/actor_client.ts";
import { makeNatsAuth, nodeUser, type NatsAuth } from "../../runtime/nats/auth.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { subjects } from "../../runtime/subjects.ts";
import { waitFor } from "../helpers/nats.ts";

describe("actors over NATS", () => {
  let server: NatsServerHandle;
  let auth: NatsAuth;
  let cp: NatsConnection, nodeA: NatsConnection, cli: NatsConnection;

  beforeAll(async () => {
    auth = makeNatsAuth({ nodeNames: ["node-a", "node-b"] });
    server = await startNatsServer({ authorization: auth.serverConfig });
    const as = (user: string, pass: string) => connectNats({ servers: server.url, name: user, user, pass, inboxPrefix: subjects.inboxPrefix(user) });
    cp = await as(auth.controlPlane.user, auth.controlPlane.pass);
    nodeA = await as(nodeUser("node-a"), auth.node("node-a").pass);
    cli = await as(auth.cli.user, auth.cli.pass);
  });
  afterAll(async () => {
    for (const nc of [cp, nodeA, cli]) await nc?.close().catch(() => {});
    await server?.stop();
  });

  it("subjects - kind, scope, then the id's parts, escaped so a dot in a name adds no token", () => {
    expect(subjects.actor("pod", "node-1", "default/web-1")).toBe("berth.actors.pod.node-1.default.web-1");
    expect(subjects.actor("pod", "node-1", "default/web.v2")).toBe("berth.actors.pod.node-1.default.web_2ev2");
    expect(subjects.actorFilter({ scope: "node-1" })).toBe("berth.actors.*.node-1.>");
    expect(() => subjects.actor("pod", "a.b", "x")).toThrow(/invalid actor scope/);
  });

  it("transitions - a burst is coalesced into few messages ending in the newest state; the loop's work is never held up", async () => {
    const pub = new ActorPublisher(cp, "control-plane", { tickMs: 50 });
    const seen: ActorRecord[] = [];
    const w = watchActors(cli, { kind: "workloop", scope: "control-plane" }, (r) => seen.push(r));
    await cli.flush();
    let passes = 0;
    const loop = startWorkLoop("burst", async () => {
      passes++;
    }, () => {}, { metrics: { counter: () => ({ inc() {} }), gauge: () => ({ inc() {}, dec() {}, set() {} }), histogram: () => ({ observe() {} }) }, actors: pub });
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "first pass");
    for (let i = 0; i < 200; i++) {
      loop.wake();
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "burst done");
    const last = await waitFor(() => {
      const r = seen.at(-1);
      return r && r.state === "idle" && r.transitions >= passes * 2 ? r : undefined;
    }, "the newest state published");
    expect(last.id).toBe("burst");
    // Hundreds of transitions, a handful of messages.
    expect(seen.length).toBeLessThan(last.transitions / 4);
    loop.stop();
    await waitFor(() => seen.at(-1)?.status === "done", "the final state published");
    w.stop();
    pub.close();
  });

  it("snapshot - every live actor of every process answers one request, with a filter", async () => {
    const cpPub = new ActorPublisher(cp, "control-plane", { tickMs: 20 });
    const nodePub = new ActorPublisher(nodeA, "node-a", { tickMs: 20 });
    const a = startWorkLoop("scheduler", async () => {}, () => {}, { metrics: noMetricsLike, actors: cpPub });
    const b = startWorkLoop("default/web-1", async () => {}, () => {}, { metrics: noMetricsLike, actors: nodePub });
    await waitFor(() => a.actor.getSnapshot().value === "idle" && b.actor.getSnapshot().value === "idle", "both idle");
    const all = await listActors(cli, {}, { stallMs: 200 });
    expect(all.map((r) => `${r.scope}/${r.kind}/${r.id}`)).toEqual(["control-plane/workloop/scheduler", "node-a/workloop/default/web-1"]);
    expect(all.every((r) => r.state === "idle" && r.status === "active")).toBe(true);
    const onlyA = await listActors(cli, { scope: "node-a" }, { stallMs: 200 });
    expect(onlyA.map((r) => r.id)).toEqual(["default/web-1"]);
    a.stop();
    b.stop();
    cpPub.close();
    nodePub.close();
  });

  it("permissions - a node publishes actors under its own scope only; under another's nats-server drops them", async () => {
    const seen: string[] = [];
    // Only this test's subjects: the previous test's actors may still publish their last state.
    const sub = cp.subscribe(subjects.actorFilter(), { callback: (_e, m) => void (/\.default\.(forged|own)$/.test(m.subject) && seen.push(m.subject)) });
    await cp.flush();
    nodeA.publish(subjects.actor("pod", "node-b", "default/forged"), new Uint8Array());
    nodeA.publish(subjects.actor("pod", "control-plane", "default/forged"), new Uint8Array());
    nodeA.publish(subjects.actor("pod", "node-a", "default/own"), new Uint8Array());
    await waitFor(() => seen.includes("berth.actors.pod.node-a.default.own"), "its own actor's message");
    // Messages from one connection arrive in order: the forged ones would have come first.
    expect(seen).toEqual(["berth.actors.pod.node-a.default.own"]);
    sub.unsubscribe();
  });
});

const noop = { inc() {}, dec() {}, set() {}, observe() {} };
const noMetricsLike = { counter: () => noop, gauge: () => noop, histogram: () => noop };
