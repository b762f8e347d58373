/**
 * `berth describe pod` prints a gRPC probe as kubectl's DescribeProbe does:
 * `grpc <pod>:<port> <service> delay=…` ("<pod>" literally, the service even when empty).
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Pod } from "../../../../model/types.ts";

const NOW = Date.parse("2026-12-04T10:05:00Z");

describe("describe pod - gRPC probes", () => {
  it("prints the Liveness and Readiness lines as kubectl", () => {
    const pod: Pod = {
      apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default", creationTimestamp: "2026-12-04T10:00:00Z" },
      spec: {
        containers: [{
          name: "c", image: "busybox",
          livenessProbe: { grpc: { port: 9000, service: "" }, initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
          readinessProbe: { grpc: { port: 9001, service: "api" }, periodSeconds: 5 },
        }],
      },
    };
    const out = describeObject("pods", pod, [], NOW);
    expect(out).toMatch(/\n {4}Liveness:\s+grpc <pod>:9000  delay=0s timeout=1s period=10s #success=1 #failure=3\n/);
    expect(out).toMatch(/\n {4}Readiness:\s+grpc <pod>:9001 api delay=0s timeout=1s period=5s #success=1 #failure=3\n/);
  });
});
