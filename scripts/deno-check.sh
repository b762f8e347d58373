#!/usr/bin/env bash
# Type-checks every source file under Deno (`npm run deno-check`; `npm test` runs it too):
# Berth is one tree for Node and Deno, so what tsc accepts Deno must accept as well.
# deno.json's import map resolves the npm packages from npm's node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard 'mod.ts' 'model/*.ts' 'actors/*.ts' 'runtime/*.ts' 'runtime/**/*.ts' 'test/*.ts' 'test/**/*.ts' 'bench/*.ts' | sort -u | while read -r f; do [ -f "$f" ] && echo "$f"; done)
exec npx deno check --quiet "${files[@]}"
