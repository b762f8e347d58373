/**
 * Resource requests → `ApiClient` calls. One implementation of the API (the `ApiClient`), two
 * transports (NATS and this); nothing here validates objects or touches the store.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiClient, DeleteOptions, ListOptions } from "../../model/client.ts";
import { ApiError, BadRequestError } from "../../model/errors.ts";
import { checkFieldValidation, parseFieldValidation } from "../api/field_validation.ts";
import { dryRunUnsafeDeleteError } from "../api/dry_run.ts";
import { applyPatch } from "../api/patch.ts";
import { toMetaTable, toTable } from "../api/table.ts";
import { RESOURCES, apiVersionOf, type AnyObject, type EndpointSlice, type ObjectList, type Pod, type Resource, type ScalableResource } from "../../model/types.ts";
import { endpointSliceWarnings } from "../api/validation_discovery.ts";
import { evict } from "./eviction.ts";
import type { AcceptInfo } from "./body.ts";
import type { Route } from "./routes.ts";
import { serveWatch, type WatchRegistry } from "./watch.ts";

/** What a handler answers: a JSON body with a status code, or nothing when it streamed itself. */
export type Reply = { status: number; body: unknown; headers?: Record<string, string> } | undefined;

export type { LogProvider, LogRequest } from "../../model/client.ts";
import type { LogProvider } from "../../model/client.ts";

export interface HandlerContext {
  api: ApiClient;
  method: string;
  route: Extract<Route, { type: "resource" }>;
  query: URLSearchParams;
  accept: AcceptInfo;
  /** Reads and parses the body as an object (POST/PUT) or a patch (PATCH). */
  body(): Promise<unknown>;
  /** The patch type named by Content-Type (PATCH only). */
  patchType(): "merge" | "json" | "strategic";
  req: IncomingMessage;
  res: ServerResponse;
  watches: WatchRegistry;
  /** Who asks (rate limits and watch caps are per identity). */
  identity?: string;
  logs?: LogProvider;
  closing: AbortSignal;
  /** Upper bound on a watch's life; clients reconnect from their last resourceVersion. */
  maxWatchSeconds: number;
  /** Warnings for the response's `Warning` headers. */
  warnings: string[];
}

/**
 * What Berth adds to kube-apiserver's answer on creating a kind it stores and does not act on: a
 * `Warning:` header, which kubectl prints, so that nobody relies on a policy or route that is
 * not there.
 */
export const CREATE_WARNINGS: { readonly [R in Resource]?: string } = {
  networkpolicies: "NetworkPolicy is stored but not enforced by Berth: pod traffic is not filtered",
  ingresses: "Ingress is stored but Berth runs no ingress controller: nothing routes by it; expose the Service as NodePort or LoadBalancer",
};

function methodNotAllowed(method: string, what: string): ApiError {
  return new ApiError("MethodNotAllowed", `the server does not allow this method on the requested resource: ${method} ${what}`);
}

/**
 * A non-negative integer query parameter, in decimal digits as Kubernetes parses them
 * (strconv.ParseInt base 10): `1e308`, `0x10`, `1.0` and anything past 2^53-1 are a 400.
 */
const intParam = (q: URLSearchParams, key: string): number | undefined => {
  const v = q.get(key);
  if (v === null || v === "") return undefined;
  const n = /^[0-9]{1,16}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new BadRequestError(`${key} must be a non-negative integer no larger than ${Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(v.slice(0, 64))}`);
  }
  return n;
};

const isTrue = (v: string | null) => v === "true" || v === "1";

/** The list options of a request: its selectors, paging and resourceVersion, and the URL's namespace and name. */
export function listOptions(ctx: HandlerContext): ListOptions {
  const q = ctx.query;
  const opts: ListOptions = {};
  if (ctx.route.namespace !== undefined) opts.namespace = ctx.route.namespace;
  const ls = q.get("labelSelector");
  if (ls) opts.labelSelector = ls;
  const fs = [q.get("fieldSelector"), ctx.route.name !== undefined ? `metadata.name=${ctx.route.name}` : null].filter(Boolean);
  if (fs.length) opts.fieldSelector = fs.join(",");
  const limit = intParam(q, "limit");
  if (limit) opts.limit = limit;
  const cont = q.get("continue");
  if (cont) opts.continue = cont;
  const rv = q.get("resourceVersion");
  if (rv !== null) opts.resourceVersion = rv;
  const rvm = q.get("resourceVersionMatch");
  if (rvm) opts.resourceVersionMatch = rvm as ListOptions["resourceVersionMatch"];
  return opts;
}

/** Which options a write's query carries (they are named in the error a bad `dryRun` gets). */
type WriteOptionsKind = "CreateOptions" | "UpdateOptions" | "PatchOptions" | "DeleteOptions";

/**
 * `dryRun` of a write: absent is a real write; `All` (what `kubectl --dry-run=server` and
 * `kubectl diff` send) is a dry run; anything else is refused with kube-apiserver's 422
 * (ValidateDryRun).
 */
export function parseDryRun(values: readonly unknown[], kind: WriteOptionsKind): boolean {
  if (values.length === 0) return false;
  if (values.every((v) => v === "All")) return true;
  const shown = `[${values.map((v) => JSON.stringify(typeof v === "string" ? v.slice(0, 64) : v)).join(", ")}]`;
  const message = `Unsupported value: ${shown}: supported values: "All"`;
  throw new ApiError("Invalid", `${kind}.meta.k8s.io "" is invalid: dryRun: ${message}`, {
    kind,
    group: "meta.k8s.io",
    causes: [{ reason: "FieldValueNotSupported", message, field: "dryRun" }],
  });
}

/** The query's `dryRun` for a write of `kind`. */
function dryRunQuery(ctx: Pick<HandlerContext, "query">, kind: WriteOptionsKind): { dryRun?: true } {
  return parseDryRun(ctx.query.getAll("dryRun"), kind) ? { dryRun: true } : {};
}

/** The client's `timeoutSeconds`, capped by the server's limit (as kube-apiserver's request timeout). */
function watchTimeout(ctx: HandlerContext): number {
  const asked = intParam(ctx.query, "timeoutSeconds");
  return asked !== undefined && asked > 0 ? Math.min(asked, ctx.maxWatchSeconds) : ctx.maxWatchSeconds;
}

function includeObjectOf(q: URLSearchParams): "None" | "Metadata" | "Object" {
  const v = q.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

/** `objects` as the Table kubectl asks for with `Accept: …;as=Table`. */
export function asTable(ctx: HandlerContext, objects: AnyObject[], meta: { resourceVersion?: string; continue?: string }) {
  return toMetaTable(toTable(ctx.route.resource, objects), meta, includeObjectOf(ctx.query));
}

/**
 * `fieldValidation`: fields the schema does not declare are refused (Strict, what kubectl sends),
 * reported in `Warning` headers (Warn, the default) or let through (Ignore).
 */
function checkFields(ctx: HandlerContext, kind: string, body: unknown): void {
  ctx.warnings.push(...checkFieldValidation(kind, body, parseFieldValidation(ctx.query.get("fieldValidation"), "Warn")));
}

/**
 * `kind` and `apiVersion` of a body, as kube-apiserver's create/update handlers decode it: an
 * absent one is taken from the URL (the decoder's default GVK — a pod POSTed without `kind` is a
 * Pod), a different one is a 400. kubectl and the client libraries always send both; a bare
 * `{metadata, spec}` from curl or a UI is accepted by Kubernetes, and so here.
 */
export function checkTypeMeta(obj: Record<string, unknown>, kind: string, apiVersion: string): void {
  for (const f of ["kind", "apiVersion"] as const) {
    if (obj[f] !== undefined && typeof obj[f] !== "string") {
      throw new BadRequestError(`the object provided is unrecognized (must be of type ${kind}): "${f}" must be a string`);
    }
  }
  const givenVersion = (obj.apiVersion as string | undefined) || apiVersion;
  const givenKind = (obj.kind as string | undefined) || kind;
  if (givenVersion !== apiVersion) {
    throw new BadRequestError(`the API version in the data (${givenVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (givenKind !== kind) {
    throw new BadRequestError(`${givenKind} in version ${JSON.stringify(givenVersion.split("/").pop())} cannot be handled as a ${kind}: the kind in the body does not match the URL`);
  }
}

/** The body as an object with its metadata; namespace from the URL filled in or checked. */
async function objectBody(ctx: HandlerContext): Promise<Record<string, unknown> & { metadata: Record<string, unknown> }> {
  const body = await ctx.body();
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError("the request body must be a JSON object");
  }
  const obj = body as Record<string, unknown>;
  const kind = ctx.route.subresource === "scale" ? "Scale" : ctx.route.subresource === "binding" ? "Binding" : RESOURCES[ctx.route.resource].kind;
  checkTypeMeta(obj, kind, ctx.route.subresource === "scale" ? "autoscaling/v1" : apiVersionOf(ctx.route.resource));
  checkFields(ctx, kind, obj);
  const meta = (typeof obj.metadata === "object" && obj.metadata !== null ? obj.metadata : {}) as Record<string, unknown>;
  const ns = ctx.route.namespace;
  if (ns !== undefined) {
    if (meta.namespace !== undefined && meta.namespace !== ns) {
      throw new BadRequestError("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta.namespace = ns;
  }
  if (ctx.route.name !== undefined && ctx.route.subresource !== "binding") {
    if (meta.name === undefined) meta.name = ctx.route.name;
    else if (meta.name !== ctx.route.name) {
      throw new BadRequestError(`the name of the object (${String(meta.name)}) does not match the name on the URL (${ctx.route.name})`);
    }
  }
  return { ...obj, metadata: meta };
}

export function deleteOptions(ctx: Pick<HandlerContext, "query">, body: unknown): DeleteOptions {
  const opts: DeleteOptions = {};
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const grace = intParam(ctx.query, "gracePeriodSeconds") ?? (typeof b.gracePeriodSeconds === "number" ? b.gracePeriodSeconds : undefined);
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  let policy = ctx.query.get("propagationPolicy") ?? (typeof b.propagationPolicy === "string" ? b.propagationPolicy : undefined);
  const orphan = ctx.query.get("orphanDependents") ?? (typeof b.orphanDependents === "boolean" ? String(b.orphanDependents) : undefined);
  if (!policy && orphan !== undefined) policy = orphan === "true" ? "Orphan" : "Background";
  if (policy !== undefined) {
    if (policy !== "Background" && policy !== "Foreground" && policy !== "Orphan") {
      throw new BadRequestError(`propagationPolicy must be Background, Foreground or Orphan, got ${JSON.stringify(policy)}`);
    }
    opts.propagationPolicy = policy;
  }
  if (typeof b.preconditions === "object" && b.preconditions !== null) opts.preconditions = b.preconditions as DeleteOptions["preconditions"];
  // As kube-apiserver: the options come from the body when it has them, else from the query.
  if (b.dryRun !== undefined && !Array.isArray(b.dryRun)) throw new BadRequestError(`dryRun of DeleteOptions must be a list of strings, got ${typeof b.dryRun}`);
  if (parseDryRun(Array.isArray(b.dryRun) ? b.dryRun : ctx.query.getAll("dryRun"), "DeleteOptions")) opts.dryRun = true;
  const unsafe = ctx.query.get("ignoreStoreReadErrorWithClusterBreakingPotential") ?? (typeof b.ignoreStoreReadErrorWithClusterBreakingPotential === "boolean" ? String(b.ignoreStoreReadErrorWithClusterBreakingPotential) : undefined);
  if (unsafe !== undefined) {
    if (unsafe !== "true" && unsafe !== "false") throw new BadRequestError(`ignoreStoreReadErrorWithClusterBreakingPotential must be true or false, got ${JSON.stringify(unsafe)}`);
    if (unsafe === "true") opts.ignoreStoreReadErrorWithClusterBreakingPotential = true;
  }
  if (opts.dryRun && opts.ignoreStoreReadErrorWithClusterBreakingPotential) throw dryRunUnsafeDeleteError();
  return opts;
}

/** Dispatches a request for a resource, collection or subresource. */
/** Serves `?watch=true` on a collection or a named object (the route decides the selection). */
async function streamWatch(ctx: HandlerContext): Promise<Reply> {
  const { query } = ctx;
  await serveWatch(ctx.api, {
    resource: ctx.route.resource,
    opts: { ...listOptions(ctx), resourceVersion: query.get("resourceVersion") ?? undefined },
    timeoutSeconds: watchTimeout(ctx),
    table: ctx.accept.table ? { includeObject: includeObjectOf(query) } : undefined,
    identity: ctx.identity,
  }, ctx.req, ctx.res, ctx.watches);
  return undefined;
}

export async function handleResource(ctx: HandlerContext): Promise<Reply> {
  const { route, method, api, query } = ctx;
  const { resource, namespace, name } = route;
  const watching = route.watchPrefix || isTrue(query.get("watch"));

  if (route.subresource) return handleSubresource(ctx);

  if (name === undefined) {
    // Collection.
    switch (method) {
      case "GET": {
        if (watching) return await streamWatch(ctx);
        const list = await api.list(resource, listOptions(ctx));
        if (ctx.accept.table) return { status: 200, body: asTable(ctx, list.items, list.metadata) };
        return { status: 200, body: list };
      }
      case "POST": {
        if (route.watchPrefix) throw methodNotAllowed(method, resource);
        if (RESOURCES[resource].namespaced && namespace === undefined) throw methodNotAllowed(method, resource);
        const dry = dryRunQuery(ctx, "CreateOptions");
        const obj = await objectBody(ctx);
        const created = await api.create(resource, obj, namespace, dry);
        const warning = CREATE_WARNINGS[resource];
        if (warning) ctx.warnings.push(warning);
        if (resource === "endpointslices") ctx.warnings.push(...endpointSliceWarnings(created as EndpointSlice));
        return { status: 201, body: created };
      }
      case "DELETE": {
        if (route.watchPrefix) throw methodNotAllowed(method, resource);
        if (resource === "namespaces") throw methodNotAllowed(method, resource);
        const raw = ctx.req.headers["content-length"] && ctx.req.headers["content-length"] !== "0" ? await ctx.body() : undefined;
        const opts = deleteOptions(ctx, raw);
        const list = await api.list(resource, listOptions(ctx));
        const deleted: AnyObject[] = [];
        for (const item of list.items) deleted.push(await api.delete(resource, item.metadata.name, item.metadata.namespace, opts));
        const out: ObjectList = { ...list, items: deleted };
        return { status: 200, body: out };
      }
      default:
        throw methodNotAllowed(method, resource);
    }
  }

  // A named object.
  switch (method) {
    case "GET": {
      if (watching) return await streamWatch(ctx);
      const obj = await api.get(resource, name, namespace);
      if (ctx.accept.table) return { status: 200, body: asTable(ctx, [obj], { resourceVersion: obj.metadata.resourceVersion }) };
      return { status: 200, body: obj };
    }
    case "PUT": {
      if (route.watchPrefix) throw methodNotAllowed(method, resource);
      const dry = dryRunQuery(ctx, "UpdateOptions");
      return { status: 200, body: await api.update(resource, await objectBody(ctx), dry) };
    }
    case "PATCH": {
      if (route.watchPrefix) throw methodNotAllowed(method, resource);
      const dry = dryRunQuery(ctx, "PatchOptions");
      const type = ctx.patchType();
      const patch = await ctx.body();
      if (type !== "json") checkFields(ctx, RESOURCES[resource].kind, patch);
      return { status: 200, body: await api.patch(resource, name, patch, { namespace, type, ...dry }) };
    }
    case "DELETE": {
      if (route.watchPrefix) throw methodNotAllowed(method, resource);
      const raw = ctx.req.headers["content-length"] && ctx.req.headers["content-length"] !== "0" ? await ctx.body() : undefined;
      return { status: 200, body: await api.delete(resource, name, namespace, deleteOptions(ctx, raw)) };
    }
    default:
      throw methodNotAllowed(method, `${resource}/${name}`);
  }
}

async function handleSubresource(ctx: HandlerContext): Promise<Reply> {
  const { route, method, api } = ctx;
  const { resource, namespace } = route;
  const name = route.name as string;
  const what = `${resource}/${name}/${route.subresource}`;
  switch (route.subresource) {
    case "status":
      switch (method) {
        case "GET":
          return { status: 200, body: await api.get(resource, name, namespace) };
        case "PUT": {
          const dry = dryRunQuery(ctx, "UpdateOptions");
          return { status: 200, body: await api.updateStatus(resource, await objectBody(ctx), dry) };
        }
        case "PATCH": {
          const dry = dryRunQuery(ctx, "PatchOptions");
          const type = ctx.patchType();
          const patch = await ctx.body();
          return { status: 200, body: await api.patch(resource, name, patch, { namespace, type, subresource: "status", ...dry }) };
        }
      }
      throw methodNotAllowed(method, what);
    case "scale": {
      const scalable = resource as ScalableResource;
      switch (method) {
        case "GET":
          return { status: 200, body: await api.getScale(name, namespace, scalable) };
        case "PUT": {
          const dry = dryRunQuery(ctx, "UpdateOptions");
          const body = (await objectBody(ctx)) as { spec?: { replicas?: unknown } };
          return { status: 200, body: await api.updateScale(name, replicasOf(body), namespace, scalable, dry) };
        }
        case "PATCH": {
          const dry = dryRunQuery(ctx, "PatchOptions");
          const type = ctx.patchType();
          const patch = await ctx.body();
          const current = await api.getScale(name, namespace, scalable);
          const patched = applyPatch(current, patch, type) as { spec?: { replicas?: unknown } };
          return { status: 200, body: await api.updateScale(name, replicasOf(patched), namespace, scalable, dry) };
        }
      }
      throw methodNotAllowed(method, what);
    }
    case "eviction":
      if (method !== "POST") throw methodNotAllowed(method, what);
      return { status: 201, body: await evict(api, name, namespace, await ctx.body(), (b) => deleteOptions(ctx, b)) };
    case "binding":
      if (method !== "POST") throw methodNotAllowed(method, what);
      return bind(ctx, name);
    case "log":
      if (method !== "GET") throw methodNotAllowed(method, what);
      return serveLog(ctx, name);
    case "exec":
    case "attach":
    case "portforward":
      // Served on HTTP upgrade (streaming.ts); a plain request gets kube-apiserver's answer.
      throw new BadRequestError(`Upgrade request required: ${what} is served over WebSocket`);
  }
  throw new ApiError("NotFound", `the server could not find the requested resource`);
}

function replicasOf(scale: { spec?: { replicas?: unknown } }): number {
  const r = scale.spec?.replicas;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 0) {
    throw new ApiError("Invalid", `Scale is invalid: spec.replicas: must be a non-negative integer`, {
      kind: "Scale",
      causes: [{ reason: "FieldValueInvalid", message: "must be a non-negative integer", field: "spec.replicas" }],
    });
  }
  return r;
}

/** `pods/{name}/binding`: assigns the pod to a node through `ApiClient.bind` (which checks the binding). */
async function bind(ctx: HandlerContext, name: string): Promise<Reply> {
  const body = (await ctx.body()) as { target?: { name?: unknown; kind?: unknown } } | null;
  const node = body?.target?.name;
  if (typeof node !== "string" || node === "") {
    throw new ApiError("Invalid", `Binding "${name}" is invalid: target.name: Required value`, {
      name,
      kind: "Binding",
      causes: [{ reason: "FieldValueRequired", message: "Required value", field: "target.name" }],
    });
  }
  const kind = body?.target?.kind;
  if (kind !== undefined && kind !== "" && kind !== "Node") {
    throw new ApiError("Invalid", `Binding "${name}" is invalid: target.kind: Unsupported value: ${JSON.stringify(kind)}: supported values: "Node"`, {
      name,
      kind: "Binding",
      causes: [{ reason: "FieldValueNotSupported", message: `Unsupported value: ${JSON.stringify(kind)}: supported values: "Node"`, field: "target.kind" }],
    });
  }
  const meta = (body as { metadata?: { name?: unknown; uid?: unknown } } | null)?.metadata;
  if (meta?.name !== undefined && meta.name !== "" && meta.name !== name) {
    throw new BadRequestError(`the name of the Binding (${JSON.stringify(meta.name)}) does not match the name of the pod in the path (${JSON.stringify(name)})`);
  }
  const uid = meta?.uid;
  if (uid !== undefined && typeof uid !== "string") throw new BadRequestError("metadata.uid of a Binding must be a string");
  const dry = dryRunQuery(ctx, "CreateOptions");
  await ctx.api.bind(name, ctx.route.namespace, node, { ...(uid ? { uid } : {}), ...dry });
  return { status: 201, body: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 } };
}

async function serveLog(ctx: HandlerContext, name: string): Promise<Reply> {
  const q = ctx.query;
  const pod = (await ctx.api.get("pods", name, ctx.route.namespace)) as Pod;
  const names = pod.spec.containers.map((c) => c.name);
  let container = q.get("container") ?? undefined;
  if (container === undefined) {
    if (names.length !== 1) {
      throw new BadRequestError(`a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`);
    }
    container = names[0];
  } else if (!names.includes(container)) {
    throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
  }
  if (!ctx.logs) throw new ApiError("ServiceUnavailable", "logs are not available: this API server has no log provider");
  const abort = new AbortController();
  const onClose = () => abort.abort();
  ctx.req.on("close", onClose);
  ctx.closing.addEventListener("abort", onClose);
  const stream = await ctx.logs({
    namespace: pod.metadata.namespace ?? "default",
    pod: name,
    container,
    follow: isTrue(q.get("follow")),
    tailLines: intParam(q, "tailLines"),
    timestamps: isTrue(q.get("timestamps")),
    previous: isTrue(q.get("previous")),
    signal: abort.signal,
  });
  ctx.res.writeHead(200, { "Content-Type": "text/plain" });
  ctx.res.flushHeaders();
  try {
    for await (const chunk of stream) {
      if (abort.signal.aborted) break;
      ctx.res.write(chunk);
    }
  } catch (e) {
    // Headers are gone: the best we can do is end the stream; the error is logged by the caller.
    if (!abort.signal.aborted) throw Object.assign(e as Error, { headersSent: true });
  } finally {
    ctx.req.off("close", onClose);
    ctx.closing.removeEventListener("abort", onClose);
    if (!ctx.res.writableEnded) ctx.res.end();
  }
  return undefined;
}

export type { Resource };
