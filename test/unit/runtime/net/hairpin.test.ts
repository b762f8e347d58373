/** ensureHairpin against recorded `ip -j` output: which bridge, which ports, and nothing else touched. */
import { describe, expect, it } from "vitest";
import { ensureHairpin } from "../../../../runtime/net/hairpin.ts";

const ADDRS = JSON.stringify([
  { ifname: "lo", addr_info: [{ family: "inet", local: "127.0.0.1" }] },
  { ifname: "docker0", addr_info: [{ family: "inet", local: "172.17.0.1" }] },
  { ifname: "br-2e03d539ad58", addr_info: [{ family: "inet", local: "10.213.0.1" }] },
]);
const port = (ifname: string, hairpin: boolean) => ({ ifname, linkinfo: { info_kind: "veth", info_slave_kind: "bridge", info_slave_data: { hairpin } } });

function fakeIp(ports: unknown[], failOn?: string) {
  const calls: string[][] = [];
  const runIp = async (args: string[]) => {
    calls.push(args);
    if (args.includes("addr")) return ADDRS;
    if (args.includes("master")) return JSON.stringify(ports);
    if (failOn && args.includes(failOn)) throw Object.assign(new Error("exit 1"), { stderr: `Cannot find device "${failOn}"` });
    return "";
  };
  return { calls, runIp };
}

describe("ensureHairpin", () => {
  it("turns hairpin on for the ports of the bridge holding the gateway that have it off", async () => {
    const ip = fakeIp([port("veth1", false), port("veth2", true), port("veth3", false)]);
    expect(await ensureHairpin("10.213.0.1", ip.runIp)).toEqual(["veth1", "veth3"]);
    expect(ip.calls).toContainEqual(["-j", "-d", "link", "show", "master", "br-2e03d539ad58"]);
    const sets = ip.calls.filter((c) => c[0] === "link" && c[1] === "set");
    expect(sets).toEqual([
      ["link", "set", "dev", "veth1", "type", "bridge_slave", "hairpin", "on"],
      ["link", "set", "dev", "veth3", "type", "bridge_slave", "hairpin", "on"],
    ]);
  });

  it("changes nothing when no device holds the gateway", async () => {
    const ip = fakeIp([port("veth1", false)]);
    expect(await ensureHairpin("10.250.0.1", ip.runIp)).toEqual([]);
    expect(ip.calls.filter((c) => c.includes("set"))).toEqual([]);
  });

  it("a port that went away meanwhile is not an error", async () => {
    const ip = fakeIp([port("veth1", false), port("veth2", false)], "veth1");
    expect(await ensureHairpin("10.213.0.1", ip.runIp)).toEqual(["veth2"]);
  });
});
