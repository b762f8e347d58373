/**
 * The API's shared watch hub: many watches of one resource share one JetStream consumer, and a
 * watch resumed from a list's revision sees every later change exactly once, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import type { WatchEvent, Pod } from "../../model/types.ts";

const pod = (name: string, nodeName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "berth/busybox" }] },
});

describe("watch hub", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("watch hub - twenty node-filtered watches share one store consumer and each sees only its node's pods", async () => {
    const jsm = await jetstreamManager(t.nc);
    const consumers = async () => (await jsm.consumers.list("KV_berth-state").next()).length;
    const before = await consumers();
    const watches = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.api.watch("pods", { fieldSelector: `spec.nodeName=hub-node-${i}` })),
    );
    const seen: string[][] = watches.map(() => []);
    const readers = watches.map((w, i) =>
      (async () => {
        for await (const e of w) {
          seen[i].push(`${e.type}:${e.object.metadata.name}`);
          if (seen[i].length === 2) return;
        }
      })()
    );
    for (let i = 0; i < 20; i++) await t.api.create("pods", pod(`hub-${i}`, `hub-node-${i}`));
    for (let i = 0; i < 20; i++) await t.api.delete("pods", `hub-${i}`, "default", { gracePeriodSeconds: 0 });
    await Promise.all(readers);
    for (let i = 0; i < 20; i++) expect(seen[i]).toEqual([`ADDED:hub-${i}`, `DELETED:hub-${i}`]);
    // One hub consumer for pods (plus at most a transient list consumer), not twenty.
    expect((await consumers()) - before).toBeLessThanOrEqual(2);
    for (const w of watches) w.stop();
  });

  it("watch hub - a watch resumed from a list revision sees later changes exactly once and in order", async () => {
    const listed = await t.api.list("pods", { namespace: "default" });
    const early = await t.api.create("pods", pod("order-0"));
    const w = await t.api.watch("pods", { namespace: "default", resourceVersion: listed.metadata.resourceVersion });
    for (let i = 1; i <= 5; i++) await t.api.patch("pods", "order-0", { metadata: { labels: { step: String(i) } } });
    const events: WatchEvent<Pod>[] = [];
    for await (const e of w) {
      events.push(e);
      if (e.object.metadata.labels?.step === "5") break;
    }
    w.stop();
    // The create happened before the watch began but after the list: it must not be lost.
    const revisions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect(revisions[0]).toBeGreaterThanOrEqual(Number(early.metadata.resourceVersion));
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(events.at(-1)!.object.metadata.labels).toEqual({ step: "5" });
    await waitFor(() => true, "noop");
  });
});
