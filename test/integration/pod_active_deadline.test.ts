/**
 * Pod `activeDeadlineSeconds`, as Kubernetes: the API accepts 1..2^31-1 and lets an update set
 * or lower it, never raise or remove it; the node agent fails a pod active longer than that
 * (phase Failed, reason DeadlineExceeded), stopping its containers and restarting none. The real
 * node agent and pod actors on the hollow runtime against a real API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { startTestApi, type TestApi, waitFor } from "../helpers/api.ts";
import type { Pod } from "../../model/types.ts";
import { ApiError } from "../../model/errors.ts";
import { LABELS } from "../../model/container_runtime.ts";

let t: TestApi;
let rt: HollowRuntime;
let agent: NodeAgent;
const NODE = "deadline-node";

beforeAll(async () => {
  t = await startTestApi();
  rt = new HollowRuntime();
  agent = await startNodeAgent({ client: t.api, runtime: rt, name: NODE, heartbeatIntervalMs: 500, resyncMs: 200 });
});
afterAll(async () => {
  await agent?.stop();
  await t?.stop();
});

const podOf = (name: string, spec: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { nodeName: NODE, restartPolicy: "Always", terminationGracePeriodSeconds: 1, containers: [{ name: "main", image: "berth/busybox" }, { name: "side", image: "berth/busybox" }], ...spec },
});
/** The pod's app containers the runtime has running. */
const runningApps = async (uid: string) => (await rt.listContainers({ [LABELS.podUid]: uid, [LABELS.role]: "app" })).filter((c) => c.state === "running").length;
/** Waits for two more heartbeats of the node: the agent's pod actors have resynced several times (200 ms) meanwhile. */
async function twoHeartbeats(): Promise<void> {
  const beat = async () => (await t.api.get("nodes", NODE)).status?.conditions?.find((c) => c.type === "Ready")?.lastHeartbeatTime;
  for (let i = 0; i < 2; i++) {
    const before = await beat();
    await waitFor(async () => (await beat()) !== before, "a heartbeat");
  }
}

const invalid = async (p: Promise<unknown>): Promise<string> => {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).reason).toBe("Invalid");
  return JSON.stringify((e as ApiError).toStatus());
};

describe("pod activeDeadlineSeconds", () => {
  it("the API accepts 1..2147483647; an update may set or lower it, not raise or remove it", async () => {
    expect(await invalid(t.api.create("pods", podOf("zero", { nodeName: undefined, activeDeadlineSeconds: 0 })))).toMatch(/spec\.activeDeadlineSeconds.*between 1 and 2147483647/);
    const p = await t.api.create("pods", podOf("rules", { nodeName: undefined }));
    const set = await t.api.update("pods", { ...p, spec: { ...p.spec, activeDeadlineSeconds: 600 } });
    expect(set.spec.activeDeadlineSeconds).toBe(600);
    const lowered = await t.api.update("pods", { ...set, spec: { ...set.spec, activeDeadlineSeconds: 300 } });
    expect(lowered.spec.activeDeadlineSeconds).toBe(300);
    expect(await invalid(t.api.update("pods", { ...lowered, spec: { ...lowered.spec, activeDeadlineSeconds: 301 } }))).toMatch(/must be less than or equal to previous value/);
    const { activeDeadlineSeconds: _gone, ...without } = lowered.spec;
    expect(await invalid(t.api.update("pods", { ...lowered, spec: without }))).toMatch(/must not update from a positive integer to nil value/);
    // Other spec fields stay immutable, and the message names the ones that are not.
    expect(await invalid(t.api.update("pods", { ...lowered, spec: { ...lowered.spec, restartPolicy: "Never" } }))).toMatch(/spec\.activeDeadlineSeconds/);
    await t.api.delete("pods", "rules", "default", { gracePeriodSeconds: 0 });
  });

  it("the node fails a pod active longer than its deadline: containers stopped, none restarted, phase Failed, reason DeadlineExceeded", async () => {
    await t.api.create("pods", podOf("short", { activeDeadlineSeconds: 2 }));
    const running = await waitFor(async () => {
      const p = await t.api.get("pods", "short", "default");
      return p.status?.phase === "Running" ? p : undefined;
    }, "Running");
    const failed = await waitFor(async () => {
      const p = await t.api.get("pods", "short", "default");
      return p.status?.phase === "Failed" ? p : undefined;
    }, "Failed", 15_000);
    expect(failed.status?.reason).toBe("DeadlineExceeded");
    expect(failed.status?.message).toBe("Pod was active on the node longer than the specified deadline");
    // Counted from the pod's start: not before its deadline.
    const started = Date.parse(running.status!.startTime!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    for (const c of failed.status?.containerStatuses ?? []) {
      expect(c.state?.terminated, c.name).toBeDefined();
      expect(c.ready).toBe(false);
    }
    expect(failed.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    // Nothing is restarted (restartPolicy Always notwithstanding): the state holds over resyncs.
    const rv = failed.metadata.resourceVersion;
    expect(await runningApps(failed.metadata.uid!)).toBe(0);
    await twoHeartbeats();
    const later = await t.api.get("pods", "short", "default");
    expect(later.status?.phase).toBe("Failed");
    expect(later.metadata.resourceVersion).toBe(rv);
    expect(await runningApps(failed.metadata.uid!)).toBe(0);
    const events = (await t.api.list("events", { namespace: "default" })).items.filter((e) => e.involvedObject.name === "short");
    expect(events.map((e) => e.reason)).toContain("DeadlineExceeded");
    expect(events.filter((e) => e.reason === "Killing").map((e) => e.message).sort()).toEqual(["Stopping container main", "Stopping container side"]);
    // Deleted, it goes as any pod.
    await t.api.delete("pods", "short", "default");
    await waitFor(() => t.api.get("pods", "short", "default").then(() => false, () => true), "gone");
  });

  it("a deadline set on a running pod by an update, then lowered, is the one that counts", async () => {
    const p = await t.api.create("pods", podOf("later"));
    const running = await waitFor(async () => {
      const x = await t.api.get("pods", "later", "default");
      return x.status?.phase === "Running" ? x : undefined;
    }, "Running");
    const set = await t.api.update("pods", { ...running, spec: { ...running.spec, activeDeadlineSeconds: 3600 } });
    await t.api.update("pods", { ...set, spec: { ...set.spec, activeDeadlineSeconds: 1 } });
    const failed = await waitFor(async () => {
      const x = await t.api.get("pods", "later", "default");
      return x.status?.phase === "Failed" ? x : undefined;
    }, "Failed by the lowered deadline", 15_000);
    expect(failed.status?.reason).toBe("DeadlineExceeded");
    expect(p.metadata.uid).toBe(failed.metadata.uid);
    await t.api.delete("pods", "later", "default", { gracePeriodSeconds: 0 });
  });

  it("a pod that finishes before its deadline stays Succeeded", async () => {
    const quick = podOf("quick", { restartPolicy: "Never", activeDeadlineSeconds: 2, containers: [{ name: "main", image: "berth/busybox" }] });
    quick.metadata.annotations = { "berth.dev/hollow-run-for": "0.1" };
    await t.api.create("pods", quick);
    const done = await waitFor(async () => {
      const p = await t.api.get("pods", "quick", "default");
      return p.status?.phase === "Succeeded" ? p : undefined;
    }, "Succeeded");
    // Past the deadline, and then some resyncs.
    const deadline = Date.parse(done.status!.startTime!) + 2000;
    await waitFor(() => Date.now() > deadline, "the deadline to pass", 5_000);
    await twoHeartbeats();
    const p = await t.api.get("pods", "quick", "default");
    expect(p.status?.phase).toBe("Succeeded");
    expect(p.status?.reason).toBeUndefined();
  });
});
