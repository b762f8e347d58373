/**
 * Actors observable over NATS, against a real nats-server with Berth's identities: transitions
 * published (coalesced) on berth.actors.<kind>.<scope>.<id…>, a snapshot of every live actor on
 * request, filters, and a node confined to its own scope by nats-server's permissions.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type WorkLoop, startWorkLoop } from "../../actors/work_loop.ts";
import { ActorPublisher } from "../../runtime/inspect/actor_publisher.ts";
import { listActors, watchActors, type ActorRecord } from "../../runtime/inspect/actor_client.ts";
import { makeNatsAuth, nodeUser, type NatsAuth } from "../../runtime/nats/auth.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { startNatsServer, type NatsServerHandle } from "../../runtime/nats/server.ts";
import { subjects } from "../../runtime/subjects.ts";
import { waitFor } from "../helpers/nats.ts";

/**
 * Waits for the loop to be idle after the pass it is owed, then wakes it and waits for that pass
 * to be done (a wake-up starts the pass once the event-loop turn is over, so "idle" right after
 * `wake()` is still the state before it).
 */
async function onePass(loop: WorkLoop): Promise<void> {
  const idle = () => loop.actor.getSnapshot().value === "idle";
  await waitFor(idle, "idle");
  const done = loop.actor.getSnapshot().context.passes;
  loop.wake();
  await waitFor(() => idle() && loop.actor.getSnapshot().context.passes > done, "the pass");
}

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

  /** Messages on `subject` seen by `nc`; `settle` returns once everything `from` published before it has arrived. */
  function tap(nc: NatsConnection, subject: string, from: NatsConnection, scope: string) {
    const got: ActorRecord[] = [];
    let marks = 0;
    const sub = nc.subscribe(subject, {
      callback: (_e, m) => {
        const r = JSON.parse(new TextDecoder().decode(m.data)) as ActorRecord;
        if (r.id.startsWith("mark-")) marks++;
        else got.push(r);
      },
    });
    return {
      got,
      // Messages from one connection arrive in order: once the mark is here, so is all before it.
      async settle(): Promise<void> {
        await nc.flush();
        const want = marks + 1;
        from.publish(subjects.actor("workloop", scope, `mark-${want}`), new TextEncoder().encode(JSON.stringify({ id: `mark-${want}` })));
        await waitFor(() => marks >= want, "the mark");
      },
      stop: () => sub.unsubscribe(),
    };
  }

  it("unwatched - nothing is published while nobody watches, yet a snapshot reads every actor's state and transitions", async () => {
    const pub = new ActorPublisher(cp, "control-plane", { tickMs: 20 });
    const t = tap(cli, subjects.actorFilter({ scope: "control-plane" }), cp, "control-plane");
    let passes = 0;
    const loop = startWorkLoop("quiet", async () => void passes++, () => {}, { metrics: noMetricsLike, actors: pub });
    for (let i = 0; i < 50; i++) await onePass(loop);
    await waitFor(() => loop.actor.getSnapshot().value === "idle" && passes === 51, "every pass done");
    pub.flush();
    await t.settle();
    expect(t.got).toEqual([]);
    expect(pub.published).toBe(0);
    const [r] = await listActors(cli, { kind: "workloop", scope: "control-plane" }, { stallMs: 200 });
    expect(r).toMatchObject({ id: "quiet", state: "idle", status: "active" });
    // Every pass is two transitions (idle → working → idle), all counted though none was published.
    expect(r.transitions).toBeGreaterThanOrEqual(passes * 2);
    loop.stop();
    await waitFor(() => loop.actor.getSnapshot().status !== "active", "stopped");
    // An actor that ended while nobody watched is forgotten, not kept for a watcher to come.
    expect(pub.snapshot()).toEqual([]);
    t.stop();
    pub.close();
  });

  it("watched - a watcher turns publishing on within a tick (current state first, then transitions with their events); it stops when the lease runs out", async () => {
    const pub = new ActorPublisher(cp, "control-plane", { tickMs: 20 });
    const t = tap(cli, subjects.actorFilter({ scope: "control-plane" }), cp, "control-plane");
    const loop = startWorkLoop("seen", async () => {}, () => {}, { metrics: noMetricsLike, actors: pub });
    for (let i = 0; i < 5; i++) await onePass(loop);
    const before = pub.snapshot()[0].transitions;
    const seen: ActorRecord[] = [];
    const w = watchActors(cli, { kind: "workloop", scope: "control-plane" }, (r) => seen.push(r), { announceMs: 50, ttlMs: 300 });
    // The current state, though the actor has not moved since the watch began.
    const first = await waitFor(() => seen.find((r) => r.id === "seen"), "the current state");
    expect(first).toMatchObject({ state: "idle", transitions: before });
    loop.wake();
    const next = await waitFor(() => seen.find((r) => r.id === "seen" && r.transitions > before && r.state === "idle"), "a transition");
    // The event that ended the pass: the worker's report (actors/work_loop.ts).
    expect(next.event).toBe("PASS_DONE");
    expect(pub.watching("workloop")).toBe(true);
    w.stop();
    await waitFor(() => !pub.watching(), "the lease runs out", 5_000);
    await t.settle();
    const published = t.got.length;
    for (let i = 0; i < 5; i++) await onePass(loop);
    pub.flush();
    await t.settle();
    expect(t.got.length).toBe(published);
    loop.stop();
    t.stop();
    pub.close();
  });

  it("interest - a node hears it under its own identity; another scope's interest or a malformed one leaves it quiet", async () => {
    const nodePub = new ActorPublisher(nodeA, "node-a", { tickMs: 20 });
    const loop = startWorkLoop("default/web-2", async () => {}, () => {}, { metrics: noMetricsLike, actors: nodePub });
    await waitFor(() => loop.actor.getSnapshot().value === "idle", "idle");
    cli.publish(subjects.actorInterest(), new TextEncoder().encode("not json"));
    cli.publish(subjects.actorInterest(), new TextEncoder().encode(JSON.stringify({ id: "x", scope: "a.b", ttlMs: 1000 })));
    const other = watchActors(cli, { scope: "node-b" }, () => {});
    const seen: ActorRecord[] = [];
    const own = watchActors(cli, { scope: "node-a" }, (r) => seen.push(r));
    await waitFor(() => seen.find((r) => r.id === "default/web-2"), "node-a's actor, published by the node");
    // The node's subscription got every announcement above in order: only its own scope's counts.
    expect(nodePub.watchers).toBe(1);
    other.stop();
    own.stop();
    loop.stop();
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
