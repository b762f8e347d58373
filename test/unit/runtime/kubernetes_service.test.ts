/** The `kubernetes` Service: the first address of the range, port 443 → the API's port, and Endpoints where it listens. */
import { describe, expect, it } from "vitest";
import { kubernetesServiceIp, kubernetesServiceObjects } from "../../../runtime/kubernetes_service.ts";

describe("kubernetes service", () => {
  it("takes the first host address of the service range, as kube-apiserver", () => {
    expect(kubernetesServiceIp("10.96.0.0/16")).toBe("10.96.0.1");
    expect(kubernetesServiceIp("10.97.12.0/24")).toBe("10.97.12.1");
  });

  it("serves https on 443 to the API's port, at the address given, labelled as kube labels it", () => {
    const { service, endpoints, slice } = kubernetesServiceObjects("10.96.0.1", "127.0.0.1", 40123);
    expect(service.metadata).toEqual({ name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } });
    expect(service.spec).toMatchObject({ type: "ClusterIP", clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 40123 }] });
    expect(endpoints.subsets).toEqual([{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port: 40123, protocol: "TCP" }] }]);
    // Not mirrored: its EndpointSlice, named as the Service, is written beside it (kube's EndpointsAdapter).
    expect(endpoints.metadata.labels).toEqual({ "endpointslice.kubernetes.io/skip-mirror": "true" });
    expect(slice).toEqual({
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "kubernetes", namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }],
      ports: [{ name: "https", port: 40123, protocol: "TCP" }],
    });
  });
});
