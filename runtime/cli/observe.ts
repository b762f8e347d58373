/**
 * Commands for seeing inside a cluster: `berth actors [-w]`, `berth prometheus-config`,
 * `berth top` (nodes | pods [--containers]).
 */
import { readClusterInfo } from "../cluster_info.ts";
import { listActors, stateText, watchActors, type ActorRecord } from "../inspect/actor_client.ts";
import { scrapeConfig } from "../prometheus.ts";
import { UsageError, type Command, type FlagSpec } from "./args.ts";
import { connectCli, homeDir, NotRunningError } from "./connect.ts";

type Out = (s: string) => void;

function table(rows: string[][]): string {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i] + 3))).join("").trimEnd() + "\n").join("");
}

/** One actor as a table row: SCOPE KIND ID STATE STATUS TRANSITIONS LAST-EVENT. */
export function actorRow(r: ActorRecord): string[] {
  return [r.scope, r.kind, r.id, stateText(r.state), r.status, String(r.transitions), r.event ?? "-"];
}

export const ACTOR_HEADER = ["SCOPE", "KIND", "ID", "STATE", "STATUS", "TRANSITIONS", "LAST EVENT"];

export function observeCommands(conn: FlagSpec[], out: Out, _err: Out): Record<string, Command> {
  return {
    ...topCommand(conn, out),
    actors: {
      summary: "list the cluster's live actors, or stream their transitions (-w)",
      usage: "berth actors [-w] [--kind pod|node|workloop|lease] [--node NODE | --scope SCOPE]",
      flags: [
        ...conn,
        { name: "watch", short: "w", type: "boolean", help: "after listing, print transitions as they happen" },
        { name: "kind", type: "string", help: "only actors of this kind (pod, node, workloop, lease)" },
        { name: "node", type: "string", help: "only actors of this node" },
        { name: "scope", type: "string", help: "only actors of this scope (a node name or control-plane)" },
      ],
      async run(p) {
        const filter = { kind: p.flags.kind as string | undefined, scope: (p.flags.node ?? p.flags.scope) as string | undefined };
        for (const [k, v] of Object.entries(filter)) if (v !== undefined && !/^[A-Za-z0-9_-]+$/.test(v)) throw new UsageError(`--${k} must be a name, got ${JSON.stringify(v)}`);
        const c = await connectCli(p.flags);
        try {
          // With -w the watch starts first (publishers start on its interest), so nothing falls
          // between the table and the stream; a state the table already shows is not repeated.
          const row = (r: ActorRecord) => out(`${new Date(r.at).toISOString().slice(11, 23)}  ${actorRow(r).join("  ")}\n`);
          let pending: ActorRecord[] | undefined = [];
          const shown = new Map<string, number>();
          const key = (r: ActorRecord) => `${r.kind}\u0000${r.scope}\u0000${r.id}`;
          const w = p.flags.watch
            ? watchActors(c.nc, filter, (r) => {
              if (pending) pending.push(r);
              else row(r);
            })
            : undefined;
          try {
            const actors = await listActors(c.nc, filter);
            if (actors.length) out(table([ACTOR_HEADER, ...actors.map(actorRow)]));
            else out("No actors found.\n");
            if (!w) return;
            for (const r of actors) shown.set(key(r), r.transitions);
            for (const r of pending) if ((shown.get(key(r)) ?? -1) < r.transitions) row(r);
            pending = undefined;
            await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
          } finally {
            w?.stop();
          }
        } finally {
          await c.close();
        }
      },
    },
    "prometheus-config": {
      summary: "print a Prometheus scrape configuration for the running cluster",
      usage: "berth prometheus-config [--home DIR] [--interval SECONDS]",
      flags: [conn[0], { name: "interval", type: "number", help: "scrape interval in seconds (default 5)" }, { name: "help", short: "h", type: "boolean", help: "show help for this command" }],
      run(p) {
        const home = homeDir(p.flags.home);
        const info = readClusterInfo(home);
        if (!info) throw new NotRunningError(home);
        const interval = p.flags.interval as number | undefined;
        if (interval !== undefined && !(interval > 0)) throw new UsageError(`--interval must be a positive number of seconds, got ${interval}`);
        out(scrapeConfig(info, { intervalSeconds: interval }));
        return Promise.resolve(0);
      },
    },
  };
}

/** GET on the cluster's REST API with the token and CA of its home (for `berth top`). */
export async function restGet(home: string, path: string): Promise<unknown> {
  const info = readClusterInfo(home);
  if (!info?.apiUrl || !info.token) throw new NotRunningError(home);
  const { request } = await import(info.apiUrl.startsWith("https:") ? "node:https" : "node:http");
  const { readFileSync, existsSync } = await import("node:fs");
  const caPath = `${home}/pki/ca.crt`;
  const ca = existsSync(caPath) ? readFileSync(caPath, "utf8") : undefined;
  return await new Promise((resolve, reject) => {
    const req = request(new URL(path, info.apiUrl), { headers: { Authorization: `Bearer ${info.token}`, Accept: "application/json" }, ...(ca ? { ca } : {}) }, (res: import("node:http").IncomingMessage) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          return reject(new Error(`GET ${path}: HTTP ${res.statusCode}, not JSON`));
        }
        if ((res.statusCode ?? 500) >= 400) return reject(new Error(`GET ${path}: ${(parsed as { message?: string }).message ?? res.statusCode}`));
        resolve(parsed);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** `12345678n` → `12m`, `2048Ki` → `2Mi`, as kubectl top prints them. */
export function cpuMilli(q: string): string {
  const n = Number(q.replace(/n$/, ""));
  return `${Math.round(n / 1e6)}m`;
}
export function memMi(q: string): string {
  const n = Number(q.replace(/Ki$/, ""));
  return `${Math.round(n / 1024)}Mi`;
}

type Usage = { cpu: string; memory: string };

export function topCommand(conn: FlagSpec[], out: Out): Record<string, Command> {
  return {
    top: {
      summary: "show CPU and memory use of nodes or pods (as kubectl top)",
      usage: "berth top nodes | pods [-A] [--containers] [-l SELECTOR]",
      flags: [
        ...conn,
        { name: "all-namespaces", short: "A", type: "boolean", help: "pods of every namespace" },
        { name: "containers", type: "boolean", help: "one line per container" },
        { name: "selector", short: "l", type: "string", help: "label selector for pods" },
      ],
      async run(p) {
        const what = p.positional[0];
        const home = homeDir(p.flags.home);
        const base = "/apis/metrics.k8s.io/v1beta1";
        if (what === "nodes" || what === "node" || what === "no") {
          const list = (await restGet(home, `${base}/nodes`)) as { items: { metadata: { name: string }; usage: Usage }[] };
          if (!list.items.length) return void out("error: metrics not available yet (node agents report every 10 s)\n");
          out(table([["NAME", "CPU(cores)", "MEMORY(bytes)"], ...list.items.map((n) => [n.metadata.name, cpuMilli(n.usage.cpu), memMi(n.usage.memory)])]));
          return;
        }
        if (what === "pods" || what === "pod" || what === "po") {
          const all = !!p.flags["all-namespaces"];
          const ns = (p.flags.namespace as string | undefined) ?? "default";
          const sel = p.flags.selector ? `?labelSelector=${encodeURIComponent(p.flags.selector as string)}` : "";
          const list = (await restGet(home, `${all ? `${base}/pods` : `${base}/namespaces/${encodeURIComponent(ns)}/pods`}${sel}`)) as {
            items: { metadata: { name: string; namespace: string }; containers: { name: string; usage: Usage }[] }[];
          };
          if (!list.items.length) return void out(`No resources found${all ? "" : ` in ${ns} namespace`}.\n`);
          const head = [...(all ? ["NAMESPACE"] : []), "POD", ...(p.flags.containers ? ["NAME"] : []), "CPU(cores)", "MEMORY(bytes)"];
          const rows: string[][] = [];
          for (const pm of list.items) {
            const pre = all ? [pm.metadata.namespace] : [];
            if (p.flags.containers) {
              for (const c of pm.containers) rows.push([...pre, pm.metadata.name, c.name, cpuMilli(c.usage.cpu), memMi(c.usage.memory)]);
            } else {
              const cpu = pm.containers.reduce((s, c) => s + Number(c.usage.cpu.replace(/n$/, "")), 0);
              const mem = pm.containers.reduce((s, c) => s + Number(c.usage.memory.replace(/Ki$/, "")), 0);
              rows.push([...pre, pm.metadata.name, cpuMilli(`${cpu}n`), memMi(`${mem}Ki`)]);
            }
          }
          out(table([head, ...rows]));
          return;
        }
        throw new UsageError(`berth top needs "nodes" or "pods", got ${JSON.stringify(what ?? "")}`);
      },
    },
  };
}
