/**
 * Kubernetes resource quantities ("100m", "0.5", "128Mi", "1G", "1e3").
 *
 * Grammar, as in k8s.io/apimachinery `resource.Quantity`:
 *
 *   quantity := sign? digits ("." digits?)? suffix | sign? "." digits suffix
 *   suffix   := "" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"          (powers of 2)
 *             | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E"   (powers of 10)
 *             | ("e" | "E") sign? digits                              (decimal exponent)
 *
 * Arithmetic is exact (BigInt) and, like Kubernetes' `MilliValue()` and `Value()`, rounds up:
 * "0.1" is exactly 100 millicores, "1m" of memory is 1 byte.
 */
import { BadRequestError } from "./errors.ts";

/** A string that is not a Kubernetes quantity. */
export class QuantityError extends BadRequestError {
  readonly input: string;
  constructor(input: string, detail = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'") {
    super(`invalid quantity "${input}": ${detail}`);
    this.name = "QuantityError";
    this.input = input;
  }
}

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/** Exact value: sign * digits * 10^exp10 * 2^exp2. */
interface Exact {
  negative: boolean;
  digits: bigint;
  exp10: number;
  exp2: number;
}

/** Exponents beyond this are refused rather than expanded into enormous integers. */
const MAX_EXPONENT = 64;

/** Why an input is no quantity: what QuantityError says. */
interface Problem {
  input: string;
  detail?: string;
}

/**
 * The quantity, or why it is none. Not a throw: `isQuantity` asks this of every request without
 * a limit (an undefined limit), and building an error with its stack for each was most of a
 * pod's validation (40 of 57 µs).
 */
function readExact(input: unknown): Exact | Problem {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return { input: String(input), detail: "must be a finite number" };
    input = String(input);
  }
  if (typeof input !== "string") return { input: String(input), detail: "must be a string" };
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$/.exec(input);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) return { input };
  const [, sign, whole, frac = "", suffix = ""] = m;
  let exp10 = -frac.length;
  let exp2 = 0;
  if (suffix in BINARY) exp2 = BINARY[suffix];
  else if (suffix in DECIMAL) exp10 += DECIMAL[suffix];
  else {
    const e = Number(suffix.slice(1));
    if (Math.abs(e) > MAX_EXPONENT) return { input, detail: "exponent too large" };
    exp10 += e;
  }
  return { negative: sign === "-", digits: BigInt((whole + frac).replace(/^0+(?=\d)/, "") || "0"), exp10, exp2 };
}

function parseExact(input: unknown): Exact {
  const q = readExact(input);
  if ("input" in q) throw new QuantityError(q.input, q.detail);
  return q;
}

/** The quantity in units of 10^scale, rounded up (towards +infinity), as a number. */
function scaled(q: Exact, scale: number): number {
  let n = q.digits * 2n ** BigInt(q.exp2);
  const e = q.exp10 - scale;
  if (e > MAX_EXPONENT) throw new QuantityError(String(q.digits), "value too large");
  if (e >= 0) n *= 10n ** BigInt(e);
  else if (e < -MAX_EXPONENT) n = n === 0n ? 0n : q.negative ? 0n : 1n;
  else {
    const d = 10n ** BigInt(-e);
    const quotient = n / d;
    // Round up for positive values; for negative values truncation already rounds towards +infinity.
    n = !q.negative && quotient * d !== n ? quotient + 1n : quotient;
  }
  const v = Number(n);
  return q.negative ? (v === 0 ? 0 : -v) : v;
}

/** Parses any quantity to its value in base units (a float; use the typed parsers for exact integers). */
export function parseQuantity(s: string | number): number {
  const q = parseExact(s);
  const v = Number(q.digits) * 10 ** q.exp10 * 2 ** q.exp2;
  return q.negative ? -v : v;
}

/** True when `s` is a syntactically valid quantity. */
export function isQuantity(s: unknown): boolean {
  return !("input" in readExact(s));
}

/** CPU in millicores: "100m" → 100, "0.5" → 500, "2" → 2000; fractions of a millicore round up. */
export function parseCpuMillis(s: string | number): number {
  return scaled(parseExact(s), -3);
}

/** Bytes: "128Mi" → 134217728, "1G" → 1e9, "1e3" → 1000, "512" → 512; fractions of a byte round up. */
export function parseBytes(s: string | number): number {
  return scaled(parseExact(s), 0);
}

/** Millicores in canonical form: whole cores as "2", otherwise "1500m". */
export function formatCpu(millis: number): string {
  const m = Math.ceil(millis);
  return m % 1000 === 0 ? String(m / 1000) : `${m}m`;
}

/** Bytes with the largest binary suffix that divides them exactly ("128Mi"), else plain ("1000"). */
export function formatBytes(bytes: number): string {
  const b = Math.ceil(bytes);
  if (b === 0) return "0";
  for (const [suffix, bits] of Object.entries(BINARY).reverse()) {
    const unit = 2 ** bits;
    if (b % unit === 0 && Math.abs(b) >= unit) return `${b / unit}${suffix}`;
  }
  return String(b);
}
