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
  nodes: { kind: "Node", singular: "node", namespaced: false, shortNames: ["no"] },
  events: { kind: "Event", singular: "event", namespaced: true, shortNames: ["ev"] },
  resourcequotas: { kind: "ResourceQuota", singular: "resourcequota", namespaced: true, shortNames: ["quota"] },
} as const;

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
  apiVersion: "v1";
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
  valueFrom?: { fieldRef?: { fieldPath: string } };
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

export interface Probe {
  exec?: ExecAction;
  httpGet?: HTTPGetAction;
  tcpSocket?: TCPSocketAction;
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
  subPath?: string;
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  ports?: ContainerPort[];
  resources?: ResourceRequirements;
  volumeMounts?: VolumeMount[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
}

export interface Volume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  /** A named persistent volume: Berth maps the claim name to a named Docker volume that outlives the pod. */
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
}

export type RestartPolicy = "Always" | "OnFailure" | "Never";

export interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  restartPolicy?: RestartPolicy;
  terminationGracePeriodSeconds?: number;
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  hostname?: string;
  subdomain?: string;
  dnsPolicy?: "ClusterFirst" | "Default" | "None";
  /** Secrets (same namespace) of type `kubernetes.io/dockerconfigjson` or `dockercfg` used to pull the images. */
  imagePullSecrets?: { name: string }[];
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

/** autoscaling/v1 Scale, served by `replicationcontrollers/{name}/scale`. */
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
}

export type ServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";

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

// ---------------------------------------------------------------------------------------------
// Node, Namespace, Event

export interface NodeAddress {
  type: "InternalIP" | "ExternalIP" | "Hostname";
  address: string;
}

export interface NodeSpec {
  unschedulable?: boolean;
  podCIDR?: string;
  taints?: { key: string; value?: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
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
export type AnyObject = Pod | ReplicationController | Service | Endpoints | Node | Namespace | Event | ResourceQuota;

/** The object type stored under each resource name. */
export interface ResourceTypes {
  namespaces: Namespace;
  pods: Pod;
  replicationcontrollers: ReplicationController;
  services: Service;
  endpoints: Endpoints;
  nodes: Node;
  events: Event;
  resourcequotas: ResourceQuota;
}

// ---------------------------------------------------------------------------------------------
// Lists, watch events, Status

export interface ObjectList<T extends AnyObject = AnyObject> {
  apiVersion: "v1";
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
  metadata: Record<string, never>;
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
