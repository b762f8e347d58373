// Which code the `berth` binary and the package entry run under Node: the compiled distribution
// in dist/ (`npm run build`) when it is at least as new as the TypeScript sources, otherwise the
// sources themselves through tsx's loader (a development checkout that has not been rebuilt —
// slower to start, never stale). Plain JavaScript, no dependencies: it runs before anything else.
// The checks and the read verbs' bundle runner are CommonJS (bin/fast.cjs), so that the `berth`
// binary (bin/berth.cjs) can run `get` and `describe` without the ES module loader.
import fast from "./fast.cjs";

export const { ROOT, DIST, STAMP, SOURCES, LAYOUT, newestSource, builtAt, distIsFresh, FAST_COMMANDS, CJS_BUNDLE, runCjsBundle } = fast;

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
