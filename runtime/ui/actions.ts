/**
 * The page's actions, validated at the edge into a closed union: anything else is a 400 before
 * the API is called.
 */
import { BadRequestError } from "../../model/errors.ts";
import { SCALABLE, type ScalableResource } from "../../model/types.ts";

/**
 * What the page can scale: what serves the `/scale` subresource — an RC (the default), a
 * Deployment, a ReplicaSet or a StatefulSet.
 */
export type ScaleResource = ScalableResource;
const SCALE_RESOURCES: readonly ScaleResource[] = SCALABLE;

export type UiAction =
  | { action: "scale"; resource: ScaleResource; namespace: string; name: string; replicas: number }
  | { action: "deletePod"; namespace: string; name: string }
  | { action: "cordon" | "uncordon"; name: string };

/** Kubernetes object names and namespaces: DNS-1123 subdomains, at most 253 characters. */
const NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** The most replicas the page lets one click ask for. */
export const MAX_REPLICAS = 10_000;

export function parseAction(body: unknown): UiAction {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequestError("an action is a JSON object");
  const b = body as Record<string, unknown>;
  const name = str(b.name, "name");
  switch (b.action) {
    case "scale": {
      const r = b.replicas;
      if (typeof r !== "number" || !Number.isInteger(r) || r < 0 || r > MAX_REPLICAS) {
        throw new BadRequestError(`replicas must be a whole number from 0 to ${MAX_REPLICAS}`);
      }
      const resource = b.resource ?? "replicationcontrollers";
      if (!SCALE_RESOURCES.includes(resource as ScaleResource)) throw new BadRequestError(`resource must be one of ${SCALE_RESOURCES.join(", ")}`);
      return { action: "scale", resource: resource as ScaleResource, namespace: ns(b.namespace), name, replicas: r };
    }
    case "deletePod":
      return { action: "deletePod", namespace: ns(b.namespace), name };
    case "cordon":
    case "uncordon":
      return { action: b.action, name };
    default:
      throw new BadRequestError(`unknown action ${JSON.stringify(String(b.action)).slice(0, 40)}`);
  }
}

function str(v: unknown, field: string): string {
  if (typeof v !== "string" || !NAME.test(v)) throw new BadRequestError(`${field} must be an object name`);
  return v;
}

function ns(v: unknown): string {
  return v === undefined ? "default" : str(v, "namespace");
}
