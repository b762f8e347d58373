/**
 * The nftables column of bench/proxy.ts: a private pair of network namespaces, so the kernel
 * rules never touch this machine's own ruleset.
 *
 *   netns …-client (10.246.0.2) ── veth ── netns …-node ── veth ── netns …-pod (eth0 10.245.0.2)
 *     wrk runs here, as a pod       (10.246.0.1, 10.245.0.1)      the upstreams run here (the same
 *     would, routed through the     Berth's NftDataplane writes    HAProxy "answer by itself" and
 *     node                          `table ip berth` here;         busybox httpd as the loopback
 *                                   ClusterIPs 10.96.0.10/11       columns)
 *                                   DNAT'ed to the pod's ports
 *
 * "direct (netns)" is wrk → 10.245.0.2 along the same path (routed by the node, no service rule
 * hit), so nftables/direct(netns) is the cost of the rules alone. The Service's endpoint is the
 * pod's second address, 10.245.0.3 (see SVC_POD_IP for why).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Endpoints, Service } from "../model/types.ts";
import { NftDataplane, runConntrack, runNftScript } from "../runtime/proxy/nft_dataplane.ts";
import { ClusterIpAssigner } from "../runtime/net/cluster_ip.ts";
import { DnsZone } from "../runtime/dns/zone.ts";

const POD_IP = "10.245.0.2";
/**
 * The address the Service's endpoints name: a second address of the same pod interface, so the
 * "direct (netns)" row and the nftables row never share a pod-side TCP 4-tuple. Why this matters
 * (found for issue 20): with `Connection: close` the pod closes first and keeps ~28 K TIME_WAIT
 * sockets (client:port → pod:8080) for 60 s. The client's TCP timestamps carry an offset hashed
 * from (source, destination) — toward the ClusterIP it differs from the offset toward the pod IP —
 * so a SYN DNAT'ed onto a 4-tuple the direct run left in TIME_WAIT carries an unrelated timestamp,
 * the pod rejects it under PAWS (`nstat`: TcpExtPAWSTimewait) and the client waits out a 1 s SYN
 * retransmit (TcpExtTCPSynRetrans). The nftables row then measured the previous row's leftovers:
 * 0.19–0.41× direct. `sharedPodAddress` puts the old setup back to show it.
 */
const SVC_POD_IP = "10.245.0.3";

export interface NftBench {
  /** Prefix that runs a command in the client namespace. */
  exec: string[];
  direct: { url: string; bulkUrl: string };
  nftables: { url: string; bulkUrl: string };
  stop(): Promise<void>;
}

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "inherit"], timeout: 10_000 });
}

function svc(name: string, clusterIP: string, target: number, podIp: string): [Service, Endpoints] {
  return [
    { apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { clusterIP, ports: [{ port: 80, targetPort: target, protocol: "TCP" }] } } as Service,
    { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace: "default" }, subsets: [{ addresses: [{ ip: podIp }], ports: [{ port: target, protocol: "TCP" }] }] } as Endpoints,
  ];
}

/** Sets up the namespaces, upstreams and rules; `haproxyCfg(port)` is the upstream's config. */
export async function startNftBench(haproxyCfgPath: string, www: string, waitListening: (exec: string[], host: string, port: number) => Promise<void>, opts: { sharedPodAddress?: boolean } = {}): Promise<NftBench> {
  const endpointIp = opts.sharedPodAddress ? POD_IP : SVC_POD_IP;
  const id = randomBytes(3).toString("hex");
  const node = `berth-bench-${id}-node`;
  const pod = `berth-bench-${id}-pod`;
  const cli = `berth-bench-${id}-client`;
  const children: ChildProcess[] = [];
  let dp: NftDataplane | undefined;
  const stop = async () => {
    await dp?.removeAll().catch(() => {});
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : undefined)));
    for (const ns of [cli, pod, node]) {
      try {
        ip("netns", "del", ns);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    ip("netns", "add", node);
    ip("netns", "add", pod);
    ip("netns", "add", cli);
    ip("-n", cli, "link", "set", "lo", "up");
    ip("-n", node, "link", "add", "veth1", "type", "veth", "peer", "name", "eth0", "netns", cli);
    ip("-n", node, "addr", "add", "10.246.0.1/24", "dev", "veth1");
    ip("-n", node, "link", "set", "veth1", "up");
    ip("-n", cli, "addr", "add", "10.246.0.2/24", "dev", "eth0");
    ip("-n", cli, "link", "set", "eth0", "up");
    ip("-n", cli, "route", "add", "default", "via", "10.246.0.1");
    execFileSync("ip", ["netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    ip("-n", node, "link", "set", "lo", "up");
    ip("-n", pod, "link", "set", "lo", "up");
    ip("-n", node, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", pod);
    ip("-n", node, "addr", "add", "10.245.0.1/24", "dev", "veth0");
    ip("-n", node, "link", "set", "veth0", "up");
    ip("-n", pod, "addr", "add", `${POD_IP}/24`, "dev", "eth0");
    if (endpointIp !== POD_IP) ip("-n", pod, "addr", "add", `${endpointIp}/24`, "dev", "eth0");
    ip("-n", pod, "link", "set", "eth0", "up");
    ip("-n", pod, "route", "add", "default", "via", "10.245.0.1");
    const inPod = ["ip", "netns", "exec", pod];
    children.push(spawn(inPod[0], [...inPod.slice(1), "haproxy", "-db", "-f", haproxyCfgPath], { stdio: ["ignore", "ignore", "inherit"] }));
    children.push(spawn(inPod[0], [...inPod.slice(1), "busybox", "httpd", "-f", "-p", "0.0.0.0:8081", "-h", www], { stdio: "ignore" }));
    const exec = ["ip", "netns", "exec", node];
    const clientExec = ["ip", "netns", "exec", cli];
    await waitListening(exec, POD_IP, 8080);
    await waitListening(exec, POD_IP, 8081);
    dp = new NftDataplane({
      zone: new DnsZone("cluster.local"),
      assigner: new ClusterIpAssigner({ assign: true, runIp: async (a) => ip("-n", node, ...a) }),
      dialTarget: (b) => ({ host: b.ip, port: b.port }),
      runNft: (s) => runNftScript(s, exec),
      conntrack: (a) => runConntrack(a, exec),
      log: () => {},
    });
    await dp.start();
    await dp.apply(...svc("bench", "10.96.0.10", 8080, endpointIp));
    await dp.apply(...svc("bench-bulk", "10.96.0.11", 8081, endpointIp));
    return {
      exec: clientExec,
      direct: { url: `http://${POD_IP}:8080/`, bulkUrl: `http://${POD_IP}:8081/big` },
      nftables: { url: "http://10.96.0.10/", bulkUrl: "http://10.96.0.11/big" },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
