/**
 * Watch events travel over core NATS, which delivers at most once: an event published while the
 * watcher's connection is being moved (here: reset by the chaos fault proxy between the client
 * and nats-server, as when a server of a cluster dies) is gone. The client must notice — from a
 * gap in the event numbers, or from the keep-alive answer when the lost event was the last one —
 * and end the watch with an error, so that its owner (an informer) watches again from the last
 * resourceVersion instead of missing the change for good.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { FaultProxy } from "../../runtime/chaos/fault_proxy.ts";
import { connectNats, type NatsConnection } from "../../runtime/nats/connection.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { ApiError } from "../../model/errors.ts";
import type { Pod, WatchEvent } from "../../model/types.ts";
import { Informer } from "../../actors/informer_cache.ts";

let t: TestApi;
let proxy: FaultProxy;
let nc: NatsConnection;
let n = 0;

const pod = (name: string) => ({ apiVersion: "v1", kind: "Pod", metadata: { name }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } });

beforeAll(async () => {
  t = await startTestApi();
  const url = new URL(t.natsUrl);
  proxy = await FaultProxy.start({ upstream: { host: url.hostname, port: Number(url.port) } });
  nc = await connectNats({ servers: proxy.url(), name: "watch-gap-client" });
});

afterAll(async () => {
  await nc?.close();
  await proxy?.stop();
  await t?.stop();
});

/** Collects a watch's events and how it ended. */
function collect(w: AsyncIterable<WatchEvent<Pod>>) {
  const seen: string[] = [];
  const state: { error?: unknown; ended: boolean } = { ended: false };
  void (async () => {
    try {
      for await (const ev of w) seen.push(`${ev.type} ${ev.object.metadata.name}`);
    } catch (e) {
      state.error = e;
    } finally {
      state.ended = true;
    }
  })();
  return { seen, state };
}

/** Cuts the client's connection, runs `meanwhile` while it is away, and lets it reconnect. */
async function whileDisconnected(meanwhile: () => Promise<void>) {
  const events: string[] = [];
  void (async () => {
    for await (const s of nc.status()) events.push(s.type);
  })();
  proxy.setMode({ type: "reset" });
  await waitFor(() => events.includes("disconnect"), "the client to see its connection drop", 10_000);
  await meanwhile();
  proxy.heal();
  await waitFor(() => events.includes("reconnect"), "the client to reconnect", 10_000);
}

describe("watch over NATS - events lost in transit", () => {
  it("a lost last event is noticed from the keep-alive answer, and the watch ends with an error", async () => {
    const client = new NatsApiClient(nc, { keepaliveMs: 300 });
    const w = await client.watch("pods", { namespace: "default" });
    const { seen, state } = collect(w);
    const a = `tail-a-${++n}`;
    const b = `tail-b-${n}`;
    await t.api.create("pods", pod(a), "default");
    await waitFor(() => seen.includes(`ADDED ${a}`), "the first event");
    await whileDisconnected(() => t.api.create("pods", pod(b), "default").then(() => {}));
    await waitFor(() => state.ended, "the watch to end", 10_000);
    expect(seen).not.toContain(`ADDED ${b}`);
    expect(state.error).toBeInstanceOf(ApiError);
    expect(String((state.error as Error).message)).toMatch(/lost events in transit \(the server sent 2 events, 1 arrived\)/);
  });

  it("a gap before a later event is noticed at once, without waiting for a keep-alive", async () => {
    const client = new NatsApiClient(nc, { keepaliveMs: 600_000 });
    const w = await client.watch("pods", { namespace: "default" });
    const { seen, state } = collect(w);
    const a = `mid-a-${++n}`;
    const b = `mid-b-${n}`;
    const c = `mid-c-${n}`;
    await t.api.create("pods", pod(a), "default");
    await waitFor(() => seen.includes(`ADDED ${a}`), "the first event");
    await whileDisconnected(() => t.api.create("pods", pod(b), "default").then(() => {}));
    // The reconnected client's subscription must be back on the server before c is published,
    // or c is lost too (and the gap found on the next event instead).
    await nc.flush();
    await t.api.create("pods", pod(c), "default");
    await waitFor(() => state.ended, "the watch to end", 10_000);
    expect(seen).toContain(`ADDED ${a}`);
    expect(seen.filter((e) => e.includes(`-${n}`))).toEqual([`ADDED ${a}`]);
    expect(String((state.error as Error).message)).toMatch(/lost events in transit \(event \d+ never arrived \(next was \d+\)\)/);
  });

  it("an informer over such a watch relists and ends up with every object", async () => {
    const client = new NatsApiClient(nc, { keepaliveMs: 300 });
    const informer = new Informer(client, "pods", { namespace: "default", retryDelayMs: 50 });
    await informer.start();
    // Its watch is running once a new pod shows up in it.
    const a = `inf-a-${++n}`;
    const b = `inf-b-${n}`;
    await t.api.create("pods", pod(a), "default");
    await waitFor(() => informer.list().some((p) => p.metadata.name === a), "the informer's watch to run");
    await whileDisconnected(() => t.api.create("pods", pod(b), "default").then(() => {}));
    await waitFor(() => informer.list().some((p) => p.metadata.name === b), "the informer to have the pod created while its watch was cut off", 15_000);
    await informer.stop();
  });
});
