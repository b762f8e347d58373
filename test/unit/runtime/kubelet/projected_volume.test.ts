/**
 * Projected volumes on the node: which files one holds (volume_files.ts, pure), the tokens its
 * `serviceAccountToken` sources get (PodTokens, keyed by pod, audience and life), and the volume
 * on disk (ProjectedVolumes: written atomically, refreshed in place, a FailedMount when a source
 * cannot be had, removed with the pod, apart from the pod's implicit token volume). A fake API; a
 * temporary pods directory; no tmpfs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../../../model/errors.ts";
import type { ConfigMap, Pod, Secret, ServiceAccount, TokenRequest, Volume } from "../../../../model/types.ts";
import { containerConfig } from "../../../../runtime/kubelet/container_config.ts";
import type { ConfigLookup, ConfigObjects } from "../../../../runtime/kubelet/env.ts";
import { containerSpec } from "../../../../runtime/kubelet/pod_spec.ts";
import { PodTokens, SERVICE_ACCOUNT_MOUNT_PATH } from "../../../../runtime/kubelet/service_account_token.ts";
import { holdsSecrets, volumeFiles } from "../../../../runtime/kubelet/volume_files.ts";
import { ProjectedVolumes } from "../../../../runtime/kubelet/volumes_projected.ts";

const fields = { podIP: "10.0.0.2", hostIP: "127.0.0.1", nodeName: "n1" };
const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (u: Uint8Array) => new TextDecoder().decode(u);

const cm = (name: string, data: Record<string, string>): ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "team-a" }, data });
const secret = (name: string, data: Record<string, string>): Secret => ({ apiVersion: "v1", kind: "Secret", metadata: { name, namespace: "team-a" }, data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])) });

/** A projected volume: a ConfigMap key, a whole Secret, the pod's labels, an audience-bound token. */
const ALL_IN_ONE: Volume = {
  name: "all-in-one",
  projected: {
    sources: [
      { configMap: { name: "app", items: [{ key: "level", path: "config/level", mode: 0o400 }] } },
      { secret: { name: "db" } },
      { downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
      { serviceAccountToken: { audience: "vault", expirationSeconds: 600, path: "vault-token" } },
    ],
  },
};

function pod(name: string, spec: Partial<Pod["spec"]> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "team-a", uid: `uid-${name}`, labels: { app: "web", tier: "front" } },
    spec: { nodeName: "n1", containers: [{ name: "c", image: "i", volumeMounts: [{ name: "all-in-one", mountPath: "/projected" }] }], volumes: [ALL_IN_ONE], ...spec },
  };
}

const objs = (configmaps: ConfigMap[], secrets: Secret[]): ConfigObjects => ({
  configmaps: new Map(configmaps.map((x) => [x.metadata.name, x])),
  secrets: new Map(secrets.map((x) => [x.metadata.name, x])),
});

describe("projected volume files", () => {
  const o = objs([cm("app", { level: "debug", other: "x" })], [secret("db", { password: "hunter2", user: "app" })]);

  it("projected volume files - each source's files in one volume: a ConfigMap item, every key of a Secret, the pod's labels, the token at its path", () => {
    const r = volumeFiles(pod("p"), ALL_IN_ONE, o, fields, new Map([[3, "jwt-vault"]]));
    expect(r.type).toBe("ok");
    const files = r.type === "ok" ? r.files : [];
    expect(files.map((f) => [f.path, text(f.content), f.mode])).toEqual([
      ["config/level", "debug", 0o400],
      ["password", "hunter2", 0o644],
      ["user", "app", 0o644],
      ["labels", 'app="web"\ntier="front"', 0o644],
      ["vault-token", "jwt-vault", 0o644],
    ]);
  });

  it("projected volume files - the volume's defaultMode is every file's that gives none, the token's too", () => {
    const v: Volume = { ...ALL_IN_ONE, projected: { ...ALL_IN_ONE.projected, defaultMode: 0o440 } };
    const r = volumeFiles(pod("p"), v, o, fields, new Map([[3, "jwt"]]));
    expect(r.type === "ok" && r.files.map((f) => f.mode)).toEqual([0o400, 0o440, 0o440, 0o440, 0o440]);
  });

  it("projected volume files - where two sources write one path the later wins (the kubelet's projected plugin)", () => {
    const v: Volume = { name: "v", projected: { sources: [{ configMap: { name: "app", items: [{ key: "level", path: "x" }] } }, { secret: { name: "db", items: [{ key: "user", path: "x" }] } }] } };
    const r = volumeFiles(pod("p"), v, o, fields);
    expect(r.type === "ok" && r.files.map((f) => [f.path, text(f.content)])).toEqual([["x", "app"]]);
  });

  it("projected volume files - a missing ConfigMap or Secret, or a missing key, fails unless optional", () => {
    const one = (src: NonNullable<Volume["projected"]>["sources"]) => volumeFiles(pod("p"), { name: "v", projected: { sources: src } }, o, fields);
    expect(one([{ configMap: { name: "gone" } }])).toEqual({ type: "error", message: 'configmap "gone" not found' });
    expect(one([{ secret: { name: "gone" } }])).toEqual({ type: "error", message: 'secret "gone" not found' });
    expect(one([{ configMap: { name: "app", items: [{ key: "nope", path: "n" }] } }])).toEqual({ type: "error", message: "configmap references non-existent config key: nope" });
    expect(one([{ configMap: { name: "gone", optional: true } }, { secret: { name: "db", optional: true, items: [{ key: "nope", path: "n" }, { key: "user", path: "u" }] } }])).toEqual({
      type: "ok",
      files: [{ path: "u", content: new TextEncoder().encode("app"), mode: 0o644 }],
    });
  });

  it("projected volume files - a token source without its token is an error, never an empty file", () => {
    expect(volumeFiles(pod("p"), ALL_IN_ONE, o, fields)).toEqual({ type: "error", message: "no token was fetched for sources[3]" });
  });

  it("projected volume files - a volume with a Secret or a token source lives on tmpfs; one of ConfigMaps and pod fields does not", () => {
    expect(holdsSecrets(ALL_IN_ONE)).toBe(true);
    expect(holdsSecrets({ name: "v", projected: { sources: [{ serviceAccountToken: { path: "t" } }] } })).toBe(true);
    expect(holdsSecrets({ name: "v", projected: { sources: [{ secret: { name: "s" } }] } })).toBe(true);
    expect(holdsSecrets({ name: "v", projected: { sources: [{ configMap: { name: "c" } }, { downwardAPI: { items: [] } }] } })).toBe(false);
  });

  it("projected volume files - the volume is bind-mounted read-only into the containers that mount it", () => {
    const p = pod("p");
    const spec = containerSpec(p, p.spec.containers[0], { node: "n1", sandboxId: "s", restartCount: 0, fields, env: {}, projectedDir: (v) => (v === "all-in-one" ? "/node/dir" : undefined) });
    expect(spec.mounts).toContainEqual({ type: "bind", source: "/node/dir", target: "/projected", readOnly: true });
  });
});

/** A fake cluster: ConfigMaps, Secrets and ServiceAccounts; every token request recorded. */
function cluster() {
  const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
  const configmaps = new Map<string, ConfigMap>([["app", cm("app", { level: "debug" })], ["kube-root-ca.crt", cm("kube-root-ca.crt", { "ca.crt": "CA-1" })]]);
  const secrets = new Map<string, Secret>([["db", secret("db", { password: "hunter2" })]]);
  const accounts = new Map<string, ServiceAccount>([["default", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "team-a" } }]]);
  const requests: { pod: string; audiences?: string[]; expirationSeconds: number }[] = [];
  const lookup: ConfigLookup = async (resource, _ns, name) => (resource === "configmaps" ? configmaps.get(name) ?? null : secrets.get(name) ?? null);
  const client = {
    get: async (_resource: string, name: string) => {
      const sa = accounts.get(name);
      if (!sa) throw new ApiError("NotFound", `serviceaccounts "${name}" not found`);
      return sa;
    },
    createToken: async (name: string, namespace: string, body: unknown): Promise<TokenRequest> => {
      if (!accounts.has(name)) throw new ApiError("NotFound", `serviceaccounts "${name}" not found`);
      const spec = (body as { spec: { audiences?: string[]; expirationSeconds: number; boundObjectRef: { name: string } } }).spec;
      requests.push({ pod: spec.boundObjectRef.name, ...(spec.audiences ? { audiences: spec.audiences } : {}), expirationSeconds: spec.expirationSeconds });
      return {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: { name, namespace, creationTimestamp: null },
        spec: { expirationSeconds: spec.expirationSeconds },
        status: { token: `jwt-${requests.length}-${spec.audiences?.[0] ?? "api"}`, expirationTimestamp: new Date(clock.now + spec.expirationSeconds * 1000).toISOString() },
      };
    },
  };
  const tokens = new PodTokens({ client: client as unknown as ConstructorParameters<typeof PodTokens>[0]["client"], now: () => clock.now, jitterMs: () => 0 });
  return { clock, configmaps, secrets, accounts, requests, lookup, tokens };
}

describe("projected volume tokens", () => {
  it("projected volume tokens - one token per pod and (audience, life), asked once while not due; the token volume's spec shared with a source asking the same", async () => {
    const c = cluster();
    const p = pod("p");
    const vault = { audience: "vault", expirationSeconds: 600 };
    const first = await Promise.all([c.tokens.token(p, vault), c.tokens.token(p, vault), c.tokens.token(p, { audience: "vault", expirationSeconds: 3600 }), c.tokens.token(p, { audience: "", expirationSeconds: 3607 })]);
    expect(first.map((r) => r.type === "ok" && r.token)).toEqual(["jwt-1-vault", "jwt-1-vault", "jwt-2-vault", "jwt-3-api"]);
    expect(c.requests).toEqual([
      { pod: "p", audiences: ["vault"], expirationSeconds: 600 },
      { pod: "p", audiences: ["vault"], expirationSeconds: 3600 },
      { pod: "p", expirationSeconds: 3607 },
    ]);
    // The token volume's token (no spec given) is the one asked for with the API's audience and 3607 s.
    expect(await c.tokens.token(p)).toEqual({ type: "ok", token: "jwt-3-api" });
    // Another pod has tokens of its own.
    expect(await c.tokens.token(pod("q"), vault)).toEqual({ type: "ok", token: "jwt-4-vault" });
    expect(c.requests).toHaveLength(4);
  });

  it("projected volume tokens - each token is renewed at 80 % of its own life; forget drops all of a pod's", async () => {
    const c = cluster();
    const p = pod("p");
    const short = { audience: "vault", expirationSeconds: 600 };
    const long = { audience: "vault", expirationSeconds: 3600 };
    await c.tokens.token(p, short);
    await c.tokens.token(p, long);
    c.clock.now += 479_000;
    expect((await c.tokens.token(p, short)).type === "ok" && c.requests.length).toBe(2);
    c.clock.now += 2_000; // past 80 % of 600 s, far from 80 % of 3600 s
    expect(await c.tokens.token(p, short)).toEqual({ type: "ok", token: "jwt-3-vault" });
    expect(await c.tokens.token(p, long)).toEqual({ type: "ok", token: "jwt-2-vault" });
    c.tokens.forget(p.metadata.uid!);
    expect(await c.tokens.token(p, long)).toEqual({ type: "ok", token: "jwt-4-vault" });
  });
});

describe("projected volume on the node", () => {
  let podsDir: string;
  let c: ReturnType<typeof cluster>;
  let volumes: ProjectedVolumes;
  const dirOf = (p: Pod, v = "all-in-one") => join(podsDir, p.metadata.uid!, "volumes", "kubernetes.io~projected", v);
  const tokenDirOf = (p: Pod) => join(podsDir, p.metadata.uid!, "volumes", "berth~service-account-token", "kube-api-access");
  const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");

  beforeEach(() => {
    podsDir = mkdtempSync(join(tmpdir(), "projected-vol-"));
    c = cluster();
    volumes = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false, tokens: c.tokens });
  });
  afterEach(() => rmSync(podsDir, { recursive: true, force: true }));

  it("projected volume - written with the ..data swap, its token bound to the pod with the source's audience and life", async () => {
    const p = pod("web");
    const r = await containerConfig(c.lookup, volumes).prepare(p, p.spec.containers[0], fields, {});
    expect(r.type).toBe("ok");
    const dir = dirOf(p);
    expect(read(dir, "config/level")).toBe("debug");
    expect(read(dir, "password")).toBe("hunter2");
    expect(read(dir, "labels")).toBe('app="web"\ntier="front"');
    expect(read(dir, "vault-token")).toBe("jwt-1-vault");
    expect(readlinkSync(join(dir, "vault-token"))).toBe("..data/vault-token");
    expect(statSync(join(dir, "config/level")).mode & 0o777).toBe(0o400);
    expect(c.requests[0]).toEqual({ pod: "web", audiences: ["vault"], expirationSeconds: 600 });
    expect(containerConfig(c.lookup, volumes).volumeDir(p, "all-in-one")).toBe(dir);
  });

  it("projected volume - a user volume named kube-api-access and the pod's implicit token volume are two directories, each with its own files", async () => {
    const own: Volume = { ...ALL_IN_ONE, name: "kube-api-access" };
    const p = pod("twins", { volumes: [own], containers: [{ name: "c", image: "i", volumeMounts: [{ name: "kube-api-access", mountPath: "/projected" }] }] });
    const r = await containerConfig(c.lookup, volumes).prepare(p, p.spec.containers[0], fields, {});
    expect(r.type === "ok" && r.mounts).toEqual([{ type: "bind", source: tokenDirOf(p), target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }]);
    expect(dirOf(p, "kube-api-access")).not.toBe(tokenDirOf(p));
    expect(read(dirOf(p, "kube-api-access"), "vault-token")).toBe("jwt-1-vault");
    expect(existsSync(join(dirOf(p, "kube-api-access"), "token"))).toBe(false);
    expect(read(tokenDirOf(p), "token")).toBe("jwt-2-api");
    expect(read(tokenDirOf(p), "ca.crt")).toBe("CA-1");
    expect(existsSync(join(tokenDirOf(p), "vault-token"))).toBe(false);
  });

  it("projected volume - a container mounting a user projected volume at the in-cluster path gets no implicit token mount", async () => {
    const p = pod("own-sa", { containers: [{ name: "c", image: "i", volumeMounts: [{ name: "all-in-one", mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }] });
    const r = await containerConfig(c.lookup, volumes).prepare(p, p.spec.containers[0], fields, {});
    expect(r.type === "ok" && r.mounts).toEqual([]);
  });

  it("projected volume - a ConfigMap edit and a token due are swapped in place, in the same directory", async () => {
    const p = pod("lives");
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    const dir = dirOf(p);
    const firstData = readlinkSync(join(dir, "..data"));
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(readlinkSync(join(dir, "..data"))).toBe(firstData); // nothing changed, nothing written
    c.configmaps.set("app", cm("app", { level: "info" }));
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(read(dir, "config/level")).toBe("info");
    expect(read(dir, "vault-token")).toBe("jwt-1-vault");
    c.clock.now += 481_000;
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(read(dir, "vault-token")).toMatch(/^jwt-\d+-vault$/);
    expect(read(dir, "vault-token")).not.toBe("jwt-1-vault");
    expect(readlinkSync(join(dir, "..data"))).not.toBe(firstData);
  });

  it("projected volume - a missing ConfigMap or Secret, or a token that cannot be had, keeps the container ContainerCreating with FailedMount", async () => {
    const config = containerConfig(c.lookup, volumes);
    const failed = (why: string) => {
      const message = `MountVolume.SetUp failed for volume "all-in-one" : ${why}`;
      return { type: "error", reason: "ContainerCreating", message, event: { type: "Warning", reason: "FailedMount", message } };
    };
    c.configmaps.delete("app");
    const p = pod("waits");
    expect(await config.prepare(p, p.spec.containers[0], fields, {})).toEqual(failed('configmap "app" not found'));
    expect(existsSync(dirOf(p))).toBe(false);
    c.configmaps.set("app", cm("app", { level: "debug" }));
    c.secrets.delete("db");
    expect(await config.prepare(p, p.spec.containers[0], fields, {})).toEqual(failed('secret "db" not found'));
    c.secrets.set("db", secret("db", { password: "hunter2" }));
    const robot = pod("robot", { serviceAccountName: "robot", automountServiceAccountToken: false });
    expect(await config.prepare(robot, robot.spec.containers[0], fields, {})).toEqual(failed('failed to fetch token: serviceaccounts "robot" not found'));
    expect((await config.prepare(p, p.spec.containers[0], fields, {})).type).toBe("ok");
    // A node without tokens cannot serve the source either.
    const tokenless = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false });
    const q = pod("tokenless");
    expect(await containerConfig(c.lookup, tokenless).prepare(q, q.spec.containers[0], fields, {})).toEqual(failed("failed to fetch token: this node requests no service account tokens"));
  });

  it("projected volume - removed with the pod, its tokens forgotten", async () => {
    const p = pod("goes");
    await volumes.ensure(p, fields);
    expect(existsSync(dirOf(p))).toBe(true);
    await volumes.cleanup(p.metadata.uid!);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
    await volumes.ensure(p, fields);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
  });

  it("projected volume - on a hollow node (no token files) its tokens are still asked for and its mount planned, its files not written", async () => {
    const hollow = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false, tokens: c.tokens, tokenFiles: false });
    const p = pod("hollow");
    expect((await containerConfig(c.lookup, hollow).prepare(p, p.spec.containers[0], fields, {})).type).toBe("ok");
    expect(c.requests.map((r) => r.audiences?.[0] ?? "api")).toEqual(expect.arrayContaining(["vault", "api"]));
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
    expect(hollow.dir(p, ALL_IN_ONE)).toBe(dirOf(p));
    // Without a token source it is written, as a ConfigMap volume is.
    const plain = pod("plain", { volumes: [{ name: "all-in-one", projected: { sources: [{ configMap: { name: "app" } }] } }] });
    await hollow.ensure(plain, fields);
    expect(read(dirOf(plain), "level")).toBe("debug");
  });
});
