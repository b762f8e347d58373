/**
 * The API server's transport security, as `berth up` sets it up: a private CA, a server
 * certificate for the loopback names signed by it, a random bearer token, and a kubeconfig that
 * carries the CA and the token so kubectl and @kubernetes/client-node verify the server as is.
 *
 * Certificates are built with @peculiar/x509 over WebCrypto (ECDSA P-256, SHA-256), so the same
 * code runs on Node 20 and Deno; no ASN.1 is written by hand. Everything is PEM strings.
 */
// @peculiar/x509 (through tsyringe) needs a Reflect metadata polyfill loaded before it.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { randomBytes, timingSafeEqual, createHash, webcrypto } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { stringify } from "yaml";
import { isIP } from "node:net";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
// webcrypto is the standard Crypto at run time; Node's and the DOM's typings of it differ.
x509.cryptoProvider.set(crypto as never);

const KEY_ALG = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN_ALG = { name: "ECDSA", hash: "SHA-256" } as const;

/** A certificate and its private key, both PEM (the key as PKCS#8 "PRIVATE KEY"). */
export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;

async function newKeys(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(KEY_ALG, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function keyToPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function pemToKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  return crypto.subtle.importKey("pkcs8", der, KEY_ALG, false, ["sign"]);
}

/** Positive, random 16-byte serial (hex), as RFC 5280 asks. */
function serial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01;
  return b.toString("hex");
}

/** A self-signed CA valid for ten years (backdated an hour to tolerate clock skew). */
export async function generateCa(opts: { commonName?: string; validDays?: number } = {}): Promise<CertKeyPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? "berth-ca"}`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + (opts.validDays ?? 3650) * DAY),
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await keyToPem(keys.privateKey) };
}

/**
 * A server certificate signed by `ca`, for `hosts` (IP addresses become IP SANs, the rest DNS
 * SANs; Go clients such as kubectl ignore the common name and need the SANs).
 */
export async function generateServerCert(
  ca: CertKeyPair,
  opts: { hosts: string[]; commonName?: string; validDays?: number },
): Promise<CertKeyPair> {
  const caCert = new x509.X509Certificate(ca.certPem);
  const caKey = await pemToKey(ca.keyPem);
  const keys = await newKeys();
  const names = opts.hosts.map((h) => ({ type: isIP(h) ? ("ip" as const) : ("dns" as const), value: h }));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName ?? "berth-apiserver"}`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + (opts.validDays ?? 825) * DAY),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await keyToPem(keys.privateKey) };
}

/** A random bearer token (32 bytes, base64url). */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Compares a presented token with the expected one in constant time. Both are hashed first so
 * that differing lengths neither throw nor leak through timing.
 */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

export interface KubeconfigOptions {
  /** e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** The CA that signed the server certificate; absent for a plain-http server. */
  caPem?: string;
  token: string;
  clusterName?: string;
  namespace?: string;
}

/** The kubeconfig document (as YAML text) that kubectl and client-node use as is. */
export function kubeconfigYaml(opts: KubeconfigOptions): string {
  const name = opts.clusterName ?? "berth";
  const user = `${name}-admin`;
  const cluster: Record<string, unknown> = { server: opts.server };
  if (opts.caPem) cluster["certificate-authority-data"] = Buffer.from(opts.caPem).toString("base64");
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name: user, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user, namespace: opts.namespace ?? "default" } }],
    "current-context": name,
    preferences: {},
  });
}

/** Writes the kubeconfig to `path` (mode 0600: it holds the token). */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, kubeconfigYaml(opts), { mode: 0o600 });
}
