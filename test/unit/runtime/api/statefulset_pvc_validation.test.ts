/**
 * core/v1 PersistentVolumeClaims and apps/v1 StatefulSets at the API's edge: validation in
 * kube-apiserver's words (field paths and cause reasons), what Berth does not serve refused by name,
 * the defaults Kubernetes applies, what an update may change, the quota a claim costs and the
 * admission of a StatefulSet's pod template.
 */
import { describe, expect, it } from "vitest";
import { causesOf, expectCause } from "../../../helpers/validation_causes.ts";
import type { PersistentVolumeClaim, StatefulSet } from "../../../../model/types.ts";
import { validate } from "../../../../runtime/api/validation.ts";
import { applyDefaults } from "../../../../runtime/api/defaults.ts";
import { pvcCreateProblems, pvcUpdateProblems, statefulSetUpdateProblems } from "../../../../runtime/api/validation_rules.ts";
import { isQuotaName, quotaNames, resourcesFor, totalUsage, usageOf, formatUsage, parseUsage } from "../../../../model/quota.ts";
import { checkAdmission, DEFAULT_POLICY } from "../../../../runtime/security/admission.ts";

/** The causes `validate` reports, or [] when it accepts the object. */


const claimSpec = (extra: Record<string, unknown> = {}) => ({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, ...extra });
const pvc = (spec: Record<string, unknown> = claimSpec(), name = "data") => ({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name }, spec });

const sts = (spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "web" },
  spec: {
    serviceName: "web",
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "nginx", image: "berth/busybox", volumeMounts: [{ name: "www", mountPath: "/usr/share/www" }] }], ...podSpec },
    },
    volumeClaimTemplates: [{ metadata: { name: "www" }, spec: claimSpec() }],
    ...spec,
  },
});

describe("persistentvolumeclaims - validation", () => {
  it("a claim with an access mode and a storage request is accepted, with the class Berth provisions or none", () => {
    expect(causesOf("persistentvolumeclaims", pvc())).toEqual([]);
    expect(causesOf("persistentvolumeclaims", pvc(claimSpec({ storageClassName: "local", volumeMode: "Filesystem", accessModes: ["ReadWriteOncePod"] })))).toEqual([]);
    expect(causesOf("persistentvolumeclaims", pvc(claimSpec({ resources: { requests: { storage: 1073741824 }, limits: { storage: "2Gi" } } })))).toEqual([]);
  });

  it("at least one access mode is required, a mode must be known, and ReadWriteOncePod goes alone", () => {
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ accessModes: undefined }))), "spec.accessModes", "FieldValueRequired", "Required value: at least 1 access mode is required");
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ accessModes: [] }))), "spec.accessModes", "FieldValueRequired", "Required value: at least 1 access mode is required");
    expectCause(
      causesOf("persistentvolumeclaims", pvc(claimSpec({ accessModes: ["ReadWriteAll"] }))),
      "spec.accessModes", "FieldValueNotSupported",
      'Unsupported value: "ReadWriteAll": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
    );
    expectCause(
      causesOf("persistentvolumeclaims", pvc(claimSpec({ accessModes: ["ReadWriteOncePod", "ReadOnlyMany"] }))),
      "spec.accessModes", "FieldValueForbidden", "Forbidden: may not use ReadWriteOncePod with other access modes",
    );
  });

  it("the storage request is required and above zero, named as Kubernetes names it (spec.resources[storage])", () => {
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ resources: {} }))), "spec.resources[storage]", "FieldValueRequired", "Required value");
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ resources: { requests: { cpu: "1" } } }))), "spec.resources[storage]", "FieldValueRequired");
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ resources: { requests: { storage: "0" } } }))), "spec.resources[storage]", "FieldValueInvalid", 'Invalid value: "0": must be greater than zero');
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ resources: { requests: { storage: "lots" } } }))), "spec.resources.requests", "FieldValueInvalid");
  });

  it("a storage class other than local is refused, the empty one included, rather than left Pending forever", () => {
    for (const cls of ["fast", ""]) {
      expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ storageClassName: cls }))), "spec.storageClassName", "FieldValueNotSupported", `Unsupported value: "${cls}": supported values: "local"`);
    }
  });

  it("Block volumes and the parts of a claim Berth does not serve are refused by name", () => {
    expectCause(causesOf("persistentvolumeclaims", pvc(claimSpec({ volumeMode: "Block" }))), "spec.volumeMode", "FieldValueNotSupported", /^Unsupported value: "Block": supported values: "Filesystem"/);
    const causes = causesOf("persistentvolumeclaims", pvc(claimSpec({
      selector: { matchLabels: { disk: "ssd" } },
      dataSource: { kind: "PersistentVolumeClaim", name: "other" },
      dataSourceRef: { kind: "PersistentVolumeClaim", name: "other" },
      volumeAttributesClassName: "gold",
    })));
    for (const f of ["selector", "dataSource", "dataSourceRef", "volumeAttributesClassName"]) expectCause(causes, `spec.${f}`, "FieldValueForbidden", /^Forbidden: not supported by Berth \(/);
    expect(causes).toHaveLength(4);
  });

  it("a volumeName is refused at create (no PersistentVolumes to bind to in advance), not by validation, which updates also pass", () => {
    const withName = pvc(claimSpec({ volumeName: "pv-1" }));
    expect(causesOf("persistentvolumeclaims", withName)).toEqual([]);
    const problems = pvcCreateProblems(validate("persistentvolumeclaims", withName));
    expect(problems).toEqual([expect.objectContaining({ field: "spec.volumeName", reason: "FieldValueForbidden" })]);
    expect(problems[0].message).toMatch(/^Forbidden: not supported by Berth/);
    expect(pvcCreateProblems(validate("persistentvolumeclaims", pvc()))).toEqual([]);
  });
});

describe("persistentvolumeclaims - defaults and updates", () => {
  it("the class defaults to local and the volume mode to Filesystem; a class given is kept", () => {
    const out = applyDefaults("persistentvolumeclaims", validate("persistentvolumeclaims", pvc()));
    expect(out.spec.storageClassName).toBe("local");
    expect(out.spec.volumeMode).toBe("Filesystem");
    expect(applyDefaults("persistentvolumeclaims", validate("persistentvolumeclaims", pvc(claimSpec({ storageClassName: "local" })))).spec.storageClassName).toBe("local");
  });

  const stored = (status: PersistentVolumeClaim["status"] = { phase: "Pending" }, spec: Partial<PersistentVolumeClaim["spec"]> = {}): PersistentVolumeClaim => ({
    apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: "default" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "local", volumeMode: "Filesystem", ...spec },
    status,
  });
  const withSpec = (p: PersistentVolumeClaim, spec: Partial<PersistentVolumeClaim["spec"]>): PersistentVolumeClaim => ({ ...p, spec: { ...p.spec, ...spec } });
  const IMMUTABLE = "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims";

  it("the system binds a claim by setting its volumeName once; after that it is fixed", () => {
    const pending = stored();
    expect(pvcUpdateProblems(pending, withSpec(pending, { volumeName: "pvc-1234" }))).toEqual([]);
    const bound = stored({ phase: "Bound" }, { volumeName: "pvc-1234" });
    expect(pvcUpdateProblems(bound, withSpec(bound, { volumeName: "pvc-9999" }))).toEqual([{ reason: "FieldValueForbidden", field: "spec", message: IMMUTABLE }]);
  });

  it("a bound claim's storage request may grow, never shrink; the rest of the spec is fixed", () => {
    const bound = stored({ phase: "Bound", capacity: { storage: "1Gi" } }, { volumeName: "pvc-1234" });
    expect(pvcUpdateProblems(bound, withSpec(bound, { resources: { requests: { storage: "2Gi" } } }))).toEqual([]);
    // The same size written another way is no change.
    expect(pvcUpdateProblems(bound, withSpec(bound, { resources: { requests: { storage: "1024Mi" } } }))).toEqual([]);
    expect(pvcUpdateProblems(bound, withSpec(bound, { resources: { requests: { storage: "512Mi" } } }))).toEqual([
      { reason: "FieldValueForbidden", field: "spec.resources.requests.storage", message: "Forbidden: field can not be less than previous value" },
    ]);
    expect(pvcUpdateProblems(bound, withSpec(bound, { accessModes: ["ReadWriteMany"] }))).toEqual([{ reason: "FieldValueForbidden", field: "spec", message: IMMUTABLE }]);
    expect(pvcUpdateProblems(bound, withSpec(bound, { resources: { requests: { storage: "1Gi" }, limits: { storage: "2Gi" } } }))).toEqual([{ reason: "FieldValueForbidden", field: "spec", message: IMMUTABLE }]);
  });

  it("as in Kubernetes, a claim not yet bound cannot be resized (its request is part of the fixed spec until then)", () => {
    const pending = stored();
    expect(pvcUpdateProblems(pending, withSpec(pending, { resources: { requests: { storage: "2Gi" } } }))).toEqual([{ reason: "FieldValueForbidden", field: "spec", message: IMMUTABLE }]);
  });
});

describe("statefulsets - validation", () => {
  it("a StatefulSet whose template mounts its claim template is accepted; a Deployment may not mount a volume it does not declare", () => {
    expect(causesOf("statefulsets", sts())).toEqual([]);
    const deploy = { ...sts(), kind: "Deployment" };
    delete (deploy.spec as Record<string, unknown>).volumeClaimTemplates;
    expectCause(causesOf("deployments", deploy), "spec.template.spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", 'Not found: "www"');
    // A mount naming neither a volume nor a claim template is still refused.
    const stray = sts({}, { containers: [{ name: "nginx", image: "berth/busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }] });
    expectCause(causesOf("statefulsets", stray), "spec.template.spec.containers[0].volumeMounts[0].name", "FieldValueNotFound", 'Not found: "logs"');
  });

  it("a template volume named as a claim template is not refused, as Kubernetes does not (the claim's volume takes its place)", () => {
    expect(causesOf("statefulsets", sts({}, { volumes: [{ name: "www", emptyDir: {} }] }))).toEqual([]);
  });

  it("the selector is required, non-empty and matches the template; the pods keep running", () => {
    expectCause(causesOf("statefulsets", sts({ selector: undefined })), "spec.selector", "FieldValueRequired");
    expectCause(causesOf("statefulsets", sts({ selector: {} })), "spec.selector", "FieldValueInvalid", /empty selector is invalid for statefulset$/);
    expectCause(causesOf("statefulsets", sts({ selector: { matchLabels: { app: "db" } } })), "spec.template.metadata.labels", "FieldValueInvalid", /`selector` does not match template `labels`$/);
    expectCause(causesOf("statefulsets", sts({}, { restartPolicy: "OnFailure" })), "spec.template.spec.restartPolicy", "FieldValueNotSupported", 'Unsupported value: "OnFailure": supported values: "Always"');
    expectCause(causesOf("statefulsets", sts({}, { activeDeadlineSeconds: 10 })), "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden", "Forbidden: activeDeadlineSeconds in StatefulSet is not Supported");
  });

  it("serviceName is optional, and a DNS label when set; the set's own name is a DNS label", () => {
    expect(causesOf("statefulsets", sts({ serviceName: undefined }))).toEqual([]);
    expect(causesOf("statefulsets", sts({ serviceName: "" }))).toEqual([]);
    expectCause(causesOf("statefulsets", sts({ serviceName: "web.svc" })), "spec.serviceName", "FieldValueInvalid", /^Invalid value: "web.svc": a lowercase RFC 1123 label/);
    expectCause(causesOf("statefulsets", { ...sts(), metadata: { name: "web.v1" } }), "metadata.name", "FieldValueInvalid", /RFC 1123 label/);
  });

  it("the policies Kubernetes knows, in its words", () => {
    expectCause(causesOf("statefulsets", sts({ podManagementPolicy: "AllAtOnce" })), "spec.podManagementPolicy", "FieldValueInvalid", `Invalid value: "AllAtOnce": must be 'OrderedReady' or 'Parallel'`);
    expectCause(causesOf("statefulsets", sts({ updateStrategy: { type: "Recreate" } })), "spec.updateStrategy", "FieldValueInvalid", /must be 'RollingUpdate' or 'OnDelete'$/);
    expectCause(
      causesOf("statefulsets", sts({ updateStrategy: { type: "OnDelete", rollingUpdate: { partition: 1 } } })),
      "spec.updateStrategy.rollingUpdate", "FieldValueInvalid", `Invalid value: {"partition":1}: only allowed for updateStrategy 'RollingUpdate'`,
    );
    expect(causesOf("statefulsets", sts({ updateStrategy: { type: "OnDelete" } }))).toEqual([]);
    expect(causesOf("statefulsets", sts({ updateStrategy: { rollingUpdate: { partition: 2 } }, podManagementPolicy: "Parallel" }))).toEqual([]);
    expectCause(causesOf("statefulsets", sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: -1 } } })), "spec.updateStrategy.rollingUpdate.partition", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    expectCause(causesOf("statefulsets", sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 2 } } })), "spec.updateStrategy.rollingUpdate.maxUnavailable", "FieldValueForbidden", /^Forbidden: not supported by Berth/);
    expectCause(causesOf("statefulsets", sts({ ordinals: { start: -1 } })), "spec.ordinals.start", "FieldValueInvalid", "Invalid value: -1: must be greater than or equal to 0");
    expect(causesOf("statefulsets", sts({ ordinals: { start: 5 }, persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Retain" } }))).toEqual([]);
    expectCause(
      causesOf("statefulsets", sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: "Keep" } })),
      "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "FieldValueNotSupported", 'Unsupported value: "Keep": supported values: "Retain", "Delete"',
    );
    expectCause(causesOf("statefulsets", sts({ replicas: -1 })), "spec.replicas", "FieldValueInvalid");
  });

  it("claim templates have unique names, each a valid claim (a class other than local refused; none is fine: the claim gets it)", () => {
    const causes = causesOf("statefulsets", sts({
      volumeClaimTemplates: [
        { metadata: { name: "www" }, spec: claimSpec() },
        { metadata: { name: "www" }, spec: claimSpec({ accessModes: [], storageClassName: "fast" }) },
        { metadata: {}, spec: claimSpec({ resources: {}, volumeName: "pv-1", volumeMode: "Block" }) },
        { metadata: { name: "db.data" }, spec: claimSpec() },
      ],
    }));
    expectCause(causes, "spec.volumeClaimTemplates[1].metadata.name", "FieldValueDuplicate", 'Duplicate value: "www"');
    expectCause(causes, "spec.volumeClaimTemplates[1].spec.accessModes", "FieldValueRequired", "Required value: at least 1 access mode is required");
    expectCause(causes, "spec.volumeClaimTemplates[1].spec.storageClassName", "FieldValueNotSupported", 'Unsupported value: "fast": supported values: "local"');
    expectCause(causes, "spec.volumeClaimTemplates[2].metadata.name", "FieldValueRequired");
    expectCause(causes, "spec.volumeClaimTemplates[2].spec.resources[storage]", "FieldValueRequired");
    expectCause(causes, "spec.volumeClaimTemplates[2].spec.volumeName", "FieldValueForbidden", /^Forbidden: not supported by Berth/);
    expectCause(causes, "spec.volumeClaimTemplates[2].spec.volumeMode", "FieldValueNotSupported");
    // The template's name is also the pod volume's: a DNS label.
    expectCause(causes, "spec.volumeClaimTemplates[3].metadata.name", "FieldValueInvalid", /RFC 1123 label/);
  });
});

describe("statefulsets - defaults and updates", () => {
  it("defaults as Kubernetes: one replica, OrderedReady, RollingUpdate from partition 0, history 10, claims retained, Filesystem claims", () => {
    const out = applyDefaults("statefulsets", validate("statefulsets", sts()));
    expect(out.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } },
      revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
    });
    expect(out.spec.volumeClaimTemplates?.[0].spec).toEqual({ ...claimSpec(), volumeMode: "Filesystem" });
    // The claim template's class is left for the claim's own defaults.
    expect(out.spec.volumeClaimTemplates?.[0].spec.storageClassName).toBeUndefined();
    expect(out.spec.template.spec).toMatchObject({ restartPolicy: "Always", terminationGracePeriodSeconds: 30, dnsPolicy: "ClusterFirst" });
    // An explicit type keeps what was given: no rollingUpdate is made for it (Kubernetes' defaulting).
    expect(applyDefaults("statefulsets", validate("statefulsets", sts({ updateStrategy: { type: "RollingUpdate" } }))).spec.updateStrategy).toEqual({ type: "RollingUpdate" });
    expect(applyDefaults("statefulsets", validate("statefulsets", sts({ updateStrategy: { type: "OnDelete" } }))).spec.updateStrategy).toEqual({ type: "OnDelete" });
    expect(applyDefaults("statefulsets", validate("statefulsets", sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: {} } }))).spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
  });

  const FORBIDDEN = "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";
  const current = () => applyDefaults("statefulsets", validate("statefulsets", sts())) as StatefulSet;
  const changed = (f: (s: StatefulSet) => void) => {
    const next = structuredClone(current());
    f(next);
    return next;
  };

  it("replicas, ordinals, the template, the update strategy, the retention policy and minReadySeconds may change", () => {
    expect(statefulSetUpdateProblems(current(), changed((s) => {
      s.spec.replicas = 5;
      s.spec.ordinals = { start: 1 };
      s.spec.template.spec.containers[0].image = "berth/busybox:v2";
      s.spec.template.metadata!.annotations = { "kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z" };
      s.spec.updateStrategy = { type: "OnDelete" };
      s.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: "Delete", whenScaled: "Delete" };
      s.spec.minReadySeconds = 10;
    }))).toEqual([]);
  });

  it("anything else is forbidden with kube-apiserver's one message: the selector, the claim templates, the service, the policy, the history limit", () => {
    const edits: ((s: StatefulSet) => void)[] = [
      (s) => (s.spec.selector = { matchLabels: { app: "web", tier: "x" } }),
      (s) => (s.spec.volumeClaimTemplates![0].spec.resources = { requests: { storage: "2Gi" } }),
      (s) => (s.spec.serviceName = "other"),
      (s) => (s.spec.podManagementPolicy = "Parallel"),
      (s) => (s.spec.revisionHistoryLimit = 3),
    ];
    for (const edit of edits) expect(statefulSetUpdateProblems(current(), changed(edit))).toEqual([{ reason: "FieldValueForbidden", field: "spec", message: FORBIDDEN }]);
  });

  it("an empty list or map is the same as none (Kubernetes' semantic equality)", () => {
    expect(statefulSetUpdateProblems(current(), changed((s) => (s.spec.selector = { matchLabels: { app: "web" }, matchExpressions: [] })))).toEqual([]);
  });
});

describe("persistentvolumeclaims and statefulsets - quota and admission", () => {
  const claim = (storage: string, cls = "local"): PersistentVolumeClaim => ({
    apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "c" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage } }, storageClassName: cls },
  });

  it("quota - a claim costs one claim and its storage request, overall and in its storage class; statefulsets are counted as count/statefulsets.apps", () => {
    const names = ["persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage", "local.storageclass.storage.k8s.io/requests.storage", "local.storageclass.storage.k8s.io/persistentvolumeclaims", "other.storageclass.storage.k8s.io/requests.storage", "pods"];
    for (const n of names) expect(isQuotaName(n)).toBe(true);
    expect(isQuotaName("count/statefulsets.apps")).toBe(true);
    expect(isQuotaName("storage")).toBe(false);
    expect(quotaNames()).toEqual(expect.arrayContaining(["persistentvolumeclaims", "count/persistentvolumeclaims", "count/statefulsets", "requests.storage"]));
    expect(resourcesFor(["requests.storage", "count/statefulsets.apps"]).sort()).toEqual(["persistentvolumeclaims", "statefulsets"]);
    expect(usageOf("persistentvolumeclaims", claim("1Gi"), names)).toEqual({
      persistentvolumeclaims: 1, "count/persistentvolumeclaims": 1, "requests.storage": 2 ** 30,
      "local.storageclass.storage.k8s.io/requests.storage": 2 ** 30, "local.storageclass.storage.k8s.io/persistentvolumeclaims": 1,
      "other.storageclass.storage.k8s.io/requests.storage": 0, pods: 0,
    });
    const used = totalUsage([{ resource: "persistentvolumeclaims", obj: claim("1Gi") }, { resource: "persistentvolumeclaims", obj: claim("500M") }], ["requests.storage"]);
    expect(formatUsage(used, ["requests.storage"])).toEqual({ "requests.storage": String(2 ** 30 + 500_000_000) });
    expect(formatUsage(parseUsage({ "requests.storage": "10Gi" }), ["requests.storage"])).toEqual({ "requests.storage": "10Gi" });
    expect(usageOf("statefulsets", sts() as unknown as StatefulSet, ["count/statefulsets.apps", "requests.storage"])).toEqual({ "count/statefulsets.apps": 1, "requests.storage": 0 });
  });

  it("admission - a StatefulSet's pod template is checked as the other workloads' are", () => {
    const causes = checkAdmission("statefulsets", sts({}, { containers: [{ name: "nginx", image: "x", securityContext: { privileged: true } }] }), DEFAULT_POLICY);
    expect(causes).toEqual([expect.objectContaining({ field: "spec.template.spec.containers[0].securityContext.privileged" })]);
  });
});
