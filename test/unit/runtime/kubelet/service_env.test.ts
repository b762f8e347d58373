import { describe, expect, it } from "vitest";
import type { Service } from "../../../../model/types.ts";
import { serviceEnvVars } from "../../../../runtime/kubelet/service_env.ts";

const svc = (name: string, spec: Service["spec"], namespace = "default"): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec,
});

describe("serviceEnvVars", () => {
  it("gives NAME_SERVICE_HOST/PORT, named port variables and Docker-link variables", () => {
    const env = Object.fromEntries(
      serviceEnvVars([svc("backend-service", { clusterIP: "10.96.0.7", ports: [{ name: "http", port: 80 }, { name: "admin-ui", port: 9000 }] })]).map(
        (e) => [e.name, e.value],
      ),
    );
    expect(env).toMatchObject({
      BACKEND_SERVICE_SERVICE_HOST: "10.96.0.7",
      BACKEND_SERVICE_SERVICE_PORT: "80",
      BACKEND_SERVICE_SERVICE_PORT_HTTP: "80",
      BACKEND_SERVICE_SERVICE_PORT_ADMIN_UI: "9000",
      BACKEND_SERVICE_PORT: "tcp://10.96.0.7:80",
      BACKEND_SERVICE_PORT_80_TCP: "tcp://10.96.0.7:80",
      BACKEND_SERVICE_PORT_80_TCP_PROTO: "tcp",
      BACKEND_SERVICE_PORT_80_TCP_PORT: "80",
      BACKEND_SERVICE_PORT_80_TCP_ADDR: "10.96.0.7",
    });
  });

  it("skips headless services, services without an IP and other namespaces", () => {
    expect(
      serviceEnvVars([
        svc("a", { clusterIP: "None", ports: [{ port: 80 }] }),
        svc("b", { ports: [{ port: 80 }] }),
        svc("c", { clusterIP: "10.96.0.9", ports: [{ port: 80 }] }, "prod"),
      ]),
    ).toEqual([]);
  });
});
