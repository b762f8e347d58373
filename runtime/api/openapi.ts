/**
 * OpenAPI documents for the API Berth serves (core/v1 and the named groups such as apps/v1),
 * hand-written from types.ts.
 *
 * kubectl (1.32) reads `/openapi/v3` and then `/openapi/v3/api/v1` for two things:
 *   - whether the server validates fields itself: the PATCH operation of the object's kind
 *     (found by `x-kubernetes-group-version-kind`) must list the `fieldValidation` query
 *     parameter; then kubectl sends `fieldValidation=Strict` and skips client-side validation;
 *   - how to compute the strategic merge patch for `kubectl apply`: the component schema with
 *     the kind's GVK, following `$ref`s, with `x-kubernetes-patch-merge-key` and
 *     `x-kubernetes-patch-strategy` on keyed lists (the same keys as patch.ts uses).
 * `/openapi/v2` (the same schemas as `definitions`) is served as JSON for other tools.
 *
 * `unknownFields` walks an object against these schemas, for `fieldValidation=Strict|Warn`.
 */
import { createHash } from "node:crypto";
import { RESOURCES, apiVersionOf, type Resource } from "../../model/types.ts";

type Schema = Record<string, unknown>;

const CORE = "io.k8s.api.core.v1.";
const META = "io.k8s.apimachinery.pkg.apis.meta.v1.";
const APPS = "io.k8s.api.apps.v1.";
const BATCH = "io.k8s.api.batch.v1.";
const POLICY = "io.k8s.api.policy.v1.";
const AUTOSCALING = "io.k8s.api.autoscaling.v2.";
const RBAC = "io.k8s.api.rbac.v1.";
const SCHEDULING = "io.k8s.api.scheduling.v1.";
const COORDINATION = "io.k8s.api.coordination.v1.";
const NETWORKING = "io.k8s.api.networking.v1.";
const DISCOVERY = "io.k8s.api.discovery.v1.";

/**
 * The component schema prefix of a resource's kind: `io.k8s.api.<group or core>.<version>.`,
 * the group as its Go package names it (`rbac` for rbac.authorization.k8s.io).
 */
function prefixOf(resource: Resource): string {
  const gv = apiVersionOf(resource);
  if (gv === "v1") return CORE;
  const [group, version] = gv.split("/");
  return `io.k8s.api.${group.split(".")[0]}.${version}.`;
}

const str: Schema = { type: "string" };
const int: Schema = { type: "integer", format: "int32" };
const int64: Schema = { type: "integer", format: "int64" };
const bool: Schema = { type: "boolean" };
const time: Schema = { type: "string", format: "date-time" };
const intOrString: Schema = { "x-kubernetes-int-or-string": true };
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const arr = (items: Schema, merge?: { key?: string; strategy: string }): Schema => ({
  type: "array",
  items,
  ...(merge?.key ? { "x-kubernetes-patch-merge-key": merge.key, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [merge.key] } : {}),
  ...(merge ? { "x-kubernetes-patch-strategy": merge.strategy } : { "x-kubernetes-list-type": "atomic" }),
});
const map = (values: Schema): Schema => ({ type: "object", additionalProperties: values });
const obj = (properties: Record<string, Schema>, required?: string[], extra: Schema = {}): Schema => ({
  type: "object",
  properties,
  ...(required ? { required } : {}),
  ...extra,
});
const gvk = (kind: string, group = "", version = "v1") => ({ "x-kubernetes-group-version-kind": [{ group, kind, version }] });
const typed = (kind: string, props: Record<string, Schema>, group = "", version = "v1", required?: string[]): Schema =>
  obj({ apiVersion: str, kind: str, metadata: ref(`${META}ObjectMeta`), ...props }, required, gvk(kind, group, version));

const condition = obj(
  { type: str, status: str, reason: str, message: str, lastTransitionTime: time, lastProbeTime: time, lastHeartbeatTime: time, lastUpdateTime: time },
  ["type", "status"],
);

const SCHEMAS: Record<string, Schema> = {
  [`${META}OwnerReference`]: obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }, ["apiVersion", "kind", "name", "uid"]),
  [`${META}ManagedFieldsEntry`]: obj({ apiVersion: str, fieldsType: str, fieldsV1: { type: "object" }, manager: str, operation: str, subresource: str, time }),
  [`${META}ObjectMeta`]: obj({
    name: str,
    generateName: str,
    namespace: str,
    selfLink: str,
    uid: str,
    resourceVersion: str,
    generation: int64,
    creationTimestamp: time,
    deletionTimestamp: time,
    deletionGracePeriodSeconds: int64,
    labels: map(str),
    annotations: map(str),
    ownerReferences: arr(ref(`${META}OwnerReference`), { key: "uid", strategy: "merge" }),
    finalizers: { ...arr(str), "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge" },
    managedFields: arr(ref(`${META}ManagedFieldsEntry`)),
  }),
  [`${META}ListMeta`]: obj({ resourceVersion: str, continue: str, remainingItemCount: int64, selfLink: str }),
  [`${META}StatusCause`]: obj({ reason: str, message: str, field: str }),
  [`${META}Status`]: obj(
    {
      apiVersion: str, kind: str, metadata: ref(`${META}ListMeta`), status: str, message: str, reason: str, code: int,
      details: obj({ name: str, group: str, kind: str, uid: str, causes: arr(ref(`${META}StatusCause`)), retryAfterSeconds: int }),
    },
    undefined,
    gvk("Status"),
  ),
  [`${META}Preconditions`]: obj({ uid: str, resourceVersion: str }),
  [`${META}DeleteOptions`]: obj(
    { apiVersion: str, kind: str, gracePeriodSeconds: int64, propagationPolicy: str, orphanDependents: bool, preconditions: ref(`${META}Preconditions`), dryRun: arr(str), ignoreStoreReadErrorWithClusterBreakingPotential: bool },
    undefined,
    gvk("DeleteOptions"),
  ),

  // Pod
  [`${CORE}EnvVar`]: obj({
    name: str,
    value: str,
    valueFrom: obj({
      fieldRef: obj({ fieldPath: str, apiVersion: str }, ["fieldPath"]),
      resourceFieldRef: obj({ resource: str, containerName: str, divisor: intOrString }, ["resource"]),
      configMapKeyRef: obj({ name: str, key: str, optional: bool }, ["key"]),
      secretKeyRef: obj({ name: str, key: str, optional: bool }, ["key"]),
    }),
  }, ["name"]),
  [`${CORE}EnvFromSource`]: obj({ prefix: str, configMapRef: obj({ name: str, optional: bool }), secretRef: obj({ name: str, optional: bool }) }),
  [`${CORE}LifecycleHandler`]: obj({
    exec: obj({ command: arr(str) }),
    httpGet: obj({ path: str, port: intOrString, host: str, scheme: str, httpHeaders: arr(obj({ name: str, value: str }, ["name", "value"])) }, ["port"]),
  }),
  [`${CORE}KeyToPath`]: obj({ key: str, path: str, mode: int }, ["key", "path"]),
  [`${CORE}ContainerPort`]: obj({ name: str, containerPort: int, hostPort: int, hostIP: str, protocol: str }, ["containerPort"]),
  [`${CORE}VolumeMount`]: obj({ name: str, mountPath: str, readOnly: bool, subPath: str, subPathExpr: str, mountPropagation: str }, ["name", "mountPath"]),
  [`${CORE}Probe`]: obj({
    exec: obj({ command: arr(str) }),
    httpGet: obj({ path: str, port: intOrString, host: str, scheme: str, httpHeaders: arr(obj({ name: str, value: str }, ["name", "value"])) }, ["port"]),
    tcpSocket: obj({ port: intOrString, host: str }, ["port"]),
    grpc: obj({ port: int, service: str }, ["port"]),
    initialDelaySeconds: int, periodSeconds: int, timeoutSeconds: int, failureThreshold: int, successThreshold: int,
    terminationGracePeriodSeconds: int64,
  }),
  [`${CORE}ResourceRequirements`]: obj({ requests: map(intOrString), limits: map(intOrString) }),
  // What Berth's nodes honour of securityContext (admission refuses what they cannot grant).
  [`${CORE}SeccompProfile`]: obj({ type: str, localhostProfile: str }, ["type"]),
  [`${CORE}SELinuxOptions`]: obj({ user: str, role: str, type: str, level: str }),
  [`${CORE}Capabilities`]: obj({ add: arr(str), drop: arr(str) }),
  [`${CORE}SecurityContext`]: obj({
    runAsUser: int64, runAsGroup: int64, runAsNonRoot: bool, readOnlyRootFilesystem: bool,
    allowPrivilegeEscalation: bool, privileged: bool,
    capabilities: ref(`${CORE}Capabilities`), seccompProfile: ref(`${CORE}SeccompProfile`), seLinuxOptions: ref(`${CORE}SELinuxOptions`),
    procMount: str, appArmorProfile: ref(`${CORE}AppArmorProfile`), windowsOptions: ref(`${CORE}WindowsSecurityContextOptions`),
  }),
  [`${CORE}PodSecurityContext`]: obj({
    runAsUser: int64, runAsGroup: int64, runAsNonRoot: bool, supplementalGroups: arr(int64), fsGroup: int64, fsGroupChangePolicy: str,
    seccompProfile: ref(`${CORE}SeccompProfile`), seLinuxOptions: ref(`${CORE}SELinuxOptions`), sysctls: arr(obj({ name: str, value: str }, ["name", "value"])),
    appArmorProfile: ref(`${CORE}AppArmorProfile`), windowsOptions: ref(`${CORE}WindowsSecurityContextOptions`),
  }),
  [`${CORE}AppArmorProfile`]: obj({ type: str, localhostProfile: str }, ["type"]),
  // Stored; a Linux node ignores them, as the kubelet does.
  [`${CORE}WindowsSecurityContextOptions`]: obj({ gmsaCredentialSpecName: str, gmsaCredentialSpec: str, runAsUserName: str, hostProcess: bool }),
  [`${CORE}Container`]: obj(
    {
      name: str, image: str, command: arr(str), args: arr(str), workingDir: str,
      env: arr(ref(`${CORE}EnvVar`), { key: "name", strategy: "merge" }),
      ports: arr(ref(`${CORE}ContainerPort`), { key: "containerPort", strategy: "merge" }),
      resources: ref(`${CORE}ResourceRequirements`),
      volumeMounts: arr(ref(`${CORE}VolumeMount`), { key: "mountPath", strategy: "merge" }),
      livenessProbe: ref(`${CORE}Probe`), readinessProbe: ref(`${CORE}Probe`), startupProbe: ref(`${CORE}Probe`),
      imagePullPolicy: str,
      envFrom: arr(ref(`${CORE}EnvFromSource`)),
      lifecycle: obj({ postStart: ref(`${CORE}LifecycleHandler`), preStop: ref(`${CORE}LifecycleHandler`) }),
      stdin: bool, stdinOnce: bool, tty: bool,
      securityContext: ref(`${CORE}SecurityContext`),
      terminationMessagePath: str, terminationMessagePolicy: str,
    },
    ["name"],
  ),
  [`${CORE}Volume`]: obj(
    {
      name: str,
      emptyDir: obj({ medium: str, sizeLimit: intOrString }),
      hostPath: obj({ path: str, type: str }, ["path"]),
      persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ["claimName"]),
      configMap: obj({ name: str, items: arr(ref(`${CORE}KeyToPath`)), defaultMode: int, optional: bool }),
      secret: obj({ secretName: str, items: arr(ref(`${CORE}KeyToPath`)), defaultMode: int, optional: bool }),
      downwardAPI: obj({ items: arr(ref(`${CORE}DownwardAPIVolumeFile`)), defaultMode: int }),
      projected: obj({ sources: arr(ref(`${CORE}VolumeProjection`)), defaultMode: int }),
    },
    ["name"],
  ),
  [`${CORE}DownwardAPIVolumeFile`]: obj(
    { path: str, fieldRef: obj({ fieldPath: str, apiVersion: str }, ["fieldPath"]), resourceFieldRef: obj({ resource: str, containerName: str, divisor: intOrString }, ["resource"]), mode: int },
    ["path"],
  ),
  [`${CORE}VolumeProjection`]: obj({
    configMap: obj({ name: str, items: arr(ref(`${CORE}KeyToPath`)), optional: bool }),
    secret: obj({ name: str, items: arr(ref(`${CORE}KeyToPath`)), optional: bool }),
    downwardAPI: obj({ items: arr(ref(`${CORE}DownwardAPIVolumeFile`)) }),
    serviceAccountToken: obj({ audience: str, expirationSeconds: int64, path: str }, ["path"]),
    // Declared without their fields: whatever they hold passes strict field validation and reaches
    // the refusal that names them (validation_volumes.ts), not an "unknown field".
    clusterTrustBundle: { type: "object" },
    podCertificate: { type: "object" },
  }),
  [`${CORE}PodSpec`]: obj(
    {
      initContainers: arr(ref(`${CORE}Container`), { key: "name", strategy: "merge" }),
      containers: arr(ref(`${CORE}Container`), { key: "name", strategy: "merge" }),
      serviceAccountName: str,
      serviceAccount: str,
      imagePullSecrets: arr(obj({ name: str }), { key: "name", strategy: "merge" }),
      volumes: arr(ref(`${CORE}Volume`), { key: "name", strategy: "merge,retainKeys" }),
      restartPolicy: str, terminationGracePeriodSeconds: int64, nodeName: str, nodeSelector: map(str),
      hostname: str, subdomain: str, dnsPolicy: str,
      dnsConfig: obj({ nameservers: arr(str), searches: arr(str), options: arr(obj({ name: str, value: str })) }),
      hostAliases: arr(obj({ ip: str, hostnames: arr(str) }, ["ip"]), { key: "ip", strategy: "merge" }),
      enableServiceLinks: bool, shareProcessNamespace: bool, schedulerName: str, automountServiceAccountToken: bool,
      os: obj({ name: str }, ["name"]), setHostnameAsFQDN: bool, runtimeClassName: str, overhead: map(intOrString),
      readinessGates: arr(obj({ conditionType: str }, ["conditionType"])), activeDeadlineSeconds: int64,
      hostNetwork: bool, hostPID: bool, hostIPC: bool,
      tolerations: arr(ref(`${CORE}Toleration`)),
      affinity: ref(`${CORE}Affinity`),
      // kube's list-map keys are topologyKey and whenUnsatisfiable; the patch merge key is topologyKey.
      topologySpreadConstraints: { ...arr(ref(`${CORE}TopologySpreadConstraint`), { key: "topologyKey", strategy: "merge" }), "x-kubernetes-list-map-keys": ["topologyKey", "whenUnsatisfiable"] },
      securityContext: ref(`${CORE}PodSecurityContext`),
      priorityClassName: str, priority: int, preemptionPolicy: str,
    },
    ["containers"],
  ),
  [`${CORE}TopologySpreadConstraint`]: obj({
    maxSkew: int, topologyKey: str, whenUnsatisfiable: str, labelSelector: ref(`${META}LabelSelector`), minDomains: int,
    nodeAffinityPolicy: str, nodeTaintsPolicy: str, matchLabelKeys: arr(str),
  }, ["maxSkew", "topologyKey", "whenUnsatisfiable"]),
  [`${CORE}Toleration`]: obj({ key: str, operator: str, value: str, effect: str, tolerationSeconds: int64 }),
  // Node affinity as Kubernetes declares it (a selector and its terms are atomic), and inter-pod
  // (anti-)affinity; matchLabelKeys and mismatchLabelKeys are declared so that validation refuses
  // them by name ("not supported by Berth") rather than as unknown fields.
  [`${CORE}Affinity`]: obj({ nodeAffinity: ref(`${CORE}NodeAffinity`), podAffinity: ref(`${CORE}PodAffinity`), podAntiAffinity: ref(`${CORE}PodAffinity`) }),
  [`${CORE}PodAffinityTerm`]: obj({
    labelSelector: ref(`${META}LabelSelector`), namespaces: arr(str), namespaceSelector: ref(`${META}LabelSelector`), topologyKey: str,
    matchLabelKeys: arr(str), mismatchLabelKeys: arr(str),
  }, ["topologyKey"]),
  [`${CORE}PodAffinity`]: obj({
    requiredDuringSchedulingIgnoredDuringExecution: arr(ref(`${CORE}PodAffinityTerm`)),
    preferredDuringSchedulingIgnoredDuringExecution: arr(obj({ weight: int, podAffinityTerm: ref(`${CORE}PodAffinityTerm`) }, ["weight", "podAffinityTerm"])),
  }),
  [`${CORE}NodeAffinity`]: obj({
    requiredDuringSchedulingIgnoredDuringExecution: ref(`${CORE}NodeSelector`),
    preferredDuringSchedulingIgnoredDuringExecution: arr(ref(`${CORE}PreferredSchedulingTerm`)),
  }),
  [`${CORE}NodeSelector`]: obj({ nodeSelectorTerms: arr(ref(`${CORE}NodeSelectorTerm`)) }, ["nodeSelectorTerms"], { "x-kubernetes-map-type": "atomic" }),
  [`${CORE}NodeSelectorTerm`]: obj(
    { matchExpressions: arr(ref(`${CORE}NodeSelectorRequirement`)), matchFields: arr(ref(`${CORE}NodeSelectorRequirement`)) },
    undefined,
    { "x-kubernetes-map-type": "atomic" },
  ),
  [`${CORE}NodeSelectorRequirement`]: obj({ key: str, operator: str, values: arr(str) }, ["key", "operator"]),
  [`${CORE}PreferredSchedulingTerm`]: obj({ weight: int, preference: ref(`${CORE}NodeSelectorTerm`) }, ["weight", "preference"]),
  [`${CORE}ContainerState`]: obj({
    waiting: obj({ reason: str, message: str }),
    running: obj({ startedAt: time }),
    terminated: obj({ exitCode: int, signal: int, reason: str, message: str, startedAt: time, finishedAt: time, containerID: str }, ["exitCode"]),
  }),
  [`${CORE}ContainerStatus`]: obj(
    {
      name: str, state: ref(`${CORE}ContainerState`), lastState: ref(`${CORE}ContainerState`), ready: bool, restartCount: int,
      image: str, imageID: str, containerID: str, started: bool,
    },
    ["name", "ready", "restartCount", "image"],
  ),
  [`${CORE}PodCondition`]: condition,
  [`${CORE}PodStatus`]: obj({
    phase: str,
    conditions: arr(ref(`${CORE}PodCondition`), { key: "type", strategy: "merge" }),
    message: str, reason: str, hostIP: str, podIP: str,
    podIPs: arr(obj({ ip: str }), { key: "ip", strategy: "merge" }),
    startTime: time,
    containerStatuses: arr(ref(`${CORE}ContainerStatus`)),
    initContainerStatuses: arr(ref(`${CORE}ContainerStatus`)),
  }),
  [`${CORE}Pod`]: typed("Pod", { spec: ref(`${CORE}PodSpec`), status: ref(`${CORE}PodStatus`) }),
  [`${CORE}PodTemplateSpec`]: obj({ metadata: ref(`${META}ObjectMeta`), spec: ref(`${CORE}PodSpec`) }),
  [`${CORE}Binding`]: typed("Binding", { target: ref(`${CORE}ObjectReference`) }, "", "v1", ["target"]),

  // ReplicationController
  [`${CORE}ReplicationControllerCondition`]: condition,
  [`${CORE}ReplicationControllerSpec`]: obj({ replicas: int, minReadySeconds: int, selector: map(str), template: ref(`${CORE}PodTemplateSpec`) }),
  [`${CORE}ReplicationControllerStatus`]: obj(
    {
      replicas: int, fullyLabeledReplicas: int, readyReplicas: int, availableReplicas: int, observedGeneration: int64,
      conditions: arr(ref(`${CORE}ReplicationControllerCondition`), { key: "type", strategy: "merge" }),
    },
    ["replicas"],
  ),
  [`${CORE}ReplicationController`]: typed("ReplicationController", {
    spec: ref(`${CORE}ReplicationControllerSpec`),
    status: ref(`${CORE}ReplicationControllerStatus`),
  }),
  ["io.k8s.api.autoscaling.v1.Scale"]: typed(
    "Scale",
    { spec: obj({ replicas: int }), status: obj({ replicas: int, selector: str }, ["replicas"]) },
    "autoscaling",
    "v1",
  ),

  // Service, Endpoints
  [`${CORE}ServicePort`]: obj({ name: str, protocol: str, port: int, targetPort: intOrString, nodePort: int, appProtocol: str }, ["port"]),
  [`${CORE}ServiceSpec`]: obj({
    ports: arr(ref(`${CORE}ServicePort`), { key: "port", strategy: "merge" }),
    selector: map(str), clusterIP: str, clusterIPs: arr(str), type: str, sessionAffinity: str,
    sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int }) }),
    externalIPs: arr(str), externalName: str, publishNotReadyAddresses: bool,
    ipFamilies: arr(str), ipFamilyPolicy: str, internalTrafficPolicy: str, externalTrafficPolicy: str,
    loadBalancerSourceRanges: arr(str), allocateLoadBalancerNodePorts: bool,
  }),
  [`${CORE}ServiceStatus`]: obj({ loadBalancer: obj({ ingress: arr(obj({ ip: str, hostname: str })) }) }),
  [`${CORE}Service`]: typed("Service", { spec: ref(`${CORE}ServiceSpec`), status: ref(`${CORE}ServiceStatus`) }),
  [`${CORE}ObjectReference`]: obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str }),
  [`${CORE}EndpointAddress`]: obj({ ip: str, hostname: str, nodeName: str, targetRef: ref(`${CORE}ObjectReference`) }, ["ip"]),
  [`${CORE}EndpointPort`]: obj({ name: str, port: int, protocol: str, appProtocol: str }, ["port"]),
  [`${CORE}EndpointSubset`]: obj({
    addresses: arr(ref(`${CORE}EndpointAddress`)),
    notReadyAddresses: arr(ref(`${CORE}EndpointAddress`)),
    ports: arr(ref(`${CORE}EndpointPort`)),
  }),
  [`${CORE}Endpoints`]: typed("Endpoints", { subsets: arr(ref(`${CORE}EndpointSubset`)) }),

  // Node, Namespace, Event
  [`${CORE}Taint`]: obj({ key: str, value: str, effect: str, timeAdded: time }, ["key", "effect"]),
  [`${CORE}NodeSpec`]: obj({ unschedulable: bool, podCIDR: str, taints: arr(ref(`${CORE}Taint`)) }),
  [`${CORE}NodeCondition`]: condition,
  [`${CORE}NodeAddress`]: obj({ type: str, address: str }, ["type", "address"]),
  [`${CORE}NodeStatus`]: obj({
    capacity: map(intOrString), allocatable: map(intOrString),
    conditions: arr(ref(`${CORE}NodeCondition`), { key: "type", strategy: "merge" }),
    addresses: arr(ref(`${CORE}NodeAddress`), { key: "type", strategy: "merge" }),
    nodeInfo: obj({
      containerRuntimeVersion: str, kubeletVersion: str, operatingSystem: str, architecture: str, osImage: str,
      kernelVersion: str, machineID: str, systemUUID: str, bootID: str, kubeProxyVersion: str,
    }),
    daemonEndpoints: obj({ kubeletEndpoint: obj({ Port: int }) }),
  }),
  [`${CORE}Node`]: typed("Node", { spec: ref(`${CORE}NodeSpec`), status: ref(`${CORE}NodeStatus`) }),
  [`${CORE}Namespace`]: typed("Namespace", { spec: obj({ finalizers: arr(str) }), status: obj({ phase: str }) }),
  [`${CORE}Event`]: typed(
    "Event",
    {
      involvedObject: ref(`${CORE}ObjectReference`), reason: str, message: str,
      source: obj({ component: str, host: str }), firstTimestamp: time, lastTimestamp: time, eventTime: time,
      count: int, type: str, action: str, reportingComponent: str, reportingInstance: str,
    },
    "",
    "v1",
    ["metadata", "involvedObject"],
  ),
  [`${CORE}ResourceQuotaSpec`]: obj({ hard: map(intOrString), scopes: arr(str) }),
  [`${CORE}ResourceQuotaStatus`]: obj({ hard: map(intOrString), used: map(intOrString) }),
  [`${CORE}ConfigMap`]: typed("ConfigMap", { data: map(str), binaryData: map(str), immutable: bool }),
  [`${CORE}Secret`]: typed("Secret", { data: map(str), stringData: map(str), type: str, immutable: bool }),
  [`${CORE}ServiceAccount`]: typed("ServiceAccount", { secrets: arr(ref(`${CORE}ObjectReference`), { key: "name", strategy: "merge" }), imagePullSecrets: arr(obj({ name: str })), automountServiceAccountToken: bool }),
  [`${CORE}ResourceQuota`]: typed("ResourceQuota", { spec: ref(`${CORE}ResourceQuotaSpec`), status: ref(`${CORE}ResourceQuotaStatus`) }),

  // PersistentVolumeClaim: the fields Kubernetes has. `selector`, `dataSource`, `dataSourceRef`
  // and `volumeAttributesClassName` are declared so that strict field validation lets them through
  // to validation, which refuses them by name ("not supported by Berth") instead of as unknown fields.
  [`${CORE}VolumeResourceRequirements`]: obj({ requests: map(intOrString), limits: map(intOrString) }),
  [`${CORE}TypedLocalObjectReference`]: obj({ apiGroup: str, kind: str, name: str }, ["kind", "name"], { "x-kubernetes-map-type": "atomic" }),
  [`${CORE}TypedObjectReference`]: obj({ apiGroup: str, kind: str, name: str, namespace: str }, ["kind", "name"]),
  [`${CORE}PersistentVolumeClaimSpec`]: obj({
    accessModes: arr(str), selector: ref(`${META}LabelSelector`), resources: ref(`${CORE}VolumeResourceRequirements`),
    volumeName: str, storageClassName: str, volumeMode: str,
    dataSource: ref(`${CORE}TypedLocalObjectReference`), dataSourceRef: ref(`${CORE}TypedObjectReference`), volumeAttributesClassName: str,
  }),
  [`${CORE}PersistentVolumeClaimCondition`]: condition,
  [`${CORE}PersistentVolumeClaimStatus`]: obj({
    phase: str, accessModes: arr(str), capacity: map(intOrString),
    conditions: arr(ref(`${CORE}PersistentVolumeClaimCondition`), { key: "type", strategy: "merge" }),
  }),
  [`${CORE}PersistentVolumeClaim`]: typed("PersistentVolumeClaim", { spec: ref(`${CORE}PersistentVolumeClaimSpec`), status: ref(`${CORE}PersistentVolumeClaimStatus`) }),
};

// apps/v1
const replicaSetStatus = obj({
  replicas: int, fullyLabeledReplicas: int, readyReplicas: int, availableReplicas: int, observedGeneration: int64,
  conditions: arr(ref(`${APPS}ReplicaSetCondition`), { key: "type", strategy: "merge" }),
});
Object.assign(SCHEMAS, {
  [`${META}LabelSelector`]: obj({
    matchLabels: map(str),
    matchExpressions: arr(ref(`${META}LabelSelectorRequirement`)),
  }, undefined, { "x-kubernetes-map-type": "atomic" }),
  [`${META}LabelSelectorRequirement`]: obj({ key: str, operator: str, values: arr(str) }, ["key", "operator"]),
  [`${APPS}ReplicaSetCondition`]: condition,
  [`${APPS}DeploymentCondition`]: condition,
  [`${APPS}ReplicaSetSpec`]: obj({ replicas: int, minReadySeconds: int, selector: ref(`${META}LabelSelector`), template: ref(`${CORE}PodTemplateSpec`) }, ["selector"]),
  [`${APPS}ReplicaSetStatus`]: replicaSetStatus,
  [`${APPS}ReplicaSet`]: typed("ReplicaSet", { spec: ref(`${APPS}ReplicaSetSpec`), status: ref(`${APPS}ReplicaSetStatus`) }, "apps"),
  [`${APPS}RollingUpdateDeployment`]: obj({ maxUnavailable: intOrString, maxSurge: intOrString }),
  [`${APPS}DeploymentStrategy`]: obj({ type: str, rollingUpdate: ref(`${APPS}RollingUpdateDeployment`) }),
  [`${APPS}DeploymentSpec`]: obj({
    replicas: int, selector: ref(`${META}LabelSelector`), template: ref(`${CORE}PodTemplateSpec`),
    strategy: ref(`${APPS}DeploymentStrategy`), minReadySeconds: int, revisionHistoryLimit: int, paused: bool, progressDeadlineSeconds: int,
  }, ["selector", "template"]),
  [`${APPS}DeploymentStatus`]: obj({
    observedGeneration: int64, replicas: int, updatedReplicas: int, readyReplicas: int, availableReplicas: int, unavailableReplicas: int,
    conditions: arr(ref(`${APPS}DeploymentCondition`), { key: "type", strategy: "merge" }), collisionCount: int,
  }),
  [`${APPS}Deployment`]: typed("Deployment", { spec: ref(`${APPS}DeploymentSpec`), status: ref(`${APPS}DeploymentStatus`) }, "apps"),
  // DaemonSet: the fields types.ts serves.
  [`${APPS}DaemonSetCondition`]: condition,
  [`${APPS}RollingUpdateDaemonSet`]: obj({ maxUnavailable: intOrString, maxSurge: intOrString }),
  [`${APPS}DaemonSetUpdateStrategy`]: obj({ type: str, rollingUpdate: ref(`${APPS}RollingUpdateDaemonSet`) }),
  [`${APPS}DaemonSetSpec`]: obj({
    selector: ref(`${META}LabelSelector`), template: ref(`${CORE}PodTemplateSpec`), updateStrategy: ref(`${APPS}DaemonSetUpdateStrategy`),
    minReadySeconds: int, revisionHistoryLimit: int,
  }, ["selector", "template"]),
  [`${APPS}DaemonSetStatus`]: obj({
    currentNumberScheduled: int, numberMisscheduled: int, desiredNumberScheduled: int, numberReady: int, observedGeneration: int64,
    updatedNumberScheduled: int, numberAvailable: int, numberUnavailable: int,
    conditions: arr(ref(`${APPS}DaemonSetCondition`), { key: "type", strategy: "merge" }),
  }, ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"]),
  [`${APPS}DaemonSet`]: typed("DaemonSet", { spec: ref(`${APPS}DaemonSetSpec`), status: ref(`${APPS}DaemonSetStatus`) }, "apps"),
  // StatefulSet: the fields Kubernetes 1.32 has; its claim templates are claims, a list replaced
  // whole by a strategic merge patch (atomic, as Kubernetes declares it).
  [`${APPS}StatefulSetCondition`]: condition,
  [`${APPS}RollingUpdateStatefulSetStrategy`]: obj({ partition: int, maxUnavailable: intOrString }),
  [`${APPS}StatefulSetUpdateStrategy`]: obj({ type: str, rollingUpdate: ref(`${APPS}RollingUpdateStatefulSetStrategy`) }),
  [`${APPS}StatefulSetPersistentVolumeClaimRetentionPolicy`]: obj({ whenDeleted: str, whenScaled: str }),
  [`${APPS}StatefulSetOrdinals`]: obj({ start: int }),
  [`${APPS}StatefulSetSpec`]: obj({
    replicas: int, selector: ref(`${META}LabelSelector`), template: ref(`${CORE}PodTemplateSpec`),
    volumeClaimTemplates: arr(ref(`${CORE}PersistentVolumeClaim`)), serviceName: str, podManagementPolicy: str,
    updateStrategy: ref(`${APPS}StatefulSetUpdateStrategy`), revisionHistoryLimit: int, minReadySeconds: int,
    persistentVolumeClaimRetentionPolicy: ref(`${APPS}StatefulSetPersistentVolumeClaimRetentionPolicy`), ordinals: ref(`${APPS}StatefulSetOrdinals`),
  }, ["selector", "template"]),
  [`${APPS}StatefulSetStatus`]: obj({
    observedGeneration: int64, replicas: int, readyReplicas: int, currentReplicas: int, updatedReplicas: int,
    currentRevision: str, updateRevision: str, collisionCount: int, availableReplicas: int,
    conditions: arr(ref(`${APPS}StatefulSetCondition`), { key: "type", strategy: "merge" }),
  }, ["replicas"]),
  [`${APPS}StatefulSet`]: typed("StatefulSet", { spec: ref(`${APPS}StatefulSetSpec`), status: ref(`${APPS}StatefulSetStatus`) }, "apps"),
  // ControllerRevision: `data` is any object (a RawExtension in Kubernetes).
  [`${APPS}ControllerRevision`]: typed("ControllerRevision", { data: { type: "object" }, revision: int64 }, "apps", "v1", ["revision"]),
});

// batch/v1: the fields types.ts serves (no pod failure or success policies, no per-index back-off).
Object.assign(SCHEMAS, {
  [`${BATCH}JobCondition`]: obj({ type: str, status: str, lastProbeTime: time, lastTransitionTime: time, reason: str, message: str }, ["type", "status"]),
  [`${BATCH}JobSpec`]: obj({
    parallelism: int, completions: int, activeDeadlineSeconds: int64, backoffLimit: int,
    selector: ref(`${META}LabelSelector`), manualSelector: bool, template: ref(`${CORE}PodTemplateSpec`),
    ttlSecondsAfterFinished: int, completionMode: str, suspend: bool,
    // Declared so that validation refuses them by name ("not supported by Berth"), not as unknown fields.
    podFailurePolicy: { type: "object" }, successPolicy: { type: "object" }, backoffLimitPerIndex: int, maxFailedIndexes: int, podReplacementPolicy: str,
  }, ["template"]),
  [`${BATCH}JobStatus`]: obj({
    // Kubernetes merges a job's conditions by type in a strategic merge patch, yet lists them as atomic.
    conditions: { ...arr(ref(`${BATCH}JobCondition`)), "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge" },
    startTime: time, completionTime: time, active: int, ready: int, succeeded: int, failed: int,
    uncountedTerminatedPods: ref(`${BATCH}UncountedTerminatedPods`), completedIndexes: str,
  }),
  [`${BATCH}UncountedTerminatedPods`]: obj({ succeeded: arr(str), failed: arr(str) }),
  [`${BATCH}Job`]: typed("Job", { spec: ref(`${BATCH}JobSpec`), status: ref(`${BATCH}JobStatus`) }, "batch"),
  // CronJob: a schedule and the template of the Jobs it makes.
  [`${BATCH}JobTemplateSpec`]: obj({ metadata: ref(`${META}ObjectMeta`), spec: ref(`${BATCH}JobSpec`) }),
  [`${BATCH}CronJobSpec`]: obj({
    schedule: str, timeZone: str, startingDeadlineSeconds: int64, concurrencyPolicy: str, suspend: bool,
    jobTemplate: ref(`${BATCH}JobTemplateSpec`), successfulJobsHistoryLimit: int, failedJobsHistoryLimit: int,
  }, ["schedule", "jobTemplate"]),
  [`${BATCH}CronJobStatus`]: obj({ active: arr(ref(`${CORE}ObjectReference`)), lastScheduleTime: time, lastSuccessfulTime: time }),
  [`${BATCH}CronJob`]: typed("CronJob", { spec: ref(`${BATCH}CronJobSpec`), status: ref(`${BATCH}CronJobStatus`) }, "batch"),
});

// policy/v1: PodDisruptionBudget. `selector` is declared without Kubernetes' patch strategy
// `replace`: kubectl apply then diffs it key by key (a label taken out is sent as null), which
// Berth's strategic merge (patch.ts, which has no per-field strategies) applies to the same result.
Object.assign(SCHEMAS, {
  [`${META}Condition`]: obj(
    { type: str, status: str, observedGeneration: int64, lastTransitionTime: time, reason: str, message: str },
    ["type", "status", "lastTransitionTime", "reason", "message"],
  ),
  [`${POLICY}PodDisruptionBudgetSpec`]: obj({ minAvailable: intOrString, selector: ref(`${META}LabelSelector`), maxUnavailable: intOrString, unhealthyPodEvictionPolicy: str }),
  [`${POLICY}PodDisruptionBudgetStatus`]: obj({
    observedGeneration: int64, disruptedPods: map(time), disruptionsAllowed: int, currentHealthy: int, desiredHealthy: int, expectedPods: int,
    conditions: arr(ref(`${META}Condition`), { key: "type", strategy: "merge" }),
  }, ["disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"]),
  [`${POLICY}PodDisruptionBudget`]: typed("PodDisruptionBudget", { spec: ref(`${POLICY}PodDisruptionBudgetSpec`), status: ref(`${POLICY}PodDisruptionBudgetStatus`) }, "policy"),
});

// autoscaling/v2: HorizontalPodAutoscaler. The metric sources Berth has no metrics for (pods,
// object, external) are declared as bare objects: strict field validation lets them through to
// validation, which says why they are refused.
const quantity = intOrString;
Object.assign(SCHEMAS, {
  [`${AUTOSCALING}CrossVersionObjectReference`]: obj({ kind: str, name: str, apiVersion: str }, ["kind", "name"], { "x-kubernetes-map-type": "atomic" }),
  [`${AUTOSCALING}MetricTarget`]: obj({ type: str, value: quantity, averageValue: quantity, averageUtilization: int }, ["type"]),
  [`${AUTOSCALING}ResourceMetricSource`]: obj({ name: str, target: ref(`${AUTOSCALING}MetricTarget`) }, ["name", "target"]),
  [`${AUTOSCALING}ContainerResourceMetricSource`]: obj({ name: str, target: ref(`${AUTOSCALING}MetricTarget`), container: str }, ["name", "target", "container"]),
  [`${AUTOSCALING}MetricSpec`]: obj({
    type: str, resource: ref(`${AUTOSCALING}ResourceMetricSource`), containerResource: ref(`${AUTOSCALING}ContainerResourceMetricSource`),
    pods: { type: "object" }, object: { type: "object" }, external: { type: "object" },
  }, ["type"]),
  [`${AUTOSCALING}HPAScalingPolicy`]: obj({ type: str, value: int, periodSeconds: int }, ["type", "value", "periodSeconds"]),
  [`${AUTOSCALING}HPAScalingRules`]: obj({ stabilizationWindowSeconds: int, selectPolicy: str, policies: arr(ref(`${AUTOSCALING}HPAScalingPolicy`)) }),
  [`${AUTOSCALING}HorizontalPodAutoscalerBehavior`]: obj({ scaleUp: ref(`${AUTOSCALING}HPAScalingRules`), scaleDown: ref(`${AUTOSCALING}HPAScalingRules`) }),
  [`${AUTOSCALING}HorizontalPodAutoscalerSpec`]: obj({
    scaleTargetRef: ref(`${AUTOSCALING}CrossVersionObjectReference`), minReplicas: int, maxReplicas: int,
    metrics: arr(ref(`${AUTOSCALING}MetricSpec`)), behavior: ref(`${AUTOSCALING}HorizontalPodAutoscalerBehavior`),
  }, ["scaleTargetRef", "maxReplicas"]),
  [`${AUTOSCALING}MetricValueStatus`]: obj({ value: quantity, averageValue: quantity, averageUtilization: int }),
  [`${AUTOSCALING}MetricStatus`]: obj({
    type: str,
    resource: obj({ name: str, current: ref(`${AUTOSCALING}MetricValueStatus`) }, ["name", "current"]),
    containerResource: obj({ name: str, current: ref(`${AUTOSCALING}MetricValueStatus`), container: str }, ["name", "current", "container"]),
    pods: { type: "object" }, object: { type: "object" }, external: { type: "object" },
  }, ["type"]),
  [`${AUTOSCALING}HorizontalPodAutoscalerCondition`]: obj({ type: str, status: str, lastTransitionTime: time, reason: str, message: str }, ["type", "status"]),
  [`${AUTOSCALING}HorizontalPodAutoscalerStatus`]: obj({
    observedGeneration: int64, lastScaleTime: time, currentReplicas: int, desiredReplicas: int,
    currentMetrics: arr(ref(`${AUTOSCALING}MetricStatus`)),
    conditions: arr(ref(`${AUTOSCALING}HorizontalPodAutoscalerCondition`), { key: "type", strategy: "merge" }),
  }, ["desiredReplicas"]),
  [`${AUTOSCALING}HorizontalPodAutoscaler`]: typed("HorizontalPodAutoscaler", {
    spec: ref(`${AUTOSCALING}HorizontalPodAutoscalerSpec`), status: ref(`${AUTOSCALING}HorizontalPodAutoscalerStatus`),
  }, "autoscaling", "v2"),
});

// rbac.authorization.k8s.io/v1: Role, ClusterRole, RoleBinding, ClusterRoleBinding (stored, never enforced).
Object.assign(SCHEMAS, {
  [`${RBAC}PolicyRule`]: obj({ verbs: arr(str), apiGroups: arr(str), resources: arr(str), resourceNames: arr(str), nonResourceURLs: arr(str) }, ["verbs"]),
  [`${RBAC}AggregationRule`]: obj({ clusterRoleSelectors: arr(ref(`${META}LabelSelector`)) }),
  [`${RBAC}Subject`]: obj({ kind: str, apiGroup: str, name: str, namespace: str }, ["kind", "name"], { "x-kubernetes-map-type": "atomic" }),
  [`${RBAC}RoleRef`]: obj({ apiGroup: str, kind: str, name: str }, ["apiGroup", "kind", "name"], { "x-kubernetes-map-type": "atomic" }),
  [`${RBAC}Role`]: typed("Role", { rules: arr(ref(`${RBAC}PolicyRule`)) }, "rbac.authorization.k8s.io"),
  [`${RBAC}ClusterRole`]: typed("ClusterRole", { rules: arr(ref(`${RBAC}PolicyRule`)), aggregationRule: ref(`${RBAC}AggregationRule`) }, "rbac.authorization.k8s.io"),
  [`${RBAC}RoleBinding`]: typed("RoleBinding", { subjects: arr(ref(`${RBAC}Subject`)), roleRef: ref(`${RBAC}RoleRef`) }, "rbac.authorization.k8s.io", "v1", ["roleRef"]),
  [`${RBAC}ClusterRoleBinding`]: typed("ClusterRoleBinding", { subjects: arr(ref(`${RBAC}Subject`)), roleRef: ref(`${RBAC}RoleRef`) }, "rbac.authorization.k8s.io", "v1", ["roleRef"]),
});

// scheduling.k8s.io/v1 PriorityClass and coordination.k8s.io/v1 Lease (its times are MicroTime).
Object.assign(SCHEMAS, {
  [`${SCHEDULING}PriorityClass`]: typed("PriorityClass", { value: int, globalDefault: bool, description: str, preemptionPolicy: str }, "scheduling.k8s.io", "v1", ["value"]),
  [`${META}MicroTime`]: { type: "string", format: "date-time" },
  [`${COORDINATION}LeaseSpec`]: obj({
    holderIdentity: str, leaseDurationSeconds: int, acquireTime: ref(`${META}MicroTime`), renewTime: ref(`${META}MicroTime`), leaseTransitions: int,
    strategy: str, preferredHolder: str,
  }),
  [`${COORDINATION}Lease`]: typed("Lease", { spec: ref(`${COORDINATION}LeaseSpec`) }, "coordination.k8s.io"),
});

// networking.k8s.io/v1: NetworkPolicy, Ingress, IngressClass (stored; nothing enforces or routes by them).
Object.assign(SCHEMAS, {
  [`${NETWORKING}IPBlock`]: obj({ cidr: str, except: arr(str) }, ["cidr"]),
  [`${NETWORKING}NetworkPolicyPeer`]: obj({ podSelector: ref(`${META}LabelSelector`), namespaceSelector: ref(`${META}LabelSelector`), ipBlock: ref(`${NETWORKING}IPBlock`) }),
  [`${NETWORKING}NetworkPolicyPort`]: obj({ protocol: str, port: intOrString, endPort: int }),
  [`${NETWORKING}NetworkPolicyIngressRule`]: obj({ ports: arr(ref(`${NETWORKING}NetworkPolicyPort`)), from: arr(ref(`${NETWORKING}NetworkPolicyPeer`)) }),
  [`${NETWORKING}NetworkPolicyEgressRule`]: obj({ ports: arr(ref(`${NETWORKING}NetworkPolicyPort`)), to: arr(ref(`${NETWORKING}NetworkPolicyPeer`)) }),
  [`${NETWORKING}NetworkPolicySpec`]: obj({
    podSelector: ref(`${META}LabelSelector`), ingress: arr(ref(`${NETWORKING}NetworkPolicyIngressRule`)), egress: arr(ref(`${NETWORKING}NetworkPolicyEgressRule`)), policyTypes: arr(str),
  }),
  [`${NETWORKING}NetworkPolicy`]: typed("NetworkPolicy", { spec: ref(`${NETWORKING}NetworkPolicySpec`) }, "networking.k8s.io"),
  [`${NETWORKING}ServiceBackendPort`]: obj({ name: str, number: int }, undefined, { "x-kubernetes-map-type": "atomic" }),
  [`${NETWORKING}IngressServiceBackend`]: obj({ name: str, port: ref(`${NETWORKING}ServiceBackendPort`) }, ["name"]),
  [`${NETWORKING}IngressBackend`]: obj({ service: ref(`${NETWORKING}IngressServiceBackend`), resource: ref(`${CORE}TypedLocalObjectReference`) }),
  [`${NETWORKING}HTTPIngressPath`]: obj({ path: str, pathType: str, backend: ref(`${NETWORKING}IngressBackend`) }, ["pathType", "backend"]),
  [`${NETWORKING}HTTPIngressRuleValue`]: obj({ paths: arr(ref(`${NETWORKING}HTTPIngressPath`)) }, ["paths"]),
  [`${NETWORKING}IngressRule`]: obj({ host: str, http: ref(`${NETWORKING}HTTPIngressRuleValue`) }),
  [`${NETWORKING}IngressTLS`]: obj({ hosts: arr(str), secretName: str }),
  [`${NETWORKING}IngressSpec`]: obj({
    ingressClassName: str, defaultBackend: ref(`${NETWORKING}IngressBackend`), tls: arr(ref(`${NETWORKING}IngressTLS`)), rules: arr(ref(`${NETWORKING}IngressRule`)),
  }),
  [`${NETWORKING}IngressPortStatus`]: obj({ port: int, protocol: str, error: str }, ["port", "protocol"]),
  [`${NETWORKING}IngressLoadBalancerIngress`]: obj({ ip: str, hostname: str, ports: arr(ref(`${NETWORKING}IngressPortStatus`)) }),
  [`${NETWORKING}IngressStatus`]: obj({ loadBalancer: obj({ ingress: arr(ref(`${NETWORKING}IngressLoadBalancerIngress`)) }) }),
  [`${NETWORKING}Ingress`]: typed("Ingress", { spec: ref(`${NETWORKING}IngressSpec`), status: ref(`${NETWORKING}IngressStatus`) }, "networking.k8s.io"),
  [`${NETWORKING}IngressClassParametersReference`]: obj({ apiGroup: str, kind: str, name: str, scope: str, namespace: str }, ["kind", "name"]),
  [`${NETWORKING}IngressClassSpec`]: obj({ controller: str, parameters: ref(`${NETWORKING}IngressClassParametersReference`) }),
  [`${NETWORKING}IngressClass`]: typed("IngressClass", { spec: ref(`${NETWORKING}IngressClassSpec`) }, "networking.k8s.io"),
});

// discovery.k8s.io/v1: EndpointSlice. Its lists are atomic (a strategic merge patch replaces
// them whole); an endpoint's addresses are a set, as Kubernetes declares them.
Object.assign(SCHEMAS, {
  [`${DISCOVERY}EndpointConditions`]: obj({ ready: bool, serving: bool, terminating: bool }),
  [`${DISCOVERY}ForZone`]: obj({ name: str }, ["name"]),
  [`${DISCOVERY}ForNode`]: obj({ name: str }, ["name"]),
  [`${DISCOVERY}EndpointHints`]: obj({ forZones: arr(ref(`${DISCOVERY}ForZone`)), forNodes: arr(ref(`${DISCOVERY}ForNode`)) }),
  [`${DISCOVERY}Endpoint`]: obj({
    addresses: { ...arr(str), "x-kubernetes-list-type": "set" },
    conditions: ref(`${DISCOVERY}EndpointConditions`), hostname: str, targetRef: ref(`${CORE}ObjectReference`),
    deprecatedTopology: map(str), nodeName: str, zone: str, hints: ref(`${DISCOVERY}EndpointHints`),
  }, ["addresses"]),
  [`${DISCOVERY}EndpointPort`]: obj({ name: str, protocol: str, port: int, appProtocol: str }, undefined, { "x-kubernetes-map-type": "atomic" }),
  [`${DISCOVERY}EndpointSlice`]: typed("EndpointSlice", {
    addressType: str, endpoints: arr(ref(`${DISCOVERY}Endpoint`)), ports: arr(ref(`${DISCOVERY}EndpointPort`)),
  }, "discovery.k8s.io", "v1", ["addressType", "endpoints"]),
});

for (const [resource, info] of Object.entries(RESOURCES)) {
  const P = prefixOf(resource as Resource);
  const [group, version] = apiVersionOf(resource as Resource).includes("/") ? apiVersionOf(resource as Resource).split("/") : ["", "v1"];
  SCHEMAS[`${P}${info.kind}List`] = obj(
    { apiVersion: str, kind: str, metadata: ref(`${META}ListMeta`), items: arr(ref(`${P}${info.kind}`)) },
    ["items"],
    gvk(`${info.kind}List`, group, version),
  );
}

// ---------------------------------------------------------------------------------------------
// paths

const param = (name: string, inWhere: "query" | "path", schema: Schema = str, required = false): Schema => ({
  name, in: inWhere, schema, ...(required || inWhere === "path" ? { required: true } : {})
});
const WRITE_PARAMS = [param("dryRun", "query"), param("fieldManager", "query"), param("fieldValidation", "query")];
const LIST_PARAMS = [
  "labelSelector", "fieldSelector", "continue", "resourceVersion", "resourceVersionMatch",
].map((n) => param(n, "query")).concat([param("limit", "query", int), param("timeoutSeconds", "query", int), param("watch", "query", bool), param("allowWatchBookmarks", "query", bool)]);

const json = (schema: Schema) => ({ "application/json": { schema } });
const ok = (schema: Schema, code = "200") => ({ [code]: { description: "OK", content: json(schema) }, "401": { description: "Unauthorized" } });
const patchBody = {
  required: true,
  content: Object.fromEntries(
    ["application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"].map((t) => [t, { schema: { type: "object" } }]),
  ),
};

function opOf(action: string, kind: string, id: string, extra: Schema, group = "", version = "v1"): Schema {
  return {
    operationId: id,
    tags: ["core_v1"],
    "x-kubernetes-action": action,
    "x-kubernetes-group-version-kind": { group, kind, version },
    ...extra,
  };
}

function buildPaths(groupVersion = "v1"): Record<string, Schema> {
  const paths: Record<string, Schema> = {};
  const [group, version] = groupVersion.includes("/") ? groupVersion.split("/") : ["", groupVersion];
  const root = groupVersion === "v1" ? "/api/v1" : `/apis/${groupVersion}`;
  // Operation ids as Kubernetes names them: createCoreV1NamespacedPod, createAppsV1NamespacedDeployment.
  const cap = (w: string) => w[0].toUpperCase() + w.slice(1);
  const opGroup = `${group ? group.replace(/\.k8s\.io$/, "").split(".").map(cap).join("") : "Core"}${cap(version)}`;
  const op = (action: string, kind: string, id: string, extra: Schema, g = group, v = version) => opOf(action, kind, id.replace("CoreV1", opGroup), extra, g, v);
  for (const [resource, info] of Object.entries(RESOURCES) as [Resource, (typeof RESOURCES)[Resource]][]) {
    if (apiVersionOf(resource) !== groupVersion) continue;
    const K = info.kind;
    const schema = ref(`${prefixOf(resource)}${K}`);
    const list = ref(`${prefixOf(resource)}${K}List`);
    const nsParam = info.namespaced ? [param("namespace", "path")] : [];
    const base = info.namespaced ? `${root}/namespaces/{namespace}/${resource}` : `${root}/${resource}`;
    const idPart = `${info.namespaced ? "Namespaced" : ""}${K}`;
    paths[base] = {
      parameters: nsParam,
      get: op("list", K, `listCoreV1${idPart}`, { parameters: LIST_PARAMS, responses: ok(list) }),
      post: op("post", K, `createCoreV1${idPart}`, { parameters: WRITE_PARAMS, requestBody: { required: true, content: json(schema) }, responses: ok(schema, "201") }),
      delete: op("deletecollection", K, `deleteCoreV1Collection${idPart}`, { parameters: LIST_PARAMS, responses: ok(ref(`${META}Status`)) }),
    };
    if (info.namespaced) {
      paths[`${root}/${resource}`] = { get: op("list", K, `listCoreV1${K}ForAllNamespaces`, { parameters: LIST_PARAMS, responses: ok(list) }) };
    }
    const itemParams = [param("name", "path"), ...nsParam];
    paths[`${base}/{name}`] = {
      parameters: itemParams,
      get: op("get", K, `readCoreV1${idPart}`, { responses: ok(schema) }),
      put: op("put", K, `replaceCoreV1${idPart}`, { parameters: WRITE_PARAMS, requestBody: { required: true, content: json(schema) }, responses: ok(schema) }),
      patch: op("patch", K, `patchCoreV1${idPart}`, { parameters: [...WRITE_PARAMS, param("force", "query", bool)], requestBody: patchBody, responses: ok(schema) }),
      delete: op("delete", K, `deleteCoreV1${idPart}`, {
        parameters: [param("gracePeriodSeconds", "query", int), param("propagationPolicy", "query"), param("dryRun", "query"), param("ignoreStoreReadErrorWithClusterBreakingPotential", "query", bool)],
        requestBody: { content: json(ref(`${META}DeleteOptions`)) },
        responses: ok(schema),
      }),
    };
    if (["pods", "replicationcontrollers", "services", "nodes", "namespaces", "deployments", "replicasets", "daemonsets", "statefulsets", "jobs", "cronjobs", "persistentvolumeclaims", "poddisruptionbudgets", "horizontalpodautoscalers"].includes(resource)) {
      paths[`${base}/{name}/status`] = {
        parameters: itemParams,
        get: op("get", K, `readCoreV1${idPart}Status`, { responses: ok(schema) }),
        put: op("put", K, `replaceCoreV1${idPart}Status`, { parameters: WRITE_PARAMS, requestBody: { required: true, content: json(schema) }, responses: ok(schema) }),
        patch: op("patch", K, `patchCoreV1${idPart}Status`, { parameters: WRITE_PARAMS, requestBody: patchBody, responses: ok(schema) }),
      };
    }
  }
  if (groupVersion !== "v1") return paths;
  const podBase = "/api/v1/namespaces/{namespace}/pods/{name}";
  const itemParams = [param("name", "path"), param("namespace", "path")];
  paths[`${podBase}/log`] = {
    parameters: itemParams,
    get: op("get", "Pod", "readCoreV1NamespacedPodLog", {
      parameters: ["container", "follow", "previous", "timestamps", "tailLines"].map((n) => param(n, "query")),
      responses: { "200": { description: "OK", content: { "text/plain": { schema: str } } } },
    }),
  };
  paths[`${podBase}/binding`] = {
    parameters: itemParams,
    post: op("post", "Binding", "createCoreV1NamespacedPodBinding", {
      parameters: WRITE_PARAMS,
      requestBody: { required: true, content: json(ref(`${CORE}Binding`)) },
      responses: ok(ref(`${CORE}Binding`), "201"),
    }),
  };
  const scale = ref("io.k8s.api.autoscaling.v1.Scale");
  paths["/api/v1/namespaces/{namespace}/replicationcontrollers/{name}/scale"] = {
    parameters: itemParams,
    get: op("get", "Scale", "readCoreV1NamespacedReplicationControllerScale", { responses: ok(scale) }, "autoscaling"),
    put: op("put", "Scale", "replaceCoreV1NamespacedReplicationControllerScale", { parameters: WRITE_PARAMS, requestBody: { required: true, content: json(scale) }, responses: ok(scale) }, "autoscaling"),
    patch: op("patch", "Scale", "patchCoreV1NamespacedReplicationControllerScale", { parameters: WRITE_PARAMS, requestBody: patchBody, responses: ok(scale) }, "autoscaling"),
  };
  return paths;
}

let coreV1: Schema | undefined;
let coreV1Hash: string | undefined;

/** `/openapi/v3/api/v1`: paths and component schemas of the core group. */
export function openApiV3CoreV1(): Schema {
  coreV1 ??= {
    openapi: "3.0.0",
    info: { title: "Berth", version: "v1.32.0-berth" },
    paths: buildPaths(),
    components: {
      schemas: SCHEMAS,
      securitySchemes: { BearerToken: { type: "apiKey", name: "authorization", in: "header", description: "Bearer token from the kubeconfig" } },
    },
    security: [{ BearerToken: [] }],
  };
  return coreV1;
}

const groupDocs = new Map<string, Schema>();

/** `/openapi/v3/apis/{group}/{version}`: paths of that group/version (components shared with core), or undefined. */
export function openApiV3Group(groupVersion: string): Schema | undefined {
  if (!(Object.keys(RESOURCES) as Resource[]).some((r) => apiVersionOf(r) === groupVersion && groupVersion !== "v1")) return undefined;
  let doc = groupDocs.get(groupVersion);
  if (!doc) {
    const core = openApiV3CoreV1();
    doc = { ...core, paths: buildPaths(groupVersion) };
    groupDocs.set(groupVersion, doc);
  }
  return doc;
}

const hashOf = (doc: Schema) => createHash("sha512").update(JSON.stringify(doc)).digest("hex").slice(0, 64).toUpperCase();

/** `/openapi/v3`: the index kubectl starts from; the hash lets it cache the document. */
export function openApiV3Index(): Schema {
  coreV1Hash ??= hashOf(openApiV3CoreV1());
  const paths: Record<string, Schema> = { "api/v1": { serverRelativeURL: `/openapi/v3/api/v1?hash=${coreV1Hash}` } };
  const gvs = new Set((Object.keys(RESOURCES) as Resource[]).map(apiVersionOf).filter((gv) => gv !== "v1"));
  for (const gv of gvs) paths[`apis/${gv}`] = { serverRelativeURL: `/openapi/v3/apis/${gv}?hash=${hashOf(openApiV3Group(gv)!)}` };
  return { paths };
}

/** `/openapi/v2` as JSON: the same schemas as Swagger 2.0 `definitions`. */
export function openApiV2(): Schema {
  const text = JSON.stringify(SCHEMAS).replaceAll("#/components/schemas/", "#/definitions/");
  return { swagger: "2.0", info: { title: "Berth", version: "v1.32.0-berth" }, paths: {}, definitions: JSON.parse(text) };
}

/** The component schema name of a kind, e.g. `io.k8s.api.core.v1.Pod`. */
export function schemaNameOf(kind: string): string | undefined {
  if (kind === "Scale") return "io.k8s.api.autoscaling.v1.Scale";
  for (const p of [CORE, APPS, BATCH, POLICY, AUTOSCALING, RBAC, SCHEDULING, COORDINATION, NETWORKING, DISCOVERY]) if (Object.hasOwn(SCHEMAS, `${p}${kind}`)) return `${p}${kind}`;
  return undefined;
}

/**
 * Paths (`spec.containers[0].foo`) of fields in `value` that the kind's schema does not declare —
 * what `fieldValidation=Strict` rejects and `Warn` reports. Values of the wrong type are left to
 * the API's validation.
 */
export function unknownFields(kind: string, value: unknown): string[] {
  const name = schemaNameOf(kind);
  if (!name) return [];
  const out: string[] = [];
  walk(SCHEMAS[name], value, "", out);
  return out;
}

function resolve(s: Schema): Schema {
  const r = s.$ref;
  return typeof r === "string" ? SCHEMAS[r.slice("#/components/schemas/".length)] ?? {} : s;
}

function walk(schema: Schema, value: unknown, path: string, out: string[]): void {
  const s = resolve(schema);
  if (Array.isArray(value)) {
    if (s.type === "array" && s.items) value.forEach((v, i) => walk(s.items as Schema, v, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  if (s.additionalProperties) {
    for (const [k, v] of Object.entries(value)) walk(s.additionalProperties as Schema, v, `${path}[${k}]`, out);
    return;
  }
  const props = s.properties as Record<string, Schema> | undefined;
  if (!props) return;
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith("$")) continue; // strategic merge patch directives
    const p = path ? `${path}.${k}` : k;
    if (!Object.hasOwn(props, k)) out.push(p);
    else walk(props[k], v, p, out);
  }
}
