/**
 * Field validation (runtime/api/field_validation.ts) answers alike on every face: the function,
 * `berth apply`'s manifest check, and the NATS request decoder; the manifests Berth ships pass it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkFieldValidation, parseFieldValidation } from "../../../../runtime/api/field_validation.ts";
import { parseManifests, validateManifests } from "../../../../runtime/api/manifest.ts";
import { ManifestError } from "../../../../runtime/api/manifest_error.ts";
import { parseApiRequest } from "../../../../runtime/security/api_request.ts";
import { validateMode } from "../../../../runtime/cli/verbs.ts";
import { BadRequestError } from "../../../../model/errors.ts";

const ROOT = new URL("../../../..", import.meta.url).pathname;
const POD = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: c
    image: berth/busybox
    resizePolicy: [{resourceName: cpu, restartPolicy: NotRequired}]
`;

describe("field validation", () => {
  it("Strict refuses an undeclared field with kube-apiserver's message naming its path", () => {
    const obj = parseManifests(POD)[0].object;
    expect(() => checkFieldValidation("Pod", obj, "Strict")).toThrow(BadRequestError);
    expect(() => checkFieldValidation("Pod", obj, "Strict")).toThrow('strict decoding error: unknown field "spec.containers[0].resizePolicy"');
    expect(checkFieldValidation("Pod", obj, "Warn")).toEqual(['unknown field "spec.containers[0].resizePolicy"']);
    expect(checkFieldValidation("Pod", obj, "Ignore")).toEqual([]);
  });

  it("a chart's Deployment with the pod spec fields charts set (service links, token, host aliases, DNS config, termination message) passes Strict", () => {
    const deploy = parseManifests(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      shareProcessNamespace: false
      hostNetwork: false
      hostIPC: false
      hostPID: false
      schedulerName: default-scheduler
      dnsPolicy: ClusterFirst
      dnsConfig: {options: [{name: ndots, value: "2"}]}
      hostAliases: [{ip: 127.0.0.1, hostnames: [foo.local]}]
      containers:
      - name: web
        image: berth/busybox
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: FallbackToLogsOnError
`)[0].object;
    expect(checkFieldValidation("Deployment", deploy, "Strict")).toEqual([]);
  });

  it("a Service as kubectl get -o yaml prints it (IP families, traffic policies) passes Strict", () => {
    const svc = parseManifests(`apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10]
  ipFamilies: [IPv4]
  ipFamilyPolicy: SingleStack
  internalTrafficPolicy: Cluster
  externalTrafficPolicy: Cluster
  sessionAffinity: None
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http, nodePort: 30080, protocol: TCP}]
`)[0].object;
    expect(checkFieldValidation("Service", svc, "Strict")).toEqual([]);
  });

  it("pod spec and Job fields Berth refuses by name reach validation through Strict (os, runtime class, readiness gates, AppArmor, podFailurePolicy)", () => {
    const deploy = parseManifests(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      os: {name: linux}
      runtimeClassName: gvisor
      overhead: {cpu: 100m}
      readinessGates: [{conditionType: example.com/ready}]
      setHostnameAsFQDN: false
      activeDeadlineSeconds: 100
      securityContext: {appArmorProfile: {type: RuntimeDefault}, windowsOptions: {runAsUserName: x}}
      containers:
      - name: web
        image: berth/busybox
        securityContext: {procMount: Default, appArmorProfile: {type: RuntimeDefault}}
`)[0].object;
    expect(checkFieldValidation("Deployment", deploy, "Strict")).toEqual([]);
    const job = parseManifests(`apiVersion: batch/v1
kind: Job
metadata: {name: j}
spec:
  backoffLimitPerIndex: 1
  podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]}
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: berth/busybox}]
`)[0].object;
    expect(checkFieldValidation("Job", job, "Strict")).toEqual([]);
  });

  it("a Deployment spreading its pods by zone and host passes Strict; a typo in a constraint does not", () => {
    const deploy = (field = "whenUnsatisfiable") => parseManifests(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, ${field}: DoNotSchedule, labelSelector: {matchLabels: {app: web}}, minDomains: 2, matchLabelKeys: [pod-template-hash]}
      - {maxSkew: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: ScheduleAnyway, nodeAffinityPolicy: Honor, nodeTaintsPolicy: Ignore}
      containers: [{name: web, image: berth/busybox}]
`)[0].object;
    expect(checkFieldValidation("Deployment", deploy(), "Strict")).toEqual([]);
    expect(() => checkFieldValidation("Deployment", deploy("whenUnsatisfable"), "Strict")).toThrow('unknown field "spec.template.spec.topologySpreadConstraints[0].whenUnsatisfable"');
  });

  it("a DaemonSet whose template has tolerations and node affinity passes Strict; pod (anti-)affinity passes too, to be refused by validation; typos inside them do not", () => {
    const ds = (toleration = "tolerationSeconds: 300", term = "matchExpressions") => parseManifests(`apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {name: agent}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 0}}
  minReadySeconds: 0
  revisionHistoryLimit: 10
  template:
    metadata: {labels: {name: agent}}
    spec:
      tolerations:
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, ${toleration}}
      - {key: dedicated, operator: Equal, value: logging, effect: NoSchedule}
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - ${term}: [{key: kubernetes.io/os, operator: In, values: [linux]}]
            - matchFields: [{key: metadata.name, operator: NotIn, values: [node-9]}]
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 10
            preference: {matchExpressions: [{key: disktype, operator: Exists}]}
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {name: agent}}
            topologyKey: kubernetes.io/hostname
      containers: [{name: agent, image: berth/busybox}]
status: {currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0, updatedNumberScheduled: 0, numberAvailable: 0}
`)[0].object;
    expect(checkFieldValidation("DaemonSet", ds(), "Strict")).toEqual([]);
    expect(() => checkFieldValidation("DaemonSet", ds("tolerationSecond: 300"), "Strict")).toThrow('unknown field "spec.template.spec.tolerations[0].tolerationSecond"');
    expect(() => checkFieldValidation("DaemonSet", ds(undefined, "matchExpression"), "Strict"))
      .toThrow('unknown field "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpression"');
  });

  it("a StatefulSet with claim templates (as kubectl get -o yaml prints them) and a claim naming what Berth does not serve pass Strict, to be judged by validation; typos do not", () => {
    const sts = (claimField = "storageClassName: local") => parseManifests(`apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 2
  podManagementPolicy: Parallel
  updateStrategy: {type: RollingUpdate, rollingUpdate: {partition: 0}}
  persistentVolumeClaimRetentionPolicy: {whenDeleted: Delete, whenScaled: Retain}
  ordinals: {start: 0}
  minReadySeconds: 5
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: berth/busybox
        volumeMounts: [{name: www, mountPath: /www}]
  volumeClaimTemplates:
  - apiVersion: v1
    kind: PersistentVolumeClaim
    metadata: {name: www, labels: {tier: data}}
    spec:
      accessModes: [ReadWriteOnce]
      ${claimField}
      resources: {requests: {storage: 1Gi}}
      volumeMode: Filesystem
    status: {phase: Pending}
status: {replicas: 0, availableReplicas: 0, currentRevision: web-1, updateRevision: web-1, observedGeneration: 1}
`)[0].object;
    expect(checkFieldValidation("StatefulSet", sts(), "Strict")).toEqual([]);
    expect(() => checkFieldValidation("StatefulSet", sts("storageClass: local"), "Strict")).toThrow('unknown field "spec.volumeClaimTemplates[0].spec.storageClass"');
    const claim = parseManifests(`apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {disk: ssd}}
  dataSource: {kind: VolumeSnapshot, apiGroup: snapshot.storage.k8s.io, name: snap}
  dataSourceRef: {kind: VolumeSnapshot, apiGroup: snapshot.storage.k8s.io, name: snap}
  volumeAttributesClassName: gold
  resources: {requests: {storage: 1Gi}, limits: {storage: 2Gi}}
status: {phase: Pending, conditions: [{type: Resizing, status: "True"}]}
`)[0].object;
    expect(checkFieldValidation("PersistentVolumeClaim", claim, "Strict")).toEqual([]);
  });

  it("an unknown mode is a 400 naming the choices", () => {
    expect(() => parseFieldValidation("strict", "Warn")).toThrow(/must be one of Ignore, Warn or Strict, got "strict"/);
    expect(parseFieldValidation(undefined, "Warn")).toBe("Warn");
  });

  it("berth apply's manifest check refuses it by default with the file and line, and warns under warn", () => {
    const docs = parseManifests(POD, "pod.yaml");
    let e: unknown;
    try {
      validateManifests(docs, { fieldValidation: "Strict" });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(ManifestError);
    expect((e as Error).message).toBe('pod.yaml: document 1 (line 1): strict decoding error: unknown field "spec.containers[0].resizePolicy"');
    const warnings: string[] = [];
    expect(validateManifests(docs, { fieldValidation: "Warn", warn: (m) => warnings.push(m) })).toHaveLength(1);
    expect(warnings).toEqual(['pod.yaml: document 1 (line 1): unknown field "spec.containers[0].resizePolicy"']);
    expect(validateMode(undefined)).toBe("Strict");
    expect(validateMode("false")).toBe("Ignore");
    expect(() => validateMode("maybe")).toThrow(/--validate must be strict, warn or ignore/);
  });

  it("the NATS API decodes fieldValidation on create and update, and refuses a bad one", () => {
    const body = { object: { kind: "Pod" }, fieldValidation: "Strict" };
    expect(parseApiRequest("pods", "create", body)).toMatchObject({ fieldValidation: "Strict" });
    expect(parseApiRequest("pods", "update", { object: {} })).toMatchObject({ fieldValidation: "Ignore" });
    expect(() => parseApiRequest("pods", "create", { ...body, fieldValidation: "Loud" })).toThrow(/fieldValidation must be one of/);
  });

  it("every manifest Berth ships (examples/, examples/workloads/, chaos/) passes strict validation", () => {
    const files = [
      ...readdirSync(join(ROOT, "examples")).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(ROOT, "examples", f)),
      ...readdirSync(join(ROOT, "examples/workloads")).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(ROOT, "examples/workloads", f)),
      ...readdirSync(join(ROOT, "chaos/workloads")).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(ROOT, "chaos/workloads", f)),
    ];
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) validateManifests(parseManifests(readFileSync(f, "utf8"), f), { fieldValidation: "Strict" });
  });
});
