/**
 * `berth up --proxy-mode nftables` on real Docker: ClusterIP and NodePort reached from the host
 * and from inside a pod through the kernel rules in Berth's own table, and `berth down` leaving
 * no `table ip berth` behind (`nft list ruleset` before and after). This is the one test that
 * writes rules in the host's namespace, and only in Berth's own table (the berth0 bridge is
 * the project's).
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth } from "../helpers/cli.ts";
import { startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { waitFor } from "../helpers/nats.ts";
import { DEFAULT_NETWORK } from "../../runtime/containers/docker.ts";

const MANIFEST = `
apiVersion: v1
kind: ReplicationController
metadata: { name: web }
spec:
  replicas: 2
  selector: { app: web }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: berth/busybox:latest
          imagePullPolicy: Never
          command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
          ports: [{ name: http, containerPort: 80 }]
          readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: v1
kind: Service
metadata: { name: web-np }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 8080, targetPort: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: solo, labels: { app: solo } }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: httpd
      image: berth/busybox:latest
      imagePullPolicy: Never
      command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
      ports: [{ name: http, containerPort: 80 }]
      readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: solo }
spec:
  selector: { app: solo }
  ports: [{ port: 80, targetPort: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: client
      image: berth/busybox:latest
      imagePullPolicy: Never
      command: ["sh", "-c", "exec sleep 3600"]
`;

function get(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: "/", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

const ruleset = () => execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" });

describe("berth up --proxy-mode nftables on Docker", () => {
  let c: BerthUpCluster | undefined;
  let clusterIP = "";
  let nodePort = 0;
  let backends: string[] = [];

  beforeAll(async () => {
    expect(process.getuid?.(), "nftables mode writes kernel rules and needs root").toBe(0);
    expect(ruleset(), "a berth table is already on this host (another nftables-mode cluster running?)").not.toMatch(/table ip berth\b/);
    c = await startBerthUpCluster("nftables", ["--nodes", "1", "--proxy-mode", "nftables"]);
    const applied = c.kubectl(["apply", "-f", "-"], { stdin: MANIFEST });
    expect(applied.code, applied.stderr).toBe(0);
    await waitFor(() => {
      const ep = c!.kubectl(["get", "endpoints", "web", "-o", "json"]);
      const addrs = ep.code === 0 ? (JSON.parse(ep.stdout).subsets ?? []).flatMap((s: { addresses?: { targetRef?: { name: string } }[] }) => s.addresses ?? []) : [];
      backends = addrs.map((a: { targetRef?: { name: string } }) => a.targetRef?.name ?? "");
      return addrs.length === 2;
    }, "2 ready endpoints", 90_000, 250);
    clusterIP = JSON.parse(c.kubectl(["get", "service", "web", "-o", "json"]).stdout).spec.clusterIP;
    nodePort = JSON.parse(c.kubectl(["get", "service", "web-np", "-o", "json"]).stdout).spec.ports[0].nodePort;
    await waitFor(() => c!.kubectl(["get", "pod", "client", "-o", "jsonpath={.status.phase}"]).stdout === "Running", "the client pod to run", 60_000, 250);
    await waitFor(() => {
      const ep = c!.kubectl(["get", "endpoints", "solo", "-o", "json"]);
      return ep.code === 0 && (JSON.parse(ep.stdout).subsets ?? []).some((s: { addresses?: unknown[] }) => s.addresses?.length);
    }, "the solo pod to be its service's endpoint", 60_000, 250);
  }, 240_000);

  afterAll(async () => {
    await stopBerthUpCluster(c).catch((e) => console.error(e));
  }, 180_000);

  it("writes Berth's table, with a service chain per port", () => {
    const t = execFileSync("nft", ["-j", "list", "table", "ip", "berth"], { encoding: "utf8" });
    expect(t).toContain(`svc-default/web/tcp/80`);
    expect(t).toContain(`svc-default/web-np/tcp/8080`);
  });

  it("from the host: the ClusterIP reaches both backends; the NodePort answers on the bridge address", async () => {
    const seen = new Set<string>();
    await waitFor(async () => {
      seen.add(await get(clusterIP, 80));
      return seen.size === 2;
    }, "answers from both backends through the ClusterIP", 20_000, 0);
    expect([...seen].sort()).toEqual([...backends].sort());
    expect(backends).toContain(await get(DEFAULT_NETWORK.gateway, nodePort));
  });

  // (busybox wget -T crashes in this image: the time limit is busybox timeout.)
  it("from inside a pod: the ClusterIP (by name too) and the NodePort", () => {
    const home = c!.home;
    const byIp = berth("node", home, ["exec", "client", "--", "timeout", "5", "wget", "-qO-", `http://${clusterIP}/`]);
    expect(byIp.code, byIp.stderr).toBe(0);
    expect(backends).toContain(byIp.stdout.trim());
    const byName = berth("node", home, ["exec", "client", "--", "timeout", "5", "wget", "-qO-", "http://web/"]);
    expect(byName.code, byName.stderr).toBe(0);
    expect(backends).toContain(byName.stdout.trim());
    const np = berth("node", home, ["exec", "client", "--", "timeout", "5", "wget", "-qO-", `http://${DEFAULT_NETWORK.gateway}:${nodePort}/`]);
    expect(np.code, np.stderr).toBe(0);
    expect(backends).toContain(np.stdout.trim());
  });

  // Hairpin: the only endpoint of "solo" is the pod asking. Its packet is DNAT'ed back to the
  // bridge port it came from (br_netfilter), which the bridge allows only in hairpin mode.
  it("from inside a pod: the pod reaches itself through its own Service (hairpin)", () => {
    const soloIP = JSON.parse(c!.kubectl(["get", "service", "solo", "-o", "json"]).stdout).spec.clusterIP;
    for (const target of [soloIP, "solo"]) {
      const r = berth("node", c!.home, ["exec", "solo", "--", "timeout", "5", "wget", "-qO-", `http://${target}/`]);
      expect(r.code, `${target}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe("solo");
    }
  });

  it("berth down leaves no berth table and no ClusterIP on lo", async () => {
    const r = await stopBerthUpCluster(c);
    expect(r?.exitCode).toBe(0);
    expect(ruleset()).not.toMatch(/table ip berth\b/);
    expect(execFileSync("ip", ["addr", "show", "dev", "lo"], { encoding: "utf8" })).not.toContain(` ${clusterIP}/32`);
  });
});
