/**
 * `POST pods/{name}/eviction` with a policy/v1 `Eviction` body: a pod deletion that kubectl
 * drain asks for politely. Berth has no PodDisruptionBudgets, so every eviction is allowed (as
 * on Kubernetes when no budget covers the pod) and becomes a graceful delete with the eviction's
 * `deleteOptions`. The answer is a `Status` with code 201, as kube-apiserver sends.
 */
import type { ApiClient, DeleteOptions } from "../../model/client.ts";
import { BadRequestError } from "../../model/errors.ts";

/** Evicts pod `name`: checks the body names it, then deletes it gracefully. */
export async function evict(
  api: ApiClient,
  name: string,
  namespace: string | undefined,
  body: unknown,
  toDeleteOptions: (raw: unknown) => DeleteOptions,
): Promise<Record<string, unknown>> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequestError("the Eviction body must be an object");
  const b = body as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; deleteOptions?: unknown };
  if (b.kind !== undefined && b.kind !== "Eviction") throw new BadRequestError(`the body of pods/eviction must be an Eviction, got kind ${JSON.stringify(b.kind)}`);
  const bodyName = b.metadata?.name;
  if (bodyName !== undefined && bodyName !== "" && bodyName !== name) {
    throw new BadRequestError(`name in URL does not match name in Eviction object: ${JSON.stringify(name)} vs ${JSON.stringify(bodyName)}`);
  }
  const bodyNs = b.metadata?.namespace;
  if (bodyNs !== undefined && bodyNs !== "" && namespace !== undefined && bodyNs !== namespace) {
    throw new BadRequestError(`namespace in URL does not match namespace in Eviction object: ${JSON.stringify(namespace)} vs ${JSON.stringify(bodyNs)}`);
  }
  await api.delete("pods", name, namespace, toDeleteOptions(b.deleteOptions));
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
}
