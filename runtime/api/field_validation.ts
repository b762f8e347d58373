/**
 * Field validation, as kube-apiserver's `fieldValidation` parameter: fields the kind's schema
 * (runtime/api/openapi.ts) does not declare are refused (`Strict`, what kubectl sends and
 * `berth apply` does by default), reported as warnings (`Warn`, the server's default) or let through
 * (`Ignore`). One function for the three faces — REST (`?fieldValidation=`), the NATS API (a
 * `"fieldValidation"` field of `create`/`update`) and the CLI (`--validate`) — so they answer alike.
 */
import { BadRequestError } from "../../model/errors.ts";
import { unknownFields } from "./openapi.ts";

export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** The mode named by a request (`undefined` → `dflt`); anything else is a 400 naming the choices. */
export function parseFieldValidation(value: unknown, dflt: FieldValidation): FieldValidation {
  if (value === undefined || value === null || value === "") return dflt;
  if (value === "Strict" || value === "Warn" || value === "Ignore") return value;
  throw new BadRequestError(`fieldValidation must be one of Ignore, Warn or Strict, got ${JSON.stringify(value)}`);
}

/** The message kube-apiserver gives for one unknown field. */
export const unknownFieldMessage = (path: string) => `unknown field "${path}"`;

/**
 * Checks `body` (an object of `kind`) under `mode`: throws a 400 `strict decoding error: unknown
 * field "spec.x"` under Strict, returns the warnings under Warn, nothing under Ignore.
 */
export function checkFieldValidation(kind: string, body: unknown, mode: FieldValidation): string[] {
  if (mode === "Ignore") return [];
  const unknown = unknownFields(kind, body);
  if (!unknown.length) return [];
  if (mode === "Strict") throw new BadRequestError(`strict decoding error: ${unknown.map(unknownFieldMessage).join(", ")}`);
  return unknown.map(unknownFieldMessage);
}
