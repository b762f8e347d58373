/**
 * Readiness gates end to end on the real node agent (hollow runtime) and a real API: the pod runs
 * but is not Ready until its gate's condition, set on its status by someone else, is True; the
 * node notices the change at once, re-computes Ready, and never writes the gate's condition away.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";
import type { Condition, Pod } from "../../model/types.ts";

let t: TestApi;
let agent: NodeAgent;
beforeAll(async () => {
  t = await startTestApi();
  agent = await startNodeAgent({ client: t.remote, runtime: new HollowRuntime(), name: "gated", heartbeatIntervalMs: 500, resyncMs: 60_000 });
});
afterAll(async () => {
  await agent?.stop();
  await t?.stop();
});

const GATE = "example.com/lb-ready";
const get = () => t.api.get("pods", "web", "default");
const cond = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);
/** What a gate's controller does: patch its condition onto the pod's status. */
async function setGate(status: Condition["status"]): Promise<void> {
  await t.api.patch("pods", "web", { status: { conditions: [{ type: GATE, status, lastTransitionTime: new Date().toISOString() }] } }, { namespace: "default", subresource: "status", type: "strategic" });
}

describe("readiness gates on a node", () => {
  it("Ready follows the containers and the gate's condition; the condition survives the node's status writes", async () => {
    await t.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" }, spec: { nodeName: "gated", readinessGates: [{ conditionType: GATE }], containers: [{ name: "c", image: "berth/busybox" }] } });
    const running = await waitFor(async () => {
      const p = await get();
      return p.status?.phase === "Running" && cond(p, "ContainersReady")?.status === "True" ? p : undefined;
    }, "Running with its containers ready");
    expect(cond(running, "Ready")).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady", message: `corresponding condition of pod readiness gate "${GATE}" does not exist.` });

    await setGate("True");
    const ready = await waitFor(async () => {
      const p = await get();
      return cond(p, "Ready")?.status === "True" ? p : undefined;
    }, "Ready once the gate is True", 10_000);
    expect(cond(ready, GATE)?.status).toBe("True");

    await setGate("False");
    const notReady = await waitFor(async () => {
      const p = await get();
      return cond(p, "Ready")?.status === "False" ? p : undefined;
    }, "not Ready once the gate is False", 10_000);
    expect(cond(notReady, "Ready")).toMatchObject({ reason: "ReadinessGatesNotReady", message: `the status of pod readiness gate "${GATE}" is not "True", but False` });
    expect(cond(notReady, GATE)?.status).toBe("False");
    expect(notReady.status?.phase).toBe("Running");
  });
});
