/**
 * Server-side dry run (Kubernetes' `dryRun=All`) through the Api over a real store: every write
 * kind answers with what it would store (defaults, uid, generation, a graceful pod's deletion
 * mark, a namespace marked Terminating) and refuses what a real write would refuse (invalid,
 * taken name, stale resourceVersion, quota, a budget with no room), and nothing is written: not
 * the object, not a quota's charge, not a budget's status, not a dependent's owner reference, and
 * no watch event. Also over NATS (`NatsApiClient`). The REST and kubectl faces are in
 * test/integration/dry_run_kubectl.test.ts. No Docker here.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { ApiError } from "../../model/errors.ts";
import type { AnyObject, Pod, ReplicationController, ResourceQuota } from "../../model/types.ts";
import { evict } from "../../runtime/http/eviction.ts";
import { deleteOptions } from "../../runtime/http/handlers.ts";
import { berthAsync, tempHome } from "../helpers/cli.ts";

let t: TestApi;

const pod = (name: string, labels: Record<string, string> = { app: "web" }) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels },
  spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] },
});

/** What a promise was refused with (fails the test when it resolves). */
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("expected a refusal, but the call succeeded");
}

/** The store's revision now: a dry run must leave it where it was. */
async function revision(): Promise<number> {
  return await t.impl.cache.sync();
}

beforeAll(async () => {
  t = await startTestApi();
}, 30_000);

afterAll(async () => {
  await t?.stop();
});

describe("dry run (dryRun=All) on the Api over a real store", () => {
  it("a dry-run create answers with the object as it would be stored (uid, creationTimestamp, defaults, a generated name) and stores nothing; no watch event", async () => {
    const watch = await t.api.watch("pods", { namespace: "default", resourceVersion: String(await revision()) });
    const before = await revision();
    const out = (await t.api.create("pods", pod("dry"), "default", { dryRun: true })) as Pod;
    expect(out.metadata.name).toBe("dry");
    expect(out.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.metadata.creationTimestamp).toBeTruthy();
    expect(out.metadata.resourceVersion).toBeUndefined();
    expect(out.spec.restartPolicy).toBe("Always");
    expect(out.spec.terminationGracePeriodSeconds).toBe(30);
    expect(out.status?.phase).toBe("Pending");
    const generated = await t.api.create("pods", { ...pod(""), metadata: { generateName: "web-", labels: {} } }, "default", { dryRun: true });
    expect(generated.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect((await refusal(t.api.get("pods", "dry", "default"))).reason).toBe("NotFound");
    expect(await revision()).toBe(before);
    // The first event the watch sees is the real create that follows, not the dry one.
    await t.api.create("pods", pod("real"), "default");
    const it = watch[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.object.metadata.name).toBe("real");
    watch.stop();
  });

  it("a dry-run create is refused as a real one: invalid (422), a taken name (409), a missing namespace (404)", async () => {
    const invalid = await refusal(t.api.create("pods", { ...pod("bad"), spec: { containers: [] } }, "default", { dryRun: true }));
    expect(invalid.code).toBe(422);
    expect(invalid.message).toContain("spec.containers: Required value");
    expect((await refusal(t.api.create("pods", pod("real"), "default", { dryRun: true }))).reason).toBe("AlreadyExists");
    expect((await refusal(t.api.create("pods", pod("x"), "nowhere", { dryRun: true }))).reason).toBe("NotFound");
  });

  it("a dry-run update and patch answer with the change (generation counted, the stored resourceVersion) and leave the stored object as it was; a stale resourceVersion is a Conflict", async () => {
    const rc = (await t.api.create("replicationcontrollers", {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "rc" },
      spec: { replicas: 0, selector: { app: "rc" }, template: { metadata: { labels: { app: "rc" } }, spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] } } },
    }, "default")) as ReplicationController;
    const before = await revision();
    const updated = await t.api.update("replicationcontrollers", { ...rc, spec: { ...rc.spec, replicas: 3 } }, { dryRun: true });
    expect(updated.spec.replicas).toBe(3);
    expect(updated.metadata.generation).toBe(2);
    expect(updated.metadata.resourceVersion).toBe(rc.metadata.resourceVersion);
    const patched = await t.api.patch("replicationcontrollers", "rc", { metadata: { labels: { tier: "front" } } }, { namespace: "default", dryRun: true });
    expect(patched.metadata.labels).toEqual({ app: "rc", tier: "front" });
    const scaled = await t.api.updateScale("rc", 5, "default", "replicationcontrollers", { dryRun: true });
    expect(scaled.spec.replicas).toBe(5);
    const status = await t.api.updateStatus("replicationcontrollers", { ...rc, status: { replicas: 9 } }, { dryRun: true });
    expect(status.status?.replicas).toBe(9);
    expect(await revision()).toBe(before);
    const stored = await t.api.get("replicationcontrollers", "rc", "default");
    expect(stored).toEqual(rc);
    const stale = { ...rc, metadata: { ...rc.metadata, resourceVersion: String(Number(rc.metadata.resourceVersion) - 1) } };
    expect((await refusal(t.api.update("replicationcontrollers", stale, { dryRun: true }))).reason).toBe("Conflict");
  });

  it("a dry-run delete answers as the deletion would (a bound pod marked with its grace period; a namespace marked Terminating) and deletes nothing; an orphaning delete releases no dependent", async () => {
    await t.api.create("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: {} });
    await t.api.create("pods", pod("bound"), "default");
    await t.api.bind("bound", "default", "n1");
    const before = await revision();
    const marked = await t.api.delete("pods", "bound", "default", { gracePeriodSeconds: 7, dryRun: true });
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.metadata.deletionGracePeriodSeconds).toBe(7);
    const gone = await t.api.delete("pods", "real", "default", { dryRun: true });
    expect(gone.metadata.name).toBe("real");

    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "keep" } });
    await t.api.create("pods", pod("inside"), "keep");
    const rc = await t.api.get("replicationcontrollers", "rc", "default");
    await t.api.create("pods", { ...pod("owned", { app: "rc" }), metadata: { name: "owned", labels: { app: "rc" }, ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: "rc", uid: rc.metadata.uid, controller: true }] } }, "default");
    const mid = await revision();
    expect(mid).toBeGreaterThan(before);
    const ns = await t.api.delete("namespaces", "keep", undefined, { dryRun: true });
    expect(ns.metadata.deletionTimestamp).toBeTruthy();
    // Answered as the real orphaning delete answers: the owner marked.
    const orphaning = await t.api.delete("replicationcontrollers", "rc", "default", { propagationPolicy: "Orphan", dryRun: true });
    expect(orphaning.metadata.deletionTimestamp).toBeTruthy();
    expect(await revision()).toBe(mid);
    expect((await t.api.get("pods", "bound", "default")).metadata.deletionTimestamp).toBeUndefined();
    expect(await t.api.get("pods", "real", "default")).toBeTruthy();
    expect((await t.api.get("namespaces", "keep")).metadata.deletionTimestamp).toBeUndefined();
    expect(await t.api.get("pods", "inside", "keep")).toBeTruthy();
    expect((await t.api.get("pods", "owned", "default")).metadata.ownerReferences?.[0]?.uid).toBe(rc.metadata.uid);
    expect((await refusal(t.api.delete("namespaces", "default", undefined, { dryRun: true }))).reason).toBe("Forbidden");
    const unsafe = await refusal(t.api.delete("pods", "bound", "default", { dryRun: true, ignoreStoreReadErrorWithClusterBreakingPotential: true }));
    expect(unsafe.code).toBe(422);
    expect(unsafe.message).toBe('DeleteOptions.meta.k8s.io "" is invalid: ignoreStoreReadErrorWithClusterBreakingPotential: Invalid value: true: cannot be set together with .dryRun');
  });

  it("quota: a dry-run create over the quota is refused with its 403, one within it passes, and neither is charged", async () => {
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "q" } });
    await t.api.create("resourcequotas", { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "two" }, spec: { hard: { pods: "2" } } }, "q");
    await t.api.create("pods", pod("one"), "q");
    const used = async () => ((await t.api.get("resourcequotas", "two", "q")) as ResourceQuota).status?.used;
    expect(await used()).toEqual({ pods: "1" });
    for (let i = 0; i < 3; i++) await t.api.create("pods", pod(`maybe-${i}`), "q", { dryRun: true });
    expect(await used()).toEqual({ pods: "1" });
    await t.api.create("pods", pod("two"), "q");
    const over = await refusal(t.api.create("pods", pod("three"), "q", { dryRun: true }));
    expect(over.code).toBe(403);
    expect(over.message).toContain("exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2");
    expect(await used()).toEqual({ pods: "2" });
  });

  it("eviction: a dry run with room in the budget spends nothing and deletes nothing; with none it is refused with the 429", async () => {
    const running = async (name: string) => {
      await t.api.create("pods", pod(name, { app: "guarded" }), "default");
      await t.api.bind(name, "default", "n1");
      const p = await t.api.get("pods", name, "default");
      await t.api.updateStatus("pods", { ...p, status: { ...p.status, phase: "Running", conditions: [{ type: "Ready", status: "True" }] } });
    };
    await running("g1");
    await running("g2");
    const pdb = await t.api.create("poddisruptionbudgets", { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name: "guard" }, spec: { minAvailable: 1, selector: { matchLabels: { app: "guarded" } } } }, "default");
    const roomy = await t.api.updateStatus("poddisruptionbudgets", { ...pdb, status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } });
    const options = (b: unknown) => deleteOptions({ query: new URLSearchParams() }, b);
    const before = await revision();
    const answer = await evict(t.api, "g1", "default", { kind: "Eviction", metadata: { name: "g1" }, deleteOptions: { dryRun: ["All"] } }, options);
    expect(answer).toMatchObject({ status: "Success", code: 201 });
    expect(await revision()).toBe(before);
    expect((await t.api.get("poddisruptionbudgets", "guard", "default")).status).toEqual(roomy.status);
    expect((await t.api.get("pods", "g1", "default")).metadata.deletionTimestamp).toBeUndefined();
    await t.api.updateStatus("poddisruptionbudgets", { ...(await t.api.get("poddisruptionbudgets", "guard", "default")), status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 2 } });
    const full = await refusal(evict(t.api, "g2", "default", { kind: "Eviction", metadata: { name: "g2" }, deleteOptions: { dryRun: ["All"] } }, options));
    expect(full.code).toBe(429);
  });

  it("over NATS: the NatsApiClient's dry runs are answered as the Api's, and nothing is stored", async () => {
    const before = await revision();
    const out = (await t.remote.create("pods", pod("remote"), "default", { dryRun: true })) as AnyObject;
    expect(out.metadata.uid).toBeTruthy();
    expect(out.metadata.resourceVersion).toBeUndefined();
    const patched = await t.remote.patch("pods", "bound", { metadata: { labels: { x: "y" } } }, { namespace: "default", dryRun: true });
    expect(patched.metadata.labels).toEqual({ app: "web", x: "y" });
    const marked = await t.remote.delete("pods", "bound", "default", { dryRun: true });
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(await revision()).toBe(before);
    expect((await refusal(t.remote.get("pods", "remote", "default"))).reason).toBe("NotFound");
  });

  it("berth apply and berth delete --dry-run=server (the real CLI over NATS) say what they would do and change nothing; --dry-run=client is a usage error", async () => {
    const home = tempHome("berth-dry-");
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";
    const before = await revision();
    const applied = await berthAsync("node", home, ["apply", "--nats", t.natsUrl, "--dry-run=server", "-f", "-"], cm);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toBe("configmap/settings created (server dry run)\n");
    const deleted = await berthAsync("node", home, ["delete", "--nats", t.natsUrl, "pod", "bound", "--dry-run=server"]);
    expect(deleted.stdout).toBe('pod "bound" deleted (server dry run)\n');
    expect(await revision()).toBe(before);
    expect((await refusal(t.api.get("configmaps", "settings", "default"))).reason).toBe("NotFound");
    expect((await t.api.get("pods", "bound", "default")).metadata.deletionTimestamp).toBeUndefined();
    const client = await berthAsync("node", home, ["apply", "--nats", t.natsUrl, "--dry-run=client", "-f", "-"], cm);
    expect(client.code).not.toBe(0);
    expect(client.stderr).toContain("--dry-run=client is not supported by berth");
    expect((await berthAsync("node", home, ["apply", "--help"])).stdout).toContain("--dry-run");
  });
});
