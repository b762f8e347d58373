/**
 * The service proxy against a real API (nats-server + KV store): service actors allocate
 * ClusterIPs and node ports, write Endpoints from pod readiness, and drive DNS and TCP proxies.
 * Pods here are API objects whose status the test writes (no node agent), with a loopback TCP
 * server standing in for each pod at its "pod IP" (127.10.x.y, all routed to lo).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import net from "node:net";
import dns2 from "dns2";
import { startTestApi, waitFor, type TestApi } from "../helpers/api.ts";
import type { Pod } from "../../model/types.ts";
import { startServiceProxy, type ServiceProxy } from "../../runtime/service_proxy.ts";
import { startServiceController, type ServiceController } from "../../runtime/service_controller.ts";
import { HOST_PORTS_ANNOTATION as POD_HOST_PORTS_ANNOTATION } from "../../model/pod.ts";
import { execFileSync } from "node:child_process";
import { ComponentMetrics } from "../../runtime/metrics/registry.ts";

const { Packet } = dns2;

/** One A query: the rcode, the answers' types, the addresses, and the CNAME's target if any. */
function resolveA(port: number, name: string): Promise<{ rcode: number; types: number[]; domain?: string; ips: string[] }> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket("udp4");
    const t = setTimeout(() => {
      sock.close();
      reject(new Error(`no DNS answer for ${name}`));
    }, 2000);
    sock.on("message", (m) => {
      clearTimeout(t);
      sock.close();
      const p = Packet.parse(m);
      resolve({ rcode: p.header.rcode, types: p.answers.map((a) => a.type), domain: p.answers.find((a) => a.type === Packet.TYPE.CNAME)?.domain, ips: p.answers.map((a) => a.address!).filter(Boolean) });
    });
    const q = new Packet();
    q.questions.push({ name, type: Packet.TYPE.A, class: Packet.CLASS.IN } as never);
    sock.send(q.toBuffer(), port, "127.0.0.1");
  });
}

function fetchOnce(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let data = "";
    s.on("data", (d) => (data += d));
    s.on("end", () => resolve(data));
    s.on("error", reject);
  });
}

const servers: net.Server[] = [];
async function podServer(ip: string, port: number, name: string): Promise<number> {
  const srv = net.createServer((s) => s.end(name));
  await new Promise<void>((r) => srv.listen(port, ip, () => r()));
  servers.push(srv);
  return (srv.address() as net.AddressInfo).port;
}

async function readyPod(t: TestApi, name: string, ip: string, labels: Record<string, string>, ready = true, extra: Partial<Pod["metadata"]> = {}): Promise<void> {
  let pod: Pod;
  try {
    pod = await t.api.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", labels, ...extra },
      spec: { nodeName: "node-1", containers: [{ name: "c", image: "berth/busybox:latest", ports: [{ name: "web", containerPort: 8080 }] }] },
    });
  } catch {
    pod = await t.api.get("pods", name, "default");
  }
  await t.api.updateStatus("pods", {
    ...pod,
    status: {
      phase: "Running",
      podIP: ip,
      hostIP: "127.0.0.1",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
    },
  });
}

describe("service proxy over a real API", () => {
  let t: TestApi;
  let proxy: ServiceProxy;
  // As in a cluster: the control plane's service controller allocates and writes Endpoints,
  // the proxy follows them.
  let controller: ServiceController;
  const logs: string[] = [];
  const metrics = new ComponentMetrics("proxy");

  beforeAll(async () => {
    t = await startTestApi();
    for (const [i, n] of ["a", "b", "c"].entries()) await podServer(`127.10.0.${i + 1}`, 8080, `pod-${n}`);
    controller = await startServiceController(t.api, { clusterCidr: "10.150.0.0/16" });
    proxy = await startServiceProxy({
      client: t.api,
      dnsAddresses: [{ host: "127.0.0.1", port: 0 }],
      assignClusterIps: false,
      metrics,
      log: (m, f) => logs.push(`${m} ${JSON.stringify(f)}`),
    });
  });
  afterAll(async () => {
    await proxy?.stop();
    await controller?.stop();
    for (const s of servers) s.close();
    await t?.stop();
  });

  it("allocates a ClusterIP, writes Endpoints of ready pods, answers DNS and balances over the pods", async () => {
    for (const [i, n] of ["a", "b", "c"].entries()) await readyPod(t, `web-${n}`, `127.10.0.${i + 1}`, { app: "web", tier: "backend" });
    await readyPod(t, "web-unready", "127.10.0.9", { app: "web", tier: "backend" }, false);
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: "web" }] },
    });
    const svc = await waitFor(async () => {
      const s = await t.api.get("services", "web", "default");
      return s.spec.clusterIP ? s : undefined;
    }, "a ClusterIP");
    expect(svc.spec.clusterIP).toMatch(/^10\.150\./);
    const ep = await waitFor(async () => {
      const e = await t.api.get("endpoints", "web", "default");
      return e.subsets?.[0]?.addresses?.length === 3 ? e : undefined;
    }, "3 ready endpoints");
    expect(ep.subsets![0].notReadyAddresses?.map((a) => a.ip)).toEqual(["127.10.0.9"]);
    expect(ep.subsets![0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);

    const expected = svc.spec.clusterIP!.replace(/^10\./, "127.");
    for (const name of ["web", "web.default", "web.default.svc.cluster.local"]) {
      const r = await waitFor(async () => {
        const a = await resolveA(proxy.dnsPort, name);
        return a.ips.length ? a : undefined;
      }, `DNS for ${name}`);
      expect(r.ips).toEqual([expected]);
    }
    const seen = new Map<string, number>();
    await waitFor(() => fetchOnce(expected, 80).then(() => true), "the proxy to listen");
    for (let i = 0; i < 9; i++) {
      const who = await fetchOnce(expected, 80);
      seen.set(who, (seen.get(who) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["pod-a", "pod-b", "pod-c"]);

    // The traffic in the proxy's metrics: connections and bytes per service port, and the syncs.
    const text = await metrics.text();
    const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
    expect(value(/^berth_proxy_connections_total\{service="default\/web",port="80"\} (\d+)$/m)).toBeGreaterThanOrEqual(9);
    expect(value(/^berth_proxy_bytes_total\{service="default\/web",port="80",direction="out"\} (\d+)$/m)).toBeGreaterThanOrEqual(9 * "pod-a".length);
    // Every connection closes on the proxy's side too (just after the client saw its end).
    await waitFor(async () => /^berth_proxy_active_connections\{service="default\/web",port="80"\} 0$/m.test(await metrics.text()), "no active connection");
    expect(value(/^kubeproxy_sync_proxy_rules_duration_seconds_count (\d+)$/m)).toBeGreaterThan(0);
    expect(text).toMatch(/^kubeproxy_sync_proxy_rules_last_timestamp_seconds \d/m);
    execFileSync("promtool", ["check", "metrics"], { input: text });
  });

  it("stops sending new connections to a pod that turns unready", async () => {
    await readyPod(t, "web-b", "127.10.0.2", { app: "web", tier: "backend" }, false);
    await waitFor(async () => (await t.api.get("endpoints", "web", "default")).subsets?.[0]?.addresses?.length === 2, "2 endpoints");
    const ip = (await t.api.get("services", "web", "default")).spec.clusterIP!.replace(/^10\./, "127.");
    await waitFor(async () => {
      const got = new Set<string>();
      for (let i = 0; i < 6; i++) got.add(await fetchOnce(ip, 80));
      return !got.has("pod-b") && got.size === 2;
    }, "traffic only to the ready pods");
  });

  it("records host ports and dials hostIP:hostPort for a pod IP not on this machine", async () => {
    const hostPort = await podServer("127.0.0.1", 0, "via-host-port");
    await readyPod(t, "remote-1", "10.244.99.7", { app: "remote" }, true, {
      annotations: { [POD_HOST_PORTS_ANNOTATION]: JSON.stringify({ "8080/TCP": hostPort }) },
    });
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "remote", namespace: "default" },
      spec: { selector: { app: "remote" }, ports: [{ port: 81, targetPort: 8080 }] },
    });
    const ep = await waitFor(async () => {
      const e = await t.api.get("endpoints", "remote", "default").catch(() => undefined);
      return e?.subsets?.[0]?.addresses?.length === 1 ? e : undefined;
    }, "remote endpoints");
    expect(JSON.parse(ep.metadata.annotations!["berth.dev/host-endpoints"])).toEqual({
      "10.244.99.7": { hostIP: "127.0.0.1", hostPorts: { "8080/TCP": hostPort } },
    });
    const svc = await t.api.get("services", "remote", "default");
    const ip = svc.spec.clusterIP!.replace(/^10\./, "127.");
    expect(await waitFor(() => fetchOnce(ip, 81), "the remote service to answer")).toBe("via-host-port");
  });

  it("NodePort and LoadBalancer services get a node port that answers on the node address, and an ingress", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web-lb", namespace: "default" },
      spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 8081, targetPort: 8080 }] },
    });
    const svc = await waitFor(async () => {
      const s = await t.api.get("services", "web-lb", "default");
      return s.spec.ports?.[0].nodePort && s.status?.loadBalancer?.ingress?.length ? s : undefined;
    }, "node port and ingress");
    const nodePort = svc.spec.ports![0].nodePort!;
    expect(nodePort).toBeGreaterThanOrEqual(30000);
    expect(nodePort).toBeLessThanOrEqual(32767);
    expect(svc.status!.loadBalancer!.ingress).toEqual([{ ip: "127.0.0.1" }]);
    expect(["pod-a", "pod-c"]).toContain(await waitFor(() => fetchOnce("127.0.0.1", nodePort), "the node port to answer"));
  });

  it("pins a client with sessionAffinity ClientIP", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "sticky", namespace: "default" },
      spec: { selector: { app: "web" }, sessionAffinity: "ClientIP", ports: [{ port: 82, targetPort: 8080 }] },
    });
    const svc = await waitFor(async () => {
      const s = await t.api.get("services", "sticky", "default");
      return s.spec.clusterIP ? s : undefined;
    }, "sticky ClusterIP");
    const ip = svc.spec.clusterIP!.replace(/^10\./, "127.");
    await waitFor(() => fetchOnce(ip, 82), "sticky to answer");
    const got = new Set<string>();
    for (let i = 0; i < 8; i++) got.add(await fetchOnce(ip, 82));
    expect(got.size).toBe(1);
  });

  it("routes a selectorless Service by EndpointSlices someone else writes (no Endpoints object), and by their changes", async () => {
    await podServer("127.10.0.21", 8080, "slice-a");
    await podServer("127.10.0.22", 8080, "slice-b");
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "external-db", namespace: "default" },
      spec: { ports: [{ name: "sql", port: 5432, targetPort: 8080 }] },
    });
    const slice = await t.api.create("endpointslices", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "external-db-1", namespace: "default", labels: { "kubernetes.io/service-name": "external-db", "endpointslice.kubernetes.io/managed-by": "db-operator.example.com" } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["127.10.0.21"] }, { addresses: ["127.10.0.22"], conditions: { ready: false } }],
      ports: [{ name: "sql", port: 8080, protocol: "TCP" }],
    });
    const svc = await waitFor(async () => {
      const x = await t.api.get("services", "external-db", "default");
      return x.spec.clusterIP ? x : undefined;
    }, "a ClusterIP");
    const ip = svc.spec.clusterIP!.replace(/^10\./, "127.");
    expect(await waitFor(() => fetchOnce(ip, 5432).catch(() => undefined), "the slice's ready endpoint to answer")).toBe("slice-a");
    for (let i = 0; i < 4; i++) expect(await fetchOnce(ip, 5432)).toBe("slice-a");
    // Nobody wrote Endpoints for it: the proxy read the slice.
    expect(await t.api.get("endpoints", "external-db", "default").then(() => "found", () => "none")).toBe("none");
    // The writer marks the second endpoint ready: traffic spreads over both.
    await t.api.update("endpointslices", { ...slice, endpoints: [{ addresses: ["127.10.0.21"] }, { addresses: ["127.10.0.22"], conditions: { ready: true } }] });
    await waitFor(async () => {
      const got = new Set<string>();
      for (let i = 0; i < 8; i++) got.add(await fetchOnce(ip, 5432));
      return got.size === 2;
    }, "traffic to both endpoints");
    // The slice is gone: so are the endpoints (connections are refused, as with no endpoints).
    await t.api.delete("endpointslices", "external-db-1", "default");
    await waitFor(() => fetchOnce(ip, 5432).then((who) => who === "", () => true), "no endpoint left");
  });

  it("a headless selectorless Service answers the addresses and hostnames of its hand-written EndpointSlice in DNS", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "peers", namespace: "default" },
      spec: { clusterIP: "None", ports: [{ port: 7000 }] },
    });
    await t.api.create("endpointslices", {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: { name: "peers-1", namespace: "default", labels: { "kubernetes.io/service-name": "peers" } },
      addressType: "IPv4",
      endpoints: [
        { addresses: ["127.10.0.31"], hostname: "peer-0" },
        { addresses: ["127.10.0.32"], hostname: "peer-1", conditions: { ready: false, serving: true, terminating: true } },
      ],
      ports: [{ port: 7000, protocol: "TCP" }],
    });
    const all = await waitFor(async () => {
      const a = await resolveA(proxy.dnsPort, "peers.default.svc.cluster.local");
      return a.ips.length ? a : undefined;
    }, "headless A records from the slice");
    expect(all.ips).toEqual(["127.10.0.31"]);
    expect((await resolveA(proxy.dnsPort, "peer-0.peers.default.svc.cluster.local")).ips).toEqual(["127.10.0.31"]);
    expect((await resolveA(proxy.dnsPort, "peer-1.peers.default.svc.cluster.local")).ips).toEqual([]);
  });

  it("a headless service answers pod IPs in DNS and gets no proxy", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web-headless", namespace: "default" },
      spec: { clusterIP: "None", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    const r = await waitFor(async () => {
      const a = await resolveA(proxy.dnsPort, "web-headless.default.svc.cluster.local");
      return a.ips.length === 2 ? a : undefined;
    }, "headless A records");
    expect(r.ips.sort()).toEqual(["127.10.0.1", "127.10.0.3"]);
    expect(proxy.dataplane.proxiesOf("default", "web-headless")).toEqual([]);
  });

  it("an ExternalName service is a CNAME in DNS (an alias of a cluster name brings its address): no ClusterIP, Endpoints or proxy", async () => {
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "legacy-db", namespace: "default" },
      spec: { type: "ExternalName", externalName: "db.example.com.", selector: { app: "web" }, ports: [{ port: 5432 }] },
    });
    const r = await waitFor(async () => {
      const a = await resolveA(proxy.dnsPort, "legacy-db.default.svc.cluster.local");
      return a.domain ? a : undefined;
    }, "a CNAME for legacy-db");
    expect(r).toEqual({ rcode: 0, types: [Packet.TYPE.CNAME], domain: "db.example.com", ips: [] });
    // An alias of a name in the cluster brings that name's address along.
    await t.api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "alias", namespace: "default" }, spec: { type: "ExternalName", externalName: "web.default.svc.cluster.local" } });
    const webIp = (await t.api.get("services", "web", "default")).spec.clusterIP!.replace(/^10\./, "127.");
    const alias = await waitFor(async () => {
      const a = await resolveA(proxy.dnsPort, "alias.default.svc.cluster.local");
      return a.ips.length ? a : undefined;
    }, "the alias chased");
    expect(alias).toMatchObject({ types: [Packet.TYPE.CNAME, Packet.TYPE.A], domain: "web.default.svc.cluster.local", ips: [webIp] });
    // The service controller passed it by: no address, no Endpoints; the proxy has nothing for it.
    // (A service made after it, with a selector, has its Endpoints once the controller has looked
    // at both.)
    await t.api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "after-legacy", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } });
    await waitFor(() => t.api.get("endpoints", "after-legacy", "default").then(() => true, () => false), "the controller's later pass");
    await t.api.delete("services", "after-legacy", "default");
    const stored = await t.api.get("services", "legacy-db", "default");
    expect(stored.spec.clusterIP).toBeUndefined();
    expect(await t.api.get("endpoints", "legacy-db", "default").then(() => "found", () => "none")).toBe("none");
    expect(proxy.dataplane.proxiesOf("default", "legacy-db")).toEqual([]);
  });

  it("a NodePort service made ExternalName as kubectl apply sends it (its old ClusterIP and node port left in): both dropped, its listener gone, a CNAME in DNS", async () => {
    await t.api.create("services", { apiVersion: "v1", kind: "Service", metadata: { name: "turns", namespace: "default" }, spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] } });
    const allocated = await waitFor(async () => {
      const s = await t.api.get("services", "turns", "default");
      return s.spec.clusterIP && s.spec.ports?.[0].nodePort ? s : undefined;
    }, "an address and a node port");
    await waitFor(() => proxy.dataplane.proxiesOf("default", "turns").length > 0, "the proxy listening");
    const changed = await t.api.update("services", { ...allocated, spec: { ...allocated.spec, type: "ExternalName", externalName: "db.example.com" } });
    expect(changed.spec.clusterIP).toBeUndefined();
    expect(changed.spec.clusterIPs).toBeUndefined();
    expect(changed.spec.ports?.[0].nodePort).toBeUndefined();
    await waitFor(() => proxy.dataplane.proxiesOf("default", "turns").length === 0, "the listener gone");
    // A changed address is the user's: judged by validation.
    const refused = await t.api.update("services", { ...changed, spec: { ...changed.spec, clusterIP: "10.150.9.9" } }).catch((e) => e);
    expect(String(refused)).toMatch(/spec\.clusterIP: .*may not be set for ExternalName services/);
    await t.api.delete("services", "turns", "default");
  });

  it("deleting a service removes its Endpoints, DNS name and listener, and frees its ClusterIP", async () => {
    const svc = await t.api.get("services", "web", "default");
    const ip = svc.spec.clusterIP!.replace(/^10\./, "127.");
    await t.api.delete("services", "web", "default");
    await waitFor(async () => (await resolveA(proxy.dnsPort, "web")).rcode === Packet.RCODE.NXDOMAIN, "NXDOMAIN for web");
    await waitFor(() => t.api.get("endpoints", "web", "default").then(() => false, () => true), "endpoints deleted");
    await waitFor(() => fetchOnce(ip, 80).then(() => false, () => true), "the listener to close");
  });

  it("rebuilds allocations from stored services after a restart: no ClusterIP is handed out twice", async () => {
    await Promise.all([proxy.stop(), controller.stop()]);
    controller = await startServiceController(t.api, { clusterCidr: "10.150.0.0/16" });
    proxy = await startServiceProxy({ client: t.api, dnsAddresses: [{ host: "127.0.0.1", port: 0 }], assignClusterIps: false });
    await t.api.create("services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "after-restart", namespace: "default" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await waitFor(async () => (await t.api.get("services", "after-restart", "default")).spec.clusterIP, "new ClusterIP");
    const all = (await t.api.list("services", { namespace: "default" })).items.map((s) => s.spec.clusterIP).filter((ip) => ip && ip !== "None");
    expect(new Set(all).size).toBe(all.length);
    // The surviving services are served again by the new proxy.
    const lb = await t.api.get("services", "web-lb", "default");
    expect(["pod-a", "pod-c"]).toContain(await waitFor(() => fetchOnce("127.0.0.1", lb.spec.ports![0].nodePort!), "node port after restart"));
  });
});

describe("service controller - what a service changed to another type no longer uses is free again", () => {
  it("a ClusterIP and a node port given up by a service made ExternalName go to the next service", async () => {
    const t = await startTestApi();
    // One address (10.151.0.2) and one node port: the second service gets them only if freed.
    const controller = await startServiceController(t.api, { clusterCidr: "10.151.0.0/30", nodePortRange: { min: 30500, max: 30500 } });
    try {
      const svc = (name: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name, namespace: "default" }, spec: { type: "NodePort", ports: [{ port: 80 }] } });
      await t.api.create("services", svc("first"));
      const first = await waitFor(async () => {
        const s = await t.api.get("services", "first", "default");
        return s.spec.clusterIP && s.spec.ports?.[0].nodePort ? s : undefined;
      }, "the first service allocated");
      expect([first.spec.clusterIP, first.spec.ports?.[0].nodePort]).toEqual(["10.151.0.2", 30500]);
      await t.api.update("services", { ...first, spec: { ...first.spec, type: "ExternalName", externalName: "db.example.com" } });
      await t.api.create("services", svc("second"));
      const second = await waitFor(async () => {
        const s = await t.api.get("services", "second", "default");
        return s.spec.clusterIP && s.spec.ports?.[0].nodePort ? s : undefined;
      }, "the second service allocated what the first gave up", 10_000);
      expect([second.spec.clusterIP, second.spec.ports?.[0].nodePort]).toEqual(["10.151.0.2", 30500]);
    } finally {
      await controller.stop();
      await t.stop();
    }
  });
});
