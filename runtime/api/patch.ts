/**
 * The three PATCH flavours Kubernetes clients send, as pure functions over JSON values.
 *
 *   - `merge`     — JSON merge patch (RFC 7386): objects merge recursively, `null` deletes,
 *                   everything else (arrays included) replaces.
 *   - `json`      — JSON patch (RFC 6902): an array of add/remove/replace/move/copy/test
 *                   operations addressed by JSON pointers (RFC 6901).
 *   - `strategic` — Kubernetes strategic merge patch, what `kubectl apply` sends for core kinds:
 *                   like a merge patch, except that lists of keyed objects (containers by `name`,
 *                   ports by `containerPort`/`port`, env by `name`, ...) merge element by element,
 *                   and the `$patch`, `$retainKeys`, `$setElementOrder/<list>` and
 *                   `$deleteFromPrimitiveList/<list>` directives are honoured.
 *
 * Errors follow the API server: a patch document that cannot be understood is a 400
 * (`BadRequestError`); a well-formed JSON patch that cannot be applied (a missing path, a failed
 * `test`) is a 422 (`Invalid`), naming the operation index and path.
 *
 * The input target is never modified; the result is a fresh value.
 */
import { ApiError, BadRequestError } from "../../model/errors.ts";

export type PatchKind = "merge" | "json" | "strategic";

/** Applies `patch` of the given type to `target` and returns the patched copy. */
export function applyPatch(target: unknown, patch: unknown, type: PatchKind): unknown {
  switch (type) {
    case "merge":
      if (!isPlainObject(patch)) throw new BadRequestError("a merge patch must be a JSON object");
      return mergePatch(target, patch);
    case "json":
      return jsonPatch(target, patch);
    case "strategic":
      if (!isPlainObject(patch)) throw new BadRequestError("a strategic merge patch must be a JSON object");
      return strategicMergePatch(target, patch);
    default:
      throw new BadRequestError(`unknown patch type ${String(type)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 7386

/** JSON merge patch (RFC 7386). Exported for callers that want the RFC's exact semantics. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902

type JsonPatchOp =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; path: string; from: string };

/** JSON patch (RFC 6902). Malformed documents are 400s; failed operations are 422s. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  const ops = decodeJsonPatch(patch);
  let doc = clone(target);
  ops.forEach((op, index) => {
    try {
      doc = applyOp(doc, op);
    } catch (e) {
      if (!(e instanceof PointerError)) throw e;
      const message = `json patch operation ${index} (${op.op} ${JSON.stringify(op.path)}): ${e.message}`;
      throw new ApiError("Invalid", message, {
        causes: [{ reason: op.op === "test" ? "FieldValueInvalid" : "FieldValueNotFound", message, field: op.path }],
      });
    }
  });
  return doc;
}

function decodeJsonPatch(patch: unknown): JsonPatchOp[] {
  if (!Array.isArray(patch)) throw new BadRequestError("a json patch must be a JSON array of operations");
  return patch.map((raw, index) => {
    const bad = (why: string) => new BadRequestError(`json patch operation ${index}: ${why}`);
    if (!isPlainObject(raw)) throw bad("not an object");
    const { op, path } = raw;
    if (typeof path !== "string") throw bad(`"path" must be a string`);
    if (path !== "" && !path.startsWith("/")) throw bad(`path ${JSON.stringify(path)} is not a JSON pointer`);
    switch (op) {
      case "add":
      case "replace":
      case "test":
        if (!("value" in raw)) throw bad(`"${op}" needs a "value"`);
        return { op, path, value: raw.value };
      case "remove":
        return { op, path };
      case "move":
      case "copy": {
        const from = raw.from;
        if (typeof from !== "string") throw bad(`"${op}" needs a string "from"`);
        if (from !== "" && !from.startsWith("/")) throw bad(`from ${JSON.stringify(from)} is not a JSON pointer`);
        return { op, path, from };
      }
      default:
        throw bad(`unknown op ${JSON.stringify(op)}`);
    }
  });
}

class PointerError extends Error {}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function getAt(doc: unknown, tokens: string[]): unknown {
  let cur = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) {
      const i = arrayIndex(t, cur.length - 1);
      cur = cur[i];
    } else if (isPlainObject(cur)) {
      if (!Object.hasOwn(cur, t)) throw new PointerError(`path not found: ${t} is missing`);
      cur = cur[t];
    } else {
      throw new PointerError(`path not found: cannot descend into a ${typeName(cur)} at ${t}`);
    }
  }
  return cur;
}

function arrayIndex(token: string, max: number): number {
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new PointerError(`${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > max) throw new PointerError(`array index ${i} out of bounds`);
  return i;
}

/** The container holding the last token, and that token. */
function parentOf(doc: unknown, tokens: string[]): { parent: unknown; last: string } {
  return { parent: getAt(doc, tokens.slice(0, -1)), last: tokens[tokens.length - 1] };
}

function addAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const i = last === "-" ? parent.length : arrayIndex(last, parent.length);
    parent.splice(i, 0, value);
  } else if (isPlainObject(parent)) {
    parent[last] = value;
  } else {
    throw new PointerError(`path not found: parent is a ${typeName(parent)}`);
  }
  return doc;
}

function removeAt(doc: unknown, tokens: string[]): { doc: unknown; removed: unknown } {
  if (tokens.length === 0) return { doc: null, removed: doc };
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const i = arrayIndex(last, parent.length - 1);
    const [removed] = parent.splice(i, 1);
    return { doc, removed };
  }
  if (isPlainObject(parent)) {
    if (!Object.hasOwn(parent, last)) throw new PointerError(`path not found: ${last} is missing`);
    const removed = parent[last];
    delete parent[last];
    return { doc, removed };
  }
  throw new PointerError(`path not found: parent is a ${typeName(parent)}`);
}

function applyOp(doc: unknown, op: JsonPatchOp): unknown {
  const path = parsePointer(op.path);
  switch (op.op) {
    case "add":
      return addAt(doc, path, clone(op.value));
    case "remove":
      return removeAt(doc, path).doc;
    case "replace":
      getAt(doc, path); // must exist
      return addAt(removeAt(doc, path).doc, path, clone(op.value));
    case "test": {
      const actual = getAt(doc, path);
      if (!deepEqual(actual, op.value)) {
        throw new PointerError(`test failed: value is ${JSON.stringify(actual)}, expected ${JSON.stringify(op.value)}`);
      }
      return doc;
    }
    case "copy":
      return addAt(doc, path, clone(getAt(doc, parsePointer(op.from))));
    case "move": {
      if (op.path !== op.from && op.path.startsWith(op.from + "/")) {
        throw new PointerError(`cannot move ${op.from} into its own child`);
      }
      if (op.path === op.from) {
        getAt(doc, path);
        return doc;
      }
      const { doc: rest, removed } = removeAt(doc, parsePointer(op.from));
      return addAt(rest, path, removed);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

/**
 * How a list field merges, by the field's name and (for `ports`, `addresses`) its parent field.
 * This is the part of the core/v1 schema's `patchStrategy`/`patchMergeKey` tags that concerns the
 * kinds Berth serves; lists not named here are atomic (replaced whole), as in Kubernetes.
 */
export function listMergeKey(field: string, parentField: string | undefined): string | "$primitive" | undefined {
  switch (field) {
    case "containers":
    case "initContainers":
    case "ephemeralContainers":
    case "volumes":
    case "env":
      return "name";
    case "imagePullSecrets":
      // A pod spec's merge by name; a ServiceAccount's (top level) is atomic.
      return parentField === undefined ? undefined : "name";
    case "secrets":
      // A ServiceAccount's object references merge by name.
      return parentField === undefined ? "name" : undefined;
    case "ports":
      // Container ports merge by containerPort; a Service's spec.ports by port; an EndpointSlice's
      // (at the top level) are atomic.
      if (parentField === undefined) return undefined;
      return parentField === "containers" || parentField === "initContainers" || parentField === "ephemeralContainers"
        ? "containerPort"
        : "port";
    case "volumeMounts":
      return "mountPath";
    case "volumeDevices":
      return "devicePath";
    case "conditions":
      return "type";
    case "addresses":
      // NodeStatus.addresses merges by type; Endpoints subsets' addresses are atomic.
      return parentField === "subsets" ? undefined : "type";
    case "ownerReferences":
      return "uid";
    case "hostAliases":
      return "ip";
    case "topologySpreadConstraints":
      return "topologyKey";
    case "finalizers":
      return "$primitive";
    default:
      return undefined;
  }
}

const DELETE = Symbol("delete");

/** Kubernetes strategic merge patch over the core/v1 shapes Berth serves. */
export function strategicMergePatch(target: unknown, patch: Record<string, unknown>): unknown {
  const out = smpMap(isPlainObject(target) ? target : {}, patch, undefined);
  return out === DELETE ? {} : out;
}

function smpMap(
  target: Record<string, unknown>,
  patch: Record<string, unknown>,
  selfField: string | undefined,
): Record<string, unknown> | typeof DELETE {
  const directive = patch.$patch;
  if (directive === "delete") return DELETE;
  if (directive === "replace") return stripDirectives(patch) as Record<string, unknown>;
  if (directive !== undefined && directive !== "merge") throw new BadRequestError(`unknown $patch directive ${JSON.stringify(directive)}`);

  const out: Record<string, unknown> = { ...target };
  const orders: [string, unknown[]][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === "$patch" || key === "$retainKeys") continue;
    if (key.startsWith("$setElementOrder/")) {
      if (Array.isArray(value)) orders.push([key.slice("$setElementOrder/".length), value]);
      continue;
    }
    if (key.startsWith("$deleteFromPrimitiveList/")) {
      const field = key.slice("$deleteFromPrimitiveList/".length);
      if (Array.isArray(value) && Array.isArray(out[field])) {
        out[field] = (out[field] as unknown[]).filter((v) => !value.some((d) => deepEqual(d, v)));
      }
      continue;
    }
    if (key.startsWith("$")) continue; // unknown directives are tolerated, as older servers do
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value)) {
      const merged = smpList(out[key], value, key, selfField);
      out[key] = merged;
    } else if (isPlainObject(value)) {
      const merged = smpMap(isPlainObject(out[key]) ? (out[key] as Record<string, unknown>) : {}, value, key);
      if (merged === DELETE) delete out[key];
      else out[key] = merged;
    } else {
      out[key] = value;
    }
  }
  for (const [field, order] of orders) {
    const key = listMergeKey(field, selfField);
    if (Array.isArray(out[field])) out[field] = applyOrder(out[field] as unknown[], order, key);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  return out;
}

function smpList(target: unknown, patch: unknown[], field: string, parentField: string | undefined): unknown[] {
  const key = listMergeKey(field, parentField);
  const current = Array.isArray(target) ? target : [];
  // A `{"$patch": "replace"}` element replaces the list with the patch's other elements.
  if (patch.some((e) => isPlainObject(e) && e.$patch === "replace")) {
    return patch.filter((e) => !(isPlainObject(e) && e.$patch === "replace")).map(stripDirectives);
  }
  if (key === undefined) return patch.map(stripDirectives);
  if (key === "$primitive") {
    const out = [...current];
    for (const v of patch) if (!out.some((c) => deepEqual(c, v))) out.push(clone(v));
    return out;
  }
  const out = [...current];
  for (const element of patch) {
    if (!isPlainObject(element) || !(key in element)) {
      throw new BadRequestError(`strategic merge patch: an element of ${field} lacks its merge key ${key}`);
    }
    const at = out.findIndex((c) => isPlainObject(c) && deepEqual(c[key], element[key]));
    if (element.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = smpMap(out[at] as Record<string, unknown>, element, field);
      if (merged === DELETE) out.splice(at, 1);
      else out[at] = merged;
    } else {
      const merged = smpMap({}, element, field);
      if (merged !== DELETE) out.push(merged);
    }
  }
  return out;
}

/** `$setElementOrder`: elements named in the order come first, in that order; the rest keep theirs. */
function applyOrder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const identity = (e: unknown, o: unknown) =>
    key && key !== "$primitive" && isPlainObject(e) && isPlainObject(o) ? deepEqual(e[key], o[key]) : deepEqual(e, o);
  const ordered: unknown[] = [];
  for (const o of order) {
    const found = list.find((e) => identity(e, o) && !ordered.includes(e));
    if (found !== undefined) ordered.push(found);
  }
  return [...ordered, ...list.filter((e) => !ordered.includes(e))];
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith("$")) out[k] = stripDirectives(x);
  return out;
}

// ---------------------------------------------------------------------------------------------
// helpers

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
