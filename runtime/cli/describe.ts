/**
 * `berth describe`: the human-readable view kubectl users expect — the key fields of an object,
 * its conditions, and the events about it.
 */
import { accessModesText, age, claimClass, formatLabels, humanDuration } from "../api/table.ts";
import { hpaMetricLines } from "../api/table_hpa.ts";
import { describeBinding, describeRole } from "./describe_rbac.ts";
import { describeEndpointSlice, describeIngress, describeIngressClass, describeNetworkPolicy, type BackendService } from "./describe_networking.ts";
import { formatBytes, formatCpu, parseBytes, parseCpuMillis } from "../../model/quantity.ts";
import type { AnyObject, Condition, Container, CronJob, DaemonSet, Deployment, Event, HorizontalPodAutoscaler, HPAScalingRules, Ingress, IngressClass, Job, Lease, NetworkPolicy, Node, PersistentVolumeClaim, Pod, PodDisruptionBudget, PodTemplateSpec, PriorityClass, ReplicaSet, ReplicationController, Resource, ResourceQuota, Role, RoleBinding, Service, Endpoints, EndpointSlice, StatefulSet, Taint, Toleration, Volume } from "../../model/types.ts";
import { formatLabelSelector, selectorFromSpec } from "../../model/selector.ts";

type Line = [string, string | number | undefined];

/** Aligned `Key: value` lines; lines without a value are left out, or with `keepEmpty` printed bare (as kubectl prints a claim's unset Volume). */
function block(lines: Line[], keepEmpty = false): string {
  const w = Math.max(...lines.map(([k]) => k.length)) + 2;
  // A multi-line value (several labels) continues under its first line, as kubectl aligns it.
  return lines
    .filter(([, v]) => v !== undefined && (keepEmpty || v !== ""))
    .map(([k, v]) => `${(k + ":").padEnd(w)}${String(v).split("\n").join("\n" + " ".repeat(w))}`)
    .join("\n") + "\n";
}

/** Labels or annotations one per line, sorted by key as kubectl prints them. */
function kv(m: Record<string, string> | undefined): string {
  const e = Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join("\n") : "<none>";
}

function conditions(cs: Condition[] | undefined): string {
  if (!cs?.length) return "";
  return "Conditions:\n  Type".padEnd(32) + "Status  Reason\n" +
    cs.map((c) => `  ${c.type.padEnd(20)}${c.status.padEnd(8)}${c.reason ?? ""}`).join("\n") + "\n";
}

function events(evs: Event[], now: number): string {
  if (!evs.length) return "Events:       <none>\n";
  const sorted = [...evs].sort((a, b) => String(a.lastTimestamp).localeCompare(String(b.lastTimestamp)));
  const rows = sorted.map((e) => [e.type ?? "Normal", e.reason ?? "", `${age(e.lastTimestamp, now)}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ""}`, e.source?.component ?? e.reportingComponent ?? "", e.message ?? ""]);
  const head = ["Type", "Reason", "Age", "From", "Message"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const fmt = (r: string[]) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("");
  return "Events:\n" + fmt(head) + "\n" + fmt(head.map((h) => "-".repeat(h.length))) + "\n" + rows.map(fmt).join("\n") + "\n";
}

/**
 * What `describe` shows beside an object: a Service's Endpoints, the pods bound to a Node, the
 * pods a DaemonSet's or StatefulSet's selector picks (counted when it controls them), the pods of
 * a claim's namespace (those that use it are listed).
 */
export interface Related {
  endpoints?: Endpoints | null;
  pods?: Pod[];
  /** An Ingress's backend Services by name, with their Endpoints. */
  backends?: Map<string, BackendService>;
}

const pct = (used: number, total: number) => (total > 0 ? ` (${Math.round((used / total) * 100)}%)` : "");

/** kubectl's "Non-terminated Pods" and "Allocated resources" sections of `describe node`. */
function nodeAllocation(n: Node, pods: Pod[], now: number): string {
  const live = pods.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
  const sum = (p: Pod, kind: "requests" | "limits", r: "cpu" | "memory") =>
    p.spec.containers.reduce((a, c) => {
      const v = c.resources?.[kind]?.[r];
      return a + (v === undefined ? 0 : r === "cpu" ? parseCpuMillis(v) : parseBytes(v));
    }, 0);
  const allocCpu = n.status?.allocatable?.cpu !== undefined ? parseCpuMillis(n.status.allocatable.cpu) : 0;
  const allocMem = n.status?.allocatable?.memory !== undefined ? parseBytes(n.status.allocatable.memory) : 0;
  const cell = (v: number, r: "cpu" | "memory") => `${r === "cpu" ? formatCpu(v) : formatBytes(v)}${pct(v, r === "cpu" ? allocCpu : allocMem)}`;
  const head = ["Namespace", "Name", "CPU Requests", "CPU Limits", "Memory Requests", "Memory Limits", "Age"];
  const rows = live.map((p) => [p.metadata.namespace ?? "default", p.metadata.name, cell(sum(p, "requests", "cpu"), "cpu"), cell(sum(p, "limits", "cpu"), "cpu"), cell(sum(p, "requests", "memory"), "memory"), cell(sum(p, "limits", "memory"), "memory"), age(p.metadata.creationTimestamp, now)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const fmt = (r: string[]) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("");
  let out = `Non-terminated Pods:          (${live.length} in total)\n` + fmt(head) + "\n" + fmt(head.map((h) => "-".repeat(h.length))) + "\n" + rows.map((r) => fmt(r) + "\n").join("");
  const total = (kind: "requests" | "limits", r: "cpu" | "memory") => live.reduce((a, p) => a + sum(p, kind, r), 0);
  out += "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n";
  const ar = [["Resource", "Requests", "Limits"], ["--------", "--------", "------"], ["cpu", cell(total("requests", "cpu"), "cpu"), cell(total("limits", "cpu"), "cpu")], ["memory", cell(total("requests", "memory"), "memory"), cell(total("limits", "memory"), "memory")]];
  const aw = [0, 1].map((i) => Math.max(...ar.map((r) => r[i].length)) + 2);
  out += ar.map((r) => `  ${r[0].padEnd(aw[0])}${r[1].padEnd(aw[1])}${r[2]}`).join("\n") + "\n";
  return out;
}

export function describeObject(resource: Resource, obj: AnyObject, evs: Event[], now = Date.now(), related: Related = {}): string {
  // kubectl's RBAC describers print no events (describe_rbac.ts).
  if (resource === "roles" || resource === "clusterroles") return describeRole(obj as Role);
  if (resource === "rolebindings" || resource === "clusterrolebindings") return describeBinding(obj as RoleBinding);
  if (resource === "priorityclasses") return describePriorityClass(obj as PriorityClass, evs, now);
  // kubectl's networking and EndpointSlice describers (describe_networking.ts); NetworkPolicy's prints no events.
  if (resource === "networkpolicies") return describeNetworkPolicy(obj as NetworkPolicy);
  if (resource === "ingresses") return describeIngress(obj as Ingress, evs.length ? events(evs, now) : "", related.backends);
  if (resource === "ingressclasses") return describeIngressClass(obj as IngressClass, evs.length ? events(evs, now) : "");
  if (resource === "endpointslices") return describeEndpointSlice(obj as EndpointSlice, evs.length ? events(evs, now) : "");
  const m = obj.metadata;
  const common: Line[] = [
    ["Name", m.name],
    ["Namespace", m.namespace],
    ["Labels", kv(m.labels)],
    ["Annotations", kv(m.annotations)],
    ["Created", m.creationTimestamp ? `${m.creationTimestamp} (${age(m.creationTimestamp, now)} ago)` : undefined],
  ];
  let body = "";
  switch (resource) {
    case "pods": {
      const p = obj as Pod;
      const owner = m.ownerReferences?.find((r) => r.controller);
      body = block([
        ...common,
        // As kubectl: the priority admission set, and the class only when the pod has one.
        ["Priority", p.spec.priority],
        ...(p.spec.priorityClassName ? [["Priority Class Name", p.spec.priorityClassName] as Line] : []),
        ["Node", p.spec.nodeName ? `${p.spec.nodeName}/${p.status?.hostIP ?? ""}` : "<none>"],
        ["Status", m.deletionTimestamp ? `Terminating (since ${m.deletionTimestamp})` : p.status?.phase],
        ["Reason", p.status?.reason],
        ["Message", p.status?.message],
        ["IP", p.status?.podIP],
        ["Controlled By", owner ? `${owner.kind}/${owner.name}` : undefined],
      ]);
      body += "Containers:\n";
      for (const c of p.spec.containers) {
        const st = p.status?.containerStatuses?.find((s) => s.name === c.name);
        const state = st?.state.running ? "Running" : st?.state.waiting ? `Waiting (${st.state.waiting.reason ?? ""})` : st?.state.terminated ? `Terminated (${st.state.terminated.reason ?? ""}, exit ${st.state.terminated.exitCode})` : "Waiting";
        body += `  ${c.name}:\n` + block([
          ["    Container ID", st?.containerID],
          ["    Image", c.image],
          ["    Command", c.command?.join(" ")],
          ["    Args", c.args?.join(" ")],
          ["    Ports", c.ports?.map((pt) => `${pt.containerPort}/${pt.protocol ?? "TCP"}`).join(", ")],
          ["    State", state],
          ["    Last State", st?.lastState?.terminated ? `Terminated (${st.lastState.terminated.reason ?? ""}, exit ${st.lastState.terminated.exitCode})` : undefined],
          ["    Ready", st ? String(st.ready) : "false"],
          ["    Restart Count", st?.restartCount ?? 0],
          ["    Liveness", c.livenessProbe ? probeText(c.livenessProbe) : undefined],
          ["    Readiness", c.readinessProbe ? probeText(c.readinessProbe) : undefined],
          ["    Environment", c.env?.map((e) => `${e.name}=${e.value ?? ""}`).join(", ")],
        ]);
      }
      body += conditions(p.status?.conditions);
      if (p.spec.volumes?.length) body += "Volumes:\n" + volumesText(p.spec.volumes, "  ") + "\n";
      body += block([
        ["Node-Selectors", kv(p.spec.nodeSelector)],
        ["Tolerations", tolerationsText(p.spec.tolerations)],
      ]);
      break;
    }
    case "replicationcontrollers": {
      const rc = obj as ReplicationController;
      const t = rc.spec.template?.spec.containers ?? [];
      body = block([
        ...common,
        ["Selector", Object.entries(rc.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(",")],
        ["Replicas", `${rc.status?.replicas ?? 0} current / ${rc.spec.replicas ?? 0} desired`],
        ["Pods Status", `${rc.status?.readyReplicas ?? 0} Ready / ${rc.status?.availableReplicas ?? 0} Available`],
        ["Images", t.map((c) => c.image).join(", ")],
      ]);
      body += conditions(rc.status?.conditions);
      break;
    }
    case "replicasets": {
      const rs = obj as ReplicaSet;
      body = block([
        ...common,
        ["Selector", formatLabelSelector(selectorFromSpec(rs.spec.selector))],
        ["Controlled By", rs.metadata.ownerReferences?.find((o) => o.controller) ? `${rs.metadata.ownerReferences.find((o) => o.controller)!.kind}/${rs.metadata.ownerReferences.find((o) => o.controller)!.name}` : "<none>"],
        ["Replicas", `${rs.status?.replicas ?? 0} current / ${rs.spec.replicas ?? 0} desired`],
        ["Pods Status", `${rs.status?.readyReplicas ?? 0} Ready / ${rs.status?.availableReplicas ?? 0} Available`],
        ["Images", (rs.spec.template?.spec.containers ?? []).map((c) => c.image).join(", ")],
      ]);
      body += conditions(rs.status?.conditions);
      break;
    }
    case "deployments": {
      const d = obj as Deployment;
      const s = d.status ?? {};
      const ru = d.spec.strategy?.rollingUpdate;
      body = block([
        ...common,
        ["Selector", formatLabelSelector(selectorFromSpec(d.spec.selector))],
        ["Replicas", `${d.spec.replicas ?? 1} desired | ${s.updatedReplicas ?? 0} updated | ${s.replicas ?? 0} total | ${s.availableReplicas ?? 0} available | ${s.unavailableReplicas ?? 0} unavailable`],
        ["StrategyType", d.spec.strategy?.type ?? "RollingUpdate"],
        ["MinReadySeconds", String(d.spec.minReadySeconds ?? 0)],
        ...(ru ? [["RollingUpdateStrategy", `${ru.maxUnavailable ?? "25%"} max unavailable, ${ru.maxSurge ?? "25%"} max surge`] as Line] : []),
        ["Images", d.spec.template.spec.containers.map((c) => c.image).join(", ")],
      ]);
      body += conditions(s.conditions);
      break;
    }
    case "daemonsets": {
      // kubectl's daemonset describer: the node counts of the status (the five lines kubectl does
      // not align), the pods it controls by phase, then the pod template.
      const ds = obj as DaemonSet;
      const st = ds.status ?? {};
      // As kubectl: only the pods whose controller is this DaemonSet; Pending counts as Waiting.
      const controlled = (related.pods ?? []).filter((p) => m.uid !== undefined && p.metadata.ownerReferences?.find((r) => r.controller)?.uid === m.uid);
      const inPhase = (phase: string) => controlled.filter((p) => p.status?.phase === phase).length;
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["Selector", formatLabelSelector(selectorFromSpec(ds.spec.selector))],
        ["Node-Selector", formatLabels(ds.spec.template?.spec.nodeSelector)],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
      ]);
      body += `Desired Number of Nodes Scheduled: ${st.desiredNumberScheduled ?? 0}\n`;
      body += `Current Number of Nodes Scheduled: ${st.currentNumberScheduled ?? 0}\n`;
      body += `Number of Nodes Scheduled with Up-to-date Pods: ${st.updatedNumberScheduled ?? 0}\n`;
      body += `Number of Nodes Scheduled with Available Pods: ${st.numberAvailable ?? 0}\n`;
      body += `Number of Nodes Misscheduled: ${st.numberMisscheduled ?? 0}\n`;
      body += block([["Pods Status", `${inPhase("Running")} Running / ${inPhase("Pending")} Waiting / ${inPhase("Succeeded")} Succeeded / ${inPhase("Failed")} Failed`]]);
      body += podTemplateText(ds.spec.template);
      break;
    }
    case "statefulsets": {
      // kubectl's statefulset describer: the replicas, the update strategy, the pods it controls by
      // phase, the pod template, then the claim templates.
      const sts = obj as StatefulSet;
      const ru = sts.spec.updateStrategy?.rollingUpdate;
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["CreationTimestamp", rfc1123z(m.creationTimestamp)],
        ["Selector", formatLabelSelector(selectorFromSpec(sts.spec.selector))],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
        ["Replicas", `${sts.spec.replicas ?? 1} desired | ${sts.status?.replicas ?? 0} total`],
        ["Update Strategy", sts.spec.updateStrategy?.type ?? ""],
        ...(ru?.partition !== undefined ? [["  Partition", ru.partition] as Line] : []),
        ["Pods Status", podsByPhase(related.pods ?? [], m.uid)],
      ], true);
      body += podTemplateText(sts.spec.template);
      body += claimTemplatesText(sts.spec.volumeClaimTemplates);
      break;
    }
    case "persistentvolumeclaims": {
      // kubectl's claim describer: capacity and access modes are the bound volume's (empty until
      // the claim names its volume); Used By lists the pods whose volumes name the claim.
      const pvc = obj as PersistentVolumeClaim;
      const bound = !!pvc.spec.volumeName;
      const users = (related.pods ?? [])
        .filter((p) => p.spec.volumes?.some((v) => v.persistentVolumeClaim?.claimName === m.name))
        .map((p) => p.metadata.name)
        .sort();
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["StorageClass", claimClass(pvc)],
        ["Status", m.deletionTimestamp ? `Terminating (lasts ${age(m.deletionTimestamp, now)})` : pvc.status?.phase ?? ""],
        ["Volume", pvc.spec.volumeName ?? ""],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
        ["Finalizers", `[${(m.finalizers ?? []).join(" ")}]`],
        ["Capacity", bound ? pvc.status?.capacity?.storage ?? "0" : ""],
        ["Access Modes", bound ? accessModesText(pvc.status?.accessModes) : ""],
        ["VolumeMode", pvc.spec.volumeMode],
        ["Used By", users.length ? users.join("\n") : "<none>"],
      ], true);
      body += conditions(pvc.status?.conditions);
      break;
    }
    case "poddisruptionbudgets": {
      // kubectl's poddisruptionbudget describer: the one bound it has (minAvailable first, as
      // kubectl), the selector (`<unset>` without one, `<none>` for the empty one, which selects
      // every pod), then the status' counts (0 until the disruption controller writes them).
      const b = obj as PodDisruptionBudget;
      const st = b.status;
      const bound: Line[] = b.spec.minAvailable !== undefined ? [["Min available", String(b.spec.minAvailable)]]
        : b.spec.maxUnavailable !== undefined ? [["Max unavailable", String(b.spec.maxUnavailable)]] : [];
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ...bound,
        ["Selector", b.spec.selector ? formatLabelSelector(selectorFromSpec(b.spec.selector)) || "<none>" : "<unset>"],
      ]);
      body += "Status:\n" + block([
        ["    Allowed disruptions", st?.disruptionsAllowed ?? 0],
        ["    Current", st?.currentHealthy ?? 0],
        ["    Desired", st?.desiredHealthy ?? 0],
        ["    Total", st?.expectedPods ?? 0],
      ]);
      break;
    }
    case "horizontalpodautoscalers": {
      // kubectl's horizontalpodautoscaler (v2) describer: the target, each metric's current and
      // target value, the bounds, the behavior when one is set, the target's pods as the
      // autoscaler last saw them, then its conditions with their messages.
      const hpa = obj as HorizontalPodAutoscaler;
      const ref = hpa.spec.scaleTargetRef;
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
        ["CreationTimestamp", rfc1123z(m.creationTimestamp)],
        ["Reference", `${ref.kind}/${ref.name}`],
        ["Metrics", "( current / target )"],
        ...hpaMetricLines(hpa).map(([label, value]): Line => [`  ${label}`, value]),
        ["Min replicas", hpa.spec.minReplicas ?? "<unset>"],
        ["Max replicas", hpa.spec.maxReplicas],
      ]);
      if (hpa.spec.behavior) body += "Behavior:\n" + scalingRulesText("Scale Up", hpa.spec.behavior.scaleUp) + scalingRulesText("Scale Down", hpa.spec.behavior.scaleDown);
      body += block([[`${ref.kind} pods`, `${hpa.status?.currentReplicas ?? 0} current / ${hpa.status?.desiredReplicas ?? 0} desired`]]);
      body += hpaConditions(hpa.status?.conditions);
      break;
    }
    case "jobs": {
      // kubectl's job describer: the spec's knobs as set (the API defaults most of them), the run's
      // times, the pod counts, then the pod template.
      const j = obj as Job;
      const st = j.status ?? {};
      const owner = m.ownerReferences?.find((r) => r.controller);
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["Selector", formatLabelSelector(selectorFromSpec(j.spec.selector))],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
        ["Controlled By", owner ? `${owner.kind}/${owner.name}` : undefined],
        ["Parallelism", j.spec.parallelism],
        ["Completions", j.spec.completions ?? "<unset>"],
        ["Completion Mode", j.spec.completionMode],
        ["Suspend", j.spec.suspend === undefined ? undefined : String(j.spec.suspend)],
        ["Backoff Limit", j.spec.backoffLimit],
        ["TTL Seconds After Finished", j.spec.ttlSecondsAfterFinished],
        ["Start Time", rfc1123z(st.startTime)],
        ["Completed At", rfc1123z(st.completionTime)],
        ["Duration", st.startTime && st.completionTime ? humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime)) : undefined],
        ["Active Deadline Seconds", j.spec.activeDeadlineSeconds === undefined ? undefined : `${j.spec.activeDeadlineSeconds}s`],
        ["Pods Statuses", `${st.active ?? 0} Active${st.ready === undefined ? "" : ` (${st.ready} Ready)`} / ${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed`],
        ["Completed Indexes", j.spec.completionMode === "Indexed" ? capIndexesList(st.completedIndexes, 50) : undefined],
      ]);
      body += podTemplateText(j.spec.template);
      break;
    }
    case "cronjobs": {
      // kubectl's (1.32) cronjob describer: the schedule and its knobs (`<unset>` when not set),
      // the job template (its selector, parallelism, completions, pod template), then when it
      // last ran and the jobs it is running.
      const cj = obj as CronJob;
      const spec = cj.spec;
      const jobSpec = spec.jobTemplate?.spec;
      const orUnset = (v: number | undefined, unit = "") => (v === undefined ? "<unset>" : `${v}${unit}`);
      body = block([
        ["Name", m.name],
        ["Namespace", m.namespace],
        ["Labels", kv(m.labels)],
        ["Annotations", kv(m.annotations)],
        ["Schedule", spec.schedule],
        ["Concurrency Policy", spec.concurrencyPolicy],
        ["Suspend", spec.suspend === undefined ? "<unset>" : spec.suspend ? "True" : "False"],
        ["Successful Job History Limit", orUnset(spec.successfulJobsHistoryLimit)],
        ["Failed Job History Limit", orUnset(spec.failedJobsHistoryLimit)],
        ["Starting Deadline Seconds", orUnset(spec.startingDeadlineSeconds, "s")],
        ["Selector", jobSpec?.selector ? formatLabelSelector(selectorFromSpec(jobSpec.selector)) : "<unset>"],
        ["Parallelism", orUnset(jobSpec?.parallelism)],
        ["Completions", orUnset(jobSpec?.completions)],
        ["Active Deadline Seconds", jobSpec?.activeDeadlineSeconds === undefined ? undefined : `${jobSpec.activeDeadlineSeconds}s`],
      ]);
      body += podTemplateText(jobSpec?.template);
      const active = (cj.status?.active ?? []).map((r) => r.name).filter(Boolean);
      body += block([
        ["Last Schedule Time", rfc1123z(cj.status?.lastScheduleTime) ?? "<unset>"],
        ["Active Jobs", active.length ? active.join(", ") : "<none>"],
      ]);
      break;
    }
    case "services": {
      const s = obj as Service;
      body = block([
        ...common,
        ["Selector", Object.entries(s.spec.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"],
        ["Type", s.spec.type ?? "ClusterIP"],
        ["IP", s.spec.clusterIP],
        ["External Name", s.spec.type === "ExternalName" ? s.spec.externalName : undefined],
        ["LoadBalancer Ingress", s.status?.loadBalancer?.ingress?.map((i) => i.ip ?? i.hostname).join(", ")],
        ["Port(s)", s.spec.ports?.map((p) => `${p.name ? p.name + " " : ""}${p.port}/${p.protocol ?? "TCP"} -> ${p.targetPort ?? p.port}${p.nodePort ? ` (NodePort ${p.nodePort})` : ""}`).join(", ")],
        ["Endpoints", related.endpoints === undefined ? undefined : endpointsText(s, related.endpoints)],
        ["Session Affinity", s.spec.sessionAffinity ?? "None"],
      ]);
      break;
    }
    case "endpoints": {
      const e = obj as Endpoints;
      body = block([...common]);
      body += "Subsets:\n" + (e.subsets ?? []).map((s) =>
        `  Addresses:          ${(s.addresses ?? []).map((a) => a.ip).join(",") || "<none>"}\n  NotReadyAddresses:  ${(s.notReadyAddresses ?? []).map((a) => a.ip).join(",") || "<none>"}\n  Ports:              ${(s.ports ?? []).map((p) => `${p.name ?? "<unset>"} ${p.port}/${p.protocol ?? "TCP"}`).join(", ")}`
      ).join("\n") + "\n";
      break;
    }
    case "nodes": {
      const n = obj as Node;
      body = block([
        ...common,
        ["Taints", taintsText(n.spec.taints)],
        ["Unschedulable", String(!!n.spec.unschedulable)],
        ["Addresses", n.status?.addresses?.map((a) => `${a.type}=${a.address}`).join(", ")],
        ["Capacity", Object.entries(n.status?.capacity ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
        ["Allocatable", Object.entries(n.status?.allocatable ?? {}).map(([k, v]) => `${k}=${v}`).join(", ")],
        ["Runtime", n.status?.nodeInfo?.containerRuntimeVersion],
      ]);
      body += conditions(n.status?.conditions);
      if (related.pods) body += nodeAllocation(n, related.pods, now);
      break;
    }
    case "resourcequotas": {
      // kubectl's layout: one row per resource name, used against hard.
      const q = obj as ResourceQuota;
      const hard = q.status?.hard ?? q.spec?.hard ?? {};
      const used = q.status?.used ?? {};
      const rows = Object.keys(hard).sort().map((n) => [n, used[n] ?? "0", hard[n]]);
      const head = ["Resource", "Used", "Hard"];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
      const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("");
      body = block([["Name", m.name], ["Namespace", m.namespace]]);
      body += [fmt(head), fmt(head.map((h) => "-".repeat(h.length))), ...rows.map(fmt)].join("\n") + "\n";
      break;
    }
    case "leases": {
      const l = obj as Lease;
      body = block([
        ...common,
        ["Holder Identity", l.spec?.holderIdentity],
        ["Lease Duration Seconds", l.spec?.leaseDurationSeconds],
        ["Acquire Time", l.spec?.acquireTime],
        ["Renew Time", l.spec?.renewTime],
        ["Lease Transitions", l.spec?.leaseTransitions],
        ["Strategy", l.spec?.strategy],
        ["Preferred Holder", l.spec?.preferredHolder],
      ]);
      break;
    }
    default:
      body = block(common);
  }
  return body + events(evs, now);
}

/** kubectl's PriorityClass describer: its fields, the annotations on one line, then the events. */
function describePriorityClass(pc: PriorityClass, evs: Event[], now: number): string {
  const lines: [string, string | number][] = [
    ["Name", pc.metadata.name],
    ["Value", pc.value],
    ["GlobalDefault", String(pc.globalDefault === true)],
    ["PreemptionPolicy", pc.preemptionPolicy ?? ""],
    ["Description", pc.description ?? ""],
    ["Annotations", formatLabels(pc.metadata.annotations)],
    ...(evs.length ? [] : [["Events", "<none>"] as [string, string]]),
  ];
  return tabbed(lines.map(([k, v]) => `${k}:\t${v}`).join("\n")) + "\n" + (evs.length ? events(evs, now) : "");
}

/**
 * Go's tabwriter as kubectl's describers set it up (padding 2): the cells before a tab in a run
 * of lines that all have one are padded to the widest plus two. A value holding a newline (an
 * annotation's JSON ends in one) ends the run, so the lines after it line up among themselves.
 */
function tabbed(text: string): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  let start = 0;
  while (start < lines.length) {
    if (lines[start].length < 2) {
      start++;
      continue;
    }
    let end = start;
    while (end < lines.length && lines[end].length >= 2) end++;
    const w = Math.max(...lines.slice(start, end).map((l) => l[0].length)) + 2;
    for (let i = start; i < end; i++) lines[i] = [lines[i][0].padEnd(w) + lines[i].slice(1).join("\t")];
    start = end;
  }
  return lines.map((l) => l.join("\t")).join("\n");
}

/** One direction of an HPA's behavior as kubectl prints it (`printDirectionBehavior`). */
function scalingRulesText(direction: string, rules: HPAScalingRules | undefined): string {
  if (!rules) return "";
  let out = `  ${direction}:\n`;
  if (rules.stabilizationWindowSeconds !== undefined) out += `    Stabilization Window: ${rules.stabilizationWindowSeconds} seconds\n`;
  const policies = rules.policies ?? [];
  if (policies.length) {
    out += `    Select Policy: ${rules.selectPolicy ?? "Max"}\n    Policies:\n`;
    out += columns(policies.map((p) => [`      - Type: ${p.type}`, `Value: ${p.value}`, `Period: ${p.periodSeconds} seconds`]));
  }
  return out;
}

/** An HPA's conditions with their messages (kubectl's table: Type Status Reason Message). */
function hpaConditions(cs: Condition[] | undefined): string {
  if (!cs?.length) return "";
  return "Conditions:\n" + columns([["  Type", "Status", "Reason", "Message"], ["  ----", "------", "------", "-------"], ...cs.map((c) => [`  ${c.type}`, c.status, c.reason ?? "", c.message ?? ""])]);
}

/** Rows of cells aligned as kubectl's tab writer aligns them (each column as wide as its widest cell, plus 2). */
function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)) + 2);
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("") + "\n").join("");
}

/** A timestamp as kubectl's describe prints times (Go's RFC1123Z), in UTC: `Tue, 01 Dec 2026 10:00:00 +0000`. */
function rfc1123z(ts: string | undefined): string | undefined {
  const t = ts === undefined ? NaN : Date.parse(ts);
  return Number.isNaN(t) ? undefined : new Date(t).toUTCString().replace("GMT", "+0000");
}

/** kubectl's `Pods Status` of a controller: its pods (the controller reference is `uid`) by phase, Pending as Waiting. */
function podsByPhase(pods: readonly Pod[], uid: string | undefined): string {
  const controlled = pods.filter((p) => uid !== undefined && p.metadata.ownerReferences?.find((r) => r.controller)?.uid === uid);
  const inPhase = (phase: string) => controlled.filter((p) => p.status?.phase === phase).length;
  return `${inPhase("Running")} Running / ${inPhase("Pending")} Waiting / ${inPhase("Succeeded")} Succeeded / ${inPhase("Failed")} Failed`;
}

/** kubectl's "Volume Claims" section of a StatefulSet: each claim template's name, class, labels, annotations, requested capacity and access modes. */
function claimTemplatesText(templates: StatefulSet["spec"]["volumeClaimTemplates"]): string {
  if (!templates?.length) return block([["Volume Claims", "<none>"]]);
  return "Volume Claims:\n" + templates.map((t) => block([
    ["  Name", t.metadata.name],
    ["  StorageClass", claimClass(t)],
    ["  Labels", kv(t.metadata.labels)],
    ["  Annotations", kv(t.metadata.annotations)],
    ["  Capacity", t.spec.resources?.requests?.storage ?? "<default>"],
    // Go's %s of a list of strings.
    ["  Access Modes", `[${(t.spec.accessModes ?? []).join(" ")}]`],
  ], true)).join("");
}

/** One line per volume, `name: what backs it`, each after `indent`. */
function volumesText(volumes: Volume[], indent: string): string {
  return volumes.map((v) => {
    const what = v.emptyDir ? "EmptyDir"
      : v.hostPath ? `HostPath ${v.hostPath.path}`
      : v.persistentVolumeClaim ? `PersistentVolumeClaim ${v.persistentVolumeClaim.claimName}`
      : v.configMap ? `ConfigMap ${v.configMap.name}`
      : v.secret ? `Secret ${v.secret.secretName}`
      : v.downwardAPI ? "DownwardAPI"
      : v.projected ? "Projected"
      : "?";
    return `${indent}${v.name}: ${what}`;
  }).join("\n");
}

/** kubectl's "Pod Template" section (a controller's template): labels, containers, volumes, node selector. */
function podTemplateText(t: PodTemplateSpec | undefined): string {
  if (!t) return "Pod Template:\n  <unset>\n";
  const meta = t.metadata ?? {};
  // Lines only when set: block() pads every key to the longest one given.
  const head: Line[] = [["  Labels", kv(meta.labels)]];
  if (Object.keys(meta.annotations ?? {}).length) head.push(["  Annotations", kv(meta.annotations)]);
  if (t.spec.serviceAccountName) head.push(["  Service Account", t.spec.serviceAccountName]);
  let out = "Pod Template:\n" + block(head);
  const containers = (title: string, cs: Container[]) =>
    `  ${title}:\n` + cs.map((c) => `   ${c.name}:\n` + block([
      ["    Image", c.image],
      ["    Port", c.ports?.length ? c.ports.map((pt) => `${pt.containerPort}/${pt.protocol ?? "TCP"}`).join(", ") : "<none>"],
      ["    Command", c.command?.join(" ")],
      ["    Args", c.args?.join(" ")],
      ["    Environment", c.env?.length ? c.env.map((e) => `${e.name}=${e.value ?? ""}`).join(", ") : "<none>"],
      ["    Mounts", c.volumeMounts?.length ? c.volumeMounts.map((vm) => `${vm.mountPath} from ${vm.name}${vm.readOnly ? " (ro)" : ""}`).join(", ") : "<none>"],
    ])).join("");
  if (t.spec.initContainers?.length) out += containers("Init Containers", t.spec.initContainers);
  out += containers("Containers", t.spec.containers ?? []);
  out += block([
    ["  Volumes", t.spec.volumes?.length ? volumesText(t.spec.volumes, "") : "<none>"],
    ["  Node-Selectors", kv(t.spec.nodeSelector)],
    ["  Tolerations", tolerationsText(t.spec.tolerations)],
  ]);
  return out;
}

/**
 * Tolerations one per line as kubectl prints them (`printTolerationsMultilineWithIndent`), sorted
 * by key: `key=value:Effect`, ` op=Exists` for an Exists without a value (bare `op=Exists` when it
 * tolerates everything), and ` for Ns` with tolerationSeconds; `<none>` without any.
 */
export function tolerationsText(tolerations: readonly Toleration[] | undefined): string {
  if (!tolerations?.length) return "<none>";
  const sorted = [...tolerations].sort((a, b) => ((a.key ?? "") < (b.key ?? "") ? -1 : (a.key ?? "") > (b.key ?? "") ? 1 : 0));
  return sorted.map((t) => {
    let line = t.key ?? "";
    if (t.value) line += `=${t.value}`;
    if (t.effect) line += `:${t.effect}`;
    if (t.operator === "Exists" && !t.value) line += t.key || t.effect ? " op=Exists" : "op=Exists";
    if (typeof t.tolerationSeconds === "number") line += ` for ${t.tolerationSeconds}s`;
    return line;
  }).join("\n");
}

/** A node's taints one per line as kubectl prints them, `key=value:Effect` (`key:Effect` without a value), sorted by effect then key. */
export function taintsText(taints: readonly Taint[] | undefined): string {
  if (!taints?.length) return "<none>";
  const order = (t: Taint) => `${t.effect},${t.key}`;
  return [...taints]
    .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
    .map((t) => (t.value ? `${t.key}=${t.value}:${t.effect}` : `${t.key}:${t.effect}`))
    .join("\n");
}

/** `10.213.0.5:80,10.213.0.6:80` — the ready addresses with each port, as kubectl prints them. */
function endpointsText(s: Service, e: Endpoints | null): string {
  const addrs = (e?.subsets ?? []).flatMap((ss) => (ss.addresses ?? []).flatMap((a) => (ss.ports?.length ? ss.ports.map((p) => `${a.ip}:${p.port}`) : [a.ip])));
  if (!addrs.length) return "<none>";
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(",")} + ${addrs.length - 3} more...` : addrs.join(",");
}

function probeText(p: NonNullable<Pod["spec"]["containers"][number]["livenessProbe"]>): string {
  // grpc as kubectl's DescribeProbe prints it: "<pod>" literally, the service even when empty.
  const how = p.exec ? `exec [${p.exec.command.join(" ")}]` : p.httpGet ? `http-get ${p.httpGet.scheme ?? "HTTP"}://:${p.httpGet.port}${p.httpGet.path ?? "/"}` : p.tcpSocket ? `tcp-socket :${p.tcpSocket.port}` : p.grpc ? `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ""}` : "?";
  return `${how} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

/** kubectl's capIndexesListOrNone: `<none>` when empty, else cut after the first comma at or past `softLimit` characters, with "...". */
export function capIndexesList(indexes: string | undefined, softLimit: number): string {
  if (!indexes) return "<none>";
  const comma = indexes.indexOf(",", softLimit);
  return comma < 0 ? indexes : `${indexes.slice(0, comma + 1)}...`;
}
