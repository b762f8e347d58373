/**
 * Finalizers, as Kubernetes keeps them: deleting an object that names any only marks it
 * (deletionTimestamp, a zero grace period); it goes when an update takes the last finalizer off,
 * in that same write. No finalizer may be added to an object being deleted. A pod goes only once
 * its node is done with it. A namespace whose content waits on finalizers stays Terminating,
 * refusing new content, and goes with the last of it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { ApiError } from "../../model/errors.ts";
import type { AnyObject, ConfigMap, Pod, WatchEvent } from "../../model/types.ts";
import { deleteCmd } from "../../runtime/cli/verbs.ts";

const configMap = (name: string, ns: string, finalizers?: string[]) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: ns, ...(finalizers ? { finalizers } : {}) },
  data: { k: "v" },
});

const apiError = async (p: Promise<unknown>): Promise<ApiError> => {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(ApiError);
  return e as ApiError;
};

describe("finalizers", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** The next event of `ns`'s configmaps watch that is about `name`. */
  async function nextAbout(it: AsyncIterator<WatchEvent<AnyObject>>, name: string): Promise<WatchEvent<AnyObject>> {
    for (;;) {
      const { value, done } = await it.next();
      if (done) throw new Error("the watch ended");
      if (value.object.metadata.name === name) return value;
    }
  }

  it("a delete marks the object; an update that takes the last finalizer off deletes it (in process and over NATS)", async () => {
    for (const [label, client] of [["in-process", t.api], ["nats", t.remote]] as const) {
      const name = `kept-${label}`;
      const created = await client.create("configmaps", configMap(name, "default", ["example.com/a", "example.com/b"]));
      const w = await t.api.watch("configmaps", { namespace: "default", resourceVersion: created.metadata.resourceVersion });
      const events = w[Symbol.asyncIterator]();

      const marked = await client.delete("configmaps", name, "default");
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(marked.metadata.deletionGracePeriodSeconds).toBe(0);
      expect(marked.metadata.finalizers).toEqual(["example.com/a", "example.com/b"]);
      expect((await nextAbout(events, name)).type).toBe("MODIFIED");
      expect((await client.get("configmaps", name, "default")).metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);

      // Deleting again changes nothing.
      const again = await client.delete("configmaps", name, "default");
      expect(again.metadata.resourceVersion).toBe(marked.metadata.resourceVersion);

      // No finalizer may be added now; other changes may be made.
      const refused = await apiError(client.update("configmaps", { ...marked, metadata: { ...marked.metadata, finalizers: ["example.com/a", "example.com/b", "example.com/c"] } }));
      expect(refused.code).toBe(422);
      expect(refused.message).toContain('metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ["example.com/c"]');
      const relabelled = await client.update("configmaps", { ...marked, metadata: { ...marked.metadata, labels: { x: "y" } } });
      expect(relabelled.metadata.labels).toEqual({ x: "y" });
      expect((await nextAbout(events, name)).type).toBe("MODIFIED");

      // One finalizer off: still there.
      const one = await client.update("configmaps", { ...relabelled, metadata: { ...relabelled.metadata, finalizers: ["example.com/b"] } });
      expect(one.metadata.finalizers).toEqual(["example.com/b"]);
      expect((await nextAbout(events, name)).type).toBe("MODIFIED");
      expect((await client.get("configmaps", name, "default")).metadata.finalizers).toEqual(["example.com/b"]);

      // The last one off (a merge patch, as `kubectl patch --type merge -p '{"metadata":{"finalizers":null}}'`): gone, in that write.
      await client.patch("configmaps", name, { metadata: { finalizers: null } }, { namespace: "default", type: "merge" });
      const deleted = await nextAbout(events, name);
      expect(deleted.type).toBe("DELETED");
      expect(deleted.object.metadata.finalizers).toBeUndefined();
      expect(deleted.object.metadata.labels).toEqual({ x: "y" });
      expect((await apiError(client.get("configmaps", name, "default"))).code).toBe(404);
      w.stop();
    }
  });

  it("an object without finalizers, or whose finalizers were all taken off before the delete, goes at once", async () => {
    await t.api.create("configmaps", configMap("plain", "default"));
    await t.api.delete("configmaps", "plain", "default");
    expect((await apiError(t.api.get("configmaps", "plain", "default"))).code).toBe(404);

    const c = await t.api.create("configmaps", configMap("emptied", "default", ["example.com/a"]));
    await t.api.update("configmaps", { ...c, metadata: { ...c.metadata, finalizers: [] } });
    await t.api.delete("configmaps", "emptied", "default");
    expect((await apiError(t.api.get("configmaps", "emptied", "default"))).code).toBe(404);
  });

  it("a pod goes only once its node is done with it: the kubelet's last delete (grace 0) leaves it to its finalizers", async () => {
    const bound = (name: string) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, finalizers: ["example.com/keep"] },
      spec: { nodeName: "n1", containers: [{ name: "c", image: "berth/busybox" }] },
    });
    // The finalizer is taken off while the containers are still stopping: the pod stays until the kubelet's delete.
    const a = await t.api.create("pods", bound("fin-a"));
    const terminating = await t.api.delete("pods", "fin-a", "default", { gracePeriodSeconds: 30 });
    expect(terminating.metadata.deletionGracePeriodSeconds).toBe(30);
    const unkept = await t.api.update("pods", { ...terminating, metadata: { ...terminating.metadata, finalizers: undefined } });
    expect(unkept.metadata.finalizers).toBeUndefined();
    expect((await t.api.get("pods", "fin-a", "default")).metadata.uid).toBe(a.metadata.uid);
    await t.api.delete("pods", "fin-a", "default", { gracePeriodSeconds: 0, preconditions: { uid: a.metadata.uid } });
    expect((await apiError(t.api.get("pods", "fin-a", "default"))).code).toBe(404);

    // The kubelet is done first: the pod stays, marked with a zero grace period, until its finalizer is taken off.
    const b = await t.api.create("pods", bound("fin-b"));
    await t.api.delete("pods", "fin-b", "default", { gracePeriodSeconds: 30 });
    const done = await t.api.delete("pods", "fin-b", "default", { gracePeriodSeconds: 0, preconditions: { uid: b.metadata.uid } });
    expect(done.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(Date.parse(done.metadata.deletionTimestamp!)).toBeLessThanOrEqual(Date.now());
    const stays = await t.api.get("pods", "fin-b", "default");
    expect(stays.metadata.finalizers).toEqual(["example.com/keep"]);
    await t.api.update("pods", { ...stays, metadata: { ...stays.metadata, finalizers: [] } });
    expect((await apiError(t.api.get("pods", "fin-b", "default"))).code).toBe(404);
  });

  it("an Orphan delete releases the dependents and leaves the owner to its finalizers", async () => {
    const rc = await t.api.create("replicationcontrollers", {
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "fin-rc", finalizers: ["example.com/keep"] },
      spec: { replicas: 0, selector: { app: "fin-rc" }, template: { metadata: { labels: { app: "fin-rc" } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } } },
    });
    await t.api.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "fin-rc-pod", labels: { app: "fin-rc" }, ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: "fin-rc", uid: rc.metadata.uid!, controller: true }] },
      spec: { containers: [{ name: "c", image: "berth/busybox" }] },
    });
    const marked = await t.api.delete("replicationcontrollers", "fin-rc", "default", { propagationPolicy: "Orphan" });
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect((await t.api.get("pods", "fin-rc-pod", "default")).metadata.ownerReferences).toBeUndefined();
    const kept = await t.api.get("replicationcontrollers", "fin-rc", "default");
    expect(kept.metadata.finalizers).toEqual(["example.com/keep"]);
    await t.api.update("replicationcontrollers", { ...kept, metadata: { ...kept.metadata, finalizers: [] } });
    expect((await apiError(t.api.get("replicationcontrollers", "fin-rc", "default"))).code).toBe(404);
  });

  it("a namespace whose content waits on finalizers stays Terminating, refuses new content, and goes with the last of it", async () => {
    const ns = "fin-ns";
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await t.api.create("configmaps", configMap("plain", ns), ns);
    await t.api.create("configmaps", configMap("kept", ns, ["example.com/keep"]), ns);

    const terminating = await t.api.delete("namespaces", ns);
    expect(terminating.metadata.deletionTimestamp).toBeDefined();
    expect((terminating as { status?: { phase?: string } }).status?.phase).toBe("Terminating");
    expect((await apiError(t.api.get("configmaps", "plain", ns))).code).toBe(404);
    const kept = await t.api.get("configmaps", "kept", ns);
    expect(kept.metadata.deletionTimestamp).toBeDefined();

    const refused = await apiError(t.remote.create("configmaps", configMap("late", ns), ns));
    expect(refused.code).toBe(403);
    expect(refused.message).toBe(`unable to create new content in namespace ${ns} because it is being terminated`);

    // Deleting it again (kubectl delete ns, retried) leaves it waiting, and writes nothing.
    const again = await t.api.delete("namespaces", ns);
    expect(again.metadata.resourceVersion).toBe(terminating.metadata.resourceVersion);

    await t.api.update("configmaps", { ...kept, metadata: { ...kept.metadata, finalizers: [] } } as ConfigMap);
    expect((await apiError(t.api.get("configmaps", "kept", ns))).code).toBe(404);
    expect((await apiError(t.api.get("namespaces", ns))).code).toBe(404);
  });

  it("berth delete waits for the object to go, and names the finalizers holding it when its --timeout ends", async () => {
    await t.api.create("configmaps", configMap("held", "default", ["example.com/keep"]));
    let out = "";
    const e = await deleteCmd(t.remote, [{ resource: "configmaps", name: "held", namespace: "default" }], { timeoutSeconds: 0.5 }, (x) => void (out += x)).then(() => undefined, (x: unknown) => x);
    expect(out).toBe('configmap "held" deleted\n');
    expect(String(e)).toMatch(/timed out after 500 ms waiting for configmap "held" to be deleted; last seen: held \{\} \(being deleted since \S+, held by its finalizers: example\.com\/keep\)/);
    await expect(deleteCmd(t.remote, [{ resource: "configmaps", name: "held", namespace: "default" }], { timeoutSeconds: 0 }, () => {})).rejects.toThrow("--timeout must be a number of seconds above 0, got 0");

    // Released while berth delete waits: it returns.
    let said!: () => void;
    const deleteAnswered = new Promise<void>((r) => (said = r));
    const waiting = deleteCmd(t.remote, [{ resource: "configmaps", name: "held", namespace: "default" }], { timeoutSeconds: 30 }, () => said());
    await deleteAnswered;
    const held = await t.api.get("configmaps", "held", "default");
    await t.api.update("configmaps", { ...held, metadata: { ...held.metadata, finalizers: [] } });
    await waiting;
    expect((await apiError(t.api.get("configmaps", "held", "default"))).code).toBe(404);
  });

  it("content that slipped in around the namespace's mark goes too, whichever way the last held object leaves", async () => {
    for (const way of ["finalizer taken off", "deleted with the store"] as const) {
      const ns = way === "finalizer taken off" ? "fin-leak-a" : "fin-leak-b";
      await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      await t.api.create("configmaps", configMap("kept", ns, ["example.com/keep"]), ns);
      await t.api.delete("namespaces", ns);
      // As a create that passed admission before the mark, or one on another API replica whose
      // cache had not seen it: stored after the namespace's content was deleted.
      const leakedCm = await t.store.create("configmaps", { ...configMap("leaked", ns), metadata: { name: "leaked", namespace: ns, uid: "leaked-uid", creationTimestamp: new Date().toISOString() } } as ConfigMap);
      expect(leakedCm.metadata.name).toBe("leaked");
      const kept = await t.api.get("configmaps", "kept", ns);
      if (way === "finalizer taken off") {
        await t.api.update("configmaps", { ...kept, metadata: { ...kept.metadata, finalizers: [] } } as ConfigMap);
      } else {
        // The held object goes without an update through this API (straight from the store, as
        // by another replica), then the leaked one is deleted as usual.
        await t.store.delete("configmaps", ns, "kept");
        await t.api.delete("configmaps", "leaked", ns);
      }
      expect((await apiError(t.api.get("configmaps", "leaked", ns))).code).toBe(404);
      expect((await apiError(t.api.get("namespaces", ns))).code).toBe(404);
    }
  });

  it("a ResourceQuota held by a finalizer is still enforced, however often it is deleted", async () => {
    const ns = "fin-quota";
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await t.api.create("resourcequotas", { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "q", namespace: ns, finalizers: ["example.com/keep"] }, spec: { hard: { "count/configmaps": "1" } } }, ns);
    await t.api.delete("resourcequotas", "q", ns);
    await t.api.delete("resourcequotas", "q", ns);
    await t.api.create("configmaps", configMap("one", ns), ns);
    const refused = await apiError(t.api.create("configmaps", configMap("two", ns), ns));
    expect(refused.code).toBe(403);
    expect(refused.message).toContain("exceeded quota");
  });

  it("bad finalizer input is refused and changes nothing", async () => {
    const c = await t.api.create("configmaps", configMap("typed", "default", ["example.com/a"]));
    const e = await apiError(t.remote.update("configmaps", { ...c, metadata: { ...c.metadata, finalizers: "example.com/a" } } as unknown as Pod));
    expect(e.code).toBe(422);
    expect(e.message).toContain("metadata.finalizers");
    expect((await t.api.get("configmaps", "typed", "default")).metadata).toMatchObject({ finalizers: ["example.com/a"], resourceVersion: c.metadata.resourceVersion });
  });
});
