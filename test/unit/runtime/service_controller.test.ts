import { describe, expect, it } from "vitest";
import { waitFor } from "../../helpers/nats.ts";
import { FakeApi } from "../../helpers/http_fake_api.ts";
import type { ApiClient } from "../../../model/client.ts";
import { pod } from "../../helpers/control_plane_fixtures.ts";
import { startServiceController } from "../../../runtime/service_controller.ts";
import type { Pod, Service } from "../../../model/types.ts";

const service = (name: string, spec: Partial<Service["spec"]> = {}): Service => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: "default" },
  spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }], ...spec },
});

const withIp = (p: Pod, ip: string): Pod => ({ ...p, status: { ...p.status, podIP: ip } });

describe("service controller (services manager + service actors) over a fake API", () => {
  it("allocates a ClusterIP and node ports, writes Endpoints of ready pods, and cleans up on delete", async () => {
    const api: ApiClient = new FakeApi();
    await api.create("pods", withIp(pod("web-1", { node: "n1", labels: { app: "web" }, ready: true }), "10.213.0.5"), "default");
    await api.create("pods", withIp(pod("web-2", { node: "n1", labels: { app: "web" }, ready: false }), "10.213.0.6"), "default");
    await api.create("pods", withIp(pod("db", { node: "n1", labels: { app: "db" }, ready: true }), "10.213.0.7"), "default");
    const ctl = await startServiceController(api, { clusterCidr: "10.150.0.0/29", nodePortRange: { min: 31000, max: 31001 }, ingressAddress: "127.0.0.9" });
    try {
      await api.create("services", service("web", { type: "LoadBalancer" }), "default");
      const svc = await waitFor(async () => {
        const s = await api.get("services", "web", "default");
        return s.spec.clusterIP && s.status?.loadBalancer?.ingress?.length ? s : undefined;
      }, "allocation and ingress");
      expect(svc.spec.clusterIP).toBe("10.150.0.2");
      expect(svc.spec.ports![0].nodePort).toBe(31000);
      expect(svc.status!.loadBalancer!.ingress).toEqual([{ ip: "127.0.0.9" }]);
      const ep = await waitFor(() => api.get("endpoints", "web", "default").catch(() => undefined), "endpoints");
      expect(ep.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual(["10.213.0.5"]);
      expect(ep.subsets?.[0]?.notReadyAddresses?.map((a) => a.ip)).toEqual(["10.213.0.6"]);

      // A pod becoming ready wakes the actor: level-based, the Endpoints follow.
      const p2 = await api.get("pods", "web-2", "default");
      await api.updateStatus("pods", { ...p2, status: { ...p2.status, conditions: [{ type: "Ready", status: "True" }] } });
      await waitFor(async () => (await api.get("endpoints", "web", "default")).subsets?.[0]?.addresses?.length === 2, "both ready");

      await api.delete("services", "web", "default");
      await waitFor(() => api.get("endpoints", "web", "default").then(() => false, () => true), "endpoints deleted");
      // The released address and port are free again (for the next service, after the rest of the range).
      await api.create("services", service("other", { type: "NodePort" }), "default");
      const other = await waitFor(async () => (await api.get("services", "other", "default")).spec.clusterIP, "second allocation");
      expect(other).toBe("10.150.0.3");
    } finally {
      await ctl.stop();
    }
  });
});
