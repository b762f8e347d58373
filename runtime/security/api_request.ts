/**
 * The edge of the NATS API: a subject's resource and verb plus a JSON body become one typed
 * `ApiRequest`, or a 400/404 `ApiError`. Everything after this (authorization, the Api) trusts
 * the shape; nothing here touches the store.
 */
import type { DeleteOptions, ListOptions, PatchType, WatchOptions } from "../../model/client.ts";
import { ApiError, BadRequestError, NotFoundError } from "../../model/errors.ts";
import { RESOURCES, SCALABLE, type Resource, type ScalableResource } from "../../model/types.ts";
import { isObjectKeyName, isToken, VERBS } from "../subjects.ts";
import { checkJsonNesting } from "./nesting.ts";
import { parseFieldValidation, type FieldValidation } from "../api/field_validation.ts";
import { dryRunUnsafeDeleteError } from "../api/dry_run.ts";

/** One API call as it arrived over NATS, after shape validation. */
export type ApiRequest =
  | { verb: "create"; resource: Resource; object: unknown; namespace?: string; fieldValidation?: FieldValidation; dryRun?: boolean }
  | { verb: "get"; resource: Resource; name: string; namespace?: string }
  | { verb: "list"; resource: Resource; opts: ListOptions }
  | { verb: "update" | "updateStatus"; resource: Resource; object: unknown; fieldValidation?: FieldValidation; dryRun?: boolean }
  | { verb: "patch"; resource: Resource; name: string; namespace?: string; patch: unknown; patchType: PatchType; subresource?: "status"; dryRun?: boolean }
  | { verb: "delete"; resource: Resource; name: string; namespace?: string; opts: DeleteOptions }
  | { verb: "watch"; resource: Resource; opts: WatchOptions; watchId: string }
  | { verb: "getScale"; name: string; namespace?: string; resource?: ScalableResource }
  | { verb: "updateScale"; name: string; namespace?: string; replicas: number; resource?: ScalableResource; dryRun?: boolean }
  | { verb: "bind"; resource: "pods"; name: string; namespace?: string; node: string; uid?: string; dryRun?: boolean }
  /** A TokenRequest for ServiceAccount `name`: `request` is its body, validated by the Api. */
  | { verb: "createToken"; resource: "serviceaccounts"; name: string; namespace: string; request: unknown }
  | { verb: "watchKeepalive" | "watchStop"; watchId: string };

const WATCH_ID = /^[A-Za-z0-9_-]{6,64}$/;

/**
 * Decodes a request body: empty means `{}`; anything but a JSON object is a 400, and so is
 * nesting deeper than `MAX_NESTING_DEPTH` (found by a scan before the parser runs).
 */
export function parseBody(data: Uint8Array): Record<string, unknown> {
  if (data.length === 0) return {};
  const text = new TextDecoder().decode(data);
  checkJsonNesting(text, "request body");
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new BadRequestError(`request body is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new BadRequestError(`request body must be a JSON object, got ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`);
  }
  return v as Record<string, unknown>;
}

/**
 * Turns a subject's resource and verb and a decoded body into a typed request. A name or
 * namespace no object could have is answered here (404 for reads and writes of one object,
 * 400 for lists), rather than reaching the store as a key it cannot form.
 */
export function parseApiRequest(resource: string, verb: string, body: Record<string, unknown>): ApiRequest {
  const req = parseShape(resource, verb, body);
  const ns = "namespace" in req ? req.namespace : "opts" in req && req.verb !== "delete" ? req.opts.namespace : undefined;
  if (ns !== undefined && ns !== "" && !isToken(ns)) {
    if (req.verb === "list" || req.verb === "watch") throw new BadRequestError(`invalid namespace ${JSON.stringify(ns.slice(0, 64))}`);
    throw new NotFoundError("namespaces", ns);
  }
  if ("name" in req && !isObjectKeyName(req.name, "resource" in req ? req.resource : undefined)) {
    throw new NotFoundError(("resource" in req ? req.resource : undefined) ?? "replicationcontrollers", req.name);
  }
  return req;
}

function parseShape(resource: string, verb: string, body: Record<string, unknown>): ApiRequest {
  if (resource === "watches") {
    const watchId = str(body, "watchId", true)!;
    if (verb === "keepalive") return { verb: "watchKeepalive", watchId };
    if (verb === "stop") return { verb: "watchStop", watchId };
    throw new ApiError("NotFound", `unknown verb "${verb}" for watches (keepalive, stop)`);
  }
  if (resource === "scale") {
    const name = str(body, "name", true)!;
    const namespace = str(body, "namespace");
    const of = str(body, "resource");
    if (of !== undefined && !(SCALABLE as readonly string[]).includes(of)) {
      throw new BadRequestError(`field "resource" of a scale request must be one of ${SCALABLE.join(", ")}, got ${JSON.stringify(of)}`);
    }
    const resource = of as ScalableResource | undefined;
    if (verb === "get") return { verb: "getScale", name, namespace, resource };
    if (verb === "update") {
      const replicas = body.replicas;
      if (typeof replicas !== "number") throw new BadRequestError(`field "replicas" must be a number, got ${typeof replicas}`);
      return { verb: "updateScale", name, namespace, replicas, resource, ...dryRunOf(body) };
    }
    throw new ApiError("NotFound", `unknown verb "${verb}" for scale (get, update)`);
  }
  if (!Object.hasOwn(RESOURCES, resource)) {
    throw new ApiError("NotFound", `unknown resource "${resource}" (Berth serves: ${Object.keys(RESOURCES).join(", ")})`);
  }
  if (!(VERBS as readonly string[]).includes(verb)) {
    throw new ApiError("NotFound", `unknown verb "${verb}" (verbs: ${VERBS.join(", ")})`);
  }
  const r = resource as Resource;
  switch (verb as (typeof VERBS)[number]) {
    case "create":
      return { verb: "create", resource: r, object: required(body, "object"), namespace: str(body, "namespace"), fieldValidation: parseFieldValidation(body.fieldValidation, "Ignore"), ...dryRunOf(body) };
    case "get":
      return { verb: "get", resource: r, name: str(body, "name", true)!, namespace: str(body, "namespace") };
    case "list":
      return { verb: "list", resource: r, opts: listOpts(body) };
    case "update":
      return { verb: "update", resource: r, object: required(body, "object"), fieldValidation: parseFieldValidation(body.fieldValidation, "Ignore"), ...dryRunOf(body) };
    case "updateStatus":
      return { verb: "updateStatus", resource: r, object: required(body, "object"), ...dryRunOf(body) };
    case "patch": {
      const type = str(body, "patchType") ?? "merge";
      if (type !== "merge" && type !== "json" && type !== "strategic") {
        throw new BadRequestError(`field "patchType" must be merge, json or strategic, got ${JSON.stringify(type)}`);
      }
      const sub = str(body, "subresource");
      if (sub !== undefined && sub !== "status") throw new BadRequestError(`field "subresource" must be "status" if given`);
      return {
        verb: "patch",
        resource: r,
        name: str(body, "name", true)!,
        namespace: str(body, "namespace"),
        patch: required(body, "patch"),
        patchType: type,
        subresource: sub as "status" | undefined,
        ...dryRunOf(body),
      };
    }
    case "delete": {
      const grace = body.gracePeriodSeconds;
      if (grace !== undefined && (typeof grace !== "number" || !Number.isInteger(grace) || grace < 0)) {
        throw new BadRequestError(`field "gracePeriodSeconds" must be a non-negative integer`);
      }
      const policy = str(body, "propagationPolicy");
      if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy)) {
        throw new BadRequestError(`field "propagationPolicy" must be Background, Foreground or Orphan`);
      }
      const pre = body.preconditions;
      if (pre !== undefined && (typeof pre !== "object" || pre === null || Array.isArray(pre))) {
        throw new BadRequestError(`field "preconditions" must be an object`);
      }
      const p = pre as Record<string, unknown> | undefined;
      const preconditions = p ? { uid: str(p, "uid"), resourceVersion: str(p, "resourceVersion") } : undefined;
      const unsafe = body.ignoreStoreReadErrorWithClusterBreakingPotential;
      if (unsafe !== undefined && typeof unsafe !== "boolean") {
        throw new BadRequestError(`field "ignoreStoreReadErrorWithClusterBreakingPotential" must be a boolean`);
      }
      const dry = dryRunOf(body);
      if (unsafe && dry.dryRun) throw dryRunUnsafeDeleteError();
      return {
        verb: "delete",
        resource: r,
        name: str(body, "name", true)!,
        namespace: str(body, "namespace"),
        opts: {
          gracePeriodSeconds: grace as number | undefined,
          propagationPolicy: policy as DeleteOptions["propagationPolicy"],
          preconditions,
          ...(unsafe ? { ignoreStoreReadErrorWithClusterBreakingPotential: true } : {}),
          ...dry,
        },
      };
    }
    case "watch": {
      const watchId = str(body, "watchId", true)!;
      if (!WATCH_ID.test(watchId)) throw new BadRequestError(`field "watchId" must be 6-64 characters of [A-Za-z0-9_-]`);
      return { verb: "watch", resource: r, watchId, opts: { ...listOpts(body), resourceVersion: str(body, "resourceVersion") } };
    }
    case "bind":
      // A Binding names its pod; only pods are bound (Kubernetes' pods/binding subresource).
      if (r !== "pods") throw new ApiError("NotFound", `unknown verb "bind" for ${r} (only pods are bound to nodes)`);
      return { verb: "bind", resource: r, name: str(body, "name", true)!, namespace: str(body, "namespace"), node: str(body, "node", true)!, uid: str(body, "uid") || undefined, ...dryRunOf(body) };
    case "createToken":
      // Tokens are for ServiceAccounts (Kubernetes' serviceaccounts/token subresource).
      if (r !== "serviceaccounts") throw new ApiError("NotFound", `unknown verb "createToken" for ${r} (only service accounts have tokens)`);
      return { verb: "createToken", resource: r, name: str(body, "name", true)!, namespace: str(body, "namespace", true)!, request: body.request ?? {} };
  }
}

function str(body: Record<string, unknown>, field: string, needed = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (needed) throw new BadRequestError(`field "${field}" is required`);
    return undefined;
  }
  if (typeof v !== "string") throw new BadRequestError(`field "${field}" must be a string, got ${typeof v}`);
  if (needed && v === "") throw new BadRequestError(`field "${field}" must not be empty`);
  return v;
}

/** The optional boolean `dryRun` of a write (Kubernetes' `dryRun=All`), spread into the request only when true. */
function dryRunOf(body: Record<string, unknown>): { dryRun?: true } {
  const v = body.dryRun;
  if (v === undefined || v === null || v === false) return {};
  if (v !== true) throw new BadRequestError(`field "dryRun" must be a boolean, got ${typeof v === "string" ? JSON.stringify(v.slice(0, 64)) : typeof v}`);
  return { dryRun: true };
}

function required(body: Record<string, unknown>, field: string): unknown {
  if (body[field] === undefined) throw new BadRequestError(`field "${field}" is required`);
  return body[field];
}

function listOpts(body: Record<string, unknown>): ListOptions {
  const limit = body.limit;
  if (limit !== undefined && (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 0)) {
    throw new BadRequestError(`field "limit" must be a non-negative integer no larger than ${Number.MAX_SAFE_INTEGER}`);
  }
  return {
    namespace: str(body, "namespace"),
    labelSelector: str(body, "labelSelector"),
    fieldSelector: str(body, "fieldSelector"),
    limit: limit as number | undefined,
    continue: str(body, "continue"),
    resourceVersion: str(body, "resourceVersion"),
    resourceVersionMatch: str(body, "resourceVersionMatch") as ListOptions["resourceVersionMatch"],
  };
}
