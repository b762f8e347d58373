/**
 * What the live page draws, and nothing more: each stored object slimmed to the fields the
 * picture shows. The server sends these instead of whole objects (a 5,000-pod cluster is a
 * tenth of the bytes), and the browser bundle imports the same types, so both ends agree.
 *
 * Pure: model types in, plain data out; no I/O.
 */
import { mapMatches, matchesLabels, selectorFromMap, selectorFromSpec, type LabelSelector } from "../../model/selector.ts";
import type {
  CronJob,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  LabelSelectorSpec,
  Node,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  ReplicationController,
  ScalableResource,
  Service,
  StatefulSet,
} from "../../model/types.ts";
import { cronJobView, jobView, type CronJobView, type JobView } from "./view_jobs.ts";

export type { CronJobView, JobView };

/** The kinds the page draws, by their resource name. */
export const VIEW_KINDS = [
  "nodes",
  "pods",
  "services",
  "endpoints",
  "replicationcontrollers",
  "deployments",
  "replicasets",
  "statefulsets",
  "daemonsets",
  "jobs",
  "cronjobs",
  "poddisruptionbudgets",
  "events",
] as const;
export type ViewKind = (typeof VIEW_KINDS)[number];

export interface NodeView {
  name: string;
  /** The Ready condition's status; "Unknown" when the node has not reported one. */
  ready: "True" | "False" | "Unknown";
  unschedulable: boolean;
  address?: string;
  labels: Record<string, string>;
}

export interface ContainerView {
  name: string;
  image: string;
  ready: boolean;
  restarts: number;
  /** running, waiting (with its reason) or terminated (with its reason). */
  state: string;
}

export interface PodView {
  namespace: string;
  name: string;
  uid: string;
  node?: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Set once deletion has begun (graceful termination). */
  terminating: boolean;
  ip?: string;
  labels: Record<string, string>;
  containers: ContainerView[];
  /** The controlling owner, e.g. "ReplicationController/backend". */
  owner?: string;
  created?: string;
}

export interface ServicePortView {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol: string;
  nodePort?: number;
}

export interface ServiceView {
  namespace: string;
  name: string;
  type: string;
  clusterIP?: string;
  /** The alias of an ExternalName service. */
  externalName?: string;
  ports: ServicePortView[];
  selector: Record<string, string>;
}

export interface EndpointsView {
  namespace: string;
  name: string;
  /** Names of the pods behind the ready addresses. */
  ready: string[];
  notReady: string[];
}

/** The controllers the page draws as desired / current / ready: each keeps a count of pods picked by its selector. */
export type ControllerKind = "ReplicationController" | "ReplicaSet" | "Deployment" | "StatefulSet" | "DaemonSet";

/**
 * The resource each controller kind is scaled through (its `/scale` subresource). A DaemonSet
 * has none: it runs one pod on each node that should run it, whatever anyone asks.
 */
export const SCALE_RESOURCE: { readonly [K in ControllerKind]?: ScalableResource } = {
  ReplicationController: "replicationcontrollers",
  ReplicaSet: "replicasets",
  Deployment: "deployments",
  StatefulSet: "statefulsets",
};

export interface ControllerView {
  kind: ControllerKind;
  namespace: string;
  name: string;
  desired: number;
  current: number;
  ready: number;
  /** An RC's selector map, or an apps/v1 selector's matchLabels. */
  selector: Record<string, string>;
  /** An apps/v1 selector's matchExpressions, when it has any. */
  expressions?: NonNullable<LabelSelectorSpec["matchExpressions"]>;
  /** A ReplicaSet's controlling Deployment, by name. */
  owner?: string;
  /** StatefulSets and DaemonSets: pods (a DaemonSet: nodes) at the newest template. */
  updated?: number;
}

/** A policy/v1 PodDisruptionBudget: how many of the pods it picks must stay healthy during evictions. */
export interface BudgetView {
  kind: "PodDisruptionBudget";
  namespace: string;
  name: string;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  /** 0 until the disruption controller has counted the budget's pods. */
  disruptionsAllowed: number;
  /** Absent: picks no pod; `{}`: every pod of its namespace. */
  selector?: LabelSelectorSpec;
  /** Why the controller could not count the budget (its DisruptionAllowed condition's SyncFailed message). */
  problem?: string;
}

export interface EventView {
  namespace: string;
  name: string;
  type: string;
  reason: string;
  message: string;
  /** "Pod/backend-x2k9f" */
  object: string;
  count: number;
  time: string;
}

export interface ViewTypes {
  nodes: NodeView;
  pods: PodView;
  services: ServiceView;
  endpoints: EndpointsView;
  replicationcontrollers: ControllerView;
  deployments: ControllerView;
  replicasets: ControllerView;
  statefulsets: ControllerView;
  daemonsets: ControllerView;
  jobs: JobView;
  cronjobs: CronJobView;
  poddisruptionbudgets: BudgetView;
  events: EventView;
}

/** One change for the page: an object put (added or modified) or deleted, by key. */
export type ViewChange =
  | { kind: ViewKind; op: "put"; key: string; obj: ViewTypes[ViewKind] }
  | { kind: ViewKind; op: "del"; key: string };

/** What travels on the page's event stream. */
export type FeedMessage =
  | { type: "snapshot"; items: { [K in ViewKind]: ViewTypes[K][] } }
  | { type: "relist"; kind: ViewKind; items: ViewTypes[ViewKind][] }
  | { type: "changes"; changes: ViewChange[] };

/** The page's key for an object: `namespace/name`, or the name of a cluster-scoped one. */
export function viewKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function nodeView(n: Node): NodeView {
  const ready = n.status?.conditions?.find((c) => c.type === "Ready")?.status ?? "Unknown";
  const address = n.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
  return { name: n.metadata.name, ready, unschedulable: !!n.spec?.unschedulable, address, labels: n.metadata.labels ?? {} };
}

export function podView(p: Pod): PodView {
  const statuses = p.status?.containerStatuses ?? [];
  const containers: ContainerView[] = (p.spec?.containers ?? []).map((c) => {
    const s = statuses.find((x) => x.name === c.name);
    const state = s?.state?.running
      ? "running"
      : s?.state?.waiting
        ? `waiting${s.state.waiting.reason ? `: ${s.state.waiting.reason}` : ""}`
        : s?.state?.terminated
          ? `terminated${s.state.terminated.reason ? `: ${s.state.terminated.reason}` : ""}`
          : "waiting";
    return { name: c.name, image: c.image, ready: !!s?.ready, restarts: s?.restartCount ?? 0, state };
  });
  const owner = p.metadata.ownerReferences?.find((o) => o.controller) ?? p.metadata.ownerReferences?.[0];
  return {
    namespace: p.metadata.namespace ?? "default",
    name: p.metadata.name,
    uid: p.metadata.uid ?? "",
    node: p.spec?.nodeName || undefined,
    phase: p.status?.phase ?? "Pending",
    ready: p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True",
    restarts: containers.reduce((a, c) => a + c.restarts, 0),
    terminating: !!p.metadata.deletionTimestamp,
    ip: p.status?.podIP,
    labels: p.metadata.labels ?? {},
    containers,
    owner: owner ? `${owner.kind}/${owner.name}` : undefined,
    created: p.metadata.creationTimestamp,
  };
}

export function serviceView(s: Service): ServiceView {
  return {
    namespace: s.metadata.namespace ?? "default",
    name: s.metadata.name,
    type: s.spec?.type ?? "ClusterIP",
    clusterIP: s.spec?.clusterIP,
    ...(s.spec?.type === "ExternalName" && s.spec.externalName ? { externalName: s.spec.externalName } : {}),
    ports: (s.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol ?? "TCP", nodePort: p.nodePort })),
    selector: s.spec?.selector ?? {},
  };
}

export function endpointsView(e: Endpoints): EndpointsView {
  const names = (as: { targetRef?: { kind: string; name: string }; ip: string }[] | undefined) =>
    (as ?? []).filter((a) => a.targetRef?.kind === "Pod").map((a) => a.targetRef!.name);
  return {
    namespace: e.metadata.namespace ?? "default",
    name: e.metadata.name,
    ready: (e.subsets ?? []).flatMap((s) => names(s.addresses)),
    notReady: (e.subsets ?? []).flatMap((s) => names(s.notReadyAddresses)),
  };
}

/**
 * A controller slimmed to desired / current / ready and its selector. A DaemonSet's counts are of
 * nodes: those that should run its pod, those that do, those whose pod is Ready.
 */
export function controllerView(c: ReplicationController | ReplicaSet | Deployment | StatefulSet | DaemonSet, kind: ControllerKind = "ReplicationController"): ControllerView {
  const base = { kind, namespace: c.metadata.namespace ?? "default", name: c.metadata.name };
  switch (kind) {
    case "ReplicationController": {
      const rc = c as ReplicationController;
      const counts = { desired: rc.spec?.replicas ?? 1, current: rc.status?.replicas ?? 0, ready: rc.status?.readyReplicas ?? 0 };
      return { ...base, ...counts, selector: rc.spec?.selector ?? rc.spec?.template?.metadata?.labels ?? {} };
    }
    case "DaemonSet": {
      const ds = c as DaemonSet;
      const s = ds.status;
      const counts = { desired: s?.desiredNumberScheduled ?? 0, current: s?.currentNumberScheduled ?? 0, ready: s?.numberReady ?? 0, updated: s?.updatedNumberScheduled ?? 0 };
      return withSelector({ ...base, ...counts }, ds.spec?.selector);
    }
    case "StatefulSet": {
      const sts = c as StatefulSet;
      const s = sts.status;
      const counts = { desired: sts.spec?.replicas ?? 1, current: s?.replicas ?? 0, ready: s?.readyReplicas ?? 0, updated: s?.updatedReplicas ?? 0 };
      return withSelector({ ...base, ...counts }, sts.spec?.selector);
    }
    case "ReplicaSet":
    case "Deployment": {
      const d = c as ReplicaSet | Deployment;
      const view = withSelector({ ...base, desired: d.spec?.replicas ?? 1, current: d.status?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 }, d.spec?.selector);
      const owner = c.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Deployment");
      if (kind === "ReplicaSet" && owner) view.owner = owner.name;
      return view;
    }
  }
}

function withSelector(v: Omit<ControllerView, "selector">, spec: LabelSelectorSpec | undefined): ControllerView {
  const view: ControllerView = { ...v, selector: spec?.matchLabels ?? {} };
  if (spec?.matchExpressions?.length) view.expressions = spec.matchExpressions;
  return view;
}

/** A budget slimmed to its rule, its counts and its selector; a budget not yet counted allows nothing. */
export function budgetView(b: PodDisruptionBudget): BudgetView {
  const s = b.status;
  const view: BudgetView = {
    kind: "PodDisruptionBudget",
    namespace: b.metadata.namespace ?? "default",
    name: b.metadata.name,
    currentHealthy: s?.currentHealthy ?? 0,
    desiredHealthy: s?.desiredHealthy ?? 0,
    expectedPods: s?.expectedPods ?? 0,
    disruptionsAllowed: s?.disruptionsAllowed ?? 0,
  };
  if (b.spec?.minAvailable !== undefined) view.minAvailable = b.spec.minAvailable;
  if (b.spec?.maxUnavailable !== undefined) view.maxUnavailable = b.spec.maxUnavailable;
  if (b.spec?.selector) view.selector = b.spec.selector;
  const failed = s?.conditions?.find((c) => c.type === "DisruptionAllowed" && c.reason === "SyncFailed");
  if (failed?.message) view.problem = failed.message;
  return view;
}

/** The parsed selector of a drawn controller: equality-only for an RC, apps/v1 for the others. */
export function controllerSelector(c: ControllerView): LabelSelector {
  return c.kind === "ReplicationController" ? selectorFromMap(c.selector) : selectorFromSpec({ matchLabels: c.selector, matchExpressions: c.expressions });
}

/** Does a controller's selector pick these labels? */
export const controllerPicks = (c: ControllerView, labels: Record<string, string>): boolean => matchesLabels(controllerSelector(c), labels);

export function eventView(e: Event): EventView {
  return {
    namespace: e.metadata.namespace ?? "default",
    name: e.metadata.name,
    type: e.type ?? "Normal",
    reason: e.reason ?? "",
    message: e.message ?? "",
    object: `${e.involvedObject?.kind ?? "?"}/${e.involvedObject?.name ?? "?"}`,
    count: e.count ?? 1,
    time: e.lastTimestamp ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? "",
  };
}

/** Slims one stored object of a drawn kind. */
export function toView(kind: ViewKind, obj: unknown): ViewTypes[ViewKind] {
  switch (kind) {
    case "nodes":
      return nodeView(obj as Node);
    case "pods":
      return podView(obj as Pod);
    case "services":
      return serviceView(obj as Service);
    case "endpoints":
      return endpointsView(obj as Endpoints);
    case "replicationcontrollers":
      return controllerView(obj as ReplicationController, "ReplicationController");
    case "deployments":
      return controllerView(obj as Deployment, "Deployment");
    case "replicasets":
      return controllerView(obj as ReplicaSet, "ReplicaSet");
    case "statefulsets":
      return controllerView(obj as StatefulSet, "StatefulSet");
    case "daemonsets":
      return controllerView(obj as DaemonSet, "DaemonSet");
    case "jobs":
      return jobView(obj as Job);
    case "cronjobs":
      return cronJobView(obj as CronJob);
    case "poddisruptionbudgets":
      return budgetView(obj as PodDisruptionBudget);
    case "events":
      return eventView(obj as Event);
  }
}

/** Does an equality selector pick these labels? An empty selector picks nothing, as for RCs. */
export const selectorPicks = (selector: Record<string, string>, labels: Record<string, string>): boolean => mapMatches(selector, labels);
