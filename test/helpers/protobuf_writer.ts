/**
 * A minimal protobuf writer for test fixtures: varints, length-delimited fields, and the
 * `k8s\0` envelope (runtime.Unknown) kube's clients wrap a body in.
 */
import { Buffer } from "node:buffer";

export const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};

/** A varint field. */
export const num = (no: number, v: number | bigint) => [...varint(no << 3), ...varint(v)];

/** A length-delimited field (a string, bytes or an embedded message). */
export const bytes = (no: number, b: number[] | string) => {
  const body = typeof b === "string" ? [...Buffer.from(b)] : b;
  return [...varint((no << 3) | 2), ...varint(body.length), ...body];
};

/** A body as kube's protobuf serializer frames it. */
export const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...bytes(1, [...bytes(1, apiVersion), ...bytes(2, kind)]), ...bytes(2, raw), ...bytes(3, ""), ...bytes(4, "")]);
