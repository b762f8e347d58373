/**
 * Service environment variables, as the kubelet injects them into containers of pods created
 * after the service: `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT`, `NAME_SERVICE_PORT_<PORTNAME>`,
 * and the Docker-link style `NAME_PORT`, `NAME_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`.
 *
 * Which services (the kubelet's getServiceEnvVarMap): the master service — `kubernetes` in
 * `default`, the API's own, which in-cluster clients find by `KUBERNETES_SERVICE_HOST`/`_PORT` —
 * for every pod in every namespace, even with `enableServiceLinks: false`; and, unless that is
 * false, every service of the pod's namespace (one of them named `kubernetes` there wins over the
 * master's). Pure: the pod effects call `podServiceEnvVars` with the services of `default` and
 * of the pod's namespace.
 */
import type { EnvVar, Service } from "../../model/types.ts";

/** `backend-service` → `BACKEND_SERVICE`. */
export function envName(name: string): string {
  return name.toUpperCase().replace(/[-.]/g, "_");
}

/** True when the service has an allocated, non-headless ClusterIP (only those get variables). */
function hasClusterIp(svc: Service): boolean {
  const ip = svc.spec.clusterIP;
  return !!ip && ip !== "None" && ip !== "";
}

/** The namespace of the master service, and its name (the kubelet's masterServices). */
export const MASTER_SERVICE_NAMESPACE = "default";
export const MASTER_SERVICE = "kubernetes";

const withVars = (s: Service) => hasClusterIp(s) && (s.spec.ports?.length ?? 0) > 0;
const nsOf = (s: Service) => s.metadata.namespace ?? "default";

/**
 * The variables for `services` (those of the pod's namespace), sorted by service name so the
 * result is deterministic. Headless services and services without an IP yet are skipped, as in
 * Kubernetes; so are services in other namespaces.
 */
export function serviceEnvVars(services: Service[], namespace = "default"): EnvVar[] {
  return varsOf(services.filter((s) => nsOf(s) === namespace && withVars(s)));
}

/**
 * A pod's service variables: the master service's always, its namespace's services' unless
 * `enableServiceLinks` is false (see the file comment). `services` may hold services of any
 * namespace; those of others are left out.
 */
export function podServiceEnvVars(services: Service[], namespace: string, enableServiceLinks: boolean): EnvVar[] {
  const byName = new Map<string, Service>();
  for (const s of services) {
    if (nsOf(s) === MASTER_SERVICE_NAMESPACE && s.metadata.name === MASTER_SERVICE && withVars(s) && !byName.has(s.metadata.name)) byName.set(s.metadata.name, s);
  }
  // The namespace's own come after: a `kubernetes` service of the pod's namespace wins, as in the kubelet.
  if (enableServiceLinks) for (const s of services) if (nsOf(s) === namespace && withVars(s)) byName.set(s.metadata.name, s);
  return varsOf([...byName.values()]);
}

/** The variables of each service, by service name. */
function varsOf(services: Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  const sorted = [...services].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const svc of sorted) {
    const n = envName(svc.metadata.name);
    const ip = svc.spec.clusterIP!;
    const ports = svc.spec.ports!;
    const first = ports[0];
    out.push({ name: `${n}_SERVICE_HOST`, value: ip });
    out.push({ name: `${n}_SERVICE_PORT`, value: String(first.port) });
    for (const p of ports) {
      if (p.name) out.push({ name: `${n}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    }
    const firstProto = (first.protocol ?? "TCP").toLowerCase();
    out.push({ name: `${n}_PORT`, value: `${firstProto}://${ip}:${first.port}` });
    for (const p of ports) {
      const proto = p.protocol ?? "TCP";
      const prefix = `${n}_PORT_${p.port}_${proto}`;
      out.push({ name: prefix, value: `${proto.toLowerCase()}://${ip}:${p.port}` });
      out.push({ name: `${prefix}_PROTO`, value: proto.toLowerCase() });
      out.push({ name: `${prefix}_PORT`, value: String(p.port) });
      out.push({ name: `${prefix}_ADDR`, value: ip });
    }
  }
  return out;
}
