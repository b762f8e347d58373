/**
 * Hairpin mode on the ports of a pod bridge (kubelet's "hairpin-veth"), for the nftables proxy
 * mode: a pod that reaches its own Service may be DNAT'ed back to itself. With br_netfilter
 * (`bridge-nf-call-iptables=1`, as on Docker hosts) the DNAT happens as the frame is bridged, and
 * the rewritten frame must leave through the very port it came in on — which a bridge refuses
 * unless that port is in hairpin mode. The rules also masquerade such traffic (`ip saddr
 * <endpoint>` in the endpoint chain), so the reply comes back through the node's conntrack.
 *
 * The bridge is found by its address (the pods' gateway), so Docker's generated device names
 * (`br-<id>`) need not be known. Only ports of that bridge are changed. Uses `ip`, so a caller can
 * run it inside a network namespace (`runIp` with an `ip -n NS` prefix).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

/** Runs `ip <args>` and returns stdout. */
export type RunIp = (args: string[]) => Promise<string>;

const defaultRunIp: RunIp = async (args) => (await execFileP("ip", args, { timeout: 10_000 })).stdout;

interface IpAddr {
  ifname: string;
  addr_info?: { family?: string; local?: string }[];
}

interface IpLink {
  ifname: string;
  linkinfo?: { info_slave_kind?: string; info_slave_data?: { hairpin?: boolean } };
}

/** The device holding IPv4 address `gateway` (undefined when none does). */
export async function deviceWithAddress(gateway: string, runIp: RunIp = defaultRunIp): Promise<string | undefined> {
  const addrs = JSON.parse(await runIp(["-j", "-4", "addr", "show"])) as IpAddr[];
  return addrs.find((a) => a.addr_info?.some((i) => i.local === gateway))?.ifname;
}

/**
 * Puts every port of the bridge that holds `gateway` in hairpin mode; returns the ports it
 * changed. A gateway no device holds (no pods yet, the network not created) changes nothing.
 */
export async function ensureHairpin(gateway: string, runIp: RunIp = defaultRunIp): Promise<string[]> {
  const bridge = await deviceWithAddress(gateway, runIp);
  if (!bridge) return [];
  const ports = JSON.parse(await runIp(["-j", "-d", "link", "show", "master", bridge])) as IpLink[];
  const off = ports.filter((p) => p.linkinfo?.info_slave_kind === "bridge" && p.linkinfo.info_slave_data?.hairpin === false).map((p) => p.ifname);
  const changed: string[] = [];
  for (const port of off) {
    try {
      await runIp(["link", "set", "dev", port, "type", "bridge_slave", "hairpin", "on"]);
      changed.push(port);
    } catch (e) {
      // The port went away meanwhile (its pod stopped): nothing to do for it.
      if (!/Cannot find device|does not exist/.test(String((e as { stderr?: string }).stderr ?? (e as Error).message))) throw e;
    }
  }
  return changed;
}
