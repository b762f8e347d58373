/**
 * The README's "Run your own app", followed as a newcomer would: `berth up --registry`, `docker
 * build` an image FROM the local berth/busybox, `docker push` it to the cluster's registry, apply
 * a pod and a Service, and reach the app through the Service by name. `berth down` stops the
 * registry with the cluster.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { berth } from "../helpers/cli.ts";
import { type BerthUpCluster, startBerthUpCluster, stopBerthUpCluster } from "../helpers/berth_up_cluster.ts";
import { DOCKER_CLI } from "../helpers/docker.ts";
import { waitFor } from "../helpers/nats.ts";

let c: BerthUpCluster | undefined;
let registry = "";
const appDir = mkdtempSync(join(tmpdir(), "berth-own-app-"));

function docker(args: string[]): string {
  const r = spawnSync(DOCKER_CLI, args, { cwd: appDir, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.status}): ${r.stderr || r.error?.message}`);
  return r.stdout;
}

beforeAll(async () => {
  c = await startBerthUpCluster("own-app", ["--nodes", "1", "--registry"]);
  registry = /local registry at (127\.0\.0\.1:\d+)/.exec(c.up.output())?.[1] ?? "";
}, 180_000);

afterAll(async () => {
  try {
    await stopBerthUpCluster(c);
  } finally {
    spawnSync(DOCKER_CLI, ["rmi", "-f", `${registry}/hello:v1`], { encoding: "utf8" });
    rmSync(appDir, { recursive: true, force: true });
  }
}, 180_000);

describe("run your own app", () => {
  test("docker build → docker push to berth up's registry → a pod pulls it → reached through a Service; down stops the registry", async () => {
    expect(registry, c!.up.output()).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(c!.up.output()).toContain(`docker tag IMAGE ${registry}/myapp:v1`);
    expect(c!.up.output()).toContain(`docker push ${registry}/myapp:v1`);

    writeFileSync(join(appDir, "index.html"), "hello from my own app\n");
    writeFileSync(join(appDir, "Dockerfile"), 'FROM berth/busybox:latest\nCOPY index.html /www/index.html\nEXPOSE 8080\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n');
    const t0 = Date.now();
    const mark = (what: string) => console.log(`own app: ${what} at ${Date.now() - t0} ms`);
    docker(["build", "-t", `${registry}/hello:v1`, "."]);
    docker(["push", `${registry}/hello:v1`]);
    docker(["rmi", `${registry}/hello:v1`]); // so the node really pulls it

    const manifest = `
apiVersion: v1
kind: Pod
metadata: { name: hello, labels: { app: hello } }
spec:
  containers:
    - name: web
      image: ${registry}/hello:v1
      ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: hello }
spec:
  selector: { app: hello }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client }
spec:
  containers:
    - name: c
      image: berth/busybox
      command: ["sleep", "3600"]
`;
    mark("built and pushed");
    const applied = berth("node", c!.home, ["apply", "-f", "-"], manifest);
    expect(applied.code, applied.stderr).toBe(0);
    await waitFor(() => {
      const r = berth("node", c!.home, ["get", "pods", "-o", "json"]);
      const pods = (JSON.parse(r.stdout).items ?? []) as { metadata: { name: string }; status?: { phase?: string } }[];
      return pods.length === 2 && pods.every((p) => p.status?.phase === "Running");
    }, "hello and client Running", 60_000, 250);
    mark("pods running");
    let last = "";
    const got = await waitFor(() => {
      const r = berth("node", c!.home, ["exec", "client", "--", "wget", "-qO-", "http://hello/"]);
      last = `${r.code} ${r.stdout} ${r.stderr}`;
      return r.code === 0 ? r.stdout : undefined;
    }, "the app through its Service", 30_000, 250).catch((e) => {
      const direct = berth("node", c!.home, ["exec", "client", "--", "sh", "-c", "nslookup hello; cat /etc/resolv.conf"]);
      const svc = berth("node", c!.home, ["get", "svc,endpoints,pods", "-o", "wide"]);
      throw new Error(`${e}; last: ${last}; dns: ${direct.stdout}${direct.stderr}; ${svc.stdout}`);
    });
    mark("served");
    expect(got).toBe("hello from my own app\n");
    const events = berth("node", c!.home, ["get", "events", "-o", "json"]);
    const pulled = (JSON.parse(events.stdout).items as { reason: string; message: string; involvedObject: { name: string } }[])
      .find((e) => e.involvedObject.name === "hello" && e.reason === "Pulled");
    expect(pulled?.message).toMatch(new RegExp(`^Successfully pulled image "${registry.replace(/\./g, "\\.")}/hello:v1" in `));

    const stopped = await stopBerthUpCluster(c);
    expect(stopped?.exitCode).toBe(0);
    await expect(fetch(`http://${registry}/v2/`)).rejects.toThrow();
  }, 150_000);
});
