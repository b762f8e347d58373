#!/usr/bin/env node
// The `berth` command under Node: the compiled CLI bundle from dist/cli/, or — in a checkout whose dist/ is
// missing or older than the sources — the TypeScript sources through tsx (bin/dist.js).
// Deno runs runtime/cli/main.ts directly.
import { distIsFresh, useSources } from "./dist.js";

process.env.BERTH_CLI_ENTRY = "1";
if (distIsFresh()) {
  await import("../dist/cli/main.js");
} else {
  await useSources();
  await import("../runtime/cli/main.ts");
}
