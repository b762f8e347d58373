/**
 * ServiceAccount tokens: bound, signed JWTs as kube-apiserver issues them (TokenRequest,
 * runtime/http/token_request.ts) and checks them (its service-account authenticator).
 *
 *   issue:  claims (iss, sub, aud, iat, nbf, exp, jti, "kubernetes.io") ──ES256, kid──▶ compact JWS
 *   verify: compact JWS ──alg ES256 only, kid ours, signature──▶ iss, aud, nbf/exp/iat with 60 s
 *           of skew, claim shapes ──▶ TokenClaims | undefined (never throws)
 *
 * The claims are those of kube's pkg/serviceaccount/claims.go: `sub` is
 * `system:serviceaccount:<ns>:<name>`, `aud` is always an array, and the private claim
 * `kubernetes.io` names the namespace, the service account (name and uid) and at most one bound
 * object (a pod — with the node it runs on —, a secret, or a node). The header's `kid` is
 * base64url(SHA-256(DER of the public key)), as kube's jwt.go derives it, so the same key always
 * has the same id. Whether the service account and the bound object still exist is the caller's
 * question (verify does no lookups).
 *
 * The signing key is one P-256 key: kept in `<home>/pki/sa.key` (PKCS8 PEM, 0600) beside the CA,
 * made on first use and reused, so tokens outlive a restart of the cluster with the same home;
 * or made in memory (`ephemeralServiceAccountTokens`) for clusters without a home and for tests.
 * Keys are made, read and checked with jose (WebCrypto); a token is signed with node:crypto's
 * one-shot `sign` on the thread pool, which both Node and Deno provide: WebCrypto's sign through
 * jose cost about 160 µs of CPU per token against 40 µs, and the kubelet asks for one token per
 * pod it starts.
 */
import { createPrivateKey, sign, type KeyObject } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { placeOnce, readIfExists } from "../security/home_files.ts";
import { exportJWK, exportPKCS8, exportSPKI, generateKeyPair, importJWK, importPKCS8, jwtVerify, type CryptoKey, type JWTPayload } from "jose";

/** An object a token is bound to: the token stops being valid when it is gone or re-created. */
export interface BoundObject {
  kind: "Pod" | "Secret" | "Node";
  name: string;
  uid: string;
}

/** What a valid token says, once its signature, issuer, audience and times have been checked. */
export interface TokenClaims {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  /** The object the token is bound to, if any. */
  bound?: BoundObject;
  /**
   * For a pod-bound token: the node the pod was running on when the token was issued (kube's
   * ServiceAccountTokenPodNodeInfo); `uid` is absent when that node object was not found.
   */
  node?: { name: string; uid?: string };
  audiences: string[];
  issuedAt: Date;
  expiresAt: Date;
  /** The token's id (`jti`). */
  id: string;
}

export interface IssueRequest {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  bound?: BoundObject;
  /** Only with a Pod `bound`: the node the pod runs on, recorded in the token beside the pod. */
  node?: { name: string; uid?: string };
  /** Default: [issuer]. */
  audiences?: string[];
  expirationSeconds: number;
  now?: Date;
}

export interface ServiceAccountTokens {
  /** The `iss` of every token issued; default `https://kubernetes.default.svc.cluster.local`. */
  readonly issuer: string;
  issue(req: IssueRequest): Promise<{ token: string; expirationTimestamp: string }>;
  /**
   * The claims of a token this issuer signed, still valid at `now` for one of `audiences`
   * (default [issuer]); undefined for anything else (not a JWT, another signer, expired, wrong
   * audience). Does not look the service account or bound object up: the caller does.
   */
  verify(token: string, opts?: { audiences?: string[]; now?: Date }): Promise<TokenClaims | undefined>;
}

/** kube-apiserver's default `--service-account-issuer` on a cluster whose domain is cluster.local. */
export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** Clock skew allowed on nbf, exp and iat: go-jose's jwt.DefaultLeeway, which kube uses. */
export const CLOCK_SKEW_SECONDS = 60;

/** The only algorithm issued and accepted. */
const ALG = "ES256";

/** Where the signing key lives under a home. */
export function signingKeyPath(home: string): string {
  return join(home, "pki", "sa.key");
}

/** The service-account username kube gives a token's subject. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/** The signing key in `<home>/pki/sa.key` could not be read as a P-256 PKCS8 key. Not retried: the file needs a person. */
export class ServiceAccountKeyError extends Error {
  constructor(readonly path: string, options?: { cause?: unknown }) {
    super(`${path} is not a P-256 (ES256) private key in PKCS8 PEM; move it away to have a new key made (tokens signed by the old key stop being valid)`, options);
    this.name = "ServiceAccountKeyError";
  }
}

/**
 * The token issuer of a home: its key from `<home>/pki/sa.key`, made there on first use (the
 * directory 0700, the key 0600, as `caFor` keeps the CA). Two processes starting at once on one
 * home agree on one key (runtime/security/home_files.ts).
 */
export async function loadServiceAccountTokens(home: string, opts: { issuer?: string } = {}): Promise<ServiceAccountTokens> {
  const path = signingKeyPath(home);
  mkdirSync(join(home, "pki"), { recursive: true, mode: 0o700 });
  const pem = readIfExists(path) ?? placeOnce(path, await exportPKCS8((await generateKeyPair(ALG, { extractable: true })).privateKey), 0o600);
  let privateKey: CryptoKey;
  try {
    privateKey = await importPKCS8(pem, ALG, { extractable: true });
  } catch (e) {
    throw new ServiceAccountKeyError(path, { cause: e });
  }
  return SigningKeyTokens.create(privateKey, opts.issuer ?? DEFAULT_ISSUER);
}

/** A token issuer with a fresh key held only in memory: its tokens die with it. */
export async function ephemeralServiceAccountTokens(opts: { issuer?: string } = {}): Promise<ServiceAccountTokens> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  return SigningKeyTokens.create(privateKey, opts.issuer ?? DEFAULT_ISSUER);
}

/** The key id kube's jwt.go gives a public key: base64url (unpadded) of SHA-256 over its PKIX DER. */
async function keyIdOf(publicKey: CryptoKey): Promise<string> {
  const pem = await exportSPKI(publicKey);
  const der = base64Decode(pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, ""));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return base64UrlEncode(digest);
}

function base64Decode(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function base64UrlEncode(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64Url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** A token longer than this is refused unread: ours are well under 2 KiB. */
const MAX_TOKEN_LENGTH = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** One ES256 key pair: signs with the private half, verifies with the public half. */
class SigningKeyTokens implements ServiceAccountTokens {
  private constructor(
    readonly issuer: string,
    /** The header `kid` of every token this key signs. */
    readonly keyId: string,
    private readonly signingKey: KeyObject,
    private readonly publicKey: CryptoKey,
  ) {}

  static async create(privateKey: CryptoKey, issuer: string): Promise<SigningKeyTokens> {
    // WebCrypto gives no public key from a private one; the JWK of the private key holds the point.
    const { kty, crv, x, y } = await exportJWK(privateKey);
    const publicKey = (await importJWK({ kty, crv, x, y }, ALG)) as CryptoKey;
    const signingKey = createPrivateKey(await exportPKCS8(privateKey));
    return new SigningKeyTokens(issuer, await keyIdOf(publicKey), signingKey, publicKey);
  }

  async issue(req: IssueRequest): Promise<{ token: string; expirationTimestamp: string }> {
    const secs = req.expirationSeconds;
    if (!Number.isSafeInteger(secs) || secs <= 0) throw new RangeError(`expirationSeconds must be a positive integer, not ${secs}`);
    if (req.node && req.bound?.kind !== "Pod") throw new TypeError("a token names the node of its pod only when it is bound to a pod");
    const iat = Math.floor((req.now ?? new Date()).getTime() / 1000);
    const exp = iat + secs;
    const audiences = req.audiences?.length ? [...req.audiences] : [this.issuer];
    const ref = (o: { name: string; uid?: string }) => ({ name: o.name, ...(o.uid ? { uid: o.uid } : {}) });
    const kube: Record<string, unknown> = {
      namespace: req.namespace,
      serviceaccount: ref(req.serviceAccount),
    };
    if (req.bound) kube[req.bound.kind.toLowerCase()] = ref(req.bound);
    if (req.node) kube.node = ref(req.node);
    const claims = {
      "kubernetes.io": kube,
      iss: this.issuer,
      sub: serviceAccountUsername(req.namespace, req.serviceAccount.name),
      // An array even for one audience, as kube writes it (go-jose's jwt.Audience).
      aud: audiences,
      iat,
      nbf: iat,
      exp,
      jti: crypto.randomUUID(),
    };
    // Compact JWS (RFC 7515): base64url(header).base64url(claims).base64url(r‖s), ES256's
    // signature being the two 32-byte integers side by side (IEEE P1363), not DER.
    const signed = `${base64Url(JSON.stringify({ alg: ALG, kid: this.keyId }))}.${base64Url(JSON.stringify(claims))}`;
    // With a callback, node:crypto signs on the thread pool: the API's thread only hands it over.
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign("sha256", Buffer.from(signed), { key: this.signingKey, dsaEncoding: "ieee-p1363" }, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    const token = `${signed}.${signature.toString("base64url")}`;
    return { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, "Z") };
  }

  async verify(token: string, opts: { audiences?: string[]; now?: Date } = {}): Promise<TokenClaims | undefined> {
    // Exactly three base64url parts: base64 decoders skip whitespace and padding, so a token
    // that is not byte for byte one we issued could otherwise pass.
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) return undefined;
    const now = opts.now ?? new Date();
    const audiences = opts.audiences?.length ? opts.audiences : [this.issuer];
    let payload: JWTPayload;
    let kid: unknown;
    try {
      const verified = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: this.issuer,
        audience: audiences,
        clockTolerance: CLOCK_SKEW_SECONDS,
        currentDate: now,
        requiredClaims: ["exp", "iat", "nbf", "jti"],
      });
      payload = verified.payload;
      kid = verified.protectedHeader.kid;
    } catch {
      // Absorbed on purpose: every reason a token is not ours or no longer valid means the same
      // to the caller (not authenticated), and kube does not tell the client which it was either.
      return undefined;
    }
    if (kid !== this.keyId) return undefined;
    // jose checks iat only against a maximum age; go-jose refuses a token issued in the future.
    if (typeof payload.iat !== "number" || payload.iat > Math.floor(now.getTime() / 1000) + CLOCK_SKEW_SECONDS) return undefined;
    return claimsOf(payload);
  }
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): v is string => typeof v === "string" && v !== "";

/** The typed claims of a verified payload, or undefined when its shape is not one this issuer writes. */
function claimsOf(p: JWTPayload): TokenClaims | undefined {
  const kube = obj(p["kubernetes.io"]);
  const sa = obj(kube?.serviceaccount);
  if (!kube || !sa || !str(kube.namespace) || !str(sa.name) || !str(sa.uid)) return undefined;
  if (p.sub !== serviceAccountUsername(kube.namespace, sa.name) || !str(p.jti)) return undefined;
  const aud = typeof p.aud === "string" ? [p.aud] : p.aud;
  if (!Array.isArray(aud) || !aud.every((a) => typeof a === "string")) return undefined;
  const refOf = (v: unknown, uidRequired: boolean): { name: string; uid?: string } | undefined | null => {
    if (v === undefined) return undefined;
    const r = obj(v);
    if (!r || !str(r.name) || (r.uid !== undefined && !str(r.uid)) || (uidRequired && !str(r.uid))) return null;
    return { name: r.name, ...(str(r.uid) ? { uid: r.uid } : {}) };
  };
  const pod = refOf(kube.pod, true);
  const secret = refOf(kube.secret, true);
  const node = refOf(kube.node, pod === undefined);
  if (pod === null || secret === null || node === null) return undefined;
  // At most one binding: a secret with anything else is not a token kube (or we) would sign.
  if (secret && (pod || node)) return undefined;
  const claims: TokenClaims = {
    namespace: kube.namespace,
    serviceAccount: { name: sa.name, uid: sa.uid },
    audiences: aud,
    issuedAt: new Date((p.iat as number) * 1000),
    expiresAt: new Date((p.exp as number) * 1000),
    id: p.jti,
  };
  if (pod) {
    claims.bound = { kind: "Pod", name: pod.name, uid: pod.uid! };
    if (node) claims.node = node;
  } else if (secret) {
    claims.bound = { kind: "Secret", name: secret.name, uid: secret.uid! };
  } else if (node) {
    claims.bound = { kind: "Node", name: node.name, uid: node.uid! };
  }
  return claims;
}
