/**
 * Client-side apply, as `kubectl apply` does it: a three-way merge of
 *
 *   last    what this tool applied before (the `kubectl.kubernetes.io/last-applied-configuration`
 *           annotation),
 *   desired the manifest now,
 *   current the object as stored (with what the server set: ClusterIP, node ports, defaults),
 *
 * into the object to store. A field in `desired` wins; a field in `last` but no longer in
 * `desired` is removed; a field in neither (set by the server or by someone else) is kept. Lists
 * with a merge key (containers by `name`, container ports by `containerPort`, service ports by
 * `port`, …) are merged element by element, as strategic merge patch does, so defaults the
 * server filled into an element survive; other lists are replaced. Pure: no I/O.
 */

/** The annotation kubectl and Berth keep the last applied manifest in. */
export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The merge key of a list, by the path of field names leading to it (the last two are enough to
 * tell a pod's `ports` from a Service's), or undefined for a list that is replaced whole.
 */
function mergeKey(path: readonly string[]): string | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case "containers":
    case "initContainers":
    case "volumes":
    case "env":
      return "name";
    case "imagePullSecrets":
      // A pod spec's merge by name; a ServiceAccount's (top level) is replaced whole.
      return parent === undefined ? undefined : "name";
    case "secrets":
      // A ServiceAccount's object references merge by name.
      return parent === undefined ? "name" : undefined;
    case "volumeMounts":
      return "mountPath";
    case "ports":
      // A container's ports (…containers[].ports) or a Service's (spec.ports); an EndpointSlice's
      // (at the top level) are replaced whole.
      if (parent === undefined) return undefined;
      return parent === "containers" || parent === "initContainers" ? "containerPort" : "port";
    default:
      return undefined;
  }
}

function merge(last: Json | undefined, desired: Json, current: Json | undefined, path: readonly string[]): Json {
  if (isObj(desired) && isObj(current)) {
    const out: Obj = { ...current };
    for (const [k, v] of Object.entries(desired)) out[k] = merge(isObj(last) ? last[k] : undefined, v, current[k], [...path, k]);
    if (isObj(last)) for (const k of Object.keys(last)) if (!(k in desired)) delete out[k];
    return out;
  }
  const key = mergeKey(path);
  if (key && Array.isArray(desired) && Array.isArray(current) && [...desired, ...current].every((e) => isObj(e) && e[key] !== undefined)) {
    const id = (e: Json) => JSON.stringify((e as Obj)[key]);
    const byKey = (list: Json[] | undefined) => new Map((list ?? []).map((e) => [id(e), e]));
    const cur = byKey(current);
    const prev = byKey(Array.isArray(last) ? last : undefined);
    const wanted = new Set(desired.map(id));
    // Element path: the list's path stands for its elements (containers[] → "containers").
    const out = desired.map((d) => merge(prev.get(id(d)), d, cur.get(id(d)), path));
    // Elements someone else added are kept; those this tool applied before and dropped now go.
    for (const c of current) if (!wanted.has(id(c)) && !prev.has(id(c))) out.push(c);
    return out;
  }
  return desired;
}

/**
 * The object to store for `desired` over `current`, given the `last` applied configuration
 * (undefined: never applied with this annotation, so nothing is removed). Metadata the server
 * owns (uid, resourceVersion, timestamps, generation) comes from `current`; the result carries
 * the new last-applied annotation.
 */
export function threeWayMerge(last: Obj | undefined, desired: Obj, current: Obj): Obj {
  const merged = merge(last, stripAnnotation(desired), stripServerOwned(current), []) as Obj;
  const meta = { ...(merged.metadata as Obj) };
  for (const f of SERVER_OWNED) if (isObj(current.metadata) && current.metadata[f] !== undefined) meta[f] = current.metadata[f];
  meta.annotations = { ...(isObj(meta.annotations) ? meta.annotations : {}), [LAST_APPLIED_ANNOTATION]: lastAppliedOf(desired) };
  return { ...merged, metadata: meta };
}

/** The annotation value for a manifest: its JSON without the annotation itself, as kubectl writes it. */
export function lastAppliedOf(desired: Obj): string {
  return JSON.stringify(stripAnnotation(desired)) + "\n";
}

/** The last applied configuration recorded on an object, or undefined. */
export function lastAppliedOn(current: Obj): Obj | undefined {
  const raw = isObj(current.metadata) && isObj(current.metadata.annotations) ? current.metadata.annotations[LAST_APPLIED_ANNOTATION] : undefined;
  if (typeof raw !== "string") return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    return isObj(v) ? v : undefined;
  } catch {
    // Not ours to trust: treated as never applied (nothing is removed on its account).
    return undefined;
  }
}

/** True when storing `next` would change nothing of `current` the user can see. */
export function sameObject(next: Obj, current: Obj): boolean {
  const strip = (o: Obj) => {
    const { status: _status, ...rest } = o;
    const meta = { ...(rest.metadata as Obj) };
    for (const f of SERVER_OWNED) delete meta[f];
    return canonical({ ...rest, metadata: meta });
  };
  return strip(next) === strip(current);
}

const SERVER_OWNED = ["uid", "resourceVersion", "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"] as const;

function stripServerOwned(o: Obj): Obj {
  if (!isObj(o.metadata)) return o;
  const meta = { ...o.metadata };
  for (const f of SERVER_OWNED) delete meta[f];
  return { ...o, metadata: meta };
}

function stripAnnotation(o: Obj): Obj {
  if (!isObj(o.metadata) || !isObj(o.metadata.annotations) || !(LAST_APPLIED_ANNOTATION in o.metadata.annotations)) return o;
  const annotations = { ...o.metadata.annotations };
  delete annotations[LAST_APPLIED_ANNOTATION];
  const meta: Obj = { ...o.metadata, annotations };
  if (Object.keys(annotations).length === 0) delete meta.annotations;
  return { ...o, metadata: meta };
}

/** JSON with object keys sorted, for comparing. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (isObj(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v) ?? "null";
}
