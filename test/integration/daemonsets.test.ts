/**
 * apps/v1 DaemonSets through the whole control plane: the API (defaults, validation, immutable
 * selector), the DaemonSet controller, the scheduler placing its pods by node affinity and
 * tolerations, and the garbage collector, with real node agents on the hollow runtime.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectInvalid, startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { ApiError } from "../../model/errors.ts";
import { isPodReady } from "../../model/pod.ts";
import { REVISION_LABEL, templateHash } from "../../actors/daemonset_decide.ts";
import type { DaemonSet, Node, Pod } from "../../model/types.ts";

let t: TestApi;
let cp: ControlPlane;
const agents = new Map<string, NodeAgent>();
const NODES = ["ds-node-a", "ds-node-b", "ds-node-c"];
const NS = "default";

function dsObject(name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      ...spec,
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "agent", image: "berth/busybox:latest", command: ["sleep", "3600"] }], ...podSpec } },
    },
  };
}

const podsOf = async (name: string): Promise<Pod[]> => (await t.api.list("pods", { namespace: NS, labelSelector: `app=${name}` })).items;
const live = (pods: Pod[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
/** Node name → its one live, Ready pod of the daemon, when every wanted node has exactly one. */
async function readyOn(name: string, nodes: string[]): Promise<boolean> {
  const pods = live(await podsOf(name));
  const on = nodes.map((n) => pods.filter((p) => p.spec.nodeName === n && isPodReady(p)).length);
  return pods.length === nodes.length && on.every((c) => c === 1);
}
const getDs = (name: string) => t.api.get("daemonsets", name, NS);
const patchNode = (name: string, patch: unknown) => t.api.patch("nodes", name, patch, { type: "merge" });
const invalid = expectInvalid;

beforeAll(async () => {
  t = await startTestApi();
  for (const name of NODES) agents.set(name, await startNodeAgent({ client: t.api, runtime: new HollowRuntime(), name, heartbeatIntervalMs: 500 }));
  cp = await startControlPlane({ client: t.remote, scheduledEvents: false, services: false });
}, 30_000);

afterAll(async () => {
  await cp?.stop();
  await Promise.all([...agents.values()].map((a) => a.stop()));
  await t?.stop();
});

describe("the DaemonSet API", () => {
  it("defaults as Kubernetes and refuses what cannot run, with the field named", async () => {
    const d = await t.api.create("daemonsets", dsObject("defaults", {}, { nodeSelector: { nowhere: "true" } }), NS);
    expect(d.spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(d.spec.revisionHistoryLimit).toBe(10);
    expect(d.metadata.labels).toEqual({ app: "defaults" });
    // The selector is the daemon's for life, as apps/v1 keeps it.
    const moved = await invalid(t.api.update("daemonsets", { ...d, spec: { ...d.spec, selector: { matchLabels: { app: "other" } }, template: { ...d.spec.template, metadata: { labels: { app: "other" } } } } }));
    expect(moved.message).toContain("spec.selector: Invalid value");
    expect(moved.message).toContain("field is immutable");
    await t.api.delete("daemonsets", "defaults", NS);

    const mismatch = await invalid(t.api.create("daemonsets", { ...(dsObject("bad") as object), spec: { ...(dsObject("bad") as { spec: object }).spec, selector: { matchLabels: { app: "else" } } } }, NS));
    expect(mismatch.message).toContain("`selector` does not match template `labels`");
    expect((await invalid(t.api.create("daemonsets", dsObject("bad", {}, { restartPolicy: "Never" }), NS))).message).toContain('spec.template.spec.restartPolicy: Unsupported value: "Never"');
    expect((await invalid(t.api.create("daemonsets", dsObject("bad", { updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }), NS))).message).toContain("spec.updateStrategy.rollingUpdate.maxSurge");
    const antiAffinity = await invalid(t.api.create("daemonsets", dsObject("bad", {}, { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: "" }] } } }), NS));
    expect(antiAffinity.message).toContain("spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty");
    const toleration = await invalid(t.api.create("daemonsets", dsObject("bad", {}, { tolerations: [{ operator: "Equal", value: "x" }, { key: "k", tolerationSeconds: 5, effect: "NoSchedule" }] }), NS));
    expect(toleration.message).toContain("spec.template.spec.tolerations[0].operator");
    expect(toleration.message).toContain("effect must be 'NoExecute' when `tolerationSeconds` is set");
    const affinity = await invalid(t.api.create("pods", {
      metadata: { name: "bad-affinity" },
      spec: { containers: [{ name: "c", image: "berth/busybox" }], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "zone", operator: "In" }], matchFields: [{ key: "metadata.labels", operator: "In", values: ["a"] }] }] } } } },
    }, NS));
    expect(affinity.message).toContain("matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'");
    expect(affinity.message).toContain('matchFields[0].key: Invalid value: "metadata.labels": not a valid field selector key');
    await expect(t.api.get("daemonsets", "bad", NS)).rejects.toMatchObject({ reason: "NotFound" });
  });
});

describe("the DaemonSet controller", () => {
  it("runs one pod on every node, placed by the scheduler, and replaces a deleted one", async () => {
    await t.api.create("daemonsets", dsObject("everywhere"), NS);
    await waitFor(() => readyOn("everywhere", NODES), "a Ready pod on each of the three nodes", 20_000);
    const ds = await waitFor(async () => {
      const d = await getDs("everywhere");
      return d.status?.numberAvailable === 3 ? d : undefined;
    }, "the status to count three available");
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberMisscheduled: 0, numberUnavailable: 0, observedGeneration: 1 });
    const pods = await podsOf("everywhere");
    for (const p of pods) {
      expect(p.metadata.labels?.[REVISION_LABEL]).toBe(templateHash(ds));
      expect(p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([{ matchFields: [{ key: "metadata.name", operator: "In", values: [p.spec.nodeName] }] }]);
    }
    const victim = pods.find((p) => p.spec.nodeName === "ds-node-b")!;
    await t.api.delete("pods", victim.metadata.name, NS, { gracePeriodSeconds: 0 });
    await waitFor(async () => (await readyOn("everywhere", NODES)) && !(await podsOf("everywhere")).some((p) => p.metadata.uid === victim.metadata.uid), "a new pod on ds-node-b", 20_000);
    const events = await waitFor(async () => {
      const evs = (await t.api.list("events", { namespace: NS, fieldSelector: "involvedObject.kind=DaemonSet,involvedObject.name=everywhere" })).items;
      return evs.filter((e) => e.reason === "SuccessfulCreate").length >= 4 ? evs : undefined;
    }, "four SuccessfulCreate events");
    expect(events[0].message).toMatch(/^Created pod: everywhere-/);
    await t.api.delete("daemonsets", "everywhere", NS);
    await waitFor(async () => (await podsOf("everywhere")).length === 0, "the garbage collector to delete the daemon's pods", 20_000);
  });

  it("follows node labels and taints: new matching nodes get the pod, NoExecute removes it, a cordoned node keeps running daemons", async () => {
    await t.api.create("daemonsets", dsObject("edge", {}, { nodeSelector: { role: "edge" } }), NS);
    await patchNode("ds-node-a", { metadata: { labels: { role: "edge" } } });
    await waitFor(() => readyOn("edge", ["ds-node-a"]), "the pod on the one edge node", 20_000);
    await patchNode("ds-node-b", { metadata: { labels: { role: "edge" } } });
    await waitFor(() => readyOn("edge", ["ds-node-a", "ds-node-b"]), "a pod on the newly labelled node", 20_000);

    // A NoSchedule taint keeps the running pod (misscheduled); NoExecute removes it.
    await patchNode("ds-node-b", { spec: { taints: [{ key: "maintenance", value: "soon", effect: "NoSchedule" }] } });
    await waitFor(async () => (await getDs("edge")).status?.numberMisscheduled === 1, "ds-node-b counted as misscheduled");
    expect(live(await podsOf("edge")).map((p) => p.spec.nodeName).sort()).toEqual(["ds-node-a", "ds-node-b"]);
    await patchNode("ds-node-b", { spec: { taints: [{ key: "maintenance", value: "now", effect: "NoExecute" }] } });
    await waitFor(async () => (await podsOf("edge")).every((p) => p.spec.nodeName === "ds-node-a"), "the pod on ds-node-b to go", 20_000);
    expect((await getDs("edge")).status).toMatchObject({ desiredNumberScheduled: 1 });

    // Cordoning does not stop a daemon (its pods tolerate node.kubernetes.io/unschedulable) ...
    await patchNode("ds-node-b", { spec: { taints: null, unschedulable: true } });
    await waitFor(() => readyOn("edge", ["ds-node-a", "ds-node-b"]), "the daemon back on the cordoned node", 20_000);
    // ... but keeps an ordinary pod away.
    await t.api.create("pods", { metadata: { name: "plain" }, spec: { nodeSelector: { "kubernetes.io/hostname": "ds-node-b" }, containers: [{ name: "c", image: "berth/busybox" }] } }, NS);
    const plain = await waitFor(async () => {
      const p = await t.api.get("pods", "plain", NS);
      return p.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False") ? p : undefined;
    }, "the plain pod to be unschedulable");
    expect(plain.status?.conditions?.find((c) => c.type === "PodScheduled")?.message).toContain("node(s) were unschedulable");
    await t.api.delete("pods", "plain", NS, { gracePeriodSeconds: 0 });

    // Unlabelling removes the pod.
    await patchNode("ds-node-a", { metadata: { labels: { role: null } } });
    await waitFor(async () => (await podsOf("edge")).every((p) => p.spec.nodeName === "ds-node-b"), "the pod on the unlabelled node to go", 20_000);
    await patchNode("ds-node-b", { metadata: { labels: { role: null } }, spec: { unschedulable: null } });
    await t.api.delete("daemonsets", "edge", NS);
    await waitFor(async () => (await podsOf("edge")).length === 0, "the edge pods to go", 20_000);
  });

  it("rolls a new template out with never more than maxUnavailable nodes without an available pod", async () => {
    await t.api.create("daemonsets", dsObject("rolling"), NS);
    await waitFor(() => readyOn("rolling", NODES), "the first revision everywhere", 20_000);
    const before = await getDs("rolling");

    // Every pod change of the daemon, as it happens: the nodes with a live, Ready pod.
    const watch = await t.api.watch("pods", { namespace: NS, labelSelector: "app=rolling", resourceVersion: (await t.api.list("pods", { namespace: NS, limit: 1 })).metadata.resourceVersion });
    const state = new Map<string, Pod>((await podsOf("rolling")).map((p) => [p.metadata.name, p]));
    let fewest = NODES.length;
    const watching = (async () => {
      for await (const ev of watch) {
        if (ev.type === "DELETED") state.delete(ev.object.metadata.name);
        else state.set(ev.object.metadata.name, ev.object);
        const up = new Set([...state.values()].filter((p) => !p.metadata.deletionTimestamp && isPodReady(p)).map((p) => p.spec.nodeName));
        fewest = Math.min(fewest, up.size);
      }
    })();

    const updated = await t.api.patch("daemonsets", "rolling", { spec: { template: { metadata: { annotations: { revision: "2" } } } } }, { namespace: NS, type: "merge" }) as DaemonSet;
    const hash = templateHash(updated);
    expect(hash).not.toBe(templateHash(before));
    await waitFor(async () => {
      const pods = live(await podsOf("rolling"));
      return (await readyOn("rolling", NODES)) && pods.every((p) => p.metadata.labels?.[REVISION_LABEL] === hash);
    }, "every node on the new revision", 30_000);
    const done = await waitFor(async () => {
      const d = await getDs("rolling");
      return d.status?.updatedNumberScheduled === 3 && d.status.numberAvailable === 3 ? d : undefined;
    }, "the status to show the rollout done");
    expect(done.status?.observedGeneration).toBe(2);
    watch.stop();
    await watching;
    expect(fewest).toBeGreaterThanOrEqual(NODES.length - 1);

    // OnDelete (the stored rollingUpdate may stay, as in Kubernetes): a new template waits until a pod is deleted by hand.
    await t.api.patch("daemonsets", "rolling", { spec: { updateStrategy: { type: "OnDelete" }, template: { metadata: { annotations: { revision: "3" } } } } }, { namespace: NS, type: "merge" });
    const third = templateHash(await getDs("rolling"));
    await waitFor(async () => (await getDs("rolling")).status?.observedGeneration === 3, "generation 3 observed");
    expect(live(await podsOf("rolling")).every((p) => p.metadata.labels?.[REVISION_LABEL] === hash)).toBe(true);
    const one = live(await podsOf("rolling")).find((p) => p.spec.nodeName === "ds-node-c")!;
    await t.api.delete("pods", one.metadata.name, NS, { gracePeriodSeconds: 0 });
    await waitFor(async () => live(await podsOf("rolling")).some((p) => p.spec.nodeName === "ds-node-c" && p.metadata.labels?.[REVISION_LABEL] === third), "the replacement on the third revision");
    expect(live(await podsOf("rolling")).filter((p) => p.metadata.labels?.[REVISION_LABEL] === hash)).toHaveLength(2);
    await t.api.delete("daemonsets", "rolling", NS);
  });

  it("deleted with propagationPolicy Orphan and made again, adopts the pods it left instead of making more", async () => {
    await t.api.create("daemonsets", dsObject("reborn"), NS);
    await waitFor(() => readyOn("reborn", NODES), "the pod on the three nodes", 20_000);
    const before = (await podsOf("reborn")).map((p) => p.metadata.uid).sort();
    await t.api.delete("daemonsets", "reborn", NS, { propagationPolicy: "Orphan" });
    await waitFor(async () => (await podsOf("reborn")).every((p) => !p.metadata.ownerReferences?.length), "the pods orphaned");
    const again = await t.api.create("daemonsets", dsObject("reborn"), NS);
    await waitFor(async () => (await podsOf("reborn")).every((p) => p.metadata.ownerReferences?.[0]?.uid === again.metadata.uid), "the new DaemonSet to adopt them");
    await waitFor(async () => (await getDs("reborn")).status?.numberAvailable === 3, "the status to count them");
    expect((await podsOf("reborn")).map((p) => p.metadata.uid).sort()).toEqual(before);
    await t.api.delete("daemonsets", "reborn", NS);
  });

  it("gives a node that joins the daemon's pod", async () => {
    await t.api.create("daemonsets", dsObject("joiner"), NS);
    await waitFor(() => readyOn("joiner", NODES), "the pod on the three nodes", 20_000);
    agents.set("ds-node-d", await startNodeAgent({ client: t.api, runtime: new HollowRuntime(), name: "ds-node-d", heartbeatIntervalMs: 500 }));
    await waitFor(() => readyOn("joiner", [...NODES, "ds-node-d"]), "a pod on the node that joined", 20_000);
    const node = (await t.api.get("nodes", "ds-node-d")) as Node;
    expect(node.metadata.name).toBe("ds-node-d");
    await t.api.delete("daemonsets", "joiner", NS);
  });
});

describe("NoExecute taints (taint eviction)", () => {
  it("evict the pods that do not tolerate them at once, tolerating ones after tolerationSeconds, and leave the rest", async () => {
    const podOn = (name: string, tolerations?: unknown[]) => ({
      metadata: { name, labels: { taint: "test" } },
      spec: { nodeName: "ds-node-c", containers: [{ name: "c", image: "berth/busybox" }], ...(tolerations ? { tolerations } : {}) },
    });
    await t.api.create("pods", podOn("intolerant"), NS);
    await t.api.create("pods", podOn("for-a-while", [{ key: "drain", operator: "Exists", effect: "NoExecute", tolerationSeconds: 2 }]), NS);
    await t.api.create("pods", podOn("for-ever", [{ key: "drain", operator: "Equal", value: "yes" }]), NS);
    await waitFor(async () => (await t.api.list("pods", { namespace: NS, labelSelector: "taint=test" })).items.every(isPodReady), "the three pods running");

    const tainted = Date.now();
    await patchNode("ds-node-c", { spec: { taints: [{ key: "drain", value: "yes", effect: "NoExecute" }] } });
    const gone = async (name: string) => {
      try {
        const p = await t.api.get("pods", name, NS);
        return !!p.metadata.deletionTimestamp;
      } catch (err) {
        return err instanceof ApiError && err.reason === "NotFound";
      }
    };
    await waitFor(() => gone("intolerant"), "the pod without a toleration to be evicted");
    expect(await gone("for-a-while")).toBe(false);
    await waitFor(() => gone("for-a-while"), "the pod tolerating for 2 s to be evicted");
    expect(Date.now() - tainted).toBeGreaterThanOrEqual(2000);
    expect(await gone("for-ever")).toBe(false);
    const events = await waitFor(async () => {
      const evs = (await t.api.list("events", { namespace: NS, fieldSelector: "reason=TaintManagerEviction" })).items.filter((e) => ["intolerant", "for-a-while", "for-ever"].includes(e.involvedObject.name ?? ""));
      return evs.length >= 2 ? evs : undefined;
    }, "the eviction events");
    expect(events.map((e) => e.involvedObject.name).sort()).toEqual(["for-a-while", "intolerant"]);
    expect(events[0].message).toMatch(/^Marking for deletion Pod default\//);

    await patchNode("ds-node-c", { spec: { taints: null } });
    await t.api.delete("pods", "for-ever", NS, { gracePeriodSeconds: 0 });
  });
});

