/**
 * Kubernetes core/v1 object shapes that Berth serves, as plain TypeScript types.
 *
 * These are the trusted, already-validated shapes used inside Berth. Input from outside is
 * turned into them by `validation.ts`; nothing here checks anything. Field names and meanings
 * follow Kubernetes exactly, so a manifest written for Kubernetes means the same here.
 */

/** Every resource Berth serves, by its plural (URL and subject) name. */
export const RESOURCES = {
  namespaces: { kind: "Namespace", singular: "namespace", namespaced: false, shortNames: ["ns"] },
  pods: { kind: "Pod", singular: "pod", namespaced: true, shortNames: ["po"] },
  replicationcontrollers: {
    kind: "ReplicationController",
    singular: "replicationcontroller",
    namespaced: true,
    shortNames: ["rc"],
  },
  services: { kind: "Service", singular: "service", namespaced: true, shortNames: ["svc"] },
  endpoints: { kind: "Endpoints", singular: "endpoints", namespaced: true, shortNames: ["ep"] },
  endpointslices: { kind: "EndpointSlice", singular: "endpointslice", namespaced: true, shortNames: [], group: "discovery.k8s.io", version: "v1" },
  nodes: { kind: "Node", singular: "node", namespaced: false, shortNames: ["no"] },
  events: { kind: "Event", singular: "event", namespaced: true, shortNames: ["ev"] },
  resourcequotas: { kind: "ResourceQuota", singular: "resourcequota", namespaced: true, shortNames: ["quota"] },
  // Resources of a named API group carry `group` and `version`; the rest are core/v1 (`/api/v1`).
  deployments: { kind: "Deployment", singular: "deployment", namespaced: true, shortNames: ["deploy"], group: "apps", version: "v1" },
  replicasets: { kind: "ReplicaSet", singular: "replicaset", namespaced: true, shortNames: ["rs"], group: "apps", version: "v1" },
  configmaps: { kind: "ConfigMap", singular: "configmap", namespaced: true, shortNames: ["cm"] },
  secrets: { kind: "Secret", singular: "secret", namespaced: true, shortNames: [] },
  serviceaccounts: { kind: "ServiceAccount", singular: "serviceaccount", namespaced: true, shortNames: ["sa"] },
  jobs: { kind: "Job", singular: "job", namespaced: true, shortNames: [], group: "batch", version: "v1" },
  cronjobs: { kind: "CronJob", singular: "cronjob", namespaced: true, shortNames: ["cj"], group: "batch", version: "v1" },
  daemonsets: { kind: "DaemonSet", singular: "daemonset", namespaced: true, shortNames: ["ds"], group: "apps", version: "v1" },
  persistentvolumeclaims: { kind: "PersistentVolumeClaim", singular: "persistentvolumeclaim", namespaced: true, shortNames: ["pvc"] },
  statefulsets: { kind: "StatefulSet", singular: "statefulset", namespaced: true, shortNames: ["sts"], group: "apps", version: "v1" },
  controllerrevisions: { kind: "ControllerRevision", singular: "controllerrevision", namespaced: true, shortNames: [], group: "apps", version: "v1" },
  poddisruptionbudgets: { kind: "PodDisruptionBudget", singular: "poddisruptionbudget", namespaced: true, shortNames: ["pdb"], group: "policy", version: "v1" },
  horizontalpodautoscalers: { kind: "HorizontalPodAutoscaler", singular: "horizontalpodautoscaler", namespaced: true, shortNames: ["hpa"], group: "autoscaling", version: "v2" },
  // RBAC objects are stored and served, and enforced at the REST API (model/rbac.ts).
  roles: { kind: "Role", singular: "role", namespaced: true, shortNames: [], group: "rbac.authorization.k8s.io", version: "v1" },
  rolebindings: { kind: "RoleBinding", singular: "rolebinding", namespaced: true, shortNames: [], group: "rbac.authorization.k8s.io", version: "v1" },
  clusterroles: { kind: "ClusterRole", singular: "clusterrole", namespaced: false, shortNames: [], group: "rbac.authorization.k8s.io", version: "v1" },
  clusterrolebindings: { kind: "ClusterRoleBinding", singular: "clusterrolebinding", namespaced: false, shortNames: [], group: "rbac.authorization.k8s.io", version: "v1" },
  // Pod priority (admission resolves a pod's class); the scheduler does not preempt.
  priorityclasses: { kind: "PriorityClass", singular: "priorityclass", namespaced: false, shortNames: ["pc"], group: "scheduling.k8s.io", version: "v1" },
  // Stored and served for the leader election of operators (client-go); Berth's own lease is a KV record.
  leases: { kind: "Lease", singular: "lease", namespaced: true, shortNames: [], group: "coordination.k8s.io", version: "v1" },
  // Stored and served, not enforced: Berth's nodes filter no pod traffic (as a network plugin without policy support).
  networkpolicies: { kind: "NetworkPolicy", singular: "networkpolicy", namespaced: true, shortNames: ["netpol"], group: "networking.k8s.io", version: "v1" },
  // Stored and served; Berth runs no ingress controller, so nothing routes by them and their status stays empty.
  ingresses: { kind: "Ingress", singular: "ingress", namespaced: true, shortNames: ["ing"], group: "networking.k8s.io", version: "v1" },
  ingressclasses: { kind: "IngressClass", singular: "ingressclass", namespaced: false, shortNames: [], group: "networking.k8s.io", version: "v1" },
} as const;

/** `apiVersion` of a resource's objects: `v1` for the core group, `<group>/<version>` otherwise. */
export function apiVersionOf(resource: Resource): string {
  const info: { kind: string; group?: string; version?: string } = RESOURCES[resource];
  return info.group ? `${info.group}/${info.version ?? "v1"}` : "v1";
}

/**
 * How kubectl names a resource's objects in `type/name` output (`-o name`, "created", "scaled",
 * "deleted", the prefix of a listing of several kinds): the singular, qualified by the API group
 * for a named group — `pod`, but `deployment.apps`.
 */
export function qualifiedSingular(resource: Resource): string {
  const info: { singular: string; group?: string } = RESOURCES[resource];
  return info.group ? `${info.singular}.${info.group}` : info.singular;
}

export type Resource = keyof typeof RESOURCES;
export type Kind = (typeof RESOURCES)[Resource]["kind"];

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  /** Absent on cluster-scoped objects (Node, Namespace). */
  namespace?: string;
  uid?: string;
  /** The JetStream KV revision of the stored object, as a decimal string. */
  resourceVersion?: string;
  /** Bumped on every change to `spec` (never on status or metadata). */
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  generateName?: string;
}

export interface TypeMeta {
  /** `v1` for core objects, `<group>/<version>` (e.g. `apps/v1`) for the others. */
  apiVersion: string;
  kind: Kind;
}

export interface KubeObject extends TypeMeta {
  metadata: ObjectMeta;
}

// ---------------------------------------------------------------------------------------------
// Pod

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: EnvVarSource;
}

/** Where an env var's value comes from (exactly one of these). */
export interface EnvVarSource {
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  configMapKeyRef?: KeySelector;
  secretKeyRef?: KeySelector;
}

/** A field of the pod (downward API): `metadata.name`, `metadata.labels['k']`, `status.podIP`, ... */
export interface ObjectFieldSelector {
  fieldPath: string;
  apiVersion?: string;
}

/** A container's resource (downward API): `limits.cpu`, `requests.memory`, ... scaled by `divisor`. */
export interface ResourceFieldSelector {
  containerName?: string;
  resource: string;
  divisor?: string;
}

/** One key of a ConfigMap or Secret. */
export interface KeySelector {
  name: string;
  key: string;
  optional?: boolean;
}

/** Every key of a ConfigMap or Secret as env vars (`envFrom`). */
export interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

/** A lifecycle hook's action. */
export interface LifecycleHandler {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
}

export interface Lifecycle {
  postStart?: LifecycleHandler;
  preStop?: LifecycleHandler;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  /** Set by Berth when the port is published; in Kubernetes this is only a request. */
  hostPort?: number;
  hostIP?: string;
  protocol?: "TCP" | "UDP";
}

export interface ExecAction {
  command: string[];
}
export interface HTTPGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: "HTTP" | "HTTPS";
  httpHeaders?: { name: string; value: string }[];
}
export interface TCPSocketAction {
  port: number | string;
  host?: string;
}
/** A gRPC health check (grpc.health.v1.Health/Check) on the pod IP; a port number only, no named port. */
export interface GRPCAction {
  port: number;
  /** The service named in the HealthCheckRequest; absent or "" asks about the server as a whole. */
  service?: string;
}

export interface Probe {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
  grpc?: GRPCAction;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface ResourceRequirements {
  /** Quantities as Kubernetes writes them: "100m", "0.5", "128Mi", "1G". */
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly?: boolean;
  /** A directory inside the volume to mount instead of its root (made when missing). */
  subPath?: string;
  /** subPath with `$(VAR)` from the container's environment. */
  subPathExpr?: string;
  /** `HostToContainer`: host mounts made later under a hostPath appear in the container (rslave). */
  mountPropagation?: "None" | "HostToContainer" | "Bidirectional";
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  /** Until it succeeds, the liveness and readiness probes wait; failing it restarts the container. */
  startupProbe?: Probe;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  lifecycle?: Lifecycle;
  /** Keep the container's stdin open for `kubectl attach` / `kubectl run -i` (Docker's OpenStdin). */
  stdin?: boolean;
  /** With `stdin`: close stdin once the first attached client detaches (Docker's StdinOnce). */
  stdinOnce?: boolean;
  /** Give the container a terminal (`kubectl run -t`). */
  tty?: boolean;
  /** Who the container runs as and what it may do (over the pod's `securityContext`). */
  securityContext?: SecurityContext;
  /** The file whose content (≤ 4 KiB) becomes the terminated state's message (default /dev/termination-log). */
  terminationMessagePath?: string;
  /** `FallbackToLogsOnError`: with no message file and a failure, the log's tail is the message (default `File`). */
  terminationMessagePolicy?: "File" | "FallbackToLogsOnError";
}

/** A seccomp profile: the engine's default, none, or a file on the node (not served). */
export interface SeccompProfile {
  type: "RuntimeDefault" | "Unconfined" | "Localhost";
  localhostProfile?: string;
}

/** Kubernetes' container SecurityContext, the fields Berth's nodes honour (see docs/nodes-and-pods.md). */
export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  /** Never true on Berth (every container runs with no_new_privs). */
  allowPrivilegeEscalation?: boolean;
  /** Never true on Berth. */
  privileged?: boolean;
  /** `drop` is honoured; `add` is refused. */
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: SeccompProfile;
  /** Accepted when empty (Berth's nodes do not label with SELinux). */
  seLinuxOptions?: Record<string, string>;
}

/** Kubernetes' PodSecurityContext: defaults for every container, the pod's groups and volumes' group. */
export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  /** Groups every container's first process joins. */
  supplementalGroups?: number[];
  /** A group every container joins, which owns the pod's emptyDir and claim volumes (group-writable, setgid). */
  fsGroup?: number;
  fsGroupChangePolicy?: "Always" | "OnRootMismatch";
  seccompProfile?: SeccompProfile;
  /** Accepted when empty. */
  seLinuxOptions?: Record<string, string>;
  /** Accepted when empty (Berth sets no sysctls). */
  sysctls?: { name: string; value: string }[];
}

export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  /** A named persistent volume: Berth maps the claim name to a named Docker volume that outlives the pod. */
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  /** A ConfigMap's keys as files, updated in place when it changes. */
  configMap?: ConfigMapVolumeSource;
  /** A Secret's keys as files (on tmpfs), updated in place when it changes. */
  secret?: SecretVolumeSource;
  /** Pod fields (labels, annotations, name, ...) as files, updated in place. */
  downwardAPI?: DownwardAPIVolumeSource;
  /**
   * ConfigMap keys, Secret keys, pod fields and ServiceAccount tokens in one directory (on tmpfs
   * when it holds a Secret or a token), updated in place.
   */
  projected?: ProjectedVolumeSource;
}

/** One key projected to a path (relative, no `..`), with an optional file mode. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface ConfigMapVolumeSource {
  name: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface SecretVolumeSource {
  secretName: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}

export interface DownwardAPIVolumeFile {
  path: string;
  fieldRef?: ObjectFieldSelector;
  resourceFieldRef?: ResourceFieldSelector;
  mode?: number;
}

export interface DownwardAPIVolumeSource {
  items?: DownwardAPIVolumeFile[];
  defaultMode?: number;
}

/** Kubernetes' ProjectedVolumeSource: the files of its sources, a later one winning at a path two write. */
export interface ProjectedVolumeSource {
  sources?: VolumeProjection[];
  /** The mode of every file whose item gives none (default 0644). */
  defaultMode?: number;
}

/** One source of a projected volume: exactly one of its fields is set. */
export interface VolumeProjection {
  configMap?: ConfigMapProjection;
  secret?: SecretProjection;
  downwardAPI?: DownwardAPIProjection;
  serviceAccountToken?: ServiceAccountTokenProjection;
}

/** A ConfigMap's keys (all, or `items`); `optional`: a missing ConfigMap projects nothing. */
export interface ConfigMapProjection {
  name: string;
  items?: KeyToPath[];
  optional?: boolean;
}

/** A Secret's keys, as ConfigMapProjection (`name`, not a secret volume's `secretName`). */
export interface SecretProjection {
  name: string;
  items?: KeyToPath[];
  optional?: boolean;
}

export interface DownwardAPIProjection {
  items?: DownwardAPIVolumeFile[];
}

/**
 * A token of the pod's ServiceAccount, bound to the pod, at `path`: for `audience` (default: the
 * API server's own), living `expirationSeconds` (default 3600, at least 600); renewed in place
 * once 80 % of its life has passed.
 */
export interface ServiceAccountTokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface PodSpec {
  /** Run one at a time, in order, each to completion, before `containers` start. */
  initContainers?: Container[];
  containers: Container[];
  volumes?: Volume[];
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostname?: string;
  subdomain?: string;
  /** ClusterFirstWithHostNet is ClusterFirst on Berth (no pod has the host's network). */
  dnsPolicy?: "ClusterFirst" | "ClusterFirstWithHostNet" | "Default" | "None";
  /** Nameservers, search domains and resolver options added to (with dnsPolicy None: instead of) the policy's. */
  dnsConfig?: PodDNSConfig;
  /** Lines added to the pod's /etc/hosts. */
  hostAliases?: { ip: string; hostnames?: string[] }[];
  /** false: no environment variables for the namespace's services (default true). */
  enableServiceLinks?: boolean;
  /** The pod's containers see each other's processes (and the sandbox's as PID 1). */
  shareProcessNamespace?: boolean;
  /** Only pods for `default-scheduler` (or none named) are placed by Berth's scheduler. */
  schedulerName?: string;
  /** false: no ServiceAccount token volume (default: the account's setting, else true). */
  automountServiceAccountToken?: boolean;
  /** Only false is served (no pod shares the host's network, PID or IPC namespace). */
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** With `subdomain`: the kernel hostname is the pod's FQDN. */
  setHostnameAsFQDN?: boolean;
  /** Only `linux` is served. */
  os?: { name: string };
  /** Refused when set (no RuntimeClass is served, pods are Ready when their containers are, a Job's deadline is served). */
  runtimeClassName?: string;
  overhead?: Record<string, string>;
  readinessGates?: { conditionType: string }[];
  activeDeadlineSeconds?: number;
  serviceAccountName?: string;
  /** Deprecated alias of `serviceAccountName`, as in Kubernetes' v1 PodSpec. */
  serviceAccount?: string;
  /** Secrets of type kubernetes.io/dockerconfigjson (or dockercfg) used to pull the images. */
  imagePullSecrets?: { name: string }[];
  /** Taints of nodes this pod may be scheduled onto (and, for `NoExecute`, keep running on). */
  tolerations?: Toleration[];
  /** Node affinity and inter-pod (anti-)affinity, required and preferred. */
  affinity?: Affinity;
  /** How evenly matching pods must (or should) spread over topology domains. */
  topologySpreadConstraints?: TopologySpreadConstraint[];
  /** Who the pod's containers run as (each container's own securityContext overrides it). */
  securityContext?: PodSecurityContext;
  /** The PriorityClass whose value becomes `priority` when the pod is created (admission). */
  priorityClassName?: string;
  /** Set by admission from the class (0 without one and without a default class); never changes. */
  priority?: number;
  /** Set by admission from the class (PreemptLowerPriority by default). Berth never preempts. */
  preemptionPolicy?: PreemptionPolicy;
}

export interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

export type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
  /** When a `NoExecute` taint was added. */
  timeAdded?: string;
}

/**
 * Tolerates the taints it matches: same key (an empty key with `Exists` matches every key), the
 * same value under `Equal` (the default operator), any value under `Exists`, and the same effect
 * (an empty effect matches every effect).
 */
export interface Toleration {
  key?: string;
  /** `Equal` when unset or "". */
  operator?: "Exists" | "Equal" | "";
  value?: string;
  effect?: TaintEffect | "";
  /** For `NoExecute`: how long the pod stays bound after the taint appears (unset: for ever). */
  tolerationSeconds?: number;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  values?: string[];
}

/** Requirements ANDed together: on node labels (`matchExpressions`) and on fields (`matchFields`, only `metadata.name`). */
export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

export interface NodeAffinity {
  /** The terms are ORed: a node must match one of them. */
  requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms: NodeSelectorTerm[] };
  /** Each matching term adds its weight (1–100) to a node's score. */
  preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; preference: NodeSelectorTerm }[];
}

export interface Affinity {
  nodeAffinity?: NodeAffinity;
  /** Near pods matching the terms (same value of the node label `topologyKey`). */
  podAffinity?: PodAffinity;
  /** Away from pods matching the terms. */
  podAntiAffinity?: PodAffinity;
}

/** One inter-pod (anti-)affinity term: pods matching `labelSelector` in `namespaces` (default: the pod's), by the node label `topologyKey`. */
export interface PodAffinityTerm {
  labelSelector?: LabelSelectorSpec;
  namespaces?: string[];
  /** Only `{}` (every namespace) is served. */
  namespaceSelector?: LabelSelectorSpec;
  topologyKey: string;
}

/**
 * Spread pods matching `labelSelector` (in the pod's namespace) over the values of the node label
 * `topologyKey`: placing the pod may not make a domain hold more than `maxSkew` matching pods
 * above the emptiest one (`DoNotSchedule`), or should not (`ScheduleAnyway`).
 */
export interface TopologySpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: "DoNotSchedule" | "ScheduleAnyway";
  labelSelector?: LabelSelectorSpec;
  /** With fewer eligible domains than this, the emptiest counts as 0 (DoNotSchedule only). */
  minDomains?: number;
  /** Whether the pod's nodeSelector/required node affinity limits the domains counted (default Honor). */
  nodeAffinityPolicy?: "Honor" | "Ignore";
  /** Whether nodes with taints the pod does not tolerate are counted (default Ignore). */
  nodeTaintsPolicy?: "Honor" | "Ignore";
  /** Pod label keys whose values (the incoming pod's) are added to `labelSelector`. */
  matchLabelKeys?: string[];
}

export interface PodAffinity {
  requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
  preferredDuringSchedulingIgnoredDuringExecution?: { weight: number; podAffinityTerm: PodAffinityTerm }[];
}

export type PodPhase = "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string;
  lastHeartbeatTime?: string;
  lastUpdateTime?: string;
  /** metav1.Condition's: the generation of the object the condition was set from (PodDisruptionBudget). */
  observedGeneration?: number;
}

export interface ContainerStateWaiting {
  reason?: string;
  message?: string;
}
export interface ContainerStateRunning {
  startedAt?: string;
}
export interface ContainerStateTerminated {
  exitCode: number;
  signal?: number;
  reason?: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
}
export interface ContainerState {
  waiting?: ContainerStateWaiting;
  running?: ContainerStateRunning;
  terminated?: ContainerStateTerminated;
}

export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState?: ContainerState;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID?: string;
  containerID?: string;
  started?: boolean;
}

export interface PodStatus {
  phase?: PodPhase;
  conditions?: Condition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  containerStatuses?: ContainerStatus[];
  initContainerStatuses?: ContainerStatus[];
}

export interface Pod extends KubeObject {
  kind: "Pod";
  spec: PodSpec;
  status?: PodStatus;
}

export interface PodTemplateSpec {
  metadata?: Partial<ObjectMeta>;
  spec: PodSpec;
}

// ---------------------------------------------------------------------------------------------
// ReplicationController

export interface ReplicationControllerSpec {
  replicas?: number;
  minReadySeconds?: number;
  /** Equality-only selector. Defaults to the template's labels; an empty selector matches nothing. */
  selector?: Record<string, string>;
  template?: PodTemplateSpec;
}

export interface ReplicationControllerStatus {
  replicas: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ReplicationController extends KubeObject {
  kind: "ReplicationController";
  spec: ReplicationControllerSpec;
  status?: ReplicationControllerStatus;
}

/** The resources with a `/scale` subresource. */
export type ScalableResource = "replicationcontrollers" | "deployments" | "replicasets" | "statefulsets";
export const SCALABLE: readonly ScalableResource[] = ["replicationcontrollers", "deployments", "replicasets", "statefulsets"];

/** What a TokenRequest asks for (authentication.k8s.io/v1): audiences (default: the issuer), a life, the object it is bound to. */
export interface TokenRequestSpec {
  audiences?: string[];
  /** Default 3600; at least 600. */
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string };
}

/** A ServiceAccount token, issued by `serviceaccounts/{name}/token`; nothing is stored. */
export interface TokenRequest {
  apiVersion: "authentication.k8s.io/v1";
  kind: "TokenRequest";
  metadata: { name: string; namespace: string; creationTimestamp: string | null };
  spec: TokenRequestSpec;
  status: { token: string; expirationTimestamp: string };
}

/** autoscaling/v1 Scale, served by `{replicationcontrollers,deployments,replicasets,statefulsets}/{name}/scale`. */
export interface Scale {
  apiVersion: "autoscaling/v1";
  kind: "Scale";
  metadata: ObjectMeta;
  spec: { replicas?: number };
  status: { replicas: number; selector?: string };
}

// ---------------------------------------------------------------------------------------------
// Service and Endpoints

export interface ServicePort {
  name?: string;
  protocol?: "TCP" | "UDP";
  port: number;
  /** Number or the name of a container port. Defaults to `port`. */
  targetPort?: number | string;
  nodePort?: number;
  /** The port's application protocol (`http`, `kubernetes.io/h2c`, …), passed on to its EndpointSlices. */
  appProtocol?: string;
}

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer" | "ExternalName";

export interface ServiceSpec {
  ports?: ServicePort[];
  /** Equality-only selector. A service without a selector gets no managed Endpoints. */
  selector?: Record<string, string>;
  /** An address, "None" for a headless service, or absent to have one allocated. */
  clusterIP?: string;
  clusterIPs?: string[];
  type?: ServiceType;
  sessionAffinity?: "None" | "ClientIP";
  sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
  externalIPs?: string[];
  /**
   * Every selected pod with an address counts as ready in the Endpoints (and so in DNS and the
   * proxy), Ready or not: what a StatefulSet's governing service sets so peers find each other
   * before they are Ready.
   */
  publishNotReadyAddresses?: boolean;
  /** Berth serves IPv4 only: `[IPv4]` (the default), with policy SingleStack or PreferDualStack. */
  ipFamilies?: ("IPv4" | "IPv6")[];
  ipFamilyPolicy?: "SingleStack" | "PreferDualStack" | "RequireDualStack";
  /** Only `Cluster` is served: Berth's proxies do not keep a service's traffic on the node. */
  internalTrafficPolicy?: "Cluster" | "Local";
  /** NodePort/LoadBalancer only; only `Cluster` is served (see internalTrafficPolicy). */
  externalTrafficPolicy?: "Cluster" | "Local";
  /** LoadBalancer only; only an empty list is served (Berth's load balancer filters no source). */
  loadBalancerSourceRanges?: string[];
  /** LoadBalancer only; only true is served. */
  allocateLoadBalancerNodePorts?: boolean;
  /**
   * For `type: ExternalName`: the DNS name the service's name is an alias of (a CNAME from the
   * cluster DNS); such a service has no ClusterIP, proxy or Endpoints.
   */
  externalName?: string;
}

export interface ServiceStatus {
  loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] };
}

export interface Service extends KubeObject {
  kind: "Service";
  spec: ServiceSpec;
  status?: ServiceStatus;
}

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: "TCP" | "UDP";
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints extends KubeObject {
  kind: "Endpoints";
  subsets?: EndpointSubset[];
}

/** discovery.k8s.io/v1: the state of one endpoint of a slice. */
export interface EndpointConditions {
  /** Ready to take new connections (a terminating endpoint is never ready). */
  ready?: boolean;
  /** Ready by its probes, whether terminating or not. */
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  /** 1 to 100 addresses of the slice's `addressType`; consumers use the first. */
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: { kind: string; namespace?: string; name: string; uid?: string };
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
  deprecatedTopology?: Record<string, string>;
}

export interface EndpointSlicePort {
  name?: string;
  protocol?: "TCP" | "UDP" | "SCTP";
  port?: number;
  appProtocol?: string;
}

/**
 * discovery.k8s.io/v1 EndpointSlice: a subset (at most 100 by default) of a Service's endpoints
 * that share one port set; written by the control plane for every Service (from its pods, or
 * mirrored from the Endpoints of a Service without a selector). Labelled with
 * `kubernetes.io/service-name`.
 */
export interface EndpointSlice extends KubeObject {
  kind: "EndpointSlice";
  addressType: "IPv4" | "IPv6" | "FQDN";
  endpoints: Endpoint[];
  ports?: EndpointSlicePort[];
}

// ---------------------------------------------------------------------------------------------
// Node, Namespace, Event

export interface NodeAddress {
  type: "InternalIP" | "ExternalIP" | "Hostname";
  address: string;
}

export interface NodeSpec {
  unschedulable?: boolean;
  podCIDR?: string;
  taints?: Taint[];
}

export interface NodeStatus {
  capacity?: Record<string, string>;
  allocatable?: Record<string, string>;
  conditions?: Condition[];
  addresses?: NodeAddress[];
  nodeInfo?: {
    containerRuntimeVersion?: string;
    kubeletVersion?: string;
    operatingSystem?: string;
    architecture?: string;
    osImage?: string;
    kernelVersion?: string;
    machineID?: string;
    systemUUID?: string;
    bootID?: string;
    kubeProxyVersion?: string;
  };
  daemonEndpoints?: { kubeletEndpoint?: { Port: number } };
}

export interface Node extends KubeObject {
  kind: "Node";
  spec: NodeSpec;
  status?: NodeStatus;
}

export interface Namespace extends KubeObject {
  kind: "Namespace";
  spec?: { finalizers?: string[] };
  status?: { phase?: "Active" | "Terminating" };
}

export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

export interface Event extends KubeObject {
  kind: "Event";
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  count?: number;
  type?: "Normal" | "Warning";
  reportingComponent?: string;
  reportingInstance?: string;
}

/** Every object kind Berth stores. */
export type AnyObject = Pod | ReplicationController | Service | Endpoints | EndpointSlice | Node | Namespace | Event | ResourceQuota | Deployment | ReplicaSet | ConfigMap | Secret | ServiceAccount | Job | CronJob | DaemonSet | PersistentVolumeClaim | StatefulSet | ControllerRevision | PodDisruptionBudget | HorizontalPodAutoscaler | Role | RoleBinding | ClusterRole | ClusterRoleBinding | PriorityClass | Lease | NetworkPolicy | Ingress | IngressClass;

/** The object type stored under each resource name. */
export interface ResourceTypes {
  namespaces: Namespace;
  pods: Pod;
  replicationcontrollers: ReplicationController;
  services: Service;
  endpoints: Endpoints;
  endpointslices: EndpointSlice;
  nodes: Node;
  events: Event;
  resourcequotas: ResourceQuota;
  deployments: Deployment;
  replicasets: ReplicaSet;
  configmaps: ConfigMap;
  secrets: Secret;
  serviceaccounts: ServiceAccount;
  jobs: Job;
  cronjobs: CronJob;
  daemonsets: DaemonSet;
  persistentvolumeclaims: PersistentVolumeClaim;
  statefulsets: StatefulSet;
  controllerrevisions: ControllerRevision;
  poddisruptionbudgets: PodDisruptionBudget;
  horizontalpodautoscalers: HorizontalPodAutoscaler;
  roles: Role;
  rolebindings: RoleBinding;
  clusterroles: ClusterRole;
  clusterrolebindings: ClusterRoleBinding;
  priorityclasses: PriorityClass;
  leases: Lease;
  networkpolicies: NetworkPolicy;
  ingresses: Ingress;
  ingressclasses: IngressClass;
}

// ---------------------------------------------------------------------------------------------
// Lists, watch events, Status

export interface ObjectList<T extends AnyObject = AnyObject> {
  apiVersion: string;
  kind: string; // e.g. "PodList"
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent<T extends AnyObject = AnyObject> {
  type: WatchEventType;
  object: T;
}

export interface StatusCause {
  /** Kubernetes cause type: FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ... */
  reason: string;
  message: string;
  /** The field path, e.g. `spec.containers[0].image`. */
  field?: string;
}

/** The Kubernetes `Status` object: how every error leaves Berth, on NATS and on HTTP. */
export interface Status {
  apiVersion: "v1";
  kind: "Status";
  /** `continue`: on a 410 Expired list, a token that resumes the list inconsistently (as kube-apiserver gives). */
  metadata: { continue?: string };
  status: "Success" | "Failure";
  message: string;
  reason?: string;
  code: number;
  details?: { name?: string; kind?: string; group?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota (core/v1): what one namespace may hold. Quantities as Kubernetes writes them.

export interface ResourceQuotaSpec {
  /** Limits by resource name: `pods`, `services`, `count/<resource>`, `requests.cpu`, `limits.memory`, ... */
  hard?: Record<string, string>;
}

export interface ResourceQuotaStatus {
  /** The enforced limits (copied from spec.hard by the quota controller). */
  hard?: Record<string, string>;
  /** Current observed usage, in the same names. */
  used?: Record<string, string>;
}

export interface ResourceQuota extends KubeObject {
  kind: "ResourceQuota";
  spec?: ResourceQuotaSpec;
  status?: ResourceQuotaStatus;
}

// ---------------------------------------------------------------------------------------------
// apps/v1 ReplicaSet and Deployment

/** A set-based label selector (`metav1.LabelSelector`): every matchLabels pair and every expression must hold. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

export interface ReplicaSetSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector: LabelSelectorSpec;
  template?: PodTemplateSpec;
}

export interface ReplicaSet extends KubeObject {
  kind: "ReplicaSet";
  spec: ReplicaSetSpec;
  status?: ReplicationControllerStatus;
}

export interface DeploymentStrategy {
  type?: "RollingUpdate" | "Recreate";
  /** Absolute numbers or percentages of `replicas` ("25%"). */
  rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string };
}

export interface DeploymentSpec {
  replicas?: number;
  selector: LabelSelectorSpec;
  template: PodTemplateSpec;
  strategy?: DeploymentStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: Condition[];
  collisionCount?: number;
}

export interface Deployment extends KubeObject {
  kind: "Deployment";
  spec: DeploymentSpec;
  status?: DeploymentStatus;
}

// ---------------------------------------------------------------------------------------------
// ConfigMap and Secret (core/v1)

export interface ConfigMap extends KubeObject {
  kind: "ConfigMap";
  /** UTF-8 values by key (`[-._a-zA-Z0-9]+`). */
  data?: Record<string, string>;
  /** Base64 values by key; keys may not repeat those of `data`. */
  binaryData?: Record<string, string>;
  /** Once true, `data`/`binaryData` may not change and `immutable` may not be unset. */
  immutable?: boolean;
}

/**
 * An identity for processes in pods (core/v1). Every namespace has `default`, made by the control
 * plane's service account controller; the REST API issues signed tokens for them (TokenRequest,
 * runtime/api/token_request.ts) and RBAC authorizes their holders; the node agent mounts one,
 * bound to the pod, into every pod that does not opt out (runtime/kubelet/service_account_token.ts).
 */
export interface ServiceAccount extends KubeObject {
  kind: "ServiceAccount";
  secrets?: ObjectReference[];
  imagePullSecrets?: { name?: string }[];
  automountServiceAccountToken?: boolean;
}

export interface Secret extends KubeObject {
  kind: "Secret";
  /** Base64 values by key. */
  data?: Record<string, string>;
  /** Write-only plain values, merged into `data` (base64) on write and never stored. */
  stringData?: Record<string, string>;
  /** `Opaque` by default; `kubernetes.io/dockerconfigjson` needs the key `.dockerconfigjson`, ... */
  type?: string;
  immutable?: boolean;
}

// ---------------------------------------------------------------------------------------------
// batch/v1 Job: pods run to completion

export interface JobSpec {
  /** Pods running at once, at most. Default 1; 0 pauses the job. */
  parallelism?: number;
  /**
   * Pods that must succeed. Default 1 when neither this nor `parallelism` is given; left unset
   * (with `parallelism` given) the job is a work queue: done once one pod has succeeded and none
   * is running.
   */
  completions?: number;
  /** Pod failures (and, for `restartPolicy: OnFailure`, container restarts) tolerated. Default 6. */
  backoffLimit?: number;
  /** Seconds from `status.startTime` after which the job fails (DeadlineExceeded). */
  activeDeadlineSeconds?: number;
  /** Seconds after the job finished at which it is deleted, with its pods. Unset: never. */
  ttlSecondsAfterFinished?: number;
  /** True: no pods run (running ones are deleted) and the deadline clock stops. */
  suspend?: boolean;
  /**
   * `NonIndexed` (the default): any `completions` successes complete the job. `Indexed`: each pod
   * carries a completion index in 0..completions−1 (annotation and label
   * `batch.kubernetes.io/job-completion-index`, env `JOB_COMPLETION_INDEX`, hostname
   * `<job>-<index>`), and the job completes once every index has a pod that succeeded.
   */
  completionMode?: "NonIndexed" | "Indexed";
  /** True: `selector` is the user's; otherwise the API generates it from the job's uid. */
  manualSelector?: boolean;
  selector?: LabelSelectorSpec;
  template: PodTemplateSpec;
}

export interface JobStatus {
  /** `Complete`, `Failed` or `Suspended`. */
  conditions?: Condition[];
  /** When the job's controller first saw it (reset when a suspended job resumes). */
  startTime?: string;
  /** When the job completed (only for `Complete`). */
  completionTime?: string;
  /** Pods not finished and not being deleted. */
  active?: number;
  /** Active pods that are Ready. */
  ready?: number;
  succeeded?: number;
  failed?: number;
  /**
   * Pods that finished and are being counted: their uids go here first, then their
   * `batch.kubernetes.io/job-tracking` finalizer comes off, then they move into `succeeded` or
   * `failed` (so a pod is counted once, whatever happens between the steps).
   */
  uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  /**
   * Indexed jobs: the indexes whose pod succeeded, as Kubernetes writes them — ascending
   * intervals, comma-separated, "3-5" for a run of three or more ("1,3-5,7"). `succeeded` is
   * their number.
   */
  completedIndexes?: string;
}

export interface Job extends KubeObject {
  kind: "Job";
  spec: JobSpec;
  status?: JobStatus;
}

// ---------------------------------------------------------------------------------------------
// batch/v1 CronJob: Jobs on a schedule

export interface CronJobSpec {
  /** Five cron fields (minute hour day-of-month month day-of-week) or a macro (`@hourly`, `@daily`, ...). */
  schedule: string;
  /** The IANA time zone the schedule is read in (default: the control plane's, as Kubernetes'). */
  timeZone?: string;
  /** A run not started within this many seconds of its time is skipped. */
  startingDeadlineSeconds?: number;
  /** What to do when a run is due while an earlier one is still active. Default `Allow`. */
  concurrencyPolicy?: "Allow" | "Forbid" | "Replace";
  /** True: no new runs (active ones go on). */
  suspend?: boolean;
  jobTemplate: { metadata?: Partial<ObjectMeta>; spec: JobSpec };
  /** Finished Jobs kept, by outcome. Defaults 3 and 1. */
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
}

export interface CronJobStatus {
  /** The Jobs it started that have not finished. */
  active?: ObjectReference[];
  /** When the latest run was due (not when it started). */
  lastScheduleTime?: string;
  /** When the latest run that succeeded finished. */
  lastSuccessfulTime?: string;
}

export interface CronJob extends KubeObject {
  kind: "CronJob";
  spec: CronJobSpec;
  status?: CronJobStatus;
}

// ---------------------------------------------------------------------------------------------
// apps/v1 DaemonSet: one pod on every node that should run it

export interface DaemonSetUpdateStrategy {
  /** `RollingUpdate` (the default): old pods replaced node by node; `OnDelete`: only when deleted. */
  type?: "RollingUpdate" | "OnDelete";
  /** `maxUnavailable`: nodes whose pod may be down during an update (number or % of the desired; default 1). `maxSurge` must be 0. */
  rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
}

export interface DaemonSetSpec {
  selector: LabelSelectorSpec;
  template: PodTemplateSpec;
  updateStrategy?: DaemonSetUpdateStrategy;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
}

export interface DaemonSetStatus {
  /** Nodes that should run the pod and do. */
  currentNumberScheduled?: number;
  /** Nodes that run the pod but should not. */
  numberMisscheduled?: number;
  /** Nodes that should run the pod. */
  desiredNumberScheduled?: number;
  /** Nodes whose pod is Ready. */
  numberReady?: number;
  observedGeneration?: number;
  /** Nodes that run the pod of the current template. */
  updatedNumberScheduled?: number;
  /** Nodes whose pod has been Ready for `minReadySeconds`. */
  numberAvailable?: number;
  numberUnavailable?: number;
  conditions?: Condition[];
}

export interface DaemonSet extends KubeObject {
  kind: "DaemonSet";
  spec: DaemonSetSpec;
  status?: DaemonSetStatus;
}

// ---------------------------------------------------------------------------------------------
// core/v1 PersistentVolumeClaim: storage a pod asks for by name
//
// Berth provisions every claim as a local volume on one node (as k3s' local-path provisioner
// does, with `volumeBindingMode: WaitForFirstConsumer`): a claim stays Pending until the
// scheduler places the first pod that uses it, which records the node in the claim's
// `volume.kubernetes.io/selected-node` annotation; the claim is then Bound to that node, and
// every later pod using it is placed there. PersistentVolume objects are not served.

export type PersistentVolumeAccessMode = "ReadWriteOnce" | "ReadOnlyMany" | "ReadWriteMany" | "ReadWriteOncePod";

export interface PersistentVolumeClaimSpec {
  accessModes?: PersistentVolumeAccessMode[];
  /** `requests.storage` (required) and optional `limits.storage`. */
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  /** Defaulted to `local`, the one class Berth provisions. */
  storageClassName?: string;
  /** Only `Filesystem` (the default). */
  volumeMode?: "Filesystem" | "Block";
  /** Set when the claim is bound: `pvc-<uid>`, as dynamic provisioning names a volume. */
  volumeName?: string;
}

export interface PersistentVolumeClaimStatus {
  phase?: "Pending" | "Bound" | "Lost";
  accessModes?: PersistentVolumeAccessMode[];
  capacity?: Record<string, string>;
  conditions?: Condition[];
}

export interface PersistentVolumeClaim extends KubeObject {
  kind: "PersistentVolumeClaim";
  spec: PersistentVolumeClaimSpec;
  status?: PersistentVolumeClaimStatus;
}

/** Annotation the scheduler writes on a claim when it places the claim's first pod (kube-scheduler's VolumeBinding plugin). */
export const SELECTED_NODE_ANNOTATION = "volume.kubernetes.io/selected-node";
/** Finalizer that keeps a claim while a pod uses it (kube-controller-manager's pvc-protection controller). */
export const PVC_PROTECTION_FINALIZER = "kubernetes.io/pvc-protection";
/** Finalizer that keeps a bound claim until its node has removed the volume (the provisioner's reclaim, policy Delete). */
export const LOCAL_VOLUME_FINALIZER = "berth.dev/local-volume";
/** The one storage class Berth provisions: a claim naming none gets it, a claim naming another is refused. */
export const LOCAL_STORAGE_CLASS = "local";

// ---------------------------------------------------------------------------------------------
// apps/v1 StatefulSet: pods with stable names, ordinals, network identity and storage

export interface StatefulSetUpdateStrategy {
  /** `RollingUpdate` (the default): pods replaced from the highest ordinal down; `OnDelete`: only when deleted. */
  type?: "RollingUpdate" | "OnDelete";
  /** `partition`: ordinals below it keep the current revision (default 0). */
  rollingUpdate?: { partition?: number; maxUnavailable?: number | string };
}

export interface StatefulSetPersistentVolumeClaimRetentionPolicy {
  /** What happens to the set's claims when the set is deleted (default Retain). */
  whenDeleted?: "Retain" | "Delete";
  /** What happens to a claim when its pod's ordinal is scaled away (default Retain). */
  whenScaled?: "Retain" | "Delete";
}

export interface StatefulSetSpec {
  replicas?: number;
  selector: LabelSelectorSpec;
  template: PodTemplateSpec;
  /** The governing (usually headless) service: pods get `<pod>.<serviceName>.<ns>.svc` names. */
  serviceName?: string;
  /** Claims made for every pod, named `<template name>-<set name>-<ordinal>`. */
  volumeClaimTemplates?: { metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PersistentVolumeClaimSpec }[];
  /** `OrderedReady` (the default): one pod at a time, in order; `Parallel`: all at once. */
  podManagementPolicy?: "OrderedReady" | "Parallel";
  updateStrategy?: StatefulSetUpdateStrategy;
  revisionHistoryLimit?: number;
  minReadySeconds?: number;
  persistentVolumeClaimRetentionPolicy?: StatefulSetPersistentVolumeClaimRetentionPolicy;
  /** `ordinals.start`: the first ordinal (default 0). */
  ordinals?: { start?: number };
}

export interface StatefulSetStatus {
  observedGeneration?: number;
  /** Pods the set owns. */
  replicas?: number;
  readyReplicas?: number;
  /** Pods at `currentRevision`. */
  currentReplicas?: number;
  /** Pods at `updateRevision`. */
  updatedReplicas?: number;
  availableReplicas?: number;
  currentRevision?: string;
  updateRevision?: string;
  collisionCount?: number;
  conditions?: Condition[];
}

export interface StatefulSet extends KubeObject {
  kind: "StatefulSet";
  spec: StatefulSetSpec;
  status?: StatefulSetStatus;
}

/**
 * apps/v1 ControllerRevision: one revision of a StatefulSet's pod template, as the StatefulSet
 * controller keeps them (`kubectl rollout history|undo sts` read and apply them). `data` is the
 * strategic merge patch that puts the template back: `{"spec":{"template":{…,"$patch":"replace"}}}`.
 */
export interface ControllerRevision extends KubeObject {
  kind: "ControllerRevision";
  data?: unknown;
  revision: number;
}

/** Labels the StatefulSet controller puts on its pods. */
export const STATEFULSET_POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name";
export const POD_INDEX_LABEL = "apps.kubernetes.io/pod-index";
export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

/**
 * policy/v1 PodDisruptionBudget: how many of the pods its selector picks must stay healthy (Ready
 * and not being deleted) while something evicts them (`kubectl drain`, the eviction subresource).
 * At most one of `minAvailable` and `maxUnavailable`, each a count or a percentage ("50%"); a
 * percentage, and `maxUnavailable` in any form, count against the pods' controllers' scale.
 */
export interface PodDisruptionBudgetSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  /** Which pods of the namespace it covers: absent selects none, `{}` every one. */
  selector?: LabelSelectorSpec;
  /** Whether a pod that is not Ready may be evicted when the budget has no room: `IfHealthyBudget` (default) or `AlwaysAllow`. */
  unhealthyPodEvictionPolicy?: "IfHealthyBudget" | "AlwaysAllow";
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  /** Pods an eviction was allowed for (pod name → time), not yet seen deleted; the controller drops them once they go, or after 2 minutes. */
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  /** `DisruptionAllowed` (reasons SufficientPods, InsufficientPods, SyncFailed). */
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends KubeObject {
  kind: "PodDisruptionBudget";
  spec: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}

/**
 * autoscaling/v2 HorizontalPodAutoscaler: keeps a scalable workload's replicas (its `/scale`
 * subresource: Deployment, ReplicaSet, ReplicationController, StatefulSet) between `minReplicas`
 * and `maxReplicas` so that its pods' resource use meets the targets. Berth has resource
 * metrics only (metrics.k8s.io, from the node agents' usage reports): metric types `Resource` and
 * `ContainerResource`; `Pods`, `Object` and `External` need a custom metrics API it has not.
 */
export interface CrossVersionObjectReference {
  apiVersion?: string;
  kind: string;
  name: string;
}

export interface MetricTarget {
  type: "Utilization" | "Value" | "AverageValue";
  /** Percent of the pods' requests (type Utilization). */
  averageUtilization?: number;
  /** A quantity per pod (type AverageValue). */
  averageValue?: string;
  value?: string;
}

export interface ResourceMetricSource {
  /** `cpu` or `memory`. */
  name: string;
  target: MetricTarget;
}

export interface ContainerResourceMetricSource extends ResourceMetricSource {
  container: string;
}

export interface MetricSpec {
  type: "Resource" | "ContainerResource" | "Pods" | "Object" | "External";
  resource?: ResourceMetricSource;
  containerResource?: ContainerResourceMetricSource;
  pods?: unknown;
  object?: unknown;
  external?: unknown;
}

export interface HPAScalingPolicy {
  type: "Pods" | "Percent";
  value: number;
  periodSeconds: number;
}

export interface HPAScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: "Max" | "Min" | "Disabled";
  policies?: HPAScalingPolicy[];
}

export interface HorizontalPodAutoscalerBehavior {
  scaleUp?: HPAScalingRules;
  scaleDown?: HPAScalingRules;
}

export interface HorizontalPodAutoscalerSpec {
  scaleTargetRef: CrossVersionObjectReference;
  /** Default 1. */
  minReplicas?: number;
  maxReplicas: number;
  /** Default (when empty): cpu at 80 % of the pods' requests. */
  metrics?: MetricSpec[];
  behavior?: HorizontalPodAutoscalerBehavior;
}

export interface MetricValueStatus {
  value?: string;
  averageValue?: string;
  averageUtilization?: number;
}

export interface MetricStatus {
  type: MetricSpec["type"];
  resource?: { name: string; current: MetricValueStatus };
  containerResource?: { name: string; container: string; current: MetricValueStatus };
}

export interface HorizontalPodAutoscalerStatus {
  observedGeneration?: number;
  lastScaleTime?: string;
  currentReplicas?: number;
  desiredReplicas: number;
  currentMetrics?: MetricStatus[];
  /** `AbleToScale`, `ScalingActive`, `ScalingLimited`. */
  conditions?: Condition[];
}

export interface HorizontalPodAutoscaler extends KubeObject {
  kind: "HorizontalPodAutoscaler";
  spec: HorizontalPodAutoscalerSpec;
  status?: HorizontalPodAutoscalerStatus;
}

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io/v1
//
// Stored as Kubernetes stores them, and enforced at the REST API (model/rbac.ts). The API makes
// kube's default roles and bindings at start (model/rbac_bootstrap.ts).

/** The API group of the RBAC kinds (a roleRef's and a User or Group subject's `apiGroup`). */
export const RBAC_GROUP = "rbac.authorization.k8s.io";

/** What a rule allows: verbs on resources of API groups (optionally some names), or on non-resource URLs. */
export interface PolicyRule {
  verbs: string[];
  /** `""` is the core group. */
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  /** Only in a ClusterRole, and then without apiGroups and resources. */
  nonResourceURLs?: string[];
}

export interface Role extends KubeObject {
  kind: "Role";
  rules?: PolicyRule[];
}

/** ClusterRoles whose rules an aggregating ClusterRole collects: its rules are filled by the aggregation controller (actors/clusterrole_aggregation.ts). */
export interface AggregationRule {
  clusterRoleSelectors?: LabelSelectorSpec[];
}

export interface ClusterRole extends KubeObject {
  kind: "ClusterRole";
  rules?: PolicyRule[];
  aggregationRule?: AggregationRule;
}

/** Who a binding names: a User or Group (apiGroup rbac.authorization.k8s.io) or a ServiceAccount (apiGroup ""). */
export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  apiGroup?: string;
  name: string;
  namespace?: string;
}

/** The role a binding grants; it may not change once the binding exists. */
export interface RoleRef {
  apiGroup: string;
  kind: "Role" | "ClusterRole";
  name: string;
}

export interface RoleBinding extends KubeObject {
  kind: "RoleBinding";
  subjects?: Subject[];
  roleRef: RoleRef;
}

export interface ClusterRoleBinding extends KubeObject {
  kind: "ClusterRoleBinding";
  subjects?: Subject[];
  roleRef: RoleRef;
}

// ---------------------------------------------------------------------------------------------
// scheduling.k8s.io/v1 and coordination.k8s.io/v1

/** Whether a pending pod of this priority may evict lower ones (Berth's scheduler never does: it only orders). */
export type PreemptionPolicy = "PreemptLowerPriority" | "Never";

/** A name for a pod priority. Cluster-scoped; `value` and `preemptionPolicy` never change. */
export interface PriorityClass extends KubeObject {
  kind: "PriorityClass";
  /** Up to 1,000,000,000 for user classes; the two `system-` classes are higher. */
  value: number;
  /** The class of pods that name none (at most one is the default). */
  globalDefault?: boolean;
  description?: string;
  preemptionPolicy?: PreemptionPolicy;
}

/**
 * A lease as client-go's leader election holds one: who holds it, since when and for how long.
 * Times are MicroTime (RFC 3339 with six fractional digits, UTC).
 */
export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
  /** Coordinated leader election (Kubernetes 1.32 alpha): stored as given, acted on by nothing. */
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends KubeObject {
  kind: "Lease";
  spec: LeaseSpec;
}

// ---------------------------------------------------------------------------------------------
// networking.k8s.io/v1: NetworkPolicy, Ingress, IngressClass (stored and served; nothing acts on them)

export type PolicyType = "Ingress" | "Egress";

/** A port of a policy rule: a number (with an optional `endPort` range) or a named container port. */
export interface NetworkPolicyPort {
  /** TCP (the default), UDP or SCTP. */
  protocol?: "TCP" | "UDP" | "SCTP";
  port?: number | string;
  endPort?: number;
}

/** A CIDR and the ranges within it that are left out. */
export interface IPBlock {
  cidr: string;
  except?: string[];
}

/** Pods (of this namespace, or of the selected namespaces) or an IP block: never both. */
export interface NetworkPolicyPeer {
  podSelector?: LabelSelectorSpec;
  namespaceSelector?: LabelSelectorSpec;
  ipBlock?: IPBlock;
}

export interface NetworkPolicyIngressRule {
  ports?: NetworkPolicyPort[];
  from?: NetworkPolicyPeer[];
}

export interface NetworkPolicyEgressRule {
  ports?: NetworkPolicyPort[];
  to?: NetworkPolicyPeer[];
}

export interface NetworkPolicySpec {
  /** The pods the policy is about; empty selects every pod of the namespace. */
  podSelector: LabelSelectorSpec;
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
  /** Defaulted from the rules: Ingress always, Egress when there are egress rules. */
  policyTypes?: PolicyType[];
}

/** Which traffic selected pods may have. Berth stores it and enforces none of it. */
export interface NetworkPolicy extends KubeObject {
  kind: "NetworkPolicy";
  spec: NetworkPolicySpec;
}

/** A reference to an object in the same namespace (or, for an IngressClass, as its scope says). */
export interface TypedLocalObjectReference {
  apiGroup?: string;
  kind: string;
  name: string;
}

/** A Service's port by number or by name (exactly one). */
export interface ServiceBackendPort {
  name?: string;
  number?: number;
}

/** Where matching requests go: a Service's port, or another kind of object (exactly one). */
export interface IngressBackend {
  service?: { name: string; port?: ServiceBackendPort };
  resource?: TypedLocalObjectReference;
}

export type PathType = "Exact" | "Prefix" | "ImplementationSpecific";

export interface HTTPIngressPath {
  path?: string;
  pathType: PathType;
  backend: IngressBackend;
}

export interface IngressRule {
  /** A DNS name, or `*.` and one; empty matches every host. */
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}

export interface IngressTLS {
  hosts?: string[];
  secretName?: string;
}

export interface IngressSpec {
  ingressClassName?: string;
  defaultBackend?: IngressBackend;
  tls?: IngressTLS[];
  rules?: IngressRule[];
}

export interface IngressStatus {
  /** Written by an ingress controller; Berth has none, so it stays empty. */
  loadBalancer?: { ingress?: { ip?: string; hostname?: string; ports?: { port: number; protocol: string; error?: string }[] }[] };
}

/** HTTP routing rules for an ingress controller. Berth runs none: nothing routes by them. */
export interface Ingress extends KubeObject {
  kind: "Ingress";
  spec: IngressSpec;
  status?: IngressStatus;
}

/** The annotation that makes an IngressClass the default for Ingresses naming none. */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class";
/** The legacy (pre-IngressClass) way an Ingress names its controller; such an Ingress gets no default class. */
export const LEGACY_INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class";

export interface IngressClassParametersReference extends TypedLocalObjectReference {
  /** Cluster (the default) or Namespace. */
  scope?: "Cluster" | "Namespace";
  /** Only with scope Namespace. */
  namespace?: string;
}

/** A kind of ingress controller, named by `controller`; cluster-scoped. `controller` never changes. */
export interface IngressClass extends KubeObject {
  kind: "IngressClass";
  spec: { controller?: string; parameters?: IngressClassParametersReference };
}
