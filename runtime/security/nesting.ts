/**
 * A bound on how deeply input may nest, checked before any parser sees it. A 20,000-deep YAML
 * body once took the whole `berth up` process down (the YAML library ran out of memory compiling
 * a regular expression); JSON that deep parses, then overflows the stack of whatever walks it
 * next. Kubernetes objects nest a dozen levels; 100 is generous.
 *
 * The scans are linear, allocate nothing per character, and never undercount: a document they
 * pass nests at most `max` deep. For YAML they may overcount a little (an indented continuation
 * line counts as a level), which only matters near the bound. Aliases can repeat a deep anchor
 * inside another, so parsed YAML is also measured by `valueDepth`.
 */
import { BadRequestError } from "../../model/errors.ts";

/** Deepest nesting accepted from outside: REST bodies, NATS API requests, manifests. */
export const MAX_NESTING_DEPTH = 100;

/** Input nested deeper than allowed; says how deep and, for text, where (line and column from 1). */
export class NestingTooDeepError extends BadRequestError {
  constructor(readonly what: string, readonly max: number, readonly at?: { line: number; column: number }) {
    super(`${what} nests deeper than ${max} levels${at ? ` (at line ${at.line}, column ${at.column})` : ""}`);
    this.name = "NestingTooDeepError";
  }
}

/** Throws `NestingTooDeepError` when JSON text opens more than `max` arrays/objects at once. */
export function checkJsonNesting(text: string, what = "the JSON document", max = MAX_NESTING_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > max) throw tooDeep(text, i, what, max);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
}

/**
 * Throws `NestingTooDeepError` when YAML text may nest more than `max` levels: block levels
 * (the indentations in force, counting the column after each `- `, `? `, `: ` indicator, where
 * a nested collection starts on the same line) plus flow levels (`[`, `{` outside quotes and
 * comments). Block scalars (`|`, `>`) are skipped as text.
 */
export function checkYamlNesting(text: string, what = "the YAML document", max = MAX_NESTING_DEPTH): void {
  const indents: number[] = [];
  let flow = 0;
  let quote = 0; // 0, or the code of the open quote (' or ")
  let blockScalarParent: number | undefined; // while set: lines indented deeper than this are a block scalar's text
  let pos = 0;
  while (pos <= text.length) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    let indent = 0;
    while (pos + indent < end && text.charCodeAt(pos + indent) === 0x20) indent++;
    const blank = pos + indent >= end || text.charCodeAt(pos + indent) === 0x23 /* # */ || text.charCodeAt(pos + indent) === 0x0d;
    if (blockScalarParent !== undefined && (blank || indent > blockScalarParent)) {
      pos = end + 1;
      continue;
    }
    blockScalarParent = undefined;
    if (!blank && quote === 0 && flow === 0) {
      while (indents.length && indents[indents.length - 1] >= indent) indents.pop();
      indents.push(indent);
      if (text.startsWith("---", pos) || text.startsWith("...", pos)) indents.length = 0;
    }
    let depth = indents.length + flow;
    if (depth > max) throw tooDeep(text, pos + indent, what, max);
    // Walk the line: indicators that open a nested block collection, flow brackets, quotes.
    let atNodeStart = quote === 0;
    let pushedAt = -1; // the column the last indicator on this line pushed
    for (let i = pos + indent; i < end; i++) {
      const c = text.charCodeAt(i);
      if (quote) {
        if (quote === 0x27 && c === 0x27) {
          if (text.charCodeAt(i + 1) === 0x27) i++;
          else quote = 0;
        } else if (quote === 0x22 && c === 0x5c) i++;
        else if (quote === 0x22 && c === 0x22) quote = 0;
        continue;
      }
      if (c === 0x20 || c === 0x09 || c === 0x0d) continue;
      if (c === 0x23 /* # */ && (i === pos || isSpace(text.charCodeAt(i - 1)))) break;
      if (flow === 0 && atNodeStart && (c === 0x2d /* - */ || c === 0x3f /* ? */ || c === 0x3a /* : */) && isSpaceOrEnd(text, i + 1, end)) {
        // `- a: 1`: the node after the indicator is a collection indented to where it starts;
        // lines below it that are indented as deep belong to it, so its column joins the stack.
        let next = i + 1;
        while (next < end && (text.charCodeAt(next) === 0x20 || text.charCodeAt(next) === 0x09)) next++;
        if (next < end && text.charCodeAt(next) !== 0x23 && text.charCodeAt(next) !== 0x0d) {
          indents.push(next - pos);
          pushedAt = next - pos;
          if (++depth > max) throw tooDeep(text, i, what, max);
        }
        continue;
      }
      if ((c === 0x7c /* | */ || c === 0x3e /* > */) && atNodeStart && flow === 0 && /^[0-9+-]*[ \t\r]*(#.*)?$/.test(text.slice(i + 1, end))) {
        // A block scalar: the lines below indented deeper than the collection holding it are
        // text — the collection is the one whose entry starts here (`- |`: the sequence, one
        // below the column the `- ` pushed; `key: |`: the mapping, the top of the stack).
        blockScalarParent = i - pos === pushedAt ? (indents[indents.length - 2] ?? -1) : (indents[indents.length - 1] ?? -1);
        break;
      }
      if ((c === 0x22 || c === 0x27) && atNodeStart) {
        quote = c;
        atNodeStart = false;
      } else if ((c === 0x5b || c === 0x7b) && (atNodeStart || flow > 0)) {
        // A bracket opens a flow collection where a node starts; inside a plain scalar (`m{`)
        // it is only a character.
        flow++;
        if (++depth > max) throw tooDeep(text, i, what, max);
        atNodeStart = true;
      } else if ((c === 0x5d || c === 0x7d) && flow > 0) {
        flow--;
        depth--;
        atNodeStart = false;
      } else if (c === 0x2c /* , */ && flow > 0) {
        atNodeStart = true;
      } else if (c === 0x3a /* : */ && (flow > 0 || isSpaceOrEnd(text, i + 1, end))) {
        atNodeStart = true;
      } else if ((c === 0x26 /* & */ || c === 0x21 /* ! */) && atNodeStart) {
        // An anchor or a tag comes before the node it names: the node still starts after it.
        while (i + 1 < end && !isSpace(text.charCodeAt(i + 1)) && (flow === 0 || !/[,\[\]{}]/.test(text[i + 1]))) i++;
      } else {
        atNodeStart = false;
      }
    }
    pos = end + 1;
  }
}

/** Throws `NestingTooDeepError` when a parsed value nests more than `max` arrays/objects. Iterative. */
export function checkValueNesting(value: unknown, what = "the document", max = MAX_NESTING_DEPTH): void {
  const stack: [unknown, number][] = [[value, 1]];
  // Parsed YAML shares one object under every alias of its anchor: walk an object again only
  // when it is reached deeper than before, so shared objects cost little and depth is exact.
  const deepest = new Map<object, number>();
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (d > max) throw new NestingTooDeepError(what, max);
    if ((deepest.get(v) ?? 0) >= d) continue;
    deepest.set(v, d);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isSpaceOrEnd(text: string, i: number, end: number): boolean {
  return i >= end || isSpace(text.charCodeAt(i));
}

function tooDeep(text: string, offset: number, what: string, max: number): NestingTooDeepError {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return new NestingTooDeepError(what, max, { line, column: offset - start + 1 });
}
