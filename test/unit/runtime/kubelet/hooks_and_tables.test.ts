import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContainerRuntime, ExecResult } from "../../../../model/container_runtime.ts";
import type { ConfigMap, Pod, Secret } from "../../../../model/types.ts";
import { hookFailedEvent, runHook } from "../../../../runtime/kubelet/container_config.ts";
import { formatTable, toTable } from "../../../../runtime/api/table.ts";

const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "ns", uid: "u1" }, spec: { containers: [{ name: "c", image: "i", ports: [{ name: "http", containerPort: 0 }] }] } };

describe("lifecycle hooks", () => {
  let server: Server;
  let port = 0;
  const hits: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(`${req.url} ${req.headers["x-hook"] ?? ""}`);
      res.statusCode = req.url === "/fail" ? 500 : 200;
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  const rt = (result: ExecResult) => ({ exec: async () => result }) as unknown as ContainerRuntime;

  it("hooks - exec succeeds on exit 0 and fails naming the command and exit code", async () => {
    const c = pod.spec.containers[0];
    expect(await runHook(rt({ exitCode: 0, stdout: "", stderr: "" }), "id", c, { exec: { command: ["true"] } }, "127.0.0.1", 1000)).toBeUndefined();
    const failed = await runHook(rt({ exitCode: 3, stdout: "", stderr: "boom" }), "id", c, { exec: { command: ["sh", "-c", "exit 3"] } }, "127.0.0.1", 1000);
    expect(failed).toBe("command 'sh -c exit 3' exited with 3: boom");
    const ev = hookFailedEvent("preStop", pod, c, { exec: { command: ["sh", "-c", "exit 3"] } }, failed!);
    expect(ev).toEqual({ type: "Warning", reason: "FailedPreStopHook", message: `Exec lifecycle hook (["sh","-c","exit 3"]) for Container "c" in Pod "p_ns(u1)" failed - error: command 'sh -c exit 3' exited with 3: boom` });
    expect(hookFailedEvent("postStart", pod, c, { exec: { command: ["x"] } }, "e").reason).toBe("FailedPostStartHook");
  });

  it("hooks - httpGet to the pod IP on a named port with headers; a 5xx or a refused connection fails", async () => {
    const c = { ...pod.spec.containers[0], ports: [{ name: "http", containerPort: port }] };
    expect(await runHook(rt({ exitCode: 0, stdout: "", stderr: "" }), "id", c, { httpGet: { path: "/ok", port: "http", httpHeaders: [{ name: "X-Hook", value: "1" }] } }, "127.0.0.1", 1000)).toBeUndefined();
    expect(hits).toContain("/ok 1");
    expect(await runHook(rt({ exitCode: 0, stdout: "", stderr: "" }), "id", c, { httpGet: { path: "/fail", port } }, "127.0.0.1", 1000)).toMatch(/failed with status 500/);
    expect(await runHook(rt({ exitCode: 0, stdout: "", stderr: "" }), "id", c, { httpGet: { path: "/", port: "nope" } }, "127.0.0.1", 1000)).toBe('unknown port "nope"');
    expect(await runHook(rt({ exitCode: 0, stdout: "", stderr: "" }), "id", c, { httpGet: { path: "/", port: 1 } }, "127.0.0.1", 1000)).toMatch(/ECONNREFUSED/);
  });
});

describe("tables - ConfigMaps and Secrets as kubectl prints them", () => {
  it("tables - configmaps NAME DATA AGE; secrets NAME TYPE DATA AGE", () => {
    const now = Date.parse("2026-12-02T01:00:00Z");
    const created = "2026-12-02T00:55:00Z";
    const cm: ConfigMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", creationTimestamp: created }, data: { a: "1", b: "2" }, binaryData: { c: "AA==" } };
    const s: Secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "reg", creationTimestamp: created }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "e30=" } };
    expect(formatTable(toTable("configmaps", [cm], { now }))).toBe("NAME   DATA   AGE\ncfg    3      5m\n");
    expect(formatTable(toTable("secrets", [s], { now }))).toBe("NAME   TYPE                             DATA   AGE\nreg    kubernetes.io/dockerconfigjson   1      5m\n");
  });
});
