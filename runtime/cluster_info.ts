/**
 * `cluster.json`, the file `berth up` writes in a cluster's home: what the CLI, kubectl's
 * kubeconfig writer and other tools need to reach a running cluster. Kept apart from
 * runtime/cluster.ts so the CLI can read it without loading the cluster's machinery.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** What `cluster.json` holds, for the CLI and for other tools. */
export interface ClusterInfo {
  natsUrl: string;
  apiUrl?: string;
  dnsAddress?: string;
  token?: string;
  /** Credentials of the CLI's NATS identity, when the cluster's NATS requires them. */
  natsUser?: string;
  natsPassword?: string;
  kubeconfig?: string;
  /** The process's metrics listener and each component's scrape path on it (`berth up`). */
  metrics?: { url: string; paths: Record<string, string> };
  pid: number;
  home: string;
  nodes: string[];
  startedAt: string;
}

/** Reads `cluster.json` of a running cluster, or null. */
export function readClusterInfo(home: string): ClusterInfo | null {
  const p = join(home, "cluster.json");
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, "utf8")) as ClusterInfo;
  } catch {
    return null;
  }
}
