/**
 * The ConfigMaps and Secrets a pod references: in volumes (a projected volume's sources too), in
 * env (`configMapKeyRef`, `secretKeyRef`), in `envFrom`, and (Secrets) in `imagePullSecrets` — of
 * its app and init containers — and, unless it opts out of a token
 * (`automountServiceAccountToken: false`), the cluster CA's `kube-root-ca.crt` its token volume
 * projects (the volume kube's admission adds).
 * Used by the Node authorizer (a node may read only these) and by the kubelet.
 */
import type { Container, Pod } from "./types.ts";

/** The ServiceAccount a pod runs as (kube's admission sets `default` when none is named). */
export function podServiceAccount(pod: Pod): string {
  return pod.spec.serviceAccountName || "default";
}

/**
 * A new pod with its ServiceAccount named, as kube-apiserver stores it: the v1 conversion takes
 * the deprecated `serviceAccount` when only that is given, and the ServiceAccount admission
 * plugin sets `default` when neither is (its defaulting half: a missing account is not refused).
 */
export function withServiceAccountName(pod: Pod): Pod {
  if (pod.spec.serviceAccountName) return pod;
  return { ...pod, spec: { ...pod.spec, serviceAccountName: pod.spec.serviceAccount || "default" } };
}

/**
 * An update of a pod that leaves its ServiceAccount out keeps the one it has (a manifest
 * replaced as written, without the name admission gave it), as priority is kept
 * (runtime/api/priority_admission.ts keepPodPriority). Kubernetes would refuse such an update as
 * a spec change; Berth keeps the friendlier rule it has for priority.
 */
export function keepServiceAccountName(current: Pod, next: Pod): Pod {
  if (next.spec.serviceAccountName || !current.spec.serviceAccountName) return next;
  return { ...next, spec: { ...next.spec, serviceAccountName: next.spec.serviceAccount || current.spec.serviceAccountName } };
}

/** The ConfigMap holding the cluster CA in every namespace (kube's root-ca-cert-publisher). */
export const ROOT_CA_CONFIGMAP = "kube-root-ca.crt";

export interface PodReferences {
  configmaps: Set<string>;
  secrets: Set<string>;
}

/** Every container of the pod: init containers first, then app containers. */
export function allContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

export function podReferences(pod: Pod): PodReferences {
  const configmaps = new Set<string>();
  const secrets = new Set<string>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap?.name) configmaps.add(v.configMap.name);
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    for (const src of v.projected?.sources ?? []) {
      if (src.configMap?.name) configmaps.add(src.configMap.name);
      if (src.secret?.name) secrets.add(src.secret.name);
    }
  }
  for (const s of pod.spec.imagePullSecrets ?? []) if (s.name) secrets.add(s.name);
  if (pod.spec.automountServiceAccountToken !== false) configmaps.add(ROOT_CA_CONFIGMAP);
  for (const c of allContainers(pod)) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.configMapKeyRef?.name) configmaps.add(e.valueFrom.configMapKeyRef.name);
      if (e.valueFrom?.secretKeyRef?.name) secrets.add(e.valueFrom.secretKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.configMapRef?.name) configmaps.add(f.configMapRef.name);
      if (f.secretRef?.name) secrets.add(f.secretRef.name);
    }
  }
  return { configmaps, secrets };
}
