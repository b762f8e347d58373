/**
 * Pure probe logic: Kubernetes defaults for probe fields, resolving a named port, and the
 * success/failure thresholds that turn single probe outcomes into a result change.
 */
import type { Container, Probe } from "../../model/types.ts";

/** A probe with every Kubernetes default filled in. */
export interface ResolvedProbe {
  action:
    | { type: "exec"; command: string[] }
    | { type: "httpGet"; port: number; path: string; host?: string; scheme: "HTTP" | "HTTPS"; headers: Record<string, string> }
    | { type: "tcpSocket"; port: number; host?: string }
    /** grpc.health.v1.Health/Check on the pod IP; `service` "" asks about the whole server. */
    | { type: "grpc"; port: number; service: string };
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
}

/** Thrown for a probe that names a port the container does not declare, or has no action. */
export class ProbeSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProbeSpecError";
  }
}

export function resolvePort(c: Container, port: number | string): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = c.ports?.find((x) => x.name === port);
  if (!p) throw new ProbeSpecError(`container ${c.name} has no port named ${JSON.stringify(port)}`);
  return p.containerPort;
}

/** Fills Kubernetes defaults: period 10 s, timeout 1 s, failureThreshold 3, successThreshold 1. */
export function resolveProbe(c: Container, p: Probe): ResolvedProbe {
  const timing = {
    initialDelayMs: (p.initialDelaySeconds ?? 0) * 1000,
    periodMs: (p.periodSeconds ?? 10) * 1000,
    timeoutMs: (p.timeoutSeconds ?? 1) * 1000,
    failureThreshold: p.failureThreshold ?? 3,
    successThreshold: p.successThreshold ?? 1,
  };
  if (p.exec) return { action: { type: "exec", command: p.exec.command }, ...timing };
  if (p.httpGet) {
    const headers: Record<string, string> = {};
    for (const h of p.httpGet.httpHeaders ?? []) headers[h.name] = h.value;
    return {
      action: {
        type: "httpGet",
        port: resolvePort(c, p.httpGet.port),
        path: p.httpGet.path ?? "/",
        host: p.httpGet.host,
        scheme: p.httpGet.scheme ?? "HTTP",
        headers,
      },
      ...timing,
    };
  }
  if (p.tcpSocket) return { action: { type: "tcpSocket", port: resolvePort(c, p.tcpSocket.port), host: p.tcpSocket.host }, ...timing };
  // A number only: Kubernetes' GRPCAction has no named ports. Service defaults to "", as kube-apiserver's.
  if (p.grpc) return { action: { type: "grpc", port: p.grpc.port, service: p.grpc.service ?? "" }, ...timing };
  throw new ProbeSpecError(`probe of container ${c.name} has no exec, httpGet, tcpSocket or grpc`);
}

/** Consecutive outcomes and the current result of one probe of one container attempt. */
export interface ProbeCounter {
  result: "unknown" | "success" | "failure";
  successes: number;
  failures: number;
}

export const NEW_COUNTER: ProbeCounter = { result: "unknown", successes: 0, failures: 0 };

/**
 * Folds one outcome in. `changed` is true when the result flips (or first becomes known) —
 * the moment the pod actor must act.
 */
export function applyOutcome(c: ProbeCounter, ok: boolean, p: Pick<ResolvedProbe, "failureThreshold" | "successThreshold">): { counter: ProbeCounter; changed: boolean } {
  const successes = ok ? c.successes + 1 : 0;
  const failures = ok ? 0 : c.failures + 1;
  let result = c.result;
  if (ok && successes >= (c.result === "failure" || c.result === "unknown" ? p.successThreshold : 1)) result = "success";
  if (!ok && failures >= p.failureThreshold) result = "failure";
  return { counter: { result, successes, failures }, changed: result !== c.result };
}
