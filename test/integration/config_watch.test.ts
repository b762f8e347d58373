/**
 * The node's lookup of the ConfigMaps and Secrets its pods reference (runtime/kubelet/config_watch.ts):
 * each object watched once asked for, answered from the watch's copy afterwards — no store read
 * per pod — and current as the object changes. A real API on a private nats-server, reached over
 * NATS as a node agent reaches it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, storeReads, type TestApi, waitFor } from "../helpers/api.ts";
import { WATCH_RETRY_MS, watchedLookup } from "../../runtime/kubelet/config_watch.ts";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import type { ConfigMap } from "../../model/types.ts";

describe("watched ConfigMap/Secret lookup (the kubelet's Watch strategy)", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.stop();
  });

  const cm = (name: string, v: string): ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "default" }, data: { k: v } });

  it("reads each object once, then follows its changes without reading it again", async () => {
    const w = watchedLookup(t.remote);
    try {
      await t.api.create("configmaps", cm("app-config", "one"));
      expect(((await w.lookup("configmaps", "default", "app-config")) as ConfigMap).data).toEqual({ k: "one" });
      expect(w.watched).toBe(1);
      // A hundred pods starting with the same reference: not one store read.
      const reads = await storeReads(t.store, async () => {
        for (let i = 0; i < 100; i++) expect(((await w.lookup("configmaps", "default", "app-config")) as ConfigMap).data).toEqual({ k: "one" });
      });
      expect(reads).toBe(0);

      await t.api.update("configmaps", cm("app-config", "two"));
      await waitFor(async () => ((await w.lookup("configmaps", "default", "app-config")) as ConfigMap).data?.k === "two", "the update seen");
      await t.api.delete("configmaps", "app-config", "default");
      await waitFor(async () => (await w.lookup("configmaps", "default", "app-config")) === null, "the delete seen");
    } finally {
      await w.stop();
    }
  });

  it("answers null for an object that does not exist, and sees it once it is created", async () => {
    const w = watchedLookup(t.remote);
    try {
      expect(await w.lookup("secrets", "default", "later")).toBeNull();
      await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "later", namespace: "default" }, data: { p: "eA==" } });
      await waitFor(async () => (await w.lookup("secrets", "default", "later")) !== null, "the create seen");
      // A same-named object in another namespace is another watch, and not this one.
      expect(await w.lookup("secrets", "other", "later")).toBeNull();
      expect(w.watched).toBe(2);
    } finally {
      await w.stop();
    }
  });

  it("stops a watch nobody asked through for its idle time, and starts it again when asked", async () => {
    let now = 0;
    const w = watchedLookup(t.remote, { idleMs: 1_000, sweepMs: 20, now: () => now });
    try {
      await t.api.create("configmaps", cm("idle", "x"));
      expect(await w.lookup("configmaps", "default", "idle")).not.toBeNull();
      expect(w.watched).toBe(1);
      now = 2_000;
      await waitFor(() => w.watched === 0, "the idle watch stopped");
      expect(((await w.lookup("configmaps", "default", "idle")) as ConfigMap).data).toEqual({ k: "x" });
      expect(w.watched).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("reads the API directly once stopped", async () => {
    const w = watchedLookup(t.remote);
    await w.stop();
    await t.api.create("configmaps", cm("after-stop", "y"));
    const reads = await storeReads(t.store, async () => {
      expect(((await w.lookup("configmaps", "default", "after-stop")) as ConfigMap).data).toEqual({ k: "y" });
    });
    expect(reads).toBeGreaterThan(0);
    expect(w.watched).toBe(0);
  });

  it("reads directly, without asking again for a while, when the watch is refused (a node's watches are capped)", async () => {
    let now = 0;
    const asked = { list: 0, get: 0 };
    const refusing = {
      list: async () => {
        asked.list++;
        throw new ApiError("TooManyRequests", 'node "n1" has too many open watches (64)');
      },
      get: async () => {
        asked.get++;
        return cm("capped", "z");
      },
    } as unknown as ApiClient;
    const w = watchedLookup(refusing, { now: () => now });
    try {
      for (let i = 0; i < 3; i++) expect(((await w.lookup("configmaps", "default", "capped")) as ConfigMap).data).toEqual({ k: "z" });
      expect(asked).toEqual({ list: 1, get: 3 });
      expect(w.watched).toBe(0);
      now = WATCH_RETRY_MS + 1;
      await w.lookup("configmaps", "default", "capped");
      expect(asked).toEqual({ list: 2, get: 4 });
    } finally {
      await w.stop();
    }
  });
});
