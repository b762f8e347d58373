/**
 * Secrets' encryption at rest for tests: a store transformer sealing with one aesgcm key (its
 * name and a 32-byte secret filled with `fill`), reading plain values too; and one storing plain.
 */
import { encryptionTransformer, parseEncryptionConfig } from "../../runtime/security/encryption.ts";

export function aesgcmTransformer(name: string, fill: number) {
  return encryptionTransformer(parseEncryptionConfig(`kind: EncryptionConfiguration\nresources: [{ resources: [secrets], providers: [{ aesgcm: { keys: [{ name: ${name}, secret: ${Buffer.alloc(32, fill).toString("base64")} }] } }, { identity: {} }] }]`));
}

export function plainTransformer() {
  return encryptionTransformer(parseEncryptionConfig("kind: EncryptionConfiguration\nresources: [{ resources: [secrets], providers: [{ identity: {} }] }]"));
}
