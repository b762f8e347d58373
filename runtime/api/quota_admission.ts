/**
 * ResourceQuota admission, as kube-apiserver's quota admission plugin does it: before an object
 * is stored, every quota of its namespace is checked and charged with a compare-and-swap on the
 * quota's status, so concurrent creates — on this API copy or another — cannot together pass a
 * limit. A create over a limit is refused with Kubernetes' 403:
 *
 *   pods "x" is forbidden: exceeded quota: default-quota, requested: pods=1, used: pods=10, limited: pods=10
 *
 * Concurrent requests for one namespace are evaluated together (one quota read and one CAS per
 * batch, as Kubernetes' quota evaluator does), not one CAS each: hundreds of creates at once
 * would otherwise mostly lose their CAS and retry. A charge for an object that is then not
 * stored (a name already taken, a store error) is refunded; what is left over — an API copy
 * dying between charge and create — is corrected by the quota controller, which recounts.
 *
 * Which quotas a namespace has comes from a list+watch of ResourceQuotas kept here (Kubernetes
 * uses an informer the same way); quotas this copy creates or deletes are known at once, those
 * created through another copy as soon as its watch shows them. The quota's current status is
 * always read from the store.
 */
import { ApiError, ConflictError, NotFoundError } from "../../model/errors.ts";
import {
  addUsage,
  exceededBy,
  exceededMessage,
  formatUsage,
  hardOf,
  missingCompute,
  parseUsage,
  resourcesFor,
  totalUsage,
  usageOf,
  type Usage,
} from "../../model/quota.ts";
import type { Watch } from "../../model/client.ts";
import type { AnyObject, Pod, Resource, ResourceQuota } from "../../model/types.ts";
import type { KvStore } from "../store/kv_store.ts";

export interface QuotaAdmissionDeps {
  store: KvStore;
  /** A store list (the Api's, bounded). */
  list(resource: Resource, namespace: string | undefined): Promise<{ items: AnyObject[]; revision: number }>;
  /** A watch of ResourceQuotas from a revision (the Api's, served by its watch hub). */
  watchQuotas(fromRevision: number): Promise<Watch>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** A charge that was made: `refund()` gives it back when the object was not stored after all. */
export interface Charge {
  refund(): void;
}

const NO_CHARGE: Charge = { refund() {} };
const CAS_ATTEMPTS = 16;

interface Waiter {
  resource: Resource;
  obj: AnyObject;
  /** An update: `obj` replaces this, and only what it costs beyond it is charged. */
  previous?: AnyObject;
  /** A refund: never refused, subtracts `amounts` (per quota name) instead of adding. */
  refund?: Map<string, Usage>;
  /** Per quota, what this request was charged (for its refund). */
  charged: Map<string, Usage>;
  /** A dry run: refused as a real request would be, never charged (and not counted against the batch's others). */
  dryRun?: boolean;
  error?: ApiError;
  done: (e?: ApiError) => void;
}

export class QuotaAdmission {
  /** Quotas per namespace: name → the resources its spec.hard is about (to skip the rest quickly). */
  private readonly byNs = new Map<string, Map<string, Set<Resource>>>();
  private readonly pending = new Map<string, Waiter[]>();
  private readonly draining = new Set<string>();
  private ready: Promise<void> | undefined;
  private watch: Watch | undefined;
  private closed = false;

  constructor(private readonly deps: QuotaAdmissionDeps) {}

  /** Records a quota this API copy just stored (or null: deleted); the watch would show it a moment later. */
  noteQuota(namespace: string, name: string, quota: ResourceQuota | null): void {
    let names = this.byNs.get(namespace);
    if (quota) {
      if (!names) this.byNs.set(namespace, (names = new Map()));
      names.set(name, new Set(resourcesFor(Object.keys(hardOf(quota)))));
    } else {
      names?.delete(name);
      if (names?.size === 0) this.byNs.delete(namespace);
    }
  }

  /**
   * Checks `obj` (about to be created in `namespace`) against every quota there and charges them.
   * Throws a 403 when a quota would be exceeded, or when a compute quota cannot be charged because
   * the pod states no request/limit for it. With `previous`, `obj` is an update of it (as
   * Kubernetes charges a claim whose storage request grows) and only the increase is charged.
   * A `dryRun` is refused as the request would be, and charges nothing.
   */
  async admit(resource: Resource, namespace: string, obj: AnyObject, previous?: AnyObject, dryRun = false): Promise<Charge> {
    await this.start();
    const quotas = this.byNs.get(namespace);
    if (!quotas || ![...quotas.values()].some((about) => about.has(resource))) return NO_CHARGE;
    const w = await this.enqueue(namespace, { resource, obj, ...(previous ? { previous } : {}), ...(dryRun ? { dryRun } : {}), charged: new Map() });
    if (w.charged.size === 0) return NO_CHARGE;
    let refunded = false;
    return {
      refund: () => {
        if (refunded) return;
        refunded = true;
        this.enqueue(namespace, { resource, obj, refund: w.charged, charged: new Map() }).catch((e) => {
          // The quota controller's recount corrects a charge that could not be given back.
          this.deps.log?.("quota refund failed", { namespace, error: String(e) });
        });
      },
    };
  }

  /** The usage of `names` in `namespace` now, counted from the store. */
  async countNow(namespace: string, names: readonly string[]): Promise<Usage> {
    const objects: { resource: Resource; obj: AnyObject }[] = [];
    for (const r of resourcesFor(names)) {
      const { items } = await this.deps.list(r, namespace);
      for (const obj of items) objects.push({ resource: r, obj });
    }
    return totalUsage(objects, names);
  }

  close(): void {
    this.closed = true;
    this.watch?.stop();
  }

  private enqueue(namespace: string, w: Omit<Waiter, "done">): Promise<Waiter> {
    return new Promise<Waiter>((resolve, reject) => {
      const waiter: Waiter = { ...w, done: (e) => (e ? reject(e) : resolve(waiter)) };
      let q = this.pending.get(namespace);
      if (!q) this.pending.set(namespace, (q = []));
      q.push(waiter);
      if (!this.draining.has(namespace)) void this.drain(namespace);
    });
  }

  /** Evaluates the namespace's waiting requests in batches until none is left. */
  private async drain(namespace: string): Promise<void> {
    this.draining.add(namespace);
    try {
      for (;;) {
        const batch = this.pending.get(namespace)?.splice(0) ?? [];
        if (batch.length === 0) break;
        try {
          await this.evaluate(namespace, batch);
          for (const w of batch) w.done(w.error);
        } catch (e) {
          const err = e instanceof ApiError ? e : new ApiError("ServiceUnavailable", `quota admission failed: ${String(e)}`, undefined, { cause: e });
          for (const w of batch) w.done(err);
        }
      }
    } finally {
      this.draining.delete(namespace);
      this.pending.delete(namespace);
    }
  }

  /** One pass over every quota of the namespace for a batch of requests. */
  private async evaluate(namespace: string, batch: Waiter[]): Promise<void> {
    for (const name of [...(this.byNs.get(namespace)?.keys() ?? [])].sort()) {
      for (let attempt = 0; ; attempt++) {
        const quota = await this.deps.store.tryGet("resourcequotas", namespace, name);
        if (!quota) {
          this.noteQuota(namespace, name, null);
          break;
        }
        this.noteQuota(namespace, name, quota);
        const hard = hardOf(quota);
        const names = Object.keys(hard);
        if (names.length === 0) break;
        let used = parseUsage(quota.status?.used);
        const unknown = names.filter((n) => !(n in used));
        // A name added to spec.hard that the controller has not counted yet: count it now.
        if (unknown.length) used = { ...used, ...(await this.countNow(namespace, unknown)) };
        used = Object.fromEntries(names.map((n) => [n, used[n] ?? 0]));
        const decisions = new Map<Waiter, Usage>();
        const refusedHere = new Set<Waiter>();
        let next = used;
        for (const w of batch) {
          if (w.error) continue;
          if (w.refund) {
            const amount = w.refund.get(name);
            if (!amount) continue;
            next = Object.fromEntries(names.map((n) => [n, Math.max(0, next[n] - (amount[n] ?? 0))]));
            decisions.set(w, amount);
            continue;
          }
          if (w.resource === "pods") {
            const missing = missingCompute(hard, w.obj as Pod);
            if (missing.length) {
              w.error = forbidden(w, `failed quota: ${name}: must specify ${missing.join("; ")}`);
              refusedHere.add(w);
              continue;
            }
          }
          let delta = usageOf(w.resource, w.obj, names);
          if (w.previous) {
            // An update (a claim's storage request grown) is charged what it adds, never refunded what it drops.
            const before = usageOf(w.resource, w.previous, names);
            delta = Object.fromEntries(names.map((n) => [n, Math.max(0, (delta[n] ?? 0) - (before[n] ?? 0))]));
          }
          if (!Object.values(delta).some((v) => v > 0)) continue;
          const over = exceededBy(hard, next, delta);
          if (over.length) {
            w.error = forbidden(w, exceededMessage(name, over));
            refusedHere.add(w);
            continue;
          }
          if (w.dryRun) continue;
          next = addUsage(next, delta);
          decisions.set(w, delta);
        }
        if (decisions.size === 0) break;
        try {
          await this.deps.store.update(
            "resourcequotas",
            { ...quota, status: { hard: formatUsage(hard, names), used: formatUsage(next, names) } },
            Number(quota.metadata.resourceVersion),
            this.deps.store.createdRevisionOf(quota),
          );
          for (const [w, amount] of decisions) if (!w.refund) w.charged.set(name, amount);
          break;
        } catch (e) {
          if (e instanceof NotFoundError) break;
          if (!(e instanceof ConflictError) || attempt >= CAS_ATTEMPTS) throw e;
          // Another writer (another API copy, the quota controller) moved the quota: decide
          // this batch again on its new state, refusals made on the old state included.
          for (const w of refusedHere) w.error = undefined;
        }
      }
    }
  }

  /** Lists the quotas once, then follows them with a watch (re-listing if it ends). */
  private start(): Promise<void> {
    this.ready ??= (async () => {
      const revision = await this.relist();
      void this.follow(revision);
    })().catch((e) => {
      this.ready = undefined; // the next admission tries again
      throw e;
    });
    return this.ready;
  }

  private async relist(): Promise<number> {
    const { items, revision } = await this.deps.list("resourcequotas", undefined);
    this.byNs.clear();
    for (const q of items) this.noteQuota(q.metadata.namespace ?? "default", q.metadata.name, q as ResourceQuota);
    return revision;
  }

  private async follow(from: number): Promise<void> {
    let revision = from;
    for (let failures = 0; !this.closed; ) {
      try {
        this.watch = await this.deps.watchQuotas(revision);
        if (this.closed) {
          this.watch.stop();
          return;
        }
        for await (const ev of this.watch) {
          const q = ev.object as ResourceQuota;
          this.noteQuota(q.metadata.namespace ?? "default", q.metadata.name, ev.type === "DELETED" ? null : q);
          revision = Math.max(revision, Number(q.metadata.resourceVersion) || 0);
          failures = 0;
        }
      } catch (e) {
        this.deps.log?.("quota watch ended; listing again", { error: String(e) });
      }
      if (this.closed) return;
      await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** failures++)));
      try {
        revision = await this.relist();
      } catch (e) {
        this.deps.log?.("quota list failed", { error: String(e) });
      }
    }
  }
}

function forbidden(w: Waiter, why: string): ApiError {
  const name = w.obj.metadata.name;
  return new ApiError("Forbidden", `${w.resource} "${name}" is forbidden: ${why}`, { name, kind: w.resource });
}
