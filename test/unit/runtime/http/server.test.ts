import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpApi, type HttpApi } from "../../../../runtime/http/server.ts";
import { generateCa, generateServerCert, generateToken } from "../../../../runtime/tls.ts";
import { FakeApi } from "../../../helpers/http_fake_api.ts";
import { call, stream, type ClientOptions } from "../../../helpers/http_client.ts";

const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

function pod(name: string, labels: Record<string, string> = {}, containers = [{ name: "main", image: "berth/busybox:latest" }]) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels }, spec: { containers } };
}

let api: FakeApi;
let server: HttpApi;
let c: ClientOptions;

beforeAll(async () => {
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1", "localhost"] });
  api = new FakeApi();
  const token = generateToken();
  server = await startHttpApi({
    api,
    token,
    tls: { cert: cert.certPem, key: cert.keyPem },
    maxBodyBytes: 64 * 1024,
    logs: async function* (req) {
      yield `log of ${req.namespace}/${req.pod}/${req.container} follow=${req.follow}\n`;
      yield "line 2\n";
    },
  });
  c = { baseUrl: server.url, ca: ca.certPem, token };
});

afterAll(async () => {
  await server?.close();
});

describe("http api - transport and auth", () => {
  it("http api - serves HTTPS verified by the generated CA, on loopback", () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("http api - health endpoints answer without a token", async () => {
    for (const p of ["/healthz", "/livez", "/readyz"]) {
      const r = await call(c, "GET", p, { token: null });
      expect(r.status, p).toBe(200);
      expect(r.text).toBe("ok");
    }
  });

  it("http api - everything else needs the bearer token: 401 Status otherwise", async () => {
    for (const token of [null, "wrong", `${c.token}x`]) {
      const r = await call(c, "GET", "/api/v1/pods", { token });
      expect(r.status).toBe(401);
      expect(r.json()).toMatchObject({ kind: "Status", status: "Failure", reason: "Unauthorized", code: 401 });
    }
    expect((await call(c, "GET", "/version", { token: null })).status).toBe(401);
  });
});

describe("http api - discovery", () => {
  it("http api - /version, /api and /apis", async () => {
    expect((await call(c, "GET", "/version")).json()).toMatchObject({ major: "1", minor: "32" });
    expect((await call(c, "GET", "/api")).json()).toMatchObject({ kind: "APIVersions", versions: ["v1"] });
    const apps = { groupVersion: "apps/v1", version: "v1" };
    const groups = (await call(c, "GET", "/apis")).json() as { kind: string; groups: { name: string }[] };
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups).toContainEqual({ name: "apps", versions: [apps], preferredVersion: apps });
    expect(groups.groups.map((g) => g.name)).toContain("metrics.k8s.io");
    const appsV1 = (await call(c, "GET", "/apis/apps/v1")).json() as { groupVersion: string; resources: { name: string; kind: string }[] };
    expect(appsV1.groupVersion).toBe("apps/v1");
    // By name, as kube-apiserver lists them: `kubectl get all` prints daemonsets before deployments.
    expect(appsV1.resources.map((r) => r.name)).toEqual([
      "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/status", "deployments/scale",
      "replicasets", "replicasets/status", "replicasets/scale", "statefulsets", "statefulsets/status", "statefulsets/scale",
    ]);
    expect(appsV1.resources[1]).toMatchObject({ kind: "DaemonSet", singularName: "daemonset", namespaced: true, shortNames: ["ds"], categories: ["all"] });
    expect(appsV1.resources[1]).toMatchObject({ verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"] });
    expect(appsV1.resources[2]).toMatchObject({ kind: "DaemonSet", verbs: ["get", "patch", "update"] });
    const core = (await call(c, "GET", "/api/v1")).json() as { resources: { name: string; group?: string; version?: string; kind: string }[] };
    expect(core.resources.find((r) => r.name === "pods/eviction")).toMatchObject({ group: "policy", version: "v1", kind: "Eviction" });
    expect(core.resources.some((r) => r.name === "deployments")).toBe(false);
  });

  it("http api - /api/v1 lists every resource with verbs, kinds, short names and subresources", async () => {
    const list = (await call(c, "GET", "/api/v1")).json();
    const byName = Object.fromEntries(list.resources.map((r: { name: string }) => [r.name, r]));
    const short = Object.fromEntries(list.resources.filter((r: { shortNames?: string[] }) => r.shortNames).map((r: { name: string; shortNames: string[] }) => [r.name, r.shortNames[0]]));
    expect(short).toEqual({ pods: "po", replicationcontrollers: "rc", services: "svc", endpoints: "ep", nodes: "no", events: "ev", namespaces: "ns", resourcequotas: "quota", configmaps: "cm", serviceaccounts: "sa", persistentvolumeclaims: "pvc" });
    expect(byName.pods).toMatchObject({ singularName: "pod", namespaced: true, kind: "Pod" });
    expect(byName.pods.verbs).toEqual(expect.arrayContaining(["create", "get", "list", "watch", "patch", "update", "delete"]));
    expect(byName.nodes.namespaced).toBe(false);
    expect(byName["replicationcontrollers/scale"]).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });
    for (const s of ["pods/status", "pods/log", "pods/binding", "replicationcontrollers/status"]) expect(byName[s], s).toBeDefined();
  });

  it("http api - batch/v1 serves cronjobs, jobs and their status, in the all category with pods, RCs, services, deployments and replicasets, and its OpenAPI", async () => {
    const batch = { groupVersion: "batch/v1", version: "v1" };
    expect((await call(c, "GET", "/apis")).json().groups).toContainEqual({ name: "batch", versions: [batch], preferredVersion: batch });
    const batchV1 = (await call(c, "GET", "/apis/batch/v1")).json() as { groupVersion: string; resources: { name: string; kind: string; categories?: string[]; verbs: string[] }[] };
    expect(batchV1.groupVersion).toBe("batch/v1");
    // By name, as kube-apiserver lists them: `kubectl get all` prints cronjobs before jobs.
    expect(batchV1.resources.map((r) => [r.name, r.kind])).toEqual([["cronjobs", "CronJob"], ["cronjobs/status", "CronJob"], ["jobs", "Job"], ["jobs/status", "Job"]]);
    expect(batchV1.resources[0]).toMatchObject({ singularName: "cronjob", namespaced: true, shortNames: ["cj"], categories: ["all"] });
    expect(batchV1.resources[1]).toMatchObject({ verbs: ["get", "patch", "update"] });
    expect(batchV1.resources[2]).toMatchObject({ singularName: "job", namespaced: true, categories: ["all"] });
    expect(batchV1.resources[2]).not.toHaveProperty("shortNames");
    const inAll: string[] = [];
    for (const gv of ["/api/v1", "/apis/apps/v1", "/apis/batch/v1"]) {
      for (const r of (await call(c, "GET", gv)).json().resources) if (r.categories?.includes("all")) inAll.push(r.name);
    }
    expect(inAll).toEqual(["pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "cronjobs", "jobs"]);

    const url = (await call(c, "GET", "/openapi/v3")).json().paths["apis/batch/v1"].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/batch\/v1\?hash=/);
    const doc = (await call(c, "GET", url)).json();
    const item = doc.paths["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"];
    expect(item.patch).toMatchObject({ operationId: "patchBatchV1NamespacedJob", "x-kubernetes-group-version-kind": { group: "batch", version: "v1", kind: "Job" } });
    expect(doc.paths["/apis/batch/v1/namespaces/{namespace}/jobs"].post.operationId).toBe("createBatchV1NamespacedJob");
    expect(doc.paths["/apis/batch/v1/jobs"].get.operationId).toBe("listBatchV1JobForAllNamespaces");
    expect(doc.paths["/apis/batch/v1/namespaces/{namespace}/jobs/{name}/status"].put.operationId).toBe("replaceBatchV1NamespacedJobStatus");
    const schemas = doc.components.schemas;
    expect(schemas["io.k8s.api.batch.v1.Job"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "batch", kind: "Job", version: "v1" }]);
    expect(schemas["io.k8s.api.batch.v1.JobSpec"].properties.template).toEqual({ $ref: "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec" });
    expect(schemas["io.k8s.api.batch.v1.JobStatus"].properties.conditions).toMatchObject({ "x-kubernetes-list-type": "atomic", "x-kubernetes-patch-merge-key": "type" });
    expect(schemas["io.k8s.api.batch.v1.JobList"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "batch", kind: "JobList", version: "v1" }]);

    // CronJobs: the operations Kubernetes names, the status subresource, the schemas down to the job template.
    const cj = doc.paths["/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}"];
    expect(cj.patch).toMatchObject({ operationId: "patchBatchV1NamespacedCronJob", "x-kubernetes-group-version-kind": { group: "batch", version: "v1", kind: "CronJob" } });
    expect(cj.get.operationId).toBe("readBatchV1NamespacedCronJob");
    expect(doc.paths["/apis/batch/v1/namespaces/{namespace}/cronjobs"].post.operationId).toBe("createBatchV1NamespacedCronJob");
    expect(doc.paths["/apis/batch/v1/namespaces/{namespace}/cronjobs"].delete.operationId).toBe("deleteBatchV1CollectionNamespacedCronJob");
    expect(doc.paths["/apis/batch/v1/cronjobs"].get.operationId).toBe("listBatchV1CronJobForAllNamespaces");
    expect(doc.paths["/apis/batch/v1/namespaces/{namespace}/cronjobs/{name}/status"].patch.operationId).toBe("patchBatchV1NamespacedCronJobStatus");
    expect(schemas["io.k8s.api.batch.v1.CronJob"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "batch", kind: "CronJob", version: "v1" }]);
    expect(schemas["io.k8s.api.batch.v1.CronJobSpec"]).toMatchObject({
      required: ["schedule", "jobTemplate"],
      properties: { jobTemplate: { $ref: "#/components/schemas/io.k8s.api.batch.v1.JobTemplateSpec" }, timeZone: { type: "string" }, startingDeadlineSeconds: { type: "integer", format: "int64" } },
    });
    expect(schemas["io.k8s.api.batch.v1.JobTemplateSpec"].properties.spec).toEqual({ $ref: "#/components/schemas/io.k8s.api.batch.v1.JobSpec" });
    expect(schemas["io.k8s.api.batch.v1.CronJobStatus"].properties.active).toMatchObject({ "x-kubernetes-list-type": "atomic", items: { $ref: "#/components/schemas/io.k8s.api.core.v1.ObjectReference" } });
    expect(schemas["io.k8s.api.batch.v1.CronJobList"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "batch", kind: "CronJobList", version: "v1" }]);
  });

  it("http api - apps/v1 DaemonSets: the operations Kubernetes names, the status subresource, the schemas down to the update strategy, and pod specs with tolerations and affinity", async () => {
    const url = (await call(c, "GET", "/openapi/v3")).json().paths["apis/apps/v1"].serverRelativeURL as string;
    const doc = (await call(c, "GET", url)).json();
    const item = doc.paths["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}"];
    expect(item.patch).toMatchObject({ operationId: "patchAppsV1NamespacedDaemonSet", "x-kubernetes-group-version-kind": { group: "apps", version: "v1", kind: "DaemonSet" } });
    expect(item.patch.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(doc.paths["/apis/apps/v1/namespaces/{namespace}/daemonsets"].post.operationId).toBe("createAppsV1NamespacedDaemonSet");
    expect(doc.paths["/apis/apps/v1/daemonsets"].get.operationId).toBe("listAppsV1DaemonSetForAllNamespaces");
    expect(doc.paths["/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}/status"].patch.operationId).toBe("patchAppsV1NamespacedDaemonSetStatus");
    const schemas = doc.components.schemas;
    expect(schemas["io.k8s.api.apps.v1.DaemonSet"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "DaemonSet", version: "v1" }]);
    expect(schemas["io.k8s.api.apps.v1.DaemonSetList"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "DaemonSetList", version: "v1" }]);
    expect(schemas["io.k8s.api.apps.v1.DaemonSetSpec"]).toMatchObject({
      required: ["selector", "template"],
      properties: { updateStrategy: { $ref: "#/components/schemas/io.k8s.api.apps.v1.DaemonSetUpdateStrategy" }, template: { $ref: "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec" } },
    });
    expect(schemas["io.k8s.api.apps.v1.DaemonSetUpdateStrategy"].properties.rollingUpdate).toEqual({ $ref: "#/components/schemas/io.k8s.api.apps.v1.RollingUpdateDaemonSet" });
    expect(schemas["io.k8s.api.apps.v1.RollingUpdateDaemonSet"].properties).toEqual({ maxUnavailable: { "x-kubernetes-int-or-string": true }, maxSurge: { "x-kubernetes-int-or-string": true } });
    expect(Object.keys(schemas["io.k8s.api.apps.v1.DaemonSetStatus"].properties)).toEqual(expect.arrayContaining(["desiredNumberScheduled", "currentNumberScheduled", "numberReady", "updatedNumberScheduled", "numberAvailable", "numberMisscheduled", "numberUnavailable", "observedGeneration", "conditions"]));
    // Pod specs everywhere: tolerations (an atomic list) and affinity down to the node selector terms.
    const podSpec = schemas["io.k8s.api.core.v1.PodSpec"].properties;
    expect(podSpec.tolerations).toMatchObject({ "x-kubernetes-list-type": "atomic", items: { $ref: "#/components/schemas/io.k8s.api.core.v1.Toleration" } });
    expect(Object.keys(schemas["io.k8s.api.core.v1.Toleration"].properties)).toEqual(["key", "operator", "value", "effect", "tolerationSeconds"]);
    expect(Object.keys(schemas["io.k8s.api.core.v1.Affinity"].properties)).toEqual(["nodeAffinity", "podAffinity", "podAntiAffinity"]);
    expect(schemas["io.k8s.api.core.v1.NodeSelectorTerm"].properties.matchExpressions.items).toEqual({ $ref: "#/components/schemas/io.k8s.api.core.v1.NodeSelectorRequirement" });
  });

  it("http api - apps/v1 StatefulSets and core/v1 PersistentVolumeClaims: discovery with their subresources and short names, the OpenAPI operations and schemas (v3 and v2)", async () => {
    const appsV1 = (await call(c, "GET", "/apis/apps/v1")).json() as { resources: { name: string; kind: string; group?: string; version?: string; verbs: string[]; shortNames?: string[]; categories?: string[] }[] };
    const sts = appsV1.resources.find((r) => r.name === "statefulsets");
    expect(sts).toMatchObject({ kind: "StatefulSet", singularName: "statefulset", namespaced: true, shortNames: ["sts"], categories: ["all"] });
    expect(appsV1.resources.find((r) => r.name === "statefulsets/status")).toMatchObject({ kind: "StatefulSet", verbs: ["get", "patch", "update"] });
    expect(appsV1.resources.find((r) => r.name === "statefulsets/scale")).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale", verbs: ["get", "patch", "update"] });
    const core = (await call(c, "GET", "/api/v1")).json() as { resources: { name: string; kind: string; categories?: string[]; shortNames?: string[] }[] };
    const pvc = core.resources.find((r) => r.name === "persistentvolumeclaims");
    expect(pvc).toMatchObject({ kind: "PersistentVolumeClaim", singularName: "persistentvolumeclaim", namespaced: true, shortNames: ["pvc"] });
    // Not in kubectl's `all` category, as on Kubernetes.
    expect(pvc).not.toHaveProperty("categories");
    expect(core.resources.find((r) => r.name === "persistentvolumeclaims/status")).toMatchObject({ kind: "PersistentVolumeClaim", verbs: ["get", "patch", "update"] });
    // PersistentVolumes are not served; ControllerRevisions are (the controllers' history), outside `all`.
    expect(core.resources.some((r) => r.name === "persistentvolumes")).toBe(false);
    expect(appsV1.resources.find((r) => r.name === "controllerrevisions")).toMatchObject({ kind: "ControllerRevision", namespaced: true });
    expect(appsV1.resources.find((r) => r.name === "controllerrevisions")).not.toHaveProperty("categories");

    const index = (await call(c, "GET", "/openapi/v3")).json().paths;
    const apps = (await call(c, "GET", index["apis/apps/v1"].serverRelativeURL)).json();
    expect(apps.paths["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"].patch).toMatchObject({ operationId: "patchAppsV1NamespacedStatefulSet", "x-kubernetes-group-version-kind": { group: "apps", version: "v1", kind: "StatefulSet" } });
    expect(apps.paths["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}/status"].put.operationId).toBe("replaceAppsV1NamespacedStatefulSetStatus");
    const schemas = apps.components.schemas;
    expect(schemas["io.k8s.api.apps.v1.StatefulSet"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "apps", kind: "StatefulSet", version: "v1" }]);
    expect(schemas["io.k8s.api.apps.v1.StatefulSetSpec"].required).toEqual(["selector", "template"]);
    // Claim templates are claims, and the list is atomic (a strategic merge patch replaces it whole).
    expect(schemas["io.k8s.api.apps.v1.StatefulSetSpec"].properties.volumeClaimTemplates).toMatchObject({ "x-kubernetes-list-type": "atomic", items: { $ref: "#/components/schemas/io.k8s.api.core.v1.PersistentVolumeClaim" } });
    expect(schemas["io.k8s.api.apps.v1.RollingUpdateStatefulSetStrategy"].properties).toEqual({ partition: { type: "integer", format: "int32" }, maxUnavailable: { "x-kubernetes-int-or-string": true } });
    // What `kubectl rollout status sts` reads.
    expect(Object.keys(schemas["io.k8s.api.apps.v1.StatefulSetStatus"].properties)).toEqual(expect.arrayContaining(["observedGeneration", "replicas", "readyReplicas", "currentReplicas", "updatedReplicas", "currentRevision", "updateRevision", "availableReplicas", "collisionCount", "conditions"]));
    const coreDoc = (await call(c, "GET", index["api/v1"].serverRelativeURL)).json();
    expect(coreDoc.paths["/api/v1/namespaces/{namespace}/persistentvolumeclaims/{name}/status"].patch.operationId).toBe("patchCoreV1NamespacedPersistentVolumeClaimStatus");
    expect(coreDoc.paths["/api/v1/persistentvolumeclaims"].get.operationId).toBe("listCoreV1PersistentVolumeClaimForAllNamespaces");
    const claimSpec = coreDoc.components.schemas["io.k8s.api.core.v1.PersistentVolumeClaimSpec"].properties;
    expect(Object.keys(claimSpec)).toEqual(["accessModes", "selector", "resources", "volumeName", "storageClassName", "volumeMode", "dataSource", "dataSourceRef", "volumeAttributesClassName"]);
    expect(claimSpec.accessModes).toMatchObject({ "x-kubernetes-list-type": "atomic" });
    expect(coreDoc.components.schemas["io.k8s.api.core.v1.PersistentVolumeClaimStatus"].properties.conditions).toMatchObject({ "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge" });
    const v2 = (await call(c, "GET", "/openapi/v2")).json();
    expect(v2.definitions["io.k8s.api.apps.v1.StatefulSetSpec"].properties.template).toEqual({ $ref: "#/definitions/io.k8s.api.core.v1.PodTemplateSpec" });
    expect(v2.definitions["io.k8s.api.core.v1.PersistentVolumeClaim"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "", kind: "PersistentVolumeClaim", version: "v1" }]);
  });

  it("http api - policy/v1 PodDisruptionBudgets: /apis/policy and /apis/policy/v1 with the status subresource and short name pdb, outside `all`; pods/eviction stays in core v1; the OpenAPI operations and schemas (v3 and v2)", async () => {
    const policy = { groupVersion: "policy/v1", version: "v1" };
    expect((await call(c, "GET", "/apis")).json().groups).toContainEqual({ name: "policy", versions: [policy], preferredVersion: policy });
    expect((await call(c, "GET", "/apis/policy")).json()).toEqual({ kind: "APIGroup", apiVersion: "v1", name: "policy", versions: [policy], preferredVersion: policy });
    const policyV1 = (await call(c, "GET", "/apis/policy/v1")).json() as { kind: string; groupVersion: string; resources: { name: string; kind: string; singularName: string; namespaced: boolean; verbs: string[]; shortNames?: string[]; categories?: string[] }[] };
    expect(policyV1).toMatchObject({ kind: "APIResourceList", groupVersion: "policy/v1" });
    expect(policyV1.resources.map((r) => r.name)).toEqual(["poddisruptionbudgets", "poddisruptionbudgets/status"]);
    expect(policyV1.resources[0]).toEqual({
      name: "poddisruptionbudgets", singularName: "poddisruptionbudget", namespaced: true, kind: "PodDisruptionBudget",
      verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["pdb"],
    });
    expect(policyV1.resources[1]).toEqual({ name: "poddisruptionbudgets/status", singularName: "", namespaced: true, kind: "PodDisruptionBudget", verbs: ["get", "patch", "update"] });
    // kubectl drain looks for the Eviction entry in core v1's list, not in policy/v1's.
    const core = (await call(c, "GET", "/api/v1")).json() as { resources: { name: string; group?: string; version?: string; kind: string }[] };
    expect(core.resources.find((r) => r.name === "pods/eviction")).toEqual({ name: "pods/eviction", singularName: "", namespaced: true, group: "policy", version: "v1", kind: "Eviction", verbs: ["create"] });
    expect(core.resources.some((r) => r.name.startsWith("poddisruptionbudgets"))).toBe(false);
    expect((await call(c, "GET", "/apis/policy/v1beta1")).status).toBe(404);

    const index = (await call(c, "GET", "/openapi/v3")).json().paths;
    expect(index["apis/policy/v1"].serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/policy\/v1\?hash=/);
    const doc = (await call(c, "GET", index["apis/policy/v1"].serverRelativeURL)).json();
    const item = doc.paths["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}"];
    expect(item.patch).toMatchObject({ operationId: "patchPolicyV1NamespacedPodDisruptionBudget", "x-kubernetes-group-version-kind": { group: "policy", version: "v1", kind: "PodDisruptionBudget" } });
    expect(item.patch.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(doc.paths["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets"].post.operationId).toBe("createPolicyV1NamespacedPodDisruptionBudget");
    expect(doc.paths["/apis/policy/v1/poddisruptionbudgets"].get.operationId).toBe("listPolicyV1PodDisruptionBudgetForAllNamespaces");
    expect(doc.paths["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}/status"].put.operationId).toBe("replacePolicyV1NamespacedPodDisruptionBudgetStatus");
    expect(doc.paths["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/{name}/status"].patch.operationId).toBe("patchPolicyV1NamespacedPodDisruptionBudgetStatus");
    const schemas = doc.components.schemas;
    expect(schemas["io.k8s.api.policy.v1.PodDisruptionBudget"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "policy", kind: "PodDisruptionBudget", version: "v1" }]);
    expect(schemas["io.k8s.api.policy.v1.PodDisruptionBudgetList"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "policy", kind: "PodDisruptionBudgetList", version: "v1" }]);
    // Both bounds are int-or-string, as Deployment's maxSurge.
    expect(schemas["io.k8s.api.policy.v1.PodDisruptionBudgetSpec"].properties).toEqual({
      minAvailable: { "x-kubernetes-int-or-string": true },
      selector: { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector" },
      maxUnavailable: { "x-kubernetes-int-or-string": true },
      unhealthyPodEvictionPolicy: { type: "string" },
    });
    const status = schemas["io.k8s.api.policy.v1.PodDisruptionBudgetStatus"];
    expect(status.required).toEqual(["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"]);
    expect(status.properties.disruptedPods).toEqual({ type: "object", additionalProperties: { type: "string", format: "date-time" } });
    expect(status.properties.conditions).toMatchObject({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], "x-kubernetes-patch-merge-key": "type", items: { $ref: "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Condition" } });
    expect(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Condition"].required).toEqual(["type", "status", "lastTransitionTime", "reason", "message"]);
    const v2 = (await call(c, "GET", "/openapi/v2")).json();
    expect(v2.definitions["io.k8s.api.policy.v1.PodDisruptionBudgetSpec"].properties.selector).toEqual({ $ref: "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector" });
  });

  it("http api - autoscaling: /apis/autoscaling serves v2 (preferred; hpa with status, in `all`) and v1 (create, get, list, delete; what kubectl autoscale uses); the v2 OpenAPI", async () => {
    const v2 = { groupVersion: "autoscaling/v2", version: "v2" };
    const v1 = { groupVersion: "autoscaling/v1", version: "v1" };
    expect((await call(c, "GET", "/apis")).json().groups).toContainEqual({ name: "autoscaling", versions: [v2, v1], preferredVersion: v2 });
    expect((await call(c, "GET", "/apis/autoscaling")).json()).toEqual({ kind: "APIGroup", apiVersion: "v1", name: "autoscaling", versions: [v2, v1], preferredVersion: v2 });
    const list2 = (await call(c, "GET", "/apis/autoscaling/v2")).json() as { groupVersion: string; resources: Record<string, unknown>[] };
    expect(list2.groupVersion).toBe("autoscaling/v2");
    expect(list2.resources).toEqual([
      {
        name: "horizontalpodautoscalers", singularName: "horizontalpodautoscaler", namespaced: true, kind: "HorizontalPodAutoscaler",
        verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], shortNames: ["hpa"], categories: ["all"],
      },
      { name: "horizontalpodautoscalers/status", singularName: "", namespaced: true, kind: "HorizontalPodAutoscaler", verbs: ["get", "patch", "update"] },
    ]);
    const list1 = (await call(c, "GET", "/apis/autoscaling/v1")).json() as { groupVersion: string; resources: Record<string, unknown>[] };
    expect(list1.resources).toEqual([{
      name: "horizontalpodautoscalers", singularName: "horizontalpodautoscaler", namespaced: true, kind: "HorizontalPodAutoscaler",
      verbs: ["create", "delete", "get", "list"], shortNames: ["hpa"], categories: ["all"],
    }]);
    // The scale subresources stay autoscaling/v1 Scale.
    expect((await call(c, "GET", "/apis/apps/v1")).json().resources.find((r: { name: string }) => r.name === "deployments/scale")).toMatchObject({ group: "autoscaling", version: "v1", kind: "Scale" });

    const index = (await call(c, "GET", "/openapi/v3")).json().paths;
    const doc = (await call(c, "GET", index["apis/autoscaling/v2"].serverRelativeURL)).json();
    const item = doc.paths["/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}"];
    expect(item.patch).toMatchObject({ operationId: "patchAutoscalingV2NamespacedHorizontalPodAutoscaler", "x-kubernetes-group-version-kind": { group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler" } });
    expect(item.patch.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(doc.paths["/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/{name}/status"].put.operationId).toBe("replaceAutoscalingV2NamespacedHorizontalPodAutoscalerStatus");
    const schemas = doc.components.schemas;
    expect(schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"]["x-kubernetes-group-version-kind"]).toEqual([{ group: "autoscaling", kind: "HorizontalPodAutoscaler", version: "v2" }]);
    expect(schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec"].required).toEqual(["scaleTargetRef", "maxReplicas"]);
    expect(schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus"].properties.conditions).toMatchObject({ "x-kubernetes-list-map-keys": ["type"], "x-kubernetes-patch-merge-key": "type" });
    expect(schemas["io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec"].properties.metrics).toMatchObject({ "x-kubernetes-list-type": "atomic" });
  });

  it("http api - autoscaling/v1 horizontalpodautoscalers: a create is stored as v2 and answered as v1; updates, patches, watches and status are v2's (405 naming it)", async () => {
    const v1 = { apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", metadata: { name: "hpa-v1" }, spec: { scaleTargetRef: { kind: "Deployment", name: "web" }, maxReplicas: 3, targetCPUUtilizationPercentage: 40 } };
    const created = await call(c, "POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", { body: v1 });
    expect(created.status).toBe(201);
    const asked = api.calls.filter((x) => x.method === "create").at(-1)!.args;
    expect(asked[0]).toBe("horizontalpodautoscalers");
    expect(asked[1]).toMatchObject({ apiVersion: "autoscaling/v2", spec: { maxReplicas: 3, metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 40 } } }] } });
    expect(created.json()).toMatchObject({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", spec: { maxReplicas: 3, targetCPUUtilizationPercentage: 40 }, status: { currentReplicas: 0, desiredReplicas: 0 } });
    expect((await call(c, "GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/hpa-v1")).json()).toMatchObject({ apiVersion: "autoscaling/v1", spec: { targetCPUUtilizationPercentage: 40 } });
    expect((await call(c, "GET", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers")).json()).toMatchObject({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscalerList", items: [{ metadata: { name: "hpa-v1" } }] });
    // A v2 body sent to v1 is refused as kube-apiserver refuses a version mismatch.
    const wrong = await call(c, "POST", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers", { body: { ...v1, apiVersion: "autoscaling/v2" } });
    expect(wrong.status).toBe(400);
    expect(wrong.json().message).toContain("does not match the expected API version (autoscaling/v1)");
    for (const [method, path] of [["PUT", "hpa-v1"], ["PATCH", "hpa-v1"], ["GET", "hpa-v1/status"], ["GET", "?watch=true"]]) {
      const r = await call(c, method, `/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers${path.startsWith("?") ? "" : "/"}${path}`, method === "GET" ? {} : { body: v1, contentType: method === "PATCH" ? "application/merge-patch+json" : "application/json" });
      expect(r.status, `${method} ${path}`).toBe(405);
      expect(r.json().message).toMatch(/Berth serves autoscaling\/v1 horizontalpodautoscalers for create, delete, get, list only, .*use autoscaling\/v2/);
    }
    expect((await call(c, "DELETE", "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/hpa-v1")).status).toBe(200);
  });

  it("http api - the OpenAPI v3 index points at a core/v1 document whose PATCH operations declare GVK and fieldValidation", async () => {
    const index = (await call(c, "GET", "/openapi/v3")).json();
    const url = index.paths["api/v1"].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/api\/v1\?hash=/);
    const doc = (await call(c, "GET", url)).json();
    const patchOp = doc.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch;
    expect(patchOp["x-kubernetes-group-version-kind"]).toEqual({ group: "", version: "v1", kind: "Pod" });
    expect(patchOp.parameters.map((p: { name: string }) => p.name)).toContain("fieldValidation");
    expect(Object.keys(patchOp.requestBody.content)).toContain("application/strategic-merge-patch+json");
    const containers = doc.components.schemas["io.k8s.api.core.v1.PodSpec"].properties.containers;
    expect(containers).toMatchObject({ "x-kubernetes-patch-merge-key": "name", "x-kubernetes-patch-strategy": "merge" });
  });
});

describe("http api - objects", () => {
  it("http api - create, get, list with a label selector, update, delete, then 404", async () => {
    const created = await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("crud-a", { app: "crud" }) });
    expect(created.status).toBe(201);
    expect(created.json().metadata).toMatchObject({ name: "crud-a", namespace: "default" });
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("crud-b", { app: "other" }) });

    const got = await call(c, "GET", "/api/v1/namespaces/default/pods/crud-a");
    expect(got.status).toBe(200);
    expect(got.json().spec.containers[0].image).toBe("berth/busybox:latest");

    const list = (await call(c, "GET", "/api/v1/namespaces/default/pods?labelSelector=app%3Dcrud")).json();
    expect(list.kind).toBe("PodList");
    expect(list.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(["crud-a"]);
    expect(api.calls.some((x) => x.method === "list" && (x.args[1] as { labelSelector?: string }).labelSelector === "app=crud")).toBe(true);

    const across = (await call(c, "GET", "/api/v1/pods?limit=10&continue=abc&fieldSelector=metadata.name%3Dcrud-b")).json();
    expect(across.items.map((p: { metadata: { name: string } }) => p.metadata.name)).toEqual(["crud-b"]);
    expect(api.calls.filter((x) => x.method === "list").at(-1)?.args[1]).toEqual({ limit: 10, continue: "abc", fieldSelector: "metadata.name=crud-b" });

    const current = got.json();
    const updated = await call(c, "PUT", "/api/v1/namespaces/default/pods/crud-a", { body: { ...current, metadata: { ...current.metadata, labels: { app: "crud", v: "2" } } } });
    expect(updated.status).toBe(200);
    const stale = await call(c, "PUT", "/api/v1/namespaces/default/pods/crud-a", { body: current });
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({ kind: "Status", reason: "Conflict", code: 409 });

    const del = await call(c, "DELETE", "/api/v1/namespaces/default/pods/crud-a?gracePeriodSeconds=0&propagationPolicy=Background");
    expect(del.status).toBe(200);
    expect(api.calls.filter((x) => x.method === "delete").at(-1)?.args).toEqual(["pods", "crud-a", "default", { gracePeriodSeconds: 0, propagationPolicy: "Background" }]);
    const gone = await call(c, "GET", "/api/v1/namespaces/default/pods/crud-a");
    expect(gone.status).toBe(404);
    expect(gone.json()).toMatchObject({ kind: "Status", reason: "NotFound", code: 404 });
  });

  it("http api - DELETE takes DeleteOptions from the body", async () => {
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("del-body") });
    const r = await call(c, "DELETE", "/api/v1/namespaces/default/pods/del-body", { body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 5, propagationPolicy: "Orphan" } });
    expect(r.status, r.text).toBe(200);
    expect(api.calls.filter((x) => x.method === "delete").at(-1)?.args[3]).toEqual({ gracePeriodSeconds: 5, propagationPolicy: "Orphan" });
  });

  it("http api - DELETE takes ignoreStoreReadErrorWithClusterBreakingPotential from the query or the body, and refuses a non-boolean", async () => {
    const lastOpts = () => api.calls.filter((x) => x.method === "delete").at(-1)?.args[3];
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("unsafe-q") });
    const q = await call(c, "DELETE", "/api/v1/namespaces/default/pods/unsafe-q?ignoreStoreReadErrorWithClusterBreakingPotential=true");
    expect(q.status, q.text).toBe(200);
    expect(lastOpts()).toEqual({ ignoreStoreReadErrorWithClusterBreakingPotential: true });
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("unsafe-b") });
    const b = await call(c, "DELETE", "/api/v1/namespaces/default/pods/unsafe-b", { body: { kind: "DeleteOptions", apiVersion: "v1", ignoreStoreReadErrorWithClusterBreakingPotential: true } });
    expect(b.status, b.text).toBe(200);
    expect(lastOpts()).toEqual({ ignoreStoreReadErrorWithClusterBreakingPotential: true });
    const calls = api.calls.length;
    const bad = await call(c, "DELETE", "/api/v1/namespaces/default/pods/unsafe-b?ignoreStoreReadErrorWithClusterBreakingPotential=yes");
    expect(bad.status).toBe(400);
    expect(bad.json().message).toContain("ignoreStoreReadErrorWithClusterBreakingPotential must be true or false");
    expect(api.calls.length).toBe(calls);
  });

  it("http api - validation failures come back as 422 with causes", async () => {
    const r = await call(c, "POST", "/api/v1/namespaces/default/pods", { body: { apiVersion: "v1", kind: "Pod", metadata: {}, spec: { containers: [] } } });
    expect(r.status).toBe(422);
    expect(r.json().details.causes[0]).toMatchObject({ field: "metadata.name" });
  });

  it("http api - a body whose namespace or name disagrees with the URL is 400", async () => {
    const r = await call(c, "POST", "/api/v1/namespaces/default/pods", { body: { ...pod("x"), metadata: { name: "x", namespace: "other" } } });
    expect(r.status).toBe(400);
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("named") });
    const r2 = await call(c, "PUT", "/api/v1/namespaces/default/pods/named", { body: pod("not-named") });
    expect(r2.status).toBe(400);
  });

  it("http api - cluster-scoped nodes at /api/v1/nodes", async () => {
    const r = await call(c, "POST", "/api/v1/nodes", { body: { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" }, spec: {} } });
    expect(r.status).toBe(201);
    expect((await call(c, "GET", "/api/v1/nodes/node-1")).json().metadata.name).toBe("node-1");
    expect((await call(c, "GET", "/api/v1/namespaces/default/nodes")).status).toBe(404);
  });
});

describe("http api - patch", () => {
  it("http api - merge, JSON and strategic merge patches reach the API with their type", async () => {
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("patch-me", {}, [{ name: "a", image: "x" }, { name: "b", image: "y" }]) });
    const merge = await call(c, "PATCH", "/api/v1/namespaces/default/pods/patch-me", { body: { metadata: { labels: { m: "1" } } }, contentType: "application/merge-patch+json" });
    expect(merge.status).toBe(200);
    expect(merge.json().metadata.labels).toEqual({ m: "1" });
    const jp = await call(c, "PATCH", "/api/v1/namespaces/default/pods/patch-me", { body: [{ op: "add", path: "/metadata/labels/j", value: "2" }], contentType: "application/json-patch+json" });
    expect(jp.json().metadata.labels).toEqual({ m: "1", j: "2" });
    const smp = await call(c, "PATCH", "/api/v1/namespaces/default/pods/patch-me", { body: { spec: { containers: [{ name: "b", image: "z" }] } }, contentType: "application/strategic-merge-patch+json" });
    expect(smp.json().spec.containers).toEqual([{ name: "a", image: "x" }, { name: "b", image: "z" }]);
  });

  it("http api - a failed JSON patch test is 422; server-side apply is 415", async () => {
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("patch-fail") });
    const r = await call(c, "PATCH", "/api/v1/namespaces/default/pods/patch-fail", { body: [{ op: "test", path: "/metadata/name", value: "nope" }], contentType: "application/json-patch+json" });
    expect(r.status).toBe(422);
    const apply = await call(c, "PATCH", "/api/v1/namespaces/default/pods/patch-fail", { raw: "metadata: {}", contentType: "application/apply-patch+yaml" });
    expect(apply.status).toBe(415);
    expect(apply.json().message).toContain("server-side apply");
  });
});

describe("http api - subresources", () => {
  it("http api - replicationcontrollers/scale GET, PUT and merge PATCH as autoscaling/v1 Scale", async () => {
    await call(c, "POST", "/api/v1/namespaces/default/replicationcontrollers", { body: { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "web" }, spec: { replicas: 1, selector: { app: "web" } } } });
    const s = (await call(c, "GET", "/api/v1/namespaces/default/replicationcontrollers/web/scale")).json();
    expect(s).toMatchObject({ apiVersion: "autoscaling/v1", kind: "Scale", spec: { replicas: 1 } });
    const patched = await call(c, "PATCH", "/api/v1/namespaces/default/replicationcontrollers/web/scale", { body: { spec: { replicas: 4 } }, contentType: "application/merge-patch+json" });
    expect(patched.json().spec.replicas).toBe(4);
    const put = await call(c, "PUT", "/api/v1/namespaces/default/replicationcontrollers/web/scale", { body: { ...s, spec: { replicas: 2 } } });
    expect(put.json().spec.replicas).toBe(2);
    const bad = await call(c, "PATCH", "/api/v1/namespaces/default/replicationcontrollers/web/scale", { body: { spec: { replicas: -1 } }, contentType: "application/merge-patch+json" });
    expect(bad.status).toBe(422);
  });

  it("http api - pods/status PUT replaces status only; pods/binding assigns a node once", async () => {
    const p = (await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("sub-pod") })).json();
    const st = await call(c, "PUT", "/api/v1/namespaces/default/pods/sub-pod/status", { body: { ...p, status: { phase: "Running" } } });
    expect(st.json().status.phase).toBe("Running");
    expect(api.calls.at(-1)?.method).toBe("updateStatus");
    const bind = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod/binding", { body: { apiVersion: "v1", kind: "Binding", metadata: { name: "sub-pod" }, target: { kind: "Node", name: "node-1" } } });
    expect(bind.status).toBe(201);
    expect((await call(c, "GET", "/api/v1/namespaces/default/pods/sub-pod")).json().spec.nodeName).toBe("node-1");
    const again = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod/binding", { body: { target: { kind: "Node", name: "node-2" } } });
    expect(again.status).toBe(409);
    // The Binding is checked as Kubernetes checks it: its name is the path's, its target a Node.
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("sub-pod-2") });
    const otherName = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod-2/binding", { body: { metadata: { name: "sub-pod" }, target: { name: "node-1" } } });
    expect(otherName.status).toBe(400);
    expect(otherName.json().message).toMatch(/does not match the name of the pod in the path/);
    const notNode = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod-2/binding", { body: { target: { kind: "Pod", name: "node-1" } } });
    expect(notNode.status).toBe(422);
    expect(notNode.json().message).toMatch(/target\.kind: Unsupported value: "Pod"/);
    const badUid = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod-2/binding", { body: { metadata: { uid: 5 }, target: { name: "node-1" } } });
    expect(badUid.status).toBe(400);
    expect((await call(c, "GET", "/api/v1/namespaces/default/pods/sub-pod-2")).json().spec.nodeName).toBeUndefined();
    // The uid a Binding names is a precondition.
    const wrongUid = await call(c, "POST", "/api/v1/namespaces/default/pods/sub-pod-2/binding", { body: { metadata: { name: "sub-pod-2", uid: "not-it" }, target: { kind: "Node", name: "node-1" } } });
    expect(wrongUid.status).toBe(409);
  });

  it("http api - pods/log streams from the log provider, and asks for a container when there are several", async () => {
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("log-pod") });
    const r = await call(c, "GET", "/api/v1/namespaces/default/pods/log-pod/log?follow=true");
    expect(r.status).toBe(200);
    expect(r.text).toBe("log of default/log-pod/main follow=true\nline 2\n");
    await call(c, "POST", "/api/v1/namespaces/default/pods", { body: pod("log-two", {}, [{ name: "a", image: "x" }, { name: "b", image: "x" }]) });
    const two = await call(c, "GET", "/api/v1/namespaces/default/pods/log-two/log");
    expect(two.status).toBe(400);
    expect(two.json().message).toContain("choose one of: [a b]");
  });
});

describe("http api - tables", () => {
  it("http api - answers a Table when kubectl asks for one", async () => {
    await call(c, "POST", "/api/v1/namespaces/tables/pods", { body: pod("t1") });
    const r = (await call(c, "GET", "/api/v1/namespaces/tables/pods", { accept: TABLE })).json();
    expect(r.kind).toBe("Table");
    expect(r.apiVersion).toBe("meta.k8s.io/v1");
    expect(r.columnDefinitions.map((x: { name: string }) => x.name)).toEqual(["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]);
    expect(r.rows[0].cells.slice(0, 4)).toEqual(["t1", "0/1", "Pending", "0"]);
    expect(r.rows[0].object.kind).toBe("PartialObjectMetadata");
    const one = (await call(c, "GET", "/api/v1/namespaces/tables/pods/t1?includeObject=Object", { accept: TABLE })).json();
    expect(one.rows[0].object.kind).toBe("Pod");
  });
});

describe("http api - watch", () => {
  it("http api - streams ADDED, MODIFIED and DELETED events as newline-delimited JSON", async () => {
    const rv = (await call(c, "GET", "/api/v1/namespaces/watch1/pods")).json().metadata.resourceVersion;
    const got = stream(c, `/api/v1/namespaces/watch1/pods?watch=true&resourceVersion=${rv}`, (evs) => evs.length >= 3, {
      onOpen: async () => {
        await call(c, "POST", "/api/v1/namespaces/watch1/pods", { body: pod("w") });
        await call(c, "PATCH", "/api/v1/namespaces/watch1/pods/w", { body: { metadata: { labels: { x: "y" } } }, contentType: "application/merge-patch+json" });
        await call(c, "DELETE", "/api/v1/namespaces/watch1/pods/w");
      },
    });
    const { events, status } = await got;
    expect(status).toBe(200);
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(["ADDED:w", "MODIFIED:w", "DELETED:w"]);
  });

  it("http api - a compacted resourceVersion gives an ERROR event carrying a 410 Status", async () => {
    await call(c, "POST", "/api/v1/namespaces/watch2/pods", { body: pod("old") });
    api.compact();
    const { events, ended } = await stream(c, "/api/v1/namespaces/watch2/pods?watch=1&resourceVersion=1", () => false);
    expect(ended).toBe(true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Gone" } });
  });

  it("http api - a watch ends after timeoutSeconds", async () => {
    const started = Date.now();
    const { ended } = await stream(c, "/api/v1/namespaces/watch3/pods?watch=true&timeoutSeconds=1", () => false, { timeoutMs: 5000 });
    expect(ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it("http api - a watch with a Table Accept sends one-row tables", async () => {
    await call(c, "POST", "/api/v1/namespaces/watch4/pods", { body: pod("tw") });
    const { events } = await stream(c, "/api/v1/namespaces/watch4/pods?watch=true", (evs) => evs.length >= 1, { accept: TABLE });
    expect(events[0].type).toBe("ADDED");
    expect(events[0].object.kind).toBe("Table");
    expect(events[0].object.rows[0].cells[0]).toBe("tw");
  });
});

describe("http api - bad input", () => {
  it("http api - garbage JSON is 400, wrong content type 415, a huge body 413, and the server stays up", async () => {
    const garbage = await call(c, "POST", "/api/v1/namespaces/default/pods", { raw: "{not json", contentType: "application/json" });
    expect(garbage.status).toBe(400);
    expect(garbage.json().kind).toBe("Status");
    const notObject = await call(c, "POST", "/api/v1/namespaces/default/pods", { raw: "[1,2]", contentType: "application/json" });
    expect(notObject.status).toBe(400);
    const wrongType = await call(c, "POST", "/api/v1/namespaces/default/pods", { raw: "a=b", contentType: "application/x-www-form-urlencoded" });
    expect(wrongType.status).toBe(415);
    const patchType = await call(c, "PATCH", "/api/v1/namespaces/default/pods/x", { raw: "{}", contentType: "application/json" });
    expect(patchType.status).toBe(415);
    const huge = await call(c, "POST", "/api/v1/namespaces/default/pods", { raw: Buffer.alloc(200 * 1024, 0x20), contentType: "application/json" });
    expect(huge.status).toBe(413);
    expect((await call(c, "GET", "/healthz")).status).toBe(200);
  });

  it("http api - fieldValidation: Strict refuses unknown fields, Warn reports them in Warning headers, Ignore lets them by", async () => {
    const body = { ...pod("fv"), spec: { containers: [{ name: "c", image: "x", bogus: 1 }], alsoBogus: true } };
    const strict = await call(c, "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", { body });
    expect(strict.status).toBe(400);
    expect(strict.json().message).toBe('strict decoding error: unknown field "spec.containers[0].bogus", unknown field "spec.alsoBogus"');
    const warn = await call(c, "POST", "/api/v1/namespaces/default/pods", { body });
    expect(warn.status).toBe(201);
    expect(warn.headers.warning).toContain('299 - "unknown field \\"spec.alsoBogus\\""');
    const ignore = await call(c, "PUT", "/api/v1/namespaces/default/pods/fv?fieldValidation=Ignore", { body: warn.json() });
    expect(ignore.status).toBe(200);
    expect(ignore.headers.warning).toBeUndefined();
    const patch = await call(c, "PATCH", "/api/v1/namespaces/default/pods/fv?fieldValidation=Strict", { body: { spec: { nope: 1, "$setElementOrder/containers": [] } }, contentType: "application/strategic-merge-patch+json" });
    expect(patch.status).toBe(400);
    expect(patch.json().message).toContain('"spec.nope"');
  });

  it("http api - a chunked body over the limit is 413 too", async () => {
    const { request } = await import("node:https");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(new URL("/api/v1/namespaces/default/pods", c.baseUrl), {
        method: "POST",
        ca: c.ca,
        headers: { authorization: `Bearer ${c.token}`, "content-type": "application/json", "transfer-encoding": "chunked" },
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(16 * 1024, 0x20));
      req.end();
    });
    expect(status).toBe(413);
    expect((await call(c, "GET", "/healthz")).status).toBe(200);
  });

  it("http api - unknown paths are 404 Status; wrong methods 405; a dryRun other than All is kube-apiserver's 422", async () => {
    for (const p of ["/nope", "/api/v2", "/api/v1/widgets", "/api/v1/namespaces/default/pods/x/shell", "/apis/batch/v2", "/apis/autoscaling/v2beta2", "/api/v1/namespaces/default/deployments", "/apis/batch/v1/namespaces/default/pods", "/apis/apps/v1/namespaces/default/pods"]) {
      const r = await call(c, "GET", p);
      expect(r.status, p).toBe(404);
      expect(r.json().kind).toBe("Status");
    }
    // The streaming subresources exist, but only on an upgrade (runtime/http/streaming.ts).
    const exec = await call(c, "GET", "/api/v1/namespaces/default/pods/x/exec?command=ls");
    expect(exec.status).toBe(400);
    expect(exec.json().message).toContain("Upgrade request required");
    expect((await call(c, "PUT", "/api/v1/namespaces/default/pods")).status).toBe(405);
    expect((await call(c, "POST", "/version")).status).toBe(405);
    const dry = await call(c, "POST", "/api/v1/namespaces/default/pods?dryRun=Some", { body: pod("dry") });
    expect(dry.status).toBe(422);
    expect(dry.json()).toMatchObject({ reason: "Invalid", message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"', details: { kind: "CreateOptions", group: "meta.k8s.io" } });
    const body = { kind: "DeleteOptions", apiVersion: "v1", dryRun: "All" };
    expect((await call(c, "DELETE", "/api/v1/namespaces/default/pods/x", { body })).json().message).toBe("dryRun of DeleteOptions must be a list of strings, got string");
  });
});
