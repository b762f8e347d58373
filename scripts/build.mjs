#!/usr/bin/env node
// Builds the compiled distribution in dist/: JavaScript, .d.ts and source maps from the
// TypeScript sources (tsconfig.build.json rewrites the `.ts` import specifiers to `.js`), the CLI
// bundled by esbuild into dist/cli/, the proxy worker's plain-JS entry, and the assets the code reads beside itself (the live page's
// bundle in ui/dist, examples/). Does nothing when dist/ is already newer than every source;
// `--force` rebuilds anyway. The build goes to a temporary directory and replaces dist/ only when
// it is complete, so an interrupted build never leaves a half-written dist/ that looks fresh.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DIST, LAYOUT, ROOT, STAMP, distIsFresh } from "../bin/dist.js";
import { cjsBundleOptions } from "./cjs_bundle.mjs";

const force = process.argv.includes("--force");
if (!force && distIsFresh()) {
  process.stderr.write("berth build: dist/ is up to date\n");
  process.exit(0);
}
// A source changed while tsc runs is newer than this and makes the build stale again.
const started = Date.now();
const tmp = join(ROOT, "dist.tmp");
rmSync(tmp, { recursive: true, force: true });
process.stderr.write("berth build: compiling TypeScript into dist/\n");
try {
  execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json"), "--outDir", tmp], { stdio: "inherit", cwd: ROOT });
} catch {
  rmSync(tmp, { recursive: true, force: true });
  process.stderr.write("berth build: tsc failed (see above); dist/ left as it was\n");
  process.exit(1);
}
// The CLI as one bundle (split where commands load lazily): Node resolves and compiles one file
// instead of a hundred at every `berth get`. Packages stay external (node_modules).
const { build } = await import("esbuild");
await build({
  entryPoints: [join(tmp, "runtime/cli/main.js")],
  outdir: join(tmp, "cli"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  logLevel: "error",
});
// `get` and `describe` alone (runtime/cli/read_main.ts) as one CommonJS file, the NATS client
// inside it: bin/berth.js runs them from it, Node reads one small file, and V8 reuses its compiled
// code from the cache beside it (bin/dist.js runCjsBundle) — Node 20 compiles ES modules anew at
// every start.
await build(cjsBundleOptions(ROOT, join(tmp, "runtime/cli/read_main.js"), join(tmp, "cli/main.cjs")));
// The proxy worker process is forked from a plain JS entry beside worker_pool.js — in the module
// tree and in the CLI bundle, where worker_pool.js's code now lives.
writeFileSync(join(tmp, "runtime/proxy/worker_entry.mjs"), '// Entry of a proxy worker process (compiled build).\nimport { runWorker } from "./worker_main.js";\n\nrunWorker();\n');
writeFileSync(join(tmp, "cli/worker_entry.mjs"), '// Entry of a proxy worker process (compiled build, CLI bundle).\nimport { runWorker } from "../runtime/proxy/worker_main.js";\n\nrunWorker();\n');
// Likewise the DNS worker (runtime/dns/dns_workers.ts).
writeFileSync(join(tmp, "runtime/dns/dns_worker_entry.mjs"), '// Entry of a DNS worker process (compiled build).\nimport { runDnsWorker } from "./dns_worker_main.js";\n\nrunDnsWorker();\n');
writeFileSync(join(tmp, "cli/dns_worker_entry.mjs"), '// Entry of a DNS worker process (compiled build, CLI bundle).\nimport { runDnsWorker } from "../runtime/dns/dns_worker_main.js";\n\nrunDnsWorker();\n');
for (const dir of ["ui/dist", "examples"]) {
  if (!existsSync(join(ROOT, dir))) continue;
  mkdirSync(join(tmp, dir, ".."), { recursive: true });
  cpSync(join(ROOT, dir), join(tmp, dir), { recursive: true });
}
writeFileSync(join(tmp, ".build-stamp.json"), JSON.stringify({ builtAt: started, layout: LAYOUT }) + "\n");
rmSync(DIST, { recursive: true, force: true });
renameSync(tmp, DIST);
// Seed the bundle's code cache (compiled code of start-up and argument parsing); the first `get`
// or `describe` that succeeds writes it again with the code it ran (bin/dist.js runCjsBundle).
execFileSync(process.execPath, [join(ROOT, "bin/berth.js"), "get", "--help"], { stdio: "ignore", cwd: ROOT, env: { ...process.env, BERTH_CLI_CACHE_SEED: "1" } });
process.stderr.write(`berth build: done in ${((Date.now() - started) / 1000).toFixed(1)} s (${STAMP.slice(ROOT.length + 1)})\n`);
