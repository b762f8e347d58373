/**
 * Named errors that map one-to-one onto Kubernetes `Status` reasons and HTTP codes.
 *
 * Every error that leaves the API (over NATS or HTTP) is an `ApiError`; `toStatus` turns it into
 * the wire object and `fromStatus` turns a wire object back into the same class on the client.
 */
import { RESOURCES, type Resource, type Status, type StatusCause } from "./types.ts";

/**
 * A resource as kube-apiserver names it in errors (its GroupResource): `pods`, but
 * `deployments.apps`; with the group for the Status details.
 */
function groupResource(resource: string): { name: string; group?: string } {
  const group = Object.hasOwn(RESOURCES, resource) ? (RESOURCES[resource as Resource] as { group?: string }).group : undefined;
  return group ? { name: `${resource}.${group}`, group } : { name: resource };
}

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Gone"
  | "Expired"
  | "Invalid"
  | "RequestEntityTooLarge"
  | "UnsupportedMediaType"
  | "MethodNotAllowed"
  | "TooManyRequests"
  | "Timeout"
  | "ServiceUnavailable"
  | "InternalError";

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  Timeout: 504,
};

/** Base class of every error the API reports. `reason` and `code` follow Kubernetes. */
export class ApiError extends Error {
  readonly reason: StatusReason;
  readonly code: number;
  readonly details?: Status["details"];
  constructor(reason: StatusReason, message: string, details?: Status["details"], options?: { cause?: unknown }) {
    super(message, options);
    this.name = `${reason}Error`;
    this.reason = reason;
    this.code = CODES[reason];
    this.details = details;
  }
  toStatus(): Status {
    return {
      apiVersion: "v1",
      kind: "Status",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      code: this.code,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export class NotFoundError extends ApiError {
  constructor(resource: Resource | string, name: string) {
    const r = groupResource(resource);
    super("NotFound", `${r.name} "${name}" not found`, { name, ...(r.group ? { group: r.group } : {}), kind: resource });
  }
}

export class AlreadyExistsError extends ApiError {
  constructor(resource: Resource | string, name: string) {
    const r = groupResource(resource);
    super("AlreadyExists", `${r.name} "${name}" already exists`, { name, ...(r.group ? { group: r.group } : {}), kind: resource });
  }
}

/** A compare-and-swap lost: the caller's resourceVersion is stale. Retry after re-reading. */
export class ConflictError extends ApiError {
  constructor(resource: Resource | string, name: string, detail = "the object has been modified; please apply your changes to the latest version and try again") {
    const r = groupResource(resource);
    super("Conflict", `Operation cannot be fulfilled on ${r.name} "${name}": ${detail}`, { name, ...(r.group ? { group: r.group } : {}), kind: resource });
  }
}

/** A watch asked for a revision the store no longer has; the caller must list again. */
export class GoneError extends ApiError {
  constructor(message = "too old resource version") {
    super("Gone", message);
  }
}

/**
 * A list's continue token names a snapshot the watch cache no longer holds (410, reason
 * Expired, as kube-apiserver answers). `continueToken` resumes the list after the same key at
 * the newest revision: the rest of the list, no longer consistent with its first pages.
 */
export class ExpiredError extends ApiError {
  constructor(message: string, readonly continueToken?: string) {
    super("Expired", message);
  }
  override toStatus(): Status {
    const s = super.toStatus();
    return this.continueToken ? { ...s, metadata: { continue: this.continueToken } } : s;
  }
}

/** The object failed validation; `causes` name every offending field. */
export class InvalidError extends ApiError {
  readonly causes: StatusCause[];
  constructor(kind: string, name: string, causes: StatusCause[]) {
    const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message)).join(", ");
    super("Invalid", `${kind} "${name || "<unnamed>"}" is invalid: ${summary}`, { name, kind, causes });
    this.causes = causes;
  }
}

export class BadRequestError extends ApiError {
  constructor(message: string, causes?: StatusCause[]) {
    super("BadRequest", message, causes ? { causes } : undefined);
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Any thrown value as a Status: ApiErrors keep their reason, everything else is a 500. */
export function toStatus(e: unknown): Status {
  if (e instanceof ApiError) return e.toStatus();
  const message = e instanceof Error ? e.message : String(e);
  return new ApiError("InternalError", `internal error: ${message}`).toStatus();
}

/** A Status received over the wire, as the matching error class (the reason decides). */
export function fromStatus(s: Status): ApiError {
  const reason = (s.reason && s.reason in CODES ? s.reason : "InternalError") as StatusReason;
  if (reason === "Expired") return new ExpiredError(s.message, s.metadata?.continue);
  const err = new ApiError(reason, s.message, s.details);
  return err;
}

/** True for a Status-shaped value. */
export function isStatus(v: unknown): v is Status {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === "Status" &&
    typeof (v as { code?: unknown }).code === "number";
}

/**
 * A write refused on the caller's side before anything was sent (a fenced ex-leader, a closed
 * client): its outcome is known — nothing happened.
 */
export class NotSentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotSentError";
  }
}

/**
 * True when a failed write may nevertheless have happened: the store or the transport gave up
 * waiting (a JetStream publish times out while its stream elects a new leader, and is committed
 * a moment later), or the error is not an API answer at all. A controller must not assume such a
 * write was lost — repeating a create would make a second object. API rejections (invalid,
 * forbidden, conflict, not found, ...) and `NotSentError` are definite.
 */
export function outcomeUnknown(e: unknown): boolean {
  if (e instanceof NotSentError) return false;
  if (!(e instanceof ApiError)) return true;
  return e.reason === "ServiceUnavailable" || e.reason === "Timeout" || e.reason === "InternalError";
}
