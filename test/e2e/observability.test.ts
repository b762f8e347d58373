/**
 * Seeing inside a `berth up` cluster on Docker, end to end: every component's metrics pass
 * `promtool check metrics`; a real Prometheus (`--prometheus`) scrapes them and its HTTP API
 * has series from every component; `kubectl top` (1.32) and `berth top` print figures from
 * Docker stats; `berth actors -w` streams pod transitions while an RC scales; `/readyz?verbose`
 * lists its checks. One cluster for the whole file.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { Resolver } from "node:dns/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth } from "../helpers/cli.ts";
import { collect, startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { waitFor } from "../helpers/nats.ts";

const RC = `apiVersion: v1
kind: ReplicationController
metadata: { name: seen }
spec:
  replicas: 2
  selector: { app: seen }
  template:
    metadata: { labels: { app: seen } }
    spec:
      containers:
        - { name: main, image: "berth/busybox:latest", command: ["sh", "-c", "while true; do sleep 1; done"] }
        - { name: side, image: "berth/busybox:latest", command: ["sleep", "3600"] }
`;

interface Info {
  apiUrl: string;
  token: string;
  metrics: { url: string; paths: Record<string, string> };
}

function promtool(text: string, what: string): void {
  try {
    execFileSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`promtool check metrics failed for ${what}: ${x.stdout}${x.stderr}`);
  }
}

describe("observability on a berth up cluster", () => {
  let c: BerthUpCluster;
  let info: Info;
  let ca: string;
  let promUrl: string;

  /** GET on the REST API over TLS with the cluster's CA. */
  const api = (path: string, token?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(new URL(path, info.apiUrl), { ca, headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });

  beforeAll(async () => {
    c = await startBerthUpCluster("observability", ["--nodes", "2", "--prometheus"]);
    info = JSON.parse(readFileSync(join(c.home, "cluster.json"), "utf8")) as Info;
    ca = readFileSync(join(c.home, "pki", "ca.crt"), "utf8");
    promUrl = /Prometheus at (http:\/\/\S+)/.exec(c.up.output())?.[1] ?? "";
    expect(promUrl, c.up.output()).not.toBe("");
    expect(berth("node", c.home, ["apply", "-f", "-"], RC).code).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await stopBerthUpCluster(c);
  }, 180_000);

  it("metrics - every component's endpoint passes promtool; the API's /metrics wants the token", async () => {
    expect(Object.keys(info.metrics.paths).sort()).toEqual(["api", "control-plane", "node-1", "node-2", "proxy"]);
    for (const [component, path] of Object.entries(info.metrics.paths)) {
      const text = await (await fetch(`${info.metrics.url}${path}`)).text();
      promtool(text, component);
    }
    expect((await api("/metrics")).status).toBe(401);
    const served = await api("/metrics", info.token);
    expect(served.status).toBe(200);
    expect(served.body).toMatch(/^apiserver_request_total\{verb="[A-Z]+",resource="[a-z/]*",code="\d+"\} \d+/m);
    expect(served.body).toMatch(/^berth_store_request_duration_seconds_count\{op="\w+"\} \d+/m);
    promtool(served.body, "the API server's /metrics");
    const cp = await (await fetch(`${info.metrics.url}/metrics/control-plane`)).text();
    expect(cp).toMatch(/^workqueue_adds_total\{name="scheduler"\} \d+/m);
    expect(cp).toMatch(/^scheduler_pending_pods\{queue="active"\} \d+/m);
    const node = await (await fetch(`${info.metrics.url}/metrics/node-1`)).text();
    expect(node).toMatch(/^kubelet_runtime_operations_total\{operation_type="\w+"\} \d+/m);
    expect(node).toMatch(/^kubelet_running_pods \d+/m);
  });

  it("prometheus - a real Prometheus scrapes every component and answers queries with their series", async () => {
    const query = async (q: string) => {
      const r = (await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return r.data.result;
    };
    // Every target scraped successfully at least once.
    await waitFor(async () => {
      const up = await query("up");
      const ok = new Set(up.filter((s) => s.value[1] === "1").map((s) => s.metric.component));
      return ["api", "control-plane", "node-1", "node-2", "proxy"].every((x) => ok.has(x));
    }, "Prometheus to scrape every component", 60_000, 500);
    const series = async (q: string) => new Set((await query(q)).map((s) => s.metric.component));
    expect(await series("apiserver_request_total")).toEqual(new Set(["api"]));
    expect(await series("workqueue_adds_total")).toEqual(new Set(["control-plane"]));
    expect(await series("kubelet_runtime_operations_total")).toEqual(new Set(["node-1", "node-2"]));
    // The cluster DNS answers on the host; one lookup makes its series exist.
    const dns = JSON.parse(readFileSync(join(c.home, "cluster.json"), "utf8")).dnsAddress as string;
    const resolver = new Resolver();
    resolver.setServers([dns]);
    await resolver.resolve4("kubernetes.default.svc.cluster.local").catch(() => []); // an answer or NXDOMAIN: both are counted
    await waitFor(async () => (await series("coredns_dns_requests_total")).has("proxy"), "DNS series from the proxy component", 30_000, 500);
  });

  it("kubectl top - nodes and pods (--containers) print figures from Docker stats; berth top too", async () => {
    await waitFor(() => berth("node", c.home, ["get", "pods", "-l", "app=seen"]).stdout.match(/Running/g)?.length === 2, "two pods Running", 90_000, 500);
    const top = await waitFor(() => {
      const r = c.kubectl(["top", "pods", "--containers"]);
      return r.code === 0 && r.stdout.match(/seen-\S+\s+(main|side)\s+\d+m\s+\d+Mi/g)?.length === 4 ? r.stdout : undefined;
    }, "kubectl top pods --containers to list both pods' containers", 60_000, 1000);
    expect(top).toMatch(/^POD\s+NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
    const nodes = c.kubectl(["top", "nodes"]);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(nodes.stdout).toMatch(/^node-1\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%/m);
    expect(c.kubectl(["top", "pods", "-l", "app=seen"]).stdout.match(/^seen-/gm)?.length).toBe(2);
    const bt = berth("node", c.home, ["top", "pods", "--containers"]);
    expect(bt.code, bt.stderr).toBe(0);
    expect(bt.stdout.match(/^seen-\S+\s+(main|side)\s+\d+m\s+\d+Mi$/gm)?.length).toBe(4);
  });

  it("berth actors -w - streams pod transitions while the RC scales, and lists every kind", async () => {
    const listed = berth("node", c.home, ["actors"]);
    expect(listed.code, listed.stderr).toBe(0);
    for (const kind of ["workloop", "node", "pod"]) expect(listed.stdout).toMatch(new RegExp(`\\s${kind}\\s`));
    const w = collect(c.spawnBerth(["actors", "-w", "--kind", "pod"]));
    await waitFor(() => /^SCOPE\s+KIND/m.test(w.text()), "the actor table", 20_000, 100);
    expect(berth("node", c.home, ["scale", "rc/seen", "--replicas", "3"]).code).toBe(0);
    // A transition of a pod the table did not have, streamed as it happens.
    await waitFor(() => {
      const before = new Set([...listed.stdout.matchAll(/default\/seen-\S+/g)].map((m) => m[0]));
      return [...w.text().matchAll(/^\d\d:\d\d:\d\d\.\d{3}\s+node-\d\s+pod\s+(default\/seen-\S+)\s+active\.running/gm)].some((m) => !before.has(m[1]));
    }, "a running transition of the new pod", 60_000, 200);
  });

  it("logs - JSON lines per component under <home>/logs; berth logs --component reads them, nothing stray on the console", () => {
    const cp = berth("node", c.home, ["logs", "--component", "control-plane"]);
    expect(cp.code, cp.stderr).toBe(0);
    const first = JSON.parse(cp.stdout.split("\n")[0]) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(expect.arrayContaining(["time", "level", "component", "message", "fields"]));
    expect(cp.stdout).toMatch(/"message":"control plane started"/);
    const node = berth("node", c.home, ["logs", "--component", "node-1", "--tail", "5"]);
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout.trim().split("\n").every((l) => (JSON.parse(l) as { node?: string }).node === "node-1")).toBe(true);
    // The scheduler and the controllers live in control-plane.log; their own names find their lines.
    for (const part of ["scheduler", "controller-manager"]) {
      const r = berth("node", c.home, ["logs", "--component", part]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim().split("\n").every((l) => (JSON.parse(l) as { component?: string }).component === part)).toBe(true);
      expect(r.stdout).toMatch(/"message":"(scheduler|controller) started"/);
    }
    const missing = berth("node", c.home, ["logs", "--component", "nope"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no log for component "nope".*control-plane/);
    expect(c.up.output()).not.toMatch(/Warning|MaxListeners/);
  });

  it("health - /readyz?verbose lists store and informer checks; /livez skips readiness-only ones", async () => {
    const ready = await api("/readyz?verbose");
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(/\[\+\]ping ok\n\[\+\]store ok\n\[\+\]informer-sync ok\nreadyz check passed/);
    const live = await api("/livez?verbose");
    expect(live.body).not.toMatch(/informer-sync/);
    expect((await api("/readyz/store")).body).toBe("ok");
  });
});
