#!/usr/bin/env node
// Builds the live page's bundle (ui/src → ui/dist) with esbuild: app.js (Preact and the page,
// minified, one file), app.css and favicon.svg. The output is committed, so `npm start` and
// the tests on a fresh clone need no build step; `--check` rebuilds in memory and exits
// non-zero when the committed files differ from what the sources give (a unit test runs it).
import { build } from "esbuild";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "ui/src");
const dist = join(root, "ui/dist");

export async function buildUi() {
  const js = await build({
    entryPoints: [join(src, "main.tsx")],
    bundle: true,
    minify: true,
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "eof",
    write: false,
    logLevel: "silent",
    absWorkingDir: root,
  });
  const css = await build({
    entryPoints: [join(src, "app.css")],
    bundle: true,
    minify: true,
    write: false,
    logLevel: "silent",
    absWorkingDir: root,
  });
  return {
    "app.js": js.outputFiles[0].text,
    "app.css": css.outputFiles[0].text,
    "favicon.svg": readFileSync(join(src, "favicon.svg"), "utf8"),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = await buildUi();
  if (process.argv.includes("--check")) {
    const stale = Object.entries(files).filter(([name, text]) => {
      try {
        return readFileSync(join(dist, name), "utf8") !== text;
      } catch {
        return true;
      }
    });
    if (stale.length) {
      console.error(`ui/dist is stale (${stale.map(([n]) => n).join(", ")}): run node scripts/build-ui.mjs and commit ui/dist`);
      process.exit(1);
    }
    console.log("ui/dist matches ui/src");
  } else {
    mkdirSync(dist, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dist, name), text);
    console.log(`ui/dist: ${Object.entries(files).map(([n, t]) => `${n} ${(t.length / 1024).toFixed(1)} KiB`).join(", ")}`);
  }
}
