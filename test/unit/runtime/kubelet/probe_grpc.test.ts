/**
 * The pure parts of the gRPC probe (runtime/kubelet/probe_grpc.ts) and its resolution
 * (probe_decide.ts): the wire codec, grpc-go's reading of a reply, and the kubelet's messages.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveProbe } from "../../../../runtime/kubelet/probe_decide.ts";
import {
  codeName,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  GrpcStatusError,
  joinHostPort,
  probeVerdict,
  type ReplyHeaders,
  rpcEnd,
} from "../../../../runtime/kubelet/probe_grpc.ts";
import { goDuration } from "../../../../runtime/kubelet/go_duration.ts";

const frame = (msg: number[]) => Buffer.from([0, 0, 0, 0, msg.length, ...msg]);
/** Response headers as node:http2 hands them over (`:status` a number, which its header type does not admit). */
const reply = (h: Record<string, string | number>) => h as unknown as ReplyHeaders;
const grpcHeaders = (extra: Record<string, string | number> = {}) => reply({ ":status": 200, "content-type": "application/grpc", ...extra });

describe("gRPC probe - resolution", () => {
  it("resolves grpc into an action with the port and the service, \"\" when absent", () => {
    const c = { name: "app", image: "x" };
    expect(resolveProbe(c, { grpc: { port: 9000 } }).action).toEqual({ type: "grpc", port: 9000, service: "" });
    expect(resolveProbe(c, { grpc: { port: 9000, service: "api" }, timeoutSeconds: 3 })).toMatchObject({ action: { type: "grpc", port: 9000, service: "api" }, timeoutMs: 3000 });
  });
});

describe("gRPC probe - wire codec", () => {
  it("frames a HealthCheckRequest: no field for an empty service, field 1 otherwise", () => {
    expect(encodeHealthCheckRequest("")).toEqual(Buffer.from([0, 0, 0, 0, 0]));
    expect(encodeHealthCheckRequest("api")).toEqual(Buffer.from([0, 0, 0, 0, 5, 0x0a, 3, 0x61, 0x70, 0x69]));
    const long = encodeHealthCheckRequest("s".repeat(300));
    expect(long.readUInt32BE(1)).toBe(303); // tag, 2-byte varint length (0xac 0x02), 300 bytes
    expect([...long.subarray(5, 8)]).toEqual([0x0a, 0xac, 0x02]);
  });

  it("reads the status of a HealthCheckResponse, skipping fields it does not know", () => {
    expect(decodeHealthCheckResponse(frame([0x08, 1]))).toBe(1);
    expect(decodeHealthCheckResponse(frame([0x08, 2]))).toBe(2);
    expect(decodeHealthCheckResponse(frame([]))).toBe(0); // proto3: an absent enum is UNKNOWN
    expect(decodeHealthCheckResponse(frame([0x12, 2, 0x68, 0x69, 0x08, 1, 0x1d, 1, 2, 3, 4]))).toBe(1);
  });

  it("refuses what grpc-go refuses, as Internal", () => {
    const code = (b: Buffer): [number, string] | undefined => {
      try {
        decodeHealthCheckResponse(b);
        return undefined;
      } catch (e) {
        if (e instanceof GrpcStatusError) return [e.code, e.message];
        throw e;
      }
    };
    expect(code(Buffer.alloc(0))).toEqual([13, "cardinality violation: expected <Message> for non server-streaming RPCs, but received <EOF>"]);
    expect(code(Buffer.from([1, 0, 0, 0, 2, 0x08, 1]))).toEqual([13, "grpc: compressed flag set with identity or empty encoding"]);
    expect(code(Buffer.concat([frame([0x08, 1]), frame([0x08, 1])]))?.[1]).toMatch(/cardinality violation/);
    expect(code(Buffer.from([0, 0, 0, 0, 9, 0x08]))?.[1]).toMatch(/truncated/);
  });

  it("any reply body either decodes or fails as a GrpcStatusError (the probe never throws)", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.boolean(), (bytes, framed) => {
      const body = framed ? Buffer.concat([Buffer.from([0, 0, 0, 0, bytes.length]), Buffer.from(bytes)]) : Buffer.from(bytes);
      try {
        expect(Number.isFinite(decodeHealthCheckResponse(body))).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(GrpcStatusError);
      }
    }));
  });
});

describe("gRPC probe - reading a reply as grpc-go", () => {
  it("takes the status from the trailers, or from the headers of a trailers-only reply", () => {
    expect(rpcEnd(grpcHeaders(), { "grpc-status": "0" }, frame([0x08, 1]))).toEqual({ code: 0, desc: "", status: 1 });
    expect(rpcEnd(grpcHeaders({ "grpc-status": "12", "grpc-message": "unknown%20service%20grpc.health.v1.Health" }), undefined, Buffer.alloc(0)))
      .toEqual({ code: 12, desc: "unknown service grpc.health.v1.Health" });
    expect(rpcEnd(grpcHeaders(), undefined, frame([0x08, 1]))).toEqual({ code: 13, desc: "server closed the stream without sending trailers" });
  });

  it("maps a reply that is not gRPC by its HTTP status (404 is Unimplemented)", () => {
    expect(rpcEnd(reply({ ":status": 404, "content-type": "text/plain" }), undefined, Buffer.alloc(0))).toEqual({
      code: 12,
      desc: 'unexpected HTTP status code received from server: 404 (Not Found); transport: received unexpected content-type "text/plain"',
    });
    expect(rpcEnd(reply({ ":status": 503 }), undefined, Buffer.alloc(0)).code).toBe(14);
    expect(rpcEnd(reply({ ":status": 200, "content-type": "text/html" }), { "grpc-status": "0" }, Buffer.alloc(0)).code).toBe(2);
  });
});

describe("gRPC probe - the kubelet's messages", () => {
  it("passes SERVING only; another status is service unhealthy by its name", () => {
    expect(probeVerdict({ code: 0, desc: "", status: 1 }, 1000)).toEqual({ ok: true });
    expect(probeVerdict({ code: 0, desc: "", status: 2 }, 1000)).toEqual({ ok: false, message: 'service unhealthy (responded with "NOT_SERVING")' });
    expect(probeVerdict({ code: 0, desc: "", status: 0 }, 1000)).toEqual({ ok: false, message: 'service unhealthy (responded with "UNKNOWN")' });
    expect(probeVerdict({ code: 0, desc: "", status: 3 }, 1000)).toEqual({ ok: false, message: 'service unhealthy (responded with "SERVICE_UNKNOWN")' });
    expect(probeVerdict({ code: 0, desc: "", status: 9 }, 1000)).toEqual({ ok: false, message: 'service unhealthy (responded with "9")' });
  });

  it("reports a failed call by its code, Unimplemented and DeadlineExceeded in their own words", () => {
    expect(probeVerdict({ code: 12, desc: "unknown service grpc.health.v1.Health" }, 1000).message)
      .toBe("error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health");
    expect(probeVerdict({ code: 4, desc: "context deadline exceeded" }, 5000).message).toBe("timeout: health rpc did not complete within 5s");
    expect(probeVerdict({ code: 5, desc: "unknown service" }, 1000).message).toBe("error: health rpc probe failed: rpc error: code = NotFound desc = unknown service");
    expect(probeVerdict({ code: 14, desc: "error reading from server: EOF" }, 1000).message).toBe("error: health rpc probe failed: rpc error: code = Unavailable desc = error reading from server: EOF");
    expect(codeName(16)).toBe("Unauthenticated");
    expect(codeName(99)).toBe("Code(99)");
  });

  it("writes durations and addresses as Go does", () => {
    expect([1000, 10_000, 90_000, 3_600_000, 500, 1500, 0].map(goDuration)).toEqual(["1s", "10s", "1m30s", "1h0m0s", "500ms", "1.5s", "0s"]);
    expect(joinHostPort("10.213.0.5", 9000)).toBe("10.213.0.5:9000");
    expect(joinHostPort("fd00::5", 9000)).toBe("[fd00::5]:9000");
    expect(joinHostPort("", 9000)).toBe(":9000");
  });
});
