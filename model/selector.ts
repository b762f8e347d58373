/**
 * Label and field selectors, as Kubernetes defines them.
 *
 * Label selector grammar (requirements joined by `,` mean AND; whitespace is tolerated):
 *
 *   selector    := "" | requirement ("," requirement)*
 *   requirement := key | "!" key | key ("=" | "==" | "!=") value
 *                | key "in" "(" values ")" | key "notin" "(" values ")"
 *   values      := value ("," value)*
 *
 * `!=` and `notin` also match objects that lack the key. The empty selector selects everything.
 * RC and Service selectors are equality-only maps, and there an *empty* map selects nothing:
 * `selectorFromMap` makes that explicit with `matchNothing`.
 *
 * Field selectors are `field=value`, `field==value`, `field!=value` joined by `,`, over a fixed
 * set of fields per resource (`metadata.name`, `spec.nodeName`, `status.phase`, ...).
 *
 * Everything here is pure.
 */
import { BadRequestError } from "./errors.ts";
import type { LabelSelectorSpec, Resource } from "./types.ts";

/** The canonical operators; `==` parses to `=`. */
export type Operator = "=" | "!=" | "in" | "notin" | "exists" | "!";

/** One requirement. `values` is sorted and free of duplicates (one value for `=` / `!=`, none for `exists` / `!`). */
export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/**
 * A parsed label selector: every requirement must hold. `matchNothing` marks the selector of an
 * empty RC/Service selector map, which selects no object at all (unlike the empty string, which
 * selects every object).
 */
export interface LabelSelector {
  requirements: Requirement[];
  matchNothing: boolean;
}

/** The selector that selects every object. */
export const EVERYTHING: LabelSelector = Object.freeze({ requirements: [], matchNothing: false }) as LabelSelector;
/** The selector that selects no object. */
export const NOTHING: LabelSelector = Object.freeze({ requirements: [], matchNothing: true }) as LabelSelector;

// ---------------------------------------------------------------------------------------------
// Label key and value rules (shared with validation.ts)

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key (optional DNS-subdomain prefix and `/`, name ≤ 63), or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  let name = key;
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    name = key.slice(slash + 1);
    if (prefix.length === 0) return "prefix part must be non-empty";
    if (prefix.length > 253) return "prefix part must be no more than 253 characters";
    if (!DNS1123_SUBDOMAIN.test(prefix)) {
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    }
  }
  if (name.length === 0) return "name part must be non-empty";
  if (name.length > 63) return "name part must be no more than 63 characters";
  if (!LABEL_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')";
  }
  return undefined;
}

/** Why `value` is not a valid label value (empty, or ≤ 63 of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`), or undefined. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return "must be no more than 63 characters";
  if (value !== "" && !LABEL_NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')";
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Lexer

type Token =
  | { t: "id"; v: string; pos: number }
  | { t: "!" | "=" | "==" | "!=" | "," | "(" | ")" | "in" | "notin" | "end"; pos: number };

const SPECIAL = new Set(["!", "=", ",", "(", ")"]);
const isSpace = (c: string) => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v";

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === "!" && s[i + 1] === "=") {
      out.push({ t: "!=", pos });
      i += 2;
    } else if (c === "=" && s[i + 1] === "=") {
      out.push({ t: "==", pos });
      i += 2;
    } else if (SPECIAL.has(c)) {
      out.push({ t: c as "!" | "=" | "," | "(" | ")", pos });
      i++;
    } else {
      let j = i;
      while (j < s.length && !isSpace(s[j]) && !SPECIAL.has(s[j])) j++;
      const word = s.slice(i, j);
      if (word === "in" || word === "notin") out.push({ t: word, pos });
      else out.push({ t: "id", v: word, pos });
      i = j;
    }
  }
  out.push({ t: "end", pos: s.length });
  return out;
}

/** In key and value positions the words `in` and `notin` are plain identifiers (Kubernetes does the same for values). */
function asId(tok: Token): (Token & { t: "id" }) | undefined {
  if (tok.t === "id") return tok;
  if (tok.t === "in" || tok.t === "notin") return { t: "id", v: tok.t, pos: tok.pos };
  return undefined;
}

function describe(tok: Token): string {
  if (tok.t === "end") return "end of input";
  if (tok.t === "id") return `"${tok.v}"`;
  return `"${tok.t}"`;
}

// ---------------------------------------------------------------------------------------------
// Parser

/** A selector string that does not parse; the message names the position and what was expected. */
export class SelectorParseError extends BadRequestError {
  readonly position: number;
  constructor(selector: string, position: number, problem: string) {
    super(`unable to parse requirement: invalid label selector "${selector}": at position ${position}: ${problem}`);
    this.name = "SelectorParseError";
    this.position = position;
  }
}

/**
 * Parses a Kubernetes label selector string. Keys and values are checked against the label
 * rules; `==` becomes `=`, and set values are sorted and de-duplicated, so equal selectors
 * parse to equal values. Throws `SelectorParseError` (a `BadRequestError`).
 */
export function parseLabelSelector(s: string): LabelSelector {
  const toks = lex(s);
  let p = 0;
  const fail = (tok: Token, problem: string): never => {
    throw new SelectorParseError(s, tok.pos, problem);
  };
  const checkKey = (tok: Token & { t: "id" }) => {
    const bad = labelKeyProblem(tok.v);
    if (bad) fail(tok, `invalid label key "${tok.v}": ${bad}`);
    return tok.v;
  };
  const checkValue = (tok: Token, v: string) => {
    const bad = labelValueProblem(v);
    if (bad) fail(tok, `invalid label value "${v}": ${bad}`);
    return v;
  };

  const requirements: Requirement[] = [];
  if (toks[0].t === "end") return { requirements, matchNothing: false };
  for (;;) {
    let tok = toks[p++];
    const keyTok = asId(tok);
    if (tok.t === "!") {
      const key = asId(toks[p++]);
      if (!key) fail(toks[p - 1], `expected a label key after "!", found ${describe(toks[p - 1])}`);
      requirements.push({ key: checkKey(key!), operator: "!", values: [] });
    } else if (keyTok) {
      const key = checkKey(keyTok);
      const op = toks[p];
      if (op.t === "," || op.t === "end") {
        requirements.push({ key, operator: "exists", values: [] });
      } else if (op.t === "=" || op.t === "==" || op.t === "!=") {
        p++;
        const v = toks[p];
        const vid = asId(v);
        let value = "";
        if (vid) {
          value = checkValue(v, vid.v);
          p++;
        } else if (v.t !== "," && v.t !== "end") {
          fail(v, `expected a label value after "${op.t}", found ${describe(v)}`);
        }
        requirements.push({ key, operator: op.t === "!=" ? "!=" : "=", values: [value] });
      } else if (op.t === "in" || op.t === "notin") {
        p++;
        const open = toks[p++];
        if (open.t !== "(") fail(open, `expected "(" after "${op.t}", found ${describe(open)}`);
        const values = new Set<string>();
        for (;;) {
          const v = toks[p];
          const vid = asId(v);
          if (vid) {
            values.add(checkValue(v, vid.v));
            p++;
          } else if (v.t === "," || v.t === ")") {
            // An empty slot is the empty value, as in Kubernetes: "in ()" is the set {""}.
            values.add("");
          } else {
            fail(v, `expected a label value or ")" in the set of "${op.t}", found ${describe(v)}`);
          }
          const sep = toks[p++];
          if (sep.t === ")") break;
          if (sep.t !== ",") fail(sep, `expected "," or ")" in the set of "${op.t}", found ${describe(sep)}`);
        }
        requirements.push({ key, operator: op.t, values: [...values].sort() });
      } else {
        fail(op, `expected one of "=", "==", "!=", "in", "notin", "," or end of input after key "${key}", found ${describe(op)}`);
      }
    } else {
      fail(tok, `expected a label key or "!", found ${describe(tok)}`);
    }
    tok = toks[p++];
    if (tok.t === "end") break;
    if (tok.t !== ",") fail(tok, `expected "," or end of input, found ${describe(tok)}`);
  }
  return { requirements, matchNothing: false };
}

// ---------------------------------------------------------------------------------------------
// Matching

/** True when `labels` satisfies one requirement. */
export function matchesRequirement(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels![r.key] : undefined;
  switch (r.operator) {
    case "exists":
      return has;
    case "!":
      return !has;
    case "=":
      return has && value === r.values[0];
    case "!=":
      return !has || value !== r.values[0];
    case "in":
      return has && r.values.includes(value!);
    case "notin":
      return !has || !r.values.includes(value!);
  }
}

/** True when `labels` (absent: no labels) satisfies the selector. */
export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (sel.matchNothing) return false;
  return sel.requirements.every((r) => matchesRequirement(r, labels));
}

/**
 * The selector of an equality-only map (RC and Service `spec.selector`). An empty or absent map
 * selects nothing, as Kubernetes does for these selectors.
 */
export function selectorFromMap(map: Record<string, string> | undefined): LabelSelector {
  const keys = Object.keys(map ?? {}).sort();
  if (keys.length === 0) return NOTHING;
  return { requirements: keys.map((key) => ({ key, operator: "=", values: [map![key]] })), matchNothing: false };
}

const SPEC_OPERATORS: Record<string, Operator> = { In: "in", NotIn: "notin", Exists: "exists", DoesNotExist: "!" };

/**
 * The selector of an apps/v1 `LabelSelector` (`matchLabels` + `matchExpressions`), as
 * `metav1.LabelSelectorAsSelector` builds it. An absent selector selects nothing; an empty one
 * selects everything (validation refuses empty selectors on ReplicaSets and Deployments).
 */
export function selectorFromSpec(spec: LabelSelectorSpec | undefined): LabelSelector {
  if (!spec) return NOTHING;
  const requirements: Requirement[] = [];
  for (const key of Object.keys(spec.matchLabels ?? {}).sort()) requirements.push({ key, operator: "=", values: [spec.matchLabels![key]] });
  for (const e of spec.matchExpressions ?? []) {
    const operator = SPEC_OPERATORS[e.operator];
    if (!operator) return NOTHING;
    requirements.push({ key: e.key, operator, values: [...new Set(e.values ?? [])].sort() });
  }
  return { requirements, matchNothing: false };
}

/** True when every pair of a non-empty `map` is among `labels`; an empty map matches nothing. */
export function mapMatches(map: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  // The equality-only selectors of RCs and Services, matched on every pod event: no allocation.
  let any = false;
  for (const k in map) {
    any = true;
    if (labels?.[k] !== map[k]) return false;
  }
  return any;
}

/**
 * The selector that `NOTHING` formats to: a requirement and its negation, which no label set
 * satisfies. Kubernetes writes the nothing-selector as "", which would select everything if
 * handed back to a list call; this keeps the meaning.
 */
export const NOTHING_STRING = "berth.io/nothing,!berth.io/nothing";

/**
 * Formats a selector (or an equality map) in canonical syntax; `parseLabelSelector` reads it back
 * to an equal selector. A selector that matches nothing formats to `NOTHING_STRING`.
 */
export function formatLabelSelector(sel: LabelSelector | Record<string, string>): string {
  const s: LabelSelector = isLabelSelector(sel) ? sel : selectorFromMap(sel);
  if (s.matchNothing) return NOTHING_STRING;
  return s.requirements
    .map((r) => {
      switch (r.operator) {
        case "exists":
          return r.key;
        case "!":
          return `!${r.key}`;
        case "=":
        case "!=":
          return `${r.key}${r.operator}${r.values[0]}`;
        case "in":
        case "notin":
          return `${r.key} ${r.operator} (${r.values.join(",")})`;
      }
    })
    .join(",");
}

function isLabelSelector(v: unknown): v is LabelSelector {
  return typeof v === "object" && v !== null && Array.isArray((v as LabelSelector).requirements) &&
    typeof (v as LabelSelector).matchNothing === "boolean";
}

// ---------------------------------------------------------------------------------------------
// Field selectors

/** One field requirement; `value` is unescaped. */
export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

const COMMON_FIELDS = ["metadata.name", "metadata.namespace"];

/**
 * The fields each resource can be selected by, as in Kubernetes. A resource not listed (the RBAC
 * kinds) has only kube-apiserver's defaults, `metadata.name` and `metadata.namespace`.
 */
export const FIELD_LABELS: { readonly [R in Resource]?: readonly string[] } = {
  pods: [...COMMON_FIELDS, "spec.nodeName", "spec.restartPolicy", "status.phase", "status.podIP"],
  replicationcontrollers: [...COMMON_FIELDS, "status.replicas"],
  replicasets: [...COMMON_FIELDS, "status.replicas"],
  deployments: [...COMMON_FIELDS],
  daemonsets: [...COMMON_FIELDS],
  statefulsets: [...COMMON_FIELDS],
  controllerrevisions: [...COMMON_FIELDS],
  persistentvolumeclaims: [...COMMON_FIELDS],
  poddisruptionbudgets: [...COMMON_FIELDS],
  horizontalpodautoscalers: [...COMMON_FIELDS],
  jobs: [...COMMON_FIELDS, "status.successful"],
  cronjobs: [...COMMON_FIELDS],
  services: [...COMMON_FIELDS, "spec.clusterIP", "spec.type"],
  endpoints: [...COMMON_FIELDS],
  configmaps: [...COMMON_FIELDS],
  secrets: [...COMMON_FIELDS, "type"],
  serviceaccounts: [...COMMON_FIELDS],
  nodes: [...COMMON_FIELDS, "spec.unschedulable"],
  namespaces: [...COMMON_FIELDS, "status.phase"],
  events: [
    ...COMMON_FIELDS,
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
  ],
  resourcequotas: [...COMMON_FIELDS],
};

const ALL_FIELDS = new Set(Object.values(FIELD_LABELS).flat());

/** Splits on an unescaped separator; `\` escapes the next character. */
function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\\" && i + 1 < s.length) {
      cur += s[i] + s[i + 1];
      i++;
    } else if (s[i] === sep) {
      parts.push(cur);
      cur = "";
    } else cur += s[i];
  }
  parts.push(cur);
  return parts;
}

/** Kubernetes `UnescapeValue`: `\\`, `\,` and `\=` are escapes; any other escape or a bare `=` is an error. */
function unescapeFieldValue(selector: string, field: string, v: string): string {
  let out = "";
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === "\\") {
      const n = v[i + 1];
      if (n !== "\\" && n !== "," && n !== "=") {
        throw new BadRequestError(`invalid field selector "${selector}": invalid escape sequence in the value of ${field}`);
      }
      out += n;
      i++;
    } else if (c === "=" || c === ",") {
      throw new BadRequestError(`invalid field selector "${selector}": unescaped "${c}" in the value of ${field}`);
    } else out += c;
  }
  return out;
}

/**
 * Parses a field selector (`a=b,c!=d`). With `resource`, only that resource's fields are
 * accepted; without, any field some resource supports. Unsupported fields and malformed terms
 * throw `BadRequestError` ("field label not supported: x"). `\,` `\=` `\\` escape in values.
 */
export function parseFieldSelector(s: string, resource?: Resource): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (s.trim() === "") return { requirements };
  for (const term of splitEscaped(s, ",")) {
    const m = /^\s*([^=!\s]+)\s*(==|=|!=)(.*)$/s.exec(term);
    if (!m) throw new BadRequestError(`invalid field selector "${s}": "${term}" is not field=value, field==value or field!=value`);
    const [, field, op, rawValue] = m;
    const allowed = resource ? (FIELD_LABELS[resource] ?? COMMON_FIELDS).includes(field) : ALL_FIELDS.has(field);
    if (!allowed) throw new BadRequestError(`field label not supported: ${field}`);
    requirements.push({ field, operator: op === "!=" ? "!=" : "=", value: unescapeFieldValue(s, field, rawValue.trim()) });
  }
  return { requirements };
}

/** The value of a selectable field of an object, as a string ("" when absent), as Kubernetes does. */
export function fieldValue(obj: unknown, field: string): string {
  if (field === "source") return fieldValue(obj, "source.component");
  // A Job's `status.successful` is its succeeded count ("0" when none), as Kubernetes names it.
  if (field === "status.successful") return String((obj as { status?: { succeeded?: number } } | null)?.status?.succeeded ?? 0);
  let cur: unknown = obj;
  for (const part of field.split(".")) {
    if (typeof cur !== "object" || cur === null) return "";
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return field === "spec.unschedulable" ? "false" : "";
  return typeof cur === "object" ? JSON.stringify(cur) : String(cur);
}

/** True when the object satisfies every requirement of the field selector. */
export function matchesFields(sel: FieldSelector, obj: unknown): boolean {
  return sel.requirements.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === "="));
}

/** Formats a field selector, escaping `\`, `,` and `=` in values. */
export function formatFieldSelector(sel: FieldSelector): string {
  return sel.requirements
    .map((r) => `${r.field}${r.operator}${r.value.replace(/[\\,=]/g, (c) => `\\${c}`)}`)
    .join(",");
}
