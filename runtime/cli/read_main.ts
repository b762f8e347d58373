/**
 * The entry of `berth get` and `berth describe` alone: bin/berth.js runs these two commands from
 * this entry's one-file CommonJS bundle (dist/cli/main.cjs, scripts/cjs_bundle.mjs), which holds
 * nothing else — no cluster machinery, no manifest schema — so Node has little to read and V8
 * little to restore from the code cache. The commands and their errors are main.ts's own
 * (read_commands.ts, run_command.ts).
 */
import { readCommands } from "./read_commands.ts";
import { runAsProcess, runCommand } from "./run_command.ts";

const out = (s: string) => void process.stdout.write(s);
const err = (s: string) => void process.stderr.write(s);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name !== "get" && name !== "describe") {
    err(`berth: this entry runs get and describe only, not ${JSON.stringify(name ?? "")}; run bin/berth.js\n`);
    return 1;
  }
  return await runCommand(name, readCommands(out)[name], rest, out, err);
}

if (process.env.BERTH_CLI_ENTRY === "1") runAsProcess(main, err);
