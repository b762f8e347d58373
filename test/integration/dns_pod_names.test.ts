/**
 * Per-pod DNS names on real Docker and a real API (nats-server + KV): a headless service and a
 * pod with `hostname`/`subdomain`, as a StatefulSet makes them. The service controller writes the
 * Endpoints (with the address's `hostname`), the service proxy's DNS follows them on the bridge
 * gateway, and a second pod resolves `<hostname>.<service>.<ns>.svc.cluster.local` through
 * Docker's resolver like any pod would; inside the named pod, `hostname -f` prints its FQDN.
 *
 * The test uses a Docker network of its own (unique name and /24), so its DNS can take port 53 on
 * that gateway beside other clusters on this machine. Everything is removed afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import Docker from "dockerode";
import dns2 from "dns2";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { cleanupNode, requireDocker, uniqueNodeName } from "../helpers/docker.ts";
import { DockerRuntime } from "../../runtime/containers/docker.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import { startServiceController, type ServiceController } from "../../runtime/service_controller.ts";
import { startServiceProxy, type ServiceProxy } from "../../runtime/service_proxy.ts";
import type { Pod } from "../../model/types.ts";

const { Packet } = dns2;
const octet = 1 + Math.floor(Math.random() * 250);
const NETWORK = { name: `berth-dnsnames-${process.pid}`, subnet: `10.216.${octet}.0/24`, gateway: `10.216.${octet}.1` };
const SLEEP = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1; done"];

/** One query from the host to the cluster DNS on loopback: the rcode and the answers. */
function query(port: number, name: string, type: number): Promise<{ rcode: number; answers: { address?: string; target?: string; port?: number }[] }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => (sock.close(), reject(new Error(`no DNS answer for ${name}`))), 2000);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      const p = Packet.parse(m);
      resolve({ rcode: p.header.rcode, answers: p.answers as never });
    });
    const q = new Packet();
    q.questions.push({ name, type, class: Packet.CLASS.IN } as never);
    sock.send(q.toBuffer(), port, "127.0.0.1");
  });
}

describe("per-pod DNS names and hostnames on Docker", () => {
  let t: TestApi;
  let controller: ServiceController;
  let proxy: ServiceProxy;
  let agent: NodeAgent;
  let rt: DockerRuntime;
  const node = uniqueNodeName("dnsn");

  const running = (name: string) =>
    waitFor(async () => {
      const p = await t.api.get("pods", name, "default");
      return p.status?.phase === "Running" && p.status.podIP ? p : undefined;
    }, `pod ${name} Running`, 60_000, 200);

  beforeAll(async () => {
    expect(process.getuid?.(), "the cluster DNS listens on port 53 of the test's bridge gateway, which needs root").toBe(0);
    await requireDocker();
    rt = new DockerRuntime({ network: NETWORK });
    await rt.ensureNetwork();
    t = await startTestApi();
    controller = await startServiceController(t.api, { clusterCidr: `10.153.${octet}.0/24` });
    proxy = await startServiceProxy({
      client: t.api,
      dnsAddresses: [{ host: "127.0.0.1", port: 0 }, { host: NETWORK.gateway, port: 53 }],
      assignClusterIps: false,
      nodeName: node,
    });
    agent = await startNodeAgent({
      client: t.api,
      runtime: rt,
      name: node,
      heartbeatIntervalMs: 1000,
      resyncMs: 2000,
      dns: { servers: [NETWORK.gateway], search: [] },
    });
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "http" }] },
    });
    const pod = (name: string, labels: Record<string, string>, spec: Partial<Pod["spec"]> = {}): Pod => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", labels },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: "berth/busybox", command: SLEEP, ports: [{ name: "http", containerPort: 8080 }] }],
        ...spec,
      },
    });
    await t.api.create("pods", pod("web-0", { app: "web" }, { hostname: "web-0", subdomain: "web" }));
    await t.api.create("pods", pod("client", { app: "client" }));
  }, 120_000);

  afterAll(async () => {
    await agent?.shutdown({ removePods: true }).catch(() => {});
    await proxy?.stop();
    await controller?.stop();
    await cleanupNode(node);
    await new Docker().getNetwork(NETWORK.name).remove().catch(() => {});
    await t?.stop();
  }, 120_000);

  it("writes the pod's hostname into the headless service's Endpoints", async () => {
    const web = await running("web-0");
    const ep = await waitFor(async () => {
      const e = await t.api.get("endpoints", "web", "default").catch(() => undefined);
      return e?.subsets?.[0]?.addresses?.length ? e : undefined;
    }, "a ready address for web", 60_000, 200);
    expect(ep.subsets![0].addresses).toEqual([expect.objectContaining({ ip: web.status!.podIP, hostname: "web-0" })]);
    expect(ep.subsets![0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
  });

  it("another pod resolves <hostname>.<service>.<ns>.svc.cluster.local to the pod's IP", async () => {
    const web = await running("web-0");
    const client = await running("client");
    const ip = web.status!.podIP!;
    const r = await waitFor(async () => {
      const out = await podExec(rt, client, "c", ["nslookup", "web-0.web.default.svc.cluster.local"], 10_000);
      return out.stdout.includes(`Address: ${ip}`) ? out : undefined;
    }, "web-0.web.default.svc.cluster.local to resolve inside the client pod", 30_000, 300);
    expect(r.stdout).toMatch(/Name:\s+web-0\.web\.default\.svc\.cluster\.local/);
    // The short form a pod uses, through its resolver's search list (busybox's nslookup sends a
    // dotted name as it is; ping resolves with the C library, which applies the search list).
    const short = await podExec(rt, client, "c", ["ping", "-c", "1", "-W", "1", "web-0.web"], 10_000);
    expect(short.stdout + short.stderr).toContain(`(${ip})`);
    // SRV for the named port: one record per endpoint, with the pod's name and the container port.
    const srv = await podExec(rt, client, "c", ["nslookup", "-type=SRV", "_http._tcp.web.default.svc.cluster.local"], 10_000);
    expect(srv.stdout).toMatch(/8080 web-0\.web\.default\.svc\.cluster\.local/);
    // The pod's own record under <ns>.pod.
    const dashed = `${ip.replaceAll(".", "-")}.default.pod.cluster.local`;
    expect((await podExec(rt, client, "c", ["nslookup", dashed], 10_000)).stdout).toContain(`Address: ${ip}`);
  });

  it("answers NXDOMAIN for a name under the service that no endpoint has, and under a service that does not exist", async () => {
    await running("web-0");
    await waitFor(async () => (await query(proxy.dnsPort, "web-0.web.default.svc.cluster.local", Packet.TYPE.A)).answers.length === 1, "the name on the host's DNS address", 30_000, 200);
    expect((await query(proxy.dnsPort, "web-9.web.default.svc.cluster.local", Packet.TYPE.A)).rcode).toBe(Packet.RCODE.NXDOMAIN);
    expect((await query(proxy.dnsPort, "web-0.nope.default.svc.cluster.local", Packet.TYPE.A)).rcode).toBe(Packet.RCODE.NXDOMAIN);
  });

  it("inside the pod, hostname is spec.hostname and hostname -f its FQDN under the subdomain", async () => {
    const web = await running("web-0");
    const h = await podExec(rt, web, "c", ["hostname"], 10_000);
    expect(h.stdout.trim()).toBe("web-0");
    const f = await podExec(rt, web, "c", ["hostname", "-f"], 10_000);
    expect(f.stdout.trim()).toBe("web-0.web.default.svc.cluster.local");
    const hosts = await podExec(rt, web, "c", ["cat", "/etc/hosts"], 10_000);
    expect(hosts.stdout).toMatch(new RegExp(`^${web.status!.podIP!.replaceAll(".", "\\.")}\\s+web-0\\.web\\.default\\.svc\\.cluster\\.local\\s+web-0$`, "m"));
    // A pod without a subdomain keeps its bare name.
    const client = await running("client");
    expect((await podExec(rt, client, "c", ["hostname", "-f"], 10_000)).stdout.trim()).toBe("client");
  });
});
