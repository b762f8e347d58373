/**
 * scheduling.k8s.io/v1 PriorityClass, pod priority admission and coordination.k8s.io/v1 Lease as
 * kubectl 1.32 users and client-go's leader election see them, against the REST API over a real
 * store with the control plane running (over NATS, no nodes: pods stay Pending, which is all
 * admission needs):
 *
 *   - `kubectl get priorityclasses` lists the system classes on a fresh cluster, with
 *     kube-apiserver's columns; they cannot be deleted;
 *   - `kubectl apply` of a class and a Deployment whose template names it: every pod gets the
 *     class's priority and policy; a pod naming none gets 0 (or the global default class);
 *   - a pod naming a class that does not exist is refused with kube's message, in a dry run too,
 *     and a Deployment naming one says so in its FailedCreate events;
 *   - kube's refusals of classes (a second default, a changed value, a reserved name) and of a
 *     pod's changed priority; `kubectl create priorityclass` (protobuf);
 *   - a Lease created, read, renewed and watched with kubectl and over REST as client-go's
 *     LeaseLock does it (GET, POST, PUT with resourceVersion), a stale resourceVersion a 409.
 *
 * No Docker here.
 */
import { request } from "node:https";
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/api.ts";
import { deploymentYaml, kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { useStandInControlPlane } from "../helpers/control_plane_standin.ts";
import { describeCmd } from "../../runtime/cli/verbs.ts";
import type { Lease, Pod } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
// No nodes: the pods stay Pending, which is all admission needs.
useStandInControlPlane(h, new Set(), {}, 30_000);
const { ok, refused } = kubectlRunners(h, 60_000);
const pods = async (selector: string) => (await h.test.api.list("pods", { namespace: "default", labelSelector: selector })).items as Pod[];

/** What a chart that ships its own priority ships: the class and a Deployment using it. */
const CHART = `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000000
preemptionPolicy: Never
description: Serving pods; they wait rather than evict.
---
${deploymentYaml("web", { replicas: 2, podSpec: { priorityClassName: "high" }, containerSpec: { command: ["sleep", "3600"] } })}`;

const pod = (name: string, extra = "") => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {test: priority}
spec:
${extra}  containers:
  - name: c
    image: berth/busybox:latest
`;

const lease = (holder: string, renew: string, transitions: number, resourceVersion?: string) => `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: my-operator
  namespace: default
${resourceVersion ? `  resourceVersion: "${resourceVersion}"\n` : ""}spec:
  holderIdentity: ${holder}
  leaseDurationSeconds: 15
  acquireTime: "2026-12-04T10:00:00.000000Z"
  renewTime: "${renew}"
  leaseTransitions: ${transitions}
`;

/** One REST request as client-go makes it (JSON), with the harness's token and CA. */
function rest(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(path, h.http.url);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: h.caPem, headers: { authorization: `Bearer ${h.token}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe.sequential("kubectl, scheduling.k8s.io/v1 PriorityClass and pod priority (REST + control plane, no Docker)", () => {
  it("kubectl get priorityclasses lists kube's system classes with kube-apiserver's columns; they cannot be deleted", async () => {
    const out = await ok(["get", "priorityclasses"]);
    expect(out).toMatch(/^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY\n/);
    expect(out).toMatch(/^system-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority$/m);
    expect(out).toMatch(/^system-node-critical\s+2000001000\s+false\s+\S+\s+PreemptLowerPriority$/m);
    expect(await ok(["get", "pc", "system-node-critical", "-o", "jsonpath={.description}"])).toBe("Used for system critical pods that must not be moved from their current node.");
    expect(await refused(["delete", "pc", "system-cluster-critical"])).toContain(
      'Error from server (Forbidden): priorityclasses.scheduling.k8s.io "system-cluster-critical" is forbidden: this is a system priority class and cannot be deleted',
    );
  });

  it("kubectl apply of a class and a Deployment whose template names it: every pod gets the class's priority and policy", async () => {
    expect(await ok(["apply", "-f", "-"], CHART)).toBe("priorityclass.scheduling.k8s.io/high created\ndeployment.apps/web created\n");
    await waitFor(async () => (await pods("app=web")).length === 2, "the Deployment's two pods");
    const fields = await ok(["get", "pods", "-l", "app=web", "-o", 'jsonpath={range .items[*]}{.spec.priorityClassName} {.spec.priority} {.spec.preemptionPolicy}{"\\n"}{end}']);
    expect(fields).toBe("high 1000000 Never\nhigh 1000000 Never\n");
    // The template itself is kept as written: admission resolves pods, not templates.
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.priorityClassName}/{.spec.template.spec.priority}"])).toBe("high/");
    // -o wide is kube's pod table, unchanged.
    expect(await ok(["get", "pods", "-l", "app=web", "-o", "wide"])).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s/);
    const kubectlDescribe = await ok(["describe", "priorityclass", "high"]);
    let berth = "";
    await describeCmd(h.test.remote, ["priorityclass", "high"], {}, (x) => (berth += x));
    expect(berth).toBe(kubectlDescribe);
    expect(await ok(["describe", "pod", (await pods("app=web"))[0].metadata.name])).toMatch(/\nPriority:\s+1000000\nPriority Class Name:\s+high\n/);
  }, 60_000);

  it("a pod naming no class gets priority 0 and PreemptLowerPriority and no class name", async () => {
    await ok(["apply", "-f", "-"], pod("plain"));
    expect(await ok(["get", "pod", "plain", "-o", "jsonpath={.spec.priority} {.spec.preemptionPolicy} [{.spec.priorityClassName}]"])).toBe("0 PreemptLowerPriority []");
  });

  it("a pod naming a class that does not exist is refused with kube's message, in a server dry run too; nothing is stored", async () => {
    const bad = pod("p-bad", "  priorityClassName: foo\n");
    expect(await refused(["apply", "-f", "-"], bad)).toContain('Error from server (Forbidden): error when creating "STDIN": pods "p-bad" is forbidden: no PriorityClass with name foo was found');
    expect(await refused(["apply", "--dry-run=server", "-f", "-"], bad)).toContain('pods "p-bad" is forbidden: no PriorityClass with name foo was found');
    expect(await refused(["get", "pod", "p-bad"])).toContain("NotFound");
    // A dry run of a good one answers with what admission would store.
    const dry = await ok(["apply", "--dry-run=server", "-f", "-", "-o", "jsonpath={.spec.priority}"], pod("p-dry", "  priorityClassName: high\n"));
    expect(dry).toBe("1000000");
    expect(await refused(["get", "pod", "p-dry"])).toContain("NotFound");
  });

  it("a priority the pod sets itself that differs from its class is refused with kube's message", async () => {
    const err = await refused(["apply", "-f", "-"], pod("p-self", "  priorityClassName: high\n  priority: 5\n"));
    expect(err).toContain('pods "p-self" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000000 from the given PriorityClass name');
  });

  it("a Deployment whose template names a missing class gets no pods, and its FailedCreate events say why", async () => {
    await ok(["create", "deployment", "orphan", "--image=berth/busybox:latest"]);
    await ok(["patch", "deployment", "orphan", "--type=merge", "-p", '{"spec":{"template":{"spec":{"priorityClassName":"missing"}}}}']);
    await waitFor(async () => /is forbidden: no PriorityClass with name missing was found/.test(await ok(["get", "events", "--field-selector", "reason=FailedCreate", "-o", "jsonpath={.items[*].message}"])), "a FailedCreate event naming the class");
    expect((await pods("app=orphan")).filter((p) => p.spec.priorityClassName === "missing")).toEqual([]);
    await ok(["delete", "deployment", "orphan"]);
  }, 60_000);

  it("a pod's priority never changes; an update that leaves it out keeps it", async () => {
    expect(await refused(["patch", "pod", "plain", "--type=merge", "-p", '{"spec":{"priority":7}}'])).toContain("pod updates may not change fields other than");
    // kubectl replace of the manifest (no priority in it, a label added) keeps the priority, as kube's admission does.
    await ok(["replace", "-f", "-"], pod("plain").replace("labels: {test: priority}", "labels: {test: priority, replaced: \"yes\"}"));
    expect(await ok(["get", "pod", "plain", "-o", "jsonpath={.metadata.labels.replaced} {.spec.priority} {.spec.preemptionPolicy}"])).toBe("yes 0 PreemptLowerPriority");
  });

  it("kubectl create priorityclass (protobuf); kube's refusals of a second default, a changed value and a reserved name; a default class applies to new pods", async () => {
    expect(await ok(["create", "priorityclass", "everyday", "--value=10", "--global-default", "--description=most pods"])).toBe("priorityclass.scheduling.k8s.io/everyday created\n");
    expect(await refused(["create", "priorityclass", "second", "--value=11", "--global-default"])).toContain(
      'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass everyday is already marked as default. Only one default can exist',
    );
    expect(await refused(["apply", "-f", "-"], CHART.split("---")[0].replace("value: 1000000", "value: 2000000"))).toContain(
      'The PriorityClass "high" is invalid: value: Forbidden: may not be changed in an update.',
    );
    expect(await refused(["create", "priorityclass", "huge", "--value=1000000001"])).toContain("value: Forbidden: maximum allowed value of a user defined priority is 1000000000");
    expect(await refused(["create", "priorityclass", "system-mine", "--value=1"])).toContain(
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    );
    // The description may change.
    await ok(["apply", "-f", "-"], CHART.split("---")[0].replace("description: Serving pods; they wait rather than evict.", "description: Serving pods."));
    expect(await ok(["get", "pc", "high", "-o", "jsonpath={.description}"])).toBe("Serving pods.");
    await waitFor(async () => (await ok(["get", "pc", "everyday", "--no-headers"])).includes("true"), "everyday listed as the default");
    await ok(["apply", "-f", "-"], pod("defaulted"));
    expect(await ok(["get", "pod", "defaulted", "-o", "jsonpath={.spec.priorityClassName} {.spec.priority}"])).toBe("everyday 10");
    await ok(["delete", "pc", "everyday"]);
  }, 60_000);
});

describe.sequential("kubectl and client-go, coordination.k8s.io/v1 Lease (REST)", () => {
  it("a Lease applied with kubectl is stored with MicroTime and listed NAME HOLDER AGE; a changed holder is seen by a watch", async () => {
    expect(await ok(["apply", "-f", "-"], lease("op-a", "2026-12-04T10:00:05.123456Z", 0))).toBe("lease.coordination.k8s.io/my-operator created\n");
    const out = await ok(["get", "leases"]);
    expect(out).toMatch(/^NAME\s+HOLDER\s+AGE\nmy-operator\s+op-a\s+\S+\n$/);
    expect(await ok(["get", "lease", "my-operator", "-o", "jsonpath={.spec.renewTime}"])).toBe("2026-12-04T10:00:05.123456Z");
    const watcher = h.spawnKubectl(["get", "lease", "my-operator", "-w", "-o", "jsonpath={.spec.holderIdentity}{\"\\n\"}"]);
    let seen = "";
    watcher.stdout!.on("data", (d) => (seen += d));
    try {
      await waitFor(() => seen.includes("op-a\n"), "the watch's first event");
      await ok(["apply", "-f", "-"], lease("op-b", "2026-12-04T10:00:20Z", 1));
      await waitFor(() => seen.includes("op-b\n"), "the new holder, watched");
    } finally {
      watcher.kill("SIGKILL");
    }
    // Any RFC 3339 time is read; it is stored as Kubernetes writes MicroTime.
    expect(await ok(["get", "lease", "my-operator", "-o", "jsonpath={.spec.renewTime} {.spec.leaseTransitions}"])).toBe("2026-12-04T10:00:20.000000Z 1");
  }, 60_000);

  it("kubectl replace with a stale resourceVersion is a 409 Conflict with kube's words; kube's validation refuses a zero duration", async () => {
    const current = (await h.test.api.get("leases", "my-operator", "default")) as Lease;
    const stale = String(Number(current.metadata.resourceVersion) - 1);
    expect(await refused(["replace", "-f", "-"], lease("op-c", "2026-12-04T10:00:30.000000Z", 2, stale))).toContain(
      'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on leases.coordination.k8s.io "my-operator": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(await refused(["apply", "-f", "-"], lease("op-a", "2026-12-04T10:00:05Z", 0).replace("name: my-operator", "name: bad").replace("leaseDurationSeconds: 15", "leaseDurationSeconds: 0"))).toContain(
      'The Lease "bad" is invalid: spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    );
  });

  it("client-go's LeaseLock: GET (404), POST, GET, PUT with the resourceVersion read, and a second PUT on the old one is a 409", async () => {
    const path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/op-leader";
    expect((await rest("GET", path)).status).toBe(404);
    const spec = { holderIdentity: "op-0_9f1c", leaseDurationSeconds: 15, acquireTime: "2026-12-04T10:00:00.000000Z", renewTime: "2026-12-04T10:00:00.000000Z", leaseTransitions: 0 };
    const created = await rest("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases", { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "op-leader", namespace: "kube-system" }, spec });
    expect(created.status).toBe(201);
    const read = (await rest("GET", path)).body as unknown as Lease;
    expect(read.spec).toEqual(spec);
    const renewed = await rest("PUT", path, { ...read, spec: { ...spec, renewTime: "2026-12-04T10:00:02.000000Z" } });
    expect(renewed.status).toBe(200);
    expect((renewed.body as unknown as Lease).metadata.resourceVersion).not.toBe(read.metadata.resourceVersion);
    const lost = await rest("PUT", path, { ...read, spec: { ...spec, holderIdentity: "op-1_77aa", leaseTransitions: 1 } });
    expect(lost.status).toBe(409);
    expect(lost.body).toMatchObject({ kind: "Status", reason: "Conflict", details: { name: "op-leader", group: "coordination.k8s.io", kind: "leases" } });
    expect(await ok(["get", "leases", "-n", "kube-system", "--no-headers"])).toMatch(/^op-leader\s+op-0_9f1c\s+/);
  });
});
