#!/usr/bin/env node
// The `berth` command under Node: the compiled CLI bundle from dist/cli/, or — in a checkout whose dist/ is
// missing or older than the sources — the TypeScript sources through tsx (bin/dist.js).
// Deno runs runtime/cli/main.ts directly.
// `get` and `describe`, run most often and wanted fast, load the same CLI as one CommonJS file
// whose compiled code V8 keeps in a cache beside it (bin/dist.js runCjsBundle).
import { FAST_COMMANDS, distIsFresh, runCjsBundle, useSources } from "./dist.js";

process.env.BERTH_CLI_ENTRY = "1";
if (distIsFresh()) {
  if (FAST_COMMANDS.has(process.argv[2])) runCjsBundle();
  else await import("../dist/cli/main.js");
} else {
  await useSources();
  await import("../runtime/cli/main.ts");
}
