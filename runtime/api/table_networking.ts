/**
 * The cells of kube-apiserver's networking printers (pkg/printers/internalversion: printIngress,
 * printIngressClass, printNetworkPolicy, printEndpointSlice), shared with `berth describe`: pure
 * functions of the objects.
 */
import type { EndpointSlice, Ingress, IngressClass, LabelSelectorSpec } from "../../model/types.ts";

/**
 * metav1.FormatLabelSelector: the selector as labels.Selector's String() writes it, requirements
 * sorted by key (`app=web,tier in (a,b)`), `<none>` when it selects everything.
 */
export function formatSelectorGo(s: LabelSelectorSpec | undefined): string {
  const reqs: [string, string][] = Object.entries(s?.matchLabels ?? {}).map(([k, v]) => [k, `${k}=${v}`]);
  for (const e of s?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(",");
    const text = e.operator === "Exists" ? e.key : e.operator === "DoesNotExist" ? `!${e.key}` : `${e.key} ${e.operator === "In" ? "in" : "notin"} (${values})`;
    reqs.push([e.key, text]);
  }
  reqs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return reqs.map(([, t]) => t).join(",") || "<none>";
}

/** formatHosts: the first three rules' hosts (`*` when none has one), then `+ N more...`. */
export function ingressHosts(ing: Ingress): string {
  const rules = ing.spec.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return "*";
  return more ? `${list.join(",")} + ${rules.length - max} more...` : list.join(",");
}

/**
 * ingressLoadBalancerStatusStringer: the load balancer's IPs and hostnames, comma-separated; cut
 * to 16 characters with `...` unless wide. Berth runs no ingress controller: empty unless a
 * client wrote the status itself.
 */
export function ingressAddress(ing: Ingress, wide: boolean): string {
  const r = (ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || "").filter(Boolean).join(",");
  return !wide && r.length > 16 ? `${r.slice(0, 13)}...` : r;
}

/** formatPorts: `80`, or `80, 443` when the Ingress has TLS. */
export const ingressPorts = (ing: Ingress): string => (ing.spec.tls?.length ? "80, 443" : "80");

/** printIngressClass's PARAMETERS: `Kind.apiGroup/name`, `<none>` without parameters. */
export function ingressClassParameters(ic: IngressClass): string {
  const p = ic.spec.parameters;
  if (!p) return "<none>";
  return `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ""}/${p.name}`;
}

/** listWithMoreString: the first three joined by commas, then ` + N more...`; `<unset>` when that is empty. */
function listWithMore(list: string[], count: number, max: number): string {
  const ret = list.join(",");
  if (count > max) return `${ret} + ${count - max} more...`;
  return ret === "" ? "<unset>" : ret;
}

/**
 * formatDiscoveryPorts: the first three ports' numbers; a port without one shows its name (`""`
 * once defaulted, so a lone all-ports port prints `<unset>`).
 */
export function sliceCellPorts(slice: EndpointSlice): string {
  const ports = slice.ports ?? [];
  return listWithMore(ports.slice(0, 3).map((p) => (p.port !== undefined ? String(p.port) : p.name ?? "")), ports.length, 3);
}

/** formatDiscoveryEndpoints: the first three addresses of all the endpoints. */
export function sliceCellEndpoints(slice: EndpointSlice): string {
  const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
  return listWithMore(addresses.slice(0, 3), addresses.length, 3);
}
