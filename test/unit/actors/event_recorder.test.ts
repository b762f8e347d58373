import { describe, expect, it } from "vitest";
import { FakeApi } from "../../helpers/http_fake_api.ts";
import type { ApiClient } from "../../../model/client.ts";
import type { Event } from "../../../model/types.ts";
import { pod, rc } from "../../helpers/control_plane_fixtures.ts";
import { AGGREGATE_PREFIX, CORRELATOR, createEventRecorder } from "../../../actors/event_recorder.ts";

async function events(api: ApiClient): Promise<Event[]> {
  return (await api.list("events", { namespace: "default" })).items;
}

/** A FakeApi that also counts reads, and can hold creates back to let later writes overtake them. */
function countingApi(createDelayMs = 0) {
  const api = new FakeApi();
  let gets = 0;
  const get = api.get.bind(api);
  api.get = ((...a: Parameters<FakeApi["get"]>) => (gets++, get(...a))) as FakeApi["get"];
  if (createDelayMs > 0) {
    const create = api.create.bind(api);
    api.create = ((...a: Parameters<FakeApi["create"]>) => new Promise((r) => setTimeout(r, createDelayMs)).then(() => create(...a))) as FakeApi["create"];
  }
  return { api, gets: () => gets, writes: () => api.calls.filter((c) => c.method === "create" || c.method === "update") };
}

describe("event recorder", () => {
  it("writes an Event about the object, with source component and host", async () => {
    const api: ApiClient = new FakeApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { host: "node-1" });
    const p = pod("web-1", { node: "node-1" });
    r.record(p, "Normal", "Started", "Started container app");
    await r.flush();
    const [ev] = await events(api);
    expect(ev).toMatchObject({
      reason: "Started",
      type: "Normal",
      count: 1,
      involvedObject: { kind: "Pod", name: "web-1", uid: p.metadata.uid },
      source: { component: "kubelet", host: "node-1" },
      reportingComponent: "kubelet",
      reportingInstance: "node-1",
    });
  });

  it("a repeat bumps the count of the Event already written, from the copy it wrote (no read)", async () => {
    const { api, gets, writes } = countingApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { host: "node-1", concurrency: 1 });
    const p = pod("web-1");
    for (let i = 0; i < 3; i++) r.record(p, "Warning", "BackOff", "Back-off restarting failed container");
    r.record(p, "Normal", "Pulled", "already present");
    await r.flush();
    const items = await events(api);
    expect(items.map((e) => [e.reason, e.count]).sort()).toEqual([["BackOff", 3], ["Pulled", 1]]);
    const backOff = items.find((e) => e.reason === "BackOff")!;
    expect(backOff.lastTimestamp! >= backOff.firstTimestamp!).toBe(true);
    expect(writes().map((c) => c.method)).toEqual(["create", "update", "update", "create"]);
    expect(gets()).toBe(0);
  });

  it("similar events (one reason, many messages) are combined from the tenth on, and a source's events about one object stop at the burst of 25", async () => {
    const t = 1_000_000;
    // Creates are slow, so with 8 writes in flight a count update would overtake its create if
    // the writes of one Event were not kept in order.
    const { api, writes } = countingApi(20);
    const r = createEventRecorder(api, "berth-controller-manager", () => {}, { concurrency: 8, now: () => t });
    const owner = rc("web", 30);
    for (let i = 1; i <= 30; i++) r.record(owner, "Normal", "SuccessfulCreate", `Created pod: web-${i}`);
    await r.flush();
    const items = await events(api);
    const single = items.filter((e) => !e.message!.startsWith(AGGREGATE_PREFIX));
    const combined = items.filter((e) => e.message!.startsWith(AGGREGATE_PREFIX));
    // Nine distinct messages pass as they are (client-go combines at the tenth).
    expect(single.map((e) => e.message).sort()).toEqual(Array.from({ length: 9 }, (_, i) => `Created pod: web-${i + 1}`).sort());
    expect(combined).toHaveLength(1);
    // Events 10..25 are the combined Event (25 = the burst); 26..30 are filtered.
    expect(combined[0]).toMatchObject({ count: 16, message: `${AGGREGATE_PREFIX}Created pod: web-25`, reason: "SuccessfulCreate" });
    expect(r.filtered).toBe(5);
    expect(writes()).toHaveLength(CORRELATOR.spamBurst);
    // The combined Event was created before any of its updates, and its counts only rose.
    const mine = writes().filter((c) => (c.args[1] as Event).message?.startsWith(AGGREGATE_PREFIX));
    expect(mine[0].method).toBe("create");
    const counts = mine.map((c) => (c.args[1] as Event).count ?? 1);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it("the spam filter lets one more event through every 5 minutes, counted with the ones it held back", async () => {
    let t = 1_000_000;
    const api = new FakeApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { host: "n1", concurrency: 1, now: () => t });
    const p = pod("crash");
    for (let i = 0; i < 40; i++) r.record(p, "Warning", "BackOff", "Back-off restarting failed container");
    await r.flush();
    expect((await events(api))[0].count).toBe(25);
    expect(r.filtered).toBe(15);
    r.record(p, "Warning", "BackOff", "Back-off restarting failed container");
    await r.flush();
    expect(r.filtered).toBe(16);
    t += 300_000;
    r.record(p, "Warning", "BackOff", "Back-off restarting failed container");
    await r.flush();
    // The Event shows every occurrence, including those the filter did not write.
    expect((await events(api))[0].count).toBe(42);
    // Another object of the same source has its own budget.
    r.record(pod("other"), "Warning", "BackOff", "Back-off restarting failed container");
    await r.flush();
    expect(r.filtered).toBe(16);
  });

  it("similar events more than 10 minutes apart are no longer combined", async () => {
    let t = 1_000_000;
    const api = new FakeApi();
    const r = createEventRecorder(api, "c", () => {}, { concurrency: 1, now: () => t });
    const owner = rc("web", 1);
    for (let i = 1; i <= 10; i++) r.record(owner, "Normal", "SuccessfulCreate", `Created pod: a${i}`);
    t += CORRELATOR.aggregateIntervalMs + 1;
    r.record(owner, "Normal", "SuccessfulCreate", "Created pod: late");
    await r.flush();
    const messages = (await events(api)).map((e) => e.message);
    expect(messages).toContain("Created pod: late");
    expect(messages.filter((m) => m!.startsWith(AGGREGATE_PREFIX))).toHaveLength(1);
  });

  it("a count update that finds its Event gone writes it afresh with the count", async () => {
    const api = new FakeApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { concurrency: 1 });
    const p = pod("web-1");
    r.record(p, "Warning", "BackOff", "m");
    await r.flush();
    const [first] = await events(api);
    await api.delete("events", first.metadata.name, "default");
    r.record(p, "Warning", "BackOff", "m");
    await r.flush();
    const after = await events(api);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ count: 2, metadata: { name: first.metadata.name } });
  });

  it("when more than maxQueued wait, drops and counts instead of blocking", async () => {
    const api: ApiClient = new FakeApi();
    const r = createEventRecorder(api, "c", () => {}, { concurrency: 1, maxQueued: 2 });
    // Ten objects: neither combined nor filtered, only queued.
    for (let i = 0; i < 10; i++) r.record(pod(`x${i}`), "Normal", "Scheduled", `n${i}`);
    await r.flush();
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.filtered).toBe(0);
    expect((await events(api)).length).toBe(10 - r.dropped);
  });

  it("never throws into the caller when the API refuses an event; it logs", async () => {
    const api: ApiClient = new FakeApi();
    const logs: string[] = [];
    api.create = () => Promise.reject(new Error("store down"));
    const r = createEventRecorder(api, "c", (m, f) => logs.push(`${m} ${String(f?.error)}`));
    r.record(pod("x"), "Normal", "R", "m");
    await r.flush();
    expect(logs.join()).toContain("store down");
  });
});
