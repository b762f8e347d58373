/**
 * `POST pods/{name}/eviction` with a policy/v1 `Eviction` body: a pod deletion that kubectl
 * drain asks for politely, refused while it would break the pod's PodDisruptionBudget. As
 * kube-apiserver's eviction REST (the rules are actors/disruption_decide.ts `evictionVerdict`):
 *
 *   read the pod and its namespace's budgets (a consistent read)
 *     ├── not running, going already, no budget, or an unhealthy pod the budget lets go
 *     │     ──▶ graceful delete with the eviction's `deleteOptions` (an unhealthy pod only at the
 *     │         version read: one that became Ready meanwhile is looked at again)
 *     ├── room in the budget ──▶ the budget's status written first (one disruption fewer, the pod
 *     │         in disruptedPods; compare-and-swap: a lost race reads again), then the delete
 *     └── no room ──▶ 429 TooManyRequests, cause DisruptionBudget (kubectl drain retries in 5 s);
 *               two budgets: 500
 *
 * The answer is a `Status` with code 201, as kube-apiserver sends.
 */
import type { ApiClient, DeleteOptions } from "../../model/client.ts";
import { ApiError, BadRequestError } from "../../model/errors.ts";
import { evictionVerdict } from "../../actors/disruption_decide.ts";

/** Tries of an eviction whose budget write lost a race (kube-apiserver's EvictionsRetry steps). */
const EVICTION_TRIES = 20;

/** Evicts pod `name`: checks the body names it, then deletes it gracefully unless a budget forbids it. */
export async function evict(
  api: ApiClient,
  name: string,
  namespace: string | undefined,
  body: unknown,
  toDeleteOptions: (raw: unknown) => DeleteOptions,
  now: () => number = Date.now,
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
  const opts = toDeleteOptions(b.deleteOptions);
  // A caller's own resourceVersion precondition is not retried past (as kube-apiserver).
  const tries = opts.preconditions?.resourceVersion ? 1 : EVICTION_TRIES;
  let target: { namespace: string | undefined; opts: DeleteOptions };
  for (let attempt = 1; ; attempt++) {
    try {
      target = await admitEviction(api, name, namespace, opts, now);
      break;
    } catch (err) {
      // Only the budget's compare-and-swap is tried again (the delete is not: it would spend twice).
      if (!(err instanceof ApiError && err.reason === "Conflict") || attempt >= tries) throw err;
    }
  }
  await api.delete("pods", name, target.namespace, target.opts);
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
}

/** Decides the eviction and spends the budget when it must: the pod's namespace and the options of its delete. */
async function admitEviction(api: ApiClient, name: string, namespace: string | undefined, opts: DeleteOptions, now: () => number): Promise<{ namespace: string | undefined; opts: DeleteOptions }> {
  const pod = await api.get("pods", name, namespace);
  const ns = pod.metadata.namespace;
  const verdict = evictionVerdict(pod, (await api.list("poddisruptionbudgets", { namespace: ns })).items, now());
  switch (verdict.type) {
    case "refuse":
      if (verdict.code === 429) throw new ApiError("TooManyRequests", verdict.message, { causes: [{ reason: "DisruptionBudget", message: verdict.cause ?? "" }] });
      if (verdict.code === 403) throw new ApiError("Forbidden", verdict.message, { group: "policy", kind: "poddisruptionbudgets" });
      throw new ApiError("InternalError", verdict.message);
    case "spend":
      // Told to the budget first: the disruption controller counts the pod as gone from now on.
      await api.updateStatus("poddisruptionbudgets", { ...verdict.budget, status: verdict.status });
      return { namespace: ns, opts };
    case "delete":
      // An unhealthy pod let go without spending the budget must still be unhealthy when deleted.
      if (verdict.why === "unhealthy-pod") return { namespace: ns, opts: { ...opts, preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion, ...opts.preconditions } } };
      return { namespace: ns, opts };
  }
}
