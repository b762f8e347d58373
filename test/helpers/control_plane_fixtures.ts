/**
 * Builders of plain core/v1 objects for the control-plane unit tests (scheduler, replication
 * controller, node lifecycle). Only the fields those decisions read are filled in.
 */
import type { Node, Pod, ReplicationController } from "../../model/types.ts";

export const T0 = Date.parse("2024-01-01T00:00:00Z");
export const iso = (ms: number) => new Date(ms).toISOString();

export function node(name: string, o: { ready?: boolean | "Unknown"; cpu?: string; memory?: string; pods?: number; labels?: Record<string, string>; unschedulable?: boolean; heartbeat?: number; taint?: boolean; transition?: number } = {}): Node {
  const ready = o.ready ?? true;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: o.labels, creationTimestamp: iso(T0) },
    spec: { unschedulable: o.unschedulable, ...(o.taint ? { taints: [{ key: "k", effect: "NoSchedule" as const }] } : {}) },
    status: {
      allocatable: { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: String(o.pods ?? 110) },
      conditions: [{
        type: "Ready",
        status: ready === "Unknown" ? "Unknown" : ready ? "True" : "False",
        lastHeartbeatTime: iso(o.heartbeat ?? T0),
        lastTransitionTime: iso(o.transition ?? T0),
      }],
    },
  };
}

export interface PodOpts {
  ns?: string;
  labels?: Record<string, string>;
  node?: string;
  cpu?: string;
  memory?: string;
  hostPort?: number;
  owner?: string;
  phase?: Pod["status"] extends infer S ? S extends { phase?: infer P } ? P : never : never;
  ready?: boolean;
  readySince?: number;
  restarts?: number;
  created?: number;
  deleting?: boolean;
  nodeSelector?: Record<string, string>;
}

export function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.ns ?? "default",
      uid: `uid-${name}`,
      labels: o.labels,
      creationTimestamp: iso(o.created ?? T0),
      ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}),
      ...(o.owner ? { ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: o.owner, uid: `uid-${o.owner}`, controller: true }] } : {}),
    },
    spec: {
      nodeName: o.node,
      nodeSelector: o.nodeSelector,
      containers: [{
        name: "c",
        image: "berth/busybox",
        resources: o.cpu || o.memory ? { requests: { ...(o.cpu ? { cpu: o.cpu } : {}), ...(o.memory ? { memory: o.memory } : {}) } } : undefined,
        ports: o.hostPort ? [{ containerPort: 80, hostPort: o.hostPort }] : undefined,
      }],
    },
    status: {
      phase: o.phase ?? (o.node ? "Running" : "Pending"),
      conditions: o.ready !== undefined ? [{ type: "Ready", status: o.ready ? "True" : "False", lastTransitionTime: iso(o.readySince ?? T0) }] : [],
      containerStatuses: [{ name: "c", ready: !!o.ready, restartCount: o.restarts ?? 0, image: "berth/busybox", state: {} }],
    },
  };
}

export function rc(name: string, replicas: number, o: { selector?: Record<string, string>; ns?: string; generation?: number; minReadySeconds?: number; status?: ReplicationController["status"]; deleting?: boolean } = {}): ReplicationController {
  const selector = o.selector ?? { app: name };
  return {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name, namespace: o.ns ?? "default", uid: `uid-${name}`, generation: o.generation ?? 1, ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: {
      replicas,
      selector,
      minReadySeconds: o.minReadySeconds,
      template: { metadata: { labels: { ...selector } }, spec: { containers: [{ name: "c", image: "berth/busybox" }] } },
    },
    status: o.status,
  };
}
