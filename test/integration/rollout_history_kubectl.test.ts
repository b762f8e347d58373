/**
 * `kubectl rollout history` and `kubectl rollout undo` of a StatefulSet and of a DaemonSet, with
 * kubectl 1.32 against the REST API and the controllers running on a hollow node: the controller keeps each
 * template as a ControllerRevision (`kubectl get controllerrevisions`), kubectl lists them, shows
 * one, and rolls back by applying a revision's data as a strategic merge patch — after which the
 * controller renumbers that revision as the newest and rolls the pods back.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { waitFor } from "../helpers/api.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { HollowRuntime } from "../../runtime/containers/hollow.ts";
import { updateRevision } from "../../actors/statefulset_decide.ts";
import { templateHash } from "../../actors/daemonset_decide.ts";
import type { DaemonSet, StatefulSet } from "../../model/types.ts";

const h = useRestHarness({}, 60_000);
const { ok } = kubectlRunners(h, 60_000);
let cp: ControlPlane;
let agent: NodeAgent;

const manifest = (image: string, cause: string) => `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: hist
  annotations: {kubernetes.io/change-cause: "${cause}"}
spec:
  serviceName: hist
  replicas: 2
  podManagementPolicy: Parallel
  selector:
    matchLabels: {app: hist}
  template:
    metadata:
      labels: {app: hist}
    spec:
      containers:
      - name: c
        image: ${image}
        command: [sleep, "3600"]
`;
const getSts = () => h.test.api.get("statefulsets", "hist", "default");
/** The set once its pods are all on its template's revision and Ready. */
const rolledOut = (what: string) => waitFor(async () => {
  const s = await getSts();
  return s.status?.observedGeneration === s.metadata.generation && s.status?.currentRevision === updateRevision(s) && s.status.updatedReplicas === 2 && s.status.readyReplicas === 2 ? s : undefined;
}, what, 30_000);

beforeAll(async () => {
  agent = await startNodeAgent({ client: h.test.api, runtime: new HollowRuntime(), name: "hist-node", heartbeatIntervalMs: 500 });
  cp = await startControlPlane({ client: h.test.remote, scheduledEvents: false, services: false });
}, 60_000);

afterAll(async () => {
  await cp?.stop();
  await agent?.stop();
});

describe("kubectl rollout history and undo of a StatefulSet", () => {
  let first: StatefulSet;
  let second: StatefulSet;

  it("each template is a ControllerRevision; kubectl get controllerrevisions prints NAME CONTROLLER REVISION AGE", async () => {
    await ok(["apply", "-f", "-"], manifest("berth/busybox:1", "first"));
    first = await rolledOut("the first template rolled out");
    await ok(["apply", "-f", "-"], manifest("berth/busybox:2", "second"));
    second = await rolledOut("the second template rolled out");
    const table = await ok(["get", "controllerrevisions"]);
    expect(table).toMatch(/^NAME\s+CONTROLLER\s+REVISION\s+AGE/);
    expect(table).toMatch(new RegExp(`${updateRevision(first)}\\s+statefulset\\.apps/hist\\s+1\\s`));
    expect(table).toMatch(new RegExp(`${updateRevision(second)}\\s+statefulset\\.apps/hist\\s+2\\s`));
  });

  it("kubectl rollout history lists them with their change causes, and shows one revision's template", async () => {
    const history = await ok(["rollout", "history", "sts/hist"]);
    expect(history).toContain("statefulset.apps/hist");
    expect(history).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history).toMatch(/1\s+first/);
    expect(history).toMatch(/2\s+second/);
    const one = await ok(["rollout", "history", "sts/hist", "--revision=1"]);
    expect(one).toContain("berth/busybox:1");
    expect(one).not.toContain("berth/busybox:2");
  });

  it("kubectl rollout undo goes back to the previous revision: the pods roll back, and that revision becomes the newest", async () => {
    const out = await ok(["rollout", "undo", "sts/hist"]);
    expect(out).toContain("statefulset.apps/hist rolled back");
    const back = await rolledOut("rolled back to the first template");
    expect(back.spec.template.spec.containers[0].image).toBe("berth/busybox:1");
    expect(updateRevision(back)).toBe(updateRevision(first));
    const pods = (await h.test.api.list("pods", { namespace: "default", labelSelector: "app=hist" })).items;
    expect(pods.map((p) => [p.spec.containers[0].image, p.metadata.labels?.["controller-revision-hash"]])).toEqual([
      ["berth/busybox:1", updateRevision(first)],
      ["berth/busybox:1", updateRevision(first)],
    ]);
    await waitFor(async () => /2\s+second[\s\S]*3\s/.test(await ok(["rollout", "history", "sts/hist"])), "the first revision renumbered 3");
    // Undo to a revision explicitly, and a revision that does not exist is refused by kubectl.
    await ok(["rollout", "undo", "sts/hist", "--to-revision=2"]);
    expect((await rolledOut("forward again to the second template")).spec.template.spec.containers[0].image).toBe("berth/busybox:2");
    const missing = await h.kubectl(["rollout", "undo", "sts/hist", "--to-revision=9"], { timeoutMs: 60_000 });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("unable to find specified revision 9");
  });
});

const dsManifest = (image: string, cause: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
  annotations: {kubernetes.io/change-cause: "${cause}"}
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: c
        image: ${image}
        command: [sleep, "3600"]
`;
/** The DaemonSet once its one pod is on its template and available. */
const dsRolledOut = (what: string) => waitFor(async () => {
  const d = await h.test.api.get("daemonsets", "agent", "default");
  return d.status?.observedGeneration === d.metadata.generation && d.status?.updatedNumberScheduled === 1 && d.status.numberAvailable === 1 && d.status.desiredNumberScheduled === 1 ? d : undefined;
}, what, 30_000);

describe("kubectl rollout history and undo of a DaemonSet", () => {
  it("lists the revisions with their causes, and undo rolls the pod back to the previous template", async () => {
    await ok(["apply", "-f", "-"], dsManifest("berth/busybox:1", "first"));
    const first: DaemonSet = await dsRolledOut("the first template rolled out");
    await ok(["apply", "-f", "-"], dsManifest("berth/busybox:2", "second"));
    await dsRolledOut("the second template rolled out");
    const history = await ok(["rollout", "history", "ds/agent"]);
    expect(history).toMatch(/1\s+first/);
    expect(history).toMatch(/2\s+second/);
    expect(await ok(["get", "controllerrevisions"])).toMatch(new RegExp(`agent-${templateHash(first)}\\s+daemonset\\.apps/agent\\s+1\\s`));
    expect(await ok(["rollout", "undo", "ds/agent"])).toContain("daemonset.apps/agent rolled back");
    const back = await dsRolledOut("rolled back");
    expect(back.spec.template.spec.containers[0].image).toBe("berth/busybox:1");
    const pods = (await h.test.api.list("pods", { namespace: "default", labelSelector: "app=agent" })).items.filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0].image)).toEqual(["berth/busybox:1"]);
    await waitFor(async () => /2\s+second[\s\S]*3\s/.test(await ok(["rollout", "history", "ds/agent"])), "the first revision renumbered 3");
  });
});
