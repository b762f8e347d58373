/**
 * The error of a manifest that cannot be used, apart from the parser so that the CLI can
 * recognise it without loading YAML and the validation schemas.
 */
import { type ApiError, BadRequestError } from "../../model/errors.ts";
import type { StatusCause } from "../../model/types.ts";

/** A manifest that cannot be used; the message starts with where (file, document, line). */
export class ManifestError extends BadRequestError {
  readonly source: string;
  readonly index?: number;
  readonly line?: number;
  /** For `validateManifests`: the error of each rejected object, in file order. */
  readonly errors: ApiError[];
  constructor(
    message: string,
    where: { source: string; index?: number; line?: number },
    opts: { causes?: StatusCause[]; errors?: ApiError[]; cause?: unknown } = {},
  ) {
    super(message, opts.causes);
    this.name = "ManifestError";
    this.source = where.source;
    this.index = where.index;
    this.line = where.line;
    this.errors = opts.errors ?? [];
    if (opts.cause !== undefined) (this as { cause?: unknown }).cause = opts.cause;
  }
}
