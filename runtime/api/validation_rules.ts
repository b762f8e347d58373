/**
 * Validation rules that relate several fields: required names, unique names, mounts that name a
 * declared volume, the volumes' own rules (validation_volumes.ts), one handler per probe, requests within limits, an RC
 * selector that matches its template, service port naming.
 *
 * These read the raw input defensively (any field may have the wrong type; the schema pass
 * reports that) so that they run, and report, even when the schema pass found type errors.
 */
import { isIP } from "node:net";
import { parseBytes, parseQuantity, isQuantity } from "../../model/quantity.ts";
import { labelKeyProblem, labelValueProblem, mapMatches, matchesLabels, selectorFromSpec } from "../../model/selector.ts";
import { LOCAL_STORAGE_CLASS, type Job, type LabelSelectorSpec, type PersistentVolumeClaim, SELECTED_NODE_ANNOTATION, type StatefulSet } from "../../model/types.ts";
import { JOB_LABELS } from "../../model/job.ts";
import { jsonEqual } from "../../model/json_equal.ts";
import { scheduleProblem, validTimeZone } from "../cron.ts";
import type { Resource, StatusCause } from "../../model/types.ts";
import { CAUSE, DNS1123_LABEL_MESSAGE, DNS1123_SUBDOMAIN_MESSAGE, isDns1123Label, isDns1123Subdomain, type Obj, obj, arr, Causes } from "./validation_util.ts";
import { configMapProblems, secretProblems } from "./validation_config.ts";
import { volumeRules } from "./validation_volumes.ts";
import { hpaSpecProblems } from "./validation_hpa.ts";
import { rbacProblems } from "./validation_rbac.ts";
import { preemptionPolicyProblems, priorityClassProblems } from "./validation_scheduling.ts";
import { leaseProblems } from "./validation_lease.ts";
import { ingressClassProblems, ingressProblems, networkPolicyProblems } from "./validation_networking.ts";
import { endpointSliceProblems } from "./validation_discovery.ts";


const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const strMap = (v: unknown): Record<string, string> => {
  const o = obj(v);
  if (!o) return {};
  return Object.fromEntries(Object.entries(o).filter(([, x]) => typeof x === "string")) as Record<string, string>;
};

/** Every cross-field problem of `raw` as `resource`. */
export function crossFieldProblems(resource: Resource, raw: Obj): StatusCause[] {
  const c = new Causes();
  nameRule(c, raw);
  switch (resource) {
    case "pods":
      podSpecRules(c, obj(raw.spec), "spec");
      break;
    case "replicationcontrollers":
      rcRules(c, obj(raw.spec));
      break;
    case "replicasets":
    case "deployments":
      appsRules(c, resource, obj(raw.spec));
      break;
    case "services":
      serviceRules(c, obj(raw.spec));
      break;
    case "jobs":
      jobRules(c, obj(raw.spec));
      indexedJobNameRule(c, raw);
      break;
    case "cronjobs":
      cronJobRules(c, raw);
      break;
    case "daemonsets":
      daemonSetRules(c, obj(raw.spec));
      break;
    case "statefulsets":
      statefulSetRules(c, obj(raw.spec));
      break;
    case "persistentvolumeclaims":
      pvcSpecRules(c, obj(raw.spec), "spec");
      break;
    case "poddisruptionbudgets":
      pdbSpecRules(c, obj(raw.spec));
      break;
    case "horizontalpodautoscalers":
      c.list.push(...hpaSpecProblems(raw.spec));
      break;
    case "roles":
    case "clusterroles":
    case "rolebindings":
    case "clusterrolebindings":
      c.list.push(...rbacProblems(resource, raw));
      break;
    case "priorityclasses":
      c.list.push(...priorityClassProblems(raw));
      break;
    case "leases":
      c.list.push(...leaseProblems(raw));
      break;
    case "networkpolicies":
      c.list.push(...networkPolicyProblems(raw));
      break;
    case "ingresses":
      c.list.push(...ingressProblems(raw));
      break;
    case "ingressclasses":
      c.list.push(...ingressClassProblems(raw));
      break;
    case "endpointslices":
      c.list.push(...endpointSliceProblems(raw));
      break;
    case "events":
      eventRules(c, raw);
      break;
    case "configmaps":
      c.list.push(...configMapProblems(raw));
      break;
    case "secrets":
      c.list.push(...secretProblems(raw));
      break;
    default:
      break;
  }
  return c.list;
}

/** The rules of the metadata alone (a status write checks these, not the spec's). */
export function metadataProblems(_resource: Resource, raw: Obj): StatusCause[] {
  const c = new Causes();
  nameRule(c, raw);
  return c.list;
}

function nameRule(c: Causes, raw: Obj): void {
  const meta = obj(raw.metadata);
  if (meta && !str(meta.name) && !str(meta.generateName)) c.add(CAUSE.required, "metadata.name", undefined, "name or generateName is required");
}

/** A probe's handlers, in the order kube-apiserver's validateHandler checks them (lifecycle hooks have no grpc). */
const PROBE_HANDLERS = ["exec", "httpGet", "tcpSocket", "grpc"];

/**
 * A pod spec's rules. `claimTemplates` names the volumes a StatefulSet's controller adds to its
 * pods (one per volume claim template): the template's mounts may name them.
 */
function podSpecRules(c: Causes, spec: Obj | undefined, at: string, claimTemplates: ReadonlySet<string> = new Set()): void {
  if (!spec) return;
  const volumes = volumeRules(c, spec.volumes, `${at}.volumes`);
  tolerationRules(c, spec.tolerations, `${at}.tolerations`);
  affinityRules(c, obj(spec.affinity), `${at}.affinity`);
  topologySpreadRules(c, arr(spec.topologySpreadConstraints), `${at}.topologySpreadConstraints`);
  dnsRules(c, spec, at);
  hostAliasRules(c, arr(spec.hostAliases), `${at}.hostAliases`);
  // hostNetwork, hostPID and hostIPC true are refused by the security admission (runtime/security/admission.ts).
  unservedPodFields(c, spec, at);
  seccompRules(c, obj(obj(spec.securityContext)?.seccompProfile), `${at}.securityContext.seccompProfile`);
  c.list.push(...preemptionPolicyProblems(spec.preemptionPolicy, `${at}.preemptionPolicy`));
  const containerNames = new Set<string>();
  const portNames = new Set<string>();
  const all = [
    ...arr(spec.initContainers).map((x, i) => [x, `${at}.initContainers[${i}]`] as const),
    ...arr(spec.containers).map((x, i) => [x, `${at}.containers[${i}]`] as const),
  ];
  all.forEach(([x, path]) => {
    const ctr = obj(x);
    if (!ctr) return;
    envRules(c, ctr, path);
    seccompRules(c, obj(obj(ctr.securityContext)?.seccompProfile), `${path}.securityContext.seccompProfile`);
    const name = str(ctr.name);
    if (name) {
      if (containerNames.has(name)) c.add(CAUSE.duplicate, `${path}.name`, name);
      containerNames.add(name);
    }
    // Port names must be unique across the pod: a service's targetPort names one port of the pod.
    arr(ctr.ports).forEach((p, j) => {
      const pname = str(obj(p)?.name);
      if (!pname) return;
      if (portNames.has(pname)) c.add(CAUSE.duplicate, `${path}.ports[${j}].name`, pname);
      portNames.add(pname);
    });
    const mountPaths = new Set<string>();
    arr(ctr.volumeMounts).forEach((m, j) => {
      const mount = obj(m);
      if (!mount) return;
      const mname = str(mount.name);
      if (mname && !volumes.has(mname) && !claimTemplates.has(mname)) c.add(CAUSE.notFound, `${path}.volumeMounts[${j}].name`, mname);
      const mpath = str(mount.mountPath);
      if (mpath) {
        if (mountPaths.has(mpath)) c.add(CAUSE.invalid, `${path}.volumeMounts[${j}].mountPath`, mpath, "must be unique");
        mountPaths.add(mpath);
      }
      if (str(mount.subPath) && str(mount.subPathExpr)) c.add(CAUSE.invalid, `${path}.volumeMounts[${j}].subPathExpr`, mount.subPathExpr, "subPathExpr and subPath are mutually exclusive");
      // As kube-apiserver: Bidirectional needs a privileged container, which Berth never runs.
      if (mount.mountPropagation === "Bidirectional") c.add(CAUSE.forbidden, `${path}.volumeMounts[${j}].mountPropagation`, undefined, "Bidirectional mount propagation is available only to privileged containers");
    });
    for (const which of ["livenessProbe", "readinessProbe", "startupProbe"]) {
      const probe = obj(ctr[which]);
      if (!probe) continue;
      if (path.includes(".initContainers[")) {
        c.add(CAUSE.forbidden, `${path}.${which}`, undefined, "may not be set for init containers without restartPolicy=Always");
        continue;
      }
      const handlers = PROBE_HANDLERS.filter((h) => probe[h] !== undefined);
      if (handlers.length === 0) c.add(CAUSE.required, `${path}.${which}`, undefined, "must specify a handler type");
      // As kube-apiserver: the first handler counts, every further one is refused at its own path.
      for (const extra of handlers.slice(1)) c.add(CAUSE.forbidden, `${path}.${which}.${extra}`, undefined, "may not specify more than 1 handler type");
      const success = probe.successThreshold;
      if (which !== "readinessProbe" && typeof success === "number" && success > 1) {
        c.add(CAUSE.invalid, `${path}.${which}.successThreshold`, success, "must be 1");
      }
    }
    const resources = obj(ctr.resources);
    const requests = obj(resources?.requests) ?? {};
    const limits = obj(resources?.limits) ?? {};
    for (const [rname, req] of Object.entries(requests)) {
      const lim = limits[rname];
      if (!isQuantity(req) || !isQuantity(lim)) continue;
      if (parseQuantity(req as string) > parseQuantity(lim as string)) {
        c.add(CAUSE.invalid, `${path}.resources.requests`, req, `must be less than or equal to ${rname} limit of ${String(lim)}`);
      }
    }
  });
}

/** Tolerations as Kubernetes validates them: a key that could be a taint's, an operator its value fits, seconds only for NoExecute. */
/** A seccomp profile names a local file exactly when its type is Localhost (kube's ValidateSeccompProfileField). */
function seccompRules(c: Causes, profile: Obj | undefined, at: string): void {
  if (!profile) return;
  const local = profile.localhostProfile;
  if (profile.type === "Localhost" && (local === undefined || local === "")) c.add(CAUSE.required, `${at}.localhostProfile`, undefined, "must be set when seccomp type is Localhost");
  if (profile.type !== "Localhost" && local !== undefined) c.add(CAUSE.invalid, `${at}.localhostProfile`, local, "can only be set when seccomp type is Localhost");
}

function tolerationRules(c: Causes, tolerations: unknown, at: string): void {
  arr(tolerations).forEach((x, i) => {
    const t = obj(x);
    if (!t) return;
    const path = `${at}[${i}]`;
    const key = str(t.key) ?? "";
    const operator = str(t.operator) || "Equal";
    if (key !== "") {
      const bad = labelKeyProblem(key);
      if (bad) c.add(CAUSE.invalid, `${path}.key`, key, bad);
    } else if (operator !== "Exists") {
      c.add(CAUSE.invalid, `${path}.operator`, operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\"");
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== "NoExecute") {
      c.add(CAUSE.invalid, `${path}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    const value = str(t.value) ?? "";
    if (operator === "Exists" && value !== "") c.add(CAUSE.invalid, `${path}.operator`, value, "value must be empty when `operator` is 'Exists'");
    if (operator === "Equal") {
      const bad = labelValueProblem(value);
      if (bad) c.add(CAUSE.invalid, `${path}.value`, value, bad);
    }
  });
}

/** One requirement of a node selector term: on labels (`matchExpressions`), or on `metadata.name` (`matchFields`). */
function nodeRequirementRules(c: Causes, r: Obj, path: string, field: boolean): void {
  const key = str(r.key);
  const op = str(r.operator);
  const values = Array.isArray(r.values) ? r.values : [];
  if (field) {
    if (key !== undefined && key !== "metadata.name") c.add(CAUSE.invalid, `${path}.key`, key, 'not a valid field selector key (Berth, as Kubernetes, knows "metadata.name")');
    if (op !== undefined && op !== "In" && op !== "NotIn") c.add(CAUSE.invalid, `${path}.operator`, op, "not a valid selector operator");
    else if (values.length !== 1) c.add(CAUSE.required, `${path}.values`, undefined, "must be only one value when `operator` is 'In' or 'NotIn' for node field selector");
    return;
  }
  if (key !== undefined) {
    const bad = labelKeyProblem(key);
    if (bad) c.add(CAUSE.invalid, `${path}.key`, key, bad);
  }
  if (op === "In" || op === "NotIn") {
    if (values.length === 0) c.add(CAUSE.required, `${path}.values`, undefined, "must be specified when `operator` is 'In' or 'NotIn'");
  } else if (op === "Exists" || op === "DoesNotExist") {
    if (values.length > 0) c.add(CAUSE.forbidden, `${path}.values`, undefined, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
  } else if (op === "Gt" || op === "Lt") {
    if (values.length !== 1) c.add(CAUSE.required, `${path}.values`, undefined, "must be specified single value when `operator` is 'Lt' or 'Gt'");
    else if (typeof values[0] !== "string" || !/^-?[0-9]+$/.test(values[0])) c.add(CAUSE.invalid, `${path}.values[0]`, values[0], "must be an integer");
  }
}

function nodeSelectorTermRules(c: Causes, term: Obj, path: string): void {
  arr(term.matchExpressions).forEach((r, j) => { if (obj(r)) nodeRequirementRules(c, obj(r)!, `${path}.matchExpressions[${j}]`, false); });
  arr(term.matchFields).forEach((r, j) => { if (obj(r)) nodeRequirementRules(c, obj(r)!, `${path}.matchFields[${j}]`, true); });
}

/** Pod spec fields Berth stores only at the value that asks nothing of it, refused by name otherwise. */
function unservedPodFields(c: Causes, spec: Obj, at: string): void {
  const os = obj(spec.os)?.name;
  if (os !== undefined) {
    if (os !== "linux" && os !== "windows") c.add(CAUSE.notSupported, `${at}.os.name`, os, 'supported values: "linux", "windows"');
    else if (os === "windows") c.add(CAUSE.forbidden, `${at}.os.name`, undefined, "Berth's nodes run Linux containers only");
  }
  if (typeof spec.runtimeClassName === "string" && spec.runtimeClassName !== "") c.add(CAUSE.forbidden, `${at}.runtimeClassName`, undefined, "not supported by Berth (no RuntimeClass is served; every container runs with the engine's runtime)");
  if (Object.keys(obj(spec.overhead) ?? {}).length > 0) c.add(CAUSE.forbidden, `${at}.overhead`, undefined, "pod overhead set without corresponding RuntimeClass defined Overhead");
  // ValidateReadinessGates: each gate's conditionType a qualified name (the kubelet reads it on the pod's status).
  arr(spec.readinessGates).forEach((g, i) => {
    const type = obj(g)?.conditionType;
    const bad = typeof type === "string" ? labelKeyProblem(type) : undefined;
    if (typeof type === "string" && bad) c.add(CAUSE.invalid, `${at}.readinessGates[${i}].conditionType`, type, bad);
  });
  if (typeof spec.activeDeadlineSeconds === "number" && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > 2147483647)) {
    c.add(CAUSE.invalid, `${at}.activeDeadlineSeconds`, spec.activeDeadlineSeconds, "must be between 1 and 2147483647, inclusive");
  }
}

const IP_MESSAGE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

/** dnsConfig and dnsPolicy None, as kube-apiserver's ValidatePodDNSConfig. */
function dnsRules(c: Causes, spec: Obj, at: string): void {
  const config = obj(spec.dnsConfig);
  const path = `${at}.dnsConfig`;
  if (spec.dnsPolicy === "None") {
    if (!config) return void c.add(CAUSE.required, path, undefined, "must provide `dnsConfig` when `dnsPolicy` is None");
    if (arr(config.nameservers).length === 0) return void c.add(CAUSE.required, `${path}.nameservers`, undefined, "must provide at least one DNS nameserver when `dnsPolicy` is None");
  }
  if (!config) return;
  const servers = arr(config.nameservers);
  if (servers.length > 3) c.add(CAUSE.invalid, `${path}.nameservers`, servers, "must not have more than 3 nameservers");
  servers.forEach((ns, i) => { if (typeof ns !== "string" || isIP(ns) === 0) c.add(CAUSE.invalid, `${path}.nameservers[${i}]`, ns, IP_MESSAGE); });
  const searches = arr(config.searches);
  if (searches.length > 32) c.add(CAUSE.invalid, `${path}.searches`, searches, "must not have more than 32 search paths");
  if (searches.join(" ").length > 2048) c.add(CAUSE.invalid, `${path}.searches`, searches, "must not have more than 2048 characters (including spaces) in the search list");
  searches.forEach((x, i) => {
    // A trailing dot is fine.
    const name = typeof x === "string" ? x.replace(/\.$/, "") : "";
    if (!isDns1123Subdomain(name)) c.add(CAUSE.invalid, `${path}.searches[${i}]`, name, DNS1123_SUBDOMAIN_MESSAGE);
  });
  arr(config.options).forEach((o, i) => {
    const name = obj(o)?.name;
    if (typeof name !== "string" || name === "") c.add(CAUSE.required, `${path}.options[${i}]`, undefined, "Option.Name must not be empty");
  });
}

/** hostAliases: an IP address and DNS names, as kube-apiserver's ValidateHostAliases. */
function hostAliasRules(c: Causes, aliases: unknown[], at: string): void {
  aliases.forEach((x, i) => {
    const alias = obj(x);
    if (!alias) return;
    if (typeof alias.ip !== "string" || isIP(alias.ip) === 0) c.add(CAUSE.invalid, `${at}[${i}].ip`, alias.ip, IP_MESSAGE);
    arr(alias.hostnames).forEach((h, j) => {
      if (typeof h !== "string" || !isDns1123Subdomain(h)) c.add(CAUSE.invalid, `${at}[${i}].hostnames[${j}]`, h, DNS1123_SUBDOMAIN_MESSAGE);
    });
  });
}

/** Topology spread constraints as kube-apiserver validates them (ValidateTopologySpreadConstraints). */
function topologySpreadRules(c: Causes, constraints: unknown[], at: string): void {
  constraints.forEach((x, i) => {
    const t = obj(x);
    if (!t) return;
    const path = `${at}[${i}]`;
    if (typeof t.maxSkew === "number" && t.maxSkew <= 0) c.add(CAUSE.invalid, `${path}.maxSkew`, t.maxSkew, "must be greater than zero");
    if (str(t.topologyKey) === undefined || t.topologyKey === "") c.add(CAUSE.required, `${path}.topologyKey`, undefined, "can not be empty");
    const action = str(t.whenUnsatisfiable) ?? "";
    if (action !== "DoNotSchedule" && action !== "ScheduleAnyway") c.add(CAUSE.notSupported, `${path}.whenUnsatisfiable`, action, 'supported values: "DoNotSchedule", "ScheduleAnyway"');
    // {topologyKey, whenUnsatisfiable} is one kind of constraint: reported on the first of a repeated pair.
    if (constraints.slice(i + 1).some((y) => obj(y)?.topologyKey === t.topologyKey && obj(y)?.whenUnsatisfiable === t.whenUnsatisfiable)) {
      c.add(CAUSE.duplicate, `${path}.{topologyKey, whenUnsatisfiable}`, `{${String(t.topologyKey)}, ${action}}`);
    }
    if (t.minDomains !== undefined && t.minDomains !== null) {
      if (typeof t.minDomains === "number" && t.minDomains <= 0) c.add(CAUSE.invalid, `${path}.minDomains`, t.minDomains, "must be greater than zero");
      if (action !== "DoNotSchedule") c.add(CAUSE.invalid, `${path}.minDomains`, t.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`);
    }
    for (const policy of ["nodeAffinityPolicy", "nodeTaintsPolicy"]) {
      const v = t[policy];
      if (v !== undefined && v !== null && v !== "Honor" && v !== "Ignore") c.add(CAUSE.notSupported, `${path}.${policy}`, v, 'supported values: "Honor", "Ignore"');
    }
    const keys = arr(t.matchLabelKeys);
    if (keys.length) {
      const selector = obj(t.labelSelector);
      if (!selector) c.add(CAUSE.forbidden, `${path}.matchLabelKeys`, undefined, "must not be specified when labelSelector is not set");
      const taken = new Set([...Object.keys(obj(selector?.matchLabels) ?? {}), ...arr(selector?.matchExpressions).map((e) => str(obj(e)?.key))]);
      keys.forEach((k, j) => {
        const key = str(k) ?? "";
        const bad = labelKeyProblem(key);
        if (bad) c.add(CAUSE.invalid, `${path}.matchLabelKeys[${j}]`, key, bad);
        if (taken.has(key)) c.add(CAUSE.invalid, `${path}.matchLabelKeys[${j}]`, key, "exists in both matchLabelKeys and labelSelector");
      });
    }
  });
}

/** One inter-pod (anti-)affinity term, as Kubernetes validates it, and what Berth does not serve of it. */
function podAffinityTermRules(c: Causes, term: Obj | undefined, at: string): void {
  if (!term) return;
  if (str(term.topologyKey) === undefined || term.topologyKey === "") c.add(CAUSE.required, `${at}.topologyKey`, undefined, "can not be empty");
  const ns = obj(term.namespaceSelector);
  if (ns && (Object.keys(obj(ns.matchLabels) ?? {}).length > 0 || arr(ns.matchExpressions).length > 0)) {
    c.add(CAUSE.forbidden, `${at}.namespaceSelector`, undefined, "not supported by Berth (namespaces, and namespaceSelector {} for every namespace, are)");
  }
  for (const k of ["matchLabelKeys", "mismatchLabelKeys"]) {
    if (term[k] !== undefined && arr(term[k]).length > 0) c.add(CAUSE.forbidden, `${at}.${k}`, undefined, "not supported by Berth");
  }
}

/**
 * Node affinity and inter-pod (anti-)affinity as Kubernetes validates them (the scheduler acts on
 * both: actors/scheduler_affinity.ts).
 */
function affinityRules(c: Causes, affinity: Obj | undefined, at: string): void {
  if (!affinity) return;
  for (const kind of ["podAffinity", "podAntiAffinity"]) {
    const pa = obj(affinity[kind]);
    if (!pa) continue;
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => podAffinityTermRules(c, obj(t), `${at}.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`));
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((p, i) => {
      const pref = obj(p);
      const path = `${at}.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (typeof pref?.weight === "number" && (pref.weight < 1 || pref.weight > 100)) c.add(CAUSE.invalid, `${path}.weight`, pref.weight, "must be in the range 1-100");
      podAffinityTermRules(c, obj(pref?.podAffinityTerm), `${path}.podAffinityTerm`);
    });
  }
  const na = obj(affinity.nodeAffinity);
  if (!na) return;
  const required = obj(na.requiredDuringSchedulingIgnoredDuringExecution);
  if (required) {
    const terms = arr(required.nodeSelectorTerms);
    const path = `${at}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`;
    if (terms.length === 0) c.add(CAUSE.required, path, undefined, "must have at least one node selector term");
    terms.forEach((t, i) => { if (obj(t)) nodeSelectorTermRules(c, obj(t)!, `${path}[${i}]`); });
  }
  arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((p, i) => {
    const pref = obj(p);
    if (!pref) return;
    const path = `${at}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
    const w = pref.weight;
    if (typeof w === "number" && (w < 1 || w > 100)) c.add(CAUSE.invalid, `${path}.weight`, w, "must be in the range 1-100");
    if (obj(pref.preference)) nodeSelectorTermRules(c, obj(pref.preference)!, `${path}.preference`);
  });
}

const ENV_FIELD_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs"];

/** `valueFrom` names exactly one source; field paths are ones Kubernetes supports. */
function envRules(c: Causes, ctr: Obj, path: string): void {
  arr(ctr.env).forEach((e, i) => {
    const vf = obj(obj(e)?.valueFrom);
    if (!vf) return;
    const at = `${path}.env[${i}].valueFrom`;
    const n = ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"].filter((k) => vf[k] !== undefined).length;
    if (n !== 1) c.add(CAUSE.invalid, at, "", "may not have more than one field specified at a time");
    const fp = str(obj(vf.fieldRef)?.fieldPath);
    if (fp !== undefined && !ENV_FIELD_PATHS.includes(fp) && !/^metadata\.(labels|annotations)\['.+'\]$/.test(fp)) {
      c.add(CAUSE.notSupported, `${at}.fieldRef.fieldPath`, fp, `supported values: ${[...ENV_FIELD_PATHS, "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']"].map((x) => JSON.stringify(x)).join(", ")}`);
    }
    const res = str(obj(vf.resourceFieldRef)?.resource);
    const RES = ["limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"];
    if (res !== undefined && !RES.includes(res)) c.add(CAUSE.notSupported, `${at}.resourceFieldRef.resource`, res, `supported values: ${RES.map((x) => JSON.stringify(x)).join(", ")}`);
  });
  arr(ctr.envFrom).forEach((f, i) => {
    const from = obj(f);
    if (!from) return;
    const n = ["configMapRef", "secretRef"].filter((k) => from[k] !== undefined).length;
    if (n !== 1) c.add(CAUSE.invalid, `${path}.envFrom[${i}]`, "", "must specify one of: `configMapRef` or `secretRef`");
  });
  for (const hook of ["postStart", "preStop"]) {
    const h = obj(obj(ctr.lifecycle)?.[hook]);
    if (!h) continue;
    const n = ["exec", "httpGet"].filter((k) => h[k] !== undefined).length;
    if (n === 0) c.add(CAUSE.required, `${path}.lifecycle.${hook}`, undefined, "must specify a handler type");
    else if (n > 1) c.add(CAUSE.forbidden, `${path}.lifecycle.${hook}.httpGet`, undefined, "may not specify more than 1 handler type");
  }
}

function rcRules(c: Causes, spec: Obj | undefined): void {
  if (!spec) return;
  const template = obj(spec.template);
  const templateLabels = strMap(obj(template?.metadata)?.labels);
  const selector = obj(spec.selector) ? strMap(spec.selector) : undefined;
  if (selector !== undefined && Object.keys(selector).length > 0) {
    if (template && !mapMatches(selector, templateLabels)) {
      c.add(CAUSE.invalid, "spec.template.metadata.labels", templateLabels, "`selector` does not match template `labels`");
    }
  } else if (template && Object.keys(templateLabels).length === 0) {
    // The selector defaults to the template's labels; with neither, the RC would select nothing.
    c.add(CAUSE.required, "spec.selector", undefined, "the selector, or the template's labels it defaults to, must not be empty");
  }
  keepsRunning(c, obj(template?.spec), "ReplicationController");
  if (template) podSpecRules(c, obj(template.spec), "spec.template.spec");
}

/**
 * The pods of a controller that keeps them running (kube's ValidatePodTemplateSpecFor…): restart
 * policy Always, and no activeDeadlineSeconds (a deadline would fail them over and over).
 * A Deployment's template is checked as its ReplicaSets', as in kube.
 */
function keepsRunning(c: Causes, podSpec: Obj | undefined, owner: "ReplicationController" | "ReplicaSet" | "DaemonSet" | "StatefulSet"): void {
  const policy = podSpec?.restartPolicy;
  if (typeof policy === "string" && policy !== "Always") {
    c.add(CAUSE.notSupported, "spec.template.spec.restartPolicy", policy, 'supported values: "Always"');
  }
  if (podSpec?.activeDeadlineSeconds !== undefined) {
    c.add(CAUSE.forbidden, "spec.template.spec.activeDeadlineSeconds", undefined, `activeDeadlineSeconds in ${owner} is not Supported`);
  }
}

/** ReplicaSet and Deployment: a non-empty selector that matches the template, a rolling update that can move. */
function appsRules(c: Causes, resource: "replicasets" | "deployments", spec: Obj | undefined): void {
  if (!spec) return;
  const template = obj(spec.template);
  const sel = obj(spec.selector);
  if (sel) selectorMatchesTemplate(c, sel, template);
  keepsRunning(c, obj(template?.spec), "ReplicaSet");
  if (template) podSpecRules(c, obj(template.spec), "spec.template.spec");
  if (resource !== "deployments") return;
  const ru = obj(obj(spec.strategy)?.rollingUpdate);
  if (ru && str(obj(spec.strategy)?.type) === "Recreate") {
    c.add(CAUSE.forbidden, "spec.strategy.rollingUpdate", undefined, "may not be specified when strategy `type` is 'Recreate'");
  }
  const zero = (v: unknown) => v === 0 || v === "0%";
  if (ru && zero(ru.maxSurge) && zero(ru.maxUnavailable)) {
    c.add(CAUSE.invalid, "spec.strategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "may not be 0 when `maxSurge` is 0");
  }
  const pct = (v: unknown) => (typeof v === "string" && /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : 0);
  if (ru && pct(ru.maxUnavailable) > 100) {
    c.add(CAUSE.invalid, "spec.strategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "must not be greater than 100%");
  }
}

/**
 * DaemonSet: a non-empty selector that matches the template, pods that keep running, and a
 * rolling update that can move. Surging (`maxSurge` above 0) is not served.
 */
function daemonSetRules(c: Causes, spec: Obj | undefined): void {
  if (!spec) return;
  const template = obj(spec.template);
  const sel = obj(spec.selector);
  if (sel) selectorMatchesTemplate(c, sel, template, "spec", "daemonset");
  keepsRunning(c, obj(template?.spec), "DaemonSet");
  if (template) podSpecRules(c, obj(template.spec), "spec.template.spec");
  // As Kubernetes, `rollingUpdate` is only read under RollingUpdate (an OnDelete DaemonSet may keep the one it had).
  const strategy = obj(spec.updateStrategy);
  const ru = obj(strategy?.rollingUpdate);
  if (!ru || (str(strategy?.type) ?? "RollingUpdate") !== "RollingUpdate") return;
  const zero = (v: unknown) => v === undefined || v === 0 || v === "0%";
  if (!zero(ru.maxSurge)) c.add(CAUSE.forbidden, "spec.updateStrategy.rollingUpdate.maxSurge", ru.maxSurge, "not supported by Berth (old pods are replaced with maxUnavailable)");
  else if (zero(ru.maxUnavailable) && ru.maxUnavailable !== undefined) c.add(CAUSE.invalid, "spec.updateStrategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "cannot be 0 when maxSurge is 0");
  const pct = (v: unknown) => (typeof v === "string" && /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : 0);
  if (pct(ru.maxUnavailable) > 100) c.add(CAUSE.invalid, "spec.updateStrategy.rollingUpdate.maxUnavailable", ru.maxUnavailable, "must not be greater than 100%");
}

/** The storage classes Berth provisions: `local` only (see model/types.ts). */
const STORAGE_CLASSES = [LOCAL_STORAGE_CLASS];
/** Sorted, as Kubernetes lists them in its refusal. */
const KNOWN_ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];

/** Parts of a claim's spec Kubernetes has and Berth does not serve, with why. */
const PVC_NOT_SERVED: Record<string, string> = {
  selector: "it serves no PersistentVolumes to select",
  dataSource: "it provisions empty volumes only",
  dataSourceRef: "it provisions empty volumes only",
  volumeAttributesClassName: "it serves no VolumeAttributesClasses",
};

const VOLUME_NAME_REFUSED = "not supported by Berth (it serves no PersistentVolumes to bind to in advance: a claim is bound to the volume provisioned for it)";

/**
 * A claim's spec (a PersistentVolumeClaim's, or a StatefulSet's claim template's) as Kubernetes
 * validates it (ValidatePersistentVolumeClaimSpec), and what Berth provisions: a Filesystem volume
 * of storage class `local`, so any other class is refused rather than left Pending forever.
 * `volumeName` is checked at create (`pvcCreateProblems`): the system sets it when it binds.
 */
function pvcSpecRules(c: Causes, spec: Obj | undefined, at: string): void {
  if (!spec) return;
  const modes = arr(spec.accessModes);
  if (modes.length === 0) c.add(CAUSE.required, `${at}.accessModes`, undefined, "at least 1 access mode is required");
  for (const m of modes) {
    if (typeof m === "string" && !KNOWN_ACCESS_MODES.includes(m)) {
      c.add(CAUSE.notSupported, `${at}.accessModes`, m, `supported values: ${KNOWN_ACCESS_MODES.map((x) => `"${x}"`).join(", ")}`);
    }
  }
  if (modes.includes("ReadWriteOncePod") && modes.some((m) => m !== "ReadWriteOncePod" && KNOWN_ACCESS_MODES.includes(m as string))) {
    c.add(CAUSE.forbidden, `${at}.accessModes`, undefined, "may not use ReadWriteOncePod with other access modes");
  }
  // Kubernetes names the storage request `resources[storage]`.
  const storage = obj(obj(spec.resources)?.requests)?.storage;
  if (storage === undefined) c.add(CAUSE.required, `${at}.resources[storage]`, undefined);
  else if (isQuantity(storage) && parseQuantity(storage as string) <= 0) c.add(CAUSE.invalid, `${at}.resources[storage]`, String(storage), "must be greater than zero");
  const cls = spec.storageClassName;
  if (typeof cls === "string" && !STORAGE_CLASSES.includes(cls)) {
    c.add(CAUSE.notSupported, `${at}.storageClassName`, cls, `supported values: ${STORAGE_CLASSES.map((x) => `"${x}"`).join(", ")}`);
  }
  if (spec.volumeMode === "Block") c.add(CAUSE.notSupported, `${at}.volumeMode`, "Block", 'supported values: "Filesystem" (Berth provisions filesystems only)');
  for (const [field, why] of Object.entries(PVC_NOT_SERVED)) {
    const v = spec[field];
    if (v !== undefined && v !== "") c.add(CAUSE.forbidden, `${at}.${field}`, undefined, `not supported by Berth (${why})`);
  }
}

/** What a new claim may not say (checked at create only; updates bind claims by setting it). */
export function pvcCreateProblems(pvc: PersistentVolumeClaim): StatusCause[] {
  const c = new Causes();
  if (pvc.spec.volumeName) c.add(CAUSE.forbidden, "spec.volumeName", undefined, VOLUME_NAME_REFUSED);
  return c.list;
}

/** The unhealthy pod eviction policies Kubernetes knows, sorted as its refusal lists them. */
const UNHEALTHY_POD_EVICTION_POLICIES = ["AlwaysAllow", "IfHealthyBudget"];

/**
 * A PodDisruptionBudget's spec (Kubernetes' ValidatePodDisruptionBudgetSpec): at most one of
 * minAvailable and maxUnavailable, each a count or a percentage of at most 100% (the schema
 * checks the form), and a known unhealthy pod eviction policy. The selector is checked by the
 * schema as other label selectors are; absent, the budget selects no pod, `{}` selects every one.
 */
function pdbSpecRules(c: Causes, spec: Obj | undefined): void {
  if (!spec) return;
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    c.add(CAUSE.invalid, "spec", spec, "minAvailable and maxUnavailable cannot be both set");
  }
  for (const field of ["minAvailable", "maxUnavailable"]) {
    const v = spec[field];
    if (typeof v === "string" && /^[0-9]+%$/.test(v) && Number(v.slice(0, -1)) > 100) c.add(CAUSE.invalid, `spec.${field}`, v, "must not be greater than 100%");
  }
  const policy = spec.unhealthyPodEvictionPolicy;
  if (typeof policy === "string" && !UNHEALTHY_POD_EVICTION_POLICIES.includes(policy)) {
    c.add(CAUSE.notSupported, "spec.unhealthyPodEvictionPolicy", policy, `supported values: ${UNHEALTHY_POD_EVICTION_POLICIES.map((x) => `"${x}"`).join(", ")}`);
  }
}

/**
 * StatefulSet (Kubernetes' ValidateStatefulSetSpec): a non-empty selector matching the
 * template, pods that keep running, a governing service whose name can be a pod's subdomain, the
 * policies it knows, and claim templates with unique names, each a valid claim. The template's
 * mounts may name a claim template (the controller adds that volume to each pod); a template
 * volume of the same name is not refused, as in Kubernetes (the claim's volume takes its place).
 * Surging by `maxUnavailable` (alpha in Kubernetes) is not served.
 */
function statefulSetRules(c: Causes, spec: Obj | undefined): void {
  if (!spec) return;
  const template = obj(spec.template);
  const podSpec = obj(template?.spec);
  const sel = obj(spec.selector);
  if (sel) selectorMatchesTemplate(c, sel, template, "spec", "statefulset");
  keepsRunning(c, podSpec, "StatefulSet");
  const serviceName = spec.serviceName;
  if (typeof serviceName === "string" && serviceName !== "" && !isDns1123Label(serviceName)) {
    c.add(CAUSE.invalid, "spec.serviceName", serviceName, DNS1123_LABEL_MESSAGE);
  }
  // An empty string is unset, as Kubernetes' defaulting reads it.
  const pmp = spec.podManagementPolicy;
  if (typeof pmp === "string" && pmp !== "" && pmp !== "OrderedReady" && pmp !== "Parallel") {
    c.add(CAUSE.invalid, "spec.podManagementPolicy", pmp, "must be 'OrderedReady' or 'Parallel'");
  }
  const strategy = obj(spec.updateStrategy);
  const type = str(strategy?.type) || undefined;
  const ru = strategy?.rollingUpdate;
  if (type !== undefined && type !== "RollingUpdate" && type !== "OnDelete") {
    c.add(CAUSE.invalid, "spec.updateStrategy", strategy, "must be 'RollingUpdate' or 'OnDelete'");
  } else if (type === "OnDelete" && ru !== undefined) {
    c.add(CAUSE.invalid, "spec.updateStrategy.rollingUpdate", ru, "only allowed for updateStrategy 'RollingUpdate'");
  } else if (obj(ru)?.maxUnavailable !== undefined) {
    c.add(CAUSE.forbidden, "spec.updateStrategy.rollingUpdate.maxUnavailable", undefined, "not supported by Berth (MaxUnavailableStatefulSet is an alpha feature of Kubernetes): pods are updated one at a time");
  }
  const claims = new Set<string>();
  arr(spec.volumeClaimTemplates).forEach((t, i) => {
    const claim = obj(t);
    if (!claim) return;
    const at = `spec.volumeClaimTemplates[${i}]`;
    const meta = obj(claim.metadata);
    const name = str(meta?.name);
    if (meta && !name) c.add(CAUSE.required, `${at}.metadata.name`, undefined);
    if (name) {
      if (claims.has(name)) c.add(CAUSE.duplicate, `${at}.metadata.name`, name);
      claims.add(name);
    }
    const claimSpec = obj(claim.spec);
    pvcSpecRules(c, claimSpec, `${at}.spec`);
    if (claimSpec?.volumeName) c.add(CAUSE.forbidden, `${at}.spec.volumeName`, undefined, VOLUME_NAME_REFUSED);
  });
  if (template) podSpecRules(c, podSpec, "spec.template.spec", claims);
}

/** Kubernetes' cap on an Indexed Job's parallelism (it bounds the length of `status.completedIndexes`). */
const MAX_PARALLELISM_INDEXED = 100_000;

/**
 * Job: pods that finish (restartPolicy OnFailure or Never), and with `manualSelector` a non-empty
 * selector of the user's that matches the template (otherwise the API generates the selector on
 * create, and `jobSelectorProblems` checks what it made).
 */
function jobRules(c: Causes, spec: Obj | undefined, at = "spec"): void {
  if (!spec) return;
  const template = obj(spec.template);
  const policy = obj(template?.spec)?.restartPolicy;
  if (policy === undefined) c.add(CAUSE.required, `${at}.template.spec.restartPolicy`, undefined, 'valid values: "OnFailure", "Never"');
  else if (policy !== "OnFailure" && policy !== "Never") c.add(CAUSE.notSupported, `${at}.template.spec.restartPolicy`, policy, 'supported values: "OnFailure", "Never"');
  // Parts of Kubernetes' Job that Berth does not run: refused, not stored and ignored.
  for (const field of ["podFailurePolicy", "successPolicy", "backoffLimitPerIndex", "maxFailedIndexes"]) {
    if (spec[field] !== undefined && spec[field] !== null) c.add(CAUSE.forbidden, `${at}.${field}`, undefined, "not supported by Berth");
  }
  if (spec.completionMode === "Indexed") {
    // Kubernetes' validateJobSpec, after its defaults: a Job given neither completions nor
    // parallelism gets completions 1; a CronJob's job template gets no such default.
    if ((spec.completions === undefined || spec.completions === null) && (at !== "spec" || (spec.parallelism !== undefined && spec.parallelism !== null))) {
      c.add(CAUSE.required, `${at}.completions`, undefined, "when completion mode is Indexed");
    }
    if (typeof spec.parallelism === "number" && spec.parallelism > MAX_PARALLELISM_INDEXED) {
      c.add(CAUSE.invalid, `${at}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_PARALLELISM_INDEXED} when completion mode is Indexed`);
    }
  }
  if (spec.podReplacementPolicy !== undefined && spec.podReplacementPolicy !== "TerminatingOrFailed") {
    c.add(CAUSE.notSupported, `${at}.podReplacementPolicy`, spec.podReplacementPolicy, 'supported values: "TerminatingOrFailed"');
  }
  if (spec.managedBy !== undefined && spec.managedBy !== "kubernetes.io/job-controller") {
    c.add(CAUSE.notSupported, `${at}.managedBy`, spec.managedBy, 'supported values: "kubernetes.io/job-controller" (Berth runs every job itself)');
  }
  if (spec.manualSelector === true) {
    const sel = obj(spec.selector);
    if (!sel) c.add(CAUSE.required, `${at}.selector`, undefined);
    else selectorMatchesTemplate(c, sel, template, at);
  }
  if (template) podSpecRules(c, obj(template.spec), `${at}.template.spec`);
}

/**
 * An Indexed Job's pods are named and hostnamed `<job>-<index>`: the highest must be a DNS label
 * (Kubernetes' ValidateJob), or the job could not create its pods.
 */
function indexedJobNameRule(c: Causes, raw: Obj): void {
  const spec = obj(raw.spec);
  const name = str(obj(raw.metadata)?.name);
  if (spec?.completionMode !== "Indexed" || !name || typeof spec.completions !== "number" || spec.completions <= 0) return;
  const highest = `${name}-${spec.completions - 1}`;
  if (!isDns1123Label(highest)) c.add(CAUSE.invalid, "metadata.name", name, `will not able to create pod with invalid DNS label: ${highest}`);
}

/**
 * CronJob: a schedule and time zone that parse (runtime/cron.ts), a name that leaves room for
 * the 11 characters of its jobs' suffix (52 at most, as Kubernetes), and a job template that
 * would make valid jobs.
 */
function cronJobRules(c: Causes, raw: Obj): void {
  const name = str(obj(raw.metadata)?.name);
  if (name && name.length > 52) c.add(CAUSE.invalid, "metadata.name", name, "must be no more than 52 characters");
  const spec = obj(raw.spec);
  if (!spec) return;
  const schedule = str(spec.schedule);
  const tz = str(spec.timeZone);
  const tzKnown = tz === undefined || validTimeZone(tz);
  if (!tzKnown) c.add(CAUSE.invalid, "spec.timeZone", tz, `unknown time zone ${tz}`);
  if (schedule === "") c.add(CAUSE.required, "spec.schedule", undefined);
  else if (schedule !== undefined) {
    const problem = scheduleProblem(schedule, tzKnown ? tz : undefined);
    if (problem) c.add(CAUSE.invalid, "spec.schedule", schedule, problem);
  }
  const template = obj(spec.jobTemplate);
  const jobSpec = obj(template?.spec);
  // Each Job gets a selector of its own when it is made (Kubernetes' ValidateJobTemplateSpec).
  if (jobSpec?.selector !== undefined && jobSpec.selector !== null) c.add(CAUSE.invalid, "spec.jobTemplate.spec.selector", jobSpec.selector, "`selector` will be auto-generated");
  if (jobSpec?.manualSelector === true) c.add(CAUSE.notSupported, "spec.jobTemplate.spec.manualSelector", true, 'supported values: "nil", "false"');
  if (template) jobRules(c, jobSpec, "spec.jobTemplate.spec");
}

/** A non-empty selector matching the template's labels (ReplicaSet, Deployment, Job). */
function selectorMatchesTemplate(c: Causes, sel: Obj, template: Obj | undefined, at = "spec", kind = "deployment"): void {
  const templateLabels = strMap(obj(template?.metadata)?.labels);
  const empty = Object.keys(obj(sel.matchLabels) ?? {}).length === 0 && arr(sel.matchExpressions).length === 0;
  if (empty) c.add(CAUSE.invalid, `${at}.selector`, sel, `empty selector is invalid for ${kind}`);
  else if (template && !matchesLabels(selectorFromSpec(sel as LabelSelectorSpec), templateLabels)) {
    c.add(CAUSE.invalid, `${at}.template.metadata.labels`, templateLabels, "`selector` does not match template `labels`");
  }
}

function serviceRules(c: Causes, spec: Obj | undefined): void {
  if (!spec) return;
  const ports = arr(spec.ports).map(obj);
  const type = str(spec.type) ?? "ClusterIP";
  if (type === "ExternalName") {
    // As Kubernetes: a DNS alias, so a name and no address of its own.
    const name = str(spec.externalName);
    if (!name) c.add(CAUSE.required, "spec.externalName", undefined);
    else if (!isDns1123Subdomain(name.replace(/\.$/, ""))) c.add(CAUSE.invalid, "spec.externalName", name, DNS1123_SUBDOMAIN_MESSAGE);
    if (typeof spec.clusterIP === "string" && spec.clusterIP !== "") c.add(CAUSE.forbidden, "spec.clusterIP", undefined, "may not be set for ExternalName services");
    if (arr(spec.clusterIPs).length > 0) c.add(CAUSE.forbidden, "spec.clusterIPs", undefined, "may not be set for ExternalName services");
  } else if (ports.length === 0 && spec.clusterIP !== "None") c.add(CAUSE.required, "spec.ports", undefined);
  const names = new Set<string>();
  const portProto = new Set<string>();
  const nodePorts = new Set<number>();
  ports.forEach((p, i) => {
    if (!p) return;
    const name = str(p.name);
    if (ports.length > 1 && !name) c.add(CAUSE.required, `spec.ports[${i}].name`, undefined, "when more than one port is given, every port needs a name");
    if (name) {
      if (names.has(name)) c.add(CAUSE.duplicate, `spec.ports[${i}].name`, name);
      names.add(name);
    }
    const key = `${String(p.port)}/${str(p.protocol) ?? "TCP"}`;
    if (typeof p.port === "number") {
      if (portProto.has(key)) c.add(CAUSE.duplicate, `spec.ports[${i}]`, { port: p.port, protocol: str(p.protocol) ?? "TCP" });
      portProto.add(key);
    }
    if (typeof p.nodePort === "number") {
      if (type === "ClusterIP" || type === "ExternalName") c.add(CAUSE.forbidden, `spec.ports[${i}].nodePort`, undefined, `may not be used when \`type\` is '${type}'`);
      if (nodePorts.has(p.nodePort)) c.add(CAUSE.duplicate, `spec.ports[${i}].nodePort`, p.nodePort);
      nodePorts.add(p.nodePort);
    }
  });
  if (spec.clusterIP === "None" && type !== "ClusterIP" && type !== "ExternalName") {
    c.add(CAUSE.invalid, "spec.clusterIP", "None", `may not be set to 'None' for ${type} services`);
  }
  if (spec.sessionAffinityConfig !== undefined && spec.sessionAffinity !== "ClientIP") {
    c.add(CAUSE.forbidden, "spec.sessionAffinityConfig", undefined, "must not be set when `sessionAffinity` is None");
  }
  const ips = arr(spec.clusterIPs);
  if (ips.length > 0 && typeof spec.clusterIP === "string" && spec.clusterIP !== "" && ips[0] !== spec.clusterIP) {
    c.add(CAUSE.invalid, "spec.clusterIPs", ips, "the first element must match `clusterIP`");
  }
  serviceNetworkRules(c, spec, type);
}

/**
 * IP families and traffic policies, as kube-apiserver validates them on a single-stack IPv4
 * cluster, and what Berth's proxies do not serve of them, refused by name.
 */
function serviceNetworkRules(c: Causes, spec: Obj, type: string): void {
  arr(spec.ipFamilies).forEach((f, i) => {
    if (f !== "IPv4" && f !== "IPv6") c.add(CAUSE.notSupported, `spec.ipFamilies[${i}]`, f, 'supported values: "IPv4", "IPv6"');
    else if (f === "IPv6") c.add(CAUSE.invalid, `spec.ipFamilies[${i}]`, f, "not configured on this cluster");
  });
  const policy = spec.ipFamilyPolicy;
  if (policy !== undefined && policy !== null) {
    if (policy !== "SingleStack" && policy !== "PreferDualStack" && policy !== "RequireDualStack") {
      c.add(CAUSE.notSupported, "spec.ipFamilyPolicy", policy, 'supported values: "PreferDualStack", "RequireDualStack", "SingleStack"');
    } else if (policy === "RequireDualStack") c.add(CAUSE.invalid, "spec.ipFamilyPolicy", policy, "this cluster is not configured for dual-stack services");
  }
  const external = type === "NodePort" || type === "LoadBalancer";
  for (const field of ["internalTrafficPolicy", "externalTrafficPolicy"] as const) {
    const v = spec[field];
    if (v === undefined || v === null || v === "") continue;
    if (field === "externalTrafficPolicy" && !external) c.add(CAUSE.invalid, `spec.${field}`, v, "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
    else if (v !== "Cluster" && v !== "Local") c.add(CAUSE.notSupported, `spec.${field}`, v, 'supported values: "Cluster", "Local"');
    else if (v === "Local") c.add(CAUSE.forbidden, `spec.${field}`, undefined, "Local is not supported by Berth (its proxies do not keep a service's traffic on the node); use Cluster");
  }
  const ranges = arr(spec.loadBalancerSourceRanges);
  if (ranges.length > 0) {
    if (type !== "LoadBalancer") c.add(CAUSE.forbidden, "spec.loadBalancerSourceRanges", undefined, "may only be used when `type` is 'LoadBalancer'");
    else c.add(CAUSE.forbidden, "spec.loadBalancerSourceRanges", undefined, "not supported by Berth (its load balancer does not filter by source address)");
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null) {
    if (type !== "LoadBalancer") c.add(CAUSE.forbidden, "spec.allocateLoadBalancerNodePorts", undefined, "may only be used when `type` is 'LoadBalancer'");
    else if (spec.allocateLoadBalancerNodePorts === false) c.add(CAUSE.forbidden, "spec.allocateLoadBalancerNodePorts", undefined, "false is not supported by Berth (its load balancer forwards to the node ports)");
  }
}

function eventRules(c: Causes, raw: Obj): void {
  const involved = obj(raw.involvedObject);
  const ns = str(obj(raw.metadata)?.namespace);
  const ins = str(involved?.namespace);
  if (ns && ins && ns !== ins) c.add(CAUSE.invalid, "involvedObject.namespace", ins, "does not match event.namespace");
}

/**
 * A new Job after its selector was generated (Kubernetes' validateGeneratedSelector): unless
 * `manualSelector`, the template carries the job's uid and name under both label names and the
 * selector selects the uid; and in every case the selector matches the template.
 */
export function jobSelectorProblems(job: Job): StatusCause[] {
  const c = new Causes();
  const labels = job.spec.template.metadata?.labels ?? {};
  if (job.spec.manualSelector !== true) {
    const want: [string, string][] = [
      [JOB_LABELS.legacyControllerUid, job.metadata.uid ?? ""],
      [JOB_LABELS.legacyJobName, job.metadata.name],
      [JOB_LABELS.controllerUid, job.metadata.uid ?? ""],
      [JOB_LABELS.jobName, job.metadata.name],
    ];
    for (const [key, value] of want) {
      const field = `spec.template.metadata.labels[${key}]`;
      if (labels[key] !== value) c.add(labels[key] === undefined ? CAUSE.required : CAUSE.invalid, field, labels[key], `must be '${value}'`);
    }
    const sel = selectorFromSpec(job.spec.selector ?? {});
    if (!matchesLabels(sel, { [JOB_LABELS.controllerUid]: job.metadata.uid ?? "" })) {
      c.add(CAUSE.invalid, "spec.selector", job.spec.selector, "`selector` not auto-generated");
    }
  }
  if (job.spec.selector && !matchesLabels(selectorFromSpec(job.spec.selector), labels)) {
    c.add(CAUSE.invalid, "spec.template.metadata.labels", labels, "`selector` does not match template `labels`");
  }
  return c.list;
}

/**
 * What a Job update may not change (Kubernetes' ValidateJobSpecUpdate): its selector, pod
 * template, completions and completion mode. (Kubernetes lets a suspended job that never ran
 * change its template's labels, annotations and scheduling fields; Berth does not.)
 */
export function jobUpdateProblems(current: Job, next: Job): StatusCause[] {
  const c = new Causes();
  const same = (a: unknown, b: unknown) => jsonEqual(a ?? null, b ?? null);
  for (const k of ["selector", "template", "completions", "completionMode"] as const) {
    if (!same(current.spec[k], next.spec[k])) c.add(CAUSE.invalid, `spec.${k}`, next.spec[k] ?? null, "field is immutable");
  }
  return c.list;
}

/** apps/v1 keeps a workload's selector for its life (Deployment, ReplicaSet, DaemonSet): `field is immutable`. */
export function appsSelectorUpdateProblems(current: { spec: { selector?: LabelSelectorSpec } }, next: { spec: { selector?: LabelSelectorSpec } }): StatusCause[] {
  const c = new Causes();
  // Compared as Kubernetes' semantic equality does: an empty list or map is the same as none.
  const norm = (s: LabelSelectorSpec | undefined) => ({
    matchLabels: Object.keys(s?.matchLabels ?? {}).length ? s!.matchLabels : null,
    matchExpressions: s?.matchExpressions?.length ? s.matchExpressions : null,
  });
  if (!jsonEqual(norm(current.spec.selector), norm(next.spec.selector))) c.add(CAUSE.invalid, "spec.selector", next.spec.selector ?? null, "field is immutable");
  return c.list;
}

/**
 * JSON compared as Kubernetes' semantic equality compares Go values: an empty list or map is the
 * same as none (and an absent field the same as an undefined one).
 */
function semanticEqual(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.length ? v.map(norm) : undefined;
    if (typeof v !== "object" || v === null) return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const n = norm(x);
      if (n !== undefined) out[k] = n;
    }
    return Object.keys(out).length ? out : undefined;
  };
  return jsonEqual(norm(a) ?? null, norm(b) ?? null);
}

/**
 * What a StatefulSet update may change (Kubernetes 1.32's ValidateStatefulSetUpdate): replicas,
 * ordinals, the template, the update strategy, the claim retention policy and minReadySeconds.
 * The selector and the claim templates are kept for life, under the same one message.
 */
export function statefulSetUpdateProblems(current: StatefulSet, next: StatefulSet): StatusCause[] {
  const c = new Causes();
  const fixed = (s: StatefulSet) => {
    const { replicas: _r, ordinals: _o, template: _t, updateStrategy: _u, persistentVolumeClaimRetentionPolicy: _p, minReadySeconds: _m, ...rest } = s.spec;
    return rest;
  };
  if (!semanticEqual(fixed(current), fixed(next))) {
    c.add(CAUSE.forbidden, "spec", undefined, "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden");
  }
  return c.list;
}

/**
 * What a claim update may change (Kubernetes' ValidatePersistentVolumeClaimUpdate): `volumeName`
 * once, from empty (the system binds the claim), and a bound claim's storage request, which may
 * not shrink; nothing else of the spec. Berth's own rule: the `volume.kubernetes.io/selected-node`
 * annotation may be set on a claim that has none, and never changed or removed after.
 */
export function pvcUpdateProblems(current: PersistentVolumeClaim, next: PersistentVolumeClaim): StatusCause[] {
  const c = new Causes();
  const before: Record<string, unknown> = { ...current.spec };
  const after: Record<string, unknown> = { ...next.spec };
  if (!current.spec.volumeName) before.volumeName = after.volumeName;
  if (next.status?.phase === "Bound" && next.spec.resources?.requests) {
    after.resources = { ...next.spec.resources, requests: { ...next.spec.resources.requests, storage: current.spec.resources?.requests?.storage } };
  }
  delete before.volumeAttributesClassName;
  delete after.volumeAttributesClassName;
  if (!semanticEqual(before, after)) {
    c.add(CAUSE.forbidden, "spec", undefined, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims");
  }
  const size = (pvc: PersistentVolumeClaim) => {
    const q = pvc.spec.resources?.requests?.storage;
    return q !== undefined && isQuantity(q) ? parseBytes(q) : 0;
  };
  if (size(next) < size(current)) c.add(CAUSE.forbidden, "spec.resources.requests.storage", undefined, "field can not be less than previous value");
  // The node a claim was placed on holds its volume (a Docker volume on that machine; Berth has
  // no PersistentVolume to move): set once, by the scheduler or a user, it never changes, or one
  // claim would get a second, empty volume elsewhere while the first still holds its data.
  const placed = current.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
  if (placed && next.metadata.annotations?.[SELECTED_NODE_ANNOTATION] !== placed) {
    c.add(CAUSE.forbidden, `metadata.annotations[${SELECTED_NODE_ANNOTATION}]`, undefined, `the claim's volume is on node "${placed}"`);
  }
  return c.list;
}
