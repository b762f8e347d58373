/** The `kubernetes` Service: the first address of the range, port 443 → the API's port, and Endpoints where it listens. */
import { describe, expect, it } from "vitest";
import { kubernetesServiceIp, kubernetesServiceObjects } from "../../../runtime/kubernetes_service.ts";

describe("kubernetes service", () => {
  it("takes the first host address of the service range, as kube-apiserver", () => {
    expect(kubernetesServiceIp("10.96.0.0/16")).toBe("10.96.0.1");
    expect(kubernetesServiceIp("10.97.12.0/24")).toBe("10.97.12.1");
  });

  it("serves https on 443 to the API's port, at the address given, labelled as kube labels it", () => {
    const { service, endpoints } = kubernetesServiceObjects("10.96.0.1", "127.0.0.1", 40123);
    expect(service.metadata).toEqual({ name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } });
    expect(service.spec).toMatchObject({ type: "ClusterIP", clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 40123 }] });
    expect(endpoints.subsets).toEqual([{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port: 40123, protocol: "TCP" }] }]);
  });
});
