/**
 * The `berth` command line: cluster lifecycle (`up`, `down`) and kubectl-like verbs over the
 * NATS API. Every failure prints one clear line to stderr and exits non-zero; nothing here
 * prints a stack trace for a user mistake.
 */
import { readFileSync } from "node:fs";
import { RESOURCES } from "../../model/types.ts";
import { UsageError, type Command } from "./args.ts";
import { didYouMean } from "./suggest.ts";
import { resolveTargets } from "./connect.ts";
import { applyCmd, deleteCmd, dryRunMode, readManifestSources, validateMode } from "./verbs.ts";
import { CONN, readCommands, withClient } from "./read_commands.ts";
import { runAsProcess, runCommand } from "./run_command.ts";
import { downCmd, listCmd, upCmd, UP_FLAGS } from "./up.ts";
import { extraCommands } from "./extra.ts";
import { streamCommands } from "./stream_verbs.ts";
import { chaosCommands } from "./chaos.ts";
import { multiCommands } from "./multi.ts";
import { dashboardCommands } from "./dashboard.ts";
import { observeCommands } from "./observe.ts";

const out = (s: string) => void process.stdout.write(s);
const err = (s: string) => void process.stderr.write(s);

function stdin(): string {
  return readFileSync(0, "utf8");
}

const commands: Record<string, Command> = {
  up: {
    summary: "run a local cluster in the foreground until interrupted",
    usage: "berth up [--nodes N] [--runtime docker|hollow] [--home DIR] [--nats URL] [--example] [--registry] [--pod-cidr CIDR] [--service-cidr CIDR] [--proxy-mode userspace|nftables] [--hpa-sync-period DURATION] [--usage-report-interval DURATION]",
    flags: UP_FLAGS,
    run: (p) => upCmd(p.flags, out, err),
  },
  list: {
    summary: "list the clusters running on this machine, with their homes and address ranges",
    usage: "berth list",
    flags: [CONN[3]],
    run: async () => listCmd(out),
  },
  down: {
    summary: "stop the cluster running for a home",
    usage: "berth down [--home DIR] [--purge [--grace-period N]]",
    flags: [
      CONN[0], CONN[3],
      { name: "purge", type: "boolean", help: "first delete every workload (Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, ReplicaSets, RCs) and pod, so no container is left running" },
      { name: "grace-period", type: "number", help: "with --purge: seconds each pod gets to stop, instead of its own terminationGracePeriodSeconds (0 counts as 1: the containers are still stopped first)" },
    ],
    run: (p) => downCmd(p.flags, out, withClient),
  },
  apply: {
    summary: "create or update objects from YAML/JSON manifests",
    usage: "berth apply -f FILE|DIR|- [-f ...] [--validate=strict|warn|ignore] [--dry-run=server]",
    flags: [
      ...CONN,
      { name: "filename", short: "f", type: "strings", help: "file, directory or - for stdin" },
      { name: "validate", type: "string", help: "fields the schema does not know: strict (default) refuses them, warn prints them, ignore lets them through" },
      { name: "dry-run", type: "string", help: "server: the API server checks, defaults and admits each object and says what it would do; nothing is stored (none, the default, applies)" },
    ],
    async run(p) {
      const fieldValidation = validateMode(p.flags.validate);
      const dryRun = dryRunMode(p.flags["dry-run"]);
      const docs = await readManifestSources((p.flags.filename as string[]) ?? [], stdin);
      await withClient(p.flags, (c) => applyCmd(c, docs, p.flags.namespace as string | undefined, out, { fieldValidation, warn: err, dryRun }));
    },
  },
  ...readCommands(out),
  delete: {
    summary: "delete objects by type and name, or those in manifests",
    usage: "berth delete TYPE NAME... | TYPE/NAME | TYPE (--all | -l SELECTOR) | -f FILE [--grace-period N] [--now] [--cascade=background|orphan] [--wait=false] [--timeout SECONDS] [--dry-run=server]",
    flags: [
      ...CONN,
      { name: "filename", short: "f", type: "strings", help: "delete the objects in these manifests" },
      { name: "grace-period", type: "number", help: "seconds to let a pod terminate (0 or --now: immediately)" },
      { name: "now", type: "boolean", help: "same as --grace-period=0... for pods: skip the graceful period" },
      { name: "cascade", type: "string", help: "background (default): owned pods are deleted; orphan: they are kept" },
      { name: "wait", type: "boolean", help: "wait until the objects are gone (default true; --wait=false returns at once)", default: true },
      { name: "timeout", type: "number", help: "seconds to wait for the objects to be gone (default 120); an object held by finalizers stays until they are taken off" },
      { name: "ignore-not-found", type: "boolean", help: "treat \"not found\" as success" },
      { name: "dry-run", type: "string", help: "server: the API server decides each deletion and says what it would do; nothing is deleted (none, the default, deletes)" },
      { name: "ignore-store-read-error-with-cluster-breaking-potential", type: "boolean", help: "delete an object the API server cannot read (a Secret sealed with a lost key) without reading it: its finalizers and owners are not consulted" },
      { name: "all", type: "boolean", help: "delete every object of the TYPE (in the namespace)" },
      { name: "selector", short: "l", type: "string", help: "delete the objects of the TYPE matching this label selector" },
    ],
    async run(p) {
      const ns = p.flags.namespace as string | undefined;
      const selector = p.flags.selector as string | undefined;
      const deleteOptions = {
        gracePeriod: p.flags["grace-period"] as number | undefined,
        now: !!p.flags.now,
        cascade: p.flags.cascade as string | undefined,
        wait: p.flags.wait !== false,
        timeoutSeconds: p.flags.timeout as number | undefined,
        ignoreNotFound: !!p.flags["ignore-not-found"],
        unsafe: !!p.flags["ignore-store-read-error-with-cluster-breaking-potential"],
        dryRun: dryRunMode(p.flags["dry-run"]),
      };
      if (p.flags.all || selector !== undefined) {
        // kubectl delete TYPE --all / -l SELECTOR: the names come from a list.
        if (p.flags.filename) throw new UsageError("--all and -l select by TYPE; they cannot be combined with -f");
        const types = resolveTargets(p.positional);
        if (types.length === 0) throw new UsageError("--all and -l need a TYPE, e.g. berth delete pods --all");
        if (types.some((t) => t.name)) throw new UsageError("name cannot be provided when a selector or --all is specified");
        await withClient(p.flags, async (c) => {
          const targets = [];
          for (const t of types) {
            const namespace = RESOURCES[t.resource].namespaced ? ns ?? "default" : undefined;
            const list = await c.list(t.resource, { namespace, labelSelector: selector });
            for (const o of list.items) targets.push({ resource: t.resource, name: o.metadata.name, namespace });
          }
          if (targets.length === 0) {
            err(`No resources found${types.some((t) => RESOURCES[t.resource].namespaced) ? ` in ${ns ?? "default"} namespace` : ""}.\n`);
            return;
          }
          // Listed a moment ago: one already gone (its RC's cascade took it) is not an error.
          await deleteCmd(c, targets, { ...deleteOptions, ignoreNotFound: true }, out);
        });
        return;
      }
      let targets;
      if (p.flags.filename) {
        const docs = await readManifestSources(p.flags.filename as string[], stdin);
        targets = docs.map((d) => {
          const meta = (d.object.metadata ?? {}) as { name?: string; namespace?: string };
          if (!meta.name) throw new UsageError(`${d.source}: document ${d.index + 1} has no metadata.name`);
          return { resource: d.resource, name: meta.name, namespace: RESOURCES[d.resource].namespaced ? meta.namespace ?? ns : undefined };
        });
      } else {
        targets = resolveTargets(p.positional).map((t) => {
          if (!t.name) throw new UsageError("resource(s) were provided, but no name was specified");
          return { resource: t.resource, name: t.name, namespace: RESOURCES[t.resource].namespaced ? ns : undefined };
        });
      }
      await withClient(p.flags, (c) => deleteCmd(c, targets, deleteOptions, out));
    },
  },
  completion: {
    summary: "print a shell completion script (bash or zsh)",
    usage: "berth completion bash|zsh   (e.g. source <(berth completion bash))",
    flags: [CONN[3]],
    async run(p) {
      const shell = p.positional[0];
      if (shell !== "bash" && shell !== "zsh") throw new UsageError(`name a shell: bash or zsh${shell ? `, got ${JSON.stringify(shell)}` : ""}`);
      const { completionScript } = await import("./completion.ts");
      const types = [...new Set(Object.entries(RESOURCES).flatMap(([plural, r]) => [plural, r.singular, ...r.shortNames])), "all"].sort();
      out(completionScript(shell, commands, types));
    },
  },
  ...extraCommands(CONN, out, err, withClient),
  ...streamCommands(CONN, out, err, withClient),
  ...chaosCommands(CONN, out, err),
  ...multiCommands(CONN, out, err),
  ...dashboardCommands(CONN, out, err),
  ...observeCommands(CONN, out, err),
};

function help(): string {
  const w = Math.max(...Object.keys(commands).map((c) => c.length)) + 2;
  return `berth — a Kubernetes-style container orchestrator (xstate actors over NATS, real Docker underneath)

Usage: berth COMMAND [ARGS] [FLAGS]

Commands:
${Object.entries(commands).map(([n, c]) => `  ${n.padEnd(w)}${c.summary}`).join("\n")}

Run 'berth COMMAND --help' for a command's flags. The cluster is found through
$BERTH_HOME/cluster.json (default ./.berth), written by 'berth up'.
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    out(help());
    return name ? 0 : 1;
  }
  if (name === "version" || name === "--version") {
    out("berth 0.1.0\n");
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    const hint = didYouMean(name, Object.keys(commands));
    err(`berth: unknown command "${name}"${hint || `\n\n${help()}`}\n`);
    return 1;
  }
  return await runCommand(name, cmd, rest, out, err);
}

// Run when executed directly (bin/berth.js imports this module; Deno runs it as the entry).
const isEntry = (import.meta as { main?: boolean }).main === true || process.env.BERTH_CLI_ENTRY === "1";
if (isEntry) runAsProcess(main, err);
