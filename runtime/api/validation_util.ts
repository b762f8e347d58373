/**
 * Small pieces shared by the validation passes: Kubernetes name rules, cause reasons, field
 * paths in Kubernetes style, cause messages in Kubernetes wording, and the causes a pass gathers.
 */
import type { StatusCause } from "../../model/types.ts";

/** Kubernetes `StatusCause.reason` values used by Berth. */
export const CAUSE = {
  required: "FieldValueRequired",
  invalid: "FieldValueInvalid",
  notSupported: "FieldValueNotSupported",
  tooLong: "FieldValueTooLong",
  tooMany: "FieldValueTooMany",
  duplicate: "FieldValueDuplicate",
  notFound: "FieldValueNotFound",
  forbidden: "FieldValueForbidden",
} as const;
export type CauseReason = (typeof CAUSE)[keyof typeof CAUSE];

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const DNS1123_LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const DNS1123_SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/** True for an RFC 1123 label: ≤ 63 of `[a-z0-9-]`, alphanumeric at both ends. */
export function isDns1123Label(s: string): boolean {
  return typeof s === "string" && s.length <= 63 && DNS1123_LABEL.test(s);
}

/** True for an RFC 1123 subdomain: ≤ 253, dot-separated labels. */
export function isDns1123Subdomain(s: string): boolean {
  return typeof s === "string" && s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/**
 * apimachinery's IsDNS1123Label messages, none for a label: too long, and either "must not contain
 * dots" (a subdomain that is not a label) or the label's format.
 */
export function dns1123LabelProblems(s: string): string[] {
  const out: string[] = [];
  if (s.length > 63) out.push("must be no more than 63 characters");
  if (!DNS1123_LABEL.test(s)) out.push(DNS1123_SUBDOMAIN.test(s) ? "must not contain dots" : DNS1123_LABEL_MESSAGE);
  return out;
}

/** apimachinery's IsDNS1123Subdomain messages, none for a subdomain. */
export function dns1123SubdomainProblems(s: string): string[] {
  const out: string[] = [];
  if (s.length > 253) out.push("must be no more than 253 characters");
  if (!DNS1123_SUBDOMAIN.test(s)) out.push(DNS1123_SUBDOMAIN_MESSAGE);
  return out;
}

/** Why `s` is not an IANA service name (port names), or undefined when it is one. */
export function ianaSvcNameProblem(s: string): string | undefined {
  if (s.length > 15) return "must be no more than 15 characters";
  if (!/^[-a-z0-9]+$/.test(s)) return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
  if (s.includes("--")) return "must not contain consecutive hyphens";
  if (!/[a-z]/.test(s)) return "must contain at least one letter (a-z)";
  if (s.startsWith("-") || s.endsWith("-")) return "must not begin or end with a hyphen";
  return undefined;
}

/** True for an IANA service name: ≤ 15 of `[a-z0-9-]`, at least one letter, no `--`, no hyphen at the ends. */
export function isIanaSvcName(s: string): boolean {
  return typeof s === "string" && ianaSvcNameProblem(s) === undefined;
}

/** apimachinery's IsValidPathSegmentName: not `.` or `..`, no `/` or `%`. */
export function pathSegmentProblems(name: string): string[] {
  if (name === "." || name === "..") return [`may not be '${name}'`];
  return ["/", "%"].filter((s) => name.includes(s)).map((s) => `may not contain '${s}'`);
}

/** True for a dotted-quad IPv4 address without leading zeros. */
export function isIPv4(s: string): boolean {
  return typeof s === "string" && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(s);
}

/** `["spec", "containers", 0, "image"]` → `spec.containers[0].image`; map keys go in brackets. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (typeof seg === "string" && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${String(seg)}]`;
  }
  return out;
}

/** A value shown in a message, shortened so that a huge input cannot make a huge error. */
export function shown(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

/** A cause message in Kubernetes wording for `reason` (`Invalid value: "x": detail`). */
export function render(reason: string, value: unknown, detail?: string): string {
  const tail = detail ? `: ${detail}` : "";
  switch (reason) {
    case CAUSE.required:
      return `Required value${tail}`;
    case CAUSE.invalid:
      return `Invalid value: ${shown(value)}${tail}`;
    case CAUSE.notSupported:
      return `Unsupported value: ${shown(value)}${tail}`;
    case CAUSE.duplicate:
      return `Duplicate value: ${shown(value)}${tail}`;
    case CAUSE.notFound:
      return `Not found: ${shown(value)}${tail}`;
    case CAUSE.forbidden:
      return `Forbidden${tail}`;
    case CAUSE.tooLong:
      return `Too long${tail}`;
    case CAUSE.tooMany:
      return `Too many${tail}`;
    default:
      return detail ?? reason;
  }
}

/** A JSON object as the validation passes read it; undefined for anything else. */
export type Obj = Record<string, unknown>;
export const obj = (v: unknown): Obj | undefined => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** The causes one validation pass gathers, each rendered in Kubernetes' words. */
export class Causes {
  readonly list: StatusCause[] = [];
  add(reason: string, field: string, value: unknown, detail?: string): void {
    this.list.push({ reason, field, message: render(reason, value, detail) });
  }
  /** An Invalid cause whose value is already printed (Go's `%#v` of a typed value). */
  invalid(field: string, printed: string, detail: string): void {
    this.list.push({ reason: CAUSE.invalid, field, message: `Invalid value: ${printed}: ${detail}` });
  }
}
