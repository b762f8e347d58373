/**
 * ConfigMaps and Secrets through the real API on a real nats-server: Secrets are encrypted at
 * rest in the KV (the raw value is `k8s:enc:aesgcm:v1:key1:…`, never the plaintext), plaintext
 * written before encryption is still read, validation answers 422 naming the field, immutable
 * objects refuse changes, and a node reads (over the NATS API) only what its pods reference.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kvm } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import { ApiError, InvalidError } from "../../model/errors.ts";
import { NatsApiClient } from "../../runtime/api/nats_client.ts";
import { deleteCmd } from "../../runtime/cli/verbs.ts";
import { encryptionTransformer, loadOrCreateEncryptionConfig, parseEncryptionConfig } from "../../runtime/security/encryption.ts";
import { storeKey, STATE_BUCKET } from "../../runtime/subjects.ts";
import { startTestApi, type TestApi } from "../helpers/api.ts";
import { aesgcmTransformer } from "../helpers/encryption.ts";

describe("ConfigMaps and Secrets in the API", () => {
  let t: TestApi;
  let home: string;

  beforeAll(async () => {
    t = await startTestApi();
    home = mkdtempSync(join(tmpdir(), "berth-enc-"));
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  const raw = async (ns: string, name: string) => {
    const kv = await new Kvm(jetstream(t.nc)).open(STATE_BUCKET);
    return new TextDecoder().decode((await kv.get(storeKey("secrets", ns, name)))!.value);
  };

  it("secrets - stored encrypted (aesgcm, key in the home), read back decrypted; old plaintext still read", async () => {
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "before" }, stringData: { pw: "plain-old" } });
    const config = loadOrCreateEncryptionConfig(home);
    expect(readFileSync(join(home, "encryption-config.yaml"), "utf8")).toMatch(/kind: EncryptionConfiguration[\s\S]*aesgcm/);
    t.store.useTransformer(encryptionTransformer(config));
    const created = await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, stringData: { password: "hunter2" } });
    expect(created.data).toEqual({ password: Buffer.from("hunter2").toString("base64") });
    expect(created.stringData).toBeUndefined();
    expect(created.type).toBe("Opaque");
    const stored = await raw("default", "db");
    expect(stored).toContain('"o":"k8s:enc:aesgcm:v1:key1:');
    expect(stored).not.toContain(Buffer.from("hunter2").toString("base64"));
    expect(stored).not.toContain("hunter2");
    expect((await t.api.get("secrets", "db", "default")).data?.password).toBe(Buffer.from("hunter2").toString("base64"));
    expect((await t.api.list("secrets", { namespace: "default" })).items.map((s) => s.metadata.name)).toEqual(["before", "db"]);
    expect((await t.api.get("secrets", "before", "default")).data?.pw).toBe(Buffer.from("plain-old").toString("base64"));
    expect(await raw("default", "before")).toContain("cGxhaW4tb2xk"); // still plaintext until rewritten
    // Rewriting it (any change) encrypts it: the rotation procedure in docs/config-and-secrets.md.
    const before = await t.api.get("secrets", "before", "default");
    await t.api.update("secrets", { ...before, metadata: { ...before.metadata, annotations: { rotated: "1" } } });
    expect(await raw("default", "before")).toContain("k8s:enc:aesgcm:v1:key1:");
    // A watch sees decrypted objects, listed and changed later (through the store's watch).
    const w = await t.api.watch("secrets", { namespace: "default" });
    const it = w[Symbol.asyncIterator]();
    const first = await it.next();
    expect((first.value as { object: { data?: Record<string, string> } }).object.data).toBeDefined();
    await it.next();
    const db = await t.api.get("secrets", "db", "default");
    await t.api.update("secrets", { ...db, metadata: { ...db.metadata, labels: { seen: "yes" } } });
    const changed = await it.next();
    w.stop();
    expect(changed.value).toMatchObject({ type: "MODIFIED", object: { metadata: { name: "db", labels: { seen: "yes" } }, data: { password: Buffer.from("hunter2").toString("base64") } } });
  });

  it("secrets - a rotated configuration (new key first, old key kept) reads old values and writes with the new key", async () => {
    const text = readFileSync(join(home, "encryption-config.yaml"), "utf8");
    const old = parseEncryptionConfig(text);
    const oldKey = (old.resources[0].providers[0] as { keys: { name: string; key: Buffer }[] }).keys[0];
    const rotated = {
      resources: [{ resources: ["secrets"], providers: [{ type: "aesgcm" as const, keys: [{ name: "key2", key: Buffer.alloc(32, 7) }, oldKey] }] }],
    };
    t.store.useTransformer(encryptionTransformer(rotated));
    expect((await t.api.get("secrets", "db", "default")).data?.password).toBe(Buffer.from("hunter2").toString("base64"));
    const s = await t.api.get("secrets", "db", "default");
    await t.api.update("secrets", { ...s, stringData: { password: "new" } });
    expect(await raw("default", "db")).toContain("k8s:enc:aesgcm:v1:key2:");
    // Without the key the value cannot be read: an error, never garbage.
    t.store.useTransformer(encryptionTransformer({ resources: [{ resources: ["secrets"], providers: [{ type: "aesgcm", keys: [oldKey] }] }] }));
    await expect(t.api.get("secrets", "db", "default")).rejects.toThrow(/no key named "key2"/);
    t.store.useTransformer(encryptionTransformer(rotated));
  });

  it("secrets - secretbox (XSalsa20-Poly1305) as Kubernetes' provider: moving from aesgcm reads old values and writes with secretbox", async () => {
    const aes = parseEncryptionConfig(readFileSync(join(home, "encryption-config.yaml"), "utf8"));
    const boxKey = Buffer.alloc(32, 9).toString("base64");
    const config = parseEncryptionConfig(`
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets]
    providers:
      - secretbox:
          keys: [{ name: box1, secret: ${boxKey} }]
      - aesgcm:
          keys: [{ name: key2, secret: ${Buffer.alloc(32, 7).toString("base64")} }]
      - identity: {}
`);
    t.store.useTransformer(encryptionTransformer(config));
    // Written with aesgcm key2 by the rotation case, still read.
    expect((await t.api.get("secrets", "db", "default")).data?.password).toBe(Buffer.from("new").toString("base64"));
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "boxed" }, stringData: { token: "under-the-lid" } });
    const stored = await raw("default", "boxed");
    expect(stored).toContain('"o":"k8s:enc:secretbox:v1:box1:');
    expect(stored).not.toContain("under-the-lid");
    expect(stored).not.toContain(Buffer.from("under-the-lid").toString("base64"));
    expect((await t.api.get("secrets", "boxed", "default")).data?.token).toBe(Buffer.from("under-the-lid").toString("base64"));
    // A flipped byte in the sealed value is refused, never returned as garbage; and one
    // unreadable Secret takes down neither the API's one store feed nor other resources.
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "tampered" }, stringData: { x: "y" } });
    const kv = await new Kvm(jetstream(t.nc)).open(STATE_BUCKET);
    const good = await raw("default", "tampered");
    const entry = JSON.parse(good) as { o: string };
    const body = Buffer.from(entry.o.slice("k8s:enc:secretbox:v1:box1:".length), "base64");
    body[body.length - 1] ^= 1;
    await kv.put(storeKey("secrets", "default", "tampered"), JSON.stringify({ ...entry, o: `k8s:enc:secretbox:v1:box1:${body.toString("base64")}` }));
    await expect(t.api.get("secrets", "tampered", "default")).rejects.toThrow(/secretbox key "box1" failed: the value does not authenticate/);
    await expect(t.api.list("secrets", { namespace: "default" })).rejects.toThrow(/secrets "default\/tampered" cannot be read: .*does not authenticate/);
    await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "still-served" }, data: { a: "1" } });
    expect((await t.api.list("configmaps", { namespace: "default" })).items.map((c) => c.metadata.name)).toContain("still-served");
    await t.api.delete("configmaps", "still-served", "default");
    // Deleting it is refused with the way out named, and loses nothing.
    const damaged = await raw("default", "tampered");
    await expect(t.api.delete("secrets", "tampered", "default")).rejects.toThrow(/cannot be read: .*does not authenticate; to delete it without reading it .*ignoreStoreReadErrorWithClusterBreakingPotential/);
    expect(await raw("default", "tampered")).toBe(damaged);
    // Readable again (the right value back in place): listed again.
    await kv.put(storeKey("secrets", "default", "tampered"), good);
    expect((await t.api.list("secrets", { namespace: "default" })).items.map((x) => x.metadata.name)).toContain("tampered");
    await t.api.delete("secrets", "tampered", "default");
    // Back to the aesgcm-only configuration: the secretbox value names a key it lacks.
    t.store.useTransformer(encryptionTransformer(aes));
    await expect(t.api.get("secrets", "boxed", "default")).rejects.toThrow(/no key named "box1" among the secretbox keys/);
    t.store.useTransformer(encryptionTransformer(config));
    await t.api.delete("secrets", "boxed", "default");
    expect(() => parseEncryptionConfig(`kind: EncryptionConfiguration\nresources: [{ resources: [secrets], providers: [{ secretbox: { keys: [{ name: k, secret: ${Buffer.alloc(16).toString("base64")} }] } }] }]`))
      .toThrow(/secretbox key "k" must be 32 bytes \(base64\), got 16/);
    expect(() => parseEncryptionConfig(`kind: EncryptionConfiguration\nresources: [{ resources: [secrets], providers: [{ kms: {} }] }]`))
      .toThrow(/only aesgcm, secretbox and identity are supported/);
  });

  it("validation - an invalid key is 422 naming data[bad key]; types demand their keys; 1 MiB at most", async () => {
    const e = await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bad" }, data: { "bad key": "x" } }).catch((x) => x);
    expect(e).toBeInstanceOf(InvalidError);
    expect((e as InvalidError).code).toBe(422);
    expect((e as InvalidError).causes[0]).toMatchObject({ field: "data[bad key]", reason: "FieldValueInvalid" });
    const dj = await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "reg" }, type: "kubernetes.io/dockerconfigjson", data: {} }).catch((x) => x);
    expect((dj as InvalidError).causes).toEqual([expect.objectContaining({ field: "data[.dockerconfigjson]", reason: "FieldValueRequired" })]);
    const ok = await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "reg" }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": '{"auths":{}}' } });
    expect(ok.type).toBe("kubernetes.io/dockerconfigjson");
    const big = await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "big" }, data: { a: "x".repeat(700_000), b: "y".repeat(400_000) } }).catch((x) => x);
    expect((big as InvalidError).causes[0]).toMatchObject({ field: "data", reason: "FieldValueTooLong" });
    const b64 = await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "b64" }, data: { k: "not base64!" } }).catch((x) => x);
    expect((b64 as InvalidError).causes[0]).toMatchObject({ field: "data[k]" });
  });

  it("immutable - data and the flag cannot change (422), metadata can; a Secret's type never changes", async () => {
    await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "frozen" }, data: { a: "1" }, immutable: true });
    const cm = await t.api.get("configmaps", "frozen", "default");
    const e = await t.api.update("configmaps", { ...cm, data: { a: "2" } }).catch((x) => x);
    expect((e as InvalidError).causes).toEqual([expect.objectContaining({ field: "data", reason: "FieldValueForbidden" })]);
    const e2 = await t.api.patch("configmaps", "frozen", { immutable: false }, { namespace: "default" }).catch((x) => x);
    expect((e2 as InvalidError).causes[0]).toMatchObject({ field: "immutable" });
    await t.api.patch("configmaps", "frozen", { metadata: { labels: { a: "b" } } }, { namespace: "default" });
    const e3 = await t.api.patch("secrets", "db", { type: "example.com/custom" }, { namespace: "default" }).catch((x) => x);
    expect((e3 as InvalidError).causes[0]).toMatchObject({ field: "type", message: expect.stringContaining("field is immutable") });
  });

  it("node authorizer over NATS - a node reads only the Secrets and ConfigMaps its pods reference", async () => {
    const node = new NatsApiClient(t.nc, { node: "n1" });
    await expect(node.get("secrets", "db", "default")).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403 && /no pod bound to it references it/.test(e.message));
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "user" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i", env: [{ name: "P", valueFrom: { secretKeyRef: { name: "db", key: "password" } } }] }] } });
    expect((await node.get("secrets", "db", "default")).metadata.name).toBe("db");
    await expect(node.get("secrets", "reg", "default")).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403);
    await expect(node.list("secrets", { namespace: "default" })).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403);
    // ConfigMaps under the same rule: refused until a pod bound to the node mounts it, never written.
    await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-cfg" }, data: { k: "v" } });
    await expect(node.get("configmaps", "app-cfg", "default")).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403 && /no pod bound to it references it/.test(e.message));
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "cfg-user" }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }], volumes: [{ name: "v", configMap: { name: "app-cfg" } }] } });
    expect((await node.get("configmaps", "app-cfg", "default")).data).toEqual({ k: "v" });
    const cm = await t.api.get("configmaps", "app-cfg", "default");
    await expect(node.update("configmaps", { ...cm, data: { k: "w" } })).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403);
    // A pod of another node referencing it gives this node nothing.
    await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "other-cfg" }, data: { k: "v" } });
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "elsewhere" }, spec: { nodeName: "n2", containers: [{ name: "c", image: "i", envFrom: [{ configMapRef: { name: "other-cfg" } }] }] } });
    await expect(node.get("configmaps", "other-cfg", "default")).rejects.toSatisfy((e: unknown) => e instanceof ApiError && e.code === 403);
  });

  it("secrets - one sealed with a lost key: lists fail, a delete names the way out, the unsafe delete removes it unread", async () => {
    const ns = "lost-key";
    await t.api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    t.store.useTransformer(aesgcmTransformer("old", 1));
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "sealed", namespace: ns, finalizers: ["example.com/keep"] }, stringData: { a: "1" } }, ns);
    await t.api.create("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "readable", namespace: ns }, stringData: { b: "2" } }, ns);
    await t.api.create("configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kept", namespace: ns }, data: { c: "3" } }, ns);
    const w = await t.api.watch("secrets", { namespace: ns });
    const events = w[Symbol.asyncIterator]();
    // The key is lost: the configuration now has only a new one (and the value comes past the
    // watch cache again, as at a restart, by writing the same bytes).
    t.store.useTransformer(aesgcmTransformer("new", 2));
    const kv = await new Kvm(jetstream(t.nc)).open(STATE_BUCKET);
    await kv.put(storeKey("secrets", ns, "sealed"), await raw(ns, "sealed"));
    await expect(t.api.list("secrets", { namespace: ns })).rejects.toThrow(/secrets "lost-key\/sealed" cannot be read: .*no key named "old"/);

    // An ordinary delete (in-process and over NATS) is refused, names the option, and loses nothing.
    const sealed = await raw(ns, "sealed");
    for (const client of [t.api, t.remote]) {
      const e = await client.delete("secrets", "sealed", ns).catch((x) => x);
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).code).toBe(500);
      expect((e as ApiError).message).toMatch(/no key named "old".*; to delete it without reading it .*ignoreStoreReadErrorWithClusterBreakingPotential/);
    }
    expect(await raw(ns, "sealed")).toBe(sealed);

    // Deleting the namespace stops at the Secret it cannot read, names it and the way out.
    const nsErr = await t.api.delete("namespaces", ns).catch((x) => x);
    expect(nsErr).toBeInstanceOf(ApiError);
    expect((nsErr as ApiError).code).toBe(500);
    expect((nsErr as ApiError).message).toMatch(
      /^namespace "lost-key" was not deleted: secrets "lost-key\/sealed" cannot be read: .*no key named "old".*berth delete secret sealed -n lost-key --ignore-store-read-error-with-cluster-breaking-potential\), then the namespace again$/,
    );
    expect((nsErr as ApiError).details).toMatchObject({ name: "sealed", kind: "secrets" });
    expect(await raw(ns, "sealed")).toBe(sealed);
    // Stopped before deleting anything: the namespace's other content is all there.
    expect((await t.api.get("configmaps", "kept", ns)).data).toEqual({ c: "3" });
    expect((await t.api.get("namespaces", ns)).metadata.name).toBe(ns);

    // A malformed option over NATS is refused as such.
    await expect(t.remote.delete("secrets", "sealed", ns, { ignoreStoreReadErrorWithClusterBreakingPotential: "yes" as unknown as boolean })).rejects.toThrow(/must be a boolean/);
    // The unsafe delete (berth delete --ignore-store-read-error-with-cluster-breaking-potential,
    // over NATS, waiting until it is gone): done unread, finalizer or not.
    let out = "";
    await deleteCmd(t.remote, [{ resource: "secrets", name: "sealed", namespace: ns }], { unsafe: true }, (x) => void (out += x));
    expect(out).toBe('secret "sealed" deleted\n');
    expect((await kv.get(storeKey("secrets", ns, "sealed")))?.operation).toBe("DEL");
    let ev = (await events.next()).value;
    while (ev.type !== "DELETED") ev = (await events.next()).value;
    expect(ev.object.metadata).toMatchObject({ name: "sealed", namespace: ns });
    w.stop();

    // Lists work again; the option on a readable object is an ordinary delete.
    t.store.useTransformer(aesgcmTransformer("old", 1));
    expect((await t.api.list("secrets", { namespace: ns })).items.map((x) => x.metadata.name)).toEqual(["readable"]);
    const normal = await t.api.delete("secrets", "readable", ns, { ignoreStoreReadErrorWithClusterBreakingPotential: true });
    expect(normal.data).toEqual({ b: Buffer.from("2").toString("base64") });
    await expect(t.api.delete("secrets", "sealed", ns, { ignoreStoreReadErrorWithClusterBreakingPotential: true })).rejects.toThrow(/not found/);
    // Nothing unreadable left: the namespace goes.
    await t.api.delete("namespaces", ns);
    await expect(t.api.get("namespaces", ns)).rejects.toThrow(/not found/);
  });
});
