/**
 * A Service's EndpointSlices as the node's proxy and DNS read them (kube-proxy's
 * EndpointSliceCache, CoreDNS): merged, deduplicated, ready first, terminating endpoints as the
 * fallback of a port nobody ready serves, host ports from every slice.
 */
import { describe, expect, it } from "vitest";
import { endpointsFromSlices, sliceServiceKey } from "../../../actors/slice_view.ts";
import { backendsForPort, HOST_ENDPOINTS_ANNOTATION } from "../../../actors/service_endpoints.ts";
import { dnsEndpointsOf } from "../../../runtime/dns/zone.ts";
import type { Endpoint, EndpointSlice, Service } from "../../../model/types.ts";

const svc = (headless = false): Service => ({
  apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "shop" },
  spec: { clusterIP: headless ? "None" : "10.96.0.10", ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "admin", port: 81, targetPort: 9090 }] },
}) as Service;

let n = 0;
const slice = (endpoints: Endpoint[], over: Partial<EndpointSlice> & { labels?: Record<string, string>; annotations?: Record<string, string> } = {}): EndpointSlice => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: { name: `web-${n++}`, namespace: over.metadata?.namespace ?? "shop", labels: over.labels ?? { "kubernetes.io/service-name": "web" }, ...(over.annotations ? { annotations: over.annotations } : {}) },
  addressType: over.addressType ?? "IPv4",
  endpoints,
  ports: over.ports ?? [{ name: "http", port: 8080, protocol: "TCP" }, { name: "admin", port: 9090, protocol: "TCP" }],
});
const ep = (ip: string, conditions?: Endpoint["conditions"], extra: Partial<Endpoint> = {}): Endpoint => ({ addresses: [ip], ...(conditions ? { conditions } : {}), ...extra });
const http = svc().spec.ports![0];
const admin = svc().spec.ports![1];
const ips = (s: EndpointSlice[], port = http, service = svc()) => backendsForPort(endpointsFromSlices(service, s), port).map((b) => `${b.ip}:${b.port}`);

describe("a Service's EndpointSlices as its proxy reads them", () => {
  it("merges the slices of the Service, each address once; a nil ready condition is ready, false is not", () => {
    const a = slice([ep("10.1.0.1"), ep("10.1.0.2", { ready: true }), ep("10.1.0.3", { ready: false, serving: false, terminating: false })]);
    // 10.1.0.2 again (a slice being rebalanced), ready in one, not in the other: ready.
    const b = slice([ep("10.1.0.2", { ready: false }), ep("10.1.0.4", { ready: true })]);
    expect(ips([a, b])).toEqual(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.4:8080"]);
    expect(ips([b, a])).toEqual(["10.1.0.1:8080", "10.1.0.2:8080", "10.1.0.4:8080"]);
    const out = endpointsFromSlices(svc(), [a, b]);
    expect(out.subsets?.flatMap((s) => s.notReadyAddresses ?? []).map((x) => x.ip)).toEqual(["10.1.0.3"]);
  });

  it("reads only IPv4 slices labelled with the Service's name in its namespace, and ports that have a number", () => {
    const ok = slice([ep("10.1.0.1")]);
    const fqdn = slice([ep("db.example.com")], { addressType: "FQDN" });
    const v6 = slice([ep("fd00::1")], { addressType: "IPv6" });
    const other = slice([ep("10.9.0.1")], { labels: { "kubernetes.io/service-name": "api" } });
    const unlabelled = slice([ep("10.9.0.2")], { labels: {} });
    const elsewhere = slice([ep("10.9.0.3")], { metadata: { name: "x", namespace: "other" } });
    const noNumber = slice([ep("10.9.0.4")], { ports: [{ name: "http", protocol: "TCP" }] });
    expect(ips([ok, fqdn, v6, other, unlabelled, elsewhere, noNumber])).toEqual(["10.1.0.1:8080"]);
    expect(sliceServiceKey(ok)).toBe("shop/web");
    expect(sliceServiceKey(unlabelled)).toBeUndefined();
  });

  it("matches a Service port to the slice port of the same name: slices with different port sets each serve theirs", () => {
    const both = slice([ep("10.1.0.1")]);
    const httpOnly = slice([ep("10.1.0.2")], { ports: [{ name: "http", port: 8081, protocol: "TCP" }] });
    expect(ips([both, httpOnly])).toEqual(["10.1.0.1:8080", "10.1.0.2:8081"]);
    expect(ips([both, httpOnly], admin)).toEqual(["10.1.0.1:9090"]);
  });

  it("ClusterIP: a port with no ready endpoint is served by its serving, terminating endpoints (connections drain in a rollout)", () => {
    const draining = ep("10.1.0.5", { ready: false, serving: true, terminating: true });
    const gone = ep("10.1.0.6", { ready: false, serving: false, terminating: true });
    expect(ips([slice([draining, gone])])).toEqual(["10.1.0.5:8080"]);
    // Once anything ready serves the port, terminating endpoints get no new connections.
    expect(ips([slice([draining, gone]), slice([ep("10.1.0.7")])])).toEqual(["10.1.0.7:8080"]);
    // Per port: the admin port has no ready endpoint anywhere, so its terminating one serves it.
    const httpReady = slice([ep("10.1.0.8")], { ports: [{ name: "http", port: 8080, protocol: "TCP" }] });
    expect(ips([slice([draining]), httpReady])).toEqual(["10.1.0.8:8080"]);
    expect(ips([slice([draining]), httpReady], admin)).toEqual(["10.1.0.5:9090"]);
  });

  it("headless: DNS answers ready endpoints only, with their hostnames; a terminating one is not answered", () => {
    const s = slice([
      ep("10.1.0.1", { ready: true }, { hostname: "web-0" }),
      ep("10.1.0.2", { ready: false, serving: true, terminating: true }, { hostname: "web-1" }),
      ep("10.1.0.3", { ready: false }),
    ]);
    expect(dnsEndpointsOf(endpointsFromSlices(svc(true), [s])).map((e) => [e.ip, e.hostname])).toEqual([["10.1.0.1", "web-0"]]);
  });

  it("merges the host endpoints every slice records, for proxies on other machines", () => {
    const a = slice([ep("10.1.0.1")], { annotations: { [HOST_ENDPOINTS_ANNOTATION]: JSON.stringify({ "10.1.0.1": { hostIP: "192.168.1.5", hostPorts: { "8080/TCP": 32001 } } }) } });
    const b = slice([ep("10.1.0.2")], { annotations: { [HOST_ENDPOINTS_ANNOTATION]: JSON.stringify({ "10.1.0.2": { hostIP: "192.168.1.6", hostPorts: { "8080/TCP": 32002 } } }) } });
    const broken = slice([ep("10.1.0.3")], { annotations: { [HOST_ENDPOINTS_ANNOTATION]: "{not json" } });
    expect(backendsForPort(endpointsFromSlices(svc(), [a, b, broken]), http)).toEqual([
      { ip: "10.1.0.1", port: 8080, hostIP: "192.168.1.5", hostPort: 32001 },
      { ip: "10.1.0.2", port: 8080, hostIP: "192.168.1.6", hostPort: 32002 },
      { ip: "10.1.0.3", port: 8080 },
    ]);
  });

  it("no slice at all: no endpoints", () => {
    expect(endpointsFromSlices(svc(), []).subsets).toEqual([]);
    expect(ips([])).toEqual([]);
  });
});
