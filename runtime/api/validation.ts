/**
 * Validation at the edge: one object from outside (HTTP, NATS, YAML) becomes a trusted core/v1
 * object, or an `InvalidError` (422) listing every problem with its Kubernetes field path
 * (`spec.containers[0].image`) and cause reason (`FieldValueRequired`, `FieldValueInvalid`,
 * `FieldValueNotSupported`, `FieldValueTooLong`, `FieldValueDuplicate`, `FieldValueNotFound`,
 * `FieldValueForbidden`, `FieldValueTooMany`).
 *
 * Two passes, both always run so that one wrong type does not hide other problems:
 *   1. zod schemas (validation_schemas.ts) check every field's type and format;
 *   2. `crossFieldProblems` checks rules that relate fields (unique names, mounts that name a
 *      declared volume, a selector that matches its template), reading the raw input defensively.
 *
 * Unknown fields are kept, as Kubernetes ignores them; `null` properties count as absent, as
 * Kubernetes' JSON decoding does. Nothing here has side effects.
 */
import type { z } from "zod";
import { ApiError, BadRequestError, InvalidError } from "../../model/errors.ts";
import { RESOURCES, apiVersionOf } from "../../model/types.ts";
import type { Resource, ResourceTypes, StatusCause } from "../../model/types.ts";
import { crossFieldProblems, metadataProblems } from "./validation_rules.ts";
import { SCHEMAS } from "./validation_schemas.ts";
import { CAUSE, formatPath, render } from "./validation_util.ts";

export { isDns1123Label, isDns1123Subdomain, isIanaSvcName, isIPv4 } from "./validation_util.ts";

/** Kubernetes' limit on one object (etcd's request limit): 1.5 MiB of JSON. */
export const MAX_OBJECT_BYTES = 1_572_864;

/** Throws `RequestEntityTooLarge` (413) when the JSON encoding of `raw` exceeds `MAX_OBJECT_BYTES`. */
export function checkSize(raw: unknown): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(raw);
  } catch (e) {
    throw new BadRequestError(`the object cannot be encoded as JSON: ${(e as Error).message}`);
  }
  // Quick bound first: a UTF-8 encoding is at most 3 bytes per UTF-16 unit.
  const length = json === undefined ? 0 : json.length * 3 <= MAX_OBJECT_BYTES ? json.length : new TextEncoder().encode(json).length;
  if (length > MAX_OBJECT_BYTES) {
    throw new ApiError("RequestEntityTooLarge", `the object is too large: ${length} bytes of JSON, the limit is ${MAX_OBJECT_BYTES}`);
  }
}

/** The resource that serves objects of `kind` ("Pod" → "pods"), or undefined. */
export function resourceForKind(kind: string): Resource | undefined {
  for (const [resource, info] of Object.entries(RESOURCES)) if (info.kind === kind) return resource as Resource;
  return undefined;
}

/** The kind of the objects of `resource` ("pods" → "Pod"). */
export function kindOf<R extends Resource>(resource: R): (typeof RESOURCES)[R]["kind"] {
  return RESOURCES[resource].kind;
}

/** A copy of a JSON value without `null` object properties (arrays keep their elements). */
function dropNulls(v: unknown): unknown {
  // Most objects carry no null at all: they are taken as they are (zod's parse copies them).
  return hasNullField(v) ? dropNullsCopy(v) : v;
}

/** True when some object inside `v` has a field whose value is null (what dropNulls removes). */
function hasNullField(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (hasNullField(x)) return true;
    return false;
  }
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === null || hasNullField(x)) return true;
  }
  return false;
}

function dropNullsCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(dropNullsCopy);
  if (typeof v !== "object" || v === null) return v;
  // fromEntries defines own properties, so a "__proto__" key from JSON.parse stays a plain key.
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNullsCopy(x)]));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function zodCauses(issues: z.core.$ZodIssue[]): StatusCause[] {
  return issues.map((i) => {
    const field = formatPath(i.path) || undefined;
    const input = (i as { input?: unknown }).input;
    switch (i.code) {
      case "invalid_type": {
        if (input === undefined) return { reason: CAUSE.required, message: "Required value", field };
        const expected = i.expected === "int" ? "an integer" : /^[aeiou]/.test(i.expected) ? `an ${i.expected}` : `a ${i.expected}`;
        return { reason: CAUSE.invalid, message: render(CAUSE.invalid, input, `must be ${expected}, got ${typeName(input)}`), field };
      }
      case "too_small":
        if (i.origin === "array" || i.origin === "string") {
          return { reason: CAUSE.required, message: "Required value", field };
        }
        return { reason: CAUSE.invalid, message: render(CAUSE.invalid, input, `must be greater than or equal to ${i.minimum}`), field };
      case "too_big":
        if (i.origin === "string") return { reason: CAUSE.tooLong, message: `Too long: may not be more than ${i.maximum} bytes`, field };
        if (i.origin === "array") return { reason: CAUSE.tooMany, message: `Too many: must have at most ${i.maximum} items`, field };
        return { reason: CAUSE.invalid, message: render(CAUSE.invalid, input, `must be less than or equal to ${i.maximum}`), field };
      case "invalid_value":
        return {
          reason: CAUSE.notSupported,
          message: render(CAUSE.notSupported, input, `supported values: ${i.values.map((v) => JSON.stringify(v)).join(", ")}`),
          field,
        };
      case "custom": {
        const params = (i.params ?? {}) as { reason?: string; detail?: string };
        const reason = params.reason ?? CAUSE.invalid;
        return { reason, message: render(reason, input, params.detail ?? i.message), field };
      }
      default:
        return { reason: CAUSE.invalid, message: render(CAUSE.invalid, input, i.message), field };
    }
  });
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : typeof v;
}

/**
 * Validates one object from outside as a `resource`, returning it typed (with `apiVersion` and
 * `kind` filled in when absent, unknown fields kept). Throws `BadRequestError` when `raw` is not
 * a JSON object, `InvalidError` (422) naming every offending field otherwise. `metadata.name` may
 * be absent only when `metadata.generateName` is given; the caller then fills it in.
 */
export function validate<R extends Resource>(resource: R, raw: unknown): ResourceTypes[R] {
  return check(resource, raw, SCHEMAS[resource], crossFieldProblems);
}

/**
 * Validates the body of a status write (`PUT …/status`): everything but `spec`, which the write
 * takes from the stored object whatever the body says. Kubernetes' status strategies do the same
 * (`PrepareForUpdate` copies the old spec into the new object, then `ValidatePodStatusUpdate`
 * checks metadata and status only), so a body whose spec is stale or even invalid is no error.
 * Returns the body typed, `spec` as it came (unchecked: the caller must not use it).
 * The spec is most of a pod's schema: this is about a third of `validate`'s cost, paid by every
 * kubelet status write and node heartbeat.
 */
export function validateStatus<R extends Resource>(resource: R, raw: unknown): ResourceTypes[R] {
  const schema = STATUS_SCHEMAS[resource];
  // A resource without a spec (ConfigMap, Event, …) has nothing to leave out.
  return schema ? check(resource, raw, schema, metadataProblems) : validate(resource, raw);
}

/** Each resource's schema without `spec`, for the ones that have a spec. */
const STATUS_SCHEMAS: Partial<Record<Resource, z.ZodType>> = Object.fromEntries(
  Object.entries(SCHEMAS).flatMap(([r, s]) => {
    const shape = (s as Partial<z.ZodObject>).shape;
    return shape && "spec" in shape ? [[r, (s as z.ZodObject).omit({ spec: true })]] : [];
  }),
);

function check<R extends Resource>(resource: R, raw: unknown, schema: z.ZodType, rules: (r: Resource, raw: Record<string, unknown>) => StatusCause[]): ResourceTypes[R] {
  const info = RESOURCES[resource];
  if (!info) throw new BadRequestError(`unknown resource "${String(resource)}"`);
  if (!isPlainObject(raw)) {
    throw new BadRequestError(`the body of a ${info.kind} must be a JSON object, got ${typeName(raw)}`);
  }
  const input = dropNulls(raw) as Record<string, unknown>;
  const parsed = schema.safeParse(input, { reportInput: true });
  const causes = [...(parsed.success ? [] : zodCauses(parsed.error.issues)), ...rules(resource, input)];
  if (causes.length > 0) {
    const meta = isPlainObject(input.metadata) ? input.metadata : {};
    const name = typeof meta.name === "string" ? meta.name : typeof meta.generateName === "string" ? meta.generateName : "";
    throw new InvalidError(info.kind, name, causes);
  }
  const out = parsed.data as Record<string, unknown>;
  return { apiVersion: apiVersionOf(resource), kind: info.kind, ...out } as unknown as ResourceTypes[R];
}
