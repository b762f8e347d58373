#!/usr/bin/env node
// The `berth` command of the package (package.json "bin"). `get` and `describe`, run most often
// and wanted fast, start here in CommonJS — no ES module loader — from the read verbs' one-file
// bundle (bin/fast.cjs runCjsBundle) when dist/ is fresh. Everything else, and a checkout whose
// dist/ is missing or stale, goes through bin/berth.js (`node bin/berth.js` does the same).
"use strict";
const { FAST_COMMANDS, distIsFresh, runCjsBundle } = require("./fast.cjs");

process.env.BERTH_CLI_ENTRY = "1";
if (FAST_COMMANDS.has(process.argv[2]) && distIsFresh()) runCjsBundle();
else import("./berth.js");
