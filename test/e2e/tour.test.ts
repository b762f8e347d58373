/**
 * The README's "short tour", command by command, as a newcomer types it: `bin/berth.js ...`
 * with the cluster's home in BERTH_HOME, after `berth up --nodes 2 --example` (what `npm start`
 * runs), on real Docker. Each test is one line of the tour, in the README's order, checking
 * what the README says the line shows.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { berth } from "../helpers/cli.ts";
import { waitFor } from "../helpers/nats.ts";
import { collect, startBerthUpCluster, stopBerthUpCluster, type BerthUpCluster } from "../helpers/berth_up_cluster.ts";

interface Row {
  name: string;
  ready: string;
  status: string;
  ip: string;
  node: string;
}

describe.sequential("the README tour on a 2-node cluster with the example app", () => {
  let c: BerthUpCluster;
  let deleted = "";

  /** `bin/berth.js ARGS` with BERTH_HOME set; throws with stderr on a non-zero exit. */
  const run = (args: string[]): string => {
    const r = berth("node", c.home, args);
    if (r.code !== 0) throw new Error(`berth ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const pods = (): Row[] =>
    run(["get", "pods", "-o", "wide", "--no-headers"])
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const f = l.split(/\s+/);
        return { name: f[0], ready: f[1], status: f[2], ip: f[5], node: f[6] };
      });
  const up = (r: Row) => r.status === "Running" && r.ready === "1/1";
  const backends = () => pods().filter((p) => p.name.startsWith("backend-"));

  beforeAll(async () => {
    c = await startBerthUpCluster("tour", ["--nodes", "2", "--example"]);
  }, 720_000);

  afterAll(async () => {
    await stopBerthUpCluster(c);
  }, 180_000);

  it("berth up --example applies the example app and says so", () => {
    expect(c.up.output()).toMatch(/^berth: cluster ready — 2 nodes Ready; NATS nats:\/\/127\.0\.0\.1:\d+; API https:\/\/127\.0\.0\.1:\d+; DNS 127\.0\.0\.1:\d+$/m);
    return waitFor(() => /example pods\/frontend created/.test(c.up.output()), "the example to be applied", 20_000, 100);
  });

  it("get nodes: node-1, node-2: Ready", () => {
    const out = run(["get", "nodes"]);
    expect(out).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(out).toMatch(/^node-1\s+Ready\s/m);
    expect(out).toMatch(/^node-2\s+Ready\s/m);
    expect(out.trim().split("\n")).toHaveLength(3);
  });

  it("get pods -o wide: 3 backends (RC) and a frontend, with pod IPs and nodes", async () => {
    await waitFor(() => {
      const rows = pods();
      return rows.length === 4 && rows.every(up);
    }, "3 backends and the frontend Running and Ready", 90_000, 250);
    const out = run(["get", "pods", "-o", "wide"]);
    expect(out.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    const rows = pods();
    expect(rows.filter((r) => /^backend-[a-z0-9]{5}$/.test(r.name))).toHaveLength(3);
    expect(rows.filter((r) => r.name === "frontend")).toHaveLength(1);
    for (const r of rows) {
      expect(r.ip).toMatch(/^10\.213\.\d+\.\d+$/);
      expect(["node-1", "node-2"]).toContain(r.node);
    }
    // The scheduler spreads the RC's pods: both nodes run a backend.
    expect(new Set(backends().map((r) => r.node))).toEqual(new Set(["node-1", "node-2"]));
  });

  it("logs frontend -f: the frontend fetches http://backend-service/ by name and the answers name all 3 backends", async () => {
    const names = backends().map((b) => b.name);
    const follow = c.spawnBerth(["logs", "frontend", "-f"]);
    const out = collect(follow);
    try {
      await waitFor(() => names.every((n) => out.text().includes(n)), `logs -f to show ${names.join(", ")}`, 60_000, 200);
      expect(follow.exitCode).toBe(null); // still following
    } finally {
      follow.kill("SIGKILL");
    }
    // Every answer names one of the 3 backends (the first requests may fail while the service
    // and its DNS name come up: busybox wget's error and the loop's "request failed").
    const answers = run(["logs", "frontend"]).split("\n").filter((l) => l && l !== "request failed" && !l.startsWith("wget: "));
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect([...new Set(answers)].sort()).toEqual([...names].sort());
  });

  it("exec frontend -- nslookup backend-service: the cluster DNS resolves the name to the ClusterIP", () => {
    const ip = JSON.parse(run(["get", "svc", "backend-service", "-o", "json"])).spec.clusterIP as string;
    expect(ip).toMatch(/^10\.96\.\d+\.\d+$/);
    // busybox's nslookup tries every search domain and exits 1 when any of them is NXDOMAIN, so
    // the exit code says nothing here: the answer is what counts.
    const r = berth("node", c.home, ["exec", "frontend", "--", "nslookup", "backend-service"]);
    expect(r.stdout).toMatch(new RegExp(`Name:\\s+backend-service\\.default\\.svc\\.cluster\\.local\\nAddress:\\s+${ip.replace(/\./g, "\\.")}\\n`));
    const fqdn = berth("node", c.home, ["exec", "frontend", "--", "nslookup", "backend-service.default.svc.cluster.local"]);
    expect(fqdn.code).toBe(0);
    expect(fqdn.stdout).toContain(`Address: ${ip}`);
  });

  it("scale rc backend --replicas 5, watched with get pods -w: 5 backends Running", async () => {
    const before = backends().map((b) => b.name);
    const watch = c.spawnBerth(["get", "pods", "-w"]);
    const out = collect(watch);
    try {
      await waitFor(() => before.every((n) => out.text().includes(n)), "get pods -w to list the pods", 20_000, 100);
      expect(run(["scale", "rc", "backend", "--replicas", "5"])).toBe("replicationcontroller/backend scaled\n");
      await waitFor(() => backends().filter(up).length === 5, "5 backends Running and Ready", 60_000, 250);
      const added = backends().map((b) => b.name).filter((n) => !before.includes(n));
      expect(added).toHaveLength(2);
      for (const n of added) {
        await waitFor(() => new RegExp(`^${n}\\s+1/1\\s+Running`, "m").test(out.text()), `get pods -w to show ${n} Running`, 20_000, 100);
      }
    } finally {
      watch.kill("SIGKILL");
    }
    expect(backends()).toHaveLength(5);
  });

  it("delete pod <a backend>: the RC replaces it", async () => {
    deleted = backends()[0].name;
    expect(run(["delete", "pod", deleted])).toBe(`pod "${deleted}" deleted\n`);
    await waitFor(() => {
      const b = backends();
      return b.length === 5 && b.every(up) && !b.some((r) => r.name === deleted);
    }, "5 backends again, without the deleted one", 60_000, 250);
  });

  it("describe rc backend: replicas, pod status, and the RC's events", () => {
    const out = run(["describe", "rc", "backend"]);
    expect(out).toMatch(/^Name:\s+backend$/m);
    expect(out).toMatch(/^Selector:\s+app=myapp,tier=backend$/m);
    expect(out).toMatch(/^Replicas:\s+5 current \/ 5 desired$/m);
    expect(out).toMatch(/^Pods Status:\s+5 Ready/m);
    expect(out).toMatch(/^Images:\s+berth\/busybox:latest$/m);
    // 3 at first, 2 for the scale, 1 replacement.
    expect(out.match(/SuccessfulCreate\s+.*Created pod: backend-[a-z0-9]{5}/g)).toHaveLength(6);
  });

  it("describe rc backend: a second label lines up under the first, as kubectl prints it", () => {
    const lines = run(["describe", "rc", "backend"]).split("\n");
    const i = lines.findIndex((l) => l.startsWith("Labels:"));
    const first = lines[i].indexOf("app=myapp");
    expect(first).toBeGreaterThan(0);
    expect(lines[i + 1].indexOf("tier=backend")).toBe(first);
  });

  it("events: scheduling, container starts, the RC's creates and the deleted pod's kill", () => {
    const out = run(["events"]);
    expect(out).toMatch(/Scheduled\s+pod\/frontend\s+Successfully assigned default\/frontend to node-[12]/);
    expect(out).toMatch(/Started\s+pod\/frontend\s+Started container client/);
    expect(out).toMatch(/SuccessfulCreate\s+replicationcontroller\/backend\s+Created pod: backend-/);
    expect(out).toMatch(new RegExp(`Killing\\s+pod/${deleted}\\s+Stopping container httpd`));
  });

  it("kubectl --kubeconfig <home>/kubeconfig get pods,rc,svc: kubectl works too (TLS + token)", () => {
    const r = c.kubectl(["get", "pods,rc,svc"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pod\/frontend\s+1\/1\s+Running\s/m);
    expect(r.stdout.match(/^pod\/backend-[a-z0-9]{5}\s+1\/1\s+Running\s/gm)).toHaveLength(5);
    expect(r.stdout).toMatch(/^replicationcontroller\/backend\s+5\s+5\s+5\s/m);
    expect(r.stdout).toMatch(/^service\/backend-service\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP\s/m);
    const server = /server: (\S+)/.exec(readFileSync(join(c.home, "kubeconfig"), "utf8"))?.[1];
    expect(server).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("down: stops the cluster (after the app is deleted), and berth up exits 0", async () => {
    const r = await stopBerthUpCluster(c);
    expect(r?.down).toMatch(/^berth down: stopped the cluster for /);
    expect(r?.exitCode).toBe(0);
    expect(c.up.output()).toMatch(/berth: stopped\n$/);
  });
});
