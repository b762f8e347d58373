/**
 * `berth describe` of the networking.k8s.io kinds and of discovery.k8s.io's EndpointSlice, as
 * kubectl 1.32's NetworkPolicy, Ingress, IngressClass and EndpointSlice describers print them
 * (k8s.io/kubectl/pkg/describe), through Go's tabwriter.
 *
 * One difference: for an Ingress backend kubectl lists the endpoints of the Service's
 * EndpointSlices; `berth describe` prints those of the Service's Endpoints (`web:80
 * (10.213.0.5:80)`), the same addresses once the control plane has written both.
 */
import type { EndpointSlice, Endpoints, Ingress, IngressBackend, IngressClass, NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyIngressRule, Service } from "../../model/types.ts";
import { formatSelectorGo, ingressAddress } from "../api/table_networking.ts";
import { goTabwriter } from "./tabwriter.ts";

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
const MAX_ANNOTATION_LEN = 140;

/** printLabelsMultiline: `Labels:\tk=v`, one pair a line, sorted; `<none>`. */
export function labelsLines(title: string, m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  if (!keys.length) return `${title}:\t<none>\n`;
  return keys.map((k, i) => `${i ? "\t" : `${title}:\t`}${k}=${m![k]}\n`).join("");
}

/** printAnnotationsMultiline: as labels, `k: v`; kubectl apply's record left out; long or multi-line values on lines of their own. */
export function annotationsLines(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).filter((k) => k !== LAST_APPLIED).sort();
  if (!keys.length) return "Annotations:\t<none>\n";
  return keys.map((k, i) => {
    const lead = i ? "\t" : "Annotations:\t";
    const value = m![k].replace(/\n$/, "");
    if (value.length + k.length + 2 > MAX_ANNOTATION_LEN || value.includes("\n")) {
      const short = (s: string) => (s.length > MAX_ANNOTATION_LEN - 2 ? `${s.slice(0, MAX_ANNOTATION_LEN - 2)}...` : s);
      return `${lead}${k}:\n` + value.split("\n").map((s) => `\t  ${short(s)}\n`).join("");
    }
    return `${lead}${k}: ${value}\n`;
  }).join("");
}

/** The events section as the describers end: `Events:\t<none>` in the table, or a blank line and the events. */
const eventsPart = (eventsText: string) => (eventsText ? { inTable: "", after: `\n${eventsText}` } : { inTable: "Events:\t<none>\n", after: "" });

/** Go's time.Time String() of a creation time, in UTC: `2026-12-04 10:00:00.5 +0000 UTC`. */
export function goTimeString(ts: string | undefined): string {
  const t = Date.parse(ts ?? "");
  if (Number.isNaN(t)) return "0001-01-01 00:00:00 +0000 UTC";
  const iso = new Date(t).toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, "");
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ""} +0000 UTC`;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy (kubectl prints no events for it)

export function describeNetworkPolicy(np: NetworkPolicy): string {
  const s = np.spec;
  let t = `Name:\t${np.metadata.name}\nNamespace:\t${np.metadata.namespace ?? ""}\nCreated on:\t${goTimeString(np.metadata.creationTimestamp)}\n`;
  t += labelsLines("Labels", np.metadata.labels) + annotationsLines(np.metadata.annotations);
  t += "Spec:\n";
  const sel = formatSelectorGo(s.podSelector);
  t += `  PodSelector:     ${sel === "<none>" ? "<none> (Allowing the specific traffic to all pods in this namespace)" : sel}\n`;
  const types = s.policyTypes ?? [];
  t += types.includes("Ingress") ? "  Allowing ingress traffic:\n" + rulesText(s.ingress ?? [], "from") : "  Not affecting ingress traffic\n";
  t += types.includes("Egress") ? "  Allowing egress traffic:\n" + rulesText(s.egress ?? [], "to") : "  Not affecting egress traffic\n";
  t += `  Policy Types: ${types.join(", ")}\n`;
  return goTabwriter(t);
}

/** printNetworkPolicySpecIngressFrom / EgressTo. */
function rulesText(rules: (NetworkPolicyIngressRule | NetworkPolicyEgressRule)[], peers: "from" | "to"): string {
  const I = "    ";
  if (!rules.length) return `${I}<none> (Selected pods are isolated for ${peers === "from" ? "ingress" : "egress"} connectivity)\n`;
  return rules.map((rule, i) => {
    let t = "";
    if (!rule.ports?.length) t += `${I}To Port: <any> (traffic allowed to all ports)\n`;
    for (const p of rule.ports ?? []) {
      const port = p.port === undefined ? "<nil>" : String(p.port);
      t += p.endPort === undefined ? `${I}To Port: ${port}/${p.protocol ?? "TCP"}\n` : `${I}To Port Range: ${port}-${p.endPort}/${p.protocol ?? "TCP"}\n`;
    }
    const list = (peers === "from" ? (rule as NetworkPolicyIngressRule).from : (rule as NetworkPolicyEgressRule).to) ?? [];
    const title = peers === "from" ? "From" : "To";
    if (!list.length) t += peers === "from" ? `${I}From: <any> (traffic not restricted by source)\n` : `${I}To: <any> (traffic not restricted by destination)\n`;
    for (const peer of list) {
      t += `${I}${title}:\n`;
      if (peer.namespaceSelector) t += `  ${I}NamespaceSelector: ${formatSelectorGo(peer.namespaceSelector)}\n`;
      if (peer.podSelector) t += `  ${I}PodSelector: ${formatSelectorGo(peer.podSelector)}\n`;
      if (!peer.namespaceSelector && !peer.podSelector && peer.ipBlock) {
        t += `  ${I}IPBlock:\n    ${I}CIDR: ${peer.ipBlock.cidr}\n    ${I}Except: ${(peer.ipBlock.except ?? []).join(", ")}\n`;
      }
    }
    return t + (i !== rules.length - 1 ? `${I}----------\n` : "");
  }).join("");
}

// ---------------------------------------------------------------------------------------------
// Ingress and IngressClass

/** A backend Service and its Endpoints, as `berth describe` looks them up (null: not found). */
export interface BackendService {
  service: Service | null;
  endpoints: Endpoints | null;
}

/** describeBackendV1: `svc:port (endpoints)`, or a resource backend's reference. */
function backendText(b: IngressBackend, services: ReadonlyMap<string, BackendService>): string {
  if (b.service) {
    const port = b.service.port?.name ? b.service.port.name : String(b.service.port?.number ?? 0);
    const text = `${b.service.name}:${port}`;
    const found = services.get(b.service.name);
    if (!found?.service) return `${text} (<error: services "${b.service.name}" not found>)`;
    // The Service port the backend names (by number or by name); its name picks the endpoint ports.
    let spName = "";
    for (const sp of found.service.spec.ports ?? []) {
      if ((b.service.port?.number && b.service.port.number === sp.port) || (b.service.port?.name && b.service.port.name === sp.name)) spName = sp.name ?? "";
    }
    const addrs = (found.endpoints?.subsets ?? []).flatMap((ss) => (ss.ports ?? []).filter((p) => (p.name ?? "") === spName).flatMap((p) => (ss.addresses ?? []).map((a) => `${a.ip}:${p.port}`)));
    const eps = !addrs.length ? "<none>" : addrs.length > 3 ? `${addrs.slice(0, 3).join(",")} + ${addrs.length - 3} more...` : addrs.join(",");
    return `${text} (${eps})`;
  }
  if (b.resource) return `APIGroup: ${b.resource.apiGroup ?? "<none>"}, Kind: ${b.resource.kind}, Name: ${b.resource.name}`;
  return "";
}

/** kubectl's Ingress describer; `services` holds each backend Service named (what `berth describe` fetched). */
export function describeIngress(ing: Ingress, eventsText: string, services: ReadonlyMap<string, BackendService> = new Map()): string {
  const ns = ing.metadata.namespace ?? "";
  let t = `Name:\t${ing.metadata.name}\n` + labelsLines("Labels", ing.metadata.labels);
  t += `Namespace:\t${ns}\nAddress:\t${ingressAddress(ing, true)}\nIngress Class:\t${ing.spec.ingressClassName ?? "<none>"}\n`;
  const def = ing.spec.defaultBackend ? backendText(ing.spec.defaultBackend, services) : "<default>";
  t += `Default backend:\t${def}\n`;
  if (ing.spec.tls?.length) {
    t += "TLS:\n" + ing.spec.tls.map((x) => (x.secretName ? `  ${x.secretName} terminates ${(x.hosts ?? []).join(",")}\n` : `  SNI routes ${(x.hosts ?? []).join(",")}\n`)).join("");
  }
  t += "Rules:\n  Host\tPath\tBackends\n  ----\t----\t--------\n";
  let count = 0;
  for (const rule of ing.spec.rules ?? []) {
    if (!rule.http) continue;
    count++;
    t += `  ${rule.host || "*"}\t\n`;
    for (const p of rule.http.paths ?? []) t += `    \t${p.path ?? ""} \t${backendText(p.backend, services)}\n`;
  }
  if (count === 0) t += `  *\t*\t${def}\n`;
  const ev = eventsPart(eventsText);
  t += annotationsLines(ing.metadata.annotations) + ev.inTable;
  return goTabwriter(t) + ev.after;
}

/** kubectl's IngressClass describer. */
export function describeIngressClass(ic: IngressClass, eventsText: string): string {
  let t = `Name:\t${ic.metadata.name}\n` + labelsLines("Labels", ic.metadata.labels) + annotationsLines(ic.metadata.annotations);
  t += `Controller:\t${ic.spec.controller ?? ""}\n`;
  const p = ic.spec.parameters;
  if (p) t += `Parameters:\n${p.apiGroup !== undefined ? `  APIGroup:\t${p.apiGroup}\n` : ""}  Kind:\t${p.kind}\n  Name:\t${p.name}\n`;
  const ev = eventsPart(eventsText);
  return goTabwriter(t + ev.inTable) + ev.after;
}

// ---------------------------------------------------------------------------------------------
// EndpointSlice

/**
 * kubectl's EndpointSlice describer (describeEndpointSliceV1): the address type, the ports as a
 * table (`<unset>` for a port without a name or number), then each endpoint's addresses, its
 * Ready condition (kubectl shows neither Serving nor Terminating), hostname, target, node and
 * zone (`<unset>` when absent), then the events.
 */
export function describeEndpointSlice(slice: EndpointSlice, eventsText: string): string {
  let t = `Name:\t${slice.metadata.name}\nNamespace:\t${slice.metadata.namespace ?? ""}\n`;
  t += labelsLines("Labels", slice.metadata.labels) + annotationsLines(slice.metadata.annotations);
  t += `AddressType:\t${slice.addressType}\n`;
  const ports = slice.ports ?? [];
  if (!ports.length) t += "Ports: <unset>\n";
  else {
    t += "Ports:\n  Name\tPort\tProtocol\n  ----\t----\t--------\n";
    for (const p of ports) t += `  ${p.name || "<unset>"}\t${p.port ?? "<unset>"}\t${p.protocol ?? "TCP"}\n`;
  }
  const endpoints = slice.endpoints ?? [];
  if (!endpoints.length) t += "Endpoints: <none>\n";
  else {
    t += "Endpoints:\n";
    for (const e of endpoints) {
      t += `  - Addresses:\t${(e.addresses ?? []).join(", ") || "<none>"}\n`;
      t += `    Conditions:\n      Ready:\t${e.conditions?.ready ?? "<unset>"}\n`;
      t += `    Hostname:\t${e.hostname ?? "<unset>"}\n`;
      if (e.targetRef) t += `    TargetRef:\t${e.targetRef.kind ?? ""}/${e.targetRef.name ?? ""}\n`;
      t += `    NodeName:\t${e.nodeName ?? "<unset>"}\n    Zone:\t${e.zone ?? "<unset>"}\n`;
    }
  }
  const ev = eventsPart(eventsText);
  return goTabwriter(t + ev.inTable) + ev.after;
}
