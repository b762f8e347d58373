/**
 * The root CA publisher against a real API (nats-server + JetStream KV store + Api) with the
 * control plane running: `kube-root-ca.crt` holds the cluster CA in every namespace, a new one
 * included; deleted or edited, it is put back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import type { ConfigMap } from "../../model/types.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
let t: TestApi;
let cp: ControlPlane;

beforeAll(async () => {
  t = await startTestApi();
  cp = await startControlPlane({ client: t.api, services: false, scheduledEvents: false, rootCaPem: CA });
}, 30_000);
afterAll(async () => {
  await cp?.stop();
  await t?.stop();
});

const caIn = async (ns: string): Promise<string | undefined> => {
  const cm = await t.api.get("configmaps", "kube-root-ca.crt", ns).catch(() => undefined);
  return (cm as ConfigMap | undefined)?.data?.["ca.crt"];
};

describe("root CA publisher over a real API", () => {
  it("publishes the CA in the namespaces there are and in a new one", async () => {
    await waitFor(async () => (await caIn("default")) === CA && (await caIn("kube-system")) === CA, "the CA in default and kube-system");
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    await waitFor(async () => (await caIn("shop")) === CA, "the CA in a new namespace");
    const cm = await t.api.get("configmaps", "kube-root-ca.crt", "shop");
    expect(cm.metadata.annotations?.["kubernetes.io/description"]).toMatch(/^Contains a CA bundle that can be used to verify the kube-apiserver/);
  });

  it("puts back a copy that was deleted or edited", async () => {
    await t.api.delete("configmaps", "kube-root-ca.crt", "shop");
    await waitFor(async () => (await caIn("shop")) === CA, "the deleted copy back");
    const cm = await t.api.get("configmaps", "kube-root-ca.crt", "shop");
    await t.api.update("configmaps", { ...cm, data: { "ca.crt": "forged" } });
    await waitFor(async () => (await caIn("shop")) === CA, "the edited copy put right");
  });
});
