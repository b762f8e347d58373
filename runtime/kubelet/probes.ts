/**
 * Probe execution (I/O) and the prober actor logic the pod actor spawns (for a pod with probes).
 *
 * exec runs in the container through the runtime; httpGet and tcpSocket go to the pod IP on the
 * berth bridge (or `host` when the probe names one), grpc to the pod IP (probe_grpc.ts). A
 * runtime with its own `probe` (hollow) answers network probes itself. Thresholds are the pure
 * `applyOutcome` of actors/pod_probes.ts.
 */
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { fromCallback } from "xstate";
import type { Pod } from "../../model/types.ts";
import type { PodMachineEvent, ProbeTargets } from "../../actors/pod.ts";
import { applyOutcome, NEW_COUNTER, type ProbeCounter, type ResolvedProbe, resolveProbe } from "./probe_decide.ts";
import { grpcProbe } from "./probe_grpc.ts";
import type { ContainerRuntime, PodRef } from "../../model/container_runtime.ts";

export interface ProbeOutcome {
  ok: boolean;
  message?: string;
}

/** Runs one probe once. Never throws: a failure to probe is a failed probe. */
export async function runProbe(
  runtime: ContainerRuntime,
  probe: ResolvedProbe,
  target: { pod: PodRef; container: string; containerId: string; podIP: string },
): Promise<ProbeOutcome> {
  const a = probe.action;
  try {
    if (a.type === "exec") {
      const r = await runtime.exec(target.containerId, a.command, { timeoutMs: probe.timeoutMs });
      return r.exitCode === 0 ? { ok: true } : { ok: false, message: `command ${JSON.stringify(a.command)} exited with ${r.exitCode}: ${(r.stdout + r.stderr).trim().slice(0, 200)}` };
    }
    if (runtime.probe) {
      return await runtime.probe({
        kind: a.type, pod: target.pod, container: target.container, port: a.port,
        path: a.type === "httpGet" ? a.path : undefined,
        service: a.type === "grpc" ? a.service : undefined,
      });
    }
    // As the kubelet: a gRPC probe always goes to the pod IP (GRPCAction has no host).
    if (a.type === "grpc") return await grpcProbe(target.podIP, a.port, a.service, probe.timeoutMs);
    const host = a.host ?? target.podIP;
    if (a.type === "httpGet") {
      const code = await httpGetStatus(a.scheme, host, a.port, a.path, probe.timeoutMs, a.headers);
      return code >= 200 && code < 400 ? { ok: true } : { ok: false, message: `HTTP probe failed with statuscode: ${code}` };
    }
    await tcpConnect(host, a.port, probe.timeoutMs);
    return { ok: true };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      message: a.type === "httpGet" ? `Get "http://${a.host ?? target.podIP}:${a.port}${a.path}": ${msg}`
        : a.type === "tcpSocket" ? `dial tcp ${a.host ?? target.podIP}:${a.port}: ${msg}`
        : a.type === "grpc" ? `error: health rpc probe failed: ${msg}`
        : msg,
    };
  }
}

/** One HTTP(S) GET; resolves with the status code. Certificates are not verified, as in Kubernetes. */
export function httpGetStatus(scheme: "HTTP" | "HTTPS", host: string, port: number, path: string, timeoutMs: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = scheme === "HTTPS" ? https : http;
    const req = mod.get({ host, port, path, headers: { "User-Agent": "berth-probe/1.0", ...headers }, timeout: timeoutMs, agent: false, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error(`context deadline exceeded (timeout ${timeoutMs} ms)`)));
    req.on("error", reject);
  });
}

export function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`i/o timeout after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(t);
      s.destroy();
      resolve();
    });
    s.once("error", (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/**
 * The prober the pod actor spawns: keeps one timer loop per (container attempt, probe kind),
 * started when a TARGETS message names a newly running attempt and stopped when it disappears.
 * It reports only result changes (threshold crossings); after a liveness or startup failure it
 * stops probing that attempt, which is about to be killed. As the kubelet: an attempt of a
 * container with a startup probe is probed for startup only, until it passes once (then that
 * loop ends, and the liveness and readiness loops start).
 */
/** Readiness results are re-sent after this many periods without a change (see startLoop). */
const READINESS_RESEND_PERIODS = 5;

export function proberLogic(runtime: ContainerRuntime, node: string) {
  return fromCallback<ProbeTargets, { pod: Pod }>(({ sendBack, receive }) => {
    const loops = new Map<string, { stop: () => void }>();
    /** Attempts whose startup probe has passed. */
    const startedAttempts = new Set<string>();
    /** When the prober first saw each running attempt: probes' initial delays count from it (the container's start), as the kubelet's. */
    const firstSeen = new Map<string, number>();
    let last: ProbeTargets | undefined;
    const targets = (msg: ProbeTargets) => {
      last = msg;
      const want = new Set<string>();
      const now = Date.now();
      for (const t of msg.running) {
        if (!firstSeen.has(t.id)) firstSeen.set(t.id, now);
        const spec = msg.pod.spec.containers.find((c) => c.name === t.name);
        if (!spec) continue;
        const starting = spec.startupProbe !== undefined && !startedAttempts.has(t.id);
        for (const kind of ["startup", "liveness", "readiness"] as const) {
          const p = kind === "startup" ? spec.startupProbe : kind === "liveness" ? spec.livenessProbe : spec.readinessProbe;
          if (!p || (kind === "startup") !== starting) continue;
          const key = `${t.id}/${kind}`;
          want.add(key);
          if (loops.has(key)) continue;
          let resolved: ResolvedProbe;
          try {
            resolved = resolveProbe(spec, p);
          } catch {
            continue; // validation rejects such probes; an unresolvable one is simply not run
          }
          const ref: PodRef = { node, uid: msg.pod.metadata.uid ?? msg.pod.metadata.name, name: msg.pod.metadata.name, namespace: msg.pod.metadata.namespace ?? "default", annotations: msg.pod.metadata.annotations };
          // A liveness or readiness probe started once the startup probe passed waits only what is left of its delay.
          const delayMs = Math.max(0, resolved.initialDelayMs - (now - firstSeen.get(t.id)!));
          loops.set(key, startLoop(resolved, kind, { pod: ref, container: t.name, containerId: t.id, podIP: msg.podIP }, sendBack, delayMs));
        }
      }
      for (const [key, loop] of loops) {
        if (!want.has(key)) {
          loop.stop();
          loops.delete(key);
        }
      }
      const running = new Set(msg.running.map((t) => t.id));
      for (const id of startedAttempts) if (!running.has(id)) startedAttempts.delete(id);
      for (const id of firstSeen.keys()) if (!running.has(id)) firstSeen.delete(id);
    };
    receive((msg) => {
      if (msg.type === "TARGETS") targets(msg);
    });
    /** A startup probe passed: that loop ends and the attempt's liveness and readiness loops start. */
    const startupPassed = (containerId: string) => {
      startedAttempts.add(containerId);
      if (last) targets(last);
    };

    function startLoop(
      probe: ResolvedProbe,
      kind: "startup" | "liveness" | "readiness",
      target: { pod: PodRef; container: string; containerId: string; podIP: string },
      send: (e: PodMachineEvent) => void,
      initialDelayMs: number,
    ): { stop: () => void } {
      let stopped = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let counter: ProbeCounter = NEW_COUNTER;
      let sinceSent = 0;
      const tick = async () => {
        if (stopped) return;
        const outcome = await runProbe(runtime, probe, target);
        if (stopped) return;
        const { counter: next, changed } = applyOutcome(counter, outcome.ok, probe);
        counter = next;
        // Readiness is also re-sent every few periods once it has a result: a report that
        // reached the pod actor while it did not yet know this container attempt would
        // otherwise be lost for good, leaving a healthy container not Ready forever.
        const resend = kind === "readiness" && next.result !== "unknown" && ++sinceSent >= READINESS_RESEND_PERIODS;
        if (changed || resend) {
          sinceSent = 0;
          send({ type: "PROBE_RESULT", container: target.container, containerId: target.containerId, probe: kind, result: next.result === "success" ? "success" : "failure", message: outcome.message });
          if ((kind === "liveness" || kind === "startup") && next.result === "failure") return; // the attempt is about to be killed
          if (kind === "startup" && next.result === "success") {
            startupPassed(target.containerId);
            return;
          }
        }
        timer = setTimeout(tick, probe.periodMs);
      };
      timer = setTimeout(tick, initialDelayMs);
      return {
        stop: () => {
          stopped = true;
          clearTimeout(timer);
        },
      };
    }

    return () => {
      for (const l of loops.values()) l.stop();
      loops.clear();
    };
  });
}
