/**
 * Inter-pod anti-affinity and topology spread constraints through the whole control plane, with
 * real node agents on the hollow runtime (nodes a and b in zone-1, c in zone-2): a Deployment whose
 * replicas must not share a node spreads over the three nodes, and the replica that fits nowhere
 * stays Pending with kube-scheduler's reason; scaled down, the survivors still share no node. A
 * Deployment spread evenly by zone puts half its replicas on zone-2's one node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import type { Pod } from "../../model/types.ts";

let t: TestApi;
let cp: ControlPlane;
const agents: NodeAgent[] = [];
const NODES = ["aff-node-a", "aff-node-b", "aff-node-c"];
const ZONES: Record<string, string> = { "aff-node-a": "zone-1", "aff-node-b": "zone-1", "aff-node-c": "zone-2" };

beforeAll(async () => {
  t = await startTestApi();
  for (const name of NODES) agents.push(await startNodeAgent({ client: t.api, runtime: new HollowRuntime(), name, heartbeatIntervalMs: 500, labels: { "topology.kubernetes.io/zone": ZONES[name] } }));
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await Promise.all(agents.map((a) => a.stop()));
  await t?.stop();
});

const live = async (app = "spread"): Promise<Pod[]> => (await t.api.list("pods", { namespace: "default", labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);

describe("inter-pod anti-affinity on a hollow cluster", () => {
  it("a Deployment of 4 whose replicas may not share a node: 3 Running on 3 nodes, the 4th Pending as kube-scheduler says; scaled to 3, all Running apart", async () => {
    await t.api.create("deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "spread" },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: "spread" } },
        template: {
          metadata: { labels: { app: "spread" } },
          spec: {
            affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "spread" } }, topologyKey: "kubernetes.io/hostname" }] } },
            containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }],
          },
        },
      },
    }, "default");
    const settled = await waitFor(async () => {
      const pods = await live();
      const running = pods.filter((p) => p.status?.phase === "Running");
      const pending = pods.filter((p) => p.status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False"));
      return pods.length === 4 && running.length === 3 && pending.length === 1 ? { running, pending } : undefined;
    }, "3 replicas Running and 1 Pending", 20_000);
    expect(new Set(settled.running.map((p) => p.spec.nodeName))).toEqual(new Set(NODES));
    const why = settled.pending[0].status?.conditions?.find((c) => c.type === "PodScheduled");
    expect(why).toMatchObject({ reason: "Unschedulable" });
    expect(why?.message).toContain("0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    await t.api.updateScale("spread", 3, "default", "deployments");
    const after = await waitFor(async () => {
      const pods = await live();
      return pods.length === 3 && pods.every((p) => p.status?.phase === "Running") ? pods : undefined;
    }, "3 replicas Running", 20_000);
    expect(new Set(after.map((p) => p.spec.nodeName)).size).toBe(3);
  });

  it("a Deployment of 4 spread by zone with maxSkew 1: two replicas on zone-2's one node, two in zone-1 (spreading by node alone gives zone-1 three)", async () => {
    await t.api.create("deployments", {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "zonal" },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: "zonal" } },
        template: {
          metadata: { labels: { app: "zonal" } },
          spec: {
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: { app: "zonal" } }, matchLabelKeys: ["pod-template-hash"] }],
            containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }],
          },
        },
      },
    }, "default");
    const running = await waitFor(async () => {
      const pods = await live("zonal");
      return pods.length === 4 && pods.every((p) => p.status?.phase === "Running") ? pods : undefined;
    }, "4 replicas Running", 20_000);
    const inZone = (z: string) => running.filter((p) => ZONES[p.spec.nodeName!] === z).length;
    expect([inZone("zone-1"), inZone("zone-2")]).toEqual([2, 2]);
  });

  it("a pod naming another scheduler is left alone (no bind, no condition); one naming default-scheduler is placed", async () => {
    const make = (name: string, schedulerName: string) => t.api.create("pods", {
      apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "sched" } },
      spec: { schedulerName, containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"] }] },
    }, "default");
    await make("custom", "my-scheduler");
    await make("standard", "default-scheduler");
    await waitFor(async () => (await t.api.get("pods", "standard", "default")).spec.nodeName, "the default-scheduler pod bound", 20_000);
    // Passes run one after another, each awaiting its binds: once a pod made now is bound, any
    // pass that could have bound the custom pod has finished.
    await make("standard-2", "");
    await waitFor(async () => (await t.api.get("pods", "standard-2", "default")).spec.nodeName, "a later pod bound", 20_000);
    const custom = await t.api.get("pods", "custom", "default");
    expect(custom.spec.nodeName).toBeUndefined();
    expect(custom.status?.conditions?.find((c) => c.type === "PodScheduled")).toBeUndefined();
  });

  it("when room is short, the pending pod of higher priority takes it first, though it is the younger", async () => {
    await t.api.create("priorityclasses", { apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass", metadata: { name: "aff-high" }, value: 1000 });
    const cpu = (await t.api.get("nodes", "aff-node-b")).status!.allocatable!.cpu;
    // Each asks for the whole of a node that does not exist yet (no node has the label).
    const make = (name: string, priorityClassName?: string) => t.api.create("pods", {
      apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "prio" } },
      spec: { priorityClassName, nodeSelector: { tier: "gold" }, containers: [{ name: "c", image: "berth/busybox:latest", command: ["sleep", "3600"], resources: { requests: { cpu } } }] },
    }, "default");
    // Named so that age and then name (the order without priority) both put the low one first.
    await make("prio-a-low");
    await make("prio-b-high", "aff-high");
    const unschedulable = async (name: string) => (await t.api.get("pods", name, "default")).status?.conditions?.some((c) => c.type === "PodScheduled" && c.status === "False");
    await waitFor(async () => (await unschedulable("prio-a-low")) && (await unschedulable("prio-b-high")), "both pods waiting", 20_000);
    // Room for one: the next pass sees both pending.
    await t.api.patch("nodes", "aff-node-b", { metadata: { labels: { tier: "gold" } } }, { type: "merge" });
    await waitFor(async () => (await t.api.get("pods", "prio-b-high", "default")).spec.nodeName, "the high-priority pod bound", 20_000);
    expect((await t.api.get("pods", "prio-a-low", "default")).spec.nodeName).toBeUndefined();
  });
});
