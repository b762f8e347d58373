/**
 * `berth control-plane --rest-port`: a control-plane copy of a multi-machine cluster serves the
 * Kubernetes REST API too, so kubectl works there. Here one copy runs against a private
 * nats-server; kubectl (with the kubeconfig the copy writes into its home) creates, lists and
 * deletes through it, and the RC it creates gets its pods from the copy's control loops.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { startTestNats, waitFor, type TestNats } from "../helpers/nats.ts";
import { ROOT } from "../helpers/cli.ts";

let nats: TestNats;
let home: string;
let cp: ChildProcess;
let out = "";

const kubectl = (args: string[]) => {
  const r = spawnSync("kubectl", ["--kubeconfig", join(home, "kubeconfig"), ...args], { encoding: "utf8", timeout: 30_000, env: { ...process.env, HOME: home } });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
};

beforeAll(async () => {
  nats = await startTestNats();
  home = mkdtempSync(join(tmpdir(), "berth-cp-rest-"));
  cp = spawn(process.execPath, ["bin/berth.js", "control-plane", "--nats", nats.url, "--rest-port", "0", "--home", join(home, "cp"), "--lease-ttl", "3", "--lease-renew", "0.5", "-q"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  cp.stdout!.on("data", (d) => (out += String(d)));
  cp.stderr!.on("data", (d) => (out += String(d)));
  await waitFor(() => /leading/.test(out) && /REST API at https:\/\/127\.0\.0\.1:\d+/.test(out), "the copy to lead and serve REST", 60_000, 100).catch((e) => {
    throw new Error(`${(e as Error).message}\n${out}`);
  });
  home = join(home, "cp");
}, 90_000);

afterAll(async () => {
  if (cp && cp.exitCode === null) {
    const exited = new Promise((r) => cp.once("exit", r));
    cp.kill("SIGTERM");
    await exited;
  }
  await nats?.stop();
  if (home) rmSync(join(home, ".."), { recursive: true, force: true });
});

describe("berth control-plane --rest-port", () => {
  it("kubectl works against it: namespaces, an RC whose pods its control loops create, delete", async () => {
    expect(kubectl(["get", "namespaces", "-o", "name"]).stdout).toContain("namespace/default");
    const manifest = join(home, "rc.yaml");
    writeFileSync(manifest, [
      "apiVersion: v1", "kind: ReplicationController", "metadata:", "  name: web", "spec:", "  replicas: 2", "  selector: {app: web}",
      "  template:", "    metadata:", "      labels: {app: web}", "    spec:", "      containers:", "      - name: c", "        image: berth/busybox", "",
    ].join("\n"));
    const applied = kubectl(["apply", "-f", manifest]);
    expect(applied.stderr).toBe("");
    expect(applied.stdout).toMatch(/replicationcontroller\/web created/);
    // No node runs here, so the pods stay Pending; the RC made them all the same.
    await waitFor(() => kubectl(["get", "pods", "-l", "app=web", "-o", "name"]).stdout.trim().split("\n").filter(Boolean).length === 2, "2 pods of the RC", 20_000, 250);
    expect(kubectl(["delete", "rc", "web"]).stdout).toMatch(/replicationcontroller "web" deleted/);
    // Without a token the API refuses.
    const url = /REST API at (\S+);/.exec(out)![1];
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest(`${url}/api/v1/namespaces/default/pods`, { rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(401);
  }, 60_000);

  it("points the kubernetes Service at its REST API and publishes the cluster CA, so pods reach the API in-cluster", async () => {
    const port = Number(/REST API at https:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1]);
    const json = (args: string[]) => JSON.parse(kubectl([...args, "-o", "json"]).stdout || "null");
    const svc = await waitFor(() => json(["get", "svc", "kubernetes"]), "the kubernetes Service", 20_000, 250);
    expect(svc.spec).toMatchObject({ clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: port }] });
    const ep = json(["get", "endpoints", "kubernetes"]);
    expect(ep.subsets).toEqual([{ addresses: [{ ip: "127.0.0.1" }], ports: [{ name: "https", port, protocol: "TCP" }] }]);
    expect(json(["get", "endpointslice", "kubernetes"]).endpoints).toEqual([{ addresses: ["127.0.0.1"], conditions: { ready: true } }]);
    const ca = readFileSync(join(home, "pki", "ca.crt"), "utf8");
    await waitFor(() => json(["get", "configmap", "kube-root-ca.crt", "-n", "default"])?.data?.["ca.crt"] === ca, "kube-root-ca.crt with the cluster CA", 20_000, 250);
    // The certificate is valid for the names in-cluster clients use.
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/healthz", servername: "kubernetes.default.svc", ca }, (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(200);
  }, 60_000);

  it("stops cleanly on SIGTERM", async () => {
    const exited = new Promise<number | null>((r) => cp.once("exit", r));
    cp.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(out).toMatch(/SIGTERM, stopping/);
  }, 30_000);
});
