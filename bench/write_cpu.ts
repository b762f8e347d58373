/**
 * CPU per API write, in process: `Api.create` of pods, Events or ConfigMaps shaped as the
 * scheduling bench writes them, 100 in flight, through the real store on a nats-server child
 * (the watch cache following, as always). What a write path change buys, apart from the rest
 * of a cluster. `--kind token`: the TokenRequest a kubelet makes for every pod it starts (a
 * pod-bound token of the `default` account, signed; nothing stored).
 *
 *   npx tsx bench/write_cpu.ts [--kind pod|event|configmap|token] [--writes 20000] [--rounds 8]
 *
 * Prints each round, then the min and median of the rounds after the first two (JIT warm-up).
 * The CPU is this process's only (nats-server's is not counted).
 */
import { Api } from "../runtime/api/api.ts";
import { KvStore } from "../runtime/store/kv_store.ts";
import { startNatsServer } from "../runtime/nats/server.ts";
import { connectNats } from "../runtime/nats/connection.ts";
import { numArg, strArg } from "./args.ts";
import { ephemeralServiceAccountTokens } from "../runtime/auth/sa_tokens.ts";
import { median } from "./stats.ts";

const KIND = strArg("kind", "pod");
const N = numArg("writes", 20_000);
const ROUNDS = numArg("rounds", 8);
if (!["pod", "event", "configmap", "token"].includes(KIND)) {
  console.error(`bench/write_cpu.ts: --kind must be pod, event, configmap or token, not "${KIND}"`);
  process.exit(2);
}

const RC_UID = "0b7c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3";
const objects = {
  pod: (n: string) => ({
    apiVersion: "v1", kind: "Pod",
    metadata: { name: `bench-${n}`, namespace: "default", labels: { app: "bench-1" }, ownerReferences: [{ apiVersion: "v1", kind: "ReplicationController", name: "bench-1", uid: RC_UID, controller: true, blockOwnerDeletion: true }] },
    spec: { containers: [{ name: "c", image: "berth/busybox:latest" }] },
  }),
  event: (n: string) => {
    const at = new Date().toISOString();
    return {
      apiVersion: "v1", kind: "Event",
      metadata: { name: `bench-1-${n}.18a7b2c3d4e5f6a7`, namespace: "default" },
      involvedObject: { kind: "Pod", namespace: "default", name: `bench-1-${n}`, uid: RC_UID, apiVersion: "v1", fieldPath: "spec.containers{c}" },
      reason: "Started", message: "Started container c", type: "Normal",
      source: { component: "kubelet", host: "hollow-001" }, reportingComponent: "kubelet", reportingInstance: "hollow-001",
      firstTimestamp: at, lastTimestamp: at, count: 1,
    };
  },
  configmap: (n: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: `cm-${n}`, namespace: "default" }, data: { a: "b".repeat(50) } }),
};
const resource = ({ pod: "pods", event: "events", configmap: "configmaps", token: "pods" } as const)[KIND as "pod"];
const make = objects[KIND === "token" ? "pod" : (KIND as "pod")];

const nats = await startNatsServer();
const nc = await connectNats({ servers: nats.url, name: "bench-write-cpu" });
const api = await Api.open(await KvStore.open(nc), KIND === "token" ? { tokens: await ephemeralServiceAccountTokens() } : {});
/** For `--kind token`: one pod the tokens are bound to, as the kubelet's for the pod it starts. */
const bound = KIND === "token" ? await api.create("pods", { ...make("token-pod"), metadata: { name: "token-pod", namespace: "default" } }) : undefined;
if (bound) await api.create("serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "default" } }).catch((e) => {
  if ((e as { reason?: string }).reason !== "AlreadyExists") throw e;
});
const write = (n: string): Promise<unknown> => bound
  ? api.createToken("default", "default", { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: "v1", kind: "Pod", name: bound.metadata.name, uid: bound.metadata.uid } } })
  : api.create(resource, make(n));
const perWrite: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let i = 0;
  await Promise.all(Array.from({ length: 100 }, async () => {
    while (i < N) await write(`${round}-${i++}`);
  }));
  const c = process.cpuUsage(c0);
  perWrite.push((c.user + c.system) / N);
  console.log(`round ${round + 1}: ${perWrite[round].toFixed(1)} µs of CPU per ${KIND} create, ${(N / ((performance.now() - t0) / 1000)).toFixed(0)} creates/s`);
}
const warm = perWrite.slice(2);
console.log(`command: npx tsx bench/write_cpu.ts --kind ${KIND} --writes ${N} --rounds ${ROUNDS}`);
console.log(`${KIND} create: min ${Math.min(...warm).toFixed(1)} µs, median ${median(warm).toFixed(1)} µs of CPU (rounds 3-${ROUNDS})`);
api.close();
await nc.close();
await nats.stop();
process.exit(0);
