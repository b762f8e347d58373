/**
 * The REST API over a real store for integration and e2e tests: `startTestApi()` (private
 * nats-server + KV store + `Api`), a fresh CA and server certificate, the HTTPS server, and a
 * kubeconfig in a temp dir, with helpers to run kubectl against it; `useRestHarness` for a test
 * file's hooks, `kubectlRunners` for its `ok`/`refused`, and `deploymentYaml` for its manifests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { stringify } from "yaml";
import { startTestApi, type TestApi } from "./api.ts";
import type { ApiClient } from "../../model/client.ts";
import { startHttpApi, type HttpApi, type LogProvider } from "../../runtime/http/server.ts";
import type { StreamProvider } from "../../runtime/stream/open.ts";
import { generateCa, generateServerCert, generateToken, writeKubeconfig } from "../../runtime/tls.ts";
import { ephemeralServiceAccountTokens, type ServiceAccountTokens } from "../../runtime/auth/sa_tokens.ts";

export interface RestHarness {
  test: TestApi;
  http: HttpApi;
  caPem: string;
  token: string;
  /** The ServiceAccount token issuer the API checks tokens with (a fresh key per harness). */
  tokens: ServiceAccountTokens;
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

export interface RestHarnessOptions {
  logs?: LogProvider;
  streams?: StreamProvider;
  watchTimeoutSeconds?: number;
  wrapApi?: (api: ApiClient) => ApiClient;
}

export async function startRestHarness(opts: RestHarnessOptions = {}): Promise<RestHarness> {
  // One issuer for the Api (TokenRequest) and the REST API (which checks the tokens).
  const tokens = await ephemeralServiceAccountTokens();
  const test = await startTestApi({ tokens });
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1", "localhost"] });
  const token = generateToken();
  const http = await startHttpApi({
    tokens,
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
    tokens,
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

/**
 * A harness for a test file: started in beforeAll (with `hookTimeoutMs`), stopped in afterAll.
 * Returns it, its fields filled in when beforeAll runs. Hooks the file registers after this call
 * run after its start and, vitest running after-hooks in reverse, before its stop.
 */
export function useRestHarness(opts: RestHarnessOptions = {}, hookTimeoutMs?: number): RestHarness {
  const h = {} as RestHarness;
  beforeAll(async () => {
    Object.assign(h, await startRestHarness(opts));
  }, hookTimeoutMs);
  afterAll(async () => {
    await h.stop?.();
  });
  return h;
}

export interface KubectlRunners {
  /** Runs kubectl with `stdin`; resolves with its stdout, rejects when it exits non-zero. */
  ok(args: string[], stdin?: string): Promise<string>;
  /** A kubectl run that must fail; resolves with its stderr. */
  refused(args: string[], stdin?: string): Promise<string>;
}

/** `ok` and `refused` on `h`, each run killed after `timeoutMs` (the harness's default if not given). */
export function kubectlRunners(h: RestHarness, timeoutMs?: number): KubectlRunners {
  return {
    ok: (args, stdin) => h.kubectlOk(args, { stdin, timeoutMs }),
    refused: (args, stdin) => h.kubectlFails(args, { stdin, timeoutMs }),
  };
}

export interface DeploymentYamlOptions {
  replicas?: number;
  /** berth/busybox:latest unless given. */
  image?: string;
  /** The container's name; the Deployment's unless given. */
  container?: string;
  /** Labels the Deployment itself app=NAME too, not only its pods. */
  labelled?: boolean;
  /** More fields of the Deployment's spec, of its pods' spec, and of the container. */
  spec?: Record<string, unknown>;
  podSpec?: Record<string, unknown>;
  containerSpec?: Record<string, unknown>;
}

/** A Deployment manifest for kubectl: pods labelled app=NAME, selected by that label, with one container. */
export function deploymentYaml(name: string, o: DeploymentYamlOptions = {}): string {
  // A new object each time: the same one twice would be written as a YAML anchor and alias.
  const labels = () => ({ app: name });
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, ...(o.labelled ? { labels: labels() } : {}) },
    spec: {
      ...(o.replicas === undefined ? {} : { replicas: o.replicas }),
      ...o.spec,
      selector: { matchLabels: labels() },
      template: {
        metadata: { labels: labels() },
        spec: { ...o.podSpec, containers: [{ name: o.container ?? name, image: o.image ?? "berth/busybox:latest", ...o.containerSpec }] },
      },
    },
  });
}
