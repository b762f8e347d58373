/**
 * kubectl-like verbs over an `ApiClient`: apply, get (table / yaml / json / wide / name, with
 * `-l`, `-A`, `-w`), describe, delete.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
// YAML parsing and the validation schemas load only for the commands that read manifests.
import type { ManifestDoc } from "../api/manifest.ts";
import type { FieldValidation } from "../api/field_validation.ts";
import { columnWidths, formatTable, toTable } from "../api/table.ts";
import { RESOURCES, qualifiedSingular, type AnyObject, type DaemonSet, type Ingress, type Resource, type StatefulSet } from "../../model/types.ts";
import { formatLabelSelector, selectorFromSpec } from "../../model/selector.ts";
import { applyOne } from "../api/apply_one.ts";
import { UsageError } from "./args.ts";
import { resolveTargets } from "./connect.ts";
import { compileTemplate, formatValue, selectPath } from "./jsonpath.ts";
import { waitForSet } from "../wait.ts";
import { describeObject, type Related } from "./describe.ts";
import type { BackendService } from "./describe_networking.ts";

export type Out = (s: string) => void;

/** Reads manifests from files, directories (their .yaml/.yml/.json files, sorted) or `-` (stdin). */
export async function readManifestSources(paths: string[], stdin: () => string): Promise<ManifestDoc[]> {
  if (!paths.length) throw new UsageError("must specify -f FILE, -f DIR or -f -");
  const { parseManifests } = await import("../api/manifest.ts");
  const docs: ManifestDoc[] = [];
  for (const p of paths) {
    if (p === "-") {
      docs.push(...parseManifests(stdin(), "<stdin>"));
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`the path "${p}" does not exist`);
    }
    const files = st.isDirectory()
      ? readdirSync(p).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(p, f))
      : [p];
    for (const f of files) docs.push(...parseManifests(readFileSync(f, "utf8"), f));
  }
  return docs;
}

/** kubectl's `--validate` values: strict (default, also `true`), warn, ignore (also `false`). */
export function validateMode(flag: unknown): FieldValidation {
  const v = flag === undefined ? "strict" : String(flag).toLowerCase();
  if (v === "strict" || v === "true") return "Strict";
  if (v === "warn") return "Warn";
  if (v === "ignore" || v === "false") return "Ignore";
  throw new UsageError(`--validate must be strict, warn or ignore (or true/false), got ${JSON.stringify(String(flag))}`);
}

/**
 * `--dry-run` of apply and delete, as kubectl's: `none` (the default) writes; `server` sends each
 * write as the server's dry run (checked and answered, nothing stored); `client` is not served
 * (Berth has no client-side model of the server's defaults and checks).
 */
export function dryRunMode(flag: unknown): boolean {
  if (flag === undefined || flag === "none" || flag === false) return false;
  if (flag === "server") return true;
  if (flag === "client" || flag === true || flag === "") {
    throw new UsageError(`--dry-run=client is not supported by berth (it has no copy of the server's defaults and checks): use --dry-run=server, which checks everything and stores nothing`);
  }
  throw new UsageError(`--dry-run must be none, server or client, got ${JSON.stringify(String(flag))}`);
}

export async function applyCmd(
  client: ApiClient,
  docs: ManifestDoc[],
  namespace: string | undefined,
  out: Out,
  opts: { fieldValidation?: FieldValidation; warn?: Out; dryRun?: boolean } = {},
): Promise<void> {
  // Reject the whole input before touching anything, as kubectl's client-side validation does;
  // fields the schema does not declare are refused by default (kubectl's --validate=strict).
  const { validateManifests } = await import("../api/manifest.ts");
  validateManifests(docs, { fieldValidation: opts.fieldValidation ?? "Strict", warn: (m) => opts.warn?.(`Warning: ${m}\n`) });
  for (const d of docs) {
    const obj = { ...d.object };
    if (namespace && RESOURCES[d.resource].namespaced) {
      const meta = (obj.metadata ?? {}) as Record<string, unknown>;
      if (meta.namespace && meta.namespace !== namespace) {
        throw new UsageError(`${d.source}: the namespace from the provided object "${meta.namespace}" does not match the namespace "${namespace}"`);
      }
      obj.metadata = { ...meta, namespace };
    }
    try {
      const r = await applyOne(client, d.resource, obj, { dryRun: opts.dryRun });
      out(`${qualifiedSingular(d.resource)}/${r.name} ${r.action}${opts.dryRun ? " (server dry run)" : ""}\n`);
    } catch (e) {
      if (e instanceof ApiError) throw new ApiError(e.reason, `${d.source} (document ${d.index + 1}): ${e.message}`, e.details);
      throw e;
    }
  }
}

export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  fieldSelector?: string;
  output?: string;
  watch?: boolean;
  noHeaders?: boolean;
  showLabels?: boolean;
  /** A JSONPath (`.metadata.name` or `{.metadata.name}`) to sort each list by. */
  sortBy?: string;
}

/** `--sort-by`: numbers by value, everything else by its text; objects without the field first. */
export function sortByPath<T>(items: T[], path: string): T[] {
  const key = (o: T) => selectPath(path, o)[0];
  return [...items].sort((a, b) => {
    const x = key(a), y = key(b);
    if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return formatValue(x) < formatValue(y) ? -1 : formatValue(x) > formatValue(y) ? 1 : 0;
  });
}

/** `-o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName`: a table in kubectl's layout. */
export function customColumns(spec: string): (items: unknown[], noHeaders: boolean) => string {
  const cols = spec.split(",").map((c) => {
    const i = c.indexOf(":");
    if (i <= 0 || i === c.length - 1) throw new UsageError(`custom-columns format is NAME:JSONPATH[,NAME:JSONPATH...], got ${JSON.stringify(c)}`);
    const path = c.slice(i + 1);
    selectPath(path, {}); // a malformed path is refused before anything is listed
    return { name: c.slice(0, i), path };
  });
  return (items, noHeaders) => {
    const rows = items.map((it) => cols.map((c) => {
      const v = selectPath(c.path, it);
      return v.length ? v.map(formatValue).join(",") : "<none>";
    }));
    const all = noHeaders ? rows : [cols.map((c) => c.name), ...rows];
    const widths = cols.map((_, j) => Math.max(...all.map((r) => r[j].length)));
    return all.map((r) => r.map((cell, j) => (j === r.length - 1 ? cell : cell.padEnd(widths[j] + 3))).join("")).join("\n") + (all.length ? "\n" : "");
  };
}

/** The kubectl table for `objects`, with a LABELS column when asked (`--show-labels`). */
function tableFor(resource: Resource, objects: AnyObject[], showLabels?: boolean) {
  const table = toTable(resource, objects, { wide: true });
  if (!showLabels) return table;
  return {
    columns: [...table.columns, { name: "Labels", type: "string" as const, priority: 0 }],
    rows: table.rows.map((r) => ({
      ...r,
      cells: [...r.cells, Object.entries(r.object.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"],
    })),
  };
}

export async function getCmd(client: ApiClient, positional: string[], o: GetOptions, out: Out, signal?: AbortSignal): Promise<void> {
  const targets = resolveTargets(positional);
  const ns = (r: Resource) => (RESOURCES[r].namespaced ? (o.allNamespaces ? undefined : o.namespace ?? "default") : undefined);
  const output = o.output ?? "";
  const template = output.startsWith("jsonpath=") ? compileTemplate(output.slice("jsonpath=".length)) : undefined;
  const columns = output.startsWith("custom-columns=") ? customColumns(output.slice("custom-columns=".length)) : undefined;
  if (!template && !columns && !["", "wide", "yaml", "json", "name"].includes(output)) {
    throw new UsageError(`unsupported output format "${output}" (yaml, json, wide, name, jsonpath=TEMPLATE, custom-columns=SPEC)`);
  }
  // Several types (`pods,svc`, `all`): names carry their type, as kubectl prints them.
  const prefixNames = targets.length > 1 && new Set(targets.map((t) => t.resource)).size > 1;
  const objects: { resource: Resource; items: AnyObject[]; rv: string }[] = [];
  for (const t of targets) {
    if (t.name) {
      const obj = await client.get(t.resource, t.name, ns(t.resource));
      const last = objects.at(-1);
      if (last && last.resource === t.resource) last.items.push(obj);
      else objects.push({ resource: t.resource, items: [obj], rv: obj.metadata.resourceVersion ?? "0" });
    } else {
      const list = await client.list(t.resource, { namespace: ns(t.resource), labelSelector: o.selector, fieldSelector: o.fieldSelector });
      objects.push({ resource: t.resource, items: list.items, rv: list.metadata.resourceVersion });
    }
  }
  if (o.sortBy) for (const g of objects) g.items = sortByPath(g.items, o.sortBy);
  if (template || columns) {
    // One document for all the groups, as kubectl does: the object itself for one name, else a List.
    const all = objects.flatMap((g) => g.items);
    const single = targets.length === 1 && !!targets[0].name;
    if (template) out(template(single ? all[0] : { apiVersion: "v1", kind: "List", items: all, metadata: { resourceVersion: "" } }));
    else out(columns!(all, !!o.noHeaders));
    if (o.watch) throw new UsageError("--watch prints tables, yaml, json or names; not jsonpath or custom-columns");
    return;
  }
  const single = targets.length === 1 && !!targets[0].name;
  /** Column widths printed so far, for `-w` rows. */
  let watchWidths: number[] | undefined;
  // Several types: empty ones print nothing, and "No resources found" only when all are empty.
  const tableGroups = objects.length > 1 && !["json", "yaml", "name"].includes(output) ? objects.filter((g) => g.items.length > 0) : objects;
  const shown = tableGroups.length ? tableGroups : objects.slice(0, 1).map((g) => ({ ...g, resource: objects.some((x) => RESOURCES[x.resource].namespaced) ? objects.find((x) => RESOURCES[x.resource].namespaced)!.resource : g.resource }));
  let printed = 0;
  for (const group of shown) {
    const i = printed++;
    if (output === "json") {
      out(JSON.stringify(single ? group.items[0] : { apiVersion: "v1", kind: "List", items: group.items }, null, 2) + "\n");
    } else if (output === "yaml") {
      out((await import("yaml")).stringify(single ? group.items[0] : { apiVersion: "v1", kind: "List", items: group.items }));
    } else if (output === "name") {
      for (const it of group.items) out(`${qualifiedSingular(group.resource)}/${it.metadata.name}\n`);
    } else if (group.items.length === 0) {
      if (!o.watch) {
        const where = RESOURCES[group.resource].namespaced && !o.allNamespaces ? ` in ${o.namespace ?? "default"} namespace` : "";
        out(`No resources found${where}.\n`);
      }
    } else {
      if (i > 0) out("\n");
      const table = tableFor(group.resource, group.items, o.showLabels);
      if (prefixNames) for (const r of table.rows) r.cells[0] = `${qualifiedSingular(group.resource)}/${String(r.cells[0])}`;
      const fmt = { wide: output === "wide", showNamespace: o.allNamespaces && RESOURCES[group.resource].namespaced, noHeaders: o.noHeaders };
      out(formatTable(table, fmt));
      watchWidths = columnWidths(table, { ...fmt, noHeaders: false });
    }
  }
  if (!o.watch) return;
  if (objects.length !== 1) throw new UsageError("watch is only supported on a single resource type");
  const { resource, rv } = objects[0];
  const name = targets[0].name;
  const w = await client.watch(resource, {
    namespace: ns(resource),
    labelSelector: o.selector,
    fieldSelector: [o.fieldSelector, name ? `metadata.name=${name}` : undefined].filter(Boolean).join(",") || undefined,
    resourceVersion: rv,
  });
  signal?.addEventListener("abort", () => w.stop(), { once: true });
  for await (const ev of w) {
    if (output === "json") out(JSON.stringify(ev.object) + "\n");
    else if (output === "yaml") out("---\n" + (await import("yaml")).stringify(ev.object));
    else if (output === "name") out(`${qualifiedSingular(resource)}/${ev.object.metadata.name}\n`);
    else {
      // Rows line up under the table printed first (or under a header printed with the first row).
      const table = tableFor(resource, [ev.object], o.showLabels);
      const fmt = { wide: output === "wide", showNamespace: o.allNamespaces && RESOURCES[resource].namespaced, minWidths: watchWidths };
      out(formatTable(table, { ...fmt, noHeaders: watchWidths !== undefined || !!o.noHeaders }));
      watchWidths = columnWidths(table, { ...fmt, noHeaders: false });
    }
  }
}

/** The Services an Ingress's backends name, each with its Endpoints (null where there is none). */
async function ingressBackends(client: ApiClient, ing: Ingress): Promise<Map<string, BackendService>> {
  const names = new Set([ing.spec.defaultBackend, ...(ing.spec.rules ?? []).flatMap((r) => (r.http?.paths ?? []).map((p) => p.backend))].flatMap((b) => (b?.service ? [b.service.name] : [])));
  const out = new Map<string, BackendService>();
  for (const name of names) {
    const service = await client.get("services", name, ing.metadata.namespace).catch(() => null);
    const endpoints = service ? await client.get("endpoints", name, ing.metadata.namespace).catch(() => null) : null;
    out.set(name, { service, endpoints });
  }
  return out;
}

export async function describeCmd(client: ApiClient, positional: string[], o: GetOptions, out: Out): Promise<void> {
  const targets = resolveTargets(positional);
  let first = true;
  for (const t of targets) {
    const ns = RESOURCES[t.resource].namespaced ? o.namespace ?? "default" : undefined;
    const objs = t.name
      ? [await client.get(t.resource, t.name, ns)]
      : (await client.list(t.resource, { namespace: ns, labelSelector: o.selector })).items;
    for (const obj of objs) {
      if (!first) out("\n\n");
      first = false;
      const events = await client
        .list("events", { namespace: obj.metadata.namespace ?? "default", fieldSelector: `involvedObject.name=${obj.metadata.name}` })
        .then((l) => l.items.filter((e) => e.involvedObject.kind === RESOURCES[t.resource].kind))
        .catch(() => []);
      // A Service with its Endpoints, a Node with the pods bound to it, a DaemonSet or StatefulSet
      // with the pods its selector picks, a claim with its namespace's pods (those using it are
      // listed), as kubectl describes them.
      const related: Related = {};
      if (t.resource === "services") related.endpoints = await client.get("endpoints", obj.metadata.name, obj.metadata.namespace).catch(() => null);
      if (t.resource === "ingresses") related.backends = await ingressBackends(client, obj as Ingress);
      if (t.resource === "nodes") related.pods = (await client.list("pods", { fieldSelector: `spec.nodeName=${obj.metadata.name}` }).catch(() => ({ items: [] }))).items;
      if (t.resource === "daemonsets" || t.resource === "statefulsets") {
        const labelSelector = formatLabelSelector(selectorFromSpec((obj as DaemonSet | StatefulSet).spec.selector));
        related.pods = (await client.list("pods", { namespace: obj.metadata.namespace, labelSelector }).catch(() => ({ items: [] }))).items;
      }
      if (t.resource === "persistentvolumeclaims") related.pods = (await client.list("pods", { namespace: obj.metadata.namespace }).catch(() => ({ items: [] }))).items;
      out(describeObject(t.resource, obj, events, Date.now(), related));
    }
  }
}

export async function deleteCmd(
  client: ApiClient,
  targets: { resource: Resource; name: string; namespace?: string }[],
  o: { gracePeriod?: number; now?: boolean; cascade?: string; wait?: boolean; timeoutSeconds?: number; ignoreNotFound?: boolean; unsafe?: boolean; dryRun?: boolean },
  out: Out,
): Promise<void> {
  if (o.timeoutSeconds !== undefined && !(o.timeoutSeconds > 0)) throw new UsageError(`--timeout must be a number of seconds above 0, got ${o.timeoutSeconds}`);
  const propagationPolicy = o.cascade === "orphan" ? "Orphan" : o.cascade === "foreground" ? "Foreground" : o.cascade === undefined || o.cascade === "background" || o.cascade === "true" ? "Background" : undefined;
  if (!propagationPolicy) throw new UsageError(`--cascade must be background, foreground or orphan, got ${JSON.stringify(o.cascade)}`);
  const deleted: { resource: Resource; name: string; namespace?: string; uid?: string }[] = [];
  for (const t of targets) {
    let obj;
    try {
      obj = await client.delete(t.resource, t.name, t.namespace, {
        gracePeriodSeconds: o.now ? 0 : o.gracePeriod !== undefined && o.gracePeriod >= 0 ? o.gracePeriod : undefined,
        propagationPolicy,
        ...(o.unsafe ? { ignoreStoreReadErrorWithClusterBreakingPotential: true } : {}),
        ...(o.dryRun ? { dryRun: true } : {}),
      });
    } catch (e) {
      if (o.ignoreNotFound && e instanceof ApiError && e.code === 404) continue;
      throw e;
    }
    out(`${qualifiedSingular(t.resource)} "${t.name}" deleted${o.dryRun ? " (server dry run)" : ""}\n`);
    deleted.push({ ...t, uid: obj?.metadata?.uid });
  }
  // A dry run deleted nothing: there is nothing to wait for.
  if (o.dryRun) return;
  // As kubectl: wait (by default) until every deleted object is gone — a pod once its containers
  // have stopped — all at once, following watches; --wait=false returns at once.
  if (o.wait !== false) await Promise.all(deleted.map((d) => waitGone(client, d.resource, d.name, d.namespace, d.uid, (o.timeoutSeconds ?? 120) * 1000)));
}

async function waitGone(client: ApiClient, resource: Resource, name: string, namespace: string | undefined, uid: string | undefined, timeoutMs = 120_000): Promise<void> {
  // Gone, or replaced by a new object of the same name (another uid).
  await waitForSet(client, resource, (xs) => !xs.some((x) => uid === undefined || x.metadata.uid === uid), {
    name,
    namespace,
    timeoutMs,
    describe: `${qualifiedSingular(resource)} "${name}" to be deleted`,
  });
}
