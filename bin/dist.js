// Which code the `berth` binary and the package entry run under Node: the compiled distribution
// in dist/ (`npm run build`) when it is at least as new as the TypeScript sources, otherwise the
// sources themselves through tsx's loader (a development checkout that has not been rebuilt —
// slower to start, never stale). Plain JavaScript, no dependencies: it runs before anything else.
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const DIST = join(ROOT, "dist");
export const STAMP = join(DIST, ".build-stamp.json");
/** What the build reads: a change under any of these makes dist/ stale. */
export const SOURCES = ["mod.ts", "model", "actors", "runtime", "ui/dist", "examples"];

/** Newest modification time (ms) of the sources, or 0 when none is found. */
export function newestSource(root = ROOT) {
  let newest = 0;
  const visit = (p) => {
    let st;
    try {
      st = statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const e of readdirSync(p)) visit(join(p, e));
    } else if (st.mtimeMs > newest) {
      newest = st.mtimeMs;
    }
  };
  for (const s of SOURCES) visit(join(root, s));
  return newest;
}

/**
 * What a complete dist/ holds, as the build of this checkout makes it; a dist/ built by an older
 * build (before dist/cli/main.cjs, layout 1) counts as missing, so it is rebuilt, never half used.
 */
export const LAYOUT = 2;

/** The build time recorded in dist/, or null when there is no complete build of this LAYOUT. */
export function builtAt() {
  if (!existsSync(STAMP)) return null;
  try {
    const stamp = JSON.parse(readFileSync(STAMP, "utf8"));
    return (stamp.layout ?? 1) === LAYOUT ? stamp.builtAt ?? null : null;
  } catch {
    return null;
  }
}

/**
 * True when dist/ holds a complete build that is at least as new as every source. Only a
 * checkout (a `.git` beside bin/) is checked against its sources: an installed package's files
 * all carry the time they were unpacked, and its dist/ is the one it was published with.
 */
export function distIsFresh() {
  if (process.env.BERTH_FROM_SOURCES === "1") return false;
  const t = builtAt();
  if (t === null) return false;
  if (!existsSync(join(ROOT, ".git"))) return true;
  return newestSource() <= t;
}

/** Registers tsx's loader so the TypeScript sources can be imported (development only). */
export async function useSources() {
  let api;
  try {
    api = await import("tsx/esm/api");
  } catch {
    process.stderr.write("berth: dist/ is missing or older than the sources, and tsx (a development dependency) is not installed; run `npm run build`\n");
    process.exit(1);
  }
  api.register();
}

/** The commands bin/berth.js runs from the one-file CommonJS bundle (dist/cli/main.cjs). */
export const FAST_COMMANDS = new Set(["get", "describe"]);
export const CJS_BUNDLE = join(DIST, "cli", "main.cjs");

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
export function runCjsBundle(file = CJS_BUNDLE) {
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
