import { describe, expect, it } from "vitest";
import type { ApiClient, Watch } from "../../../../model/client.ts";
import { GoneError } from "../../../../model/errors.ts";
import type { AnyObject, Pod, WatchEvent } from "../../../../model/types.ts";
import { runFeed } from "../../../../runtime/ui/feed.ts";
import { VIEW_KINDS, type FeedMessage } from "../../../../runtime/ui/view.ts";
import { waitFor } from "../../../helpers/nats.ts";

const pod = (name: string, phase: "Pending" | "Running" = "Pending", rv = "1"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", resourceVersion: rv },
  spec: { containers: [{ name: "c", image: "i" }] },
  status: { phase },
});

/** A fake API: lists what `objects` holds; each watch is a queue the test pushes into (or fails). */
function fakeApi(objects: Record<string, AnyObject[]>) {
  const watches: { resource: string; push(ev: WatchEvent | Error): void; rv?: string }[] = [];
  const lists: string[] = [];
  const api = {
    async list(resource: string) {
      lists.push(resource);
      return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: "10" }, items: objects[resource] ?? [] };
    },
    async watch(resource: string, opts: { resourceVersion?: string }): Promise<Watch> {
      const queue: (WatchEvent | Error)[] = [];
      let wake: (() => void) | undefined;
      let stopped = false;
      watches.push({ resource, rv: opts.resourceVersion, push: (ev) => (queue.push(ev), wake?.()) });
      return {
        stop() {
          stopped = true;
          wake?.();
        },
        async *[Symbol.asyncIterator]() {
          while (!stopped) {
            const ev = queue.shift();
            if (ev instanceof Error) throw ev;
            if (ev) yield ev;
            else await new Promise<void>((r) => (wake = r));
          }
        },
      };
    },
  } as unknown as ApiClient;
  return { api, watches, lists };
}

describe("ui feed", () => {
  it("sends a snapshot, then one coalesced change per object however often it changed", async () => {
    const { api, watches } = fakeApi({ pods: [pod("a"), pod("b")] });
    const sent: FeedMessage[] = [];
    const stop = new AbortController();
    const done = runFeed({ api, send: (m) => sent.push(m), canSend: () => true, signal: stop.signal, flushMs: 50 });
    await waitFor(() => watches.length === VIEW_KINDS.length, "a watch of every drawn kind");
    expect(sent[0].type).toBe("snapshot");
    if (sent[0].type !== "snapshot") throw new Error();
    expect(sent[0].items.pods.map((p) => p.name)).toEqual(["a", "b"]);
    expect(watches.every((w) => w.rv === "10")).toBe(true);
    const pw = watches.find((w) => w.resource === "pods")!;
    for (let i = 0; i < 5; i++) pw.push({ type: "MODIFIED", object: pod("a", i === 4 ? "Running" : "Pending", String(11 + i)) });
    pw.push({ type: "DELETED", object: pod("b") });
    const changes = await waitFor(() => sent.find((m) => m.type === "changes"), "a changes message");
    if (changes.type !== "changes") throw new Error();
    expect(changes.changes).toHaveLength(2);
    expect(changes.changes).toContainEqual(expect.objectContaining({ kind: "pods", op: "put", key: "default/a", obj: expect.objectContaining({ phase: "Running" }) }));
    expect(changes.changes).toContainEqual({ kind: "pods", op: "del", key: "default/b" });
    stop.abort();
    await done;
  });

  it("sends the pods before the event history, which follows as a relist", async () => {
    const ev = { apiVersion: "v1", kind: "Event", metadata: { name: "e1", namespace: "default" }, involvedObject: { kind: "Pod", name: "a" }, reason: "Started" } as AnyObject;
    const { api, watches } = fakeApi({ pods: [pod("a")], events: [ev] });
    const sent: FeedMessage[] = [];
    const stop = new AbortController();
    const done = runFeed({ api, send: (m) => sent.push(m), canSend: () => true, signal: stop.signal, flushMs: 50 });
    await waitFor(() => watches.length === VIEW_KINDS.length, "a watch of every drawn kind");
    expect(sent[0]).toMatchObject({ type: "snapshot", items: { events: [] } });
    expect(sent[1]).toMatchObject({ type: "relist", kind: "events", items: [{ name: "e1", reason: "Started", object: "Pod/a" }] });
    stop.abort();
    await done;
  });

  it("holds changes while the transport is backed up, still coalescing", async () => {
    const { api, watches } = fakeApi({ pods: [pod("a")] });
    const sent: FeedMessage[] = [];
    let open = false;
    const stop = new AbortController();
    const done = runFeed({ api, send: (m) => sent.push(m), canSend: () => open, signal: stop.signal, flushMs: 20 });
    await waitFor(() => watches.length === VIEW_KINDS.length, "a watch of every drawn kind");
    const pw = watches.find((w) => w.resource === "pods")!;
    pw.push({ type: "MODIFIED", object: pod("a", "Pending", "11") });
    await new Promise((r) => setTimeout(r, 100)); // several flush intervals pass with the transport closed
    expect(sent.filter((m) => m.type === "changes")).toHaveLength(0);
    pw.push({ type: "MODIFIED", object: pod("a", "Running", "12") });
    open = true;
    const changes = await waitFor(() => sent.find((m) => m.type === "changes"), "a changes message");
    if (changes.type !== "changes") throw new Error();
    expect(changes.changes).toEqual([expect.objectContaining({ key: "default/a", obj: expect.objectContaining({ phase: "Running" }) })]);
    stop.abort();
    await done;
  });

  it("relists a kind whose watch fails with 410 Gone, and watches again from the new list", async () => {
    const objects: Record<string, AnyObject[]> = { pods: [pod("a")] };
    const { api, watches, lists } = fakeApi(objects);
    const sent: FeedMessage[] = [];
    const stop = new AbortController();
    const done = runFeed({ api, send: (m) => sent.push(m), canSend: () => true, signal: stop.signal, flushMs: 20 });
    await waitFor(() => watches.length === VIEW_KINDS.length, "a watch of every drawn kind");
    objects.pods = [pod("c", "Running")];
    watches.find((w) => w.resource === "pods")!.push(new GoneError());
    const relist = await waitFor(() => sent.find((m) => m.type === "relist" && m.kind === "pods"), "a relist of pods");
    if (relist.type !== "relist") throw new Error();
    expect(relist.kind).toBe("pods");
    expect(relist.items.map((p) => (p as { name: string }).name)).toEqual(["c"]);
    expect(lists.filter((l) => l === "pods")).toHaveLength(2);
    await waitFor(() => watches.filter((w) => w.resource === "pods").length === 2, "a second pod watch");
    stop.abort();
    await done;
  });
});
