/**
 * `berth describe endpointslice` as kubectl's describeEndpointSliceV1 prints it
 * (k8s.io/kubectl/pkg/describe), lined up by Go's tabwriter.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { EndpointSlice, Event } from "../../../../model/types.ts";

const NOW = Date.parse("2026-12-04T21:00:00Z");

const SLICE: EndpointSlice = {
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: {
    name: "web-x7k2p", namespace: "default", creationTimestamp: "2026-12-04T20:00:00Z",
    labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
    annotations: { "endpoints.kubernetes.io/last-change-trigger-time": "2026-12-04T20:00:00Z" },
  },
  addressType: "IPv4",
  ports: [{ name: "http", port: 8080, protocol: "TCP" }, { protocol: "UDP" }],
  endpoints: [
    { addresses: ["10.213.0.5"], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: "Pod", namespace: "default", name: "web-0", uid: "p" }, nodeName: "node-a", zone: "zone-a" },
    { addresses: ["10.213.0.6", "10.213.0.7"], hostname: "web-1" },
  ],
};

describe("describe endpointslice - kubectl's describer", () => {
  it("ports as a table, each endpoint with its Ready condition, hostname, target, node and zone (<unset> when absent); each endpoint's block lines up on its own", () => {
    expect(describeObject("endpointslices", SLICE, [], NOW)).toBe(`Name:         web-x7k2p
Namespace:    default
Labels:       endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io
              kubernetes.io/service-name=web
Annotations:  endpoints.kubernetes.io/last-change-trigger-time: 2026-12-04T20:00:00Z
AddressType:  IPv4
Ports:
  Name     Port     Protocol
  ----     ----     --------
  http     8080     TCP
  <unset>  <unset>  UDP
Endpoints:
  - Addresses:  10.213.0.5
    Conditions:
      Ready:    true
    Hostname:   <unset>
    TargetRef:  Pod/web-0
    NodeName:   node-a
    Zone:       zone-a
  - Addresses:  10.213.0.6, 10.213.0.7
    Conditions:
      Ready:   <unset>
    Hostname:  web-1
    NodeName:  <unset>
    Zone:      <unset>
Events:        <none>
`);
  });

  it("a slice without ports or endpoints (a placeholder), then its events", () => {
    const empty: EndpointSlice = { ...SLICE, metadata: { name: "web-empty", namespace: "default" }, ports: [], endpoints: [] };
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "e", namespace: "default" }, involvedObject: { kind: "EndpointSlice", name: "web-empty" },
      type: "Warning", reason: "Mirroring", message: "too many endpoints", lastTimestamp: "2026-12-04T20:59:00Z", source: { component: "endpointslicemirroring-controller" },
    };
    const text = describeObject("endpointslices", empty, [ev], NOW);
    expect(text.startsWith(`Name:         web-empty
Namespace:    default
Labels:       <none>
Annotations:  <none>
AddressType:  IPv4
Ports: <unset>
Endpoints: <none>
`)).toBe(true);
    expect(text).toMatch(/\nEvents:\n {2}Type +Reason +Age +From +Message\n/);
    expect(text).toMatch(/Warning +Mirroring +60s +endpointslicemirroring-controller +too many endpoints/);
  });
});
