/**
 * The rules of networking.k8s.io/v1 NetworkPolicy, Ingress and IngressClass, in the order, paths
 * and words of kube-apiserver's pkg/apis/networking/validation (ValidateNetworkPolicySpec,
 * ValidateIngressCreate, ValidateIngressClass and their Update forms), on the raw input (read
 * defensively: the schema pass reports wrong types):
 *
 *   - a policy's ports name TCP, UDP or SCTP, a port number or name, and an `endPort` only after
 *     a numeric port and not below it; a peer is a pod and/or namespace selector, or an ipBlock
 *     alone, whose `except` ranges lie strictly inside its cidr; policyTypes are Ingress/Egress;
 *   - an Ingress has rules or a defaultBackend; a rule's host is a DNS name (`*.` wildcard
 *     allowed), not an IP; paths have a pathType, and Exact/Prefix paths are absolute; a backend
 *     is a service (name and port number or name) or a resource, never both;
 *   - an IngressClass's controller is a domain-prefixed path that never changes; its parameters
 *     name a kind and a name, scope Cluster or Namespace (a namespace only with Namespace).
 *
 * Nothing here enforces a policy or routes a request: Berth stores these objects for charts and
 * tools, and acts on none of them. Pure; no I/O.
 */
import { isIP } from "node:net";
import type { IngressClass, StatusCause } from "../../model/types.ts";
import { CAUSE, DNS1123_LABEL_MESSAGE, dns1123SubdomainProblems, ianaSvcNameProblem, pathSegmentProblems, render, type Obj, obj, arr, Causes } from "./validation_util.ts";


const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** A string slice as Go's `%#v` prints it in a field error (`[]networking.PolicyType{"Ingress"}`), nil when absent. */
const goSlice = (type: string, v: unknown) =>
  Array.isArray(v) ? `[]${type}{${v.map((x) => JSON.stringify(x)).join(", ")}}` : `[]${type}(nil)`;

const PORT_RANGE = "must be between 1 and 65535, inclusive";
const DNS1035_LABEL_MESSAGE =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const WILDCARD_SUBDOMAIN_MESSAGE =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** apimachinery's IsDNS1123Subdomain messages. */
const subdomainProblems = dns1123SubdomainProblems;

/** IsWildcardDNS1123Subdomain's messages. */
function wildcardProblems(s: string): string[] {
  const out: string[] = [];
  if (s.length > 253) out.push("must be no more than 253 characters");
  if (!/^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s)) out.push(WILDCARD_SUBDOMAIN_MESSAGE);
  return out;
}

// ---------------------------------------------------------------------------------------------
// CIDRs, as Go's net.ParseCIDR reads them

interface Cidr {
  family: 4 | 6;
  /** The network address (the address with the host bits cleared). */
  network: bigint;
  prefix: number;
}

/** An address's family and value (an IPv6 one with an embedded IPv4 tail read in full), as node's isIP accepts it; undefined otherwise. */
export function ipBits(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(ip);
  if (family === 4) return { family, value: ip.split(".").reduce((acc, b) => (acc << 8n) | BigInt(Number(b)), 0n) };
  if (family !== 6) return undefined;
  let text = ip;
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipBits(v4[1])!.value;
    text = `${text.slice(0, -v4[1].length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const groups = (s: string | undefined) => (s ? s.split(":") : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return { family: 6, value: all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

/** A CIDR as net.ParseCIDR reads it, or undefined when it is not one. */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const ip = ipBits(m[1]);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(m[2]);
  if (prefix > bits) return undefined;
  const host = (1n << BigInt(bits - prefix)) - 1n;
  return { family: ip.family, network: ip.value & ~host, prefix };
}

const CIDR_MESSAGE = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";

// ---------------------------------------------------------------------------------------------
// NetworkPolicy

/** Every problem of a NetworkPolicy (validate() runs this for `networkpolicies`). */
export function networkPolicyProblems(raw: Obj): StatusCause[] {
  const c = new Causes();
  const spec = obj(raw.spec) ?? {};
  for (const [dir, peers] of [["ingress", "from"], ["egress", "to"]] as const) {
    arr(spec[dir]).forEach((r, i) => {
      const rule = obj(r) ?? {};
      const at = `spec.${dir}[${i}]`;
      arr(rule.ports).forEach((p, j) => policyPort(c, obj(p) ?? {}, `${at}.ports[${j}]`));
      arr(rule[peers]).forEach((p, j) => policyPeer(c, obj(p) ?? {}, `${at}.${peers}[${j}]`));
    });
  }
  const types = arr(spec.policyTypes);
  if (types.length > 2) {
    c.invalid("spec.policyTypes", goSlice("networking.PolicyType", types), "may not specify more than two policyTypes");
  } else {
    types.forEach((t, i) => {
      if (t !== "Ingress" && t !== "Egress") c.add(CAUSE.notSupported, `spec.policyTypes[${i}]`, t, 'supported values: "Ingress", "Egress"');
    });
  }
  return c.list;
}

/** ValidateNetworkPolicyPort. */
function policyPort(c: Causes, port: Obj, at: string): void {
  const protocol = port.protocol;
  if (typeof protocol === "string" && !["TCP", "UDP", "SCTP"].includes(protocol)) c.add(CAUSE.notSupported, `${at}.protocol`, protocol, 'supported values: "TCP", "UDP", "SCTP"');
  const endPort = typeof port.endPort === "number" ? port.endPort : undefined;
  if (typeof port.port === "number") {
    if (port.port < 1 || port.port > 65535) c.add(CAUSE.invalid, `${at}.port`, port.port, PORT_RANGE);
    if (endPort !== undefined) {
      if (endPort < port.port) c.add(CAUSE.invalid, `${at}.endPort`, port.port, "must be greater than or equal to `port`");
      if (endPort < 1 || endPort > 65535) c.add(CAUSE.invalid, `${at}.endPort`, endPort, PORT_RANGE);
    }
  } else if (typeof port.port === "string") {
    if (endPort !== undefined) c.add(CAUSE.invalid, `${at}.endPort`, endPort, "may not be specified when `port` is non-numeric");
    const bad = ianaSvcNameProblem(port.port);
    if (bad) c.add(CAUSE.invalid, `${at}.port`, port.port, bad);
  } else if (endPort !== undefined) {
    c.add(CAUSE.invalid, `${at}.endPort`, endPort, "may not be specified when `port` is not specified");
  }
}

/** ValidateNetworkPolicyPeer: selectors (one or both), or an ipBlock alone. */
function policyPeer(c: Causes, peer: Obj, at: string): void {
  const given = ["podSelector", "namespaceSelector", "ipBlock"].filter((k) => peer[k] !== undefined);
  const ipBlock = obj(peer.ipBlock);
  if (ipBlock) ipBlockRules(c, ipBlock, `${at}.ipBlock`);
  if (given.length === 0) c.add(CAUSE.required, at, undefined, "must specify a peer");
  else if (given.length > 1 && peer.ipBlock !== undefined) c.add(CAUSE.forbidden, at, undefined, "may not specify both ipBlock and another peer");
}

/** ValidateIPBlock: a valid cidr, and each `except` a strict subset of it. */
function ipBlockRules(c: Causes, block: Obj, at: string): void {
  const cidrText = str(block.cidr);
  if (cidrText === "") return c.add(CAUSE.required, `${at}.cidr`, undefined);
  const cidr = parseCidr(cidrText);
  if (!cidr) return c.add(CAUSE.invalid, `${at}.cidr`, cidrText, CIDR_MESSAGE);
  arr(block.except).forEach((e, i) => {
    const text = str(e);
    const except = parseCidr(text);
    if (!except) return c.add(CAUSE.invalid, `${at}.except[${i}]`, text, CIDR_MESSAGE);
    const bits = cidr.family === 4 ? 32 : 128;
    const inside = except.family === cidr.family && except.network >> BigInt(bits - cidr.prefix) === cidr.network >> BigInt(bits - cidr.prefix);
    if (!inside || cidr.prefix >= except.prefix) c.add(CAUSE.invalid, `${at}.except[${i}]`, text, "must be a strict subset of `cidr`");
  });
}

// ---------------------------------------------------------------------------------------------
// Ingress

const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];
const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

/** Every problem of an Ingress (validate() runs this for `ingresses`). */
export function ingressProblems(raw: Obj): StatusCause[] {
  const c = new Causes();
  const spec = obj(raw.spec) ?? {};
  const rules = arr(spec.rules);
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    // Go prints the (empty) rules with %#v: nil when absent, `[]networking.IngressRule{}` when given empty.
    c.invalid("spec", Array.isArray(spec.rules) ? "[]networking.IngressRule{}" : "[]networking.IngressRule(nil)", "either `defaultBackend` or `rules` must be specified");
  }
  const def = obj(spec.defaultBackend);
  if (def) backendRules(c, def, "spec.defaultBackend");
  rules.forEach((r, i) => {
    const rule = obj(r) ?? {};
    const at = `spec.rules[${i}]`;
    const host = str(rule.host);
    if (host !== "") {
      if (isIP(host)) c.add(CAUSE.invalid, `${at}.host`, host, "must be a DNS name, not an IP address");
      for (const msg of host.includes("*") ? wildcardProblems(host) : subdomainProblems(host)) c.add(CAUSE.invalid, `${at}.host`, host, msg);
    }
    const http = obj(rule.http);
    if (!http) return;
    const paths = arr(http.paths);
    if (paths.length === 0) c.add(CAUSE.required, `${at}.http.paths`, undefined);
    paths.forEach((p, j) => httpPath(c, obj(p) ?? {}, `${at}.http.paths[${j}]`));
  });
  arr(spec.tls).forEach((t, i) => {
    const tls = obj(t) ?? {};
    arr(tls.hosts).forEach((h, j) => {
      const host = str(h);
      for (const msg of host.includes("*") ? wildcardProblems(host) : subdomainProblems(host)) c.add(CAUSE.invalid, `spec.tls[${i}].hosts[${j}]`, host, msg);
    });
    const secret = str(tls.secretName);
    if (secret !== "") for (const msg of subdomainProblems(secret)) c.add(CAUSE.invalid, `spec.tls[${i}].secretName`, secret, msg);
  });
  if (typeof spec.ingressClassName === "string") {
    for (const msg of subdomainProblems(spec.ingressClassName)) c.add(CAUSE.invalid, "spec.ingressClassName", spec.ingressClassName, msg);
  }
  // ValidateIngressCreate: the legacy annotation and the field, when both are given, agree.
  const legacy = obj(obj(raw.metadata)?.annotations)?.["kubernetes.io/ingress.class"];
  if (typeof legacy === "string" && typeof spec.ingressClassName === "string" && legacy !== spec.ingressClassName) {
    c.add(CAUSE.invalid, "annotations.kubernetes.io/ingress.class", legacy, "must match `ingressClassName` when both are specified");
  }
  return c.list;
}

/** validateHTTPIngressPath. */
function httpPath(c: Causes, p: Obj, at: string): void {
  const pathType = p.pathType;
  if (pathType === undefined) return c.add(CAUSE.required, `${at}.pathType`, undefined, "pathType must be specified");
  const path = str(p.path);
  if (pathType === "Exact" || pathType === "Prefix") {
    if (!path.startsWith("/")) c.add(CAUSE.invalid, `${at}.path`, path, "must be an absolute path");
    if (path !== "") {
      for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) c.add(CAUSE.invalid, `${at}.path`, path, `must not contain '${seq}'`);
      for (const suffix of INVALID_PATH_SUFFIXES) if (path.endsWith(suffix)) c.add(CAUSE.invalid, `${at}.path`, path, `cannot end with '${suffix}'`);
    }
  } else if (pathType === "ImplementationSpecific") {
    if (path !== "" && !path.startsWith("/")) c.add(CAUSE.invalid, `${at}.path`, path, "must be an absolute path");
  } else {
    c.add(CAUSE.notSupported, `${at}.pathType`, pathType, `supported values: ${PATH_TYPES.map((t) => JSON.stringify(t)).join(", ")}`);
  }
  backendRules(c, obj(p.backend) ?? {}, `${at}.backend`);
}

/** validateIngressBackend: a service (name and one port) or a resource, exactly one. */
function backendRules(c: Causes, b: Obj, at: string): void {
  const resource = obj(b.resource);
  const service = obj(b.service);
  if (resource && service) return c.add(CAUSE.invalid, at, "", "cannot set both resource and service backends");
  if (resource) return typedLocalObjectReference(c, resource, `${at}.resource`);
  if (!service) return c.add(CAUSE.invalid, at, "", "resource or service backend is required");
  const name = str(service.name);
  if (name === "") c.add(CAUSE.required, `${at}.service.name`, undefined);
  else {
    if (name.length > 63) c.add(CAUSE.invalid, `${at}.service.name`, name, "must be no more than 63 characters");
    if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) c.add(CAUSE.invalid, `${at}.service.name`, name, DNS1035_LABEL_MESSAGE);
  }
  const port = obj(service.port) ?? {};
  const portName = str(port.name);
  const portNumber = typeof port.number === "number" ? port.number : 0;
  if (portName !== "" && portNumber !== 0) c.add(CAUSE.invalid, at, "", "cannot set both port name & port number");
  else if (portName !== "") {
    const bad = ianaSvcNameProblem(portName);
    if (bad) c.add(CAUSE.invalid, `${at}.service.port.name`, portName, bad);
  } else if (portNumber !== 0) {
    if (portNumber < 1 || portNumber > 65535) c.add(CAUSE.invalid, `${at}.service.port.number`, portNumber, PORT_RANGE);
  } else c.add(CAUSE.required, at, undefined, "port name or number is required");
}

/** validateIngressTypedLocalObjectReference. */
function typedLocalObjectReference(c: Causes, ref: Obj, at: string): void {
  if (typeof ref.apiGroup === "string") for (const msg of subdomainProblems(ref.apiGroup)) c.add(CAUSE.invalid, `${at}.apiGroup`, ref.apiGroup, msg);
  for (const f of ["kind", "name"] as const) {
    const v = str(ref[f]);
    if (v === "") c.add(CAUSE.required, `${at}.${f}`, undefined, `${f} is required`);
    else for (const msg of pathSegmentProblems(v)) c.add(CAUSE.invalid, `${at}.${f}`, v, msg);
  }
}

// ---------------------------------------------------------------------------------------------
// IngressClass

/** Every problem of an IngressClass (validate() runs this for `ingressclasses`). */
export function ingressClassProblems(raw: Obj): StatusCause[] {
  const c = new Causes();
  const spec = obj(raw.spec) ?? {};
  const controller = str(spec.controller);
  if (controller.length > 250) c.add(CAUSE.tooLong, "spec.controller", controller, "may not be more than 250 bytes");
  domainPrefixedPath(c, controller, "spec.controller");
  const params = obj(spec.parameters);
  if (params) {
    typedLocalObjectReference(c, params, "spec.parameters");
    // kube defaults an absent scope to Cluster before validating (defaults.ts stores it so).
    const scope = params.scope ?? "Cluster";
    if (scope !== "Cluster" && scope !== "Namespace") c.add(CAUSE.notSupported, "spec.parameters.scope", scope, 'supported values: "Cluster", "Namespace"');
    else if (scope === "Namespace") {
      if (params.namespace === undefined) c.add(CAUSE.required, "spec.parameters.namespace", undefined, "`parameters.scope` is set to 'Namespace'");
      else {
        const ns = str(params.namespace);
        if (ns.length > 63) c.add(CAUSE.invalid, "spec.parameters.namespace", ns, "must be no more than 63 characters");
        if (!LABEL.test(ns)) c.add(CAUSE.invalid, "spec.parameters.namespace", ns, DNS1123_LABEL_MESSAGE);
      }
    } else if (params.namespace !== undefined) c.add(CAUSE.forbidden, "spec.parameters.namespace", undefined, "`parameters.scope` is set to 'Cluster'");
  }
  return c.list;
}

/** apimachinery's IsDomainPrefixedPath (`acme.io/foo`). */
function domainPrefixedPath(c: Causes, value: string, at: string): void {
  if (value === "") return c.add(CAUSE.required, at, undefined);
  const slash = value.indexOf("/");
  const host = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? "" : value.slice(slash + 1);
  if (slash < 0 || host === "" || path === "") return c.add(CAUSE.invalid, at, value, 'must be a domain-prefixed path (such as "acme.io/foo")');
  for (const msg of subdomainProblems(host)) c.add(CAUSE.invalid, at, host, msg);
  if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(path)) c.add(CAUSE.invalid, at, path, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')");
}

/** ValidateIngressClassUpdate's own rule: the controller never changes. */
export function ingressClassUpdateProblems(current: IngressClass, next: IngressClass): StatusCause[] {
  if ((current.spec?.controller ?? "") === (next.spec?.controller ?? "")) return [];
  return [{ reason: CAUSE.invalid, field: "spec.controller", message: render(CAUSE.invalid, next.spec?.controller ?? "", "field is immutable") }];
}
