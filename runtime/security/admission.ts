/**
 * Pod admission policy (Kubernetes' PodSecurity "baseline", reduced to what Berth can run):
 * a pure check of a pod spec — or of a replication controller's pod template, so a workload
 * that could never create its pods is refused up front — against the cluster's policy.
 *
 *   - `hostPath` volumes only when `allowHostPath` (a hostPath of `/` or of the Docker socket
 *     is root on the host; `berth up --no-host-path` turns them off);
 *   - never `hostNetwork`, `hostPID`, `hostIPC`, privileged containers, privilege escalation or
 *     added capabilities: Berth's container runtime never grants them, so asking for them is
 *     refused rather than silently ignored; nor what its nodes cannot apply: a seccomp profile
 *     from a node's file (`Localhost`), SELinux labels, sysctls (empty ones are accepted, as
 *     charts write them);
 *   - no `:` or `,` in a hostPath path or the mount path of a hostPath volume: Docker's bind
 *     syntax (`src:dst:mode`) would read them as separators.
 *
 * The Api calls `checkAdmission` after validation and throws `admissionError` when it reports
 * causes (403 Forbidden, as kube-apiserver's admission plugins answer).
 */
import { ApiError } from "../../model/errors.ts";
import type { Resource, StatusCause } from "../../model/types.ts";

export interface AdmissionPolicy {
  /** Allow `hostPath` volumes (default in `berth up`: true, as a single-user dev tool). */
  allowHostPath: boolean;
}

export const DEFAULT_POLICY: AdmissionPolicy = { allowHostPath: true };

type Loose = Record<string, unknown>;

function obj(v: unknown): Loose | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Loose) : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The causes for which `spec` (a pod spec at field path `at`) breaks `policy`; empty if none. */
export function checkPodSpecAdmission(spec: unknown, policy: AdmissionPolicy, at = "spec"): StatusCause[] {
  const s = obj(spec);
  if (!s) return [];
  const causes: StatusCause[] = [];
  const forbid = (field: string, message: string) => causes.push({ reason: "FieldValueForbidden", field, message: `Forbidden: ${message}` });
  for (const k of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (s[k] === true) forbid(`${at}.${k}`, `Berth does not run pods in the host's ${k.slice(4)} namespace`);
  }
  const podSc = obj(s.securityContext);
  if (arr(podSc?.sysctls).length) forbid(`${at}.securityContext.sysctls`, "Berth does not set sysctls");
  const unappliable = (sc: Loose | undefined, path: string) => {
    if (obj(sc?.seccompProfile)?.type === "Localhost") forbid(`${path}.seccompProfile`, "Berth does not load seccomp profiles from a node's files (RuntimeDefault and Unconfined are served)");
    const se = obj(sc?.seLinuxOptions);
    if (se && Object.values(se).some((v) => v !== undefined && v !== "")) forbid(`${path}.seLinuxOptions`, "Berth's nodes do not use SELinux labels");
    const apparmor = obj(sc?.appArmorProfile)?.type;
    if (apparmor !== undefined && apparmor !== "RuntimeDefault") forbid(`${path}.appArmorProfile`, "Berth runs every container with the engine's default AppArmor profile (RuntimeDefault)");
    if (sc?.procMount !== undefined && sc.procMount !== "Default") forbid(`${path}.procMount`, "Berth mounts /proc masked, as the Default procMount");
  };
  unappliable(podSc, `${at}.securityContext`);
  const hostPathVolumes = new Set<string>();
  arr(s.volumes).forEach((v, i) => {
    const vol = obj(v);
    const hp = obj(vol?.hostPath);
    if (!vol || !hp) return;
    if (typeof vol.name === "string") hostPathVolumes.add(vol.name);
    if (!policy.allowHostPath) {
      forbid(`${at}.volumes[${i}].hostPath`, `hostPath volumes are disabled on this cluster (volume "${String(vol.name)}")`);
    } else if (typeof hp.path === "string" && /[:,]/.test(hp.path)) {
      forbid(`${at}.volumes[${i}].hostPath.path`, `a hostPath path may not contain ":" or ","`);
    }
  });
  const containers = [...arr(s.initContainers).map((c, i) => [c, `${at}.initContainers[${i}]`] as const), ...arr(s.containers).map((c, i) => [c, `${at}.containers[${i}]`] as const)];
  for (const [c, path] of containers) {
    const ctr = obj(c);
    if (!ctr) continue;
    const sc = obj(ctr.securityContext);
    if (sc?.privileged === true) forbid(`${path}.securityContext.privileged`, "Berth does not run privileged containers");
    if (sc?.allowPrivilegeEscalation === true) forbid(`${path}.securityContext.allowPrivilegeEscalation`, "privilege escalation is not allowed");
    unappliable(sc, `${path}.securityContext`);
    const add = arr(obj(sc?.capabilities)?.add);
    if (add.length) forbid(`${path}.securityContext.capabilities.add`, "Berth does not add capabilities");
    arr(ctr.volumeMounts).forEach((m, j) => {
      const mount = obj(m);
      if (mount && hostPathVolumes.has(String(mount.name)) && typeof mount.mountPath === "string" && /[:,]/.test(mount.mountPath)) {
        forbid(`${path}.volumeMounts[${j}].mountPath`, `the mount path of a hostPath volume may not contain ":" or ","`);
      }
    });
  }
  return causes;
}

/** Admission causes for an object of `resource` (pods, and the pod templates of RCs, ReplicaSets, Deployments, DaemonSets, StatefulSets, Jobs and CronJobs). */
export function checkAdmission(resource: Resource, object: unknown, policy: AdmissionPolicy): StatusCause[] {
  const o = obj(object);
  if (resource === "pods") return checkPodSpecAdmission(o?.spec, policy, "spec");
  if (resource === "replicationcontrollers" || resource === "replicasets" || resource === "deployments" || resource === "jobs" || resource === "daemonsets" || resource === "statefulsets") {
    return checkPodSpecAdmission(obj(obj(o?.spec)?.template)?.spec, policy, "spec.template.spec");
  }
  if (resource === "cronjobs") {
    return checkPodSpecAdmission(obj(obj(obj(obj(o?.spec)?.jobTemplate)?.spec)?.template)?.spec, policy, "spec.jobTemplate.spec.template.spec");
  }
  return [];
}

/** The 403 an admission refusal is answered with. */
export function admissionError(kind: string, name: string, causes: StatusCause[]): ApiError {
  const summary = causes.map((c) => `${c.field}: ${c.message}`).join("; ");
  return new ApiError("Forbidden", `${kind} "${name}" is forbidden: ${summary}`, { name, kind, causes });
}
