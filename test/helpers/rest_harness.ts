/**
 * The REST API over a real store for integration and e2e tests: `startTestApi()` (private
 * nats-server + KV store + `Api`), a fresh CA and server certificate, the HTTPS server, and a
 * kubeconfig in a temp dir, with helpers to run kubectl against it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestApi, type TestApi } from "./api.ts";
import type { ApiClient } from "../../model/client.ts";
import { startHttpApi, type HttpApi, type LogProvider } from "../../runtime/http/server.ts";
import type { StreamProvider } from "../../runtime/stream/open.ts";
import { generateCa, generateServerCert, generateToken, writeKubeconfig } from "../../runtime/tls.ts";

export interface RestHarness {
  test: TestApi;
  http: HttpApi;
  caPem: string;
  token: string;
  kubeconfig: string;
  dir: string;
  /** Runs kubectl with the generated kubeconfig; resolves with its exit code and output. */
  kubectl(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Runs kubectl and resolves with its stdout; rejects naming the command and its stderr when it exits non-zero. */
  kubectlOk(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<string>;
  /** Runs a kubectl that must fail and resolves with its stderr; rejects naming the command and its stdout when it exits 0. */
  kubectlFails(args: string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<string>;
  /** Starts a long-running kubectl (e.g. `get -w`); the caller kills it. */
  spawnKubectl(args: string[]): ChildProcess;
  stop(): Promise<void>;
}

export async function startRestHarness(
  opts: { logs?: LogProvider; streams?: StreamProvider; watchTimeoutSeconds?: number; wrapApi?: (api: ApiClient) => ApiClient } = {},
): Promise<RestHarness> {
  const test = await startTestApi();
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1", "localhost"] });
  const token = generateToken();
  const http = await startHttpApi({
    api: opts.wrapApi ? opts.wrapApi(test.api) : test.api,
    token,
    tls: { cert: cert.certPem, key: cert.keyPem },
    logs: opts.logs,
    streams: opts.streams,
    watchTimeoutSeconds: opts.watchTimeoutSeconds,
  });
  const dir = await mkdtemp(join(tmpdir(), "berth-rest-"));
  const kubeconfig = join(dir, "kubeconfig");
  await writeKubeconfig(kubeconfig, { server: http.url, caPem: ca.certPem, token, clusterName: "berth" });
  const children = new Set<ChildProcess>();
  // kubectl caches discovery under $HOME/.kube/cache; a private HOME keeps runs independent.
  const env = { ...process.env, HOME: dir, KUBECONFIG: kubeconfig };

  const spawnKubectl = (args: string[]) => {
    const child = spawn("kubectl", ["--kubeconfig", kubeconfig, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    children.add(child);
    child.on("exit", () => children.delete(child));
    return child;
  };

  const harness: RestHarness = {
    test,
    http,
    caPem: ca.certPem,
    token,
    kubeconfig,
    dir,
    spawnKubectl,
    async kubectlOk(args, o = {}) {
      const r = await harness.kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
    async kubectlFails(args, o = {}) {
      const r = await harness.kubectl(args, o);
      if (r.code === 0) throw new Error(`kubectl ${args.join(" ")} should have failed; stdout: ${r.stdout}`);
      return r.stderr;
    },
    kubectl(args, o = {}) {
      return new Promise((resolve, reject) => {
        const child = spawnKubectl(args);
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d) => (stdout += d));
        child.stderr!.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 30_000);
        child.on("error", (e) => {
          clearTimeout(timer);
          reject(new Error(`kubectl could not be started (is it on PATH?): ${e.message}`));
        });
        child.on("close", (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
        child.stdin!.end(o.stdin ?? "");
      });
    },
    async stop() {
      for (const c of children) c.kill("SIGKILL");
      await http.close();
      await test.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
