/**
 * `berth apply` is kubectl's client-side apply: applying an unchanged manifest again says
 * `unchanged` and writes nothing — a Service keeps its ClusterIP (it used to get a new one on
 * every apply, 10.96.0.6 → .7 → .8) — and a changed one keeps what the server set.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { applyOne } from "../../runtime/cluster.ts";
import { startServiceController, type ServiceController } from "../../runtime/service_controller.ts";
import { LAST_APPLIED_ANNOTATION } from "../../runtime/api/apply.ts";

let t: TestApi;
let ctl: ServiceController;

beforeAll(async () => {
  t = await startTestApi();
  ctl = await startServiceController(t.api, { clusterCidr: "10.151.0.0/24" });
});
afterAll(async () => {
  await ctl?.stop();
  await t?.stop();
});

const manifest = (labels: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default", labels: { app: "web", ...labels } },
  spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
});

describe("apply", () => {
  it("three applies of an unchanged Service: created, unchanged, unchanged — one ClusterIP, one write", async () => {
    expect((await applyOne(t.api, "services", manifest())).action).toBe("created");
    const allocated = await waitFor(async () => {
      const s = await t.api.get("services", "web", "default");
      return s.spec.clusterIP ? s : undefined;
    }, "a ClusterIP");
    const second = await applyOne(t.api, "services", manifest());
    const third = await applyOne(t.api, "services", manifest());
    expect([second.action, third.action]).toEqual(["unchanged", "unchanged"]);
    const now = await t.api.get("services", "web", "default");
    expect(now.spec.clusterIP).toBe(allocated.spec.clusterIP);
    expect(now.metadata.resourceVersion).toBe(allocated.metadata.resourceVersion);
    expect(JSON.parse(now.metadata.annotations![LAST_APPLIED_ANNOTATION])).toEqual(manifest());
  });

  it("a changed manifest is configured and keeps the ClusterIP; removing a label it applied removes it", async () => {
    const before = await t.api.get("services", "web", "default");
    expect((await applyOne(t.api, "services", manifest({ tier: "front" }))).action).toBe("configured");
    expect((await t.api.get("services", "web", "default")).metadata.labels).toEqual({ app: "web", tier: "front" });
    expect((await applyOne(t.api, "services", manifest())).action).toBe("configured");
    const after = await t.api.get("services", "web", "default");
    expect(after.metadata.labels).toEqual({ app: "web" });
    expect(after.spec.clusterIP).toBe(before.spec.clusterIP);
  });
});
