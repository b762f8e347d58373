/**
 * apps/v1 StatefulSets and core/v1 PersistentVolumeClaims as kubectl 1.32 users see them,
 * against the REST API: `kubectl apply -f` of a StatefulSet whose pods mount its claim template
 * (strict field validation accepts it, the API defaults it as Kubernetes), `get sts` with
 * kube-apiserver's columns, `scale`, `rollout status` (through kubectl's own status viewer, which
 * reads observedGeneration, the partition and the replica counts), `rollout restart`, `describe
 * sts`, `get all`; what an update may not change; and claims: `apply`, `get pvc`, binding by the
 * system (volumeName, then the status), resizing, `describe pvc` with the pods using it, deletion
 * held by the pvc-protection finalizer, the inputs refused with a 422 naming the field, and quota.
 *
 * No control plane runs here, so nothing depends on the StatefulSet controller or the claim
 * provisioner: the statuses the tables, describers and `rollout status` read are ones this test
 * writes itself, through the status subresource, as those controllers would. No Docker here.
 */
import { describe, expect, it } from "vitest";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import { waitFor } from "../helpers/api.ts";
import { describeCmd, getCmd } from "../../runtime/cli/verbs.ts";
import { extraCommands } from "../../runtime/cli/extra.ts";
import { parseArgs } from "../../runtime/cli/args.ts";
import type { ApiClient } from "../../model/client.ts";
import type { PersistentVolumeClaim, Pod, ResourceQuota, StatefulSet } from "../../model/types.ts";

const h = useRestHarness({}, 30_000);
const { ok, refused } = kubectlRunners(h, 60_000);

/** The manifest a user would apply: nginx with its document root on a claim made per pod. */
const manifest = (opts: { image?: string; storage?: string; replicas?: number; typo?: boolean } = {}) => `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
spec:
  serviceName: web
  replicas: ${opts.replicas ?? 3}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: ${opts.image ?? "berth/busybox:latest"}
        command: [sh, -c, "sleep 3600"]
        ports: [{name: http, containerPort: 80}]
        volumeMounts:
        - name: www
          mountPath: /usr/share/nginx/html
  volumeClaimTemplates:
  - metadata:
      name: www
    spec:
      accessModes: [ReadWriteOnce]${opts.typo ? "\n      storageClass: local" : ""}
      resources:
        requests:
          storage: ${opts.storage ?? "1Gi"}
`;

const claim = (name: string, spec = "accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}") => `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec:
  ${spec}
`;

/** Writes a StatefulSet's status through the status subresource, as its controller would. */
async function writeStatus(status: StatefulSet["status"]): Promise<void> {
  expect(await ok(["patch", "sts", "web", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })])).toBe("statefulset.apps/web patched\n");
}

describe.sequential("kubectl and apps/v1 StatefulSets (REST, no control plane)", () => {
  let uid = "";

  it("kubectl apply -f creates a StatefulSet whose pods mount its claim template, defaulted as Kubernetes does; a typo is an unknown field", async () => {
    expect(await ok(["apply", "-f", "-"], manifest())).toBe("service/web created\nstatefulset.apps/web created\n");
    const sts: StatefulSet = await h.test.api.get("statefulsets", "web", "default");
    uid = sts.metadata.uid!;
    expect(sts.metadata.generation).toBe(1);
    expect(sts.spec).toMatchObject({
      replicas: 3,
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    });
    expect(sts.spec.volumeClaimTemplates?.[0].spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, volumeMode: "Filesystem" });
    expect(sts.status).toEqual({ replicas: 0, availableReplicas: 0 });
    // Applied again: the claim templates are an atomic list the server defaults (volumeMode), so
    // kubectl sends them again and says "configured", as against Kubernetes; nothing changes.
    expect(await ok(["apply", "-f", "-"], manifest())).toBe("service/web unchanged\nstatefulset.apps/web configured\n");
    const again: StatefulSet = await h.test.api.get("statefulsets", "web", "default");
    expect(again.metadata.resourceVersion).toBe(sts.metadata.resourceVersion);
    expect(again.metadata.generation).toBe(1);

    const typo = await h.kubectl(["apply", "-f", "-"], { stdin: manifest({ typo: true }) });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/unknown field "spec\.volumeClaimTemplates\[0\]\.spec\.storageClass"/);
  });

  it("kubectl get sts prints NAME READY AGE from the status written through the status subresource; -o wide adds CONTAINERS IMAGES", async () => {
    await writeStatus({ observedGeneration: 1, replicas: 3, readyReplicas: 2, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 2, currentRevision: "web-5d8f7b9c4", updateRevision: "web-5d8f7b9c4" });
    const table = await ok(["get", "sts"]);
    expect(table).toMatch(/^NAME\s+READY\s+AGE\n/);
    expect(table).toMatch(/\nweb\s+2\/3\s+\d+s\n$/);
    const wide = await ok(["get", "statefulsets.apps", "web", "-o", "wide"]);
    expect(wide).toMatch(/^NAME\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\n/);
    expect(wide).toMatch(/\nweb\s+2\/3\s+\d+s\s+nginx\s+berth\/busybox:latest\n$/);
    expect(await ok(["get", "statefulset/web", "-o", "name"])).toBe("statefulset.apps/web\n");
    // A status with more ready than there are replicas stays the controller's business: the API takes it as written.
    expect((await h.test.api.get("statefulsets", "web", "default")).status?.readyReplicas).toBe(2);
  });

  it("kubectl scale sts goes through the scale subresource (autoscaling/v1 Scale with the selector); the NATS API's scale too", async () => {
    expect(await ok(["scale", "sts", "web", "--replicas=5"])).toBe("statefulset.apps/web scaled\n");
    const sts: StatefulSet = await h.test.api.get("statefulsets", "web", "default");
    expect(sts.spec.replicas).toBe(5);
    expect(sts.metadata.generation).toBe(2);
    const scale = JSON.parse(await ok(["get", "--raw", "/apis/apps/v1/namespaces/default/statefulsets/web/scale"]));
    expect(scale).toMatchObject({ apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web", namespace: "default" }, spec: { replicas: 5 }, status: { replicas: 3, selector: "app=web" } });
    expect(await h.test.remote.getScale("web", "default", "statefulsets")).toMatchObject({ spec: { replicas: 5 }, status: { replicas: 3, selector: "app=web" } });
    expect((await h.test.remote.updateScale("web", 4, "default", "statefulsets")).spec.replicas).toBe(4);
    // berth scale sts/NAME, over NATS.
    let said = "";
    const cmds = extraCommands([], (x) => void (said += x), () => {}, (async (_f: unknown, fn: (c: ApiClient) => Promise<unknown>) => fn(h.test.remote)) as never);
    await cmds.scale.run(parseArgs(["sts/web", "--replicas", "3"], cmds.scale.flags));
    expect(said).toBe("statefulset.apps/web scaled\n");
    expect((await h.test.api.get("statefulsets", "web", "default")).spec.replicas).toBe(3);
    await expect(cmds.scale.run(parseArgs(["ds/web", "--replicas", "3"], cmds.scale.flags))).rejects.toThrow(/only replicationcontrollers \(rc\), deployments \(deploy\), replicasets \(rs\) and statefulsets \(sts\) can be scaled/);
    expect(await ok(["scale", "sts/web", "--replicas=5"])).toBe("statefulset.apps/web scaled\n");
  });

  it("kubectl rollout status sts waits for the controller to observe the change and the pods to be ready, and reports the partitioned roll out", async () => {
    // The status still describes generation 1: kubectl's status viewer says so and, without --watch, returns at once.
    expect(await ok(["rollout", "status", "sts/web", "--watch=false"])).toBe("Waiting for statefulset spec update to be observed...\n");
    const generation = (await h.test.api.get("statefulsets", "web", "default")).metadata.generation!;
    expect(generation).toBeGreaterThan(1);
    await writeStatus({ observedGeneration: generation, replicas: 5, readyReplicas: 3, currentReplicas: 5, updatedReplicas: 5 });
    expect(await ok(["rollout", "status", "sts/web", "--watch=false"])).toBe("Waiting for 2 pods to be ready...\n");

    // A watching rollout status ends when the status says the roll out is done.
    const watching = h.spawnKubectl(["rollout", "status", "sts/web", "--timeout=60s"]);
    let out = "";
    watching.stdout!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => watching.on("close", resolve));
    await waitFor(() => out.includes("Waiting for 2 pods to be ready..."), "kubectl rollout status to be watching", 30_000);
    await writeStatus({ observedGeneration: generation, replicas: 5, readyReplicas: 5, currentReplicas: 5, updatedReplicas: 5, availableReplicas: 5, currentRevision: "web-5d8f7b9c4", updateRevision: "web-5d8f7b9c4" });
    expect(await exited).toBe(0);
    // With a partition (0, defaulted), kubectl reports a partitioned roll out, as against Kubernetes.
    expect(out).toMatch(/partitioned roll out complete: 5 new pods have been updated\.\.\.\n$/);
  }, 60_000);

  it("kubectl rollout restart sts patches the template's restartedAt annotation", async () => {
    const before = (await h.test.api.get("statefulsets", "web", "default")).metadata.generation!;
    expect(await ok(["rollout", "restart", "sts/web"])).toBe("statefulset.apps/web restarted\n");
    const sts: StatefulSet = await h.test.api.get("statefulsets", "web", "default");
    expect(sts.spec.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(sts.metadata.generation).toBe(before + 1);
    // Rollout history and undo need the controller's revisions: test/integration/statefulsets_history_kubectl.test.ts.
  });

  it("an update may change replicas, the template and the strategy, nothing else: kube-apiserver's message", async () => {
    expect(await ok(["apply", "-f", "-"], manifest({ image: "berth/busybox:v2", replicas: 5 }))).toBe("service/web unchanged\nstatefulset.apps/web configured\n");
    const applied: StatefulSet = await h.test.api.get("statefulsets", "web", "default");
    expect(applied.spec.template.spec.containers[0].image).toBe("berth/busybox:v2");
    // kubectl's three-way merge kept the annotation rollout restart added.
    expect(applied.spec.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"]).toBeDefined();
    const forbidden = "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
    expect(await refused(["apply", "-f", "-"], manifest({ image: "berth/busybox:v2", replicas: 5, storage: "2Gi" }))).toContain(`The StatefulSet "web" is invalid: ${forbidden}`);
    expect(await refused(["patch", "sts", "web", "--type=merge", "-p", '{"spec":{"serviceName":"other"}}'])).toContain(forbidden);
    expect(await refused(["patch", "sts", "web", "--type=merge", "-p", '{"spec":{"selector":{"matchLabels":{"app":"web","tier":"x"}},"template":{"metadata":{"labels":{"app":"web","tier":"x"}}}}}'])).toContain(forbidden);
    expect(await refused(["patch", "sts", "web", "--type=merge", "-p", '{"spec":{"updateStrategy":{"type":"OnDelete"}}}']))
      .toMatch(/spec\.updateStrategy\.rollingUpdate: Invalid value: .*: only allowed for updateStrategy 'RollingUpdate'/);
    expect(await ok(["patch", "sts", "web", "--type=merge", "-p", '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null},"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"},"minReadySeconds":3}}']))
      .toBe("statefulset.apps/web patched\n");
    expect((await h.test.api.get("statefulsets", "web", "default")).spec).toMatchObject({ updateStrategy: { type: "OnDelete" }, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Delete" }, minReadySeconds: 3 });
    // rollout status is for RollingUpdate only, as kubectl says.
    expect(await refused(["rollout", "status", "sts/web", "--watch=false"])).toMatch(/rollout status is only available for RollingUpdate strategy type/);
  });

  it("kubectl describe sts (and berth describe sts) show replicas, the strategy, the pods it controls by phase, the template and the claim templates", async () => {
    const pod = (name: string, owned: boolean): Pod => ({
      apiVersion: "v1", kind: "Pod",
      metadata: {
        name, namespace: "default", labels: { app: "web" },
        ...(owned ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid, controller: true, blockOwnerDeletion: true }] } : {}),
      },
      spec: { hostname: name, subdomain: "web", containers: [{ name: "nginx", image: "berth/busybox:v2" }], volumes: [{ name: "www", persistentVolumeClaim: { claimName: `www-${name}` } }] },
    });
    const web0 = await h.test.api.create("pods", pod("web-0", true));
    await h.test.api.updateStatus("pods", { ...web0, status: { phase: "Running" } });
    await h.test.api.create("pods", pod("web-1", true));
    await h.test.api.create("pods", pod("stray", false));

    const text = await ok(["describe", "sts", "web"]);
    expect(text).toMatch(/^Name:\s+web$/m);
    expect(text).toMatch(/^Selector:\s+app=web$/m);
    expect(text).toMatch(/^Replicas:\s+5 desired \| 5 total$/m);
    expect(text).toMatch(/^Update Strategy:\s+OnDelete$/m);
    expect(text).toMatch(/^Pods Status:\s+1 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^ {4}Mounts:\s+\/usr\/share\/nginx\/html from www \(rw\)$/m);
    expect(text).toMatch(/^Volume Claims:\n {2}Name:\s+www\n {2}StorageClass:\s*\n {2}Labels:\s+<none>\n {2}Annotations:\s+<none>\n {2}Capacity:\s+1Gi\n {2}Access Modes:\s+\[ReadWriteOnce\]$/m);

    let out = "";
    await describeCmd(h.test.remote, ["sts", "web"], {}, (x) => (out += x));
    expect(out).toMatch(/^Replicas:\s+5 desired \| 5 total$/m);
    expect(out).toMatch(/^Pods Status:\s+1 Running \/ 1 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(out).toMatch(/^Volume Claims:\n {2}Name:\s+www\n/m);
  });

  it("kubectl get all (and berth get all) list the statefulset after the pods and services; claims are not in the category", async () => {
    await ok(["apply", "-f", "-"], claim("scratch"));
    const all = await ok(["get", "all"]);
    expect(all).toMatch(/^NAME\s+READY\s+AGE\n/m);
    expect(all).toMatch(/^statefulset\.apps\/web\s+5\/5\s+/m);
    expect(all.indexOf("service/web")).toBeLessThan(all.indexOf("statefulset.apps/web"));
    expect(all).not.toContain("persistentvolumeclaim");
    let out = "";
    await getCmd(h.test.remote, ["all"], {}, (x) => (out += x));
    expect(out).toMatch(/^statefulset\.apps\/web\s+5\/5\s+/m);
    // Its pvc-protection finalizer holds it until taken off (as the protection controller would).
    await ok(["delete", "pvc", "scratch", "--wait=false"]);
    await ok(["patch", "pvc", "scratch", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]']);
    expect(await ok(["get", "pvc", "-o", "name"])).toBe("");
  });

  it("kubectl delete sts removes it", async () => {
    expect(await ok(["delete", "sts", "web"])).toBe('statefulset.apps "web" deleted\n');
    expect(await ok(["get", "sts", "-o", "name"])).toBe("");
  });
});

describe.sequential("kubectl and core/v1 PersistentVolumeClaims (REST, no control plane)", () => {
  let uid = "";

  it("kubectl apply -f creates a claim: class local, Filesystem, the pvc-protection finalizer, Pending; get pvc prints kube-apiserver's columns", async () => {
    expect(await ok(["apply", "-f", "-"], claim("data"))).toBe("persistentvolumeclaim/data created\n");
    const pvc: PersistentVolumeClaim = await h.test.api.get("persistentvolumeclaims", "data", "default");
    uid = pvc.metadata.uid!;
    expect(pvc.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local", volumeMode: "Filesystem" });
    expect(pvc.metadata.finalizers).toEqual(["kubernetes.io/pvc-protection"]);
    expect(pvc.status).toEqual({ phase: "Pending" });
    expect(await ok(["apply", "-f", "-"], claim("data"))).toBe("persistentvolumeclaim/data unchanged\n");

    const table = await ok(["get", "pvc"]);
    expect(table).toMatch(/^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\n/);
    expect(table).toMatch(/\ndata\s+Pending\s+local\s+<unset>\s+\d+s\n$/);
    expect(await ok(["get", "pvc", "data", "-o", "wide"])).toMatch(/VOLUMEMODE\ndata\s+Pending\s+local\s+<unset>\s+\d+s\s+Filesystem\n$/);
    expect(await ok(["get", "persistentvolumeclaim/data", "-o", "name"])).toBe("persistentvolumeclaim/data\n");
    expect(await ok(["get", "pvc", "--field-selector", "metadata.name=data", "-o", "name"])).toBe("persistentvolumeclaim/data\n");
  });

  it("the system binds it (volumeName once, then the status); get pvc then shows the volume, its capacity and access modes", async () => {
    expect(await ok(["patch", "pvc", "data", "--type=merge", "-p", JSON.stringify({ spec: { volumeName: `pvc-${uid}` } })])).toBe("persistentvolumeclaim/data patched\n");
    const status = { phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] };
    expect(await ok(["patch", "pvc", "data", "--subresource=status", "--type=merge", "-p", JSON.stringify({ status })])).toBe("persistentvolumeclaim/data patched\n");
    expect(await ok(["get", "pvc", "data", "--no-headers"])).toMatch(new RegExp(`^data\\s+Bound\\s+pvc-${uid}\\s+1Gi\\s+RWO\\s+local\\s+<unset>\\s+\\d+s\\n$`));
    // Once bound, the volume is fixed.
    expect(await refused(["patch", "pvc", "data", "--type=merge", "-p", '{"spec":{"volumeName":"pvc-other"}}']))
      .toContain('The PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims');
  });

  it("a bound claim's storage request may grow, not shrink; the rest of its spec is fixed", async () => {
    expect(await ok(["patch", "pvc", "data", "--type=merge", "-p", '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'])).toBe("persistentvolumeclaim/data patched\n");
    expect(await refused(["patch", "pvc", "data", "--type=merge", "-p", '{"spec":{"resources":{"requests":{"storage":"1Gi"}}}}']))
      .toContain("spec.resources.requests.storage: Forbidden: field can not be less than previous value");
    expect(await refused(["patch", "pvc", "data", "--type=merge", "-p", '{"spec":{"accessModes":["ReadWriteMany"]}}']))
      .toContain("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
  });

  it("kubectl describe pvc (and berth describe pvc) show the class, status, volume, finalizers, capacity, modes, the pods using it and its events", async () => {
    await h.test.api.create("pods", {
      apiVersion: "v1", kind: "Pod", metadata: { name: "db-0", namespace: "default" },
      spec: { containers: [{ name: "db", image: "berth/busybox" }], volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }] },
    });
    await h.test.api.create("events", {
      apiVersion: "v1", kind: "Event", metadata: { name: "data.1", namespace: "default" },
      involvedObject: { apiVersion: "v1", kind: "PersistentVolumeClaim", name: "data", namespace: "default", uid },
      type: "Normal", reason: "ProvisioningSucceeded", message: `Successfully provisioned volume pvc-${uid}`, source: { component: "berth-local-provisioner" },
    });
    const text = await ok(["describe", "pvc", "data"]);
    expect(text).toMatch(/^Name:\s+data$/m);
    expect(text).toMatch(/^StorageClass:\s+local$/m);
    expect(text).toMatch(/^Status:\s+Bound$/m);
    expect(text).toMatch(new RegExp(`^Volume:\\s+pvc-${uid}$`, "m"));
    expect(text).toMatch(/^Finalizers:\s+\[kubernetes\.io\/pvc-protection\]$/m);
    expect(text).toMatch(/^Capacity:\s+1Gi$/m);
    expect(text).toMatch(/^Access Modes:\s+RWO$/m);
    expect(text).toMatch(/^VolumeMode:\s+Filesystem$/m);
    expect(text).toMatch(/^Used By:\s+db-0$/m);
    expect(text).toMatch(/Normal\s+ProvisioningSucceeded\s+.*Successfully provisioned volume/);

    let out = "";
    await describeCmd(h.test.remote, ["pvc", "data"], {}, (x) => (out += x));
    expect(out).toMatch(/^Status:\s+Bound$/m);
    expect(out).toMatch(/^Used By:\s+db-0$/m);
    expect(out).toMatch(/ProvisioningSucceeded/);
  });

  it("a claim is refused with a 422 naming the field: no access mode, no or zero storage, a class other than local, Block, a volumeName, what Berth does not serve", async () => {
    const invalid = async (name: string, spec: string, pattern: RegExp) => {
      const stderr = await refused(["apply", "-f", "-"], claim(name, spec));
      expect(stderr).not.toMatch(/unknown field/);
      expect(stderr).toMatch(new RegExp(`The PersistentVolumeClaim "${name}" is invalid: `));
      expect(stderr).toMatch(pattern);
    };
    await invalid("no-modes", "resources: {requests: {storage: 1Gi}}", /spec\.accessModes: Required value: at least 1 access mode is required/);
    await invalid("no-storage", "accessModes: [ReadWriteOnce]", /spec\.resources\[storage\]: Required value/);
    await invalid("zero", "accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: \"0\"}}", /spec\.resources\[storage\]: Invalid value: "0": must be greater than zero/);
    await invalid("rwop", "accessModes: [ReadWriteOncePod, ReadWriteOnce]\n  resources: {requests: {storage: 1Gi}}", /spec\.accessModes: Forbidden: may not use ReadWriteOncePod with other access modes/);
    await invalid("fast", "accessModes: [ReadWriteOnce]\n  storageClassName: fast\n  resources: {requests: {storage: 1Gi}}", /spec\.storageClassName: Unsupported value: "fast": supported values: "local"/);
    await invalid("block", "accessModes: [ReadWriteOnce]\n  volumeMode: Block\n  resources: {requests: {storage: 1Gi}}", /spec\.volumeMode: Unsupported value: "Block": supported values: "Filesystem"/);
    await invalid("prebound", "accessModes: [ReadWriteOnce]\n  volumeName: pv-1\n  resources: {requests: {storage: 1Gi}}", /spec\.volumeName: Forbidden: not supported by Berth/);
    await invalid("picky", "accessModes: [ReadWriteOnce]\n  selector: {matchLabels: {disk: ssd}}\n  resources: {requests: {storage: 1Gi}}", /spec\.selector: Forbidden: not supported by Berth/);
    await invalid("cloned", "accessModes: [ReadWriteOnce]\n  dataSource: {kind: PersistentVolumeClaim, name: data}\n  resources: {requests: {storage: 1Gi}}", /spec\.dataSource: Forbidden: not supported by Berth/);
    expect(await ok(["get", "pvc", "-o", "name"])).toBe("persistentvolumeclaim/data\n");
  });

  it("a StatefulSet whose claim template asks for another class is refused at once, naming the template", async () => {
    const stderr = await refused(["apply", "-f", "-"], manifest().replace("accessModes: [ReadWriteOnce]", "accessModes: [ReadWriteOnce]\n      storageClassName: fast"));
    expect(stderr).toMatch(/The StatefulSet "web" is invalid: spec\.volumeClaimTemplates\[0\]\.spec\.storageClassName: Unsupported value: "fast": supported values: "local"/);
  });

  it("deleting a claim in use only marks it (the pvc-protection finalizer holds it, Terminating); it goes when the finalizer is taken off", async () => {
    expect(await ok(["delete", "pvc", "data", "--wait=false"])).toBe('persistentvolumeclaim "data" deleted\n');
    const marked: PersistentVolumeClaim = await h.test.api.get("persistentvolumeclaims", "data", "default");
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    expect(await ok(["get", "pvc", "data", "--no-headers"])).toMatch(/^data\s+Terminating\s+/);
    expect(await ok(["describe", "pvc", "data"])).toMatch(/^Status:\s+Terminating \(lasts \d+s\)$/m);
    // What kube-controller-manager's pvc-protection controller does once no pod uses the claim.
    await h.test.api.delete("pods", "db-0", "default", { gracePeriodSeconds: 0 });
    expect(await ok(["patch", "pvc", "data", "--type=json", "-p", '[{"op":"remove","path":"/metadata/finalizers"}]'])).toBe("persistentvolumeclaim/data patched\n");
    expect(await ok(["get", "pvc", "data", "--ignore-not-found"])).toBe("");
  });

  it("quota: claims count as persistentvolumeclaims and requests.storage (growth included), statefulsets as count/statefulsets.apps", async () => {
    await ok(["create", "namespace", "quota-test"]);
    await ok(["create", "quota", "storage", "-n", "quota-test", "--hard=persistentvolumeclaims=2,requests.storage=3Gi,count/statefulsets.apps=1"]);
    expect(await ok(["apply", "-n", "quota-test", "-f", "-"], claim("a"))).toBe("persistentvolumeclaim/a created\n");
    expect(await refused(["apply", "-n", "quota-test", "-f", "-"], claim("b", "accessModes: [ReadWriteOnce]\n  resources: {requests: {storage: 3Gi}}")))
      .toMatch(/persistentvolumeclaims "b" is forbidden: exceeded quota: storage, requested: requests\.storage=3Gi, used: requests\.storage=1Gi, limited: requests\.storage=3Gi/);
    expect(await ok(["apply", "-n", "quota-test", "-f", "-"], claim("b"))).toBe("persistentvolumeclaim/b created\n");
    expect(await refused(["apply", "-n", "quota-test", "-f", "-"], claim("c")))
      .toMatch(/exceeded quota: storage, requested: persistentvolumeclaims=1, used: persistentvolumeclaims=2, limited: persistentvolumeclaims=2/);
    const q: ResourceQuota = await h.test.api.get("resourcequotas", "storage", "quota-test");
    expect(q.status?.used).toMatchObject({ persistentvolumeclaims: "2", "requests.storage": "2Gi" });

    // A bound claim grown past the quota is refused; within it, charged.
    for (const name of ["a", "b"]) {
      await ok(["patch", "pvc", name, "-n", "quota-test", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Bound","capacity":{"storage":"1Gi"}}}']);
    }
    expect(await refused(["patch", "pvc", "a", "-n", "quota-test", "--type=merge", "-p", '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}']))
      .toMatch(/exceeded quota: storage, requested: requests\.storage=2Gi, used: requests\.storage=2Gi, limited: requests\.storage=3Gi/);
    expect(await ok(["patch", "pvc", "a", "-n", "quota-test", "--type=merge", "-p", '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}'])).toBe("persistentvolumeclaim/a patched\n");
    expect((await h.test.api.get("resourcequotas", "storage", "quota-test")).status?.used).toMatchObject({ "requests.storage": "3Gi" });

    const sts = manifest().split("---\n")[1];
    expect(await ok(["apply", "-n", "quota-test", "-f", "-"], sts)).toBe("statefulset.apps/web created\n");
    expect(await refused(["apply", "-n", "quota-test", "-f", "-"], sts.replace("name: web\nspec:", "name: web2\nspec:")))
      .toMatch(/exceeded quota: storage, requested: count\/statefulsets\.apps=1, used: count\/statefulsets\.apps=1, limited: count\/statefulsets\.apps=1/);
  });
});
