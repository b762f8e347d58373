/**
 * A gRPC probe in a pod template sent as protobuf (what `kubectl create job --from=cronjob/x`
 * does with a template that has one): ProbeHandler field 4, GRPCAction {1: port, 2: service}.
 * Without it the handler would be dropped and the pod refused for having none.
 */
import { describe, expect, it } from "vitest";
import { bytes, envelope, num } from "../../../helpers/protobuf_writer.ts";
import { decodeProtobufBody } from "../../../../runtime/http/protobuf.ts";

describe("protobuf bodies - gRPC probes", () => {
  it("decodes grpc in a container's probes, keeping an empty service (a Go pointer)", () => {
    const grpc = (port: number, service: string) => bytes(1, bytes(4, [...num(1, port), ...bytes(2, service)]));
    const container = [...bytes(1, "app"), ...bytes(2, "berth/busybox"), ...bytes(10, [...grpc(9000, ""), ...num(3, 1)]), ...bytes(11, grpc(9001, "api"))];
    const raw = [...bytes(1, bytes(1, "web")), ...bytes(2, bytes(3, bytes(2, bytes(2, container))))];
    const obj = decodeProtobufBody(envelope("apps/v1", "Deployment", raw)) as { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
    expect(obj.spec.template.spec.containers[0]).toMatchObject({
      livenessProbe: { grpc: { port: 9000, service: "" }, timeoutSeconds: 1 },
      readinessProbe: { grpc: { port: 9001, service: "api" } },
    });
  });
});
