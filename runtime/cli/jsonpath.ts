/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `-o custom-columns=...`, `--sort-by`), as
 * https://kubernetes.io/docs/reference/kubectl/jsonpath/ describes them:
 *
 *   text and actions in braces     'name: {.metadata.name}{"\n"}'
 *   fields, children, wildcards    .a.b   ['a.b']   .*   [*]
 *   indexes and slices             [0]   [-1]   [1:3]   [-1:]
 *   recursive descent              ..name
 *   filters                        [?(@.status.phase=="Running")]   [?(@.spec.nodeName)]
 *   iteration                      {range .items[*]}{.metadata.name}{"\n"}{end}
 *   literals                       {"\t"}   {'x'}
 *
 * Several results of one action print space-separated; a missing field is an error naming it
 * (`error executing jsonpath ... is not found`), except inside a filter or a range, as kubectl.
 * Pure: no I/O.
 */

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonPathError";
  }
}

type Step =
  | { t: "field"; name: string }
  | { t: "recurse"; name: string | "*" }
  | { t: "wild" }
  | { t: "index"; i: number }
  | { t: "slice"; start?: number; end?: number }
  | { t: "filter"; path: Step[]; op?: string; value?: unknown };

type Node = { t: "text"; s: string } | { t: "path"; steps: Step[]; src: string } | { t: "range"; steps: Step[]; body: Node[]; src: string };

/** Parses `{.items[*].metadata.name}`-style templates once; evaluate with `run`. */
export function compileTemplate(template: string): (data: unknown) => string {
  const nodes = parseTemplate(template);
  return (data) => render(nodes, data, template);
}

/** The values one path expression (`.metadata.name` or `{.metadata.name}`) selects. */
export function selectPath(expr: string, data: unknown): unknown[] {
  const src = expr.trim().replace(/^\{(.*)\}$/s, "$1");
  return evaluate(parsePath(src.startsWith(".") || src.startsWith("[") || src.startsWith("@") ? src : `.${src}`), data, src, true);
}

function parseTemplate(t: string): Node[] {
  const root: Node[] = [];
  const stack: { body: Node[] }[] = [{ body: root }];
  let i = 0;
  while (i < t.length) {
    const open = t.indexOf("{", i);
    if (open < 0) {
      stack.at(-1)!.body.push({ t: "text", s: t.slice(i) });
      break;
    }
    if (open > i) stack.at(-1)!.body.push({ t: "text", s: t.slice(i, open) });
    const close = findClose(t, open);
    const inner = t.slice(open + 1, close).trim();
    i = close + 1;
    if (/^range\s/.test(inner)) {
      const src = inner.slice(5).trim();
      const node: Node = { t: "range", steps: parsePath(src), body: [], src };
      stack.at(-1)!.body.push(node);
      stack.push(node);
    } else if (inner === "end") {
      if (stack.length === 1) throw new JsonPathError(`not in range, nothing to end in ${JSON.stringify(t)}`);
      stack.pop();
    } else if (/^(".*"|'.*')$/s.test(inner)) {
      stack.at(-1)!.body.push({ t: "text", s: unquote(inner) });
    } else {
      stack.at(-1)!.body.push({ t: "path", steps: parsePath(inner), src: inner });
    }
  }
  if (stack.length > 1) throw new JsonPathError(`unclosed range in ${JSON.stringify(t)}`);
  return root;
}

function findClose(t: string, open: number): number {
  let quote: string | null = null;
  for (let j = open + 1; j < t.length; j++) {
    const c = t[j];
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "}") return j;
  }
  throw new JsonPathError(`unclosed action in ${JSON.stringify(t)}`);
}

function unquote(q: string): string {
  const body = q.slice(1, -1);
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" } as Record<string, string>)[c] ?? c);
}

function parsePath(src: string): Step[] {
  const steps: Step[] = [];
  let i = 0;
  if (src.startsWith("$")) i = 1;
  if (src[i] === "@") i++;
  const name = (): string => {
    let s = "";
    while (i < src.length && src[i] !== "." && src[i] !== "[") {
      if (src[i] === "\\" && i + 1 < src.length) {
        s += src[i + 1];
        i += 2;
      } else s += src[i++];
    }
    return s;
  };
  while (i < src.length) {
    if (src.startsWith("..", i)) {
      i += 2;
      const n = src[i] === "*" ? (i++, "*") : name();
      steps.push({ t: "recurse", name: n });
    } else if (src[i] === ".") {
      i++;
      if (src[i] === "*") {
        i++;
        steps.push({ t: "wild" });
      } else if (i < src.length && src[i] !== "[") {
        steps.push({ t: "field", name: name() });
      }
    } else if (src[i] === "[") {
      const close = matchBracket(src, i);
      const inner = src.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === "*") steps.push({ t: "wild" });
      else if (/^-?\d+$/.test(inner)) steps.push({ t: "index", i: Number(inner) });
      else if (/^-?\d*:-?\d*$/.test(inner)) {
        const [a, b] = inner.split(":");
        steps.push({ t: "slice", start: a === "" ? undefined : Number(a), end: b === "" ? undefined : Number(b) });
      } else if (/^(".*"|'.*')$/s.test(inner)) steps.push({ t: "field", name: unquote(inner) });
      else if (inner.startsWith("?(") && inner.endsWith(")")) steps.push(parseFilter(inner.slice(2, -1).trim()));
      else throw new JsonPathError(`unrecognized subscript [${inner}] in ${JSON.stringify(src)}`);
    } else {
      steps.push({ t: "field", name: name() });
    }
  }
  return steps;
}

function matchBracket(src: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let j = open; j < src.length; j++) {
    const c = src[j];
    if (quote) {
      if (c === "\\") j++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]" && --depth === 0) return j;
  }
  throw new JsonPathError(`unclosed [ in ${JSON.stringify(src)}`);
}

function parseFilter(expr: string): Step {
  const m = /^(@[^=!<>]*?)\s*(==|!=|<=|>=|<|>)\s*(.+)$/s.exec(expr);
  if (!m) {
    if (!/^@[^\s~=!<>&|()]*$/.test(expr)) throw new JsonPathError(`unrecognized filter ?(${expr})`);
    return { t: "filter", path: parsePath(expr) };
  }
  const raw = m[3].trim();
  let value: unknown;
  if (/^(".*"|'.*')$/s.test(raw)) value = unquote(raw);
  else if (raw === "true" || raw === "false") value = raw === "true";
  else if (Number.isFinite(Number(raw))) value = Number(raw);
  else throw new JsonPathError(`unrecognized filter value ${raw} in ?(${expr})`);
  return { t: "filter", path: parsePath(m[1].trim()), op: m[2], value };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function evaluate(steps: Step[], data: unknown, src: string, lenient: boolean): unknown[] {
  let cur: unknown[] = [data];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      switch (s.t) {
        case "field":
          if (isObj(v) && Object.hasOwn(v, s.name)) next.push(v[s.name]);
          else if (!lenient) throw new JsonPathError(`${s.name} is not found`);
          break;
        case "wild":
          if (Array.isArray(v)) next.push(...v);
          else if (isObj(v)) next.push(...Object.values(v));
          break;
        case "index":
          if (Array.isArray(v)) {
            const i = s.i < 0 ? v.length + s.i : s.i;
            if (i >= 0 && i < v.length) next.push(v[i]);
            else if (!lenient) throw new JsonPathError(`array index out of bounds: index ${s.i}, length ${v.length}`);
          }
          break;
        case "slice":
          if (Array.isArray(v)) next.push(...v.slice(s.start, s.end));
          break;
        case "recurse":
          collect(v, s.name, next);
          break;
        case "filter":
          if (Array.isArray(v)) next.push(...v.filter((x) => matches(s, x)));
          break;
      }
    }
    cur = next;
  }
  return cur;
}

function collect(v: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(v)) {
    for (const x of v) collect(x, name, out);
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (name === "*" || k === name) out.push(x);
      collect(x, name, out);
    }
  }
}

function matches(f: Extract<Step, { t: "filter" }>, item: unknown): boolean {
  const got = evaluate(f.path, item, "", true);
  if (f.op === undefined) return got.length > 0 && got[0] !== false && got[0] !== null;
  if (got.length === 0) return false;
  const a = got[0] as number | string, b = f.value as number | string;
  switch (f.op) {
    case "==": return a === b;
    case "!=": return a !== b;
    case "<": return a < b;
    case ">": return a > b;
    case "<=": return a <= b;
    default: return a >= b;
  }
}

/** How kubectl prints one value: strings bare, everything else as JSON. */
export function formatValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function render(nodes: Node[], data: unknown, template: string, inRange = false): string {
  let s = "";
  for (const n of nodes) {
    if (n.t === "text") s += n.s;
    else if (n.t === "path") {
      try {
        s += evaluate(n.steps, data, n.src, inRange).map(formatValue).join(" ");
      } catch (e) {
        throw new JsonPathError(`error executing jsonpath ${JSON.stringify(template)}: ${(e as Error).message}`);
      }
    } else {
      for (const item of evaluate(n.steps, data, n.src, true)) s += render(n.body, item, template, true);
    }
  }
  return s;
}
