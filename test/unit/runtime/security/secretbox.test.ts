/**
 * NaCl's crypto_secretbox (XSalsa20-Poly1305), the primitive of Kubernetes' `secretbox` encryption
 * provider, checked against libsodium. The vectors were produced with libsodium 1.0.18's
 * `crypto_secretbox_easy` (tag ‖ ciphertext, the layout of Go's secretbox.Seal) for the key
 * 01 02 … 20, the nonces below, and the message whose byte i is (31·i + 5) mod 256; for the two
 * long messages only the SHA-256 of the output is kept. They cover Poly1305's 16-byte and
 * Salsa20's 64-byte block edges.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { secretboxOpen, secretboxSeal } from "../../../../runtime/security/secretbox.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const message = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 5) % 256);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

const LIBSODIUM: { mlen: number; nonce: string; boxed?: string; sha256?: string }[] = [
  { mlen: 0, nonce: "00070e151c232a31383f464d545b626970777e858c939aa1", boxed: "91c16e6bb2c3b828f96fceb44a4f2bd1" },
  { mlen: 1, nonce: "01080f161d242b323940474e555c636a71787f868d949ba2", boxed: "bacbdd7ec722e2f648180abb2c55783c7d" },
  { mlen: 15, nonce: "020910171e252c333a41484f565d646b727980878e959ca3", boxed: "7024d10fd8b4cb013a5bc4bce6a7ec5bcc78ff8324813e0b62dd196c4f8135" },
  { mlen: 16, nonce: "030a11181f262d343b424950575e656c737a81888f969da4", boxed: "aeedd2b245139b35291d90d233a3ae831d04f957eb460753491b84df71e32a50" },
  { mlen: 17, nonce: "040b121920272e353c434a51585f666d747b828990979ea5", boxed: "1bcc620da8b95f22b04264b418d1f57c620e84b621ca54a1a04582484f5da0dc0b" },
  { mlen: 63, nonce: "050c131a21282f363d444b525960676e757c838a91989fa6", boxed: "42328400df6fb90b3220dd5a14eeee2c76dd984e4412fb624dbf8c7eb34cab6a639b23e81c04259cc4b6caa81434071d808dd326e49ddd4699aadd67ab8e1a658e0647b3e4983966db82fb47be4dde" },
  { mlen: 64, nonce: "060d141b222930373e454c535a61686f767d848b9299a0a7", boxed: "150df3f21123ab33db3543fab4b4c145e3de99da4a9725b05ffa0dd45f4c34acfd8b8aa7bb47f959fd36c2ce99cf5718710a356b433f01a9c792052437cf0fa2ea6bb94e2f341e0f4f02bdac89c503f6" },
  { mlen: 65, nonce: "070e151c232a31383f464d545b626970777e858c939aa1a8", boxed: "b1ea9aced204b64ebea847de53aa90619b3242467ed86fffd4ab0c13d053965665c3e006ce06238070edc7c9d281fd2048334dcc1ee88a11ffb5d32f26c8ecb2f4bddf4152bb10ce1e879fae38f856ba90" },
  { mlen: 131, nonce: "080f161d242b323940474e555c636a71787f868d949ba2a9", sha256: "b04c2e0284770ab25e105476140dc8d9230496bb97f71fe498377788e709ce8c" },
  { mlen: 1000, nonce: "0910171e252c333a41484f565d646b727980878e959ca3aa", sha256: "4b96a9086a73f68e531b38500f57bf7c87f8935eb407219856bcfea9146e1d5d" },
];

describe("secretbox - XSalsa20-Poly1305 as NaCl and libsodium", () => {
  it("secretbox - seals exactly as libsodium's crypto_secretbox_easy, at every block edge", () => {
    for (const v of LIBSODIUM) {
      const boxed = secretboxSeal(KEY, bytes(v.nonce), message(v.mlen));
      expect(boxed.length, `length ${v.mlen}`).toBe(v.mlen + 16);
      if (v.boxed) expect(hex(boxed), `message of ${v.mlen} bytes`).toBe(v.boxed);
      else expect(createHash("sha256").update(boxed).digest("hex"), `message of ${v.mlen} bytes`).toBe(v.sha256);
    }
  });

  it("secretbox - opens what it sealed; any flipped bit, another nonce or another key is refused", () => {
    const nonce = bytes(LIBSODIUM[8].nonce);
    const m = message(131);
    const boxed = secretboxSeal(KEY, nonce, m);
    expect(secretboxOpen(KEY, nonce, boxed)).toEqual(m);
    for (const at of [0, 15, 16, 100, boxed.length - 1]) {
      const bad = boxed.slice();
      bad[at] ^= 0x01;
      expect(secretboxOpen(KEY, nonce, bad), `bit flipped at ${at}`).toBeUndefined();
    }
    const otherNonce = nonce.slice();
    otherNonce[23] ^= 1;
    expect(secretboxOpen(KEY, otherNonce, boxed)).toBeUndefined();
    const otherKey = KEY.slice();
    otherKey[0] ^= 1;
    expect(secretboxOpen(otherKey, nonce, boxed)).toBeUndefined();
    expect(secretboxOpen(KEY, nonce, boxed.subarray(0, 15))).toBeUndefined();
  });

  it("secretbox - refuses keys and nonces of the wrong size", () => {
    expect(() => secretboxSeal(KEY.subarray(0, 16), new Uint8Array(24), message(1))).toThrow(/key must be 32 bytes, got 16/);
    expect(() => secretboxSeal(KEY, new Uint8Array(12), message(1))).toThrow(/nonce must be 24 bytes, got 12/);
  });
});
