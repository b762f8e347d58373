/**
 * discovery.k8s.io/v1 EndpointSlice at the API's edge: kube-apiserver's ValidateEndpointSlice and
 * ValidateEndpointSliceUpdate with their paths and words, SetDefaults_EndpointPort, what the v1
 * strategy does (deprecatedTopology dropped, the generation moved), kube-apiserver's table cells,
 * the OpenAPI schema strict field validation and `kubectl apply` read, discovery, and the update
 * rules on a real in-process Api.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import { startTestApi, type TestApi } from "../../../helpers/api.ts";
import type { EndpointSlice } from "../../../../model/types.ts";
import { InvalidError } from "../../../../model/errors.ts";
import { validate } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { endpointSliceWarnings } from "../../../../runtime/api/validation_discovery.ts";
import { openApiV3Group, schemaNameOf, unknownFields } from "../../../../runtime/api/openapi.ts";
import { strategicMergePatch } from "../../../../runtime/api/patch.ts";
import { threeWayMerge } from "../../../../runtime/api/apply.ts";
import { formatTable, toTable } from "../../../../runtime/api/table.ts";
import { apiGroup, apiResourceList } from "../../../../runtime/http/discovery.ts";
import { parseRoute } from "../../../../runtime/http/routes.ts";

const slice = (body: Record<string, unknown>, name = "web-abc12") => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, namespace: "default" }, addressType: "IPv4", endpoints: [], ...body,
});
const ep = (addresses: unknown[], rest: Record<string, unknown> = {}) => ({ addresses, ...rest });

/** What the endpointslice controller writes for a Service `web` with one ready pod. */
const CONTROLLER_SLICE = slice({
  metadata: {
    generateName: "web-", namespace: "default",
    labels: { "kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io" },
    ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "web", uid: "u-1", controller: true, blockOwnerDeletion: true }],
  },
  endpoints: [ep(["10.213.0.5"], {
    conditions: { ready: true, serving: true, terminating: false },
    hostname: "web-0", nodeName: "node-a", zone: "zone-a",
    targetRef: { kind: "Pod", namespace: "default", name: "web-0", uid: "p-1" },
    hints: { forZones: [{ name: "zone-a" }] },
  })],
  ports: [{ name: "http", port: 8080, protocol: "TCP", appProtocol: "http" }, { name: "dns", port: 53, protocol: "UDP" }],
});

describe("endpoint slices - ValidateEndpointSlice", () => {
  it("what the controllers write is accepted; a port's protocol defaults to TCP; deprecatedTopology is dropped; endpoints default to []", () => {
    expect(causesOf("endpointslices", CONTROLLER_SLICE)).toEqual([]);
    const stored = applyDefaults("endpointslices", validate("endpointslices", slice({
      endpoints: [ep(["10.0.0.1"], { deprecatedTopology: { "kubernetes.io/hostname": "node-a" } })],
      ports: [{ name: "http", port: 80 }, { name: "all" }],
    }))) as EndpointSlice;
    expect(stored.ports).toEqual([{ name: "http", port: 80, protocol: "TCP" }, { name: "all", protocol: "TCP" }]);
    expect(stored.endpoints).toEqual([{ addresses: ["10.0.0.1"] }]);
    const { endpoints: _e, ...noEndpoints } = slice({});
    expect((validate("endpointslices", noEndpoints) as EndpointSlice).endpoints).toEqual([]);
    // FQDN and IPv6 slices, a trailing dot, an IPv4-mapped address in an IPv4 slice (Go's To4 reads it).
    expect(causesOf("endpointslices", slice({ addressType: "FQDN", endpoints: [ep(["db.example.com", "db.example.com."])] }))).toEqual([]);
    expect(causesOf("endpointslices", slice({ addressType: "IPv6", endpoints: [ep(["fd00::1", "2001:db8::5"])] }))).toEqual([]);
    expect(causesOf("endpointslices", slice({ endpoints: [ep(["::ffff:10.0.0.1"])] }))).toEqual([]);
    // Unknown fields are kept, as everywhere (strict field validation is the HTTP layer's).
    expect(validate("endpointslices", slice({ extra: 1 }))).toMatchObject({ extra: 1 });
  });

  it("addressType: required, one of FQDN, IPv4, IPv6", () => {
    const { addressType: _a, ...none } = slice({});
    expectCause(causesOf("endpointslices", none), "addressType", "FieldValueRequired", "Required value");
    expectCause(causesOf("endpointslices", slice({ addressType: "" })), "addressType", "FieldValueRequired", "Required value");
    const causes = causesOf("endpointslices", slice({ addressType: "IP", endpoints: [ep(["not an address"])] }));
    expectCause(causes, "addressType", "FieldValueNotSupported", 'Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"');
    // An address of an unknown type is not checked, as kube does.
    expect(causes).toHaveLength(1);
  });

  it("endpoints: at most 1000, each with 1 to 100 addresses", () => {
    const many = Array.from({ length: 1001 }, () => ep([]));
    expect(causesOf("endpointslices", slice({ endpoints: many }))).toEqual([
      { reason: "FieldValueTooMany", field: "endpoints", message: "Too many: 1001: must have at most 1000 items" },
    ]);
    const causes = causesOf("endpointslices", slice({ endpoints: [ep([]), ep(Array.from({ length: 101 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 1}`)), { hostname: "x" }] }));
    expectCause(causes, "endpoints[0].addresses", "FieldValueRequired", "Required value: must contain at least 1 address");
    expectCause(causes, "endpoints[1].addresses", "FieldValueTooMany", "Too many: 101: must have at most 100 items");
    expectCause(causes, "endpoints[2].addresses", "FieldValueRequired", "Required value: must contain at least 1 address");
    expect(causes).toHaveLength(3);
  });

  it("IPv4 and IPv6 addresses: of the slice's family, and not unspecified or link-local (ValidateEndpointIP; loopback allowed, unlike kube)", () => {
    const v4 = causesOf("endpointslices", slice({ endpoints: [ep(["10.0.0", "fd00::1", "0.0.0.0", "127.0.0.1", "169.254.169.254", "224.0.0.5", "010.0.0.1"])] }));
    const at = (j: number) => `endpoints[0].addresses[${j}]`;
    expectCause(v4, at(0), "FieldValueInvalid", 'Invalid value: "10.0.0": must be a valid IPv4 address');
    expectCause(v4, at(0), "FieldValueInvalid", 'Invalid value: "10.0.0": must be a valid IP address');
    expectCause(v4, at(1), "FieldValueInvalid", 'Invalid value: "fd00::1": must be a valid IPv4 address');
    expectCause(v4, at(2), "FieldValueInvalid", 'Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)');
    // Loopback is Berth's one-machine address (the REST API, published ports): allowed.
    expect(v4.some((c) => c.field === at(3))).toBe(false);
    expectCause(v4, at(4), "FieldValueInvalid", 'Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)');
    expectCause(v4, at(5), "FieldValueInvalid", 'Invalid value: "224.0.0.5": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
    // Leading zeros: refused outright, as every IPv4 field of Berth is (kube accepts them with a warning).
    expectCause(v4, at(6), "FieldValueInvalid", 'Invalid value: "010.0.0.1": must be a valid IPv4 address');
    expect(v4).toHaveLength(8);

    const v6 = causesOf("endpointslices", slice({ addressType: "IPv6", endpoints: [ep(["10.1.2.3", "::ffff:10.1.2.3", "::", "::1", "fe80::1", "ff02::2", "fe80::1%eth0"])] }));
    expectCause(v6, at(0), "FieldValueInvalid", 'Invalid value: "10.1.2.3": must be a valid IPv6 address');
    expectCause(v6, at(1), "FieldValueInvalid", 'Invalid value: "::ffff:10.1.2.3": must be a valid IPv6 address');
    expectCause(v6, at(2), "FieldValueInvalid", 'Invalid value: "::": may not be unspecified (::)');
    expect(v6.some((c) => c.field === at(3))).toBe(false);
    expectCause(v6, at(4), "FieldValueInvalid", 'Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)');
    expectCause(v6, at(5), "FieldValueInvalid", 'Invalid value: "ff02::2": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)');
    expectCause(v6, at(6), "FieldValueInvalid", 'Invalid value: "fe80::1%eth0": must be a valid IP address');
    expect(v6).toHaveLength(7);
  });

  it("FQDN addresses: a subdomain of two labels or more (IsFullyQualifiedDomainName), the first problem only", () => {
    const causes = causesOf("endpointslices", slice({ addressType: "FQDN", endpoints: [ep(["db", "DB.example.com", "", "a..b"])] }));
    const at = (j: number) => `endpoints[0].addresses[${j}]`;
    expectCause(causes, at(0), "FieldValueInvalid", 'Invalid value: "db": should be a domain with at least two segments separated by dots');
    expectCause(causes, at(1), "FieldValueInvalid", /^Invalid value: "DB.example.com": a lowercase RFC 1123 subdomain must consist of/);
    expectCause(causes, at(2), "FieldValueRequired", "Required value");
    expectCause(causes, at(3), "FieldValueInvalid", /^Invalid value: "a..b": a lowercase RFC 1123 subdomain/);
    expect(causes).toHaveLength(4);
  });

  it("an endpoint's hostname is a DNS label, its nodeName a DNS subdomain; hints name zones and nodes once, at most 8", () => {
    const causes = causesOf("endpointslices", slice({ endpoints: [
      ep(["10.0.0.1"], { hostname: "web.0", nodeName: "Node_1" }),
      ep(["10.0.0.2"], { hostname: "Web", hints: { forZones: [{ name: "a" }, { name: "a" }, { name: "bad zone" }], forNodes: [{ name: "n1" }, { name: "N1" }] } }),
      ep(["10.0.0.3"], { hints: { forZones: Array.from({ length: 9 }, (_, i) => ({ name: `z${i}` })), forNodes: [{ name: "N1" }] } }),
    ] }));
    expectCause(causes, "endpoints[0].hostname", "FieldValueInvalid", 'Invalid value: "web.0": must not contain dots');
    expectCause(causes, "endpoints[0].nodeName", "FieldValueInvalid", /^Invalid value: "Node_1": a lowercase RFC 1123 subdomain/);
    expectCause(causes, "endpoints[1].hostname", "FieldValueInvalid", /^Invalid value: "Web": a lowercase RFC 1123 label must consist of/);
    expectCause(causes, "endpoints[1].hints.forZones[1].name", "FieldValueDuplicate", 'Duplicate value: "a"');
    expectCause(causes, "endpoints[1].hints.forZones[2].name", "FieldValueInvalid", /^Invalid value: "bad zone": a valid label must be an empty string or consist of/);
    expectCause(causes, "endpoints[1].hints.forNodes[1].name", "FieldValueInvalid", /^Invalid value: "N1": a lowercase RFC 1123 subdomain/);
    // Too many zones ends the check of that endpoint's hints, as in kube.
    expectCause(causes, "endpoints[2].hints.forZones", "FieldValueTooMany", "Too many: 9: must have at most 8 items");
    expect(causes).toHaveLength(7);
  });

  it("ports: DNS-label names, unique (the empty one too); TCP, UDP or SCTP; appProtocol a qualified name; no range on the number", () => {
    const causes = causesOf("endpointslices", slice({ ports: [
      { name: "HTTP", port: 80 }, { port: 81 }, { name: "", port: 82 }, { name: "http", port: 83, protocol: "ICMP" }, { name: "h", port: 84, appProtocol: "kubernetes.io/" }, { name: "http", port: 85 },
    ] }));
    expectCause(causes, "ports[0].name", "FieldValueInvalid", /^Invalid value: "HTTP": a lowercase RFC 1123 label must consist of/);
    expectCause(causes, "ports[2].name", "FieldValueDuplicate", 'Duplicate value: ""');
    expectCause(causes, "ports[3].protocol", "FieldValueNotSupported", 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"');
    expectCause(causes, "ports[4].appProtocol", "FieldValueInvalid", 'Invalid value: "kubernetes.io/": name part must be non-empty');
    expectCause(causes, "ports[5].name", "FieldValueDuplicate", 'Duplicate value: "http"');
    expect(causes).toHaveLength(5);
    // Kubernetes checks no range on an EndpointSlice port: 0 and 70000 are stored, only an int32 is required.
    expect(causesOf("endpointslices", slice({ ports: [{ name: "a", port: 0 }, { name: "b", port: 70000 }, { name: "c", appProtocol: "kubernetes.io/h2c" }] }))).toEqual([]);
    expectCause(causesOf("endpointslices", slice({ ports: [{ port: 2 ** 31 }] })), "ports[0].port", "FieldValueInvalid", "Invalid value: 2147483648: must be less than or equal to 2147483647");
    expect(causesOf("endpointslices", slice({ ports: Array.from({ length: 20001 }, (_, i) => ({ name: `p${i}`, port: 1 })) }))).toEqual([
      { reason: "FieldValueTooMany", field: "ports", message: "Too many: 20001: must have at most 20000 items" },
    ]);
  });

  it("types: conditions are booleans, addresses strings, the name a DNS subdomain", () => {
    const causes = causesOf("endpointslices", slice({ metadata: { name: "Web_1", namespace: "default" }, endpoints: [ep([5], { conditions: { ready: "yes" } })] }));
    expectCause(causes, "endpoints[0].conditions.ready", "FieldValueInvalid", 'Invalid value: "yes": must be a boolean, got string');
    expectCause(causes, "endpoints[0].addresses[0]", "FieldValueInvalid", "Invalid value: 5: must be a string, got number");
    expectCause(causes, "metadata.name", "FieldValueInvalid", /a lowercase RFC 1123 subdomain/);
  });

  it("an FQDN slice carries kube's deprecation warning on create", () => {
    expect(endpointSliceWarnings(validate("endpointslices", slice({ addressType: "FQDN" })))).toEqual(["spec.addressType: FQDN endpoints are deprecated"]);
    expect(endpointSliceWarnings(validate("endpointslices", slice({})))).toEqual([]);
  });
});

describe("endpoint slices - kube-apiserver's table", () => {
  const NOW = Date.parse("2026-12-04T10:05:00Z");
  const at = "2026-12-04T10:00:00Z";
  const row = (name: string, body: Partial<EndpointSlice>): EndpointSlice =>
    ({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", metadata: { name, namespace: "default", creationTimestamp: at }, addressType: "IPv4", endpoints: [], ...body });
  const addrs = (...a: string[]) => a.map((x) => ({ addresses: [x] }));

  it("NAME ADDRESSTYPE PORTS ENDPOINTS AGE: three of each then `+ N more...`, `<unset>` for none or a nameless all-ports port", () => {
    const slices = [
      row("web-abc12", { ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "https", port: 443, protocol: "TCP" }], endpoints: addrs("10.213.0.5", "10.213.0.6") }),
      row("many-x", { ports: [80, 81, 82, 83, 84].map((port) => ({ name: `p${port}`, port, protocol: "TCP" as const })), endpoints: [{ addresses: ["10.0.0.1", "10.0.0.2"] }, ...addrs("10.0.0.3", "10.0.0.4", "10.0.0.5")] }),
      row("empty-y", {}),
      row("all-ports", { ports: [{ protocol: "TCP" }], endpoints: addrs("10.0.0.9") }),
      row("named-all", { addressType: "FQDN", ports: [{ name: "dns", protocol: "UDP" }, { port: 53, protocol: "TCP" }], endpoints: addrs("db.example.com") }),
    ];
    const table = toTable("endpointslices", slices, { now: NOW });
    expect(table.columns.map((c) => [c.name, c.priority])).toEqual([["Name", 0], ["AddressType", 0], ["Ports", 0], ["Endpoints", 0], ["Age", 0]]);
    expect(formatTable(table)).toBe(`NAME        ADDRESSTYPE   PORTS                  ENDPOINTS                                AGE
web-abc12   IPv4          80,443                 10.213.0.5,10.213.0.6                    5m
many-x      IPv4          80,81,82 + 2 more...   10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...   5m
empty-y     IPv4          <unset>                <unset>                                  5m
all-ports   IPv4          <unset>                10.0.0.9                                 5m
named-all   FQDN          dns,53                 db.example.com                           5m
`);
  });
});

describe("endpoint slices - OpenAPI, patches and discovery", () => {
  it("the schema is discovery.k8s.io/v1's: strict field validation finds unknown fields, explain finds the kind", () => {
    expect(schemaNameOf("EndpointSlice")).toBe("io.k8s.api.discovery.v1.EndpointSlice");
    expect(unknownFields("EndpointSlice", CONTROLLER_SLICE)).toEqual([]);
    expect(unknownFields("EndpointSlice", slice({ endpoints: [ep(["10.0.0.1"], { conditions: { up: true }, deprecatedTopology: { a: "b" } })], ports: [{ number: 80 }], topology: {} })))
      .toEqual(["endpoints[0].conditions.up", "ports[0].number", "topology"]);
    const doc = openApiV3Group("discovery.k8s.io/v1") as { paths: Record<string, unknown>; components: { schemas: Record<string, { required?: string[]; properties?: Record<string, Record<string, unknown>> }> } };
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices", "/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices/{name}", "/apis/discovery.k8s.io/v1/endpointslices"]));
    const schema = doc.components.schemas["io.k8s.api.discovery.v1.EndpointSlice"];
    expect(schema.required).toEqual(["addressType", "endpoints"]);
    expect(schema.properties?.endpoints["x-kubernetes-list-type"]).toBe("atomic");
    expect(schema.properties?.ports["x-kubernetes-list-type"]).toBe("atomic");
  });

  it("a strategic merge patch and berth apply replace the ports and endpoints whole, as their atomic lists say", () => {
    const stored = { ...slice({ ports: [{ name: "http", port: 80, protocol: "TCP" }, { name: "https", port: 443, protocol: "TCP" }], endpoints: [ep(["10.0.0.1"]), ep(["10.0.0.2"])] }) };
    const patched = strategicMergePatch(stored, { ports: [{ name: "http", port: 80 }], endpoints: [ep(["10.0.0.3"])] }) as EndpointSlice;
    expect(patched.ports).toEqual([{ name: "http", port: 80 }]);
    expect(patched.endpoints).toEqual([ep(["10.0.0.3"])]);
    const desired = slice({ ports: [{ name: "http", port: 80 }] });
    expect((threeWayMerge(stored, desired, stored) as unknown as EndpointSlice).ports).toEqual([{ name: "http", port: 80 }]);
    // A Service's ports still merge by port.
    const svc = strategicMergePatch({ spec: { ports: [{ port: 80, name: "a" }, { port: 443, name: "b" }] } }, { spec: { ports: [{ port: 80, name: "c" }] } }) as { spec: { ports: unknown[] } };
    expect(svc.spec.ports).toEqual([{ port: 80, name: "c" }, { port: 443, name: "b" }]);
  });

  it("discovery: /apis/discovery.k8s.io[/v1] lists endpointslices, namespaced, with every verb and no short names; routes", () => {
    expect(apiGroup("discovery.k8s.io")).toEqual({
      kind: "APIGroup", apiVersion: "v1", name: "discovery.k8s.io",
      versions: [{ groupVersion: "discovery.k8s.io/v1", version: "v1" }], preferredVersion: { groupVersion: "discovery.k8s.io/v1", version: "v1" },
    });
    expect(apiResourceList("discovery.k8s.io/v1")).toEqual({
      kind: "APIResourceList", apiVersion: "v1", groupVersion: "discovery.k8s.io/v1",
      resources: [{ name: "endpointslices", singularName: "endpointslice", namespaced: true, kind: "EndpointSlice", verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] }],
    });
    expect(parseRoute("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12")).toMatchObject({ type: "resource", resource: "endpointslices", namespace: "default", name: "web-abc12" });
    expect(parseRoute("/apis/discovery.k8s.io/v1/endpointslices")).toMatchObject({ type: "resource", resource: "endpointslices" });
    expect(parseRoute("/api/v1/namespaces/default/endpointslices")).toEqual({ type: "notFound" });
    expect(parseRoute("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/web-abc12/status")).toEqual({ type: "notFound" });
  });
});

describe("endpoint slices - updates on a real Api", () => {
  let t: TestApi;
  beforeAll(async () => {
    t = await startTestApi();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("addressType is immutable (update and patch), everything else may change; the generation moves with all but metadata, labels included", async () => {
    const created = await t.api.create("endpointslices", CONTROLLER_SLICE, "default");
    expect(created.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(created.metadata.generation).toBe(1);
    expect(created.ports?.[1]).toEqual({ name: "dns", port: 53, protocol: "UDP" });
    const name = created.metadata.name;

    const refused = await t.api.update("endpointslices", { ...created, addressType: "IPv6", endpoints: [ep(["fd00::5"])] }).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidError);
    expect((refused as InvalidError).code).toBe(422);
    expect((refused as InvalidError).causes).toEqual([{ reason: "FieldValueInvalid", field: "addressType", message: 'Invalid value: "IPv6": field is immutable' }]);
    await expect(t.api.patch("endpointslices", name, { addressType: "FQDN" }, { namespace: "default", type: "merge" })).rejects.toThrow(/field is immutable/);

    const annotated = await t.api.patch("endpointslices", name, { metadata: { annotations: { note: "x" } } }, { namespace: "default", type: "merge" });
    expect(annotated.metadata.generation).toBe(1);
    const relabelled = await t.api.patch("endpointslices", name, { metadata: { labels: { extra: "y" } } }, { namespace: "default", type: "merge" });
    expect(relabelled.metadata.generation).toBe(2);
    const moved = await t.api.patch("endpointslices", name, { endpoints: [ep(["10.213.0.7"], { conditions: { ready: false } })] }, { namespace: "default", type: "merge" });
    expect(moved.metadata.generation).toBe(3);
    expect(moved.addressType).toBe("IPv4");
    expect(moved.endpoints).toEqual([{ addresses: ["10.213.0.7"], conditions: { ready: false } }]);
  });
});
