/**
 * apps/v1 DaemonSets, tolerations, node affinity and taints as kubectl 1.32 users see them,
 * against the REST API: `kubectl apply -f` of a DaemonSet whose template tolerates taints and
 * selects nodes by affinity (strict field validation accepts it; a later apply patches it by the
 * OpenAPI); `get ds` prints kube-apiserver's columns; `describe ds` kubectl's describer; `get all`
 * lists it; the status subresource takes `kubectl patch --subresource=status`; `kubectl taint`
 * writes a node's taints and `describe node` lists them; `drain --ignore-daemonsets` finds the
 * DaemonSet of a daemon pod and leaves it; a pod asking for pod anti-affinity is refused with a
 * 422 that names the field.
 *
 * No control plane runs here, so nothing depends on the DaemonSet controller: the status the
 * tables and describers show is one this test writes itself, through the status subresource, and
 * the one pod the DaemonSet "controls" is made by the test. No Docker here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { nodeObject } from "../helpers/control_plane_standin.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import type { DaemonSet, Node, Pod } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
const { ok } = kubectlRunners(h, 60_000);

/** The manifest a user would apply: a log agent on every Linux node, the control plane's and the tainted ones included. */
const manifest = (image = "berth/busybox:latest", extraToleration = true) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
  labels: {k8s-app: fluentd-logging}
spec:
  selector:
    matchLabels: {name: fluentd}
  template:
    metadata:
      labels: {name: fluentd}
    spec:
      nodeSelector: {kubernetes.io/os: linux}
      tolerations:
      - key: node-role.kubernetes.io/control-plane
        operator: Exists
        effect: NoSchedule
${extraToleration ? `      - key: dedicated
        operator: Equal
        value: logging
        effect: NoSchedule
` : ""}      - key: node.kubernetes.io/unreachable
        operator: Exists
        effect: NoExecute
        tolerationSeconds: 300
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: kubernetes.io/hostname, operator: NotIn, values: [node-9]}
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 50
            preference:
              matchExpressions: [{key: disktype, operator: In, values: [ssd]}]
      containers:
      - name: fluentd
        image: ${image}
        command: [sh, -c, "sleep 3600"]
`;

beforeAll(async () => {
  for (const n of ["node-1", "node-2"]) {
    const node = nodeObject(n) as Node;
    node.metadata.labels = { ...node.metadata.labels, "kubernetes.io/os": "linux" };
    await h.test.api.create("nodes", node);
  }
}, 30_000);

describe.sequential("kubectl and apps/v1 DaemonSets, tolerations and taints (REST, no control plane)", () => {
  let uid = "";

  it("kubectl apply -f creates a DaemonSet whose template has tolerations and node affinity (strict field validation accepts them)", async () => {
    expect(await ok(["apply", "-f", "-"], manifest())).toBe("daemonset.apps/fluentd created\n");
    const ds: DaemonSet = await h.test.api.get("daemonsets", "fluentd", "default");
    uid = ds.metadata.uid!;
    expect(uid).toBeTruthy();
    expect(ds.spec.template.spec.tolerations).toEqual([
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
      { key: "dedicated", operator: "Equal", value: "logging", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
    expect(ds.spec.template.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "NotIn", values: ["node-9"] }] },
    ]);
    expect(ds.spec.template.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      { weight: 50, preference: { matchExpressions: [{ key: "disktype", operator: "In", values: ["ssd"] }] } },
    ]);

    // A typo anywhere in them is an unknown field, as on Kubernetes.
    const typo = await h.kubectl(["apply", "-f", "-"], { stdin: manifest().replace("tolerationSeconds: 300", "tolerationSecond: 300") });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/unknown field "spec\.template\.spec\.tolerations\[2\]\.tolerationSecond"/);
  });

  it("kubectl apply again patches the template by the OpenAPI: the tolerations list is replaced whole, the image changed", async () => {
    expect(await ok(["apply", "-f", "-"], manifest("berth/busybox:v2", false))).toBe("daemonset.apps/fluentd configured\n");
    const ds: DaemonSet = await h.test.api.get("daemonsets", "fluentd", "default");
    expect(ds.metadata.uid).toBe(uid);
    expect(ds.spec.template.spec.containers[0].image).toBe("berth/busybox:v2");
    expect(ds.spec.template.spec.tolerations?.map((t) => t.key)).toEqual(["node-role.kubernetes.io/control-plane", "node.kubernetes.io/unreachable"]);
    // apps/v1 keeps a selector for life.
    const moved = await h.kubectl(["apply", "-f", "-"], { stdin: manifest("berth/busybox:v2", false).replace("matchLabels: {name: fluentd}", "matchLabels: {name: fluentd, tier: logs}").replace("labels: {name: fluentd}", "labels: {name: fluentd, tier: logs}") });
    expect(moved.code).not.toBe(0);
    expect(moved.stderr).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
  });

  it("kubectl get ds prints NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE, from the status written through the status subresource", async () => {
    const status = { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1, numberMisscheduled: 0, observedGeneration: 2 };
    expect(await ok(["patch", "ds", "fluentd", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })])).toBe("daemonset.apps/fluentd patched\n");
    expect((await h.test.api.get("daemonsets", "fluentd", "default")).status).toMatchObject(status);

    const table = await ok(["get", "ds"]);
    expect(table).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
    expect(table).toMatch(/\nfluentd\s+2\s+2\s+1\s+1\s+1\s+kubernetes\.io\/os=linux\s+\d+s\n$/);
    // The other names of the resource.
    expect(await ok(["get", "daemonsets.apps", "fluentd", "--no-headers"])).toMatch(/^fluentd\s+2\s+2\s+1\s+1\s+1\s+/);
    expect(await ok(["get", "daemonset/fluentd", "-o", "name"])).toBe("daemonset.apps/fluentd\n");
  });

  it("kubectl get ds -o wide adds CONTAINERS IMAGES SELECTOR", async () => {
    const wide = await ok(["get", "ds", "fluentd", "-o", "wide"]);
    expect(wide).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\n/);
    expect(wide).toMatch(/\nfluentd\s+2\s+2\s+1\s+1\s+1\s+kubernetes\.io\/os=linux\s+\d+s\s+fluentd\s+berth\/busybox:v2\s+name=fluentd\n$/);
  });

  it("kubectl describe ds (and berth describe ds) show the selectors, the node counts, the pods it controls and the template's tolerations", async () => {
    // One pod as the controller would make it (Pending: no node agent here), one it does not control.
    const pod = (name: string, owned: boolean): Pod => ({
      apiVersion: "v1", kind: "Pod",
      metadata: {
        name, namespace: "default", labels: { name: "fluentd" },
        ...(owned ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "DaemonSet", name: "fluentd", uid, controller: true, blockOwnerDeletion: true }] } : {}),
      },
      spec: { ...(owned ? { nodeName: "node-1" } : {}), containers: [{ name: "fluentd", image: "berth/busybox:v2" }] },
    });
    await h.test.api.create("pods", pod("fluentd-abcde", true));
    await h.test.api.create("pods", pod("stray", false));

    const text = await ok(["describe", "ds", "fluentd"]);
    expect(text).toMatch(/^Name:\s+fluentd$/m);
    expect(text).toMatch(/^Selector:\s+name=fluentd$/m);
    expect(text).toMatch(/^Node-Selector:\s+kubernetes\.io\/os=linux$/m);
    expect(text).toMatch(/^Labels:\s+k8s-app=fluentd-logging$/m);
    expect(text).toContain("\nDesired Number of Nodes Scheduled: 2\nCurrent Number of Nodes Scheduled: 2\nNumber of Nodes Scheduled with Up-to-date Pods: 1\nNumber of Nodes Scheduled with Available Pods: 1\nNumber of Nodes Misscheduled: 0\n");
    expect(text).toMatch(/^Pods Status:\s+0 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^ {2}Node-Selectors:\s+kubernetes\.io\/os=linux$/m);
    expect(text).toMatch(/^ {2}Tolerations:\s+node-role\.kubernetes\.io\/control-plane:NoSchedule op=Exists\n\s+node\.kubernetes\.io\/unreachable:NoExecute op=Exists for 300s$/m);

    let out = "";
    await describeCmd(h.test.remote, ["ds", "fluentd"], {}, (x) => (out += x));
    expect(out).toMatch(/^Selector:\s+name=fluentd$/m);
    expect(out).toMatch(/^Node-Selector:\s+kubernetes\.io\/os=linux$/m);
    expect(out).toContain("\nDesired Number of Nodes Scheduled: 2\n");
    expect(out).toMatch(/^Pods Status:\s+0 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(out).toMatch(/^ {2}Tolerations:\s+node-role\.kubernetes\.io\/control-plane:NoSchedule op=Exists\n\s+node\.kubernetes\.io\/unreachable:NoExecute op=Exists for 300s$/m);
  });

  it("kubectl get all (and berth get all) list the daemonset after the pods, with its columns", async () => {
    const all = await ok(["get", "all"]);
    expect(all).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/m);
    expect(all).toMatch(/^daemonset\.apps\/fluentd\s+2\s+2\s+1\s+1\s+1\s+kubernetes\.io\/os=linux\s+/m);
    expect(all.indexOf("pod/fluentd-abcde")).toBeGreaterThanOrEqual(0);
    expect(all.indexOf("pod/fluentd-abcde")).toBeLessThan(all.indexOf("daemonset.apps/fluentd"));
    let out = "";
    await getCmd(h.test.remote, ["all"], {}, (x) => (out += x));
    expect(out).toMatch(/^daemonset\.apps\/fluentd\s+2\s+2\s+1\s+1\s+1\s+kubernetes\.io\/os=linux\s+/m);
  });

  it("kubectl taint writes a node's taints, jsonpath reads them, describe node lists them, and a trailing - takes one off", async () => {
    expect(await ok(["taint", "nodes", "node-1", "dedicated=logging:NoSchedule"])).toBe("node/node-1 tainted\n");
    expect(await ok(["taint", "nodes", "node-1", "gpu:PreferNoSchedule"])).toBe("node/node-1 tainted\n");
    const taints = JSON.parse(await ok(["get", "node", "node-1", "-o", "jsonpath={.spec.taints}"]));
    // kubectl puts the taint it adds first.
    expect(taints).toEqual([{ key: "gpu", effect: "PreferNoSchedule" }, { key: "dedicated", value: "logging", effect: "NoSchedule" }]);
    expect(await ok(["get", "node", "node-1", "-o", "jsonpath={.spec.taints[?(@.key==\"dedicated\")].value}"])).toBe("logging");
    const described = await ok(["describe", "node", "node-1"]);
    expect(described).toMatch(/^Taints:\s+dedicated=logging:NoSchedule\n\s+gpu:PreferNoSchedule$/m);
    // A taint already there with that key and effect is refused, as kubectl does, unless --overwrite.
    const again = await h.kubectl(["taint", "nodes", "node-1", "dedicated=other:NoSchedule"]);
    expect(again.code).not.toBe(0);
    expect(await ok(["taint", "nodes", "node-1", "dedicated=other:NoSchedule", "--overwrite"])).toBe("node/node-1 modified\n");
    expect(await ok(["taint", "nodes", "node-1", "dedicated:NoSchedule-", "gpu-"])).toBe("node/node-1 untainted\n");
    expect(await ok(["get", "node", "node-1", "-o", "jsonpath={.spec.taints}"])).toBe("");
    expect(await ok(["describe", "node", "node-1"])).toMatch(/^Taints:\s+<none>$/m);
  });

  it("pod anti-affinity passes strict field validation; what Berth does not serve of it (a namespaceSelector with labels) is refused with a 422 naming the field; a bad toleration likewise", async () => {
    const pod = (spec: string) => `apiVersion: v1
kind: Pod
metadata: {name: anti}
spec:
${spec}
  containers: [{name: c, image: berth/busybox:latest}]
`;
    const anti = await h.kubectl(["apply", "-f", "-"], {
      stdin: pod(`  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: web}}
        namespaceSelector: {matchLabels: {team: a}}
        topologyKey: kubernetes.io/hostname`),
    });
    expect(anti.code).not.toBe(0);
    expect(anti.stderr).not.toMatch(/unknown field/);
    expect(anti.stderr).toMatch(/The Pod "anti" is invalid: spec\.affinity\.podAntiAffinity\.requiredDuringSchedulingIgnoredDuringExecution\[0\]\.namespaceSelector: Forbidden: not supported by Berth/);
    // The soft form is kept (and acted on by the scheduler's scoring).
    const soft = await h.kubectl(["apply", "-f", "-"], {
      stdin: pod(`  affinity:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm: {labelSelector: {matchLabels: {app: web}}, topologyKey: kubernetes.io/hostname}`),
    });
    expect(soft.code, soft.stderr).toBe(0);
    await h.kubectl(["delete", "pod", "anti", "--wait=false"]);
    const seconds = await h.kubectl(["apply", "-f", "-"], {
      stdin: pod(`  tolerations:
  - {key: dedicated, operator: Equal, value: db, effect: NoSchedule, tolerationSeconds: 60}`),
    });
    expect(seconds.code).not.toBe(0);
    expect(seconds.stderr).toMatch(/The Pod "anti" is invalid: spec\.tolerations\[0\]\.effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when `tolerationSeconds` is set/);
    expect(await ok(["get", "pods", "anti", "--ignore-not-found"])).toBe("");
  });

  it("kubectl drain --ignore-daemonsets finds the DaemonSet of a node's daemon pod and leaves the pod", async () => {
    const drain = await h.kubectl(["drain", "node-2", "--ignore-daemonsets", "--timeout=30s"]);
    expect(drain.stdout).toBe("node/node-2 cordoned\nnode/node-2 drained\n");
    const drained = await h.kubectl(["drain", "node-1", "--ignore-daemonsets", "--timeout=30s"]);
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stderr).toMatch(/Warning: ignoring DaemonSet-managed Pods: default\/fluentd-abcde/);
    expect(drained.stdout).toMatch(/node\/node-1 drained\n$/);
    expect((await h.test.api.get("pods", "fluentd-abcde", "default")).metadata.deletionTimestamp).toBeUndefined();
    for (const n of ["node-1", "node-2"]) await ok(["uncordon", n]);
  }, 60_000);

  it("kubectl delete ds removes it", async () => {
    expect(await ok(["delete", "ds", "fluentd"])).toBe('daemonset.apps "fluentd" deleted\n');
    expect(await ok(["get", "ds", "-o", "name"])).toBe("");
  });
});
