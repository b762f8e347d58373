/**
 * The nftables proxy mode's rules, computed without I/O: Services + Endpoints → the rules of
 * Berth's own table (`table ip berth`) → the `nft -f -` script that takes the kernel from the
 * rules it last applied to the new ones in ONE transaction. runtime/proxy/nft_dataplane.ts runs
 * the script; everything here is pure and unit-tested (test/unit/actors/nft_rules.test.ts).
 *
 * Shape of the table (the same ideas as kube-proxy's nftables mode, written for Berth):
 *
 *   nat-prerouting (dstnat) ─┐                    ┌─ map service-ips   clusterIP . proto . port : goto svc-…
 *   nat-output     (-100)   ─┴─ jump services ────┤
 *                                                 └─ fib daddr type local, not 127/8 → map service-nodeports  proto . port : goto ext-…
 *   ext-<ns>/<name>/<proto>/<port>:  mark for masquerade; goto svc-…           (node port traffic)
 *   svc-<ns>/<name>/<proto>/<port>:  mark for masquerade if from this host (or always, see below);
 *                                    [ip saddr @aff-… goto ep-…]  numgen random mod N vmap { i : goto ep-… }
 *   ep-<…>__<ip>/<port>:             mark if hairpin (saddr = endpoint) or the endpoint is remote;
 *                                    [update @aff-… { ip saddr }]  dnat to ip:port
 *   nat-postrouting (srcnat): marked packets are masqueraded
 *   filter-input/forward/output (-110): new connections to a service port with no ready
 *                             endpoint → reject (TCP reset: "connection refused" at once)
 *
 * Node ports answer on every local address except loopback: a packet DNAT'ed from 127.0.0.1 to
 * a pod would need `route_localnet`, a host-wide setting Berth does not change (kube-proxy's
 * nftables mode makes the same choice).
 *
 * Masquerade, as kube-proxy does it: traffic from this host, to a node port, back to its own
 * source (hairpin) or to an endpoint on another machine (dialled at its host port) is
 * masqueraded, so replies return through this machine's conntrack. Pod → ClusterIP traffic to a
 * local endpoint keeps the client's address: the reply crosses the bridge, which br_netfilter
 * (`bridge-nf-call-iptables`) hands to conntrack to undo the DNAT. Without br_netfilter the
 * caller sets `masqueradeAll` (kube-proxy's --masquerade-all). Not masquerading matters for more
 * than the source address: a masqueraded flow takes a port of the node's one address toward
 * the endpoint, and at thousands of new connections a second those 64 K ports, held 120 s in
 * conntrack's TIME_WAIT, run out. ClientIP affinity is decided on the original source.
 *
 * Incremental syncs: the base chains and the verdict maps are flushed and refilled every sync
 * (cheap); a service or endpoint chain is rewritten only when its rules changed, and deleted when
 * it is no longer wanted. Affinity sets (dynamic, with a timeout) survive syncs that keep them;
 * their name carries the timeout, so a changed timeout makes a fresh set.
 */

/** One endpoint the kernel DNATs to. */
export interface NftEndpoint {
  ip: string;
  port: number;
  /** Reached off this machine (a host port elsewhere): its replies need masquerade. */
  remote?: boolean;
}

/** One service port as the nftables mode sees it. */
export interface NftServicePort {
  namespace: string;
  name: string;
  protocol: "tcp" | "udp" | "sctp";
  clusterIP: string;
  port: number;
  /** Set for NodePort/LoadBalancer services. */
  nodePort?: number;
  /** ClientIP affinity timeout in seconds; 0 = none. */
  affinitySeconds: number;
  /** Ready endpoints, in a stable order. */
  endpoints: NftEndpoint[];
}

/** The whole desired content of Berth's table. */
export interface NftRuleset {
  table: string;
  /** Chain name → its rules (base chains included; base chain headers are in BASE_CHAINS). */
  chains: Map<string, string[]>;
  /** Affinity set name → timeout in seconds. */
  sets: Map<string, number>;
  /** Verdict map name → elements (`key : goto chain`). */
  maps: Map<string, string[]>;
}

/** The conntrack mark bit that asks nat-postrouting to masquerade (kube-proxy uses the same). */
export const MASQUERADE_MARK = 0x4000;

export const DEFAULT_TABLE = "berth";

const MAPS: Record<string, string> = {
  "service-ips": "ipv4_addr . inet_proto . inet_service : verdict",
  "service-nodeports": "inet_proto . inet_service : verdict",
  "no-endpoint-services": "ipv4_addr . inet_proto . inet_service : verdict",
  "no-endpoint-nodeports": "inet_proto . inet_service : verdict",
};

/** Base chains: name → hook header. Regular (non-base) helper chains have no header. */
const BASE_CHAINS: Record<string, string> = {
  "nat-prerouting": "type nat hook prerouting priority dstnat ; policy accept ;",
  "nat-output": "type nat hook output priority -100 ; policy accept ;",
  "nat-postrouting": "type nat hook postrouting priority srcnat ; policy accept ;",
  "filter-input": "type filter hook input priority -110 ; policy accept ;",
  "filter-forward": "type filter hook forward priority -110 ; policy accept ;",
  "filter-output": "type filter hook output priority -110 ; policy accept ;",
};

/** Fixed helper chains and every chain's rules that do not depend on services. */
function fixedChains(): Map<string, string[]> {
  const m = new Map<string, string[]>();
  m.set("services", [
    "ip daddr . meta l4proto . th dport vmap @service-ips",
    "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports",
  ]);
  m.set("mark-for-masquerade", [`meta mark set meta mark | ${hex(MASQUERADE_MARK)}`]);
  m.set("masquerading", [
    `meta mark & ${hex(MASQUERADE_MARK)} == 0 return`,
    `meta mark set meta mark ^ ${hex(MASQUERADE_MARK)}`,
    "masquerade fully-random",
  ]);
  m.set("reject-chain", ["meta l4proto tcp reject with tcp reset", "reject"]);
  m.set("service-endpoints-check", ["ip daddr . meta l4proto . th dport vmap @no-endpoint-services"]);
  m.set("nodeport-endpoints-check", ["fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports"]);
  m.set("nat-prerouting", ["jump services"]);
  m.set("nat-output", ["jump services"]);
  m.set("nat-postrouting", ["jump masquerading"]);
  m.set("filter-input", ["ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"]);
  m.set("filter-forward", ["ct state new jump service-endpoints-check"]);
  m.set("filter-output", ["ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"]);
  return m;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** DNS-label-ish names only: they become part of chain names inside an nft script. */
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

/** Why a service port cannot be turned into rules (bad input must never reach `nft`). */
export function invalidPort(p: NftServicePort): string | undefined {
  const where = `${p.namespace}/${p.name}`;
  if (!NAME.test(p.namespace) || !NAME.test(p.name)) return `${where}: namespace and name must be DNS names`;
  if (!IPV4.test(p.clusterIP)) return `${where}: clusterIP ${JSON.stringify(p.clusterIP)} is not an IPv4 address`;
  const okPort = (n: number | undefined) => Number.isInteger(n) && n! >= 1 && n! <= 65535;
  if (!okPort(p.port)) return `${where}: port ${p.port} is not 1-65535`;
  if (p.nodePort !== undefined && !okPort(p.nodePort)) return `${where}: nodePort ${p.nodePort} is not 1-65535`;
  if (!Number.isInteger(p.affinitySeconds) || p.affinitySeconds < 0 || p.affinitySeconds > 86400 * 365) return `${where}: affinity timeout ${p.affinitySeconds} is out of range`;
  for (const e of p.endpoints) {
    if (!IPV4.test(e.ip) || !okPort(e.port)) return `${where}: endpoint ${e.ip}:${e.port} is not an IPv4 address and port`;
  }
  return undefined;
}

export function serviceChainName(p: NftServicePort): string {
  return `svc-${p.namespace}/${p.name}/${p.protocol}/${p.port}`;
}

export function endpointChainName(p: NftServicePort, e: NftEndpoint): string {
  return `ep-${p.namespace}/${p.name}/${p.protocol}/${p.port}__${e.ip}/${e.port}`;
}

export function affinitySetName(p: NftServicePort, e: NftEndpoint): string {
  return `aff-${p.namespace}/${p.name}/${p.protocol}/${p.port}__${e.ip}/${e.port}/${p.affinitySeconds}`;
}

/**
 * The desired table for these service ports. Ports that fail `invalidPort` are left out (the
 * caller logs them); so are later duplicates of a ClusterIP/port or node port already taken.
 */
export function desiredRuleset(ports: NftServicePort[], table = DEFAULT_TABLE, opts: { masqueradeAll?: boolean } = {}): { ruleset: NftRuleset; skipped: string[] } {
  const chains = fixedChains();
  const sets = new Map<string, number>();
  const maps = new Map<string, string[]>(Object.keys(MAPS).map((k) => [k, []]));
  const skipped: string[] = [];
  const seenIp = new Set<string>();
  const seenNode = new Set<string>();
  for (const p of ports) {
    const bad = invalidPort(p);
    if (bad) {
      skipped.push(bad);
      continue;
    }
    const ipKey = `${p.clusterIP} . ${p.protocol} . ${p.port}`;
    const nodeKey = p.nodePort !== undefined ? `${p.protocol} . ${p.nodePort}` : undefined;
    if (seenIp.has(ipKey) || (nodeKey && seenNode.has(nodeKey))) {
      skipped.push(`${p.namespace}/${p.name}: ${ipKey}${nodeKey ? ` or node port ${nodeKey}` : ""} already used by another service`);
      continue;
    }
    seenIp.add(ipKey);
    if (nodeKey) seenNode.add(nodeKey);
    // Unique endpoints, in the given order (the same ip:port twice would skew the balance).
    const eps = [...new Map(p.endpoints.map((e) => [`${e.ip}:${e.port}`, e])).values()];
    if (eps.length === 0) {
      maps.get("no-endpoint-services")!.push(`${ipKey} : goto reject-chain`);
      if (nodeKey) maps.get("no-endpoint-nodeports")!.push(`${nodeKey} : goto reject-chain`);
      continue;
    }
    const svc = serviceChainName(p);
    // Marked first: affinity hits `goto` an endpoint straight away and must be masqueraded too.
    const rules: string[] = [opts.masqueradeAll ? "jump mark-for-masquerade" : "fib saddr type local jump mark-for-masquerade"];
    for (const e of eps) {
      const ep = endpointChainName(p, e);
      const epRules: string[] = [e.remote && !opts.masqueradeAll ? "jump mark-for-masquerade" : `ip saddr ${e.ip} jump mark-for-masquerade`];
      if (p.affinitySeconds > 0) {
        const set = affinitySetName(p, e);
        sets.set(set, p.affinitySeconds);
        rules.push(`ip saddr @${set} goto ${ep}`);
        epRules.push(`update @${set} { ip saddr }`);
      }
      epRules.push(`meta l4proto ${p.protocol} dnat to ${e.ip}:${e.port}`);
      chains.set(ep, epRules);
    }
    rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${endpointChainName(p, e)}`).join(", ")} }`);
    chains.set(svc, rules);
    maps.get("service-ips")!.push(`${ipKey} : goto ${svc}`);
    if (nodeKey) {
      const ext = `ext-${svc.slice(4)}`;
      chains.set(ext, ["jump mark-for-masquerade", `goto ${svc}`]);
      maps.get("service-nodeports")!.push(`${nodeKey} : goto ${ext}`);
    }
  }
  return { ruleset: { table, chains, sets, maps }, skipped };
}

function sameRules(a: string[] | undefined, b: string[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((r, i) => r === b[i]);
}

/**
 * The one-transaction `nft -f -` script from `previous` (what the kernel holds, as last applied;
 * undefined = unknown) to `next`. With no previous, the table is deleted and rebuilt in the same
 * transaction (a stale table from a crash goes with it). Returns "" when nothing changed.
 */
export function syncScript(next: NftRuleset, previous?: NftRuleset): string {
  const t = `ip ${next.table}`;
  const out: string[] = [];
  const full = !previous || previous.table !== next.table;
  if (full) out.push(`add table ${t}`, `delete table ${t}`);
  out.push(`add table ${t}`);
  for (const [name, type] of Object.entries(MAPS)) out.push(`add map ${t} ${name} { type ${type} ; }`);
  for (const [name, timeout] of next.sets) {
    if (full || !previous!.sets.has(name)) out.push(`add set ${t} ${name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${timeout}s ; }`);
  }
  // Create every chain first (verdicts may point at chains written later in the script).
  for (const name of next.chains.keys()) {
    if (full || !previous!.chains.has(name)) {
      const header = BASE_CHAINS[name];
      out.push(header ? `add chain ${t} ${name} { ${header} }` : `add chain ${t} ${name}`);
    }
  }
  // Maps are refilled whole (verdicts to chains about to go are dropped first).
  let changed = full;
  for (const name of Object.keys(MAPS)) {
    const elems = next.maps.get(name) ?? [];
    if (!full && sameRules(previous!.maps.get(name) ?? [], elems)) continue;
    changed = true;
    if (!full) out.push(`flush map ${t} ${name}`);
    if (elems.length) out.push(`add element ${t} ${name} { ${elems.join(", ")} }`);
  }
  for (const [name, rules] of next.chains) {
    const before = full ? undefined : previous!.chains.get(name);
    if (before && sameRules(before, rules)) continue;
    changed = true;
    if (before) out.push(`flush chain ${t} ${name}`);
    for (const r of rules) out.push(`add rule ${t} ${name} ${r}`);
  }
  if (!full) {
    // Chains and sets no longer wanted: emptied first (rules may jump between them), then deleted.
    const gone = [...previous!.chains.keys()].filter((c) => !next.chains.has(c));
    for (const c of gone) out.push(`flush chain ${t} ${c}`);
    for (const c of gone) out.push(`delete chain ${t} ${c}`);
    for (const s of previous!.sets.keys()) if (!next.sets.has(s)) out.push(`delete set ${t} ${s}`);
    if (gone.length || [...previous!.sets.keys()].some((s) => !next.sets.has(s)) || [...next.sets.keys()].some((s) => !previous!.sets.has(s))) changed = true;
  }
  return changed ? out.join("\n") + "\n" : "";
}

/** The script that removes Berth's table if present (startup after a crash, shutdown). */
export function deleteTableScript(table = DEFAULT_TABLE): string {
  return `add table ip ${table}\ndelete table ip ${table}\n`;
}

/**
 * `conntrack -D` argument lists for UDP flows to endpoints a service port no longer has (compared
 * by ClusterIP/port and node port). NAT is decided once per flow, and a UDP "flow" is just a
 * source and destination pair that lives as long as packets keep coming: a client sending from the
 * same port would keep reaching the removed endpoint for as long as it talks.
 *
 * TCP (and SCTP) flows are left alone, as kube-proxy leaves them: a new connection is NAT'ed by
 * the rules as they are now, so it never reaches a removed endpoint, while a connection already
 * established keeps its endpoint. That is what lets a terminating pod, out of the Endpoints
 * but still running out its grace period, finish the requests and streams it has. Deleting such
 * a flow would not move it elsewhere: its next packet, taken up mid-stream by conntrack, would be
 * NAT'ed to another endpoint that knows nothing of the connection and answers with a reset.
 */
export function staleFlows(before: NftServicePort[], after: NftServicePort[]): string[][] {
  const key = (p: NftServicePort) => `${p.protocol} ${p.clusterIP} ${p.port} ${p.nodePort ?? ""}`;
  const now = new Map<string, Set<string>>();
  for (const p of after) now.set(key(p), new Set(p.endpoints.map((e) => `${e.ip}:${e.port}`)));
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const p of before) {
    if (p.protocol !== "udp") continue;
    const keep = now.get(key(p)) ?? new Set<string>();
    for (const e of p.endpoints) {
      if (keep.has(`${e.ip}:${e.port}`)) continue;
      const base = ["-D", "-p", p.protocol];
      const ep = ["--reply-src", e.ip, "--reply-port-src", String(e.port)];
      const a = [...base, "--orig-dst", p.clusterIP, "--orig-port-dst", String(p.port), ...ep];
      const k = a.join(" ");
      if (!seen.has(k)) (seen.add(k), out.push(a));
      if (p.nodePort !== undefined) {
        const b = [...base, "--orig-port-dst", String(p.nodePort), ...ep];
        const kb = b.join(" ");
        if (!seen.has(kb)) (seen.add(kb), out.push(b));
      }
    }
  }
  return out;
}
