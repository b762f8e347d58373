/**
 * PriorityClass and Lease at the HTTP edge: the protobuf bodies of `kubectl create priorityclass`
 * as kubectl 1.32 really sends them (captured through a logging proxy in front of Berth), a Lease
 * as client-go sends it when its client is set to protobuf (encoded here from generated.proto's
 * field numbers: MicroTime is seconds and nanos), discovery of scheduling.k8s.io and
 * coordination.k8s.io, and kube-apiserver's table columns.
 */
import { Buffer } from "node:buffer";
import { describe, expect, it } from "vitest";
import { decodeProtobufBody } from "../../../../runtime/http/protobuf.ts";
import { apiGroup, apiResourceList } from "../../../../runtime/http/discovery.ts";
import { formatTable, toMetaTable, toTable } from "../../../../runtime/api/table.ts";
import { SYSTEM_PRIORITY_CLASSES } from "../../../../model/priority.ts";
import type { Lease, PriorityClass } from "../../../../model/types.ts";

const decode = (b64: string) => decodeProtobufBody(Buffer.from(b64, "base64"));

/** `kubectl create priorityclass batch --value=100 --preemption-policy=Never --description="batch jobs"` (captured). */
const CREATE_BATCH = "azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxIuChUKBWJhdGNoEgAaACIAKgAyADgAQgAQZBgAIgpiYXRjaCBqb2JzKgVOZXZlchoAIgA=";
/** `kubectl create priorityclass everyday --value=10 --global-default` (captured). */
const CREATE_DEFAULT = "azhzAAolChRzY2hlZHVsaW5nLms4cy5pby92MRINUHJpb3JpdHlDbGFzcxI2ChgKCGV2ZXJ5ZGF5EgAaACIAKgAyADgAQgAQChgBIgAqFFByZWVtcHRMb3dlclByaW9yaXR5GgAiAA==";

// A minimal protobuf writer, for the Lease body client-go would send.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
};
const bytesField = (no: number, b: number[] | Uint8Array) => [...varint((no << 3) | 2), ...varint(b.length), ...b];
const str = (no: number, s: string) => bytesField(no, [...Buffer.from(s)]);
const int = (no: number, n: number) => [...varint(no << 3), ...varint(n)];
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Buffer.from([0x6b, 0x38, 0x73, 0x00, ...bytesField(1, [...str(1, apiVersion), ...str(2, kind)]), ...bytesField(2, raw), ...str(4, ""), ...str(3, "")]);

describe("scheduling and coordination over HTTP - protobuf bodies", () => {
  it("kubectl create priorityclass: value, description and policy; the zero globalDefault dropped", () => {
    expect(decode(CREATE_BATCH)).toEqual({
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "batch" }, value: 100, description: "batch jobs", preemptionPolicy: "Never",
    });
  });

  it("kubectl create priorityclass --global-default: kubectl sends the default policy itself", () => {
    expect(decode(CREATE_DEFAULT)).toEqual({
      apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "everyday" }, value: 10, globalDefault: true, preemptionPolicy: "PreemptLowerPriority",
    });
  });

  it("a Lease as client-go's leader election sends it: pointers kept even when zero, MicroTime with six digits", () => {
    const micro = (secs: number, nanos: number) => [...int(1, secs), ...int(2, nanos)];
    const renewed = Date.parse("2026-12-04T10:00:05Z") / 1000;
    const spec = [
      ...str(1, "op-7d9f_1"), ...int(2, 15), ...bytesField(3, micro(renewed - 5, 0)), ...bytesField(4, micro(renewed, 123_456_789)), ...int(5, 0),
    ];
    const raw = [...bytesField(1, [...str(1, "my-operator"), ...str(3, "default"), ...str(6, "41")]), ...bytesField(2, spec)];
    expect(decodeProtobufBody(envelope("coordination.k8s.io/v1", "Lease", raw))).toEqual({
      apiVersion: "coordination.k8s.io/v1", kind: "Lease",
      metadata: { name: "my-operator", namespace: "default", resourceVersion: "41" },
      spec: { holderIdentity: "op-7d9f_1", leaseDurationSeconds: 15, acquireTime: "2026-12-04T10:00:00.000000Z", renewTime: "2026-12-04T10:00:05.123456Z", leaseTransitions: 0 },
    });
  });

  it("a pod template's priority fields in a protobuf Deployment are kept", () => {
    const template = bytesField(3, bytesField(2, [...bytesField(2, [...str(1, "c"), ...str(2, "busybox")]), ...str(24, "high"), ...int(25, 0), ...str(31, "Never")]));
    const raw = [...bytesField(1, str(1, "web")), ...bytesField(2, template)];
    const d = decodeProtobufBody(envelope("apps/v1", "Deployment", raw)) as { spec: { template: { spec: Record<string, unknown> } } };
    expect(d.spec.template.spec).toEqual({ containers: [{ name: "c", image: "busybox" }], priorityClassName: "high", priority: 0, preemptionPolicy: "Never" });
  });
});

describe("scheduling and coordination over HTTP - discovery", () => {
  it("scheduling.k8s.io/v1 serves priorityclasses (short name pc, cluster-scoped); coordination.k8s.io/v1 serves leases (namespaced), every verb, no subresources", () => {
    expect(apiGroup("scheduling.k8s.io")).toMatchObject({ name: "scheduling.k8s.io", preferredVersion: { groupVersion: "scheduling.k8s.io/v1", version: "v1" } });
    expect(apiResourceList("scheduling.k8s.io/v1")?.resources).toEqual([{
      name: "priorityclasses", singularName: "priorityclass", namespaced: false, kind: "PriorityClass",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["pc"],
    }]);
    expect(apiResourceList("coordination.k8s.io/v1")?.resources).toEqual([{
      name: "leases", singularName: "lease", namespaced: true, kind: "Lease",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
    }]);
  });
});

describe("scheduling and coordination over HTTP - kube-apiserver's columns", () => {
  const NOW = Date.parse("2026-12-04T10:05:00Z");
  const at = "2026-12-04T10:00:00Z";
  const classes: PriorityClass[] = [
    { ...SYSTEM_PRIORITY_CLASSES[1], metadata: { name: "system-cluster-critical", creationTimestamp: at }, preemptionPolicy: "PreemptLowerPriority" },
    { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "batch", creationTimestamp: at }, value: 100, globalDefault: true, preemptionPolicy: "Never" },
  ];

  it("priorityclasses: NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY, the value an integer and the default a boolean on the wire", () => {
    expect(formatTable(toTable("priorityclasses", classes, { now: NOW }))).toBe(`NAME                      VALUE        GLOBAL-DEFAULT   AGE   PREEMPTIONPOLICY
system-cluster-critical   2000000000   false            5m    PreemptLowerPriority
batch                     100          true             5m    Never
`);
    const wire = toMetaTable(toTable("priorityclasses", classes, { now: NOW }), {});
    expect(wire.columnDefinitions.map((c) => [c.name, c.type, c.priority])).toEqual([
      ["Name", "string", 0], ["Value", "integer", 0], ["Global-Default", "boolean", 0], ["Age", "string", 0], ["PreemptionPolicy", "string", 0],
    ]);
    expect(wire.rows[1].cells).toEqual(["batch", 100, true, "5m", "Never"]);
  });

  it("leases: NAME HOLDER AGE, an empty holder when nobody holds it", () => {
    const leases: Lease[] = [
      { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "my-operator", namespace: "default", creationTimestamp: at }, spec: { holderIdentity: "op-7d9f_1", leaseDurationSeconds: 15 } },
      { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "free", namespace: "default", creationTimestamp: at }, spec: {} },
    ];
    expect(formatTable(toTable("leases", leases, { now: NOW }))).toBe(`NAME          HOLDER      AGE
my-operator   op-7d9f_1   5m
free                      5m
`);
  });
});
