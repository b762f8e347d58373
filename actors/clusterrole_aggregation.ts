/**
 * The clusterrole-aggregation controller (kube-controller-manager's clusterroleaggregation): a
 * ClusterRole with an `aggregationRule` holds the rules of every other ClusterRole its selectors
 * pick, so that a role labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` extends
 * `view`, and through `view`'s own label `edit` and `admin` (model/rbac_bootstrap.ts).
 *
 *   clusterroles informer (any change) ──▶ wake ──▶ work loop (work_loop.ts)
 *   one pass: aggregationUpdates (pure) ─▶ update each role whose rules differ; a role gone
 *             meanwhile is no failure; a Conflict (a newer role than the cache's) is tried again
 *             in a moment; any other refusal fails the pass (back-off)
 *
 * A chain converges over passes: `view` written, its informer event wakes the loop, and the next
 * pass finds `edit` (which selects `view`) out of date. Kube's controller does the same.
 */
import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import type { Log } from "../model/log.ts";
import type { Observe } from "../model/observe.ts";
import { matchesLabels, selectorFromSpec } from "../model/selector.ts";
import type { ClusterRole, PolicyRule } from "../model/types.ts";
import type { Informer } from "./informer_cache.ts";
import { type WorkLoop, startWorkLoop } from "./work_loop.ts";

/** Go's string order (bytes), which kube sorts role names by; not the locale's. */
const byName = (a: ClusterRole, b: ClusterRole): number => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0);

const RULE_FIELDS = ["verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs"] as const;

/**
 * Two rules are the same rule when each list is the same, in the same order; an absent list is an
 * empty one (apimachinery's semantic equality, which kube's controller compares with).
 */
export function sameRule(a: PolicyRule, b: PolicyRule): boolean {
  return RULE_FIELDS.every((f) => {
    const x = a[f] ?? [];
    const y = b[f] ?? [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

/** Two lists of rules are the same list (absent is empty). */
export function sameRules(a: readonly PolicyRule[] | undefined, b: readonly PolicyRule[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((r, i) => sameRule(r, y[i]));
}

/**
 * The rules `role` aggregates: those of every other ClusterRole that any of its
 * `clusterRoleSelectors` picks, the roles taken in name order, a rule equal to one already taken
 * skipped. Undefined when the role has no aggregationRule (its rules are its own). Pure.
 */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] | undefined {
  if (!role.aggregationRule) return undefined;
  const selectors = (role.aggregationRule.clusterRoleSelectors ?? []).map((s) => selectorFromSpec(s));
  const picked = all
    .filter((r) => r.metadata.name !== role.metadata.name && selectors.some((s) => matchesLabels(s, r.metadata.labels)))
    .sort(byName);
  const rules: PolicyRule[] = [];
  for (const r of picked) {
    for (const rule of r.rules ?? []) if (!rules.some((taken) => sameRule(taken, rule))) rules.push(rule);
  }
  return rules;
}

/**
 * Each aggregating ClusterRole whose stored rules are not what it aggregates, with the rules it
 * should hold (everything else of the role as given, so its resourceVersion guards the write).
 * Pure: the controller's whole decision.
 */
export function aggregationUpdates(all: readonly ClusterRole[]): ClusterRole[] {
  const out: ClusterRole[] = [];
  for (const role of [...all].sort(byName)) {
    const rules = aggregatedRules(role, all);
    if (rules !== undefined && !sameRules(role.rules, rules)) out.push({ ...role, rules });
  }
  return out;
}

/** How soon a pass that lost a compare-and-swap runs again (the informer is about to bring the newer role). */
const CONFLICT_RETRY_MS = 200;

export interface ClusterRoleAggregationDeps {
  client: ApiClient;
  clusterRoles: Informer<"clusterroles">;
  log?: Log;
  /** Metrics and actor inspection (none by default). */
  observe?: Observe;
  /** Time between full passes when nothing wakes the loop. Default 5 min. */
  resyncMs?: number;
}

export interface ClusterRoleAggregationController {
  loop: WorkLoop;
  /** Aggregating roles rewritten so far. */
  readonly updated: number;
  stop(): void;
}

export function startClusterRoleAggregationController(deps: ClusterRoleAggregationDeps): ClusterRoleAggregationController {
  const log = deps.log ?? (() => {});
  const resyncMs = deps.resyncMs ?? 300_000;
  let updated = 0;

  async function pass(): Promise<{ requeueAfterMs: number }> {
    let failed: unknown;
    let conflicted = false;
    for (const role of aggregationUpdates(deps.clusterRoles.list())) {
      try {
        await deps.client.update("clusterroles", role);
        updated++;
        log("aggregated the rules of a cluster role", { clusterrole: role.metadata.name, rules: role.rules?.length ?? 0 });
      } catch (e) {
        // Deleted meanwhile: nothing to aggregate into.
        if (e instanceof ApiError && e.reason === "NotFound") continue;
        // Changed meanwhile: decided on a stale role; the next pass reads the newer one.
        if (e instanceof ApiError && e.reason === "Conflict") {
          conflicted = true;
          continue;
        }
        // Anything else (the store away, a refusal) is logged by the loop and retried with back-off.
        failed ??= new Error(`the rules of cluster role ${role.metadata.name} were not updated: ${String(e)}`);
      }
    }
    if (failed) throw failed;
    return { requeueAfterMs: conflicted ? CONFLICT_RETRY_MS : resyncMs };
  }

  const loop = startWorkLoop("clusterrole-aggregation", pass, log, deps.observe);
  // Any role's change may change what an aggregating role picks (labels) or holds (rules): the
  // pass looks at all of them, as kube's controller requeues every aggregating role on any event.
  const unsubscribe = deps.clusterRoles.subscribe(() => loop.wake());
  return {
    loop,
    get updated() {
      return updated;
    },
    stop() {
      unsubscribe();
      loop.stop();
    },
  };
}
