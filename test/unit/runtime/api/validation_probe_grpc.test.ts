/**
 * gRPC probes at the API edge, as kube-apiserver's validateProbe/validateHandler/validateGRPCAction:
 * accepted as a probe handler, exactly one handler per probe, a port number 1–65535 (no names),
 * and not a lifecycle handler (LifecycleHandler has no grpc: an unknown field).
 */
import { describe, expect, it } from "vitest";
import type { StatusCause } from "../../../../model/types.ts";
import { causesOf as podCauses } from "../../../helpers/validation_causes.ts";
import { checkFieldValidation } from "../../../../runtime/api/field_validation.ts";
import { unknownFields } from "../../../../runtime/api/openapi.ts";

const pod = (container: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "grpc-1" },
  spec: { containers: [{ name: "app", image: "berth/busybox", ...container }] },
});

const causesOf = (raw: unknown): StatusCause[] => podCauses("pods", raw);

const at = (causes: StatusCause[], field: string) => causes.filter((c) => c.field === field).map((c) => `${c.reason}: ${c.message}`);

describe("validation - gRPC probes", () => {
  it("accepts grpc as the handler of liveness, readiness and startup probes, with or without a service", () => {
    expect(causesOf(pod({
      livenessProbe: { grpc: { port: 9000 } },
      readinessProbe: { grpc: { port: 9000, service: "api" } },
      startupProbe: { grpc: { port: 65535, service: "" }, failureThreshold: 30 },
    }))).toEqual([]);
    // And in the OpenAPI kubectl validates against: no unknown field.
    expect(unknownFields("Pod", pod({ readinessProbe: { grpc: { port: 9000, service: "api" } } }))).toEqual([]);
  });

  it("refuses grpc with another handler at the grpc path, as kube-apiserver (Forbidden: may not specify more than 1 handler type)", () => {
    const c = causesOf(pod({
      livenessProbe: { tcpSocket: { port: 9000 }, grpc: { port: 9000 } },
      readinessProbe: { exec: { command: ["true"] }, httpGet: { port: 80 }, grpc: { port: 9000 } },
    }));
    expect(at(c, "spec.containers[0].livenessProbe.grpc")).toEqual(["FieldValueForbidden: Forbidden: may not specify more than 1 handler type"]);
    expect(at(c, "spec.containers[0].livenessProbe.tcpSocket")).toEqual([]);
    // Every handler after the first is refused, each at its own path.
    expect(at(c, "spec.containers[0].readinessProbe.httpGet")).toEqual(["FieldValueForbidden: Forbidden: may not specify more than 1 handler type"]);
    expect(at(c, "spec.containers[0].readinessProbe.grpc")).toEqual(["FieldValueForbidden: Forbidden: may not specify more than 1 handler type"]);
  });

  it("a probe with no handler at all is still Required", () => {
    expect(at(causesOf(pod({ livenessProbe: { periodSeconds: 5 } })), "spec.containers[0].livenessProbe")).toEqual(["FieldValueRequired: Required value: must specify a handler type"]);
  });

  it("refuses a missing or out-of-range port as kube (a missing int32 is 0: Invalid value: 0)", () => {
    const missing = causesOf(pod({ livenessProbe: { grpc: { service: "api" } } }));
    expect(at(missing, "spec.containers[0].livenessProbe.grpc.port")).toEqual(["FieldValueInvalid: Invalid value: 0: must be between 1 and 65535, inclusive"]);
    for (const port of [0, 65536, -1]) {
      const c = causesOf(pod({ readinessProbe: { grpc: { port } } }));
      expect(at(c, "spec.containers[0].readinessProbe.grpc.port"), String(port)).toEqual([`FieldValueInvalid: Invalid value: ${port}: must be between 1 and 65535, inclusive`]);
    }
  });

  it("refuses a named or string port: gRPC probes have no named ports", () => {
    for (const port of ["grpc", "9000"]) {
      const c = causesOf(pod({ ports: [{ name: "grpc", containerPort: 9000 }], livenessProbe: { grpc: { port } } }));
      const causes = at(c, "spec.containers[0].livenessProbe.grpc.port");
      expect(causes.length, port).toBe(1);
      expect(causes[0]).toBe(`FieldValueInvalid: Invalid value: "${port}": must be an integer, got string`);
    }
    expect(at(causesOf(pod({ livenessProbe: { grpc: { port: 9000.5 } } })), "spec.containers[0].livenessProbe.grpc.port")).toEqual(["FieldValueInvalid: Invalid value: 9000.5: must be an integer"]);
    expect(at(causesOf(pod({ livenessProbe: { grpc: { port: 9000, service: 7 } } })), "spec.containers[0].livenessProbe.grpc.service")).toHaveLength(1);
  });

  it("grpc is not a lifecycle handler: an unknown field under Strict, and alone it leaves the hook without a handler", () => {
    const hooked = pod({ lifecycle: { postStart: { grpc: { port: 9000 } }, preStop: { exec: { command: ["true"] }, grpc: { port: 9000 } } } });
    expect(() => checkFieldValidation("Pod", hooked, "Strict")).toThrow(
      'strict decoding error: unknown field "spec.containers[0].lifecycle.postStart.grpc", unknown field "spec.containers[0].lifecycle.preStop.grpc"',
    );
    // Without Strict, kube-apiserver drops the field: postStart has no handler left, preStop keeps exec.
    const c = causesOf(hooked);
    expect(at(c, "spec.containers[0].lifecycle.postStart")).toEqual(["FieldValueRequired: Required value: must specify a handler type"]);
    expect(c.filter((x) => x.field?.includes("preStop"))).toEqual([]);
  });
});
