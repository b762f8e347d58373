/**
 * Reading request bodies and negotiating media types, the edge where HTTP input is checked:
 * a size limit (413), the media types each verb accepts (415), and parseable JSON/YAML (400).
 */
import type { IncomingMessage } from "node:http";
import { parse as parseYaml } from "yaml";
import { ApiError, BadRequestError } from "../../model/errors.ts";
import type { PatchType } from "../../model/client.ts";
import { checkJsonNesting, checkValueNesting, checkYamlNesting } from "../security/nesting.ts";

/** Default request body limit: the 3 MiB kube-apiserver allows. */
export const DEFAULT_MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The media type without parameters, lower-cased; undefined when the header is absent. */
export function mediaType(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return header.split(";")[0].trim().toLowerCase();
}

const PATCH_TYPES: Record<string, PatchType> = {
  "application/merge-patch+json": "merge",
  "application/json-patch+json": "json",
  "application/strategic-merge-patch+json": "strategic",
};

/** The patch flavour named by a PATCH request's Content-Type, or a 415. */
export function patchTypeOf(contentType: string | undefined): PatchType {
  const mt = mediaType(contentType);
  if (mt && Object.hasOwn(PATCH_TYPES, mt)) return PATCH_TYPES[mt];
  if (mt === "application/apply-patch+yaml" || mt === "application/apply-patch+cbor") {
    throw new ApiError(
      "UnsupportedMediaType",
      "server-side apply is not supported by Berth; use client-side `kubectl apply` (without --server-side)",
    );
  }
  throw new ApiError(
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: ${Object.keys(PATCH_TYPES).join(", ")}`,
  );
}

/** Checks the Content-Type of a POST/PUT body: JSON or YAML (absent is taken as JSON). */
export function checkObjectContentType(contentType: string | undefined): "json" | "yaml" {
  const mt = mediaType(contentType);
  if (mt === undefined || mt === "application/json" || mt === "*/*") return "json";
  if (mt === "application/yaml" || mt === "application/x-yaml" || mt === "text/yaml") return "yaml";
  throw new ApiError(
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`,
  );
}

/** Reads the whole body up to `maxBytes`; a larger body is a 413 (the rest is not buffered). */
export function readRaw(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (e) => {
      if (!done) {
        done = true;
        reject(new BadRequestError(`reading the request body failed: ${e.message}`));
      }
    });
  });
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("RequestEntityTooLarge", `the request body is larger than ${maxBytes} bytes`);
}

/**
 * Parses a body as JSON or YAML; garbage is a 400 that says where it broke. Nesting deeper than
 * `MAX_NESTING_DEPTH` is refused by a scan before the parser runs (security/nesting.ts), and for
 * YAML once more after it, since aliases can repeat a deep anchor.
 */
export function parseBody(raw: Buffer, format: "json" | "yaml"): unknown {
  const text = raw.toString("utf8");
  if (text.trim() === "") throw new BadRequestError("the request body is empty");
  if (format === "json") checkJsonNesting(text, "the request body");
  else checkYamlNesting(text, "the request body");
  let value: unknown;
  try {
    value = format === "json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new BadRequestError(`the request body is not valid ${format.toUpperCase()}: ${(e as Error).message}`);
  }
  if (format === "yaml") checkValueNesting(value, "the request body");
  return value;
}

export interface AcceptInfo {
  /** The client asked for a meta.k8s.io Table (kubectl get). */
  table: boolean;
  /** Only protobuf (or another non-JSON type) is acceptable. */
  jsonAcceptable: boolean;
}

/** Reads the Accept header the way kube-apiserver negotiates it, for the cases Berth serves. */
export function parseAccept(header: string | undefined): AcceptInfo {
  if (!header) return { table: false, jsonAcceptable: true };
  let table = false;
  let jsonAcceptable = false;
  for (const clause of header.split(",")) {
    const [type, ...params] = clause.split(";").map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split("=").map((s) => s.trim())));
    const t = type.toLowerCase();
    if (t === "application/json" || t === "*/*" || t === "application/*") {
      if (p.as === "Table" && p.g === "meta.k8s.io" && (p.v === "v1" || p.v === "v1beta1")) table = true;
      else if (p.as === undefined) jsonAcceptable = true;
    }
  }
  return { table, jsonAcceptable: jsonAcceptable || table };
}
