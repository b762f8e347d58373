/**
 * `berth describe` of a NetworkPolicy, an Ingress and an IngressClass, against what kubectl 1.32
 * printed for the same objects on Berth (`kubectl describe networkpolicy|ingress|ingressclass`),
 * and Go's tabwriter that lines them up.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import { goTabwriter } from "../../../../runtime/cli/tabwriter.ts";
import type { Endpoints, Ingress, IngressClass, NetworkPolicy, Service } from "../../../../model/types.ts";

const NOW = Date.parse("2026-12-04T21:00:00Z");

describe("describe networking - kubectl's describers", () => {
  it("Go's tabwriter: a line without the column ends its block; the last cell is not padded", () => {
    expect(goTabwriter("Name:\tx\nLonger name:\ty\nSection:\n  a\tb\tc\n  longer\t\n    \tp \tq")).toBe(
      "Name:         x\nLonger name:  y\nSection:\n  a       b  c\n  longer  \n          p   q",
    );
  });

  it("a NetworkPolicy as kubectl prints it: selectors, port ranges, ipBlocks, rules separated, policy types; no events", () => {
    const np: NetworkPolicy = {
      apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "np", namespace: "default", labels: { a: "b" }, creationTimestamp: "2026-12-04T20:41:33.290Z" },
      spec: {
        podSelector: { matchLabels: { app: "web" } },
        ingress: [
          {
            from: [{ podSelector: { matchLabels: { role: "fe" } }, namespaceSelector: { matchLabels: { team: "x" } } }, { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }],
            ports: [{ port: 80, protocol: "TCP" }, { port: 8000, endPort: 9000, protocol: "UDP" }],
          },
          {},
        ],
        egress: [{ to: [{ namespaceSelector: {} }] }],
        policyTypes: ["Ingress", "Egress"],
      },
    };
    expect(describeObject("networkpolicies", np, [], NOW)).toBe(`Name:         np
Namespace:    default
Created on:   2026-12-04 20:41:33.29 +0000 UTC
Labels:       a=b
Annotations:  <none>
Spec:
  PodSelector:     app=web
  Allowing ingress traffic:
    To Port: 80/TCP
    To Port Range: 8000-9000/UDP
    From:
      NamespaceSelector: team=x
      PodSelector: role=fe
    From:
      IPBlock:
        CIDR: 10.0.0.0/8
        Except: 10.1.0.0/16
    ----------
    To Port: <any> (traffic allowed to all ports)
    From: <any> (traffic not restricted by source)
  Allowing egress traffic:
    To Port: <any> (traffic allowed to all ports)
    To:
      NamespaceSelector: <none>
  Policy Types: Ingress, Egress
`);
    const denyAll = { ...np, spec: { podSelector: {}, policyTypes: ["Ingress" as const] } };
    expect(describeObject("networkpolicies", denyAll, [], NOW)).toContain(`Spec:
  PodSelector:     <none> (Allowing the specific traffic to all pods in this namespace)
  Allowing ingress traffic:
    <none> (Selected pods are isolated for ingress connectivity)
  Not affecting egress traffic
  Policy Types: Ingress
`);
  });

  it("an Ingress as kubectl prints it, each service backend with the endpoints of the port it names", () => {
    const ing: Ingress = {
      apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "simple", namespace: "default", annotations: { a: "b" }, creationTimestamp: "2026-12-04T20:44:09Z" },
      spec: {
        ingressClassName: "nginx",
        defaultBackend: { service: { name: "defsvc", port: { number: 80 } } },
        tls: [{ hosts: ["foo.com"], secretName: "my-cert" }],
        rules: [
          { host: "foo.com", http: { paths: [{ path: "/bar", pathType: "Prefix", backend: { service: { name: "svc1", port: { number: 8080 } } } }] } },
          { host: "bar.com", http: { paths: [{ path: "/", pathType: "Exact", backend: { service: { name: "svc2", port: { name: "http" } } } }] } },
        ],
      },
      status: { loadBalancer: {} },
    };
    const service = (name: string, ports: { name?: string; port: number }[]): Service => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { ports } });
    const endpoints: Endpoints = {
      apiVersion: "v1", kind: "Endpoints", metadata: { name: "svc2", namespace: "default" },
      subsets: [{ addresses: [{ ip: "10.213.0.5" }, { ip: "10.213.0.6" }], ports: [{ name: "http", port: 8080 }, { name: "admin", port: 9090 }] }],
    };
    const backends = new Map([
      ["svc1", { service: service("svc1", [{ port: 8080 }]), endpoints: null }],
      ["svc2", { service: service("svc2", [{ name: "http", port: 80 }, { name: "admin", port: 90 }]), endpoints }],
      ["defsvc", { service: null, endpoints: null }],
    ]);
    // kubectl 1.32 printed the same, with `(<error: the server could not find the requested resource>)`
    // after each service: it lists EndpointSlices, which Berth does not serve.
    expect(describeObject("ingresses", ing, [], NOW, { backends })).toBe(`Name:             simple
Labels:           <none>
Namespace:        default
Address:          
Ingress Class:    nginx
Default backend:  defsvc:80 (<error: services "defsvc" not found>)
TLS:
  my-cert terminates foo.com
Rules:
  Host        Path  Backends
  ----        ----  --------
  foo.com     
              /bar   svc1:8080 (<none>)
  bar.com     
              /   svc2:http (10.213.0.5:8080,10.213.0.6:8080)
Annotations:  a: b
Events:       <none>
`);
    const noRules: Ingress = { ...ing, spec: { defaultBackend: { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "b" } } } };
    expect(describeObject("ingresses", noRules, [], NOW)).toContain(`Default backend:  APIGroup: k8s.example.com, Kind: StorageBucket, Name: b
Rules:
  Host        Path  Backends
  ----        ----  --------
  *           *     APIGroup: k8s.example.com, Kind: StorageBucket, Name: b
`);
  });

  it("an IngressClass as kubectl prints it: annotations, controller, parameters lined up on their own", () => {
    const ic: IngressClass = {
      apiVersion: "networking.k8s.io/v1", kind: "IngressClass",
      metadata: { name: "nginx", annotations: { "ingressclass.kubernetes.io/is-default-class": "true" }, creationTimestamp: "2026-12-04T20:44:09Z" },
      spec: { controller: "k8s.io/ingress-nginx", parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "external-lb", scope: "Cluster" } },
    };
    expect(describeObject("ingressclasses", ic, [], NOW)).toBe(`Name:         nginx
Labels:       <none>
Annotations:  ingressclass.kubernetes.io/is-default-class: true
Controller:   k8s.io/ingress-nginx
Parameters:
  APIGroup:  k8s.example.com
  Kind:      IngressParameters
  Name:      external-lb
Events:      <none>
`);
  });
});
