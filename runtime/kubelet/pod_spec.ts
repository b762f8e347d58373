/**
 * Pure translation of a Pod into what the container runtime needs: the sandbox spec (ports,
 * hostname, DNS), one container spec per container (command, env, mounts, limits) and the
 * volumes to create. No I/O; unit-tested.
 */
import { readFileSync } from "node:fs";
import type { Container, EnvVar, Pod } from "../../model/types.ts";
import {
  type ContainerSpec,
  type DnsConfig,
  LABELS,
  type MountSpec,
  type PodRef,
  type PortSpec,
  type SandboxSpec,
  claimVolumeName,
  volumeName,
} from "../../model/container_runtime.ts";

/** Thrown for a quantity Kubernetes would not accept. */
export class QuantityError extends Error {
  constructor(q: string) {
    super(`invalid quantity ${JSON.stringify(q)}`);
    this.name = "QuantityError";
  }
}

const SUFFIX: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes quantity ("100m", "0.5", "128Mi", "1G", "1e3") as a number. */
export function parseQuantity(q: string | number): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q.trim());
  if (!m) throw new QuantityError(q);
  return Number(m[1]) * SUFFIX[m[2] ?? ""];
}

/** The pod's identity as the runtime labels it. */
export function podRef(pod: Pod, node: string, cluster?: string): PodRef {
  return {
    node,
    ...(cluster ? { cluster } : {}),
    uid: pod.metadata.uid ?? pod.metadata.name,
    name: pod.metadata.name,
    namespace: pod.metadata.namespace ?? "default",
    annotations: pod.metadata.annotations,
  };
}

/**
 * Every declared container port, deduplicated, for publishing on the sandbox: on its `hostPort`
 * (and `hostIP`) when declared, as the kubelet's hostport manager does; otherwise on an
 * ephemeral port of the node's address.
 */
export function podPorts(pod: Pod): PortSpec[] {
  const seen = new Set<string>();
  const out: PortSpec[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      const protocol = p.protocol ?? "TCP";
      const k = `${p.containerPort}/${protocol}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({
        containerPort: p.containerPort,
        protocol,
        ...(p.hostPort ? { hostPort: p.hostPort } : {}),
        ...(p.hostPort && p.hostIP ? { hostIP: p.hostIP } : {}),
      });
    }
  }
  return out;
}

/** The resolver the kubelet writes at most (longer lists are cut, as the kubelet does). */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

/**
 * DNS for the sandbox, as the kubelet makes a pod's resolv.conf (pkg/kubelet/network/dns):
 * ClusterFirst (and ClusterFirstWithHostNet) the cluster DNS with the Kubernetes search list and
 * `ndots:5`, when the node has a cluster DNS (else as Default); Default the node's resolver (the
 * engine's copy of it: undefined); None nothing. `spec.dnsConfig` is then added: its
 * nameservers and searches after the policy's (duplicates dropped), its options over the
 * policy's by name. With dnsConfig and the node's resolver, `nodeResolv` gives that resolver.
 */
export function podDns(pod: Pod, dns?: { servers: string[]; search: string[] }, nodeResolv: () => DnsConfig = readNodeResolv): DnsConfig | undefined {
  const policy = pod.spec.dnsPolicy ?? "ClusterFirst";
  const extra = pod.spec.dnsConfig;
  let base: DnsConfig | undefined;
  if (policy === "None") base = { servers: [], search: [], options: [] };
  else if (policy !== "Default" && dns && dns.servers.length > 0) {
    const ns = pod.metadata.namespace ?? "default";
    base = { servers: dns.servers, search: dns.search.length ? dns.search : [`${ns}.svc.cluster.local`, "svc.cluster.local", "cluster.local"], options: ["ndots:5"] };
  }
  if (!extra) return base;
  base ??= nodeResolv();
  const options = new Map<string, string>();
  for (const o of base.options) options.set(o.split(":")[0], o);
  for (const o of extra.options ?? []) options.set(o.name, o.value === undefined || o.value === "" ? o.name : `${o.name}:${o.value}`);
  return {
    servers: [...new Set([...base.servers, ...(extra.nameservers ?? [])])].slice(0, MAX_NAMESERVERS),
    search: [...new Set([...base.search, ...(extra.searches ?? [])])].slice(0, MAX_SEARCHES),
    options: [...options.values()],
  };
}

/**
 * The node's resolver, from /etc/resolv.conf, without loopback nameservers (a stub resolver on
 * the node is not reachable from a pod's network namespace; the engine drops them too).
 */
export function parseResolvConf(text: string): DnsConfig {
  const out: DnsConfig = { servers: [], search: [], options: [] };
  for (const line of text.split("\n")) {
    const [key, ...rest] = line.replace(/[#;].*$/, "").trim().split(/\s+/);
    if (key === "nameserver" && rest[0] && !/^127\.|^::1$/.test(rest[0])) out.servers.push(rest[0]);
    else if (key === "search" || key === "domain") out.search = rest;
    else if (key === "options") out.options.push(...rest);
  }
  return out;
}

function readNodeResolv(): DnsConfig {
  try {
    return parseResolvConf(readFileSync("/etc/resolv.conf", "utf8"));
  } catch {
    return { servers: [], search: [], options: [] };
  }
}

/**
 * The pod's hostname and DNS domain, as the kubelet makes them (GeneratePodHostNameAndDomain):
 * `spec.hostname`, else the pod's name, cut to 63 characters without a trailing `-` or `.`; and
 * with `spec.subdomain`, the domain `<subdomain>.<ns>.svc.<clusterDomain>`, so that the pod's
 * FQDN `<hostname>.<domain>` is in its /etc/hosts and `hostname -f` prints it.
 */
export function podHostnameAndDomain(pod: Pod, clusterDomain = "cluster.local"): { hostname: string; domainname?: string } {
  const wanted = pod.spec.hostname || pod.metadata.name;
  const hostname = wanted.length > 63 ? wanted.slice(0, 63).replace(/[-.]+$/, "") : wanted;
  if (!pod.spec.subdomain) return { hostname };
  const domainname = `${pod.spec.subdomain}.${pod.metadata.namespace ?? "default"}.svc.${clusterDomain}`;
  // setHostnameAsFQDN: the kernel hostname is the FQDN itself (the engine then writes it alone in /etc/hosts).
  if (pod.spec.setHostnameAsFQDN) {
    const fqdn = `${hostname}.${domainname}`;
    if (fqdn.length > 64) throw new Error(`Failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
    return { hostname: fqdn };
  }
  return { hostname, domainname };
}

export function sandboxSpec(pod: Pod, node: string, hostIP: string, dns?: { servers: string[]; search: string[] }): SandboxSpec {
  return {
    pod: podRef(pod, node),
    ...podHostnameAndDomain(pod),
    ports: podPorts(pod),
    hostIP,
    dns: podDns(pod, dns),
    ...(pod.spec.hostAliases?.length ? { extraHosts: pod.spec.hostAliases.flatMap((a) => (a.hostnames ?? []).map((h) => ({ hostname: h, ip: a.ip }))) } : {}),
  };
}

/** Values for `fieldRef` env vars that Berth knows at container creation. */
export interface FieldValues {
  podIP: string;
  hostIP: string;
  nodeName: string;
}

/**
 * Resolves env vars; `$(VAR)` references to earlier vars are expanded as Kubernetes does.
 * `base` (the service variables) comes first: the container's own vars may refer to it with
 * `$(VAR)` and win on a name clash.
 */
export function containerEnv(pod: Pod, env: EnvVar[] | undefined, fields: FieldValues, base: Record<string, string> = {}): Record<string, string> {
  const out: Record<string, string> = { ...base };
  const fieldValue = (path: string): string => {
    switch (path) {
      case "metadata.name": return pod.metadata.name;
      case "metadata.namespace": return pod.metadata.namespace ?? "default";
      case "metadata.uid": return pod.metadata.uid ?? "";
      case "spec.nodeName": return fields.nodeName;
      case "status.podIP": return fields.podIP;
      case "status.hostIP": return fields.hostIP;
      default: {
        const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
        return m ? (pod.metadata[m[1] as "labels" | "annotations"]?.[m[2]] ?? "") : "";
      }
    }
  };
  for (const e of env ?? []) {
    if (e.valueFrom?.fieldRef) out[e.name] = fieldValue(e.valueFrom.fieldRef.fieldPath);
    else out[e.name] = expand(e.value ?? "", out);
  }
  return out;
}

/** Kubernetes `$(VAR)` expansion; `$$` escapes; unknown references stay as written. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name?: string) =>
    m === "$$" ? "$" : name !== undefined && name in vars ? vars[name] : m
  );
}

/** A pod volume resolved to a Docker volume or host path. */
export interface VolumePlan {
  name: string;
  /** `projected`: a ConfigMap, Secret, downward API or projected volume's directory on the node (volumes_projected.ts). */
  kind: "emptyDir" | "persistent" | "hostPath" | "projected";
  /** Docker volume name, or the host path. */
  source: string;
  labels: Record<string, string>;
  /** Mounted read-only by every container, whatever its volumeMount says (`persistentVolumeClaim.readOnly`). */
  readOnly?: boolean;
}

/** A pod's claim that `volumePlans` was given no uid for: its volume cannot be named yet. Recoverable. */
export class UnresolvedClaimError extends Error {
  constructor(readonly claim: string) {
    super(`persistentvolumeclaim "${claim}" is not known on this node yet`);
    this.name = "UnresolvedClaimError";
  }
}

/**
 * `cluster`: the cluster id, if any (the cluster-scoped runtime stamps it on what is created).
 * `claimUid`: the uid of each PersistentVolumeClaim the pod names, as the node last saw it
 * (claim_volumes.ts checks the claim before any container is made); a claim it cannot answer
 * for throws `UnresolvedClaimError` — never a container without its volume.
 */
export function volumePlans(pod: Pod, node: string, cluster?: string, projectedDir?: (volume: string) => string | undefined, claimUid?: (claim: string) => string | undefined): VolumePlan[] {
  const ref = podRef(pod, node, cluster);
  const out: VolumePlan[] = [];
  for (const v of pod.spec.volumes ?? []) {
    if (v.emptyDir) {
      out.push({
        name: v.name,
        kind: "emptyDir",
        source: volumeName("emptyDir", ref, v.name),
        labels: { [LABELS.node]: node, [LABELS.podUid]: ref.uid, [LABELS.podName]: ref.name, [LABELS.podNamespace]: ref.namespace, [LABELS.volumeKind]: "emptyDir" },
      });
    } else if (v.persistentVolumeClaim) {
      // The claim's volume, named by its uid, on the claim's node: that node removes it when the
      // claim is deleted (claim_volumes.ts), and no pod's garbage collection ever does.
      const claim = v.persistentVolumeClaim.claimName;
      const uid = claimUid?.(claim);
      if (uid === undefined) throw new UnresolvedClaimError(claim);
      out.push({
        name: v.name,
        kind: "persistent",
        source: claimVolumeName(uid),
        labels: { [LABELS.node]: node, [LABELS.podNamespace]: ref.namespace, [LABELS.volumeKind]: "persistent", [LABELS.claim]: claim, [LABELS.claimUid]: uid },
        ...(v.persistentVolumeClaim.readOnly ? { readOnly: true } : {}),
      });
    } else if (v.hostPath) {
      out.push({ name: v.name, kind: "hostPath", source: v.hostPath.path, labels: {} });
    } else if ((v.configMap || v.secret || v.downwardAPI || v.projected) && projectedDir?.(v.name)) {
      out.push({ name: v.name, kind: "projected", source: projectedDir(v.name)!, labels: {} });
    }
  }
  return out;
}

/** The pod's emptyDir volumes only: what its sandbox step makes (claims are checked, and their volumes made, per container). */
export function emptyDirPlans(pod: Pod, node: string): VolumePlan[] {
  return volumePlans({ ...pod, spec: { ...pod.spec, volumes: (pod.spec.volumes ?? []).filter((v) => v.emptyDir) } }, node);
}

function mounts(c: Container, plans: VolumePlan[], env: Record<string, string>): MountSpec[] {
  const out: MountSpec[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const plan = plans.find((p) => p.name === vm.name);
    if (!plan) continue; // validation rejects unknown volume names; nothing to mount here
    const bind = plan.kind === "hostPath" || plan.kind === "projected";
    // subPathExpr: $(VAR) from the container's environment, as the kubelet expands it.
    const subPath = vm.subPathExpr ? expand(vm.subPathExpr, env) : vm.subPath;
    // Projected volumes are read-only in the container, as Kubernetes mounts them; so is a claim
    // the pod names `readOnly` (it forces the ReadOnly setting of every mount of it).
    const readOnly = plan.kind === "projected" || plan.readOnly ? true : vm.readOnly;
    const propagation = vm.mountPropagation === "HostToContainer" ? { propagation: "rslave" as const } : {};
    if (bind) out.push({ type: "bind", source: subPath ? `${plan.source}/${subPath}` : plan.source, target: vm.mountPath, readOnly, ...propagation });
    else out.push({ type: "volume", source: plan.source, target: vm.mountPath, readOnly, ...(subPath ? { subPath } : {}) });
  }
  return out;
}

/**
 * The kubelet's CPU shares: `requests.cpu` (an absent request defaults to the limit) in
 * milli-CPU × 1024 / 1000, at least 2. Undefined when the container names neither, leaving the
 * engine's default weight.
 */
export function cpuShares(c: Container): number | undefined {
  const q = c.resources?.requests?.cpu ?? c.resources?.limits?.cpu;
  if (q === undefined) return undefined;
  const milli = Math.round(parseQuantity(q) * 1000);
  return Math.max(2, Math.floor((milli * 1024) / 1000));
}

export function containerSpec(
  pod: Pod,
  c: Container,
  opts: {
    node: string;
    cluster?: string;
    sandboxId: string;
    restartCount: number;
    fields: FieldValues;
    serviceEnv?: Record<string, string>;
    /** The environment resolved already (env.ts: ConfigMap/Secret references, downward API). */
    env?: Record<string, string>;
    /** Host directories of projected volumes (ConfigMap, Secret, downward API, projected). */
    projectedDir?: (volume: string) => string | undefined;
    /** The uid of each claim the pod names (see `volumePlans`). */
    claimUid?: (claim: string) => string | undefined;
  },
): ContainerSpec {
  const env = opts.env ?? containerEnv(pod, c.env, opts.fields, opts.serviceEnv);
  const limits = c.resources?.limits ?? {};
  return {
    pod: podRef(pod, opts.node),
    name: c.name,
    sandboxId: opts.sandboxId,
    image: c.image,
    command: c.command?.map((s) => expand(s, env)),
    args: c.args?.map((s) => expand(s, env)),
    env,
    workingDir: c.workingDir,
    ...(c.stdin ? { stdin: true } : {}),
    ...(c.stdin && c.stdinOnce ? { stdinOnce: true } : {}),
    ...(c.tty ? { tty: true } : {}),
    ...(pod.spec.shareProcessNamespace ? { shareProcessNamespace: true } : {}),
    mounts: mounts(c, volumePlans(pod, opts.node, opts.cluster, opts.projectedDir, opts.claimUid), env),
    cpus: limits.cpu !== undefined ? parseQuantity(limits.cpu) : undefined,
    cpuShares: cpuShares(c),
    memoryBytes: limits.memory !== undefined ? Math.round(parseQuantity(limits.memory)) : undefined,
    restartCount: opts.restartCount,
  };
}
