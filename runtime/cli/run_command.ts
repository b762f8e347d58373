/**
 * Runs one `berth` command and maps its failure to kubectl's output and exit code; shared by the
 * whole CLI (main.ts) and the read verbs' entry (read_main.ts), so both answer alike.
 */
import { ApiError } from "../../model/errors.ts";
import { ManifestError } from "../api/manifest_error.ts";
import { parseArgs, UsageError, usageOf, type Command } from "./args.ts";
import { NotRunningError } from "./connect.ts";
import type { Out } from "./verbs.ts";

export async function runCommand(name: string, cmd: Command, rest: string[], out: Out, err: Out): Promise<number> {
  try {
    const parsed = parseArgs(rest, cmd.flags);
    if (parsed.flags.help) {
      out(`${cmd.summary}\n\nUsage: ${cmd.usage}\n\nFlags:\n${usageOf(cmd.flags)}\n`);
      return 0;
    }
    const code = await cmd.run(parsed);
    return typeof code === "number" ? code : 0;
  } catch (e) {
    if (e instanceof UsageError) {
      // Exit code 1 for every error, as kubectl.
      err(`berth ${name}: ${e.message}\nUsage: ${cmd.usage}\n`);
      return 1;
    }
    if (e instanceof ManifestError) {
      err(`berth ${name}: error: ${e.message}\n`);
      return 1;
    }
    if (e instanceof ApiError) {
      err(`Error from server (${e.reason}): ${e.message}\n`);
      return 1;
    }
    if (e instanceof NotRunningError) {
      err(`berth ${name}: ${e.message}\n`);
      return 1;
    }
    err(`berth ${name}: error: ${(e as Error).message ?? String(e)}\n`);
    if (process.env.BERTH_DEBUG) err(`${(e as Error).stack}\n`);
    return 1;
  }
}

/** Runs `main` as the process's command: its return value is the exit code. */
export function runAsProcess(main: (argv: string[]) => Promise<number>, err: Out): void {
  // `berth logs -f | head`: the reader went away; that is the end of the command, not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  main(process.argv.slice(2)).then(
    (code) => {
      // Every command, long-running ones included, has finished its work when main returns;
      // exit now rather than wait on a lingering socket or timer.
      process.exit(code);
    },
    (e) => {
      err(`berth: ${String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
