/**
 * The watch cache: lists are served from memory (no JetStream consumer per list), page over a
 * stable snapshot, follow kube-apiserver's resourceVersion semantics, and expire old snapshots
 * with 410 Expired and a token that continues at the newest revision.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { Api } from "../../runtime/api/api.ts";
import { ExpiredError, fromStatus } from "../../model/errors.ts";
import type { Pod } from "../../model/types.ts";

const pod = (name: string, ns = "default", nodeName?: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "c", image: "berth/busybox" }] },
});

describe("watch cache", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "paged" } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("watch cache - a paged list under concurrent writes returns every object that existed at its snapshot exactly once", async () => {
    const original = new Map<string, string>();
    for (let i = 0; i < 120; i++) {
      const p = await t.api.create("pods", pod(`p-${String(i).padStart(3, "0")}`, "paged"));
      original.set(p.metadata.name, p.metadata.resourceVersion!);
    }
    const seen: Pod[] = [];
    let page = await t.remote.list("pods", { namespace: "paged", limit: 7 });
    const snapshot = Number(page.metadata.resourceVersion);
    let round = 0;
    const gone = new Set<string>();
    for (;;) {
      seen.push(...page.items);
      // Between pages: delete originals not yet listed, create names that sort before and after
      // the cursor, and update originals still ahead.
      const ahead = [...original.keys()].filter((n) => !gone.has(n) && !seen.some((p) => p.metadata.name === n));
      if (ahead.length > 2) {
        await t.api.delete("pods", ahead[ahead.length - 1], "paged", { gracePeriodSeconds: 0 });
        gone.add(ahead[ahead.length - 1]);
        await t.api.patch("pods", ahead[0], { metadata: { labels: { touched: String(round) } } }, { namespace: "paged" });
      }
      await t.api.create("pods", pod(`a-new-${round}`, "paged"));
      await t.api.create("pods", pod(`z-new-${round}`, "paged"));
      round++;
      if (!page.metadata.continue) break;
      page = await t.remote.list("pods", { namespace: "paged", limit: 7, continue: page.metadata.continue });
      expect(page.metadata.resourceVersion).toBe(String(snapshot));
    }
    const names = seen.map((p) => p.metadata.name);
    expect(names).toEqual([...original.keys()]);
    for (const p of seen) {
      expect(p.metadata.resourceVersion).toBe(original.get(p.metadata.name));
      expect(p.metadata.labels?.touched).toBeUndefined();
    }
    // The list consistent at the snapshot, read again exactly there, agrees.
    const exact = await t.api.list("pods", { namespace: "paged", resourceVersion: String(snapshot), resourceVersionMatch: "Exact" });
    expect(exact.items.map((p) => p.metadata.name)).toEqual(names);
    // And the current list has everything written since.
    const now = await t.api.list("pods", { namespace: "paged" });
    expect(now.items.filter((p) => p.metadata.name.startsWith("z-new-")).length).toBe(round);
  });

  it("watch cache - lists and gets of many objects create no JetStream consumers", async () => {
    const jsm = await jetstreamManager(t.nc);
    const consumers = async () => (await jsm.consumers.list("KV_berth-state").next()).length;
    await t.api.list("pods");
    const before = await consumers();
    const storeListsBefore = t.impl.stats.storeLists;
    for (let i = 0; i < 30; i++) {
      await t.api.list("pods", { limit: 1 });
      await t.remote.list("pods", { namespace: "paged", labelSelector: "touched" });
    }
    expect(await consumers()).toBe(before);
    expect(t.impl.stats.storeLists).toBe(storeListsBefore);
  });

  it("watch cache - a list through one API replica sees a write just made through another (consistent read)", async () => {
    const other = await Api.open(t.store, { initialNamespaces: [] });
    try {
      await other.list("pods", { namespace: "default" });
      for (let i = 0; i < 5; i++) {
        const made = await t.api.create("pods", pod(`replica-${i}`));
        const listed = await other.list("pods", { namespace: "default" });
        expect(listed.items.map((p) => p.metadata.name)).toContain(made.metadata.name);
        expect(Number(listed.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(made.metadata.resourceVersion));
      }
    } finally {
      other.close();
    }
  });

  it("watch cache - spec.nodeName and label selectors are evaluated in the cache, with paging", async () => {
    for (let i = 0; i < 6; i++) await t.api.create("pods", pod(`on-node-${i}`, "default", i % 2 ? "cache-node-b" : "cache-node-a"));
    const a = await t.api.list("pods", { fieldSelector: "spec.nodeName=cache-node-a" });
    expect(a.items.map((p) => p.metadata.name)).toEqual(["on-node-0", "on-node-2", "on-node-4"]);
    const first = await t.api.list("pods", { fieldSelector: "spec.nodeName=cache-node-b", limit: 2 });
    expect(first.items.map((p) => p.metadata.name)).toEqual(["on-node-1", "on-node-3"]);
    const rest = await t.api.list("pods", { fieldSelector: "spec.nodeName=cache-node-b", limit: 2, continue: first.metadata.continue });
    expect(rest.items.map((p) => p.metadata.name)).toEqual(["on-node-5"]);
    expect(rest.metadata.continue).toBeUndefined();
  });

  it("watch cache - a continue token older than the window is 410 Expired, with a token that continues at the newest revision", async () => {
    const small = await Api.open(t.store, { watchWindow: 3, initialNamespaces: [] });
    try {
      const first = await small.list("pods", { namespace: "paged", limit: 5 });
      for (let i = 0; i < 6; i++) await t.api.create("pods", pod(`expire-${i}`, "paged"));
      const err = await small.list("pods", { namespace: "paged", limit: 5, continue: first.metadata.continue }).catch((e) => e);
      expect(err).toBeInstanceOf(ExpiredError);
      expect(err.code).toBe(410);
      expect(err.toStatus().reason).toBe("Expired");
      const token = (err as ExpiredError).continueToken!;
      expect(token).toBeTruthy();
      // On the wire (REST or NATS) the Status carries the token, and clients read it back.
      const back = fromStatus(err.toStatus());
      expect(back).toBeInstanceOf(ExpiredError);
      expect((back as ExpiredError).continueToken).toBe(token);
      const next = await small.list("pods", { namespace: "paged", limit: 5, continue: token });
      expect(next.items[0].metadata.name > first.items[4].metadata.name).toBe(true);
      expect(Number(next.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));
    } finally {
      small.close();
    }
  });

  it("watch cache - resourceVersion semantics: 0 is any, an exact old revision shows the old state, bad values are 400", async () => {
    const made = await t.api.create("pods", pod("rv-sem"));
    await t.api.patch("pods", "rv-sem", { metadata: { labels: { v: "2" } } });
    const exact = await t.api.list("pods", { namespace: "default", resourceVersion: made.metadata.resourceVersion, resourceVersionMatch: "Exact", fieldSelector: "metadata.name=rv-sem" });
    expect(exact.items[0].metadata.labels?.v).toBeUndefined();
    const any = await t.api.list("pods", { namespace: "default", resourceVersion: "0", fieldSelector: "metadata.name=rv-sem" });
    expect(any.items.length).toBeLessThanOrEqual(1);
    const newer = await t.api.list("pods", { namespace: "default", resourceVersion: made.metadata.resourceVersion, fieldSelector: "metadata.name=rv-sem" });
    expect(Number(newer.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(made.metadata.resourceVersion));
    await expect(t.api.list("pods", { resourceVersion: "abc" })).rejects.toMatchObject({ code: 400 });
    await expect(t.api.list("pods", { resourceVersionMatch: "Exact" })).rejects.toMatchObject({ code: 400 });
    await expect(t.api.list("pods", { continue: "not-a-token" })).rejects.toMatchObject({ code: 400 });
  });
});
