/**
 * A whole-bucket list (what the watch cache loads from) must not lose a write that lands between
 * creating its consumer and reading the stream's last revision. The list's revision then names
 * that write, and the watch that follows starts after it — so a list that skipped the read (the
 * consumer had nothing pending when it was made) loses the object for good. Seen in CI: the API's
 * `default` namespace, created while the cache loaded, was missing from every later list.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvStore } from "../../runtime/store/kv_store.ts";
import { startTestNats, type TestNats } from "../helpers/nats.ts";

const ns = (name: string) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }) as const;

/**
 * Creates the `default` namespace just after the next list has made its consumer (a list asks
 * for the last revision then); returns whether that has happened.
 */
function raceDefaultIntoNextList(store: KvStore): () => boolean {
  const real = store.lastRevision.bind(store);
  let raced = false;
  store.lastRevision = async () => {
    if (!raced) {
      raced = true;
      await store.create("namespaces", ns("default"));
    }
    return real();
  };
  return () => raced;
}

describe("store list racing a write", () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("store - listAll of an empty bucket holds a write made after its consumer exists", async () => {
    const store = await KvStore.open(nats.nc, { bucket: "list-race-empty" });
    const raced = raceDefaultIntoNextList(store);
    const { entries, revision } = await store.listAll();
    expect(raced()).toBe(true);
    expect(entries.map((e) => e.object.metadata.name)).toEqual(["default"]);
    const created = await store.get("namespaces", undefined, "default");
    expect(revision).toBeGreaterThanOrEqual(Number(created.metadata.resourceVersion));
  });

  it("store - listAll of a non-empty bucket holds a write made after its consumer exists", async () => {
    const store = await KvStore.open(nats.nc, { bucket: "list-race-full" });
    await store.create("namespaces", ns("kube-system"));
    raceDefaultIntoNextList(store);
    const { entries } = await store.listAll();
    expect(entries.map((e) => e.object.metadata.name).sort()).toEqual(["default", "kube-system"]);
  });
});
