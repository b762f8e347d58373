/**
 * `POST pods/{name}/eviction` with a policy/v1 `Eviction` body: a pod deletion that kubectl
 * drain asks for politely, refused while it would break the pod's PodDisruptionBudget. As
 * kube-apiserver's eviction REST (the rules are actors/disruption_decide.ts `evictionVerdict`):
 *
 *   read the pod and its namespace's budgets (a consistent read)
 *     ├── not running, going already, no budget, or an unhealthy pod the budget lets go
 *     │     ──▶ graceful delete with the eviction's `deleteOptions` (a Pending or an unhealthy
 *     │         pod only at the version read: one that got Running or Ready meanwhile is
 *     │         decided again)
 *     ├── room in the budget ──▶ the budget's status written first (one disruption fewer, the pod
 *     │         in disruptedPods; compare-and-swap: a lost race reads again after ~500 ms, 20
 *     │         tries, then 504), then the delete (never tried twice: it would spend twice)
 *     └── no room ──▶ 429 TooManyRequests, cause DisruptionBudget (kubectl drain retries in 5 s);
 *               two budgets: 500
 *
 * The answer is a `Status` with code 201, as kube-apiserver sends. A dry run (`dryRun: ["All"]` in
 * the eviction's deleteOptions, or `dryRun=All` on the request) is decided the same way and
 * writes nothing: `kubectl drain --dry-run=server` is told which pods a budget would keep.
 */
import type { ApiClient, DeleteOptions } from "../../model/client.ts";
import { ApiError, BadRequestError } from "../../model/errors.ts";
import { evictionVerdict } from "../../actors/disruption_decide.ts";

/** Tries of an eviction that lost a race (kube-apiserver's EvictionsRetry steps). */
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
  const callerPinned = opts.preconditions?.resourceVersion !== undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      const target = await admitEviction(api, name, namespace, opts, now);
      if (target.spent) {
        // The budget is spent: the delete is not tried again (a second pass would spend twice).
        await api.delete("pods", name, target.namespace, target.opts);
      } else {
        await deletePinned(api, name, target, callerPinned);
      }
      return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
    } catch (err) {
      if (!(err instanceof LostRace)) throw err;
      if (attempt >= EVICTION_TRIES) {
        throw new ApiError("Timeout", `couldn't update PodDisruptionBudget ${JSON.stringify(err.budget ?? name)} due to conflicts`);
      }
      // kube-apiserver's EvictionsRetry: about 500 ms apart, jittered, so evictions of one drain
      // under one budget do not hammer it.
      await new Promise((r) => setTimeout(r, RETRY_MS * (0.9 + Math.random() * 0.2)));
    }
  }
}

/** Pause between tries after a lost race (kube-apiserver's EvictionsRetry duration). */
const RETRY_MS = 500;

/** The budget's compare-and-swap, or the pinned delete of a pod we pinned ourselves, lost a race: decide again. */
class LostRace extends Error {
  constructor(readonly budget?: string) {
    super("lost a race");
  }
}

/**
 * Deletes a pod let go without spending a budget. A Pending pod and an unhealthy one are deleted
 * at the version the decision was made on (kube-apiserver's shouldEnforceResourceVersion and its
 * unhealthy-pod path): one that changed meanwhile (got Running, got Ready) is decided again. A
 * precondition the caller gave is the caller's: its conflict is answered as it is.
 */
async function deletePinned(api: ApiClient, name: string, target: Admitted, callerPinned: boolean): Promise<void> {
  try {
    await api.delete("pods", name, target.namespace, target.opts);
  } catch (err) {
    if (err instanceof ApiError && err.reason === "Conflict" && target.pinned && !callerPinned) throw new LostRace();
    throw err;
  }
}

interface Admitted {
  namespace: string | undefined;
  opts: DeleteOptions;
  /** The budget was spent for this delete. */
  spent: boolean;
  /** We added the pod's resourceVersion to the delete. */
  pinned: boolean;
}

/** Decides the eviction and spends the budget when it must: the pod's namespace and the options of its delete. */
async function admitEviction(api: ApiClient, name: string, namespace: string | undefined, opts: DeleteOptions, now: () => number): Promise<Admitted> {
  const pod = await api.get("pods", name, namespace);
  const ns = pod.metadata.namespace;
  const verdict = evictionVerdict(pod, (await api.list("poddisruptionbudgets", { namespace: ns })).items, now());
  const pin = (): Admitted => ({
    namespace: ns,
    opts: { ...opts, preconditions: { uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion, ...opts.preconditions } },
    spent: false,
    pinned: true,
  });
  switch (verdict.type) {
    case "refuse":
      if (verdict.code === 429) {
        throw new ApiError("TooManyRequests", verdict.message, { causes: [{ reason: "DisruptionBudget", message: verdict.cause ?? "" }], ...(verdict.retryAfterSeconds ? { retryAfterSeconds: verdict.retryAfterSeconds } : {}) });
      }
      if (verdict.code === 403) throw new ApiError("Forbidden", verdict.message, { group: "policy", kind: "poddisruptionbudgets" });
      throw new ApiError("InternalError", verdict.message);
    case "spend":
      // Told to the budget first: the disruption controller counts the pod as gone from now on.
      try {
        // A dry run checks the budget's compare-and-swap too, and spends nothing (kube-apiserver's checkAndDecrement).
        await api.updateStatus("poddisruptionbudgets", { ...verdict.budget, status: verdict.status }, { dryRun: opts.dryRun });
      } catch (err) {
        if (err instanceof ApiError && err.reason === "Conflict") throw new LostRace(verdict.budget.metadata.name);
        throw err;
      }
      return { namespace: ns, opts, spent: true, pinned: false };
    case "delete":
      if (verdict.why === "unhealthy-pod") return pin();
      if (verdict.why === "pod-not-running" && (pod.status?.phase ?? "Pending") === "Pending" && !pod.metadata.deletionTimestamp) return pin();
      return { namespace: ns, opts, spent: false, pinned: false };
  }
}
