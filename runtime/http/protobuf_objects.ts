/**
 * Kubernetes protobuf messages decoded by schema into their JSON form, for the objects kubectl's
 * typed clients send as `application/vnd.kubernetes.protobuf` (`kubectl create deployment|job|cronjob|namespace|configmap|secret|service|quota|serviceaccount|poddisruptionbudget`, `kubectl autoscale`).
 * Field numbers are those of k8s.io/api's generated.proto. Go's generated marshallers write
 * every non-pointer field, zero or not; zero values are dropped here so the result reads like
 * the JSON kubectl would have sent (`omitempty`). Fields not in a schema are skipped.
 */
type Scalar = "string" | "int" | "bool" | "intOrString" | "quantity" | "time" | "microTime" | "bytes";
export interface FieldSpec {
  name: string;
  type: Scalar | Schema;
  repeated?: boolean;
  /** A Go pointer: present means set, even when zero (`replicas: 0`). */
  pointer?: boolean;
  /** map<string, string|Quantity|bytes>, encoded as repeated entries {1: key, 2: value}; bytes are base64 in JSON. */
  map?: "string" | "quantity" | "bytes";
  /** Embedded without a JSON field of its own (Volume.volumeSource, Probe.handler). */
  inline?: boolean;
}
export type Schema = { [fieldNo: number]: FieldSpec };

const S = (name: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ name, type: "string", ...extra });
const I = (name: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ name, type: "int", ...extra });
const B = (name: string): FieldSpec => ({ name, type: "bool" });
const M = (name: string, type: Schema, extra: Partial<FieldSpec> = {}): FieldSpec => ({ name, type, ...extra });

const ownerReference: Schema = { 1: S("kind"), 3: S("name"), 4: S("uid"), 5: S("apiVersion"), 6: { name: "controller", type: "bool", pointer: true }, 7: { name: "blockOwnerDeletion", type: "bool", pointer: true } };
export const objectMeta: Schema = {
  1: S("name"), 2: S("generateName"), 3: S("namespace"), 5: S("uid"), 6: S("resourceVersion"), 7: I("generation"),
  8: { name: "creationTimestamp", type: "time" }, 11: { name: "labels", type: "string", map: "string" },
  12: { name: "annotations", type: "string", map: "string" }, 13: M("ownerReferences", ownerReference, { repeated: true }),
  14: S("finalizers", { repeated: true }),
};
const labelSelector: Schema = {
  1: { name: "matchLabels", type: "string", map: "string" },
  2: M("matchExpressions", { 1: S("key"), 2: S("operator"), 3: S("values", { repeated: true }) }, { repeated: true }),
};
const httpGet: Schema = { 1: S("path"), 2: { name: "port", type: "intOrString" }, 3: S("host"), 4: S("scheme"), 5: M("httpHeaders", { 1: S("name"), 2: S("value") }, { repeated: true }) };
const probe: Schema = {
  1: M("handler", { 1: M("exec", { 1: S("command", { repeated: true }) }), 2: M("httpGet", httpGet), 3: M("tcpSocket", { 1: { name: "port", type: "intOrString" }, 2: S("host") }), 4: M("grpc", { 1: I("port"), 2: S("service", { pointer: true }) }) }, { inline: true }),
  2: I("initialDelaySeconds"), 3: I("timeoutSeconds"), 4: I("periodSeconds"), 5: I("successThreshold"), 6: I("failureThreshold"),
};
const container: Schema = {
  1: S("name"), 2: S("image"), 3: S("command", { repeated: true }), 4: S("args", { repeated: true }), 5: S("workingDir"),
  6: M("ports", { 1: S("name"), 2: I("hostPort"), 3: I("containerPort"), 4: S("protocol"), 5: S("hostIP") }, { repeated: true }),
  7: M("env", { 1: S("name"), 2: S("value"), 3: M("valueFrom", { 1: M("fieldRef", { 1: S("apiVersion"), 2: S("fieldPath") }) }) }, { repeated: true }),
  8: M("resources", { 1: { name: "limits", type: "string", map: "quantity" }, 2: { name: "requests", type: "string", map: "quantity" } }),
  9: M("volumeMounts", { 1: S("name"), 2: B("readOnly"), 3: S("mountPath"), 4: S("subPath") }, { repeated: true }),
  10: M("livenessProbe", probe), 11: M("readinessProbe", probe), 14: S("imagePullPolicy"),
  16: B("stdin"), 17: B("stdinOnce"), 18: B("tty"),
};
const volume: Schema = {
  1: S("name"),
  2: M("volumeSource", {
    1: M("hostPath", { 1: S("path"), 2: { name: "type", type: "string", pointer: true } }),
    2: M("emptyDir", { 1: S("medium"), 2: { name: "sizeLimit", type: "quantity" } }),
    10: M("persistentVolumeClaim", { 1: S("claimName"), 2: B("readOnly") }),
  }, { inline: true }),
};
const podSpec: Schema = {
  1: M("volumes", volume, { repeated: true }), 2: M("containers", container, { repeated: true }), 3: S("restartPolicy"),
  4: I("terminationGracePeriodSeconds", { pointer: true }), 6: S("dnsPolicy"), 7: { name: "nodeSelector", type: "string", map: "string" },
  10: S("nodeName"), 16: S("hostname"), 17: S("subdomain"),
  24: S("priorityClassName"), 25: I("priority", { pointer: true }), 31: { name: "preemptionPolicy", type: "string", pointer: true },
};
const podTemplate: Schema = { 1: M("metadata", objectMeta), 2: M("spec", podSpec) };
export const deployment: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: I("replicas", { pointer: true }), 2: M("selector", labelSelector), 3: M("template", podTemplate),
    4: M("strategy", { 1: S("type"), 2: M("rollingUpdate", { 1: { name: "maxUnavailable", type: "intOrString" }, 2: { name: "maxSurge", type: "intOrString" } }) }),
    5: I("minReadySeconds"), 6: I("revisionHistoryLimit", { pointer: true }), 7: B("paused"), 9: I("progressDeadlineSeconds", { pointer: true }),
  }),
};
export const replicaSet: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", { 1: I("replicas", { pointer: true }), 2: M("selector", labelSelector), 3: M("template", podTemplate), 4: I("minReadySeconds") }),
};
/**
 * batch/v1 Job (`kubectl create job`): the spec fields Berth serves. Every optional JobSpec field
 * is a Go pointer, so an explicit zero (`parallelism: 0`, `suspend: false`) is kept. The status is
 * not read: a create ignores it, as Kubernetes does.
 */
const jobSpec: Schema = {
  1: I("parallelism", { pointer: true }), 2: I("completions", { pointer: true }), 3: I("activeDeadlineSeconds", { pointer: true }),
  4: M("selector", labelSelector), 5: { name: "manualSelector", type: "bool", pointer: true }, 6: M("template", podTemplate),
  7: I("backoffLimit", { pointer: true }), 8: I("ttlSecondsAfterFinished", { pointer: true }),
  9: { name: "completionMode", type: "string", pointer: true }, 10: { name: "suspend", type: "bool", pointer: true },
};
export const job: Schema = { 1: M("metadata", objectMeta), 2: M("spec", jobSpec) };
/**
 * batch/v1 CronJob (`kubectl create cronjob`): the schedule and its knobs, and the JobTemplateSpec
 * (metadata, JobSpec) of the jobs it makes. `timeZone`, `startingDeadlineSeconds`, `suspend` and
 * the history limits are Go pointers (an explicit 0 or false is kept); `schedule` and
 * `concurrencyPolicy` are plain strings, dropped when empty. The status is not read.
 */
export const cronJob: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: S("schedule"), 2: I("startingDeadlineSeconds", { pointer: true }), 3: S("concurrencyPolicy"),
    4: { name: "suspend", type: "bool", pointer: true }, 5: M("jobTemplate", { 1: M("metadata", objectMeta), 2: M("spec", jobSpec) }),
    6: I("successfulJobsHistoryLimit", { pointer: true }), 7: I("failedJobsHistoryLimit", { pointer: true }),
    8: { name: "timeZone", type: "string", pointer: true },
  }),
};

export const namespace: Schema = { 1: M("metadata", objectMeta), 2: M("spec", { 1: S("finalizers", { repeated: true }) }) };
export const configMap: Schema = {
  1: M("metadata", objectMeta), 2: { name: "data", type: "string", map: "string" }, 3: { name: "binaryData", type: "string", map: "bytes" },
  4: { name: "immutable", type: "bool", pointer: true },
};
const objectReference: Schema = { 1: S("kind"), 2: S("namespace"), 3: S("name"), 4: S("uid"), 5: S("apiVersion"), 6: S("resourceVersion"), 7: S("fieldPath") };
export const serviceAccount: Schema = {
  1: M("metadata", objectMeta), 2: M("secrets", objectReference, { repeated: true }), 3: M("imagePullSecrets", { 1: S("name") }, { repeated: true }),
  4: { name: "automountServiceAccountToken", type: "bool", pointer: true },
};
export const secret: Schema = {
  1: M("metadata", objectMeta), 2: { name: "data", type: "string", map: "bytes" }, 3: S("type"), 4: { name: "stringData", type: "string", map: "string" },
  5: { name: "immutable", type: "bool", pointer: true },
};
const servicePort: Schema = { 1: S("name"), 2: S("protocol"), 3: I("port"), 4: { name: "targetPort", type: "intOrString" }, 5: I("nodePort"), 6: S("appProtocol") };
export const service: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("ports", servicePort, { repeated: true }), 2: { name: "selector", type: "string", map: "string" }, 3: S("clusterIP"), 4: S("type"),
    5: S("externalIPs", { repeated: true }), 7: S("sessionAffinity"), 8: S("loadBalancerIP"), 10: S("externalName"), 11: S("externalTrafficPolicy"),
    13: B("publishNotReadyAddresses"), 14: M("sessionAffinityConfig", { 1: M("clientIP", { 1: I("timeoutSeconds", { pointer: true }) }) }),
    17: { name: "ipFamilyPolicy", type: "string", pointer: true }, 18: S("clusterIPs", { repeated: true }), 19: S("ipFamilies", { repeated: true }),
    22: { name: "internalTrafficPolicy", type: "string", pointer: true },
  }),
};
export const resourceQuota: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", { 1: { name: "hard", type: "string", map: "quantity" }, 2: S("scopes", { repeated: true }) }),
};
/**
 * policy/v1 PodDisruptionBudget (`kubectl create poddisruptionbudget`): both bounds and the
 * eviction policy are Go pointers (an explicit `minAvailable: 0` is kept), the selector a message.
 * The status is not read: a create ignores it, as Kubernetes does.
 */
export const podDisruptionBudget: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: { name: "minAvailable", type: "intOrString", pointer: true }, 2: M("selector", labelSelector),
    3: { name: "maxUnavailable", type: "intOrString", pointer: true }, 4: { name: "unhealthyPodEvictionPolicy", type: "string", pointer: true },
  }),
};
/**
 * autoscaling/v1 HorizontalPodAutoscaler: what `kubectl autoscale` (1.32) sends, to
 * `/apis/autoscaling/v1` (hpa_v1.ts converts it). minReplicas and the cpu target are Go pointers.
 */
const crossVersionObjectReference: Schema = { 1: S("kind"), 2: S("name"), 3: S("apiVersion") };
export const horizontalPodAutoscalerV1: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("scaleTargetRef", crossVersionObjectReference), 2: I("minReplicas", { pointer: true }), 3: I("maxReplicas"),
    4: I("targetCPUUtilizationPercentage", { pointer: true }),
  }),
};
/**
 * autoscaling/v2 HorizontalPodAutoscaler, for Go clients' AutoscalingV2 typed client. The metric
 * sources Berth has no metrics for (pods, object, external) are read as present and empty, so
 * that validation says why they are refused. The status is not read.
 */
const metricTarget: Schema = {
  1: S("type"), 2: { name: "value", type: "quantity", pointer: true }, 3: { name: "averageValue", type: "quantity", pointer: true },
  4: I("averageUtilization", { pointer: true }),
};
const resourceMetricSource: Schema = { 1: S("name"), 2: M("target", metricTarget) };
const hpaScalingRules: Schema = {
  3: I("stabilizationWindowSeconds", { pointer: true }), 1: { name: "selectPolicy", type: "string", pointer: true },
  2: M("policies", { 1: S("type"), 2: I("value"), 3: I("periodSeconds") }, { repeated: true }),
};
export const horizontalPodAutoscalerV2: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("scaleTargetRef", crossVersionObjectReference), 2: I("minReplicas", { pointer: true }), 3: I("maxReplicas"),
    4: M("metrics", {
      1: S("type"), 2: M("object", {}), 3: M("pods", {}), 4: M("resource", resourceMetricSource), 5: M("external", {}),
      7: M("containerResource", { ...resourceMetricSource, 3: S("container") }),
    }, { repeated: true }),
    5: M("behavior", { 1: M("scaleUp", hpaScalingRules), 2: M("scaleDown", hpaScalingRules) }),
  }),
};
/**
 * rbac.authorization.k8s.io/v1 (`kubectl create role|clusterrole|rolebinding|clusterrolebinding`).
 * A rule's repeated strings keep their empty elements: `apiGroups: [""]` is the core group.
 */
const policyRule: Schema = {
  1: S("verbs", { repeated: true }), 2: S("apiGroups", { repeated: true }), 3: S("resources", { repeated: true }),
  4: S("resourceNames", { repeated: true }), 5: S("nonResourceURLs", { repeated: true }),
};
export const role: Schema = { 1: M("metadata", objectMeta), 2: M("rules", policyRule, { repeated: true }) };
export const clusterRole: Schema = { ...role, 3: M("aggregationRule", { 1: M("clusterRoleSelectors", labelSelector, { repeated: true }) }) };
/** RoleBinding and ClusterRoleBinding: the same message. */
export const roleBinding: Schema = {
  1: M("metadata", objectMeta),
  2: M("subjects", { 1: S("kind"), 2: S("apiGroup"), 3: S("name"), 4: S("namespace") }, { repeated: true }),
  3: M("roleRef", { 1: S("apiGroup"), 2: S("kind"), 3: S("name") }),
};
/**
 * kubectl auth's self reviews (access_review.ts): authorization.k8s.io/v1 SelfSubjectAccessReview
 * (`can-i`) and SelfSubjectRulesReview (`can-i --list`), authentication.k8s.io/v1 SelfSubjectReview
 * (`whoami`). The status they carry (empty) is not read.
 */
export const selfSubjectAccessReview: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("resourceAttributes", { 1: S("namespace"), 2: S("verb"), 3: S("group"), 4: S("version"), 5: S("resource"), 6: S("subresource"), 7: S("name") }),
    2: M("nonResourceAttributes", { 1: S("path"), 2: S("verb") }),
  }),
};
export const selfSubjectRulesReview: Schema = { 1: M("metadata", objectMeta), 2: M("spec", { 1: S("namespace") }) };
export const selfSubjectReview: Schema = { 1: M("metadata", objectMeta) };
/**
 * authentication.k8s.io/v1 TokenRequest (`kubectl create token`, POST serviceaccounts/{name}/token;
 * token_request.ts). `expirationSeconds` and `boundObjectRef` are Go pointers: an explicit 0 is kept
 * (and refused as too short), an absent one defaulted. The status (empty on a request) is not read.
 */
export const tokenRequest: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: S("audiences", { repeated: true }), 4: I("expirationSeconds", { pointer: true }),
    3: M("boundObjectRef", { 1: S("kind"), 2: S("apiVersion"), 3: S("name"), 4: S("uid") }, { pointer: true }),
  }),
};
/** scheduling.k8s.io/v1 PriorityClass (`kubectl create priorityclass`). `value` is not a pointer: 0 is dropped, and defaulted back. */
export const priorityClass: Schema = {
  1: M("metadata", objectMeta), 2: I("value"), 3: B("globalDefault"), 4: S("description"), 5: { name: "preemptionPolicy", type: "string", pointer: true },
};
/** coordination.k8s.io/v1 Lease, as client-go's leader election sends it when set to protobuf. Every spec field is a pointer. */
export const lease: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: S("holderIdentity", { pointer: true }), 2: I("leaseDurationSeconds", { pointer: true }),
    3: { name: "acquireTime", type: "microTime", pointer: true }, 4: { name: "renewTime", type: "microTime", pointer: true },
    5: I("leaseTransitions", { pointer: true }), 6: S("strategy", { pointer: true }), 7: S("preferredHolder", { pointer: true }),
  }),
};
/** networking.k8s.io/v1 Ingress (`kubectl create ingress`). A rule's value is embedded (IngressRuleValue); pointers keep what was set. */
const ingressBackend: Schema = {
  3: M("resource", { 1: S("apiGroup", { pointer: true }), 2: S("kind"), 3: S("name") }, { pointer: true }),
  4: M("service", { 1: S("name"), 2: M("port", { 1: S("name"), 2: I("number") }) }, { pointer: true }),
};
export const ingress: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("defaultBackend", ingressBackend, { pointer: true }),
    2: M("tls", { 1: S("hosts", { repeated: true }), 2: S("secretName") }, { repeated: true }),
    3: M("rules", {
      1: S("host"),
      2: M("ingressRuleValue", {
        1: M("http", { 1: M("paths", { 1: S("path"), 2: M("backend", ingressBackend), 3: S("pathType", { pointer: true }) }, { repeated: true }) }, { pointer: true }),
      }, { inline: true }),
    }, { repeated: true }),
    4: S("ingressClassName", { pointer: true }),
  }),
};
/** networking.k8s.io/v1 IngressClass, as a Go client set to protobuf sends it. */
export const ingressClass: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: S("controller"),
    2: M("parameters", { 1: S("apiGroup", { pointer: true }), 2: S("kind"), 3: S("name"), 4: S("scope", { pointer: true }), 5: S("namespace", { pointer: true }) }, { pointer: true }),
  }),
};
/** networking.k8s.io/v1 NetworkPolicy, as a Go client set to protobuf sends it. Peer selectors are pointers: an empty one selects all. */
const policyPort: Schema = { 1: S("protocol", { pointer: true }), 2: { name: "port", type: "intOrString", pointer: true }, 3: I("endPort", { pointer: true }) };
const policyPeer: Schema = {
  1: M("podSelector", labelSelector, { pointer: true }), 2: M("namespaceSelector", labelSelector, { pointer: true }),
  3: M("ipBlock", { 1: S("cidr"), 2: S("except", { repeated: true }) }, { pointer: true }),
};
export const networkPolicy: Schema = {
  1: M("metadata", objectMeta),
  2: M("spec", {
    1: M("podSelector", labelSelector, { pointer: true }),
    2: M("ingress", { 1: M("ports", policyPort, { repeated: true }), 2: M("from", policyPeer, { repeated: true }) }, { repeated: true }),
    3: M("egress", { 1: M("ports", policyPort, { repeated: true }), 2: M("to", policyPeer, { repeated: true }) }, { repeated: true }),
    4: S("policyTypes", { repeated: true }),
  }),
};
