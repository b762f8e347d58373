/**
 * zod schemas for the core/v1 shapes in types.ts: the type and format of every field.
 *
 * Objects are `looseObject` (unknown fields pass through, as Kubernetes ignores them). Custom
 * problems carry `params: { reason, detail }` so that validation.ts can report them with the
 * Kubernetes cause reason. Rules that relate several fields live in validation_rules.ts.
 */
import { z } from "zod";
import { isQuantity, parseQuantity } from "../../model/quantity.ts";
import { isQuotaName, parseQuotaQuantity } from "../../model/quota.ts";
import { labelKeyProblem, labelValueProblem } from "../../model/selector.ts";
import type { Resource } from "../../model/types.ts";
import {
  CAUSE,
  DNS1123_LABEL_MESSAGE,
  DNS1123_SUBDOMAIN_MESSAGE,
  ianaSvcNameProblem,
  isIPv4,
  pathSegmentProblems,
} from "./validation_util.ts";
import { configMapSchema, secretSchema } from "./validation_config.ts";

type Ctx = z.RefinementCtx;

function problem(ctx: Ctx, reason: string, detail: string, input?: unknown): void {
  ctx.addIssue({ code: "custom", message: detail, params: { reason, detail }, ...(input !== undefined ? { input } : {}) });
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const notAMap = { params: { reason: CAUSE.invalid, detail: "must be a map of string keys to string values" } };

// ---------------------------------------------------------------------------------------------
// Names, strings, numbers

const LABEL_FORMAT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN_FORMAT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function nameRule(max: number, format: RegExp, message: string) {
  return z.string().superRefine((v, ctx) => {
    // The empty string is reported as missing by the rules pass, where "required" is known.
    if (v === "") return;
    if (v.length > max) problem(ctx, CAUSE.tooLong, `may not be more than ${max} bytes`);
    if (!format.test(v)) problem(ctx, CAUSE.invalid, message);
  });
}

/** A name that must be an RFC 1123 label (≤ 63). */
export const dnsLabel = nameRule(63, LABEL_FORMAT, DNS1123_LABEL_MESSAGE);

/** A name that must be an RFC 1123 subdomain (≤ 253). */
export const dnsSubdomain = nameRule(253, SUBDOMAIN_FORMAT, DNS1123_SUBDOMAIN_MESSAGE);

const nonNegInt = z.number().int().min(0);
const port = z.number().int().min(1).max(65535);

/** An IANA service name, used for container port names. */
const ianaName = z.string().superRefine((v, ctx) => {
  const bad = ianaSvcNameProblem(v);
  if (bad) problem(ctx, CAUSE.invalid, bad);
});

/** A port given as a number (1–65535) or as the name of a container port. A string of digits is not a name. */
const portRef = z
  .custom<number | string>((v) => typeof v === "number" || typeof v === "string", {
    params: { reason: CAUSE.invalid, detail: "must be a port number or a port name", type: true },
  })
  .superRefine((v, ctx) => {
    if (typeof v === "number") {
      if (!Number.isInteger(v) || v < 1 || v > 65535) problem(ctx, CAUSE.invalid, "must be between 1 and 65535, inclusive");
    } else {
      const bad = ianaSvcNameProblem(v);
      if (bad) problem(ctx, CAUSE.invalid, `a port name ${bad}`);
    }
  });

const ipv4 = z.string().superRefine((v, ctx) => {
  if (!isIPv4(v)) problem(ctx, CAUSE.invalid, "must be a valid IPv4 address, (e.g. 10.9.8.7)");
});

const timestamp = z.string().superRefine((v, ctx) => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v) || Number.isNaN(Date.parse(v))) {
    problem(ctx, CAUSE.invalid, "must be an RFC 3339 time, e.g. 2006-01-02T15:04:05Z");
  }
});

const absolutePath = z.string().superRefine((v, ctx) => {
  if (v === "") problem(ctx, CAUSE.required, "");
  else if (!v.startsWith("/")) problem(ctx, CAUSE.invalid, "must be an absolute path");
});

// ---------------------------------------------------------------------------------------------
// Maps

/** Labels (and equality selectors): qualified-name keys, label values. Problems are reported at the map, as Kubernetes does. */
export const labelMap = z.custom<Record<string, string>>(isMap, notAMap).superRefine((m, ctx) => {
  for (const [k, v] of Object.entries(m)) {
    const keyBad = labelKeyProblem(k);
    if (keyBad) problem(ctx, CAUSE.invalid, keyBad, k);
    if (typeof v !== "string") problem(ctx, CAUSE.invalid, `the value of "${k}" must be a string`, v);
    else {
      const valueBad = labelValueProblem(v);
      if (valueBad) problem(ctx, CAUSE.invalid, valueBad, v);
    }
  }
});

const MAX_ANNOTATIONS_BYTES = 256 * 1024;

const annotationMap = z.custom<Record<string, string>>(isMap, notAMap).superRefine((m, ctx) => {
  let size = 0;
  for (const [k, v] of Object.entries(m)) {
    const keyBad = labelKeyProblem(k.toLowerCase());
    if (keyBad) problem(ctx, CAUSE.invalid, keyBad, k);
    if (typeof v !== "string") problem(ctx, CAUSE.invalid, `the value of "${k}" must be a string`, v);
    else size += k.length + v.length;
  }
  if (size > MAX_ANNOTATIONS_BYTES) problem(ctx, CAUSE.tooLong, `must have at most ${MAX_ANNOTATIONS_BYTES} bytes`);
});

/** Resource name → quantity ("cpu": "100m"). Numbers are accepted as YAML writes them (`cpu: 1`) and kept as strings. */
const quantityMap = z
  .custom<Record<string, string | number>>(isMap, { params: { reason: CAUSE.invalid, detail: "must be a map of resource names to quantities" } })
  .superRefine((m, ctx) => {
    for (const [k, v] of Object.entries(m)) {
      const keyBad = labelKeyProblem(k);
      if (keyBad) problem(ctx, CAUSE.invalid, `resource name ${keyBad}`, k);
      if ((typeof v !== "string" && typeof v !== "number") || !isQuantity(v)) {
        problem(ctx, CAUSE.invalid, `the quantity of "${k}" must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`, v);
      } else if (parseQuantity(v) < 0) {
        problem(ctx, CAUSE.invalid, `the quantity of "${k}" must be greater than or equal to 0`, v);
      }
    }
  })
  .transform((m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)])) as Record<string, string>);

const quantity = z
  .custom<string | number>((v) => (typeof v === "string" || typeof v === "number") && isQuantity(v), {
    params: { reason: CAUSE.invalid, detail: "must be a quantity such as 128Mi or 1G" },
  })
  .transform((v) => String(v));

// ---------------------------------------------------------------------------------------------
// Metadata

const ownerReference = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

function objectMeta(name: z.ZodType<string>) {
  return z.looseObject({
    name: name.optional(),
    generateName: z.string().optional(),
    namespace: dnsLabel.optional(),
    uid: z.string().optional(),
    resourceVersion: z.string().optional(),
    generation: nonNegInt.optional(),
    creationTimestamp: timestamp.optional(),
    deletionTimestamp: timestamp.optional(),
    deletionGracePeriodSeconds: nonNegInt.optional(),
    labels: labelMap.optional(),
    annotations: annotationMap.optional(),
    ownerReferences: z.array(ownerReference).optional(),
    finalizers: z.array(z.string()).optional(),
  });
}

const condition = z.looseObject({
  type: z.string().min(1),
  status: z.enum(["True", "False", "Unknown"]),
  reason: z.string().optional(),
  message: z.string().optional(),
  lastTransitionTime: timestamp.optional(),
  lastProbeTime: timestamp.optional(),
  lastHeartbeatTime: timestamp.optional(),
  lastUpdateTime: timestamp.optional(),
});

// ---------------------------------------------------------------------------------------------
// Pod

const keySelector = z.looseObject({ name: z.string().min(1), key: z.string().min(1), optional: z.boolean().optional() });

const envVar = z.looseObject({
  name: z.string().superRefine((v, ctx) => {
    if (v === "") problem(ctx, CAUSE.required, "");
    else if (!/^[\x20-\x3c\x3e-\x7e]+$/.test(v)) {
      problem(ctx, CAUSE.invalid, "a valid environment variable name must consist only of printable ASCII characters other than '='");
    }
  }),
  value: z.string().optional(),
  valueFrom: z.looseObject({
    fieldRef: z.looseObject({ fieldPath: z.string(), apiVersion: z.string().optional() }).optional(),
    resourceFieldRef: z.looseObject({ resource: z.string().min(1), containerName: z.string().optional(), divisor: quantity.optional() }).optional(),
    configMapKeyRef: keySelector.optional(),
    secretKeyRef: keySelector.optional(),
  }).optional(),
});

const envFromSource = z.looseObject({
  prefix: z.string().optional(),
  configMapRef: z.looseObject({ name: z.string().min(1), optional: z.boolean().optional() }).optional(),
  secretRef: z.looseObject({ name: z.string().min(1), optional: z.boolean().optional() }).optional(),
});

const containerPort = z.looseObject({
  name: ianaName.optional(),
  containerPort: port,
  hostPort: z.number().int().min(0).max(65535).optional(),
  hostIP: ipv4.optional(),
  protocol: z.enum(["TCP", "UDP"]).optional(),
});

/**
 * A gRPC probe's port: an int32 only (Kubernetes' GRPCAction has no named ports), 1–65535. A
 * missing port decodes to 0 in Kubernetes, which then fails the same range check.
 */
const grpcPort = z.custom<number>(() => true).superRefine((v: unknown, ctx) => {
  const range = "must be between 1 and 65535, inclusive";
  if (v === undefined) problem(ctx, CAUSE.invalid, range, 0);
  else if (typeof v !== "number") problem(ctx, CAUSE.invalid, `must be an integer, got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v === "object" ? "an object" : typeof v}`, v);
  else if (!Number.isInteger(v)) problem(ctx, CAUSE.invalid, "must be an integer", v);
  else if (v < 1 || v > 65535) problem(ctx, CAUSE.invalid, range, v);
});

const probe = z.looseObject({
  exec: z.looseObject({ command: z.array(z.string()).min(1) }).optional(),
  httpGet: z
    .looseObject({
      path: z.string().optional(),
      port: portRef,
      host: z.string().optional(),
      scheme: z.enum(["HTTP", "HTTPS"]).optional(),
      httpHeaders: z.array(z.looseObject({ name: z.string().min(1), value: z.string() })).optional(),
    })
    .optional(),
  tcpSocket: z.looseObject({ port: portRef, host: z.string().optional() }).optional(),
  grpc: z.looseObject({ port: grpcPort, service: z.string().optional() }).optional(),
  initialDelaySeconds: nonNegInt.optional(),
  periodSeconds: nonNegInt.optional(),
  timeoutSeconds: nonNegInt.optional(),
  failureThreshold: nonNegInt.optional(),
  successThreshold: nonNegInt.optional(),
});

/** A path inside a volume (subPath, subPathExpr): relative, without "..". */
const relativePath = z.string().superRefine((v, ctx) => {
  if (v.startsWith("/")) problem(ctx, CAUSE.invalid, "must be a relative path");
  else if (v.split("/").includes("..")) problem(ctx, CAUSE.invalid, "must not contain '..'");
});

const volumeMount = z.looseObject({
  name: z.string().min(1),
  mountPath: absolutePath,
  readOnly: z.boolean().optional(),
  subPath: relativePath.optional(),
  subPathExpr: relativePath.optional(),
  mountPropagation: z.enum(["None", "HostToContainer", "Bidirectional"]).optional(),
});

const lifecycleHandler = z.looseObject({
  exec: z.looseObject({ command: z.array(z.string()).min(1) }).optional(),
  httpGet: z.looseObject({
    path: z.string().optional(),
    port: portRef,
    host: z.string().optional(),
    scheme: z.enum(["HTTP", "HTTPS"]).optional(),
    httpHeaders: z.array(z.looseObject({ name: z.string().min(1), value: z.string() })).optional(),
  }).optional(),
});

const fileMode = z.number().int().min(0).max(0o777);
const keyToPath = z.looseObject({ key: z.string().min(1), path: z.string().min(1), mode: fileMode.optional() });

/** A Linux user or group ID, as kube-apiserver's ValidateNonnegativeField for IDs. */
const linuxId = z.number().int().superRefine((v, ctx) => {
  if (v < 0 || v > 2147483647) problem(ctx, CAUSE.invalid, "must be between 0 and 2147483647, inclusive");
});

/** The relation of `type` and `localhostProfile` is checked in validation_rules.ts. */
const seccompProfile = z.looseObject({
  type: z.enum(["RuntimeDefault", "Unconfined", "Localhost"]),
  localhostProfile: z.string().optional(),
});

const seLinuxOptions = z.looseObject({ user: z.string().optional(), role: z.string().optional(), type: z.string().optional(), level: z.string().optional() });

/** A container's securityContext: what nodes honour, and what admission refuses (runtime/security/admission.ts). */
const securityContext = z.looseObject({
  runAsUser: linuxId.optional(),
  runAsGroup: linuxId.optional(),
  runAsNonRoot: z.boolean().optional(),
  readOnlyRootFilesystem: z.boolean().optional(),
  allowPrivilegeEscalation: z.boolean().optional(),
  privileged: z.boolean().optional(),
  capabilities: z.looseObject({ add: z.array(z.string()).optional(), drop: z.array(z.string()).optional() }).optional(),
  seccompProfile: seccompProfile.optional(),
  seLinuxOptions: seLinuxOptions.optional(),
  procMount: z.enum(["Default", "Unmasked"]).optional(),
  appArmorProfile: z.looseObject({ type: z.enum(["RuntimeDefault", "Unconfined", "Localhost"]), localhostProfile: z.string().optional() }).optional(),
});

const podSecurityContext = z.looseObject({
  runAsUser: linuxId.optional(),
  runAsGroup: linuxId.optional(),
  runAsNonRoot: z.boolean().optional(),
  supplementalGroups: z.array(linuxId).optional(),
  fsGroup: linuxId.optional(),
  fsGroupChangePolicy: z.enum(["Always", "OnRootMismatch"]).optional(),
  seccompProfile: seccompProfile.optional(),
  seLinuxOptions: seLinuxOptions.optional(),
  sysctls: z.array(z.looseObject({ name: z.string().min(1), value: z.string() })).optional(),
});

const container = z.looseObject({
  name: dnsLabel.superRefine((v, ctx) => {
    if (v === "") problem(ctx, CAUSE.required, "");
  }),
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  workingDir: z.string().optional(),
  env: z.array(envVar).optional(),
  ports: z.array(containerPort).optional(),
  resources: z.looseObject({ requests: quantityMap.optional(), limits: quantityMap.optional() }).optional(),
  volumeMounts: z.array(volumeMount).optional(),
  livenessProbe: probe.optional(),
  startupProbe: probe.optional(),
  readinessProbe: probe.optional(),
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).optional(),
  envFrom: z.array(envFromSource).optional(),
  lifecycle: z.looseObject({ postStart: lifecycleHandler.optional(), preStop: lifecycleHandler.optional() }).optional(),
  stdin: z.boolean().optional(),
  stdinOnce: z.boolean().optional(),
  tty: z.boolean().optional(),
  securityContext: securityContext.optional(),
  terminationMessagePath: z.string().optional(),
  terminationMessagePolicy: z.enum(["File", "FallbackToLogsOnError"]).optional(),
});

const downwardAPIVolumeFile = z.looseObject({
  path: z.string().min(1),
  fieldRef: z.looseObject({ fieldPath: z.string(), apiVersion: z.string().optional() }).optional(),
  resourceFieldRef: z.looseObject({ resource: z.string().min(1), containerName: z.string().optional(), divisor: quantity.optional() }).optional(),
  mode: fileMode.optional(),
});

/**
 * One source of a projected volume. A token's `path` and `expirationSeconds` are only typed here:
 * their presence and range are validation_volumes.ts's (kube's words, one cause each).
 */
const volumeProjection = z.looseObject({
  configMap: z.looseObject({ name: z.string().min(1), items: z.array(keyToPath).optional(), optional: z.boolean().optional() }).optional(),
  secret: z.looseObject({ name: z.string().min(1), items: z.array(keyToPath).optional(), optional: z.boolean().optional() }).optional(),
  downwardAPI: z.looseObject({ items: z.array(downwardAPIVolumeFile).optional() }).optional(),
  serviceAccountToken: z.looseObject({ audience: z.string().optional(), expirationSeconds: z.number().int().optional(), path: z.string().optional() }).optional(),
});

const volume = z.looseObject({
  name: dnsLabel.superRefine((v, ctx) => {
    if (v === "") problem(ctx, CAUSE.required, "");
  }),
  emptyDir: z.looseObject({ medium: z.enum(["", "Memory"]).optional(), sizeLimit: quantity.optional() }).optional(),
  hostPath: z
    .looseObject({
      path: absolutePath,
      type: z.enum(["", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"]).optional(),
    })
    .optional(),
  persistentVolumeClaim: z.looseObject({ claimName: dnsSubdomain.pipe(z.string().min(1)), readOnly: z.boolean().optional() }).optional(),
  configMap: z.looseObject({ name: z.string().min(1), items: z.array(keyToPath).optional(), defaultMode: fileMode.optional(), optional: z.boolean().optional() }).optional(),
  secret: z.looseObject({ secretName: z.string().min(1), items: z.array(keyToPath).optional(), defaultMode: fileMode.optional(), optional: z.boolean().optional() }).optional(),
  downwardAPI: z.looseObject({ items: z.array(downwardAPIVolumeFile).optional(), defaultMode: fileMode.optional() }).optional(),
  projected: z.looseObject({ sources: z.array(volumeProjection).optional(), defaultMode: fileMode.optional() }).optional(),
});

/** Berth node names are RFC 1123 labels, so a pod bound elsewhere is caught at the edge. */
const nodeName = dnsLabel;

const taintEffect = z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]);

/** Keys, values and the operator's rules are checked in validation_rules.ts (they relate fields). */
const toleration = z.looseObject({
  key: z.string().optional(),
  // "" means Equal, as Kubernetes reads it.
  operator: z.enum(["Exists", "Equal", ""]).optional(),
  value: z.string().optional(),
  effect: z.union([taintEffect, z.literal("")]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const nodeSelectorRequirement = z.looseObject({
  key: z.string(),
  operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]),
  values: z.array(z.string()).optional(),
});

const nodeSelectorTerm = z.looseObject({
  matchExpressions: z.array(nodeSelectorRequirement).optional(),
  matchFields: z.array(nodeSelectorRequirement).optional(),
});

const labelSelectorSpec = z.looseObject({
  matchLabels: labelMap.optional(),
  matchExpressions: z.array(z.looseObject({
    key: z.string().min(1),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).optional(),
  })).optional(),
});

/** An inter-pod (anti-)affinity term; what Berth does not serve of it is refused in validation_rules.ts. */
const podAffinityTerm = z.looseObject({
  labelSelector: labelSelectorSpec.optional(),
  namespaces: z.array(z.string()).optional(),
  namespaceSelector: labelSelectorSpec.optional(),
  topologyKey: z.string(),
});

const podAffinity = z.looseObject({
  requiredDuringSchedulingIgnoredDuringExecution: z.array(podAffinityTerm).optional(),
  preferredDuringSchedulingIgnoredDuringExecution: z.array(z.looseObject({ weight: z.number().int(), podAffinityTerm })).optional(),
});

/** A topology spread constraint; kube's cross-field rules are in validation_rules.ts. */
const topologySpreadConstraint = z.looseObject({
  maxSkew: z.number().int(),
  topologyKey: z.string(),
  whenUnsatisfiable: z.string(),
  labelSelector: labelSelectorSpec.optional(),
  minDomains: z.number().int().optional(),
  nodeAffinityPolicy: z.string().optional(),
  nodeTaintsPolicy: z.string().optional(),
  matchLabelKeys: z.array(z.string()).optional(),
});

const affinity = z.looseObject({
  nodeAffinity: z.looseObject({
    requiredDuringSchedulingIgnoredDuringExecution: z.looseObject({ nodeSelectorTerms: z.array(nodeSelectorTerm) }).optional(),
    preferredDuringSchedulingIgnoredDuringExecution: z.array(z.looseObject({ weight: z.number().int(), preference: nodeSelectorTerm })).optional(),
  }).optional(),
  podAffinity: podAffinity.optional(),
  podAntiAffinity: podAffinity.optional(),
});

export const podSpec = z.looseObject({
  initContainers: z.array(container).optional(),
  containers: z.array(container).min(1),
  serviceAccountName: z.string().optional(),
  /** Deprecated alias of serviceAccountName (a new pod takes it when only it is given). */
  serviceAccount: z.string().optional(),
  volumes: z.array(volume).optional(),
  restartPolicy: z.enum(["Always", "OnFailure", "Never"]).optional(),
  terminationGracePeriodSeconds: nonNegInt.optional(),
  nodeName: nodeName.optional(),
  nodeSelector: labelMap.optional(),
  hostname: dnsLabel.optional(),
  subdomain: dnsLabel.optional(),
  dnsPolicy: z.enum(["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"]).optional(),
  // The cross-field rules (counts, addresses, dnsPolicy None) are in validation_rules.ts.
  dnsConfig: z.looseObject({
    nameservers: z.array(z.string()).optional(),
    searches: z.array(z.string()).optional(),
    options: z.array(z.looseObject({ name: z.string().optional(), value: z.string().optional() })).optional(),
  }).optional(),
  hostAliases: z.array(z.looseObject({ ip: z.string(), hostnames: z.array(z.string()).optional() })).optional(),
  enableServiceLinks: z.boolean().optional(),
  shareProcessNamespace: z.boolean().optional(),
  schedulerName: z.string().optional(),
  automountServiceAccountToken: z.boolean().optional(),
  hostNetwork: z.boolean().optional(),
  hostPID: z.boolean().optional(),
  hostIPC: z.boolean().optional(),
  // What Berth does not serve of these is refused by name in validation_rules.ts.
  os: z.looseObject({ name: z.string() }).optional(),
  setHostnameAsFQDN: z.boolean().optional(),
  runtimeClassName: z.string().optional(),
  overhead: quantityMap.optional(),
  readinessGates: z.array(z.looseObject({ conditionType: z.string() })).optional(),
  activeDeadlineSeconds: z.number().int().optional(),
  imagePullSecrets: z.array(z.looseObject({ name: dnsSubdomain })).optional(),
  tolerations: z.array(toleration).optional(),
  affinity: affinity.optional(),
  topologySpreadConstraints: z.array(topologySpreadConstraint).optional(),
  securityContext: podSecurityContext.optional(),
  // Admission resolves the class into priority and preemptionPolicy (priority_admission.ts);
  // preemptionPolicy's values are checked with kube's words in validation_scheduling.ts.
  priorityClassName: dnsSubdomain.optional(),
  priority: z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1).optional(),
  preemptionPolicy: z.string().optional(),
});

const containerState = z.looseObject({
  waiting: z.looseObject({ reason: z.string().optional(), message: z.string().optional() }).optional(),
  running: z.looseObject({ startedAt: timestamp.optional() }).optional(),
  terminated: z
    .looseObject({
      exitCode: z.number().int(),
      signal: z.number().int().optional(),
      reason: z.string().optional(),
      message: z.string().optional(),
      startedAt: timestamp.optional(),
      finishedAt: timestamp.optional(),
      containerID: z.string().optional(),
    })
    .optional(),
});

/** Status is written by Berth's own components; its fields are typed but, beyond a container's name, not required. */
const podStatus = z.looseObject({
  phase: z.enum(["Pending", "Running", "Succeeded", "Failed", "Unknown"]).optional(),
  conditions: z.array(condition).optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  hostIP: z.string().optional(),
  podIP: z.string().optional(),
  podIPs: z.array(z.looseObject({ ip: z.string() })).optional(),
  startTime: timestamp.optional(),
  containerStatuses: z
    .array(
      z.looseObject({
        name: z.string(),
        state: containerState.optional(),
        lastState: containerState.optional(),
        ready: z.boolean().optional(),
        restartCount: nonNegInt.optional(),
        image: z.string().optional(),
        imageID: z.string().optional(),
        containerID: z.string().optional(),
        started: z.boolean().optional(),
      }),
    )
    .optional(),
});

const typeMeta = (kind: string) => ({ apiVersion: z.literal("v1").optional(), kind: z.literal(kind).optional() });

const pod = z.looseObject({
  ...typeMeta("Pod"),
  metadata: objectMeta(dnsSubdomain),
  spec: podSpec,
  status: podStatus.optional(),
});

// ---------------------------------------------------------------------------------------------
// ReplicationController

const replicationController = z.looseObject({
  ...typeMeta("ReplicationController"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    replicas: nonNegInt.optional(),
    minReadySeconds: nonNegInt.optional(),
    selector: labelMap.optional(),
    template: z.looseObject({ metadata: objectMeta(dnsSubdomain).optional(), spec: podSpec }),
  }),
  status: z
    .looseObject({
      replicas: nonNegInt.optional(),
      fullyLabeledReplicas: nonNegInt.optional(),
      readyReplicas: nonNegInt.optional(),
      availableReplicas: nonNegInt.optional(),
      observedGeneration: nonNegInt.optional(),
      conditions: z.array(condition).optional(),
    })
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// apps/v1 ReplicaSet, Deployment

const appsTypeMeta = (kind: string) => ({ apiVersion: z.literal("apps/v1").optional(), kind: z.literal(kind).optional() });

const replicaStatus = z.looseObject({
  replicas: nonNegInt.optional(),
  fullyLabeledReplicas: nonNegInt.optional(),
  readyReplicas: nonNegInt.optional(),
  availableReplicas: nonNegInt.optional(),
  observedGeneration: nonNegInt.optional(),
  conditions: z.array(condition).optional(),
});

const podTemplate = z.looseObject({ metadata: objectMeta(dnsSubdomain).optional(), spec: podSpec });

const replicaSet = z.looseObject({
  ...appsTypeMeta("ReplicaSet"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    replicas: nonNegInt.optional(),
    minReadySeconds: nonNegInt.optional(),
    selector: labelSelectorSpec,
    template: podTemplate.optional(),
  }),
  status: replicaStatus.optional(),
});

/** An int-or-string of a rolling update: a non-negative integer or a percentage ("25%"). */
const intOrPercent = z
  .custom<number | string>((v) => typeof v === "number" || typeof v === "string", {
    params: { reason: CAUSE.invalid, detail: "must be an integer or a percentage" },
  })
  .superRefine((v, ctx) => {
    if (typeof v === "number" ? !Number.isInteger(v) || v < 0 : !/^[0-9]+%$/.test(v)) {
      problem(ctx, CAUSE.invalid, typeof v === "number" ? "must be greater than or equal to 0" : "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    }
  });

const deployment = z.looseObject({
  ...appsTypeMeta("Deployment"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    replicas: nonNegInt.optional(),
    selector: labelSelectorSpec,
    template: podTemplate,
    strategy: z.looseObject({
      type: z.enum(["RollingUpdate", "Recreate"]).optional(),
      rollingUpdate: z.looseObject({ maxSurge: intOrPercent.optional(), maxUnavailable: intOrPercent.optional() }).optional(),
    }).optional(),
    minReadySeconds: nonNegInt.optional(),
    revisionHistoryLimit: nonNegInt.optional(),
    paused: z.boolean().optional(),
    progressDeadlineSeconds: nonNegInt.optional(),
  }),
  status: z.looseObject({
    observedGeneration: nonNegInt.optional(),
    replicas: nonNegInt.optional(),
    updatedReplicas: nonNegInt.optional(),
    readyReplicas: nonNegInt.optional(),
    availableReplicas: nonNegInt.optional(),
    unavailableReplicas: nonNegInt.optional(),
    conditions: z.array(condition).optional(),
    collisionCount: nonNegInt.optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------
// Service, Endpoints

const servicePort = z.looseObject({
  name: dnsLabel.optional(),
  protocol: z.enum(["TCP", "UDP"]).optional(),
  port,
  targetPort: portRef.optional(),
  nodePort: z.number().int().min(30000).max(32767).optional(),
});

const clusterIP = z.string().superRefine((v, ctx) => {
  if (v !== "" && v !== "None" && !isIPv4(v)) problem(ctx, CAUSE.invalid, `must be empty, 'None', or a valid IPv4 address`);
});

const service = z.looseObject({
  ...typeMeta("Service"),
  metadata: objectMeta(dnsLabel),
  spec: z.looseObject({
    ports: z.array(servicePort).optional(),
    selector: labelMap.optional(),
    clusterIP: clusterIP.optional(),
    clusterIPs: z.array(clusterIP).max(1).optional(),
    type: z.enum(["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]).optional(),
    externalName: z.string().optional(),
    sessionAffinity: z.enum(["None", "ClientIP"]).optional(),
    sessionAffinityConfig: z
      .looseObject({ clientIP: z.looseObject({ timeoutSeconds: z.number().int().min(1).max(86400).optional() }).optional() })
      .optional(),
    externalIPs: z.array(ipv4).optional(),
    publishNotReadyAddresses: z.boolean().optional(),
    // Their values and what Berth serves of them are checked in validation_rules.ts (serviceRules).
    ipFamilies: z.array(z.string()).optional(),
    ipFamilyPolicy: z.string().optional(),
    internalTrafficPolicy: z.string().optional(),
    externalTrafficPolicy: z.string().optional(),
    loadBalancerSourceRanges: z.array(z.string()).optional(),
    allocateLoadBalancerNodePorts: z.boolean().optional(),
  }),
  status: z
    .looseObject({
      loadBalancer: z
        .looseObject({ ingress: z.array(z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() })).optional() })
        .optional(),
    })
    .optional(),
});

const endpointAddress = z.looseObject({
  ip: ipv4,
  hostname: dnsLabel.optional(),
  nodeName: z.string().optional(),
  targetRef: z
    .looseObject({ kind: z.string(), namespace: z.string().optional(), name: z.string(), uid: z.string().optional() })
    .optional(),
});

const endpoints = z.looseObject({
  ...typeMeta("Endpoints"),
  metadata: objectMeta(dnsSubdomain),
  subsets: z
    .array(
      z.looseObject({
        addresses: z.array(endpointAddress).optional(),
        notReadyAddresses: z.array(endpointAddress).optional(),
        ports: z.array(z.looseObject({ name: dnsLabel.optional(), port, protocol: z.enum(["TCP", "UDP"]).optional() })).optional(),
      }),
    )
    .optional(),
});

// ---------------------------------------------------------------------------------------------
// Node, Namespace, Event

const node = z.looseObject({
  ...typeMeta("Node"),
  metadata: objectMeta(nodeName),
  spec: z
    .looseObject({
      unschedulable: z.boolean().optional(),
      podCIDR: z.string().optional(),
      taints: z
        .array(
          z.looseObject({
            key: z.string().superRefine((k, ctx) => {
              const bad = labelKeyProblem(k);
              if (bad) problem(ctx, CAUSE.invalid, bad);
            }),
            value: z.string().superRefine((v, ctx) => {
              const bad = labelValueProblem(v);
              if (bad) problem(ctx, CAUSE.invalid, bad);
            }).optional(),
            effect: taintEffect,
            timeAdded: timestamp.optional(),
          }),
        )
        .optional(),
    })
    .optional(),
  status: z
    .looseObject({
      capacity: quantityMap.optional(),
      allocatable: quantityMap.optional(),
      conditions: z.array(condition).optional(),
      addresses: z.array(z.looseObject({ type: z.enum(["InternalIP", "ExternalIP", "Hostname"]), address: z.string().min(1) })).optional(),
      nodeInfo: z.record(z.string(), z.string()).optional(),
      daemonEndpoints: z.looseObject({ kubeletEndpoint: z.looseObject({ Port: port }).optional() }).optional(),
    })
    .optional(),
});

const namespace = z.looseObject({
  ...typeMeta("Namespace"),
  metadata: objectMeta(dnsLabel),
  spec: z.looseObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: z.looseObject({ phase: z.enum(["Active", "Terminating"]).optional() }).optional(),
});

/** core/v1 ObjectReference: an Event's involved object, a ServiceAccount's secrets. */
const objectReference = z.looseObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  apiVersion: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});

const event = z.looseObject({
  ...typeMeta("Event"),
  metadata: objectMeta(dnsSubdomain),
  involvedObject: objectReference,
  reason: z.string().optional(),
  message: z.string().optional(),
  source: z.looseObject({ component: z.string().optional(), host: z.string().optional() }).optional(),
  firstTimestamp: timestamp.optional(),
  lastTimestamp: timestamp.optional(),
  count: nonNegInt.optional(),
  type: z.enum(["Normal", "Warning"]).optional(),
  reportingComponent: z.string().optional(),
  reportingInstance: z.string().optional(),
});

/** Quota limits: names Berth enforces (model/quota.ts), each a non-negative quantity. */
const quotaHard = quantityMap.superRefine((m, ctx) => {
  for (const [k, v] of Object.entries(m)) {
    if (!isQuotaName(k)) {
      problem(ctx, CAUSE.notSupported, `unsupported quota resource name "${k}": supported are pods, services, replicationcontrollers, resourcequotas, persistentvolumeclaims, count/<resource>, requests.cpu, requests.memory, limits.cpu, limits.memory, cpu, memory, requests.storage, <class>.storageclass.storage.k8s.io/requests.storage, <class>.storageclass.storage.k8s.io/persistentvolumeclaims`, k);
      continue;
    }
    try {
      if (isQuantity(v)) parseQuotaQuantity(k, v);
    } catch (e) {
      problem(ctx, CAUSE.invalid, `the quantity of "${k}" is out of range: ${(e as Error).message}`, v);
    }
  }
});

const resourceQuota = z.looseObject({
  ...typeMeta("ResourceQuota"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    hard: quotaHard.optional(),
    scopes: z.array(z.string()).max(0, { message: "quota scopes are not supported by Berth" }).optional(),
  }).optional(),
  status: z.looseObject({ hard: quantityMap.optional(), used: quantityMap.optional() }).optional(),
});

/** core/v1 ServiceAccount: stored and served (Berth issues no tokens, see model/types.ts). */
const serviceAccount = z.looseObject({
  ...typeMeta("ServiceAccount"),
  metadata: objectMeta(dnsSubdomain),
  secrets: z.array(objectReference).optional(),
  // As Kubernetes' ValidateServiceAccount, which checks only metadata: names are not checked.
  imagePullSecrets: z.array(z.looseObject({ name: z.string().optional() })).optional(),
  automountServiceAccountToken: z.boolean().optional(),
});

// ---------------------------------------------------------------------------------------------
// batch/v1 Job

/** A non-negative Kubernetes int32. */
const int32 = nonNegInt.max(2 ** 31 - 1);

const jobSpec = z.looseObject({
  parallelism: int32.optional(),
  completions: int32.optional(),
  backoffLimit: int32.optional(),
  activeDeadlineSeconds: nonNegInt.optional(),
  ttlSecondsAfterFinished: int32.optional(),
  suspend: z.boolean().optional(),
  // Indexed: a completion index per pod (the cross-field rules require `completions`).
  completionMode: z.enum(["NonIndexed", "Indexed"]).optional(),
  manualSelector: z.boolean().optional(),
  selector: labelSelectorSpec.optional(),
  template: podTemplate,
});

const job = z.looseObject({
  apiVersion: z.literal("batch/v1").optional(),
  kind: z.literal("Job").optional(),
  metadata: objectMeta(dnsSubdomain),
  spec: jobSpec,
  status: z.looseObject({
    conditions: z.array(condition).optional(),
    startTime: z.string().optional(),
    completionTime: z.string().optional(),
    active: nonNegInt.optional(),
    ready: nonNegInt.optional(),
    succeeded: nonNegInt.optional(),
    failed: nonNegInt.optional(),
    uncountedTerminatedPods: z.looseObject({ succeeded: z.array(z.string()).optional(), failed: z.array(z.string()).optional() }).optional(),
    completedIndexes: z.string().optional(),
  }).optional(),
});

/** batch/v1 CronJob: the schedule and time zone are checked by the rules (runtime/cron.ts). */
const cronJob = z.looseObject({
  apiVersion: z.literal("batch/v1").optional(),
  kind: z.literal("CronJob").optional(),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    schedule: z.string(),
    timeZone: z.string().optional(),
    startingDeadlineSeconds: nonNegInt.optional(),
    concurrencyPolicy: z.enum(["Allow", "Forbid", "Replace"]).optional(),
    suspend: z.boolean().optional(),
    jobTemplate: z.looseObject({ metadata: objectMeta(dnsSubdomain).partial().optional(), spec: jobSpec }),
    successfulJobsHistoryLimit: int32.optional(),
    failedJobsHistoryLimit: int32.optional(),
  }),
  status: z.looseObject({
    active: z.array(objectReference).optional(),
    lastScheduleTime: z.string().optional(),
    lastSuccessfulTime: z.string().optional(),
  }).optional(),
});

const daemonSet = z.looseObject({
  ...appsTypeMeta("DaemonSet"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    selector: labelSelectorSpec,
    template: podTemplate,
    updateStrategy: z.looseObject({
      type: z.enum(["RollingUpdate", "OnDelete"]).optional(),
      rollingUpdate: z.looseObject({ maxUnavailable: intOrPercent.optional(), maxSurge: intOrPercent.optional() }).optional(),
    }).optional(),
    minReadySeconds: int32.optional(),
    revisionHistoryLimit: int32.optional(),
  }),
  status: z.looseObject({
    currentNumberScheduled: int32.optional(),
    numberMisscheduled: int32.optional(),
    desiredNumberScheduled: int32.optional(),
    numberReady: int32.optional(),
    observedGeneration: nonNegInt.optional(),
    updatedNumberScheduled: int32.optional(),
    numberAvailable: int32.optional(),
    numberUnavailable: int32.optional(),
    conditions: z.array(condition).optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------
// core/v1 PersistentVolumeClaim, apps/v1 StatefulSet
//
// What relates fields (at least one access mode, a storage request above zero, the storage
// class Berth provisions, what Berth does not serve) is checked in validation_rules.ts.

const accessModes = z.array(z.enum(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]));

const pvcSpec = z.looseObject({
  // The modes are checked by the rules, reported at the list as Kubernetes reports them.
  accessModes: z.array(z.string()).optional(),
  resources: z.looseObject({ requests: quantityMap.optional(), limits: quantityMap.optional() }).optional(),
  storageClassName: z.string().optional(),
  volumeMode: z.enum(["Filesystem", "Block"]).optional(),
  volumeName: z.string().optional(),
});

const persistentVolumeClaim = z.looseObject({
  ...typeMeta("PersistentVolumeClaim"),
  metadata: objectMeta(dnsSubdomain),
  spec: pvcSpec,
  status: z.looseObject({
    phase: z.enum(["Pending", "Bound", "Lost"]).optional(),
    accessModes: accessModes.optional(),
    capacity: quantityMap.optional(),
    conditions: z.array(condition).optional(),
  }).optional(),
});

const statefulSet = z.looseObject({
  ...appsTypeMeta("StatefulSet"),
  metadata: objectMeta(dnsLabel),
  spec: z.looseObject({
    replicas: int32.optional(),
    selector: labelSelectorSpec,
    template: podTemplate,
    serviceName: z.string().optional(),
    // A claim template's name is also the name of the pod volume the controller adds, so it is a
    // DNS label (as a pod's volume names are); its claims are `<name>-<set>-<ordinal>`.
    volumeClaimTemplates: z.array(z.looseObject({ metadata: objectMeta(dnsLabel), spec: pvcSpec })).optional(),
    // Values are checked by the rules, in kube-apiserver's words ("must be 'OrderedReady' or 'Parallel'").
    podManagementPolicy: z.string().optional(),
    updateStrategy: z.looseObject({
      type: z.string().optional(),
      rollingUpdate: z.looseObject({ partition: int32.optional(), maxUnavailable: intOrPercent.optional() }).optional(),
    }).optional(),
    revisionHistoryLimit: int32.optional(),
    minReadySeconds: int32.optional(),
    persistentVolumeClaimRetentionPolicy: z.looseObject({
      whenDeleted: z.enum(["Retain", "Delete"]).optional(),
      whenScaled: z.enum(["Retain", "Delete"]).optional(),
    }).optional(),
    ordinals: z.looseObject({ start: int32.optional() }).optional(),
  }),
  status: z.looseObject({
    observedGeneration: nonNegInt.optional(),
    replicas: int32.optional(),
    readyReplicas: int32.optional(),
    currentReplicas: int32.optional(),
    updatedReplicas: int32.optional(),
    availableReplicas: int32.optional(),
    currentRevision: z.string().optional(),
    updateRevision: z.string().optional(),
    collisionCount: int32.optional(),
    conditions: z.array(condition).optional(),
  }).optional(),
});

const controllerRevision = z.looseObject({
  ...appsTypeMeta("ControllerRevision"),
  metadata: objectMeta(dnsSubdomain),
  data: z.unknown().optional(),
  revision: z.number().int().min(0),
});

// ---------------------------------------------------------------------------------------------
// policy/v1 PodDisruptionBudget
//
// At most one of minAvailable and maxUnavailable, a percentage not above 100% and the eviction
// policies Kubernetes knows are checked by the rules (ValidatePodDisruptionBudgetSpec's order and
// words); the spec may change after creation (as since Kubernetes 1.15).

const policyTypeMeta = (kind: string) => ({ apiVersion: z.literal("policy/v1").optional(), kind: z.literal(kind).optional() });

/** A condition reason as metav1's ValidateConditions wants it. */
const CONDITION_REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

/**
 * metav1.Condition (the newer kinds' conditions, a PodDisruptionBudget's among them), as
 * ValidateConditions checks it: a qualified-name type, a status of True, False or Unknown, a
 * reason and a transition time always, a non-negative observedGeneration, each type once.
 */
const metaConditions = z
  .array(z.looseObject({
    type: z.string().superRefine((v, ctx) => {
      const bad = labelKeyProblem(v);
      if (bad) problem(ctx, CAUSE.invalid, bad);
    }),
    status: z.enum(["True", "False", "Unknown"]),
    observedGeneration: z.number().int().min(0).optional(),
    lastTransitionTime: timestamp,
    reason: z.string().superRefine((v, ctx) => {
      if (v === "") problem(ctx, CAUSE.required, "must be set");
      else if (v.length > 1024) problem(ctx, CAUSE.tooLong, "may not be more than 1024 bytes");
      else if (!CONDITION_REASON.test(v)) {
        problem(ctx, CAUSE.invalid, "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')");
      }
    }),
    message: z.string().max(32768).optional(),
  }))
  .superRefine((cs, ctx) => {
    const seen = new Set<string>();
    cs.forEach((c, i) => {
      if (seen.has(c.type)) ctx.addIssue({ code: "custom", message: "", path: [i, "type"], input: c.type, params: { reason: CAUSE.duplicate, detail: "" } });
      seen.add(c.type);
    });
  });

const podDisruptionBudget = z.looseObject({
  ...policyTypeMeta("PodDisruptionBudget"),
  metadata: objectMeta(dnsSubdomain),
  // A spec is a struct in Kubernetes: absent, it is the empty one (a budget that selects nothing).
  spec: z.looseObject({
    minAvailable: intOrPercent.optional(),
    maxUnavailable: intOrPercent.optional(),
    selector: labelSelectorSpec.optional(),
    // Values are checked by the rules, with kube-apiserver's list of supported ones.
    unhealthyPodEvictionPolicy: z.string().optional(),
  }).default({}),
  // Written by the disruption controller and the eviction subresource (ValidatePodDisruptionBudgetStatusUpdate).
  status: z.looseObject({
    observedGeneration: nonNegInt.optional(),
    disruptedPods: z.record(z.string(), timestamp).optional(),
    disruptionsAllowed: int32.optional(),
    currentHealthy: int32.optional(),
    desiredHealthy: int32.optional(),
    expectedPods: int32.optional(),
    conditions: metaConditions.optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------
// autoscaling/v2 HorizontalPodAutoscaler
//
// Types only: every range, required field and supported value is checked by the rules
// (validation_hpa.ts), with ValidateHorizontalPodAutoscaler's paths and words, after what a Go
// client's zero value would be (an absent maxReplicas is 0). The spec may change after creation.

const autoscalingTypeMeta = (kind: string) => ({ apiVersion: z.literal("autoscaling/v2").optional(), kind: z.literal(kind).optional() });

/** Any int32 (the rules check the range that applies). */
const anyInt32 = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);

const metricTarget = z.looseObject({
  type: z.string().optional(),
  value: quantity.optional(),
  averageValue: quantity.optional(),
  averageUtilization: anyInt32.optional(),
});

const resourceMetricSource = z.looseObject({ name: z.string().optional(), target: metricTarget.optional() });

const hpaScalingRules = z.looseObject({
  stabilizationWindowSeconds: anyInt32.optional(),
  selectPolicy: z.string().optional(),
  policies: z.array(z.looseObject({ type: z.string().optional(), value: anyInt32.optional(), periodSeconds: anyInt32.optional() })).optional(),
});

const metricValueStatus = z.looseObject({ value: quantity.optional(), averageValue: quantity.optional(), averageUtilization: anyInt32.optional() });

const horizontalPodAutoscaler = z.looseObject({
  ...autoscalingTypeMeta("HorizontalPodAutoscaler"),
  metadata: objectMeta(dnsSubdomain),
  // A struct in Kubernetes: absent, it is the empty one, which the rules refuse (no target, maxReplicas 0).
  spec: z.looseObject({
    scaleTargetRef: z.looseObject({ kind: z.string().optional(), name: z.string().optional(), apiVersion: z.string().optional() }).optional(),
    minReplicas: anyInt32.optional(),
    maxReplicas: anyInt32.optional(),
    metrics: z.array(z.looseObject({
      type: z.string().optional(),
      resource: resourceMetricSource.optional(),
      containerResource: resourceMetricSource.extend({ container: z.string().optional() }).optional(),
      pods: z.unknown().optional(),
      object: z.unknown().optional(),
      external: z.unknown().optional(),
    })).optional(),
    behavior: z.looseObject({ scaleUp: hpaScalingRules.optional(), scaleDown: hpaScalingRules.optional() }).optional(),
  }).default({}),
  // Written by the autoscaler through the status subresource (ValidateHorizontalPodAutoscalerStatusUpdate:
  // the replica counts are never negative).
  status: z.looseObject({
    observedGeneration: nonNegInt.optional(),
    lastScaleTime: timestamp.optional(),
    currentReplicas: int32.optional(),
    desiredReplicas: int32.optional(),
    currentMetrics: z.array(z.looseObject({
      type: z.string(),
      resource: z.looseObject({ name: z.string(), current: metricValueStatus }).optional(),
      containerResource: z.looseObject({ name: z.string(), container: z.string(), current: metricValueStatus }).optional(),
    })).optional(),
    conditions: z.array(condition).optional(),
  }).optional(),
});

// ---------------------------------------------------------------------------------------------
// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding
//
// Types only: the rules (validation_rbac.ts) check what relates fields, with kube-apiserver's
// paths and words. Enforced at the REST API (model/rbac.ts, runtime/auth/rest_auth.ts).

const rbacTypeMeta = (kind: string) => ({ apiVersion: z.literal("rbac.authorization.k8s.io/v1").optional(), kind: z.literal(kind).optional() });

/**
 * An RBAC object's name (ValidateRBACName): any path segment, so `system:metrics-server` and
 * capitals are names (the store encodes them in its keys). Kubernetes sets no length; Berth
 * keeps a name to 253 characters, as every other name, so that its key stays short.
 */
const rbacName = z.string().superRefine((v, ctx) => {
  if (v === "") return;
  if (v.length > 253) problem(ctx, CAUSE.tooLong, "may not be more than 253 bytes");
  for (const why of pathSegmentProblems(v)) problem(ctx, CAUSE.invalid, why);
});

const policyRule = z.looseObject({
  verbs: z.array(z.string()).optional(),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});

const role = z.looseObject({
  ...rbacTypeMeta("Role"),
  metadata: objectMeta(rbacName),
  rules: z.array(policyRule).optional(),
});

const clusterRole = z.looseObject({
  ...rbacTypeMeta("ClusterRole"),
  metadata: objectMeta(rbacName),
  rules: z.array(policyRule).optional(),
  aggregationRule: z.looseObject({ clusterRoleSelectors: z.array(labelSelectorSpec).optional() }).optional(),
});

const rbacBinding = (kind: string) => z.looseObject({
  ...rbacTypeMeta(kind),
  metadata: objectMeta(rbacName),
  subjects: z.array(z.looseObject({ kind: z.string().optional(), apiGroup: z.string().optional(), name: z.string().optional(), namespace: z.string().optional() })).optional(),
  // A struct in Kubernetes: absent, it is the empty one, which the rules refuse (no kind, no name).
  roleRef: z.looseObject({ apiGroup: z.string().optional(), kind: z.string().optional(), name: z.string().optional() }).default({}),
});

// ---------------------------------------------------------------------------------------------
// scheduling.k8s.io/v1 PriorityClass, coordination.k8s.io/v1 Lease
//
// Types only: the rules (validation_scheduling.ts, validation_lease.ts) say the rest with
// kube-apiserver's paths and words.

const priorityClass = z.looseObject({
  apiVersion: z.literal("scheduling.k8s.io/v1").optional(),
  kind: z.literal("PriorityClass").optional(),
  metadata: objectMeta(dnsSubdomain),
  value: anyInt32.optional(),
  globalDefault: z.boolean().optional(),
  description: z.string().optional(),
  preemptionPolicy: z.string().optional(),
});

const lease = z.looseObject({
  apiVersion: z.literal("coordination.k8s.io/v1").optional(),
  kind: z.literal("Lease").optional(),
  metadata: objectMeta(dnsSubdomain),
  // A struct in Kubernetes, never omitted: absent, it is the empty one.
  spec: z.looseObject({
    holderIdentity: z.string().optional(),
    leaseDurationSeconds: anyInt32.optional(),
    // MicroTime: any RFC 3339 time is read; defaults.ts stores it with six fractional digits.
    acquireTime: timestamp.optional(),
    renewTime: timestamp.optional(),
    leaseTransitions: anyInt32.optional(),
    strategy: z.string().optional(),
    preferredHolder: z.string().optional(),
  }).default({}),
});

// ---------------------------------------------------------------------------------------------
// networking.k8s.io/v1 NetworkPolicy, Ingress, IngressClass
//
// Types only: the rules (validation_networking.ts) say the rest with kube-apiserver's paths and
// words. Structs Kubernetes never omits (a policy's spec and podSelector) default to empty.

const networkingTypeMeta = (kind: string) => ({ apiVersion: z.literal("networking.k8s.io/v1").optional(), kind: z.literal(kind).optional() });
const intOrStr = z.union([z.number().int(), z.string()]);

const networkPolicyPeer = z.looseObject({
  podSelector: labelSelectorSpec.optional(),
  namespaceSelector: labelSelectorSpec.optional(),
  ipBlock: z.looseObject({ cidr: z.string().optional(), except: z.array(z.string()).optional() }).optional(),
});
const networkPolicyPort = z.looseObject({ protocol: z.string().optional(), port: intOrStr.optional(), endPort: anyInt32.optional() });

const networkPolicy = z.looseObject({
  ...networkingTypeMeta("NetworkPolicy"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    podSelector: labelSelectorSpec.default({}),
    ingress: z.array(z.looseObject({ ports: z.array(networkPolicyPort).optional(), from: z.array(networkPolicyPeer).optional() })).optional(),
    egress: z.array(z.looseObject({ ports: z.array(networkPolicyPort).optional(), to: z.array(networkPolicyPeer).optional() })).optional(),
    policyTypes: z.array(z.string()).optional(),
  }).default({ podSelector: {} }),
});

const typedLocalObjectReference = z.looseObject({ apiGroup: z.string().optional(), kind: z.string().optional(), name: z.string().optional() });
const ingressBackend = z.looseObject({
  service: z.looseObject({
    name: z.string().optional(),
    port: z.looseObject({ name: z.string().optional(), number: anyInt32.optional() }).optional(),
  }).optional(),
  resource: typedLocalObjectReference.optional(),
});

const ingress = z.looseObject({
  ...networkingTypeMeta("Ingress"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    ingressClassName: z.string().optional(),
    defaultBackend: ingressBackend.optional(),
    tls: z.array(z.looseObject({ hosts: z.array(z.string()).optional(), secretName: z.string().optional() })).optional(),
    rules: z.array(z.looseObject({
      host: z.string().optional(),
      http: z.looseObject({
        paths: z.array(z.looseObject({ path: z.string().optional(), pathType: z.string().optional(), backend: ingressBackend.default({}) })).optional(),
      }).optional(),
    })).optional(),
  }).default({}),
  status: z.looseObject({ loadBalancer: z.looseObject({ ingress: z.array(z.looseObject({ ip: z.string().optional(), hostname: z.string().optional() })).optional() }).optional() }).optional(),
});

const ingressClass = z.looseObject({
  ...networkingTypeMeta("IngressClass"),
  metadata: objectMeta(dnsSubdomain),
  spec: z.looseObject({
    controller: z.string().optional(),
    parameters: typedLocalObjectReference.extend({ scope: z.string().optional(), namespace: z.string().optional() }).optional(),
  }).default({}),
});

// ---------------------------------------------------------------------------------------------
// discovery.k8s.io/v1 EndpointSlice
//
// Types only: the rules (validation_discovery.ts) say the rest with kube-apiserver's paths and
// words. `endpoints` is never omitted by Kubernetes' clients; absent, it is the empty list (kube
// accepts a slice without it and stores null).

const endpointHint = z.looseObject({ name: z.string().optional() });

const sliceEndpoint = z
  .looseObject({
    addresses: z.array(z.string()).optional(),
    conditions: z.looseObject({ ready: z.boolean().optional(), serving: z.boolean().optional(), terminating: z.boolean().optional() }).optional(),
    hostname: z.string().optional(),
    targetRef: objectReference.optional(),
    deprecatedTopology: z.record(z.string(), z.string()).optional(),
    nodeName: z.string().optional(),
    zone: z.string().optional(),
    hints: z.looseObject({ forZones: z.array(endpointHint).optional(), forNodes: z.array(endpointHint).optional() }).optional(),
  })
  // The v1 API drops whatever is written to deprecatedTopology, as its docs say (dropTopologyOnV1).
  .transform(({ deprecatedTopology: _dropped, ...rest }) => rest);

const endpointSlice = z.looseObject({
  apiVersion: z.literal("discovery.k8s.io/v1").optional(),
  kind: z.literal("EndpointSlice").optional(),
  metadata: objectMeta(dnsSubdomain),
  addressType: z.string().optional(),
  endpoints: z.array(sliceEndpoint).default([]),
  ports: z.array(z.looseObject({
    name: z.string().optional(),
    protocol: z.string().optional(),
    // null (dropped before this pass) or absent: all ports. Kubernetes checks no range.
    port: anyInt32.optional(),
    appProtocol: z.string().optional(),
  })).optional(),
});

/** The schema of each resource. */
export const SCHEMAS: Record<Resource, z.ZodType> = {
  pods: pod,
  replicationcontrollers: replicationController,
  services: service,
  endpoints,
  endpointslices: endpointSlice,
  nodes: node,
  namespaces: namespace,
  events: event,
  resourcequotas: resourceQuota,
  replicasets: replicaSet,
  deployments: deployment,
  configmaps: configMapSchema.extend({ ...typeMeta("ConfigMap"), metadata: objectMeta(dnsSubdomain) }),
  secrets: secretSchema.extend({ ...typeMeta("Secret"), metadata: objectMeta(dnsSubdomain) }),
  serviceaccounts: serviceAccount,
  jobs: job,
  cronjobs: cronJob,
  daemonsets: daemonSet,
  persistentvolumeclaims: persistentVolumeClaim,
  statefulsets: statefulSet,
  controllerrevisions: controllerRevision,
  poddisruptionbudgets: podDisruptionBudget,
  horizontalpodautoscalers: horizontalPodAutoscaler,
  roles: role,
  rolebindings: rbacBinding("RoleBinding"),
  clusterroles: clusterRole,
  clusterrolebindings: rbacBinding("ClusterRoleBinding"),
  priorityclasses: priorityClass,
  leases: lease,
  networkpolicies: networkPolicy,
  ingresses: ingress,
  ingressclasses: ingressClass,
};
