/**
 * @kubernetes/client-node 1.3.0 against the REST API over a real store, through the generated
 * kubeconfig (TLS verified with the generated CA, bearer token): typed calls, and an informer
 * that sees adds, updates and deletes and survives a 410 Gone by relisting.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { waitFor } from "../helpers/api.ts";
import { startRestHarness, type RestHarness } from "../helpers/rest_harness.ts";
import type { ApiClient } from "../../model/client.ts";

let h: RestHarness;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;
/** What the HTTP server asked of the API: lets the 410 test see the relist happen. */
const seen = { lists: 0, gone: 0 };

function pod(name: string, labels: Record<string, string> = {}): k8s.V1Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers: [{ name: "main", image: "berth/busybox:latest" }] } };
}

beforeAll(async () => {
  h = await startRestHarness({
    // Short watches, so the informer reconnects (from its last resourceVersion) within the test.
    watchTimeoutSeconds: 1,
    wrapApi: (api: ApiClient): ApiClient =>
      new Proxy(api, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (prop === "list") return (...a: unknown[]) => (seen.lists++, (v as (...x: unknown[]) => unknown).apply(target, a));
          if (prop === "watch") {
            return async (...a: unknown[]) => {
              try {
                return await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
              } catch (e) {
                if ((e as { code?: number }).code === 410) seen.gone++;
                throw e;
              }
            };
          }
          return typeof v === "function" ? v.bind(target) : v;
        },
      }),
  });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(h.kubeconfig);
  core = kc.makeApiClient(k8s.CoreV1Api);
});
afterAll(async () => {
  await h?.stop();
});

describe("@kubernetes/client-node against the REST API", () => {
  it("client-node - typed create, read, list with a selector, and delete", async () => {
    const created = await core.createNamespacedPod({ namespace: "default", body: pod("typed-1", { app: "typed" }) });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.metadata?.resourceVersion).toMatch(/^\d+$/);
    await core.createNamespacedPod({ namespace: "default", body: pod("typed-2", { app: "other" }) });

    const read = await core.readNamespacedPod({ name: "typed-1", namespace: "default" });
    expect(read.spec?.containers[0].image).toBe("berth/busybox:latest");
    const list = await core.listNamespacedPod({ namespace: "default", labelSelector: "app=typed" });
    expect(list.items.map((p) => p.metadata?.name)).toEqual(["typed-1"]);
    const all = await core.listPodForAllNamespaces();
    expect(all.items.length).toBeGreaterThanOrEqual(2);

    await core.deleteNamespacedPod({ name: "typed-1", namespace: "default", gracePeriodSeconds: 0 });
    await waitFor(async () => {
      try {
        await core.readNamespacedPod({ name: "typed-1", namespace: "default" });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    }, "typed-1 to be gone");
  });

  it("client-node - errors arrive as ApiExceptions carrying the Status", async () => {
    const err = await core.readNamespacedPod({ name: "nope", namespace: "default" }).catch((e) => e);
    expect(err).toBeInstanceOf(k8s.ApiException);
    expect(err.code).toBe(404);
    expect(JSON.parse(err.body)).toMatchObject({ kind: "Status", reason: "NotFound" });
    const dup = await core.createNamespacedPod({ namespace: "default", body: pod("typed-2") }).catch((e) => e);
    expect(dup.code).toBe(409);
  });

  it("client-node - typed nodes and services", async () => {
    await core.createNode({ body: { apiVersion: "v1", kind: "Node", metadata: { name: "cn-node" }, spec: {} } });
    expect((await core.listNode()).items.map((n) => n.metadata?.name)).toContain("cn-node");
    const svc = await core.createNamespacedService({
      namespace: "default",
      body: { apiVersion: "v1", kind: "Service", metadata: { name: "cn-svc" }, spec: { selector: { app: "x" }, ports: [{ port: 80 }] } },
    });
    expect(svc.spec?.ports?.[0].port).toBe(80);
    await core.deleteNamespacedService({ name: "cn-svc", namespace: "default" });
  });

  it("client-node - an informer sees adds, updates and deletes, and survives a 410 by relisting", async () => {
    const ns = "informed";
    const events: string[] = [];
    const errors: unknown[] = [];
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/pods`, () => core.listNamespacedPod({ namespace: ns }));
    informer.on("add", (p) => events.push(`add:${p.metadata?.name}`));
    informer.on("update", (p) => events.push(`update:${p.metadata?.name}:${p.metadata?.labels?.v ?? ""}`));
    informer.on("delete", (p) => events.push(`delete:${p.metadata?.name}`));
    informer.on("error", (e) => errors.push(e));
    for (const name of [ns, "other"]) await core.createNamespace({ body: { apiVersion: "v1", kind: "Namespace", metadata: { name } } });
    await h.test.api.create("pods", { ...pod("pre"), metadata: { name: "pre", namespace: ns } }, ns);
    await informer.start();
    try {
      await waitFor(() => events.includes("add:pre"), "the initial list to be seen");

      await core.createNamespacedPod({ namespace: ns, body: pod("inf-1") });
      await waitFor(() => events.includes("add:inf-1"), "the add");
      await core.patchNamespacedPod(
        { name: "inf-1", namespace: ns, body: { metadata: { labels: { v: "2" } } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
      );
      await waitFor(() => events.includes("update:inf-1:2"), "the update");
      await core.deleteNamespacedPod({ name: "inf-1", namespace: ns, gracePeriodSeconds: 0 });
      await waitFor(() => events.includes("delete:inf-1"), "the delete");

      // A write the informer does not watch, then compaction: its resourceVersion is now too old.
      const listsBefore = seen.lists;
      await h.test.api.create("pods", { ...pod("elsewhere"), metadata: { name: "elsewhere", namespace: "other" } }, "other");
      await h.test.store.compact();
      // Its watch times out within a second; resuming gets 410, and it relists.
      await waitFor(() => seen.gone > 0, "a watch resume to be refused with 410", 15_000);
      await waitFor(() => seen.lists > listsBefore, "the informer to relist", 15_000);

      // And it keeps working after the relist.
      await core.createNamespacedPod({ namespace: ns, body: pod("inf-2") });
      await waitFor(() => events.includes("add:inf-2"), "an add after the relist", 15_000);
      // The informer's cache (ListWatch implements ObjectCache) holds exactly what exists.
      const cache = informer as unknown as k8s.ObjectCache<k8s.V1Pod>;
      expect(cache.list(ns).map((p) => p.metadata?.name).sort()).toEqual(["inf-2", "pre"]);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
