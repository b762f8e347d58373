/**
 * An in-process cluster on the hollow runtime with the REST API (TLS, as `berth up`), for the
 * live page's integration tests and benchmark: fast to start, no Docker, no service proxy (so it
 * touches no ClusterIP on this machine — the Endpoints controller still runs).
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Cluster } from "../../runtime/cluster.ts";
import { startClusterComponents, type Components } from "../../runtime/cluster_components.ts";
import { tempHome } from "./cli.ts";

export interface HollowUiCluster {
  cluster: Cluster;
  components: Components;
  home: string;
  apiUrl: string;
  token: string;
  stop(): Promise<void>;
}

export async function startHollowUiCluster(opts: { nodes?: number; nodeNames?: string[]; heartbeatIntervalMs?: number; nodeGracePeriodMs?: number; log?: (msg: string, fields?: Record<string, unknown>) => void } = {}): Promise<HollowUiCluster> {
  const home = tempHome("berth-ui-");
  const nodeNames = opts.nodeNames ?? Array.from({ length: opts.nodes ?? 2 }, (_, i) => `node-${i + 1}`);
  const cluster = await Cluster.start({ home, nodeNames, log: opts.log });
  let components: Components;
  try {
    components = await startClusterComponents(cluster, {
      nodes: nodeNames.length,
      nodeNames,
      runtime: "hollow",
      services: false,
      heartbeatIntervalMs: opts.heartbeatIntervalMs,
      nodeGracePeriodMs: opts.nodeGracePeriodMs,
    });
    await components.waitReady();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return {
    cluster,
    components,
    home,
    apiUrl: components.apiUrl!,
    token: readFileSync(join(home, "token"), "utf8").trim(),
    async stop() {
      await cluster.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
