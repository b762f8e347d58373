import { describe, expect, it } from "vitest";
import { FakeApi } from "../../helpers/http_fake_api.ts";
import type { ApiClient } from "../../../model/client.ts";
import { pod } from "../../helpers/control_plane_fixtures.ts";
import { createEventRecorder } from "../../../actors/event_recorder.ts";

describe("event recorder", () => {
  it("writes an Event about the object, with source component and host", async () => {
    const api: ApiClient = new FakeApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { host: "node-1" });
    const p = pod("web-1", { node: "node-1" });
    r.record(p, "Normal", "Started", "Started container app");
    await r.flush();
    const [ev] = (await api.list("events", { namespace: "default" })).items;
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

  it("with correlate, a repeat bumps the count of the Event already written instead of creating another", async () => {
    const api: ApiClient = new FakeApi();
    const r = createEventRecorder(api, "kubelet", () => {}, { host: "node-1", concurrency: 1, correlate: true });
    const p = pod("web-1");
    for (let i = 0; i < 3; i++) r.record(p, "Warning", "BackOff", "Back-off restarting failed container");
    r.record(p, "Normal", "Pulled", "already present");
    await r.flush();
    const items = (await api.list("events", { namespace: "default" })).items;
    expect(items.map((e) => [e.reason, e.count]).sort()).toEqual([["BackOff", 3], ["Pulled", 1]]);
  });

  it("without correlate, and when more than maxQueued wait, drops and counts instead of blocking", async () => {
    const api: ApiClient = new FakeApi();
    const r = createEventRecorder(api, "c", () => {}, { concurrency: 1, maxQueued: 2 });
    const p = pod("x");
    for (let i = 0; i < 10; i++) r.record(p, "Normal", "SuccessfulCreate", `n${i}`);
    await r.flush();
    expect(r.dropped).toBeGreaterThan(0);
    expect((await api.list("events", { namespace: "default" })).items.length).toBe(10 - r.dropped);
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
