/**
 * Store hygiene: a bucket with a size limit refuses writes beyond it with a clear error, and
 * what is stored stays readable and intact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KvStore, StoreFullError } from "../../runtime/store/kv_store.ts";
import { Api } from "../../runtime/api/api.ts";
import { startTestNats, type TestNats } from "../helpers/nats.ts";

describe("store limits", () => {
  let nats: TestNats;
  beforeAll(async () => {
    nats = await startTestNats();
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("store limits - a full bucket refuses a create with StoreFullError saying so, and every stored object stays readable", async () => {
    const store = await KvStore.open(nats.nc, { bucket: "small-state", maxBytes: 64 * 1024 });
    const api = await Api.open(store);
    try {
      const made: string[] = [];
      let refused: unknown;
      for (let i = 0; i < 1_000 && !refused; i++) {
        try {
          const p = await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: `fill-${i}`, annotations: { pad: "x".repeat(1_000) } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } });
          made.push(p.metadata.name);
        } catch (e) {
          refused = e;
        }
      }
      expect(refused).toBeInstanceOf(StoreFullError);
      expect(String((refused as Error).message)).toMatch(/object store is full.*size limit/);
      expect(made.length).toBeGreaterThan(10);
      const listed = await api.list("pods", { namespace: "default" });
      expect(listed.items.map((p) => p.metadata.name).sort()).toEqual([...made].sort());
      for (const n of made.slice(0, 5)) expect((await api.get("pods", n)).metadata.annotations?.pad?.length).toBe(1_000);
    } finally {
      api.close();
    }
  });
});
