/**
 * NaCl's `crypto_secretbox` (XSalsa20 stream cipher + Poly1305 authenticator), as Kubernetes'
 * `secretbox` encryption provider uses it through Go's `golang.org/x/crypto/nacl/secretbox`.
 * Neither Node's nor Deno's crypto offers XSalsa20 or a bare Poly1305, so the primitive comes from
 * `tweetnacl` (a port of NaCl's reference code, audited); this module only fixes the layout and
 * checks sizes. The unit test checks it against vectors produced by libsodium's
 * `crypto_secretbox_easy`.
 *
 *   seal(key, nonce, message) = tag(16) ‖ ciphertext        (Go's secretbox.Seal layout)
 *
 * aesgcm (native) stays the faster default.
 */
import nacl from "tweetnacl";

export const SECRETBOX_KEY_BYTES = 32;
export const SECRETBOX_NONCE_BYTES = 24;
export const SECRETBOX_TAG_BYTES = 16;

function check(key: Uint8Array, nonce: Uint8Array): void {
  if (key.length !== SECRETBOX_KEY_BYTES) throw new RangeError(`secretbox key must be ${SECRETBOX_KEY_BYTES} bytes, got ${key.length}`);
  if (nonce.length !== SECRETBOX_NONCE_BYTES) throw new RangeError(`secretbox nonce must be ${SECRETBOX_NONCE_BYTES} bytes, got ${nonce.length}`);
}

/** Encrypts and authenticates: tag ‖ ciphertext. */
export function secretboxSeal(key: Uint8Array, nonce: Uint8Array, message: Uint8Array): Uint8Array {
  check(key, nonce);
  return nacl.secretbox(message, nonce, key);
}

/** Verifies and decrypts `tag ‖ ciphertext`; undefined when the tag does not match. */
export function secretboxOpen(key: Uint8Array, nonce: Uint8Array, boxed: Uint8Array): Uint8Array | undefined {
  check(key, nonce);
  if (boxed.length < SECRETBOX_TAG_BYTES) return undefined;
  return nacl.secretbox.open(boxed, nonce, key) ?? undefined;
}
