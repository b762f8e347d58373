/**
 * The verbs that build on nodes and controllers: events, scale (and, as they land, logs, exec,
 * rolling-update, chaos).
 */
import type { ApiClient } from "../api/client.ts";
import { formatTable, toTable } from "../api/table.ts";
import { parseArgs, UsageError, type FlagSpec } from "./args.ts";
import { resolveResource, type Connection } from "./connect.ts";

type Out = (s: string) => void;
type WithClient = <T>(flags: Record<string, unknown>, fn: (c: ApiClient, conn: Connection) => Promise<T>) => Promise<T>;

interface Command {
  summary: string;
  usage: string;
  flags: FlagSpec[];
  run(p: ReturnType<typeof parseArgs>): Promise<number | void>;
}

export function extraCommands(conn: FlagSpec[], out: Out, _err: Out, withClient: WithClient): Record<string, Command> {
  return {
    events: {
      summary: "list events, oldest first",
      usage: "berth events [-A] [--for TYPE/NAME]",
      flags: [
        ...conn,
        { name: "all-namespaces", short: "A", type: "boolean", help: "events of every namespace" },
        { name: "for", type: "string", help: "only events about this object, e.g. pod/web-1" },
      ],
      async run(p) {
        await withClient(p.flags, async (c) => {
          const all = !!p.flags["all-namespaces"];
          let fieldSelector: string | undefined;
          if (typeof p.flags.for === "string") {
            const [t, n] = p.flags.for.split("/", 2);
            if (!n) throw new UsageError(`--for needs TYPE/NAME, got ${JSON.stringify(p.flags.for)}`);
            resolveResource(t);
            fieldSelector = `involvedObject.name=${n}`;
          }
          const list = await c.list("events", { namespace: all ? undefined : (p.flags.namespace as string | undefined) ?? "default", fieldSelector });
          const items = [...list.items].sort((a, b) => String(a.lastTimestamp ?? a.metadata.creationTimestamp).localeCompare(String(b.lastTimestamp ?? b.metadata.creationTimestamp)));
          if (!items.length) {
            out("No events found.\n");
            return;
          }
          out(formatTable(toTable("events", items, { wide: true }), { showNamespace: all }));
        });
      },
    },
    scale: {
      summary: "set the number of replicas of a replication controller",
      usage: "berth scale rc NAME --replicas N | berth scale rc/NAME --replicas N",
      flags: [...conn, { name: "replicas", type: "number", help: "the new desired number of replicas" }],
      async run(p) {
        const [first, second] = p.positional;
        let type = first, name = second;
        if (first?.includes("/")) [type, name] = first.split("/", 2);
        if (!type || !name) throw new UsageError("expected TYPE NAME or TYPE/NAME");
        if (resolveResource(type) !== "replicationcontrollers") throw new UsageError(`cannot scale ${type}: only replicationcontrollers (rc) can be scaled`);
        const replicas = p.flags.replicas;
        if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) throw new UsageError("--replicas must be a non-negative integer");
        await withClient(p.flags, async (c) => {
          await c.updateScale(name, replicas, p.flags.namespace as string | undefined);
          out(`replicationcontroller/${name} scaled\n`);
        });
      },
    },
  };
}
