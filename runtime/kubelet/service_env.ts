/**
 * Service environment variables, as the kubelet injects them into containers of pods created
 * after the service: `NAME_SERVICE_HOST`, `NAME_SERVICE_PORT`, `NAME_SERVICE_PORT_<PORTNAME>`,
 * and the Docker-link style `NAME_PORT`, `NAME_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`.
 * Pure: the pod actor calls `serviceEnvVars` with the services of the pod's namespace.
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

/**
 * The variables for `services` (those of the pod's namespace), sorted by service name so the
 * result is deterministic. Headless services and services without an IP yet are skipped, as in
 * Kubernetes; so are services in other namespaces.
 */
export function serviceEnvVars(services: Service[], namespace = "default"): EnvVar[] {
  const out: EnvVar[] = [];
  const sorted = services
    .filter((s) => (s.metadata.namespace ?? "default") === namespace && hasClusterIp(s) && (s.spec.ports?.length ?? 0) > 0)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
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
