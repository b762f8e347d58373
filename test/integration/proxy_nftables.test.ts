/**
 * The nftables proxy mode against the real kernel: NftDataplane applies its rules with real
 * `nft` inside a private network namespace (the "node", with a bridge), and real TCP
 * connections go from that namespace (host-originated: the output hook) and from "pod"
 * namespaces on veth pairs (the prerouting hook) to ClusterIPs and node ports, reaching plain TCP
 * servers in other pod namespaces. Nothing here touches the host's own ruleset.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoints, Service } from "../../model/types.ts";
import { NftDataplane, runConntrack, runNftScript } from "../../runtime/proxy/nft_dataplane.ts";
import { ClusterIpAssigner } from "../../runtime/net/cluster_ip.ts";
import { DnsZone } from "../../runtime/dns/zone.ts";
import { NftLab } from "../helpers/nft_lab.ts";
import { ensureHairpin } from "../../runtime/net/hairpin.ts";

const lab = new NftLab();
let dp: NftDataplane;
let ep1: { ns: string; ip: string };
let ep2: { ns: string; ip: string };
let ep3: { ns: string; ip: string };
const stopServer = new Map<string, () => Promise<void>>();
let client: { ns: string; ip: string };
const logs: string[] = [];

function service(name: string, clusterIP: string, opts: { nodePort?: number; affinity?: boolean; protocol?: "TCP" | "UDP" } = {}): Service {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default" },
    spec: {
      clusterIP,
      type: opts.nodePort ? "NodePort" : "ClusterIP",
      ports: [{ port: 80, targetPort: 8080, protocol: opts.protocol ?? "TCP", ...(opts.nodePort ? { nodePort: opts.nodePort } : {}) }],
      ...(opts.affinity ? { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } } : {}),
    },
  } as Service;
}

function endpoints(name: string, ips: string[], protocol: "TCP" | "UDP" = "TCP"): Endpoints {
  return {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name, namespace: "default" },
    subsets: ips.length ? [{ addresses: ips.map((ip) => ({ ip })), ports: [{ port: 8080, protocol }] }] : [],
  } as Endpoints;
}

async function table(): Promise<{ nftables: Record<string, { name?: string; family?: string }>[] }> {
  return JSON.parse(await lab.exec(lab.node, "nft", "-j", "list", "table", "ip", "berth"));
}

const zone = new DnsZone("cluster.local");

beforeAll(async () => {
  await lab.create();
  ep1 = await lab.addPod("ep1");
  ep2 = await lab.addPod("ep2");
  client = await lab.addPod("client");
  ep3 = await lab.addPod("ep3");
  for (const [e, name] of [[ep1, "ep1"], [ep2, "ep2"], [ep3, "ep3"]] as const) stopServer.set(e.ns, await lab.serve(e.ns, 8080, name));
  // A stale table, as a crash would leave it: start() must replace it.
  await runNftScript("add table ip berth\nadd chain ip berth stale-from-a-crash\n", ["ip", "netns", "exec", lab.node]);
  dp = new NftDataplane({
    zone,
    assigner: new ClusterIpAssigner({ assign: true, runIp: async (args) => void (await lab.ipIn(lab.node, ...args)) }),
    dialTarget: (b) => ({ host: b.ip, port: b.port }),
    runNft: (s) => runNftScript(s, ["ip", "netns", "exec", lab.node]),
    conntrack: (a) => runConntrack(a, ["ip", "netns", "exec", lab.node]),
    hairpin: () => ensureHairpin(lab.gateway, (args) => lab.ipIn(lab.node, ...args)),
    log: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
  });
  await dp.start();
}, 60_000);

afterAll(async () => {
  await dp?.removeAll().catch(() => {});
  await lab.destroy();
}, 30_000);

describe("nftables proxy mode in a network namespace", () => {
  it("replaces a stale table at start", async () => {
    const t = await table();
    expect(t.nftables.some((o) => "chain" in o && (o as { chain: { name: string } }).chain.name === "stale-from-a-crash")).toBe(false);
    expect(t.nftables.some((o) => "chain" in o && (o as { chain: { name: string } }).chain.name === "nat-prerouting")).toBe(true);
  });

  it("ClusterIP: host-originated and pod traffic is DNAT'ed to both ready endpoints", async () => {
    await dp.apply(service("web", "10.96.0.10"), endpoints("web", [ep1.ip, ep2.ip]));
    const t = await table();
    const chains = t.nftables.flatMap((o) => ("chain" in o ? [(o as { chain: { name: string } }).chain.name] : []));
    expect(chains).toContain("svc-default/web/tcp/80");
    const fromHost = await lab.connect(lab.node, "10.96.0.10", 80, 30);
    expect(fromHost.errors).toEqual([]);
    expect(new Set(fromHost.replies)).toEqual(new Set(["ep1", "ep2"]));
    const fromPod = await lab.connect(client.ns, "10.96.0.10", 80, 30);
    expect(fromPod.errors).toEqual([]);
    expect(new Set(fromPod.replies)).toEqual(new Set(["ep1", "ep2"]));
    // Hairpin: an endpoint reaching its own service (and so, sometimes, itself). The lab's bridge
    // ports start without hairpin mode; the dataplane's sync turned it on.
    const hairpin = await lab.connect(ep1.ns, "10.96.0.10", 80, 20);
    expect(hairpin.errors).toEqual([]);
    expect(new Set(hairpin.replies)).toEqual(new Set(["ep1", "ep2"]));
  });

  it("a service made ExternalName loses its rules and is a CNAME in the zone", async () => {
    await dp.apply(service("turns", "10.96.0.18"), endpoints("turns", [ep1.ip]));
    expect((await lab.connect(client.ns, "10.96.0.18", 80, 3)).replies).toEqual(["ep1", "ep1", "ep1"]);
    const alias = { ...service("turns", "10.96.0.18"), spec: { type: "ExternalName", externalName: "db.example.com" } } as Service;
    await dp.apply(alias, endpoints("turns", []));
    const chains = (await table()).nftables.flatMap((o) => ("chain" in o ? [(o as { chain: { name: string } }).chain.name] : []));
    expect(chains.filter((c) => c.includes("default/turns"))).toEqual([]);
    expect(zone.lookup("turns.default.svc.cluster.local", "A")).toEqual([{ type: "CNAME", name: "turns.default.svc.cluster.local", ttl: 5, target: "db.example.com" }]);
  });

  it("NodePort: reached on the node's address from a pod and from the node itself", async () => {
    await dp.apply(service("np", "10.96.0.11", { nodePort: 30080 }), endpoints("np", [ep1.ip, ep2.ip]));
    const fromPod = await lab.connect(client.ns, lab.gateway, 30080, 20);
    expect(fromPod.errors).toEqual([]);
    expect(new Set(fromPod.replies)).toEqual(new Set(["ep1", "ep2"]));
    const fromNode = await lab.connect(lab.node, lab.gateway, 30080, 10);
    expect(fromNode.errors).toEqual([]);
    expect(fromNode.replies.length).toBe(10);
  });

  it("a service with no ready endpoint refuses connections at once (REJECT), on ClusterIP and node port", async () => {
    await dp.apply(service("empty", "10.96.0.12", { nodePort: 30081 }), endpoints("empty", []));
    // Something on the node listens on those ports: without the REJECT rules it would answer.
    await Promise.all([lab.serve(lab.node, 80, "node-80"), lab.serve(lab.node, 30081, "node-30081")]);
    for (const [ns, host, port] of [[lab.node, "10.96.0.12", 80], [client.ns, "10.96.0.12", 80], [client.ns, lab.gateway, 30081]] as const) {
      const r = await lab.connect(ns, host, port, 3);
      expect(r.replies).toEqual([]);
      for (const e of r.errors) {
        const [code, ms] = e.split(" ");
        expect(code).toBe("ECONNREFUSED");
        expect(Number(ms)).toBeLessThan(1000); // refused, not a timeout
      }
    }
  });

  it("ClientIP affinity: one client keeps its endpoint", async () => {
    await dp.apply(service("sticky", "10.96.0.13", { affinity: true }), endpoints("sticky", [ep1.ip, ep2.ip]));
    const r = await lab.connect(client.ns, "10.96.0.13", 80, 20);
    expect(r.errors).toEqual([]);
    expect(new Set(r.replies).size).toBe(1);
    const set = JSON.parse(await lab.exec(lab.node, "nft", "-j", "list", "set", "ip", "berth", `aff-default/sticky/tcp/80__${r.replies[0] === "ep1" ? ep1.ip : ep2.ip}/8080/30`));
    expect(JSON.stringify(set)).toContain(client.ip);
  });

  it("removing an endpoint: an established TCP connection to it keeps working (it drains), new connections avoid it", async () => {
    await dp.apply(service("drain", "10.96.0.14"), endpoints("drain", [ep2.ip]));
    const held = await lab.hold(lab.node, "10.96.0.14", 80);
    expect(held.reply).toBe("ep2");
    const flows = () => lab.exec(lab.node, "conntrack", "-L", "-p", "tcp", "--orig-dst", "10.96.0.14").catch((e: Error) => e.message);
    expect(await flows()).toContain(`src=${ep2.ip}`);
    // ep2 leaves the Endpoints (as a terminating pod does) but still runs. Before, its flow was
    // deleted here, and the connection's next packet was NAT'ed to ep1, which reset it.
    await dp.apply(service("drain", "10.96.0.14"), endpoints("drain", [ep1.ip]));
    expect(await held.ask("still there?")).toBe("ep2:still there?");
    const r = await lab.connect(lab.node, "10.96.0.14", 80, 10);
    expect(r.replies).toEqual(Array(10).fill("ep1"));
    expect(await held.ask("and now?")).toBe("ep2:and now?");
    held.close();
  });

  it("removing an endpoint of a UDP service: its conntrack flows are flushed, so a client on the same port moves to a ready endpoint", async () => {
    const stops = [await lab.serveUdp(ep1.ns, 8080, "ep1"), await lab.serveUdp(ep2.ns, 8080, "ep2")];
    try {
      await dp.apply(service("udp", "10.96.0.16", { protocol: "UDP" }), endpoints("udp", [ep2.ip], "UDP"));
      const c = await lab.udpClient(lab.node, "10.96.0.16", 80);
      expect(await c.ask()).toBe("ep2");
      const flows = () => lab.exec(lab.node, "conntrack", "-L", "-p", "udp", "--orig-dst", "10.96.0.16").catch((e: Error) => e.message);
      expect(await flows()).toContain(`src=${ep2.ip}`);
      await dp.apply(service("udp", "10.96.0.16", { protocol: "UDP" }), endpoints("udp", [ep1.ip], "UDP"));
      expect(await flows()).not.toContain(`src=${ep2.ip}`);
      // Without the flush, this datagram (same source port, same flow) would still go to ep2.
      expect(await c.ask()).toBe("ep1");
      c.close();
    } finally {
      for (const stop of stops) await stop();
    }
  });

  it("a UDP client that sent while the service had no endpoint reaches the first endpoint that appears, from the same port", async () => {
    const stop = await lab.serveUdp(ep1.ns, 8080, "ep1");
    try {
      await dp.apply(service("udp0", "10.96.0.17", { protocol: "UDP" }), endpoints("udp0", [], "UDP"));
      const c = await lab.udpClient(lab.node, "10.96.0.17", 80);
      expect(await c.ask()).toBe("timeout");
      await dp.apply(service("udp0", "10.96.0.17", { protocol: "UDP" }), endpoints("udp0", [ep1.ip], "UDP"));
      expect(await c.ask()).toBe("ep1");
      c.close();
    } finally {
      await stop();
    }
  });

  it("availability: no new connection fails while endpoints are taken out, killed and brought back (one always ready)", async () => {
    const svc = service("avail", "10.96.0.15");
    await dp.apply(svc, endpoints("avail", [ep1.ip, ep2.ip, ep3.ip]));
    // A client in a pod namespace makes new connections back to back while the endpoints change
    // (from its first connection until every change is done: a condition, not a time window).
    const loop = await lab.connectUntilStopped(client.ns, "10.96.0.15", 80);
    const started = Date.now();
    // Kubernetes' order: out of the Endpoints first, then the process dies; later it returns.
    for (const [gone, stays] of [[ep2, [ep1, ep3]], [ep1, [ep2, ep3]], [ep3, [ep1, ep2]]] as const) {
      await dp.apply(svc, endpoints("avail", stays.map((e) => e.ip)));
      await stopServer.get(gone.ns)!();
      const name = gone.ns.slice(gone.ns.lastIndexOf("-") + 1);
      stopServer.set(gone.ns, await lab.serve(gone.ns, 8080, name));
      await dp.apply(svc, endpoints("avail", [ep1.ip, ep2.ip, ep3.ip]));
    }
    const changesTook = Date.now() - started;
    const r = await loop.stop();
    expect(r.errors).toEqual([]);
    expect(new Set(r.replies)).toEqual(new Set(["ep1", "ep2", "ep3"]));
    console.log(`availability loop: ${r.replies.length} new connections, 0 failed, while 3 endpoints were removed, killed and restarted (${changesTook} ms)`);
  }, 60_000);

  it("removes a deleted service's chains in the same kind of transaction", async () => {
    await dp.remove("default", "drain");
    const chains = (await table()).nftables.flatMap((o) => ("chain" in o ? [(o as { chain: { name: string } }).chain.name] : []));
    expect(chains.filter((c) => c.includes("drain"))).toEqual([]);
    const r = await lab.connect(lab.node, "10.96.0.14", 80, 1);
    expect(r.replies).toEqual([]);
  });

  // Two clusters side by side on one host (`berth up` slots 0 and 1): tables berth and berth1
  // hook the same chains, each with its own services; neither's rules hide the other's, and one
  // shutting down leaves the other working.
  it("two clusters side by side: tables berth and berth1 each serve their own ClusterIPs; one going leaves the other", async () => {
    const other = new NftDataplane({
      zone: new DnsZone("cluster.local"),
      assigner: new ClusterIpAssigner({ assign: true, runIp: async (args) => void (await lab.ipIn(lab.node, ...args)) }),
      dialTarget: (b) => ({ host: b.ip, port: b.port }),
      table: "berth1",
      runNft: (s) => runNftScript(s, ["ip", "netns", "exec", lab.node]),
      conntrack: (a) => runConntrack(a, ["ip", "netns", "exec", lab.node]),
      hairpin: () => ensureHairpin(lab.gateway, (args) => lab.ipIn(lab.node, ...args)),
      log: (m, f) => logs.push(`berth1: ${m} ${JSON.stringify(f)}`),
    });
    try {
      await other.start();
      await dp.apply(service("mine", "10.96.0.20"), endpoints("mine", [ep1.ip]));
      // The same namespace/name in the other cluster, another ClusterIP, another endpoint; and a
      // service with no endpoint there (its REJECT must not touch the first cluster's traffic).
      await other.apply(service("mine", "10.97.0.20"), endpoints("mine", [ep2.ip]));
      await other.apply(service("empty", "10.97.0.21"), endpoints("empty", []));
      const tables = await lab.exec(lab.node, "nft", "list", "tables");
      expect(tables).toMatch(/table ip berth\n/);
      expect(tables).toMatch(/table ip berth1\n/);
      for (const from of [client.ns, lab.node]) {
        const a = await lab.connect(from, "10.96.0.20", 80, 10);
        const b = await lab.connect(from, "10.97.0.20", 80, 10);
        expect(a.errors, from).toEqual([]);
        expect(new Set(a.replies), from).toEqual(new Set(["ep1"]));
        expect(b.errors, from).toEqual([]);
        expect(new Set(b.replies), from).toEqual(new Set(["ep2"]));
      }
      // Both in the same host port space: ep1 reached through cluster 0 from its own pod (hairpin).
      expect(new Set((await lab.connect(ep1.ns, "10.96.0.20", 80, 5)).replies)).toEqual(new Set(["ep1"]));
      expect((await lab.connect(client.ns, "10.97.0.21", 80, 1)).errors[0]).toMatch(/^ECONNREFUSED/);
      await other.removeAll();
      expect(await lab.exec(lab.node, "nft", "list", "tables")).not.toMatch(/berth1/);
      const after = await lab.connect(client.ns, "10.96.0.20", 80, 10);
      expect(after.errors).toEqual([]);
      expect(after.replies.length).toBe(10);
      expect((await lab.connect(client.ns, "10.97.0.20", 80, 1)).replies).toEqual([]);
    } finally {
      await other.removeAll().catch(() => {});
      await dp.remove("default", "mine");
    }
  }, 60_000);

  it("removeAll deletes Berth's table and its ClusterIP addresses", async () => {
    await dp.removeAll();
    const tables = await lab.exec(lab.node, "nft", "list", "tables");
    expect(tables).not.toMatch(/berth/);
    expect(await lab.ipIn(lab.node, "addr", "show", "dev", "lo")).not.toMatch(/10\.96\./);
    expect(logs.filter((l) => /failed/.test(l))).toEqual([]);
  });
});
