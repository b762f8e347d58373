import { describe, expect, it } from "vitest";
import {
  desiredRuleset,
  invalidPort,
  staleFlows,
  syncScript,
  type NftRuleset,
  type NftServicePort,
} from "../../../actors/nft_rules.ts";

const web: NftServicePort = {
  namespace: "default",
  name: "web",
  protocol: "tcp",
  clusterIP: "10.96.0.10",
  port: 80,
  affinitySeconds: 0,
  endpoints: [{ ip: "172.18.0.2", port: 8080 }, { ip: "172.18.0.3", port: 8080 }],
};
const sticky: NftServicePort = {
  namespace: "shop",
  name: "cart",
  protocol: "tcp",
  clusterIP: "10.96.0.11",
  port: 8000,
  nodePort: 30080,
  affinitySeconds: 60,
  endpoints: [{ ip: "172.18.0.4", port: 9000 }],
};
const empty: NftServicePort = { namespace: "default", name: "db", protocol: "tcp", clusterIP: "10.96.0.12", port: 5432, nodePort: 30432, affinitySeconds: 0, endpoints: [] };

/**
 * A small model of what the kernel does with a script: one transaction over named chains, maps
 * and sets, refusing what nft refuses (a chain or set deleted while referenced or non-empty,
 * a goto to a chain that does not exist, an element added to a missing map).
 */
interface Kernel {
  chains: Map<string, string[]>;
  maps: Map<string, string[]>;
  sets: Map<string, string>;
}

function run(state: Kernel | undefined, script: string): Kernel | undefined {
  let k: Kernel | undefined = state && { chains: new Map([...state.chains].map(([n, r]) => [n, [...r]])), maps: new Map([...state.maps].map(([n, r]) => [n, [...r]])), sets: new Map(state.sets) };
  const fail = (line: string, why: string): never => {
    throw new Error(`${why}: ${line}`);
  };
  for (const line of script.split("\n").filter(Boolean)) {
    const w = line.split(" ");
    const [verb, kind] = w;
    const name = w[4];
    if (kind === "table") {
      if (verb === "add") k ??= { chains: new Map(), maps: new Map(), sets: new Map() };
      else if (verb === "delete") k = k ? undefined : fail(line, "no table");
      continue;
    }
    if (!k) fail(line, "no table");
    const t = k!;
    if (verb === "add" && kind === "chain") {
      if (!t.chains.has(name)) t.chains.set(name, []);
    } else if (verb === "add" && kind === "map") {
      if (!t.maps.has(name)) t.maps.set(name, []);
    } else if (verb === "add" && kind === "set") {
      if (!t.sets.has(name)) t.sets.set(name, line);
    } else if (verb === "flush" && kind === "map") {
      (t.maps.get(name) ?? fail(line, "no map")).length = 0;
    } else if (verb === "flush" && kind === "chain") {
      (t.chains.get(name) ?? fail(line, "no chain")).length = 0;
    } else if (verb === "add" && kind === "element") {
      const m = t.maps.get(name) ?? fail(line, "no map");
      m.push(...line.slice(line.indexOf("{") + 2, line.lastIndexOf("}") - 1).split(", "));
    } else if (verb === "add" && kind === "rule") {
      (t.chains.get(name) ?? fail(line, "no chain")).push(w.slice(5).join(" "));
    } else if (verb === "delete" && kind === "chain") {
      if ((t.chains.get(name) ?? fail(line, "no chain")).length) fail(line, "chain not empty");
      t.chains.delete(name);
    } else if (verb === "delete" && kind === "set") {
      if (!t.sets.delete(name)) fail(line, "no set");
    } else fail(line, "unknown command");
  }
  // End of transaction: every reference resolves.
  if (k) {
    const texts = [...[...k.chains.values()].flat(), ...[...k.maps.values()].flat()];
    for (const text of texts) {
      for (const m of text.matchAll(/(?:goto|jump) ([^\s,}]+)/g)) if (!k.chains.has(m[1])) fail(text, `missing chain ${m[1]}`);
      for (const m of text.matchAll(/@([^\s,}]+)/g)) if (!k.sets.has(m[1]) && !k.maps.has(m[1])) fail(text, `missing set ${m[1]}`);
    }
  }
  return k;
}

function canonical(k: Kernel | undefined) {
  if (!k) return undefined;
  const sortMap = (m: Map<string, string[]>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([n, v]) => [n, n.startsWith("svc-") || n.startsWith("ep-") ? v : [...v].sort()]));
  return { chains: sortMap(k.chains), maps: Object.fromEntries([...k.maps].map(([n, v]) => [n, [...v].sort()])), sets: [...k.sets.keys()].sort() };
}

/** A tiny seeded PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomPorts(r: () => number): NftServicePort[] {
  const out: NftServicePort[] = [];
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const eps = Math.floor(r() * 4);
    out.push({
      namespace: r() < 0.5 ? "default" : "ns-b",
      name: `svc-${Math.floor(r() * 4)}`,
      protocol: r() < 0.8 ? "tcp" : "udp",
      clusterIP: `10.96.0.${1 + Math.floor(r() * 4)}`,
      port: [80, 443, 8080][Math.floor(r() * 3)],
      ...(r() < 0.4 ? { nodePort: 30000 + Math.floor(r() * 3) } : {}),
      affinitySeconds: r() < 0.3 ? [10, 60][Math.floor(r() * 2)] : 0,
      endpoints: Array.from({ length: eps }, () => ({ ip: `172.18.0.${2 + Math.floor(r() * 5)}`, port: 8080 })),
    });
  }
  return out;
}

describe("nftables rules (pure generator)", () => {
  it("writes the golden script for a fresh table", async () => {
    const { ruleset, skipped } = desiredRuleset([web, sticky, empty]);
    expect(skipped).toEqual([]);
    await expect(syncScript(ruleset)).toMatchFileSnapshot("./__golden__/nft_full.nft");
  });

  it("balances with numgen over exactly the ready endpoints; masquerades host traffic and hairpin only", () => {
    const { ruleset } = desiredRuleset([web]);
    expect(ruleset.chains.get("svc-default/web/tcp/80")).toEqual([
      "fib saddr type local jump mark-for-masquerade",
      "numgen random mod 2 vmap { 0 : goto ep-default/web/tcp/80__172.18.0.2/8080, 1 : goto ep-default/web/tcp/80__172.18.0.3/8080 }",
    ]);
    expect(ruleset.chains.get("ep-default/web/tcp/80__172.18.0.3/8080")).toEqual([
      "ip saddr 172.18.0.3 jump mark-for-masquerade",
      "meta l4proto tcp dnat to 172.18.0.3:8080",
    ]);
    // Without br_netfilter every service packet is masqueraded; a remote endpoint always is.
    expect(desiredRuleset([web], "berth", { masqueradeAll: true }).ruleset.chains.get("svc-default/web/tcp/80")![0]).toBe("jump mark-for-masquerade");
    const remote = desiredRuleset([{ ...web, endpoints: [{ ip: "192.168.1.5", port: 32001, remote: true }] }]).ruleset;
    expect(remote.chains.get("ep-default/web/tcp/80__192.168.1.5/32001")![0]).toBe("jump mark-for-masquerade");
    expect(ruleset.maps.get("service-ips")).toEqual(["10.96.0.10 . tcp . 80 : goto svc-default/web/tcp/80"]);
  });

  it("ClientIP affinity: a timed set per endpoint, checked before the random pick and refreshed on use", () => {
    const { ruleset } = desiredRuleset([sticky]);
    const set = "aff-shop/cart/tcp/8000__172.18.0.4/9000/60";
    expect(ruleset.sets.get(set)).toBe(60);
    expect(ruleset.chains.get("svc-shop/cart/tcp/8000")![0]).toBe("fib saddr type local jump mark-for-masquerade"); // before affinity hits jump away
    expect(ruleset.chains.get("svc-shop/cart/tcp/8000")![1]).toBe(`ip saddr @${set} goto ep-shop/cart/tcp/8000__172.18.0.4/9000`);
    expect(ruleset.chains.get("ep-shop/cart/tcp/8000__172.18.0.4/9000")![1]).toBe(`update @${set} { ip saddr }`);
    expect(syncScript(ruleset)).toContain(`add set ip berth ${set} { type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; }`);
    // Node port traffic is always masqueraded (an external client's reply must come back here).
    expect(ruleset.maps.get("service-nodeports")).toEqual(["tcp . 30080 : goto ext-shop/cart/tcp/8000"]);
    expect(ruleset.chains.get("ext-shop/cart/tcp/8000")).toEqual(["jump mark-for-masquerade", "goto svc-shop/cart/tcp/8000"]);
  });

  it("a service without ready endpoints is rejected, on its ClusterIP and its node port", () => {
    const { ruleset } = desiredRuleset([empty]);
    expect(ruleset.maps.get("no-endpoint-services")).toEqual(["10.96.0.12 . tcp . 5432 : goto reject-chain"]);
    expect(ruleset.maps.get("no-endpoint-nodeports")).toEqual(["tcp . 30432 : goto reject-chain"]);
    expect(ruleset.maps.get("service-ips")).toEqual([]);
    expect([...ruleset.chains.keys()].some((c) => c.startsWith("svc-"))).toBe(false);
  });

  it("leaves out bad input with a reason instead of writing it into the script", () => {
    const bad = [
      { ...web, clusterIP: "10.96.0.1; flush ruleset" },
      { ...web, name: "Web Server" },
      { ...web, port: 70000 },
      { ...web, endpoints: [{ ip: "172.18.0.300", port: 80 }] },
      { ...web, affinitySeconds: -1 },
    ];
    for (const p of bad) expect(invalidPort(p)).toMatch(/^default\/|^default\/Web Server/);
    const { ruleset, skipped } = desiredRuleset([...bad, web]);
    expect(skipped).toHaveLength(5);
    expect(syncScript(ruleset)).not.toMatch(/flush ruleset|Web Server|70000|172\.18\.0\.300/);
    // A second service on the same ClusterIP/port is refused, not merged.
    expect(desiredRuleset([web, { ...web, name: "other" }]).skipped[0]).toMatch(/default\/other: .*already used/);
  });

  it("an unchanged sync writes nothing; a changed one touches only what changed", () => {
    const a = desiredRuleset([web, sticky]).ruleset;
    expect(syncScript(desiredRuleset([web, sticky]).ruleset, a)).toBe("");
    const b = desiredRuleset([{ ...web, endpoints: [web.endpoints[0]] }, sticky]).ruleset;
    const script = syncScript(b, a);
    expect(script).not.toMatch(/delete table/);
    expect(script).not.toMatch(/shop\/cart/); // the other service's chains and set are left alone
    expect(script).toContain("flush chain ip berth svc-default/web/tcp/80");
    expect(script).toContain("delete chain ip berth ep-default/web/tcp/80__172.18.0.3/8080");
  });

  it("property: any incremental script leads to the same table as a fresh build, with every reference resolved", () => {
    for (let seed = 1; seed <= 80; seed++) {
      const r = prng(seed);
      let kernel: Kernel | undefined;
      let applied: NftRuleset | undefined;
      for (let step = 0; step < 6; step++) {
        const next = desiredRuleset(randomPorts(r)).ruleset;
        const script = syncScript(next, applied);
        try {
          kernel = script ? run(kernel, script) : kernel;
          expect(canonical(kernel)).toEqual(canonical(run(undefined, syncScript(next))));
        } catch (e) {
          throw new Error(`seed ${seed} step ${step}: ${(e as Error).message}\n${script}`);
        }
        applied = next;
        // numgen's modulus is the number of distinct endpoints of each service chain.
        for (const [name, rules] of next.chains) {
          if (!name.startsWith("svc-")) continue;
          const pick = rules.at(-1)!;
          const n = Number(/mod (\d+)/.exec(pick)![1]);
          expect(pick.match(/ : goto /g)).toHaveLength(n);
        }
      }
    }
  });

  it("stale flows: removed endpoints of a UDP port, on the ClusterIP and the node port", () => {
    const dns: NftServicePort = { ...sticky, name: "dns", protocol: "udp" };
    const udpWeb: NftServicePort = { ...web, protocol: "udp" };
    const after = [{ ...dns, endpoints: [] }, udpWeb];
    expect(staleFlows([dns, udpWeb], after)).toEqual([
      ["-D", "-p", "udp", "--orig-dst", "10.96.0.11", "--orig-port-dst", "8000", "--reply-src", "172.18.0.4", "--reply-port-src", "9000"],
      ["-D", "-p", "udp", "--orig-port-dst", "30080", "--reply-src", "172.18.0.4", "--reply-port-src", "9000"],
    ]);
    expect(staleFlows([udpWeb], [udpWeb])).toEqual([]);
    // A deleted service: all its flows go.
    expect(staleFlows([udpWeb], [])).toHaveLength(2);
  });

  it("stale flows: TCP and SCTP connections keep their endpoint (a terminating pod drains them), as kube-proxy leaves them", () => {
    const sctp: NftServicePort = { ...web, name: "assoc", protocol: "sctp" };
    expect(staleFlows([sticky, web, sctp], [{ ...sticky, endpoints: [] }])).toEqual([]);
    expect(staleFlows([web], [{ ...web, endpoints: web.endpoints.slice(1) }])).toEqual([]);
  });
});
