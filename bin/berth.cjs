#!/bin/sh
":" //; case "$1" in get|describe) for a; do case "$a" in --nats|--nats=*) exec node -- "$0" "$@" ;; esac; done; unset NODE_EXTRA_CA_CERTS ;; esac
":" //; exec node --max-semi-space-size=64 -- "$0" "$@"
// The `berth` command of the package (package.json "bin"). The file is two programs in one:
//
// - The two lines above are its launcher, in POSIX sh (the `#!/bin/sh` line; for JavaScript they
//   are two string statements followed by comments, which do nothing). They start Node on this
//   same file, as `#!/usr/bin/env node` would, with one difference: for `berth get` and `berth
//   describe` they remove NODE_EXTRA_CA_CERTS from the environment first. Node 20 reads and parses
//   that file at every start, before any script runs (about 60 ms of CPU for Debian's 220 KB CA
//   bundle, half of it for Node's own root certificates, which it then loads too), and nothing
//   inside the process can avoid it. `get` and `describe` make no TLS connection (plain NATS to
//   the cluster; their small NATS client refuses a server that asks for TLS), so the certificates
//   are never used by them. Every other command keeps the variable, and
//   so do `get`/`describe` given `--nats` (a NATS server of the user's choosing). Every command
//   but those two given `--nats` starts with Berth's server flags (runtime/node_flags.ts:
//   `--max-semi-space-size=64`, for the long-running `up`, `control-plane` and `node`). The shell costs
//   about what `/usr/bin/env` did. `node bin/berth.cjs …` skips the launcher (and keeps the
//   variable). Node resolves the symlinks npm puts on the PATH to this file's real place.
//
// - The rest is the CommonJS program. `get` and `describe`, run most often and wanted fast, start
//   here in CommonJS — no ES module loader — from the read verbs' one-file bundle (bin/fast.cjs
//   runCjsBundle) when dist/ is fresh. Everything else, and a checkout whose dist/ is missing or
//   stale, goes through bin/berth.js (`node bin/berth.js` does the same).
"use strict";
const { FAST_COMMANDS, distIsFresh, runCjsBundle } = require("./fast.cjs");

process.env.BERTH_CLI_ENTRY = "1";
if (FAST_COMMANDS.has(process.argv[2]) && distIsFresh()) runCjsBundle();
else import("./berth.js");
