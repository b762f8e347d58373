/**
 * `berth get` and `berth describe`, with the connection flags and `withClient` every verb over
 * the API shares. Two entries use them: the whole CLI (main.ts) and the read verbs' own small
 * entry (read_main.ts), which bin/berth.js runs from one CommonJS file for a fast start.
 */
import type { ApiClient } from "../../model/client.ts";
import type { Command, FlagSpec } from "./args.ts";
import { connectCli, type Connection } from "./connect.ts";
import { describeCmd, getCmd, type Out } from "./verbs.ts";

/** Flags of every command that reaches a cluster: --home, --nats, -n, -h. */
export const CONN: FlagSpec[] = [
  { name: "home", type: "string", help: "cluster home holding cluster.json (default $BERTH_HOME or ./.berth)" },
  { name: "nats", type: "string", help: "NATS URL of the cluster (overrides cluster.json)" },
  { name: "namespace", short: "n", type: "string", help: "namespace (default \"default\")" },
  { name: "help", short: "h", type: "boolean", help: "show help for this command" },
];

export type WithClient = <T>(flags: Record<string, unknown>, fn: (c: ApiClient, conn: Connection) => Promise<T>) => Promise<T>;

/** Connects as the flags say, runs `fn`, and closes the connection whatever happens. */
export async function withClient<T>(flags: Record<string, unknown>, fn: (c: ApiClient, conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connectCli(flags);
  try {
    return await fn(conn.client, conn);
  } finally {
    await conn.close();
  }
}

export function readCommands(out: Out): Record<"get" | "describe", Command> {
  return {
    get: {
      summary: "list objects as a table, or print them as yaml/json",
      usage: "berth get TYPE[,TYPE] [NAME...] | TYPE/NAME | all [-o yaml|json|wide|name|jsonpath=T|custom-columns=S] [-l SELECTOR] [--sort-by PATH] [-A] [-w]",
      flags: [
        ...CONN,
        { name: "output", short: "o", type: "string", help: "yaml, json, wide, name, jsonpath=TEMPLATE or custom-columns=NAME:PATH,..." },
        { name: "selector", short: "l", type: "string", help: "label selector, e.g. app=web,tier!=db" },
        { name: "field-selector", type: "string", help: "field selector, e.g. spec.nodeName=node-1" },
        { name: "all-namespaces", short: "A", type: "boolean", help: "list across all namespaces" },
        { name: "watch", short: "w", type: "boolean", help: "after listing, print changes as they happen" },
        { name: "no-headers", type: "boolean", help: "omit the table header" },
        { name: "show-labels", type: "boolean", help: "add a LABELS column" },
        { name: "sort-by", type: "string", help: "sort lists by a JSONPath, e.g. .metadata.creationTimestamp" },
      ],
      async run(p) {
        const ctrl = new AbortController();
        process.once("SIGINT", () => ctrl.abort());
        await withClient(p.flags, (c) =>
          getCmd(c, p.positional, {
            namespace: p.flags.namespace as string | undefined,
            allNamespaces: !!p.flags["all-namespaces"],
            selector: p.flags.selector as string | undefined,
            fieldSelector: p.flags["field-selector"] as string | undefined,
            output: p.flags.output as string | undefined,
            watch: !!p.flags.watch,
            noHeaders: !!p.flags["no-headers"],
            showLabels: !!p.flags["show-labels"],
            sortBy: p.flags["sort-by"] as string | undefined,
          }, out, ctrl.signal)
        );
      },
    },
    describe: {
      summary: "show an object in detail, with its events",
      usage: "berth describe TYPE [NAME] | TYPE/NAME [-l SELECTOR]",
      flags: [...CONN, { name: "selector", short: "l", type: "string", help: "label selector" }],
      async run(p) {
        await withClient(p.flags, (c) => describeCmd(c, p.positional, { namespace: p.flags.namespace as string | undefined, selector: p.flags.selector as string | undefined }, out));
      },
    },
  };
}
