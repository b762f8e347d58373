/**
 * The workload of a chaos run: applies the scenario's objects, keeps client loops going against
 * services (one fresh connection per request, so each one is balanced anew by the proxy), and a
 * writer that creates and updates objects through NATS like any remote client. Every operation
 * lands in the history with its start, end and outcome.
 */
import http from "node:http";
import type { ApiClient } from "../../model/client.ts";
import { ApiError } from "../../model/errors.ts";
import { NatsApiClient } from "../api/nats_client.ts";
import type { AnyObject } from "../../model/types.ts";
import { connectNats, type NatsConnection } from "../nats/connection.ts";
import { loopbackAddressFor } from "../net/cluster_ip.ts";
import type { ChaosCluster } from "./cluster.ts";
import type { History, WriteOp } from "./history.ts";

export interface ClientSpec {
  /** `ns/name` of the service. */
  service: string;
  port: number;
  intervalMs: number;
  timeoutMs: number;
  path?: string;
}

export interface WriterSpec {
  intervalMs: number;
  /** How many objects the writer cycles through. */
  objects: number;
}

/** An object whose survival the no-lost-writes checker verifies. */
export interface Tracked {
  resource: string;
  namespace?: string;
  name: string;
  readValue?: (o: unknown) => number | undefined;
}

export const COUNTER_ANNOTATION = "chaos.berth.dev/counter";

const counterOf = (o: unknown) => {
  const v = (o as AnyObject).metadata?.annotations?.[COUNTER_ANNOTATION];
  return v === undefined ? undefined : Number(v);
};

/** A 4xx from the API is a definite failure; anything else (timeouts, 5xx, no connection) may or may not have applied. */
function indeterminate(e: unknown): boolean {
  return !(e instanceof ApiError && e.code < 500);
}

function get(host: string, port: number, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(body.trim().slice(0, 80)) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Workload {
  readonly tracked: Tracked[] = [];
  private stopped = false;
  private loops: Promise<void>[] = [];
  private writerNc?: NatsConnection;

  constructor(private readonly cc: ChaosCluster, private readonly history: History) {}

  /** Applies the objects (create or update), recording each acknowledged write. */
  async apply(objects: unknown[]): Promise<void> {
    const start = this.history.now();
    const applied = await this.cc.cluster.apply(objects, "scenario");
    for (const a of applied) {
      const w: WriteOp = { type: "write", op: a.action === "created" ? "create" : "update", resource: a.resource, namespace: a.namespace, name: a.name, start, end: this.history.now(), ok: true, uid: a.object.metadata.uid };
      this.history.add(w);
      if (a.resource !== "pods") this.tracked.push({ resource: a.resource, namespace: a.namespace, name: a.name });
    }
  }

  /** Starts a client loop against a service; waits until the service has a ClusterIP. */
  async startClient(spec: ClientSpec): Promise<void> {
    const [ns, name] = spec.service.includes("/") ? spec.service.split("/", 2) : ["default", spec.service];
    const deadline = Date.now() + 30_000;
    let ip: string | undefined;
    while (!ip) {
      ip = (await this.cc.api.get("services", name, ns).catch(() => undefined))?.spec.clusterIP;
      if (!ip && Date.now() > deadline) throw new Error(`service ${spec.service} has no ClusterIP after 30 s`);
      if (!ip) await sleep(100);
    }
    const host = this.cc.services?.clusterIpMode === "assigned" ? ip : loopbackAddressFor(ip);
    const client = `${ns}/${name}`;
    this.loops.push((async () => {
      while (!this.stopped) {
        const start = this.history.now();
        try {
          const body = await get(host, spec.port, spec.path ?? "/", spec.timeoutMs);
          this.history.add({ type: "request", client, start, end: this.history.now(), ok: true, detail: body });
        } catch (e) {
          this.history.add({ type: "request", client, start, end: this.history.now(), ok: false, detail: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
        }
        await sleep(spec.intervalMs);
      }
    })());
  }

  /** Starts the writer: creates its objects, then updates a counter annotation on them in turn. */
  async startWriter(spec: WriterSpec): Promise<void> {
    this.writerNc = await connectNats({ servers: this.cc.nats.url, name: "berth-chaos-writer" });
    const api: ApiClient = new NatsApiClient(this.writerNc, { timeoutMs: 2_000 });
    const names = Array.from({ length: spec.objects }, (_, i) => `chaos-${this.cc.id}-w${i}`);
    for (const n of names) this.tracked.push({ resource: "namespaces", name: n, readValue: counterOf });
    const created = new Set<string>();
    let i = 0;
    this.loops.push((async () => {
      while (!this.stopped) {
        const name = names[i++ % names.length];
        const start = this.history.now();
        const base = { type: "write" as const, resource: "namespaces", name, start };
        if (!created.has(name)) {
          try {
            const o = await api.create("namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name, annotations: { [COUNTER_ANNOTATION]: "0" } } });
            created.add(name);
            this.history.add({ ...base, op: "create", end: this.history.now(), ok: true, uid: o.metadata.uid, value: 0 });
          } catch (e) {
            if (e instanceof ApiError && e.reason === "AlreadyExists") created.add(name); // an indeterminate create that did apply
            this.history.add({ ...base, op: "create", end: this.history.now(), ok: false, indeterminate: indeterminate(e), value: 0, error: String(e) });
          }
        } else {
          let value: number | undefined;
          try {
            const cur = await api.get("namespaces", name);
            value = (counterOf(cur) ?? 0) + 1;
            const o = await api.update("namespaces", { ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, [COUNTER_ANNOTATION]: String(value) } } });
            this.history.add({ ...base, op: "update", end: this.history.now(), ok: true, uid: o.metadata.uid, value });
          } catch (e) {
            // A failed read wrote nothing: only a failed update can be indeterminate.
            if (value !== undefined) this.history.add({ ...base, op: "update", end: this.history.now(), ok: false, indeterminate: indeterminate(e), value, error: String(e) });
          }
        }
        await sleep(spec.intervalMs);
      }
    })());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
    await this.writerNc?.close().catch(() => {});
  }
}
