// What the `berth` binary decides before anything else, in CommonJS so that `get` and `describe`
// start without Node's ES module loader (about 10 ms of every run): whether dist/ is a complete
// build at least as new as the sources, and how to run the read verbs' one-file bundle. Plain
// JavaScript, no dependencies. bin/dist.js re-exports all of it for the ES module entries.
"use strict";
const { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { createRequire } = require("node:module");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

const ROOT = join(__dirname, "..");
const DIST = join(ROOT, "dist");
const STAMP = join(DIST, ".build-stamp.json");
/** What the build reads: a change under any of these makes dist/ stale. */
const SOURCES = ["mod.ts", "model", "actors", "runtime", "ui/dist", "examples"];

/**
 * Newest modification time (ms) of the sources and of their directories (a removed file changes
 * its directory's), or 0 when none is found. Directory entries say which are directories, so
 * only files are stat'ed: about 5 ms for the ~240 entries of a checkout.
 */
function newestSource(root = ROOT) {
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.mtimeMs > newest) newest = st.mtimeMs;
    if (!st.isDirectory()) return;
    for (const e of readdirSync(p, { withFileTypes: true })) {
      const child = `${p}/${e.name}`;
      if (e.isDirectory()) visit(child);
      else {
        const s = statSync(child, { throwIfNoEntry: false });
        if (s && s.mtimeMs > newest) newest = s.mtimeMs;
      }
    }
  };
  for (const s of SOURCES) visit(join(root, s));
  return newest;
}

/**
 * What a complete dist/ holds, as the build of this checkout makes it; a dist/ built by an older
 * build (before dist/cli/main.cjs, layout 1; before its small NATS client, layout 2) counts as
 * missing, so it is rebuilt, never half used.
 */
const LAYOUT = 3;

/** The build time recorded in dist/, or null when there is no complete build of this LAYOUT. */
function builtAt() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, "utf8"));
  } catch {
    return null;
  }
  return (stamp.layout ?? 1) === LAYOUT ? stamp.builtAt ?? null : null;
}

/**
 * True when dist/ holds a complete build that is at least as new as every source. Only a
 * checkout (a `.git` beside bin/) is checked against its sources: an installed package's files
 * all carry the time they were unpacked, and its dist/ is the one it was published with.
 */
function distIsFresh() {
  if (process.env.BERTH_FROM_SOURCES === "1") return false;
  const t = builtAt();
  if (t === null) return false;
  if (!existsSync(join(ROOT, ".git"))) return true;
  return newestSource() <= t;
}

/** The commands the `berth` binary runs from the one-file CommonJS bundle (dist/cli/main.cjs). */
const FAST_COMMANDS = new Set(["get", "describe"]);
const CJS_BUNDLE = join(DIST, "cli", "main.cjs");

/**
 * Runs the CLI's one-file CommonJS bundle with V8's code cache kept beside it (`main.cjs.cache`):
 * Node 20 compiles every ES module from scratch at each start and has no compile cache, but a
 * script compiled through `vm.Script` can reuse the machine code of an earlier run. The cache is
 * written at exit when there is none or V8 refused it (another Node version), and once more after
 * the first command that succeeds when the build only seeded it (`main.cjs.cache-seed`: the seed
 * holds start-up and argument parsing, not the code that connects, lists and prints). A write
 * that fails (a read-only install) only costs the next run its compile time. The bundle has no dynamic
 * `import()` (scripts/cjs_bundle.mjs turns them into `require`), so the script needs no dynamic
 * import callback.
 */
function runCjsBundle(file = CJS_BUNDLE) {
  const cacheFile = `${file}.cache`;
  const source = readFileSync(file, "utf8");
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, { filename: file, cachedData });
  const seed = `${cacheFile}-seed`;
  const seeding = process.env.BERTH_CLI_CACHE_SEED === "1";
  const seeded = !seeding && cachedData !== undefined && existsSync(seed);
  if (cachedData === undefined || script.cachedDataRejected || seeding || seeded) {
    process.once("exit", (code) => {
      // Only a command that did its work has run the code worth keeping.
      if (seeded && (code !== 0 || process.argv.includes("--help") || process.argv.includes("-h"))) return;
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
        if (seeding) writeFileSync(seed, "");
        else if (seeded) rmSync(seed, { force: true });
      } catch {
        // read-only or gone: the next run compiles again
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

module.exports = { ROOT, DIST, STAMP, SOURCES, LAYOUT, newestSource, builtAt, distIsFresh, FAST_COMMANDS, CJS_BUNDLE, runCjsBundle };
