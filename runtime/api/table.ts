/**
 * Tables of objects with the columns kubectl users know: the server-side printing behind
 * `kubectl get` (the API answers `Accept: application/json;as=Table;v=v1;g=meta.k8s.io` with a
 * `meta.k8s.io/v1` Table built here), and the text rendering `berth get` prints.
 *
 * Pure: the clock comes in as `now`. The cell logic follows kubectl's printers
 * (pkg/printers/internalversion) for the fields Berth serves.
 */
import type {
  AnyObject,
  Deployment,
  ConfigMap,
  CronJob,
  DaemonSet,
  Endpoints,
  EndpointSlice,
  Event,
  Job,
  Namespace,
  Node,
  PersistentVolumeAccessMode,
  PersistentVolumeClaim,
  Pod,
  ReplicaSet,
  ReplicationController,
  Resource,
  ResourceQuota,
  Secret,
  ServiceAccount,
  Service,
  StatefulSet,
  ControllerRevision,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  RoleBinding,
  PriorityClass,
  Lease,
  NetworkPolicy,
  Ingress,
  IngressClass,
} from "../../model/types.ts";
import { hpaTargets } from "./table_hpa.ts";
import { formatSelectorGo, ingressAddress, ingressClassParameters, ingressHosts, ingressPorts, sliceCellEndpoints, sliceCellPorts } from "./table_networking.ts";

export interface TableColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  /** `name` marks the column that holds the object's name, as Kubernetes does. */
  format?: string;
  description?: string;
  /** 0: always shown; 1: shown with `-o wide`. */
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object: AnyObject;
}

export interface ObjectTable {
  columns: TableColumn[];
  rows: TableRow[];
}

export interface TableOptions {
  /** Include the priority-1 (wide) columns. Default true: the server always sends them. */
  wide?: boolean;
  /** The clock for AGE-like columns, in ms since the epoch (or a Date). Default: Date.now(). */
  now?: number | Date;
}

type Cell = string | number | boolean;
interface ColumnSpec<T> {
  column: TableColumn;
  cell: (obj: T, now: number) => Cell;
}

const col = (name: string, type: TableColumn["type"], priority = 0, description = ""): TableColumn =>
  name === "Name"
    ? { name, type, format: "name", description: "Name must be unique within a namespace.", priority }
    : { name, type, description, priority };

const ageColumn = <T extends AnyObject>(): ColumnSpec<T> => ({
  column: col("Age", "string", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."),
  cell: (o, now) => age(o.metadata.creationTimestamp, now),
});
const nameColumn = <T extends AnyObject>(): ColumnSpec<T> => ({ column: col("Name", "string"), cell: (o) => o.metadata.name });

const NONE = "<none>";

const specSelector = (s: ReplicaSet["spec"]["selector"] | undefined) => {
  const parts = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of s?.matchExpressions ?? []) {
    parts.push(e.operator === "Exists" ? e.key : e.operator === "DoesNotExist" ? `!${e.key}` : `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(",")})`);
  }
  return parts.join(",") || NONE;
};
const templateContainers = (t: ReplicaSet["spec"]["template"]) => (t?.spec.containers ?? []).map((c) => c.name).join(",") || NONE;
const templateImages = (t: ReplicaSet["spec"]["template"]) => (t?.spec.containers ?? []).map((c) => c.image).join(",") || NONE;

/** `statefulset.apps/web`: an object's controller as kubectl prints it; `<none>` without one. */
function controllerName(o: AnyObject): string {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return NONE;
  const group = ref.apiVersion.includes("/") ? ref.apiVersion.split("/")[0] : "";
  return `${ref.kind.toLowerCase()}${group ? `.${group}` : ""}/${ref.name}`;
}

/**
 * NAME and CREATED AT: what kube-apiserver's default table convertor prints for a kind without a
 * printer of its own (Role, ClusterRole); the time in RFC 3339, UTC, to the second.
 */
const createdAtColumns = <T extends AnyObject>(): ColumnSpec<T>[] => [
  nameColumn<T>(),
  {
    column: col("Created At", "date", 0, "CreationTimestamp is a timestamp representing the server time when this object was created."),
    cell: (o) => {
      const t = Date.parse(o.metadata.creationTimestamp ?? "");
      return Number.isNaN(t) ? "" : new Date(t).toISOString().replace(/\.\d+Z$/, "Z");
    },
  },
];

/**
 * kube-apiserver's rolebinding and clusterrolebinding printers: NAME ROLE AGE (ROLE `Kind/name`),
 * wide USERS GROUPS SERVICEACCOUNTS (its SubjectsStrings: a service account as `namespace/name`).
 */
const bindingColumns = (what: "roleBinding" | "clusterRoleBinding"): ColumnSpec<RoleBinding>[] => {
  const names = (b: RoleBinding, kind: string) => (b.subjects ?? []).filter((s) => s.kind === kind).map((s) => (kind === "ServiceAccount" ? `${s.namespace ?? ""}/${s.name}` : s.name)).join(", ");
  const roleRef = what === "roleBinding"
    ? "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable."
    : "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error. This field is immutable.";
  return [
    nameColumn<RoleBinding>(),
    { column: col("Role", "string", 0, roleRef), cell: (b) => `${b.roleRef.kind}/${b.roleRef.name}` },
    ageColumn<RoleBinding>(),
    { column: col("Users", "string", 1, `Users in the ${what}`), cell: (b) => names(b, "User") },
    { column: col("Groups", "string", 1, `Groups in the ${what}`), cell: (b) => names(b, "Group") },
    { column: col("ServiceAccounts", "string", 1, `ServiceAccounts in the ${what}`), cell: (b) => names(b, "ServiceAccount") },
  ];
};

const COLUMNS: { [R in Resource]: ColumnSpec<never>[] } = {
  // kubectl's printers: deploy NAME READY UP-TO-DATE AVAILABLE AGE; rs NAME DESIRED CURRENT READY AGE.
  deployments: [
    nameColumn<Deployment>(),
    { column: col("Ready", "string", 0, "Number of the pod with ready state"), cell: (d: Deployment) => `${d.status?.readyReplicas ?? 0}/${d.spec.replicas ?? 1}` },
    { column: col("Up-to-date", "string", 0, "Total number of non-terminated pods targeted by this deployment that have the desired template spec."), cell: (d: Deployment) => d.status?.updatedReplicas ?? 0 },
    { column: col("Available", "string", 0, "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."), cell: (d: Deployment) => d.status?.availableReplicas ?? 0 },
    ageColumn<Deployment>(),
    { column: col("Containers", "string", 1), cell: (d: Deployment) => templateContainers(d.spec.template) },
    { column: col("Images", "string", 1), cell: (d: Deployment) => templateImages(d.spec.template) },
    { column: col("Selector", "string", 1), cell: (d: Deployment) => specSelector(d.spec.selector) },
  ],
  replicasets: [
    nameColumn<ReplicaSet>(),
    { column: col("Desired", "integer", 0, "Number of desired pods."), cell: (rs: ReplicaSet) => rs.spec.replicas ?? 1 },
    { column: col("Current", "integer", 0, "Number of actually running pods."), cell: (rs: ReplicaSet) => rs.status?.replicas ?? 0 },
    { column: col("Ready", "integer", 0, "Number of ready pods."), cell: (rs: ReplicaSet) => rs.status?.readyReplicas ?? 0 },
    ageColumn<ReplicaSet>(),
    { column: col("Containers", "string", 1), cell: (rs: ReplicaSet) => templateContainers(rs.spec.template) },
    { column: col("Images", "string", 1), cell: (rs: ReplicaSet) => templateImages(rs.spec.template) },
    { column: col("Selector", "string", 1), cell: (rs: ReplicaSet) => specSelector(rs.spec.selector) },
  ],
  // kube-apiserver's daemonset printer: NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE;
  // wide CONTAINERS IMAGES SELECTOR. The counts are the status' (0 until the controller writes one).
  daemonsets: [
    nameColumn<DaemonSet>(),
    { column: col("Desired", "integer", 0, "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"), cell: (ds: DaemonSet) => ds.status?.desiredNumberScheduled ?? 0 },
    { column: col("Current", "integer", 0, "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"), cell: (ds: DaemonSet) => ds.status?.currentNumberScheduled ?? 0 },
    { column: col("Ready", "integer", 0, "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition."), cell: (ds: DaemonSet) => ds.status?.numberReady ?? 0 },
    { column: col("Up-to-date", "integer", 0, "The total number of nodes that are running updated daemon pod"), cell: (ds: DaemonSet) => ds.status?.updatedNumberScheduled ?? 0 },
    { column: col("Available", "integer", 0, "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"), cell: (ds: DaemonSet) => ds.status?.numberAvailable ?? 0 },
    { column: col("Node Selector", "string", 0, "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"), cell: (ds: DaemonSet) => formatLabels(ds.spec.template?.spec.nodeSelector) },
    ageColumn<DaemonSet>(),
    { column: col("Containers", "string", 1, "Names of each container in the template."), cell: (ds: DaemonSet) => templateContainers(ds.spec.template) },
    { column: col("Images", "string", 1, "Images referenced by each container in the template."), cell: (ds: DaemonSet) => templateImages(ds.spec.template) },
    { column: col("Selector", "string", 1, "A label query over pods that are managed by the daemon set. Must match in order to be controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"), cell: (ds: DaemonSet) => specSelector(ds.spec.selector) },
  ],
  // kube-apiserver's statefulset printer: NAME READY AGE ("ready/desired"); wide CONTAINERS IMAGES.
  statefulsets: [
    nameColumn<StatefulSet>(),
    { column: col("Ready", "string", 0, "Number of the pod with ready state"), cell: (s: StatefulSet) => `${s.status?.readyReplicas ?? 0}/${s.spec.replicas ?? 1}` },
    ageColumn<StatefulSet>(),
    { column: col("Containers", "string", 1, "Names of each container in the template."), cell: (s: StatefulSet) => templateContainers(s.spec.template) },
    { column: col("Images", "string", 1, "Images referenced by each container in the template."), cell: (s: StatefulSet) => templateImages(s.spec.template) },
  ],
  // kube-apiserver's (1.32) claim printer: NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS
  // VOLUMEATTRIBUTESCLASS AGE; wide VOLUMEMODE. Capacity and access modes are the bound volume's
  // (the status'), empty until the claim names its volume; a claim being deleted is Terminating.
  persistentvolumeclaims: [
    nameColumn<PersistentVolumeClaim>(),
    { column: col("Status", "string", 0, "phase represents the current phase of PersistentVolumeClaim."), cell: (c: PersistentVolumeClaim) => (c.metadata.deletionTimestamp ? "Terminating" : c.status?.phase ?? "") },
    { column: col("Volume", "string", 0, "volumeName is the binding reference to the PersistentVolume backing this claim."), cell: (c: PersistentVolumeClaim) => c.spec.volumeName ?? "" },
    { column: col("Capacity", "string", 0, "capacity represents the actual resources of the underlying volume."), cell: (c: PersistentVolumeClaim) => (c.spec.volumeName ? c.status?.capacity?.storage ?? "0" : "") },
    { column: col("Access Modes", "string", 0, "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"), cell: (c: PersistentVolumeClaim) => (c.spec.volumeName ? accessModesText(c.status?.accessModes) : "") },
    { column: col("StorageClass", "string", 0, "StorageClass of the pvc"), cell: (c: PersistentVolumeClaim) => claimClass(c) },
    { column: col("VolumeAttributesClass", "string", 0, "VolumeAttributesClass of the pvc"), cell: () => "<unset>" },
    ageColumn<PersistentVolumeClaim>(),
    { column: col("VolumeMode", "string", 1, "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec."), cell: (c: PersistentVolumeClaim) => c.spec.volumeMode ?? "<unset>" },
  ],
  // kube-apiserver's controllerrevision printer: NAME CONTROLLER REVISION AGE, the controller as
  // `<kind>.<group>/<name>` in lower case.
  controllerrevisions: [
    nameColumn<ControllerRevision>(),
    { column: col("Controller", "string", 0, "Controller of the object"), cell: (r: ControllerRevision) => controllerName(r) },
    { column: col("Revision", "string", 0, "Revision indicates the revision of the state represented by Data."), cell: (r: ControllerRevision) => r.revision },
    ageColumn<ControllerRevision>(),
  ],
  // kube-apiserver's poddisruptionbudget printer: NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED
  // DISRUPTIONS AGE, a field that is not set as N/A, the allowed disruptions from the status.
  poddisruptionbudgets: [
    nameColumn<PodDisruptionBudget>(),
    { column: col("Min Available", "string", 0, "The minimum number of pods that must be available, either as an absolute number or a percentage."), cell: (b: PodDisruptionBudget) => intOrStringCell(b.spec.minAvailable) },
    { column: col("Max Unavailable", "string", 0, "The maximum number of pods that may be unavailable, either as an absolute number or a percentage."), cell: (b: PodDisruptionBudget) => intOrStringCell(b.spec.maxUnavailable) },
    { column: col("Allowed Disruptions", "integer", 0, "Number of pod disruptions that are currently allowed."), cell: (b: PodDisruptionBudget) => b.status?.disruptionsAllowed ?? 0 },
    ageColumn<PodDisruptionBudget>(),
  ],
  // kube-apiserver's horizontalpodautoscaler printer: NAME REFERENCE TARGETS MINPODS MAXPODS
  // REPLICAS AGE; REFERENCE is Kind/name, TARGETS each metric's current/target (table_hpa.ts),
  // REPLICAS the status' currentReplicas (0 until the autoscaler writes one).
  horizontalpodautoscalers: [
    nameColumn<HorizontalPodAutoscaler>(),
    { column: col("Reference", "string", 0, "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count."), cell: (h: HorizontalPodAutoscaler) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}` },
    { column: col("Targets", "string", 0, "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used)."), cell: (h: HorizontalPodAutoscaler) => hpaTargets(h) },
    { column: col("MinPods", "string", 0, "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down. It defaults to 1 pod."), cell: (h: HorizontalPodAutoscaler) => (h.spec.minReplicas === undefined ? "<unset>" : String(h.spec.minReplicas)) },
    { column: col("MaxPods", "string", 0, "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas."), cell: (h: HorizontalPodAutoscaler) => h.spec.maxReplicas },
    { column: col("Replicas", "string", 0, "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler."), cell: (h: HorizontalPodAutoscaler) => h.status?.currentReplicas ?? 0 },
    ageColumn<HorizontalPodAutoscaler>(),
  ],
  pods: [
    nameColumn<Pod>(),
    { column: col("Ready", "string", 0, "The aggregate readiness state of this pod for accepting traffic."), cell: (p: Pod) => podReady(p) },
    { column: col("Status", "string", 0, "The aggregate status of the containers in this pod."), cell: (p: Pod) => podStatus(p) },
    { column: col("Restarts", "string", 0, "The number of times the containers in this pod have been restarted."), cell: (p: Pod, now: number) => podRestarts(p, now) },
    ageColumn<Pod>(),
    { column: col("IP", "string", 1, "IP address allocated to the pod."), cell: (p: Pod) => p.status?.podIP || NONE },
    { column: col("Node", "string", 1, "Name of the node the pod is assigned to."), cell: (p: Pod) => p.spec.nodeName || NONE },
  ],
  replicationcontrollers: [
    nameColumn<ReplicationController>(),
    { column: col("Desired", "integer", 0, "Number of desired pods."), cell: (rc: ReplicationController) => rc.spec.replicas ?? 1 },
    { column: col("Current", "integer", 0, "Number of actually running pods."), cell: (rc: ReplicationController) => rc.status?.replicas ?? 0 },
    { column: col("Ready", "integer", 0, "Number of ready pods."), cell: (rc: ReplicationController) => rc.status?.readyReplicas ?? 0 },
    ageColumn<ReplicationController>(),
    { column: col("Containers", "string", 1), cell: (rc: ReplicationController) => (rc.spec.template?.spec.containers ?? []).map((c) => c.name).join(",") || NONE },
    { column: col("Images", "string", 1), cell: (rc: ReplicationController) => (rc.spec.template?.spec.containers ?? []).map((c) => c.image).join(",") || NONE },
    { column: col("Selector", "string", 1), cell: (rc: ReplicationController) => selectorString(rc.spec.selector) },
  ],
  services: [
    nameColumn<Service>(),
    { column: col("Type", "string"), cell: (s: Service) => s.spec.type ?? "ClusterIP" },
    { column: col("Cluster-IP", "string"), cell: (s: Service) => s.spec.clusterIP || NONE },
    { column: col("External-IP", "string"), cell: (s: Service) => serviceExternalIP(s) },
    { column: col("Port(s)", "string"), cell: (s: Service) => servicePorts(s) },
    ageColumn<Service>(),
    { column: col("Selector", "string", 1), cell: (s: Service) => selectorString(s.spec.selector) },
  ],
  endpoints: [
    nameColumn<Endpoints>(),
    { column: col("Endpoints", "string"), cell: (e: Endpoints) => endpointsString(e) },
    ageColumn<Endpoints>(),
  ],
  // kube-apiserver's endpointslice printer: NAME ADDRESSTYPE PORTS ENDPOINTS AGE (no wide columns).
  endpointslices: [
    nameColumn<EndpointSlice>(),
    { column: col("AddressType", "string", 0, "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name."), cell: (s: EndpointSlice) => s.addressType },
    { column: col("Ports", "string", 0, "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports."), cell: (s: EndpointSlice) => sliceCellPorts(s) },
    { column: col("Endpoints", "string", 0, "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints."), cell: (s: EndpointSlice) => sliceCellEndpoints(s) },
    ageColumn<EndpointSlice>(),
  ],
  nodes: [
    nameColumn<Node>(),
    { column: col("Status", "string"), cell: (n: Node) => nodeStatus(n) },
    { column: col("Roles", "string"), cell: (n: Node) => nodeRoles(n) },
    ageColumn<Node>(),
    { column: col("Version", "string"), cell: (n: Node) => n.status?.nodeInfo?.kubeletVersion || "" },
    { column: col("Internal-IP", "string", 1), cell: (n: Node) => nodeAddress(n, "InternalIP") },
    { column: col("External-IP", "string", 1), cell: (n: Node) => nodeAddress(n, "ExternalIP") },
    { column: col("OS-Image", "string", 1), cell: (n: Node) => n.status?.nodeInfo?.osImage || "<unknown>" },
    { column: col("Kernel-Version", "string", 1), cell: (n: Node) => n.status?.nodeInfo?.kernelVersion || "<unknown>" },
    { column: col("Container-Runtime", "string", 1), cell: (n: Node) => n.status?.nodeInfo?.containerRuntimeVersion || "<unknown>" },
  ],
  events: [
    { column: col("Last Seen", "string"), cell: (e: Event, now: number) => age(e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp, now) },
    { column: col("Type", "string"), cell: (e: Event) => e.type ?? "Normal" },
    { column: col("Reason", "string"), cell: (e: Event) => e.reason ?? "" },
    { column: col("Object", "string"), cell: (e: Event) => `${(e.involvedObject.kind ?? "").toLowerCase()}/${e.involvedObject.name ?? ""}` },
    { column: col("Message", "string"), cell: (e: Event) => (e.message ?? "").trim() },
    { column: col("Source", "string", 1), cell: (e: Event) => [e.source?.component, e.source?.host].filter(Boolean).join(", ") || e.reportingComponent || "" },
    { column: col("First Seen", "string", 1), cell: (e: Event, now: number) => age(e.firstTimestamp ?? e.metadata.creationTimestamp, now) },
    { column: col("Count", "integer", 1), cell: (e: Event) => e.count ?? 1 },
    { column: { ...col("Name", "string", 1), format: "name" }, cell: (e: Event) => e.metadata.name },
  ],
  namespaces: [
    nameColumn<Namespace>(),
    { column: col("Status", "string", 0, "The status of the namespace"), cell: (n: Namespace) => n.status?.phase ?? "Active" },
    ageColumn<Namespace>(),
  ],
  resourcequotas: [
    nameColumn<ResourceQuota>(),
    ageColumn<ResourceQuota>(),
    { column: col("Request", "string", 0, "Request represents a minimum amount of cpu/memory that a container may consume."), cell: (q: ResourceQuota) => quotaCell(q, (n) => !n.startsWith("limits.")) },
    { column: col("Limit", "string", 0, "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."), cell: (q: ResourceQuota) => quotaCell(q, (n) => n.startsWith("limits.")) },
  ],
  configmaps: [
    nameColumn<ConfigMap>(),
    { column: col("Data", "integer", 0, "Number of data items."), cell: (c: ConfigMap) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length },
    ageColumn<ConfigMap>(),
  ],
  secrets: [
    nameColumn<Secret>(),
    { column: col("Type", "string", 0, "The type of the secret."), cell: (s: Secret) => s.type || "Opaque" },
    { column: col("Data", "integer", 0, "Number of data items."), cell: (s: Secret) => Object.keys(s.data ?? {}).length },
    ageColumn<Secret>(),
  ],
  // kube-apiserver's job printer: NAME STATUS COMPLETIONS DURATION AGE; wide CONTAINERS IMAGES SELECTOR.
  jobs: [
    nameColumn<Job>(),
    { column: col("Status", "string", 0, "Status of the job."), cell: (j: Job) => jobStatus(j) },
    { column: col("Completions", "string", 0, "The number of pods which reached phase Succeeded."), cell: (j: Job) => jobCompletions(j) },
    { column: col("Duration", "string", 0, "Time required to complete the job."), cell: (j: Job, now: number) => jobDuration(j, now) },
    ageColumn<Job>(),
    { column: col("Containers", "string", 1, "Names of each container in the template."), cell: (j: Job) => templateContainers(j.spec.template) },
    { column: col("Images", "string", 1, "Images referenced by each container in the template."), cell: (j: Job) => templateImages(j.spec.template) },
    { column: col("Selector", "string", 1, "A label query over pods that should match the pod count."), cell: (j: Job) => specSelector(j.spec.selector) },
  ],
  // kube-apiserver's cronjob printer: NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE; wide
  // CONTAINERS IMAGES SELECTOR, of the job template.
  cronjobs: [
    nameColumn<CronJob>(),
    { column: col("Schedule", "string", 0, "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."), cell: (c: CronJob) => c.spec.schedule },
    { column: col("Timezone", "string", 0, "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process."), cell: (c: CronJob) => c.spec.timeZone ?? NONE },
    { column: col("Suspend", "boolean", 0, "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."), cell: (c: CronJob) => boolCell(c.spec.suspend) },
    { column: col("Active", "integer", 0, "A list of pointers to currently running jobs."), cell: (c: CronJob) => c.status?.active?.length ?? 0 },
    { column: col("Last Schedule", "string", 0, "Information when was the last time the job was successfully scheduled."), cell: (c: CronJob, now: number) => (c.status?.lastScheduleTime ? age(c.status.lastScheduleTime, now) : NONE) },
    ageColumn<CronJob>(),
    { column: col("Containers", "string", 1, "Names of each container in the template."), cell: (c: CronJob) => templateContainers(c.spec.jobTemplate?.spec?.template) },
    { column: col("Images", "string", 1, "Images referenced by each container in the template."), cell: (c: CronJob) => templateImages(c.spec.jobTemplate?.spec?.template) },
    { column: col("Selector", "string", 1, "A label query over pods that should match the pod count."), cell: (c: CronJob) => specSelector(c.spec.jobTemplate?.spec?.selector) },
  ],
  roles: createdAtColumns(),
  clusterroles: createdAtColumns(),
  rolebindings: bindingColumns("roleBinding"),
  clusterrolebindings: bindingColumns("clusterRoleBinding"),
  // kube-apiserver's printers: priorityclasses NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY, leases NAME HOLDER AGE.
  priorityclasses: [
    nameColumn<PriorityClass>(),
    { column: col("Value", "integer", 0, "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."), cell: (c: PriorityClass) => c.value },
    {
      column: col("Global-Default", "boolean", 0, "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority."),
      cell: (c: PriorityClass) => c.globalDefault === true,
    },
    ageColumn<PriorityClass>(),
    { column: col("PreemptionPolicy", "string", 0, "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."), cell: (c: PriorityClass) => c.preemptionPolicy ?? "" },
  ],
  leases: [
    nameColumn<Lease>(),
    { column: col("Holder", "string", 0, "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field."), cell: (l: Lease) => l.spec?.holderIdentity ?? "" },
    ageColumn<Lease>(),
  ],
  // kube-apiserver's networking printers: networkpolicies NAME POD-SELECTOR AGE, ingresses NAME
  // CLASS HOSTS ADDRESS PORTS AGE, ingressclasses NAME CONTROLLER PARAMETERS AGE.
  networkpolicies: [
    nameColumn<NetworkPolicy>(),
    {
      column: col("Pod-Selector", "string", 0, "Selects the pods to which this NetworkPolicy object applies. The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods. In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace."),
      cell: (p: NetworkPolicy) => formatSelectorGo(p.spec.podSelector),
    },
    ageColumn<NetworkPolicy>(),
  ],
  ingresses: [
    nameColumn<Ingress>(),
    { column: col("Class", "string", 0, "The name of the IngressClass resource that should be used for ingress"), cell: (i: Ingress) => i.spec.ingressClassName ?? NONE },
    { column: col("Hosts", "string", 0, "Hosts that incoming requests are matched against before the ingress rule"), cell: (i: Ingress) => ingressHosts(i) },
    { column: col("Address", "string", 0, "Address is a list containing ingress points for the load-balancer"), cell: (i: Ingress) => ingressAddress(i, false) },
    { column: col("Ports", "string", 0, "Ports of TLS configurations that open"), cell: (i: Ingress) => ingressPorts(i) },
    ageColumn<Ingress>(),
  ],
  ingressclasses: [
    nameColumn<IngressClass>(),
    { column: col("Controller", "string", 0, "Controller that is responsible for handling this class"), cell: (c: IngressClass) => c.spec.controller ?? "" },
    { column: col("Parameters", "string", 0, "A reference to a resource with additional parameters"), cell: (c: IngressClass) => ingressClassParameters(c) },
    ageColumn<IngressClass>(),
  ],
  serviceaccounts: [
    nameColumn<ServiceAccount>(),
    { column: col("Secrets", "string", 0, "Secrets is the list of secrets allowed to be used by pods running using this ServiceAccount."), cell: (a: ServiceAccount) => (a.secrets ?? []).length },
    ageColumn<ServiceAccount>(),
  ],
} as unknown as { [R in Resource]: ColumnSpec<never>[] };

/** apimachinery's `labels.FormatLabels`: `k=v` pairs sorted by key, joined by commas, or `<none>`. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length ? keys.map((k) => `${k}=${m![k]}`).join(",") : NONE;
}

/** Access modes as kubectl abbreviates them (`GetAccessModesAsString`): RWO, ROX, RWX, RWOP, in that order, each once. */
export function accessModesText(modes: readonly PersistentVolumeAccessMode[] | undefined): string {
  const short: [PersistentVolumeAccessMode, string][] = [["ReadWriteOnce", "RWO"], ["ReadOnlyMany", "ROX"], ["ReadWriteMany", "RWX"], ["ReadWriteOncePod", "RWOP"]];
  return short.filter(([m]) => modes?.includes(m)).map(([, s]) => s).join(",");
}

/** A claim's storage class as Kubernetes reads it (`GetPersistentVolumeClaimClass`): the beta annotation first, then the spec's; "" without either. */
export function claimClass(c: { metadata?: { annotations?: Record<string, string> }; spec: { storageClassName?: string } }): string {
  return c.metadata?.annotations?.["volume.beta.kubernetes.io/storage-class"] ?? c.spec.storageClassName ?? "";
}

/** An int-or-string as the printers show it (`2`, `50%`), `N/A` when it is not set. */
export const intOrStringCell = (v: number | string | undefined): string => (v === undefined ? "N/A" : String(v));

/** An optional boolean as the printers word it: `True`, `False`, or `<unset>`. */
const boolCell = (b: boolean | undefined) => (b === undefined ? "<unset>" : b ? "True" : "False");

/** kubectl's quota cell: `pods: 3/1000, services: 0/100` (used/hard, names sorted). */
function quotaCell(q: ResourceQuota, pick: (name: string) => boolean): string {
  const hard = q.status?.hard ?? q.spec?.hard ?? {};
  const used = q.status?.used ?? {};
  return Object.keys(hard).filter(pick).sort().map((n) => `${n}: ${used[n] ?? "0"}/${hard[n]}`).join(", ");
}

/** Builds the table of `objects` (all of kind `resource`) with kubectl's columns. */
export function toTable(resource: Resource, objects: readonly AnyObject[], opts: TableOptions = {}): ObjectTable {
  const now = opts.now === undefined ? Date.now() : typeof opts.now === "number" ? opts.now : opts.now.getTime();
  const specs = (COLUMNS[resource] as ColumnSpec<AnyObject>[]).filter((s) => opts.wide !== false || s.column.priority === 0);
  return {
    columns: specs.map((s) => s.column),
    rows: objects.map((object) => ({ cells: specs.map((s) => s.cell(object, now)), object })),
  };
}

export interface FormatOptions {
  /** Show priority-1 columns (`-o wide`). */
  wide?: boolean;
  /** Prepend a NAMESPACE column (`--all-namespaces`). */
  showNamespace?: boolean;
  noHeaders?: boolean;
  /** At least these column widths (the rows of `-w` line up under the table printed first). */
  minWidths?: number[];
}

/** The width of each printed column of `table` (header included unless `noHeaders`). */
export function columnWidths(table: ObjectTable, opts: FormatOptions = {}): number[] {
  const lines = tableLines(table, opts);
  return lines.length ? lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length), opts.minWidths?.[i] ?? 0)) : [];
}

function tableLines(table: ObjectTable, opts: FormatOptions): string[][] {
  const keep = table.columns.map((c, i) => [c, i] as const).filter(([c]) => opts.wide || c.priority === 0);
  const header = keep.map(([c]) => c.name.toUpperCase());
  const lines: string[][] = table.rows.map((r) => keep.map(([, i]) => String(r.cells[i] ?? "")));
  if (opts.showNamespace) {
    header.unshift("NAMESPACE");
    table.rows.forEach((r, i) => lines[i].unshift(r.object.metadata.namespace ?? ""));
  }
  if (!opts.noHeaders) lines.unshift(header);
  return lines;
}

/** Renders a table as kubectl prints it: upper-case headers, columns padded to width + 3. */
export function formatTable(table: ObjectTable, opts: FormatOptions = {}): string {
  const lines = tableLines(table, opts);
  if (lines.length === 0) return "";
  const widths = columnWidths(table, opts);
  return lines
    .map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i] + 3))).join("").trimEnd())
    .join("\n") + "\n";
}

/** The `meta.k8s.io/v1` Table wire object, as the API server sends it. */
export interface MetaTable {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string; continue?: string };
  columnDefinitions: TableColumn[];
  rows: { cells: unknown[]; object?: unknown }[];
}

/**
 * Wraps a table for the wire. `includeObject` follows the `includeObject` query parameter:
 * `Metadata` (the default) sends a PartialObjectMetadata per row, `Object` the whole object.
 */
export function toMetaTable(
  table: ObjectTable,
  meta: { resourceVersion?: string; continue?: string },
  includeObject: "None" | "Metadata" | "Object" = "Metadata",
): MetaTable {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}), ...(meta.continue ? { continue: meta.continue } : {}) },
    columnDefinitions: table.columns,
    rows: table.rows.map((r) => ({
      cells: r.cells,
      ...(includeObject === "None"
        ? {}
        : {
            object: includeObject === "Object"
              ? r.object
              : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: r.object.metadata },
          }),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// cells

/** kubectl's human duration ("45s", "3m20s", "5h", "12d"), for a timestamp before `now`. */
export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return "<unknown>";
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now - t);
}

/** apimachinery's HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 2) return `${days}d`;
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function podReady(p: Pod): string {
  const statuses = p.status?.containerStatuses ?? [];
  const ready = statuses.filter((c) => c.ready && c.state.running).length;
  return `${ready}/${p.spec.containers.length}`;
}

/** kubectl's STATUS: the phase, overridden by a container's waiting/terminated reason, or Terminating. */
export function podStatus(p: Pod): string {
  let reason: string = p.status?.reason || p.status?.phase || "Pending";
  let hasRunning = false;
  // Init containers first, as kubectl prints them: the first one not finished with 0 decides.
  const inits = p.status?.initContainerStatuses ?? [];
  const total = p.spec.initContainers?.length ?? inits.length;
  let initializing = false;
  for (let i = 0; i < inits.length; i++) {
    const s = inits[i].state;
    if (s.terminated && s.terminated.exitCode === 0) continue;
    if (s.terminated) {
      reason = s.terminated.reason
        ? `Init:${s.terminated.reason}`
        : s.terminated.signal ? `Init:Signal:${s.terminated.signal}` : `Init:ExitCode:${s.terminated.exitCode}`;
    } else if (s.waiting?.reason && s.waiting.reason !== "PodInitializing") {
      reason = `Init:${s.waiting.reason}`;
    } else {
      reason = `Init:${i}/${total}`;
    }
    initializing = true;
    break;
  }
  const statuses = initializing ? [] : p.status?.containerStatuses ?? [];
  for (let i = statuses.length - 1; i >= 0; i--) {
    const s = statuses[i].state;
    if (s.waiting?.reason) reason = s.waiting.reason;
    else if (s.terminated?.reason) reason = s.terminated.reason;
    else if (s.terminated) reason = s.terminated.signal ? `Signal:${s.terminated.signal}` : `ExitCode:${s.terminated.exitCode}`;
    else if (statuses[i].ready && s.running) hasRunning = true;
  }
  if (reason === "Completed" && hasRunning) {
    const ready = p.status?.conditions?.find((c) => c.type === "Ready");
    reason = ready?.status === "True" ? "Running" : "NotReady";
  }
  if (p.metadata.deletionTimestamp) reason = p.status?.reason === "NodeLost" ? "Unknown" : "Terminating";
  return reason;
}

function podRestarts(p: Pod, now: number): string {
  let restarts = 0;
  let last: number | undefined;
  // While initializing, kubectl counts the init containers' restarts; afterwards the app's.
  const initializing = podStatus(p).startsWith("Init:");
  for (const c of (initializing ? p.status?.initContainerStatuses : p.status?.containerStatuses) ?? []) {
    restarts += c.restartCount;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) {
      const t = Date.parse(finished);
      if (!Number.isNaN(t) && (last === undefined || t > last)) last = t;
    }
  }
  return restarts > 0 && last !== undefined ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
}

function selectorString(sel: Record<string, string> | undefined): string {
  const parts = Object.entries(sel ?? {}).map(([k, v]) => `${k}=${v}`);
  return parts.length ? parts.join(",") : NONE;
}

function serviceExternalIP(s: Service): string {
  // kubectl prints an ExternalName service's alias here.
  if (s.spec.type === "ExternalName") return s.spec.externalName || NONE;
  const external = s.spec.externalIPs ?? [];
  if (s.spec.type === "LoadBalancer") {
    const ingress = (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter(Boolean);
    const all = [...ingress, ...external];
    return all.length ? all.join(",") : "<pending>";
  }
  return external.length ? external.join(",") : NONE;
}

function servicePorts(s: Service): string {
  const ports = s.spec.ports ?? [];
  if (!ports.length) return NONE;
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
}

function endpointsString(e: Endpoints): string {
  const all: string[] = [];
  for (const subset of e.subsets ?? []) {
    for (const a of subset.addresses ?? []) {
      if (!subset.ports?.length) all.push(a.ip);
      for (const p of subset.ports ?? []) all.push(`${a.ip}:${p.port}`);
    }
  }
  if (!all.length) return NONE;
  return all.length > 3 ? `${all.slice(0, 3).join(",")} + ${all.length - 3} more...` : all.join(",");
}

/**
 * A job's STATUS as the printer words it: Complete or Failed once finished (the condition of
 * that type, when it is True), then Terminating while being deleted, Suspended, FailureTarget
 * (failed, its pods still being cleaned up), and Running otherwise.
 */
export function jobStatus(j: Job): string {
  const holds = (type: string) => j.status?.conditions?.find((c) => c.type === type)?.status === "True";
  if (holds("Complete")) return "Complete";
  if (holds("Failed")) return "Failed";
  if (j.metadata.deletionTimestamp) return "Terminating";
  if (holds("Suspended")) return "Suspended";
  if (holds("FailureTarget")) return "FailureTarget";
  return "Running";
}

/**
 * COMPLETIONS: succeeded out of `spec.completions`; a work queue (completions unset) needs one
 * success, and names its parallelism when that is above 1 (`0/1 of 3`).
 */
export function jobCompletions(j: Job): string {
  const succeeded = j.status?.succeeded ?? 0;
  if (typeof j.spec.completions === "number") return `${succeeded}/${j.spec.completions}`;
  const parallelism = j.spec.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/**
 * DURATION: empty until the job has started, the time since it started while it runs, and from
 * start to completion once complete (a failed job has no completion time: it keeps counting).
 */
export function jobDuration(j: Job, now: number): string {
  const start = j.status?.startTime ? Date.parse(j.status.startTime) : NaN;
  if (Number.isNaN(start)) return "";
  const done = j.status?.completionTime ? Date.parse(j.status.completionTime) : NaN;
  return humanDuration((Number.isNaN(done) ? now : done) - start);
}

function nodeStatus(n: Node): string {
  const ready = n.status?.conditions?.find((c) => c.type === "Ready");
  const status = ready === undefined ? "Unknown" : ready.status === "True" ? "Ready" : "NotReady";
  return n.spec.unschedulable ? `${status},SchedulingDisabled` : status;
}

function nodeRoles(n: Node): string {
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(",") : NONE;
}

function nodeAddress(n: Node, type: "InternalIP" | "ExternalIP"): string {
  return n.status?.addresses?.find((a) => a.type === type)?.address || NONE;
}
