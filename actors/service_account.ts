/**
 * The service account controller (kube-controller-manager's serviceaccounts-controller): every
 * namespace that is not being deleted has a ServiceAccount named `default`; one deleted is made
 * again. Berth issues no tokens for them (model/types.ts, ServiceAccount).
 *
 *   namespaces informer (a namespace added) ──────────────┐
 *   serviceaccounts informer (a `default` deleted) ───────┴─▶ wake ─▶ work loop (work_loop.ts)
 *   one pass: missingDefaults (pure) ─▶ create each; AlreadyExists, and a namespace gone or being
 *             deleted meanwhile, are no failure; any other refusal fails the pass (back-off)
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import type { Namespace, ServiceAccount } from "../model/types.ts";
import type { Observe } from "../model/observe.ts";
import type { Informer } from "./informer_cache.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

export const DEFAULT_SERVICE_ACCOUNT = "default";

/** The namespaces (not being deleted) that have no `default` ServiceAccount. Pure. */
export function missingDefaults(namespaces: readonly Namespace[], accounts: readonly ServiceAccount[]): string[] {
  const have = new Set(accounts.filter((a) => a.metadata.name === DEFAULT_SERVICE_ACCOUNT).map((a) => a.metadata.namespace ?? "default"));
  return namespaces
    .filter((n) => !n.metadata.deletionTimestamp && n.status?.phase !== "Terminating" && !have.has(n.metadata.name))
    .map((n) => n.metadata.name)
    .sort();
}

/** The refusal of a create in a namespace being deleted (namespace lifecycle admission). */
function namespaceTerminating(e: ApiError): boolean {
  return e.reason === "Forbidden" && /because it is being terminated/.test(e.message);
}

export interface ServiceAccountControllerDeps {
  client: ApiClient;
  namespaces: Informer<"namespaces">;
  serviceAccounts: Informer<"serviceaccounts">;
  log?: Log;
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  /** Time between full passes when nothing wakes the loop. Default 5 min. */
  resyncMs?: number;
}

export interface ServiceAccountController {
  loop: WorkLoop;
  /** `default` ServiceAccounts made so far. */
  readonly created: number;
  stop(): void;
}

export function startServiceAccountController(deps: ServiceAccountControllerDeps): ServiceAccountController {
  const log = deps.log ?? (() => {});
  let created = 0;

  async function pass(): Promise<{ requeueAfterMs: number }> {
    let failed: unknown;
    for (const ns of missingDefaults(deps.namespaces.list(), deps.serviceAccounts.list())) {
      try {
        await deps.client.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace: ns } }, ns);
        created++;
        log("created the default service account", { namespace: ns });
      } catch (e) {
        // Made meanwhile, or its namespace gone or being deleted: nothing to do.
        if (e instanceof ApiError && (e.reason === "AlreadyExists" || e.reason === "NotFound" || namespaceTerminating(e))) continue;
        // Anything else (a quota, the store away) is logged by the loop and retried with back-off.
        failed ??= new Error(`the default service account of namespace ${ns} was not created: ${String(e)}`);
      }
    }
    if (failed) throw failed;
    return { requeueAfterMs: deps.resyncMs ?? 300_000 };
  }

  const loop = startWorkLoop("serviceaccount", pass, log, deps.observe);
  const unsubscribe = [
    deps.namespaces.subscribe((ev) => {
      if (ev.type === "ADDED") loop.wake();
    }),
    deps.serviceAccounts.subscribe((ev) => {
      if (ev.type === "DELETED" && ev.object.metadata.name === DEFAULT_SERVICE_ACCOUNT) loop.wake();
    }),
  ];
  return {
    loop,
    get created() {
      return created;
    },
    stop() {
      for (const u of unsubscribe) u();
      loop.stop();
    },
  };
}
