/**
 * Validation and write rules of ConfigMaps and Secrets (core/v1), as kube-apiserver applies them:
 *
 *   - keys match `[-._a-zA-Z0-9]+`, are not `.` or `..`, and are at most 253 characters;
 *   - a ConfigMap's `data` and `binaryData` share no key; `binaryData` and a Secret's `data` are
 *     base64; the total size of the values is at most 1 MiB (`data` too large → 422 on `data`);
 *   - a Secret's `type` (default `Opaque`) may demand keys: `kubernetes.io/dockerconfigjson`
 *     needs `.dockerconfigjson` holding JSON, `kubernetes.io/dockercfg` needs `.dockercfg`,
 *     `kubernetes.io/basic-auth` allows only `username`/`password`, `kubernetes.io/ssh-auth`
 *     needs `ssh-privatekey`, `kubernetes.io/tls` needs `tls.crt` and `tls.key`,
 *     `kubernetes.io/service-account-token` needs the annotation `kubernetes.io/service-account.name`;
 *   - on update: an immutable object's data, binaryData and immutable flag may not change, and
 *     a Secret's type never changes (`field is immutable`, 422).
 *
 * `stringData` is folded into `data` (base64) by `secretWriteForm` before storing, so it is never
 * stored or returned. Pure; no I/O.
 */
import { z } from "zod";
import { InvalidError } from "../../model/errors.ts";
import type { ConfigMap, Secret, StatusCause } from "../../model/types.ts";
import { CAUSE, render, type Obj, obj } from "./validation_util.ts";

/** Kubernetes' limit on the data of one ConfigMap or Secret. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const KEY_FORMAT = /^[-._a-zA-Z0-9]+$/;
const KEY_MESSAGE = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Why `key` cannot be a ConfigMap/Secret key, or undefined. */
export function configKeyProblem(key: string): string | undefined {
  if (key.length > 253) return "must be no more than 253 characters";
  if (!KEY_FORMAT.test(key)) return KEY_MESSAGE;
  if (key === ".") return "must not be '.'";
  if (key === "..") return "must not be '..'";
  if (key.startsWith("..")) return "must not start with '..'";
  return undefined;
}

const stringMap = z.record(z.string(), z.string());

/** Type-level schemas (the rules below report everything else with exact field paths). */
export const configMapSchema = z.looseObject({
  data: stringMap.optional(),
  binaryData: stringMap.optional(),
  immutable: z.boolean().optional(),
});
export const secretSchema = z.looseObject({
  data: stringMap.optional(),
  stringData: stringMap.optional(),
  type: z.string().optional(),
  immutable: z.boolean().optional(),
});


function add(out: StatusCause[], reason: string, field: string, value: unknown, detail?: string): void {
  out.push({ reason, field, message: render(reason, value, detail) });
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function base64Length(s: string): number {
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  return (s.length / 4) * 3 - pad;
}

function keys(out: StatusCause[], field: string, m: Obj | undefined, base64: boolean): number {
  let size = 0;
  for (const [k, v] of Object.entries(m ?? {})) {
    const bad = configKeyProblem(k);
    if (bad) add(out, CAUSE.invalid, `${field}[${k}]`, k, bad);
    if (typeof v !== "string") continue;
    if (base64) {
      if (!BASE64.test(v)) add(out, CAUSE.invalid, `${field}[${k}]`, "<value omitted>", "must be base64 encoded");
      else size += base64Length(v);
    } else size += utf8Length(v);
  }
  return size;
}

/** Cross-field problems of a raw ConfigMap. */
export function configMapProblems(raw: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const data = obj(raw.data);
  const binary = obj(raw.binaryData);
  const size = keys(out, "data", data, false) + keys(out, "binaryData", binary, true);
  for (const k of Object.keys(binary ?? {})) {
    if (data && Object.hasOwn(data, k)) add(out, CAUSE.invalid, `data[${k}]`, k, "duplicate of key present in binaryData");
  }
  if (size > MAX_CONFIG_BYTES) add(out, CAUSE.tooLong, "data", undefined, `Too long: must have at most ${MAX_CONFIG_BYTES} bytes`);
  return out;
}

/** Keys each Secret type demands (all of them) and, for some, the only keys it allows. */
const SECRET_TYPES: Record<string, { required?: string[]; only?: string[]; json?: string; annotation?: string }> = {
  "kubernetes.io/dockerconfigjson": { required: [".dockerconfigjson"], json: ".dockerconfigjson" },
  "kubernetes.io/dockercfg": { required: [".dockercfg"], json: ".dockercfg" },
  "kubernetes.io/basic-auth": { only: ["username", "password"] },
  "kubernetes.io/ssh-auth": { required: ["ssh-privatekey"] },
  "kubernetes.io/tls": { required: ["tls.crt", "tls.key"] },
  "kubernetes.io/service-account-token": { annotation: "kubernetes.io/service-account.name" },
};

/** Cross-field problems of a raw Secret (after `stringData` was merged into `data`). */
export function secretProblems(raw: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const data = obj(raw.data) ?? {};
  const size = keys(out, "data", data, true) + keys(out, "stringData", obj(raw.stringData), false);
  if (size > MAX_CONFIG_BYTES) add(out, CAUSE.tooLong, "data", undefined, `Too long: must have at most ${MAX_CONFIG_BYTES} bytes`);
  const type = typeof raw.type === "string" && raw.type !== "" ? raw.type : "Opaque";
  const rule = SECRET_TYPES[type];
  const stringData = obj(raw.stringData) ?? {};
  const has = (k: string) => Object.hasOwn(data, k) || Object.hasOwn(stringData, k);
  if (rule?.required) for (const k of rule.required) if (!has(k)) add(out, CAUSE.required, `data[${k}]`, undefined);
  if (rule?.only) {
    for (const k of new Set([...Object.keys(data), ...Object.keys(stringData)])) {
      if (!rule.only.includes(k)) add(out, CAUSE.notSupported, `data[${k}]`, k, `supported values: ${rule.only.map((x) => JSON.stringify(x)).join(", ")}`);
    }
  }
  if (rule?.json && has(rule.json)) {
    const v = typeof stringData[rule.json] === "string"
      ? (stringData[rule.json] as string)
      : typeof data[rule.json] === "string" && BASE64.test(data[rule.json] as string)
      ? decodeBase64(data[rule.json] as string)
      : undefined;
    if (v !== undefined) {
      try {
        JSON.parse(v);
      } catch (e) {
        add(out, CAUSE.invalid, `data[${rule.json}]`, "<secret contents redacted>", `invalid JSON: ${(e as Error).message}`);
      }
    }
  }
  if (rule?.annotation) {
    const ann = obj(obj(raw.metadata)?.annotations) ?? {};
    if (typeof ann[rule.annotation] !== "string") add(out, CAUSE.required, `metadata.annotations[${rule.annotation}]`, undefined);
  }
  return out;
}

function decodeBase64(s: string): string {
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder().decode(bytes);
}

function encodeBase64(s: string): string {
  const bytes = new TextEncoder().encode(s);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * The form of a Secret that is stored: `stringData` merged into `data` (base64; a stringData key
 * wins over the same data key, as in Kubernetes), `stringData` dropped, `type` defaulted.
 */
export function secretWriteForm(s: Secret): Secret {
  const { stringData, ...rest } = s;
  const data = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(stringData ?? {})) data[k] = encodeBase64(v);
  const out: Secret = { ...rest, type: s.type || "Opaque" };
  if (Object.keys(data).length > 0 || s.data) out.data = data;
  return out;
}

/**
 * Update rules: an immutable ConfigMap/Secret keeps its data and stays immutable; a Secret keeps
 * its type. Throws a 422 naming the field, as kube-apiserver does.
 */
export function checkConfigUpdate(kind: "ConfigMap" | "Secret", current: ConfigMap | Secret, next: ConfigMap | Secret): void {
  const causes: StatusCause[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
  if (current.immutable) {
    if (!next.immutable) causes.push({ reason: CAUSE.forbidden, field: "immutable", message: "Forbidden: field is immutable when `immutable` is set" });
    if (!same(current.data, next.data)) causes.push({ reason: CAUSE.forbidden, field: "data", message: "Forbidden: field is immutable when `immutable` is set" });
    if (kind === "ConfigMap" && !same((current as ConfigMap).binaryData, (next as ConfigMap).binaryData)) {
      causes.push({ reason: CAUSE.forbidden, field: "binaryData", message: "Forbidden: field is immutable when `immutable` is set" });
    }
  }
  if (kind === "Secret" && ((current as Secret).type ?? "Opaque") !== ((next as Secret).type ?? "Opaque")) {
    causes.push({ reason: CAUSE.invalid, field: "type", message: render(CAUSE.invalid, (next as Secret).type, "field is immutable") });
  }
  if (causes.length) throw new InvalidError(kind, current.metadata.name, causes);
}
