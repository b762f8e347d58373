/** What validation tests share: the causes a manifest is refused with, and a check for one of them. */
import { expect } from "vitest";
import { InvalidError } from "../../model/errors.ts";
import type { Resource, StatusCause } from "../../model/types.ts";
import { validate } from "../../runtime/api/validation.ts";

/** The causes `check` (validate by default) refuses `raw` with (a 422), or none when it passes. */
export function causesOf(resource: Resource, raw: unknown, check: typeof validate = validate): StatusCause[] {
  try {
    check(resource, raw);
    return [];
  } catch (e) {
    if (!(e instanceof InvalidError)) throw e;
    expect(e.code).toBe(422);
    return e.causes;
  }
}

/** Expects a cause of `reason` at `field`, its message equal to a string or matching a pattern. */
export function expectCause(causes: StatusCause[], field: string, reason: string, message?: string | RegExp): void {
  const hit = causes.find((c) => c.field === field && c.reason === reason && (message === undefined || (typeof message === "string" ? c.message === message : message.test(c.message))));
  expect(hit, `expected ${reason} at ${field}${message ? ` saying ${message}` : ""}, got ${JSON.stringify(causes, null, 1)}`).toBeDefined();
}
