#!/usr/bin/env node
// Node 20 cannot run TypeScript by itself: register tsx's loader, then run the CLI sources
// (Deno runs runtime/cli/main.ts directly).
import { register } from "tsx/esm/api";

register();
process.env.BERTH_CLI_ENTRY = "1";
await import("../runtime/cli/main.ts");
