/**
 * `berth describe daemonset`: kubectl's daemonset describer — the selectors, the node counts of
 * the status, the pods it controls by phase, the pod template with its node selector and
 * tolerations. Also the scheduling lines of `describe pod` (Node-Selectors, Tolerations) and
 * `describe node` (Taints), as kubectl prints them.
 */
import { describe, expect, it } from "vitest";
import { describeObject, taintsText, tolerationsText } from "../../../../runtime/cli/describe.ts";
import type { DaemonSet, Event, Node, Pod } from "../../../../model/types.ts";

const now = Date.parse("2026-12-02T00:10:00Z");
const uid = "d5e1a2b3-0000-4000-8000-000000000001";

function daemonSet(status?: DaemonSet["status"]): DaemonSet {
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: "fluentd", namespace: "kube-system", uid, creationTimestamp: "2026-12-02T00:00:00Z", labels: { "k8s-app": "fluentd-logging" } },
    spec: {
      selector: { matchLabels: { name: "fluentd" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: { labels: { name: "fluentd" } },
        spec: {
          nodeSelector: { "kubernetes.io/os": "linux" },
          tolerations: [
            { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
            { key: "dedicated", operator: "Equal", value: "logging", effect: "NoSchedule" },
          ],
          containers: [{ name: "fluentd", image: "berth/busybox:latest", command: ["sh", "-c", "sleep 3600"] }],
        },
      },
    },
    ...(status ? { status } : {}),
  };
}

function pod(name: string, phase: Pod["status"] extends infer S ? (S extends { phase?: infer P } ? P : never) : never, ownerUid: string | undefined): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name, namespace: "kube-system", labels: { name: "fluentd" },
      ...(ownerUid ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "fluentd", uid: ownerUid, controller: true }] } : {}),
    },
    spec: { containers: [{ name: "fluentd", image: "berth/busybox:latest" }] },
    status: { phase },
  };
}

describe("describe daemonset", () => {
  it("kubectl's fields in kubectl's order: selectors, the status' node counts, pods by phase, the template, events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "fluentd.1", namespace: "kube-system" },
      involvedObject: { kind: "DaemonSet", name: "fluentd" }, type: "Normal", reason: "SuccessfulCreate", message: "Created pod: fluentd-abcde",
      lastTimestamp: "2026-12-02T00:00:05Z", source: { component: "daemonset-controller" },
    };
    const status = { desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 1, numberMisscheduled: 1, numberReady: 1 };
    const pods = [
      pod("fluentd-a", "Running", uid), pod("fluentd-b", "Pending", uid), pod("fluentd-c", "Failed", uid), pod("fluentd-d", "Succeeded", uid),
      // Picked by the selector but not controlled by this DaemonSet: not counted, as kubectl.
      pod("stray", "Running", undefined), pod("other", "Running", "someone-else"),
    ];
    const text = describeObject("daemonsets", daemonSet(status), [ev], now, { pods });
    const lines = text.split("\n");
    const order = [
      "Name", "Namespace", "Selector", "Node-Selector", "Labels", "Annotations",
      "Desired Number of Nodes Scheduled", "Current Number of Nodes Scheduled", "Number of Nodes Scheduled with Up-to-date Pods",
      "Number of Nodes Scheduled with Available Pods", "Number of Nodes Misscheduled", "Pods Status", "Pod Template", "Events",
    ];
    const at = order.map((k) => lines.findIndex((l) => l.startsWith(`${k}:`)));
    expect(at.every((i) => i >= 0), `every field is there: ${order.filter((_, i) => at[i] < 0).join(", ")}`).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(text).toMatch(/^Name:\s+fluentd$/m);
    expect(text).toMatch(/^Namespace:\s+kube-system$/m);
    expect(text).toMatch(/^Selector:\s+name=fluentd$/m);
    expect(text).toMatch(/^Node-Selector:\s+kubernetes\.io\/os=linux$/m);
    expect(text).toMatch(/^Labels:\s+k8s-app=fluentd-logging$/m);
    // kubectl writes these five without a tab: one space after the colon, not aligned.
    expect(text).toContain(
      "\nDesired Number of Nodes Scheduled: 3\n" +
      "Current Number of Nodes Scheduled: 3\n" +
      "Number of Nodes Scheduled with Up-to-date Pods: 2\n" +
      "Number of Nodes Scheduled with Available Pods: 1\n" +
      "Number of Nodes Misscheduled: 1\n" +
      "Pods Status:",
    );
    expect(text).toMatch(/^Pods Status:\s+1 Running \/ 1 Waiting \/ 1 Succeeded \/ 1 Failed\nPod Template:$/m);
    expect(text).toMatch(/^Pod Template:\n {2}Labels:\s+name=fluentd\n {2}Containers:\n {3}fluentd:\n {4}Image:\s+berth\/busybox:latest$/m);
    expect(text).toMatch(/^ {2}Node-Selectors:\s+kubernetes\.io\/os=linux$/m);
    // Sorted by key, continuation lines aligned under the first.
    expect(text).toMatch(/^ {2}Tolerations:( +)dedicated=logging:NoSchedule\n {2}( {12})\1node-role\.kubernetes\.io\/control-plane:NoSchedule op=Exists$/m);
    expect(text).toMatch(/^ {2}Normal\s+SuccessfulCreate\s+9m55s\s+daemonset-controller\s+Created pod: fluentd-abcde$/m);
  });

  it("a new daemonset (no status yet, no pods): every count 0, Node-Selector <none> without one", () => {
    const ds = daemonSet();
    delete ds.spec.template.spec.nodeSelector;
    delete ds.spec.template.spec.tolerations;
    const text = describeObject("daemonsets", ds, [], now);
    expect(text).toMatch(/^Node-Selector:\s+<none>$/m);
    for (const l of ["Desired Number of Nodes Scheduled: 0", "Current Number of Nodes Scheduled: 0", "Number of Nodes Scheduled with Up-to-date Pods: 0", "Number of Nodes Scheduled with Available Pods: 0", "Number of Nodes Misscheduled: 0"]) {
      expect(text).toContain(`\n${l}\n`);
    }
    expect(text).toMatch(/^Pods Status:\s+0 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^ {2}Node-Selectors:\s+<none>$/m);
    expect(text).toMatch(/^ {2}Tolerations:\s+<none>$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
  });
});

describe("describe: scheduling lines of pods and nodes", () => {
  it("tolerations as kubectl's printTolerationsMultiline: key=value:Effect, op=Exists, for Ns; sorted by key", () => {
    expect(tolerationsText(undefined)).toBe("<none>");
    expect(tolerationsText([])).toBe("<none>");
    expect(tolerationsText([
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ])).toBe("node.kubernetes.io/not-ready:NoExecute op=Exists for 300s\nnode.kubernetes.io/unreachable:NoExecute op=Exists for 300s");
    // Tolerates everything: a bare op=Exists.
    expect(tolerationsText([{ operator: "Exists" }])).toBe("op=Exists");
    // Every effect of one key; a value under Equal (the default operator), with or without an effect.
    expect(tolerationsText([{ key: "gpu", operator: "Exists" }])).toBe("gpu op=Exists");
    expect(tolerationsText([{ key: "dedicated", value: "db" }])).toBe("dedicated=db");
    expect(tolerationsText([{ key: "dedicated", operator: "Equal", value: "db", effect: "NoExecute", tolerationSeconds: 0 }])).toBe("dedicated=db:NoExecute for 0s");
    // Any key with one effect.
    expect(tolerationsText([{ operator: "Exists", effect: "NoSchedule" }])).toBe(":NoSchedule op=Exists");
  });

  it("describe pod prints Node-Selectors and Tolerations after the volumes, continuation lines aligned", () => {
    const p: Pod = {
      apiVersion: "v1", kind: "Pod",
      metadata: { name: "web", namespace: "default", creationTimestamp: "2026-12-02T00:00:00Z" },
      spec: {
        nodeSelector: { disktype: "ssd", "kubernetes.io/os": "linux" },
        tolerations: [
          { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
          { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
        ],
        containers: [{ name: "web", image: "berth/busybox:latest" }],
      },
      status: { phase: "Pending" },
    };
    const text = describeObject("pods", p, [], now);
    expect(text).toMatch(new RegExp(
      "^Node-Selectors:( +)disktype=ssd\n" +
      " {15}\\1kubernetes\\.io/os=linux\n" +
      "Tolerations: {3}\\1node\\.kubernetes\\.io/not-ready:NoExecute op=Exists for 300s\n" +
      " {15}\\1node\\.kubernetes\\.io/unreachable:NoExecute op=Exists for 300s\n" +
      "Events:", "m"));
    delete p.spec.nodeSelector;
    delete p.spec.tolerations;
    const bare = describeObject("pods", p, [], now);
    expect(bare).toMatch(/^Node-Selectors:\s+<none>\nTolerations:\s+<none>\n/m);
  });

  it("describe node prints Taints as key=value:Effect (key:Effect without a value), sorted by effect then key, before Unschedulable", () => {
    expect(taintsText(undefined)).toBe("<none>");
    expect(taintsText([
      { key: "dedicated", value: "db", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", timeAdded: "2026-12-02T00:00:00Z" },
      { key: "a", effect: "NoSchedule" },
    ])).toBe("node.kubernetes.io/unreachable:NoExecute\na:NoSchedule\ndedicated=db:NoSchedule");
    const node = (taints?: Node["spec"]["taints"]): Node => ({
      apiVersion: "v1", kind: "Node", metadata: { name: "node-1", creationTimestamp: "2026-12-02T00:00:00Z" }, spec: taints ? { taints } : {},
    });
    const text = describeObject("nodes", node([{ key: "k", value: "v", effect: "NoSchedule" }, { key: "gpu", effect: "PreferNoSchedule" }]), [], now);
    expect(text).toMatch(/^Taints:\s+k=v:NoSchedule\n\s+gpu:PreferNoSchedule\nUnschedulable:\s+false$/m);
    expect(describeObject("nodes", node(), [], now)).toMatch(/^Taints:\s+<none>$/m);
  });
});
