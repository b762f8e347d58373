import { describe, expect, it } from "vitest";
import type { Service } from "../../../../model/types.ts";
import { podServiceEnvVars } from "../../../../runtime/kubelet/service_env.ts";

const svc = (name: string, namespace: string, spec: Service["spec"]): Service => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec });
const master = svc("kubernetes", "default", { clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP" }] });
const web = svc("web", "default", { clusterIP: "10.96.0.9", ports: [{ port: 80 }] });
const db = svc("db", "team-a", { clusterIP: "10.96.0.20", ports: [{ port: 5432 }] });
const env = (services: Service[], ns: string, links: boolean) => Object.fromEntries(podServiceEnvVars(services, ns, links).map((e) => [e.name, e.value]));

const MASTER_VARS = {
  KUBERNETES_SERVICE_HOST: "10.96.0.1",
  KUBERNETES_SERVICE_PORT: "443",
  KUBERNETES_SERVICE_PORT_HTTPS: "443",
  KUBERNETES_PORT: "tcp://10.96.0.1:443",
  KUBERNETES_PORT_443_TCP: "tcp://10.96.0.1:443",
  KUBERNETES_PORT_443_TCP_PROTO: "tcp",
  KUBERNETES_PORT_443_TCP_PORT: "443",
  KUBERNETES_PORT_443_TCP_ADDR: "10.96.0.1",
};

describe("podServiceEnvVars (the kubelet's master service and service links)", () => {
  it("service env - every pod gets the master service's variables, in any namespace", () => {
    expect(env([master, web, db], "default", true)).toEqual({ ...MASTER_VARS, ...env([web], "default", true) });
    expect(env([master, web, db], "team-a", true)).toEqual({ ...MASTER_VARS, ...env([db], "team-a", true) });
    expect(env([master, web, db], "team-a", true).WEB_SERVICE_HOST).toBeUndefined();
  });

  it("service env - enableServiceLinks false keeps only the master service's variables", () => {
    expect(env([master, web, db], "default", false)).toEqual(MASTER_VARS);
    expect(env([master, web, db], "team-a", false)).toEqual(MASTER_VARS);
  });

  it("service env - only `kubernetes` in `default` is the master: not one of that name elsewhere, nor other default services", () => {
    const impostor = svc("kubernetes", "team-b", { clusterIP: "10.96.0.66", ports: [{ port: 8443 }] });
    expect(env([impostor, web], "team-a", false)).toEqual({});
    // A `kubernetes` service of the pod's own namespace wins over the master (as the kubelet's map by name).
    expect(env([master, impostor], "team-b", true).KUBERNETES_SERVICE_HOST).toBe("10.96.0.66");
    expect(env([master, impostor], "team-b", false).KUBERNETES_SERVICE_HOST).toBe("10.96.0.1");
  });

  it("service env - a master service without an address yet gives nothing", () => {
    expect(env([svc("kubernetes", "default", { clusterIP: "None", ports: [{ port: 443 }] })], "team-a", true)).toEqual({});
    expect(env([svc("kubernetes", "default", { ports: [{ port: 443 }] })], "default", false)).toEqual({});
  });
});
