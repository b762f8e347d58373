import { describe, expect, it } from "vitest";
import { ApiError, BadRequestError, InvalidError } from "../../../../model/errors.ts";
import type { Resource, StatusCause } from "../../../../model/types.ts";
import {
  checkSize,
  isDns1123Label,
  isDns1123Subdomain,
  kindOf,
  MAX_OBJECT_BYTES,
  resourceForKind,
  validate,
} from "../../../../runtime/api/validation.ts";

const container = (extra: Record<string, unknown> = {}) => ({ name: "web", image: "berth/busybox", ...extra });
const pod = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-1", ...metadata },
  spec: { containers: [container()], ...spec },
});
const rc = (spec: Record<string, unknown> = {}) => ({
  apiVersion: "v1",
  kind: "ReplicationController",
  metadata: { name: "web" },
  spec: { replicas: 2, selector: { app: "web" }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [container()] } }, ...spec },
});
const service = (spec: Record<string, unknown> = {}, name = "web") => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name },
  spec: { selector: { app: "web" }, ports: [{ port: 80 }], ...spec },
});

/** The causes `validate` reports, or [] when it accepts the object. */
function causesOf(resource: Resource, raw: unknown): StatusCause[] {
  try {
    validate(resource, raw);
    return [];
  } catch (e) {
    if (!(e instanceof InvalidError)) throw e;
    expect(e.code).toBe(422);
    expect(e.toStatus().details?.causes).toEqual(e.causes);
    return e.causes;
  }
}

function expectCause(causes: StatusCause[], field: string, reason: string, message?: RegExp): void {
  const hit = causes.find((c) => c.field === field && c.reason === reason && (!message || message.test(c.message)));
  expect(hit, `expected ${reason} at ${field}${message ? ` matching ${message}` : ""}, got ${JSON.stringify(causes, null, 1)}`).toBeDefined();
}

describe("validation - accepted objects", () => {
  it("accepts a valid object of every kind", () => {
    expect(causesOf("pods", pod())).toEqual([]);
    expect(causesOf("replicationcontrollers", rc())).toEqual([]);
    expect(causesOf("services", service())).toEqual([]);
    expect(causesOf("services", service({ clusterIP: "None", ports: [] }))).toEqual([]);
    expect(causesOf("services", { apiVersion: "v1", kind: "Service", metadata: { name: "legacy" }, spec: { type: "ExternalName", externalName: "db.example.com." } })).toEqual([]);
    expect(causesOf("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } })).toEqual([]);
    expect(causesOf("nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" }, spec: { taints: [{ key: "k", effect: "NoSchedule" }] } })).toEqual([]);
    expect(causesOf("endpoints", {
      apiVersion: "v1", kind: "Endpoints", metadata: { name: "web" },
      subsets: [{ addresses: [{ ip: "10.0.0.1", targetRef: { kind: "Pod", name: "web-1" } }], ports: [{ port: 80 }] }],
    })).toEqual([]);
    expect(causesOf("events", { apiVersion: "v1", kind: "Event", metadata: { name: "web-1.abc" }, involvedObject: { kind: "Pod", name: "web-1" }, type: "Warning" })).toEqual([]);
  });

  it("keeps unknown fields, and fills apiVersion and kind when absent", () => {
    const out = validate("pods", { metadata: { name: "p", futureField: 1 }, spec: { containers: [container({ stdin: true })], priority: 3 }, extra: "x" });
    expect(out.apiVersion).toBe("v1");
    expect(out.kind).toBe("Pod");
    expect((out as unknown as { extra: string }).extra).toBe("x");
    expect((out.spec as unknown as { priority: number }).priority).toBe(3);
    expect((out.spec.containers[0] as unknown as { stdin: boolean }).stdin).toBe(true);
    expect((out.metadata as unknown as { futureField: number }).futureField).toBe(1);
  });

  it("treats null properties as absent, as Kubernetes' JSON decoding does", () => {
    const out = validate("pods", pod({ volumes: null, restartPolicy: null }, { labels: null }));
    expect(out.spec.volumes).toBeUndefined();
    expect("labels" in out.metadata).toBe(false);
  });

  it("keeps a __proto__ key from JSON as a plain unknown field, without touching prototypes", () => {
    const raw = JSON.parse('{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"i"}]},"__proto__":{"polluted":true}}');
    const out = validate("pods", raw) as unknown as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it("accepts a missing name when generateName is given", () => {
    expect(causesOf("pods", { ...pod(), metadata: { generateName: "web-" } })).toEqual([]);
  });

  it("keeps YAML-style number quantities as strings", () => {
    const out = validate("pods", pod({ containers: [container({ resources: { requests: { cpu: 0.5, memory: "64Mi" }, limits: { cpu: 1 } } })] }));
    expect(out.spec.containers[0].resources).toEqual({ requests: { cpu: "0.5", memory: "64Mi" }, limits: { cpu: "1" } });
  });
});

describe("validation - the body", () => {
  for (const raw of [null, undefined, [], "pod", 42, true]) {
    it(`rejects ${JSON.stringify(raw)} as a bad request`, () => {
      expect(() => validate("pods", raw)).toThrow(BadRequestError);
      expect(() => validate("pods", raw)).toThrow(/must be a JSON object/);
    });
  }
  it("rejects a wrong apiVersion and a kind that is not the resource's", () => {
    const causes = causesOf("pods", { ...pod(), apiVersion: "apps/v1", kind: "Service" });
    expectCause(causes, "apiVersion", "FieldValueNotSupported", /"apps\/v1": supported values: "v1"/);
    expectCause(causes, "kind", "FieldValueNotSupported", /"Service": supported values: "Pod"/);
  });
  it("requires metadata and a name", () => {
    expectCause(causesOf("pods", { spec: pod().spec }), "metadata", "FieldValueRequired");
    expectCause(causesOf("pods", pod({}, { name: "" })), "metadata.name", "FieldValueRequired", /name or generateName is required/);
  });
  it("lists every problem at once, with the object's kind and name in the message", () => {
    let err: InvalidError | undefined;
    try {
      validate("pods", pod({ restartPolicy: "Sometimes", containers: [{ name: "Web", ports: [{ containerPort: "80" }] }] }, { name: "Bad_Name" }));
    } catch (e) {
      err = e as InvalidError;
    }
    expect(err).toBeInstanceOf(InvalidError);
    expect(err!.message).toMatch(/^Pod "Bad_Name" is invalid: /);
    const fields = err!.causes.map((c) => c.field);
    expect(fields).toEqual(expect.arrayContaining([
      "metadata.name", "spec.restartPolicy", "spec.containers[0].name", "spec.containers[0].image", "spec.containers[0].ports[0].containerPort",
    ]));
    expect(err!.message).toContain("spec.containers[0].image: Required value");
  });
});

describe("validation - names", () => {
  it("pods, RCs, endpoints and events take DNS-1123 subdomains (dots allowed, ≤ 253)", () => {
    expect(causesOf("pods", pod({}, { name: "web.v1-2" }))).toEqual([]);
    expectCause(causesOf("pods", pod({}, { name: "Web" })), "metadata.name", "FieldValueInvalid", /RFC 1123 subdomain/);
    expectCause(causesOf("pods", pod({}, { name: "a".repeat(254) })), "metadata.name", "FieldValueTooLong", /253/);
    expect(causesOf("pods", pod({}, { name: "a".repeat(253) }))).toEqual([]);
    expectCause(causesOf("replicationcontrollers", { ...rc(), metadata: { name: "-web" } }), "metadata.name", "FieldValueInvalid");
    expectCause(causesOf("events", { metadata: { name: "e_1" }, involvedObject: {} }), "metadata.name", "FieldValueInvalid");
  });
  it("an ExternalName service needs a DNS name and may have no address or node port of its own", () => {
    const ext = (spec: Record<string, unknown>) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "legacy" }, spec: { type: "ExternalName", ...spec } });
    expectCause(causesOf("services", ext({})), "spec.externalName", "FieldValueRequired");
    expectCause(causesOf("services", ext({ externalName: "Not_A.Name" })), "spec.externalName", "FieldValueInvalid", /RFC 1123 subdomain/);
    expectCause(causesOf("services", ext({ externalName: "db.example.com", clusterIP: "10.96.0.9" })), "spec.clusterIP", "FieldValueForbidden", /may not be set for ExternalName services/);
    expectCause(causesOf("services", ext({ externalName: "db.example.com", clusterIP: "None" })), "spec.clusterIP", "FieldValueForbidden");
    expectCause(causesOf("services", ext({ externalName: "db.example.com", ports: [{ port: 80, nodePort: 30080 }] })), "spec.ports[0].nodePort", "FieldValueForbidden", /'ExternalName'/);
  });

  it("services, namespaces and nodes take DNS-1123 labels (no dots, ≤ 63)", () => {
    expectCause(causesOf("services", service({}, "web.v1")), "metadata.name", "FieldValueInvalid", /RFC 1123 label/);
    expectCause(causesOf("services", service({}, "a".repeat(64))), "metadata.name", "FieldValueTooLong", /63/);
    expect(causesOf("services", service({}, "a".repeat(63)))).toEqual([]);
    expectCause(causesOf("namespaces", { metadata: { name: "Team" } }), "metadata.name", "FieldValueInvalid");
    expectCause(causesOf("nodes", { metadata: { name: "node.example.com" } }), "metadata.name", "FieldValueInvalid");
  });
  it("checks the namespace as a DNS-1123 label", () => {
    expectCause(causesOf("pods", pod({}, { namespace: "My_NS" })), "metadata.namespace", "FieldValueInvalid");
  });
  it("exports the name predicates", () => {
    expect(isDns1123Label("a-1")).toBe(true);
    expect(isDns1123Label("a.b")).toBe(false);
    expect(isDns1123Label("a".repeat(64))).toBe(false);
    expect(isDns1123Subdomain("a.b-c.d")).toBe(true);
    expect(isDns1123Subdomain("a..b")).toBe(false);
    expect(isDns1123Subdomain("-a")).toBe(false);
  });
});

describe("validation - labels and annotations", () => {
  it("accepts prefixed keys and empty values", () => {
    expect(causesOf("pods", pod({}, { labels: { "example.com/app": "web", "a_b.c-d": "", x: "A.b_c-9" } }))).toEqual([]);
  });
  const badLabels: [Record<string, unknown>, RegExp][] = [
    [{ "bad key": "x" }, /"bad key": name part must consist/],
    [{ "-a": "x" }, /"-a": name part/],
    [{ ["k".repeat(64)]: "x" }, /name part must be no more than 63/],
    [{ "Example.com/a": "x" }, /prefix part a lowercase RFC 1123 subdomain/],
    [{ "/a": "x" }, /prefix part must be non-empty/],
    [{ a: "v".repeat(64) }, /must be no more than 63 characters/],
    [{ a: "bad value" }, /"bad value": a valid label must be an empty string/],
    [{ a: "-x" }, /a valid label/],
    [{ a: 1 }, /the value of "a" must be a string/],
  ];
  for (const [labels, msg] of badLabels) {
    it(`rejects labels ${JSON.stringify(labels).slice(0, 50)} at metadata.labels`, () => {
      expectCause(causesOf("pods", pod({}, { labels })), "metadata.labels", "FieldValueInvalid", msg);
    });
  }
  it("rejects labels that are not a map", () => {
    expectCause(causesOf("pods", pod({}, { labels: ["a"] })), "metadata.labels", "FieldValueInvalid", /must be a map/);
  });
  it("applies the label rules to nodeSelector and RC/Service selectors", () => {
    expectCause(causesOf("pods", pod({ nodeSelector: { "x y": "1" } })), "spec.nodeSelector", "FieldValueInvalid");
    expectCause(causesOf("services", service({ selector: { app: "a b" } })), "spec.selector", "FieldValueInvalid");
  });
  it("limits annotations to 256 KiB in total", () => {
    expectCause(causesOf("pods", pod({}, { annotations: { a: "x".repeat(256 * 1024) } })), "metadata.annotations", "FieldValueTooLong");
    expect(causesOf("pods", pod({}, { annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{ any text }" } }))).toEqual([]);
  });
});

describe("validation - pod spec", () => {
  it("requires at least one container, each with a DNS-label name and an image", () => {
    expectCause(causesOf("pods", pod({ containers: [] })), "spec.containers", "FieldValueRequired");
    expectCause(causesOf("pods", { ...pod(), spec: {} }), "spec.containers", "FieldValueRequired");
    expectCause(causesOf("pods", { ...pod(), spec: undefined }), "spec", "FieldValueRequired");
    expectCause(causesOf("pods", pod({ containers: [{ image: "x" }] })), "spec.containers[0].name", "FieldValueRequired");
    expectCause(causesOf("pods", pod({ containers: [{ name: "Web_1", image: "x" }] })), "spec.containers[0].name", "FieldValueInvalid", /RFC 1123 label/);
    expectCause(causesOf("pods", pod({ containers: [{ name: "web", image: "" }] })), "spec.containers[0].image", "FieldValueRequired");
  });
  it("requires unique container names", () => {
    expectCause(causesOf("pods", pod({ containers: [container(), container()] })), "spec.containers[1].name", "FieldValueDuplicate", /"web"/);
  });
  it("checks ports: 1–65535, IANA names unique in the pod, protocol", () => {
    const ports = (p: unknown[]) => pod({ containers: [container({ ports: p })] });
    expectCause(causesOf("pods", ports([{ containerPort: 0 }])), "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", /greater than or equal to 1/);
    expectCause(causesOf("pods", ports([{ containerPort: 65536 }])), "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", /less than or equal to 65535/);
    expectCause(causesOf("pods", ports([{ containerPort: 80.5 }])), "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", /must be an integer/);
    expectCause(causesOf("pods", ports([{ containerPort: 80, name: "http" }, { containerPort: 81, name: "http" }])), "spec.containers[0].ports[1].name", "FieldValueDuplicate");
    expectCause(causesOf("pods", ports([{ containerPort: 80, name: "a-very-long-port-name" }])), "spec.containers[0].ports[0].name", "FieldValueInvalid", /15 characters/);
    expectCause(causesOf("pods", ports([{ containerPort: 80, name: "8080" }])), "spec.containers[0].ports[0].name", "FieldValueInvalid", /at least one letter/);
    expectCause(causesOf("pods", ports([{ containerPort: 80, protocol: "SCTP" }])), "spec.containers[0].ports[0].protocol", "FieldValueNotSupported");
    expect(causesOf("pods", ports([{ containerPort: 80, name: "http", protocol: "TCP" }, { containerPort: 53, name: "dns", protocol: "UDP" }]))).toEqual([]);
  });
  it("rejects strings of numbers where numbers are required, and other wrong types", () => {
    const c = causesOf("pods", pod({ terminationGracePeriodSeconds: "30", containers: [container({ ports: [{ containerPort: "80" }], command: "sh -c x", env: {} })] }));
    expectCause(c, "spec.terminationGracePeriodSeconds", "FieldValueInvalid", /"30": must be a number, got string/);
    expectCause(c, "spec.containers[0].ports[0].containerPort", "FieldValueInvalid", /must be a number/);
    expectCause(c, "spec.containers[0].command", "FieldValueInvalid", /must be an array, got string/);
    expectCause(c, "spec.containers[0].env", "FieldValueInvalid", /must be an array, got an object/);
  });
  it("requires unique volume names and mounts that name a declared volume", () => {
    const c = causesOf("pods", pod({
      volumes: [{ name: "data", emptyDir: {} }, { name: "data", emptyDir: {} }],
      containers: [container({ volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cache", mountPath: "/cache" }, { name: "data", mountPath: "/data" }] })],
    }));
    expectCause(c, "spec.volumes[1].name", "FieldValueDuplicate");
    expectCause(c, "spec.containers[0].volumeMounts[1].name", "FieldValueNotFound", /"cache"/);
    expectCause(c, "spec.containers[0].volumeMounts[2].mountPath", "FieldValueInvalid", /must be unique/);
    expect(c.find((x) => x.field === "spec.containers[0].volumeMounts[0].name")).toBeUndefined();
  });
  it("requires exactly one supported source per volume", () => {
    const c = causesOf("pods", pod({
      volumes: [
        { name: "none" },
        { name: "two", emptyDir: {}, hostPath: { path: "/tmp" } },
        { name: "cm", nfs: { server: "x", path: "/" } },
        { name: "rel", hostPath: { path: "tmp" } },
        { name: "pvc", persistentVolumeClaim: { claimName: "data" } },
      ],
    }));
    expectCause(c, "spec.volumes[0]", "FieldValueRequired", /must specify a volume type/);
    expectCause(c, "spec.volumes[1].hostPath", "FieldValueForbidden", /more than 1 volume type/);
    expectCause(c, "spec.volumes[2]", "FieldValueNotSupported", /"nfs": Berth supports/);
    expectCause(c, "spec.volumes[3].hostPath.path", "FieldValueInvalid", /absolute path/);
    expect(c.filter((x) => x.field?.startsWith("spec.volumes[4]"))).toEqual([]);
  });
  it("requires exactly one handler per probe", () => {
    const c = causesOf("pods", pod({
      containers: [container({
        livenessProbe: { periodSeconds: 5 },
        readinessProbe: { exec: { command: ["true"] }, tcpSocket: { port: 80 } },
      })],
    }));
    expectCause(c, "spec.containers[0].livenessProbe", "FieldValueRequired", /must specify a handler type/);
    expectCause(c, "spec.containers[0].readinessProbe.tcpSocket", "FieldValueForbidden", /more than 1 handler type/);
  });
  it("checks probe ports and numbers", () => {
    const c = causesOf("pods", pod({
      containers: [container({
        livenessProbe: { httpGet: { port: "80" }, periodSeconds: -1, successThreshold: 2 },
        readinessProbe: { tcpSocket: { port: 70000 } },
      })],
    }));
    expectCause(c, "spec.containers[0].livenessProbe.httpGet.port", "FieldValueInvalid", /port name must contain at least one letter/);
    expectCause(c, "spec.containers[0].livenessProbe.periodSeconds", "FieldValueInvalid");
    expectCause(c, "spec.containers[0].livenessProbe.successThreshold", "FieldValueInvalid", /must be 1/);
    expectCause(c, "spec.containers[0].readinessProbe.tcpSocket.port", "FieldValueInvalid", /between 1 and 65535/);
    expect(causesOf("pods", pod({ containers: [container({ ports: [{ name: "http", containerPort: 80 }], livenessProbe: { httpGet: { port: "http", path: "/healthz" } } })] }))).toEqual([]);
  });
  it("checks restartPolicy, dnsPolicy and imagePullPolicy against their values", () => {
    const c = causesOf("pods", pod({ restartPolicy: "Sometimes", dnsPolicy: "Cluster", containers: [container({ imagePullPolicy: "Maybe" })] }));
    expectCause(c, "spec.restartPolicy", "FieldValueNotSupported", /"Sometimes": supported values: "Always", "OnFailure", "Never"/);
    expectCause(c, "spec.dnsPolicy", "FieldValueNotSupported");
    expectCause(c, "spec.containers[0].imagePullPolicy", "FieldValueNotSupported");
  });
  it("checks resource quantities, and requests within limits", () => {
    const c = causesOf("pods", pod({
      containers: [container({ resources: { requests: { cpu: "2", memory: "lots" }, limits: { cpu: "500m", memory: "-1Mi" } } })],
    }));
    expectCause(c, "spec.containers[0].resources.requests", "FieldValueInvalid", /quantity of "memory"/);
    expectCause(c, "spec.containers[0].resources.limits", "FieldValueInvalid", /greater than or equal to 0/);
    expectCause(c, "spec.containers[0].resources.requests", "FieldValueInvalid", /less than or equal to cpu limit/);
  });
  it("checks nodeName as a Berth node name and env var names", () => {
    const c = causesOf("pods", pod({ nodeName: "Node_1", containers: [container({ env: [{ name: "A=B", value: "x" }, { value: "y" }] })] }));
    expectCause(c, "spec.nodeName", "FieldValueInvalid");
    expectCause(c, "spec.containers[0].env[0].name", "FieldValueInvalid", /other than '='/);
    expectCause(c, "spec.containers[0].env[1].name", "FieldValueRequired");
  });
});

describe("validation - replication controllers", () => {
  it("requires a non-negative integer replicas and a template", () => {
    expectCause(causesOf("replicationcontrollers", rc({ replicas: -1 })), "spec.replicas", "FieldValueInvalid", /greater than or equal to 0/);
    expectCause(causesOf("replicationcontrollers", rc({ replicas: 1.5 })), "spec.replicas", "FieldValueInvalid", /integer/);
    expectCause(causesOf("replicationcontrollers", rc({ replicas: "3" })), "spec.replicas", "FieldValueInvalid", /"3": must be a number/);
    expectCause(causesOf("replicationcontrollers", rc({ template: undefined })), "spec.template", "FieldValueRequired");
    expect(causesOf("replicationcontrollers", rc({ replicas: 0 }))).toEqual([]);
  });
  it("requires the selector to match the template labels", () => {
    expectCause(
      causesOf("replicationcontrollers", rc({ selector: { app: "db" } })),
      "spec.template.metadata.labels",
      "FieldValueInvalid",
      /selector` does not match template `labels/,
    );
    expect(causesOf("replicationcontrollers", rc({ selector: undefined }))).toEqual([]);
  });
  it("requires a selector or template labels to default it from", () => {
    const noLabels = rc({ selector: undefined, template: { spec: { containers: [container()] } } });
    expectCause(causesOf("replicationcontrollers", noLabels), "spec.selector", "FieldValueRequired");
  });
  it("validates the template's pod spec with its own paths, and allows only restartPolicy Always", () => {
    const c = causesOf("replicationcontrollers", rc({
      template: { metadata: { labels: { app: "web" } }, spec: { restartPolicy: "OnFailure", containers: [{ name: "web" }, container()] } },
    }));
    expectCause(c, "spec.template.spec.containers[0].image", "FieldValueRequired");
    expectCause(c, "spec.template.spec.containers[1].name", "FieldValueDuplicate");
    expectCause(c, "spec.template.spec.restartPolicy", "FieldValueNotSupported", /supported values: "Always"/);
  });
});

describe("validation - services", () => {
  it("checks ports 1–65535, targetPort, and names when there are several", () => {
    const c = causesOf("services", service({ ports: [{ port: 0 }, { port: 80, targetPort: 0 }, { name: "b", port: 81, targetPort: "not a name" }] }));
    expectCause(c, "spec.ports[0].port", "FieldValueInvalid");
    expectCause(c, "spec.ports[1].targetPort", "FieldValueInvalid", /between 1 and 65535/);
    expectCause(c, "spec.ports[2].targetPort", "FieldValueInvalid");
    expectCause(c, "spec.ports[0].name", "FieldValueRequired", /every port needs a name/);
    expectCause(c, "spec.ports[1].name", "FieldValueRequired");
    expect(causesOf("services", service({ ports: [{ port: 80 }] }))).toEqual([]);
    expect(causesOf("services", service({ ports: [{ name: "http", port: 80, targetPort: "http" }, { name: "https", port: 443, targetPort: 8443 }] }))).toEqual([]);
  });
  it("requires unique port names and port/protocol pairs", () => {
    const c = causesOf("services", service({ ports: [{ name: "a", port: 80 }, { name: "a", port: 80 }] }));
    expectCause(c, "spec.ports[1].name", "FieldValueDuplicate");
    expectCause(c, "spec.ports[1]", "FieldValueDuplicate");
    expect(causesOf("services", service({ ports: [{ name: "t", port: 53 }, { name: "u", port: 53, protocol: "UDP" }] }))).toEqual([]);
  });
  it("checks type, clusterIP, nodePort range and where nodePort may appear", () => {
    expectCause(causesOf("services", service({ type: "Ingress" })), "spec.type", "FieldValueNotSupported", /"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"/);
    expectCause(causesOf("services", service({ clusterIP: "10.0.0" })), "spec.clusterIP", "FieldValueInvalid", /IPv4/);
    expectCause(causesOf("services", service({ clusterIP: "10.0.0.256" })), "spec.clusterIP", "FieldValueInvalid");
    expect(causesOf("services", service({ clusterIP: "10.96.0.10" }))).toEqual([]);
    expect(causesOf("services", service({ clusterIP: "" }))).toEqual([]);
    expectCause(causesOf("services", service({ type: "NodePort", ports: [{ port: 80, nodePort: 8080 }] })), "spec.ports[0].nodePort", "FieldValueInvalid", /30000/);
    expectCause(causesOf("services", service({ type: "NodePort", ports: [{ port: 80, nodePort: 32768 }] })), "spec.ports[0].nodePort", "FieldValueInvalid", /32767/);
    expect(causesOf("services", service({ type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([]);
    expectCause(causesOf("services", service({ ports: [{ port: 80, nodePort: 30080 }] })), "spec.ports[0].nodePort", "FieldValueForbidden");
  });
  it("requires ports unless headless, and checks session affinity", () => {
    expectCause(causesOf("services", service({ ports: [] })), "spec.ports", "FieldValueRequired");
    expectCause(causesOf("services", service({ sessionAffinity: "Sticky" })), "spec.sessionAffinity", "FieldValueNotSupported");
    expectCause(
      causesOf("services", service({ sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } })),
      "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
      "FieldValueInvalid",
    );
  });
});

describe("validation - nodes, endpoints, events", () => {
  it("checks node taints and addresses", () => {
    const c = causesOf("nodes", {
      metadata: { name: "node-1" },
      spec: { unschedulable: "yes", taints: [{ key: "bad key", effect: "Sometimes" }] },
      status: { addresses: [{ type: "Other", address: "x" }], capacity: { cpu: "two" } },
    });
    expectCause(c, "spec.unschedulable", "FieldValueInvalid", /must be a boolean/);
    expectCause(c, "spec.taints[0].key", "FieldValueInvalid");
    expectCause(c, "spec.taints[0].effect", "FieldValueNotSupported");
    expectCause(c, "status.addresses[0].type", "FieldValueNotSupported");
    expectCause(c, "status.capacity", "FieldValueInvalid", /quantity of "cpu"/);
  });
  it("checks endpoint addresses and ports", () => {
    const c = causesOf("endpoints", { metadata: { name: "web" }, subsets: [{ addresses: [{ ip: "not-an-ip" }], ports: [{ port: 0 }] }] });
    expectCause(c, "subsets[0].addresses[0].ip", "FieldValueInvalid", /IPv4/);
    expectCause(c, "subsets[0].ports[0].port", "FieldValueInvalid");
  });
  it("requires an event's involvedObject, and a namespace that agrees with it", () => {
    expectCause(causesOf("events", { metadata: { name: "e" } }), "involvedObject", "FieldValueRequired");
    expectCause(
      causesOf("events", { metadata: { name: "e", namespace: "a" }, involvedObject: { namespace: "b" } }),
      "involvedObject.namespace",
      "FieldValueInvalid",
    );
    const c = causesOf("events", { metadata: { name: "e" }, involvedObject: {}, type: "Info", count: -1 });
    expectCause(c, "type", "FieldValueNotSupported", /"Normal", "Warning"/);
    expectCause(c, "count", "FieldValueInvalid");
    expectCause(causesOf("events", { metadata: { name: "e" }, involvedObject: {}, firstTimestamp: "yesterday" }), "firstTimestamp", "FieldValueInvalid", /RFC 3339/);
  });
});

describe("validation - sizes and kinds", () => {
  it("rejects an object whose JSON exceeds 1.5 MiB with RequestEntityTooLarge", () => {
    const big = pod({}, { annotations: { a: "x".repeat(MAX_OBJECT_BYTES) } });
    let err: unknown;
    try {
      checkSize(big);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).reason).toBe("RequestEntityTooLarge");
    expect((err as ApiError).code).toBe(413);
    expect(() => checkSize(pod())).not.toThrow();
  });
  it("counts bytes, not characters", () => {
    const n = Math.floor(MAX_OBJECT_BYTES / 3);
    expect(() => checkSize({ s: "€".repeat(n) }) /* 3 bytes each */).toThrow(/too large/);
    expect(() => checkSize({ s: "e".repeat(n) })).not.toThrow();
  });
  it("rejects what cannot be JSON", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => checkSize(cyclic)).toThrow(BadRequestError);
  });
  it("maps kinds to resources and back", () => {
    expect(resourceForKind("Pod")).toBe("pods");
    expect(resourceForKind("ReplicationController")).toBe("replicationcontrollers");
    expect(resourceForKind("Endpoints")).toBe("endpoints");
    expect(resourceForKind("Deployment")).toBe("deployments");
    expect(resourceForKind("StatefulSet")).toBe("statefulsets");
    expect(resourceForKind("PersistentVolumeClaim")).toBe("persistentvolumeclaims");
    expect(resourceForKind("PersistentVolume")).toBeUndefined();
    expect(resourceForKind("ControllerRevision")).toBe("controllerrevisions");
    expect(resourceForKind("Ingress")).toBe("ingresses");
    expect(resourceForKind("Gateway")).toBeUndefined();
    expect(kindOf("services")).toBe("Service");
  });
});

describe("validation - securityContext", () => {
  it("accepts a chart's pod and container securityContext (empty seLinuxOptions and sysctls included)", () => {
    const sc = { runAsUser: 1001, runAsGroup: 1001, runAsNonRoot: true, privileged: false, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" }, seLinuxOptions: {} };
    const podSc = { fsGroup: 1001, fsGroupChangePolicy: "Always", supplementalGroups: [], sysctls: [], seLinuxOptions: {} };
    expect(causesOf("pods", pod({ securityContext: podSc, containers: [container({ securityContext: sc })] }))).toEqual([]);
  });

  it("ids must be between 0 and 2147483647; a Localhost seccomp profile needs its file, and only it may name one", () => {
    const causes = causesOf("pods", pod({
      securityContext: { runAsUser: -1, fsGroup: 2 ** 31, supplementalGroups: [5, -5], seccompProfile: { type: "Localhost" } },
      containers: [container({ securityContext: { runAsGroup: -2, seccompProfile: { type: "RuntimeDefault", localhostProfile: "x.json" } } })],
    }));
    expectCause(causes, "spec.securityContext.runAsUser", "FieldValueInvalid", /Invalid value: -1: must be between 0 and 2147483647, inclusive/);
    expectCause(causes, "spec.securityContext.fsGroup", "FieldValueInvalid", /must be between 0 and 2147483647, inclusive/);
    expectCause(causes, "spec.securityContext.supplementalGroups[1]", "FieldValueInvalid", /Invalid value: -5/);
    expectCause(causes, "spec.containers[0].securityContext.runAsGroup", "FieldValueInvalid", /Invalid value: -2/);
    expectCause(causes, "spec.securityContext.seccompProfile.localhostProfile", "FieldValueRequired", /must be set when seccomp type is Localhost/);
    expectCause(causes, "spec.containers[0].securityContext.seccompProfile.localhostProfile", "FieldValueInvalid", /can only be set when seccomp type is Localhost/);
  });
});

describe("validation - startupProbe", () => {
  it("a startup probe needs one handler and a successThreshold of 1, as a liveness probe; init containers may have no probe", () => {
    expect(causesOf("pods", pod({ containers: [container({ startupProbe: { httpGet: { port: 80, path: "/" }, failureThreshold: 30, periodSeconds: 10 } })] }))).toEqual([]);
    const causes = causesOf("pods", pod({
      initContainers: [container({ name: "init", readinessProbe: { exec: { command: ["true"] } } })],
      containers: [container({ startupProbe: { exec: { command: ["true"] }, successThreshold: 2 } }), container({ name: "b", startupProbe: { periodSeconds: 1 } })],
    }));
    expectCause(causes, "spec.containers[0].startupProbe.successThreshold", "FieldValueInvalid", /Invalid value: 2: must be 1/);
    expectCause(causes, "spec.containers[1].startupProbe", "FieldValueRequired", /must specify a handler type/);
    expectCause(causes, "spec.initContainers[0].readinessProbe", "FieldValueForbidden", /may not be set for init containers without restartPolicy=Always/);
  });
});

describe("validation - topologySpreadConstraints", () => {
  const spread = (extra: Record<string, unknown> = {}) => ({ maxSkew: 1, topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "web" } }, ...extra });
  it("accepts what charts write: zone and hostname, DoNotSchedule and ScheduleAnyway, minDomains, policies, matchLabelKeys", () => {
    expect(causesOf("pods", pod({ topologySpreadConstraints: [
      spread({ minDomains: 2, nodeAffinityPolicy: "Ignore", nodeTaintsPolicy: "Honor", matchLabelKeys: ["pod-template-hash"] }),
      spread({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway" }),
    ] }))).toEqual([]);
    expect(causesOf("replicationcontrollers", rc({ template: { metadata: { labels: { app: "web" } }, spec: { containers: [container()], topologySpreadConstraints: [spread({ maxSkew: 0 })] } } })).map((c) => c.field))
      .toEqual(["spec.template.spec.topologySpreadConstraints[0].maxSkew"]);
  });

  it("refuses as kube-apiserver does, each cause at its field", () => {
    const causes = causesOf("pods", pod({ topologySpreadConstraints: [
      spread({ maxSkew: 0, topologyKey: "", whenUnsatisfiable: "Sometimes" }),
      spread({ minDomains: 0 }),
      spread({ whenUnsatisfiable: "ScheduleAnyway", minDomains: 2, nodeTaintsPolicy: "Always" }),
      spread({ topologyKey: "kubernetes.io/hostname", labelSelector: undefined, matchLabelKeys: ["pod-template-hash"] }),
      spread({ topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", matchLabelKeys: ["app", "bad key!"] }),
      spread(),
    ] }));
    expectCause(causes, "spec.topologySpreadConstraints[0].maxSkew", "FieldValueInvalid", /Invalid value: 0: must be greater than zero/);
    expectCause(causes, "spec.topologySpreadConstraints[0].topologyKey", "FieldValueRequired", /can not be empty/);
    expectCause(causes, "spec.topologySpreadConstraints[0].whenUnsatisfiable", "FieldValueNotSupported", /Unsupported value: "Sometimes": supported values: "DoNotSchedule", "ScheduleAnyway"/);
    expectCause(causes, "spec.topologySpreadConstraints[1].minDomains", "FieldValueInvalid", /must be greater than zero/);
    expectCause(causes, "spec.topologySpreadConstraints[2].minDomains", "FieldValueInvalid", /can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ScheduleAnyway/);
    expectCause(causes, "spec.topologySpreadConstraints[2].nodeTaintsPolicy", "FieldValueNotSupported", /supported values: "Honor", "Ignore"/);
    expectCause(causes, "spec.topologySpreadConstraints[3].matchLabelKeys", "FieldValueForbidden", /must not be specified when labelSelector is not set/);
    expectCause(causes, "spec.topologySpreadConstraints[4].matchLabelKeys[0]", "FieldValueInvalid", /exists in both matchLabelKeys and labelSelector/);
    expectCause(causes, "spec.topologySpreadConstraints[4].matchLabelKeys[1]", "FieldValueInvalid");
    // {zone, DoNotSchedule} twice: reported on the first of the pair.
    expectCause(causes, "spec.topologySpreadConstraints[1].{topologyKey, whenUnsatisfiable}", "FieldValueDuplicate", /Duplicate value: "\{zone, DoNotSchedule\}"/);
  });
});

describe("validation - the pod spec fields charts set (dnsConfig, hostAliases, host namespaces, service links, scheduler, token)", () => {
  it("accepts them as charts write them", () => {
    expect(causesOf("pods", pod({
      dnsPolicy: "ClusterFirstWithHostNet",
      dnsConfig: { nameservers: ["192.0.2.1", "2001:db8::1"], searches: ["corp.example."], options: [{ name: "ndots", value: "2" }, { name: "edns0" }] },
      hostAliases: [{ ip: "127.0.0.1", hostnames: ["foo.local"] }],
      enableServiceLinks: false, shareProcessNamespace: true, schedulerName: "default-scheduler", automountServiceAccountToken: false,
      hostNetwork: false, hostPID: false, hostIPC: false,
      containers: [container({ terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "FallbackToLogsOnError" })],
    }))).toEqual([]);
  });

  it("refuses what kube-apiserver refuses, with its words", () => {
    const causes = causesOf("pods", pod({
      dnsConfig: { nameservers: ["192.0.2.1", "192.0.2.2", "192.0.2.3", "not-an-ip"], searches: ["Bad_Domain"], options: [{ value: "1" }] },
      hostAliases: [{ ip: "localhost", hostnames: ["Foo"] }],
      containers: [container({ terminationMessagePolicy: "Always" })],
    }));
    expectCause(causes, "spec.dnsConfig.nameservers", "FieldValueInvalid", /must not have more than 3 nameservers/);
    expectCause(causes, "spec.dnsConfig.nameservers[3]", "FieldValueInvalid", /Invalid value: "not-an-ip": must be a valid IP address/);
    expectCause(causes, "spec.dnsConfig.searches[0]", "FieldValueInvalid", /RFC 1123 subdomain/);
    expectCause(causes, "spec.dnsConfig.options[0]", "FieldValueRequired", /Option.Name must not be empty/);
    expectCause(causes, "spec.hostAliases[0].ip", "FieldValueInvalid", /must be a valid IP address/);
    expectCause(causes, "spec.hostAliases[0].hostnames[0]", "FieldValueInvalid", /RFC 1123 subdomain/);
    expectCause(causes, "spec.containers[0].terminationMessagePolicy", "FieldValueNotSupported", /supported values: "File", "FallbackToLogsOnError"/);
    expectCause(causesOf("pods", pod({ dnsPolicy: "None" })), "spec.dnsConfig", "FieldValueRequired", /must provide `dnsConfig` when `dnsPolicy` is None/);
    expectCause(causesOf("pods", pod({ dnsPolicy: "None", dnsConfig: {} })), "spec.dnsConfig.nameservers", "FieldValueRequired", /at least one DNS nameserver/);
    expectCause(causesOf("pods", pod({ dnsPolicy: "ClusterLast" })), "spec.dnsPolicy", "FieldValueNotSupported", /"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"/);
  });
});

describe("validation - service IP families and traffic policies", () => {
  it("accepts what kubectl get -o yaml prints for a Service, and a chart's NodePort with Cluster policies", () => {
    expect(causesOf("services", service({ ipFamilies: ["IPv4"], ipFamilyPolicy: "SingleStack", internalTrafficPolicy: "Cluster" }))).toEqual([]);
    expect(causesOf("services", service({ type: "NodePort", ipFamilyPolicy: "PreferDualStack", externalTrafficPolicy: "Cluster" }))).toEqual([]);
    expect(causesOf("services", service({ type: "LoadBalancer", allocateLoadBalancerNodePorts: true, loadBalancerSourceRanges: [] }))).toEqual([]);
  });

  it("refuses IPv6 and dual stack as an IPv4-only kube-apiserver does, and by name what Berth's proxies do not serve", () => {
    const causes = causesOf("services", service({ ipFamilies: ["IPv6", "IPv5"], ipFamilyPolicy: "RequireDualStack", internalTrafficPolicy: "Local", externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true }));
    expectCause(causes, "spec.ipFamilies[0]", "FieldValueInvalid", /Invalid value: "IPv6": not configured on this cluster/);
    expectCause(causes, "spec.ipFamilies[1]", "FieldValueNotSupported", /supported values: "IPv4", "IPv6"/);
    expectCause(causes, "spec.ipFamilyPolicy", "FieldValueInvalid", /this cluster is not configured for dual-stack services/);
    expectCause(causes, "spec.internalTrafficPolicy", "FieldValueForbidden", /Local is not supported by Berth/);
    expectCause(causes, "spec.externalTrafficPolicy", "FieldValueInvalid", /may only be set when `type` is 'NodePort' or 'LoadBalancer'/);
    expectCause(causes, "spec.allocateLoadBalancerNodePorts", "FieldValueForbidden", /may only be used when `type` is 'LoadBalancer'/);
    const lb = causesOf("services", service({ type: "LoadBalancer", externalTrafficPolicy: "Local", loadBalancerSourceRanges: ["10.0.0.0/8"], allocateLoadBalancerNodePorts: false }));
    expectCause(lb, "spec.externalTrafficPolicy", "FieldValueForbidden", /Local is not supported by Berth/);
    expectCause(lb, "spec.loadBalancerSourceRanges", "FieldValueForbidden", /does not filter by source address/);
    expectCause(lb, "spec.allocateLoadBalancerNodePorts", "FieldValueForbidden", /false is not supported by Berth/);
  });
});

describe("validation - volume mounts: subPathExpr and mount propagation", () => {
  it("subPathExpr is relative and excludes subPath; Bidirectional propagation is refused as kube refuses it to unprivileged containers", () => {
    const mounted = (mount: Record<string, unknown>) => pod({ volumes: [{ name: "v", emptyDir: {} }], containers: [container({ volumeMounts: [{ name: "v", mountPath: "/v", ...mount }] })] });
    expect(causesOf("pods", mounted({ subPathExpr: "logs/$(POD)", mountPropagation: "HostToContainer" }))).toEqual([]);
    expectCause(causesOf("pods", mounted({ subPath: "a", subPathExpr: "b" })), "spec.containers[0].volumeMounts[0].subPathExpr", "FieldValueInvalid", /mutually exclusive/);
    expectCause(causesOf("pods", mounted({ subPathExpr: "/abs" })), "spec.containers[0].volumeMounts[0].subPathExpr", "FieldValueInvalid", /must be a relative path/);
    expectCause(causesOf("pods", mounted({ mountPropagation: "Bidirectional" })), "spec.containers[0].volumeMounts[0].mountPropagation", "FieldValueForbidden", /only to privileged containers/);
  });
});

describe("validation - pod spec fields stored only at the value that asks nothing", () => {
  it("accepts os linux, an empty runtime class, overhead, readiness gates and activeDeadlineSeconds; refuses the rest by name", () => {
    expect(causesOf("pods", pod({ os: { name: "linux" }, runtimeClassName: "", overhead: {}, readinessGates: [], setHostnameAsFQDN: true, subdomain: "web" }))).toEqual([]);
    const causes = causesOf("pods", pod({ os: { name: "windows" }, runtimeClassName: "gvisor", overhead: { cpu: "100m" }, readinessGates: [{ conditionType: "example.com/ready" }], activeDeadlineSeconds: 30 }));
    expectCause(causes, "spec.os.name", "FieldValueForbidden", /Linux containers only/);
    expectCause(causes, "spec.runtimeClassName", "FieldValueForbidden", /no RuntimeClass is served/);
    expectCause(causes, "spec.overhead", "FieldValueForbidden", /without corresponding RuntimeClass/);
    expect(causes.some((c) => c.field?.startsWith("spec.readinessGates"))).toBe(false);
    expect(causes.some((c) => c.field === "spec.activeDeadlineSeconds")).toBe(false);
    expectCause(causesOf("pods", pod({ os: { name: "plan9" } })), "spec.os.name", "FieldValueNotSupported", /"linux", "windows"/);
    expectCause(causesOf("pods", pod({ activeDeadlineSeconds: 0 })), "spec.activeDeadlineSeconds", "FieldValueInvalid", /between 1 and 2147483647/);
    expectCause(causesOf("pods", pod({ activeDeadlineSeconds: 2 ** 31 })), "spec.activeDeadlineSeconds", "FieldValueInvalid", /between 1 and 2147483647/);
    expect(causesOf("pods", pod({ activeDeadlineSeconds: 2 ** 31 - 1 }))).toEqual([]);
  });

  it("activeDeadlineSeconds: on a pod and a Job's pods; not in the template of a controller that keeps its pods running", () => {
    const template = (kind: string, apiVersion: string, resource: Resource) => {
      const podSpec = { containers: [container()], activeDeadlineSeconds: 30 };
      const spec = kind === "Job"
        ? { template: { spec: { ...podSpec, restartPolicy: "Never" } } }
        : { selector: kind === "ReplicationController" ? { app: "web" } : { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: podSpec } };
      return causesOf(resource, { apiVersion, kind, metadata: { name: "web" }, spec });
    };
    expect(template("Job", "batch/v1", "jobs")).toEqual([]);
    expectCause(template("ReplicationController", "v1", "replicationcontrollers"), "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden", /^Forbidden: activeDeadlineSeconds in ReplicationController is not Supported$/);
    expectCause(template("ReplicaSet", "apps/v1", "replicasets"), "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden", /activeDeadlineSeconds in ReplicaSet is not Supported$/);
    // A Deployment's template is checked as its ReplicaSets' (kube's ValidatePodTemplateSpecForReplicaSet).
    expectCause(template("Deployment", "apps/v1", "deployments"), "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden", /activeDeadlineSeconds in ReplicaSet is not Supported$/);
    expectCause(template("DaemonSet", "apps/v1", "daemonsets"), "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden", /activeDeadlineSeconds in DaemonSet is not Supported$/);
  });

  it("readiness gates: each conditionType a qualified name (ValidateReadinessGates)", () => {
    expect(causesOf("pods", pod({ readinessGates: [{ conditionType: "example.com/ready" }, { conditionType: "Ready2" }] }))).toEqual([]);
    const causes = causesOf("pods", pod({ readinessGates: [{ conditionType: "not a name" }, { conditionType: "" }] }));
    expectCause(causes, "spec.readinessGates[0].conditionType", "FieldValueInvalid", /name part must consist of alphanumeric characters/);
    expectCause(causes, "spec.readinessGates[1].conditionType", "FieldValueInvalid", /name part must be non-empty/);
  });
});
