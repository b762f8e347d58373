/**
 * The seed example end to end on real Docker: a real API (nats-server + KV), the control plane
 * (scheduler, RC controller), a node agent on Docker, and the service proxy (cluster DNS on
 * loopback and on the bridge gateway, ClusterIPs on lo, TCP proxies).
 *
 * The test uses a Docker network of its own (unique name and /24) so that its DNS can take port
 * 53 on that gateway without colliding with another cluster on this machine, and a ClusterIP
 * range of its own. Everything is removed afterwards (containers by node label, the network).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import http from "node:http";
import { readFileSync } from "node:fs";
import Docker from "dockerode";
import dns2 from "dns2";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import { cleanupNode, requireDocker, uniqueNodeName } from "../helpers/docker.ts";
import { DockerRuntime } from "../../runtime/containers/docker.ts";
import { startControlPlane, type ControlPlane } from "../../runtime/control_plane.ts";
import { startNodeAgent, type NodeAgent } from "../../runtime/kubelet/agent.ts";
import { podExec } from "../../runtime/kubelet/pod_containers.ts";
import { startServiceProxy, type ServiceProxy } from "../../runtime/service_proxy.ts";
import { parseManifests } from "../../runtime/api/manifest.ts";
import type { Pod } from "../../model/types.ts";

const { Packet } = dns2;
const octet = 1 + Math.floor(Math.random() * 250);
const NETWORK = { name: `berth-svc-e2e-${process.pid}`, subnet: `10.214.${octet}.0/24`, gateway: `10.214.${octet}.1` };
const CLUSTER_CIDR = `10.98.${octet}.0/24`;

function resolveA(port: number, name: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => (sock.close(), reject(new Error(`no DNS answer for ${name}`))), 2000);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      resolve(Packet.parse(m).answers.map((a) => a.address!).filter(Boolean));
    });
    const q = new Packet();
    q.questions.push({ name, type: Packet.TYPE.A, class: Packet.CLASS.IN } as never);
    sock.send(q.toBuffer(), port, "127.0.0.1");
  });
}

/** One HTTP GET on a fresh connection (no keep-alive: every request goes through the proxy's balancing). */
function get(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

describe("services on Docker: the seed example", () => {
  let t: TestApi;
  let cp: ControlPlane;
  let agent: NodeAgent;
  let proxy: ServiceProxy;
  let rt: DockerRuntime;
  const node = uniqueNodeName("svc");

  beforeAll(async () => {
    expect(process.getuid?.(), "the services e2e test assigns ClusterIPs on lo and needs root").toBe(0);
    await requireDocker();
    rt = new DockerRuntime({ network: NETWORK });
    await rt.ensureNetwork();
    t = await startTestApi();
    proxy = await startServiceProxy({
      client: t.api,
      dnsAddresses: [{ host: "127.0.0.1", port: 0 }, { host: NETWORK.gateway, port: 53 }],
      assignClusterIps: true,
      nodeName: node,
    });
    cp = await startControlPlane({ client: t.api, services: { clusterCidr: CLUSTER_CIDR }, log: (m, f) => process.env.DEBUG_E2E && console.log("cp", m, JSON.stringify(f)) });
    agent = await startNodeAgent({
      client: t.api,
      runtime: rt,
      name: node,
      heartbeatIntervalMs: 1000,
      resyncMs: 2000,
      dns: { servers: [NETWORK.gateway], search: [] },
    });
    for (const d of parseManifests(readFileSync(new URL("../../examples/myapp.yaml", import.meta.url), "utf8"), "examples/myapp.yaml")) {
      await t.api.create(d.resource, { ...d.object, metadata: { ...(d.object.metadata as object), namespace: "default" } });
    }
  }, 120_000);

  afterAll(async () => {
    await agent?.shutdown({ removePods: true }).catch(() => {});
    await cp?.stop();
    await proxy?.stop();
    await cleanupNode(node);
    await new Docker().getNetwork(NETWORK.name).remove().catch(() => {});
    await t?.stop();
  }, 120_000);

  const readyBackends = async () => {
    const ep = await t.api.get("endpoints", "backend-service", "default").catch(() => undefined);
    return ep?.subsets?.flatMap((s) => s.addresses ?? []) ?? [];
  };

  it("the frontend pod reaches http://backend-service/ by name and requests spread over all 3 backends", async () => {
    await waitFor(async () => (await readyBackends()).length === 3, "3 ready backends", 60_000, 200);
    if (process.env.DEBUG_E2E) console.log("3 backends", Date.now());
    const frontend = await waitFor(async () => {
      const p = await t.api.get("pods", "frontend", "default");
      if (process.env.DEBUG_E2E) console.log("frontend", JSON.stringify(p.spec.nodeName), JSON.stringify(p.status));
      return p.status?.phase === "Running" ? p : undefined;
    }, "frontend running", 60_000, 200);
    if (process.env.DEBUG_E2E) console.log("frontend running", Date.now());
    const names = new Set<string>();
    await waitFor(async () => {
      const r = await podExec(rt, frontend as Pod, "client", ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9; do wget -qO- http://backend-service/; done"], 20_000);
      if (process.env.DEBUG_E2E) console.log("frontend exec", r.exitCode, JSON.stringify(r.stdout), JSON.stringify(r.stderr));
      for (const line of r.stdout.split("\n")) if (line.trim()) names.add(line.trim());
      return names.size >= 3;
    }, "answers from all 3 backends inside the frontend", 30_000, 200);
    const pods = (await t.api.list("pods", { namespace: "default", labelSelector: "tier=backend" })).items.map((p) => p.metadata.name);
    expect([...names].sort()).toEqual(pods.sort());
  });

  it("from the host, the name resolves through the cluster DNS to the ClusterIP, which answers", async () => {
    const svc = await t.api.get("services", "backend-service", "default");
    expect(svc.spec.clusterIP).toMatch(new RegExp(`^10\\.98\\.${octet}\\.`));
    expect(await resolveA(proxy.dnsPort, "backend-service")).toEqual([svc.spec.clusterIP]);
    const backends = (await readyBackends()).map((a) => a.targetRef!.name);
    expect(backends).toContain(await get(svc.spec.clusterIP!, 80));
  });

  it("killing a backend while a client loops: no request fails while an endpoint is ready", async () => {
    const ip = (await t.api.get("services", "backend-service", "default")).spec.clusterIP!;
    const victim = (await readyBackends())[0].targetRef!.name;
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const loop = (async () => {
      while (!stop) {
        try {
          await get(ip, 80);
          ok++;
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    await waitFor(() => ok > 20, "the client loop to run");
    await t.api.delete("pods", victim, "default");
    // The RC replaces it; wait until a new backend is ready and serving.
    await waitFor(async () => {
      const b = await readyBackends();
      return b.length === 3 && !b.some((a) => a.targetRef!.name === victim);
    }, "the replacement to be ready", 60_000, 200);
    const okAtReplace = ok;
    await waitFor(() => ok > okAtReplace + 20, "more requests after the replacement");
    stop = true;
    await loop;
    console.log(`kill-a-backend loop: ${ok} requests ok, ${failures.length} failed${failures.length ? `: ${failures.slice(0, 5).join("; ")}` : ""}`);
    expect(failures).toEqual([]);
  }, 120_000);

  it("a NodePort service answers on the node address", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "backend-nodeport", namespace: "default" },
      spec: { type: "NodePort", selector: { app: "myapp", tier: "backend" }, ports: [{ port: 8080, targetPort: "http" }] },
    });
    const svc = await waitFor(async () => {
      const s = await t.api.get("services", "backend-nodeport", "default");
      return s.spec.ports?.[0].nodePort ? s : undefined;
    }, "a node port");
    const body = await waitFor(() => get("127.0.0.1", svc.spec.ports![0].nodePort!), "the node port to answer");
    expect(body).toMatch(/^backend-/);
  });
});
