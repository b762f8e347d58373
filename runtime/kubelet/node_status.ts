/**
 * Pure construction of the Node object a node agent registers and of its heartbeat status.
 * Machine facts (cores, memory, kernel) come in as data so the functions stay testable.
 */
import type { Condition, Node, NodeStatus } from "../../model/types.ts";

export interface MachineFacts {
  cpus: number;
  memoryBytes: number;
  maxPods: number;
  kernelVersion: string;
  operatingSystem: string;
  architecture: string;
  osImage: string;
  runtimeVersion: string;
}

export function nodeObject(name: string, advertiseAddress: string, labels: Record<string, string>, facts: MachineFacts): Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": facts.operatingSystem,
        "kubernetes.io/arch": facts.architecture,
        ...labels,
      },
    },
    spec: {},
  };
}

export function nodeStatus(
  advertiseAddress: string,
  name: string,
  facts: MachineFacts,
  ready: { ready: boolean; reason?: string; message?: string },
  previous: NodeStatus | undefined,
  now: string,
): NodeStatus {
  const capacity = {
    cpu: String(facts.cpus),
    memory: `${Math.floor(facts.memoryBytes / 1024)}Ki`,
    pods: String(facts.maxPods),
  };
  const status = ready.ready ? "True" : "False";
  const old = previous?.conditions?.find((c) => c.type === "Ready");
  const cond: Condition = {
    type: "Ready",
    status,
    reason: ready.reason ?? (ready.ready ? "KubeletReady" : "KubeletNotReady"),
    message: ready.message ?? (ready.ready ? "berth node agent is posting ready status" : "not ready"),
    lastHeartbeatTime: now,
    lastTransitionTime: old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
  return {
    capacity,
    allocatable: capacity,
    conditions: [cond],
    addresses: [
      { type: "InternalIP", address: advertiseAddress },
      { type: "Hostname", address: name },
    ],
    nodeInfo: {
      containerRuntimeVersion: facts.runtimeVersion,
      kubeletVersion: "v1.0.0-berth",
      kubeProxyVersion: "v1.0.0-berth",
      operatingSystem: facts.operatingSystem,
      architecture: facts.architecture,
      osImage: facts.osImage,
      kernelVersion: facts.kernelVersion,
    },
  };
}
