/**
 * networking.k8s.io at the HTTP edge: the protobuf bodies of `kubectl create ingress` as kubectl
 * 1.32 really sends them (captured with `kubectl -v=10` against Berth), discovery of the group,
 * kube-apiserver's table columns, and the warning Berth sends on creating what it does not act on.
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../../runtime/http/protobuf.ts";
import { apiResourceList } from "../../../../runtime/http/discovery.ts";
import { CREATE_WARNINGS } from "../../../../runtime/http/handlers.ts";
import { formatTable, toMetaTable, toTable } from "../../../../runtime/api/table.ts";
import type { Ingress, IngressClass, NetworkPolicy } from "../../../../model/types.ts";

const decode = (b64: string) => decodeProtobufBody(Buffer.from(b64, "base64"));

/** `kubectl create ingress simple --class=nginx --rule=foo.com/bar*=svc1:8080,tls=my-cert --rule=bar.com/=svc2:http --default-backend=defsvc:80 --annotation=a=b` (captured). */
const CREATE_SIMPLE =
  "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxKzAQoeCgZzaW1wbGUSABoAIgAqADIAOABCAGIGCgFhEgFiEowBChAiDgoGZGVmc3ZjEgQKABBQEhIKB2Zvby5jb20SB215LWNlcnQaLgoHZm9vLmNvbRIjCiEKHwoEL2JhchIPIg0KBHN2YzESBQoAEJA/GgZQcmVmaXgaLQoHYmFyLmNvbRIiCiAKHgoBLxISIhAKBHN2YzISCAoEaHR0cBAAGgVFeGFjdCIFbmdpbngaAgoAGgAiAA==";
/** `kubectl create ingress catch-all --rule=/path=svc:port --rule=*.example.com/*=wild:443,tls` (captured). */
const CREATE_CATCH_ALL =
  "azhzAAofChRuZXR3b3JraW5nLms4cy5pby92MRIHSW5ncmVzcxKSAQoZCgljYXRjaC1hbGwSABoAIgAqADIAOABCABJxEhEKDSouZXhhbXBsZS5jb20SABopCgASJQojCiEKBS9wYXRoEhEiDwoDc3ZjEggKBHBvcnQQABoFRXhhY3QaMQoNKi5leGFtcGxlLmNvbRIgCh4KHAoBLxIPIg0KBHdpbGQSBQoAELsDGgZQcmVmaXgaAgoAGgAiAA==";

describe("networking over HTTP - protobuf bodies", () => {
  it("kubectl create ingress: class, annotation, default backend, TLS, Prefix and Exact rules, ports by number and by name", () => {
    expect(decode(CREATE_SIMPLE)).toEqual({
      apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "simple", annotations: { a: "b" } },
      spec: {
        ingressClassName: "nginx",
        defaultBackend: { service: { name: "defsvc", port: { number: 80 } } },
        tls: [{ hosts: ["foo.com"], secretName: "my-cert" }],
        rules: [
          { host: "foo.com", http: { paths: [{ path: "/bar", pathType: "Prefix", backend: { service: { name: "svc1", port: { number: 8080 } } } }] } },
          { host: "bar.com", http: { paths: [{ path: "/", pathType: "Exact", backend: { service: { name: "svc2", port: { name: "http" } } } }] } },
        ],
      },
    });
  });

  it("kubectl create ingress: a rule without a host, a wildcard host, TLS without a secret", () => {
    expect(decode(CREATE_CATCH_ALL)).toEqual({
      apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "catch-all" },
      spec: {
        tls: [{ hosts: ["*.example.com"] }],
        rules: [
          { http: { paths: [{ path: "/path", pathType: "Exact", backend: { service: { name: "svc", port: { name: "port" } } } }] } },
          { host: "*.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "wild", port: { number: 443 } } } }] } },
        ],
      },
    });
  });
});

describe("networking over HTTP - discovery and the not-acted-on warning", () => {
  it("networking.k8s.io/v1 serves networkpolicies (netpol), ingresses (ing, with status) and cluster-scoped ingressclasses", () => {
    const verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
    const resources = apiResourceList("networking.k8s.io/v1")?.resources as { name: string }[];
    expect(resources.map((r) => r.name).sort()).toEqual(["ingressclasses", "ingresses", "ingresses/status", "networkpolicies"]);
    expect(resources.find((r) => r.name === "networkpolicies")).toEqual({ name: "networkpolicies", singularName: "networkpolicy", namespaced: true, kind: "NetworkPolicy", verbs, shortNames: ["netpol"] });
    expect(resources.find((r) => r.name === "ingresses")).toEqual({ name: "ingresses", singularName: "ingress", namespaced: true, kind: "Ingress", verbs, shortNames: ["ing"] });
    expect(resources.find((r) => r.name === "ingressclasses")).toEqual({ name: "ingressclasses", singularName: "ingressclass", namespaced: false, kind: "IngressClass", verbs });
  });

  it("creating a NetworkPolicy or an Ingress carries a warning that nothing acts on it", () => {
    expect(CREATE_WARNINGS.networkpolicies).toBe("NetworkPolicy is stored but not enforced by Berth: pod traffic is not filtered");
    expect(CREATE_WARNINGS.ingresses).toMatch(/no ingress controller/);
    expect(CREATE_WARNINGS.ingressclasses).toBeUndefined();
  });
});

describe("networking over HTTP - kube-apiserver's columns", () => {
  const NOW = Date.parse("2026-12-04T10:05:00Z");
  const at = "2026-12-04T10:00:00Z";

  it("networkpolicies: NAME POD-SELECTOR AGE, the selector as FormatLabelSelector writes it", () => {
    const pols: NetworkPolicy[] = [
      { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "redis", namespace: "default", creationTimestamp: at }, spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/instance": "r" }, matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }] } } },
      { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "deny-all", namespace: "default", creationTimestamp: at }, spec: { podSelector: {} } },
    ];
    expect(formatTable(toTable("networkpolicies", pols, { now: NOW }))).toBe(`NAME       POD-SELECTOR                                                              AGE
redis      app.kubernetes.io/instance=r,app.kubernetes.io/name=redis,tier in (a,b)   5m
deny-all   <none>                                                                    5m
`);
  });

  it("ingresses: NAME CLASS HOSTS ADDRESS PORTS AGE; hosts cut after three; ports 80 or '80, 443'", () => {
    const base = { apiVersion: "networking.k8s.io/v1", kind: "Ingress" } as const;
    const rules = (...hosts: string[]) => hosts.map((host) => ({ host, http: { paths: [] } }));
    const ings: Ingress[] = [
      { ...base, metadata: { name: "web", namespace: "default", creationTimestamp: at }, spec: { ingressClassName: "nginx", rules: rules("a.example.com"), tls: [{ hosts: ["a.example.com"] }] }, status: { loadBalancer: {} } },
      { ...base, metadata: { name: "many", namespace: "default", creationTimestamp: at }, spec: { rules: rules("a", "b", "c", "d", "e") }, status: { loadBalancer: { ingress: [{ ip: "192.168.100.100" }, { hostname: "lb.example.com" }] } } },
      { ...base, metadata: { name: "default", namespace: "default", creationTimestamp: at }, spec: { defaultBackend: { service: { name: "a", port: { number: 80 } } } } },
    ];
    expect(formatTable(toTable("ingresses", ings, { now: NOW }))).toBe(`NAME      CLASS    HOSTS               ADDRESS            PORTS     AGE
web       nginx    a.example.com                          80, 443   5m
many      <none>   a,b,c + 2 more...   192.168.100.1...   80        5m
default   <none>   *                                      80        5m
`);
    const wire = toMetaTable(toTable("ingresses", ings, { now: NOW }), {});
    expect(wire.columnDefinitions.map((c) => c.name)).toEqual(["Name", "Class", "Hosts", "Address", "Ports", "Age"]);
  });

  it("ingressclasses: NAME CONTROLLER PARAMETERS AGE, parameters Kind.group/name", () => {
    const classes: IngressClass[] = [
      { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "nginx", creationTimestamp: at }, spec: { controller: "k8s.io/ingress-nginx", parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "lb" } } },
      { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "plain", creationTimestamp: at }, spec: { controller: "example.com/ingress", parameters: { kind: "ConfigMap", name: "cfg", scope: "Namespace", namespace: "x" } } },
      { apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name: "bare", creationTimestamp: at }, spec: { controller: "example.com/ingress" } },
    ];
    expect(formatTable(toTable("ingressclasses", classes, { now: NOW }))).toBe(`NAME    CONTROLLER             PARAMETERS                             AGE
nginx   k8s.io/ingress-nginx   IngressParameters.k8s.example.com/lb   5m
plain   example.com/ingress    ConfigMap/cfg                          5m
bare    example.com/ingress    <none>                                 5m
`);
  });
});
