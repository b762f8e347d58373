/**
 * ServiceAccount tokens (runtime/auth/sa_tokens.ts): what an issued token says, byte for byte as
 * kube-apiserver writes it (claims.go, jwt.go), and every way a token that is not ours, no
 * longer valid or not for this audience is refused — with undefined, never an exception. The key
 * lives in `<home>/pki/sa.key` and survives a restart.
 */
import { Buffer } from "node:buffer";
import { createHash, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SignJWT, UnsecuredJWT, importPKCS8 } from "jose";
import {
  CLOCK_SKEW_SECONDS, DEFAULT_ISSUER, ServiceAccountKeyError, ephemeralServiceAccountTokens, loadServiceAccountTokens, signingKeyPath,
  type IssueRequest, type ServiceAccountTokens,
} from "../../../../runtime/auth/sa_tokens.ts";

const NOW = new Date("2026-12-04T12:00:00Z");
const T0 = NOW.getTime() / 1000;
const at = (secondsFromNow: number) => new Date((T0 + secondsFromNow) * 1000);

const REQ: IssueRequest = {
  namespace: "shop",
  serviceAccount: { name: "robot", uid: "sa-uid" },
  expirationSeconds: 3600,
  now: NOW,
};

const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split(".")[i], "base64url").toString("utf8"));
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

const homes: string[] = [];
function home(): string {
  const h = mkdtempSync(join(tmpdir(), "berth-sa-"));
  homes.push(h);
  return h;
}
afterEach(() => {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

/** Signs `payload` with the home's own key, header as given: tokens only the key's holder could make. */
async function signWithHomeKey(h: string, payload: Record<string, unknown>, header: Record<string, unknown>): Promise<string> {
  const key = await importPKCS8(readFileSync(signingKeyPath(h), "utf8"), "ES256");
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", ...header }).sign(key);
}

/** The kid kube's jwt.go gives a key, computed here with node:crypto from the PEM on disk. */
function kubeKeyId(pem: string): string {
  const der = createPublicKey(pem).export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64url");
}

describe("sa tokens - what a token says", () => {
  it("sa tokens - issue then verify gives back the service account, the binding, the audiences and the times", async () => {
    const tokens = await ephemeralServiceAccountTokens();
    const { token, expirationTimestamp } = await tokens.issue({
      ...REQ,
      bound: { kind: "Pod", name: "web-1", uid: "pod-uid" },
      node: { name: "node-1", uid: "node-uid" },
      audiences: ["vault", "api"],
    });
    expect(expirationTimestamp).toBe("2026-12-04T13:00:00Z");
    const claims = await tokens.verify(token, { audiences: ["api"], now: at(10) });
    expect(claims).toEqual({
      namespace: "shop",
      serviceAccount: { name: "robot", uid: "sa-uid" },
      bound: { kind: "Pod", name: "web-1", uid: "pod-uid" },
      node: { name: "node-1", uid: "node-uid" },
      audiences: ["vault", "api"],
      issuedAt: NOW,
      expiresAt: at(3600),
      id: part(token, 1).jti,
    });
  });

  it("sa tokens - the claims are kube's: iss, sub, aud as an array, iat = nbf, exp, a UUID jti and kubernetes.io; the header names ES256 and the key", async () => {
    const tokens = await ephemeralServiceAccountTokens({ issuer: "https://berth.example" });
    const { token } = await tokens.issue({ ...REQ, bound: { kind: "Secret", name: "s", uid: "secret-uid" }, expirationSeconds: 600 });
    const header = part(token, 0);
    expect(header).toEqual({ alg: "ES256", kid: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const payload = part(token, 1);
    expect(payload).toEqual({
      iss: "https://berth.example",
      sub: "system:serviceaccount:shop:robot",
      aud: ["https://berth.example"],
      iat: T0,
      nbf: T0,
      exp: T0 + 600,
      jti: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      "kubernetes.io": { namespace: "shop", serviceaccount: { name: "robot", uid: "sa-uid" }, secret: { name: "s", uid: "secret-uid" } },
    });
    // Every token its own id.
    expect(part((await tokens.issue(REQ)).token, 1).jti).not.toBe(payload.jti);
    // The default issuer is kube-apiserver's for cluster.local.
    expect((await ephemeralServiceAccountTokens()).issuer).toBe(DEFAULT_ISSUER);
    expect(DEFAULT_ISSUER).toBe("https://kubernetes.default.svc.cluster.local");
  });

  it("sa tokens - a node-bound token and an unbound one: kubernetes.io names only what is bound", async () => {
    const tokens = await ephemeralServiceAccountTokens();
    const nodeBound = await tokens.issue({ ...REQ, bound: { kind: "Node", name: "node-1", uid: "node-uid" } });
    expect(part(nodeBound.token, 1)["kubernetes.io"]).toEqual({ namespace: "shop", serviceaccount: { name: "robot", uid: "sa-uid" }, node: { name: "node-1", uid: "node-uid" } });
    expect((await tokens.verify(nodeBound.token, { now: NOW }))?.bound).toEqual({ kind: "Node", name: "node-1", uid: "node-uid" });
    const plain = await tokens.issue(REQ);
    expect(Object.keys(part(plain.token, 1)["kubernetes.io"])).toEqual(["namespace", "serviceaccount"]);
    const claims = await tokens.verify(plain.token, { now: NOW });
    expect(claims?.bound).toBeUndefined();
    expect(claims?.node).toBeUndefined();
    // A pod's node without its uid (the node object was gone) is still named.
    const podOnGoneNode = await tokens.issue({ ...REQ, bound: { kind: "Pod", name: "p", uid: "pod-uid" }, node: { name: "gone" } });
    expect((await tokens.verify(podOnGoneNode.token, { now: NOW }))?.node).toEqual({ name: "gone" });
  });

  it("sa tokens - issue refuses a non-positive or fractional lifetime and a node beside anything but a pod", async () => {
    const tokens = await ephemeralServiceAccountTokens();
    await expect(tokens.issue({ ...REQ, expirationSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(tokens.issue({ ...REQ, expirationSeconds: 1.5 })).rejects.toThrow(RangeError);
    await expect(tokens.issue({ ...REQ, node: { name: "n" } })).rejects.toThrow(TypeError);
  });
});

describe("sa tokens - what verify refuses (undefined, never a throw)", () => {
  let tokens: ServiceAccountTokens;
  let token: string;
  const setup = async () => {
    tokens = await ephemeralServiceAccountTokens();
    token = (await tokens.issue(REQ)).token;
  };

  it("sa tokens - expired: valid up to 60 s past exp (kube's leeway), not after", async () => {
    await setup();
    expect(CLOCK_SKEW_SECONDS).toBe(60);
    expect(await tokens.verify(token, { now: at(3600 + 59) })).toBeDefined();
    expect(await tokens.verify(token, { now: at(3600 + 61) })).toBeUndefined();
    expect(await tokens.verify(token, { now: at(86_400) })).toBeUndefined();
  });

  it("sa tokens - not yet valid: accepted 60 s before nbf (a clock behind), refused earlier", async () => {
    await setup();
    expect(await tokens.verify(token, { now: at(-59) })).toBeDefined();
    expect(await tokens.verify(token, { now: at(-61) })).toBeUndefined();
  });

  it("sa tokens - issued in the future beyond the skew: refused even when nbf has passed", async () => {
    const h = home();
    const t = await loadServiceAccountTokens(h);
    const good = part((await t.issue(REQ)).token, 1);
    const kid = part((await t.issue(REQ)).token, 0).kid;
    const future = await signWithHomeKey(h, { ...good, iat: T0 + 120, nbf: T0 - 10 }, { kid });
    expect(await t.verify(future, { now: NOW })).toBeUndefined();
    const justAhead = await signWithHomeKey(h, { ...good, iat: T0 + 30, nbf: T0 - 10 }, { kid });
    expect(await t.verify(justAhead, { now: NOW })).toBeDefined();
  });

  it("sa tokens - wrong audience: the default asks for the issuer; a token for others is refused, one of several matching is enough", async () => {
    tokens = await ephemeralServiceAccountTokens();
    const forVault = (await tokens.issue({ ...REQ, audiences: ["vault"] })).token;
    expect(await tokens.verify(forVault, { now: NOW })).toBeUndefined();
    expect(await tokens.verify(forVault, { now: NOW, audiences: ["api", "other"] })).toBeUndefined();
    expect(await tokens.verify(forVault, { now: NOW, audiences: ["other", "vault"] })).toBeDefined();
    const forIssuer = (await tokens.issue(REQ)).token;
    expect(await tokens.verify(forIssuer, { now: NOW })).toBeDefined();
    expect(await tokens.verify(forIssuer, { now: NOW, audiences: ["vault"] })).toBeUndefined();
    // An empty list is the default, not "any audience".
    expect(await tokens.verify(forVault, { now: NOW, audiences: [] })).toBeUndefined();
  });

  it("sa tokens - another key's token is refused, even with the same issuer", async () => {
    await setup();
    const other = await ephemeralServiceAccountTokens();
    expect(await other.verify(token, { now: NOW })).toBeUndefined();
    expect(await tokens.verify((await other.issue(REQ)).token, { now: NOW })).toBeUndefined();
  });

  it("sa tokens - another issuer's token is refused, even signed by the same key", async () => {
    const h = home();
    const ours = await loadServiceAccountTokens(h);
    const theirs = await loadServiceAccountTokens(h, { issuer: "https://elsewhere.example" });
    const t = (await theirs.issue({ ...REQ, audiences: [DEFAULT_ISSUER] })).token;
    expect(await theirs.verify(t, { now: NOW, audiences: [DEFAULT_ISSUER] })).toBeDefined();
    expect(await ours.verify(t, { now: NOW })).toBeUndefined();
  });

  it("sa tokens - a tampered payload fails the signature", async () => {
    await setup();
    const [h, p, s] = token.split(".");
    const claims = part(token, 1);
    const elevated = b64url({ ...claims, "kubernetes.io": { ...claims["kubernetes.io"], namespace: "kube-system" }, sub: "system:serviceaccount:kube-system:robot" });
    expect(await tokens.verify(`${h}.${elevated}.${s}`, { now: NOW })).toBeUndefined();
    const longer = b64url({ ...claims, exp: claims.exp + 86_400 });
    expect(await tokens.verify(`${h}.${longer}.${s}`, { now: at(3700) })).toBeUndefined();
    // Untouched, it is fine.
    expect(await tokens.verify(`${h}.${p}.${s}`, { now: NOW })).toBeDefined();
  });

  it("sa tokens - alg none and other algorithms are refused", async () => {
    await setup();
    const claims = part(token, 1);
    const unsecured = new UnsecuredJWT(claims).encode();
    expect(await tokens.verify(unsecured, { now: NOW })).toBeUndefined();
    const kid = part(token, 0).kid;
    expect(await tokens.verify(`${b64url({ alg: "none", kid })}.${b64url(claims)}.`, { now: NOW })).toBeUndefined();
    expect(await tokens.verify(`${b64url({ alg: "none", kid })}.${token.split(".")[1]}.${token.split(".")[2]}`, { now: NOW })).toBeUndefined();
    // HS256 keyed with something public (the algorithm-confusion attack).
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid }).sign(new TextEncoder().encode(kid));
    expect(await tokens.verify(hs, { now: NOW })).toBeUndefined();
  });

  it("sa tokens - garbage is refused without a throw", async () => {
    await setup();
    for (const g of ["", "abc", "a.b.c", "..", `${token}.extra`, token.slice(0, -5), "x".repeat(100_000), `${token} `]) {
      expect(await tokens.verify(g, { now: NOW }), JSON.stringify(g.slice(0, 20))).toBeUndefined();
    }
    for (const g of [undefined, null, 42, {}, ["a"]]) {
      expect(await tokens.verify(g as unknown as string, { now: NOW })).toBeUndefined();
    }
  });

  it("sa tokens - signed by our key but not our header or claims: a foreign kid, a subject that is not the service account, no kubernetes.io, no exp", async () => {
    const h = home();
    const t = await loadServiceAccountTokens(h);
    const good = await t.issue(REQ);
    const claims = part(good.token, 1);
    const kid = part(good.token, 0).kid;
    expect(await t.verify(await signWithHomeKey(h, claims, { kid }), { now: NOW })).toBeDefined();
    expect(await t.verify(await signWithHomeKey(h, claims, { kid: "someone-else" }), { now: NOW })).toBeUndefined();
    expect(await t.verify(await signWithHomeKey(h, claims, {}), { now: NOW })).toBeUndefined();
    expect(await t.verify(await signWithHomeKey(h, { ...claims, sub: "system:serviceaccount:kube-system:admin" }, { kid }), { now: NOW })).toBeUndefined();
    const { "kubernetes.io": _k, ...noKube } = claims;
    expect(await t.verify(await signWithHomeKey(h, noKube, { kid }), { now: NOW })).toBeUndefined();
    const { exp: _e, ...noExp } = claims;
    expect(await t.verify(await signWithHomeKey(h, noExp, { kid }), { now: NOW })).toBeUndefined();
    const both = { ...claims["kubernetes.io"], secret: { name: "s", uid: "u" }, pod: { name: "p", uid: "u" } };
    expect(await t.verify(await signWithHomeKey(h, { ...claims, "kubernetes.io": both }, { kid }), { now: NOW })).toBeUndefined();
  });
});

describe("sa tokens - the key in the home", () => {
  it("sa tokens - made on first use as <home>/pki/sa.key (PKCS8 PEM, 0600, in a 0700 pki), and reused: tokens outlive a restart", async () => {
    const h = home();
    const first = await loadServiceAccountTokens(h);
    const path = join(h, "pki", "sa.key");
    expect(signingKeyPath(h)).toBe(path);
    const pem = readFileSync(path, "utf8");
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n?$/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(h, "pki")).mode & 0o777).toBe(0o700);
    const { token } = await first.issue(REQ);

    const again = await loadServiceAccountTokens(h);
    expect(readFileSync(path, "utf8")).toBe(pem);
    expect(await again.verify(token, { now: NOW })).toMatchObject({ namespace: "shop", serviceAccount: { name: "robot", uid: "sa-uid" } });
    // The kid is kube's: base64url(SHA-256(public key DER)), the same after a restart.
    expect(part(token, 0).kid).toBe(kubeKeyId(pem));
    expect(part((await again.issue(REQ)).token, 0).kid).toBe(kubeKeyId(pem));
    // Another home, another key.
    expect(await (await loadServiceAccountTokens(home())).verify(token, { now: NOW })).toBeUndefined();
  });

  it("sa tokens - two loads racing on a fresh home agree on one key", async () => {
    const h = home();
    const loads = await Promise.all([1, 2, 3, 4].map(() => loadServiceAccountTokens(h)));
    const { token } = await loads[0].issue(REQ);
    for (const l of loads) expect(await l.verify(token, { now: NOW })).toBeDefined();
    // Nothing but the key is left behind.
    expect(readdirSync(join(h, "pki"))).toEqual(["sa.key"]);
  });

  it("sa tokens - a key file that is not a P-256 PKCS8 key is an error naming the file, and is left alone", async () => {
    const h = home();
    await loadServiceAccountTokens(h);
    writeFileSync(signingKeyPath(h), "not a key\n");
    const err = await loadServiceAccountTokens(h).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceAccountKeyError);
    expect((err as Error).message).toContain(signingKeyPath(h));
    expect(readFileSync(signingKeyPath(h), "utf8")).toBe("not a key\n");
  });
});
