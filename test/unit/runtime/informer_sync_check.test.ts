import { describe, expect, it } from "vitest";
import { waitFor } from "../../helpers/nats.ts";
import { FakeApi } from "../../helpers/http_fake_api.ts";
import type { ApiClient } from "../../../model/client.ts";
import { Informer } from "../../../actors/informer_cache.ts";
import { type ControlPlane, informerSyncCheck } from "../../../runtime/control_plane.ts";

describe("readiness of the control loops (informer-sync)", () => {
  it("an informer whose watch broke and whose relists fail reports how long it has been stale, and 0 once a relist works", async () => {
    const api = new FakeApi();
    let broken = false;
    const flaky = new Proxy(api as ApiClient, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown;
        if (prop === "list") return (...a: unknown[]) => (broken ? Promise.reject(new Error("store unreachable")) : v.apply(target, a));
        if (prop === "watch") {
          return async (...a: unknown[]) => {
            if (broken) throw new Error("store unreachable");
            const w = (await v.apply(target, a)) as AsyncIterable<unknown> & { stop(): void };
            return {
              stop: () => w.stop(),
              async *[Symbol.asyncIterator]() {
                for await (const ev of w) {
                  if (broken) throw new Error("watch broke");
                  yield ev;
                }
              },
            };
          };
        }
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const informer = new Informer(flaky, "nodes", { retryDelayMs: 20 });
    await informer.start();
    expect(informer.staleFor()).toBe(0);
    broken = true;
    await api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: {} });
    await waitFor(() => informer.staleFor() > 0, "stale");
    const cp = { informers: { nodes: informer } } as unknown as ControlPlane;
    expect(() => informerSyncCheck(() => cp).check()).not.toThrow(); // under 10 s: a blip, not unready
    expect(informer.staleFor(Date.now() + 11_000)).toBeGreaterThan(10_000);
    broken = false;
    await waitFor(() => informer.staleFor() === 0, "current again");
    await informer.stop();
  });

  it("fails while an informer has not synced or has been out of touch for over 10 s, and passes with no loops (standby)", () => {
    const inf = (o: { synced: boolean; stale: number }) => ({ resource: "pods", synced: o.synced, staleFor: () => o.stale });
    const check = (i: ReturnType<typeof inf>) => informerSyncCheck(() => ({ informers: { pods: i } }) as unknown as ControlPlane).check();
    expect(() => check(inf({ synced: false, stale: 0 }))).toThrow(/pods informer has not synced/);
    expect(() => check(inf({ synced: true, stale: 12_000 }))).toThrow(/out of touch for 12 s/);
    expect(() => check(inf({ synced: true, stale: 0 }))).not.toThrow();
    expect(() => informerSyncCheck(() => undefined).check()).not.toThrow();
  });
});
