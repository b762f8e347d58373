/**
 * `Cluster`: a whole Berth cluster in one process — what `berth up` runs and what
 * `import { Cluster } from "berth"` starts.
 *
 *   nats-server (child, JetStream on disk under home)  ─┐
 *   KvStore ─ Api ─┬─ NATS API (berth.api.v1.*)          │ or an external NATS (`natsUrl`)
 *                  └─ REST API (TLS + bearer token)      │
 *   control plane (scheduler, RC controllers, node lifecycle, GC)
 *   node agents (kubelets) on Docker or the hollow runtime
 *   service proxy (cluster DNS, ClusterIPs, TCP proxies)
 *
 * Stopping is orderly and idempotent: agents leave their containers running (a restart with
 * the same home re-adopts them) unless `stop({ removePods: true })` is asked for.
 */
import { mkdirSync, writeFileSync, existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { encryptionTransformer, loadOrCreateEncryptionConfig } from "./security/encryption.ts";
import { Api } from "./api/api.ts";
import { readClusterInfo, type ClusterInfo } from "./cluster_info.ts";
import { applyOne, type Applied } from "./api/apply_one.ts";

import type { ApiClient } from "../model/client.ts";
import { ApiError } from "../model/errors.ts";
import { parseManifests, validateManifests } from "./api/manifest.ts";
import type { Resource, ResourceTypes } from "../model/types.ts";
import { serveApiOverNats, type NatsApiServer } from "./api/nats_server.ts";
import { connectNats, type NatsConnection } from "./nats/connection.ts";
import { startNatsServer, type NatsServerHandle } from "./nats/server.ts";
import { makeNatsAuth, type NatsAuth } from "./nats/auth.ts";
import type { AdmissionPolicy } from "./security/admission.ts";
import { compactPeriodically, KvStore } from "./store/kv_store.ts";
import { Observability, type ObservabilityOptions } from "./observability.ts";
import { instrumentStore } from "./metrics/store.ts";
import { listActors, watchActors, type ActorFilter, type ActorRecord } from "./inspect/actor_client.ts";
import { loadServiceAccountTokens } from "./auth/sa_tokens.ts";

import type { Log } from "../model/log.ts";

export { readClusterInfo, applyOne, type ClusterInfo, type Applied };
/** The log sink a cluster takes (kept under its first name for the programmatic API). */
export type Logger = Log;

export interface ClusterOptions {
  /** State directory (JetStream data, cluster.json, kubeconfig). Absent: a temp dir removed on stop. */
  home?: string;
  /** Use this NATS instead of starting a private nats-server. */
  natsUrl?: string;
  /**
   * Node names whose NATS identities the private nats-server should know (each node agent
   * connects as its own identity, confined to its own subjects; docs/security.md).
   */
  nodeNames?: string[];
  /** Address the private nats-server listens on. Default 127.0.0.1 (see docs/security.md before changing it). */
  listen?: string;
  /** Pod admission policy (e.g. `{ allowHostPath: false }`). */
  admission?: Partial<AdmissionPolicy>;
  /**
   * How often deletion tombstones older than this are purged from the store (Kubernetes
   * compacts etcd every 5 minutes). A watch resuming from before a compaction gets 410 Gone
   * and relists. 0 disables compaction. Default 5 minutes.
   */
  compactionIntervalMs?: number;
  /** Metrics and actor inspection (both on by default; see docs/observability.md). */
  observability?: ObservabilityOptions;
  log?: Logger;
}


export class Cluster {
  private stopping?: Promise<void>;
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  private constructor(
    readonly home: string,
    readonly natsUrl: string,
    readonly nc: NatsConnection,
    readonly store: KvStore,
    /** The in-process API: the same validation and behaviour as the NATS and REST faces. */
    readonly api: Api,
    readonly log: Logger,
    private readonly ownHome: boolean,
    /** The NATS identities of the private nats-server (absent with an external `natsUrl`). */
    readonly auth?: NatsAuth,
    /** This process's metrics registries and actor publishers. */
    readonly observability: Observability = new Observability(),
  ) {}

  /** Starts NATS (unless given), the store and the API. */
  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const log = opts.log ?? (() => {});
    const ownHome = !opts.home;
    const home = resolve(opts.home ?? join(tmpDir(), `berth-${process.pid}-${Date.now()}`));
    mkdirSync(home, { recursive: true });
    let server: NatsServerHandle | undefined;
    let natsUrl = opts.natsUrl;
    let auth: NatsAuth | undefined;
    if (!natsUrl) {
      // A `berth up` killed with SIGKILL cannot stop its nats-server child; that orphan would
      // hold the JetStream store. Stop it before starting our own.
      await stopStaleNatsServers(join(home, "nats", "nats-server.conf"), log);
      mkdirSync(join(home, "nats"), { recursive: true });
      auth = makeNatsAuth({ nodeNames: opts.nodeNames ?? [], dir: join(home, "nats") });
      server = await startNatsServer({ dir: join(home, "nats"), host: opts.listen, authorization: auth.serverConfig });
      natsUrl = server.url;
      log("nats-server started", { url: natsUrl, pid: server.pid });
    }
    let nc: NatsConnection;
    try {
      nc = await connectNats({ servers: natsUrl, name: "berth-cluster", ...(auth ? { user: auth.controlPlane.user, pass: auth.controlPlane.pass } : {}) });
    } catch (e) {
      await server?.stop();
      throw e;
    }
    const store = await KvStore.open(nc);
    // Secrets are encrypted at rest with the key in <home>/encryption-config.yaml (made if absent).
    store.useTransformer(encryptionTransformer(loadOrCreateEncryptionConfig(home)));
    const observability = new Observability(opts.observability);
    const apiMetrics = observability.registry("api");
    if (apiMetrics) instrumentStore(store, apiMetrics);
    // ServiceAccount tokens are signed with <home>/pki/sa.key (made on first use).
    const api = await Api.open(store, { admission: opts.admission, tokens: await loadServiceAccountTokens(home) });
    const cluster = new Cluster(home, natsUrl, nc, store, api, log, ownHome, auth, observability);
    const natsApi: NatsApiServer = serveApiOverNats(nc, api, { log });
    cluster.cleanups.push(() => natsApi.stop());
    cluster.cleanups.push(() => api.close());
    cluster.cleanups.push(async () => {
      observability.close();
      await nc.drain().catch(() => {});
    });
    if (server) cluster.cleanups.push(() => server!.stop());
    cluster.onStop(compactPeriodically(store, opts.compactionIntervalMs ?? 5 * 60_000, log));
    // Returned once the NATS server has the API's subscriptions; if it never does, nothing is left running.
    await natsApi.ready.catch(async (e: unknown) => {
      await cluster.stop();
      throw e;
    });
    return cluster;
  }

  /** The API client for programmatic use (in-process, no network hop). */
  get client(): ApiClient {
    return this.api;
  }

  /** Registers work to run on stop, last registered first. */
  onStop(fn: () => Promise<void> | void): void {
    this.cleanups.unshift(fn);
  }

  /**
   * Applies manifests (YAML/JSON text) or objects the way `kubectl apply` does: create what is
   * absent, update what exists (keeping status and server-set fields), report what changed.
   * Every document is validated before anything is written.
   */
  async apply(input: string | unknown[], source = "<input>"): Promise<Applied[]> {
    const docs = typeof input === "string" ? parseManifests(input, source) : input.map((o, index) => toDoc(o, source, index));
    validateManifests(docs);
    const out: Applied[] = [];
    for (const d of docs) out.push(await applyOne(this.api, d.resource, d.object));
    return out;
  }

  /** Waits until `predicate` holds for the named object (polling a watch-free read; cheap and robust). */
  async waitFor<R extends Resource>(
    resource: R,
    name: string,
    predicate: (o: ResourceTypes[R]) => boolean,
    opts: { namespace?: string; timeoutMs?: number } = {},
  ): Promise<ResourceTypes[R]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let last: ResourceTypes[R] | undefined;
    for (;;) {
      try {
        last = await this.api.get(resource, name, opts.namespace);
        if (predicate(last)) return last;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${resource}/${name}${last ? ` (last seen: ${JSON.stringify((last as { status?: unknown }).status ?? {})})` : " (not found)"}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every live actor of the cluster (pods, nodes, work loops, …), from every process, over NATS. */
  actors(filter: ActorFilter = {}): Promise<ActorRecord[]> {
    return listActors(this.nc, filter);
  }

  /** Calls `onRecord` with each actor transition matching `filter` (coalesced per tick) until stopped. */
  watchActors(filter: ActorFilter, onRecord: (r: ActorRecord) => void): { stop(): void } {
    return watchActors(this.nc, filter, onRecord);
  }

  /** Writes `cluster.json` under home. */
  writeInfo(info: Omit<ClusterInfo, "pid" | "home" | "natsUrl" | "startedAt">): ClusterInfo {
    const full: ClusterInfo = {
      natsUrl: this.natsUrl,
      pid: process.pid,
      home: this.home,
      startedAt: new Date().toISOString(),
      ...(this.auth ? { natsUser: this.auth.cli.user, natsPassword: this.auth.cli.pass } : {}),
      ...info,
    };
    writeFileSync(join(this.home, "cluster.json"), JSON.stringify(full, null, 2) + "\n", { mode: 0o600 });
    this.onStop(() => rmSync(join(this.home, "cluster.json"), { force: true }));
    return full;
  }

  /** Stops everything this cluster started. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const fn of this.cleanups) {
        try {
          await fn();
        } catch (e) {
          // Keep stopping the rest: one failed cleanup must not leave other children running.
          this.log("cluster: cleanup failed", { error: String(e) });
        }
      }
      if (this.ownHome) rmSync(this.home, { recursive: true, force: true });
    })();
    return this.stopping;
  }
}

/** Stops nats-server processes started with `confPath` (left behind by a killed `berth up`). */
async function stopStaleNatsServers(confPath: string, log: Logger): Promise<void> {
  let pids: number[] = [];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return cmd.some((a) => a.endsWith("nats-server")) && cmd.includes(confPath);
      } catch {
        return false; // exited meanwhile, or not ours to read
      }
    });
  } catch {
    return; // no /proc (not Linux): nothing we can find
  }
  for (const pid of pids) {
    log("stopping a stale nats-server left by an earlier berth up", { pid });
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      continue;
    }
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && existsSync(`/proc/${pid}`)) await new Promise((r) => setTimeout(r, 50));
    if (existsSync(`/proc/${pid}`)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
}

function tmpDir(): string {
  return process.env.TMPDIR ?? "/tmp";
}

function toDoc(o: unknown, source: string, index: number) {
  const parsed = parseManifests(JSON.stringify(o), `${source}[${index}]`);
  return parsed[0];
}

