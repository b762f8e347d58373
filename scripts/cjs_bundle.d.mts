import type { BuildOptions } from "esbuild";

/** esbuild options of the CLI's one-file CommonJS bundle (see cjs_bundle.mjs). */
export function cjsBundleOptions(root: string, entry: string, outfile: string): BuildOptions & { external: string[] };
