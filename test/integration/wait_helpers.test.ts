/**
 * The typed waits of the programmatic API (runtime/wait.ts) on a real cluster (own nats-server,
 * hollow node): they resolve when the condition holds, from a watch, and fail at their deadline
 * with what they were waiting for and what they last saw.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster, startClusterComponents, waitFor, waitForPodReady, waitForPodsReady, waitForReplicationController, WaitTimeoutError } from "../../mod.ts";

let cluster: Cluster;
let components: Awaited<ReturnType<typeof startClusterComponents>>;

beforeAll(async () => {
  cluster = await Cluster.start({ nodeNames: ["node-1"] });
  components = await startClusterComponents(cluster, { nodes: 1, runtime: "hollow", rest: false, services: false, nodeNames: ["node-1"], heartbeatIntervalMs: 200 });
  await components.waitReady();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe("wait helpers", () => {
  it("waitForReplicationController resolves once every replica is Ready; waitForPodsReady returns the ready pods", async () => {
    const waiting = waitForReplicationController(cluster.client, "web", { namespace: "default", timeoutMs: 30_000 });
    await cluster.apply(`apiVersion: v1
kind: ReplicationController
metadata: {name: web}
spec:
  replicas: 3
  selector: {app: web}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: berth/busybox}]}
`);
    const rc = await waiting;
    expect(rc.status?.readyReplicas).toBe(3);
    const pods = await waitForPodsReady(cluster.client, "app=web", 3, { namespace: "default" });
    expect(pods).toHaveLength(3);
    const one = await waitForPodReady(cluster.client, pods[0].metadata.name, { namespace: "default" });
    expect(one.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("waitFor follows changes to one object", async () => {
    const waiting = waitFor(cluster.client, "replicationcontrollers", (rc) => rc.spec.replicas === 1, { name: "web", namespace: "default" });
    await cluster.client.patch("replicationcontrollers", "web", { spec: { replicas: 1 } }, { namespace: "default" });
    expect((await waiting).spec.replicas).toBe(1);
  });

  it("fails at the deadline naming what it waited for", async () => {
    const e = await waitForPodReady(cluster.client, "never", { namespace: "default", timeoutMs: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(WaitTimeoutError);
    expect((e as Error).message).toMatch(/timed out after 300 ms waiting for pod never to be Ready; last seen: nothing/);
  });
});
