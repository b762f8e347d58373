/**
 * Commands for seeing inside a cluster: `berth actors [-w]`, `berth prometheus-config`,
 * `berth top` (nodes | pods [--containers]).
 */
import { readClusterInfo } from "../cluster.ts";
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
  return [r.scope, r.kind, r.id, stateText(r.state), r.status, String(r.transitions), r.event ?? ""];
}

export const ACTOR_HEADER = ["SCOPE", "KIND", "ID", "STATE", "STATUS", "TRANSITIONS", "LAST EVENT"];

export function observeCommands(conn: FlagSpec[], out: Out, _err: Out): Record<string, Command> {
  return {
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
          const actors = await listActors(c.nc, filter);
          if (actors.length) out(table([ACTOR_HEADER, ...actors.map(actorRow)]));
          else out("No actors found.\n");
          if (!p.flags.watch) return;
          await new Promise<void>((resolve) => {
            const w = watchActors(c.nc, filter, (r) => out(`${new Date(r.at).toISOString().slice(11, 23)}  ${actorRow(r).join("  ")}\n`));
            process.once("SIGINT", () => {
              w.stop();
              resolve();
            });
          });
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
