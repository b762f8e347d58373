/**
 * REST API mutating-call latency under concurrent load.
 *
 * A private nats-server + JetStream KV store + `Api`, served over HTTPS with a bearer token
 * exactly as `berth up` serves it; C concurrent clients (keep-alive connections, one request in
 * flight each) each create a pod and delete it (gracePeriodSeconds=0), N times. No nodes run, so
 * pods stay Pending: this measures the API and the store, not Docker. Prints p50/p90/p99/max of
 * every mutating call, and the throughput. The peer, measured in the same run: the same workload
 * calling the in-process `Api` directly (no HTTP, no TLS), i.e. what the store and validation cost.
 *
 * The REST figures count served calls only; calls refused with 429 are counted apart (the
 * clients all share the cluster's one REST identity, so its token bucket — 100/s, burst 500 —
 * refuses most of a 50-client flood). `--rate-limit off` measures the API without that policy
 * (flow control still applies), as kube-apiserver's own load tests run without client-side or
 * server-side rate limits; `--rate-limit default` keeps `berth up`'s.
 *
 * `--as admin` (the default) sends the cluster token, whose holder is in system:masters and is
 * never looked up in RBAC; `--as serviceaccount` sends a ServiceAccount's token (TokenRequest),
 * allowed to create and delete pods by a Role and RoleBinding: each call then pays for the
 * token check (cached for 10 s after the first) and RBAC's evaluation.
 *
 *   npx tsx bench/api.ts [--clients 50] [--iterations 40] [--rate-limit off|default] [--as admin|serviceaccount]
 */
import { Agent, request } from "node:https";
import { fork } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { Api } from "../runtime/api/api.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startHttpApi } from "../runtime/http/server.ts";
import { generateCa, generateServerCert, generateToken } from "../runtime/tls.ts";
import { ephemeralServiceAccountTokens } from "../runtime/auth/sa_tokens.ts";
import { numArg, strArg } from "./args.ts";
import { percentile } from "./stats.ts";

const clients = numArg("clients", 50);
const iterations = numArg("iterations", 40);
const warmup = numArg("warmup", 10);
const rateLimit = strArg("rate-limit", "off");
if (rateLimit !== "off" && rateLimit !== "default") throw new Error(`--rate-limit must be off or default, not ${JSON.stringify(rateLimit)}`);
const clientsIn = strArg("clients-in", "process,same").split(",");
const as = strArg("as", "admin");
if (as !== "admin" && as !== "serviceaccount") throw new Error(`--as must be admin or serviceaccount, not ${JSON.stringify(as)}`);
for (const where of clientsIn) if (where !== "process" && where !== "same") throw new Error(`--clients-in takes process and/or same, not ${JSON.stringify(where)}`);

/** What the REST clients need to reach the server, and which names to use. */
interface ClientJob {
  url: string;
  token: string;
  ca: string;
  clients: number;
  iterations: number;
  warmup: number;
  prefix: string;
}

/** What they measured: served latencies (ms), refused (429) latencies, failures, seconds. */
interface ClientResult {
  latencies: number[];
  refused: number[];
  failures: number;
  elapsed: number;
}

/** The REST workload: `clients` keep-alive HTTPS clients, each creating and deleting a pod `iterations` times. */
async function restWorkload(job: ClientJob): Promise<ClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.clients, ca: job.ca });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<number>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(new URL(path, job.url), {
        method,
        agent,
        headers: {
          authorization: `Bearer ${job.token}`,
          ...(payload ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
        },
      });
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(payload);
    });

  const latencies: number[] = [];
  const refused: number[] = [];
  let failures = 0;
  const timed = async (method: string, path: string, body: unknown, ok: number[]) => {
    const t0 = performance.now();
    const status = await call(method, path, body);
    if (status === 429) refused.push(performance.now() - t0);
    else latencies.push(performance.now() - t0);
    if (!ok.includes(status) && status !== 429) failures++;
    return status;
  };

  const run = (iterations: number, prefix: string, measure: boolean) =>
    Promise.all(
      Array.from({ length: job.clients }, async (_, c) => {
        const send = measure ? timed : (method: string, path: string, body: unknown) => call(method, path, body);
        for (let i = 0; i < iterations; i++) {
          const name = `${prefix}-${c}-${i}`;
          const created = await send("POST", "/api/v1/namespaces/default/pods", {
            apiVersion: "v1",
            kind: "Pod",
            metadata: { name, labels: { app: "bench" } },
            spec: { containers: [{ name: "main", image: "berth/busybox:latest" }] },
          }, [201]);
          if (created === 429) continue; // refused: nothing to delete
          await send("DELETE", `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`, undefined, [200]);
        }
      }),
    );

  // Warm-up, not measured: TLS handshakes, then `warmup` creates and deletes per client, so
  // the client's and the server's HTTP paths are compiled by the JIT before the measured
  // calls (without it the first REST row of a run paid for that and the second did not).
  await Promise.all(Array.from({ length: job.clients }, (_, c) => call("GET", `/api/v1/namespaces/default/pods?limit=1&c=${c}`)));
  await run(job.warmup, `${job.prefix}-warm`, false);

  const started = performance.now();
  await run(job.iterations, job.prefix, true);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  return { latencies, refused, failures, elapsed };
}

/** The same workload in a child process of this program (`--role clients`), over IPC. */
function restWorkloadInChild(job: ClientJob): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--role", "clients"], { execArgv: process.execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let result: ClientResult | undefined;
    child.on("message", (m) => (result = m as ClientResult));
    child.on("error", reject);
    child.on("exit", (code) => (result && code === 0 ? resolve(result) : reject(new Error(`the client process exited with ${code} before reporting`))));
    child.send(job);
  });
}

async function main() {
  const nats = await startNatsServer();
  const nc = await connectNats({ servers: nats.url, name: "berth-bench-api" });
  const store = await KvStore.open(nc);
  const tokens = await ephemeralServiceAccountTokens();
  const api = await Api.open(store, { tokens });
  const ca = await generateCa();
  const cert = await generateServerCert(ca, { hosts: ["127.0.0.1"] });
  const clusterToken = generateToken();
  const http = await startHttpApi({ api, token: clusterToken, tokens, tls: { cert: cert.certPem, key: cert.keyPem }, log: () => {}, ...(rateLimit === "off" ? { rateLimit: { enabled: false } } : {}) });
  let token = clusterToken;
  if (as === "serviceaccount") {
    const rbac = "rbac.authorization.k8s.io/v1";
    await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "bench" } }, "default");
    await api.create("roles", { apiVersion: rbac, kind: "Role", metadata: { name: "bench" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "list"] }] }, "default");
    await api.create("rolebindings", { apiVersion: rbac, kind: "RoleBinding", metadata: { name: "bench" }, subjects: [{ kind: "ServiceAccount", name: "bench", namespace: "default" }], roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "bench" } }, "default");
    token = (await api.createToken("bench", "default", { spec: {} })).status.token;
  }

  // Peer: the same workload straight into the Api (warmed up the same way, not measured).
  const direct: number[] = [];
  const inProcess = (n: number, prefix: string, into?: number[]) =>
    Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < n; i++) {
          const name = `${prefix}-${c}-${i}`;
          let t0 = performance.now();
          await api.create("pods", { apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: "bench" } }, spec: { containers: [{ name: "main", image: "berth/busybox:latest" }] } }, "default");
          into?.push(performance.now() - t0);
          t0 = performance.now();
          await api.delete("pods", name, "default", { gracePeriodSeconds: 0 });
          into?.push(performance.now() - t0);
        }
      }),
    );
  await inProcess(warmup, "direct-warm");
  const directStart = performance.now();
  await inProcess(iterations, "direct", direct);
  const directElapsed = (performance.now() - directStart) / 1000;
  direct.sort((a, b) => a - b);

  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(`command: npx tsx bench/api.ts --clients ${clients} --iterations ${iterations} --warmup ${warmup} --rate-limit ${rateLimit} --clients-in ${clientsIn.join(",")} --as ${as}`);
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`peer (in-process Api, no HTTP): ${direct.length} calls in ${directElapsed.toFixed(2)} s = ${(direct.length / directElapsed).toFixed(0)} calls/s; p50 ${fmt(percentile(direct, 50))}  p99 ${fmt(percentile(direct, 99))}`);

  let failures = 0;
  for (const where of clientsIn) {
    const job: ClientJob = { url: http.url, token, ca: ca.certPem, clients, iterations, warmup, prefix: `bench-${where}` };
    const r = where === "process" ? await restWorkloadInChild(job) : await restWorkload(job);
    failures += r.failures;
    const lat = [...r.latencies].sort((a, b) => a - b);
    const label = where === "process" ? "clients in their own process" : "clients on the server's event loop";
    console.log(`REST over HTTPS, ${label}: ${lat.length} mutating calls served (${r.failures} failed), ${r.refused.length} refused with 429, in ${r.elapsed.toFixed(2)} s = ${(lat.length / r.elapsed).toFixed(0)} served calls/s`);
    console.log(`  served latency p50 ${fmt(percentile(lat, 50))}  p90 ${fmt(percentile(lat, 90))}  p99 ${fmt(percentile(lat, 99))}  max ${fmt(lat[lat.length - 1])}`);
  }

  await http.close();
  api.close();
  await nc.close();
  await nats.stop();
  if (failures) process.exitCode = 1;
}

if (strArg("role") === "clients") {
  process.once("message", (job) => {
    restWorkload(job as ClientJob).then(
      (r) => process.send!(r, undefined, {}, () => process.disconnect()),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  });
} else {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
