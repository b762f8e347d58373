/**
 * `berth describe statefulset` and `berth describe pvc`: kubectl's describers — a StatefulSet's
 * replicas, update strategy and partition, the pods it controls by phase, its pod template and
 * its claim templates; a claim's class, phase, volume, finalizers, the bound volume's capacity and
 * access modes, and the pods that use it.
 */
import { describe, expect, it } from "vitest";
import { describeObject } from "../../../../runtime/cli/describe.ts";
import type { Event, PersistentVolumeClaim, Pod, StatefulSet } from "../../../../model/types.ts";

const now = Date.parse("2026-12-02T00:10:00Z");
const uid = "5e7a1b2c-0000-4000-8000-000000000001";

function statefulSet(extra: Partial<StatefulSet["spec"]> = {}, status?: StatefulSet["status"]): StatefulSet {
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: "web", namespace: "default", uid, creationTimestamp: "2026-12-02T00:00:00Z", labels: { app: "web" } },
    spec: {
      replicas: 3,
      serviceName: "web",
      selector: { matchLabels: { app: "web" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { containers: [{ name: "nginx", image: "nginx:1", volumeMounts: [{ name: "www", mountPath: "/usr/share/nginx/html" }] }] },
      },
      volumeClaimTemplates: [
        { metadata: { name: "www", labels: { tier: "data" } }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
        { metadata: { name: "logs", annotations: { note: "x" } }, spec: { accessModes: ["ReadWriteOnce", "ReadOnlyMany"], storageClassName: "local" } },
      ],
      ...extra,
    },
    ...(status ? { status } : {}),
  };
}

function pod(name: string, phase: "Running" | "Pending" | "Succeeded" | "Failed", owner: string | undefined, claim?: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name, namespace: "default", labels: { app: "web" },
      ...(owner ? { ownerReferences: [{ apiVersion: "apps/v1", kind: "StatefulSet", name: "web", uid: owner, controller: true }] } : {}),
    },
    spec: { containers: [{ name: "nginx", image: "nginx:1" }], ...(claim ? { volumes: [{ name: "www", persistentVolumeClaim: { claimName: claim } }] } : {}) },
    status: { phase },
  };
}

describe("describe statefulset", () => {
  it("kubectl's fields in kubectl's order: replicas desired and total, the strategy with its partition, pods by phase, the template, the claim templates, events", () => {
    const ev: Event = {
      apiVersion: "v1", kind: "Event", metadata: { name: "web.1", namespace: "default" },
      involvedObject: { kind: "StatefulSet", name: "web" }, type: "Normal", reason: "SuccessfulCreate", message: "create Pod web-0 in StatefulSet web successful",
      lastTimestamp: "2026-12-02T00:00:05Z", source: { component: "statefulset-controller" },
    };
    const pods = [pod("web-0", "Running", uid), pod("web-1", "Pending", uid), pod("web-2", "Failed", uid), pod("stray", "Running", undefined), pod("other", "Running", "someone-else")];
    const text = describeObject("statefulsets", statefulSet({}, { replicas: 2, readyReplicas: 1 }), [ev], now, { pods });
    const lines = text.split("\n");
    const keys = lines.filter((l) => /^[A-Z][A-Za-z ]+:/.test(l)).map((l) => l.split(":")[0]);
    expect(keys).toEqual(["Name", "Namespace", "CreationTimestamp", "Selector", "Labels", "Annotations", "Replicas", "Update Strategy", "Pods Status", "Pod Template", "Volume Claims", "Events"]);
    expect(text).toMatch(/^CreationTimestamp:\s+Wed, 02 Dec 2026 00:00:00 \+0000$/m);
    expect(text).toMatch(/^Selector:\s+app=web$/m);
    expect(text).toMatch(/^Replicas:\s+3 desired \| 2 total$/m);
    expect(text).toMatch(/^Update Strategy:\s+RollingUpdate\n {2}Partition:\s+1$/m);
    expect(text).toMatch(/^Pods Status:\s+1 Running \/ 1 Waiting \/ 0 Succeeded \/ 1 Failed$/m);
    expect(text).toMatch(/^ {4}Mounts:\s+\/usr\/share\/nginx\/html from www$/m);
    // Each claim template: its class as given (unset: the claim is given one when it is made), its capacity or <default>, modes as Go prints a list.
    expect(text).toContain("Volume Claims:\n");
    expect(text).toMatch(/^ {2}Name:\s+www\n {2}StorageClass:\s*\n {2}Labels:\s+tier=data\n {2}Annotations:\s+<none>\n {2}Capacity:\s+1Gi\n {2}Access Modes:\s+\[ReadWriteOnce\]$/m);
    expect(text).toMatch(/^ {2}Name:\s+logs\n {2}StorageClass:\s+local\n {2}Labels:\s+<none>\n {2}Annotations:\s+note=x\n {2}Capacity:\s+<default>\n {2}Access Modes:\s+\[ReadWriteOnce ReadOnlyMany\]$/m);
    expect(text).toMatch(/SuccessfulCreate\s+9m55s\s+statefulset-controller\s+create Pod web-0 in StatefulSet web successful/);
  });

  it("OnDelete has no partition line; no claim templates print <none>; no status counts 0 total", () => {
    const text = describeObject("statefulsets", statefulSet({ updateStrategy: { type: "OnDelete" }, volumeClaimTemplates: undefined }), [], now);
    expect(text).toMatch(/^Update Strategy:\s+OnDelete$/m);
    expect(text).not.toMatch(/Partition:/);
    expect(text).toMatch(/^Replicas:\s+3 desired \| 0 total$/m);
    expect(text).toMatch(/^Pods Status:\s+0 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed$/m);
    expect(text).toMatch(/^Volume Claims:\s+<none>$/m);
  });
});

describe("describe persistentvolumeclaim", () => {
  const claim = (extra: Partial<PersistentVolumeClaim> = {}, spec: Partial<PersistentVolumeClaim["spec"]> = {}): PersistentVolumeClaim => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "www-web-0", namespace: "default", labels: { app: "web" }, finalizers: ["kubernetes.io/pvc-protection"], creationTimestamp: "2026-12-02T00:00:00Z" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local", volumeMode: "Filesystem", ...spec },
    status: { phase: "Pending" },
    ...extra,
  });

  it("a pending claim: the class, Pending, no volume, its finalizers, no capacity or modes yet, and the pods using it", () => {
    const pods = [pod("web-1", "Pending", uid, "www-web-0"), pod("web-0", "Running", uid, "www-web-0"), pod("other", "Running", uid, "www-web-1")];
    const text = describeObject("persistentvolumeclaims", claim(), [], now, { pods });
    const keys = text.split("\n").filter((l) => /^[A-Z][A-Za-z ]+:/.test(l)).map((l) => l.split(":")[0]);
    expect(keys).toEqual(["Name", "Namespace", "StorageClass", "Status", "Volume", "Labels", "Annotations", "Finalizers", "Capacity", "Access Modes", "VolumeMode", "Used By", "Events"]);
    expect(text).toMatch(/^StorageClass:\s+local$/m);
    expect(text).toMatch(/^Status:\s+Pending$/m);
    expect(text).toMatch(/^Volume:\s*$/m);
    expect(text).toMatch(/^Finalizers:\s+\[kubernetes\.io\/pvc-protection\]$/m);
    expect(text).toMatch(/^Capacity:\s*$/m);
    expect(text).toMatch(/^Access Modes:\s*$/m);
    expect(text).toMatch(/^VolumeMode:\s+Filesystem$/m);
    // Sorted by name, one per line, as kubectl's printPodsMultiline.
    expect(text).toMatch(/^Used By:\s+web-0\n\s+web-1$/m);
    expect(text).toMatch(/^Events:\s+<none>$/m);
  });

  it("a bound claim shows the volume's capacity and access modes; a claim being deleted is Terminating; unused is <none>", () => {
    const bound = claim({ status: { phase: "Bound", capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"] } }, { volumeName: "pvc-1234" });
    const text = describeObject("persistentvolumeclaims", bound, [], now, { pods: [] });
    expect(text).toMatch(/^Status:\s+Bound$/m);
    expect(text).toMatch(/^Volume:\s+pvc-1234$/m);
    expect(text).toMatch(/^Capacity:\s+1Gi$/m);
    expect(text).toMatch(/^Access Modes:\s+RWO$/m);
    expect(text).toMatch(/^Used By:\s+<none>$/m);
    const going = claim({ metadata: { ...claim().metadata, deletionTimestamp: "2026-12-02T00:09:00Z" } });
    expect(describeObject("persistentvolumeclaims", going, [], now)).toMatch(/^Status:\s+Terminating \(lasts 60s\)$/m);
  });
});
