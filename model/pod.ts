/**
 * Facts about pods that several parts read: readiness, and the host ports a pod asks for or was
 * given. One definition each, so the scheduler, the endpoints controller, the kubelet, the table
 * printer and the chaos observer cannot disagree.
 */
import type { Pod } from "./types.ts";

/**
 * The pod annotation in which the node agent records where the pod's container ports were
 * published on the node (JSON `{"<containerPort>/<protocol>": hostPort}`), so a proxy on another
 * machine can reach the pod without an overlay network.
 */
export const HOST_PORTS_ANNOTATION = "berth.dev/host-ports";

/** A pod counts as ready when its `Ready` condition is True. */
export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
}

/** When the pod last became Ready (ms since the epoch), 0 when unknown or not ready. */
export function podReadySince(pod: Pod): number {
  const t = pod.status?.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime;
  return t ? Date.parse(t) : 0;
}

/**
 * The host ports a pod's spec *asks for* (`containers[].ports[].hostPort`), as `protocol/port`
 * strings: what the scheduler must not give twice on one node.
 */
export function requestedHostPorts(pod: Pod): string[] {
  const out: string[] = [];
  for (const c of pod.spec.containers ?? []) {
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${p.protocol ?? "TCP"}/${p.hostPort}`);
  }
  return out;
}

/**
 * Where the node agent *published* the pod's container ports, parsed from
 * {@link HOST_PORTS_ANNOTATION}; a malformed annotation counts as absent.
 */
export function publishedHostPorts(pod: Pod): Record<string, number> {
  const raw = pod.metadata.annotations?.[HOST_PORTS_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(parsed)) {
      if (typeof v === "number" && Number.isInteger(v) && v > 0 && v < 65536) out[k] = v;
    }
    return out;
  } catch {
    // Written by the node agent; a broken value only costs the host-port fallback.
    return {};
  }
}
