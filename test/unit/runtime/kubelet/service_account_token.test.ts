import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ApiError } from "../../../../model/errors.ts";
import type { ConfigMap, Container, Pod, ServiceAccount, TokenRequest } from "../../../../model/types.ts";
import {
  automount,
  PodTokens,
  podTokenRequest,
  SERVICE_ACCOUNT_MOUNT_PATH,
  TOKEN_EXPIRATION_SECONDS,
  TOKEN_MAX_JITTER_MS,
  TOKEN_MAX_TTL_MS,
  tokenExpired,
  tokenMount,
  tokenRefreshDue,
  tokenVolumeFiles,
} from "../../../../runtime/kubelet/service_account_token.ts";

const pod = (spec: Partial<Pod["spec"]> = {}, namespace = "team-a"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace, uid: "uid-1" },
  spec: { containers: [{ name: "c", image: "i" }], ...spec },
});
const account = (automountServiceAccountToken?: boolean): ServiceAccount => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { name: "default", namespace: "team-a" },
  ...(automountServiceAccountToken === undefined ? {} : { automountServiceAccountToken }),
});
const caMap = (data: Record<string, string>): ConfigMap => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kube-root-ca.crt", namespace: "team-a" }, data });
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("service account token - automount decision", () => {
  it("service account token - the pod's own setting wins over its account's, either way", () => {
    expect(automount(pod({ automountServiceAccountToken: false }), account(true))).toEqual({ type: "skip" });
    expect(automount(pod({ automountServiceAccountToken: true }), account(false))).toEqual({ type: "mount" });
    // Settled by the pod: the account need not exist.
    expect(automount(pod({ automountServiceAccountToken: true }), null)).toEqual({ type: "mount" });
  });

  it("service account token - a pod that does not say follows its account, and mounts when neither says", () => {
    expect(automount(pod(), account(false))).toEqual({ type: "skip" });
    expect(automount(pod(), account(true))).toEqual({ type: "mount" });
    expect(automount(pod(), account(undefined))).toEqual({ type: "mount" });
  });

  it("service account token - a missing account leaves nothing decided: the pod's FailedMount names it", () => {
    expect(automount(pod({ serviceAccountName: "robot" }), null)).toEqual({ type: "error", message: 'failed to fetch token: serviceaccounts "robot" not found' });
    expect(automount(pod(), null)).toEqual({ type: "error", message: 'failed to fetch token: serviceaccounts "default" not found' });
  });
});

describe("service account token - which containers mount it", () => {
  const c = (mountPaths: string[] = []): Container => ({ name: "c", image: "i", volumeMounts: mountPaths.map((m, i) => ({ name: `v${i}`, mountPath: m })) });

  it("service account token - every container without a mount at the path gets it, read-only", () => {
    expect(tokenMount(c(), "/pods/u/tok")).toEqual({ type: "bind", source: "/pods/u/tok", target: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true });
    expect(tokenMount(c(["/data", "/var/run/secrets"]), "/s")?.target).toBe(SERVICE_ACCOUNT_MOUNT_PATH);
    expect(tokenMount(c([`${SERVICE_ACCOUNT_MOUNT_PATH}/token`]), "/s")?.target).toBe(SERVICE_ACCOUNT_MOUNT_PATH);
  });

  it("service account token - a user's own mount at the path wins (with or without a trailing slash)", () => {
    expect(tokenMount(c([SERVICE_ACCOUNT_MOUNT_PATH]), "/s")).toBeUndefined();
    expect(tokenMount(c(["/data", `${SERVICE_ACCOUNT_MOUNT_PATH}/`]), "/s")).toBeUndefined();
  });
});

describe("service account token - renewal timing (the kubelet's token manager)", () => {
  const issuedAt = Date.parse("2026-12-01T10:00:00Z");
  const token = (lifeSeconds: number) => ({ token: "t", expirationSeconds: lifeSeconds, expirationTimestamp: new Date(issuedAt + lifeSeconds * 1000).toISOString() });
  const life = TOKEN_EXPIRATION_SECONDS * 1000;

  it("service account token - is renewed once 80 % of its life has passed, not before", () => {
    const t = token(TOKEN_EXPIRATION_SECONDS);
    expect(tokenRefreshDue(t, issuedAt)).toBe(false);
    expect(tokenRefreshDue(t, issuedAt + life * 0.79)).toBe(false);
    expect(tokenRefreshDue(t, issuedAt + life * 0.81)).toBe(true);
    expect(tokenExpired(t, issuedAt + life * 0.81)).toBe(false);
    expect(tokenExpired(t, issuedAt + life)).toBe(true);
  });

  it("service account token - a long-lived token is renewed after 24 h", () => {
    const t = token(7 * 24 * 3600);
    expect(tokenRefreshDue(t, issuedAt + TOKEN_MAX_TTL_MS - 60_000)).toBe(false);
    expect(tokenRefreshDue(t, issuedAt + TOKEN_MAX_TTL_MS + 1)).toBe(true);
  });

  it("service account token - jitter only moves the renewal earlier, by at most 10 s", () => {
    fc.assert(fc.property(fc.integer({ min: 600, max: 10 * 24 * 3600 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: TOKEN_MAX_JITTER_MS, noNaN: true }), (seconds, at, jitter) => {
      const t = token(seconds);
      const now = issuedAt + at * seconds * 1000;
      // Due without jitter → due with it; due with it → due without it 10 s later.
      if (tokenRefreshDue(t, now, 0)) expect(tokenRefreshDue(t, now, jitter)).toBe(true);
      if (tokenRefreshDue(t, now, jitter)) expect(tokenRefreshDue(t, now + TOKEN_MAX_JITTER_MS + 1, 0)).toBe(true);
    }));
  });

  it("service account token - an unreadable expiration is due and expired", () => {
    const t = { token: "t", expirationSeconds: 3600, expirationTimestamp: "soon" };
    expect(tokenRefreshDue(t, issuedAt)).toBe(true);
    expect(tokenExpired(t, issuedAt)).toBe(true);
  });
});

describe("service account token - the volume's files", () => {
  it("service account token - token, ca.crt and namespace, each 0644", () => {
    const r = tokenVolumeFiles(pod(), "jwt", caMap({ "ca.crt": "-----BEGIN CERTIFICATE-----\n" }));
    expect(r.type).toBe("ok");
    if (r.type !== "ok") return;
    expect(r.files.map((f) => [f.path, text(f.content), f.mode.toString(8)])).toEqual([
      ["ca.crt", "-----BEGIN CERTIFICATE-----\n", "644"],
      ["namespace", "team-a", "644"],
      ["token", "jwt", "644"],
    ]);
  });

  it("service account token - without the CA ConfigMap or its key, the files are the token and the namespace", () => {
    for (const ca of [null, caMap({ other: "x" })]) {
      const r = tokenVolumeFiles(pod(), "jwt", ca);
      expect(r.type === "ok" && r.files.map((f) => f.path)).toEqual(["namespace", "token"]);
    }
  });

  it("service account token - the request is kube's: 3607 s, bound to the pod by name and uid", () => {
    expect(podTokenRequest(pod())).toEqual({
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3607, boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "uid-1" } },
    });
  });
});

/** A fake API: ServiceAccounts by name; tokens numbered, issued at the fake clock; failures on demand. */
function fakeClient(clock: { now: number }, accounts: Record<string, ServiceAccount> = { default: account(undefined) }) {
  const calls = { get: 0, createToken: 0 };
  let fail: ApiError | undefined;
  const client = {
    get: async (resource: string, name: string) => {
      calls.get++;
      if (resource !== "serviceaccounts" || !accounts[name]) throw new ApiError("NotFound", `serviceaccounts "${name}" not found`);
      return accounts[name];
    },
    createToken: async (name: string, namespace: string, request: unknown): Promise<TokenRequest> => {
      calls.createToken++;
      await Promise.resolve();
      if (fail) throw fail;
      const seconds = (request as { spec: { expirationSeconds: number } }).spec.expirationSeconds;
      return {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: { name, namespace, creationTimestamp: null },
        spec: { expirationSeconds: seconds },
        status: { token: `token-${calls.createToken}`, expirationTimestamp: new Date(clock.now + seconds * 1000).toISOString() },
      };
    },
  };
  return { client: client as unknown as ConstructorParameters<typeof PodTokens>[0]["client"], calls, failWith: (e?: ApiError) => (fail = e) };
}

describe("service account token - per-pod state (PodTokens)", () => {
  it("service account token - decides once per pod, reading the account only when the pod does not say", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const { client, calls } = fakeClient(clock, { default: account(false) });
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0 });
    expect(await tokens.automount(pod())).toEqual({ type: "skip" });
    expect(await tokens.automount(pod())).toEqual({ type: "skip" });
    expect(calls.get).toBe(1);
    expect(tokens.decided("uid-1")).toBe(false);
    const own = { ...pod({ automountServiceAccountToken: true }), metadata: { name: "q", namespace: "team-a", uid: "uid-2" } };
    expect(await tokens.automount(own)).toEqual({ type: "mount" });
    expect(calls.get).toBe(1);
  });

  it("service account token - a burst of pods of one account reads it once; after 10 s it is read again", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const accounts: Record<string, ServiceAccount> = { default: account(undefined) };
    const { client, calls } = fakeClient(clock, accounts);
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0 });
    const podN = (i: number): Pod => ({ ...pod(), metadata: { name: `p${i}`, namespace: "team-a", uid: `u${i}` } });
    expect((await Promise.all([0, 1, 2].map((i) => tokens.automount(podN(i))))).map((d) => d.type)).toEqual(["mount", "mount", "mount"]);
    expect(calls.get).toBe(1);
    accounts.default = account(false);
    clock.now += 10_000;
    expect(await tokens.automount(podN(3))).toEqual({ type: "skip" });
    expect(calls.get).toBe(2);
    // Decided pods keep their decision (kube's admission fixed it when they were made).
    expect(await tokens.automount(podN(0))).toEqual({ type: "mount" });
  });

  it("service account token - a missing account is retried (not remembered) and decided once it exists", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const accounts: Record<string, ServiceAccount> = {};
    const { client } = fakeClient(clock, accounts);
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0 });
    expect((await tokens.automount(pod())).type).toBe("error");
    expect(tokens.decided("uid-1")).toBeUndefined();
    accounts.default = account(undefined);
    expect(await tokens.automount(pod())).toEqual({ type: "mount" });
  });

  it("service account token - one request for concurrent asks; the token is held until due, then renewed", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const { client, calls } = fakeClient(clock);
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0 });
    await tokens.automount(pod());
    const [a, b] = await Promise.all([tokens.token(pod()), tokens.token(pod())]);
    expect(a).toEqual({ type: "ok", token: "token-1" });
    expect(b).toEqual(a);
    expect(calls.createToken).toBe(1);
    clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.5;
    expect(await tokens.token(pod())).toEqual({ type: "ok", token: "token-1" });
    clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.35; // 85 % of its life
    expect(await tokens.token(pod())).toEqual({ type: "ok", token: "token-2" });
    expect(calls.createToken).toBe(2);
  });

  it("service account token - a failed renewal keeps the token until it expires, then the failure is the answer", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const { client, failWith } = fakeClient(clock);
    const logged: string[] = [];
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0, log: (m) => logged.push(m) });
    await tokens.automount(pod());
    expect(await tokens.token(pod())).toEqual({ type: "ok", token: "token-1" });
    failWith(new ApiError("ServiceUnavailable", "no signing key"));
    clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.9;
    expect(await tokens.token(pod())).toEqual({ type: "ok", token: "token-1" });
    expect(logged).toEqual(["service account token not renewed; keeping the current one"]);
    clock.now += TOKEN_EXPIRATION_SECONDS * 1000 * 0.2;
    expect(await tokens.token(pod())).toEqual({ type: "error", message: "failed to fetch token: no signing key" });
  });

  it("service account token - forget and prune drop a pod's decision and token", async () => {
    const clock = { now: Date.parse("2026-12-01T10:00:00Z") };
    const { client, calls } = fakeClient(clock);
    const tokens = new PodTokens({ client, now: () => clock.now, jitterMs: () => 0 });
    await tokens.automount(pod());
    await tokens.token(pod());
    tokens.prune(() => true);
    expect(tokens.decided("uid-1")).toBe(true);
    tokens.prune(() => false);
    expect(tokens.decided("uid-1")).toBeUndefined();
    await tokens.automount(pod());
    await tokens.token(pod());
    expect(calls.createToken).toBe(2);
  });
});
