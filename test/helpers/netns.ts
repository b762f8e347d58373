/**
 * "Machines" on one machine, for the multi-machine end-to-end test: network namespaces joined
 * by a private switch, with addresses only in 10.250.0.0/24 and only on interfaces created here.
 *
 *   netns berth-h1 (eth0 10.250.0.1) ─┐
 *   netns berth-h2 (eth0 10.250.0.2) ─┼─ bridge br0 in netns berth-sw ─ veth ─ root ns: berth-mm0
 *   netns berth-h3 (eth0 10.250.0.3) ─┘                                       10.250.0.254/24
 *                                                                             10.250.0.11-13/32
 *
 * Why the switch lives in its own namespace: this machine loads br_netfilter and Docker sets the
 * root namespace's FORWARD policy to DROP, so a bridge in the root namespace would drop the
 * hosts' traffic unless the firewall were changed. A fresh namespace has empty tables.
 *
 * Why the advertise addresses (10.250.0.1N) sit in the root namespace: the hosts share this
 * machine's one Docker engine, which publishes pod ports in the root namespace, so each host's
 * "Docker address" must be a root-namespace address reachable from every host over the switch.
 *
 * Everything is removed by `destroy()` (idempotent; also run for leftovers before creating).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderNatsClusterConfigs } from "../../runtime/nats/cluster_config.ts";

export const SUBNET = "10.250.0";
export const SWITCH_NS = "berth-sw";
export const ROOT_LINK = "berth-mm0";

export interface Topology {
  hosts: { ns: string; ip: string; advertise: string }[];
  rootIp: string;
  destroy(): void;
}

function ip(args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 10_000 });
}

function ipQuiet(args: string[]): void {
  spawnSync("ip", args, { stdio: "ignore", timeout: 10_000 });
}

/** Names of the host namespaces for `n` hosts. */
export function hostNamespaces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `berth-h${i + 1}`);
}

/** Removes everything `createTopology(n)` may have created (ignores what is absent). */
export function destroyTopology(n: number): void {
  ipQuiet(["link", "del", ROOT_LINK]); // also removes its peer and the addresses on it
  for (const ns of [...hostNamespaces(n), SWITCH_NS]) ipQuiet(["netns", "del", ns]);
}

/** Creates the namespaces, the switch and the root link. Fails loudly without root or iproute2. */
export function createTopology(n: number): Topology {
  destroyTopology(n);
  const hosts = hostNamespaces(n).map((ns, i) => ({ ns, ip: `${SUBNET}.${i + 1}`, advertise: `${SUBNET}.${11 + i}` }));
  try {
    ip(["netns", "add", SWITCH_NS]);
    ip(["-n", SWITCH_NS, "link", "add", "br0", "type", "bridge"]);
    ip(["-n", SWITCH_NS, "link", "set", "br0", "up"]);
    for (const h of hosts) {
      const port = `sw-${h.ns.replace("berth-", "")}`;
      ip(["netns", "add", h.ns]);
      ip(["-n", h.ns, "link", "set", "lo", "up"]);
      ip(["-n", h.ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", SWITCH_NS]);
      ip(["-n", SWITCH_NS, "link", "set", port, "master", "br0", "up"]);
      ip(["-n", h.ns, "addr", "add", `${h.ip}/24`, "dev", "eth0"]);
      ip(["-n", h.ns, "link", "set", "eth0", "up"]);
    }
    ip(["link", "add", ROOT_LINK, "type", "veth", "peer", "name", "uplink", "netns", SWITCH_NS]);
    ip(["-n", SWITCH_NS, "link", "set", "uplink", "master", "br0", "up"]);
    ip(["addr", "add", `${SUBNET}.254/24`, "dev", ROOT_LINK]);
    for (const h of hosts) ip(["addr", "add", `${h.advertise}/32`, "dev", ROOT_LINK]);
    ip(["link", "set", ROOT_LINK, "up"]);
  } catch (e) {
    destroyTopology(n);
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`cannot build the network namespaces (needs root and iproute2): ${stderr || (e as Error).message}`, { cause: e });
  }
  return { hosts, rootIp: `${SUBNET}.254`, destroy: () => destroyTopology(n) };
}

/** The argv prefix that runs a command inside namespace `ns`. */
export function inNs(ns: string, argv: string[]): [string, string[]] {
  return ["ip", ["netns", "exec", ns, ...argv]];
}

/**
 * One nats-server per host of the topology, as a JetStream cluster: writes each server's
 * configuration (what `berth nats-config` writes, stores under `dir`) and returns what to start
 * in which namespace, plus the client URLs. The caller spawns them (`inNs`).
 */
export function natsClusterOn(topo: Topology, dir: string, cluster: string): { servers: { name: string; ns: string; argv: string[] }[]; urls: string[] } {
  const confs = renderNatsClusterConfigs({
    cluster,
    servers: topo.hosts.map((h, i) => ({ host: h.ip, port: 4222, clusterPort: 6222, name: `nats-${i + 1}` })),
    storeDir: join(dir, "{name}"),
  });
  const servers = [...confs].map(([name, text], i) => {
    const path = join(dir, `${name}.conf`);
    writeFileSync(path, text);
    return { name, ns: topo.hosts[i].ns, argv: ["nats-server", "-c", path] };
  });
  return { servers, urls: topo.hosts.map((h) => `nats://${h.ip}:4222`) };
}
