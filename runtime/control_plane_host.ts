/**
 * One copy of the control plane for a multi-machine cluster — what `berth control-plane` runs.
 *
 *   NATS cluster (JetStream, state bucket with R replicas)
 *     │
 *     ├── KvStore ─ Api ─ serveApiOverNats (queue group "berth-api": every copy answers, each
 *     │                   request is answered once)      [+ REST, optional]
 *     └── leader election (runtime/leader.ts)
 *           leading  ─▶ startControlPlane (scheduler, RC controllers, node lifecycle, GC,
 *                       the service controller: ClusterIP/NodePort allocation, Endpoints)
 *           standby  ─▶ nothing but the API
 *
 * The API is stateless over the store (every write is CAS), so all copies serve it at once. The
 * control loops are not safe to run twice (two RC controllers would both create the missing
 * pods), so exactly one copy runs them, and a copy that cannot renew its lease stops them
 * before the lease can expire anywhere else.
 *
 * The service controller runs here and not beside the node agents because it writes (it
 * allocates ClusterIPs and node ports and maintains Endpoints): one writer avoids two
 * allocators handing the same ClusterIP to two services. Node hosts only read Services and
 * Endpoints into their local proxies and DNS (runtime/node_host.ts).
 */
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { NatsConnection } from "@nats-io/nats-core";
import { Api } from "./api/api.ts";
import type { ApiClient } from "../model/client.ts";
import { NotSentError } from "../model/errors.ts";
import { serveApiOverNats, type NatsApiServer } from "./api/nats_server.ts";
import type { ValueTransformer } from "./security/encryption.ts";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "./control_plane.ts";
import { startLeaderElection, type LeaderElection } from "./leader.ts";
import { compactPeriodically, KvStore } from "./store/kv_store.ts";

import type { Log } from "../model/log.ts";
import type { Observability } from "./observability.ts";
import { instrumentStore } from "./metrics/store.ts";
import { UsageStore } from "./metrics/usage_store.ts";
import type { ServiceAccountTokens } from "./auth/sa_tokens.ts";

export interface ControlPlaneHostOptions {
  /** The store's connection: KV reads and writes, the watch cache's feed, the leader lease. */
  nc: NatsConnection;
  /**
   * The connection the API's requests arrive on and are answered on (default `nc`). Its own
   * socket keeps the store's replies and the lease's renewals from queuing behind a flood of
   * requests: on one connection, a density run's thousand node requests a second delayed every
   * store round trip by seconds (seats held, the lease lost), and the API served fewer.
   */
  requestsNc?: NatsConnection;
  /** JetStream replicas of the state bucket: 3 on a 3-server NATS cluster. Default 1. */
  replicas?: number;
  /** How long to keep retrying to open the state bucket while JetStream starts. Default 120 s. */
  storeOpenTimeoutMs?: number;
  /** Identity in the lease (default `<hostname>-<pid>-<random>`). */
  id?: string;
  leaseTtlMs?: number;
  leaseRenewMs?: number;
  leaseRenewDeadlineMs?: number;
  /** Options of the control loops (node grace period, eviction timeout, ...). */
  controlPlane?: Omit<ControlPlaneOptions, "client" | "log">;
  /** ClusterIP range (default 10.96.0.0/16); must be the same on every copy. */
  clusterCidr?: string;
  /** Written to `status.loadBalancer.ingress` of LoadBalancer services. Default 127.0.0.1. */
  ingressAddress?: string;
  /** How often the leading copy purges old tombstones from the store (0: never). Default 5 minutes. */
  compactionIntervalMs?: number;
  /** Encryption at rest of Secrets (runtime/security/encryption.ts); every copy needs the same keys. */
  encryption?: ValueTransformer;
  /** Issues ServiceAccount tokens (TokenRequest); every copy needs the same key (`<home>/pki/sa.key`). */
  tokens?: ServiceAccountTokens;
  /** Metrics (registries `api` and `control-plane`) and actor inspection (scope `control-plane`). */
  observability?: Observability;
  /**
   * Called each time this copy starts leading, once its loops run, with the term's fenced client
   * (e.g. to point the `kubernetes` Service at this copy's REST API). A failure is logged.
   */
  onStartedLeading?: (client: ApiClient) => Promise<void>;
  log?: Log;
}

export interface ControlPlaneHost {
  readonly id: string;
  readonly api: Api;
  readonly store: KvStore;
  readonly election: LeaderElection;
  readonly natsApi: NatsApiServer;
  /** The running control loops while this copy leads, else undefined. */
  readonly controlPlane: ControlPlane | undefined;
  readonly leading: boolean;
  /** Stops the loops, hands the lease over, stops serving the API. Leaves `nc` open. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The `leader-election` readiness check (kube-controller-manager has one by that name): a standby
 * copy passes; a copy that thinks it leads fails once its renew deadline has passed without a
 * renewal — it is stuck, and its loops are fenced.
 */
export function leaderElectionCheck(election: Pick<LeaderElection, "leading" | "mayAct" | "term">) {
  return {
    name: "leader-election",
    readinessOnly: true,
    check(): void {
      if (election.leading && !election.mayAct()) throw new Error(`leading term ${election.term} but the lease was not renewed before its deadline`);
    },
  };
}

/** A write refused because this copy does not hold the lease: nothing was sent. */
export class FencedError extends NotSentError {
  constructor(message: string) {
    super(message);
    this.name = "FencedError";
  }
}

const WRITES = new Set(["create", "update", "updateStatus", "patch", "delete", "updateScale", "bind"]);

/**
 * The client the control loops use: every write first checks `mayAct()` (the leader lease held
 * and its renew deadline not passed, on the local clock) and fails with `FencedError`
 * otherwise. Reads pass through. This is the fence at the point of writing; the election's
 * fence timer stops the loops themselves.
 */
export function fencedClient(client: ApiClient, mayAct: () => boolean): ApiClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== "function") return v;
      if (typeof prop === "string" && WRITES.has(prop)) {
        return (...args: unknown[]) => {
          if (!mayAct()) return Promise.reject(new FencedError(`not the leader (or the lease deadline passed): refusing ${prop}`));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

/**
 * Whether loops started for `term` may write now: the lease is held, its deadline has not
 * passed, and it is still the same term — a copy that lost the lease and won it back must not
 * let a write left over from its earlier term through.
 */
export function mayActInTerm(election: Pick<LeaderElection, "mayAct" | "term">, term: number): boolean {
  return election.mayAct() && election.term === term;
}

/**
 * Opens the state bucket, retrying while JetStream is not ready yet: a cluster whose servers
 * started a moment ago has no meta leader for a few seconds, and an R3 bucket cannot be created
 * until three servers are up. Errors that retrying cannot fix surface at the deadline.
 */
async function openStore(nc: NatsConnection, replicas: number, timeoutMs: number, log: Log, encryption?: ValueTransformer, tokens?: ServiceAccountTokens): Promise<{ store: KvStore; api: Api }> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      const store = await KvStore.open(nc, { replicas });
      if (encryption) store.useTransformer(encryption);
      // Api.open reads and may write (the initial namespaces): part of the same readiness.
      return { store, api: await Api.open(store, { tokens }) };
    } catch (e) {
      if (Date.now() > deadline) throw e;
      log("state bucket not available yet; retrying", { attempt, replicas, error: String(e) });
      await new Promise((r) => setTimeout(r, Math.min(2_000, 250 * attempt)));
    }
  }
}

/** Opens the store, serves the API and joins the leader election. */
export async function startControlPlaneHost(opts: ControlPlaneHostOptions): Promise<ControlPlaneHost> {
  const log: Log = opts.log ?? (() => {});
  const id = opts.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const { store, api } = await openStore(opts.nc, opts.replicas ?? 1, opts.storeOpenTimeoutMs ?? 120_000, log, opts.encryption, opts.tokens);
  const apiMetrics = opts.observability?.registry("api");
  if (apiMetrics) instrumentStore(store, apiMetrics);
  const observe = opts.observability?.observe("control-plane", { nc: opts.nc, scope: "control-plane" });
  const natsApi = serveApiOverNats(opts.requestsNc ?? opts.nc, api, { log: (m, f) => log(m, { component: "api", ...f }), metrics: apiMetrics });
  await natsApi.ready;

  // What HorizontalPodAutoscalers scale on: the node agents' usage reports, heard on NATS.
  const usage = new UsageStore(opts.nc, { log: (m, f) => log(m, { component: "control-plane", ...f }) });
  let loops: ControlPlane | undefined;
  let stopCompaction = () => {};
  // Reads `election` at call time: no write can pass before the election exists and leads.
  let elected: LeaderElection | undefined;
  const election = (elected = await startLeaderElection({
    nc: opts.nc,
    id,
    ttlMs: opts.leaseTtlMs,
    renewMs: opts.leaseRenewMs,
    renewDeadlineMs: opts.leaseRenewDeadlineMs,
    log: (m, f) => log(m, { component: "leader", ...f }),
    observe,
    async onStartedLeading(term) {
      // One fenced client per term: a write left over from an earlier term of this same copy (a
      // retry still sleeping when the loops stopped) must not pass because the copy leads again.
      const client = fencedClient(api, () => !!elected && mayActInTerm(elected, term));
      loops = await startControlPlane({
        client,
        usage: () => usage.reports(),
        ...opts.controlPlane,
        services: { clusterCidr: opts.clusterCidr, ingressAddress: opts.ingressAddress },
        observe,
        log: (m, f) => log(m, { component: "control-plane", term, ...f }),
      });
      // The store is shared by every copy: only the leader compacts it.
      stopCompaction = compactPeriodically(store, opts.compactionIntervalMs ?? 5 * 60_000, (m, f) => log(m, { component: "store", ...f }));
      log("control loops started", { id, term });
      await opts.onStartedLeading?.(client).catch((e: unknown) => log("start-of-leadership task failed", { id, term, error: String(e) }));
    },
    async onStoppedLeading(reason) {
      const l = loops;
      loops = undefined;
      stopCompaction();
      if (!l) return;
      await l.stop();
      log("control loops stopped", { id, reason });
    },
  }));

  let stopping: Promise<void> | undefined;
  return {
    id,
    api,
    store,
    election,
    natsApi,
    get controlPlane() {
      return loops;
    },
    get leading() {
      return election.leading;
    },
    stop() {
      stopping ??= (async () => {
        await election.stop();
        await natsApi.stop();
        usage.stop();
      })();
      return stopping;
    },
  };
}
