/**
 * Berth's programmatic API: `import { Cluster } from "berth"`.
 *
 * ```ts
 * const cluster = await Cluster.start();            // private NATS + store + API
 * await cluster.apply(readFileSync("app.yaml", "utf8"));
 * const pods = await cluster.client.list("pods");
 * await cluster.stop();
 * ```
 */
export { Cluster, readClusterInfo, applyOne, type ClusterOptions, type ClusterInfo, type Applied } from "./runtime/cluster.ts";
export { startClusterComponents, startRestApi } from "./runtime/cluster_components.ts";
export { Api } from "./runtime/api/api.ts";
export { NatsApiClient } from "./runtime/api/nats_client.ts";
export { KvStore } from "./runtime/store/kv_store.ts";
export { startNatsServer } from "./runtime/nats/server.ts";
export { parseManifests } from "./runtime/api/manifest.ts";
export { waitFor, waitForSet, waitForPodReady, waitForPodsReady, waitForReplicationController, WaitTimeoutError, type WaitOptions } from "./runtime/wait.ts";
export * from "./model/errors.ts";
export type * from "./model/types.ts";
export type { ApiClient, ListOptions, WatchOptions, Watch, DeleteOptions } from "./model/client.ts";
export * as chaos from "./runtime/chaos/index.ts";
export { listActors, watchActors, type ActorFilter, type ActorRecord } from "./runtime/inspect/actor_client.ts";
export { Observability, type ObservabilityOptions } from "./runtime/observability.ts";
export type { Metrics, Counter, Gauge, Histogram, Labels } from "./model/metrics.ts";
export type { UsageReport, PodUsage, ContainerUsage } from "./model/usage.ts";
