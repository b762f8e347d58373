#!/usr/bin/env bash
# The whole suite, as `npm test` and CI run it:
#   1. type-check with tsc (Node) and deno check (Deno) on every source file;
#   2. the layering rules (.dependency-cruiser.cjs) and deno.json in step with package.json;
#   3. vitest, in two passes: unit and integration tests two files at a time, then the
#      end-to-end, package (npm pack + install + the docs' snippets) and chaos tests one file at a time — they run whole clusters on the shared
#      Docker engine and measure timings (failover, probes), which a second cluster beside
#      them on two cores would distort.
# It ends with one line "berth tests: N passed, N failed, N skipped".
# Extra arguments go to both vitest passes (e.g. a file filter).
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
step() { printf '\n== %s\n' "$*"; }

step "tsc --noEmit"
npx tsc --noEmit || fail=1

step "layering: model imports nothing of ours, actors only the model and xstate, no import cycle"
npx depcruise model actors runtime ui/src mod.ts --config .dependency-cruiser.cjs || fail=1

step "tsc -p ui (the live page's browser code, with the DOM library)"
npx tsc -p ui || fail=1

step "deno.json in step with package.json"
node scripts/sync-deno.mjs --check || fail=1

step "deno check (every source file)"
bash scripts/deno-check.sh || fail=1

reports=()
run_vitest() {
  local name=$1; shift
  local report
  report=$(mktemp)
  reports+=("$report")
  step "vitest: $name"
  npx vitest run --passWithNoTests --reporter=default --reporter=json --outputFile.json="$report" "$@" || fail=1
}
run_vitest "unit and integration" test/unit test/integration test/fuzz "$@"
run_vitest "end to end, package and chaos, one file at a time" --no-file-parallelism test/e2e test/package test/chaos "$@"

summary=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, files = 0;
  for (const f of process.argv.slice(1)) {
    let r;
    try { r = JSON.parse(fs.readFileSync(f, "utf8")); } catch { failed++; continue; }
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
    files++;
  }
  console.log(`berth tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "${reports[@]}")
rm -f "${reports[@]}"
[ $fail -ne 0 ] && echo "(type checks or vitest failed; see above)"
echo "$summary"
exit $fail
