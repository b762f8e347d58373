/**
 * Encryption at rest of Secrets in the KV store, configured as Kubernetes' EncryptionConfiguration:
 *
 *   apiVersion: apiserver.config.k8s.io/v1
 *   kind: EncryptionConfiguration
 *   resources:
 *     - resources: [secrets]
 *       providers:
 *         - aesgcm:
 *             keys:
 *               - name: key1
 *                 secret: <base64 of 32 random bytes>
 *         - secretbox:                       (or this instead, or both)
 *             keys:
 *               - name: key2
 *                 secret: <base64 of 32 random bytes>
 *         - identity: {}
 *
 * The first provider encrypts every write with its first key; every provider's keys (and
 * `identity` for plaintext) are tried on reads, so rotating a key — or moving from aesgcm to
 * secretbox — is: put the new provider or key first, restart, rewrite every Secret, then drop the
 * old one (docs/config-and-secrets.md). A value is stored as a string naming how it was sealed:
 *
 *   k8s:enc:aesgcm:v1:<keyname>:    base64(nonce(12) ‖ ciphertext ‖ tag)   AES-GCM; the key name
 *                                                                          is additional data
 *   k8s:enc:secretbox:v1:<keyname>: base64(nonce(24) ‖ tag ‖ ciphertext)   XSalsa20-Poly1305
 *
 * of the object's JSON, with a fresh random nonce per write (Kubernetes' layouts, in base64
 * because the KV holds JSON). Objects written before encryption was turned on (plain JSON) are
 * still read.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { AnyObject, Resource } from "../../model/types.ts";
import { readOrCreate } from "./home_files.ts";
import { SECRETBOX_NONCE_BYTES, SECRETBOX_TAG_BYTES, secretboxOpen, secretboxSeal } from "./secretbox.ts";

/** What the store applies to every value it writes and reads. */
export interface ValueTransformer {
  /** The stored form of `obj` of `resource`: the object itself, or an encrypted string. */
  seal(resource: Resource, obj: AnyObject): AnyObject | string;
  /** The object a stored value holds (decrypting when it is an encrypted string). */
  open(stored: AnyObject | string): AnyObject;
}

/** The file in the cluster home holding the configuration. */
export const ENCRYPTION_CONFIG_FILE = "encryption-config.yaml";

/** The stored prefix of each encrypting provider. */
const PREFIXES = { aesgcm: "k8s:enc:aesgcm:v1:", secretbox: "k8s:enc:secretbox:v1:" } as const;

/** Thrown when a stored value cannot be decrypted with any configured key. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecryptionError";
  }
}

interface NamedKey {
  name: string;
  key: Buffer;
}

type Provider = { type: "aesgcm" | "secretbox"; keys: NamedKey[] } | { type: "identity" };

/** The parsed configuration: the providers that apply to each resource, in order. */
export interface EncryptionConfig {
  resources: { resources: string[]; providers: Provider[] }[];
}

/** Parses an EncryptionConfiguration (YAML or JSON). Throws naming the bad field. */
export function parseEncryptionConfig(text: string): EncryptionConfig {
  const doc = parse(text) as { kind?: unknown; resources?: unknown };
  if (!doc || typeof doc !== "object" || doc.kind !== "EncryptionConfiguration") {
    throw new Error("encryption configuration: kind must be EncryptionConfiguration");
  }
  if (!Array.isArray(doc.resources)) throw new Error("encryption configuration: resources must be a list");
  return {
    resources: doc.resources.map((r: { resources?: unknown; providers?: unknown }, i: number) => {
      if (!Array.isArray(r.resources) || !Array.isArray(r.providers)) throw new Error(`encryption configuration: resources[${i}] needs resources and providers lists`);
      return {
        resources: r.resources.map(String),
        providers: r.providers.map((p: Record<string, unknown>, j: number): Provider => {
          if (p.identity !== undefined) return { type: "identity" };
          const type = p.aesgcm !== undefined ? "aesgcm" : p.secretbox !== undefined ? "secretbox" : undefined;
          const where = `resources[${i}].providers[${j}]`;
          const conf = (type ? p[type] : undefined) as { keys?: { name?: unknown; secret?: unknown }[] } | undefined;
          if (!type) throw new Error(`encryption configuration: ${where}: only aesgcm, secretbox and identity are supported`);
          if (!conf || !Array.isArray(conf.keys) || conf.keys.length === 0) throw new Error(`encryption configuration: ${where}.${type}.keys must list at least one key`);
          return {
            type,
            keys: conf.keys.map((k, n) => {
              const key = Buffer.from(String(k.secret ?? ""), "base64");
              if (typeof k.name !== "string" || !k.name || k.name.includes(":")) throw new Error(`encryption configuration: ${where}.${type}.keys[${n}].name is required (no ':')`);
              const sizes = type === "aesgcm" ? [16, 24, 32] : [32];
              if (!sizes.includes(key.length)) throw new Error(`encryption configuration: ${type} key "${k.name}" must be ${sizes.join(", ")} bytes (base64), got ${key.length}`);
              return { name: k.name, key };
            }),
          };
        }),
      };
    }),
  };
}

/** A new configuration text with one fresh AES-256 key for Secrets. */
export function newEncryptionConfigText(keyName = "key1"): string {
  return stringify({
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "EncryptionConfiguration",
    resources: [{ resources: ["secrets"], providers: [{ aesgcm: { keys: [{ name: keyName, secret: randomBytes(32).toString("base64") }] } }, { identity: {} }] }],
  });
}

/**
 * Reads `<home>/encryption-config.yaml`, creating it (mode 0600, one fresh key) when absent.
 * What `berth up` and `berth control-plane` use.
 */
export function loadOrCreateEncryptionConfig(home: string): EncryptionConfig {
  const path = join(home, ENCRYPTION_CONFIG_FILE);
  // Two processes starting at once on one home agree on one key (home_files.ts).
  return parseEncryptionConfig(readOrCreate(path, () => newEncryptionConfigText()));
}

function aad(keyName: string): Buffer {
  return Buffer.from(`berth/${keyName}`);
}

/** The transformer for a configuration. Resources it does not name are stored as they are. */
export function encryptionTransformer(config: EncryptionConfig): ValueTransformer {
  const providersFor = (resource: Resource): Provider[] =>
    config.resources.find((r) => r.resources.includes(resource) || r.resources.includes("*.*") || r.resources.includes("*."))?.providers ?? [];
  return {
    seal(resource, obj) {
      const first = providersFor(resource)[0];
      if (!first || first.type === "identity") return obj;
      const k = first.keys[0];
      const text = Buffer.from(JSON.stringify(obj), "utf8");
      if (first.type === "secretbox") {
        const nonce = randomBytes(SECRETBOX_NONCE_BYTES);
        return `${PREFIXES.secretbox}${k.name}:${Buffer.concat([nonce, secretboxSeal(k.key, nonce, text)]).toString("base64")}`;
      }
      const nonce = randomBytes(12);
      const c = createCipheriv(`aes-${k.key.length * 8}-gcm` as "aes-256-gcm", k.key, nonce);
      c.setAAD(aad(k.name));
      const body = Buffer.concat([c.update(text), c.final()]);
      return `${PREFIXES.aesgcm}${k.name}:${Buffer.concat([nonce, body, c.getAuthTag()]).toString("base64")}`;
    },
    open(stored) {
      const resource = "stored value";
      if (typeof stored !== "string") return stored; // written in plaintext (identity, or before encryption)
      const type = stored.startsWith(PREFIXES.aesgcm) ? "aesgcm" : stored.startsWith(PREFIXES.secretbox) ? "secretbox" : undefined;
      if (!type) throw new DecryptionError(`${resource}: unknown transformer prefix`);
      const rest = stored.slice(PREFIXES[type].length);
      const colon = rest.indexOf(":");
      const name = rest.slice(0, colon);
      const key = config.resources.flatMap((r) => r.providers).flatMap((p) => (p.type === type ? p.keys : [])).find((k) => k.name === name);
      if (!key) throw new DecryptionError(`${resource}: no key named "${name}" among the ${type} keys of the encryption configuration`);
      const raw = Buffer.from(rest.slice(colon + 1), "base64");
      if (type === "secretbox") {
        if (raw.length < SECRETBOX_NONCE_BYTES + SECRETBOX_TAG_BYTES) throw new DecryptionError(`${resource}: stored value is too short`);
        const plain = secretboxOpen(key.key, raw.subarray(0, SECRETBOX_NONCE_BYTES), raw.subarray(SECRETBOX_NONCE_BYTES));
        if (!plain) throw new DecryptionError(`${resource}: decryption with secretbox key "${name}" failed: the value does not authenticate`);
        return JSON.parse(Buffer.from(plain).toString("utf8")) as AnyObject;
      }
      if (raw.length < 28) throw new DecryptionError(`${resource}: stored value is too short`);
      try {
        const d = createDecipheriv(`aes-${key.key.length * 8}-gcm` as "aes-256-gcm", key.key, raw.subarray(0, 12));
        d.setAAD(aad(name));
        d.setAuthTag(raw.subarray(raw.length - 16));
        const text = Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString("utf8");
        return JSON.parse(text) as AnyObject;
      } catch (e) {
        throw new DecryptionError(`${resource}: decryption with key "${name}" failed: ${(e as Error).message}`);
      }
    },
  };
}
