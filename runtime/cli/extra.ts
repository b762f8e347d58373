/**
 * The verbs that build on nodes and controllers: events, scale, logs, rolling-update (exec and the
 * other streaming verbs are in stream_verbs.ts).
 */
import { readFileSync } from "node:fs";
import type { ApiClient } from "../../model/client.ts";
import type * as NodeServices from "../kubelet/node_services.ts";
import { columnWidths, formatTable, toTable } from "../api/table.ts";
import { UsageError, type FlagSpec, type Command } from "./args.ts";
import { homeDir, resolveResource, type Connection } from "./connect.ts";
import { SCALABLE, qualifiedSingular, type ScalableResource } from "../../model/types.ts";
import { join } from "node:path";
import { readComponentLog } from "../log/rotating_file.ts";

type Out = (s: string) => void;
type WithClient = <T>(flags: Record<string, unknown>, fn: (c: ApiClient, conn: Connection) => Promise<T>) => Promise<T>;

export function extraCommands(conn: FlagSpec[], out: Out, _err: Out, withClient: WithClient): Record<string, Command> {
  return {
    logs: {
      summary: "print a container's log (-f to follow)",
      usage: "berth logs POD [-c CONTAINER] [-f] [--tail N] | berth logs --component api|control-plane|scheduler|controller-manager|node-1|... [--tail N]",
      flags: [
        ...conn,
        { name: "container", short: "c", type: "string", help: "container name (default: the pod's only or first container)" },
        { name: "follow", short: "f", type: "boolean", help: "keep streaming new output" },
        { name: "tail", type: "number", help: "only the last N lines" },
        { name: "component", type: "string", help: "a component's own log from <home>/logs/ (berth up), e.g. control-plane, scheduler, controller-manager or node-1" },
      ],
      async run(p) {
        if (p.flags.component !== undefined) return componentLogs(p.flags, out);
        const pod = podName(p.positional);
        const ctrl = new AbortController();
        process.once("SIGINT", () => ctrl.abort());
        await withClient(p.flags, async (c, conn) => {
          const { podLogStream }: typeof NodeServices = await import("../kubelet/node_services.ts");
          for await (const chunk of podLogStream(conn.nc, c, {
            namespace: p.flags.namespace as string | undefined,
            pod,
            container: p.flags.container as string | undefined,
            follow: !!p.flags.follow,
            tail: p.flags.tail as number | undefined,
            signal: ctrl.signal,
          })) {
            (chunk.stream === "stderr" ? process.stderr : process.stdout).write(chunk.data);
          }
        });
      },
    },
    "rolling-update": {
      summary: "replace an RC's pods one at a time with a new RC (or image)",
      usage: "berth rolling-update OLD_RC (-f NEW_RC.yaml | --image IMAGE) [--rollback] [--update-period S] [--timeout S]",
      flags: [
        ...conn,
        { name: "filename", short: "f", type: "string", help: "manifest of the new replication controller" },
        { name: "image", type: "string", help: "roll to this image instead of a new manifest" },
        { name: "rollback", type: "boolean", help: "undo an interrupted update" },
        { name: "update-period", type: "number", help: "seconds to wait between steps", default: 0 },
        { name: "timeout", type: "number", help: "seconds one step may wait for new pods to be Ready", default: 300 },
      ],
      async run(p) {
        const oldName = p.positional[0];
        if (!oldName) throw new UsageError("give the name of the replication controller to update");
        let newRc: unknown;
        if (typeof p.flags.filename === "string") {
          const { parseManifests } = await import("../api/manifest.ts");
          const docs = parseManifests(readFileSync(p.flags.filename, "utf8"), p.flags.filename);
          if (docs.length !== 1 || docs[0].resource !== "replicationcontrollers") throw new UsageError(`${p.flags.filename} must hold exactly one ReplicationController`);
          newRc = docs[0].object;
        }
        if (!newRc && !p.flags.image && !p.flags.rollback) throw new UsageError("give -f NEW_RC.yaml, --image IMAGE or --rollback");
        await withClient(p.flags, async (c) => {
          const { rollingUpdate } = await import("../rolling_update.ts");
          const r = await rollingUpdate(c, {
            oldName,
            namespace: p.flags.namespace as string | undefined,
            newRc,
            image: p.flags.image as string | undefined,
            rollback: !!p.flags.rollback,
            updatePeriodMs: (p.flags["update-period"] as number) * 1000,
            timeoutMs: (p.flags.timeout as number) * 1000,
            onProgress: (ev) => out(`${ev.step}: ${ev.oldName} ${ev.oldReplicas}, ${ev.newName} ${ev.newReplicas} (desired ${ev.desired})\n`),
          });
          out(`replicationcontroller/${r.name} rolling updated (${r.replicas} replicas)\n`);
        });
      },
    },
    events: {
      summary: "list events, oldest first",
      usage: "berth events [-A] [--for TYPE/NAME] [-w]",
      flags: [
        ...conn,
        { name: "all-namespaces", short: "A", type: "boolean", help: "events of every namespace" },
        { name: "for", type: "string", help: "only events about this object, e.g. pod/web-1" },
        { name: "watch", short: "w", type: "boolean", help: "after listing, print new events as they happen (Ctrl-C to stop)" },
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
          const fmt = { showNamespace: all };
          let widths: number[] | undefined;
          if (!items.length) {
            if (!p.flags.watch) {
              out("No events found.\n");
              return;
            }
          } else {
            const table = toTable("events", items, { wide: true });
            out(formatTable(table, fmt));
            widths = columnWidths(table, fmt);
          }
          if (!p.flags.watch) return;
          // New and updated events, each row under the columns printed so far (a header first
          // when nothing was listed), until Ctrl-C.
          const namespace = all ? undefined : (p.flags.namespace as string | undefined) ?? "default";
          const w = await c.watch("events", { namespace, fieldSelector, resourceVersion: list.metadata.resourceVersion });
          const stop = () => w.stop();
          process.once("SIGINT", stop);
          try {
            for await (const ev of w) {
              if (ev.type !== "ADDED" && ev.type !== "MODIFIED") continue;
              const table = toTable("events", [ev.object], { wide: true });
              out(formatTable(table, { ...fmt, noHeaders: widths !== undefined, minWidths: widths }));
              widths = columnWidths(table, { ...fmt, minWidths: widths });
            }
          } finally {
            process.removeListener("SIGINT", stop);
          }
        });
      },
    },
    scale: {
      summary: "set the number of replicas of a replication controller, deployment, replica set or stateful set",
      usage: "berth scale (rc|deploy|rs|sts) NAME --replicas N | berth scale TYPE/NAME --replicas N",
      flags: [...conn, { name: "replicas", type: "number", help: "the new desired number of replicas" }],
      async run(p) {
        const [first, second] = p.positional;
        let type = first, name = second;
        if (first?.includes("/")) [type, name] = first.split("/", 2);
        if (!type || !name) throw new UsageError("expected TYPE NAME or TYPE/NAME");
        const resolved = resolveResource(type);
        if (!(SCALABLE as readonly string[]).includes(resolved)) {
          throw new UsageError(`cannot scale ${type}: only replicationcontrollers (rc), deployments (deploy), replicasets (rs) and statefulsets (sts) can be scaled`);
        }
        const resource = resolved as ScalableResource;
        const replicas = p.flags.replicas;
        if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0) throw new UsageError("--replicas must be a non-negative integer");
        await withClient(p.flags, async (c) => {
          await c.updateScale(name, replicas, p.flags.namespace as string | undefined, resource);
          out(`${qualifiedSingular(resource)}/${name} scaled\n`);
        });
      },
    },
  };
}

/** `berth logs --component NAME`: the component's file under the home's logs/, rotated files first. */
function componentLogs(flags: Record<string, unknown>, out: Out): void {
  const dir = join(homeDir(flags.home), "logs");
  try {
    out(readComponentLog(dir, String(flags.component), flags.tail as number | undefined));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function podName(positional: string[]): string {
  const first = positional[0];
  if (!first) throw new UsageError("give a pod name");
  if (first.includes("/")) {
    const [t, n] = first.split("/", 2);
    if (resolveResource(t) !== "pods") throw new UsageError(`expected a pod, got ${first}`);
    return n;
  }
  return first;
}
