/**
 * Defaults applied as Kubernetes applies them (k8s.io/kubernetes/pkg/apis/core/v1/defaults.go),
 * to an object that has passed validation.
 *
 * Pure: no clock, no randomness. `uid`, `creationTimestamp`, `generation` and the namespace are
 * the Api's job; `defaultNamespace` helps with the last. Every function returns a new object
 * and leaves its input untouched. As in Go, a numeric probe setting of 0 means "use the default".
 */
import { BadRequestError } from "../../model/errors.ts";
import { LOCAL_STORAGE_CLASS, RBAC_GROUP, RESOURCES } from "../../model/types.ts";
import type { Secret } from "../../model/types.ts";
import { secretWriteForm } from "./validation_config.ts";
import { DEFAULT_EXPIRATION_SECONDS } from "./token_request.ts";
import { defaultPullPolicy } from "../../model/image.ts";
import { JOB_LABELS } from "../../model/job.ts";
import { behaviorWithDefaults, DEFAULT_HPA_METRIC } from "../../model/hpa.ts";
import { DEFAULT_PREEMPTION_POLICY } from "../../model/priority.ts";
import type {
  Container,
  CronJob,
  DaemonSet,
  Deployment,
  Endpoints,
  EndpointSlice,
  Job,
  Event,
  HorizontalPodAutoscaler,
  IngressClass,
  Lease,
  NetworkPolicy,
  Namespace,
  RoleBinding,
  Node,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  Pod,
  PodSpec,
  PriorityClass,
  Probe,
  ReplicaSet,
  ReplicationController,
  Resource,
  ResourceTypes,
  Service,
  StatefulSet,
} from "../../model/types.ts";

/** Pod and probe defaults, exported so other parts (the kubelet, `describe`) show the same numbers. */
export const POD_DEFAULTS = {
  restartPolicy: "Always",
  terminationGracePeriodSeconds: 30,
  dnsPolicy: "ClusterFirst",
} as const;

export const PROBE_DEFAULTS = {
  initialDelaySeconds: 0,
  periodSeconds: 10,
  timeoutSeconds: 1,
  failureThreshold: 3,
  successThreshold: 1,
} as const;

/** The `sessionAffinity: ClientIP` timeout, in seconds (3 hours). */
export const CLIENT_IP_AFFINITY_TIMEOUT_SECONDS = 10800;

/**
 * A deep copy of a JSON value: plain objects and arrays copied by hand (several times faster
 * than structuredClone, which every create and update paid for), anything else by
 * structuredClone. Own keys are defined, never assigned, so a "__proto__" key stays a key.
 */
function clone<T>(v: T): T {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) return v.map(clone) as T;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = clone((v as Record<string, unknown>)[k]);
    if (k === "__proto__") Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return out as T;
}

/** Sets `o[k] = v` when `o[k]` is absent (or, with `zeroIsUnset`, 0, as Go's zero value is). */
function dflt<T extends object, K extends keyof T>(o: T, k: K, v: T[K], zeroIsUnset = false): void {
  if (o[k] === undefined || (zeroIsUnset && (o[k] as unknown) === 0)) o[k] = v;
}

function probeDefaults(p: Probe): void {
  dflt(p, "initialDelaySeconds", PROBE_DEFAULTS.initialDelaySeconds);
  dflt(p, "periodSeconds", PROBE_DEFAULTS.periodSeconds, true);
  dflt(p, "timeoutSeconds", PROBE_DEFAULTS.timeoutSeconds, true);
  dflt(p, "failureThreshold", PROBE_DEFAULTS.failureThreshold, true);
  dflt(p, "successThreshold", PROBE_DEFAULTS.successThreshold, true);
  if (p.httpGet) {
    dflt(p.httpGet, "path", "/");
    if (p.httpGet.path === "") p.httpGet.path = "/";
    dflt(p.httpGet, "scheme", "HTTP");
  }
  // kube's SetDefaults_Probe: a gRPC probe's service is "" (the server's overall health).
  if (p.grpc) dflt(p.grpc, "service", "");
}

function containerDefaults(c: Container): void {
  // `:latest` or no tag → Always, otherwise IfNotPresent (model/image.ts).
  if (typeof c.image === "string") dflt(c, "imagePullPolicy", defaultPullPolicy(c.image));
  for (const port of c.ports ?? []) dflt(port, "protocol", "TCP");
  if (c.livenessProbe) probeDefaults(c.livenessProbe);
  if (c.readinessProbe) probeDefaults(c.readinessProbe);
  if (c.startupProbe) probeDefaults(c.startupProbe);
}

/** Defaults a pod spec in place (the pod's, or an RC template's). */
function podSpecDefaults(spec: PodSpec): void {
  dflt(spec, "restartPolicy", POD_DEFAULTS.restartPolicy);
  dflt(spec, "terminationGracePeriodSeconds", POD_DEFAULTS.terminationGracePeriodSeconds);
  dflt(spec, "dnsPolicy", POD_DEFAULTS.dnsPolicy);
  // Every container, init containers (sidecars among them) too, as kube's generated defaulters walk them all.
  for (const c of spec.initContainers ?? []) containerDefaults(c);
  for (const c of spec.containers ?? []) containerDefaults(c);
  // kube's SetDefaults_ServiceAccountTokenProjection: a projected token lives an hour.
  for (const v of spec.volumes ?? []) {
    for (const src of v.projected?.sources ?? []) if (src.serviceAccountToken) dflt(src.serviceAccountToken, "expirationSeconds", DEFAULT_EXPIRATION_SECONDS);
  }
}

/** The spec of a pod with every default filled in (a copy). */
export function defaultPodSpec(spec: PodSpec): PodSpec {
  const out = clone(spec);
  podSpecDefaults(out);
  return out;
}

function podDefaults(pod: Pod): void {
  podSpecDefaults(pod.spec);
}

/**
 * RC defaults, as Kubernetes: with template labels, an absent or empty selector becomes the
 * template labels, and so do absent or empty RC labels; `replicas` defaults to 1.
 */
function rcDefaults(rc: ReplicationController): void {
  const labels = rc.spec.template?.metadata?.labels;
  if (labels && Object.keys(labels).length > 0) {
    if (!rc.spec.selector || Object.keys(rc.spec.selector).length === 0) rc.spec.selector = { ...labels };
    if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) rc.metadata.labels = { ...labels };
  }
  dflt(rc.spec, "replicas", 1);
  if (rc.spec.template?.spec) podSpecDefaults(rc.spec.template.spec);
}

/** apps/v1 defaults (pkg/apis/apps/v1/defaults.go): replicas 1, RollingUpdate 25%/25%, history 10, deadline 600 s. */
function replicaSetDefaults(rs: ReplicaSet): void {
  dflt(rs.spec, "replicas", 1);
  const labels = rs.spec.template?.metadata?.labels;
  if (labels && (!rs.metadata.labels || Object.keys(rs.metadata.labels).length === 0)) rs.metadata.labels = { ...labels };
  if (rs.spec.template?.spec) podSpecDefaults(rs.spec.template.spec);
}

function deploymentDefaults(d: Deployment): void {
  dflt(d.spec, "replicas", 1);
  const strategy = (d.spec.strategy ??= {});
  dflt(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = (strategy.rollingUpdate ??= {});
    dflt(ru, "maxUnavailable", "25%");
    dflt(ru, "maxSurge", "25%");
  }
  dflt(d.spec, "revisionHistoryLimit", 10);
  dflt(d.spec, "progressDeadlineSeconds", 600);
  const labels = d.spec.template?.metadata?.labels;
  if (labels && (!d.metadata.labels || Object.keys(d.metadata.labels).length === 0)) d.metadata.labels = { ...labels };
  if (d.spec.template?.spec) podSpecDefaults(d.spec.template.spec);
}

/** apps/v1 DaemonSet defaults: RollingUpdate one node at a time without surge, history 10. */
function daemonSetDefaults(ds: DaemonSet): void {
  const strategy = (ds.spec.updateStrategy ??= {});
  dflt(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = (strategy.rollingUpdate ??= {});
    dflt(ru, "maxUnavailable", 1);
    dflt(ru, "maxSurge", 0);
  }
  dflt(ds.spec, "revisionHistoryLimit", 10);
  const labels = ds.spec.template?.metadata?.labels;
  if (labels && (!ds.metadata.labels || Object.keys(ds.metadata.labels).length === 0)) ds.metadata.labels = { ...labels };
  if (ds.spec.template?.spec) podSpecDefaults(ds.spec.template.spec);
}

/**
 * apps/v1 StatefulSet defaults (pkg/apis/apps/v1/defaults.go): one replica, OrderedReady, a
 * RollingUpdate from partition 0 (a `rollingUpdate` is made only when the type was not given, as
 * Kubernetes does), history 10, claims retained, and each claim template's volume mode. A claim
 * template's storage class is left unset: the claims get theirs when the controller creates them.
 */
function statefulSetDefaults(sts: StatefulSet): void {
  dflt(sts.spec, "replicas", 1);
  // An empty string is Go's zero value: unset.
  if (!sts.spec.podManagementPolicy) sts.spec.podManagementPolicy = "OrderedReady";
  const strategy = (sts.spec.updateStrategy ??= {});
  if (!strategy.type) {
    strategy.type = "RollingUpdate";
    strategy.rollingUpdate ??= {};
  }
  if (strategy.type === "RollingUpdate" && strategy.rollingUpdate) dflt(strategy.rollingUpdate, "partition", 0);
  dflt(sts.spec, "revisionHistoryLimit", 10);
  const retention = (sts.spec.persistentVolumeClaimRetentionPolicy ??= {});
  dflt(retention, "whenDeleted", "Retain");
  dflt(retention, "whenScaled", "Retain");
  for (const t of sts.spec.volumeClaimTemplates ?? []) if (t.spec) dflt(t.spec, "volumeMode", "Filesystem");
  const labels = sts.spec.template?.metadata?.labels;
  if (labels && (!sts.metadata.labels || Object.keys(sts.metadata.labels).length === 0)) sts.metadata.labels = { ...labels };
  if (sts.spec.template?.spec) podSpecDefaults(sts.spec.template.spec);
}

/**
 * core/v1 PersistentVolumeClaim defaults: a Filesystem volume (defaults.go), and the class Berth
 * provisions where none is named (as the DefaultStorageClass admission plugin fills in a
 * cluster's default class). The `kubernetes.io/pvc-protection` finalizer and the Pending phase
 * are set by the Api at create only.
 */
function pvcSpecDefaults(spec: PersistentVolumeClaimSpec): void {
  dflt(spec, "storageClassName", LOCAL_STORAGE_CLASS);
  dflt(spec, "volumeMode", "Filesystem");
}

/** batch/v1 defaults (pkg/apis/batch/v1/defaults.go): one pod to one success, 6 retries. */
function jobDefaults(job: Job): void {
  if (job.spec.completions === undefined && job.spec.parallelism === undefined) job.spec.completions = 1;
  dflt(job.spec, "parallelism", 1);
  dflt(job.spec, "backoffLimit", 6);
  dflt(job.spec, "completionMode", "NonIndexed");
  dflt(job.spec, "suspend", false);
  const labels = job.spec.template?.metadata?.labels;
  if (labels && (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0)) job.metadata.labels = { ...labels };
  if (job.spec.template?.spec) podSpecDefaults(job.spec.template.spec);
}

/** batch/v1 CronJob defaults: Allow, not suspended, 3 successful and 1 failed job kept; the pod template's defaults. */
function cronJobDefaults(cj: CronJob): void {
  dflt(cj.spec, "concurrencyPolicy", "Allow");
  dflt(cj.spec, "suspend", false);
  dflt(cj.spec, "successfulJobsHistoryLimit", 3);
  dflt(cj.spec, "failedJobsHistoryLimit", 1);
  const podSpec = cj.spec.jobTemplate?.spec?.template?.spec;
  if (podSpec) podSpecDefaults(podSpec);
}

/**
 * A new Job's generated selector (Kubernetes' job strategy, PrepareForCreate): unless
 * `manualSelector`, the template gets the job's name and uid as labels (each only if the user did
 * not set it; a conflicting value is then refused by `jobSelectorProblems`) and the selector
 * selects the uid. Runs before the defaults.
 */
export function generateJobSelector(job: Job): Job {
  const uid = job.metadata.uid;
  if (job.spec.manualSelector === true || !uid) return job;
  // Kubernetes defaults a job's labels from its template when it is decoded, before the
  // selector is generated: a job whose template had labels keeps those alone; one whose template
  // had none takes the generated ones (defaulted again as it is read back).
  const own = job.metadata.labels && Object.keys(job.metadata.labels).length > 0 ? job.metadata.labels : job.spec.template.metadata?.labels;
  if (own && Object.keys(own).length > 0) job = { ...job, metadata: { ...job.metadata, labels: { ...own } } };
  const template = { ...job.spec.template, metadata: { ...job.spec.template.metadata, labels: { ...job.spec.template.metadata?.labels } } };
  const labels = template.metadata.labels;
  labels[JOB_LABELS.legacyJobName] ??= job.metadata.name;
  labels[JOB_LABELS.jobName] ??= job.metadata.name;
  labels[JOB_LABELS.legacyControllerUid] ??= uid;
  labels[JOB_LABELS.controllerUid] ??= uid;
  const selector = { ...job.spec.selector, matchLabels: { ...job.spec.selector?.matchLabels } };
  selector.matchLabels[JOB_LABELS.controllerUid] ??= uid;
  return { ...job, spec: { ...job.spec, template, selector } };
}

/**
 * autoscaling/v2 defaults (model/hpa.ts): minReplicas 1, cpu at 80 % when no metric is given, and
 * a given behavior completed in both directions. No behavior given stays none, as on Kubernetes.
 */
function hpaDefaults(hpa: HorizontalPodAutoscaler): void {
  dflt(hpa.spec, "minReplicas", 1);
  if (!hpa.spec.metrics?.length) hpa.spec.metrics = [clone(DEFAULT_HPA_METRIC)];
  if (hpa.spec.behavior) hpa.spec.behavior = behaviorWithDefaults(hpa.spec.behavior);
}

/**
 * networking/v1's SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort: a policy without
 * policyTypes is an Ingress policy, and an Egress one too when it has egress rules; a port's
 * protocol is TCP.
 */
function networkPolicyDefaults(np: NetworkPolicy): void {
  if (!np.spec.policyTypes?.length) np.spec.policyTypes = np.spec.egress?.length ? ["Ingress", "Egress"] : ["Ingress"];
  for (const rule of [...(np.spec.ingress ?? []), ...(np.spec.egress ?? [])]) for (const port of rule.ports ?? []) dflt(port, "protocol", "TCP");
}

/** networking/v1's SetDefaults_IngressClass: parameters without a scope are Cluster-scoped. */
function ingressClassDefaults(ic: IngressClass): void {
  if (ic.spec.parameters) dflt(ic.spec.parameters, "scope", "Cluster");
}

/** scheduling/v1's SetDefaults_PriorityClass; `value` is never omitted (0 when not given). */
function priorityClassDefaults(pc: PriorityClass): void {
  dflt(pc, "value", 0);
  dflt(pc, "preemptionPolicy", DEFAULT_PREEMPTION_POLICY);
}

/**
 * A time as Kubernetes' MicroTime writes it: UTC, six fractional digits
 * (`2024-05-01T10:00:00.123456Z`). Read from any RFC 3339 time (validated before); digits beyond
 * the sixth are cut, as Go's formatting does. Done on the string: a Date keeps only milliseconds.
 */
export function microTime(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$/.exec(s);
  if (!m) return s;
  const [, seconds, fraction = "", zone] = m;
  const utc = /^[Zz]$/.test(zone) ? seconds : new Date(`${seconds}${zone}`).toISOString().slice(0, 19);
  return `${utc}.${fraction.padEnd(6, "0").slice(0, 6)}Z`;
}

/** A Lease's spec is never omitted; its times are MicroTime. */
function leaseDefaults(l: Lease): void {
  l.spec ??= {};
  if (l.spec.acquireTime !== undefined) l.spec.acquireTime = microTime(l.spec.acquireTime);
  if (l.spec.renewTime !== undefined) l.spec.renewTime = microTime(l.spec.renewTime);
}

/**
 * rbac/v1's defaults (SetDefaults_RoleBinding, SetDefaults_ClusterRoleBinding, SetDefaults_Subject):
 * a roleRef's empty apiGroup is the rbac group, as is a User's or Group's; a ServiceAccount's stays "".
 */
function bindingDefaults(b: RoleBinding): void {
  if (b.roleRef && !b.roleRef.apiGroup) b.roleRef.apiGroup = RBAC_GROUP;
  for (const s of b.subjects ?? []) if (!s.apiGroup && (s.kind === "User" || s.kind === "Group")) s.apiGroup = RBAC_GROUP;
}

function serviceDefaults(svc: Service): void {
  dflt(svc.spec, "type", "ClusterIP");
  dflt(svc.spec, "sessionAffinity", "None");
  // As kube-apiserver on a single-stack IPv4 cluster.
  if (svc.spec.type !== "ExternalName") {
    dflt(svc.spec, "ipFamilies", ["IPv4"]);
    dflt(svc.spec, "ipFamilyPolicy", "SingleStack");
    dflt(svc.spec, "internalTrafficPolicy", "Cluster");
  }
  if (svc.spec.type === "NodePort" || svc.spec.type === "LoadBalancer") dflt(svc.spec, "externalTrafficPolicy", "Cluster");
  if (svc.spec.type === "LoadBalancer") dflt(svc.spec, "allocateLoadBalancerNodePorts", true);
  if (svc.spec.sessionAffinity === "ClientIP") {
    const config = (svc.spec.sessionAffinityConfig ??= {});
    const clientIP = (config.clientIP ??= {});
    dflt(clientIP, "timeoutSeconds", CLIENT_IP_AFFINITY_TIMEOUT_SECONDS, true);
  }
  for (const p of svc.spec.ports ?? []) {
    dflt(p, "protocol", "TCP");
    // targetPort 0 or "" is Go's zero value of IntOrString: unset.
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  }
}

function endpointsDefaults(ep: Endpoints): void {
  for (const s of ep.subsets ?? []) for (const p of s.ports ?? []) dflt(p, "protocol", "TCP");
}

/** discovery/v1's SetDefaults_EndpointPort: a port's protocol is TCP (its name "", which is never written out). */
function endpointSliceDefaults(slice: EndpointSlice): void {
  for (const p of slice.ports ?? []) dflt(p, "protocol", "TCP");
}

function nodeDefaults(node: Node): void {
  node.spec ??= {};
  // Kubernetes: allocatable defaults to capacity.
  if (node.status?.capacity && !node.status.allocatable) node.status.allocatable = { ...node.status.capacity };
}

function namespaceDefaults(ns: Namespace): void {
  ns.status ??= {};
  dflt(ns.status, "phase", "Active");
}

function eventDefaults(ev: Event): void {
  dflt(ev, "type", "Normal");
  dflt(ev, "count", 1, true);
}

/**
 * A copy of a validated object with the Kubernetes defaults of its kind applied. Pure: the
 * clock-, randomness- and store-dependent fields (uid, creationTimestamp, generation,
 * resourceVersion, namespace) are left to the Api.
 */
export function applyDefaults<R extends Resource>(resource: R, obj: ResourceTypes[R]): ResourceTypes[R] {
  const out = clone(obj) as ResourceTypes[Resource];
  out.metadata ??= { name: "" };
  switch (resource) {
    case "pods":
      podDefaults(out as Pod);
      break;
    case "replicationcontrollers":
      rcDefaults(out as ReplicationController);
      break;
    case "replicasets":
      replicaSetDefaults(out as ReplicaSet);
      break;
    case "deployments":
      deploymentDefaults(out as Deployment);
      break;
    case "jobs":
      jobDefaults(out as Job);
      break;
    case "cronjobs":
      cronJobDefaults(out as CronJob);
      break;
    case "daemonsets":
      daemonSetDefaults(out as DaemonSet);
      break;
    case "statefulsets":
      statefulSetDefaults(out as StatefulSet);
      break;
    case "persistentvolumeclaims":
      pvcSpecDefaults((out as PersistentVolumeClaim).spec);
      break;
    case "horizontalpodautoscalers":
      hpaDefaults(out as HorizontalPodAutoscaler);
      break;
    case "rolebindings":
    case "clusterrolebindings":
      bindingDefaults(out as RoleBinding);
      break;
    case "priorityclasses":
      priorityClassDefaults(out as PriorityClass);
      break;
    case "leases":
      leaseDefaults(out as Lease);
      break;
    case "networkpolicies":
      networkPolicyDefaults(out as NetworkPolicy);
      break;
    case "ingressclasses":
      ingressClassDefaults(out as IngressClass);
      break;
    case "services":
      serviceDefaults(out as Service);
      break;
    case "endpoints":
      endpointsDefaults(out as Endpoints);
      break;
    case "endpointslices":
      endpointSliceDefaults(out as EndpointSlice);
      break;
    case "nodes":
      nodeDefaults(out as Node);
      break;
    case "namespaces":
      namespaceDefaults(out as Namespace);
      break;
    case "events":
      eventDefaults(out as Event);
      break;
    case "secrets":
      return secretWriteForm(out as Secret) as ResourceTypes[R];
  }
  return out as ResourceTypes[R];
}

/**
 * The namespace an object of `resource` belongs in: the request's `ns`, else the object's own,
 * else `default`. Cluster-scoped resources have none (undefined; the Api drops any given, as
 * Kubernetes does). Throws `BadRequestError` when the object names a namespace other than the
 * request's.
 */
export function defaultNamespace(
  resource: Resource,
  obj: { metadata?: { namespace?: unknown } } | unknown,
  ns?: string,
): string | undefined {
  if (!RESOURCES[resource].namespaced) return undefined;
  const meta = typeof obj === "object" && obj !== null ? (obj as { metadata?: unknown }).metadata : undefined;
  const own = typeof meta === "object" && meta !== null ? (meta as { namespace?: unknown }).namespace : undefined;
  const objNs = typeof own === "string" && own !== "" ? own : undefined;
  if (ns && objNs && ns !== objNs) {
    throw new BadRequestError(
      `the namespace of the provided object ("${objNs}") does not match the namespace sent on the request ("${ns}")`,
    );
  }
  return ns || objNs || "default";
}
