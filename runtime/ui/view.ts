/**
 * What the live page draws, and nothing more: each stored object slimmed to the fields the
 * picture shows. The server sends these instead of whole objects (a 5,000-pod cluster is a
 * tenth of the bytes), and the browser bundle imports the same types, so both ends agree.
 *
 * Pure: model types in, plain data out; no I/O.
 */
import { mapMatches, matchesLabels, selectorFromMap, selectorFromSpec, type LabelSelector } from "../../model/selector.ts";
import type { Deployment, Endpoints, Event, LabelSelectorSpec, Node, Pod, ReplicaSet, ReplicationController, Service } from "../../model/types.ts";

/** The kinds the page draws, by their resource name. */
export const VIEW_KINDS = ["nodes", "pods", "services", "endpoints", "replicationcontrollers", "deployments", "replicasets", "events"] as const;
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

/** The controllers the page draws: each keeps a count of pods picked by its selector. */
export type ControllerKind = "ReplicationController" | "ReplicaSet" | "Deployment";

/** The resource each controller kind is scaled through. */
export const CONTROLLER_RESOURCE = {
  ReplicationController: "replicationcontrollers",
  ReplicaSet: "replicasets",
  Deployment: "deployments",
} as const satisfies Record<ControllerKind, string>;

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

/** An RC, ReplicaSet or Deployment slimmed to desired / current / ready and its selector. */
export function controllerView(c: ReplicationController | ReplicaSet | Deployment, kind: ControllerKind = "ReplicationController"): ControllerView {
  const base = {
    kind,
    namespace: c.metadata.namespace ?? "default",
    name: c.metadata.name,
    desired: c.spec?.replicas ?? 1,
    current: c.status?.replicas ?? 0,
    ready: c.status?.readyReplicas ?? 0,
  };
  if (kind === "ReplicationController") {
    const rc = c as ReplicationController;
    return { ...base, selector: rc.spec?.selector ?? rc.spec?.template?.metadata?.labels ?? {} };
  }
  const spec = (c as ReplicaSet | Deployment).spec?.selector;
  const view: ControllerView = { ...base, selector: spec?.matchLabels ?? {} };
  if (spec?.matchExpressions?.length) view.expressions = spec.matchExpressions;
  const owner = c.metadata.ownerReferences?.find((o) => o.controller && o.kind === "Deployment");
  if (kind === "ReplicaSet" && owner) view.owner = owner.name;
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
    case "events":
      return eventView(obj as Event);
  }
}

/** Does an equality selector pick these labels? An empty selector picks nothing, as for RCs. */
export const selectorPicks = (selector: Record<string, string>, labels: Record<string, string>): boolean => mapMatches(selector, labels);
