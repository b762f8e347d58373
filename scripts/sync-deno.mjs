#!/usr/bin/env node
// Keeps deno.json's import map in step with package.json: every runtime and dev dependency
// becomes "name": "npm:name@exact-version". `--check` exits non-zero (and says what differs)
// instead of writing; `npm test` runs it that way.
import { readFileSync, writeFileSync } from "node:fs";

const pkg = JSON.parse(readFileSync("package.json", "utf8"));
const deno = JSON.parse(readFileSync("deno.json", "utf8"));
const want = {};
for (const [name, version] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
  if (name.startsWith("@types/") || name === "deno" || name === "typescript") continue;
  want[name] = `npm:${name}@${version}`;
  // Sub-path imports (e.g. "@nats-io/nats-core/internal") resolve through the same package.
  want[`${name}/`] = `npm:/${name}@${version}/`;
}
const have = deno.imports ?? {};
const diff = [...new Set([...Object.keys(want), ...Object.keys(have)])].filter((k) => want[k] !== have[k]);
if (process.argv.includes("--check")) {
  if (diff.length) {
    console.error(`deno.json imports differ from package.json: ${diff.map((k) => `${k}: ${have[k] ?? "(missing)"} != ${want[k] ?? "(not in package.json)"}`).join("; ")}`);
    console.error("run: node scripts/sync-deno.mjs");
    process.exit(1);
  }
  console.log(`deno.json imports match package.json (${Object.keys(want).length / 2} packages)`);
} else {
  deno.imports = Object.fromEntries(Object.keys(want).sort().map((k) => [k, want[k]]));
  writeFileSync("deno.json", JSON.stringify(deno, null, 2) + "\n");
  console.log(`deno.json: ${diff.length} import(s) updated`);
}
