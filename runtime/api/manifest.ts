/**
 * Manifests: YAML (multi-document, `---`) or JSON text → one `ManifestDoc` per object, each
 * knowing where it came from, so every error can say `deploy.yaml: document 2 (line 14): ...`.
 *
 * `kind: List` (and `v1 <Kind>List`) expands into its items; empty documents are skipped. YAML is
 * read as YAML 1.2 (core schema), not as the YAML 1.1 of kubectl's go-yaml v2, on purpose: in
 * 1.1 `name: n` or `country: no` silently become booleans. With 1.2 only `true`/`false` are
 * booleans, and timestamps stay strings as Kubernetes keeps them. `parseManifests` checks only what it needs
 * to route a document (a mapping, `apiVersion`, a served `kind`); `validateManifests` then
 * validates every object so that a caller can reject a whole file before touching anything.
 */
import { LineCounter, parseAllDocuments } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import { ApiError } from "../../model/errors.ts";
import { RESOURCES, apiVersionOf } from "../../model/types.ts";
import type { AnyObject, Resource } from "../../model/types.ts";
import { checkSize, resourceForKind, validate } from "./validation.ts";
import { ManifestError } from "./manifest_error.ts";
import { checkFieldValidation, type FieldValidation } from "./field_validation.ts";

export { ManifestError };
import { checkJsonNesting, checkValueNesting, checkYamlNesting, type NestingTooDeepError } from "../security/nesting.ts";

/** One object of a manifest, with its origin. */
export interface ManifestDoc {
  resource: Resource;
  object: Record<string, unknown>;
  /** The file name given to `parseManifests` (`<stdin>` by default). */
  source: string;
  /** The document's number in the file, from 1. */
  index: number;
  /** The line (from 1) where the object starts. */
  line: number;
  /** For an object inside a `List`: its position in `items`, from 0. */
  item?: number;
}

const SERVED_KINDS = Object.values(RESOURCES).map((r) => r.kind).join(", ");

/** `file: document 2 (line 14)`, `file: document 2 (line 14) item 3`. */
export function describeLocation(d: { source: string; index?: number; line?: number; item?: number }): string {
  let s = d.source;
  if (d.index !== undefined) s += `: document ${d.index}`;
  if (d.line !== undefined) s += d.index !== undefined ? ` (line ${d.line})` : `: line ${d.line}`;
  if (d.item !== undefined) s += ` item ${d.item}`;
  return s;
}

const YAML_OPTIONS = {
  version: "1.2" as const,
  schema: "core" as const,
  // Anchors and aliases are allowed, but not the exponential "billion laughs" expansion.
  maxAliasCount: 100,
};

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Line and column (from 1) of a 0-based offset. */
function lineCol(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, col: offset - start + 1 };
}

interface RawDoc {
  value: unknown;
  index: number;
  line: number;
  /** Line of each element of `items`, when known. */
  itemLines?: number[];
}

/** JSON text (one value) when it parses as such; undefined to fall back to YAML. */
function tryJson(text: string, source: string): RawDoc[] | undefined {
  const t = text.trimStart();
  if (!t.startsWith("{") && !t.startsWith("[")) return undefined;
  try {
    checkJsonNesting(text, source);
  } catch (e) {
    throw new ManifestError((e as Error).message, { source, line: (e as NestingTooDeepError).at?.line }, { cause: e });
  }
  try {
    const value = JSON.parse(text) as unknown;
    return [{ value, index: 1, line: lineCol(text, text.length - t.length).line }];
  } catch {
    return undefined; // not JSON after all: YAML reports the error with a position (JSON is YAML, mostly)
  }
}

function yamlDocs(text: string, source: string): RawDoc[] {
  // Before the parser: a 20,000-deep document once exhausted the process's memory inside it.
  try {
    checkYamlNesting(text, source);
  } catch (e) {
    throw new ManifestError((e as Error).message, { source, line: (e as NestingTooDeepError).at?.line }, { cause: e });
  }
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { ...YAML_OPTIONS, lineCounter }) as unknown;
  const docs = (Array.isArray(parsed) ? parsed : [parsed]) as Document.Parsed[];
  const out: RawDoc[] = [];
  docs.forEach((doc, i) => {
    const index = i + 1;
    const startOffset = (doc.contents as YamlNode | null)?.range?.[0] ?? doc.range[0];
    const line = lineCounter.linePos(startOffset).line;
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0] ?? lineCounter.linePos(err.pos[0]);
      const firstLine = err.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
      const docLine = Math.min(line, pos.line);
      throw new ManifestError(
        `${describeLocation({ source, index, line: docLine })}: YAML syntax error at line ${pos.line}, column ${pos.col}: ${firstLine}`,
        { source, index, line: pos.line },
      );
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: YAML_OPTIONS.maxAliasCount });
      // Aliases can nest a deep anchor inside another: measure what they built.
      checkValueNesting(value, "the document");
    } catch (e) {
      throw new ManifestError(`${describeLocation({ source, index, line })}: ${(e as Error).message}`, { source, index, line }, { cause: e });
    }
    const items = (doc.contents as { get?: (k: string, keep: boolean) => unknown } | null)?.get?.("items", true) as
      | { items?: YamlNode[] }
      | undefined;
    const itemLines = Array.isArray(items?.items)
      ? items.items.map((n) => (n?.range ? lineCounter.linePos(n.range[0]).line : line))
      : undefined;
    out.push({ value, index, line, itemLines });
  });
  return out;
}

/** Checks what routing needs and returns the document as a `ManifestDoc`. */
function toDoc(value: unknown, where: { source: string; index: number; line: number; item?: number }): ManifestDoc {
  const at = describeLocation(where);
  const fail = (msg: string): never => {
    throw new ManifestError(`${at}: ${msg}`, where);
  };
  if (!isMapping(value)) fail(`a document must be a mapping (an object), not ${Array.isArray(value) ? "a list" : typeof value}`);
  const obj = value as Record<string, unknown>;
  if (obj.kind === undefined || obj.kind === "") fail(`missing "kind" (Berth serves: ${SERVED_KINDS})`);
  if (typeof obj.kind !== "string") fail(`"kind" must be a string, got ${JSON.stringify(obj.kind)}`);
  if (obj.apiVersion === undefined || obj.apiVersion === "") fail(`missing "apiVersion" (Berth serves "v1")`);
  if (typeof obj.apiVersion !== "string") fail(`"apiVersion" must be a string, got ${JSON.stringify(obj.apiVersion)}`);
  const kind = obj.kind as string;
  const resource = resourceForKind(kind);
  if (!resource) fail(`unknown kind "${kind}" (Berth serves: ${SERVED_KINDS})`);
  if (obj.apiVersion !== apiVersionOf(resource!)) fail(`kind "${kind}" is served as apiVersion "${apiVersionOf(resource!)}", not "${String(obj.apiVersion)}"`);
  return { resource: resource!, object: obj, ...where };
}

function isList(obj: Record<string, unknown>): boolean {
  if (obj.kind === "List") return true;
  return typeof obj.kind === "string" && obj.kind.endsWith("List") && obj.apiVersion === "v1" &&
    resourceForKind(obj.kind.slice(0, -4)) !== undefined;
}

/**
 * Parses manifest text (YAML, possibly several `---` documents, or JSON) into one `ManifestDoc`
 * per object. Throws `ManifestError` (a `BadRequestError`) naming the file, document and line
 * of the first problem: a syntax error (with line and column), a document that is not a mapping,
 * a missing `kind` or `apiVersion`, a kind Berth does not serve.
 */
export function parseManifests(text: string, source = "<stdin>"): ManifestDoc[] {
  const raw = tryJson(text, source) ?? yamlDocs(text, source);
  const out: ManifestDoc[] = [];
  for (const d of raw) {
    if (d.value === null || d.value === undefined) continue; // an empty document
    const where = { source, index: d.index, line: d.line };
    if (isMapping(d.value) && isList(d.value)) {
      const items = d.value.items;
      if (items === undefined || items === null) continue;
      if (!Array.isArray(items)) throw new ManifestError(`${describeLocation(where)}: "items" of a ${String(d.value.kind)} must be a list`, where);
      items.forEach((item, i) => {
        out.push(toDoc(item, { ...where, line: d.itemLines?.[i] ?? d.line, item: i }));
      });
      continue;
    }
    out.push(toDoc(d.value, where));
  }
  return out;
}

/**
 * Validates every document (size, then `validate`), and returns the validated objects in order.
 * Throws one `ManifestError` listing every rejected document, each message prefixed with its
 * location; `errors` holds the underlying errors and `details.causes` their causes, with the
 * location prefixed to each field.
 */
export function validateManifests(
  docs: ManifestDoc[],
  opts: { fieldValidation?: FieldValidation; warn?: (message: string) => void } = {},
): AnyObject[] {
  const failures: { at: string; error: ApiError }[] = [];
  const out: AnyObject[] = [];
  for (const d of docs) {
    const at = describeLocation(d);
    try {
      checkSize(d.object);
      // Fields the schema does not declare: refused (Strict), reported (Warn) or let through.
      for (const w of checkFieldValidation(RESOURCES[d.resource].kind, d.object, opts.fieldValidation ?? "Ignore")) opts.warn?.(`${at}: ${w}`);
      out.push(validate(d.resource, d.object));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      failures.push({ at, error: e });
    }
  }
  if (failures.length === 0) return out;
  const first = docs.find((d) => describeLocation(d) === failures[0].at)!;
  const causes = failures.flatMap(({ at, error }) =>
    (error.details?.causes ?? [{ reason: error.reason, message: error.message }]).map((c) => ({ ...c, field: c.field ? `${at}: ${c.field}` : at })),
  );
  throw new ManifestError(
    failures.map(({ at, error }) => `${at}: ${error.message}`).join("\n"),
    { source: first.source, index: first.index, line: first.line },
    { causes, errors: failures.map((f) => f.error) },
  );
}
