/**
 * networking.k8s.io/v1 NetworkPolicy, Ingress and IngressClass at the API's edge: kube-apiserver's
 * ValidateNetworkPolicySpec, ValidateIngressCreate and ValidateIngressClass (and its Update form)
 * with their paths and words, the networking/v1 defaults, the DefaultIngressClass admission's
 * choice of class, the OpenAPI schema strict field validation reads, and quota counts.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { Ingress, IngressClass, NetworkPolicy } from "../../../../model/types.ts";
import { validate } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { ingressClassUpdateProblems, parseCidr } from "../../../../runtime/api/validation_networking.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";
import { countedResource } from "../../../../model/quota.ts";
import { admitIngress, defaultIngressClass } from "../../../../model/ingress.ts";

const np = (spec: Record<string, unknown>) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "np", namespace: "default" }, spec });
const ing = (spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "web", namespace: "default", ...(annotations ? { annotations } : {}) }, spec,
});
const ic = (spec: Record<string, unknown>, name = "nginx") => ({ apiVersion: "networking.k8s.io/v1", kind: "IngressClass", metadata: { name }, spec });
const svc = (name: string, port: Record<string, unknown>) => ({ service: { name, port } });
const path = (p: Record<string, unknown>) => ({ rules: [{ host: "a.example.com", http: { paths: [p] } }] });

describe("network policies - ValidateNetworkPolicySpec", () => {
  it("what Bitnami charts render is accepted and defaulted as kube does: policyTypes from the rules, ports TCP", () => {
    const chart = np({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "redis" } },
      policyTypes: ["Ingress", "Egress"],
      egress: [{}],
      ingress: [{ ports: [{ port: 6379 }, { port: "metrics", protocol: "TCP" }], from: [{ podSelector: { matchLabels: { client: "true" } } }, { namespaceSelector: {}, podSelector: {} }] }],
    });
    expect(causesOf("networkpolicies", chart)).toEqual([]);
    const stored = applyDefaults("networkpolicies", validate("networkpolicies", chart)) as NetworkPolicy;
    expect(stored.spec.ingress?.[0].ports).toEqual([{ port: 6379, protocol: "TCP" }, { port: "metrics", protocol: "TCP" }]);
    const ingressOnly = applyDefaults("networkpolicies", validate("networkpolicies", np({ podSelector: {}, ingress: [{}] }))) as NetworkPolicy;
    expect(ingressOnly.spec.policyTypes).toEqual(["Ingress"]);
    const withEgress = applyDefaults("networkpolicies", validate("networkpolicies", np({ podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] }))) as NetworkPolicy;
    expect(withEgress.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    // podSelector is a struct Kubernetes never omits: absent, it selects every pod.
    expect((applyDefaults("networkpolicies", validate("networkpolicies", np({}))) as NetworkPolicy).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
  });

  it("ports: protocol, range, endPort only after a numeric port and not below it, with kube's words", () => {
    const causes = causesOf("networkpolicies", np({ podSelector: {}, ingress: [{ ports: [
      { protocol: "ICMP", port: 80 }, { port: 70000 }, { port: 9000, endPort: 8000 }, { port: "http", endPort: 90 }, { endPort: 90 }, { port: "Not_A_Name" },
    ] }] }));
    expectCause(causes, "spec.ingress[0].ports[0].protocol", "FieldValueNotSupported", 'Unsupported value: "ICMP": supported values: "TCP", "UDP", "SCTP"');
    expectCause(causes, "spec.ingress[0].ports[1].port", "FieldValueInvalid", "Invalid value: 70000: must be between 1 and 65535, inclusive");
    expectCause(causes, "spec.ingress[0].ports[2].endPort", "FieldValueInvalid", "Invalid value: 9000: must be greater than or equal to `port`");
    expectCause(causes, "spec.ingress[0].ports[3].endPort", "FieldValueInvalid", "Invalid value: 90: may not be specified when `port` is non-numeric");
    expectCause(causes, "spec.ingress[0].ports[4].endPort", "FieldValueInvalid", "Invalid value: 90: may not be specified when `port` is not specified");
    expectCause(causes, "spec.ingress[0].ports[5].port", "FieldValueInvalid", /^Invalid value: "Not_A_Name": must contain only alpha-numeric/);
    expect(causes).toHaveLength(6);
  });

  it("peers: one of the selectors (both together allowed) or an ipBlock alone; except within the cidr", () => {
    const causes = causesOf("networkpolicies", np({ podSelector: {}, egress: [{ to: [
      {}, { ipBlock: { cidr: "10.0.0.0/8" }, podSelector: {} }, { ipBlock: { cidr: "10.0.0.0/33" } },
      { ipBlock: { cidr: "10.0.0.0/16", except: ["10.0.1.0/24", "10.1.0.0/24", "10.0.0.0/16", "bad"] } }, { ipBlock: {} },
    ] }] }));
    expectCause(causes, "spec.egress[0].to[0]", "FieldValueRequired", "Required value: must specify a peer");
    expectCause(causes, "spec.egress[0].to[1]", "FieldValueForbidden", "Forbidden: may not specify both ipBlock and another peer");
    expectCause(causes, "spec.egress[0].to[2].ipBlock.cidr", "FieldValueInvalid", 'Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)');
    expectCause(causes, "spec.egress[0].to[3].ipBlock.except[1]", "FieldValueInvalid", 'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`');
    expectCause(causes, "spec.egress[0].to[3].ipBlock.except[2]", "FieldValueInvalid", 'Invalid value: "10.0.0.0/16": must be a strict subset of `cidr`');
    expectCause(causes, "spec.egress[0].to[3].ipBlock.except[3]", "FieldValueInvalid", /must be a valid CIDR value/);
    expectCause(causes, "spec.egress[0].to[4].ipBlock.cidr", "FieldValueRequired", "Required value");
    expect(causes).toHaveLength(7);
    expect(causesOf("networkpolicies", np({ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: "2001:db8::/32", except: ["2001:db8:1::/48"] } }, { namespaceSelector: {}, podSelector: { matchLabels: { a: "b" } } }] }] }))).toEqual([]);
    expect(parseCidr("10.1.2.3/8")).toEqual({ family: 4, network: 10n << 24n, prefix: 8 });
    expect(parseCidr("::ffff:10.0.0.1/128")?.family).toBe(6);
  });

  it("policyTypes: Ingress and Egress only, at most two", () => {
    expectCause(causesOf("networkpolicies", np({ podSelector: {}, policyTypes: ["Ingress", "Sideways"] })), "spec.policyTypes[1]", "FieldValueNotSupported", 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"');
    expectCause(causesOf("networkpolicies", np({ podSelector: {}, policyTypes: ["Ingress", "Egress", "Ingress"] })), "spec.policyTypes", "FieldValueInvalid",
      'Invalid value: []networking.PolicyType{"Ingress", "Egress", "Ingress"}: may not specify more than two policyTypes');
  });
});

describe("ingresses - ValidateIngressCreate", () => {
  it("a chart's Ingress (TLS, wildcard host, Prefix and ImplementationSpecific paths, a resource backend) is accepted", () => {
    const chart = ing({
      ingressClassName: "nginx",
      tls: [{ hosts: ["app.example.com", "*.example.com"], secretName: "app-tls" }],
      rules: [
        { host: "app.example.com", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("app", { number: 80 }) }, { pathType: "ImplementationSpecific", backend: svc("app", { name: "http" }) }] } },
        { host: "*.example.com", http: { paths: [{ path: "/static", pathType: "Exact", backend: { resource: { apiGroup: "k8s.example.com", kind: "StorageBucket", name: "static" } } }] } },
      ],
    });
    expect(causesOf("ingresses", chart)).toEqual([]);
    expect(causesOf("ingresses", ing({ defaultBackend: svc("app", { number: 80 }) }))).toEqual([]);
  });

  it("rules or a defaultBackend; hosts are DNS names, not IPs; bad wildcards", () => {
    expectCause(causesOf("ingresses", ing({})), "spec", "FieldValueInvalid", "Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified");
    const causes = causesOf("ingresses", ing({ rules: [{ host: "10.0.0.1" }, { host: "Bad_Host" }, { host: "a.*.example.com" }] }));
    expectCause(causes, "spec.rules[0].host", "FieldValueInvalid", 'Invalid value: "10.0.0.1": must be a DNS name, not an IP address');
    expectCause(causes, "spec.rules[1].host", "FieldValueInvalid", /^Invalid value: "Bad_Host": a lowercase RFC 1123 subdomain must consist of/);
    expectCause(causes, "spec.rules[2].host", "FieldValueInvalid", /^Invalid value: "a.\*.example.com": a wildcard DNS-1123 subdomain must start with '\*.'/);
    expect(causes).toHaveLength(3);
  });

  it("paths: pathType required and supported, absolute for Exact and Prefix, no '//' or trailing '/.'", () => {
    expectCause(causesOf("ingresses", ing(path({ path: "/", backend: svc("a", { number: 80 }) }))), "spec.rules[0].http.paths[0].pathType", "FieldValueRequired", "Required value: pathType must be specified");
    expectCause(causesOf("ingresses", ing(path({ path: "/", pathType: "Regex", backend: svc("a", { number: 80 }) }))), "spec.rules[0].http.paths[0].pathType", "FieldValueNotSupported",
      'Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"');
    expectCause(causesOf("ingresses", ing(path({ path: "api", pathType: "Prefix", backend: svc("a", { number: 80 }) }))), "spec.rules[0].http.paths[0].path", "FieldValueInvalid", 'Invalid value: "api": must be an absolute path');
    expectCause(causesOf("ingresses", ing(path({ path: "/a//b", pathType: "Exact", backend: svc("a", { number: 80 }) }))), "spec.rules[0].http.paths[0].path", "FieldValueInvalid", "Invalid value: \"/a//b\": must not contain '//'");
    expectCause(causesOf("ingresses", ing(path({ path: "/a/.", pathType: "Prefix", backend: svc("a", { number: 80 }) }))), "spec.rules[0].http.paths[0].path", "FieldValueInvalid", "Invalid value: \"/a/.\": cannot end with '/.'");
    expectCause(causesOf("ingresses", ing({ rules: [{ http: { paths: [] } }] })), "spec.rules[0].http.paths", "FieldValueRequired", "Required value");
  });

  it("backends: a service (a DNS-1035 name and one port) or a resource, exactly one", () => {
    const at = "spec.rules[0].http.paths[0].backend";
    const one = (backend: unknown) => causesOf("ingresses", ing(path({ path: "/", pathType: "Prefix", backend })));
    expectCause(one({}), at, "FieldValueInvalid", 'Invalid value: "": resource or service backend is required');
    expectCause(one({ ...svc("a", { number: 80 }), resource: { kind: "K", name: "n" } }), at, "FieldValueInvalid", 'Invalid value: "": cannot set both resource and service backends');
    expectCause(one(svc("a", { number: 80, name: "http" })), at, "FieldValueInvalid", 'Invalid value: "": cannot set both port name & port number');
    expectCause(one(svc("a", {})), at, "FieldValueRequired", "Required value: port name or number is required");
    expectCause(one(svc("1web", { number: 80 })), `${at}.service.name`, "FieldValueInvalid", /^Invalid value: "1web": a DNS-1035 label must consist of/);
    expectCause(one(svc("a", { number: 0x10000 })), `${at}.service.port.number`, "FieldValueInvalid", "Invalid value: 65536: must be between 1 and 65535, inclusive");
    expectCause(one({ resource: { apiGroup: "x.io" } }), `${at}.resource.kind`, "FieldValueRequired", "Required value: kind is required");
    expectCause(one({ resource: { kind: "K", name: "a/b" } }), `${at}.resource.name`, "FieldValueInvalid", "Invalid value: \"a/b\": may not contain '/'");
  });

  it("tls hosts and secret names, the class name, and the legacy annotation agreeing with the field", () => {
    const causes = causesOf("ingresses", ing({ ingressClassName: "Nginx", defaultBackend: svc("a", { number: 80 }), tls: [{ hosts: ["*.*.example.com"], secretName: "Bad" }] }, { "kubernetes.io/ingress.class": "traefik" }));
    expectCause(causes, "spec.tls[0].hosts[0]", "FieldValueInvalid", /a wildcard DNS-1123 subdomain/);
    expectCause(causes, "spec.tls[0].secretName", "FieldValueInvalid", /RFC 1123 subdomain/);
    expectCause(causes, "spec.ingressClassName", "FieldValueInvalid", /^Invalid value: "Nginx": a lowercase RFC 1123 subdomain/);
    expectCause(causes, "annotations.kubernetes.io/ingress.class", "FieldValueInvalid", 'Invalid value: "traefik": must match `ingressClassName` when both are specified');
  });
});

describe("ingress classes - ValidateIngressClass and DefaultIngressClass admission", () => {
  it("controller is a domain-prefixed path, at most 250 bytes; parameters scope Cluster (the default) or Namespace with a namespace", () => {
    expect(causesOf("ingressclasses", ic({ controller: "k8s.io/ingress-nginx", parameters: { apiGroup: "k8s.example.com", kind: "IngressParameters", name: "lb" } }))).toEqual([]);
    const stored = applyDefaults("ingressclasses", validate("ingressclasses", ic({ controller: "k8s.io/ingress-nginx", parameters: { kind: "ConfigMap", name: "lb" } }))) as IngressClass;
    expect(stored.spec.parameters?.scope).toBe("Cluster");
    expectCause(causesOf("ingressclasses", ic({})), "spec.controller", "FieldValueRequired", "Required value");
    expectCause(causesOf("ingressclasses", ic({ controller: "nginx" })), "spec.controller", "FieldValueInvalid", 'Invalid value: "nginx": must be a domain-prefixed path (such as "acme.io/foo")');
    expectCause(causesOf("ingressclasses", ic({ controller: `k8s.io/${"a".repeat(250)}` })), "spec.controller", "FieldValueTooLong", "Too long: may not be more than 250 bytes");
    const scoped = causesOf("ingressclasses", ic({ controller: "a.io/b", parameters: { kind: "K", name: "n", scope: "Namespace" } }));
    expectCause(scoped, "spec.parameters.namespace", "FieldValueRequired", "Required value: `parameters.scope` is set to 'Namespace'");
    expectCause(causesOf("ingressclasses", ic({ controller: "a.io/b", parameters: { kind: "K", name: "n", namespace: "x" } })), "spec.parameters.namespace", "FieldValueForbidden", "Forbidden: `parameters.scope` is set to 'Cluster'");
    expectCause(causesOf("ingressclasses", ic({ controller: "a.io/b", parameters: { kind: "K", name: "n", scope: "Global" } })), "spec.parameters.scope", "FieldValueNotSupported", 'Unsupported value: "Global": supported values: "Cluster", "Namespace"');
  });

  it("the controller never changes", () => {
    const a = ic({ controller: "k8s.io/ingress-nginx" }) as IngressClass;
    expect(ingressClassUpdateProblems(a, { ...a, metadata: { ...a.metadata, labels: { x: "y" } } })).toEqual([]);
    expect(ingressClassUpdateProblems(a, { ...a, spec: { controller: "traefik.io/ingress-controller" } })).toEqual([
      { reason: "FieldValueInvalid", field: "spec.controller", message: 'Invalid value: "traefik.io/ingress-controller": field is immutable' },
    ]);
  });

  it("an Ingress naming no class gets the default class, the newest of several; a class named or the legacy annotation is kept", () => {
    const cls = (name: string, created: string, isDefault: boolean): IngressClass => ({
      apiVersion: "networking.k8s.io/v1", kind: "IngressClass", spec: { controller: "k8s.io/x" },
      metadata: { name, creationTimestamp: created, ...(isDefault ? { annotations: { "ingressclass.kubernetes.io/is-default-class": "true" } } : {}) },
    });
    const classes = [cls("old", "2026-01-01T00:00:00Z", true), cls("newer", "2026-06-01T00:00:00Z", true), cls("newest-not-default", "2026-09-01T00:00:00Z", false), cls("b-tie", "2026-06-01T00:00:00Z", true)];
    expect(defaultIngressClass(classes)?.metadata.name).toBe("b-tie");
    expect(defaultIngressClass([cls("x", "2026-01-01T00:00:00Z", false)])).toBeUndefined();
    const plain = ing({ defaultBackend: svc("a", { number: 80 }) }) as Ingress;
    expect(admitIngress(plain, classes).spec.ingressClassName).toBe("b-tie");
    expect(admitIngress({ ...plain, spec: { ...plain.spec, ingressClassName: "mine" } }, classes).spec.ingressClassName).toBe("mine");
    const legacy = ing({ defaultBackend: svc("a", { number: 80 }) }, { "kubernetes.io/ingress.class": "nginx" }) as Ingress;
    expect(admitIngress(legacy, classes).spec.ingressClassName).toBeUndefined();
    expect(admitIngress(plain, []).spec.ingressClassName).toBeUndefined();
  });
});

describe("networking - strict field validation and quota counts", () => {
  it("the OpenAPI schema knows every field charts set; quotas count the namespaced kinds by their group", () => {
    expect(unknownFields("NetworkPolicy", np({ podSelector: { matchLabels: { a: "b" } }, policyTypes: ["Ingress"], ingress: [{ ports: [{ port: 80, endPort: 90, protocol: "TCP" }], from: [{ ipBlock: { cidr: "10.0.0.0/8", except: [] } }] }] }))).toEqual([]);
    expect(unknownFields("NetworkPolicy", np({ podSelector: {}, ingres: [] }))).toEqual(["spec.ingres"]);
    expect(unknownFields("Ingress", ing({ ingressClassName: "x", tls: [{ hosts: ["a"], secretName: "s" }], rules: [{ host: "a", http: { paths: [{ path: "/", pathType: "Prefix", backend: svc("a", { number: 80 }) }] } }] }))).toEqual([]);
    expect(unknownFields("Ingress", ing({ rules: [{ http: { paths: [{ backend: { serviceName: "a" } }] } }] }))).toEqual(["spec.rules[0].http.paths[0].backend.serviceName"]);
    expect(unknownFields("IngressClass", ic({ controller: "a.io/b", parameters: { apiGroup: "g", kind: "K", name: "n", scope: "Namespace", namespace: "x" } }))).toEqual([]);
    expect(countedResource("count/ingresses.networking.k8s.io")).toBe("ingresses");
    expect(countedResource("count/networkpolicies.networking.k8s.io")).toBe("networkpolicies");
    expect(countedResource("count/ingressclasses.networking.k8s.io")).toBeUndefined();
  });
});
