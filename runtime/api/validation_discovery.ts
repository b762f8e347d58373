/**
 * The rules of discovery.k8s.io/v1 EndpointSlice, in the order, paths and words of
 * kube-apiserver's ValidateEndpointSlice and ValidateEndpointSliceUpdate
 * (pkg/apis/discovery/validation), on the raw input (read defensively: the schema pass reports
 * wrong types):
 *
 *   - addressType is IPv4, IPv6 or FQDN, and never changes;
 *   - at most 1000 endpoints, each with 1 to 100 addresses of the slice's type (an IP that is not
 *     unspecified or link-local — loopback is allowed, see endpointIPProblems; an FQDN of two labels or more), a DNS-label hostname, a
 *     node name that is a DNS subdomain, and at most 8 zone and 8 node hints, each named once;
 *   - at most 20000 ports (kube raised the limit from 100 in 1.21; its API docs still say 100),
 *     named uniquely (the empty name too) with DNS labels, TCP, UDP or SCTP, an appProtocol that
 *     is a qualified name. A port number is not checked beyond being an int32, as in Kubernetes.
 *
 * What the v1 strategy does besides (deprecatedTopology dropped, the generation moved when more
 * than metadata changed, a warning for FQDN slices) is in the schema, the Api and the HTTP layer.
 * Pure; no I/O.
 */
import { jsonEqual } from "../../model/json_equal.ts";
import { labelKeyProblem, labelValueProblem } from "../../model/selector.ts";
import type { EndpointSlice, StatusCause } from "../../model/types.ts";
import { ipBits } from "./validation_networking.ts";
import { CAUSE, dns1123LabelProblems, dns1123SubdomainProblems, render, type Obj, obj, arr, Causes } from "./validation_util.ts";

const ADDRESS_TYPES = ["FQDN", "IPv4", "IPv6"];
const PROTOCOLS = ["SCTP", "TCP", "UDP"];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_HINTS = 8;

/** A list of supported values as field.NotSupported words it (sorted, quoted). */
const supported = (values: readonly string[]) => `supported values: ${values.map((v) => `"${v}"`).join(", ")}`;

/** field.TooMany: the count and the limit. */
function tooMany(c: Causes, field: string, actual: number, max: number): void {
  c.list.push({ reason: CAUSE.tooMany, field, message: `Too many: ${actual}: must have at most ${max} items` });
}

/** Every problem of an EndpointSlice (validate() runs this for `endpointslices`). */
export function endpointSliceProblems(raw: Obj): StatusCause[] {
  const c = new Causes();
  const addressType = raw.addressType;
  if (addressType === undefined || addressType === "") c.add(CAUSE.required, "addressType", undefined);
  else if (typeof addressType === "string" && !ADDRESS_TYPES.includes(addressType)) c.add(CAUSE.notSupported, "addressType", addressType, supported(ADDRESS_TYPES));
  endpointsRules(c, arr(raw.endpoints), typeof addressType === "string" ? addressType : "");
  portsRules(c, arr(raw.ports));
  return c.list;
}

/** ValidateEndpointSliceUpdate's own rule: the address type is kept for life. */
export function endpointSliceUpdateProblems(current: EndpointSlice, next: EndpointSlice): StatusCause[] {
  if (current.addressType === next.addressType) return [];
  return [{ reason: CAUSE.invalid, field: "addressType", message: render(CAUSE.invalid, next.addressType, "field is immutable") }];
}

/** The strategy's WarningsOnCreate: FQDN slices are deprecated (kube-apiserver words the path `spec.addressType`). */
export function endpointSliceWarnings(slice: EndpointSlice): string[] {
  return slice.addressType === "FQDN" ? ["spec.addressType: FQDN endpoints are deprecated"] : [];
}

/**
 * True when an update changes more than the slice's metadata, or its labels: kube's strategy
 * then moves the generation (PrepareForUpdate). Absent and empty lists are the same, as
 * Kubernetes' semantic equality has them.
 */
export function endpointSliceChanged(a: EndpointSlice, b: EndpointSlice): boolean {
  // Key order is no change, as for every other kind's spec.
  const body = (s: EndpointSlice) => [s.addressType, s.endpoints ?? [], s.ports ?? [], s.metadata.labels ?? {}];
  return !jsonEqual(body(a), body(b));
}

function endpointsRules(c: Causes, endpoints: unknown[], addressType: string): void {
  if (endpoints.length > MAX_ENDPOINTS) return tooMany(c, "endpoints", endpoints.length, MAX_ENDPOINTS);
  endpoints.forEach((e, i) => {
    const ep = obj(e) ?? {};
    const at = `endpoints[${i}]`;
    const addresses = arr(ep.addresses);
    if (addresses.length === 0) c.add(CAUSE.required, `${at}.addresses`, undefined, "must contain at least 1 address");
    else if (addresses.length > MAX_ADDRESSES) tooMany(c, `${at}.addresses`, addresses.length, MAX_ADDRESSES);
    addresses.forEach((a, j) => {
      if (typeof a === "string") addressRules(c, a, addressType, `${at}.addresses[${j}]`);
    });
    if (typeof ep.nodeName === "string") for (const msg of dns1123SubdomainProblems(ep.nodeName)) c.add(CAUSE.invalid, `${at}.nodeName`, ep.nodeName, msg);
    // deprecatedTopology is dropped from what v1 writes before kube validates it (dropTopologyOnV1).
    if (typeof ep.hostname === "string") for (const msg of dns1123LabelProblems(ep.hostname)) c.add(CAUSE.invalid, `${at}.hostname`, ep.hostname, msg);
    const hints = obj(ep.hints);
    if (hints) hintsRules(c, hints, `${at}.hints`);
  });
}

/** One address, checked as its slice's type says (an unknown type leaves it unchecked, as kube does). */
function addressRules(c: Causes, address: string, addressType: string, at: string): void {
  switch (addressType) {
    case "IPv4":
    case "IPv6": {
      const ip = parseIP(address);
      const family = ip?.v4 !== undefined ? 4 : 6;
      if (!ip || family !== (addressType === "IPv4" ? 4 : 6)) c.add(CAUSE.invalid, at, address, `must be a valid ${addressType} address`);
      for (const msg of endpointIPProblems(address, ip)) c.add(CAUSE.invalid, at, address, msg);
      break;
    }
    case "FQDN":
      fqdnRules(c, address, at);
      break;
  }
}

/**
 * An address as Go's net.ParseIP reads it: `v4` for a dotted quad or an IPv4-mapped IPv6 address
 * (what To4 finds), `v6` for any other IPv6 one. No zone (`%eth0`); no leading zeros in a quad
 * (stricter than kube's ParseIPSloppy, as every IPv4 field of Berth is).
 */
function parseIP(s: string): { v4?: bigint; v6?: bigint } | undefined {
  if (s.includes("%")) return undefined;
  const ip = ipBits(s);
  if (!ip) return undefined;
  if (ip.family === 4) return { v4: ip.value };
  return ip.value >> 32n === 0xffffn ? { v4: ip.value & 0xffffffffn } : { v6: ip.value };
}

/**
 * ValidateEndpointIP: an address one can send traffic to (not unspecified or link-local). Unlike
 * kube, a loopback address is allowed: on a one-machine Berth cluster the REST API and the
 * nodes' published ports are on loopback, and the `kubernetes` Service's endpoint is one (Berth's
 * Endpoints take loopback addresses for the same reason).
 */
function endpointIPProblems(address: string, ip: { v4?: bigint; v6?: bigint } | undefined): string[] {
  if (!ip) return ["must be a valid IP address"];
  const { v4, v6 = 0n } = ip;
  const is = v4 !== undefined
    ? { unspecified: v4 === 0n, loopback: v4 >> 24n === 127n, linkLocal: v4 >> 16n === 0xa9fen, linkLocalMulticast: v4 >> 8n === 0xe00000n }
    : { unspecified: v6 === 0n, loopback: v6 === 1n, linkLocal: v6 >> 118n === 0x3fan, linkLocalMulticast: v6 >> 120n === 0xffn && ((v6 >> 112n) & 0xfn) === 2n };
  const out: string[] = [];
  if (is.unspecified) out.push(`may not be unspecified (${address})`);
  if (is.linkLocal) out.push("may not be in the link-local range (169.254.0.0/16, fe80::/10)");
  if (is.linkLocalMulticast) out.push("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)");
  return out;
}

/** IsFullyQualifiedDomainName: a subdomain (a trailing dot allowed) of at least two labels; the first problem only. */
function fqdnRules(c: Causes, address: string, at: string): void {
  if (address === "") return c.add(CAUSE.required, at, undefined);
  const name = address.endsWith(".") ? address.slice(0, -1) : address;
  const bad = dns1123SubdomainProblems(name);
  if (bad.length) return c.add(CAUSE.invalid, at, name, bad.join(","));
  const labels = name.split(".");
  if (labels.length < 2) return c.add(CAUSE.invalid, at, name, "should be a domain with at least two segments separated by dots");
  for (const label of labels) {
    const badLabel = dns1123LabelProblems(label);
    if (badLabel.length) return c.add(CAUSE.invalid, at, label, badLabel.join(","));
  }
}

/** validateHints: at most 8 zones (label values) and 8 nodes (node names), each named once. */
function hintsRules(c: Causes, hints: Obj, at: string): void {
  const lists = [
    ["forZones", (n: string) => { const bad = labelValueProblem(n); return bad ? [bad] : []; }],
    ["forNodes", dns1123SubdomainProblems],
  ] as const;
  for (const [field, problems] of lists) {
    const list = arr(hints[field]);
    // As kube: too many of either ends the check of the hints (after too many zones, nodes are not looked at).
    if (list.length > MAX_HINTS) return tooMany(c, `${at}.${field}`, list.length, MAX_HINTS);
    const seen = new Set<string>();
    list.forEach((h, i) => {
      // An absent name is Go's empty string; a name of another type is the schema pass's.
      const given = obj(h)?.name;
      if (given !== undefined && typeof given !== "string") return;
      const name = given ?? "";
      const path = `${at}.${field}[${i}].name`;
      if (seen.has(name)) c.add(CAUSE.duplicate, path, name);
      seen.add(name);
      for (const msg of problems(name)) c.add(CAUSE.invalid, path, name, msg);
    });
  }
}

function portsRules(c: Causes, ports: unknown[]): void {
  if (ports.length > MAX_PORTS) return tooMany(c, "ports", ports.length, MAX_PORTS);
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const port = obj(p) ?? {};
    const at = `ports[${i}]`;
    // An absent name is the empty one (SetDefaults_EndpointPort), which counts among the names.
    const name = typeof port.name === "string" ? port.name : "";
    if (name !== "") for (const msg of dns1123LabelProblems(name)) c.add(CAUSE.invalid, `${at}.name`, name, msg);
    if (names.has(name)) c.add(CAUSE.duplicate, `${at}.name`, name);
    names.add(name);
    // An absent protocol is TCP (defaults.ts).
    if (typeof port.protocol === "string" && !PROTOCOLS.includes(port.protocol)) c.add(CAUSE.notSupported, `${at}.protocol`, port.protocol, supported(PROTOCOLS));
    if (typeof port.appProtocol === "string") {
      const bad = labelKeyProblem(port.appProtocol);
      if (bad) c.add(CAUSE.invalid, `${at}.appProtocol`, port.appProtocol, bad);
    }
  });
}
