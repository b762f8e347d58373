/**
 * The ServiceAccount token volume on disk (ProjectedVolumes with PodTokens) and in a container's
 * config (containerConfig): written with the configMap/secret volumes, failing as a FailedMount,
 * refreshed in place, removed with the pod. A fake API; a temporary pods directory; no tmpfs.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../../../../model/errors.ts";
import type { ConfigMap, Pod, Secret, ServiceAccount, TokenRequest } from "../../../../model/types.ts";
import { containerConfig } from "../../../../runtime/kubelet/container_config.ts";
import type { ConfigLookup } from "../../../../runtime/kubelet/env.ts";
import { NO_SIGNING_KEY_RECHECK_MS, PodTokens, SERVICE_ACCOUNT_MOUNT_PATH, TOKEN_EXPIRATION_SECONDS } from "../../../../runtime/kubelet/service_account_token.ts";
import { NO_SIGNING_KEY } from "../../../../runtime/api/token_request.ts";
import { ProjectedVolumes } from "../../../../runtime/kubelet/volumes_projected.ts";
import { memoLookup } from "../../../../runtime/kubelet/volume_refresh.ts";

const fields = { podIP: "10.0.0.2", hostIP: "127.0.0.1", nodeName: "n1" };

function pod(name: string, spec: Partial<Pod["spec"]> = {}): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "team-a", uid: `uid-${name}` }, spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }], ...spec } };
}

/** A fake cluster: its ConfigMaps and ServiceAccounts; tokens numbered; the signing key removable. */
function cluster() {
  const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
  const configmaps = new Map<string, ConfigMap>([["kube-root-ca.crt", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: "team-a" }, data: { "ca.crt": "CA-1" } }]]);
  const accounts = new Map<string, ServiceAccount>([["default", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "team-a" } }]]);
  const state = { signing: true, issued: 0, lookups: 0 };
  const lookup: ConfigLookup = async (resource, _ns, name) => {
    state.lookups++;
    return resource === "configmaps" ? configmaps.get(name) ?? null : (null as Secret | null);
  };
  const client = {
    get: async (_resource: string, name: string) => {
      const sa = accounts.get(name);
      if (!sa) throw new ApiError("NotFound", `serviceaccounts "${name}" not found`);
      return sa;
    },
    createToken: async (name: string, namespace: string): Promise<TokenRequest> => {
      if (!state.signing) throw new ApiError("NotFound", NO_SIGNING_KEY);
      if (!accounts.has(name)) throw new ApiError("NotFound", `serviceaccounts "${name}" not found`);
      state.issued++;
      return {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: { name, namespace, creationTimestamp: null },
        spec: { expirationSeconds: TOKEN_EXPIRATION_SECONDS },
        status: { token: `jwt-${state.issued}`, expirationTimestamp: new Date(clock.now + TOKEN_EXPIRATION_SECONDS * 1000).toISOString() },
      };
    },
  };
  const tokens = new PodTokens({ client: client as unknown as ConstructorParameters<typeof PodTokens>[0]["client"], now: () => clock.now, jitterMs: () => 0 });
  return { clock, configmaps, accounts, state, lookup, tokens };
}

describe("service account token volume on the node", () => {
  let podsDir: string;
  let c: ReturnType<typeof cluster>;
  let volumes: ProjectedVolumes;
  const dirOf = (p: Pod) => join(podsDir, p.metadata.uid!, "volumes", "berth~service-account-token", "kube-api-access");
  const read = (p: Pod, f: string) => readFileSync(join(dirOf(p), f), "utf8");

  beforeEach(() => {
    podsDir = mkdtempSync(join(tmpdir(), "sa-vol-"));
    c = cluster();
    volumes = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false, tokens: c.tokens });
  });
  afterEach(() => rmSync(podsDir, { recursive: true, force: true }));

  it("token volume - is written with token, ca.crt and namespace (0644) and mounted read-only into each container without its own mount there", async () => {
    const p = pod("web", {
      initContainers: [{ name: "init", image: "i" }],
      containers: [{ name: "app", image: "i" }, { name: "own", image: "i", volumeMounts: [{ name: "mine", mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }],
      volumes: [{ name: "mine", emptyDir: {} }],
    });
    const config = containerConfig(c.lookup, volumes);
    const results = await Promise.all([...p.spec.initContainers!, ...p.spec.containers].map((ct) => config.prepare(p, ct, fields, {})));
    expect(results.map((r) => r.type)).toEqual(["ok", "ok", "ok"]);
    const mounts = results.map((r) => (r.type === "ok" ? r.mounts : []));
    expect(mounts[0]).toEqual([{ type: "bind", source: dirOf(p), target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }]);
    expect(mounts[1]).toEqual(mounts[0]);
    expect(mounts[2]).toEqual([]); // the user's own mount at the path wins
    expect(read(p, "token")).toBe("jwt-1");
    expect(read(p, "ca.crt")).toBe("CA-1");
    expect(read(p, "namespace")).toBe("team-a");
    expect(readlinkSync(join(dirOf(p), "token"))).toBe("..data/token");
    const data = readlinkSync(join(dirOf(p), "..data"));
    for (const f of ["token", "ca.crt", "namespace"]) expect(statSync(join(dirOf(p), data, f)).mode & 0o777).toBe(0o644);
    // Three containers set up at once: one token asked for.
    expect(c.state.issued).toBe(1);
  });

  it("token volume - none for a pod that opts out, or whose account does", async () => {
    const out = pod("out", { automountServiceAccountToken: false });
    const config = containerConfig(c.lookup, volumes);
    expect(await config.prepare(out, out.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
    c.accounts.set("quiet", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "quiet", namespace: "team-a" }, automountServiceAccountToken: false });
    const quiet = pod("quiet", { serviceAccountName: "quiet" });
    expect(await config.prepare(quiet, quiet.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
    expect(existsSync(dirOf(out))).toBe(false);
    expect(existsSync(dirOf(quiet))).toBe(false);
    expect(c.state.issued).toBe(0);
  });

  it("token volume - no account: the container waits ContainerCreating with FailedMount, then starts once it is there", async () => {
    const config = containerConfig(c.lookup, volumes);
    const p = pod("waits", { serviceAccountName: "robot" });
    const r = await config.prepare(p, p.spec.containers[0], fields, {});
    const message = 'MountVolume.SetUp failed for volume "kube-api-access" : failed to fetch token: serviceaccounts "robot" not found';
    expect(r).toEqual({ type: "error", reason: "ContainerCreating", message, event: { type: "Warning", reason: "FailedMount", message } });
    expect(existsSync(dirOf(p))).toBe(false);
    c.accounts.set("robot", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot", namespace: "team-a" } });
    const ok = await config.prepare(p, p.spec.containers[0], fields, {});
    expect(ok.type === "ok" && ok.mounts.length).toBe(1);
    expect(read(p, "token")).toBe("jwt-1");
  });

  it("token volume - an API that issues no tokens: the pod runs without a token volume, and the node asks again only a minute later", async () => {
    const config = containerConfig(c.lookup, volumes);
    c.state.signing = false;
    const p = pod("keyless");
    expect(await config.prepare(p, p.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
    expect(existsSync(dirOf(p))).toBe(false);
    // The next pod is not even asked for; after a minute, a pod is (and gets a token once there is a key).
    c.state.signing = true;
    const q = pod("keyless-2");
    expect(await config.prepare(q, q.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
    expect(c.state.issued).toBe(0);
    c.clock.now += NO_SIGNING_KEY_RECHECK_MS;
    const r = pod("keyed");
    const ok = await config.prepare(r, r.spec.containers[0], fields, {});
    expect(ok.type === "ok" && ok.mounts.length).toBe(1);
    expect(c.state.issued).toBe(1);
    // The first pods keep what was decided for them.
    expect(await config.prepare(p, p.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
  });

  it("token volume - no account and no signing key: the pod runs without a token (there are none to wait for)", async () => {
    c.state.signing = false;
    const p = pod("nobody", { serviceAccountName: "ghost" });
    expect(await containerConfig(c.lookup, volumes).prepare(p, p.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
  });

  it("token volume - without kube-root-ca.crt the token and namespace are mounted, and ca.crt comes once it is published", async () => {
    c.configmaps.delete("kube-root-ca.crt");
    const p = pod("no-ca");
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(read(p, "token")).toBe("jwt-1");
    expect(existsSync(join(dirOf(p), "ca.crt"))).toBe(false);
    c.configmaps.set("kube-root-ca.crt", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: "team-a" }, data: { "ca.crt": "CA-1" } });
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(read(p, "ca.crt")).toBe("CA-1");
  });

  it("token volume - a refresh swaps in a new CA at once and a new token only when due, in the same directory", async () => {
    const p = pod("lives");
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    const firstData = readlinkSync(join(dirOf(p), "..data"));
    // Nothing changed: nothing written.
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(readlinkSync(join(dirOf(p), "..data"))).toBe(firstData);
    c.configmaps.get("kube-root-ca.crt")!.data = { "ca.crt": "CA-2" };
    expect(await volumes.ensure(p, fields)).toBeUndefined();
    expect(read(p, "ca.crt")).toBe("CA-2");
    expect(read(p, "token")).toBe("jwt-1");
    c.clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.5;
    await volumes.ensure(p, fields);
    expect(read(p, "token")).toBe("jwt-1");
    c.clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.31;
    await volumes.ensure(p, fields);
    expect(read(p, "token")).toBe("jwt-2");
    expect(volumes.hasTokenVolume(p.metadata.uid!)).toBe(true);
  });

  it("token volume - removed with the pod, and never made again for it", async () => {
    const p = pod("goes");
    await volumes.ensure(p, fields);
    expect(volumes.tokenDir(p)).toBe(dirOf(p));
    await volumes.cleanup(p.metadata.uid!);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
    expect(volumes.tokenDir(p)).toBeUndefined();
    expect(volumes.hasTokenVolume(p.metadata.uid!)).toBe(false);
    await volumes.ensure(p, fields);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
  });

  it("token volume - a clean-up waits for a set-up under way, which then leaves nothing behind", async () => {
    const p = pod("racing");
    const setUp = volumes.ensure(p, fields);
    const cleanUp = volumes.cleanup(p.metadata.uid!);
    await Promise.all([setUp, cleanUp]);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
  });

  it("token volume - without files (hollow nodes) the token is still requested and the mount still planned", async () => {
    const hollow = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false, tokens: c.tokens, tokenFiles: false });
    const p = pod("hollow");
    const r = await containerConfig(c.lookup, hollow).prepare(p, p.spec.containers[0], fields, {});
    expect(r.type === "ok" && r.mounts).toEqual([{ type: "bind", source: dirOf(p), target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }]);
    expect(c.state.issued).toBe(1);
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
    const q = pod("hollow-2", { serviceAccountName: "ghost" });
    expect((await containerConfig(c.lookup, hollow).prepare(q, q.spec.containers[0], fields, {})).type).toBe("error");
  });

  it("token volume - without PodTokens (tokens off) a pod gets none", async () => {
    const off = new ProjectedVolumes({ podsDir, lookup: c.lookup, tmpfs: false });
    const p = pod("plain");
    expect(await containerConfig(c.lookup, off).prepare(p, p.spec.containers[0], fields, {})).toEqual({ type: "ok", env: {}, mounts: [] });
    expect(existsSync(join(podsDir, p.metadata.uid!))).toBe(false);
  });

  it("refresh pass - reads each object once, however many pods name it", async () => {
    const pass = memoLookup(c.lookup);
    const got = await Promise.all([pass("configmaps", "team-a", "kube-root-ca.crt"), pass("configmaps", "team-a", "kube-root-ca.crt"), pass("configmaps", "team-b", "kube-root-ca.crt")]);
    expect(got[0]?.metadata.name).toBe("kube-root-ca.crt");
    expect(c.state.lookups).toBe(2);
  });
});
