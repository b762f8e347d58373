/**
 * kubectl (the one on PATH, 1.32) against the REST API over a real store: discovery, OpenAPI
 * validation, client-side apply with strategic merge patches, tables, scale, delete, watch.
 * No control plane runs here, so pods are created directly and stay Pending.
 */
import { describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { waitFor } from "../helpers/api.ts";
import { kubectlRunners, useRestHarness } from "../helpers/rest_harness.ts";
import type { Pod, ReplicationController, Service } from "../../model/types.ts";

const h = useRestHarness();

const manifest = (replicas: number, envValue: string, port: number) => `
apiVersion: v1
kind: ReplicationController
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: berth/busybox:latest
        command: ["httpd", "-f", "-p", "8080"]
        ports:
        - containerPort: 8080
        env:
        - name: GREETING
          value: "${envValue}"
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: ${port}
    targetPort: 8080
`;

const { ok } = kubectlRunners(h);

function pod(name: string, labels: Record<string, string>) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels }, spec: { containers: [{ name: "main", image: "berth/busybox:latest" }] } };
}

describe("kubectl against the REST API", () => {
  it("kubectl - get nodes prints a table with the node", async () => {
    await h.test.api.create("nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: "node-1" },
      spec: {},
      status: { conditions: [{ type: "Ready", status: "True" }], nodeInfo: { kubeletVersion: "v1.32.0-berth" } },
    });
    const out = await ok(["get", "nodes"]);
    expect(out).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\n/);
    expect(out).toMatch(/node-1\s+\S+\s+<none>\s+\S+/);
  });

  it("kubectl - apply of a multi-document manifest creates, and an edited re-apply patches (strategic merge)", async () => {
    const file = join(h.dir, "app.yaml");
    await writeFile(file, manifest(2, "hello", 80));
    const first = await h.kubectl(["apply", "-f", file]);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("replicationcontroller/web created\nservice/web created\n");

    await writeFile(file, manifest(3, "bonjour", 81));
    const second = await h.kubectl(["apply", "-f", file, "-v=6"]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe("replicationcontroller/web configured\nservice/web configured\n");
    // Validation ran against our OpenAPI (no --validate=false) and the updates went as PATCHes.
    expect(second.stderr).toContain("/openapi/v3/api/v1");
    expect(second.stderr).toMatch(/PATCH https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/default\/replicationcontrollers\/web\?.*fieldValidation=Strict 200/);

    const rc = (await h.test.api.get("replicationcontrollers", "web", "default")) as ReplicationController;
    expect(rc.spec.replicas).toBe(3);
    expect(rc.spec.template?.spec.containers).toHaveLength(1);
    expect(rc.spec.template?.spec.containers[0].env).toEqual([{ name: "GREETING", value: "bonjour" }]);
    expect(rc.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]).toContain("bonjour");
    const svc = (await h.test.api.get("services", "web", "default")) as Service;
    expect(svc.spec.ports?.map((p) => p.port)).toEqual([81]);
  });

  it("kubectl - a manifest with a field the schema lacks is refused by validation", async () => {
    const file = join(h.dir, "bad.yaml");
    await writeFile(file, `apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c, image: berth/busybox:latest}]\n  notAField: 1\n`);
    const r = await h.kubectl(["apply", "-f", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("notAField");
  });

  it("kubectl - get pods -o wide and -l select and show the wide columns", async () => {
    await h.test.api.create("pods", pod("web-a", { app: "web" }), "default");
    await h.test.api.create("pods", pod("db-a", { app: "db" }), "default");
    const wide = await ok(["get", "pods", "-o", "wide"]);
    expect(wide.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE$/);
    expect(wide).toMatch(/web-a\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>/);
    const selected = await ok(["get", "pods", "-l", "app=web", "-o", "name"]);
    expect(selected.trim()).toBe("pod/web-a");
    const notIn = await ok(["get", "po", "-l", "app notin (web)", "--no-headers"]);
    expect(notIn).toMatch(/^db-a\s/);
  });

  it("kubectl - describe pod shows the pod's details", async () => {
    const out = await ok(["describe", "pod", "web-a"]);
    expect(out).toMatch(/Name:\s+web-a/);
    expect(out).toMatch(/Namespace:\s+default/);
    expect(out).toMatch(/Labels:\s+app=web/);
    expect(out).toMatch(/Image:\s+berth\/busybox:latest/);
  });

  it("kubectl - scale rc patches the scale subresource", async () => {
    expect(await ok(["scale", "rc", "web", "--replicas=5"])).toBe("replicationcontroller/web scaled\n");
    const rc = (await h.test.api.get("replicationcontrollers", "web", "default")) as ReplicationController;
    expect(rc.spec.replicas).toBe(5);
  });

  it("kubectl - get pods -w prints changes as they happen", async () => {
    const child = h.spawnKubectl(["get", "pods", "-w", "-l", "app=watched"]);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    try {
      // kubectl prints nothing for an empty list; wait until its watch is open by creating and seeing a pod.
      await h.test.api.create("pods", pod("watched-1", { app: "watched" }), "default");
      await waitFor(() => out.includes("watched-1"), "kubectl -w to print the first pod");
      await h.test.api.create("pods", pod("watched-2", { app: "watched" }), "default");
      await waitFor(() => out.includes("watched-2"), "kubectl -w to print the second pod");
      const before = out.split("\n").filter((l) => l.startsWith("watched-1")).length;
      await h.test.api.delete("pods", "watched-1", "default", { gracePeriodSeconds: 0 });
      await waitFor(() => out.split("\n").filter((l) => l.startsWith("watched-1")).length > before, "kubectl -w to print the deletion");
      expect(out.split("\n")[0]).toMatch(/^NAME\s+READY\s+STATUS/);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("kubectl - delete -f removes what the manifest created", async () => {
    const file = join(h.dir, "app.yaml");
    const out = await ok(["delete", "-f", file]);
    expect(out).toBe('replicationcontroller "web" deleted\nservice "web" deleted\n');
    await expect(h.test.api.get("replicationcontrollers", "web", "default")).rejects.toMatchObject({ code: 404 });
    await expect(h.test.api.get("services", "web", "default")).rejects.toMatchObject({ code: 404 });
  });

  it("kubectl - delete pod waits for and sees the deletion", async () => {
    const out = await ok(["delete", "pod", "db-a", "--grace-period=0", "--force"]);
    expect(out).toContain('pod "db-a" force deleted');
    const pods = await h.test.api.list("pods", { namespace: "default" });
    expect(pods.items.map((p: Pod) => p.metadata.name)).not.toContain("db-a");
  });
});
