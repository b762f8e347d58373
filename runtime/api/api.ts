/**
 * The API's one implementation: validation, defaults and admission over the object store.
 * The NATS transport (nats_server.ts) and the REST server (runtime/http) both call this class,
 * so the two faces cannot drift apart.
 *
 * What it adds to the store, following kube-apiserver:
 *   - input from outside is size-checked and validated (validation.ts) into typed objects;
 *   - create fills uid, creationTimestamp, generation, generateName, defaults; namespaces must exist;
 *   - update keeps status, updateStatus keeps spec and metadata; generation bumps on spec change;
 *   - a stale `metadata.resourceVersion` is a 409 Conflict (compare-and-swap in the store);
 *   - pod deletion is graceful: `deletionTimestamp` is set and the node agent finishes the job;
 *   - RC deletion with propagationPolicy Orphan first releases the RC's pods;
 *   - list and watch are served from the watch cache (watch_cache.ts, cache_list.ts): selectors,
 *     resourceVersion semantics and limit/continue paging over a stable snapshot.
 */
import type { ApiClient, DeleteOptions, ListOptions, PatchOptions, Watch, WatchOptions, WriteOptions } from "../../model/client.ts";
import { ApiError, BadRequestError, ConflictError, GoneError, InvalidError, NotFoundError } from "../../model/errors.ts";
import { WatchCache } from "./watch_cache.ts";
import { jsonEqual } from "../../model/json_equal.ts";
import { listFromCache } from "./cache_list.ts";
import { QuotaAdmission } from "./quota_admission.ts";
import { formatUsage, hardOf } from "../../model/quota.ts";
import { admissionError, checkAdmission, DEFAULT_POLICY, type AdmissionPolicy } from "../security/admission.ts";
import { applyPatch } from "./patch.ts";
import { generateName } from "../../model/names.ts";
import { isConflict, retryOnConflict } from "../../model/conflict.ts";
import { applyDefaults, defaultNamespace, generateJobSelector } from "./defaults.ts";
import { appsSelectorUpdateProblems, jobSelectorProblems, jobUpdateProblems, pvcCreateProblems, pvcUpdateProblems, statefulSetUpdateProblems } from "./validation_rules.ts";
import { checkSize, isDns1123Label, validate, validateStatus } from "./validation.ts";
import { checkConfigUpdate } from "./validation_config.ts";
import { roleRefUpdateProblems } from "./validation_rbac.ts";
import { priorityClassUpdateProblems } from "./validation_scheduling.ts";
import { ingressClassUpdateProblems } from "./validation_networking.ts";
import { endpointSliceChanged, endpointSliceUpdateProblems } from "./validation_discovery.ts";
import { admitIngress } from "../../model/ingress.ts";
import { keepPodPriority, PriorityAdmission, systemClassDeleteError } from "./priority_admission.ts";
import { keepServiceAccountName, withServiceAccountName } from "../../model/pod_references.ts";
import { SYSTEM_PRIORITY_CLASSES } from "../../model/priority.ts";
import { BOOTSTRAP_CLUSTER_ROLE_BINDINGS, BOOTSTRAP_CLUSTER_ROLES } from "../../model/rbac_bootstrap.ts";
import { reconcileClusterRole, reconcileClusterRoleBinding } from "../../model/rbac_reconcile.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "../../model/selector.ts";
import type { AnyObject, ClusterRole, ClusterRoleBinding, ConfigMap, ControllerRevision, DaemonSet, EndpointSlice, Ingress, IngressClass, Job, Namespace, ObjectList, PersistentVolumeClaim, Pod, PriorityClass, Service, ReplicaSet, ReplicationController, Resource, ResourceQuota, ResourceTypes, RoleBinding, Scale, ScalableResource, StatefulSet, TokenRequest, WatchEvent } from "../../model/types.ts";
import { PVC_PROTECTION_FINALIZER, RESOURCES, SCALABLE, apiVersionOf } from "../../model/types.ts";
import { CAUSE, render } from "./validation_util.ts";
import { formatLabelSelector, selectorFromSpec } from "../../model/selector.ts";
import { type KvStore, type StoreEvent, UnreadableObjectError, unreadableReason } from "../store/kv_store.ts";
import { objectKey } from "../../model/names.ts";
import { DryRunWrites, dryRunUnsafeDeleteError, type StoreWrites } from "./dry_run.ts";
import { serveTokenRequest } from "./token_request.ts";
import type { ServiceAccountTokens } from "../auth/sa_tokens.ts";

export interface ApiOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** Namespaces created when the Api starts (idempotent). */
  initialNamespaces?: string[];
  /** Changes the watch cache keeps, for paged snapshots and watches resuming from a recent revision. */
  watchWindow?: number;
  /** Pod admission policy (hostPath allowed by default; privileged settings are always refused). */
  admission?: Partial<AdmissionPolicy>;
  /**
   * Watches served by their own store watch (a resourceVersion older than the hub's window)
   * open at once. Beyond it such a watch gets 410 Gone, as kube-apiserver answers a revision
   * its watch cache no longer holds, and the client relists and is served by the hub. Default 64.
   */
  maxStoreWatches?: number;
  /** Issues ServiceAccount tokens (`createToken`); without it a TokenRequest is a 503. */
  tokens?: ServiceAccountTokens;
}


export class Api implements ApiClient {
  private readonly now: () => Date;
  private readonly tokens?: ServiceAccountTokens;
  /** Every object in memory, fed by one store watch: lists and watches are served from it. */
  readonly cache: WatchCache;
  private readonly admission: AdmissionPolicy;
  private readonly maxStoreWatches: number;
  private storeWatches = 0;
  /** Counters for tests and metrics: store lists (JetStream consumers) made for lists — none since the watch cache. */
  readonly stats = { storeLists: 0 };
  /** Where this API's writes go: the store, or in the dry-run view DryRunWrites, which writes nothing. */
  private readonly writes: StoreWrites;
  /** True in the dry-run view only (see `dry`). */
  private readonly dryRun: boolean = false;
  private dryView: Api | undefined;
  private constructor(readonly store: KvStore, opts: ApiOptions) {
    this.writes = store;
    this.now = opts.now ?? (() => new Date());
    this.tokens = opts.tokens;
    this.admission = { ...DEFAULT_POLICY, ...opts.admission };
    this.cache = new WatchCache(store, { window: opts.watchWindow });
    this.maxStoreWatches = opts.maxStoreWatches ?? 64;
    this.quotas = new QuotaAdmission({
      store,
      list: (resource, ns) => this.consistentList(resource, ns),
      watchQuotas: (from) => this.watch("resourcequotas", { resourceVersion: String(from) }),
    });
    this.priorities = new PriorityAdmission({ cache: this.cache, store });
  }

  /**
   * This API as a dry run (Kubernetes' `dryRun=All`): a view of this same object whose store
   * writes are DryRunWrites (runtime/api/dry_run.ts), so a request is validated, defaulted and
   * admitted by the code a real one runs, and answered with what it would store. What a real
   * write sets off besides the write is skipped where `this.dryRun` says so: quota charges (only
   * checked), a namespace's emptying, dependents released by an orphaning delete.
   */
  private dry(): Api {
    if (this.dryRun) return this;
    this.dryView ??= Object.create(this, { writes: { value: new DryRunWrites(this.store) }, dryRun: { value: true } }) as Api;
    return this.dryView;
  }

  /** Namespaces this API deleted lately → when: creates in them check the store, not the cache (Kubernetes' forceLiveLookup). */
  private readonly namespacesDeleted = new Map<string, number>();

  /** ResourceQuota admission: checks and charges quotas before an object is stored. */
  private readonly quotas: QuotaAdmission;

  /** Priority admission: a new pod's priority from its class; one default class. */
  private readonly priorities: PriorityAdmission;

  /** Every object of a resource (one namespace or all), consistent with the store now. */
  private async consistentList<R extends Resource>(resource: R, namespace: string | undefined, ownerUid?: string): Promise<{ items: ResourceTypes[R][]; revision: number }> {
    const revision = await this.cache.sync();
    const { items } = this.cache.page({ resource, namespace, ownerUid, revision });
    return { items: items as ResourceTypes[R][], revision };
  }

  /**
   * Wraps a store; creates the initial namespaces (`default`, `kube-system`), the system
   * PriorityClasses (`system-node-critical`, `system-cluster-critical`) and the bootstrap RBAC
   * policy (model/rbac_bootstrap.ts: `cluster-admin`, `admin`, `edit`, `view`, … and their
   * bindings) if absent, as kube-apiserver's bootstrap does at every start. Kube also reconciles
   * the ones present back to its policy; Berth leaves an existing one as it is.
   */
  static async open(store: KvStore, opts: ApiOptions = {}): Promise<Api> {
    const api = new Api(store, opts);
    // Another API replica may have created one between our read and our write.
    const unlessExists = (e: unknown) => {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
    };
    for (const ns of opts.initialNamespaces ?? ["default", "kube-system"]) {
      if (!(await store.tryGet("namespaces", undefined, ns))) {
        await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }).catch(unlessExists);
      }
    }
    for (const pc of SYSTEM_PRIORITY_CLASSES) {
      if (!(await store.tryGet("priorityclasses", undefined, pc.metadata.name))) await api.create("priorityclasses", structuredClone(pc)).catch(unlessExists);
    }
    // The bootstrap RBAC policy: fourteen objects, read (and the first time made) concurrently,
    // since every API start pays for them (every integration test's among them). Existing ones
    // are reconciled as kube-apiserver's post-start hook does (model/rbac_reconcile.ts): a newer
    // Berth's rules and subjects added, an operator's additions kept, autoupdate "false" obeyed.
    // Another API server starting at once may have written first: a Conflict means it did.
    const unlessRaced = (e: unknown) => {
      if (!(e instanceof ApiError && (e.reason === "Conflict" || e.reason === "AlreadyExists" || e.reason === "NotFound"))) throw e;
    };
    const ensureRole = async (expected: ClusterRole) => {
      const current = await store.tryGet("clusterroles", undefined, expected.metadata.name);
      if (!current) return void (await api.create("clusterroles", structuredClone(expected)).catch(unlessExists));
      const next = reconcileClusterRole(current, expected);
      if (next) await api.update("clusterroles", structuredClone(next)).catch(unlessRaced);
    };
    const ensureBinding = async (expected: ClusterRoleBinding) => {
      const current = await store.tryGet("clusterrolebindings", undefined, expected.metadata.name);
      if (!current) return void (await api.create("clusterrolebindings", structuredClone(expected)).catch(unlessExists));
      const next = reconcileClusterRoleBinding(current, expected);
      if (!next) return;
      if (!next.recreate) return void (await api.update("clusterrolebindings", structuredClone(next.binding)).catch(unlessRaced));
      // A roleRef cannot change: made again, under the same name.
      await api.delete("clusterrolebindings", expected.metadata.name, undefined, { preconditions: { resourceVersion: current.metadata.resourceVersion } }).catch(unlessRaced);
      const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, ...metadata } = next.binding.metadata;
      await api.create("clusterrolebindings", structuredClone({ ...next.binding, metadata })).catch(unlessExists);
    };
    await Promise.all([...BOOTSTRAP_CLUSTER_ROLES.map(ensureRole), ...BOOTSTRAP_CLUSTER_ROLE_BINDINGS.map(ensureBinding)]);
    return api;
  }

  async create<R extends Resource>(resource: R, raw: unknown, namespace?: string, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    if (opts.dryRun && !this.dryRun) return await this.dry().create(resource, raw, namespace);
    checkResource(resource);
    checkSize(raw);
    const named = fillGenerateName(raw);
    let obj = validate(resource, named);
    this.admit(resource, obj);
    // As kube-apiserver's admission names an object whose name is yet to be generated: by its prefix.
    const shownName = named === raw ? obj.metadata.name : obj.metadata.generateName ?? obj.metadata.name;
    // Admission of a new pod: its priority, and its ServiceAccount named (`default` when none is).
    if (resource === "pods") obj = withServiceAccountName(await this.priorities.admitPod(obj as Pod, shownName)) as ResourceTypes[R];
    if (resource === "priorityclasses") await this.priorities.admitClass(applyDefaults("priorityclasses", obj as PriorityClass), "create");
    // DefaultIngressClass admission, over a list consistent with the store (kube reads its informer's).
    if (resource === "ingresses") obj = admitIngress(obj as Ingress, (await this.consistentList("ingressclasses", undefined)).items) as ResourceTypes[R];
    const ns = namespaced(resource) ? defaultNamespace(resource, obj, namespace) : undefined;
    if (ns) await this.requireNamespace(ns);
    const now = this.now().toISOString();
    // Left out by destructuring, not `delete`: deleting a key turns an object into a slow
    // dictionary for every later read and for its encoding.
    const { namespace: _ns, resourceVersion: _rv, deletionTimestamp: _dt, deletionGracePeriodSeconds: _dg, ...rest } = obj.metadata;
    const metadata = {
      ...rest,
      // Cluster-scoped objects carry no namespace, whatever the input said.
      ...(ns ? { namespace: ns } : {}),
      uid: crypto.randomUUID(),
      creationTimestamp: now,
      generation: 1,
    };
    let out = { ...obj, metadata } as ResourceTypes[R];
    if (resource === "jobs") {
      // The generated labels carry the job's name: validated again, so a name too long for a label is refused here, not by every pod create.
      out = validate("jobs", generateJobSelector(out as Job)) as ResourceTypes[R];
      const problems = jobSelectorProblems(applyDefaults("jobs", out as Job));
      if (problems.length) throw new InvalidError("Job", metadata.name, problems);
    }
    if (resource === "persistentvolumeclaims") {
      const problems = pvcCreateProblems(out as PersistentVolumeClaim);
      if (problems.length) throw new InvalidError("PersistentVolumeClaim", metadata.name, problems);
      out = withPvcProtection(out as PersistentVolumeClaim) as ResourceTypes[R];
    }
    out = applyDefaults(resource, out);
    out = initialStatus(resource, out, now);
    if (resource === "resourcequotas" && ns) out = (await this.quotaWithUsage(out as ResourceQuota, ns)) as ResourceTypes[R];
    const charge = ns ? await this.quotas.admit(resource, ns, out, undefined, this.dryRun) : undefined;
    let created: ResourceTypes[R];
    try {
      created = await this.writes.create(resource, out);
    } catch (e) {
      charge?.refund();
      throw e;
    }
    if (resource === "resourcequotas" && ns && !this.dryRun) this.quotas.noteQuota(ns, created.metadata.name, created as ResourceQuota);
    return created;
  }

  /** A new quota's status: `hard` from its spec, `used` counted now, so it is enforced from the start. */
  private async quotaWithUsage(q: ResourceQuota, ns: string): Promise<ResourceQuota> {
    const hard = hardOf(q);
    const names = Object.keys(hard);
    const used = await this.quotas.countNow(ns, names);
    return { ...q, status: { hard: formatUsage(hard, names), used: formatUsage(used, names) } };
  }

  async get<R extends Resource>(resource: R, name: string, namespace?: string): Promise<ResourceTypes[R]> {
    checkResource(resource);
    return await this.store.get(resource, nsFor(resource, namespace), name);
  }

  async list<R extends Resource>(resource: R, opts: ListOptions = {}): Promise<ObjectList<ResourceTypes[R]>> {
    checkResource(resource);
    const got = await listFromCache(this.cache, resource, namespaced(resource) ? opts.namespace : undefined, opts);
    return {
      apiVersion: apiVersionOf(resource),
      kind: `${RESOURCES[resource].kind}List`,
      metadata: { resourceVersion: String(got.revision), ...(got.continue ? { continue: got.continue } : {}) },
      items: got.items as ResourceTypes[R][],
    };
  }

  async update<R extends Resource>(resource: R, raw: unknown, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    if (opts.dryRun && !this.dryRun) return await this.dry().update(resource, raw);
    if (resource === "services") raw = this.dropTypeDependentFields(raw);
    const { obj, current, fromCache } = await this.readForWrite(resource, raw);
    this.admit(resource, obj);
    let next = this.mergeUpdate(resource, current, obj);
    if (resource === "pods") {
      next = keepServiceAccountName(current as Pod, keepPodPriority(current as Pod, next as Pod)) as ResourceTypes[R];
      checkPodUpdate(current as Pod, next as Pod);
    }
    if (resource === "ingressclasses") {
      const problems = ingressClassUpdateProblems(current as IngressClass, next as IngressClass);
      if (problems.length) throw new InvalidError("IngressClass", current.metadata.name, problems);
    }
    if (resource === "endpointslices") {
      const problems = endpointSliceUpdateProblems(current as EndpointSlice, next as EndpointSlice);
      if (problems.length) throw new InvalidError("EndpointSlice", current.metadata.name, problems);
    }
    if (resource === "priorityclasses") {
      const problems = priorityClassUpdateProblems(current as PriorityClass, next as PriorityClass);
      if (problems.length) throw new InvalidError("PriorityClass", current.metadata.name, problems);
      await this.priorities.admitClass(next as PriorityClass, "update");
    }
    if (resource === "jobs") {
      const problems = jobUpdateProblems(current as Job, next as Job);
      if (problems.length) throw new InvalidError("Job", current.metadata.name, problems);
    }
    if (resource === "deployments" || resource === "replicasets" || resource === "daemonsets") {
      const problems = appsSelectorUpdateProblems(current as DaemonSet, next as DaemonSet);
      if (problems.length) throw new InvalidError(RESOURCES[resource].kind, current.metadata.name, problems);
    }
    if (resource === "statefulsets") {
      // The selector is kept for life under the same rule, as kube-apiserver words it.
      const problems = statefulSetUpdateProblems(current as StatefulSet, next as StatefulSet);
      if (problems.length) throw new InvalidError("StatefulSet", current.metadata.name, problems);
    }
    if (resource === "controllerrevisions" && !jsonEqual((current as ControllerRevision).data ?? null, (next as ControllerRevision).data ?? null)) {
      // A revision is a record of one template: only its number may change (apps validation).
      throw new InvalidError("ControllerRevision", current.metadata.name, [{ reason: CAUSE.invalid, field: "data", message: render(CAUSE.invalid, (next as ControllerRevision).data, "field is immutable") }]);
    }
    if (resource === "persistentvolumeclaims") {
      const problems = pvcUpdateProblems(current as PersistentVolumeClaim, next as PersistentVolumeClaim);
      if (problems.length) throw new InvalidError("PersistentVolumeClaim", current.metadata.name, problems);
    }
    if (resource === "rolebindings" || resource === "clusterrolebindings") {
      const problems = roleRefUpdateProblems(current as RoleBinding, next as RoleBinding);
      if (problems.length) throw new InvalidError(RESOURCES[resource].kind, current.metadata.name, problems);
    }
    if (resource === "configmaps" || resource === "secrets") checkConfigUpdate(resource === "secrets" ? "Secret" : "ConfigMap", current as ConfigMap, next as ConfigMap);
    checkFinalizersUpdate(RESOURCES[resource].kind, current, next);
    if (finalizedBy(resource, current, next)) return await this.deleteFinalized(resource, current, next);
    // A claim whose storage request grows is charged the growth, as Kubernetes' quota admission does.
    const ns = current.metadata.namespace;
    const charge = resource === "persistentvolumeclaims" && ns ? await this.quotas.admit(resource, ns, next, current, this.dryRun) : undefined;
    try {
      return await this.write(resource, current, next, fromCache);
    } catch (e) {
      charge?.refund();
      throw e;
    }
  }

  /**
   * As Kubernetes' service strategy (`dropTypeDependentFields`): a Service whose new type does
   * not use what the server allocated for the old one loses it when the update left it as it
   * was — the ClusterIP (and IP families) of a service made ExternalName, the node ports and
   * external traffic policy of one made ClusterIP or ExternalName, a load balancer's node port
   * allocation — so that `kubectl apply` of the changed type passes. A value the update did
   * change is kept, and validation judges it. Read from the watch cache's newest copy (the
   * update itself is still a compare-and-swap on the stored one).
   */
  private dropTypeDependentFields(raw: unknown): unknown {
    const r = raw as { metadata?: { name?: unknown; namespace?: unknown }; spec?: Record<string, unknown> } | null;
    if (!r || typeof r !== "object" || !r.spec || typeof r.spec !== "object" || typeof r.metadata?.name !== "string") return raw;
    const ns = typeof r.metadata.namespace === "string" ? r.metadata.namespace : "default";
    const current = this.cache.newest("services", `${ns}/${r.metadata.name}`) as Service | null;
    if (!current) return raw;
    const spec = { ...r.spec };
    const type = typeof spec.type === "string" ? spec.type : "ClusterIP";
    if (type === "ExternalName") {
      if (spec.clusterIP === current.spec.clusterIP) delete spec.clusterIP;
      if (jsonEqual(spec.clusterIPs, current.spec.clusterIPs)) delete spec.clusterIPs;
      // The families and the internal policy an address had (kube's clearing of them).
      if (jsonEqual(spec.ipFamilies, current.spec.ipFamilies)) delete spec.ipFamilies;
      if (spec.ipFamilyPolicy === current.spec.ipFamilyPolicy) delete spec.ipFamilyPolicy;
      if (spec.internalTrafficPolicy === current.spec.internalTrafficPolicy) delete spec.internalTrafficPolicy;
    }
    if (type !== "NodePort" && type !== "LoadBalancer" && spec.externalTrafficPolicy === current.spec.externalTrafficPolicy) delete spec.externalTrafficPolicy;
    if (type !== "LoadBalancer" && spec.allocateLoadBalancerNodePorts === current.spec.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
    if ((type === "ClusterIP" || type === "ExternalName") && Array.isArray(spec.ports)) {
      const old = new Set((current.spec.ports ?? []).map((p) => p.nodePort).filter(Boolean));
      spec.ports = spec.ports.map((p: unknown) => {
        const port = p as { nodePort?: unknown } | null;
        if (!port || typeof port !== "object" || !old.has(port.nodePort as number)) return p;
        const { nodePort: _dropped, ...rest } = port;
        return rest;
      });
    }
    return { ...r, spec };
  }

  /**
   * An update that took the last finalizer off an object being deleted deletes it, in the same
   * compare-and-swap (as kube-apiserver's store does, `ShouldDeleteDuringUpdate`): the DELETED
   * event carries the update. The last object to go from a namespace being deleted takes the
   * namespace with it.
   */
  private async deleteFinalized<R extends Resource>(resource: R, current: ResourceTypes[R], next: ResourceTypes[R]): Promise<ResourceTypes[R]> {
    const ns = current.metadata.namespace;
    if (resource === "namespaces" && await this.namespaceHasContent(current.metadata.name)) return await this.write(resource, current, next);
    const deleted = await this.writes.delete(resource, ns, current.metadata.name, Number(current.metadata.resourceVersion), current, next);
    if (this.dryRun) return deleted;
    if (resource === "namespaces") this.namespacesDeleted.set(current.metadata.name, this.now().getTime());
    else if (resource === "resourcequotas" && ns) this.quotas.noteQuota(ns, current.metadata.name, null);
    if (resource !== "namespaces" && ns) await this.finishNamespace(ns);
    return deleted;
  }

  /** Namespaces whose deletion this API is working on now (their content's deletions leave them be). */
  private readonly namespacesFinishing = new Set<string>();

  /**
   * After an object left namespace `ns`: when `ns` is being deleted, deletes what else is in it
   * (content created around its mark), and the namespace itself once nothing is left and no
   * finalizer of its own holds it — as Kubernetes' namespace controller keeps deleting a
   * Terminating namespace's content until it is empty. A failure leaves it Terminating; the next
   * deletion in it, or of it, finishes it.
   */
  private async finishNamespace(ns: string): Promise<void> {
    if (this.namespacesFinishing.has(ns)) return;
    const cached = this.cache.newest("namespaces", `/${ns}`);
    if (cached && !cached.metadata.deletionTimestamp) return;
    this.namespacesFinishing.add(ns);
    try {
      const current = await this.store.tryGet("namespaces", undefined, ns);
      if (!current?.metadata.deletionTimestamp) return;
      await this.checkNamespaceReadable(ns);
      if (await this.emptyNamespace(ns)) return;
      if (current.metadata.finalizers?.length) return;
      await this.writes.delete("namespaces", undefined, ns, Number(current.metadata.resourceVersion), current);
      this.namespacesDeleted.set(ns, this.now().getTime());
    } catch {
      // Changed, gone, unreadable content, or the store away: it stays Terminating (see above).
    } finally {
      this.namespacesFinishing.delete(ns);
    }
  }

  /** Whether anything is stored in namespace `ns` (read at the store's current revision). */
  private async namespaceHasContent(ns: string): Promise<boolean> {
    return (await this.namespaceContent(ns)).total > 0;
  }

  /** What namespace `ns` holds: objects in all, and those not held by finalizers while being deleted. */
  private async namespaceContent(ns: string): Promise<{ total: number; unheld: number }> {
    let total = 0;
    let unheld = 0;
    for (const resource of (Object.keys(RESOURCES) as Resource[]).filter((r) => namespaced(r))) {
      for (const o of (await this.consistentList(resource, ns)).items as AnyObject[]) {
        total++;
        if (!(o.metadata.deletionTimestamp && o.metadata.finalizers?.length)) unheld++;
      }
    }
    return { total, unheld };
  }

  /**
   * Deletes namespace `ns`'s content (checked readable by the caller), a few rounds while
   * anything not held by finalizers is left (a create admitted just before the mark, written
   * after its kind was listed). Returns whether something is left: then the namespace waits.
   */
  private async emptyNamespace(ns: string): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      await this.deleteNamespaceContents(ns);
      const left = await this.namespaceContent(ns);
      if (left.total === 0) return false;
      if (left.unheld === 0) return true;
    }
    return true;
  }

  async updateStatus<R extends Resource>(resource: R, raw: unknown, opts: WriteOptions = {}): Promise<ResourceTypes[R]> {
    if (opts.dryRun && !this.dryRun) return await this.dry().updateStatus(resource, raw);
    // The spec comes from the stored object, so the body's is not validated (validateStatus).
    const { obj, current, fromCache } = await this.readForWrite(resource, raw, validateStatus);
    const next = { ...current, status: (obj as { status?: unknown }).status } as ResourceTypes[R];
    return await this.write(resource, current, next, fromCache);
  }

  /** Refuses pods (and RC templates) that ask for more than the admission policy allows. */
  private admit(resource: Resource, obj: AnyObject): void {
    const causes = checkAdmission(resource, obj, this.admission);
    if (causes.length) throw admissionError(RESOURCES[resource].kind, obj.metadata.name, causes);
  }

  /** Validates an incoming object and reads the stored one, enforcing its resourceVersion if given. */
  private async readForWrite<R extends Resource>(resource: R, raw: unknown, check: typeof validate = validate): Promise<{ obj: ResourceTypes[R]; current: ResourceTypes[R]; fromCache: boolean }> {
    checkResource(resource);
    checkSize(raw);
    const obj = check(resource, raw);
    const ns = namespaced(resource) ? defaultNamespace(resource, obj, undefined) : undefined;
    const expected = parseRevision(obj.metadata.resourceVersion);
    const cached = this.cachedAt(resource, ns, obj.metadata.name, expected);
    const current = cached ?? await this.store.get(resource, ns, obj.metadata.name);
    if (expected !== undefined && String(expected) !== current.metadata.resourceVersion) {
      throw new ConflictError(resource, obj.metadata.name);
    }
    return { obj, current, fromCache: cached !== undefined };
  }

  /**
   * The watch cache's copy of one object, for a decision that may be made on it without a store
   * read: exactly at `resourceVersion` when given (a write pinned to that version is a
   * compare-and-swap at it, so deciding on the cached copy equals deciding on the store's), or
   * else the newest copy carrying `uid` (for checks of what never changes for one uid, such as a
   * pod's binding). Undefined when the cache has no such copy: the caller reads the store.
   */
  cachedCopy<R extends Resource>(resource: R, name: string, namespace: string | undefined, want: { resourceVersion?: string; uid?: string }): ResourceTypes[R] | undefined {
    const ns = namespaced(resource) ? namespace ?? "default" : undefined;
    if (want.resourceVersion !== undefined) {
      const expected = parseRevision(want.resourceVersion);
      return expected === undefined ? undefined : this.cachedAt(resource, ns, name, expected);
    }
    if (want.uid === undefined) return undefined;
    const cached = this.cache.newest(resource, `${ns ?? ""}/${name}`);
    return cached && cached.metadata.uid === want.uid ? (cached as ResourceTypes[R]) : undefined;
  }

  /**
   * The watch cache's copy of an object when it is exactly the version a write names (as
   * kube-apiserver's GuaranteedUpdate starts from its cached object): the write is a
   * compare-and-swap at that revision, so a cache behind the store costs a conflict, never a
   * lost write. Otherwise (no resourceVersion, the cache at another version) the store is read.
   * Saves a store round trip per bind and per status write.
   */
  private cachedAt<R extends Resource>(resource: R, ns: string | undefined, name: string, expected: number | undefined): ResourceTypes[R] | undefined {
    if (expected === undefined) return undefined;
    const cached = this.cachedNewest(resource, ns, name);
    return cached?.metadata.resourceVersion === String(expected) ? cached : undefined;
  }

  /**
   * Compare-and-swap against what was read; a no-op writes nothing and keeps the resourceVersion,
   * as in Kubernetes. A no-op decided on the watch cache's copy is confirmed against the store
   * first (as GuaranteedUpdate re-reads when its cached state was not current): a cache behind the
   * store must answer Conflict, not "unchanged" at a version the store has moved past.
   */
  private async write<R extends Resource>(resource: R, current: ResourceTypes[R], next: ResourceTypes[R], fromCache = false): Promise<ResourceTypes[R]> {
    if (sameObject(current, next)) {
      if (!fromCache) return Object.isFrozen(current) ? structuredClone(current) : current;
      const stored = await this.store.get(resource, current.metadata.namespace, current.metadata.name);
      if (stored.metadata.resourceVersion !== current.metadata.resourceVersion) throw new ConflictError(resource, current.metadata.name);
      return stored;
    }
    return await this.writes.update(resource, next, Number(current.metadata.resourceVersion), this.store.createdRevisionOf(current));
  }

  async patch<R extends Resource>(
    resource: R,
    name: string,
    patch: unknown,
    opts: PatchOptions = {},
  ): Promise<ResourceTypes[R]> {
    if (opts.dryRun && !this.dryRun) return await this.dry().patch(resource, name, patch, opts);
    checkResource(resource);
    checkSize(patch);
    const type = opts.type ?? "merge";
    let pinned = false;
    return retryOnConflict(async () => {
      const current = await this.store.get(resource, nsFor(resource, opts.namespace), name);
      const patched = applyPatch(structuredClone(current), patch, type) as ResourceTypes[R];
      if (!patched || typeof patched !== "object") throw new BadRequestError("the patch does not produce an object");
      // A patch that names a resourceVersion is a precondition; otherwise we patch the latest.
      pinned = (patched as AnyObject).metadata?.resourceVersion !== current.metadata.resourceVersion;
      const target = pinned ? patched : { ...patched, metadata: { ...(patched as AnyObject).metadata, resourceVersion: current.metadata.resourceVersion } };
      return opts.subresource === "status" ? await this.updateStatus(resource, target) : await this.update(resource, target);
    }, { retryIf: () => !pinned });
  }

  async delete<R extends Resource>(resource: R, name: string, namespace?: string, opts: DeleteOptions = {}): Promise<ResourceTypes[R]> {
    if (opts.dryRun && !this.dryRun) {
      if (opts.ignoreStoreReadErrorWithClusterBreakingPotential) throw dryRunUnsafeDeleteError();
      return await this.dry().delete(resource, name, namespace, opts);
    }
    const deleted = await this.deleteObject(resource, name, namespace, opts);
    // Only an object really removed: one only marked (graceful, or held by finalizers) stays.
    if (this.removed.has(deleted) && !this.dryRun) {
      if (resource === "resourcequotas") this.quotas.noteQuota(deleted.metadata.namespace ?? "default", name, null);
      if (resource !== "namespaces" && deleted.metadata.namespace) await this.finishNamespace(deleted.metadata.namespace);
    }
    return deleted;
  }

  /** What deletes answered with an object the store removed (not one only marked). */
  private readonly removed = new WeakSet<object>();
  private gone<T extends AnyObject>(obj: T): T {
    this.removed.add(obj);
    return obj;
  }

  private async deleteObject<R extends Resource>(resource: R, name: string, namespace: string | undefined, opts: DeleteOptions): Promise<ResourceTypes[R]> {
    checkResource(resource);
    const systemClass = resource === "priorityclasses" ? systemClassDeleteError(name) : undefined;
    if (systemClass) throw systemClass;
    const ns = nsFor(resource, namespace);
    // As kube-apiserver's Delete (its cachedExistingObject): the first try starts from the watch
    // cache's newest copy, with no store read. Every write it makes is a compare-and-swap at that
    // copy's revision, so a copy behind the store ends in a Conflict, and then the store is read
    // and the decision made again on what it holds (also for preconditions, which a stale copy
    // could fail wrongly). Namespaces are read from the store: their deletion starts by deleting
    // their contents, which a stale copy must not trigger.
    const cached = resource === "namespaces" ? undefined : this.cachedNewest(resource, ns, name);
    if (cached) {
      try {
        return await this.deleteCurrent(resource, ns, name, cached, opts, true);
      } catch (e) {
        // Any answer the stale copy may have caused is asked again of the store: a Conflict, a
        // NotFound, or a newer value this server cannot read (then the store path's message,
        // and the caller's unsafe-deletion option, apply).
        if (!isConflict(e) && !(e instanceof NotFoundError) && !(e instanceof UnreadableObjectError)) throw e;
      }
    }
    return retryOnConflict(async () => {
      let current: ResourceTypes[R];
      try {
        current = await this.store.get(resource, ns, name);
      } catch (e) {
        if (!(e instanceof UnreadableObjectError)) throw e;
        // As kube-apiserver: a corrupt object is deleted only when the caller says so, unread.
        if (opts.ignoreStoreReadErrorWithClusterBreakingPotential) return this.gone(await this.writes.deleteUnreadable(resource, ns, name));
        throw new ApiError(
          "InternalError",
          `${e.message}; to delete it without reading it (its finalizers and owners are not consulted), ` +
            "set ignoreStoreReadErrorWithClusterBreakingPotential (berth delete --ignore-store-read-error-with-cluster-breaking-potential, " +
            "or ?ignoreStoreReadErrorWithClusterBreakingPotential=true on the DELETE)",
          e.details,
        );
      }
      return await this.deleteCurrent(resource, ns, name, current, opts);
    }, { retryIf: () => !opts.preconditions?.resourceVersion });
  }

  /**
   * The watch cache's newest copy of an object, when the store handed it out (it knows its
   * creation revision, which rides along in every write). Never the stand-in for a value this
   * server cannot read: deleting from that would be the unsafe deletion, which only the caller
   * may ask for.
   */
  private cachedNewest<R extends Resource>(resource: R, ns: string | undefined, name: string): ResourceTypes[R] | undefined {
    const cached = this.cache.newest(resource, `${ns ?? ""}/${name}`);
    if (!cached || unreadableReason(cached) !== undefined || this.store.createdRevisionOf(cached) === undefined) return undefined;
    return cached as ResourceTypes[R];
  }

  /**
   * One deletion decided on `current`: every write is a compare-and-swap at its revision. A
   * decision to write nothing, made on the watch cache's copy (`fromCache`), is a Conflict
   * instead, so that it is made again on the store's copy (as `write` confirms a no-op).
   */
  private async deleteCurrent<R extends Resource>(resource: R, ns: string | undefined, name: string, current: ResourceTypes[R], opts: DeleteOptions, fromCache = false): Promise<ResourceTypes[R]> {
    checkPreconditions(resource, current, opts);
    let rev = Number(current.metadata.resourceVersion);
    if (resource === "pods") {
      const graceful = this.gracefulPodDelete(current as Pod, opts);
      if (graceful) return (await this.writes.update("pods", graceful, rev, this.store.createdRevisionOf(current))) as ResourceTypes[R];
    }
    if (resource === "namespaces" && this.dryRun) {
      // What the deletion would answer first: refused, or the namespace marked Terminating
      // (its content is left as it is).
      await this.checkNamespaceReadable(name);
      if (current.metadata.deletionTimestamp) return current;
      return (await this.writes.update(resource, markedForDeletion(resource, current, this.now()), rev, this.store.createdRevisionOf(current))) as ResourceTypes[R];
    }
    if (resource === "namespaces") {
      // As Kubernetes: the namespace is marked Terminating first, so that nothing new is made in
      // it (admission refuses, the service account controller leaves it be) while its content
      // goes; objects with finalizers may keep it so until the last of them goes (finishNamespace).
      this.namespacesDeleted.set(name, this.now().getTime());
      this.namespacesFinishing.add(name);
      try {
        await this.checkNamespaceReadable(name);
        if (!current.metadata.deletionTimestamp) {
          current = (await this.writes.update(resource, markedForDeletion(resource, current, this.now()), rev, this.store.createdRevisionOf(current))) as ResourceTypes[R];
          rev = Number(current.metadata.resourceVersion);
        }
        if (await this.emptyNamespace(name)) return current;
      } finally {
        this.namespacesFinishing.delete(name);
      }
    }
    const owner = OWNERS.has(resource);
    if (owner && opts.propagationPolicy === "Orphan") {
      // As Kubernetes' orphan finalizer does: mark the owner as being deleted first, so its
      // controller stops adopting and creating, then release its dependents, then delete it.
      const marked = await this.writes.update(resource, {
        ...current,
        metadata: { ...current.metadata, deletionTimestamp: current.metadata.deletionTimestamp ?? this.now().toISOString() },
      }, rev, this.store.createdRevisionOf(current));
      if (!this.dryRun) await this.orphanDependents(current);
      if (marked.metadata.finalizers?.length) {
        return await this.writes.update(resource, markedForDeletion(resource, marked, this.now()), Number(marked.metadata.resourceVersion), this.store.createdRevisionOf(marked));
      }
      return this.gone(await this.writes.delete(resource, ns, name, Number(marked.metadata.resourceVersion), marked));
    }
    if (owner && opts.propagationPolicy === "Foreground") {
      // Kubernetes' foreground deletion: the owner stays, marked, until the garbage collector
      // has deleted its dependents (actors/garbage_collector.ts), then goes.
      if (current.metadata.finalizers?.includes("foregroundDeletion")) {
        if (fromCache) throw new ConflictError(resource, name);
        return current;
      }
      return await this.writes.update(resource, {
        ...current,
        metadata: {
          ...current.metadata,
          deletionTimestamp: current.metadata.deletionTimestamp ?? this.now().toISOString(),
          finalizers: [...(current.metadata.finalizers ?? []), "foregroundDeletion"],
        },
      }, rev, this.store.createdRevisionOf(current));
    }
    if (current.metadata.finalizers?.length) {
      // Kubernetes' finalizers: the object is only marked (deletionTimestamp, a zero grace
      // period) and stays until an update takes the last finalizer off (update, deleteFinalized).
      if (current.metadata.deletionTimestamp && current.metadata.deletionGracePeriodSeconds === 0) {
        if (fromCache) throw new ConflictError(resource, name);
        return current;
      }
      return await this.writes.update(resource, markedForDeletion(resource, current, this.now()), rev, this.store.createdRevisionOf(current));
    }
    return this.gone(await this.writes.delete(resource, ns, name, rev, current));
  }

  async watch<R extends Resource>(resource: R, opts: WatchOptions = {}): Promise<Watch<ResourceTypes[R]>> {
    checkResource(resource);
    const match = matcher(resource, opts);
    const ns = namespaced(resource) ? opts.namespace : undefined;
    const from = parseRevision(opts.resourceVersion);
    const resumed = from !== undefined && from > 0;
    // A node agent's watch of its pods is served from the node index and routed by node name
    // (see WatchHub): a pod's node is set once and never changes.
    const nodeName = resource === "pods" && opts.fieldSelector ? parseFieldSelector(opts.fieldSelector, resource).requirements.find((r) => r.field === "spec.nodeName" && r.operator === "=")?.value : undefined;
    let initial: AnyObject[] = [];
    let start: number;
    if (resumed) {
      const compacted = await this.store.compactedRevision();
      if (from < compacted) throw new GoneError(`too old resource version: ${from} (${compacted})`);
      start = from;
    } else {
      // Current state first (as ADDED), then every change after it: read from the cache and
      // subscribed in one synchronous step, so nothing falls between the two. Without a
      // resourceVersion the cache first catches up with the store (a consistent start).
      if (opts.resourceVersion === "0") await this.cache.ready();
      else await this.cache.sync();
      start = this.cache.revision;
      initial = this.cache.page({ resource, namespace: ns, revision: start, nodeName }).items;
    }
    // The shared hub serves most watches; a revision older than its window gets a store watch.
    const sub = this.cache.hub.subscribe(resource, start, nodeName);
    let events: AsyncIterable<StoreEvent>;
    let stopSource: () => void;
    if (sub) {
      events = sub.events;
      stopSource = () => sub.stop();
    } else {
      // Each such watch is a JetStream consumer of its own: bounded, so that old revisions
      // cannot be used to put thousands of consumers on the store.
      if (this.storeWatches >= this.maxStoreWatches) {
        throw new GoneError(`too old resource version: ${start} (older than the watch cache window, and ${this.maxStoreWatches} direct store watches are open); list again`);
      }
      this.storeWatches++;
      let sw: Awaited<ReturnType<KvStore["watch"]>>;
      try {
        sw = await this.store.watch(resource, { namespace: ns, fromRevision: start });
      } catch (e) {
        this.storeWatches--;
        throw e;
      }
      let released = false;
      const release = () => {
        if (!released) {
          released = true;
          this.storeWatches--;
        }
      };
      // The place is given back when the watch is stopped or its stream ends by itself.
      events = (async function* () {
        try {
          yield* sw;
        } finally {
          release();
        }
      })();
      stopSource = () => {
        sw.stop();
        release();
      };
    }
    let stopped = false;
    return {
      stop: () => {
        stopped = true;
        stopSource();
      },
      async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<ResourceTypes[R]>> {
        // Kubernetes semantics for filtered watches: an object entering the selection is
        // ADDED, one leaving it is DELETED. `inside` remembers what this watch has shown.
        const inside = new Set<string>();
        for (const o of initial) {
          if (stopped) return;
          if (!match(o)) continue;
          inside.add(objectKey(o));
          yield { type: "ADDED", object: o as ResourceTypes[R] };
        }
        for await (const e of events) {
          if (ns && e.object.metadata.namespace !== ns) continue;
          const object = e.object as ResourceTypes[R];
          const key = objectKey(object);
          const matches = match(object);
          if (e.type === "DELETED") {
            if (matches || inside.has(key)) yield { type: "DELETED", object };
            inside.delete(key);
          } else if (matches) {
            // Created after the watch's starting revision: an ADDED for this watcher, even if
            // the KV folded the create into a later update before we read it.
            const createdSince = !inside.has(key) && e.createdRevision !== undefined && e.createdRevision > start;
            const type = e.type === "ADDED" || createdSince || (!inside.has(key) && !resumed) ? "ADDED" : "MODIFIED";
            inside.add(key);
            yield { type, object };
          } else if (inside.has(key)) {
            inside.delete(key);
            yield { type: "DELETED", object };
          }
        }
      },
    };
  }

  /** Releases the shared watch channels. */
  close(): void {
    this.quotas.close();
    this.cache.close();
  }

  async getScale(name: string, namespace?: string, resource: ScalableResource = "replicationcontrollers"): Promise<Scale> {
    checkScalable(resource);
    return toScale(await this.get(resource, name, namespace));
  }

  /**
   * Binds a pod to a node, as kube-apiserver's `pods/binding` does (BindingREST): only the
   * binding is checked, not the whole pod, and the write sets `spec.nodeName` and the
   * PodScheduled condition, as a compare-and-swap. Conflict when the pod is bound already, is
   * being deleted, or is not `opts.uid`. As a delete, the first try decides on the watch cache's
   * newest copy; any Conflict or NotFound it leads to is decided again on the store's copy, where
   * a refusal stands and only a lost swap is tried again.
   */
  /** A ServiceAccount token (kube's TokenRequest; token_request.ts): nothing is stored. */
  async createToken(name: string, namespace: string, request: unknown): Promise<TokenRequest> {
    // The account and bound object are read from the watch cache when it holds them (one
    // request per pod start on every node: a store read each would triple its cost), as
    // kube-apiserver checks them against its informers' caches; else from the store.
    const reader: Pick<ApiClient, "get"> = {
      get: async <R extends Resource>(resource: R, n: string, ns?: string) => {
        const cached = this.cache.newest(resource, `${namespaced(resource) ? ns ?? "default" : ""}/${n}`);
        return cached && !cached.metadata.deletionTimestamp ? (cached as ResourceTypes[R]) : await this.get(resource, n, ns);
      },
    };
    const { body } = await serveTokenRequest({ api: reader, tokens: this.tokens, namespace, name, body: request, now: this.now() });
    return body as unknown as TokenRequest;
  }

  async bind(name: string, namespace: string | undefined, node: string, opts: { uid?: string; dryRun?: boolean } = {}): Promise<Pod> {
    if (opts.dryRun && !this.dryRun) return await this.dry().bind(name, namespace, node, { uid: opts.uid });
    // A DNS label, as the pod schema's spec.nodeName: a bound pod must stay valid for updates.
    if (typeof node !== "string" || node === "" || !isDns1123Label(node)) {
      throw new InvalidError("Binding", name, [{ reason: node ? "FieldValueInvalid" : "FieldValueRequired", message: node ? `Invalid value: ${JSON.stringify(node)}: a node name must be a DNS label (RFC 1123)` : "Required value", field: "target.name" }]);
    }
    const ns = namespace ?? "default";
    // Refusals first (the first one found), then the write: a compare-and-swap at `current`.
    const bindTo = (current: Pod, refusal: ConflictError | undefined) => {
      if (refusal) throw refusal;
      return this.writes.update("pods", bound(current, node, this.now()), Number(current.metadata.resourceVersion), this.store.createdRevisionOf(current));
    };
    const cached = this.cachedNewest("pods", ns, name);
    if (cached) {
      try {
        return await bindTo(cached, bindRefusal(cached, name, opts.uid));
      } catch (e) {
        if (!isConflict(e) && !(e instanceof NotFoundError)) throw e;
      }
    }
    let refused = false;
    return await retryOnConflict(async () => {
      const current = await this.store.get("pods", ns, name);
      const refusal = bindRefusal(current, name, opts.uid);
      refused = refusal !== undefined;
      return await bindTo(current, refusal);
    }, { retryIf: () => !refused });
  }

  async updateScale(name: string, replicas: number, namespace?: string, resource: ScalableResource = "replicationcontrollers", opts: WriteOptions = {}): Promise<Scale> {
    checkScalable(resource);
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new InvalidError("Scale", name, [
        { reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer` },
      ]);
    }
    return toScale(await this.patch(resource, name, { spec: { replicas } }, { namespace, type: "merge", dryRun: opts.dryRun }));
  }

  // -------------------------------------------------------------------------------------------

  private mergeUpdate<R extends Resource>(resource: R, current: ResourceTypes[R], incoming: ResourceTypes[R]): ResourceTypes[R] {
    const cur = current as AnyObject & { spec?: unknown; status?: unknown };
    const inc = applyDefaults(resource, incoming) as AnyObject & { spec?: unknown; status?: unknown };
    // Key order is no change: a map written in another order (a Go client's PUT of a YAML apply) keeps the generation.
    const specChanged = !jsonEqual(cur.spec ?? null, inc.spec ?? null);
    // An EndpointSlice has no spec: kube moves its generation when anything but metadata (or its labels) changes.
    const bumped = resource === "endpointslices" ? endpointSliceChanged(cur as EndpointSlice, inc as EndpointSlice) : specChanged && "spec" in cur;
    // Built without the keys that are absent (never `delete`d: that makes a slow dictionary of it).
    const { resourceVersion: _rv, namespace: _ns, deletionTimestamp: _dt, deletionGracePeriodSeconds: _dg, ...incMeta } = inc.metadata;
    const { namespace, deletionTimestamp, deletionGracePeriodSeconds } = cur.metadata;
    const metadata = {
      ...incMeta,
      ...(namespace !== undefined ? { namespace } : {}),
      uid: cur.metadata.uid,
      creationTimestamp: cur.metadata.creationTimestamp,
      generation: (cur.metadata.generation ?? 1) + (bumped ? 1 : 0),
      // Deletion is started only by delete, never undone by an update.
      ...(deletionTimestamp !== undefined ? { deletionTimestamp } : {}),
      ...(deletionGracePeriodSeconds !== undefined ? { deletionGracePeriodSeconds } : {}),
    };
    // Kinds whose state lives at the top level (Endpoints, Event) replace everything;
    // kinds with a status keep the stored status on a plain update.
    if (!("status" in cur || "status" in inc)) return { ...inc, metadata } as ResourceTypes[R];
    const { status: _status, ...body } = inc;
    return (cur.status === undefined ? { ...body, metadata } : { ...body, metadata, status: cur.status }) as ResourceTypes[R];
  }

  private gracefulPodDelete(pod: Pod, opts: DeleteOptions): Pod | null {
    const requested = opts.gracePeriodSeconds ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    // An unbound pod has no containers to stop; a zero grace period means "now".
    if (!pod.spec.nodeName || requested <= 0) return null;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return null;
    if (pod.metadata.deletionTimestamp) {
      // Already terminating: a shorter grace period may hurry it along, a longer one may not.
      const current = pod.metadata.deletionGracePeriodSeconds ?? requested;
      if (requested >= current) return pod;
    }
    const deadline = new Date(this.now().getTime() + requested * 1000).toISOString();
    return { ...pod, metadata: { ...pod.metadata, deletionTimestamp: deadline, deletionGracePeriodSeconds: requested } };
  }

  /** Strips `owner`'s reference from its dependents (pods, the ReplicaSets of a Deployment, the Jobs of a CronJob, the claims of a StatefulSet, the revisions of a StatefulSet or DaemonSet). */
  private async orphanDependents(owner: AnyObject): Promise<void> {
    await this.orphanOf("pods", owner);
    await this.orphanOf("replicasets", owner);
    await this.orphanOf("jobs", owner);
    if (owner.kind === "StatefulSet") await this.orphanOf("persistentvolumeclaims", owner);
    if (owner.kind === "StatefulSet" || owner.kind === "DaemonSet") await this.orphanOf("controllerrevisions", owner);
  }

  private async orphanOf(dependents: "pods" | "replicasets" | "jobs" | "persistentvolumeclaims" | "controllerrevisions", rc: AnyObject): Promise<void> {
    // From the watch cache's owner index, at the store's current revision.
    const pods = await this.consistentList(dependents, rc.metadata.namespace, rc.metadata.uid);
    for (const pod of pods.items as AnyObject[]) {
      const refs = pod.metadata.ownerReferences ?? [];
      if (!refs.some((r) => r.uid === rc.metadata.uid)) continue;
      const rest = refs.filter((r) => r.uid !== rc.metadata.uid);
      const metadata = { ...pod.metadata };
      if (rest.length) metadata.ownerReferences = rest;
      else delete metadata.ownerReferences;
      await this.writes.update(dependents, { ...pod, metadata } as ResourceTypes[typeof dependents], Number(pod.metadata.resourceVersion)).catch((e) => {
        // A pod deleted meanwhile needs no releasing.
        if (!(e instanceof NotFoundError)) throw e;
      });
    }
  }

  /**
   * Refuses to delete a namespace that may not go, or whose content this server cannot read:
   * that stops the deletion before anything is marked or deleted, naming the object and the way
   * out (its unsafe delete).
   */
  private async checkNamespaceReadable(ns: string): Promise<void> {
    if (ns === "default" || ns === "kube-system") {
      throw new ApiError("Forbidden", `namespace "${ns}" may not be deleted`);
    }
    const kinds = (Object.keys(RESOURCES) as Resource[]).filter((r) => namespaced(r));
    for (const resource of kinds) {
      try {
        await this.consistentList(resource, ns);
      } catch (e) {
        if (!(e instanceof UnreadableObjectError)) throw e;
        throw new ApiError(
          "InternalError",
          `namespace "${ns}" was not deleted: ${e.message}; delete that object without reading it ` +
            `(berth delete ${RESOURCES[e.resource].kind.toLowerCase()} ${e.objectName} -n ${ns} --ignore-store-read-error-with-cluster-breaking-potential), then the namespace again`,
          e.details,
        );
      }
    }
  }

  /**
   * Deletes everything in namespace `ns` (grace period 0; its content checked readable by the
   * caller); objects held by finalizers are only marked. Each kind is listed just before its deletes, so what the earlier deletes made
   * meanwhile (the controllers' Events, Endpoints) goes too.
   */
  private async deleteNamespaceContents(ns: string): Promise<void> {
    const kinds = (Object.keys(RESOURCES) as Resource[]).filter((r) => namespaced(r));
    for (const resource of kinds) {
      const { items } = await this.consistentList(resource, ns);
      for (const o of items) {
        await this.delete(resource, o.metadata.name, ns, { gracePeriodSeconds: 0 }).catch((e) => {
          if (!(e instanceof NotFoundError)) throw e;
        });
      }
    }
  }

  /**
   * Namespace lifecycle admission, as Kubernetes': a namespace the watch cache holds (and not
   * being deleted) is taken as it is; a miss, or one this API deleted lately, is read from the
   * store. Every create used to read the store here (5 of the 15 store round trips per pod of
   * bench/schedule.ts, with its Events).
   */
  private async requireNamespace(ns: string): Promise<void> {
    const deletedAt = this.namespacesDeleted.get(ns);
    if (deletedAt !== undefined && this.now().getTime() - deletedAt > NAMESPACE_LIVE_LOOKUP_MS) this.namespacesDeleted.delete(ns);
    const cached = this.namespacesDeleted.has(ns) ? null : this.cache.newest("namespaces", `/${ns}`);
    if (cached && !cached.metadata.deletionTimestamp) return;
    const stored = await this.store.tryGet("namespaces", undefined, ns);
    if (!stored) {
      throw new ApiError("NotFound", `namespaces "${ns}" not found`, { name: ns, kind: "namespaces" });
    }
    if (stored.metadata.deletionTimestamp) {
      throw new ApiError("Forbidden", `unable to create new content in namespace ${ns} because it is being terminated`, {
        name: ns,
        kind: "namespaces",
        causes: [{ reason: "NamespaceTerminating", message: `namespace ${ns} is being terminated`, field: "metadata.namespace" }],
      });
    }
  }
}

/** How long creates in a namespace this API deleted check the store (kube-apiserver: 30 s). */
const NAMESPACE_LIVE_LOOKUP_MS = 30_000;

/** Equal apart from resourceVersion, as JSON with sorted keys (compared without encoding both objects on every write). */
function sameObject(a: AnyObject, b: AnyObject): boolean {
  return jsonEqual({ ...a, metadata: { ...a.metadata, resourceVersion: undefined } }, { ...b, metadata: { ...b.metadata, resourceVersion: undefined } });
}

/** Resources whose objects own others through controller ownerReferences (deletion propagates). */
const OWNERS = new Set<Resource>(["replicationcontrollers", "replicasets", "deployments", "jobs", "cronjobs", "daemonsets", "statefulsets"]);

function checkResource(resource: string): asserts resource is Resource {
  if (!Object.hasOwn(RESOURCES, resource)) {
    throw new ApiError("NotFound", `the server could not find the requested resource "${resource}" (Berth serves: ${Object.keys(RESOURCES).join(", ")})`);
  }
}

function namespaced(resource: Resource): boolean {
  return RESOURCES[resource].namespaced;
}

function nsFor(resource: Resource, namespace: string | undefined): string | undefined {
  return namespaced(resource) ? namespace ?? "default" : undefined;
}

function parseRevision(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === "") return undefined;
  const n = Number(rv);
  if (!Number.isSafeInteger(n) || n < 0) throw new BadRequestError(`invalid resourceVersion ${JSON.stringify(rv)}: must be a non-negative integer`);
  return n;
}

function matcher(resource: Resource, opts: ListOptions): (o: AnyObject) => boolean {
  const labels = opts.labelSelector ? parseLabelSelector(opts.labelSelector) : undefined;
  const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector, resource) : undefined;
  return (o) => (!labels || matchesLabels(labels, o.metadata.labels)) && (!fields || matchesFields(fields, o));
}

/** Kubernetes' generateName: the prefix plus five random characters. */
function fillGenerateName(raw: unknown): unknown {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const r = raw as { metadata?: { name?: unknown; generateName?: unknown } };
  if (!r.metadata || typeof r.metadata !== "object" || r.metadata.name || typeof r.metadata.generateName !== "string") return raw;
  return { ...r, metadata: { ...r.metadata, name: generateName(r.metadata.generateName) } };
}

function initialStatus<R extends Resource>(resource: R, obj: ResourceTypes[R], now: string): ResourceTypes[R] {
  switch (resource) {
    case "pods":
      return { ...obj, status: { phase: "Pending", conditions: [] } } as ResourceTypes[R];
    case "replicationcontrollers":
    case "replicasets":
      return { ...obj, status: { replicas: 0 } } as ResourceTypes[R];
    case "statefulsets":
      // What kube-apiserver stores for a new set (its status' two fields that are never omitted).
      return { ...obj, status: { replicas: 0, availableReplicas: 0 } } as ResourceTypes[R];
    case "persistentvolumeclaims":
      return { ...obj, status: { phase: "Pending" } } as ResourceTypes[R];
    case "poddisruptionbudgets":
      // kube-apiserver's empty status: the counts are never omitted. No disruption is allowed
      // until the disruption controller has looked (observedGeneration is still unset).
      return { ...obj, status: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 } } as ResourceTypes[R];
    case "horizontalpodautoscalers":
      // kube-apiserver's empty status (PrepareForCreate drops what the create sent): desiredReplicas
      // is never omitted, currentReplicas is while 0. The autoscaler writes the rest.
      return { ...obj, status: { desiredReplicas: 0 } } as ResourceTypes[R];
    case "deployments":
      return { ...obj, status: {} } as ResourceTypes[R];
    case "services":
    case "ingresses":
      return { ...obj, status: { loadBalancer: {} } } as ResourceTypes[R];
    case "namespaces":
      return { ...obj, status: { phase: "Active" } } as ResourceTypes[R];
    case "events": {
      const ev = obj as ResourceTypes["events"];
      return { ...ev, firstTimestamp: ev.firstTimestamp ?? now, lastTimestamp: ev.lastTimestamp ?? now } as ResourceTypes[R];
    }
    default:
      return obj;
  }
}

/**
 * Kubernetes lets a pod's spec change only in a few places. Berth allows binding (setting
 * `nodeName` once), changing container images, and setting or lowering activeDeadlineSeconds,
 * as Kubernetes does (ValidatePodUpdate).
 */
function checkPodUpdate(current: Pod, next: Pod): void {
  const norm = (p: Pod) => ({
    ...p.spec,
    nodeName: undefined,
    activeDeadlineSeconds: undefined,
    containers: p.spec.containers.map((c) => ({ ...c, image: undefined })),
  });
  const causes = [];
  if (current.spec.nodeName && next.spec.nodeName !== current.spec.nodeName) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.nodeName", message: `Forbidden: pod is already bound to node "${current.spec.nodeName}"` });
  }
  const [was, now] = [current.spec.activeDeadlineSeconds, next.spec.activeDeadlineSeconds];
  if (now === undefined && was !== undefined) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.activeDeadlineSeconds", message: "Invalid value: \"null\": must not update from a positive integer to nil value" });
  } else if (now !== undefined && was !== undefined && now > was) {
    causes.push({ reason: "FieldValueInvalid", field: "spec.activeDeadlineSeconds", message: `Invalid value: ${now}: must be less than or equal to previous value` });
  }
  if (!jsonEqual(norm(current), norm(next))) {
    causes.push({
      reason: "FieldValueForbidden",
      field: "spec",
      message: "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.activeDeadlineSeconds` and binding `spec.nodeName`",
    });
  }
  if (causes.length) throw new InvalidError("Pod", current.metadata.name, causes);
}

/**
 * `obj` marked as being deleted now: a deletionTimestamp (kept if earlier) and a zero grace
 * period; a namespace also `status.phase: Terminating`.
 */
function markedForDeletion<T extends AnyObject>(resource: Resource, obj: T, now: Date): T {
  const at = obj.metadata.deletionTimestamp && Date.parse(obj.metadata.deletionTimestamp) <= now.getTime() ? obj.metadata.deletionTimestamp : now.toISOString();
  const marked = { ...obj, metadata: { ...obj.metadata, deletionTimestamp: at, deletionGracePeriodSeconds: 0 } };
  return resource === "namespaces" ? { ...marked, status: { ...(obj as unknown as Namespace).status, phase: "Terminating" } } : marked;
}

/**
 * Whether an update ends an object's deletion: it was being deleted with finalizers and the update
 * takes the last one off. A pod goes only once its node is done with it (a zero grace period, as
 * the kubelet's last delete leaves it), or when it never ran or has finished.
 */
function finalizedBy(resource: Resource, current: AnyObject, next: AnyObject): boolean {
  if (!current.metadata.finalizers?.length || next.metadata.finalizers?.length || !next.metadata.deletionTimestamp) return false;
  if (resource !== "pods") return true;
  const pod = next as Pod;
  return pod.metadata.deletionGracePeriodSeconds === 0 || !pod.spec.nodeName || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** As Kubernetes' ValidateObjectMetaUpdate: no finalizer may be added to an object being deleted. */
function checkFinalizersUpdate(kind: string, current: AnyObject, next: AnyObject): void {
  if (!current.metadata.deletionTimestamp) return;
  const had = new Set(current.metadata.finalizers ?? []);
  const added = (next.metadata.finalizers ?? []).filter((f) => !had.has(f));
  if (added.length === 0) return;
  throw new InvalidError(kind, current.metadata.name, [{
    reason: "FieldValueForbidden",
    field: "metadata.finalizers",
    message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
  }]);
}

function checkPreconditions(resource: Resource, current: AnyObject, opts: DeleteOptions): void {
  const pre = opts.preconditions;
  if (!pre) return;
  if (pre.uid && pre.uid !== current.metadata.uid) {
    throw new ConflictError(resource, current.metadata.name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
    throw new ConflictError(resource, current.metadata.name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`);
  }
}

function checkScalable(resource: string): void {
  if (!(SCALABLE as readonly string[]).includes(resource)) {
    throw new ApiError("NotFound", `the server could not find the requested resource "${resource}/scale" (scalable: ${SCALABLE.join(", ")})`);
  }
}

/**
 * A new claim with the `kubernetes.io/pvc-protection` finalizer, as the StorageObjectInUseProtection
 * admission plugin adds it: a claim a pod uses stays until the pod is gone.
 */
function withPvcProtection(pvc: PersistentVolumeClaim): PersistentVolumeClaim {
  const finalizers = pvc.metadata.finalizers ?? [];
  if (finalizers.includes(PVC_PROTECTION_FINALIZER)) return pvc;
  return { ...pvc, metadata: { ...pvc.metadata, finalizers: [...finalizers, PVC_PROTECTION_FINALIZER] } };
}

function toScale(rc: ResourceTypes[ScalableResource]): Scale {
  const selector = rc.kind === "ReplicationController"
    ? Object.entries((rc as ReplicationController).spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(",")
    : formatLabelSelector(selectorFromSpec((rc as ReplicaSet).spec.selector));
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      name: rc.metadata.name,
      namespace: rc.metadata.namespace,
      uid: rc.metadata.uid,
      resourceVersion: rc.metadata.resourceVersion,
      creationTimestamp: rc.metadata.creationTimestamp,
    },
    spec: { replicas: rc.spec.replicas ?? 0 },
    status: { replicas: rc.status?.replicas ?? 0, ...(selector ? { selector } : {}) },
  };
}

/** Why a pod may not be bound (kube-apiserver's BindingREST checks, in its order), or undefined. */
function bindRefusal(pod: Pod, name: string, uid: string | undefined): ConflictError | undefined {
  // An empty uid is no precondition, as in Kubernetes.
  if (uid && pod.metadata.uid !== uid) return new ConflictError("pods", name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid ?? ""}`);
  if (pod.metadata.deletionTimestamp) return new ConflictError("pods/binding", name, "pod is being deleted, cannot be assigned to a host");
  if (pod.spec.nodeName) return new ConflictError("pods/binding", name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
  return undefined;
}

/** The pod bound to `node`: `spec.nodeName` set and PodScheduled=True (its transition time kept if it was True). */
function bound(pod: Pod, node: string, now: Date): Pod {
  const conditions = pod.status?.conditions ?? [];
  const prior = conditions.find((c) => c.type === "PodScheduled");
  const since = prior?.status === "True" && prior.lastTransitionTime ? prior.lastTransitionTime : now.toISOString();
  return {
    ...pod,
    spec: { ...pod.spec, nodeName: node },
    status: { ...pod.status, conditions: [...conditions.filter((c) => c.type !== "PodScheduled"), { type: "PodScheduled", status: "True", lastTransitionTime: since }] },
  };
}
