// Which code the `berth` binary and the package entry run under Node: the compiled distribution
// in dist/ (`npm run build`) when it is at least as new as the TypeScript sources, otherwise the
// sources themselves through tsx's loader (a development checkout that has not been rebuilt —
// slower to start, never stale). Plain JavaScript, no dependencies: it runs before anything else.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

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

/** The build time recorded in dist/, or null when there is no complete build. */
export function builtAt() {
  if (!existsSync(STAMP)) return null;
  try {
    return JSON.parse(readFileSync(STAMP, "utf8")).builtAt ?? null;
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
