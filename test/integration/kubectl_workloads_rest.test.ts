/**
 * kubectl 1.32 against the REST API with the control plane running (over NATS) and nodes played
 * by the API-level kubelet stand-in: the apps/v1 verbs (create deployment, get deploy,rs, scale,
 * set image, rollout status|history|undo|pause|resume|restart), `rollout status` of an RC, and
 * `kubectl drain` — whose evictions and deletes carry protobuf bodies. No Docker here; the same
 * verbs on real Docker are in test/e2e/kubectl_workloads.test.ts.
 */
import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/api.ts";
import { deploymentYaml, kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { rcObject, useStandInControlPlane } from "../helpers/control_plane_standin.ts";
import type { Pod } from "../../model/types.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";

const h = useRestHarness({}, 30_000);
useStandInControlPlane(h, new Set(["node-1", "node-2"]), {}, 30_000);
const { ok } = kubectlRunners(h, 60_000);
const ready = async (selector: string) =>
  (await h.test.api.list("pods", { namespace: "default", labelSelector: selector })).items.filter(
    (p: Pod) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  );

describe.sequential("kubectl workload verbs (REST + control plane, no Docker)", () => {
  it("kubectl create deployment, get deploy,rs columns, scale deploy", async () => {
    await ok(["create", "deployment", "web", "--image=berth/busybox:latest", "--replicas=3"]);
    await waitFor(async () => (await ready("app=web")).length === 3, "3 ready");
    await waitFor(async () => /^web\s+3\/3\s+3\s+3\s+/m.test(await ok(["get", "deploy"])), "deploy 3/3 3 3");
    const out = await ok(["get", "deploy,rs"]);
    expect(out).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/m);
    expect(out).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/m);
    await ok(["scale", "deploy", "web", "--replicas=4"]);
    await waitFor(async () => (await ready("app=web")).length === 4, "4 ready");
    expect(await ok(["get", "rs", "-l", "app=web", "--no-headers"])).toMatch(/^web-[a-z0-9]+\s+4\s+4\s+4\s+/);
  }, 60_000);

  it("kubectl set image, rollout status, history, undo --to-revision, pause/resume, restart", async () => {
    await ok(["set", "image", "deployment/web", "busybox=berth/busybox:v2"]);
    expect(await ok(["rollout", "status", "deployment/web", "--timeout=60s"])).toContain('deployment "web" successfully rolled out');
    expect((await ready("app=web")).map((p) => p.spec.containers[0].image)).toEqual(Array(4).fill("berth/busybox:v2"));
    expect(await ok(["rollout", "history", "deployment/web"])).toMatch(/REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    // The change cause people record with `kubectl annotate` reaches the current revision's ReplicaSet.
    await ok(["annotate", "deployment/web", "kubernetes.io/change-cause=image v2"]);
    await waitFor(async () => /\n2\s+image v2\n/.test(await ok(["rollout", "history", "deployment/web"])), "the change cause in the history");
    expect(await ok(["rollout", "undo", "deployment/web", "--to-revision=1"])).toContain("rolled back");
    await ok(["rollout", "status", "deployment/web", "--timeout=60s"]);
    await waitFor(async () => (await ready("app=web")).every((p) => p.spec.containers[0].image === "berth/busybox:latest"), "back on latest");
    expect(await ok(["get", "deploy", "web", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"])).toBe("3");

    await ok(["rollout", "pause", "deployment/web"]);
    await ok(["set", "image", "deployment/web", "busybox=berth/busybox:v3"]);
    await waitFor(async () => (await h.test.api.get("deployments", "web", "default")).status?.conditions?.some((c) => c.reason === "DeploymentPaused") ?? false, "paused condition");
    expect((await ok(["get", "rs", "-l", "app=web", "--no-headers"])).trim().split("\n")).toHaveLength(2);
    await ok(["rollout", "resume", "deployment/web"]);
    await ok(["rollout", "status", "deployment/web", "--timeout=60s"]);
    await ok(["rollout", "restart", "deployment/web"]);
    await ok(["rollout", "status", "deployment/web", "--timeout=60s"]);
    expect((await ok(["get", "rs", "-l", "app=web", "--no-headers"])).trim().split("\n")).toHaveLength(4);
  }, 120_000);

  it("kubectl apply of a Deployment manifest validates against /openapi/v3/apis/apps/v1, creates, then configures", async () => {
    const y = (replicas: number, spec?: Record<string, unknown>) => deploymentYaml("applied", { replicas, container: "c", spec });
    expect(await ok(["apply", "-f", "-"], y(1))).toContain("deployment.apps/applied created");
    expect(await ok(["apply", "-f", "-"], y(2))).toContain("deployment.apps/applied configured");
    await waitFor(async () => (await ready("app=applied")).length === 2, "2 applied pods ready");
    const bad = await h.kubectl(["apply", "-f", "-"], { stdin: y(2, { replicaz: 3 }) });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown field "spec.replicaz"/);
    await ok(["delete", "deployment", "applied"]);
  }, 60_000);

  it("the NATS API and the berth CLI serve deployments and replica sets (get, describe, scale)", async () => {
    const remote = h.test.remote;
    const d = await remote.get("deployments", "web", "default");
    expect(d.apiVersion).toBe("apps/v1");
    expect((await remote.list("replicasets", { namespace: "default", labelSelector: "app=web" })).items.length).toBeGreaterThan(0);
    expect(await remote.getScale("web", "default", "deployments")).toMatchObject({ kind: "Scale", spec: { replicas: 4 }, status: { selector: "app=web" } });
    let out = "";
    await getCmd(remote, ["deploy,rs"], {}, (x) => (out += x));
    expect(out).toMatch(/NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\n/);
    expect(out).toMatch(/NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\n/);
    // As kubectl, a listing of several kinds names a named group's objects with the group.
    expect(out).toMatch(/^deployment\.apps\/web\s/m);
    expect(out).toMatch(/^replicaset\.apps\/web-[a-z0-9]+\s/m);
    out = "";
    await describeCmd(remote, ["deploy", "web"], {}, (x) => (out += x));
    expect(out).toMatch(/StrategyType:\s+RollingUpdate/);
    expect(out).toMatch(/RollingUpdateStrategy:\s+25% max unavailable, 25% max surge/);
    await remote.updateScale("web", 2, "default", "deployments");
    await waitFor(async () => (await ready("app=web")).length === 2, "2 ready after scaling over NATS");
  }, 60_000);

  it("kubectl rollout status of a deployment past its progressDeadlineSeconds fails with kubectl's message", async () => {
    await ok(["create", "-f", "-"], deploymentYaml("stuck", { replicas: 1, container: "c", spec: { progressDeadlineSeconds: 1 }, podSpec: { nodeSelector: { disk: "none-has-this" } } }));
    const r = await h.kubectl(["rollout", "status", "deployment/stuck", "--timeout=30s"], { timeoutMs: 45_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('deployment "stuck" exceeded its progress deadline');
    await ok(["delete", "deployment", "stuck"]);
  }, 60_000);

  it("kubectl rollout status of an RC says there is no status viewer, as on Kubernetes", async () => {
    await h.test.api.create("replicationcontrollers", rcObject("backend", 1));
    const r = await h.kubectl(["rollout", "status", "rc/backend"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no status viewer has been implemented for ReplicationController/);
  });

  it("kubectl drain evicts every pod of the node (protobuf bodies) and the controllers' pods come up on the other", async () => {
    await h.test.api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name: "bare" }, spec: { nodeName: "node-2", containers: [{ name: "c", image: "berth/busybox:latest" }] } });
    await waitFor(async () => (await h.test.api.list("pods", { fieldSelector: "spec.nodeName=node-2" })).items.length > 1, "pods on node-2");
    const r = await h.kubectl(["drain", "node-2", "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=60s"], { timeoutMs: 90_000 });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(r.stdout).toContain("node/node-2 drained");
    expect(`${r.stdout}${r.stderr}`).toContain("evicting pod default/bare");
    expect((await h.test.api.get("nodes", "node-2")).spec.unschedulable).toBe(true);
    await waitFor(async () => {
      const pods = (await ready("app=web")).concat(await ready("app=backend"));
      return pods.length === 3 && pods.every((p) => p.spec.nodeName === "node-1");
    }, "all controller pods ready on node-1", 30_000);
    await ok(["uncordon", "node-2"]);
    expect((await h.test.api.get("nodes", "node-2")).spec.unschedulable ?? false).toBe(false);
  }, 120_000);
});
